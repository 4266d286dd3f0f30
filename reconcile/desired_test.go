package reconcile

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/core"
)

// TestNodeForwards checks what the node in zone a forwards a listener to
// and which flows it ends, for a group of three IP targets: .10 and .11 in
// zone a, .12 in zone b.
func TestNodeForwards(t *testing.T) {
	type target struct {
		ip, zone, state string
		draining        bool
	}
	targets := func(states ...string) []target {
		return []target{{"10.0.1.10", "us-east-1a", states[0], false}, {"10.0.1.11", "us-east-1a", states[1], false}, {"10.0.2.12", "us-east-1b", states[2], false}}
	}
	h, u, i := core.TargetHealthy, core.TargetUnhealthy, core.TargetInitial
	tests := []struct {
		name       string
		targets    []target
		tgAttrs    map[string]string
		lbAttrs    map[string]string
		listener   map[string]string
		want       []string // targets of new flows
		wantReset  []string
		wantUnreg  bool
		wantIdle   time.Duration
		wantAbsent bool
		// instances makes the targets instances (IDs from their
		// addresses); terminated names the one that is terminated.
		instances      bool
		terminated     string
		wantRegistered []string // default: every target
	}{
		{name: "healthy targets of the node's zone", targets: targets(i, h, h), want: []string{"10.0.1.11:80"}, wantIdle: 350 * time.Second},
		{name: "both healthy in the zone", targets: targets(h, h, h), want: []string{"10.0.1.10:80", "10.0.1.11:80"}},
		{name: "none healthy in the zone: fail open within it", targets: targets(i, i, h), want: []string{"10.0.1.10:80", "10.0.1.11:80"}},
		{name: "cross-zone from the load balancer", targets: targets(h, i, h), lbAttrs: map[string]string{core.AttrCrossZone: "true"},
			want: []string{"10.0.1.10:80", "10.0.2.12:80"}},
		{name: "the group overrides the load balancer's cross-zone", targets: targets(h, i, h),
			lbAttrs: map[string]string{core.AttrCrossZone: "true"}, tgAttrs: map[string]string{core.AttrCrossZone: "false"},
			want: []string{"10.0.1.10:80"}},
		{name: "unhealthy targets' flows are reset by default", targets: targets(h, u, u), want: []string{"10.0.1.10:80"},
			wantReset: []string{"10.0.1.11:80", "10.0.2.12:80"}},
		{name: "unless the group keeps them", targets: targets(h, u, u), want: []string{"10.0.1.10:80"},
			tgAttrs: map[string]string{core.AttrUnhealthyTermination: "false"}},
		{name: "all unhealthy: fail open, nothing reset", targets: targets(u, u, u), want: []string{"10.0.1.10:80", "10.0.1.11:80"}},
		{name: "a draining target gets no new flows", targets: []target{{"10.0.1.10", "us-east-1a", h, true}, {"10.0.1.11", "us-east-1a", h, false}},
			want: []string{"10.0.1.11:80"}},
		{name: "termination at the end of deregistration", targets: targets(h, h, h), want: []string{"10.0.1.10:80", "10.0.1.11:80"},
			tgAttrs: map[string]string{core.AttrDeregistrationTermination: "true"}, wantUnreg: true},
		{name: "the listener's idle timeout", targets: targets(h, h, h), want: []string{"10.0.1.10:80", "10.0.1.11:80"},
			listener: map[string]string{core.AttrTCPIdleTimeout: "60"}, wantIdle: time.Minute},
		{name: "PROXY protocol goes through the proxy", targets: targets(h, h, h), tgAttrs: map[string]string{core.AttrProxyProtocolV2: "true"}, wantAbsent: true},
		{name: "a terminated instance's flows are reset", instances: true, targets: targets(h, h, h), terminated: "10.0.1.11",
			want: []string{"10.0.1.10:80"}, wantReset: []string{"10.0.1.11:80"}, wantRegistered: []string{"10.0.1.10:80", "10.0.2.12:80"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := &core.TargetGroup{ID: "tg1", ARN: "arn:tg1", TargetType: core.TargetTypeIP, Attributes: tc.tgAttrs}
			if tc.instances {
				tg.TargetType = core.TargetTypeInstance
			}
			s := &core.Snapshot{
				LoadBalancers: map[string]*core.LoadBalancer{"lb1": {ID: "lb1", ARN: "arn:lb1", Attributes: tc.lbAttrs}},
				TargetGroups:  map[string]*core.TargetGroup{"tg1": tg},
				Listeners: map[string]*core.Listener{"l1": {ID: "l1", LoadBalancerID: "lb1", Port: 8080, Attributes: tc.listener,
					DefaultActions: []core.ListenerAction{{Type: "forward", TargetGroupARN: "arn:tg1"}}}},
				TargetHealth: map[string]*core.TargetHealth{},
				Instances:    map[string]*core.Instance{},
			}
			var registered []string
			for _, x := range tc.targets {
				id := x.ip
				if tc.instances {
					id = "i-" + strings.ReplaceAll(x.ip, ".", "")
					state := core.InstanceRunning
					if x.ip == tc.terminated {
						state = core.InstanceTerminated
					}
					s.Instances[id] = &core.Instance{ID: id, PrivateIP: netip.MustParseAddr(x.ip), AvailabilityZone: x.zone, State: state}
				}
				ct := core.Target{ID: id, Port: 80, AvailabilityZone: x.zone}
				if x.draining {
					ct.DeregisteredAt = time.Unix(1, 0)
				}
				tg.Targets = append(tg.Targets, ct)
				registered = append(registered, x.ip+":80")
				s.TargetHealth[fmt.Sprintf("tg1/%s:80", id)] = &core.TargetHealth{TargetGroupID: "tg1", TargetID: id, Port: 80, State: x.state}
			}
			fwds := nodeForwards(s, s.ELBIndex(), s.LoadBalancers["lb1"], "us-east-1a")
			if tc.wantAbsent {
				if len(fwds) != 0 {
					t.Fatalf("forwards %+v, want none", fwds)
				}
				return
			}
			if len(fwds) != 1 || fwds[0].Port != 8080 {
				t.Fatalf("forwards %+v, want one for port 8080", fwds)
			}
			f := fwds[0]
			strs := func(as []netip.AddrPort) []string {
				var out []string
				for _, a := range as {
					out = append(out, a.String())
				}
				return out
			}
			if got := strs(f.Targets); !slices.Equal(got, tc.want) {
				t.Errorf("targets %v, want %v", got, tc.want)
			}
			if got := strs(f.Reset); !slices.Equal(got, tc.wantReset) {
				t.Errorf("reset %v, want %v", got, tc.wantReset)
			}
			if tc.wantRegistered != nil {
				registered = tc.wantRegistered
			}
			if got := strs(f.Registered); !slices.Equal(got, registered) {
				t.Errorf("registered %v, want %v", got, registered)
			}
			if f.ResetUnregistered != tc.wantUnreg {
				t.Errorf("reset unregistered %v, want %v", f.ResetUnregistered, tc.wantUnreg)
			}
			if tc.wantIdle != 0 && f.IdleTimeout != tc.wantIdle {
				t.Errorf("idle timeout %v, want %v", f.IdleTimeout, tc.wantIdle)
			}
		})
	}
}
