package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/apierr"
	"github.com/privlink/privlink/api/sigv4"
	"github.com/privlink/privlink/core"
)

// keys is an Authenticator over a fixed set of keys.
type keys map[string]core.AccessKey

func (k keys) LookupAccessKey(ctx context.Context, id string) (core.AccessKey, core.Caller, error) {
	if id == "store-down" {
		return core.AccessKey{}, core.Caller{}, errors.New("etcd: context deadline exceeded")
	}
	key, ok := k[id]
	if !ok {
		return core.AccessKey{}, core.Caller{}, core.Errorf(core.KindUnauthenticated, "AuthFailure", "no key %s", id)
	}
	return key, core.Caller{AccountID: key.AccountID, Admin: key.AccountID == "000000000000"}, nil
}

var testKeys = keys{
	"test":                 {ID: "test", Secret: "test", AccountID: "000000000000"},
	"AKIAAAAAAAAAAAAAAAAA": {ID: "AKIAAAAAAAAAAAAAAAAA", Secret: "s3cr3t", AccountID: "111111111111"},
}

// recorder is a Handler that records what reaches it and writes errors as
// "Code: Message" with apierr's status for its family.
type recorder struct {
	family apierr.Family
	log    *slog.Logger
	handle func(w http.ResponseWriter, r *api.Request) // optional

	mu   sync.Mutex // guards reqs and body
	reqs []*api.Request
	body []byte // what the handler read from HTTP.Body
}

func (h *recorder) Handle(w http.ResponseWriter, r *api.Request) {
	b, _ := io.ReadAll(r.HTTP.Body)
	h.mu.Lock()
	h.reqs = append(h.reqs, r)
	h.body = b
	h.mu.Unlock()
	if h.handle != nil {
		h.handle(w, r)
		return
	}
	io.WriteString(w, "ok")
}

func (h *recorder) WriteError(w http.ResponseWriter, requestID string, err error) {
	wire := apierr.Resolve(h.log, requestID, h.family, err)
	w.WriteHeader(wire.Status)
	fmt.Fprintf(w, "%s: %s", wire.Code, wire.Message)
}

func (h *recorder) last() *api.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) == 0 {
		return nil
	}
	return h.reqs[len(h.reqs)-1]
}

