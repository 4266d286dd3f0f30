package core

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Security groups hold one SecurityGroupRule per source (or destination):
// a CIDR or a referenced group. Requests and describe output use AWS's
// IpPermissions, which group rules by protocol and ports; normalizeRules
// turns permissions into rules and IPPermissions turns rules back.

// Protocols as rules store them. Other protocols are kept as their decimal
// number.
const (
	ProtocolAll    = "-1"
	ProtocolTCP    = "tcp"
	ProtocolUDP    = "udp"
	ProtocolICMP   = "icmp"
	ProtocolICMPv6 = "icmpv6"
)

// Security group limits, as AWS sets them by default.
const (
	maxRulesPerDirection      = 60
	maxSecurityGroupsPerENI   = 5
	maxSecurityGroupTextLen   = 255
	securityGroupTextAllowed  = "._-:/()#,@[]+=&;{}!$* "
	securityGroupValidCharMsg = "a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"
	noDefaultVPCMessage       = "No default VPC for this user"
	groupNameOnlyDefaultVPC   = "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC."
)

// IPPermission is AWS's IpPermission: a protocol and port range with the
// sources (or destinations) it applies to. Requests may carry IPv6 ranges
// and prefix lists, which privlink refuses; describe output never has them.
type IPPermission struct {
	IPProtocol string
	// FromPort and ToPort are the port range for tcp and udp and the type
	// and code for icmp. Nil means not given (in requests) or not
	// applicable (in output, for protocols without ports).
	FromPort         *int32
	ToPort           *int32
	IPRanges         []IPRange
	IPv6Ranges       []IPv6Range
	PrefixListIDs    []PrefixListID
	UserIDGroupPairs []UserIDGroupPair
}

// IPRange is an IPv4 source or destination of a permission.
type IPRange struct {
	CIDR        string
	Description string
}

// IPv6Range is an IPv6 source or destination of a permission.
type IPv6Range struct {
	CIDR        string
	Description string
}

// PrefixListID is a prefix list source or destination of a permission.
type PrefixListID struct {
	ID          string
	Description string
}

// UserIDGroupPair is a security group source or destination of a
// permission. UserID is the group's owner.
type UserIDGroupPair struct {
	GroupID                string
	GroupName              string
	UserID                 string
	VpcID                  string
	VpcPeeringConnectionID string
	Description            string
}

// CreateSecurityGroupInput is CreateSecurityGroup's request. VpcID is
// required: privlink accounts have no default VPC.
type CreateSecurityGroupInput struct {
	GroupName         string
	Description       string
	VpcID             string
	TagSpecifications []TagSpecification // resource type "security-group"
}

// DescribeSecurityGroupsInput is DescribeSecurityGroups' request. With
// neither IDs nor names it returns every group of the caller. Names only
// work for a default VPC on AWS, so they are refused here as AWS refuses
// them for an account without one.
type DescribeSecurityGroupsInput struct {
	GroupIDs   []string
	GroupNames []string
}

// DeleteSecurityGroupInput is DeleteSecurityGroup's request.
type DeleteSecurityGroupInput struct {
	GroupID   string
	GroupName string // default VPC only: refused
}

// SecurityGroupRulesInput is the request of AuthorizeSecurityGroupIngress,
// AuthorizeSecurityGroupEgress and their Revoke counterparts. Rules come
// either as IPPermissions or in the legacy flat form (IPProtocol, FromPort,
// ToPort, CidrIP, SourceSecurityGroup…), never both. Revoke also takes rule
// IDs instead.
type SecurityGroupRulesInput struct {
	GroupID       string
	GroupName     string // default VPC only: refused
	IPPermissions []IPPermission

	IPProtocol                 string
	FromPort                   *int32
	ToPort                     *int32
	CidrIP                     string
	SourceSecurityGroupName    string
	SourceSecurityGroupOwnerID string

	SecurityGroupRuleIDs []string           // Revoke only
	TagSpecifications    []TagSpecification // Authorize only: "security-group-rule", refused
}

// SecurityGroupRuleDescription is a rule with the group it belongs to, as
// Authorize and Revoke report the rules they added or removed.
type SecurityGroupRuleDescription struct {
	GroupID      string
	GroupOwnerID string
	Rule         SecurityGroupRule
}

