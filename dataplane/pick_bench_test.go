package dataplane

import (
	"fmt"
	"net/netip"
	"testing"
)

// Micro-benchmarks of the per-connection work before the dial: hash the
// flow, then pick a target from the group's view. They need no root and no
// namespaces; compare runs with benchstat.

// benchFlows are distinct client flows, computed outside the timed loops.
const benchFlows = 1024

func benchClients(v6 bool) []netip.AddrPort {
	cs := make([]netip.AddrPort, benchFlows)
	for i := range cs {
		c := testClient(i)
		if v6 {
			b := [16]byte{0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}
			c = netip.AddrPortFrom(netip.AddrFrom16(b), c.Port())
		}
		cs[i] = c
	}
	return cs
}

// benchTargets returns n targets with distinct addresses (testTargets
// repeats addresses beyond 245 targets).
func benchTargets(n int) []Target {
	ts := make([]Target, n)
	for i := range ts {
		a := netip.AddrFrom4([4]byte{10, 0, byte(1 + i/250), byte(10 + i%250)})
		ts[i] = Target{ID: fmt.Sprintf("i-%017x", i), Addr: netip.AddrPortFrom(a, 22)}
	}
	return ts
}

func benchHashes() []uint64 {
	hs := make([]uint64, benchFlows)
	for i, c := range benchClients(false) {
		hs[i] = flowHash(c, testENI)
	}
	return hs
}

func BenchmarkFlowHash(b *testing.B) {
	for _, tc := range []struct {
		name string
		v6   bool
		eni  netip.AddrPort
	}{
		{"ipv4", false, testENI},
		{"ipv6", true, netip.MustParseAddrPort("[fd00::100]:8022")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cs := benchClients(tc.v6)
			b.ReportAllocs()
			var sink uint64
			i := 0
			for b.Loop() {
				sink ^= flowHash(cs[i%benchFlows], tc.eni)
				i++
			}
			if sink == 0 {
				b.Log("improbable: every hash cancelled out")
			}
		})
	}
}

// BenchmarkPickTarget picks among n targets for a flow hash already
// computed: rendezvous hashing scores every candidate, so the cost is
// linear in the candidates picked from. healthy=half leaves every other
// target out of rotation (the view picks from n/2); healthy=none fails open
// and picks from all n.
func BenchmarkPickTarget(b *testing.B) {
	for _, health := range []string{"all", "half", "none"} {
		for _, n := range []int{2, 10, 100, 1000} {
			b.Run(fmt.Sprintf("healthy=%s/n=%d", health, n), func(b *testing.B) {
				ts := benchTargets(n)
				states := make([]string, n)
				for i := range states {
					switch {
					case health == "all", health == "half" && i%2 == 0:
						states[i] = StateHealthy
					default:
						states[i] = StateUnhealthy
					}
				}
				v := viewOf(ts, states)
				hs := benchHashes()
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, ok := v.pick(hs[i%benchFlows]); !ok {
						b.Fatal("no target")
					}
					i++
				}
			})
		}
	}
}

// BenchmarkPickFlow is the whole choice one new connection makes, as
// forward_linux.go makes it: hash the 4-tuple, pick a load balancer node,
// pick a target.
func BenchmarkPickFlow(b *testing.B) {
	nodes := nodeSet("us-east-1a", []Node{
		{Zone: "us-east-1a", Addr: netip.MustParseAddr("10.1.1.5")},
		{Zone: "us-east-1b", Addr: netip.MustParseAddr("10.1.2.5")},
	})
	for _, n := range []int{2, 10, 100, 1000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ts := benchTargets(n)
			states := make([]string, n)
			for i := range states {
				states[i] = StateHealthy
			}
			v := viewOf(ts, states)
			cs := benchClients(false)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				h := flowHash(cs[i%benchFlows], testENI)
				if _, ok := nodes.pick(h); !ok {
					b.Fatal("no node")
				}
				if _, ok := v.pick(h); !ok {
					b.Fatal("no target")
				}
				i++
			}
		})
	}
}
