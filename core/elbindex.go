package core

import (
	"maps"
	"slices"
)

// ELBIndex finds a snapshot's load balancers, target groups and listeners
// by the links between them (ARNs in listeners and services, load balancer
// IDs in listeners). Build it once per derivation with (*Snapshot).ELBIndex.
type ELBIndex struct {
	lbByARN     map[string]*LoadBalancer
	tgByARN     map[string]*TargetGroup
	listenersOf map[string][]*Listener // by load balancer ID, in listener ID order
}

// ELBIndex indexes the snapshot's load balancing objects.
func (s *Snapshot) ELBIndex() ELBIndex {
	x := ELBIndex{lbByARN: map[string]*LoadBalancer{}, tgByARN: map[string]*TargetGroup{}, listenersOf: map[string][]*Listener{}}
	for _, lb := range s.LoadBalancers {
		x.lbByARN[lb.ARN] = lb
	}
	for _, tg := range s.TargetGroups {
		x.tgByARN[tg.ARN] = tg
	}
	for _, id := range slices.Sorted(maps.Keys(s.Listeners)) {
		l := s.Listeners[id]
		x.listenersOf[l.LoadBalancerID] = append(x.listenersOf[l.LoadBalancerID], l)
	}
	return x
}

// LoadBalancer returns the load balancer with the ARN, or nil.
func (x ELBIndex) LoadBalancer(arn string) *LoadBalancer { return x.lbByARN[arn] }

// TargetGroup returns the target group with the ARN, or nil.
func (x ELBIndex) TargetGroup(arn string) *TargetGroup { return x.tgByARN[arn] }

// Listeners returns a load balancer's listeners, in ID order.
func (x ELBIndex) Listeners(lbID string) []*Listener { return x.listenersOf[lbID] }

// Forward returns the target group a listener forwards to, or nil.
func (x ELBIndex) Forward(l *Listener) *TargetGroup {
	for _, a := range l.DefaultActions {
		if a.Type == "forward" {
			return x.tgByARN[a.TargetGroupARN]
		}
	}
	return nil
}
