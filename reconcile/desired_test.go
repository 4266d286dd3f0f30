package reconcile

import (
	"slices"
	"testing"

	"github.com/privlink/privlink/core"
)

// TestNodeForwardsHealth checks what a node forwards a listener to: the
// healthy targets, or all of them when none is healthy (an NLB fails open).
func TestNodeForwardsHealth(t *testing.T) {
	snap := func(healthy ...string) *core.Snapshot {
		s := &core.Snapshot{
			LoadBalancers: map[string]*core.LoadBalancer{"lb1": {ID: "lb1", ARN: "arn:lb1"}},
			TargetGroups: map[string]*core.TargetGroup{"tg1": {ID: "tg1", ARN: "arn:tg1", TargetType: "ip", Targets: []core.Target{
				{ID: "10.0.1.10", Port: 80}, {ID: "10.0.1.11", Port: 80},
			}}},
			Listeners: map[string]*core.Listener{"l1": {ID: "l1", LoadBalancerID: "lb1", Port: 8080,
				DefaultActions: []core.ListenerAction{{Type: "forward", TargetGroupARN: "arn:tg1"}}}},
			TargetHealth: map[string]*core.TargetHealth{},
		}
		for _, ip := range []string{"10.0.1.10", "10.0.1.11"} {
			state := core.TargetInitial
			if slices.Contains(healthy, ip) {
				state = core.TargetHealthy
			}
			s.TargetHealth["tg1/"+ip+":80"] = &core.TargetHealth{TargetGroupID: "tg1", TargetID: ip, Port: 80, State: state}
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		healthy []string
		want    []string
	}{
		{"one healthy", []string{"10.0.1.11"}, []string{"10.0.1.11:80"}},
		{"both healthy", []string{"10.0.1.10", "10.0.1.11"}, []string{"10.0.1.10:80", "10.0.1.11:80"}},
		{"none healthy: fail open", nil, []string{"10.0.1.10:80", "10.0.1.11:80"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := snap(tc.healthy...)
			fwds := nodeForwards(s, indexELB(s), s.LoadBalancers["lb1"])
			if len(fwds) != 1 || fwds[0].Port != 8080 {
				t.Fatalf("forwards %+v, want one for port 8080", fwds)
			}
			var got []string
			for _, a := range fwds[0].Targets {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("targets %v, want %v", got, tc.want)
			}
		})
	}
}
