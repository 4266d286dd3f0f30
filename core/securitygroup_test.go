package core

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCreateSecurityGroup(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	v2 := tc.vpc(t, acctA, "10.0.0.0/16")

	g, err := tc.CreateSecurityGroup(ctx, acctA, CreateSecurityGroupInput{
		GroupName: "web servers", Description: "HTTP(S) from the ALB: ports 80,443 [prod]", VpcID: v.ID,
		TagSpecifications: []TagSpecification{{ResourceType: "security-group", Tags: []Tag{{"team", "a"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !validID(g.ID, "sg") || g.VpcID != v.ID || g.OwnerID != acctA.AccountID || !reflect.DeepEqual(g.Tags, []Tag{{"team", "a"}}) {
		t.Errorf("got %+v", g)
	}
	// A new group may send anywhere and receive nothing.
	if in, out := IPPermissions(g.Rules, false), IPPermissions(g.Rules, true); len(in) != 0 ||
		!reflect.DeepEqual(out, []IPPermission{{IPProtocol: "-1", IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}}) {
		t.Errorf("rules: ingress %+v egress %+v", in, out)
	}
	// Names are unique per VPC only, and a deleted group's name is free
	// again.
	g2 := tc.group(t, acctA, v2.ID, "web servers")
	if err := tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: g2.ID}); err != nil {
		t.Fatal(err)
	}
	tc.group(t, acctA, v2.ID, "web servers")

	tests := []struct {
		name string
		in   CreateSecurityGroupInput
		code string
		msg  string
	}{
		{"duplicate", CreateSecurityGroupInput{GroupName: "web servers", Description: "x", VpcID: v.ID}, "InvalidGroup.Duplicate",
			"The security group 'web servers' already exists for VPC '" + v.ID + "'"},
		{"no name", CreateSecurityGroupInput{Description: "x", VpcID: v.ID}, "MissingParameter", ""},
		{"no description", CreateSecurityGroupInput{GroupName: "x", VpcID: v.ID}, "MissingParameter", ""},
		{"sg- name", CreateSecurityGroupInput{GroupName: "sg-web", Description: "x", VpcID: v.ID}, "InvalidParameterValue",
			"Group names may not be in the format sg-*"},
		{"default name", CreateSecurityGroupInput{GroupName: "default", Description: "x", VpcID: v.ID}, "InvalidGroup.Reserved", ""},
		{"long name", CreateSecurityGroupInput{GroupName: strings.Repeat("a", 256), Description: "x", VpcID: v.ID}, "InvalidParameterValue", ""},
		{"bad character", CreateSecurityGroupInput{GroupName: "web%", Description: "x", VpcID: v.ID}, "InvalidParameterValue", ""},
		{"not ascii", CreateSecurityGroupInput{GroupName: "web", Description: "café", VpcID: v.ID}, "InvalidParameterValue",
			"Value (café) for parameter GroupDescription is invalid. Character sets beyond ASCII are not supported."},
		{"no vpc", CreateSecurityGroupInput{GroupName: "x", Description: "x"}, "VPCIdNotSpecified", "No default VPC for this user"},
		{"unknown vpc", CreateSecurityGroupInput{GroupName: "x", Description: "x", VpcID: "vpc-0123456789abcdef0"}, "InvalidVpcID.NotFound", ""},
		{"too many tags", CreateSecurityGroupInput{GroupName: "x", Description: "x", VpcID: v.ID,
			TagSpecifications: []TagSpecification{{ResourceType: "security-group", Tags: manyTags(51)}}}, "TagLimitExceeded", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tc.failsUnchanged(t, tt.code, func() error {
				_, err := tc.CreateSecurityGroup(ctx, acctA, tt.in)
				return err
			})
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}
}

func TestDescribeSecurityGroups(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	g := tc.group(t, acctA, v.ID, "web")

	all, err := tc.DescribeSecurityGroups(ctx, acctA, DescribeSecurityGroupsInput{})
	if err != nil || len(all) != 2 {
		t.Fatalf("got %v, %v", all, err)
	}
	one, err := tc.DescribeSecurityGroups(ctx, acctA, DescribeSecurityGroupsInput{GroupIDs: []string{g.ID}})
	if err != nil || len(one) != 1 || one[0].Name != "web" {
		t.Fatalf("got %v, %v", one, err)
	}
	tests := []struct {
		name string
		in   DescribeSecurityGroupsInput
		code string
		msg  string
	}{
		{"by name", DescribeSecurityGroupsInput{GroupNames: []string{"web"}}, "VPCIdNotSpecified",
			"No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC."},
		{"malformed", DescribeSecurityGroupsInput{GroupIDs: []string{"sg-q"}}, "InvalidGroupId.Malformed", `Invalid id: "sg-q" (expecting "sg-...")`},
		{"unknown", DescribeSecurityGroupsInput{GroupIDs: []string{g.ID, "sg-0123456789abcdef0"}}, "InvalidGroup.NotFound",
			"The security group 'sg-0123456789abcdef0' does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tc.DescribeSecurityGroups(ctx, acctA, tt.in)
			if e := wantCode(t, err, tt.code); e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}
}

func TestAuthorizeSecurityGroupIngress(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	web := tc.group(t, acctA, v.ID, "web")
	lb := tc.group(t, acctA, v.ID, "lb")

	rules, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{
		GroupID: web.ID,
		IPPermissions: []IPPermission{
			{IPProtocol: "TCP", FromPort: ptr[int32](22), ToPort: ptr[int32](22),
				IPRanges: []IPRange{{CIDR: "10.0.1.7/24", Description: "office"}, {CIDR: "192.168.0.0/16"}}},
			{IPProtocol: "6", FromPort: ptr[int32](8000), ToPort: ptr[int32](8100),
				UserIDGroupPairs: []UserIDGroupPair{{GroupID: lb.ID, UserID: acctA.AccountID}}},
			{IPProtocol: "icmp", FromPort: ptr[int32](8), ToPort: ptr[int32](-1), IPRanges: []IPRange{{CIDR: "10.0.0.0/16"}}},
			{IPProtocol: "47", FromPort: ptr[int32](5), ToPort: ptr[int32](9), IPRanges: []IPRange{{CIDR: "10.0.0.0/16"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 5 {
		t.Fatalf("got %d rules, want 5", len(rules))
	}
	for _, r := range rules {
		if !validID(r.Rule.ID, "sgr") || r.GroupID != web.ID || r.GroupOwnerID != acctA.AccountID || r.Rule.Egress {
			t.Errorf("rule %+v", r)
		}
	}
	// The legacy flat form adds to the tcp/22 permission.
	if _, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{
		GroupID: web.ID, IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), CidrIP: "172.16.0.0/12",
	}); err != nil {
		t.Fatal(err)
	}

	groups, err := tc.DescribeSecurityGroups(ctx, acctA, DescribeSecurityGroupsInput{GroupIDs: []string{web.ID}})
	if err != nil {
		t.Fatal(err)
	}
	got := IPPermissions(groups[0].Rules, false)
	want := []IPPermission{
		{IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), IPRanges: []IPRange{
			{CIDR: "10.0.1.0/24", Description: "office"}, {CIDR: "192.168.0.0/16"}, {CIDR: "172.16.0.0/12"}}},
		{IPProtocol: "tcp", FromPort: ptr[int32](8000), ToPort: ptr[int32](8100),
			UserIDGroupPairs: []UserIDGroupPair{{GroupID: lb.ID, UserID: acctA.AccountID}}},
		{IPProtocol: "icmp", FromPort: ptr[int32](8), ToPort: ptr[int32](-1), IPRanges: []IPRange{{CIDR: "10.0.0.0/16"}}},
		{IPProtocol: "47", IPRanges: []IPRange{{CIDR: "10.0.0.0/16"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("permissions\ngot  %s\nwant %s", showPerms(got), showPerms(want))
	}

	t.Run("egress", func(t *testing.T) {
		if _, err := tc.AuthorizeSecurityGroupEgress(ctx, acctA, SecurityGroupRulesInput{GroupID: lb.ID, IPPermissions: []IPPermission{
			{IPProtocol: "tcp", FromPort: ptr[int32](80), ToPort: ptr[int32](80), UserIDGroupPairs: []UserIDGroupPair{{GroupID: web.ID}}},
		}}); err != nil {
			t.Fatal(err)
		}
		groups, _ := tc.DescribeSecurityGroups(ctx, acctA, DescribeSecurityGroupsInput{GroupIDs: []string{lb.ID}})
		if out := IPPermissions(groups[0].Rules, true); len(out) != 2 || len(IPPermissions(groups[0].Rules, false)) != 0 {
			t.Errorf("egress %s", showPerms(out))
		}
	})
}

func TestAuthorizeSecurityGroupIngressErrors(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	web := tc.group(t, acctA, v.ID, "web")
	other := tc.group(t, acctA, tc.vpc(t, acctA, "10.1.0.0/16").ID, "other")
	if _, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{
		GroupID: web.ID, IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), CidrIP: "0.0.0.0/0",
	}); err != nil {
		t.Fatal(err)
	}

	tcp := func(from, to int32, cidr string) IPPermission {
		return IPPermission{IPProtocol: "tcp", FromPort: &from, ToPort: &to, IPRanges: []IPRange{{CIDR: cidr}}}
	}
	perms := func(p ...IPPermission) SecurityGroupRulesInput {
		return SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: p}
	}
	tests := []struct {
		name string
		in   SecurityGroupRulesInput
		code string
		msg  string
	}{
		{"duplicate", perms(tcp(22, 22, "0.0.0.0/0")), "InvalidPermission.Duplicate",
			`the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists`},
		{"duplicate in request", perms(tcp(80, 80, "10.0.0.0/8"), tcp(80, 80, "10.0.0.0/8")), "InvalidParameterValue",
			"The same permission must not appear multiple times"},
		{"unknown protocol", perms(IPPermission{IPProtocol: "all", IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}), "InvalidParameterValue",
			"Invalid value 'all' for IP protocol. Unknown protocol."},
		{"protocol number too big", perms(IPPermission{IPProtocol: "256", IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}), "InvalidParameterValue", ""},
		{"no protocol", perms(IPPermission{IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}), "InvalidParameterValue",
			"Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly."},
		{"tcp without ports", perms(IPPermission{IPProtocol: "tcp", FromPort: ptr[int32](80), IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}), "InvalidParameterValue",
			"Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange."},
		{"port out of range", perms(tcp(-1, 80, "0.0.0.0/0")), "InvalidParameterValue", "TCP/UDP (from) port (-1) out of range"},
		{"to port out of range", perms(tcp(1, 65536, "0.0.0.0/0")), "InvalidParameterValue", "TCP/UDP (to) port (65536) out of range"},
		{"ports reversed", perms(tcp(90, 80, "0.0.0.0/0")), "InvalidParameterValue", ""},
		{"icmp without type", perms(IPPermission{IPProtocol: "icmp", IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}), "InvalidParameterValue",
			"Invalid value 'Must specify both from and to ports with ICMP.' for portRange."},
		{"icmp type out of range", perms(IPPermission{IPProtocol: "icmp", FromPort: ptr[int32](256), ToPort: ptr[int32](0), IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}), "InvalidParameterValue", ""},
		{"bad cidr", perms(tcp(80, 80, "10.0.0.0/33")), "InvalidParameterValue", "CIDR block 10.0.0.0/33 is malformed"},
		{"ipv6 cidr as ipv4", perms(tcp(80, 80, "::/0")), "InvalidParameterValue", ""},
		{"bad rule description", perms(IPPermission{IPProtocol: "tcp", FromPort: ptr[int32](80), ToPort: ptr[int32](80),
			IPRanges: []IPRange{{CIDR: "0.0.0.0/0", Description: "naïve"}}}), "InvalidParameterValue", ""},
		{"no source", perms(IPPermission{IPProtocol: "tcp", FromPort: ptr[int32](80), ToPort: ptr[int32](80)}), "MissingParameter",
			"Missing source specification: include source security group or CIDR information"},
		{"no permissions", SecurityGroupRulesInput{GroupID: web.ID}, "MissingParameter", ""},
		{"group by name", SecurityGroupRulesInput{GroupName: "web", IPPermissions: []IPPermission{tcp(80, 80, "0.0.0.0/0")}}, "VPCIdNotSpecified", ""},
		{"no group", SecurityGroupRulesInput{IPPermissions: []IPPermission{tcp(80, 80, "0.0.0.0/0")}}, "MissingParameter", ""},
		{"malformed group", SecurityGroupRulesInput{GroupID: "sg-1", IPPermissions: []IPPermission{tcp(80, 80, "0.0.0.0/0")}}, "InvalidGroupId.Malformed", ""},
		{"unknown group", SecurityGroupRulesInput{GroupID: "sg-0123456789abcdef0", IPPermissions: []IPPermission{tcp(80, 80, "0.0.0.0/0")}}, "InvalidGroup.NotFound",
			"The security group 'sg-0123456789abcdef0' does not exist"},
		{"source group by name", perms(IPPermission{IPProtocol: "-1", UserIDGroupPairs: []UserIDGroupPair{{GroupName: "lb"}}}), "InvalidParameterValue",
			"Invalid value 'lb' for groupName. You may not reference Amazon VPC security groups by name. Please use the corresponding id for this operation."},
		{"legacy source group", SecurityGroupRulesInput{GroupID: web.ID, SourceSecurityGroupName: "lb"}, "InvalidParameterValue", ""},
		{"unknown source group", perms(IPPermission{IPProtocol: "-1", UserIDGroupPairs: []UserIDGroupPair{{GroupID: "sg-0123456789abcdef0"}}}), "InvalidGroup.NotFound", ""},
		{"source group in another vpc", perms(IPPermission{IPProtocol: "-1", UserIDGroupPairs: []UserIDGroupPair{{GroupID: other.ID}}}), "InvalidGroup.NotFound",
			"You have specified two resources that belong to different networks."},
		{"source group of another owner", perms(IPPermission{IPProtocol: "-1", UserIDGroupPairs: []UserIDGroupPair{{GroupID: web.ID, UserID: acctB.AccountID}}}), "InvalidGroup.NotFound", ""},
		{"peering", perms(IPPermission{IPProtocol: "-1", UserIDGroupPairs: []UserIDGroupPair{{GroupID: web.ID, VpcPeeringConnectionID: "pcx-12345678"}}}), "UnsupportedOperation", ""},
		{"ipv6 ranges", perms(IPPermission{IPProtocol: "-1", IPv6Ranges: []IPv6Range{{CIDR: "::/0"}}}), "UnsupportedOperation", ""},
		{"prefix list", perms(IPPermission{IPProtocol: "-1", PrefixListIDs: []PrefixListID{{ID: "pl-12345678"}}}), "UnsupportedOperation", ""},
		{"both forms", SecurityGroupRulesInput{GroupID: web.ID, CidrIP: "0.0.0.0/0", IPPermissions: []IPPermission{tcp(80, 80, "0.0.0.0/0")}}, "InvalidParameterCombination", ""},
		{"rule tags", SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{tcp(80, 80, "0.0.0.0/0")},
			TagSpecifications: []TagSpecification{{ResourceType: "security-group-rule", Tags: []Tag{{"a", "b"}}}}}, "UnsupportedOperation", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tc.failsUnchanged(t, tt.code, func() error {
				_, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, tt.in)
				return err
			})
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}

	t.Run("duplicate of all traffic", func(t *testing.T) {
		_, err := tc.AuthorizeSecurityGroupEgress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
			{IPProtocol: "-1", FromPort: ptr[int32](0), ToPort: ptr[int32](0), IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}}})
		if e := wantCode(t, err, "InvalidPermission.Duplicate"); e.Message != `the specified rule "peer: 0.0.0.0/0, ALL, ALLOW" already exists` {
			t.Errorf("message %q", e.Message)
		}
	})

	t.Run("rule limit", func(t *testing.T) {
		var ps []IPPermission
		for i := range int32(maxRulesPerDirection) {
			ps = append(ps, tcp(1000+i, 1000+i, "10.0.0.0/8"))
		}
		tc.failsUnchanged(t, "RulesPerSecurityGroupLimitExceeded", func() error {
			_, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, perms(ps...))
			return err
		})
		if _, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, perms(ps[1:]...)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRevokeSecurityGroupIngress(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	web := tc.group(t, acctA, v.ID, "web")
	added, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
		{IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), IPRanges: []IPRange{{CIDR: "10.0.0.0/8", Description: "a"}, {CIDR: "192.168.0.0/16"}}},
		{IPProtocol: "udp", FromPort: ptr[int32](53), ToPort: ptr[int32](53), IPRanges: []IPRange{{CIDR: "10.0.0.0/8"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}

	errs := []struct {
		name string
		in   SecurityGroupRulesInput
		code string
	}{
		// One unknown rule among known ones revokes nothing.
		{"unknown rule", SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
			{IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), IPRanges: []IPRange{{CIDR: "10.0.0.0/8"}, {CIDR: "172.16.0.0/12"}}}}},
			"InvalidPermission.NotFound"},
		{"ingress rule as egress", SecurityGroupRulesInput{GroupID: web.ID, SecurityGroupRuleIDs: []string{added[0].Rule.ID}}, ""},
		{"unknown rule id", SecurityGroupRulesInput{GroupID: web.ID, SecurityGroupRuleIDs: []string{"sgr-0123456789abcdef0"}}, "InvalidSecurityGroupRuleId.NotFound"},
		{"malformed rule id", SecurityGroupRulesInput{GroupID: web.ID, SecurityGroupRuleIDs: []string{"sgr-x"}}, "InvalidSecurityGroupRuleId.Malformed"},
		{"nothing", SecurityGroupRulesInput{GroupID: web.ID}, "MissingParameter"},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			if e.code == "" {
				tc.failsUnchanged(t, "InvalidSecurityGroupRuleId.NotFound", func() error {
					_, err := tc.RevokeSecurityGroupEgress(ctx, acctA, e.in)
					return err
				})
				return
			}
			tc.failsUnchanged(t, e.code, func() error {
				_, err := tc.RevokeSecurityGroupIngress(ctx, acctA, e.in)
				return err
			})
		})
	}

	// By properties, without the description, in the legacy form.
	gone, err := tc.RevokeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{
		GroupID: web.ID, IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), CidrIP: "10.0.0.0/8"})
	if err != nil || len(gone) != 1 || gone[0].Rule.ID != added[0].Rule.ID {
		t.Fatalf("revoked %+v, %v", gone, err)
	}
	// By ID.
	gone, err = tc.RevokeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, SecurityGroupRuleIDs: []string{added[2].Rule.ID}})
	if err != nil || len(gone) != 1 || gone[0].Rule.Protocol != "udp" {
		t.Fatalf("revoked %+v, %v", gone, err)
	}
	groups, _ := tc.DescribeSecurityGroups(ctx, acctA, DescribeSecurityGroupsInput{GroupIDs: []string{web.ID}})
	want := []IPPermission{{IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), IPRanges: []IPRange{{CIDR: "192.168.0.0/16"}}}}
	if got := IPPermissions(groups[0].Rules, false); !reflect.DeepEqual(got, want) {
		t.Errorf("left %s", showPerms(got))
	}
	// Several at once, by properties and by ID.
	more, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
		{IPProtocol: "icmp", FromPort: ptr[int32](-1), ToPort: ptr[int32](-1), IPRanges: []IPRange{{CIDR: "10.0.0.0/8"}, {CIDR: "10.1.0.0/16"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	gone, err = tc.RevokeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
		{IPProtocol: "icmp", FromPort: ptr[int32](-1), ToPort: ptr[int32](-1), IPRanges: []IPRange{{CIDR: "10.0.0.0/8"}}},
		{IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), IPRanges: []IPRange{{CIDR: "192.168.0.0/16"}}}}})
	if err != nil || len(gone) != 2 {
		t.Fatalf("revoked %+v, %v", gone, err)
	}
	if _, err := tc.RevokeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, SecurityGroupRuleIDs: []string{more[1].Rule.ID}}); err != nil {
		t.Fatal(err)
	}
	groups, _ = tc.DescribeSecurityGroups(ctx, acctA, DescribeSecurityGroupsInput{GroupIDs: []string{web.ID}})
	if got := IPPermissions(groups[0].Rules, false); len(got) != 0 {
		t.Errorf("left %s", showPerms(got))
	}
	// The default egress rule can go too.
	if _, err := tc.RevokeSecurityGroupEgress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
		{IPProtocol: "-1", IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}}}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteSecurityGroup(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*testCloud, VPC, SecurityGroup, SecurityGroup) {
		tc := newTestCloud(t)
		v := tc.vpc(t, acctA, "10.0.0.0/16")
		return tc, v, tc.group(t, acctA, v.ID, "web"), tc.group(t, acctA, v.ID, "lb")
	}

	t.Run("deletes", func(t *testing.T) {
		tc, _, web, _ := setup(t)
		// A group that references itself is not in use.
		if _, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
			{IPProtocol: "-1", UserIDGroupPairs: []UserIDGroupPair{{GroupID: web.ID}}}}}); err != nil {
			t.Fatal(err)
		}
		if err := tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: web.ID}); err != nil {
			t.Fatal(err)
		}
		tc.failsUnchanged(t, "InvalidGroup.NotFound", func() error {
			return tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: web.ID})
		})
	})

	t.Run("default group", func(t *testing.T) {
		tc, v, _, _ := setup(t)
		e := tc.failsUnchanged(t, "CannotDelete", func() error {
			return tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: v.DefaultSecurityGroupID})
		})
		if want := `the specified group: "` + v.DefaultSecurityGroupID + `" name: "default" cannot be deleted by a user`; e.Message != want {
			t.Errorf("message %q, want %q", e.Message, want)
		}
	})

	uses := []struct {
		name string
		use  func(t *testing.T, tc *testCloud, v VPC, web, lb SecurityGroup)
	}{
		{"instance", func(t *testing.T, tc *testCloud, v VPC, web, lb SecurityGroup) {
			s := tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
			tc.run(t, acctA, RunInstancesInput{SubnetID: s.ID, SecurityGroupIDs: []string{web.ID}})
		}},
		{"rule of another group", func(t *testing.T, tc *testCloud, v VPC, web, lb SecurityGroup) {
			if _, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: lb.ID, IPPermissions: []IPPermission{
				{IPProtocol: "tcp", FromPort: ptr[int32](1), ToPort: ptr[int32](2), UserIDGroupPairs: []UserIDGroupPair{{GroupID: web.ID}}}}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"interface", func(t *testing.T, tc *testCloud, v VPC, web, lb SecurityGroup) {
			tc.putRaw(t, keyENI("eni-0123456789abcdef0"), NetworkInterface{ID: "eni-0123456789abcdef0", VpcID: v.ID, SecurityGroupIDs: []string{lb.ID, web.ID}})
		}},
	}
	for _, u := range uses {
		t.Run("in use by "+u.name, func(t *testing.T) {
			tc, v, web, lb := setup(t)
			u.use(t, tc, v, web, lb)
			e := tc.failsUnchanged(t, "DependencyViolation", func() error {
				return tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: web.ID})
			})
			if want := "resource " + web.ID + " has a dependent object"; e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
		})
	}

	t.Run("no longer in use", func(t *testing.T) {
		tc, v, web, lb := setup(t)
		rule := SecurityGroupRulesInput{GroupID: lb.ID, IPPermissions: []IPPermission{
			{IPProtocol: "tcp", FromPort: ptr[int32](1), ToPort: ptr[int32](2), UserIDGroupPairs: []UserIDGroupPair{{GroupID: web.ID}}}}}
		if _, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, rule); err != nil {
			t.Fatal(err)
		}
		if _, err := tc.RevokeSecurityGroupIngress(ctx, acctA, rule); err != nil {
			t.Fatal(err)
		}
		// A terminated instance is only a record.
		tc.putRaw(t, keyInstance("i-0123456789abcdef0"), Instance{ID: "i-0123456789abcdef0", OwnerID: acctA.AccountID, VpcID: v.ID,
			State: InstanceTerminated, SecurityGroupIDs: []string{web.ID}})
		if err := tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: web.ID}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("by name", func(t *testing.T) {
		tc, _, _, _ := setup(t)
		tc.failsUnchanged(t, "VPCIdNotSpecified", func() error {
			return tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupName: "web"})
		})
	})
}

