package core

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/memstore"
)

// Test fixtures shared by the EC2 networking tests.

var (
	acctA = Caller{AccountID: "111111111111"}
	acctB = Caller{AccountID: "222222222222"}
)

// testCloud is a Cloud over a memstore with deterministic IDs and a clock
// the test moves.
type testCloud struct {
	*Cloud
	st  *memstore.Store
	now *time.Time
}

func newTestCloud(t *testing.T) *testCloud {
	t.Helper()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	c, err := New(st, Config{
		Rand: rand.NewChaCha8([32]byte{1, 2, 3}),
		Now:  func() time.Time { return now },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkMemo(t, c)
		checkIndexes(t, c)
	})
	return &testCloud{Cloud: c, st: st, now: &now}
}

// dump is the whole store, to show that a failed call wrote nothing.
func (tc *testCloud) dump(t *testing.T) []store.KV {
	t.Helper()
	kvs, _, err := tc.st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return kvs
}

// failsUnchanged runs a call that must fail with the code and leave the
// store exactly as it was.
func (tc *testCloud) failsUnchanged(t *testing.T, code string, call func() error) *Error {
	t.Helper()
	before := tc.dump(t)
	err := call()
	e := wantCode(t, err, code)
	if after := tc.dump(t); !reflect.DeepEqual(before, after) {
		t.Errorf("failed call changed the store:\nbefore %d keys\nafter  %d keys", len(before), len(after))
	}
	return e
}

func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("got error %v, want an *Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got %s (%s), want %s", e.Code, e.Message, code)
	}
	return e
}

