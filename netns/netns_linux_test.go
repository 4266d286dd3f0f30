package netns

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"
)

// requireRoot fails (not skips) without root: CI runs as root, and a lab test
// that skips there would pass without testing anything.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (network namespaces)")
	}
}

func testName(t *testing.T) string { return fmt.Sprintf("plt%d-netns", os.Getpid()) }

func TestListenDialInNamespace(t *testing.T) {
	requireRoot(t)
	name := testName(t)
	ns, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close(); _ = Delete(name) })
	if !Exists(name) {
		t.Fatal("namespace not listed after Create")
	}
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "-n", name, "addr", "add", "10.9.9.9/32", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("addr: %v: %s", err, out)
	}
	// A new namespace has received nothing, whatever the host has.
	if n, err := ns.TCPSegmentsIn(); err != nil || n != 0 {
		t.Fatalf("TCP segments in a new namespace: %d, %v; want 0", n, err)
	}
	l, err := ns.ListenTCP(netip.MustParseAddrPort("10.9.9.9:7000"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		fmt.Fprintf(c, "peer=%s", c.RemoteAddr())
		c.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ns.DialTCP(ctx, netip.MustParseAddr("10.9.9.9"), netip.MustParseAddrPort("10.9.9.9:7000"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if got := string(b); len(got) < 14 || got[:14] != "peer=10.9.9.9:" {
		t.Fatalf("server saw %q, want peer=10.9.9.9:…", got)
	}
	// A handshake, data and a close each way: at least 6 segments.
	if n, err := ns.TCPSegmentsIn(); err != nil || n < 6 {
		t.Fatalf("TCP segments in after a connection: %d, %v; want at least 6", n, err)
	}

	// A refused connection fails fast with an error, not a hang.
	if _, err := ns.DialTCP(ctx, netip.Addr{}, netip.MustParseAddrPort("10.9.9.9:7001")); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
}
