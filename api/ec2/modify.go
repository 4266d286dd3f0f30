package ec2

import (
	"context"
	"strings"

	"github.com/privlink/privlink/core"
)

// Changes to live resources: endpoints, VPC attributes, interfaces'
// security groups, and egress rules.

func (h *Handler) modifyVpcEndpoint(ctx context.Context, caller core.Caller, in *ModifyVpcEndpointRequest) (any, error) {
	req := core.ModifyVpcEndpointInput{
		VpcEndpointID:          deref(in.VpcEndpointId),
		AddSubnetIDs:           in.AddSubnetIds,
		RemoveSubnetIDs:        in.RemoveSubnetIds,
		AddSecurityGroupIDs:    in.AddSecurityGroupIds,
		RemoveSecurityGroupIDs: in.RemoveSecurityGroupIds,
		PrivateDNSEnabled:      in.PrivateDnsEnabled,
		PolicyDocument:         deref(in.PolicyDocument),
		ResetPolicy:            deref(in.ResetPolicy),
		AddRouteTableIDs:       in.AddRouteTableIds,
		RemoveRouteTableIDs:    in.RemoveRouteTableIds,
		IPAddressType:          deref(in.IpAddressType),
	}
	if o := in.DnsOptions; o != nil {
		req.DNSRecordIPType = deref(o.DnsRecordIpType)
		req.PrivateDNSOnlyForInboundResolverEndpoint = o.PrivateDnsOnlyForInboundResolverEndpoint
	}
	for _, sc := range in.SubnetConfigurations {
		req.SubnetConfigurations = append(req.SubnetConfigurations, core.SubnetConfiguration{
			SubnetID: deref(sc.SubnetId), IPv4: deref(sc.Ipv4), IPv6: deref(sc.Ipv6),
		})
	}
	if err := h.cloud.ModifyVpcEndpoint(ctx, caller, req); err != nil {
		return nil, err
	}
	return &ModifyVpcEndpointResult{Return: new(true)}, nil
}

// attributeBool is the value of an AttributeBooleanValue, nil when the
// request did not give one.
func attributeBool(v *AttributeBooleanValue) *bool {
	if v == nil {
		return nil
	}
	return v.Value
}

func (h *Handler) modifyVpcAttribute(ctx context.Context, caller core.Caller, in *ModifyVpcAttributeRequest) (any, error) {
	return nil, h.cloud.ModifyVpcAttribute(ctx, caller, core.ModifyVpcAttributeInput{
		VpcID:                            deref(in.VpcId),
		EnableDNSSupport:                 attributeBool(in.EnableDnsSupport),
		EnableDNSHostnames:               attributeBool(in.EnableDnsHostnames),
		EnableNetworkAddressUsageMetrics: attributeBool(in.EnableNetworkAddressUsageMetrics),
	})
}

func (h *Handler) describeVpcAttribute(ctx context.Context, caller core.Caller, in *DescribeVpcAttributeRequest) (any, error) {
	a, err := h.cloud.DescribeVpcAttribute(ctx, caller, deref(in.VpcId), deref(in.Attribute))
	if err != nil {
		return nil, err
	}
	out := &DescribeVpcAttributeResult{VpcId: new(a.VpcID)}
	v := &AttributeBooleanValue{Value: new(a.Value)}
	switch a.Name {
	case core.VpcAttributeDNSSupport:
		out.EnableDnsSupport = v
	case core.VpcAttributeDNSHostnames:
		out.EnableDnsHostnames = v
	case core.VpcAttributeAddressUseMetrics:
		out.EnableNetworkAddressUsageMetrics = v
	}
	return out, nil
}

func (h *Handler) modifyNetworkInterfaceAttribute(ctx context.Context, caller core.Caller, in *ModifyNetworkInterfaceAttributeRequest) (any, error) {
	req := core.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceID: deref(in.NetworkInterfaceId),
		Groups:             in.Groups,
		SourceDestCheck:    attributeBool(in.SourceDestCheck),
	}
	if in.Description != nil {
		req.Description = new(deref(in.Description.Value))
	}
	// The attributes core does not change, by the names EC2's error
	// messages give them.
	for _, other := range []struct {
		name string
		set  bool
	}{
		{"attachment", in.Attachment != nil},
		{"enaSrdSpecification", in.EnaSrdSpecification != nil},
		{"enablePrimaryIpv6", in.EnablePrimaryIpv6 != nil},
		{"connectionTrackingSpecification", in.ConnectionTrackingSpecification != nil},
		{"associatePublicIpAddress", in.AssociatePublicIpAddress != nil},
	} {
		if other.set {
			req.Other = append(req.Other, other.name)
		}
	}
	return nil, h.cloud.ModifyNetworkInterfaceAttribute(ctx, caller, req)
}

