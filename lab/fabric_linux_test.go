package lab

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privlink/privlink/netns"
)

// routingSpec is two VPCs with the same CIDR, every instance in an open
// security group. A: a1 and a2 in subnet 1, a3 in subnet 2, a local
// (endpoint) addresses 10.0.1.100 and 10.0.1.101. B: b1 at a1's address, b2
// in a subnet A lacks, b3 at A's second local address.
func routingSpec(withB bool) Spec {
	open := map[string]Group{"sg-open": {
		Ingress: []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}},
		Egress:  []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}},
	}}
	vpc := func(id string, routers []netip.Addr, insts ...[3]string) VPC {
		v := VPC{ID: id, CIDR: netip.MustParsePrefix("10.0.0.0/16"), RouterAddrs: routers,
			Firewall: Firewall{Groups: open}}
		for _, x := range insts {
			p := netip.MustParsePrefix(x[1])
			v.Instances = append(v.Instances, Instance{ID: x[0], Addr: p, Gateway: netip.MustParseAddr(x[2])})
			v.Firewall.Interfaces = append(v.Firewall.Interfaces, Interface{Addr: p.Addr(), Kind: KindInstance, Groups: []string{"sg-open"}})
		}
		return v
	}
	a := vpc(vpcA, addrs("10.0.1.1", "10.0.2.1"),
		[3]string{a1, "10.0.1.10/24", "10.0.1.1"},
		[3]string{a2, "10.0.1.11/24", "10.0.1.1"},
		[3]string{a3, "10.0.2.10/24", "10.0.2.1"})
	a.LocalAddrs = addrs("10.0.1.100", "10.0.1.101")
	spec := Spec{VPCs: []VPC{a}}
	if withB {
		spec.VPCs = append(spec.VPCs, vpc(vpcB, addrs("10.0.1.1", "10.0.3.1"),
			[3]string{b1, "10.0.1.10/24", "10.0.1.1"},
			[3]string{b2, "10.0.3.10/24", "10.0.3.1"},
			[3]string{b3, "10.0.1.101/24", "10.0.1.1"}))
	}
	return spec
}

// TestRouting checks what both fabrics must do alike: route within a VPC,
// answer from the VPC's router, and keep VPCs of the same CIDR apart,
// looking where a leaked segment would land, not only at the sender's
// timeout.
func TestRouting(t *testing.T) {
	forEachFabric(t, func(t *testing.T, fabric Fabric) {
		l, _ := newFabricLab(t, "plt-rt"+string(fabric[0]), fabric)
		apply(t, l, routingSpec(true))
		ns := l.InstanceNamespace
		listen(t, ns(a1), "a1", "10.0.1.10:80")
		listen(t, ns(a3), "a3", "10.0.2.10:80")
		listen(t, ns(b1), "b1", "10.0.1.10:80")
		listen(t, ns(b2), "b2", "10.0.3.10:80")
		checkRouting(t, l)
	})
}