func TestIPPermissionsMergesByProtocolAndPorts(t *testing.T) {
	rule := func(proto string, from, to int32, cidr string) SecurityGroupRule {
		r := SecurityGroupRule{Protocol: proto, FromPort: from, ToPort: to}
		r.CIDR, _ = parseIPv4Prefix(cidr)
		return r
	}
	rules := []SecurityGroupRule{
		rule("tcp", 443, 443, "10.0.0.0/8"),
		rule("udp", 443, 443, "10.0.0.0/8"),
		rule("tcp", 443, 443, "192.168.0.0/16"),
		{Protocol: "tcp", FromPort: 443, ToPort: 443, GroupID: "sg-12345678", GroupOwnerID: "111111111111", Description: "lb"},
		rule("tcp", 80, 443, "10.0.0.0/8"),
		{Protocol: "-1", FromPort: -1, ToPort: -1, Egress: true, CIDR: anyIPv4},
	}
	got := IPPermissions(rules, false)
	want := []IPPermission{
		{IPProtocol: "tcp", FromPort: ptr[int32](443), ToPort: ptr[int32](443),
			IPRanges:         []IPRange{{CIDR: "10.0.0.0/8"}, {CIDR: "192.168.0.0/16"}},
			UserIDGroupPairs: []UserIDGroupPair{{GroupID: "sg-12345678", UserID: "111111111111", Description: "lb"}}},
		{IPProtocol: "udp", FromPort: ptr[int32](443), ToPort: ptr[int32](443), IPRanges: []IPRange{{CIDR: "10.0.0.0/8"}}},
		{IPProtocol: "tcp", FromPort: ptr[int32](80), ToPort: ptr[int32](443), IPRanges: []IPRange{{CIDR: "10.0.0.0/8"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", showPerms(got), showPerms(want))
	}
}

func TestNormalizeProtocol(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tcp", "tcp"}, {"TCP", "tcp"}, {"6", "tcp"}, {"17", "udp"}, {"1", "icmp"}, {"58", "icmpv6"},
		{"-1", "-1"}, {"047", "47"}, {"0", "0"}, {"255", "255"},
		{"256", ""}, {"-2", ""}, {"all", ""}, {"gre", ""}, {"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := normalizeProtocol(tt.in)
			if tt.want == "" {
				wantCode(t, err, "InvalidParameterValue")
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func showPerms(ps []IPPermission) string {
	var sb strings.Builder
	for _, p := range ps {
		sb.WriteString("{" + p.IPProtocol)
		if p.FromPort != nil {
			sb.WriteString(" " + itoa(*p.FromPort) + "-" + itoa(*p.ToPort))
		}
		for _, r := range p.IPRanges {
			sb.WriteString(" " + r.CIDR + "(" + r.Description + ")")
		}
		for _, g := range p.UserIDGroupPairs {
			sb.WriteString(" " + g.GroupID + "/" + g.UserID + "(" + g.Description + ")")
		}
		sb.WriteString("} ")
	}
	return sb.String()
}

func manyTags(n int) []Tag {
	tags := make([]Tag, n)
	for i := range tags {
		tags[i] = Tag{Key: "k" + itoa(int32(i)), Value: "v"}
	}
	return tags
}

func TestDescribeSecurityGroupRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	web := tc.group(t, acctA, v.ID, "web")
	theirs := tc.group(t, acctB, tc.vpc(t, acctB, "10.0.0.0/16").ID, "theirs")
	in, err := tc.AuthorizeSecurityGroupIngress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
		{IPProtocol: "tcp", FromPort: ptr[int32](443), ToPort: ptr[int32](443), IPRanges: []IPRange{{CIDR: "10.0.0.0/8"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tc.AuthorizeSecurityGroupEgress(ctx, acctA, SecurityGroupRulesInput{GroupID: web.ID, IPPermissions: []IPPermission{
		{IPProtocol: "udp", FromPort: ptr[int32](53), ToPort: ptr[int32](53), UserIDGroupPairs: []UserIDGroupPair{{GroupID: v.DefaultSecurityGroupID}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rs []SecurityGroupRuleDescription) []string {
		var s []string
		for _, r := range rs {
			s = append(s, r.GroupID+"/"+r.Rule.ID)
		}
		return s
	}
	all, err := tc.DescribeSecurityGroupRules(ctx, acctA, DescribeSecurityGroupRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	// Both groups' default rules, the two added, in group order; nothing of
	// the other account's.
	var webRules []string
	for _, r := range all {
		if r.GroupOwnerID != acctA.AccountID || r.GroupID == theirs.ID {
			t.Errorf("rule of another account %+v", r)
		}
		if r.GroupID == web.ID {
			webRules = append(webRules, r.Rule.ID)
		}
	}
	if len(all) != 5 || !slices.IsSortedFunc(all, func(a, b SecurityGroupRuleDescription) int { return strings.Compare(a.GroupID, b.GroupID) }) {
		t.Errorf("all rules %v", ids(all))
	}
	if len(webRules) != 3 || webRules[1] != in[0].Rule.ID || webRules[2] != out[0].Rule.ID {
		t.Errorf("web's rules %v, want the default egress rule, %s, %s", webRules, in[0].Rule.ID, out[0].Rule.ID)
	}

	byGroup, err := tc.DescribeSecurityGroupRules(ctx, acctA, DescribeSecurityGroupRulesInput{GroupIDs: []string{web.ID, theirs.ID}})
	var byGroupIDs []string
	for _, r := range byGroup {
		byGroupIDs = append(byGroupIDs, r.Rule.ID)
	}
	if err != nil || !slices.Equal(byGroupIDs, webRules) {
		t.Errorf("by group %v, want %v (%v)", byGroupIDs, webRules, err)
	}
	one, err := tc.DescribeSecurityGroupRules(ctx, acctA, DescribeSecurityGroupRulesInput{RuleIDs: []string{out[0].Rule.ID}})
	if err != nil || len(one) != 1 || !one[0].Rule.Egress || one[0].Rule.GroupID != v.DefaultSecurityGroupID || one[0].Rule.Protocol != "udp" {
		t.Errorf("one rule %+v, %v", one, err)
	}

	_, err = tc.DescribeSecurityGroupRules(ctx, acctA, DescribeSecurityGroupRulesInput{RuleIDs: []string{"sgr-0123456789abcdef0"}})
	if e := wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound"); e.Message != "The security group rule ID 'sgr-0123456789abcdef0' does not exist" {
		t.Errorf("message %q", e.Message)
	}
	theirRules, err := tc.DescribeSecurityGroupRules(ctx, acctB, DescribeSecurityGroupRulesInput{GroupIDs: []string{theirs.ID}})
	if err != nil || len(theirRules) != 1 {
		t.Fatalf("the other account's rules %+v %v", theirRules, err)
	}
	_, err = tc.DescribeSecurityGroupRules(ctx, acctA, DescribeSecurityGroupRulesInput{RuleIDs: []string{theirRules[0].Rule.ID}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	_, err = tc.DescribeSecurityGroupRules(ctx, acctA, DescribeSecurityGroupRulesInput{RuleIDs: []string{"rule-1"}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.Malformed")
}
