package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// bin is the privlink binary built once for the package.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "privlink-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "privlink")
	build := exec.Command("go", "build", "-o", bin, "github.com/privlink/privlink/cmd/privlink")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build privlink:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `privlink server` process.
type server struct {
	t       *testing.T
	dataDir string
	addr    string
	args    []string // server flags beyond --listen and --data-dir
	cmd     *exec.Cmd
	log     *bytes.Buffer
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("end-to-end tests need root: the lab builds network namespaces")
	}
}

// startServer starts privlink on a free loopback port with a fresh data dir
// and removes its lab when the test ends.
func startServer(t *testing.T) *server { return startServerWith(t, "") }

// startServerWith is startServer with extra server flags and, unless prefix
// is empty, a data dir named prefix… (so a test's lab is told apart from
// other tests' at a glance).
func startServerWith(t *testing.T, prefix string, args ...string) *server {
	t.Helper()
	requireRoot(t)
	dir := t.TempDir()
	if prefix != "" {
		var err error
		if dir, err = os.MkdirTemp("", prefix); err != nil {
			t.Fatal(err)
		}
	}
	s := &server{t: t, dataDir: dir, addr: freeAddr(t, "tcp"), args: args}
	t.Cleanup(func() {
		s.stop(syscall.SIGTERM)
		out, err := exec.Command(bin, "lab", "clean", "--data-dir", s.dataDir).CombinedOutput()
		if err != nil {
			t.Errorf("lab clean: %v: %s", err, out)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
		if prefix != "" {
			os.RemoveAll(dir)
		}
	})
	s.start()
	return s
}

// freeAddr is a loopback address with a port free for network (tcp or
// udp) at the time of the call.
func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *server) start() {
	s.t.Helper()
	if s.log == nil {
		s.log = &bytes.Buffer{}
	}
	s.cmd = exec.Command(bin, append([]string{"server", "--listen", s.addr, "--data-dir", s.dataDir}, s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url() + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("server did not start: %v\n%s", err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server with sig and waits for it.
func (s *server) stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *server) url() string { return "http://" + s.addr }

// account is a set of credentials on a server.
type account struct{ ID, Key, Secret string }

var bootstrap = account{ID: "000000000000", Key: "test", Secret: "test"}

// createAccount runs `privlink accounts create` as the bootstrap account.
func (s *server) createAccount() account {
	s.t.Helper()
	cmd := exec.Command(bin, "accounts", "create", "--endpoint-url", s.url())
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("accounts create: %v", err)
	}
	var a struct{ AccountId, AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(out, &a); err != nil {
		s.t.Fatalf("accounts create printed %q: %v", out, err)
	}
	return account{ID: a.AccountId, Key: a.AccessKeyId, Secret: a.SecretAccessKey}
}

func (s *server) config(a account) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(a.Key, a.Secret, ""),
		BaseEndpoint:     aws.String(s.url()),
		RetryMaxAttempts: 3,
	}
}

func (s *server) ec2(a account) *ec2.Client { return ec2.NewFromConfig(s.config(a)) }
func (s *server) elb(a account) *elb.Client { return elb.NewFromConfig(s.config(a)) }

// exec runs a command inside an instance with `privlink exec` and returns its
// stdout, stderr and exit status.
func (s *server) exec(a account, instanceID string, args ...string) (stdout, stderr string, status int) {
	s.t.Helper()
	cmd := exec.Command(bin, append([]string{"exec", "--endpoint-url", s.url(), instanceID, "--"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+a.Key, "AWS_SECRET_ACCESS_KEY="+a.Secret)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("privlink exec: %v", err)
	}
	return strings.TrimSpace(out.String()), errb.String(), 0
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// eventually polls cond until it holds; the deadline only guards against
// hangs.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func execCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