// CreateSecurityGroup creates a security group in one of the caller's VPCs.
// Like AWS, it starts with one egress rule that allows everything.
func (c *Cloud) CreateSecurityGroup(ctx context.Context, caller Caller, in CreateSecurityGroupInput) (SecurityGroup, error) {
	if err := checkSecurityGroupText("GroupName", in.GroupName); err != nil {
		return SecurityGroup{}, err
	}
	if strings.HasPrefix(in.GroupName, "sg-") {
		return SecurityGroup{}, invalidParameterValue("Group names may not be in the format sg-*")
	}
	if strings.EqualFold(in.GroupName, DefaultSecurityGroupName) {
		return SecurityGroup{}, Errorf(KindInvalid, "InvalidGroup.Reserved", "The security group name '%s' is reserved.", in.GroupName)
	}
	if err := checkSecurityGroupText("GroupDescription", in.Description); err != nil {
		return SecurityGroup{}, err
	}
	if in.VpcID == "" {
		return SecurityGroup{}, Errorf(KindInvalid, "VPCIdNotSpecified", noDefaultVPCMessage)
	}
	tags, err := ec2TagsByType(in.TagSpecifications, ResourceTypeSecurityGroup)
	if err != nil {
		return SecurityGroup{}, err
	}
	var out SecurityGroup
	err = c.update(ctx, func(t *txn) error {
		vpc, err := c.ownedVPC(t, caller, in.VpcID)
		if err != nil {
			return err
		}
		_, dup, err := getIndex(t, keyIxVPCSGName(vpc.ID, in.GroupName))
		if err != nil {
			return err
		}
		if dup {
			return Errorf(KindConflict, "InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", in.GroupName, vpc.ID)
		}
		g := SecurityGroup{
			ID:          c.ids.id("sg"),
			OwnerID:     caller.AccountID,
			VpcID:       vpc.ID,
			Name:        in.GroupName,
			Description: in.Description,
			Rules: []SecurityGroupRule{{
				ID: c.ids.id("sgr"), Egress: true, Protocol: ProtocolAll, FromPort: -1, ToPort: -1, CIDR: anyIPv4,
			}},
			Tags:      tags[ResourceTypeSecurityGroup],
			CreatedAt: c.now(),
		}
		if err := put(t, keySecurityGroup(g.ID), g); err != nil {
			return err
		}
		out = g
		return nil
	})
	return out, err
}

// checkSecurityGroupText validates a group name or description as EC2
// does: 1 to 255 characters from a small ASCII set.
func checkSecurityGroupText(param, s string) error {
	if s == "" {
		return missingParameter(param)
	}
	if len(s) > maxSecurityGroupTextLen {
		return invalidParameterValue("Value (%s) for parameter %s is invalid. Length exceeds maximum of %d.", s, param, maxSecurityGroupTextLen)
	}
	for _, r := range s {
		if r > 0x7f {
			return invalidParameterValue("Value (%s) for parameter %s is invalid. Character sets beyond ASCII are not supported.", s, param)
		}
		if !isSecurityGroupChar(r) {
			return invalidParameterValue("Value (%s) for parameter %s is invalid. Valid characters: %s", s, param, securityGroupValidCharMsg)
		}
	}
	return nil
}

func isSecurityGroupChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune(securityGroupTextAllowed, r)
}

