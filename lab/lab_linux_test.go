package lab

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/privlink/privlink/netns"
)

func instID(n int) string { return fmt.Sprintf("i-%017x", n) }

var (
	vpcA, vpcB     = "vpc-0000000000000000a", "vpc-0000000000000000b"
	a1, a2, a3, a4 = instID(0xa1), instID(0xa2), instID(0xa3), instID(0xa4)
	b1, b2, b3     = instID(0xb1), instID(0xb2), instID(0xb3)
)

// labSpec is two VPCs with the same CIDR. In A: a web server a1, clients
// a2 (subnet 1) and a3 (subnet 2), a client a4 whose egress only reaches
// TCP 8080, an interface endpoint at 10.0.1.100 and a load balancer node at
// 10.0.2.200. In B: open instances b1 (at a1's address) and b2.
func labSpec(out string, withA3 bool) Spec {
	ip := netip.MustParseAddr
	inst := func(id, addr, gw string, groups ...string) (Instance, Interface) {
		p := netip.MustParsePrefix(addr)
		return Instance{ID: id, Addr: p, Gateway: ip(gw)},
			Interface{Addr: p.Addr(), Kind: KindInstance, Groups: groups}
	}
	a := VPC{
		ID: vpcA, CIDR: netip.MustParsePrefix("10.0.0.0/16"), Resolver: ip("10.0.0.2"),
		RouterAddrs: addrs("10.0.1.1", "10.0.2.1"),
		LocalAddrs:  addrs("10.0.1.100", "10.0.2.200"),
		Firewall: Firewall{Groups: map[string]Group{
			"sg-web": {
				Ingress: []Rule{
					{Protocol: "tcp", FromPort: 80, ToPort: 80, Sources: pfx("10.0.1.11", "10.0.2.10")}, // sg-client's members
					{Protocol: "tcp", FromPort: 7000, ToPort: 8081, Sources: pfx("10.0.0.0/16")},
					{Protocol: "tcp", FromPort: 9000, ToPort: 9000, Sources: pfx("10.0.2.200")},
				},
				Egress: []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}},
			},
			"sg-client": {Egress: []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}}},
			"sg-narrow": {Egress: []Rule{{Protocol: "tcp", FromPort: 8080, ToPort: 8080, Sources: pfx("10.0.0.0/16")}}},
			"sg-endpoint": {Ingress: []Rule{
				{Protocol: "tcp", FromPort: 443, ToPort: 443, Sources: pfx("10.0.1.11", "10.0.1.12")},
				{Protocol: "tcp", FromPort: 8080, ToPort: 8080, Sources: pfx("10.0.1.12")},
			}},
		}},
	}
	for _, x := range []struct{ id, addr, gw, group string }{
		{a1, "10.0.1.10/24", "10.0.1.1", "sg-web"},
		{a2, "10.0.1.11/24", "10.0.1.1", "sg-client"},
		{a3, "10.0.2.10/24", "10.0.2.1", "sg-client"},
		{a4, "10.0.1.12/24", "10.0.1.1", "sg-narrow"},
	} {
		if x.id == a3 && !withA3 {
			continue
		}
		in, itf := inst(x.id, x.addr, x.gw, x.group)
		if x.id == a1 {
			in.UserData = []byte("#!/bin/sh\n" +
				"echo user data says hello\n" +
				"echo ran >> " + filepath.Join(out, "a1-ran") + "\n" +
				"cat /etc/resolv.conf > " + filepath.Join(out, "a1-resolv") + "\n" +
				"nc -lk 10.0.1.10 7777 </dev/null >/dev/null 2>&1 &\n")
		}
		a.Instances = append(a.Instances, in)
		a.Firewall.Interfaces = append(a.Firewall.Interfaces, itf)
	}
	a.Firewall.Interfaces = append(a.Firewall.Interfaces,
		Interface{Addr: ip("10.0.1.100"), Kind: KindEndpoint, Groups: []string{"sg-endpoint"}},
		Interface{Addr: ip("10.0.2.200"), Kind: KindLoadBalancer},
	)

	b := VPC{
		ID: vpcB, CIDR: netip.MustParsePrefix("10.0.0.0/16"),
		RouterAddrs: addrs("10.0.1.1", "10.0.3.1"),
		Firewall: Firewall{Groups: map[string]Group{"sg-open": {
			Ingress: []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}},
			Egress:  []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}},
		}}},
	}
	for _, x := range []struct{ id, addr, gw string }{
		{b1, "10.0.1.10/24", "10.0.1.1"},
		{b2, "10.0.3.10/24", "10.0.3.1"},
	} {
		in, itf := inst(x.id, x.addr, x.gw, "sg-open")
		if x.id == b1 {
			// No #! line: run by /bin/sh.
			in.UserData = []byte("echo b1 ran >> " + filepath.Join(out, "b1-ran") + "\n")
		}
		b.Instances = append(b.Instances, in)
		b.Firewall.Interfaces = append(b.Firewall.Interfaces, itf)
	}
	return Spec{VPCs: []VPC{a, b}}
}

