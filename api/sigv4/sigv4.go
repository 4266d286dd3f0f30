// Package sigv4 verifies and creates AWS Signature Version 4 signatures on
// HTTP requests, as the AWS CLI and SDKs send them: the Authorization header
// form and the presigned query form, for services other than S3.
//
// Verification follows the specification step by step:
//
//  1. Parse: find the signature (header or query), split the credential
//     scope (access key / date / region / service / aws4_request) and the
//     request time (X-Amz-Date, else Date).
//  2. Check the time: within MaxSkew of now (or before X-Amz-Expires for
//     presigned requests), and on the scope's date.
//  3. Canonical request: method, normalised and URI-encoded path, sorted and
//     encoded query, the SignedHeaders with trimmed values, payload hash.
//  4. String to sign: algorithm, time, scope, hash of the canonical request.
//  5. Signing key: HMAC chain "AWS4"+secret → date → region → service →
//     "aws4_request"; compare signatures in constant time.
//
// The caller looks the access key up between Parse and Verify.
package sigv4

import (
	"fmt"
	"strings"
	"time"
)

// Wire constants of the algorithm.
const (
	Algorithm    = "AWS4-HMAC-SHA256"
	Terminator   = "aws4_request"
	TimeFormat   = "20060102T150405Z" // X-Amz-Date, ISO 8601 basic format
	DateFormat   = "20060102"         // the scope's date
	MaxSkew      = 15 * time.Minute   // how far a request's time may be from the server's
	MaxPresigned = 7 * 24 * time.Hour // the longest X-Amz-Expires AWS accepts

	// EmptyPayloadHash is the SHA-256 of an empty body.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Request parameters and headers that carry the signature.
const (
	headerAuthorization = "Authorization"
	headerDate          = "X-Amz-Date"
	headerContentSHA256 = "X-Amz-Content-Sha256"

	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	queryExpires       = "X-Amz-Expires"
)

// Scope is a credential scope without its access key and terminator.
type Scope struct {
	Date    string // YYYYMMDD
	Region  string
	Service string // the signing name, e.g. "ec2" or "elasticloadbalancing"
}

// String returns the scope as it appears in the string to sign.
func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + Terminator
}

// Auth is the signature a request carries, parsed but not yet verified.
type Auth struct {
	AccessKey     string
	Scope         Scope
	SignedHeaders []string // lower-case names, in the order the client listed them
	Signature     string   // lower-case hex
	Time          time.Time
	// Presigned is true for the query form; Expires is its X-Amz-Expires, or
	// zero when the client sent none.
	Presigned bool
	Expires   time.Duration
}

// Reason classifies a verification failure. Each protocol family answers
// each reason with its own error code (see package apierr).
type Reason int

// Failure reasons.
const (
	// Missing: the request carries no signature at all.
	Missing Reason = iota + 1
	// Malformed: a signature is present but does not follow the
	// specification (AWS's IncompleteSignature).
	Malformed
	// UnknownKey: the access key does not exist. Parse and Verify never
	// return it; servers use it when their key lookup fails.
	UnknownKey
	// Mismatch: the signature is not the one the secret key produces.
	Mismatch
	// Expired: the request time is too far in the past, or a presigned
	// request has expired.
	Expired
	// NotYetValid: the request time is too far in the future.
	NotYetValid
)

func (r Reason) String() string {
	switch r {
	case Missing:
		return "missing"
	case Malformed:
		return "malformed"
	case UnknownKey:
		return "unknown key"
	case Mismatch:
		return "mismatch"
	case Expired:
		return "expired"
	case NotYetValid:
		return "not yet valid"
	default:
		return fmt.Sprintf("Reason(%d)", int(r))
	}
}

// Error is a verification failure. Message is written for the client, in
// AWS's words where AWS has them.
type Error struct {
	Reason  Reason
	Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Reason.String() + ": " + e.Message }

func errorf(reason Reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// MismatchMessage is AWS's message for a signature that does not match.
const MismatchMessage = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// parseScope splits "AKID/date/region/service/aws4_request".
func parseScope(credential string) (accessKey string, scope Scope, err error) {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 {
		return "", Scope{}, errorf(Malformed, "Credential should have exactly 5 slash-separated parts: access key, date, region, service, %s; got %q.", Terminator, credential)
	}
	accessKey, scope = parts[0], Scope{Date: parts[1], Region: parts[2], Service: parts[3]}
	if accessKey == "" {
		return "", scope, errorf(Malformed, "Credential has an empty access key ID.")
	}
	if _, err := time.Parse(DateFormat, scope.Date); err != nil || len(scope.Date) != len(DateFormat) {
		return accessKey, scope, errorf(Malformed, "Credential scope date %q is not in YYYYMMDD format.", scope.Date)
	}
	if scope.Region == "" {
		return accessKey, scope, errorf(Malformed, "Credential scope has an empty region.")
	}
	if scope.Service == "" {
		return accessKey, scope, errorf(Malformed, "Credential scope has an empty service.")
	}
	if parts[4] != Terminator {
		return accessKey, scope, errorf(Malformed, "Credential should be scoped with a valid terminator: '%s', not '%s'.", Terminator, parts[4])
	}
	return accessKey, scope, nil
}
