package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/privlink/privlink/api/query/querytest"
)

// env is what every section shares: the binaries and the servers started.
type env struct {
	log   *slog.Logger
	quick bool
	bin   string // the privlink binary
	self  string // this program, for workers inside instances
	tmp   string
	// profiles: where servers write CPU profiles (empty: none).
	profiles string
	// labFabric is the --lab-fabric of servers with a lab (empty: the
	// server's default).
	labFabric string

	servers []*server
}

func newEnv(ctx context.Context, log *slog.Logger, bin string, quick bool, profiles string) (*env, error) {
	tmp, err := os.MkdirTemp("", "privlink-bench")
	if err != nil {
		return nil, err
	}
	e := &env{log: log, quick: quick, bin: bin, tmp: tmp, profiles: profiles}
	if e.bin == "" {
		e.bin = filepath.Join(tmp, "privlink")
		log.Info("building privlink", "out", e.bin)
		build := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "github.com/privlink/privlink/cmd/privlink")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("build privlink: %w", err)
		}
	}
	if e.self, err = os.Executable(); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return e, nil
}

// close stops every server, removes their labs and the temporary files.
func (e *env) close() {
	for _, s := range e.servers {
		s.stop()
	}
	os.RemoveAll(e.tmp)
}

// server is a running `privlink server`.
type server struct {
	e       *env
	url     string
	dataDir string
	cmd     *exec.Cmd
	log     *bytes.Buffer

	mu     sync.Mutex         // guards owners
	owners map[string]account // instance → the account `privlink exec` signs as (bootstrap if absent)
}

// account is a set of credentials on a server.
type account struct{ ID, Key, Secret string }

var bootstrap = account{ID: "000000000000", Key: "test", Secret: "test"}

// startServer starts privlink on a free loopback port with a fresh data dir.
// extra are more server flags (e.g. --no-lab).
func (e *env) startServer(ctx context.Context, extra ...string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp(e.tmp, "data")
	if err != nil {
		return nil, err
	}
	s := &server{e: e, url: "http://" + addr, dataDir: dir, log: &bytes.Buffer{}}
	if e.profiles != "" {
		if err := os.MkdirAll(e.profiles, 0o755); err != nil {
			return nil, err
		}
		prof := filepath.Join(e.profiles, fmt.Sprintf("server-%d.prof", len(e.servers)+1))
		extra = append(slices.Clip(extra), "--cpuprofile", prof, "--memprofile", strings.TrimSuffix(prof, ".prof")+".heap")
		e.log.Info("profiling the server", "profile", prof, "args", extra)
	}
	if e.labFabric != "" && !slices.Contains(extra, "--no-lab") {
		extra = append(slices.Clip(extra), "--lab-fabric", e.labFabric)
	}
	s.cmd = exec.Command(e.bin, append([]string{"server", "--listen", addr, "--data-dir", dir, "--log-level", "warn"}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	e.servers = append(e.servers, s)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.url + "/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("server did not start: %v\n%s", err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid is the server's process ID, for its memory and CPU figures.
func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
	if out, err := exec.Command(s.e.bin, "lab", "clean", "--data-dir", s.dataDir).CombinedOutput(); err != nil {
		s.e.log.Error("lab clean", "err", err, "out", string(out))
	}
}

// config is an SDK configuration signing as a.
func (s *server) config(a account) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(a.Key, a.Secret, ""),
		BaseEndpoint:     aws.String(s.url),
		RetryMaxAttempts: 1,
		// The Go SDK may close a request body while a fast local server
		// still answers (aws-sdk-go-v2#2737).
		HTTPClient: &http.Client{Transport: querytest.BufferBodies(&http.Transport{MaxIdleConnsPerHost: 64})},
	}
}

// createAccount runs `privlink accounts create`.
func (s *server) createAccount(ctx context.Context) (account, error) {
	cmd := exec.CommandContext(ctx, s.e.bin, "accounts", "create", "--endpoint-url", s.url)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	out, err := cmd.Output()
	if err != nil {
		return account{}, fmt.Errorf("accounts create: %w", err)
	}
	var a struct{ AccountId, AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(out, &a); err != nil {
		return account{}, fmt.Errorf("accounts create printed %q: %w", out, err)
	}
	return account{ID: a.AccountId, Key: a.AccessKeyId, Secret: a.SecretAccessKey}, nil
}

// own records that an instance belongs to a, so that commands run in it
// sign as a.
func (s *server) own(instance string, a account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owners == nil {
		s.owners = map[string]account{}
	}
	s.owners[instance] = a
}

// inInstance is a command that runs name inside a lab instance through
// `privlink exec`, which becomes the process itself (so its PID is the
// command's).
func (s *server) inInstance(ctx context.Context, instance string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.e.bin, append([]string{"exec", "--endpoint-url", s.url, instance, "--", name}, args...)...)
	s.mu.Lock()
	a, ok := s.owners[instance]
	s.mu.Unlock()
	if !ok {
		a = bootstrap
	}
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+a.Key, "AWS_SECRET_ACCESS_KEY="+a.Secret)
	return cmd
}

// output runs a command in an instance and returns its standard output.
func (s *server) output(ctx context.Context, instance string, name string, args ...string) ([]byte, error) {
	cmd := s.inInstance(ctx, instance, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), instance, err, stderr.Bytes())
	}
	return out, nil
}

// daemon is a long-running process inside an instance.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{} // closed when the process has exited
}

// start runs a command in an instance in the background.
func (s *server) start(instance string, name string, args ...string) (*daemon, error) {
	d := &daemon{name: name, out: &lockedBuffer{}, done: make(chan struct{})}
	d.cmd = s.inInstance(context.Background(), instance, name, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	return d, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// alive fails if the process has exited, with what it printed.
func (d *daemon) alive() error {
	select {
	case <-d.done:
		return fmt.Errorf("%s exited (%v): %s", d.name, d.cmd.ProcessState, d.out.String())
	default:
		return nil
	}
}

func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// lockedBuffer is a bytes.Buffer that a process writes while others read.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// retry calls fn until it succeeds or ctx's deadline (or 10 s) passes.
func retry(ctx context.Context, fn func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