// TestLab runs against both fabrics: what a user sees of VPCs, instances
// and security groups must not depend on how the lab builds them.
func TestLab(t *testing.T) {
	forEachFabric(t, testLab)
}

func testLab(t *testing.T, fabric Fabric) {
	prefix := testPrefix(t) + string(fabric[0])
	out := t.TempDir()
	cfg := Config{
		Prefix:   prefix,
		StateDir: filepath.Join(t.TempDir(), "lab"),
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Fabric:   fabric,
	}
	t.Cleanup(func() {
		if err := Clean(cfg.Prefix); err != nil {
			t.Error(err)
		}
	})
	// A namespace of another prefix: nothing here may touch it.
	decoy := fmt.Sprintf("plt-decoy%d-vpc-0000000000000000a", os.Getpid())
	testNS(t, decoy)

	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, l, labSpec(out, true))

	routerA, routerB := l.RouterNamespace(vpcA), l.RouterNamespace(vpcB)
	listen(t, l.InstanceNamespace(a1), "a1", "10.0.1.10:80", "10.0.1.10:8080", "10.0.1.10:8081", "10.0.1.10:9000")
	listen(t, l.InstanceNamespace(a2), "a2", "10.0.1.11:80")
	listen(t, l.InstanceNamespace(b1), "b1", "10.0.1.10:80")
	listen(t, l.InstanceNamespace(b2), "b2", "10.0.3.10:80")
	// The endpoint's listeners are where the lab says: in the shared
	// fabric, at the interface's own address, which the NAT translates to.
	for _, port := range []uint16{443, 8080} {
		name, at, ok := l.EndpointSocket(vpcA, netip.AddrPortFrom(netip.MustParseAddr("10.0.1.100"), port))
		if !ok {
			t.Fatalf("the lab says no socket for 10.0.1.100:%d", port)
		}
		listen(t, name, "ep", at.String())
	}
	listen(t, routerA, "lb", "10.0.2.200:7000")
	listen(t, routerA, "gw", "10.0.1.1:5353")

	// User data runs in the background; wait for its listener.
	waitFor(t, "a1's user data listener", func() bool {
		return dial(t, l.InstanceNamespace(a2), "", "10.0.1.10:7777").result == ok
	})
	waitFor(t, "b1's user data", func() bool { return lines(t, filepath.Join(out, "b1-ran")) == 1 })

	t.Run("user data", func(t *testing.T) {
		if n := lines(t, filepath.Join(out, "a1-ran")); n != 1 {
			t.Errorf("a1's user data ran %d times, want 1", n)
		}
		console, err := os.ReadFile(filepath.Join(cfg.StateDir, "instances", a1, "console.log"))
		if err != nil || !strings.Contains(string(console), "user data says hello") {
			t.Errorf("console.log = %q, %v; want the script's output", console, err)
		}
		resolv, err := os.ReadFile(filepath.Join(out, "a1-resolv"))
		if err != nil || !strings.Contains(string(resolv), "nameserver 10.0.0.2") {
			t.Errorf("user data saw resolv.conf %q, %v; want the VPC resolver", resolv, err)
		}
	})

	ns := l.InstanceNamespace
	drops := watchDrops(t, l)
	// Sockets the router opens itself (a load balancer node's, in the
	// proxy path) carry no VPC's mark in the shared fabric yet, so they
	// route nowhere there (stage 3 of docs/fabric.md).
	var fromRouter []flow
	if fabric == FabricRouters {
		fromRouter = []flow{
			{name: "router to target, ingress admits", from: routerA, src: "10.0.2.200", to: "10.0.1.10:9000", want: ok, banner: "a1"},
			{name: "router to target, ingress does not admit", from: routerA, src: "10.0.2.200", to: "10.0.1.11:80", want: timeout},
			{name: "router to target from another address", from: routerA, src: "10.0.1.100", to: "10.0.1.10:9000", want: timeout},
		}
	}
	t.Run("traffic", func(t *testing.T) {
		checkFlows(t, append(fromRouter, []flow{
			{name: "same subnet, admitted", from: ns(a2), to: "10.0.1.10:80", want: ok, banner: "a1"},
			{name: "across subnets, admitted", from: ns(a3), to: "10.0.1.10:80", want: ok, banner: "a1"},
			{name: "ingress does not admit: dropped, not refused", from: ns(a1), to: "10.0.1.11:80", want: timeout},
			{name: "admitted with nothing listening is refused", from: ns(a2), to: "10.0.1.10:7001", want: refused},
			{name: "egress admits", from: ns(a4), to: "10.0.1.10:8080", want: ok, banner: "a1"},
			{name: "egress restricts", from: ns(a4), to: "10.0.1.10:8081", want: timeout},
			{name: "egress restricts, control", from: ns(a2), to: "10.0.1.10:8081", want: ok, banner: "a1"},
			{name: "user data's listener", from: ns(a3), to: "10.0.1.10:7777", want: ok},

			{name: "endpoint admits", from: ns(a2), to: "10.0.1.100:443", want: ok, banner: "ep"},
			{name: "endpoint does not admit", from: ns(a3), to: "10.0.1.100:443", want: timeout},
			{name: "endpoint admits but source egress does not", from: ns(a4), to: "10.0.1.100:443", want: timeout},
			{name: "endpoint admits and source egress does", from: ns(a4), to: "10.0.1.100:8080", want: ok, banner: "ep"},
			{name: "router address whatever egress says", from: ns(a4), to: "10.0.1.1:5353", want: ok, banner: "gw"},
			{name: "load balancer node", from: ns(a2), to: "10.0.2.200:7000", want: ok, banner: "lb"},
			{name: "load balancer node, source egress", from: ns(a4), to: "10.0.2.200:7000", want: timeout},

			{name: "same address in VPC B is B's", from: ns(b2), to: "10.0.1.10:80", want: ok, banner: "b1"},
			{name: "VPC A cannot reach VPC B: dropped", from: ns(a2), to: "10.0.3.10:80", want: timeout},
			{name: "nothing leaves a VPC: dropped, not unreachable", from: ns(a2), to: "192.0.2.1:80", want: timeout},
			{name: "VPC B cannot reach VPC A", from: ns(b1), to: "10.0.1.11:80", want: notOK},
			{name: "router B has no way to A", from: routerB, to: "10.0.1.11:80", want: notOK},
		}...))
	})
	t.Run("drops name their VPC", func(t *testing.T) {
		drops.check(t, Drop{VPCID: vpcA, Src: netip.MustParseAddr("10.0.1.10"), Dst: netip.MustParseAddr("10.0.1.11"),
			Protocol: 6, DstPort: 80, Chain: chainAdmitIn})
	})

	t.Run("files", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(etcNetns, ns(a1), "resolv.conf"))
		if err != nil || string(b) != "nameserver 10.0.0.2\n" {
			t.Errorf("resolv.conf of a1 = %q, %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(etcNetns, ns(b1), "resolv.conf")); !os.IsNotExist(err) {
			t.Errorf("VPC B has no resolver, but b1 has a resolv.conf (%v)", err)
		}
	})

	t.Run("apply again", func(t *testing.T) {
		apply(t, l, labSpec(out, true))
		settle()
		if n := lines(t, filepath.Join(out, "a1-ran")); n != 1 {
			t.Errorf("a1's user data ran %d times, want 1", n)
		}
	})

	t.Run("restart adopts and repairs", func(t *testing.T) {
		// Drift while privlink is down: a lost gateway address, a stale
		// one, a lost veth, proxy ARP off, no firewall at all.
		run(t, "", "ip", "-n", routerA, "addr", "del", "10.0.1.1/32", "dev", "lo")
		run(t, "", "ip", "-n", routerA, "addr", "add", "10.0.9.9/32", "dev", "lo")
		run(t, "", "ip", "-n", routerA, "link", "del", vethName(a2))
		run(t, "", "ip", "netns", "exec", routerA, "sysctl", "-qw", "net.ipv4.conf."+vethName(a3)+".proxy_arp=0")
		run(t, "", "ip", "netns", "exec", routerA, "nft", "delete", "table", "inet", tableName)

		l2, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, l2, labSpec(out, true))
		loAddrs := run(t, "", "ip", "-n", routerA, "-4", "-o", "addr", "show", "dev", "lo")
		if !strings.Contains(loAddrs, "10.0.1.1/32") || strings.Contains(loAddrs, "10.0.9.9") {
			t.Errorf("router lo after restart:\n%s\nwant 10.0.1.1/32 back and 10.0.9.9 gone", loAddrs)
		}
		if p := run(t, "", "ip", "netns", "exec", routerA, "sysctl", "-n", "net.ipv4.conf."+vethName(a3)+".proxy_arp"); strings.TrimSpace(p) != "1" {
			t.Errorf("proxy_arp on %s = %s, want 1", vethName(a3), p)
		}
		checkFlows(t, []flow{
			{name: "veth recreated", from: ns(a2), to: "10.0.1.10:80", want: ok, banner: "a1"},
			{name: "gateway back", from: ns(a3), to: "10.0.1.10:80", want: ok, banner: "a1"},
			{name: "firewall back", from: ns(a1), to: "10.0.1.11:80", want: timeout},
		})
		settle()
		if n := lines(t, filepath.Join(out, "a1-ran")); n != 1 {
			t.Errorf("a1's user data ran %d times after a restart, want 1", n)
		}
		if n := lines(t, filepath.Join(out, "b1-ran")); n != 1 {
			t.Errorf("b1's user data ran %d times after a restart, want 1", n)
		}
		l = l2 // the restarted lab carries on
	})

	t.Run("remove instance", func(t *testing.T) {
		sleeper := exec.Command("ip", "netns", "exec", ns(a3), "sleep", "1000")
		sleeper.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- sleeper.Wait() }()
		waitFor(t, "sleep in a3", func() bool {
			var st syscall.Stat_t
			return syscall.Stat(filepath.Join("/proc", fmt.Sprint(sleeper.Process.Pid), "ns/net"), &st) == nil &&
				sameFile(filepath.Join(netns.Dir, ns(a3)), &st)
		})

		apply(t, l, labSpec(out, false))
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			sleeper.Process.Kill()
			t.Error("a process in the removed instance still runs")
		}
		if netns.Exists(ns(a3)) {
			t.Error("a3's namespace still exists")
		}
		if links := run(t, "", "ip", "-n", routerA, "-o", "link"); strings.Contains(links, vethName(a3)) {
			t.Errorf("a3's veth is still on the router:\n%s", links)
		}
		for _, p := range []string{filepath.Join(etcNetns, ns(a3)), filepath.Join(cfg.StateDir, "instances", a3)} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s still exists (%v)", p, err)
			}
		}
		checkFlows(t, []flow{{name: "others unaffected", from: ns(a2), to: "10.0.1.10:80", want: ok, banner: "a1"}})
	})

	t.Run("clean", func(t *testing.T) {
		if err := Clean(cfg.Prefix); err != nil {
			t.Fatal(err)
		}
		names, err := netns.List()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if strings.HasPrefix(n, prefix+"-") {
				t.Errorf("namespace %s survived Clean", n)
			}
		}
		if !netns.Exists(decoy) {
			t.Errorf("Clean removed %s, which has another prefix", decoy)
		}
		if ents, err := os.ReadDir(etcNetns); err == nil {
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), prefix+"-") {
					t.Errorf("%s survived Clean", filepath.Join(etcNetns, e.Name()))
				}
			}
		}

		// A lab built anew boots its instances anew: user data runs again.
		l3, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, l3, labSpec(out, false))
		waitFor(t, "a1's user data to run again", func() bool { return lines(t, filepath.Join(out, "a1-ran")) == 2 })
	})
}