func (tc *testCloud) vpc(t *testing.T, caller Caller, cidr string) VPC {
	t.Helper()
	v, err := tc.CreateVpc(context.Background(), caller, CreateVpcInput{CidrBlock: cidr})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (tc *testCloud) subnet(t *testing.T, caller Caller, vpcID, cidr string) SubnetDescription {
	t.Helper()
	s, err := tc.CreateSubnet(context.Background(), caller, CreateSubnetInput{VpcID: vpcID, CidrBlock: cidr})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (tc *testCloud) group(t *testing.T, caller Caller, vpcID, name string) SecurityGroup {
	t.Helper()
	g, err := tc.CreateSecurityGroup(context.Background(), caller, CreateSecurityGroupInput{GroupName: name, Description: "test group", VpcID: vpcID})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (tc *testCloud) run(t *testing.T, caller Caller, in RunInstancesInput) Reservation {
	t.Helper()
	if in.ImageID == "" {
		in.ImageID = "ami-12345678"
	}
	if in.MinCount == nil {
		in.MinCount = ptr[int32](1)
	}
	if in.MaxCount == nil {
		in.MaxCount = in.MinCount
	}
	r, err := tc.RunInstances(context.Background(), caller, in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// putRaw stores an object as another part of core would, for dependencies
// this file's actions do not create.
func (tc *testCloud) putRaw(t *testing.T, key string, v any) {
	t.Helper()
	if err := tc.update(context.Background(), func(tx *txn) error { return put(tx, key, v) }); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCreateVpc(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v, err := tc.CreateVpc(ctx, acctA, CreateVpcInput{
		CidrBlock:         "10.0.7.0/16",
		TagSpecifications: []TagSpecification{{ResourceType: "vpc", Tags: []Tag{{"Name", "provider"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"id", validID(v.ID, "vpc") && len(v.ID) == 21},
		{"owner", v.OwnerID == acctA.AccountID},
		{"canonical cidr", v.CIDR == netip.MustParsePrefix("10.0.0.0/16")},
		{"state", v.State == VPCAvailable},
		{"association id", strings.HasPrefix(v.CIDRAssociationID, "vpc-cidr-assoc-")},
		{"dhcp options", validID(v.DHCPOptionsID, "dopt")},
		{"tenancy", v.InstanceTenancy == TenancyDefault},
		{"dns support", v.EnableDNSSupport},
		{"dns hostnames", !v.EnableDNSHostnames},
		{"not default", !v.IsDefault},
		{"tags", reflect.DeepEqual(v.Tags, []Tag{{"Name", "provider"}})},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if !ch.ok {
				t.Errorf("%+v", v)
			}
		})
	}

	// The account's VPCs share one DHCP options set.
	if v2 := tc.vpc(t, acctA, "10.1.0.0/16"); v2.DHCPOptionsID != v.DHCPOptionsID {
		t.Errorf("DHCP options %s and %s differ", v.DHCPOptionsID, v2.DHCPOptionsID)
	}

	groups, err := tc.DescribeSecurityGroups(ctx, acctA, DescribeSecurityGroupsInput{GroupIDs: []string{v.DefaultSecurityGroupID}})
	if err != nil {
		t.Fatal(err)
	}
	g := groups[0]
	if g.Name != "default" || g.Description != "default VPC security group" || g.VpcID != v.ID || g.OwnerID != acctA.AccountID {
		t.Errorf("default group %+v", g)
	}
	in, out := IPPermissions(g.Rules, false), IPPermissions(g.Rules, true)
	wantIn := []IPPermission{{IPProtocol: "-1", UserIDGroupPairs: []UserIDGroupPair{{GroupID: g.ID, UserID: acctA.AccountID}}}}
	wantOut := []IPPermission{{IPProtocol: "-1", IPRanges: []IPRange{{CIDR: "0.0.0.0/0"}}}}
	if !reflect.DeepEqual(in, wantIn) || !reflect.DeepEqual(out, wantOut) {
		t.Errorf("default rules: ingress %+v egress %+v", in, out)
	}
	for _, r := range g.Rules {
		if !validID(r.ID, "sgr") {
			t.Errorf("rule ID %q", r.ID)
		}
	}
}

func TestCreateVpcErrors(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	tests := []struct {
		name string
		in   CreateVpcInput
		code string
		msg  string
	}{
		{"no cidr", CreateVpcInput{}, "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided."},
		{"prefix too long", CreateVpcInput{CidrBlock: "10.0.0.0/33"}, "InvalidParameterValue",
			"Value (10.0.0.0/33) for parameter cidrBlock is invalid. This is not a valid CIDR block."},
		{"not a cidr", CreateVpcInput{CidrBlock: "banana"}, "InvalidParameterValue", ""},
		{"no prefix length", CreateVpcInput{CidrBlock: "10.0.0.0"}, "InvalidParameterValue", ""},
		{"ipv6 cidr", CreateVpcInput{CidrBlock: "fd00::/56"}, "InvalidParameterValue", ""},
		{"too big", CreateVpcInput{CidrBlock: "192.168.0.0/8"}, "InvalidVpc.Range", "The CIDR '192.168.0.0/8' is invalid."},
		{"too small", CreateVpcInput{CidrBlock: "10.0.0.0/29"}, "InvalidVpc.Range", "The CIDR '10.0.0.0/29' is invalid."},
		{"loopback", CreateVpcInput{CidrBlock: "127.0.0.0/16"}, "InvalidVpc.Range", ""},
		{"link-local", CreateVpcInput{CidrBlock: "169.254.0.0/16"}, "InvalidVpc.Range", ""},
		{"multicast", CreateVpcInput{CidrBlock: "224.1.0.0/16"}, "InvalidVpc.Range", ""},
		{"host tenancy", CreateVpcInput{CidrBlock: "10.0.0.0/16", InstanceTenancy: "host"}, "UnsupportedTenancy", "The tenancy value host is not supported."},
		{"bad tenancy", CreateVpcInput{CidrBlock: "10.0.0.0/16", InstanceTenancy: "shared"}, "InvalidParameterValue", ""},
		{"ipv6 block", CreateVpcInput{CidrBlock: "10.0.0.0/16", AmazonProvidedIpv6CidrBlock: true}, "UnsupportedOperation", ""},
		{"ipam", CreateVpcInput{Ipv4IpamPoolID: "ipam-pool-0123456789abcdef0", Ipv4NetmaskLength: ptr[int32](16)}, "UnsupportedOperation", ""},
		{"tag of another type", CreateVpcInput{CidrBlock: "10.0.0.0/16",
			TagSpecifications: []TagSpecification{{ResourceType: "subnet", Tags: []Tag{{"a", "b"}}}}},
			"InvalidParameterValue", "'subnet' is not a valid taggable resource type for this operation."},
		{"reserved tag", CreateVpcInput{CidrBlock: "10.0.0.0/16",
			TagSpecifications: []TagSpecification{{ResourceType: "vpc", Tags: []Tag{{"aws:x", "b"}}}}},
			"InvalidParameterValue", "Value ( aws:x ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tc.failsUnchanged(t, tt.code, func() error {
				_, err := tc.CreateVpc(ctx, acctA, tt.in)
				return err
			})
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}

	t.Run("limit", func(t *testing.T) {
		for range maxVPCsPerAccount {
			tc.vpc(t, acctA, "10.0.0.0/16")
		}
		tc.failsUnchanged(t, "VpcLimitExceeded", func() error {
			_, err := tc.CreateVpc(ctx, acctA, CreateVpcInput{CidrBlock: "10.0.0.0/16"})
			return err
		})
		// The quota is per account.
		tc.vpc(t, acctB, "10.0.0.0/16")
	})
}

func TestDescribeVpcs(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	a1, a2 := tc.vpc(t, acctA, "10.0.0.0/16"), tc.vpc(t, acctA, "10.0.0.0/16")
	b1 := tc.vpc(t, acctB, "10.0.0.0/16")

	ids := func(vs []VPC) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return out
	}
	sorted := func(s ...string) []string {
		if s[0] > s[1] {
			s[0], s[1] = s[1], s[0]
		}
		return s
	}
	tests := []struct {
		name   string
		caller Caller
		in     DescribeVpcsInput
		want   []string
		code   string
	}{
		{"all of A", acctA, DescribeVpcsInput{}, sorted(a1.ID, a2.ID), ""},
		{"all of B", acctB, DescribeVpcsInput{}, []string{b1.ID}, ""},
		{"by id, repeated", acctA, DescribeVpcsInput{VpcIDs: []string{a2.ID, a2.ID}}, []string{a2.ID}, ""},
		{"another account's", acctB, DescribeVpcsInput{VpcIDs: []string{a1.ID}}, nil, "InvalidVpcID.NotFound"},
		{"unknown", acctA, DescribeVpcsInput{VpcIDs: []string{"vpc-0123456789abcdef0"}}, nil, "InvalidVpcID.NotFound"},
		{"malformed", acctA, DescribeVpcsInput{VpcIDs: []string{"vpc-xyz"}}, nil, "InvalidVpcID.Malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tc.DescribeVpcs(ctx, tt.caller, tt.in)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tt.want) {
				t.Errorf("got %v, want %v", ids(got), tt.want)
			}
		})
	}

	t.Run("not found names every id", func(t *testing.T) {
		_, err := tc.DescribeVpcs(ctx, acctB, DescribeVpcsInput{VpcIDs: []string{a1.ID, a2.ID}})
		e := wantCode(t, err, "InvalidVpcID.NotFound")
		if want := "The vpc IDs '" + a1.ID + ", " + a2.ID + "' do not exist"; e.Message != want {
			t.Errorf("message %q, want %q", e.Message, want)
		}
	})
}

func TestDeleteVpc(t *testing.T) {
	ctx := context.Background()

	t.Run("deletes its default group", func(t *testing.T) {
		tc := newTestCloud(t)
		v := tc.vpc(t, acctA, "10.0.0.0/16")
		if err := tc.DeleteVpc(ctx, acctA, DeleteVpcInput{VpcID: v.ID}); err != nil {
			t.Fatal(err)
		}
		if kvs := tc.dump(t); len(kvs) != 0 {
			t.Errorf("left behind %v", kvs)
		}
	})

	deps := []struct {
		name string
		add  func(t *testing.T, tc *testCloud, v VPC)
	}{
		{"subnet", func(t *testing.T, tc *testCloud, v VPC) { tc.subnet(t, acctA, v.ID, "10.0.1.0/24") }},
		{"security group", func(t *testing.T, tc *testCloud, v VPC) { tc.group(t, acctA, v.ID, "web") }},
		{"instance", func(t *testing.T, tc *testCloud, v VPC) {
			tc.putRaw(t, keyInstance("i-0123456789abcdef0"), Instance{ID: "i-0123456789abcdef0", OwnerID: acctA.AccountID, VpcID: v.ID, State: InstanceRunning})
		}},
		{"endpoint", func(t *testing.T, tc *testCloud, v VPC) {
			tc.putRaw(t, keyEndpoint("vpce-0123456789abcdef0"), VpcEndpoint{ID: "vpce-0123456789abcdef0", OwnerID: acctA.AccountID, VpcID: v.ID, State: EndpointDeleting})
		}},
		{"load balancer", func(t *testing.T, tc *testCloud, v VPC) {
			tc.putRaw(t, keyLoadBalancer("0123456789abcdef"), LoadBalancer{ID: "0123456789abcdef", OwnerID: acctA.AccountID, VpcID: v.ID})
		}},
	}
	for _, d := range deps {
		t.Run("dependency "+d.name, func(t *testing.T) {
			tc := newTestCloud(t)
			v := tc.vpc(t, acctA, "10.0.0.0/16")
			d.add(t, tc, v)
			e := tc.failsUnchanged(t, "DependencyViolation", func() error {
				return tc.DeleteVpc(ctx, acctA, DeleteVpcInput{VpcID: v.ID})
			})
			if want := "The vpc '" + v.ID + "' has dependencies and cannot be deleted."; e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
		})
	}

	t.Run("terminated instances do not count", func(t *testing.T) {
		tc := newTestCloud(t)
		v := tc.vpc(t, acctA, "10.0.0.0/16")
		tc.putRaw(t, keyInstance("i-0123456789abcdef0"), Instance{ID: "i-0123456789abcdef0", OwnerID: acctA.AccountID, VpcID: v.ID, State: InstanceTerminated})
		if err := tc.DeleteVpc(ctx, acctA, DeleteVpcInput{VpcID: v.ID}); err != nil {
			t.Fatal(err)
		}
	})

	lookups := []struct {
		name   string
		caller Caller
		id     func(v VPC) string
		code   string
	}{
		{"another account", acctB, func(v VPC) string { return v.ID }, "InvalidVpcID.NotFound"},
		{"unknown", acctA, func(VPC) string { return "vpc-12345678" }, "InvalidVpcID.NotFound"},
		{"malformed", acctA, func(VPC) string { return "vpc-1" }, "InvalidVpcID.Malformed"},
		{"missing", acctA, func(VPC) string { return "" }, "MissingParameter"},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			tc := newTestCloud(t)
			v := tc.vpc(t, acctA, "10.0.0.0/16")
			tc.failsUnchanged(t, l.code, func() error {
				return tc.DeleteVpc(ctx, l.caller, DeleteVpcInput{VpcID: l.id(v)})
			})
		})
	}
}

func TestAccountIsolation(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	s := tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
	g := tc.group(t, acctA, v.ID, "web")
	r := tc.run(t, acctA, RunInstancesInput{SubnetID: s.ID})

	// B has the same CIDR, as PrivateLink consumers often do.
	vb := tc.vpc(t, acctB, "10.0.0.0/16")
	sb := tc.subnet(t, acctB, vb.ID, "10.0.1.0/24")

	calls := []struct {
		name string
		code string
		call func() error
	}{
		{"describe vpc", "InvalidVpcID.NotFound", func() error {
			_, err := tc.DescribeVpcs(ctx, acctB, DescribeVpcsInput{VpcIDs: []string{v.ID}})
			return err
		}},
		{"delete vpc", "InvalidVpcID.NotFound", func() error { return tc.DeleteVpc(ctx, acctB, DeleteVpcInput{VpcID: v.ID}) }},
		{"subnet in A's vpc", "InvalidVpcID.NotFound", func() error {
			_, err := tc.CreateSubnet(ctx, acctB, CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.9.0/24"})
			return err
		}},
		{"describe subnet", "InvalidSubnetID.NotFound", func() error {
			_, err := tc.DescribeSubnets(ctx, acctB, DescribeSubnetsInput{SubnetIDs: []string{s.ID}})
			return err
		}},
		{"delete subnet", "InvalidSubnetID.NotFound", func() error { return tc.DeleteSubnet(ctx, acctB, DeleteSubnetInput{SubnetID: s.ID}) }},
		{"group in A's vpc", "InvalidVpcID.NotFound", func() error {
			_, err := tc.CreateSecurityGroup(ctx, acctB, CreateSecurityGroupInput{GroupName: "x", Description: "x", VpcID: v.ID})
			return err
		}},
		{"describe group", "InvalidGroup.NotFound", func() error {
			_, err := tc.DescribeSecurityGroups(ctx, acctB, DescribeSecurityGroupsInput{GroupIDs: []string{g.ID}})
			return err
		}},
		{"authorize on A's group", "InvalidGroup.NotFound", func() error {
			_, err := tc.AuthorizeSecurityGroupIngress(ctx, acctB, SecurityGroupRulesInput{GroupID: g.ID, IPProtocol: "tcp", FromPort: ptr[int32](22), ToPort: ptr[int32](22), CidrIP: "0.0.0.0/0"})
			return err
		}},
		{"delete group", "InvalidGroup.NotFound", func() error { return tc.DeleteSecurityGroup(ctx, acctB, DeleteSecurityGroupInput{GroupID: g.ID}) }},
		{"launch into A's subnet", "InvalidSubnetID.NotFound", func() error {
			_, err := tc.RunInstances(ctx, acctB, RunInstancesInput{ImageID: "ami-12345678", MinCount: ptr[int32](1), MaxCount: ptr[int32](1), SubnetID: s.ID})
			return err
		}},
		{"launch with A's group", "InvalidGroup.NotFound", func() error {
			_, err := tc.RunInstances(ctx, acctB, RunInstancesInput{ImageID: "ami-12345678", MinCount: ptr[int32](1), MaxCount: ptr[int32](1), SubnetID: sb.ID, SecurityGroupIDs: []string{g.ID}})
			return err
		}},
		{"describe instance", "InvalidInstanceID.NotFound", func() error {
			_, err := tc.DescribeInstances(ctx, acctB, DescribeInstancesInput{InstanceIDs: []string{r.Instances[0].ID}})
			return err
		}},
		{"terminate instance", "InvalidInstanceID.NotFound", func() error {
			_, err := tc.TerminateInstances(ctx, acctB, TerminateInstancesInput{InstanceIDs: []string{r.Instances[0].ID}})
			return err
		}},
		{"describe interface", "InvalidNetworkInterfaceID.NotFound", func() error {
			_, err := tc.DescribeNetworkInterfaces(ctx, acctB, DescribeNetworkInterfacesInput{NetworkInterfaceIDs: []string{r.Instances[0].NetworkInterfaceID}})
			return err
		}},
	}
	for _, cl := range calls {
		t.Run(cl.name, func(t *testing.T) { tc.failsUnchanged(t, cl.code, cl.call) })
	}

	t.Run("lists show only the caller's", func(t *testing.T) {
		vpcs, _ := tc.DescribeVpcs(ctx, acctB, DescribeVpcsInput{})
		subnets, _ := tc.DescribeSubnets(ctx, acctB, DescribeSubnetsInput{})
		groups, _ := tc.DescribeSecurityGroups(ctx, acctB, DescribeSecurityGroupsInput{})
		res, _ := tc.DescribeInstances(ctx, acctB, DescribeInstancesInput{})
		enis, _ := tc.DescribeNetworkInterfaces(ctx, acctB, DescribeNetworkInterfacesInput{})
		if len(vpcs) != 1 || vpcs[0].ID != vb.ID || len(subnets) != 1 || subnets[0].ID != sb.ID ||
			len(groups) != 1 || groups[0].ID != vb.DefaultSecurityGroupID || len(res) != 0 || len(enis) != 0 {
			t.Errorf("B sees vpcs %v subnets %v groups %v reservations %v interfaces %v", vpcs, subnets, groups, res, enis)
		}
	})
}
