package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/privlink/privlink/api/apierr"
	"github.com/privlink/privlink/api/sigv4"
	"github.com/privlink/privlink/core"
)

// Authenticator finds the secret and the account of an access key. A key
// that does not exist is a *core.Error of KindUnauthenticated; any other
// error is the store failing. *core.Cloud implements it.
type Authenticator interface {
	LookupAccessKey(ctx context.Context, id string) (core.AccessKey, core.Caller, error)
}

// Config tunes a Server. Zero fields take DefaultConfig's values.
type Config struct {
	// MaxBodyBytes caps a request body; a larger one is refused with 413.
	MaxBodyBytes int64
	// Now is the clock that signatures are checked against.
	Now func() time.Time
	// APIVersions maps the Version parameter of Query-protocol requests to
	// the service, and Targets maps the prefix of X-Amz-Target (before the
	// dot) to the service. The server routes requests that carry no
	// credential scope — unsigned or malformed ones — by them, so that the
	// client gets its own service's error format.
	APIVersions map[string]string
	Targets     map[string]string
	// DefaultService answers requests that cannot be routed at all.
	DefaultService string
}

// DefaultConfig returns the configuration of privlink's own server.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes: 1 << 20,
		Now:          time.Now,
		APIVersions: map[string]string{
			"2016-11-15": "ec2",
			"2015-12-01": "elasticloadbalancing",
		},
		Targets:        map[string]string{"PrivlinkAdmin": "privlink"},
		DefaultService: "ec2",
	}
}

// Server is privlink's front door: one http.Handler for every API. For each
// request it
//
//  1. assigns a request ID and answers unsigned "GET /" health probes;
//  2. parses the SigV4 signature and reads the body, up to MaxBodyBytes;
//  3. routes by the credential scope's service to a Handler (by X-Amz-Target
//     or Version when there is no scope);
//  4. looks the access key up and verifies the signature, in any region;
//  5. calls the Handler, recovering a panic as an internal error.
//
// Failures before the Handler are written with the Handler's WriteError.
type Server struct {
	cfg      Config
	auth     Authenticator
	handlers map[string]Handler // by signing name; never changed after NewServer
	services string             // the signing names served, for error messages
	log      *slog.Logger
}

// NewServer returns a server that authenticates with auth and routes to
// handlers, keyed by SigV4 signing name ("ec2", "elasticloadbalancing",
// "privlink", …).
func NewServer(cfg Config, auth Authenticator, handlers map[string]Handler, log *slog.Logger) *Server {
	d := DefaultConfig()
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = d.MaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	if cfg.APIVersions == nil {
		cfg.APIVersions = d.APIVersions
	}
	if cfg.Targets == nil {
		cfg.Targets = d.Targets
	}
	if cfg.DefaultService == "" {
		cfg.DefaultService = d.DefaultService
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names := slices.Sorted(maps.Keys(handlers))
	return &Server{
		cfg:      cfg,
		auth:     auth,
		handlers: maps.Clone(handlers),
		services: strings.Join(names, ", "),
		log:      log,
	}
}

// RequestIDHeader carries the request ID on every response, as AWS's
// services send it.
const RequestIDHeader = "X-Amzn-Requestid"

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := newRequestID()
	w.Header().Set(RequestIDHeader, id)
	if isHealthProbe(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "privlink\n")
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	req := &Request{ID: id, HTTP: r}
	defer func() { s.logRequest(r, req, rec.status(), time.Since(start)) }()

	// The unwrapped writer, so that an oversized body closes the connection.
	h, err := s.authenticate(w, r, req)
	if h == nil {
		s.writeUnrouted(rec, id, err)
		return
	}
	if err != nil {
		h.WriteError(rec, id, err)
		return
	}
	s.serve(rec, h, req)
}

