package elbv2

import (
	"cmp"
	"context"
	"slices"

	"github.com/privlink/privlink/api/query"
	"github.com/privlink/privlink/core"
)

func (h *Handler) createLoadBalancer(ctx context.Context, caller core.Caller, in *CreateLoadBalancerInput) (*CreateLoadBalancerOutput, error) {
	var mappings []core.SubnetMapping
	for _, m := range in.SubnetMappings {
		mappings = append(mappings, core.SubnetMapping{
			SubnetID:           str(m.SubnetId),
			AllocationID:       str(m.AllocationId),
			PrivateIPv4Address: str(m.PrivateIPv4Address),
			IPv6Address:        str(m.IPv6Address),
		})
	}
	lb, err := h.cloud.CreateLoadBalancer(ctx, caller, core.CreateLoadBalancerInput{
		Name:                  str(in.Name),
		Type:                  str(in.Type),
		Scheme:                str(in.Scheme),
		IPAddressType:         str(in.IpAddressType),
		Subnets:               in.Subnets,
		SubnetMappings:        mappings,
		SecurityGroups:        in.SecurityGroups,
		CustomerOwnedIPv4Pool: str(in.CustomerOwnedIpv4Pool),
		Tags:                  coreTags(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &CreateLoadBalancerOutput{LoadBalancers: []LoadBalancer{toLoadBalancer(lb)}}, nil
}

func (h *Handler) describeLoadBalancers(ctx context.Context, caller core.Caller, in *DescribeLoadBalancersInput) (*DescribeLoadBalancersOutput, error) {
	p, err := newPager("loadbalancers", in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	lbs, err := h.cloud.DescribeLoadBalancers(ctx, caller, core.DescribeLoadBalancersInput{
		LoadBalancerARNs: in.LoadBalancerArns,
		Names:            in.Names,
	})
	if err != nil {
		return nil, err
	}
	listing := len(in.LoadBalancerArns) == 0 && len(in.Names) == 0
	lbs, next, err := page(p, lbs, func(lb core.LoadBalancer) string { return createdKey(lb.CreatedAt, lb.ID) }, listing)
	if err != nil {
		return nil, err
	}
	out := &DescribeLoadBalancersOutput{LoadBalancers: make([]LoadBalancer, 0, len(lbs)), NextMarker: next}
	for _, lb := range lbs {
		out.LoadBalancers = append(out.LoadBalancers, toLoadBalancer(lb))
	}
	return out, nil
}

func (h *Handler) deleteLoadBalancer(ctx context.Context, caller core.Caller, in *DeleteLoadBalancerInput) (*DeleteLoadBalancerOutput, error) {
	if err := h.cloud.DeleteLoadBalancer(ctx, caller, str(in.LoadBalancerArn)); err != nil {
		return nil, err
	}
	return &DeleteLoadBalancerOutput{}, nil
}

// toLoadBalancer describes a load balancer as ELBv2 does a network load
// balancer without security groups: no SecurityGroups and no
// EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic, zones in name
// order, and each node's private address for internal load balancers.
// (Internet-facing ones would list Elastic IPs, which privlink has not.)
func toLoadBalancer(lb core.LoadBalancer) LoadBalancer {
	zones := make([]AvailabilityZone, 0, len(lb.Nodes))
	for _, n := range lb.Nodes {
		addrs := []LoadBalancerAddress{}
		if lb.Scheme == core.SchemeInternal && n.PrivateIP.IsValid() {
			addrs = append(addrs, LoadBalancerAddress{PrivateIPv4Address: new(n.PrivateIP.String())})
		}
		zones = append(zones, AvailabilityZone{
			ZoneName:              new(n.AvailabilityZone),
			SubnetId:              new(n.SubnetID),
			LoadBalancerAddresses: addrs,
		})
	}
	slices.SortStableFunc(zones, func(a, b AvailabilityZone) int { return cmp.Compare(*a.ZoneName, *b.ZoneName) })
	return LoadBalancer{
		LoadBalancerArn:       new(lb.ARN),
		DNSName:               new(lb.DNSName),
		CanonicalHostedZoneId: optional(lb.CanonicalHostedZoneID),
		CreatedTime:           query.NewTimestamp(lb.CreatedAt),
		LoadBalancerName:      new(lb.Name),
		Scheme:                new(lb.Scheme),
		VpcId:                 new(lb.VpcID),
		State:                 &LoadBalancerState{Code: new(lb.State), Reason: optional(lb.StateReason)},
		Type:                  new(lb.Type),
		AvailabilityZones:     zones,
		IpAddressType:         new(lb.IPAddressType),
	}
}
