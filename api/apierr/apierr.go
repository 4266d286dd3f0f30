// Package apierr is the one table that turns errors into wire errors: the
// HTTP status, AWS error code and message that each protocol family sends
// for a *core.Error, for an authentication failure, and for anything else
// (a generic internal error, whose text is logged and never sent).
//
// Protocol handlers call Resolve from their WriteError; the server calls
// Auth to build the authentication errors of the family it answers for.
package apierr

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/privlink/privlink/api/sigv4"
	"github.com/privlink/privlink/core"
)

// Family is a group of protocols that agree on error statuses and codes.
type Family int

// Protocol families.
const (
	// EC2 is the EC2 Query protocol: <Response><Errors>…; AuthFailure is 401.
	EC2 Family = iota + 1
	// Query is the awsquery protocol of ELBv2, IAM, STS…: <ErrorResponse>;
	// authentication failures are 403.
	Query
	// JSON is the awsJson 1.0/1.1 protocol: {"__type": …}; every client
	// error is 400.
	JSON
	// RESTXML is Route 53's rest-xml protocol: <ErrorResponse> as in
	// Query, but a missing resource is 404 and each code may carry its own
	// status (HostedZoneAlreadyExists 409, NotAuthorizedException 401).
	RESTXML
)

func (f Family) String() string {
	switch f {
	case EC2:
		return "ec2"
	case Query:
		return "query"
	case JSON:
		return "json"
	case RESTXML:
		return "restxml"
	default:
		return "unknown"
	}
}

// FamilyOf returns the family of the service with the SigV4 signing name:
// "ec2" is EC2, "privlink" (the admin API) is JSON, "route53" is RESTXML,
// and everything else, including "elasticloadbalancing", is Query.
func FamilyOf(service string) Family {
	switch service {
	case "ec2":
		return EC2
	case "privlink":
		return JSON
	case "route53":
		return RESTXML
	default:
		return Query
	}
}

// Wire is an error as a protocol writes it.
type Wire struct {
	Status  int
	Code    string
	Message string
}

// kindStatus is the HTTP status of each kind of client error, per family.
var kindStatus = map[Family]map[core.Kind]int{
	EC2: {
		core.KindInvalid:         http.StatusBadRequest,
		core.KindNotFound:        http.StatusBadRequest,
		core.KindConflict:        http.StatusBadRequest,
		core.KindLimit:           http.StatusBadRequest,
		core.KindForbidden:       http.StatusForbidden,    // UnauthorizedOperation
		core.KindUnauthenticated: http.StatusUnauthorized, // AuthFailure
	},
	Query: {
		core.KindInvalid:         http.StatusBadRequest,
		core.KindNotFound:        http.StatusBadRequest,
		core.KindConflict:        http.StatusBadRequest,
		core.KindLimit:           http.StatusBadRequest,
		core.KindForbidden:       http.StatusForbidden,
		core.KindUnauthenticated: http.StatusForbidden, // InvalidClientTokenId, SignatureDoesNotMatch
	},
	JSON: {
		core.KindInvalid:         http.StatusBadRequest,
		core.KindNotFound:        http.StatusBadRequest,
		core.KindConflict:        http.StatusBadRequest,
		core.KindLimit:           http.StatusBadRequest,
		core.KindForbidden:       http.StatusBadRequest,
		core.KindUnauthenticated: http.StatusBadRequest,
	},
	RESTXML: {
		core.KindInvalid:         http.StatusBadRequest,
		core.KindNotFound:        http.StatusNotFound, // NoSuchHostedZone, NoSuchChange, VPCAssociationNotFound
		core.KindConflict:        http.StatusBadRequest,
		core.KindLimit:           http.StatusBadRequest,
		core.KindForbidden:       http.StatusForbidden,
		core.KindUnauthenticated: http.StatusForbidden,
	},
}

