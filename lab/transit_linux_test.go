package lab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/netns"
)

var (
	vpcP, vpcC     = "vpc-0000000000000000e", "vpc-0000000000000000f"
	nodeP          = "eni-00000000000000001"
	t1, t2, t3     = instID(0xe1), instID(0xe2), instID(0xe3)
	c1, c2         = instID(0xf1), instID(0xf2)
	endpointC      = netip.MustParseAddr("10.0.1.100")
	transitTargets = []netip.AddrPort{netip.MustParseAddrPort("10.0.1.10:80")}
)

// transitSpec is a provider VPC P with targets t1 (admits TCP from the
// VPC), t2 (admits nothing) and t3 (like t1), and a load balancer node; and
// a consumer VPC C with the same CIDR, whose client c1 has t1's address,
// an endpoint interface admitting c1 only, and listeners 80 (→ targets),
// 81 (→ t2) and 82 (no targets).
func transitSpec(targets80 []netip.AddrPort) Spec {
	ip := netip.MustParseAddr
	cidr := netip.MustParsePrefix("10.0.0.0/16")
	p := VPC{
		ID: vpcP, CIDR: cidr, RouterAddrs: addrs("10.0.1.1"),
		Firewall: Firewall{Groups: map[string]Group{
			"sg-target": {Ingress: []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, Sources: pfx("10.0.0.0/16")}}},
			"sg-closed": {},
		}},
	}
	for _, x := range []struct{ id, addr, group string }{
		{t1, "10.0.1.10/24", "sg-target"}, {t2, "10.0.1.11/24", "sg-closed"}, {t3, "10.0.1.12/24", "sg-target"},
	} {
		a := netip.MustParsePrefix(x.addr)
		p.Instances = append(p.Instances, Instance{ID: x.id, Addr: a, Gateway: ip("10.0.1.1")})
		p.Firewall.Interfaces = append(p.Firewall.Interfaces, Interface{Addr: a.Addr(), Kind: KindInstance, Groups: []string{x.group}})
	}
	p.Instances = append(p.Instances, Instance{
		ID: nodeP, Addr: netip.MustParsePrefix("10.0.1.6/24"), Gateway: ip("10.0.1.1"),
		Forwards: []Forward{
			{Port: 80, Targets: targets80},
			{Port: 81, Targets: []netip.AddrPort{netip.MustParseAddrPort("10.0.1.11:80")}},
			{Port: 82},
		},
	})
	p.Firewall.Interfaces = append(p.Firewall.Interfaces, Interface{Addr: ip("10.0.1.6"), Kind: KindLoadBalancer})

	c := VPC{
		ID: vpcC, CIDR: cidr, RouterAddrs: addrs("10.0.1.1"), LocalAddrs: []netip.Addr{endpointC},
		Firewall: Firewall{Groups: map[string]Group{
			"sg-client":   {Egress: []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}}},
			"sg-endpoint": {Ingress: []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 82, Sources: pfx("10.0.1.10")}}},
		}},
	}
	for _, x := range []struct{ id, addr string }{{c1, "10.0.1.10/24"}, {c2, "10.0.1.11/24"}} {
		a := netip.MustParsePrefix(x.addr)
		c.Instances = append(c.Instances, Instance{ID: x.id, Addr: a, Gateway: ip("10.0.1.1")})
		c.Firewall.Interfaces = append(c.Firewall.Interfaces, Interface{Addr: a.Addr(), Kind: KindInstance, Groups: []string{"sg-client"}})
	}
	c.Firewall.Interfaces = append(c.Firewall.Interfaces, Interface{Addr: endpointC, Kind: KindEndpoint, Groups: []string{"sg-endpoint"}})
	for _, port := range []uint16{80, 81, 82} {
		c.Endpoints = append(c.Endpoints, EndpointForward{Addr: netip.AddrPortFrom(endpointC, port), Node: nodeP})
	}
	return Spec{VPCs: []VPC{p, c}}
}

// TestTransit drives the kernel endpoint path, with overlapping VPCs:
// consumer router NAT → transit link → node NAT → target with router
// namespaces, one translation in the shared fabric.
func TestTransit(t *testing.T) {
	forEachFabric(t, testTransit)
}

