package sigv4

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	testCreds = Credentials{AccessKey: "AKIDEXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	testTime  = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
)

// request is a test request: a method, a URL, headers and a body.
type request struct {
	method  string
	url     string
	headers map[string]string
	body    string
}

func (tr request) build(t *testing.T) *http.Request {
	t.Helper()
	r, err := http.NewRequest(tr.method, tr.url, strings.NewReader(tr.body))
	if err != nil {
		t.Fatal(err)
	}
	if tr.body == "" {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	for k, v := range tr.headers {
		r.Header.Set(k, v)
	}
	return r
}

// serverSide turns a client request into what an http.Server hands its
// handler: Host out of the header, the URL parsed from the request URI.
func serverSide(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	var body bytes.Buffer
	if r.Body != nil {
		body.ReadFrom(r.Body)
	}
	s := httptest.NewRequest(r.Method, r.URL.RequestURI(), bytes.NewReader(body.Bytes()))
	s.Host = r.Host
	if s.Host == "" {
		s.Host = r.URL.Host
	}
	s.Header = r.Header.Clone()
	if r.ContentLength > 0 {
		s.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	return s
}

var signCases = []struct {
	name    string
	req     request
	service string
}{
	{"get vanilla", request{method: "GET", url: "https://example.amazonaws.com/"}, "service"},
	{"iam list users", request{method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
		headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}, "iam"},
	{"ec2 form post", request{method: "POST", url: "http://127.0.0.1:4580/",
		headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
		body:    "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-0123456789abcdef0"}, "ec2"},
	{"json target", request{method: "POST", url: "http://localhost:4580/",
		headers: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "PrivlinkAdmin.CreateAccount"},
		body:    "{}"}, "privlink"},
	{"query needs encoding", request{method: "GET",
		url: "http://127.0.0.1:4580/?b=2&a=x%20y&a=x-y&a=x%2Fy&empty=&flag&uni=%C3%A9&plus=1%2B1&tilde=~&star=*"}, "ec2"},
	{"query with form plus", request{method: "GET", url: "http://127.0.0.1:4580/?Filter.1.Value.1=a+b"}, "ec2"},
	{"path with escapes", request{method: "GET", url: "http://127.0.0.1:4580/2013-04-01/hostedzone/Z1%20X/rrset"}, "route53"},
	{"header spaces", request{method: "GET", url: "http://127.0.0.1:4580/",
		headers: map[string]string{"X-Amz-Meta": "  a   b  c ", "My-Header": "x"}}, "ec2"},
	{"default port", request{method: "GET", url: "http://example.com:80/"}, "ec2"},
	{"user agent unsigned", request{method: "POST", url: "http://127.0.0.1:4580/",
		headers: map[string]string{"User-Agent": "aws-cli/2", "Expect": "100-continue"}, body: "Action=X"}, "elasticloadbalancing"},
}

// TestSignMatchesSDK signs the same requests with Sign and with the AWS SDK
// for Go v2 and expects the same Authorization header, then verifies both.
func TestSignMatchesSDK(t *testing.T) {
	sdk := sdkv4.NewSigner()
	for _, tc := range signCases {
		t.Run(tc.name, func(t *testing.T) {
			mine := tc.req.build(t)
			if err := Sign(mine, []byte(tc.req.body), testCreds, "us-east-1", tc.service, testTime); err != nil {
				t.Fatal(err)
			}
			theirs := tc.req.build(t)
			err := sdk.SignHTTP(context.Background(),
				aws.Credentials{AccessKeyID: testCreds.AccessKey, SecretAccessKey: testCreds.SecretKey},
				theirs, HashPayload([]byte(tc.req.body)), tc.service, "us-east-1", testTime)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := mine.Header.Get("Authorization"), theirs.Header.Get("Authorization"); got != want {
				t.Fatalf("Authorization differs from the SDK's\n mine: %s\n  sdk: %s", got, want)
			}
			for name, r := range map[string]*http.Request{"mine": mine, "sdk": theirs} {
				s := serverSide(t, r)
				a, err := Parse(s)
				if err != nil {
					t.Fatalf("%s: Parse: %v", name, err)
				}
				if err := Verify(s, []byte(tc.req.body), a, testCreds.SecretKey, testTime.Add(time.Minute)); err != nil {
					t.Fatalf("%s: Verify: %v", name, err)
				}
			}
		})
	}
}

// TestKnownVectors pins signatures from AWS's documentation and test suite.
func TestKnownVectors(t *testing.T) {
	cases := []struct {
		name, service string
		req           request
		want          string
	}{
		{"get-vanilla", "service", request{method: "GET", url: "https://example.amazonaws.com/"},
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"iam ListUsers", "iam", request{method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}},
			"5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req.build(t)
			if err := Sign(r, nil, testCreds, "us-east-1", tc.service, testTime); err != nil {
				t.Fatal(err)
			}
			a, err := ParseAuthorization(r.Header.Get("Authorization"))
			if err != nil {
				t.Fatal(err)
			}
			if a.Signature != tc.want {
				t.Errorf("signature = %s, want %s", a.Signature, tc.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	base := request{method: "POST", url: "http://127.0.0.1:4580/?q=1",
		headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Amz-Target": "T.A"},
		body:    "Action=DescribeVpcs&Version=2016-11-15"}
	cases := []struct {
		name   string
		secret string
		now    time.Time
		mutate func(r *http.Request) // after signing, on the server side
		body   string                // the body the server receives; base's when empty
		want   Reason
	}{
		{name: "accepted", want: 0},
		{name: "wrong secret", secret: "not-the-secret", want: Mismatch},
		{name: "body changed", body: "Action=DeleteVpc&Version=2016-11-15", want: Mismatch},
		{name: "query changed", mutate: func(r *http.Request) { r.URL.RawQuery = "q=2" }, want: Mismatch},
		{name: "query added", mutate: func(r *http.Request) { r.URL.RawQuery += "&x=1" }, want: Mismatch},
		{name: "signed header changed", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Target", "T.B") }, want: Mismatch},
		{name: "signed header removed", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Target") }, want: Malformed},
		{name: "unsigned header changed", mutate: func(r *http.Request) { r.Header.Set("User-Agent", "other") }, want: 0},
		{name: "host changed", mutate: func(r *http.Request) { r.Host = "127.0.0.1:4581" }, want: Mismatch},
		{name: "method changed", mutate: func(r *http.Request) { r.Method = "PUT" }, want: Mismatch},
		{name: "path changed", mutate: func(r *http.Request) { r.URL.Path = "/x" }, want: Mismatch},
		{name: "stale", now: testTime.Add(MaxSkew + time.Second), want: Expired},
		{name: "just within skew", now: testTime.Add(MaxSkew), want: 0},
		{name: "future", now: testTime.Add(-MaxSkew - time.Second), want: NotYetValid},
		{name: "payload hash header matches", mutate: func(r *http.Request) {}, want: 0},
		{name: "payload hash header lies", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", EmptyPayloadHash)
		}, want: Mismatch},
		{name: "unsigned payload", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		}, want: Malformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base.build(t)
			if err := Sign(c, []byte(base.body), testCreds, "us-east-1", "ec2", testTime); err != nil {
				t.Fatal(err)
			}
			s := serverSide(t, c)
			if tc.mutate != nil {
				tc.mutate(s)
			}
			secret, now, body := testCreds.SecretKey, testTime, base.body
			if tc.secret != "" {
				secret = tc.secret
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			if tc.body != "" {
				body = tc.body
			}
			a, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = Verify(s, []byte(body), a, secret, now)
			checkReason(t, err, tc.want)
		})
	}
}

func TestVerifyScopeDate(t *testing.T) {
	r := request{method: "GET", url: "http://127.0.0.1:4580/"}.build(t)
	if err := Sign(r, nil, testCreds, "us-east-1", "ec2", testTime); err != nil {
		t.Fatal(err)
	}
	// A date a minute past midnight, signed with yesterday's scope.
	r.Header.Set("X-Amz-Date", "20150831T000100Z")
	s := serverSide(t, r)
	a, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	err = Verify(s, nil, a, testCreds.SecretKey, time.Date(2015, 8, 31, 0, 1, 0, 0, time.UTC))
	checkReason(t, err, Mismatch)
	if err == nil || !strings.Contains(err.Error(), "Credential scope") {
		t.Errorf("error %v does not name the scope date", err)
	}
}

// TestPresigned verifies query-form signatures made by the SDK's presigner.
func TestPresigned(t *testing.T) {
	sdk := sdkv4.NewSigner()
	cases := []struct {
		name    string
		expires string
		now     time.Time
		want    Reason
	}{
		{"no expiry, fresh", "", testTime.Add(time.Minute), 0},
		{"no expiry, stale", "", testTime.Add(MaxSkew + time.Minute), Expired},
		{"expires in an hour, later", "3600", testTime.Add(59 * time.Minute), 0},
		{"expires in an hour, expired", "3600", testTime.Add(61 * time.Minute), Expired},
		{"future", "3600", testTime.Add(-MaxSkew - time.Minute), NotYetValid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := "http://127.0.0.1:4580/?Action=DescribeRegions&Version=2016-11-15"
			if tc.expires != "" {
				u += "&X-Amz-Expires=" + tc.expires
			}
			r := request{method: "GET", url: u}.build(t)
			signed, hdr, err := sdk.PresignHTTP(context.Background(),
				aws.Credentials{AccessKeyID: testCreds.AccessKey, SecretAccessKey: testCreds.SecretKey},
				r, EmptyPayloadHash, "ec2", "eu-west-1", testTime)
			if err != nil {
				t.Fatal(err)
			}
			pu, err := url.Parse(signed)
			if err != nil {
				t.Fatal(err)
			}
			s := httptest.NewRequest("GET", pu.RequestURI(), nil)
			s.Host = pu.Host
			for k, v := range hdr {
				if !strings.EqualFold(k, "host") {
					s.Header[k] = v
				}
			}
			a, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !a.Presigned || a.Scope.Region != "eu-west-1" || a.AccessKey != testCreds.AccessKey {
				t.Fatalf("parsed %+v", a)
			}
			checkReason(t, Verify(s, nil, a, testCreds.SecretKey, tc.now), tc.want)
			if tc.want == 0 {
				s.URL.RawQuery = strings.Replace(s.URL.RawQuery, "DescribeRegions", "DescribeVpcs", 1)
				checkReason(t, Verify(s, nil, a, testCreds.SecretKey, tc.now), Mismatch)
			}
		})
	}
}

func TestParse(t *testing.T) {
	const good = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
		"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	cases := []struct {
		name        string
		header      string
		date        string
		query       string
		want        Reason
		wantService string // the scope's service, also on failure
	}{
		{name: "good", header: good, date: "20150830T123600Z", wantService: "ec2"},
		{name: "no separating spaces", header: strings.ReplaceAll(good, ", ", ","), date: "20150830T123600Z", wantService: "ec2"},
		{name: "date header", header: good, wantService: "ec2", want: 0},
		{name: "nothing", want: Missing},
		{name: "no date", header: good, date: "-", want: Malformed, wantService: "ec2"},
		{name: "bad date", header: good, date: "2015-08-30T12:36:00Z", want: Malformed, wantService: "ec2"},
		{name: "other algorithm", header: strings.Replace(good, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1), want: Malformed},
		{name: "signature v2", header: "AWS AKID:c2lnbmF0dXJl", want: Malformed},
		{name: "no signature", header: good[:strings.Index(good, ", Signature")], date: "20150830T123600Z", want: Malformed, wantService: "ec2"},
		{name: "no credential", header: "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + strings.Repeat("a", 64), want: Malformed},
		{name: "bad terminator", header: strings.Replace(good, "aws4_request", "aws5_request", 1), want: Malformed, wantService: "ec2"},
		{name: "short scope", header: strings.Replace(good, "/ec2/", "/", 1), want: Malformed},
		{name: "scope date", header: strings.Replace(good, "20150830", "2015-8-30", 1), want: Malformed, wantService: "ec2"},
		{name: "host not signed", header: strings.Replace(good, "host;", "", 1), want: Malformed, wantService: "ec2"},
		{name: "upper-case header name", header: strings.Replace(good, "host;x-amz-date", "host;X-Amz-Date", 1), want: Malformed, wantService: "ec2"},
		{name: "short signature", header: good[:len(good)-1], want: Malformed, wantService: "ec2"},
		{name: "upper-case signature", header: strings.Replace(good, "5fa00fa", "5FA00FA", 1), want: Malformed, wantService: "ec2"},
		{name: "duplicate component", header: good + ", Signature=" + strings.Repeat("a", 64), want: Malformed},
		{name: "unknown component", header: good + ", Extra=1", want: Malformed},
		{name: "header and query", header: good, query: "X-Amz-Algorithm=AWS4-HMAC-SHA256", want: Malformed},
		{name: "presigned without signature", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host",
			want: Malformed, wantService: "ec2"},
		{name: "presigned expires too long", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=604801&X-Amz-Signature=" + strings.Repeat("a", 64),
			want: Malformed, wantService: "ec2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/?"+tc.query, nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			switch tc.date {
			case "":
				r.Header.Set("Date", "Sun, 30 Aug 2015 12:36:00 GMT")
			case "-":
			default:
				r.Header.Set("X-Amz-Date", tc.date)
			}
			a, err := Parse(r)
			checkReason(t, err, tc.want)
			if tc.want == Missing && a != nil {
				t.Errorf("Missing came with an Auth: %+v", a)
			}
			if got := service(a); got != tc.wantService {
				t.Errorf("scope service = %q, want %q", got, tc.wantService)
			}
			if err == nil && !a.Time.Equal(testTime) {
				t.Errorf("time = %v, want %v", a.Time, testTime)
			}
		})
	}
}

func service(a *Auth) string {
	if a == nil {
		return ""
	}
	return a.Scope.Service
}

func TestNormalizePath(t *testing.T) {
	cases := map[string]string{
		"":               "/",
		"/":              "/",
		"//":             "/",
		"/a/b":           "/a/b",
		"/a/b/":          "/a/b/",
		"/a//b":          "/a/b",
		"/a/./b":         "/a/b",
		"/a/../b":        "/b",
		"/../../a":       "/a",
		"/a/b/..":        "/a",
		"/a%20b/c%2Fd":   "/a%20b/c%2Fd",
		"/example/../..": "/",
	}
	for in, want := range cases {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVerifyAcceptsNormalizedPath accepts a signature over the normalised
// path (botocore's way) as well as over the path as sent (the Go SDK's).
func TestVerifyAcceptsNormalizedPath(t *testing.T) {
	for _, signedPath := range []string{"/a/b", "/a/./b"} {
		t.Run(signedPath, func(t *testing.T) {
			r := request{method: "GET", url: "http://127.0.0.1:4580" + signedPath}.build(t)
			if err := Sign(r, nil, testCreds, "us-east-1", "ec2", testTime); err != nil {
				t.Fatal(err)
			}
			s := serverSide(t, r)
			s.URL.Path, s.URL.RawPath = "/a/./b", ""
			a, err := Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			checkReason(t, Verify(s, nil, a, testCreds.SecretKey, testTime), 0)
		})
	}
}

func checkReason(t *testing.T, err error, want Reason) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want a *sigv4.Error with reason %v", err, want)
	}
	if e.Reason != want {
		t.Fatalf("reason %v (%s), want %v", e.Reason, e.Message, want)
	}
}

// FuzzParseAuthorization feeds arbitrary header values to the parser: it
// must not panic, and whatever it accepts must survive formatting and
// parsing again unchanged.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=,Signature=")
	f.Add("AWS4-HMAC-SHA256 ,,,=,==")
	f.Add("AWS AKID:sig")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		a, err := ParseAuthorization(v)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *sigv4.Error", err)
			}
			return
		}
		sig, decErr := hex.DecodeString(a.Signature)
		if decErr != nil {
			t.Fatalf("accepted signature %q is not hex", a.Signature)
		}
		again, err := ParseAuthorization(FormatAuthorization(a.AccessKey, a.Scope, a.SignedHeaders, sig))
		if err != nil {
			t.Fatalf("reparse of %q: %v", v, err)
		}
		if again.AccessKey != a.AccessKey || again.Scope != a.Scope || again.Signature != a.Signature ||
			strings.Join(again.SignedHeaders, ";") != strings.Join(a.SignedHeaders, ";") {
			t.Fatalf("round trip changed %+v into %+v", a, again)
		}
	})
}

