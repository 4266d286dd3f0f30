// Package querytest helps test Query protocol APIs against real AWS clients:
// an httptest server that records the forms clients send and answers with
// the codec, a filler that sets every field of a generated shape, and a
// converter between generated shapes and an SDK's structs of the same
// names. It imports no SDK, so tests choose which to pay for.
package querytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/api/query"
)

// Reply is what Server answers one request with.
type Reply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Body is sent as is when set; otherwise Output is encoded as the
	// operation's response.
	Body   []byte
	Output any
}

// Server is a Query API endpoint for client tests. Each request's form is
// recorded; it is answered by the reply set for its action, or by an
// empty output.
type Server struct {
	*httptest.Server
	lookup func(string) (query.Operation, bool)
	// RequestID is echoed in every response.
	RequestID string

	mu      sync.Mutex // guards forms and replies
	forms   []url.Values
	replies map[string]Reply
}

// NewServer starts a Server for the operations lookup knows. The caller
// closes it.
func NewServer(lookup func(string) (query.Operation, bool)) *Server {
	s := &Server{lookup: lookup, RequestID: "11111111-2222-3333-4444-555555555555", replies: map[string]Reply{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// HTTPClient returns a client for s whose transport reads each request body
// into memory first. The AWS SDK for Go v2 closes a request's body as soon
// as the response arrives, while net/http may still be reading it, and a
// server as fast as this one makes that race (aws-sdk-go-v2 issue 2737)
// kill the connection mid-response.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: BufferBodies(s.Client().Transport)}
}

// BufferBodies wraps a transport so that each request body is read into
// memory before it is sent: the SDK for Go v2 closes a body as soon as the
// response arrives, which against a fast local server can kill the
// connection mid-response (aws-sdk-go-v2 issue 2737).
func BufferBodies(next http.RoundTripper) http.RoundTripper { return bufferedBody{next} }

type bufferedBody struct{ next http.RoundTripper }

func (b bufferedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return b.next.RoundTrip(r)
}

// SetReply sets the answer to action.
func (s *Server) SetReply(action string, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[action] = r
}

// Forms returns the forms received so far, Action and Version included.
func (s *Server) Forms() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.forms...)
}

