package lab

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestWatchDrops checks that new flows the firewalls drop reach the
// server, with where they were dropped: at an endpoint whose groups do not
// admit the client, and at a target whose groups do not admit the load
// balancer node.
func TestWatchDrops(t *testing.T) {
	forEachFabric(t, testWatchDrops)
}

func testWatchDrops(t *testing.T, fabric Fabric) {
	l, _ := newFabricLab(t, "plt-dr"+string(fabric[0]), fabric)
	apply(t, l, transitSpec(transitTargets))

	drops := watchDrops(t, l)

	ip := netip.MustParseAddr
	ns := l.InstanceNamespace
	tests := []struct {
		name string
		from string
		to   string
		want Drop
	}{
		{"the endpoint's groups do not admit c2", ns(c2), fmt.Sprintf("%v:80", endpointC),
			Drop{VPCID: vpcC, Src: ip("10.0.1.11"), Dst: endpointC, Protocol: 6, DstPort: 80, Chain: chainAdmitIn}},
		{"t2's groups do not admit the node", ns(c1), fmt.Sprintf("%v:81", endpointC),
			Drop{VPCID: vpcP, Src: ip("10.0.1.6"), Dst: ip("10.0.1.11"), Protocol: 6, DstPort: 80, Chain: chainAdmitIn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dial(t, tt.from, "", tt.to); got.result != timeout {
				t.Fatalf("dial: %v, want a timeout", got.result)
			}
			drops.check(t, tt.want)
		})
	}
}

// drops collects what WatchDrops reports.
type drops struct {
	mu  sync.Mutex
	all []Drop
}

// watchDrops watches the lab's drops until the test ends.
func watchDrops(t *testing.T, l *Lab) *drops {
	ds := &drops{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.WatchDrops(ctx, func(d Drop) {
			ds.mu.Lock()
			defer ds.mu.Unlock()
			ds.all = append(ds.all, d)
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(500 * time.Millisecond) // the first scan opens the readers
	return ds
}

// check fails the test unless want was reported.
func (ds *drops) check(t *testing.T, want Drop) {
	t.Helper()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if !slices.Contains(ds.all, want) {
		t.Errorf("drops %+v lack %+v", ds.all, want)
	}
}
