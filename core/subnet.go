package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Subnet limits, as AWS sets them.
const (
	maxSubnetsPerVPC     = 200
	minSubnetPrefixBits  = 16
	maxSubnetPrefixBits  = 28
	subnetARNFormat      = "arn:aws:ec2:%s:%s:subnet/%s"
	zonesOnlyMessageHead = "Subnets can currently only be created in the following availability zones: "
)

// CreateSubnetInput is CreateSubnet's request. With neither zone given, a
// zone of the region is chosen. The IPv6, IPAM and Outposts parameters are
// refused.
type CreateSubnetInput struct {
	VpcID              string
	CidrBlock          string
	AvailabilityZone   string // a zone name, e.g. us-east-1a
	AvailabilityZoneID string // a zone ID, e.g. use1-az1

	Ipv6CidrBlock     string
	Ipv6Native        bool
	OutpostArn        string
	Ipv4IpamPoolID    string
	Ipv4NetmaskLength *int32
	Ipv6IpamPoolID    string
	Ipv6NetmaskLength *int32

	TagSpecifications []TagSpecification // resource type "subnet"
}

// DescribeSubnetsInput is DescribeSubnets' request. No IDs means every
// subnet of the caller.
type DescribeSubnetsInput struct {
	SubnetIDs []string
}

// DeleteSubnetInput is DeleteSubnet's request.
type DeleteSubnetInput struct {
	SubnetID string
}

// SubnetDescription is a subnet as CreateSubnet and DescribeSubnets report
// it, with the facts derived from the rest of the state.
type SubnetDescription struct {
	Subnet
	ARN                     string
	AvailableIPAddressCount int32
}