// LastForm returns the last form received, or nil.
func (s *Server) LastForm() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.forms) == 0 {
		return nil
	}
	return s.forms[len(s.forms)-1]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := form.Get("Action")
	s.mu.Lock()
	s.forms = append(s.forms, form)
	reply := s.replies[action]
	s.mu.Unlock()

	op, ok := s.lookup(action)
	if !ok {
		http.Error(w, "unknown action "+action, http.StatusBadRequest)
		return
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	out := reply.Body
	if out == nil {
		if out, err = op.MarshalResponse(s.RequestID, reply.Output); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

var (
	timestampType = reflect.TypeFor[query.Timestamp]()
	timeType      = reflect.TypeFor[time.Time]()
)

// Fill sets every field of the generated struct that v points to, down to
// depth levels of structures, with values derived from each field's path,
// so that a value misplaced on the wire shows. Lists and maps get two
// entries.
func Fill(v any, depth int) {
	fill(reflect.ValueOf(v).Elem(), reflect.TypeOf(v).Elem().Name(), depth)
}

func fill(v reflect.Value, path string, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem() != timestampType && depth <= 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path, depth)
	case reflect.Struct:
		if v.Type() == timestampType {
			// Milliseconds: what the wire carries.
			v.Set(reflect.ValueOf(query.Timestamp{Time: time.UnixMilli(1700000000000 + int64(hash(path)%1e9)).UTC()}))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && f.Tag.Get("query") != "-" {
				fill(v.Field(i), path+"."+f.Name, depth-1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte("blob:" + path))
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := fmt.Sprintf("k%d", i)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, path+"."+k, depth)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(hash(path)%2 == 0)
	case reflect.Int32, reflect.Int64:
		v.SetInt(int64(hash(path) % 100000))
	case reflect.Float64:
		v.SetFloat(float64(hash(path)%1000) / 8)
	default:
		panic("querytest: cannot fill " + v.Type().String() + " at " + path)
	}
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// ToSDK copies ours, a generated struct, into sdk, a pointer to the SDK's
// struct of the same shape, matching fields by name. It fails when the SDK
// lacks a field that ours sets.
func ToSDK(ours, sdk any) error {
	return convert(reflect.ValueOf(ours).Elem(), reflect.ValueOf(sdk).Elem(), true, reflect.TypeOf(ours).Elem().Name())
}

// FromSDK copies sdk, a pointer to an SDK struct, into ours, a pointer to
// the generated struct of the same shape. SDK fields that ours lacks are
// ignored; generated fields that the SDK lacks are an error.
func FromSDK(sdk, ours any) error {
	return convert(reflect.ValueOf(ours).Elem(), reflect.ValueOf(sdk).Elem(), false, reflect.TypeOf(ours).Elem().Name())
}

// convert copies between a generated value and an SDK value, in the
// direction toSDK says. SDK values may be pointers or plain values (enums,
// defaulted numbers), which count as absent when zero.
func convert(ours, sdk reflect.Value, toSDK bool, path string) error {
	if ours.Kind() == reflect.Pointer {
		if toSDK {
			if ours.IsNil() {
				return nil
			}
			if sdk.Kind() == reflect.Pointer {
				sdk.Set(reflect.New(sdk.Type().Elem()))
				sdk = sdk.Elem()
			}
			return convert(ours.Elem(), sdk, toSDK, path)
		}
		if sdk.Kind() == reflect.Pointer {
			if sdk.IsNil() {
				return nil
			}
			sdk = sdk.Elem()
		} else if sdk.IsZero() {
			return nil
		}
		ours.Set(reflect.New(ours.Type().Elem()))
		return convert(ours.Elem(), sdk, toSDK, path)
	}
	if sdk.Kind() == reflect.Pointer {
		if toSDK {
			sdk.Set(reflect.New(sdk.Type().Elem()))
		} else if sdk.IsNil() {
			return nil
		}
		sdk = sdk.Elem()
	}
	switch {
	case ours.Type() == timestampType:
		if sdk.Type() != timeType {
			return fmt.Errorf("%s: timestamp against %s", path, sdk.Type())
		}
		if toSDK {
			sdk.Set(reflect.ValueOf(ours.Interface().(query.Timestamp).Time))
		} else {
			ours.Set(reflect.ValueOf(query.Timestamp{Time: sdk.Interface().(time.Time)}))
		}
		return nil
	case ours.Kind() == reflect.Struct:
		if sdk.Kind() != reflect.Struct {
			return fmt.Errorf("%s: structure against %s", path, sdk.Type())
		}
		for i := range ours.NumField() {
			f := ours.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("query") == "-" {
				continue
			}
			sf := sdk.FieldByName(f.Name)
			if !sf.IsValid() {
				if toSDK && ours.Field(i).IsZero() {
					continue
				}
				return fmt.Errorf("%s.%s: the SDK's %s has no such field", path, f.Name, sdk.Type())
			}
			if err := convert(ours.Field(i), sf, toSDK, path+"."+f.Name); err != nil {
				return err
			}
		}
		return nil
	case ours.Kind() == reflect.Slice && ours.Type().Elem().Kind() == reflect.Uint8:
		if toSDK {
			sdk.SetBytes(append([]byte(nil), ours.Bytes()...))
		} else if !sdk.IsNil() {
			ours.SetBytes(append([]byte(nil), sdk.Bytes()...))
		}
		return nil
	case ours.Kind() == reflect.Slice:
		if sdk.Kind() != reflect.Slice {
			return fmt.Errorf("%s: list against %s", path, sdk.Type())
		}
		src, dst := ours, sdk
		if !toSDK {
			src, dst = sdk, ours
		}
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.MakeSlice(dst.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			if err := convert(ours.Index(i), sdk.Index(i), toSDK, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case ours.Kind() == reflect.Map:
		if sdk.Kind() != reflect.Map {
			return fmt.Errorf("%s: map against %s", path, sdk.Type())
		}
		src, dst := ours, sdk
		if !toSDK {
			src, dst = sdk, ours
		}
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.MakeMap(dst.Type()))
		for _, k := range src.MapKeys() {
			ov := reflect.New(ours.Type().Elem()).Elem()
			sv := reflect.New(sdk.Type().Elem()).Elem()
			if toSDK {
				ov.Set(ours.MapIndex(k))
			} else {
				sv.Set(sdk.MapIndex(k))
			}
			if err := convert(ov, sv, toSDK, path+"."+k.String()); err != nil {
				return err
			}
			if toSDK {
				sdk.SetMapIndex(k.Convert(sdk.Type().Key()), sv)
			} else {
				ours.SetMapIndex(k.Convert(ours.Type().Key()), ov)
			}
		}
		return nil
	}
	return scalar(ours, sdk, toSDK, path)
}

func scalar(ours, sdk reflect.Value, toSDK bool, path string) error {
	dst, src := ours, sdk
	if toSDK {
		dst, src = sdk, ours
	}
	switch {
	case dst.Kind() == reflect.String && src.Kind() == reflect.String:
		dst.SetString(src.String())
	case dst.Kind() == reflect.Bool && src.Kind() == reflect.Bool:
		dst.SetBool(src.Bool())
	case dst.CanInt() && src.CanInt():
		if dst.OverflowInt(src.Int()) {
			return fmt.Errorf("%s: %d overflows %s", path, src.Int(), dst.Type())
		}
		dst.SetInt(src.Int())
	case dst.CanFloat() && src.CanFloat():
		dst.SetFloat(src.Float())
	default:
		return fmt.Errorf("%s: cannot convert %s to %s", path, src.Type(), dst.Type())
	}
	return nil
}

// Diff returns the parameters on which two forms differ, one line each, or
// "" when they are equal.
func Diff(got, want url.Values) string {
	var b strings.Builder
	for k, v := range want {
		if g, ok := got[k]; !ok {
			fmt.Fprintf(&b, "missing %s=%q\n", k, v)
		} else if !reflect.DeepEqual(g, v) {
			fmt.Fprintf(&b, "%s=%q, want %q\n", k, g, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "extra %s=%q\n", k, v)
		}
	}
	return b.String()
}

// Call invokes the method named op on an SDK client, as
// client.Op(ctx, in), and returns its output and error.
func Call(ctx context.Context, client any, op string, in any) (any, error) {
	m := reflect.ValueOf(client).MethodByName(op)
	if !m.IsValid() {
		return nil, fmt.Errorf("%T has no method %s", client, op)
	}
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(in)})
	err, _ := res[1].Interface().(error)
	return res[0].Interface(), err
}

// NewSDKInput returns a pointer to a new input struct for the SDK client's
// method op.
func NewSDKInput(client any, op string) any {
	m := reflect.ValueOf(client).MethodByName(op)
	return reflect.New(m.Type().In(1).Elem()).Interface()
}

// SameShape fails t unless got and want, generated structs, hold the same
// values. It compares their wire forms, which also names what differs.
func SameShape(t testing.TB, got, want any) {
	t.Helper()
	g, err := query.EncodeForm(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := query.EncodeForm(want)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(g, w); d != "" {
		t.Errorf("shapes differ:\n%s", d)
	}
}

// Golden compares got with the file at path, after rewriting the file when
// update is set.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (check, then run go test -update):\n%s", path, got)
	}
}

