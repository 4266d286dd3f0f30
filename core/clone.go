package core

import (
	"maps"
	"slices"
)

// cloner is a stored type with a clone method.
type cloner[T any] interface{ clone() T }

// clonable reports whether *T has a clone method.
func clonable[T any]() bool {
	_, ok := any((*T)(nil)).(cloner[T])
	return ok
}

// cloneOf returns a deep copy of v, whose type must be clonable.
func cloneOf[T any](v *T) *T {
	c := any(v).(cloner[T]).clone()
	return &c
}

// Deep copies of stored objects. A view's objects are shared (see memo), so
// whatever a call returns is built from copies: callers own what they get.
// Every element type of these slices holds only values and strings, so
// cloning a slice copies all of it.

func (v *VPC) clone() VPC {
	c := *v
	c.Tags = slices.Clone(v.Tags)
	return c
}

func (s *Subnet) clone() Subnet {
	c := *s
	c.Tags = slices.Clone(s.Tags)
	return c
}

func (g *SecurityGroup) clone() SecurityGroup {
	c := *g
	c.Rules = slices.Clone(g.Rules)
	c.Tags = slices.Clone(g.Tags)
	return c
}

func (in *Instance) clone() Instance {
	c := *in
	c.SecurityGroupIDs = slices.Clone(in.SecurityGroupIDs)
	c.UserData = slices.Clone(in.UserData)
	c.Tags = slices.Clone(in.Tags)
	return c
}

func (e *NetworkInterface) clone() NetworkInterface {
	c := *e
	c.SecurityGroupIDs = slices.Clone(e.SecurityGroupIDs)
	c.Tags = slices.Clone(e.Tags)
	return c
}

func (lb *LoadBalancer) clone() LoadBalancer {
	c := *lb
	c.Nodes = slices.Clone(lb.Nodes)
	c.Attributes = maps.Clone(lb.Attributes)
	c.Tags = slices.Clone(lb.Tags)
	return c
}

func (g *TargetGroup) clone() TargetGroup {
	c := *g
	c.Targets = slices.Clone(g.Targets)
	c.Attributes = maps.Clone(g.Attributes)
	c.Tags = slices.Clone(g.Tags)
	return c
}

func (l *Listener) clone() Listener {
	c := *l
	c.DefaultActions = slices.Clone(l.DefaultActions)
	c.Attributes = maps.Clone(l.Attributes)
	c.Tags = slices.Clone(l.Tags)
	return c
}

func (s *EndpointService) clone() EndpointService {
	c := *s
	c.NetworkLoadBalancerARNs = slices.Clone(s.NetworkLoadBalancerARNs)
	c.AllowedPrincipals = slices.Clone(s.AllowedPrincipals)
	c.SupportedIPAddressTypes = slices.Clone(s.SupportedIPAddressTypes)
	c.Tags = slices.Clone(s.Tags)
	return c
}

func (e *VpcEndpoint) clone() VpcEndpoint {
	c := *e
	c.SubnetIDs = slices.Clone(e.SubnetIDs)
	c.NetworkInterfaceIDs = slices.Clone(e.NetworkInterfaceIDs)
	c.SecurityGroupIDs = slices.Clone(e.SecurityGroupIDs)
	c.Tags = slices.Clone(e.Tags)
	return c
}
