package ec2

import (
	"context"

	"github.com/privlink/privlink/core"
)

// VPCs, subnets, security groups, zones and regions.

func (h *Handler) createVpc(ctx context.Context, caller core.Caller, in *CreateVpcRequest) (any, error) {
	v, err := h.cloud.CreateVpc(ctx, caller, core.CreateVpcInput{
		CidrBlock:                       deref(in.CidrBlock),
		InstanceTenancy:                 deref(in.InstanceTenancy),
		AmazonProvidedIpv6CidrBlock:     deref(in.AmazonProvidedIpv6CidrBlock),
		Ipv6CidrBlock:                   deref(in.Ipv6CidrBlock),
		Ipv6Pool:                        deref(in.Ipv6Pool),
		Ipv6CidrBlockNetworkBorderGroup: deref(in.Ipv6CidrBlockNetworkBorderGroup),
		Ipv4IpamPoolID:                  deref(in.Ipv4IpamPoolId),
		Ipv4NetmaskLength:               in.Ipv4NetmaskLength,
		Ipv6IpamPoolID:                  deref(in.Ipv6IpamPoolId),
		Ipv6NetmaskLength:               in.Ipv6NetmaskLength,
		TagSpecifications:               tagSpecifications(in.TagSpecifications),
	})
	if err != nil {
		return nil, err
	}
	out := vpcShape(v)
	// CreateVpc writes the empty IPv6 set; DescribeVpcs leaves it out.
	out.Ipv6CidrBlockAssociationSet = []VpcIpv6CidrBlockAssociation{}
	return &CreateVpcResult{Vpc: &out}, nil
}

func (h *Handler) describeVpcs(ctx context.Context, caller core.Caller, in *DescribeVpcsRequest) (any, error) {
	p, err := newPager("DescribeVpcs", in.MaxResults, in.NextToken, false)
	if err != nil {
		return nil, err
	}
	vpcs, err := h.cloud.DescribeVpcs(ctx, caller, core.DescribeVpcsInput{VpcIDs: in.VpcIds})
	if err != nil {
		return nil, err
	}
	vpcs, next := page(p, vpcs, func(v core.VPC) string { return v.ID })
	out := &DescribeVpcsResult{Vpcs: make([]Vpc, len(vpcs)), NextToken: next}
	for i, v := range vpcs {
		out.Vpcs[i] = vpcShape(v)
	}
	return out, nil
}

func vpcShape(v core.VPC) Vpc {
	return Vpc{
		CidrBlock:       new(v.CIDR.String()),
		DhcpOptionsId:   new(v.DHCPOptionsID),
		State:           new(v.State),
		VpcId:           new(v.ID),
		OwnerId:         new(v.OwnerID),
		InstanceTenancy: new(v.InstanceTenancy),
		CidrBlockAssociationSet: []VpcCidrBlockAssociation{{
			AssociationId:  new(v.CIDRAssociationID),
			CidrBlock:      new(v.CIDR.String()),
			CidrBlockState: &VpcCidrBlockState{State: new("associated")},
		}},
		IsDefault: new(v.IsDefault),
		Tags:      tagSet(v.Tags),
	}
}

func (h *Handler) deleteVpc(ctx context.Context, caller core.Caller, in *DeleteVpcRequest) (any, error) {
	return nil, h.cloud.DeleteVpc(ctx, caller, core.DeleteVpcInput{VpcID: deref(in.VpcId)})
}

func (h *Handler) createSubnet(ctx context.Context, caller core.Caller, in *CreateSubnetRequest) (any, error) {
	s, err := h.cloud.CreateSubnet(ctx, caller, core.CreateSubnetInput{
		VpcID:              deref(in.VpcId),
		CidrBlock:          deref(in.CidrBlock),
		AvailabilityZone:   deref(in.AvailabilityZone),
		AvailabilityZoneID: deref(in.AvailabilityZoneId),
		Ipv6CidrBlock:      deref(in.Ipv6CidrBlock),
		Ipv6Native:         deref(in.Ipv6Native),
		OutpostArn:         deref(in.OutpostArn),
		Ipv4IpamPoolID:     deref(in.Ipv4IpamPoolId),
		Ipv4NetmaskLength:  in.Ipv4NetmaskLength,
		Ipv6IpamPoolID:     deref(in.Ipv6IpamPoolId),
		Ipv6NetmaskLength:  in.Ipv6NetmaskLength,
		TagSpecifications:  tagSpecifications(in.TagSpecifications),
	})
	if err != nil {
		return nil, err
	}
	out := subnetShape(s)
	return &CreateSubnetResult{Subnet: &out}, nil
}

