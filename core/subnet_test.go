package core

import (
	"context"
	"net/netip"
	"reflect"
	"testing"
)

func TestCreateSubnet(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")

	s, err := tc.CreateSubnet(ctx, acctA, CreateSubnetInput{
		VpcID: v.ID, CidrBlock: "10.0.1.9/24", AvailabilityZone: "us-east-1c",
		TagSpecifications: []TagSpecification{{ResourceType: "subnet", Tags: []Tag{{"Name", "a"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := SubnetDescription{
		Subnet: Subnet{
			ID: s.ID, OwnerID: acctA.AccountID, VpcID: v.ID, CIDR: netip.MustParsePrefix("10.0.1.0/24"),
			AvailabilityZone: "us-east-1c", AvailabilityZoneID: "use1-az3", State: SubnetAvailable,
			Tags: []Tag{{"Name", "a"}}, CreatedAt: *tc.now,
		},
		ARN:                     "arn:aws:ec2:us-east-1:111111111111:subnet/" + s.ID,
		AvailableIPAddressCount: 251,
	}
	if !validID(s.ID, "subnet") || !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}

	zones := []struct {
		name     string
		in       CreateSubnetInput
		wantZone string
	}{
		{"by zone ID", CreateSubnetInput{CidrBlock: "10.0.2.0/24", AvailabilityZoneID: "use1-az5"}, "us-east-1e"},
		// us-east-1c is taken, so an unspecified zone goes to the first
		// zone with the fewest subnets.
		{"chosen", CreateSubnetInput{CidrBlock: "10.0.3.0/24"}, "us-east-1a"},
		{"chosen again", CreateSubnetInput{CidrBlock: "10.0.4.0/24"}, "us-east-1b"},
		{"smallest", CreateSubnetInput{CidrBlock: "10.0.5.0/28", AvailabilityZone: "us-east-1a"}, "us-east-1a"},
		{"largest", CreateSubnetInput{CidrBlock: "10.0.128.0/17", AvailabilityZone: "us-east-1a"}, "us-east-1a"},
	}
	for _, z := range zones {
		t.Run(z.name, func(t *testing.T) {
			z.in.VpcID = v.ID
			s, err := tc.CreateSubnet(ctx, acctA, z.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.AvailabilityZone != z.wantZone {
				t.Errorf("zone %s, want %s", s.AvailabilityZone, z.wantZone)
			}
		})
	}
}

func TestCreateSubnetErrors(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
	vb := tc.vpc(t, acctB, "10.0.0.0/16")

	tests := []struct {
		name string
		in   CreateSubnetInput
		code string
		msg  string
	}{
		{"no vpc", CreateSubnetInput{CidrBlock: "10.0.2.0/24"}, "MissingParameter", ""},
		{"malformed vpc", CreateSubnetInput{VpcID: "vpc-zz", CidrBlock: "10.0.2.0/24"}, "InvalidVpcID.Malformed", ""},
		{"unknown vpc", CreateSubnetInput{VpcID: "vpc-0123456789abcdef0", CidrBlock: "10.0.2.0/24"}, "InvalidVpcID.NotFound",
			"The vpc ID 'vpc-0123456789abcdef0' does not exist"},
		{"another account's vpc", CreateSubnetInput{VpcID: vb.ID, CidrBlock: "10.0.2.0/24"}, "InvalidVpcID.NotFound", ""},
		{"no cidr", CreateSubnetInput{VpcID: v.ID}, "MissingParameter", ""},
		{"malformed cidr", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2/24"}, "InvalidParameterValue",
			"Value (10.0.2/24) for parameter cidrBlock is invalid. This is not a valid CIDR block."},
		{"too small", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/29"}, "InvalidSubnet.Range", "The CIDR '10.0.2.0/29' is invalid."},
		{"too big", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.0.0/15"}, "InvalidSubnet.Range", ""},
		{"outside the vpc", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.1.0.0/24"}, "InvalidSubnet.Range", "The CIDR '10.1.0.0/24' is invalid."},
		{"overlaps", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.1.128/25"}, "InvalidSubnet.Conflict",
			"The CIDR '10.0.1.128/25' conflicts with another subnet"},
		{"contains another", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.0.0/20"}, "InvalidSubnet.Conflict", ""},
		{"unknown zone", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/24", AvailabilityZone: "us-east-1z"}, "InvalidParameterValue",
			"Value (us-east-1z) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f."},
		{"zone of another region", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/24", AvailabilityZone: "us-west-2a"}, "InvalidParameterValue", ""},
		{"unknown zone id", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/24", AvailabilityZoneID: "use1-az9"}, "InvalidParameterValue", ""},
		{"both zone forms", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/24", AvailabilityZone: "us-east-1a", AvailabilityZoneID: "use1-az1"}, "InvalidParameterCombination", ""},
		{"ipv6", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/24", Ipv6CidrBlock: "2600:1f18::/64"}, "UnsupportedOperation", ""},
		{"outpost", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/24", OutpostArn: "arn:aws:outposts:us-east-1:111111111111:outpost/op-1"}, "UnsupportedOperation", ""},
		{"empty tag spec", CreateSubnetInput{VpcID: v.ID, CidrBlock: "10.0.2.0/24", TagSpecifications: []TagSpecification{{ResourceType: "subnet"}}}, "InvalidParameterValue", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tc.failsUnchanged(t, tt.code, func() error {
				_, err := tc.CreateSubnet(ctx, acctA, tt.in)
				return err
			})
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}
}

func TestDescribeSubnets(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	s1 := tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
	s2 := tc.subnet(t, acctA, v.ID, "10.0.2.0/28")

	all, err := tc.DescribeSubnets(ctx, acctA, DescribeSubnetsInput{})
	if err != nil || len(all) != 2 {
		t.Fatalf("got %v, %v", all, err)
	}
	got, err := tc.DescribeSubnets(ctx, acctA, DescribeSubnetsInput{SubnetIDs: []string{s2.ID}})
	if err != nil || len(got) != 1 || got[0].ID != s2.ID || got[0].AvailableIPAddressCount != 11 {
		t.Fatalf("got %+v, %v", got, err)
	}

	// Every interface takes an address.
	tc.run(t, acctA, RunInstancesInput{SubnetID: s1.ID, MinCount: ptr[int32](3)})
	got, err = tc.DescribeSubnets(ctx, acctA, DescribeSubnetsInput{SubnetIDs: []string{s1.ID}})
	if err != nil || got[0].AvailableIPAddressCount != 248 {
		t.Fatalf("after 3 instances: %+v, %v", got, err)
	}

	errs := []struct {
		name string
		ids  []string
		code string
	}{
		{"malformed", []string{"subnet-1"}, "InvalidSubnetID.Malformed"},
		{"unknown", []string{s1.ID, "subnet-0123456789abcdef0"}, "InvalidSubnetID.NotFound"},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			_, err := tc.DescribeSubnets(ctx, acctA, DescribeSubnetsInput{SubnetIDs: e.ids})
			wantCode(t, err, e.code)
		})
	}
}

func TestDeleteSubnet(t *testing.T) {
	ctx := context.Background()
	tc := newTestCloud(t)
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	s := tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
	r := tc.run(t, acctA, RunInstancesInput{SubnetID: s.ID})

	e := tc.failsUnchanged(t, "DependencyViolation", func() error {
		return tc.DeleteSubnet(ctx, acctA, DeleteSubnetInput{SubnetID: s.ID})
	})
	if want := "The subnet '" + s.ID + "' has dependencies and cannot be deleted."; e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}

	// Still a dependency while it shuts down; free once terminated.
	id := r.Instances[0].ID
	if _, err := tc.TerminateInstances(ctx, acctA, TerminateInstancesInput{InstanceIDs: []string{id}}); err != nil {
		t.Fatal(err)
	}
	tc.failsUnchanged(t, "DependencyViolation", func() error {
		return tc.DeleteSubnet(ctx, acctA, DeleteSubnetInput{SubnetID: s.ID})
	})
	if err := tc.FinishTermination(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := tc.DeleteSubnet(ctx, acctA, DeleteSubnetInput{SubnetID: s.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.DescribeSubnets(ctx, acctA, DescribeSubnetsInput{SubnetIDs: []string{s.ID}}); err == nil {
		t.Error("deleted subnet still described")
	}

	deps := []struct {
		name string
		add  func(t *testing.T, tc *testCloud, s SubnetDescription)
	}{
		{"load balancer node", func(t *testing.T, tc *testCloud, s SubnetDescription) {
			tc.putRaw(t, keyLoadBalancer("0123456789abcdef"), LoadBalancer{ID: "0123456789abcdef", VpcID: s.VpcID,
				Nodes: []LoadBalancerNode{{SubnetID: s.ID}}})
		}},
		{"interface", func(t *testing.T, tc *testCloud, s SubnetDescription) {
			tc.putRaw(t, keyENI("eni-0123456789abcdef0"), NetworkInterface{ID: "eni-0123456789abcdef0", VpcID: s.VpcID, SubnetID: s.ID,
				PrivateIP: netip.MustParseAddr("10.0.1.9")})
		}},
	}
	for _, d := range deps {
		t.Run(d.name, func(t *testing.T) {
			tc := newTestCloud(t)
			v := tc.vpc(t, acctA, "10.0.0.0/16")
			s := tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
			d.add(t, tc, s)
			tc.failsUnchanged(t, "DependencyViolation", func() error {
				return tc.DeleteSubnet(ctx, acctA, DeleteSubnetInput{SubnetID: s.ID})
			})
		})
	}
}

func TestDescribeAvailabilityZones(t *testing.T) {
	tc := newTestCloud(t)
	all, err := tc.DescribeAvailabilityZones(DescribeAvailabilityZonesInput{})
	if err != nil || len(all) != 6 {
		t.Fatalf("got %v, %v", all, err)
	}
	want := AvailabilityZone{Name: "us-east-1a", ID: "use1-az1", Region: "us-east-1", State: "available",
		ZoneType: "availability-zone", OptInStatus: "opt-in-not-required", GroupName: "us-east-1", NetworkBorderGroup: "us-east-1"}
	if all[0] != want {
		t.Errorf("got %+v", all[0])
	}
	some, err := tc.DescribeAvailabilityZones(DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1b"}, ZoneIDs: []string{"USE1-AZ3"}})
	if err != nil || len(some) != 2 || some[0].Name != "us-east-1b" || some[1].Name != "us-east-1c" {
		t.Errorf("got %v, %v", some, err)
	}
	_, err = tc.DescribeAvailabilityZones(DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1z", "use1-az1"}})
	if e := wantCode(t, err, "InvalidParameterValue"); e.Message != "Invalid availability zone: [us-east-1z, use1-az1]" {
		t.Errorf("message %q", e.Message)
	}
}