func testTransit(t *testing.T, fabric Fabric) {
	l, _ := newFabricLab(t, "plt-tr"+string(fabric[0]), fabric)
	apply(t, l, transitSpec(transitTargets))

	ns := l.InstanceNamespace
	listenPeer(t, ns(t1), "t1", "10.0.1.10:80")
	listenPeer(t, ns(t2), "t2", "10.0.1.11:80")
	listenPeer(t, ns(t3), "t3", "10.0.1.12:80")
	ep := func(port int) string { return fmt.Sprintf("%v:%d", endpointC, port) }

	t.Run("flows", func(t *testing.T) {
		checkFlows(t, []flow{
			// c1 has t1's address: the target sees the node, never the
			// client, and the overlap does not matter.
			{name: "endpoint → target; the target sees the node", from: ns(c1), to: ep(80), want: ok, banner: "t1 10.0.1.6"},
			{name: "endpoint's security group does not admit c2", from: ns(c2), to: ep(80), want: timeout},
			{name: "target's security group does not admit the node", from: ns(c1), to: ep(81), want: timeout},
			{name: "no targets: refused", from: ns(c1), to: ep(82), want: refused},
			{name: "a port the endpoint's group does not admit", from: ns(c1), to: ep(83), want: timeout},
		})
	})

	t.Run("proxy ARP answers at once", func(t *testing.T) {
		// With the kernel's default delay (up to 0.8 s) the first flow
		// from the node to a target of its subnet waited for it.
		for _, veth := range []string{vethName(nodeP), vethName(t1)} {
			got := strings.TrimSpace(run(t, "", "ip", "netns", "exec", l.RouterNamespace(vpcP), "cat", "/proc/sys/net/ipv4/neigh/"+veth+"/proxy_delay"))
			if got != "0" {
				t.Errorf("proxy_delay on %s = %s, want 0", veth, got)
			}
		}
	})

	path := []string{ns(c1), l.RouterNamespace(vpcC), ns(nodeP), l.RouterNamespace(vpcP), ns(t1)}
	if fabric == FabricShared {
		path = []string{ns(c1), l.RouterNamespace(vpcC), ns(t1)}
	}
	t.Run("every link of the endpoint path takes big segments", func(t *testing.T) {
		// The bench's throughput table depends on it: at 64 KiB a segment,
		// each namespace crossed costs up to eight times as often.
		checkSegments(t, path, func(tso uint32) uint32 { return tso })
	})

	t.Run("a removed target drains; new flows go to the new one", func(t *testing.T) {
		client, err := netns.Open(ns(c1))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		held, err := client.DialTCP(ctx, netip.Addr{}, netip.MustParseAddrPort(ep(80)))
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		r := bufio.NewReader(held)
		if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "t1 ") {
			t.Fatalf("held flow greeted %q, want t1", line)
		}

		apply(t, l, transitSpec([]netip.AddrPort{netip.MustParseAddrPort("10.0.1.12:80")}))

		if got := dial(t, ns(c1), "", ep(80)); got.result != ok || got.banner != "t3 10.0.1.6" {
			t.Errorf("new flow after the change: %v %q, want t3", got.result, got.banner)
		}
		_ = held.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(held, "still there\n"); err != nil {
			t.Fatal(err)
		}
		if line, err := r.ReadString('\n'); line != "still there\n" {
			t.Errorf("held flow after the change echoed %q, %v; want it to carry on to t1", line, err)
		}
	})

	t.Run("a node removed by hand is rebuilt with its links and NAT", func(t *testing.T) {
		if err := netns.Delete(ns(nodeP)); err != nil {
			t.Fatal(err)
		}
		apply(t, l, transitSpec(transitTargets))
		if got := dial(t, ns(c1), "", ep(80)); got.result != ok || got.banner != "t1 10.0.1.6" {
			t.Errorf("after rebuilding the node: %v %q, want t1", got.result, got.banner)
		}
	})

	t.Run("a restart with small segments takes links back to 64 KiB", func(t *testing.T) {
		cfg := l.cfg
		cfg.SmallSegments = true
		small, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, small, transitSpec(transitTargets))
		checkSegments(t, path, func(uint32) uint32 { return 64 << 10 })
		if got := dial(t, ns(c1), "", ep(80)); got.result != ok || got.banner != "t1 10.0.1.6" {
			t.Errorf("with small segments: %v %q, want t1", got.result, got.banner)
		}
	})

	t.Run("removing the endpoint's listeners stops new flows", func(t *testing.T) {
		spec := transitSpec(transitTargets)
		spec.VPCs[1].Endpoints = nil
		apply(t, l, spec)
		if got := dial(t, ns(c1), "", ep(80)); got.result == ok {
			t.Errorf("after removal: %v %q, want no connection", got.result, got.banner)
		}
	})
}

// checkSegments checks the IPv4 segment limits of every veth in the
// namespaces: want gives the limit expected of a device that takes tso.
func checkSegments(t *testing.T, namespaces []string, want func(tso uint32) uint32) {
	t.Helper()
	for _, name := range namespaces {
		c, err := openNS(name)
		if err != nil {
			t.Fatal(err)
		}
		links, err := c.nl.LinkList()
		c.close()
		if err != nil {
			t.Fatal(err)
		}
		for _, link := range links {
			a := link.Attrs()
			if link.Type() != "veth" {
				continue
			}
			if a.TSOMaxSize == 0 || a.GSOIPv4MaxSize == 0 {
				// A kernel before 6.3 (no BIG TCP for IPv4): the lab
				// leaves the link as the kernel made it.
				if a.GSOMaxSize > legacySegment {
					t.Errorf("%s in %s: gso_max_size %d on a kernel without IPv4 limits, want at most %d",
						a.Name, name, a.GSOMaxSize, legacySegment)
				}
				continue
			}
			if w := want(a.TSOMaxSize); a.GSOIPv4MaxSize != w || a.GROIPv4MaxSize != w {
				t.Errorf("%s in %s: gso_ipv4_max_size %d, gro_ipv4_max_size %d, want %d (the device takes %d)",
					a.Name, name, a.GSOIPv4MaxSize, a.GROIPv4MaxSize, w, a.TSOMaxSize)
			}
		}
	}
}

// listenPeer serves "banner peer-address" on addr inside the namespace,
// then echoes what the client sends, until the test ends.
func listenPeer(t *testing.T, nsName, banner, addr string) {
	t.Helper()
	ns, err := netns.Open(nsName)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	ln, err := ns.ListenTCP(netip.MustParseAddrPort(addr))
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
			go func(c net.Conn) {
				defer c.Close()
				host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
				fmt.Fprintf(c, "%s %s\n", banner, host)
				_, _ = io.Copy(c, c)
			}(c)
		}
	}()
}