func TestCheck(t *testing.T) {
	requireRoot(t)
	if err := Check(); err != nil {
		t.Fatal(err)
	}
}

func TestApplyRejectsBadSpec(t *testing.T) {
	requireRoot(t)
	cfg := Config{Prefix: testPrefix(t) + "x", StateDir: t.TempDir()}
	t.Cleanup(func() { _ = Clean(cfg.Prefix) })
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	good := Instance{ID: instID(1), Addr: netip.MustParsePrefix("10.0.1.5/24"), Gateway: netip.MustParseAddr("10.0.1.1")}
	gw := addrs("10.0.1.1", "10.0.2.1")
	tests := []struct {
		name string
		vpc  VPC
		bad  string // the ID that must fail
	}{
		{"bad VPC ID", VPC{ID: "vpc-../etc"}, "vpc-../etc"},
		{"bad instance ID", VPC{ID: "vpc-1", RouterAddrs: gw, Instances: []Instance{{ID: "i-xyz"}}}, "i-xyz"},
		{"gateway outside subnet", VPC{ID: "vpc-1", RouterAddrs: gw, Instances: []Instance{{ID: instID(2), Addr: good.Addr, Gateway: netip.MustParseAddr("10.0.2.1")}}}, instID(2)},
		{"gateway not a router address", VPC{ID: "vpc-1", RouterAddrs: gw, Instances: []Instance{{ID: instID(2), Addr: good.Addr, Gateway: netip.MustParseAddr("10.0.1.2")}}}, instID(2)},
		{"address twice", VPC{ID: "vpc-1", RouterAddrs: gw, Instances: []Instance{good, {ID: instID(3), Addr: good.Addr, Gateway: good.Gateway}}}, instID(3)},
		{"instance twice", VPC{ID: "vpc-1", RouterAddrs: gw, Instances: []Instance{good, good}}, good.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := l.Apply(context.Background(), Spec{VPCs: []VPC{tt.vpc}})
			if st.Errors[tt.bad] == nil {
				t.Errorf("Apply accepted %s: %v", tt.bad, st.Errors)
			}
		})
	}
}

