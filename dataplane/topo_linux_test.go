package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/privlink/privlink/netns"
)

// requireRoot fails (not skips) without root: CI runs as root, and a lab
// test that skips there would pass without testing anything.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Fatal("this test needs root (network namespaces)")
	}
}

// Addresses of the test topology. Both VPCs use 10.0.0.0/16 on purpose, and
// the consumer's client has the same address as provider target A: if a
// consumer address ever leaked into the provider VPC, A would see itself.
var (
	eniAddr    = netip.MustParseAddr("10.0.1.100") // endpoint ENI, consumer router lo
	clientAddr = netip.MustParseAddr("10.0.1.10")  // consumer instance
	nodeA      = netip.MustParseAddr("10.0.1.5")   // LB node in us-east-1a, provider router lo
	nodeB      = netip.MustParseAddr("10.0.2.5")   // LB node in us-east-1b, provider router lo
	targetA    = netip.MustParseAddr("10.0.1.10")  // provider instance "ta"
	targetB    = netip.MustParseAddr("10.0.1.11")  // provider instance "tb"
	directAddr = netip.MustParseAddr("10.0.1.30")  // provider instance "pc", the direct-path client
)

// Ports the target instances serve.
const (
	identPort  = 22   // says who it is and whom it sees, counts what it reads
	echoPort   = 7    // echoes
	healthPort = 8080 // only on target A
	closedPort = 23   // nothing listens
)

// topo is a two-VPC lab: consumer and provider router namespaces, a client
// instance in the consumer VPC, targets A and B and a direct-path client in
// the provider VPC. Every namespace is named <prefix><pid>-<test>-<role>
// (prefix pltdp unless a test names its own) and removed in t.Cleanup.
type topo struct {
	tb       testing.TB
	prefix   string
	consumer string // router namespace names
	provider string
	client   *netns.NS // consumer instance
	direct   *netns.NS // provider instance for baselines
}

func newTopo(tb testing.TB) *topo { return newTopoPrefix(tb, "pltdp") }

// newTopoPrefix is newTopo with namespaces named after prefix.
func newTopoPrefix(tb testing.TB, prefix string) *topo {
	requireRoot(tb)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, tb.Name())
	sweepStale(tb, prefix)
	tp := &topo{tb: tb, prefix: fmt.Sprintf("%s%d-%s", prefix, os.Getpid(), name)}
	tp.consumer = tp.router("cr", eniAddr)
	tp.provider = tp.router("pr", nodeA, nodeB)
	tp.client = tp.instance(tp.consumer, "cl", clientAddr)
	tp.direct = tp.instance(tp.provider, "pc", directAddr)
	ta := tp.instance(tp.provider, "ta", targetA)
	tb2 := tp.instance(tp.provider, "tb", targetB)
	serve(tb, ta, netip.AddrPortFrom(targetA, identPort), identHandler("ta"))
	serve(tb, ta, netip.AddrPortFrom(targetA, echoPort), echoHandler)
	serve(tb, ta, netip.AddrPortFrom(targetA, healthPort), func(c *net.TCPConn) { c.Close() })
	serve(tb, tb2, netip.AddrPortFrom(targetB, identPort), identHandler("tb"))
	serve(tb, tb2, netip.AddrPortFrom(targetB, echoPort), echoHandler)
	return tp
}

// sweepStale removes namespaces left by test processes that were killed
// before their cleanup ran (a go test timeout, say).
func sweepStale(tb testing.TB, prefix string) {
	names, err := netns.List()
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range names {
		var pid int
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		if _, err := fmt.Sscanf(rest, "%d-", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = netns.Delete(n)
		}
	}
}

func (tp *topo) run(args ...string) {
	tp.tb.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		tp.tb.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// netns creates a namespace with lo up and removes it in cleanup.
func (tp *topo) netns(role string) string {
	tp.tb.Helper()
	name := tp.prefix + "-" + role
	tp.run("ip", "netns", "add", name)
	tp.tb.Cleanup(func() { _ = netns.Delete(name) })
	tp.run("ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// router makes a VPC router namespace: gateway 10.0.1.1 and extra (ENI)
// addresses on lo, forwarding on.
func (tp *topo) router(role string, addrs ...netip.Addr) string {
	tp.tb.Helper()
	name := tp.netns(role)
	tp.run("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	for _, a := range append([]netip.Addr{netip.MustParseAddr("10.0.1.1")}, addrs...) {
		tp.run("ip", "-n", name, "addr", "add", a.String()+"/32", "dev", "lo")
	}
	return name
}

// instance makes an instance namespace with eth0 at addr/24, its peer in
// the router with proxy ARP and a /32 route, the way the lab wires them.
func (tp *topo) instance(router, role string, addr netip.Addr) *netns.NS {
	tp.tb.Helper()
	name := tp.netns(role)
	peer := "v" + role
	tp.run("ip", "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", router)
	tp.run("ip", "-n", name, "addr", "add", addr.String()+"/24", "dev", "eth0")
	tp.run("ip", "-n", name, "link", "set", "eth0", "up")
	tp.run("ip", "-n", name, "route", "add", "default", "via", "10.0.1.1")
	tp.run("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.conf."+peer+".proxy_arp=1")
	tp.run("ip", "-n", router, "link", "set", peer, "up")
	tp.run("ip", "-n", router, "route", "add", addr.String()+"/32", "dev", peer)
	ns, err := netns.Open(name)
	if err != nil {
		tp.tb.Fatal(err)
	}
	tp.tb.Cleanup(func() { ns.Close() })
	return ns
}

// serve runs a TCP server in ns until cleanup, which closes its listener
// and connections and waits for its goroutines.
func serve(tb testing.TB, ns *netns.NS, addr netip.AddrPort, handle func(*net.TCPConn)) {
	tb.Helper()
	ln, err := ns.ListenTCP(addr)
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards conns
		conns = map[*net.TCPConn]bool{}
	)
	wg.Go(func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				handle(c)
			})
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// identHandler writes "<name> <peer ip>\n", reads to EOF and then writes
// "bytes=<n>\n": a target that answers after the client half-closes.
func identHandler(name string) func(*net.TCPConn) {
	return func(c *net.TCPConn) {
		peer := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		if _, err := fmt.Fprintf(c, "%s %s\n", name, peer); err != nil {
			return
		}
		n, err := io.Copy(io.Discard, c)
		if err != nil {
			return
		}
		fmt.Fprintf(c, "bytes=%d\n", n)
	}
}

func echoHandler(c *net.TCPConn) {
	if _, err := io.Copy(c, c); err == nil {
		c.CloseWrite()
	}
}

// dial connects from ns to addr.
func dial(tb testing.TB, ns *netns.NS, addr netip.AddrPort) *net.TCPConn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ns.DialTCP(ctx, netip.Addr{}, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a hang guard, not an assertion
	return c
}

// identify reads the ident line: which target answered and whom it saw.
func identify(tb testing.TB, c *net.TCPConn) (target, peer string) {
	tb.Helper()
	// Byte by byte, so nothing after the line is consumed.
	var line []byte
	for len(line) == 0 || line[len(line)-1] != '\n' {
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			tb.Fatalf("reading ident through %s: %v (got %q)", c.RemoteAddr(), err, line)
		}
		line = append(line, b[0])
	}
	target, peer, _ = strings.Cut(strings.TrimSpace(string(line)), " ")
	return target, peer
}