type fixture struct {
	url                string
	ec2, elb, privlink *recorder
	logs               *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T, cfg api.Config) *fixture {
	t.Helper()
	f := &fixture{logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.ec2 = &recorder{family: apierr.EC2, log: log}
	f.elb = &recorder{family: apierr.Query, log: log}
	f.privlink = &recorder{family: apierr.JSON, log: log}
	handlers := map[string]api.Handler{"ec2": f.ec2, "elasticloadbalancing": f.elb, "privlink": f.privlink}
	srv := httptest.NewServer(api.NewServer(cfg, testKeys, handlers, log))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// call is one request to the server.
type call struct {
	method  string
	path    string // with query; "/" when empty
	body    string
	headers map[string]string
	// Signing; no signature when key is empty.
	key, secret, region, service string
	at                           time.Time
}

func (f *fixture) do(t *testing.T, c call) (int, string, http.Header) {
	t.Helper()
	if c.method == "" {
		c.method = "POST"
	}
	if c.path == "" {
		c.path = "/"
	}
	r, err := http.NewRequest(c.method, f.url+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.headers {
		r.Header.Set(k, v)
	}
	if c.key != "" {
		if c.region == "" {
			c.region = "us-east-1"
		}
		if c.at.IsZero() {
			c.at = time.Now()
		}
		if err := sigv4.Sign(r, []byte(c.body), sigv4.Credentials{AccessKey: c.key, SecretKey: c.secret}, c.region, c.service, c.at); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRouting(t *testing.T) {
	f := newFixture(t, api.Config{})
	form := "Action=DescribeVpcs&Version=2016-11-15"
	cases := []struct {
		name, service, region, key, secret string
		want                               *recorder
		wantAccount                        string
	}{
		{"ec2", "ec2", "us-east-1", "test", "test", f.ec2, "000000000000"},
		{"elbv2", "elasticloadbalancing", "us-east-1", "test", "test", f.elb, "000000000000"},
		{"privlink", "privlink", "us-east-1", "test", "test", f.privlink, "000000000000"},
		{"any region", "ec2", "ap-southeast-2", "AKIAAAAAAAAAAAAAAAAA", "s3cr3t", f.ec2, "111111111111"},
		{"route53-style global region", "elasticloadbalancing", "aws-global", "test", "test", f.elb, "000000000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := f.do(t, call{body: form, key: tc.key, secret: tc.secret, region: tc.region, service: tc.service,
				headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}})
			if status != 200 || body != "ok" {
				t.Fatalf("got %d %q", status, body)
			}
			r := tc.want.last()
			if r == nil {
				t.Fatal("handler not called")
			}
			if r.Service != tc.service || r.Region != tc.region || r.Caller.AccountID != tc.wantAccount {
				t.Errorf("request service=%q region=%q account=%q", r.Service, r.Region, r.Caller.AccountID)
			}
			if string(r.Body) != form || string(tc.want.body) != form {
				t.Errorf("Body %q, HTTP.Body %q, want %q", r.Body, tc.want.body, form)
			}
			if !uuidRE.MatchString(r.ID) || hdr.Get(api.RequestIDHeader) != r.ID {
				t.Errorf("request ID %q, header %q", r.ID, hdr.Get(api.RequestIDHeader))
			}
		})
	}
}

func TestFailures(t *testing.T) {
	const form = "Action=DescribeVpcs&Version=2016-11-15"
	const elbForm = "Action=DescribeLoadBalancers&Version=2015-12-01"
	formHeader := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	skewed := api.Config{Now: func() time.Time { return time.Now().Add(time.Hour) }}
	cases := []struct {
		name       string
		cfg        api.Config
		call       call
		wantStatus int
		wantBody   string // prefix: "Code: "
	}{
		{name: "ec2 wrong secret", call: call{body: form, key: "test", secret: "nope", service: "ec2"},
			wantStatus: 403, wantBody: "SignatureDoesNotMatch: The request signature we calculated"},
		{name: "elbv2 wrong secret", call: call{body: elbForm, key: "test", secret: "nope", service: "elasticloadbalancing"},
			wantStatus: 403, wantBody: "SignatureDoesNotMatch: "},
		{name: "ec2 unknown key", call: call{body: form, key: "AKIANOSUCHKEY", secret: "x", service: "ec2"},
			wantStatus: 401, wantBody: "AuthFailure: AWS was not able to validate the provided access credentials"},
		{name: "elbv2 unknown key", call: call{body: elbForm, key: "AKIANOSUCHKEY", secret: "x", service: "elasticloadbalancing"},
			wantStatus: 403, wantBody: "InvalidClientTokenId: The security token included in the request is invalid."},
		{name: "privlink unknown key", call: call{body: "{}", key: "AKIANOSUCHKEY", secret: "x", service: "privlink"},
			wantStatus: 400, wantBody: "UnrecognizedClientException: "},
		{name: "ec2 stale", cfg: skewed, call: call{body: form, key: "test", secret: "test", service: "ec2"},
			wantStatus: 400, wantBody: "RequestExpired: Request has expired."},
		{name: "elbv2 stale", cfg: skewed, call: call{body: elbForm, key: "test", secret: "test", service: "elasticloadbalancing"},
			wantStatus: 403, wantBody: "SignatureDoesNotMatch: Signature expired: "},
		{name: "ec2 future", call: call{body: form, key: "test", secret: "test", service: "ec2", at: time.Now().Add(time.Hour)},
			wantStatus: 400, wantBody: "RequestExpired: Signature not yet current"},
		{name: "ec2 unsigned, by Version in the body", call: call{body: form, headers: formHeader},
			wantStatus: 401, wantBody: "MissingAuthenticationToken: "},
		{name: "ec2 unsigned, by Version in the query", call: call{method: "GET", path: "/?Action=DescribeVpcs&Version=2016-11-15"},
			wantStatus: 401, wantBody: "MissingAuthenticationToken: "},
		{name: "elbv2 unsigned", call: call{body: elbForm, headers: formHeader},
			wantStatus: 403, wantBody: "MissingAuthenticationToken: Request is missing Authentication Token"},
		{name: "privlink unsigned, by target", call: call{body: "{}", headers: map[string]string{"X-Amz-Target": "PrivlinkAdmin.CreateAccount"}},
			wantStatus: 400, wantBody: "MissingAuthenticationTokenException: "},
		{name: "unsigned, unknown: default service", call: call{body: "x"},
			wantStatus: 401, wantBody: "MissingAuthenticationToken: "},
		{name: "malformed header routes by its scope", call: call{body: elbForm, headers: map[string]string{
			"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host",
			"X-Amz-Date":    "20240101T000000Z"}},
			wantStatus: 400, wantBody: "IncompleteSignature: Authorization header requires 'Signature' parameter."},
		{name: "signature v2 style", call: call{body: form, headers: map[string]string{"Authorization": "AWS test:abc"}},
			wantStatus: 400, wantBody: "IncompleteSignature: Unsupported AWS 'algorithm'"},
		{name: "unknown service", call: call{body: "x", key: "test", secret: "test", service: "s3"},
			wantStatus: 400, wantBody: "UnknownService: privlink does not serve the service \"s3\" named in the credential scope; it serves ec2, elasticloadbalancing, privlink"},
		{name: "unknown service, unknown key", call: call{body: "x", key: "nobody", secret: "x", service: "s3"},
			wantStatus: 400, wantBody: "UnknownService: "},
		{name: "body over the limit", cfg: api.Config{MaxBodyBytes: 64},
			call:       call{body: strings.Repeat("a", 65), key: "test", secret: "test", service: "elasticloadbalancing"},
			wantStatus: 413, wantBody: "RequestEntityTooLarge: The request body is larger than the limit of 64 bytes"},
		{name: "body at the limit", cfg: api.Config{MaxBodyBytes: 64},
			call:       call{body: strings.Repeat("a", 64), key: "test", secret: "test", service: "elasticloadbalancing"},
			wantStatus: 200, wantBody: "ok"},
		{name: "default 1 MiB limit", call: call{body: strings.Repeat("a", 1<<20+1), key: "test", secret: "test", service: "ec2"},
			wantStatus: 413, wantBody: "RequestEntityTooLarge: "},
		{name: "key store failing", call: call{body: form, key: "store-down", secret: "x", service: "ec2"},
			wantStatus: 500, wantBody: "InternalError: An internal error has occurred"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			status, body, hdr := f.do(t, tc.call)
			if status != tc.wantStatus || !strings.HasPrefix(body, tc.wantBody) {
				t.Fatalf("got %d %q\nwant %d %q…", status, body, tc.wantStatus, tc.wantBody)
			}
			if tc.wantStatus != 200 {
				for _, h := range []*recorder{f.ec2, f.elb, f.privlink} {
					if h.last() != nil {
						t.Errorf("a failed request reached a handler: %+v", h.last())
					}
				}
			}
			if !uuidRE.MatchString(hdr.Get(api.RequestIDHeader)) {
				t.Errorf("request ID header %q", hdr.Get(api.RequestIDHeader))
			}
			if strings.Contains(body, "etcd") {
				t.Errorf("internal error text reached the client: %q", body)
			}
		})
	}
}