func (h *Handler) describeSubnets(ctx context.Context, caller core.Caller, in *DescribeSubnetsRequest) (any, error) {
	p, err := newPager("DescribeSubnets", in.MaxResults, in.NextToken, false)
	if err != nil {
		return nil, err
	}
	subnets, err := h.cloud.DescribeSubnets(ctx, caller, core.DescribeSubnetsInput{SubnetIDs: in.SubnetIds})
	if err != nil {
		return nil, err
	}
	subnets, next := page(p, subnets, func(s core.SubnetDescription) string { return s.ID })
	out := &DescribeSubnetsResult{Subnets: make([]Subnet, len(subnets)), NextToken: next}
	for i, s := range subnets {
		out.Subnets[i] = subnetShape(s)
	}
	return out, nil
}

// subnetShape is a subnet as EC2 shows an IPv4-only, non-default subnet
// that does not map public addresses.
func subnetShape(s core.SubnetDescription) Subnet {
	return Subnet{
		AvailabilityZone:            new(s.AvailabilityZone),
		AvailabilityZoneId:          new(s.AvailabilityZoneID),
		AvailableIpAddressCount:     new(s.AvailableIPAddressCount),
		CidrBlock:                   new(s.CIDR.String()),
		DefaultForAz:                new(false),
		MapPublicIpOnLaunch:         new(false),
		MapCustomerOwnedIpOnLaunch:  new(false),
		State:                       new(s.State),
		SubnetId:                    new(s.ID),
		VpcId:                       new(s.VpcID),
		OwnerId:                     new(s.OwnerID),
		AssignIpv6AddressOnCreation: new(false),
		Ipv6CidrBlockAssociationSet: []SubnetIpv6CidrBlockAssociation{},
		Tags:                        tagSet(s.Tags),
		SubnetArn:                   new(s.ARN),
		EnableDns64:                 new(false),
		Ipv6Native:                  new(false),
		PrivateDnsNameOptionsOnLaunch: &PrivateDnsNameOptionsOnLaunch{
			HostnameType:                    new("ip-name"),
			EnableResourceNameDnsARecord:    new(false),
			EnableResourceNameDnsAAAARecord: new(false),
		},
	}
}

func (h *Handler) deleteSubnet(ctx context.Context, caller core.Caller, in *DeleteSubnetRequest) (any, error) {
	return nil, h.cloud.DeleteSubnet(ctx, caller, core.DeleteSubnetInput{SubnetID: deref(in.SubnetId)})
}

func (h *Handler) createSecurityGroup(ctx context.Context, caller core.Caller, in *CreateSecurityGroupRequest) (any, error) {
	g, err := h.cloud.CreateSecurityGroup(ctx, caller, core.CreateSecurityGroupInput{
		GroupName:         deref(in.GroupName),
		Description:       deref(in.Description),
		VpcID:             deref(in.VpcId),
		TagSpecifications: tagSpecifications(in.TagSpecifications),
	})
	if err != nil {
		return nil, err
	}
	return &CreateSecurityGroupResult{GroupId: new(g.ID), Tags: tagSet(g.Tags)}, nil
}

