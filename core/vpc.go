package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"

	"github.com/privlink/privlink/store"
)

// A VPC is available as soon as CreateVpc returns: the lab builds its router
// namespace from the store, and nothing a client can do depends on that
// having happened. Its default security group is created in the same
// transaction and deleted with it.

// VPC limits. AWS's default quota is five VPCs per region; each one is a
// router namespace in the lab, so the quota also bounds what one account can
// make the host build.
const (
	maxVPCsPerAccount = 5
	minVPCPrefixBits  = 16
	maxVPCPrefixBits  = 28
)

// The default security group every VPC gets, as AWS names it.
const (
	DefaultSecurityGroupName        = "default"
	DefaultSecurityGroupDescription = "default VPC security group"
)

// Instance tenancies (EC2's Tenancy values).
const (
	TenancyDefault   = "default"
	TenancyDedicated = "dedicated"
	TenancyHost      = "host"
)

// reservedIPv4 are ranges no VPC may use: "this network", loopback,
// link-local, multicast and the limited broadcast address. The lab would
// also misroute them.
var reservedIPv4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

// CreateVpcInput is CreateVpc's request. Only an IPv4 CidrBlock is
// supported; the IPv6 and IPAM parameters exist so that a request using them
// is refused rather than half-honoured.
type CreateVpcInput struct {
	CidrBlock       string
	InstanceTenancy string // default (the default) or dedicated

	AmazonProvidedIpv6CidrBlock     bool
	Ipv6CidrBlock                   string
	Ipv6Pool                        string
	Ipv6CidrBlockNetworkBorderGroup string
	Ipv4IpamPoolID                  string
	Ipv4NetmaskLength               *int32
	Ipv6IpamPoolID                  string
	Ipv6NetmaskLength               *int32

	TagSpecifications []TagSpecification // resource type "vpc"
}

// DescribeVpcsInput is DescribeVpcs' request. No IDs means every VPC of the
// caller.
type DescribeVpcsInput struct {
	VpcIDs []string
}

// DeleteVpcInput is DeleteVpc's request.
type DeleteVpcInput struct {
	VpcID string
}