// RequestSnapshot returns the form of the request snapshot that an AWS SDK
// for Go v2 service module ships for op (request_snapshot/<op>.request.snap:
// request line, headers, a blank line, the body). The module is found
// through go list, as go.mod pins it.
func RequestSnapshot(t testing.TB, module, op string) url.Values {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", module, err)
	}
	path := filepath.Join(strings.TrimSpace(string(dir)), "request_snapshot", op+".request.snap")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSpace(string(b))
	body := text[strings.LastIndex(text, "\n")+1:]
	form, err := url.ParseQuery(body)
	if err != nil || form.Get("Action") != op {
		t.Fatalf("%s: no form body for %s in %q (%v)", path, op, text, err)
	}
	return form
}

// CheckSnapshot decodes a snapshot's form with op and fails t unless the
// only problems are exactly the unknown parameters listed, and everything
// else re-encodes to exactly what was sent.
func CheckSnapshot(t testing.TB, op query.Operation, form url.Values, unknown []string) {
	t.Helper()
	if got := form.Get("Version"); got != op.Version {
		t.Errorf("Version = %q, want %q", got, op.Version)
	}
	in, err := op.DecodeInput(form)
	var got []string
	if err != nil {
		var errs query.DecodeErrors
		if !errors.As(err, &errs) {
			t.Fatal(err)
		}
		for _, e := range errs {
			if e.Kind != query.UnknownParameter {
				t.Errorf("unexpected decode error: %v", e)
				continue
			}
			got = append(got, e.Param)
		}
	}
	want := slices.Sorted(slices.Values(unknown))
	if !slices.Equal(got, want) {
		t.Errorf("unknown parameters = %q, want %q", got, want)
	}
	back, err := query.EncodeForm(in)
	if err != nil {
		t.Fatal(err)
	}
	sent := url.Values{}
	for k, v := range form {
		if k != "Action" && k != "Version" && !slices.Contains(got, k) {
			sent[k] = v
		}
	}
	if d := Diff(back, sent); d != "" {
		t.Errorf("re-encoded request differs from what was sent:\n%s", d)
	}
}