// codeStatus overrides kindStatus for the codes whose status AWS sets apart
// from their kind's.
var codeStatus = map[Family]map[string]int{
	EC2: {
		"SignatureDoesNotMatch": http.StatusForbidden,
		"RequestExpired":        http.StatusBadRequest,
		"IncompleteSignature":   http.StatusBadRequest,
		CodeTooLarge:            http.StatusRequestEntityTooLarge,
	},
	Query: {
		"IncompleteSignature": http.StatusBadRequest,
		CodeTooLarge:          http.StatusRequestEntityTooLarge,
	},
	JSON: {
		CodeTooLarge: http.StatusRequestEntityTooLarge,
	},
	// Route 53's statuses, from the httpStatusCode of its model's errors.
	RESTXML: {
		"HostedZoneAlreadyExists": http.StatusConflict,
		"NotAuthorizedException":  http.StatusUnauthorized,
		"NoSuchDelegationSet":     http.StatusBadRequest,
		"IncompleteSignature":     http.StatusBadRequest,
		CodeTooLarge:              http.StatusRequestEntityTooLarge,
	},
}

// internal is what each family says for a failure on the server's side.
var internal = map[Family]Wire{
	EC2:     {http.StatusInternalServerError, "InternalError", "An internal error has occurred"},
	Query:   {http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."},
	JSON:    {http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."},
	RESTXML: {http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."},
}

// Codes the server uses for its own failures.
const (
	// CodeTooLarge is a request body over the server's limit (413).
	CodeTooLarge = "RequestEntityTooLarge"
	// CodeUnknownService is a credential scope naming a service that
	// privlink does not serve (400).
	CodeUnknownService = "UnknownService"
)

// Resolve returns the wire form of err in family f. A *core.Error of a
// client kind keeps its code and message. Anything else — KindInternal,
// an error that is not a *core.Error, a nil error — becomes the family's
// generic internal error, and its text is logged with the request ID
// (log may be nil).
func Resolve(log *slog.Logger, requestID string, f Family, err error) Wire {
	if _, ok := kindStatus[f]; !ok {
		f = Query
	}
	var e *core.Error
	if errors.As(err, &e) && e.Kind != core.KindInternal {
		if status, ok := codeStatus[f][e.Code]; ok {
			return Wire{Status: status, Code: e.Code, Message: e.Message}
		}
		if status, ok := kindStatus[f][e.Kind]; ok {
			return Wire{Status: status, Code: e.Code, Message: e.Message}
		}
	}
	if log != nil {
		log.Error("internal error", "request_id", requestID, "err", err)
	}
	return internal[f]
}

// authCodes is the code and message each family answers each
// authentication failure with. An empty message means the sigv4 error's own.
var authCodes = map[Family]map[sigv4.Reason]Wire{
	EC2: {
		sigv4.Missing:     {Code: "MissingAuthenticationToken", Message: "The request must contain valid credentials."},
		sigv4.Malformed:   {Code: "IncompleteSignature"},
		sigv4.UnknownKey:  {Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"},
		sigv4.Mismatch:    {Code: "SignatureDoesNotMatch"},
		sigv4.Expired:     {Code: "RequestExpired", Message: "Request has expired."},
		sigv4.NotYetValid: {Code: "RequestExpired"},
	},
	Query: {
		sigv4.Missing:     {Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token"},
		sigv4.Malformed:   {Code: "IncompleteSignature"},
		sigv4.UnknownKey:  {Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."},
		sigv4.Mismatch:    {Code: "SignatureDoesNotMatch"},
		sigv4.Expired:     {Code: "SignatureDoesNotMatch"},
		sigv4.NotYetValid: {Code: "SignatureDoesNotMatch"},
	},
	JSON: {
		sigv4.Missing:     {Code: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"},
		sigv4.Malformed:   {Code: "IncompleteSignatureException"},
		sigv4.UnknownKey:  {Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
		sigv4.Mismatch:    {Code: "InvalidSignatureException"},
		sigv4.Expired:     {Code: "InvalidSignatureException"},
		sigv4.NotYetValid: {Code: "InvalidSignatureException"},
	},
}

// Auth returns the error that services of family f answer the
// authentication failure err with: a *core.Error of KindUnauthenticated
// whose code is the family's (EC2 says AuthFailure where ELBv2 says
// InvalidClientTokenId). err is a *sigv4.Error; anything else is returned
// as it is, to be resolved as an internal error.
func Auth(f Family, err error) error {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return err
	}
	codes, ok := authCodes[f]
	if !ok {
		codes = authCodes[Query]
	}
	w, ok := codes[se.Reason]
	if !ok {
		return err
	}
	msg := w.Message
	if msg == "" {
		msg = se.Message
	}
	return &core.Error{Kind: core.KindUnauthenticated, Code: w.Code, Message: msg, Err: err}
}