// CreateVpc creates a VPC with its default security group.
func (c *Cloud) CreateVpc(ctx context.Context, caller Caller, in CreateVpcInput) (VPC, error) {
	if in.AmazonProvidedIpv6CidrBlock || in.Ipv6CidrBlock != "" || in.Ipv6Pool != "" ||
		in.Ipv6CidrBlockNetworkBorderGroup != "" || in.Ipv6IpamPoolID != "" || in.Ipv6NetmaskLength != nil {
		return VPC{}, unsupportedOperation("IPv6 CIDR blocks are not supported.")
	}
	if in.Ipv4IpamPoolID != "" || in.Ipv4NetmaskLength != nil {
		return VPC{}, unsupportedOperation("IPAM pools are not supported.")
	}
	if in.CidrBlock == "" {
		return VPC{}, Errorf(KindInvalid, "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
	}
	cidr, ok := parseIPv4Prefix(in.CidrBlock)
	if !ok {
		return VPC{}, invalidParameterValue("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", in.CidrBlock)
	}
	if cidr.Bits() < minVPCPrefixBits || cidr.Bits() > maxVPCPrefixBits || overlapsAny(cidr, reservedIPv4) {
		return VPC{}, Errorf(KindInvalid, "InvalidVpc.Range", "The CIDR '%s' is invalid.", in.CidrBlock)
	}
	tenancy := in.InstanceTenancy
	switch tenancy {
	case "":
		tenancy = TenancyDefault
	case TenancyDefault, TenancyDedicated:
	case TenancyHost:
		return VPC{}, Errorf(KindInvalid, "UnsupportedTenancy", "The tenancy value %s is not supported.", tenancy)
	default:
		return VPC{}, invalidParameterValue("Value (%s) for parameter instanceTenancy is invalid. Valid values: default, dedicated", tenancy)
	}
	tags, err := ec2TagsByType(in.TagSpecifications, ResourceTypeVpc)
	if err != nil {
		return VPC{}, err
	}

	var out VPC
	err = c.update(ctx, func(t *txn) error {
		vpcs, err := list[VPC](t, prefixVPCs)
		if err != nil {
			return err
		}
		n := 0
		for _, v := range vpcs {
			if v.OwnerID == caller.AccountID {
				n++
			}
		}
		if n >= maxVPCsPerAccount {
			return Errorf(KindLimit, "VpcLimitExceeded", "The maximum number of VPCs has been reached.")
		}
		now := c.now()
		vpc := VPC{
			ID:                     c.ids.id("vpc"),
			OwnerID:                caller.AccountID,
			CIDR:                   cidr,
			CIDRAssociationID:      c.ids.id("vpc-cidr-assoc"),
			State:                  VPCAvailable,
			DHCPOptionsID:          c.dhcpOptionsID(caller.AccountID),
			InstanceTenancy:        tenancy,
			EnableDNSSupport:       true,
			EnableDNSHostnames:     false,
			Tags:                   tags[ResourceTypeVpc],
			CreatedAt:              now,
			DefaultSecurityGroupID: c.ids.id("sg"),
		}
		sg := SecurityGroup{
			ID:          vpc.DefaultSecurityGroupID,
			OwnerID:     caller.AccountID,
			VpcID:       vpc.ID,
			Name:        DefaultSecurityGroupName,
			Description: DefaultSecurityGroupDescription,
			Rules: []SecurityGroupRule{
				// Members of the group may reach each other on anything...
				{ID: c.ids.id("sgr"), Protocol: ProtocolAll, FromPort: -1, ToPort: -1,
					GroupID: vpc.DefaultSecurityGroupID, GroupOwnerID: caller.AccountID},
				// ...and anything may be reached from the group.
				{ID: c.ids.id("sgr"), Egress: true, Protocol: ProtocolAll, FromPort: -1, ToPort: -1,
					CIDR: anyIPv4},
			},
			CreatedAt: now,
		}
		if err := put(t, keyVPC(vpc.ID), vpc); err != nil {
			return err
		}
		if err := put(t, keySecurityGroup(sg.ID), sg); err != nil {
			return err
		}
		out = vpc
		return nil
	})
	return out, err
}

// DescribeVpcs returns the caller's VPCs in ID order.
func (c *Cloud) DescribeVpcs(ctx context.Context, caller Caller, in DescribeVpcsInput) ([]VPC, error) {
	ids := ec2UniqueIDs(in.VpcIDs)
	if err := ec2CheckIDs(ids, "vpc", "InvalidVpcID.Malformed"); err != nil {
		return nil, err
	}
	var out []VPC
	err := c.view(ctx, func(t *txn) error {
		out = nil
		if len(ids) == 0 {
			vpcs, err := listWhere(t, prefixVPCs, func(v *VPC) bool { return v.OwnerID == caller.AccountID })
			for _, v := range vpcs {
				out = append(out, v.clone())
			}
			return err
		}
		var missing []string
		for _, id := range ids {
			v, ok, err := get[VPC](t, keyVPC(id))
			if err != nil {
				return err
			}
			if !ok || v.OwnerID != caller.AccountID {
				missing = append(missing, id)
				continue
			}
			out = append(out, v.clone())
		}
		if len(missing) > 0 {
			return ec2NotFound("InvalidVpcID.NotFound", "vpc", missing)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b VPC) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// DeleteVpc deletes a VPC that has nothing left in it but its default
// security group, which goes with it.
func (c *Cloud) DeleteVpc(ctx context.Context, caller Caller, in DeleteVpcInput) error {
	return c.update(ctx, func(t *txn) error {
		vpc, err := c.ownedVPC(t, caller, in.VpcID)
		if err != nil {
			return err
		}
		inUse, err := vpcHasDependencies(t, vpc)
		if err != nil {
			return err
		}
		if inUse {
			return Errorf(KindConflict, "DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted.", vpc.ID)
		}
		if err := del(t, keySecurityGroup(vpc.DefaultSecurityGroupID)); err != nil {
			return err
		}
		return del(t, keyVPC(vpc.ID))
	})
}

// vpcHasDependencies reports whether anything but the default security
// group still lives in the VPC. Terminated instances do not count: they are
// only a record.
func vpcHasDependencies(t *txn, vpc *VPC) (bool, error) {
	if used, err := anyIndexed(t, prefixIxVPCUsersOf(vpc.ID), prefixIxVPCEndpointsOf(vpc.ID)); err != nil || used {
		return used, err
	}
	names, err := listIndex(t, prefixIxVPCSGNamesOf(vpc.ID))
	return slices.ContainsFunc(names, func(kv store.KV) bool { return string(kv.Value) != vpc.DefaultSecurityGroupID }), err
}

// dhcpOptionsID is the account's default DHCP options set. AWS has one per
// account and region, shared by its VPCs; deriving it from the account keeps
// it stable without storing it.
func (c *Cloud) dhcpOptionsID(accountID string) string {
	sum := sha256.Sum256([]byte("dopt/" + c.cfg.Region + "/" + accountID))
	return "dopt-" + hex.EncodeToString(sum[:])[:17]
}

// Helpers shared by the EC2 networking actions.

// anyIPv4 is 0.0.0.0/0.
var anyIPv4 = netip.MustParsePrefix("0.0.0.0/0")

// parseIPv4Prefix parses an IPv4 CIDR block and returns it in canonical form
// (host bits cleared), as EC2 stores it.
func parseIPv4Prefix(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

func overlapsAny(p netip.Prefix, set []netip.Prefix) bool {
	for _, q := range set {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

// ec2UniqueIDs drops repeated IDs, keeping the first of each, as EC2 does
// with its ID lists.
func ec2UniqueIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ec2CheckIDs returns EC2's Malformed error for the first ID that is not
// prefix + "-" + 8 or 17 hex digits.
func ec2CheckIDs(ids []string, prefix, code string) error {
	for _, id := range ids {
		if !validID(id, prefix) {
			return ec2Malformed(code, id, prefix)
		}
	}
	return nil
}

func ec2Malformed(code, id, prefix string) *Error {
	return Errorf(KindInvalid, code, "Invalid id: %q (expecting %q)", id, prefix+"-...")
}

// ec2NotFound names every missing ID, in EC2's singular or plural form.
func ec2NotFound(code, noun string, ids []string) *Error {
	if len(ids) == 1 {
		return Errorf(KindNotFound, code, "The %s ID '%s' does not exist", noun, ids[0])
	}
	return Errorf(KindNotFound, code, "The %s IDs '%s' do not exist", noun, strings.Join(ids, ", "))
}
