package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Verify checks that a, parsed from r by Parse, is a valid signature of r
// and body by secret at a time near now. body is the whole request body
// (the server has read it; r.Body is not used). It returns nil or an *Error.
//
// The payload hash is the X-Amz-Content-Sha256 header when present — which
// must then be the SHA-256 of body — and the SHA-256 of body otherwise.
func Verify(r *http.Request, body []byte, a *Auth, secret string, now time.Time) error {
	if err := checkTime(a, now); err != nil {
		return err
	}
	if d := a.Time.UTC().Format(DateFormat); d != a.Scope.Date {
		return errorf(Mismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.Scope.Date, d, a.Time.UTC().Format(TimeFormat))
	}
	payload := HashPayload(body)
	if v := r.Header.Get(headerContentSHA256); v != "" {
		if len(v) != 64 || strings.Trim(strings.ToLower(v), "0123456789abcdef") != "" {
			return errorf(Malformed, "X-Amz-Content-Sha256 must be the hex SHA-256 of the payload; unsigned and streaming payloads are not supported. Got %q.", v)
		}
		if !strings.EqualFold(v, payload) {
			return errorf(Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		payload = v
	}
	headers, err := canonicalHeaders(r, a.SignedHeaders)
	if err != nil {
		return err
	}
	query := canonicalQuery(r.URL.RawQuery, a.Presigned)
	want, err := hex.DecodeString(a.Signature)
	if err != nil {
		return errorf(Malformed, "Signature must be 64 lower-case hexadecimal digits.")
	}
	key := signingKey(secret, a.Scope)

	// AWS's specification normalises the path (as botocore does); the Go
	// SDK signs it as sent. Both are accepted; they differ only for paths
	// with empty or dot segments.
	escaped := r.URL.EscapedPath()
	paths := []string{encodePath(normalizePath(escaped))}
	if raw := encodePath(escaped); raw != paths[0] {
		paths = append(paths, raw)
	}
	match := false
	for _, path := range paths {
		canonical := canonicalRequest(r.Method, path, query, headers, a.SignedHeaders, payload)
		got := hmacSHA256(key, stringToSign(a.Time, a.Scope, canonical))
		// Every candidate is computed and compared, so timing says nothing
		// about which one matched.
		match = hmac.Equal(got, want) || match
	}
	if !match {
		return errorf(Mismatch, "%s", MismatchMessage)
	}
	return nil
}

// checkTime enforces the clock skew window, or a presigned request's expiry.
func checkTime(a *Auth, now time.Time) error {
	now = now.UTC()
	t := a.Time.UTC()
	if t.After(now.Add(MaxSkew)) {
		return errorf(NotYetValid, "Signature not yet current: %s is still later than %s (%s + %d min.)",
			t.Format(TimeFormat), now.Add(MaxSkew).Format(TimeFormat), now.Format(TimeFormat), int(MaxSkew/time.Minute))
	}
	if a.Presigned && a.Expires > 0 {
		if end := t.Add(a.Expires); now.After(end) {
			return errorf(Expired, "Signature expired: the presigned request was valid until %s; it is now %s.",
				end.Format(TimeFormat), now.Format(TimeFormat))
		}
		return nil
	}
	if t.Before(now.Add(-MaxSkew)) {
		return errorf(Expired, "Signature expired: %s is now earlier than %s (%s - %d min.)",
			t.Format(TimeFormat), now.Add(-MaxSkew).Format(TimeFormat), now.Format(TimeFormat), int(MaxSkew/time.Minute))
	}
	return nil
}
