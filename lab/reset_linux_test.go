package lab

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/privlink/privlink/netns"
)

// TestTransitResets checks that flows the load balancer or endpoint gives
// up on end with a reset at the client, not in silence: an idle timeout,
// a deregistered target of a group that terminates connections, an
// unhealthy target, and an endpoint whose listeners or address are gone.
func TestTransitResets(t *testing.T) {
	forEachFabric(t, testTransitResets)
}

func testTransitResets(t *testing.T, fabric Fabric) {
	l, _ := newFabricLab(t, "plt-rs"+string(fabric[0]), fabric)
	ns := l.InstanceNamespace
	t1t3 := []netip.AddrPort{netip.MustParseAddrPort("10.0.1.10:80"), netip.MustParseAddrPort("10.0.1.12:80")}
	onlyT3 := t1t3[1:]
	apply(t, l, transitSpec(transitTargets))
	listenPeer(t, ns(t1), "t1", "10.0.1.10:80")
	listenPeer(t, ns(t3), "t3", "10.0.1.12:80")
	ep80 := netip.AddrPortFrom(endpointC, 80)

	// with edits the base spec: listener 80 forwards to targets.
	with := func(targets []netip.AddrPort, edit func(f *Forward, c *VPC)) Spec {
		s := transitSpec(targets)
		edit(&s.VPCs[0].Instances[len(s.VPCs[0].Instances)-1].Forwards[0], &s.VPCs[1])
		return s
	}
	tests := []struct {
		name   string
		before Spec // applied before the flow opens
		after  Spec // applied while it is held
		wait   time.Duration
		reset  bool
	}{
		{
			name:   "a flow idle longer than the listener's idle timeout",
			before: with(transitTargets, func(f *Forward, c *VPC) { setIdle(f, c, 2*time.Second) }),
			wait:   3500 * time.Millisecond,
			reset:  true,
		},
		{
			// Rebuilding the NAT rules must not take the timeout from
			// flows that have it.
			name:   "a flow keeps its idle timeout when the listeners change",
			before: with(transitTargets, func(f *Forward, c *VPC) { setIdle(f, c, 2*time.Second) }),
			after: with(transitTargets, func(f *Forward, c *VPC) {
				setIdle(f, c, 2*time.Second)
				c.Endpoints = c.Endpoints[:2]
			}),
			wait:  3500 * time.Millisecond,
			reset: true,
		},
		{
			name:   "a flow idle for less than the timeout carries on",
			before: with(transitTargets, func(f *Forward, c *VPC) { setIdle(f, c, 20*time.Second) }),
			wait:   1500 * time.Millisecond,
		},
		{
			name:   "a deregistered target's flows are reset when its group terminates them",
			before: transitSpec(transitTargets),
			after: with(onlyT3, func(f *Forward, _ *VPC) {
				f.ResetUnregistered, f.Registered = true, onlyT3
			}),
			reset: true,
		},
		{
			name:   "a draining target keeps its flows though the group terminates them later",
			before: transitSpec(transitTargets),
			after: with(onlyT3, func(f *Forward, _ *VPC) {
				f.ResetUnregistered, f.Registered = true, t1t3
			}),
		},
		{
			name:   "a target to reset loses its flows",
			before: transitSpec(transitTargets),
			after:  with(onlyT3, func(f *Forward, _ *VPC) { f.Reset = transitTargets }),
			reset:  true,
		},
		{
			// As the reconciler gives it: no listeners, and its
			// interface, which carries no traffic, no groups.
			name:   "a rejected endpoint's flows are reset",
			before: transitSpec(transitTargets),
			after: with(transitTargets, func(_ *Forward, c *VPC) {
				c.Endpoints = nil
				c.Firewall.Interfaces[len(c.Firewall.Interfaces)-1].Groups = nil
			}),
			reset: true,
		},
		{
			name:   "a deleted endpoint's flows are reset",
			before: transitSpec(transitTargets),
			after: with(transitTargets, func(_ *Forward, c *VPC) {
				c.Endpoints, c.LocalAddrs = nil, nil
				c.Firewall.Interfaces = c.Firewall.Interfaces[:len(c.Firewall.Interfaces)-1]
			}),
			reset: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apply(t, l, tt.before)
			conn, r := holdFlow(t, ns(c1), ep80, "t1 ")
			if tt.after.VPCs != nil {
				apply(t, l, tt.after)
			}
			time.Sleep(tt.wait)
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, "ping\n"); err != nil && !tt.reset {
				t.Fatal(err)
			}
			line, err := r.ReadString('\n')
			switch {
			case tt.reset && !errors.Is(err, syscall.ECONNRESET):
				t.Errorf("held flow read %q, %v; want a reset", line, err)
			case !tt.reset && line != "ping\n":
				t.Errorf("held flow read %q, %v; want its echo", line, err)
			}
		})
	}
}

func setIdle(f *Forward, c *VPC, d time.Duration) {
	f.IdleTimeout = d
	for i := range c.Endpoints {
		c.Endpoints[i].IdleTimeout = d
	}
}

// holdFlow opens a flow from a namespace and reads its greeting, which
// must start with banner.
func holdFlow(t *testing.T, from string, to netip.AddrPort, banner string) (net.Conn, *bufio.Reader) {
	t.Helper()
	client, err := netns.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := client.DialTCP(ctx, netip.Addr{}, to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if line, err := r.ReadString('\n'); !strings.HasPrefix(line, banner) {
		t.Fatalf("flow to %v greeted %q, %v; want %q…", to, line, err, banner)
	}
	return conn, r
}