// egressRules is the core request of AuthorizeSecurityGroupEgress and
// RevokeSecurityGroupEgress, whose legacy flat fields mean what they mean
// for ingress.
func egressRules(groupID *string, perms []IpPermission, proto, cidr, srcName, srcOwner *string, from, to *int32) core.SecurityGroupRulesInput {
	return core.SecurityGroupRulesInput{
		GroupID:                    deref(groupID),
		IPPermissions:              corePermissions(perms),
		IPProtocol:                 deref(proto),
		FromPort:                   from,
		ToPort:                     to,
		CidrIP:                     deref(cidr),
		SourceSecurityGroupName:    deref(srcName),
		SourceSecurityGroupOwnerID: deref(srcOwner),
	}
}

func (h *Handler) authorizeSecurityGroupEgress(ctx context.Context, caller core.Caller, in *AuthorizeSecurityGroupEgressRequest) (any, error) {
	req := egressRules(in.GroupId, in.IpPermissions, in.IpProtocol, in.CidrIp, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort)
	req.TagSpecifications = tagSpecifications(in.TagSpecifications)
	rules, err := h.cloud.AuthorizeSecurityGroupEgress(ctx, caller, req)
	if err != nil {
		return nil, err
	}
	out := &AuthorizeSecurityGroupEgressResult{Return: new(true), SecurityGroupRules: make([]SecurityGroupRule, len(rules))}
	for i, r := range rules {
		out.SecurityGroupRules[i] = securityGroupRule(r)
	}
	return out, nil
}

func (h *Handler) revokeSecurityGroupEgress(ctx context.Context, caller core.Caller, in *RevokeSecurityGroupEgressRequest) (any, error) {
	req := egressRules(in.GroupId, in.IpPermissions, in.IpProtocol, in.CidrIp, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort)
	req.SecurityGroupRuleIDs = in.SecurityGroupRuleIds
	if _, err := h.cloud.RevokeSecurityGroupEgress(ctx, caller, req); err != nil {
		return nil, err
	}
	return &RevokeSecurityGroupEgressResult{Return: new(true)}, nil
}

// DescribeSecurityGroupRules' filters: the two that name rules; rules have
// no tags in privlink.
const (
	filterGroupID = "group-id"
	filterRuleID  = "security-group-rule-id"
)

func (h *Handler) describeSecurityGroupRules(ctx context.Context, caller core.Caller, in *DescribeSecurityGroupRulesRequest) (any, error) {
	p, err := newPager("DescribeSecurityGroupRules", in.MaxResults, in.NextToken, false)
	if err != nil {
		return nil, err
	}
	req := core.DescribeSecurityGroupRulesInput{RuleIDs: in.SecurityGroupRuleIds}
	var ruleFilter []string
	for _, f := range in.Filters {
		switch name := deref(f.Name); {
		case name == filterGroupID:
			req.GroupIDs = append(req.GroupIDs, f.Values...)
			if len(f.Values) == 0 {
				return nil, core.Errorf(core.KindInvalid, "InvalidParameterValue", "The filter '%s' must have at least one value.", name)
			}
		case name == filterRuleID:
			ruleFilter = append(ruleFilter, f.Values...)
			if len(f.Values) == 0 {
				return nil, core.Errorf(core.KindInvalid, "InvalidParameterValue", "The filter '%s' must have at least one value.", name)
			}
		case strings.HasPrefix(name, "tag:") || name == "tag-key":
			return nil, core.Errorf(core.KindInvalid, "UnsupportedOperation",
				"The filter '%s' is not supported: privlink security group rules have no tags.", name)
		default:
			return nil, core.Errorf(core.KindInvalid, "InvalidParameterValue", "The filter '%s' is invalid", truncate(name, 128))
		}
	}
	rules, err := h.cloud.DescribeSecurityGroupRules(ctx, caller, req)
	if err != nil {
		return nil, err
	}
	if ruleFilter != nil {
		// A filter, unlike SecurityGroupRuleId, only narrows: rules it
		// does not find are no error.
		kept := rules[:0]
		for _, r := range rules {
			for _, id := range ruleFilter {
				if r.Rule.ID == id {
					kept = append(kept, r)
					break
				}
			}
		}
		rules = kept
	}
	rules, next := page(p, rules, func(r core.SecurityGroupRuleDescription) string { return r.Rule.ID })
	out := &DescribeSecurityGroupRulesResult{SecurityGroupRules: make([]SecurityGroupRule, len(rules)), NextToken: next}
	for i, r := range rules {
		out.SecurityGroupRules[i] = securityGroupRule(r)
		out.SecurityGroupRules[i].Tags = []Tag{}
	}
	return out, nil
}