// CreateSubnet creates a subnet in one of the caller's VPCs.
func (c *Cloud) CreateSubnet(ctx context.Context, caller Caller, in CreateSubnetInput) (SubnetDescription, error) {
	if in.VpcID == "" {
		return SubnetDescription{}, missingParameter("VpcId")
	}
	if in.Ipv6CidrBlock != "" || in.Ipv6Native || in.Ipv6IpamPoolID != "" || in.Ipv6NetmaskLength != nil {
		return SubnetDescription{}, unsupportedOperation("IPv6 CIDR blocks are not supported.")
	}
	if in.Ipv4IpamPoolID != "" || in.Ipv4NetmaskLength != nil {
		return SubnetDescription{}, unsupportedOperation("IPAM pools are not supported.")
	}
	if in.OutpostArn != "" {
		return SubnetDescription{}, unsupportedOperation("Outposts are not supported.")
	}
	if in.CidrBlock == "" {
		return SubnetDescription{}, Errorf(KindInvalid, "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
	}
	cidr, ok := parseIPv4Prefix(in.CidrBlock)
	if !ok {
		return SubnetDescription{}, invalidParameterValue("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", in.CidrBlock)
	}
	if cidr.Bits() < minSubnetPrefixBits || cidr.Bits() > maxSubnetPrefixBits {
		return SubnetDescription{}, Errorf(KindInvalid, "InvalidSubnet.Range", "The CIDR '%s' is invalid.", in.CidrBlock)
	}
	zone, zoneGiven, err := c.subnetZone(in.AvailabilityZone, in.AvailabilityZoneID)
	if err != nil {
		return SubnetDescription{}, err
	}
	tags, err := ec2TagsByType(in.TagSpecifications, ResourceTypeSubnet)
	if err != nil {
		return SubnetDescription{}, err
	}

	var out SubnetDescription
	err = c.update(ctx, func(t *txn) error {
		vpc, err := c.ownedVPC(t, caller, in.VpcID)
		if err != nil {
			return err
		}
		if cidr.Bits() < vpc.CIDR.Bits() || !vpc.CIDR.Contains(cidr.Addr()) {
			return Errorf(KindInvalid, "InvalidSubnet.Range", "The CIDR '%s' is invalid.", in.CidrBlock)
		}
		all, err := list[Subnet](t, prefixSubnets)
		if err != nil {
			return err
		}
		var siblings []*Subnet
		for _, s := range all {
			if s.VpcID == vpc.ID {
				siblings = append(siblings, s)
			}
		}
		for _, s := range siblings {
			if s.CIDR.Overlaps(cidr) {
				return Errorf(KindConflict, "InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", in.CidrBlock)
			}
		}
		if len(siblings) >= maxSubnetsPerVPC {
			return Errorf(KindLimit, "SubnetLimitExceeded", "The maximum number of subnets has been reached.")
		}
		if !zoneGiven {
			zone = c.leastUsedZone(siblings)
		}
		s := Subnet{
			ID:                 c.ids.id("subnet"),
			OwnerID:            caller.AccountID,
			VpcID:              vpc.ID,
			CIDR:               cidr,
			AvailabilityZone:   zone.Name,
			AvailabilityZoneID: zone.ID,
			State:              SubnetAvailable,
			Tags:               tags[ResourceTypeSubnet],
			CreatedAt:          c.now(),
		}
		if err := put(t, keySubnet(s.ID), s); err != nil {
			return err
		}
		descs, err := c.describeSubnets(t, []*Subnet{&s})
		if err == nil {
			out = descs[0]
		}
		return err
	})
	return out, err
}

// subnetZone resolves CreateSubnet's zone parameters. given is false when
// neither was set.
func (c *Cloud) subnetZone(name, id string) (zone AvailabilityZone, given bool, err error) {
	zones := c.AvailabilityZones()
	switch {
	case name != "" && id != "":
		return zone, false, Errorf(KindInvalid, "InvalidParameterCombination",
			"Only one of availabilityZone or availabilityZoneId may be specified.")
	case name != "":
		for _, z := range zones {
			if z.Name == name {
				return z, true, nil
			}
		}
		names := make([]string, len(zones))
		for i, z := range zones {
			names[i] = z.Name
		}
		return zone, false, invalidParameterValue("Value (%s) for parameter availabilityZone is invalid. %s%s.",
			name, zonesOnlyMessageHead, strings.Join(names, ", "))
	case id != "":
		for _, z := range zones {
			if strings.EqualFold(z.ID, id) {
				return z, true, nil
			}
		}
		ids := make([]string, len(zones))
		for i, z := range zones {
			ids[i] = z.ID
		}
		return zone, false, invalidParameterValue("Value (%s) for parameter availabilityZoneId is invalid. %s%s.",
			id, zonesOnlyMessageHead, strings.Join(ids, ", "))
	}
	return zone, false, nil
}

// leastUsedZone picks the zone with the fewest of the VPC's subnets, the
// first such in name order, so that subnets created without a zone spread
// out as they would on AWS.
func (c *Cloud) leastUsedZone(siblings []*Subnet) AvailabilityZone {
	zones := c.AvailabilityZones()
	count := map[string]int{}
	for _, s := range siblings {
		count[s.AvailabilityZone]++
	}
	best := zones[0]
	for _, z := range zones[1:] {
		if count[z.Name] < count[best.Name] {
			best = z
		}
	}
	return best
}

// DescribeSubnets returns the caller's subnets in ID order.
func (c *Cloud) DescribeSubnets(ctx context.Context, caller Caller, in DescribeSubnetsInput) ([]SubnetDescription, error) {
	ids := ec2UniqueIDs(in.SubnetIDs)
	if err := ec2CheckIDs(ids, "subnet", "InvalidSubnetID.Malformed"); err != nil {
		return nil, err
	}
	var out []SubnetDescription
	err := c.view(ctx, func(t *txn) error {
		out = nil
		var subnets []*Subnet
		if len(ids) == 0 {
			var err error
			subnets, err = listWhere(t, prefixSubnets, func(s *Subnet) bool { return s.OwnerID == caller.AccountID })
			if err != nil {
				return err
			}
		} else {
			var missing []string
			for _, id := range ids {
				s, ok, err := get[Subnet](t, keySubnet(id))
				if err != nil {
					return err
				}
				if !ok || s.OwnerID != caller.AccountID {
					missing = append(missing, id)
					continue
				}
				subnets = append(subnets, s)
			}
			if len(missing) > 0 {
				return ec2NotFound("InvalidSubnetID.NotFound", "subnet", missing)
			}
		}
		var err error
		out, err = c.describeSubnets(t, subnets)
		return err
	})
	slices.SortFunc(out, func(a, b SubnetDescription) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// describeSubnets adds the subnets' derived facts.
func (c *Cloud) describeSubnets(t *txn, subnets []*Subnet) ([]SubnetDescription, error) {
	if len(subnets) == 0 {
		return nil, nil
	}
	used, err := c.usedAddressesIn(t, subnets)
	if err != nil {
		return nil, err
	}
	out := make([]SubnetDescription, len(subnets))
	for i, s := range subnets {
		out[i] = SubnetDescription{
			Subnet:                  s.clone(),
			ARN:                     fmt.Sprintf(subnetARNFormat, c.cfg.Region, s.OwnerID, s.ID),
			AvailableIPAddressCount: availableCount(s, used[s.ID]),
		}
	}
	return out, nil
}

// DeleteSubnet deletes a subnet that no interface, instance, load balancer
// or endpoint uses.
func (c *Cloud) DeleteSubnet(ctx context.Context, caller Caller, in DeleteSubnetInput) error {
	return c.update(ctx, func(t *txn) error {
		s, err := c.ownedSubnet(t, caller, in.SubnetID)
		if err != nil {
			return err
		}
		inUse, err := subnetHasDependencies(t, s.ID)
		if err != nil {
			return err
		}
		if inUse {
			return Errorf(KindConflict, "DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted.", s.ID)
		}
		return del(t, keySubnet(s.ID))
	})
}

// subnetHasDependencies reports whether an interface (by its address: an
// endpoint's among them), a live instance or a load balancer node is in the
// subnet.
func subnetHasDependencies(t *txn, subnetID string) (bool, error) {
	return anyIndexed(t, prefixIxSubnetAddrsOf(subnetID), prefixIxSubnetUsersOf(subnetID))
}
