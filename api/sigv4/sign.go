package sigv4

import (
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Credentials are an access key pair.
type Credentials struct {
	AccessKey string
	SecretKey string
}

// unsignedHeaders are the headers Sign leaves out, as the AWS SDK for Go v2
// does: proxies and transports may change them.
var unsignedHeaders = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"x-amzn-trace-id":   true,
	"expect":            true,
	"transfer-encoding": true,
	"content-length":    true, // signed from r.ContentLength instead
}

// Sign signs r in the Authorization header form for the service and region
// at time t. body is the request body, whose hash is the payload hash;
// r.ContentLength should be len(body).
//
// Sign sets X-Amz-Date and Authorization, and sets r.Host (from r.URL.Host
// if empty) without a default port, which is the Host the transport sends. It signs host, content-length
// (when positive) and every other header except User-Agent,
// X-Amzn-Trace-Id, Expect and Transfer-Encoding: the same headers as the AWS
// SDK for Go v2, so that both produce the same signature.
func Sign(r *http.Request, body []byte, creds Credentials, region, service string, t time.Time) error {
	if creds.AccessKey == "" || creds.SecretKey == "" {
		return errors.New("sigv4: sign: empty access key or secret key")
	}
	if region == "" || service == "" {
		return errors.New("sigv4: sign: empty region or service")
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	r.Host = stripDefaultPort(r.URL.Scheme, host)
	if r.Host == "" {
		return errors.New("sigv4: sign: request has no host")
	}
	t = t.UTC()
	r.Header.Set(headerDate, t.Format(TimeFormat))
	r.Header.Del(headerAuthorization)

	signed := []string{"host"}
	if r.ContentLength > 0 {
		signed = append(signed, "content-length")
	}
	for name := range r.Header {
		lower := strings.ToLower(name)
		if !unsignedHeaders[lower] && !slices.Contains(signed, lower) {
			signed = append(signed, lower)
		}
	}
	slices.Sort(signed)
	headers, err := canonicalHeaders(r, signed)
	if err != nil {
		return err
	}
	scope := Scope{Date: t.Format(DateFormat), Region: region, Service: service}
	canonical := canonicalRequest(r.Method, encodePath(r.URL.EscapedPath()),
		canonicalQuery(r.URL.RawQuery, false), headers, signed, HashPayload(body))
	sig := hmacSHA256(signingKey(creds.SecretKey, scope), stringToSign(t, scope, canonical))
	r.Header.Set(headerAuthorization, FormatAuthorization(creds.AccessKey, scope, signed, sig))
	return nil
}

// FormatAuthorization builds an Authorization header value.
func FormatAuthorization(accessKey string, scope Scope, signedHeaders []string, signature []byte) string {
	return Algorithm + " Credential=" + accessKey + "/" + scope.String() +
		", SignedHeaders=" + strings.Join(signedHeaders, ";") +
		", Signature=" + hex.EncodeToString(signature)
}

// stripDefaultPort drops ":80" from http and ":443" from https hosts, as
// the SDKs do before signing and sending.
func stripDefaultPort(scheme, hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if p, _ := strconv.Atoi(port); (scheme == "http" && p == 80) || (scheme == "https" && p == 443) {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return hostport
}