func (h *Handler) describeSecurityGroups(ctx context.Context, caller core.Caller, in *DescribeSecurityGroupsRequest) (any, error) {
	p, err := newPager("DescribeSecurityGroups", in.MaxResults, in.NextToken, false)
	if err != nil {
		return nil, err
	}
	groups, err := h.cloud.DescribeSecurityGroups(ctx, caller, core.DescribeSecurityGroupsInput{
		GroupIDs: in.GroupIds, GroupNames: in.GroupNames,
	})
	if err != nil {
		return nil, err
	}
	groups, next := page(p, groups, func(g core.SecurityGroup) string { return g.ID })
	out := &DescribeSecurityGroupsResult{SecurityGroups: make([]SecurityGroup, len(groups)), NextToken: next}
	for i, g := range groups {
		out.SecurityGroups[i] = SecurityGroup{
			Description:         new(g.Description),
			GroupName:           new(g.Name),
			IpPermissions:       ipPermissions(core.IPPermissions(g.Rules, false)),
			OwnerId:             new(g.OwnerID),
			GroupId:             new(g.ID),
			IpPermissionsEgress: ipPermissions(core.IPPermissions(g.Rules, true)),
			Tags:                tagSet(g.Tags),
			VpcId:               new(g.VpcID),
		}
	}
	return out, nil
}

// ipPermissions writes grouped rules as EC2 does: every set present, empty
// or not.
func ipPermissions(perms []core.IPPermission) []IpPermission {
	out := make([]IpPermission, len(perms))
	for i, p := range perms {
		ip := IpPermission{
			FromPort:         p.FromPort,
			IpProtocol:       new(p.IPProtocol),
			IpRanges:         make([]IpRange, len(p.IPRanges)),
			Ipv6Ranges:       []Ipv6Range{},
			PrefixListIds:    []PrefixListId{},
			ToPort:           p.ToPort,
			UserIdGroupPairs: make([]UserIdGroupPair, len(p.UserIDGroupPairs)),
		}
		for j, r := range p.IPRanges {
			ip.IpRanges[j] = IpRange{CidrIp: new(r.CIDR), Description: optional(r.Description)}
		}
		for j, g := range p.UserIDGroupPairs {
			ip.UserIdGroupPairs[j] = UserIdGroupPair{
				Description: optional(g.Description),
				GroupId:     new(g.GroupID),
				UserId:      optional(g.UserID),
			}
		}
		out[i] = ip
	}
	return out
}

// corePermissions converts a request's IpPermissions.
func corePermissions(perms []IpPermission) []core.IPPermission {
	if len(perms) == 0 {
		return nil
	}
	out := make([]core.IPPermission, len(perms))
	for i, p := range perms {
		cp := core.IPPermission{IPProtocol: deref(p.IpProtocol), FromPort: p.FromPort, ToPort: p.ToPort}
		for _, r := range p.IpRanges {
			cp.IPRanges = append(cp.IPRanges, core.IPRange{CIDR: deref(r.CidrIp), Description: deref(r.Description)})
		}
		for _, r := range p.Ipv6Ranges {
			cp.IPv6Ranges = append(cp.IPv6Ranges, core.IPv6Range{CIDR: deref(r.CidrIpv6), Description: deref(r.Description)})
		}
		for _, l := range p.PrefixListIds {
			cp.PrefixListIDs = append(cp.PrefixListIDs, core.PrefixListID{ID: deref(l.PrefixListId), Description: deref(l.Description)})
		}
		for _, g := range p.UserIdGroupPairs {
			cp.UserIDGroupPairs = append(cp.UserIDGroupPairs, core.UserIDGroupPair{
				GroupID:                deref(g.GroupId),
				GroupName:              deref(g.GroupName),
				UserID:                 deref(g.UserId),
				VpcID:                  deref(g.VpcId),
				VpcPeeringConnectionID: deref(g.VpcPeeringConnectionId),
				Description:            deref(g.Description),
			})
		}
		out[i] = cp
	}
	return out
}

func (h *Handler) authorizeSecurityGroupIngress(ctx context.Context, caller core.Caller, in *AuthorizeSecurityGroupIngressRequest) (any, error) {
	rules, err := h.cloud.AuthorizeSecurityGroupIngress(ctx, caller, core.SecurityGroupRulesInput{
		GroupID:                    deref(in.GroupId),
		GroupName:                  deref(in.GroupName),
		IPPermissions:              corePermissions(in.IpPermissions),
		IPProtocol:                 deref(in.IpProtocol),
		FromPort:                   in.FromPort,
		ToPort:                     in.ToPort,
		CidrIP:                     deref(in.CidrIp),
		SourceSecurityGroupName:    deref(in.SourceSecurityGroupName),
		SourceSecurityGroupOwnerID: deref(in.SourceSecurityGroupOwnerId),
		TagSpecifications:          tagSpecifications(in.TagSpecifications),
	})
	if err != nil {
		return nil, err
	}
	out := &AuthorizeSecurityGroupIngressResult{Return: new(true), SecurityGroupRules: make([]SecurityGroupRule, len(rules))}
	for i, r := range rules {
		out.SecurityGroupRules[i] = securityGroupRule(r)
	}
	return out, nil
}