// apply applies spec and fails the test on any error.
func apply(t *testing.T, l *Lab, spec Spec) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if st := l.Apply(ctx, spec); len(st.Errors) > 0 {
		for id, err := range st.Errors {
			t.Errorf("%s: %v", id, err)
		}
		t.FailNow()
	}
}

type result int

const (
	ok result = iota + 1
	refused
	timeout
	unreachable
	notOK // any failure: for "no way there" checks
	unknown
)

func (r result) String() string {
	return [...]string{"?", "ok", "refused", "timeout", "unreachable", "not ok", "unknown"}[r]
}

type flow struct {
	name   string
	from   string // namespace
	src    string // source address, if any
	to     string // address:port
	want   result
	banner string // what the server says, if it must be checked
}

type dialResult struct {
	result result
	banner string
	output string
}

// dial connects with nc from inside a namespace and classifies how it went.
func dial(t *testing.T, ns, src, to string) dialResult {
	t.Helper()
	ap := netip.MustParseAddrPort(to)
	args := []string{"netns", "exec", ns, "nc", "-v", "-n", "-d", "-w", "2"}
	if src != "" {
		args = append(args, "-s", src)
	}
	args = append(args, ap.Addr().String(), fmt.Sprint(ap.Port()))
	cmd := exec.Command("ip", args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	r := dialResult{banner: strings.TrimSpace(stdout.String()), output: stderr.String()}
	switch msg := stderr.String(); {
	case strings.Contains(msg, "succeeded"):
		r.result = ok
	case strings.Contains(msg, "refused"):
		r.result = refused
	case strings.Contains(msg, "timed out"):
		r.result = timeout
	// A blackhole route answers a local connect with EINVAL.
	case strings.Contains(msg, "unreachable"), strings.Contains(msg, "No route"), strings.Contains(msg, "Invalid argument"):
		r.result = unreachable
	default:
		r.result = unknown
	}
	return r
}

func (f flow) matches(r result) bool {
	if f.want == notOK {
		return r == timeout || r == unreachable || r == refused
	}
	return r == f.want
}

// listen serves banner on each address inside the namespace until the
// test ends.
func listen(t *testing.T, nsName, banner string, addrs ...string) {
	t.Helper()
	ns, err := netns.Open(nsName)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	for _, a := range addrs {
		ln, err := ns.ListenTCP(netip.MustParseAddrPort(a))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, banner+"\n")
				c.Close()
			}
		}()
	}
}

// waitFor polls until cond holds, failing the test after 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle gives a wrongly started user data script the time to show
// itself. A false pass is possible in theory; a false failure is not.
func settle() { time.Sleep(time.Second) }

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func sameFile(path string, st *syscall.Stat_t) bool {
	var o syscall.Stat_t
	return syscall.Stat(path, &o) == nil && o.Dev == st.Dev && o.Ino == st.Ino
}

// testWriter sends the lab's log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