// checkRouting runs the routing cases against routingSpec(true).
func checkRouting(t *testing.T, l *Lab) {
	ns := l.InstanceNamespace
	t.Run("reach", func(t *testing.T) {
		checkFlows(t, []flow{
			{name: "same subnet", from: ns(a2), to: "10.0.1.10:80", want: ok, banner: "a1"},
			{name: "across subnets", from: ns(a3), to: "10.0.1.10:80", want: ok, banner: "a1"},
			{name: "across subnets, back", from: ns(a1), to: "10.0.2.10:80", want: ok, banner: "a3"},
			{name: "the same address in B is B's", from: ns(b2), to: "10.0.1.10:80", want: ok, banner: "b1"},
			{name: "across B's subnets", from: ns(b1), to: "10.0.3.10:80", want: ok, banner: "b2"},
			// A shared fabric holds A's local address too: a packet from
			// it must not look like one the fabric sent itself.
			{name: "from B's instance at A's local address", from: ns(b3), to: "10.0.3.10:80", want: ok, banner: "b2"},
			{name: "the gateway answers", from: ns(a2), to: "10.0.1.1:5353", want: refused},
			{name: "B's gateway answers", from: ns(b2), to: "10.0.3.1:5353", want: refused},
			{name: "nothing leaves a VPC", from: ns(a2), to: "192.0.2.1:80", want: timeout},
		})
	})
	// One at a time: each counts the segments that reach a namespace.
	t.Run("apart", func(t *testing.T) {
		for _, c := range []struct {
			name, from, to, lands string // lands: the namespace that holds to
		}{
			{"A cannot reach B's instance", ns(a2), "10.0.3.10:80", ns(b2)},
			{"B cannot reach A's instance", ns(b1), "10.0.2.10:80", ns(a3)},
			{"B cannot reach A's local address", ns(b2), "10.0.1.100:443", l.RouterNamespace(vpcA)},
			{"B cannot reach A's gateway", ns(b2), "10.0.2.1:5353", l.RouterNamespace(vpcA)},
		} {
			before := segmentsIn(t, c.lands)
			got := dial(t, c.from, "", c.to)
			if got.result != timeout {
				t.Errorf("%s: %s → %s: got %v, want a timeout\n%s", c.name, c.from, c.to, got.result, got.output)
			}
			if n := segmentsIn(t, c.lands) - before; n != 0 {
				t.Errorf("%s: %s → %s: %d TCP segments reached %s", c.name, c.from, c.to, n, c.lands)
			}
		}
	})
}

// TestSharedFabric checks what only the shared fabric has to: its VPC
// numbers survive a restart, drift is repaired, a VPC that leaves takes its
// table and rule along, and the fabric goes with the last VPC or a switch
// to routers.
func TestSharedFabric(t *testing.T) {
	requireRoot(t)
	l, cfg := newFabricLab(t, "plt-fab", FabricShared)
	apply(t, l, routingSpec(true))
	ns := l.InstanceNamespace
	listen(t, ns(a1), "a1", "10.0.1.10:80")
	listen(t, ns(b1), "b1", "10.0.1.10:80")
	fabric := fabricNS(cfg.Prefix)
	nums := fabricNumbers(t, cfg)
	na, nb := nums[vpcA], nums[vpcB]
	if na == 0 || nb == 0 || na == nb {
		t.Fatalf("VPC numbers %v: want one each, apart", nums)
	}
	reach := func(t *testing.T, from, to, banner string) {
		t.Helper()
		if got := dial(t, from, "", to); got.result != ok || got.banner != banner {
			t.Errorf("%s → %s: got %v %q, want %s\n%s", from, to, got.result, got.banner, banner, got.output)
		}
	}

	t.Run("restart adopts and repairs", func(t *testing.T) {
		// Drift while privlink is down: a VPC's rule, an instance's route,
		// the arp table and the local rule's place.
		run(t, "", "ip", "-n", fabric, "rule", "del", "fwmark", fmt.Sprint(na), "lookup", fmt.Sprint(na))
		run(t, "", "ip", "-n", fabric, "route", "del", "10.0.1.11/32", "table", fmt.Sprint(na))
		run(t, "", "ip", "netns", "exec", fabric, "nft", "delete", "table", "arp", fabricTable)
		run(t, "", "ip", "-n", fabric, "rule", "add", "pref", "0", "lookup", "local")

		l2, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, l2, routingSpec(true))
		if got := fabricNumbers(t, cfg); got[vpcA] != na || got[vpcB] != nb {
			t.Errorf("VPC numbers after a restart: %v, want %v", got, nums)
		}
		rules := run(t, "", "ip", "-n", fabric, "rule")
		if !strings.Contains(rules, fmt.Sprintf("fwmark %#x lookup %d", na, na)) || strings.HasPrefix(rules, "0:") {
			t.Errorf("ip rules after a restart:\n%s\nwant A's rule back and the local table's rule only after the VPCs'", rules)
		}
		reach(t, ns(a2), "10.0.1.10:80", "a1")
		reach(t, ns(b2), "10.0.1.10:80", "b1")
		l = l2
	})

	t.Run("a VPC leaves", func(t *testing.T) {
		apply(t, l, routingSpec(false))
		if got := fabricNumbers(t, cfg); len(got) != 1 || got[vpcA] != na {
			t.Errorf("VPC numbers: %v, want only A's %d", got, na)
		}
		if rules := run(t, "", "ip", "-n", fabric, "rule"); strings.Contains(rules, fmt.Sprintf("lookup %d", nb)) {
			t.Errorf("B's rule is left:\n%s", rules)
		}
		if routes := run(t, "", "ip", "-n", fabric, "route", "show", "table", fmt.Sprint(nb)); routes != "" {
			t.Errorf("B's table is left:\n%s", routes)
		}
		if links := run(t, "", "ip", "-n", fabric, "-o", "link"); strings.Contains(links, vethName(b1)) {
			t.Errorf("b1's veth is left:\n%s", links)
		}
		reach(t, ns(a2), "10.0.1.10:80", "a1")
	})

	t.Run("switch to routers", func(t *testing.T) {
		rcfg := cfg
		rcfg.Fabric = FabricRouters
		lr, err := New(rcfg)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, lr, routingSpec(false))
		if netns.Exists(fabric) {
			t.Error("the fabric outlived a switch to routers")
		}
		reach(t, ns(a2), "10.0.1.10:80", "a1")

		// And back: the routers go, the fabric comes.
		apply(t, l, routingSpec(false))
		if netns.Exists(routerNS(cfg.Prefix, vpcA)) {
			t.Error("A's router namespace outlived a switch back to the fabric")
		}
		if !netns.Exists(fabric) {
			t.Error("no fabric after a switch back")
		}
		reach(t, ns(a2), "10.0.1.10:80", "a1")
	})

	t.Run("the fabric goes with the last VPC", func(t *testing.T) {
		apply(t, l, Spec{})
		if netns.Exists(fabric) {
			t.Error("the fabric outlived its last VPC")
		}
	})
}