// authenticate fills req and returns its handler, or the error to answer
// with. A nil handler means the request could not be routed.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, req *Request) (Handler, error) {
	auth, authErr := sigv4.Parse(r)
	body, bodyErr := readBody(w, r, s.cfg.MaxBodyBytes)
	req.Body = body

	service := ""
	if auth != nil {
		service = auth.Scope.Service
	}
	if service == "" {
		service = s.guessService(r, body)
	}
	req.Service = service
	h := s.handlers[service]
	if h == nil {
		if authErr != nil && (auth == nil || auth.Scope.Service == "") {
			// Neither a scope nor a guess: answer in the default's terms.
			return nil, apierr.Auth(apierr.FamilyOf(s.cfg.DefaultService), authErr)
		}
		return nil, core.Errorf(core.KindInvalid, apierr.CodeUnknownService,
			"privlink does not serve the service %q named in the credential scope; it serves %s", service, s.services)
	}
	family := apierr.FamilyOf(service)
	if bodyErr != nil {
		return h, bodyErr
	}
	if authErr != nil {
		return h, apierr.Auth(family, authErr)
	}
	req.Region = auth.Scope.Region

	key, caller, err := s.auth.LookupAccessKey(r.Context(), auth.AccessKey)
	if core.IsKind(err, core.KindUnauthenticated) {
		return h, apierr.Auth(family, &sigv4.Error{Reason: sigv4.UnknownKey, Message: "unknown access key " + auth.AccessKey})
	}
	if err != nil {
		return h, fmt.Errorf("look up access key %s: %w", auth.AccessKey, err)
	}
	if err := sigv4.Verify(r, body, auth, key.Secret, s.cfg.Now()); err != nil {
		return h, apierr.Auth(family, err)
	}
	req.Caller = caller
	return h, nil
}

// serve runs the handler. A panic becomes an internal error: a safety net
// for a bug, so that one bad request does not take the server down.
func (s *Server) serve(w *statusRecorder, h Handler, req *Request) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		s.log.Error("handler panic", "request_id", req.ID, "service", req.Service,
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if !w.wrote {
			h.WriteError(w, req.ID, fmt.Errorf("handler panic: %v", p))
		}
	}()
	h.Handle(w, req)
}

// readBody reads the whole body, up to limit bytes. The request's Body is
// replaced by a reader over the bytes, for handlers that parse it again.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, core.Errorf(core.KindInvalid, apierr.CodeTooLarge,
			"The request body is larger than the limit of %d bytes", limit)
	case err != nil:
		return nil, core.Errorf(core.KindInvalid, "MalformedHttpRequest", "The request body could not be read")
	}
	return body, nil
}

// guessService routes a request that has no credential scope: by
// X-Amz-Target, else by the Version parameter, else to the default.
func (s *Server) guessService(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, _, _ := strings.Cut(t, ".")
		if svc, ok := s.cfg.Targets[prefix]; ok {
			return svc
		}
	}
	version := r.URL.Query().Get("Version")
	if version == "" && isForm(r) {
		if form, err := url.ParseQuery(string(body)); err == nil {
			version = form.Get("Version")
		}
	}
	if svc, ok := s.cfg.APIVersions[version]; ok {
		return svc
	}
	return s.cfg.DefaultService
}

// writeUnrouted answers a request that has no handler, in the default
// service's format when there is one.
func (s *Server) writeUnrouted(w http.ResponseWriter, id string, err error) {
	if h := s.handlers[s.cfg.DefaultService]; h != nil {
		h.WriteError(w, id, err)
		return
	}
	wire := apierr.Resolve(s.log, id, apierr.FamilyOf(s.cfg.DefaultService), err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(wire.Status)
	fmt.Fprintf(w, "%s: %s\n", wire.Code, wire.Message)
}

// isHealthProbe reports an unsigned "GET /" with no query.
func isHealthProbe(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.URL.Path == "/" && r.URL.RawQuery == "" && r.Header.Get("Authorization") == ""
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

func (s *Server) logRequest(r *http.Request, req *Request, status int, d time.Duration) {
	ctx := r.Context()
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "request",
		slog.String("request_id", req.ID),
		slog.String("service", req.Service),
		slog.String("action", action(r, req.Body)),
		slog.String("account", req.Caller.AccountID),
		slog.Int("status", status),
		slog.Duration("duration", d))
}

// action names the operation for the log: the X-Amz-Target's operation, or
// the Action parameter of Query protocols.
func action(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, op, _ := strings.Cut(t, ".")
		return op
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if isForm(r) {
		form, _ := url.ParseQuery(string(body))
		return form.Get("Action")
	}
	return ""
}

// newRequestID returns a random UUID (version 4), the form of AWS's
// request IDs.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// statusRecorder remembers the status a handler wrote, for the log and for
// knowing whether an error can still be written after a panic.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}
