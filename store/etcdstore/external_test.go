package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/storetest"
)

// etcdBinary finds the etcd server binary (Debian's etcd-server package,
// which scripts/test installs). A missing binary fails the test: a skip
// would pass without testing the external-cluster mode.
func etcdBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("etcd")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/etcd"); serr == nil {
			return "/usr/bin/etcd"
		}
		t.Fatalf("etcd binary not found (install package etcd-server, as scripts/test does): %v", err)
	}
	return path
}

// startEtcd starts an etcd server on free loopback ports with a temp data
// dir, stops it when t ends, and returns its client URL.
func startEtcd(t *testing.T) string {
	t.Helper()
	bin := etcdBinary(t)
	var err error
	// A free port can be taken between finding it and etcd binding it, so
	// a failed start is tried again on other ports.
	for range 5 {
		var ep string
		if ep, err = tryStartEtcd(t, bin); err == nil {
			return ep
		}
		t.Logf("etcd did not start: %v", err)
	}
	t.Fatalf("etcd did not start: %v", err)
	return ""
}

func tryStartEtcd(t *testing.T, bin string) (string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return "", err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	dir := t.TempDir()
	logPath := filepath.Join(dir, "etcd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd := exec.Command(bin,
		"--name", "test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "test="+peer,
		"--heartbeat-interval", "10", "--election-timeout", "50",
		"--logger", "zap", "--log-level", "warn",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}

	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("etcd exited: %s\n%s", cmd.ProcessState, out)
		default:
		}
		if resp, err := hc.Get(client + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return client, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", errors.New("etcd not healthy after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePorts returns n loopback TCP ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// openExternal opens a store on the cluster at ep.
func openExternal(t *testing.T, ep, prefix string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{Endpoints: []string{ep}, Prefix: prefix, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open(%s): %v", ep, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestExternalConformance runs the suite against Debian's etcd 3.4 server,
// one server per store: compaction is cluster-wide, so stores that shared
// a server would compact each other's history.
func TestExternalConformance(t *testing.T) {
	const prefix = "/privlink-test/"
	storetest.Run(t, storetest.Harness{
		New:     func(t *testing.T) store.Store { return openExternal(t, startEtcd(t), prefix) },
		Compact: compact,
		NewPair: func(t *testing.T) (store.Store, store.Store) {
			ep := startEtcd(t)
			return openExternal(t, ep, prefix), openExternal(t, ep, prefix)
		},
	})
}

// TestExternalLayout checks where the data goes in etcd: under the prefix,
// the sequence key outside the data range, and other prefixes untouched.
func TestExternalLayout(t *testing.T) {
	ep := startEtcd(t)
	ctx := context.Background()
	one, two := openExternal(t, ep, "/one/"), openExternal(t, ep, "/two/")
	for _, s := range []*Store{one, two} {
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(s.dataPfx)) }); err != nil {
			t.Fatal(err)
		}
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second, Logger: newZapLogger(testLogger(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Get(ctx, "", clientv3.WithFromKey(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	if want := []string{"/one/d/k", "/one/seq", "/two/d/k", "/two/seq"}; !slices.Equal(keys, want) {
		t.Fatalf("etcd keys = %q, want %q", keys, want)
	}
	kvs, _, err := one.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 1 || kvs[0].Key != "k" || string(kvs[0].Value) != "/one/d/" {
		t.Fatalf(`List("") under /one/ = %+v, want only k`, kvs)
	}
}

// TestExternalUnreachable checks that Open gives up on a cluster that does
// not answer, within DialTimeout.
func TestExternalUnreachable(t *testing.T) {
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), Config{
		Endpoints:   []string{"127.0.0.1:" + strconv.Itoa(ports[0])},
		DialTimeout: 200 * time.Millisecond,
		Logger:      testLogger(t),
	})
	if err == nil {
		s.Close()
		t.Fatal("Open of a cluster nobody serves succeeded")
	}
}