func TestHealthProbe(t *testing.T) {
	f := newFixture(t, api.Config{})
	for _, method := range []string{"GET", "HEAD"} {
		t.Run(method, func(t *testing.T) {
			status, body, _ := f.do(t, call{method: method})
			want := "privlink\n"
			if method == "HEAD" {
				want = ""
			}
			if status != 200 || body != want {
				t.Fatalf("got %d %q", status, body)
			}
		})
	}
}

func TestPanicIsInternalError(t *testing.T) {
	f := newFixture(t, api.Config{})
	f.ec2.handle = func(w http.ResponseWriter, r *api.Request) {
		var m map[string]int
		m["boom"]++ // a nil map write: the kind of bug the net is for
	}
	c := call{body: "Action=X", key: "test", secret: "test", service: "ec2"}
	status, body, hdr := f.do(t, c)
	if status != 500 || body != "InternalError: An internal error has occurred" {
		t.Fatalf("got %d %q", status, body)
	}
	logs := f.logs.String()
	id := hdr.Get(api.RequestIDHeader)
	if !strings.Contains(logs, "handler panic") || !strings.Contains(logs, "request_id="+id) || !strings.Contains(logs, "server_test.go") {
		t.Errorf("panic not logged with request ID and stack:\n%s", logs)
	}
	// The server still serves.
	f.ec2.handle = nil
	if status, body, _ := f.do(t, c); status != 200 || body != "ok" {
		t.Fatalf("after the panic: %d %q", status, body)
	}
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t, api.Config{})
	_, _, hdr := f.do(t, call{body: "Action=DescribeLoadBalancers&Version=2015-12-01", key: "AKIAAAAAAAAAAAAAAAAA", secret: "s3cr3t",
		service: "elasticloadbalancing", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	_, _, hdr2 := f.do(t, call{body: "{}", key: "test", secret: "wrong", service: "privlink",
		headers: map[string]string{"X-Amz-Target": "PrivlinkAdmin.CreateAccount"}})
	logs := f.logs.String()
	for _, want := range []string{
		"msg=request request_id=" + hdr.Get(api.RequestIDHeader) + " service=elasticloadbalancing action=DescribeLoadBalancers account=111111111111 status=200 duration=",
		"msg=request request_id=" + hdr2.Get(api.RequestIDHeader) + " service=privlink action=CreateAccount account=\"\" status=400 duration=",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// TestNoDefaultHandler answers unroutable requests in plain text when the
// default service has no handler.
func TestNoDefaultHandler(t *testing.T) {
	h := &recorder{family: apierr.JSON}
	srv := httptest.NewServer(api.NewServer(api.Config{}, testKeys, map[string]api.Handler{"privlink": h}, nil))
	defer srv.Close()
	f := &fixture{url: srv.URL}
	status, body, _ := f.do(t, call{body: "x", key: "test", secret: "test", service: "ec2"})
	if status != 400 || !strings.HasPrefix(body, "UnknownService: ") {
		t.Fatalf("got %d %q", status, body)
	}
	status, body, _ = f.do(t, call{body: "x"})
	if status != 401 || !strings.HasPrefix(body, "MissingAuthenticationToken: ") {
		t.Fatalf("unsigned: got %d %q", status, body)
	}
}