func fabricNumbers(t *testing.T, cfg Config) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cfg.StateDir, "fabric.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func segmentsIn(t *testing.T, name string) int64 {
	t.Helper()
	h, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	n, err := h.TCPSegmentsIn()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestResolverSocketBeforeApply: the reconciler asks where a new VPC's
// resolver listens before the lab builds the VPC, so that the resolver is
// up when the VPC's instances first run their user data. In the shared
// fabric the VPC gets its number then, and keeps it when it is built.
func TestResolverSocketBeforeApply(t *testing.T) {
	requireRoot(t)
	l, cfg := newFabricLab(t, "plt-rsv", FabricShared)
	resolver := netip.MustParseAddrPort("10.0.0.2:53")
	ns, at, mark, ok := l.ResolverSocket(vpcB, resolver)
	if !ok || ns != fabricNS(cfg.Prefix) || mark == 0 || at != netip.AddrPortFrom(fabricServiceAddr(int(mark)), 53) {
		t.Fatalf("before the VPC is built: %q %v mark %d ok %v; want the fabric, the service address of a new number", ns, at, mark, ok)
	}
	apply(t, l, routingSpec(true))
	if n := l.number(vpcB); n != int(mark) {
		t.Errorf("B was built with number %d, want the %d its resolver was given", n, mark)
	}
	if n := l.number(vpcA); n == 0 || n == int(mark) {
		t.Errorf("A's number %d, B's %d: want two numbers", n, mark)
	}
	if got := fabricNumbers(t, cfg); got[vpcB] != int(mark) {
		t.Errorf("fabric.json: %v, want B at %d", got, mark)
	}
	if _, again, _, _ := l.ResolverSocket(vpcB, resolver); again != at {
		t.Errorf("asked again: %v, want %v", again, at)
	}
}