// FuzzParse feeds arbitrary Authorization headers and query strings to
// Parse and Verify: no panics, only *sigv4.Error failures.
func FuzzParse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("ab", 32), "a=b&c", "20150830T123600Z")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature="+strings.Repeat("0", 64), "")
	f.Add("", "%zz=%&&=", "x")
	f.Fuzz(func(t *testing.T, header, query, date string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		a, err := Parse(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *sigv4.Error", err)
			}
			return
		}
		if err := Verify(r, nil, a, "secret", a.Time); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *sigv4.Error", err)
			}
		}
	})
}

// FuzzCanonicalQuery checks that canonicalisation is idempotent: a
// canonical query string is its own canonical form.
func FuzzCanonicalQuery(f *testing.F) {
	f.Add("b=2&a=1&a=0")
	f.Add("x=a+b%20c&%zz=1&=&&flag")
	f.Fuzz(func(t *testing.T, raw string) {
		once := canonicalQuery(raw, false)
		if twice := canonicalQuery(once, false); twice != once {
			t.Fatalf("canonicalQuery(%q) = %q, but canonicalQuery of that = %q", raw, once, twice)
		}
	})
}

// TestSigningKeyCache checks that cached keys are the derived ones, per
// secret and scope, and that the cache stays within its bound.
func TestSigningKeyCache(t *testing.T) {
	c := keyCache{keys: map[keyCacheEntry][]byte{}}
	scopes := []Scope{
		{Date: "20150830", Region: "us-east-1", Service: "iam"},
		{Date: "20150831", Region: "us-east-1", Service: "iam"},
		{Date: "20150830", Region: "eu-west-1", Service: "iam"},
		{Date: "20150830", Region: "us-east-1", Service: "ec2"},
	}
	for range 2 { // derived, then cached
		for _, secret := range []string{"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "another"} {
			for _, s := range scopes {
				if got, want := c.get(secret, s), deriveSigningKey(secret, s); !bytes.Equal(got, want) {
					t.Errorf("key for %q %+v: %x, want %x", secret, s, got, want)
				}
			}
		}
	}
	if len(c.keys) != 8 {
		t.Errorf("%d keys cached, want 8", len(c.keys))
	}
	for i := range 3 * maxCachedKeys {
		c.get("secret", Scope{Date: "20150830", Region: "r" + strconv.Itoa(i), Service: "ec2"})
		if len(c.keys) > maxCachedKeys {
			t.Fatalf("%d keys cached, more than %d", len(c.keys), maxCachedKeys)
		}
	}
}
