package core

import (
	"context"
	"slices"
	"strings"
)

// Snapshot is the whole state at one store revision, indexed by ID. It is
// what reconcilers compute desired state from. Its objects are shared with
// the API's reads and with other snapshots: never modify them.
type Snapshot struct {
	Revision         int64
	VPCs             map[string]*VPC
	Subnets          map[string]*Subnet
	SecurityGroups   map[string]*SecurityGroup
	Instances        map[string]*Instance
	ENIs             map[string]*NetworkInterface
	LoadBalancers    map[string]*LoadBalancer // by ID
	TargetGroups     map[string]*TargetGroup  // by ID
	Listeners        map[string]*Listener     // by ID
	TargetHealth     map[string]*TargetHealth // by <tg id>/<target id>:<port>
	EndpointServices map[string]*EndpointService
	Endpoints        map[string]*VpcEndpoint
	HostedZones      map[string]*HostedZone // by ID
	// RecordSets are each hosted zone's record sets, by zone ID, in
	// ListResourceRecordSets order.
	RecordSets map[string][]*ResourceRecordSet
}

// LoadSnapshot reads the whole state in one consistent read. Objects that
// have not changed since an earlier read are not decoded again.
func (c *Cloud) LoadSnapshot(ctx context.Context) (*Snapshot, error) {
	return c.loadSnapshot(ctx, true)
}

// LoadSnapshotWithoutLab is LoadSnapshot without the kinds that only a
// lab's data path reads: SecurityGroups, Listeners and TargetHealth are nil.
// A server without a lab reconciles lifecycles and DNS from the rest, and
// reading every security group on every pass would cost it time in
// proportion to how many the store holds.
func (c *Cloud) LoadSnapshotWithoutLab(ctx context.Context) (*Snapshot, error) {
	return c.loadSnapshot(ctx, false)
}

func (c *Cloud) loadSnapshot(ctx context.Context, lab bool) (*Snapshot, error) {
	s := &Snapshot{}
	rev, err := c.viewRev(ctx, func(t *txn) error {
		steps := []func() error{
			loadKind(t, prefixVPCs, &s.VPCs),
			loadKind(t, prefixSubnets, &s.Subnets),
			loadKind(t, prefixInstances, &s.Instances),
			loadKind(t, prefixENIs, &s.ENIs),
			loadKind(t, prefixLoadBalancers, &s.LoadBalancers),
			loadKind(t, prefixTargetGroups, &s.TargetGroups),
			loadKind(t, prefixEndpointServices, &s.EndpointServices),
			loadKind(t, prefixEndpoints, &s.Endpoints),
			loadKind(t, prefixHostedZones, &s.HostedZones),
			loadRecordSets(t, &s.RecordSets),
		}
		if lab {
			steps = append(steps,
				loadKind(t, prefixSecurityGroups, &s.SecurityGroups),
				loadKind(t, prefixListeners, &s.Listeners),
				loadKind(t, prefixTargetHealth, &s.TargetHealth),
			)
		}
		return firstErr(steps...)
	})
	if err != nil {
		return nil, err
	}
	s.Revision = rev
	return s, nil
}

// loadKind reads every object under prefix into *m, by key without the
// prefix.
func loadKind[T any](t *txn, prefix string, m *map[string]*T) func() error {
	return func() error {
		*m = make(map[string]*T, t.memo.sizeHint(prefix))
		return scan(t.memo, t.rx, prefix, func(key string, v *T) { (*m)[strings.TrimPrefix(key, prefix)] = v })
	}
}

// firstErr runs steps in order until one fails.
func firstErr(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// Health returns a target's health record in the snapshot, or nil if it has
// none yet.
func (s *Snapshot) Health(targetGroupID, targetID string, port int32) *TargetHealth {
	return s.TargetHealth[strings.TrimPrefix(keyTargetHealth(targetGroupID, targetID, port), prefixTargetHealth)]
}

// loadRecordSets reads every record set into *m, by zone ID, in key order.
func loadRecordSets(t *txn, m *map[string][]*ResourceRecordSet) func() error {
	return func() error {
		*m = map[string][]*ResourceRecordSet{}
		return scan(t.memo, t.rx, prefixRecordSets, func(_ string, v *ResourceRecordSet) {
			(*m)[v.ZoneID] = append((*m)[v.ZoneID], v)
		})
	}
}

// PrivateZonesOf returns the private hosted zones associated with the VPC,
// in ID order. Two of them never have the same name.
func (s *Snapshot) PrivateZonesOf(vpcID string) []*HostedZone {
	var out []*HostedZone
	for _, z := range s.HostedZones {
		if z.Private && slices.ContainsFunc(z.VPCs, func(v ZoneVPC) bool { return v.VpcID == vpcID }) {
			out = append(out, z)
		}
	}
	slices.SortFunc(out, func(a, b *HostedZone) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// PublicZones returns the public hosted zones of every account, in ID
// order. Several may have the same name.
func (s *Snapshot) PublicZones() []*HostedZone {
	var out []*HostedZone
	for _, z := range s.HostedZones {
		if !z.Private {
			out = append(out, z)
		}
	}
	slices.SortFunc(out, func(a, b *HostedZone) int { return strings.Compare(a.ID, b.ID) })
	return out
}