// DescribeSecurityGroups returns the caller's security groups in ID order.
// Format rules for output with IPPermissions.
func (c *Cloud) DescribeSecurityGroups(ctx context.Context, caller Caller, in DescribeSecurityGroupsInput) ([]SecurityGroup, error) {
	if len(in.GroupNames) > 0 {
		return nil, Errorf(KindInvalid, "VPCIdNotSpecified", groupNameOnlyDefaultVPC)
	}
	ids := ec2UniqueIDs(in.GroupIDs)
	if err := ec2CheckIDs(ids, "sg", "InvalidGroupId.Malformed"); err != nil {
		return nil, err
	}
	var out []SecurityGroup
	err := c.view(ctx, func(t *txn) error {
		out = nil
		if len(ids) == 0 {
			groups, err := listWhere(t, prefixSecurityGroups, func(g *SecurityGroup) bool { return g.OwnerID == caller.AccountID })
			for _, g := range groups {
				out = append(out, g.clone())
			}
			return err
		}
		for _, id := range ids {
			g, err := c.ownedSecurityGroup(t, caller, id)
			if err != nil {
				return err
			}
			out = append(out, g.clone())
		}
		return nil
	})
	slices.SortFunc(out, func(a, b SecurityGroup) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// DeleteSecurityGroup deletes a group that no interface uses and no other
// group's rule references. A VPC's default group goes only with its VPC.
func (c *Cloud) DeleteSecurityGroup(ctx context.Context, caller Caller, in DeleteSecurityGroupInput) error {
	if in.GroupID == "" && in.GroupName != "" {
		return Errorf(KindInvalid, "VPCIdNotSpecified", groupNameOnlyDefaultVPC)
	}
	return c.update(ctx, func(t *txn) error {
		g, err := c.ownedSecurityGroup(t, caller, in.GroupID)
		if err != nil {
			return err
		}
		if g.Name == DefaultSecurityGroupName {
			vpc, ok, err := get[VPC](t, keyVPC(g.VpcID))
			if err != nil {
				return err
			}
			if ok && vpc.DefaultSecurityGroupID == g.ID {
				return Errorf(KindConflict, "CannotDelete", "the specified group: %q name: %q cannot be deleted by a user", g.ID, g.Name)
			}
		}
		inUse, err := securityGroupInUse(t, g.ID)
		if err != nil {
			return err
		}
		if inUse {
			return Errorf(KindConflict, "DependencyViolation", "resource %s has a dependent object", g.ID)
		}
		return del(t, keySecurityGroup(g.ID))
	})
}

// securityGroupInUse reports whether an interface (an endpoint's among
// them) or a live instance uses the group, or another group's rule
// references it.
func securityGroupInUse(t *txn, id string) (bool, error) {
	return anyIndexed(t, prefixIxSGUsersOf(id))
}

// AuthorizeSecurityGroupIngress adds inbound rules to a group.
func (c *Cloud) AuthorizeSecurityGroupIngress(ctx context.Context, caller Caller, in SecurityGroupRulesInput) ([]SecurityGroupRuleDescription, error) {
	return c.authorizeRules(ctx, caller, in, false)
}

// AuthorizeSecurityGroupEgress adds outbound rules to a group.
func (c *Cloud) AuthorizeSecurityGroupEgress(ctx context.Context, caller Caller, in SecurityGroupRulesInput) ([]SecurityGroupRuleDescription, error) {
	return c.authorizeRules(ctx, caller, in, true)
}

// RevokeSecurityGroupIngress removes inbound rules from a group. Every rule
// named must exist, or nothing is removed (AWS's behaviour outside a
// default VPC).
func (c *Cloud) RevokeSecurityGroupIngress(ctx context.Context, caller Caller, in SecurityGroupRulesInput) ([]SecurityGroupRuleDescription, error) {
	return c.revokeRules(ctx, caller, in, false)
}

// RevokeSecurityGroupEgress removes outbound rules from a group.
func (c *Cloud) RevokeSecurityGroupEgress(ctx context.Context, caller Caller, in SecurityGroupRulesInput) ([]SecurityGroupRuleDescription, error) {
	return c.revokeRules(ctx, caller, in, true)
}

func (c *Cloud) authorizeRules(ctx context.Context, caller Caller, in SecurityGroupRulesInput, egress bool) ([]SecurityGroupRuleDescription, error) {
	if err := checkRuleTarget(in); err != nil {
		return nil, err
	}
	if len(in.SecurityGroupRuleIDs) > 0 {
		return nil, Errorf(KindInvalid, "UnknownParameter", "The parameter SecurityGroupRuleIds is not recognized")
	}
	if len(in.TagSpecifications) > 0 {
		return nil, unsupportedOperation("Tags on security group rules are not supported.")
	}
	perms, err := rulePermissions(in)
	if err != nil {
		return nil, err
	}
	if len(perms) == 0 {
		return nil, missingParameter("ipPermissions")
	}
	rules, refVPCs, err := normalizeRules(perms, egress)
	if err != nil {
		return nil, err
	}
	var out []SecurityGroupRuleDescription
	err = c.update(ctx, func(t *txn) error {
		out = nil
		g, err := c.ownedSecurityGroup(t, caller, in.GroupID)
		if err != nil {
			return err
		}
		for i := range rules {
			r := &rules[i]
			if r.GroupID == "" {
				continue
			}
			ref, err := c.ownedSecurityGroup(t, caller, r.GroupID)
			if err != nil {
				return err
			}
			// The pair's UserId and VpcId, when given, must describe the
			// group; references reach only groups of the same VPC.
			if r.GroupOwnerID != "" && r.GroupOwnerID != ref.OwnerID {
				return Errorf(KindNotFound, "InvalidGroup.NotFound", "The security group '%s' does not exist", r.GroupID)
			}
			if ref.VpcID != g.VpcID || refVPCs[i] != "" && refVPCs[i] != ref.VpcID {
				return Errorf(KindNotFound, "InvalidGroup.NotFound", "You have specified two resources that belong to different networks.")
			}
			r.GroupOwnerID = ref.OwnerID
		}
		n := 0
		for _, existing := range g.Rules {
			if existing.Egress == egress {
				n++
			}
			for _, r := range rules {
				if sameRule(existing, r) {
					return Errorf(KindConflict, "InvalidPermission.Duplicate", "the specified rule %q already exists", ruleSummary(r))
				}
			}
		}
		if n+len(rules) > maxRulesPerDirection {
			return Errorf(KindLimit, "RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
		}
		for _, r := range rules {
			r.ID = c.ids.id("sgr")
			g.Rules = append(g.Rules, r)
			out = append(out, SecurityGroupRuleDescription{GroupID: g.ID, GroupOwnerID: g.OwnerID, Rule: r})
		}
		return put(t, keySecurityGroup(g.ID), g)
	})
	return out, err
}

func (c *Cloud) revokeRules(ctx context.Context, caller Caller, in SecurityGroupRulesInput, egress bool) ([]SecurityGroupRuleDescription, error) {
	if err := checkRuleTarget(in); err != nil {
		return nil, err
	}
	if len(in.TagSpecifications) > 0 {
		return nil, Errorf(KindInvalid, "UnknownParameter", "The parameter TagSpecifications is not recognized")
	}
	perms, err := rulePermissions(in)
	if err != nil {
		return nil, err
	}
	ruleIDs := ec2UniqueIDs(in.SecurityGroupRuleIDs)
	switch {
	case len(perms) > 0 && len(ruleIDs) > 0:
		return nil, Errorf(KindInvalid, "InvalidParameterCombination",
			"The parameter SecurityGroupRuleIds may not be used in combination with IpPermissions.")
	case len(perms) == 0 && len(ruleIDs) == 0:
		return nil, missingParameter("ipPermissions")
	}
	if err := ec2CheckIDs(ruleIDs, "sgr", "InvalidSecurityGroupRuleId.Malformed"); err != nil {
		return nil, err
	}
	rules, _, err := normalizeRules(perms, egress)
	if err != nil {
		return nil, err
	}
	var out []SecurityGroupRuleDescription
	err = c.update(ctx, func(t *txn) error {
		out = nil
		g, err := c.ownedSecurityGroup(t, caller, in.GroupID)
		if err != nil {
			return err
		}
		remove := map[string]bool{}
		for _, id := range ruleIDs {
			i := slices.IndexFunc(g.Rules, func(r SecurityGroupRule) bool { return r.ID == id && r.Egress == egress })
			if i < 0 {
				return Errorf(KindNotFound, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
			remove[id] = true
		}
		for _, r := range rules {
			i := slices.IndexFunc(g.Rules, func(existing SecurityGroupRule) bool { return sameRule(existing, r) })
			if i < 0 {
				return Errorf(KindNotFound, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
			}
			remove[g.Rules[i].ID] = true
		}
		kept := g.Rules[:0:0]
		for _, r := range g.Rules {
			if remove[r.ID] {
				out = append(out, SecurityGroupRuleDescription{GroupID: g.ID, GroupOwnerID: g.OwnerID, Rule: r})
				continue
			}
			kept = append(kept, r)
		}
		g.Rules = kept
		return put(t, keySecurityGroup(g.ID), g)
	})
	return out, err
}

// checkRuleTarget checks how a rules request names its group.
func checkRuleTarget(in SecurityGroupRulesInput) error {
	if in.GroupID == "" && in.GroupName != "" {
		return Errorf(KindInvalid, "VPCIdNotSpecified", groupNameOnlyDefaultVPC)
	}
	if in.GroupID == "" {
		return missingParameter("groupId")
	}
	return nil
}

// rulePermissions returns a request's permissions, turning the legacy flat
// form into one permission.
func rulePermissions(in SecurityGroupRulesInput) ([]IPPermission, error) {
	legacy := in.IPProtocol != "" || in.FromPort != nil || in.ToPort != nil || in.CidrIP != "" ||
		in.SourceSecurityGroupName != "" || in.SourceSecurityGroupOwnerID != ""
	if !legacy {
		return in.IPPermissions, nil
	}
	if len(in.IPPermissions) > 0 {
		return nil, Errorf(KindInvalid, "InvalidParameterCombination",
			"The parameter ipPermissions may not be used in combination with ipProtocol, fromPort, toPort, cidrIp, sourceSecurityGroupName or sourceSecurityGroupOwnerId.")
	}
	if in.SourceSecurityGroupName != "" {
		return nil, invalidParameterValue("Invalid value '%s' for groupName. You may not reference Amazon VPC security groups by name. Please use the corresponding id for this operation.", in.SourceSecurityGroupName)
	}
	p := IPPermission{IPProtocol: in.IPProtocol, FromPort: in.FromPort, ToPort: in.ToPort}
	if in.CidrIP != "" {
		p.IPRanges = []IPRange{{CIDR: in.CidrIP}}
	}
	return []IPPermission{p}, nil
}

// normalizeRules validates permissions and expands them into one rule per
// source, in canonical form (protocol names for 1, 6, 17 and 58; CIDRs
// with host bits cleared; -1 ports where ports do not apply). Referenced
// groups are checked by the caller, in its transaction; for those rules
// GroupOwnerID holds the pair's UserId as given, and refVPCs (parallel to
// rules) the pair's VpcId.
func normalizeRules(perms []IPPermission, egress bool) (rules []SecurityGroupRule, refVPCs []string, err error) {
	for _, p := range perms {
		proto, from, to, err := normalizeProtocolPorts(p)
		if err != nil {
			return nil, nil, err
		}
		if len(p.IPv6Ranges) > 0 {
			return nil, nil, unsupportedOperation("IPv6 rules are not supported.")
		}
		if len(p.PrefixListIDs) > 0 {
			return nil, nil, unsupportedOperation("Prefix list rules are not supported.")
		}
		if len(p.IPRanges) == 0 && len(p.UserIDGroupPairs) == 0 {
			return nil, nil, Errorf(KindInvalid, "MissingParameter", "Missing source specification: include source security group or CIDR information")
		}
		base := SecurityGroupRule{Egress: egress, Protocol: proto, FromPort: from, ToPort: to}
		for _, r := range p.IPRanges {
			cidr, ok := parseIPv4Prefix(r.CIDR)
			if !ok {
				return nil, nil, invalidParameterValue("CIDR block %s is malformed", r.CIDR)
			}
			if err := checkRuleDescription(r.Description); err != nil {
				return nil, nil, err
			}
			rule := base
			rule.CIDR, rule.Description = cidr, r.Description
			rules = append(rules, rule)
			refVPCs = append(refVPCs, "")
		}
		for _, pair := range p.UserIDGroupPairs {
			if pair.GroupID == "" && pair.GroupName != "" {
				return nil, nil, invalidParameterValue("Invalid value '%s' for groupName. You may not reference Amazon VPC security groups by name. Please use the corresponding id for this operation.", pair.GroupName)
			}
			if pair.GroupID == "" {
				return nil, nil, missingParameter("groupId")
			}
			if !validID(pair.GroupID, "sg") {
				return nil, nil, ec2Malformed("InvalidGroupId.Malformed", pair.GroupID, "sg")
			}
			if pair.VpcPeeringConnectionID != "" {
				return nil, nil, unsupportedOperation("VPC peering is not supported.")
			}
			if err := checkRuleDescription(pair.Description); err != nil {
				return nil, nil, err
			}
			rule := base
			rule.GroupID, rule.GroupOwnerID, rule.Description = pair.GroupID, pair.UserID, pair.Description
			rules = append(rules, rule)
			refVPCs = append(refVPCs, pair.VpcID)
		}
	}
	for i, r := range rules {
		for _, s := range rules[:i] {
			if sameRule(r, s) {
				return nil, nil, invalidParameterValue("The same permission must not appear multiple times")
			}
		}
	}
	return rules, refVPCs, nil
}

// normalizeProtocolPorts validates a permission's protocol and ports.
func normalizeProtocolPorts(p IPPermission) (proto string, from, to int32, err error) {
	proto, err = normalizeProtocol(p.IPProtocol)
	if err != nil {
		return "", 0, 0, err
	}
	switch proto {
	case ProtocolTCP, ProtocolUDP:
		if p.FromPort == nil || p.ToPort == nil {
			return "", 0, 0, invalidParameterValue("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
		}
		from, to = *p.FromPort, *p.ToPort
		if from < 0 || from > 65535 {
			return "", 0, 0, invalidParameterValue("TCP/UDP (from) port (%d) out of range", from)
		}
		if to < 0 || to > 65535 {
			return "", 0, 0, invalidParameterValue("TCP/UDP (to) port (%d) out of range", to)
		}
		if from > to {
			return "", 0, 0, invalidParameterValue("Invalid TCP/UDP port range: from port (%d) is greater than to port (%d)", from, to)
		}
	case ProtocolICMP, ProtocolICMPv6:
		if p.FromPort == nil && p.ToPort == nil && proto == ProtocolICMPv6 {
			return proto, -1, -1, nil
		}
		if p.FromPort == nil || p.ToPort == nil {
			return "", 0, 0, invalidParameterValue("Invalid value 'Must specify both from and to ports with ICMP.' for portRange.")
		}
		from, to = *p.FromPort, *p.ToPort
		if from < -1 || from > 255 {
			return "", 0, 0, invalidParameterValue("ICMP type (%d) out of range", from)
		}
		if to < -1 || to > 255 {
			return "", 0, 0, invalidParameterValue("ICMP code (%d) out of range", to)
		}
		if from == -1 && to != -1 {
			return "", 0, 0, invalidParameterValue("Invalid ICMP code (%d): the code must be -1 when the type is -1 (all ICMP types)", to)
		}
	default:
		// -1 and other protocols have no ports: AWS allows all of them
		// whatever range the request names.
		from, to = -1, -1
	}
	return proto, from, to, nil
}

// normalizeProtocol returns the stored form of an IpProtocol value.
func normalizeProtocol(s string) (string, error) {
	if s == "" {
		return "", invalidParameterValue("Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.")
	}
	switch l := strings.ToLower(s); l {
	case ProtocolTCP, ProtocolUDP, ProtocolICMP, ProtocolICMPv6, ProtocolAll:
		return l, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 || n > 255 {
		return "", invalidParameterValue("Invalid value '%s' for IP protocol. Unknown protocol.", s)
	}
	switch n {
	case -1:
		return ProtocolAll, nil
	case 1:
		return ProtocolICMP, nil
	case 6:
		return ProtocolTCP, nil
	case 17:
		return ProtocolUDP, nil
	case 58:
		return ProtocolICMPv6, nil
	}
	return strconv.Itoa(n), nil
}

func checkRuleDescription(s string) error {
	if len(s) > maxSecurityGroupTextLen {
		return invalidParameterValue("Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  %s", securityGroupValidCharMsg)
	}
	for _, r := range s {
		if !isSecurityGroupChar(r) {
			return invalidParameterValue("Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  %s", securityGroupValidCharMsg)
		}
	}
	return nil
}

// sameRule reports whether two rules are the same permission. Descriptions
// do not count, as on AWS.
func sameRule(a, b SecurityGroupRule) bool {
	return a.Egress == b.Egress && a.Protocol == b.Protocol && a.FromPort == b.FromPort && a.ToPort == b.ToPort &&
		a.CIDR == b.CIDR && a.GroupID == b.GroupID
}

// ruleSummary describes a rule the way EC2's InvalidPermission.Duplicate
// message does, e.g. "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW".
func ruleSummary(r SecurityGroupRule) string {
	peer := r.GroupID
	if r.CIDR.IsValid() {
		peer = r.CIDR.String()
	}
	switch r.Protocol {
	case ProtocolTCP, ProtocolUDP:
		return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
	case ProtocolICMP, ProtocolICMPv6:
		return fmt.Sprintf("peer: %s, %s, type: %d, code: %d, ALLOW", peer, strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
	case ProtocolAll:
		return fmt.Sprintf("peer: %s, ALL, ALLOW", peer)
	default:
		return fmt.Sprintf("peer: %s, %s, ALLOW", peer, r.Protocol)
	}
}

// IPPermissions groups a security group's rules of one direction into
// AWS's IpPermissions form, as DescribeSecurityGroups reports them: rules
// with the same protocol and ports share one permission, whose ranges and
// group pairs keep the order the rules were added in. Ports are nil for
// protocols that have none.
func IPPermissions(rules []SecurityGroupRule, egress bool) []IPPermission {
	type portKey struct {
		proto    string
		from, to int32
	}
	var out []IPPermission
	index := map[portKey]int{}
	for _, r := range rules {
		if r.Egress != egress {
			continue
		}
		k := portKey{r.Protocol, r.FromPort, r.ToPort}
		i, ok := index[k]
		if !ok {
			p := IPPermission{IPProtocol: r.Protocol}
			if hasPorts(r.Protocol) {
				from, to := r.FromPort, r.ToPort
				p.FromPort, p.ToPort = &from, &to
			}
			out = append(out, p)
			i = len(out) - 1
			index[k] = i
		}
		if r.CIDR.IsValid() {
			out[i].IPRanges = append(out[i].IPRanges, IPRange{CIDR: r.CIDR.String(), Description: r.Description})
		} else {
			out[i].UserIDGroupPairs = append(out[i].UserIDGroupPairs,
				UserIDGroupPair{GroupID: r.GroupID, UserID: r.GroupOwnerID, Description: r.Description})
		}
	}
	return out
}

func hasPorts(proto string) bool {
	switch proto {
	case ProtocolTCP, ProtocolUDP, ProtocolICMP, ProtocolICMPv6:
		return true
	}
	return false
}

// GroupIdentifier names a security group, as instances and interfaces
// report theirs.
type GroupIdentifier struct {
	ID   string
	Name string
}

// groupIdentifiers resolves group IDs to names. A group that no longer
// exists (as after an instance's termination) keeps its ID and no name.
func groupIdentifiers(t *txn, ids []string) ([]GroupIdentifier, error) {
	out := make([]GroupIdentifier, 0, len(ids))
	for _, id := range ids {
		g, ok, err := getRef[SecurityGroup](t, prefixSecurityGroups, id)
		if err != nil {
			return nil, err
		}
		gi := GroupIdentifier{ID: id}
		if ok {
			gi.Name = g.Name
		}
		out = append(out, gi)
	}
	return out, nil
}

// parseIPv4 parses an IPv4 address.
func parseIPv4(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// DescribeSecurityGroupRulesInput is DescribeSecurityGroupRules' request.
// RuleIDs name rules, which must exist; GroupIDs keep only the rules of
// those groups (the group-id filter), without complaint about groups that
// do not exist. Neither means every rule of the caller's groups.
type DescribeSecurityGroupRulesInput struct {
	RuleIDs  []string
	GroupIDs []string
}

// DescribeSecurityGroupRules returns the rules of the caller's security
// groups, in group ID order and, within a group, in the order they were
// added.
func (c *Cloud) DescribeSecurityGroupRules(ctx context.Context, caller Caller, in DescribeSecurityGroupRulesInput) ([]SecurityGroupRuleDescription, error) {
	ruleIDs := ec2UniqueIDs(in.RuleIDs)
	if err := ec2CheckIDs(ruleIDs, "sgr", "InvalidSecurityGroupRuleId.Malformed"); err != nil {
		return nil, err
	}
	var out []SecurityGroupRuleDescription
	err := c.view(ctx, func(t *txn) error {
		out = nil
		found := map[string]bool{}
		err := forEach(t, prefixSecurityGroups, func(g *SecurityGroup) {
			if g.OwnerID != caller.AccountID || len(in.GroupIDs) > 0 && !slices.Contains(in.GroupIDs, g.ID) {
				return
			}
			for _, r := range g.Rules {
				if len(ruleIDs) > 0 && !slices.Contains(ruleIDs, r.ID) {
					continue
				}
				found[r.ID] = true
				out = append(out, SecurityGroupRuleDescription{GroupID: g.ID, GroupOwnerID: g.OwnerID, Rule: r})
			}
		})
		if err != nil {
			return err
		}
		for _, id := range ruleIDs {
			if !found[id] && len(in.GroupIDs) == 0 {
				return Errorf(KindNotFound, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b SecurityGroupRuleDescription) int { return strings.Compare(a.GroupID, b.GroupID) })
	return out, err
}
