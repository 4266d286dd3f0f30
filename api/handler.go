package api

import (
	"net/http"

	"github.com/privlink/privlink/core"
)

// Request is an authenticated API request, ready for a Handler.
type Request struct {
	// ID is the request ID, echoed in the response (requestId/RequestId).
	ID string
	// Caller is the account that signed the request.
	Caller core.Caller
	// Service is the SigV4 signing name that routed the request, e.g. "ec2".
	Service string
	// Region is the region in the credential scope.
	Region string
	// HTTP is the original request. Its body has been read into Body.
	HTTP *http.Request
	Body []byte
}

// Handler serves one protocol. WriteError writes err in the protocol's error
// format; the server uses it for failures before Handle (authentication,
// malformed requests), and handlers use it for their own. err is usually a
// *core.Error; anything else is reported as an internal error without its
// text. Implementations get the status, code and message from
// apierr.Resolve, which also logs internal errors with the request ID.
type Handler interface {
	Handle(w http.ResponseWriter, r *Request)
	WriteError(w http.ResponseWriter, requestID string, err error)
}