// CLI is an installed AWS CLI.
type CLI struct {
	// Name is "v1" or "v2".
	Name string
	Path string
}

// AWSCLIs returns the AWS CLIs to test with: the v2 at /usr/bin/aws
// (Debian's awscli, which the test command installs), which must be there,
// and a v1 as `aws` on PATH when one is installed. Debian packages no v1,
// so a machine without one runs the v2 checks only and says so in the log.
func AWSCLIs(t testing.TB) []CLI {
	t.Helper()
	version := func(path string) string {
		out, _ := exec.Command(path, "--version").CombinedOutput()
		return string(out)
	}
	const v2 = "/usr/bin/aws"
	if !strings.HasPrefix(version(v2), "aws-cli/2.") {
		t.Fatalf("%s is not the AWS CLI v2 (%q): install Debian's awscli", v2, version(v2))
	}
	clis := []CLI{{Name: "v2", Path: v2}}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "aws")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && strings.HasPrefix(version(p), "aws-cli/1.") {
			return append(clis, CLI{Name: "v1", Path: p})
		}
	}
	t.Log("no AWS CLI v1 on PATH: the v1 checks do not run on this machine")
	return clis
}

// Run runs the CLI against endpoint with throwaway credentials; see RunAs.
func (c CLI) Run(ctx context.Context, t testing.TB, endpoint string, args ...string) ([]byte, error) {
	return c.RunAs(ctx, t, endpoint, "AKIDEXAMPLE", "secret", args...)
}

// RunAs runs the CLI against endpoint with the credentials and no
// configuration, retries or pager (JSON output, region us-east-1), and
// returns its standard output. A failed run's error carries its standard
// error, where the CLI prints the AWS error code.
func (c CLI) RunAs(ctx context.Context, t testing.TB, endpoint, key, secret string, args ...string) ([]byte, error) {
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, c.Path, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("aws %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
