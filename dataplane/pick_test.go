package dataplane

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// viewOf builds a group view as publishLocked does, from targets and their
// states.
func viewOf(targets []Target, states []string) *groupView {
	v := &groupView{}
	for i, t := range targets {
		v.all.add(t, nameHash(t.key()))
		if states[i] == StateHealthy {
			v.healthy.add(t, nameHash(t.key()))
		}
	}
	return v
}

func testTargets(n int) []Target {
	ts := make([]Target, n)
	for i := range ts {
		ts[i] = Target{ID: fmt.Sprintf("i-%017x", i), Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + i)}), 22)}
	}
	return ts
}

var testENI = netip.MustParseAddrPort("10.0.1.100:8022")

func testClient(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(i >> 16)}), uint16(32768+i%28232))
}

func TestPick(t *testing.T) {
	ts := testTargets(3)
	for _, tc := range []struct {
		name   string
		states []string
		want   []string // the target IDs flows may reach; all of them must be reached
	}{
		{"all healthy", []string{StateHealthy, StateHealthy, StateHealthy}, []string{ts[0].ID, ts[1].ID, ts[2].ID}},
		{"healthy only", []string{StateHealthy, StateUnhealthy, StateHealthy}, []string{ts[0].ID, ts[2].ID}},
		{"one healthy among initial", []string{StateInitial, StateHealthy, StateInitial}, []string{ts[1].ID}},
		{"all initial: fail open", []string{StateInitial, StateInitial, StateInitial}, []string{ts[0].ID, ts[1].ID, ts[2].ID}},
		{"all unhealthy: fail open", []string{StateUnhealthy, StateUnhealthy, StateUnhealthy}, []string{ts[0].ID, ts[1].ID, ts[2].ID}},
		{"checks disabled", []string{StateUnavailable, StateUnavailable, StateUnavailable}, []string{ts[0].ID, ts[1].ID, ts[2].ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := viewOf(ts, tc.states)
			reached := map[string]int{}
			for i := range 3000 {
				h := flowHash(testClient(i), testENI)
				got, ok := v.pick(h)
				if !ok {
					t.Fatal("no target picked")
				}
				if again, _ := v.pick(flowHash(testClient(i), testENI)); again != got {
					t.Fatalf("flow %v picked %s, then %s", testClient(i), got.ID, again.ID)
				}
				reached[got.ID]++
			}
			var ids []string
			for id, n := range reached {
				ids = append(ids, id)
				// Fair within a wide margin: 3000 flows over n targets.
				if share := float64(n) * float64(len(tc.want)) / 3000; share < 0.8 || share > 1.2 {
					t.Errorf("target %s got %d of 3000 flows", id, n)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tc.want) {
				t.Errorf("flows reached %v, want %v", ids, tc.want)
			}
		})
	}
	t.Run("no targets", func(t *testing.T) {
		if got, ok := (&groupView{}).pick(1); ok {
			t.Errorf("picked %v from an empty group", got)
		}
	})
}

// A target leaving rotation moves only its own flows; the others stay put,
// so their connections' targets do not change under a health flap.
func TestPickMovesOnlyTheLeavingTargetsFlows(t *testing.T) {
	ts := testTargets(4)
	before := viewOf(ts, []string{StateHealthy, StateHealthy, StateHealthy, StateHealthy})
	after := viewOf(ts, []string{StateHealthy, StateHealthy, StateUnhealthy, StateHealthy})
	for i := range 2000 {
		h := flowHash(testClient(i), testENI)
		b, _ := before.pick(h)
		a, _ := after.pick(h)
		if b.ID != ts[2].ID && a != b {
			t.Fatalf("flow %v moved from %s to %s though %s stayed healthy", testClient(i), b.ID, a.ID, b.ID)
		}
		if a.ID == ts[2].ID {
			t.Fatalf("flow %v picked unhealthy %s", testClient(i), a.ID)
		}
	}
}

func TestFlowHash(t *testing.T) {
	c, e := netip.MustParseAddrPort("10.0.1.10:40000"), netip.MustParseAddrPort("10.0.1.100:8022")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(c.Addr().As16()), c.Port())
	for _, tc := range []struct {
		name string
		a, b [2]netip.AddrPort
		same bool
	}{
		{"same 4-tuple", [2]netip.AddrPort{c, e}, [2]netip.AddrPort{c, e}, true},
		{"IPv4-mapped form is the same flow", [2]netip.AddrPort{c, e}, [2]netip.AddrPort{mapped, e}, true},
		{"client port", [2]netip.AddrPort{c, e}, [2]netip.AddrPort{netip.AddrPortFrom(c.Addr(), 40001), e}, false},
		{"client ip", [2]netip.AddrPort{c, e}, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.1.11:40000"), e}, false},
		{"ENI port", [2]netip.AddrPort{c, e}, [2]netip.AddrPort{c, netip.MustParseAddrPort("10.0.1.100:8023")}, false},
		{"ENI ip", [2]netip.AddrPort{c, e}, [2]netip.AddrPort{c, netip.MustParseAddrPort("10.0.1.101:8022")}, false},
		{"ports swapped", [2]netip.AddrPort{c, e}, [2]netip.AddrPort{netip.AddrPortFrom(c.Addr(), 8022), netip.AddrPortFrom(e.Addr(), 40000)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := flowHash(tc.a[0], tc.a[1]) == flowHash(tc.b[0], tc.b[1]); got != tc.same {
				t.Errorf("hashes equal = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestNodeSet(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("10.0.2.5")
	nodes := []Node{{Zone: "us-east-1a", Addr: a}, {Zone: "us-east-1b", Addr: b}}
	for _, tc := range []struct {
		zone string
		want []netip.Addr
	}{
		{"us-east-1a", []netip.Addr{a}},
		{"us-east-1b", []netip.Addr{b}},
		{"us-east-1c", []netip.Addr{a, b}},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			if got := nodeSet(tc.zone, nodes).items; !slices.Equal(got, tc.want) {
				t.Errorf("nodes %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkPick(b *testing.B) {
	for _, n := range []int{2, 10, 100} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			ts := testTargets(n)
			states := make([]string, n)
			for i := range states {
				states[i] = StateHealthy
			}
			v := viewOf(ts, states)
			i := 0
			for b.Loop() {
				i++
				if _, ok := v.pick(flowHash(testClient(i), testENI)); !ok {
					b.Fatal("no target")
				}
			}
		})
	}
}
