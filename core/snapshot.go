package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Snapshot is the whole state at one store revision, indexed by ID. It is
// what reconcilers compute desired state from. Treat it as read-only.
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
}

// LoadSnapshot reads the whole state in one consistent read.
func (c *Cloud) LoadSnapshot(ctx context.Context) (*Snapshot, error) {
	kvs, rev, err := c.st.List(ctx, "")
	if err != nil {
		return nil, wrapStoreErr(err)
	}
	s := &Snapshot{
		Revision:         rev,
		VPCs:             map[string]*VPC{},
		Subnets:          map[string]*Subnet{},
		SecurityGroups:   map[string]*SecurityGroup{},
		Instances:        map[string]*Instance{},
		ENIs:             map[string]*NetworkInterface{},
		LoadBalancers:    map[string]*LoadBalancer{},
		TargetGroups:     map[string]*TargetGroup{},
		Listeners:        map[string]*Listener{},
		TargetHealth:     map[string]*TargetHealth{},
		EndpointServices: map[string]*EndpointService{},
		Endpoints:        map[string]*VpcEndpoint{},
	}
	for _, kv := range kvs {
		var err error
		switch {
		case strings.HasPrefix(kv.Key, prefixVPCs):
			err = decodeInto(kv.Key, kv.Value, prefixVPCs, s.VPCs)
		case strings.HasPrefix(kv.Key, prefixSubnets):
			err = decodeInto(kv.Key, kv.Value, prefixSubnets, s.Subnets)
		case strings.HasPrefix(kv.Key, prefixSecurityGroups):
			err = decodeInto(kv.Key, kv.Value, prefixSecurityGroups, s.SecurityGroups)
		case strings.HasPrefix(kv.Key, prefixInstances):
			err = decodeInto(kv.Key, kv.Value, prefixInstances, s.Instances)
		case strings.HasPrefix(kv.Key, prefixENIs):
			err = decodeInto(kv.Key, kv.Value, prefixENIs, s.ENIs)
		case strings.HasPrefix(kv.Key, prefixLoadBalancers):
			err = decodeInto(kv.Key, kv.Value, prefixLoadBalancers, s.LoadBalancers)
		case strings.HasPrefix(kv.Key, prefixTargetGroups):
			err = decodeInto(kv.Key, kv.Value, prefixTargetGroups, s.TargetGroups)
		case strings.HasPrefix(kv.Key, prefixListeners):
			err = decodeInto(kv.Key, kv.Value, prefixListeners, s.Listeners)
		case strings.HasPrefix(kv.Key, prefixTargetHealth):
			err = decodeInto(kv.Key, kv.Value, prefixTargetHealth, s.TargetHealth)
		case strings.HasPrefix(kv.Key, prefixEndpointServices):
			err = decodeInto(kv.Key, kv.Value, prefixEndpointServices, s.EndpointServices)
		case strings.HasPrefix(kv.Key, prefixEndpoints):
			err = decodeInto(kv.Key, kv.Value, prefixEndpoints, s.Endpoints)
		}
		if err != nil {
			return nil, wrapStoreErr(err)
		}
	}
	return s, nil
}

func decodeInto[T any](key string, value []byte, prefix string, m map[string]*T) error {
	v := new(T)
	if err := json.Unmarshal(value, v); err != nil {
		return fmt.Errorf("core: decode %s: %w", key, err)
	}
	m[strings.TrimPrefix(key, prefix)] = v
	return nil
}
