package sigv4

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Parse finds the signature on r, in the Authorization header or in the
// query string, and parses it without verifying it.
//
// It returns a nil Auth and a Missing error when r carries no signature at
// all. On other errors the returned Auth holds what was parsed before the
// failure — notably Scope, so that a server can answer in the format of the
// scope's service.
func Parse(r *http.Request) (*Auth, error) {
	header := r.Header.Values(headerAuthorization)
	query := r.URL.Query()
	presigned := query.Has(queryAlgorithm) || query.Has(queryCredential) || query.Has(querySignature)
	switch {
	case len(header) == 0 && !presigned:
		return nil, errorf(Missing, "The request carries no AWS Signature Version 4 signature.")
	case len(header) > 0 && presigned:
		return nil, errorf(Malformed, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(header) > 1:
		return nil, errorf(Malformed, "The request has more than one Authorization header.")
	case presigned:
		return parsePresigned(query)
	}

	a, err := ParseAuthorization(header[0])
	if err != nil {
		return a, err
	}
	if v := r.Header.Get(headerDate); v != "" {
		a.Time, err = parseTime(v)
	} else if v := r.Header.Get("Date"); v != "" {
		a.Time, err = http.ParseTime(v)
		if err != nil {
			err = errorf(Malformed, "The Date header %q is not an HTTP date.", v)
		}
	} else {
		err = errorf(Malformed, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	return a, err
}

// ParseAuthorization parses an Authorization header value of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d67…
//
// The request time is not part of the header; Auth.Time is left zero. On
// error the returned Auth, if not nil, holds what was parsed.
func ParseAuthorization(v string) (*Auth, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if alg != Algorithm {
		return nil, errorf(Malformed, "Unsupported AWS 'algorithm': %q; privlink accepts %s.", alg, Algorithm)
	}
	var credential, signedHeaders, signature string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errorf(Malformed, "Authorization header requires each component to be of the form key=value; got %q.", part)
		}
		var i int
		switch name {
		case "Credential":
			i, credential = 0, value
		case "SignedHeaders":
			i, signedHeaders = 1, value
		case "Signature":
			i, signature = 2, value
		default:
			return nil, errorf(Malformed, "Authorization header has an unknown component %q.", name)
		}
		if seen[i] {
			return nil, errorf(Malformed, "Authorization header has the component %q twice.", name)
		}
		seen[i] = true
	}
	a := &Auth{}
	var missing []string
	for i, name := range [3]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			missing = append(missing, "Authorization header requires '"+name+"' parameter.")
		}
	}
	if seen[0] {
		var err error
		if a.AccessKey, a.Scope, err = parseScope(credential); err != nil {
			return a, err
		}
	}
	if len(missing) > 0 {
		return a, errorf(Malformed, "%s", strings.Join(missing, " "))
	}
	return a, fillSigned(a, signedHeaders, signature)
}

func parsePresigned(q url.Values) (*Auth, error) {
	a := &Auth{Presigned: true}
	// The credential goes first, so that the caller learns the scope even
	// when something else is wrong.
	if c := q[queryCredential]; len(c) == 1 {
		var err error
		if a.AccessKey, a.Scope, err = parseScope(c[0]); err != nil {
			return a, err
		}
	}
	for _, name := range []string{queryAlgorithm, queryCredential, queryDate, querySignedHeaders, querySignature} {
		if len(q[name]) != 1 {
			return a, errorf(Malformed, "A presigned request requires exactly one '%s' query parameter.", name)
		}
	}
	var err error
	if alg := q.Get(queryAlgorithm); alg != Algorithm {
		return a, errorf(Malformed, "Unsupported AWS 'algorithm': %q; privlink accepts %s.", alg, Algorithm)
	}
	if a.Time, err = parseTime(q.Get(queryDate)); err != nil {
		return a, err
	}
	if v, ok := q[queryExpires]; ok {
		secs, err := strconv.ParseInt(v[0], 10, 64)
		if len(v) != 1 || err != nil || secs < 1 || time.Duration(secs)*time.Second > MaxPresigned {
			return a, errorf(Malformed, "X-Amz-Expires must be a whole number of seconds from 1 to %d.", int64(MaxPresigned/time.Second))
		}
		a.Expires = time.Duration(secs) * time.Second
	}
	return a, fillSigned(a, q.Get(querySignedHeaders), q.Get(querySignature))
}

// fillSigned validates and stores the signed header list and the signature.
func fillSigned(a *Auth, signedHeaders, signature string) error {
	if signedHeaders == "" {
		return errorf(Malformed, "SignedHeaders is empty; it must list at least 'host'.")
	}
	hasHost := false
	for name := range strings.SplitSeq(signedHeaders, ";") {
		if !validHeaderName(name) {
			return errorf(Malformed, "SignedHeaders has an invalid header name %q; names are lower-case and separated by ';'.", name)
		}
		hasHost = hasHost || name == "host"
		a.SignedHeaders = append(a.SignedHeaders, name)
	}
	if !hasHost {
		return errorf(Malformed, "SignedHeaders must include 'host'.")
	}
	if len(signature) != 64 || strings.Trim(signature, "0123456789abcdef") != "" {
		return errorf(Malformed, "Signature must be 64 lower-case hexadecimal digits.")
	}
	a.Signature = signature
	return nil
}

// validHeaderName reports whether s is a lower-case HTTP token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, v)
	if err != nil {
		return time.Time{}, errorf(Malformed, "Date must be in ISO-8601 'basic format' (YYYYMMDD'T'HHMMSS'Z'); got %q.", v)
	}
	return t, nil
}