func securityGroupRule(d core.SecurityGroupRuleDescription) SecurityGroupRule {
	r := d.Rule
	out := SecurityGroupRule{
		SecurityGroupRuleId: new(r.ID),
		GroupId:             new(d.GroupID),
		GroupOwnerId:        new(d.GroupOwnerID),
		IsEgress:            new(r.Egress),
		IpProtocol:          new(r.Protocol),
		FromPort:            new(r.FromPort),
		ToPort:              new(r.ToPort),
		Description:         optional(r.Description),
	}
	if r.CIDR.IsValid() {
		out.CidrIpv4 = new(r.CIDR.String())
	} else {
		out.ReferencedGroupInfo = &ReferencedSecurityGroup{GroupId: new(r.GroupID), UserId: optional(r.GroupOwnerID)}
	}
	return out
}

func (h *Handler) revokeSecurityGroupIngress(ctx context.Context, caller core.Caller, in *RevokeSecurityGroupIngressRequest) (any, error) {
	_, err := h.cloud.RevokeSecurityGroupIngress(ctx, caller, core.SecurityGroupRulesInput{
		GroupID:                    deref(in.GroupId),
		GroupName:                  deref(in.GroupName),
		IPPermissions:              corePermissions(in.IpPermissions),
		IPProtocol:                 deref(in.IpProtocol),
		FromPort:                   in.FromPort,
		ToPort:                     in.ToPort,
		CidrIP:                     deref(in.CidrIp),
		SourceSecurityGroupName:    deref(in.SourceSecurityGroupName),
		SourceSecurityGroupOwnerID: deref(in.SourceSecurityGroupOwnerId),
		SecurityGroupRuleIDs:       in.SecurityGroupRuleIds,
	})
	if err != nil {
		return nil, err
	}
	return &RevokeSecurityGroupIngressResult{Return: new(true)}, nil
}

func (h *Handler) deleteSecurityGroup(ctx context.Context, caller core.Caller, in *DeleteSecurityGroupRequest) (any, error) {
	return nil, h.cloud.DeleteSecurityGroup(ctx, caller, core.DeleteSecurityGroupInput{
		GroupID: deref(in.GroupId), GroupName: deref(in.GroupName),
	})
}

func (h *Handler) describeAvailabilityZones(_ context.Context, _ core.Caller, in *DescribeAvailabilityZonesRequest) (any, error) {
	zones, err := h.cloud.DescribeAvailabilityZones(core.DescribeAvailabilityZonesInput{ZoneNames: in.ZoneNames, ZoneIDs: in.ZoneIds})
	if err != nil {
		return nil, err
	}
	out := &DescribeAvailabilityZonesResult{AvailabilityZones: make([]AvailabilityZone, len(zones))}
	for i, z := range zones {
		out.AvailabilityZones[i] = AvailabilityZone{
			State:              new(z.State),
			OptInStatus:        new(z.OptInStatus),
			Messages:           []AvailabilityZoneMessage{},
			RegionName:         new(z.Region),
			ZoneName:           new(z.Name),
			ZoneId:             new(z.ID),
			GroupName:          new(z.GroupName),
			NetworkBorderGroup: new(z.NetworkBorderGroup),
			ZoneType:           new(z.ZoneType),
		}
	}
	return out, nil
}

func (h *Handler) describeRegions(_ context.Context, _ core.Caller, in *DescribeRegionsRequest) (any, error) {
	regions, err := h.cloud.DescribeRegions(in.RegionNames)
	if err != nil {
		return nil, err
	}
	out := &DescribeRegionsResult{Regions: make([]Region, len(regions))}
	for i, r := range regions {
		out.Regions[i] = Region{Endpoint: new(r.Endpoint), RegionName: new(r.Name), OptInStatus: new(r.OptInStatus)}
	}
	return out, nil
}
