package api

import (
	"mime"
	"net/http"
	"net/url"

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

// Form returns the parameters of a Query-protocol request: the URL query's,
// then a form body's. A parameter given in both places is kept twice, so the
// codec refuses it when the values differ. A body that is not a form (by its
// Content-Type; none means a form, which is what Query clients send) or does
// not parse is refused with AWS's codes.
func (r *Request) Form() (url.Values, error) {
	form := url.Values{}
	if r.HTTP != nil && r.HTTP.URL != nil {
		q, err := url.ParseQuery(r.HTTP.URL.RawQuery)
		if err != nil {
			return nil, malformedQuery()
		}
		form = q
	}
	if len(r.Body) == 0 {
		return form, nil
	}
	if r.HTTP != nil {
		if ct := r.HTTP.Header.Get("Content-Type"); ct != "" {
			if mt, _, _ := mime.ParseMediaType(ct); mt != "application/x-www-form-urlencoded" {
				return nil, core.Errorf(core.KindInvalid, "UnsupportedMediaType",
					"The request body must be application/x-www-form-urlencoded, not %s", mt)
			}
		}
	}
	body, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, malformedQuery()
	}
	for k, vs := range body {
		form[k] = append(form[k], vs...)
	}
	return form, nil
}

func malformedQuery() error {
	return core.Errorf(core.KindInvalid, "MalformedQueryString",
		"The request parameters are not a valid URL-encoded query string")
}
