package core

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the API layer, which maps kinds to HTTP status
// codes. The AWS error code itself travels in Error.Code because AWS's codes
// are part of the domain contract (EC2 says InvalidVpcID.NotFound where ELBv2
// says LoadBalancerNotFound for the same kind of failure).
type Kind int

// Error kinds.
const (
	KindInternal        Kind = iota // a bug or an unavailable dependency; never shown to clients in detail
	KindInvalid                     // malformed or out-of-range input
	KindNotFound                    // a named resource does not exist (or is not visible to the caller)
	KindConflict                    // the request contradicts current state (in use, duplicate, wrong state)
	KindForbidden                   // the caller may not do this
	KindLimit                       // a quota would be exceeded
	KindUnauthenticated             // the caller could not be identified
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindForbidden:
		return "forbidden"
	case KindLimit:
		return "limit"
	case KindUnauthenticated:
		return "unauthenticated"
	default:
		return "internal"
	}
}

// Error is the error type core returns for everything a client should see.
// Message is written for the client, in AWS's style.
type Error struct {
	Kind    Kind
	Code    string // AWS error code, e.g. "InvalidVpcID.NotFound"
	Message string
	Err     error // optional cause, never sent to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the kind and code with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	e, ok := AsError(err)
	return ok && e.Kind == k
}

// Common constructors, so that the same failure reads the same everywhere.

func missingParameter(name string) *Error {
	return Errorf(KindInvalid, "MissingParameter", "The request must contain the parameter %s", name)
}

func invalidParameterValue(format string, args ...any) *Error {
	return Errorf(KindInvalid, "InvalidParameterValue", format, args...)
}

// unsupportedOperation refuses a well-formed AWS request for a feature
// privlink does not implement, rather than ignoring it.
func unsupportedOperation(format string, args ...any) *Error {
	return Errorf(KindInvalid, "UnsupportedOperation", format, args...)
}
