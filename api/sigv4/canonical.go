package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// canonicalRequest joins the parts of the canonical request.
func canonicalRequest(method, path, query, headers string, signed []string, payloadHash string) string {
	var b strings.Builder
	b.Grow(len(method) + len(path) + len(query) + len(headers) + 64 + len(payloadHash))
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(headers)
	b.WriteByte('\n')
	for i, name := range signed {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// stringToSign is the algorithm, the time, the scope and the hash of the
// canonical request, one per line.
func stringToSign(t time.Time, scope Scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + t.UTC().Format(TimeFormat) + "\n" + scope.String() + "\n" + hex.EncodeToString(sum[:])
}

// signingKey returns the key for a scope derived from a secret access key,
// from the cache when it was derived before.
func signingKey(secret string, scope Scope) []byte {
	return signingKeys.get(secret, scope)
}

// deriveSigningKey derives the key for a scope from a secret access key:
// four HMACs, the same for every request of a key in a day, region and
// service.
func deriveSigningKey(secret string, scope Scope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), scope.Date)
	k = hmacSHA256(k, scope.Region)
	k = hmacSHA256(k, scope.Service)
	return hmacSHA256(k, Terminator)
}

// maxCachedKeys bounds the signing key cache; past it, the cache starts
// again empty. Keys change daily, so a server that talks to a few clients
// holds a few.
const maxCachedKeys = 256

// signingKeys caches derived signing keys, as the AWS SDKs' signers do.
var signingKeys = keyCache{keys: map[keyCacheEntry][]byte{}}

type keyCache struct {
	mu   sync.Mutex
	keys map[keyCacheEntry][]byte
}

type keyCacheEntry struct {
	secret string
	scope  Scope
}

func (c *keyCache) get(secret string, scope Scope) []byte {
	e := keyCacheEntry{secret, scope}
	c.mu.Lock()
	k, ok := c.keys[e]
	c.mu.Unlock()
	if ok {
		return k
	}
	k = deriveSigningKey(secret, scope)
	c.mu.Lock()
	if len(c.keys) >= maxCachedKeys {
		clear(c.keys)
	}
	c.keys[e] = k
	c.mu.Unlock()
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// HashPayload returns the lower-case hex SHA-256 of body, the payload hash
// of the canonical request.
func HashPayload(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// encodePath URI-encodes every byte of an already escaped path except the
// unreserved characters and '/'. Escapes are thereby encoded a second time
// ("%20" → "%2520"), as AWS requires for every service except S3.
func encodePath(escaped string) string {
	if escaped == "" {
		return "/"
	}
	return uriEncode(escaped, true)
}

// normalizePath removes "." and ".." segments (RFC 3986 §5.2.4) and empty
// segments, which AWS also drops, keeping a leading and a trailing slash.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// canonicalQuery decodes the raw query's parameters, encodes names and
// values again the SigV4 way, and sorts them by encoded name, then value.
// Decoding follows form rules ('+' is a space), as the handlers will read
// the parameters, so the signature covers what they see. A parameter that
// does not decode is used as sent, and then will not match.
func canonicalQuery(raw string, skipSignature bool) string {
	type param struct{ k, v string }
	var params []param
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if skipSignature && k == querySignature {
			continue
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		params = append(params, param{uriEncode(k, false), uriEncode(v, false)})
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes (upper-case hex) every byte outside the RFC 3986
// unreserved set, and '/' unless keepSlash.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && keepSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// canonicalHeaders writes "name:value\n" for each signed header, in the
// order given. Values are trimmed, runs of spaces collapse to one, and
// repeated headers join with commas. It reports a signed header that the
// request does not have.
func canonicalHeaders(r *http.Request, names []string) (string, error) {
	var b strings.Builder
	for _, name := range names {
		var values []string
		switch name {
		case "host":
			// Go moves the Host header out of r.Header.
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			values = []string{host}
		default:
			values = r.Header.Values(name)
			if len(values) == 0 && name == "content-length" && r.ContentLength > 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		}
		if len(values) == 0 {
			return "", errorf(Malformed, "SignedHeaders lists %q, but the request has no such header.", name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimValue(v))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// trimValue trims leading and trailing whitespace and collapses each run of
// spaces inside to one space.
func trimValue(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	prevSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' && prevSpace {
			continue
		}
		prevSpace = c == ' '
		b.WriteByte(c)
	}
	return b.String()
}
