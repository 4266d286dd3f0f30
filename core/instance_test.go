package core

import (
	"context"
	"encoding/base64"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// instanceFixture is a VPC with a /24 subnet for launches.
type instanceFixture struct {
	*testCloud
	v  VPC               // the fixture's VPC
	sn SubnetDescription // its 10.0.1.0/24
}

func newInstanceFixture(t *testing.T) instanceFixture {
	tc := newTestCloud(t)
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	return instanceFixture{tc, v, tc.subnet(t, acctA, v.ID, "10.0.1.0/24")}
}

func TestRunInstances(t *testing.T) {
	f := newInstanceFixture(t)
	ctx := context.Background()
	script := "#!/bin/sh\necho hello | nc -l -p 22\n"
	r, err := f.RunInstances(ctx, acctA, RunInstancesInput{
		ImageID: "ami-0123456789abcdef0", MinCount: ptr[int32](1), MaxCount: ptr[int32](2),
		SubnetID: f.sn.ID, KeyName: "laptop",
		UserData: base64.StdEncoding.EncodeToString([]byte(script)),
		TagSpecifications: []TagSpecification{
			{ResourceType: "instance", Tags: []Tag{{"Name", "target"}}},
			{ResourceType: "network-interface", Tags: []Tag{{"role", "primary"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !validID(r.ID, "r") || r.OwnerID != acctA.AccountID || len(r.Instances) != 2 {
		t.Fatalf("reservation %+v", r)
	}
	for i, in := range r.Instances {
		wantIP := netip.MustParseAddr([]string{"10.0.1.4", "10.0.1.5"}[i])
		checks := []struct {
			name string
			ok   bool
		}{
			{"id", validID(in.ID, "i")},
			{"launch index", in.AmiLaunchIndex == int32(i)},
			{"pending", in.State == InstancePending},
			{"placement", in.VpcID == f.v.ID && in.SubnetID == f.sn.ID && in.AvailabilityZone == f.sn.AvailabilityZone},
			{"image", in.ImageID == "ami-0123456789abcdef0"},
			{"default type", in.InstanceType == "m1.small"},
			{"key", in.KeyName == "laptop"},
			{"user data decoded", string(in.UserData) == script},
			{"address", in.PrivateIP == wantIP},
			{"dns name", in.PrivateDNSName == "ip-10-0-1-"+wantIP.String()[len("10.0.1."):]+".ec2.internal"},
			{"default group", reflect.DeepEqual(in.SecurityGroupIDs, []string{f.v.DefaultSecurityGroupID})},
			{"group names", reflect.DeepEqual(in.SecurityGroups, []GroupIdentifier{{f.v.DefaultSecurityGroupID, "default"}})},
			{"tags", reflect.DeepEqual(in.Tags, []Tag{{"Name", "target"}})},
			{"launch time", in.LaunchTime.Equal(*f.now)},
		}
		eni := in.NetworkInterface
		if eni == nil {
			t.Fatalf("instance %d has no interface", i)
		}
		checks = append(checks, []struct {
			name string
			ok   bool
		}{
			{"eni id", eni.ID == in.NetworkInterfaceID && validID(eni.ID, "eni")},
			{"eni type", eni.InterfaceType == "interface"},
			{"eni description", eni.Description == ""},
			{"eni attachment", eni.InstanceID == in.ID && strings.HasPrefix(eni.AttachmentID, "eni-attach-") && eni.DeviceIndex == 0 && eni.AttachTime.Equal(*f.now)},
			{"eni status", eni.Status == ENIInUse},
			{"eni address", eni.PrivateIP == wantIP && eni.SubnetID == f.sn.ID},
			{"eni groups", reflect.DeepEqual(eni.SecurityGroupIDs, in.SecurityGroupIDs)},
			{"eni tags", reflect.DeepEqual(eni.Tags, []Tag{{"role", "primary"}})},
			{"eni not requester-managed", !eni.RequesterManaged && eni.OwnerID == acctA.AccountID},
		}...)
		for _, ch := range checks {
			t.Run(itoa(int32(i))+" "+ch.name, func(t *testing.T) {
				if !ch.ok {
					t.Errorf("%+v", in)
				}
			})
		}
	}

	// DescribeInstances reports the same reservation.
	res, err := f.DescribeInstances(ctx, acctA, DescribeInstancesInput{})
	if err != nil || len(res) != 1 || !reflect.DeepEqual(res[0], r) {
		t.Errorf("describe:\n%+v\nwant\n%+v (%v)", res, r, err)
	}
}

func TestRunInstancesOptions(t *testing.T) {
	ctx := context.Background()
	t.Run("groups, address and type", func(t *testing.T) {
		f := newInstanceFixture(t)
		web := f.group(t, acctA, f.v.ID, "web")
		r := f.run(t, acctA, RunInstancesInput{SubnetID: f.sn.ID, SecurityGroupIDs: []string{web.ID, web.ID},
			PrivateIPAddress: "10.0.1.200", InstanceType: "c6gn.16xlarge", Placement: &Placement{AvailabilityZone: f.sn.AvailabilityZone}})
		in := r.Instances[0]
		if in.PrivateIP != netip.MustParseAddr("10.0.1.200") || in.InstanceType != "c6gn.16xlarge" ||
			!reflect.DeepEqual(in.SecurityGroupIDs, []string{web.ID}) {
			t.Errorf("%+v", in)
		}
		// The address is now taken.
		f.failsUnchanged(t, "InvalidIPAddress.InUse", func() error {
			_, err := f.RunInstances(ctx, acctA, RunInstancesInput{ImageID: "ami-12345678", MinCount: ptr[int32](1), MaxCount: ptr[int32](1),
				SubnetID: f.sn.ID, PrivateIPAddress: "10.0.1.200"})
			return err
		})
	})

	t.Run("network interface form", func(t *testing.T) {
		f := newInstanceFixture(t)
		web := f.group(t, acctA, f.v.ID, "web")
		r := f.run(t, acctA, RunInstancesInput{NetworkInterfaces: []InstanceNetworkInterfaceSpecification{{
			DeviceIndex: ptr[int32](0), SubnetID: f.sn.ID, Groups: []string{web.ID}, PrivateIPAddress: "10.0.1.9",
			Description: "primary", DeleteOnTermination: ptr(true), AssociatePublicIPAddress: ptr(false),
		}}})
		in := r.Instances[0]
		if in.PrivateIP != netip.MustParseAddr("10.0.1.9") || in.NetworkInterface.Description != "primary" ||
			!reflect.DeepEqual(in.SecurityGroupIDs, []string{web.ID}) {
			t.Errorf("%+v", in)
		}
	})

	t.Run("counts", func(t *testing.T) {
		f := newInstanceFixture(t)
		small := f.subnet(t, acctA, f.v.ID, "10.0.2.0/28") // 11 usable addresses
		// As many as the subnet has room for, at least MinCount.
		r := f.run(t, acctA, RunInstancesInput{SubnetID: small.ID, MinCount: ptr[int32](2), MaxCount: ptr[int32](15)})
		if len(r.Instances) != 11 {
			t.Fatalf("launched %d, want 11", len(r.Instances))
		}
		e := f.failsUnchanged(t, "InsufficientFreeAddressesInSubnet", func() error {
			_, err := f.RunInstances(ctx, acctA, RunInstancesInput{ImageID: "ami-12345678", MinCount: ptr[int32](1), MaxCount: ptr[int32](1), SubnetID: small.ID})
			return err
		})
		if want := "There are not enough free addresses in subnet '" + small.ID + "' to satisfy the requested number of instances."; e.Message != want {
			t.Errorf("message %q", e.Message)
		}
		// As many as the account's limit allows, at least MinCount.
		r = f.run(t, acctA, RunInstancesInput{SubnetID: f.sn.ID, MinCount: ptr[int32](1), MaxCount: ptr[int32](100)})
		if len(r.Instances) != maxInstancesPerAccount-11 {
			t.Fatalf("launched %d, want %d", len(r.Instances), maxInstancesPerAccount-11)
		}
		f.failsUnchanged(t, "InstanceLimitExceeded", func() error {
			_, err := f.RunInstances(ctx, acctA, RunInstancesInput{ImageID: "ami-12345678", MinCount: ptr[int32](1), MaxCount: ptr[int32](1), SubnetID: f.sn.ID})
			return err
		})
	})

	t.Run("client token", func(t *testing.T) {
		f := newInstanceFixture(t)
		in := RunInstancesInput{SubnetID: f.sn.ID, ClientToken: "deploy-42", MaxCount: ptr[int32](2), MinCount: ptr[int32](1)}
		first := f.run(t, acctA, in)
		again := f.run(t, acctA, in)
		if !reflect.DeepEqual(first, again) {
			t.Errorf("repeated token launched again:\n%+v\n%+v", first, again)
		}
		res, _ := f.DescribeInstances(ctx, acctA, DescribeInstancesInput{})
		if len(res) != 1 {
			t.Errorf("%d reservations, want 1", len(res))
		}
		// Tokens are per account.
		vb := f.vpc(t, acctB, "10.0.0.0/16")
		sb := f.subnet(t, acctB, vb.ID, "10.0.1.0/24")
		if other := f.run(t, acctB, RunInstancesInput{SubnetID: sb.ID, ClientToken: "deploy-42"}); other.ID == first.ID {
			t.Error("another account got the same reservation")
		}
		in.InstanceType = "t3.micro"
		f.failsUnchanged(t, "IdempotentParameterMismatch", func() error {
			in.ImageID = "ami-12345678"
			_, err := f.RunInstances(ctx, acctA, in)
			return err
		})
	})
}

func TestRunInstancesErrors(t *testing.T) {
	f := newInstanceFixture(t)
	ctx := context.Background()
	otherVPC := f.vpc(t, acctA, "10.0.0.0/16")
	foreign := f.group(t, acctA, otherVPC.ID, "foreign")
	vb := f.vpc(t, acctB, "10.0.0.0/16")
	sb := f.subnet(t, acctB, vb.ID, "10.0.1.0/24")
	s := f.sn.ID
	var groups []string
	for i := range 6 {
		groups = append(groups, f.group(t, acctA, f.v.ID, "g"+itoa(int32(i))).ID)
	}

	one := ptr[int32](1)
	base := func(mod func(*RunInstancesInput)) RunInstancesInput {
		in := RunInstancesInput{ImageID: "ami-12345678", MinCount: one, MaxCount: one, SubnetID: s}
		mod(&in)
		return in
	}
	tests := []struct {
		name string
		in   RunInstancesInput
		code string
		msg  string
	}{
		{"no image", base(func(in *RunInstancesInput) { in.ImageID = "" }), "MissingParameter", ""},
		{"malformed image", base(func(in *RunInstancesInput) { in.ImageID = "ami-xyz" }), "InvalidAMIID.Malformed", `Invalid id: "ami-xyz" (expecting "ami-...")`},
		{"no min count", base(func(in *RunInstancesInput) { in.MinCount = nil }), "MissingParameter", ""},
		{"no max count", base(func(in *RunInstancesInput) { in.MaxCount = nil }), "MissingParameter", ""},
		{"zero max", base(func(in *RunInstancesInput) { in.MaxCount = ptr[int32](0) }), "InvalidParameterValue", ""},
		{"zero min", base(func(in *RunInstancesInput) { in.MinCount = ptr[int32](0) }), "InvalidParameterValue", ""},
		{"min over max", base(func(in *RunInstancesInput) { in.MinCount = ptr[int32](3); in.MaxCount = ptr[int32](2) }), "InvalidParameterValue", ""},
		{"bad type", base(func(in *RunInstancesInput) { in.InstanceType = "huge" }), "InvalidParameterValue", "Invalid value 'huge' for InstanceType."},
		{"bad base64", base(func(in *RunInstancesInput) { in.UserData = "#!/bin/sh" }), "InvalidParameterValue", "Invalid BASE64 encoding of user data"},
		{"user data too big", base(func(in *RunInstancesInput) {
			in.UserData = base64.StdEncoding.EncodeToString(make([]byte, 16385))
		}), "InvalidParameterValue", "User data is limited to 16384 bytes"},
		{"long client token", base(func(in *RunInstancesInput) { in.ClientToken = strings.Repeat("t", 65) }), "InvalidParameterValue", ""},
		{"no subnet", base(func(in *RunInstancesInput) { in.SubnetID = "" }), "VPCIdNotSpecified", "No default VPC for this user"},
		{"malformed subnet", base(func(in *RunInstancesInput) { in.SubnetID = "subnet-1" }), "InvalidSubnetID.Malformed", ""},
		{"another account's subnet", base(func(in *RunInstancesInput) { in.SubnetID = sb.ID }), "InvalidSubnetID.NotFound", ""},
		{"group names", base(func(in *RunInstancesInput) { in.SecurityGroups = []string{"default"} }), "InvalidParameterCombination",
			"The parameter groupName cannot be used with the parameter subnet"},
		{"group of another vpc", base(func(in *RunInstancesInput) { in.SecurityGroupIDs = []string{foreign.ID} }), "InvalidParameter",
			"Security group " + foreign.ID + " and subnet " + s + " belong to different networks."},
		{"unknown group", base(func(in *RunInstancesInput) { in.SecurityGroupIDs = []string{"sg-0123456789abcdef0"} }), "InvalidGroup.NotFound", ""},
		{"malformed group", base(func(in *RunInstancesInput) { in.SecurityGroupIDs = []string{"sg-"} }), "InvalidGroupId.Malformed", ""},
		{"six groups", base(func(in *RunInstancesInput) { in.SecurityGroupIDs = groups }), "SecurityGroupsPerInterfaceLimitExceeded", ""},
		{"address outside subnet", base(func(in *RunInstancesInput) { in.PrivateIPAddress = "10.0.2.4" }), "InvalidParameterValue", ""},
		{"reserved address", base(func(in *RunInstancesInput) { in.PrivateIPAddress = "10.0.1.1" }), "InvalidParameterValue", ""},
		{"malformed address", base(func(in *RunInstancesInput) { in.PrivateIPAddress = "10.0.1" }), "InvalidParameterValue", ""},
		{"address for two", base(func(in *RunInstancesInput) { in.PrivateIPAddress = "10.0.1.10"; in.MaxCount = ptr[int32](2) }), "InvalidParameterCombination", ""},
		{"zone of another subnet", base(func(in *RunInstancesInput) { in.Placement = &Placement{AvailabilityZone: "us-east-1f"} }), "InvalidParameterValue", ""},
		{"host tenancy", base(func(in *RunInstancesInput) { in.Placement = &Placement{Tenancy: "host"} }), "UnsupportedOperation", ""},
		{"volume tags", base(func(in *RunInstancesInput) {
			in.TagSpecifications = []TagSpecification{{ResourceType: "volume", Tags: []Tag{{"a", "b"}}}}
		}), "InvalidParameterValue", "'volume' is not a valid taggable resource type for this operation."},
		{"launch template", base(func(in *RunInstancesInput) {
			in.LaunchTemplate = &LaunchTemplateSpecification{LaunchTemplateName: "web"}
		}), "UnsupportedOperation", ""},
		{"ipv6", base(func(in *RunInstancesInput) { in.Ipv6AddressCount = one }), "UnsupportedOperation", ""},
		{"termination protection", base(func(in *RunInstancesInput) { in.DisableAPITermination = true }), "UnsupportedOperation", ""},
		{"interface and subnet", base(func(in *RunInstancesInput) {
			in.NetworkInterfaces = []InstanceNetworkInterfaceSpecification{{DeviceIndex: ptr[int32](0), SubnetID: s}}
		}), "InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request"},
		{"interface without device index", base(func(in *RunInstancesInput) {
			in.SubnetID = ""
			in.NetworkInterfaces = []InstanceNetworkInterfaceSpecification{{SubnetID: s}}
		}), "InvalidParameterValue", "Each network interface requires a device index."},
		{"interface without subnet", base(func(in *RunInstancesInput) {
			in.SubnetID = ""
			in.NetworkInterfaces = []InstanceNetworkInterfaceSpecification{{DeviceIndex: ptr[int32](0)}}
		}), "VPCIdNotSpecified", ""},
		{"public address", base(func(in *RunInstancesInput) {
			in.SubnetID = ""
			in.NetworkInterfaces = []InstanceNetworkInterfaceSpecification{{DeviceIndex: ptr[int32](0), SubnetID: s, AssociatePublicIPAddress: ptr(true)}}
		}), "UnsupportedOperation", ""},
		{"existing interface", base(func(in *RunInstancesInput) {
			in.SubnetID = ""
			in.NetworkInterfaces = []InstanceNetworkInterfaceSpecification{{DeviceIndex: ptr[int32](0), NetworkInterfaceID: "eni-12345678"}}
		}), "UnsupportedOperation", ""},
		{"two interfaces", base(func(in *RunInstancesInput) {
			in.SubnetID = ""
			in.NetworkInterfaces = []InstanceNetworkInterfaceSpecification{{DeviceIndex: ptr[int32](0), SubnetID: s}, {DeviceIndex: ptr[int32](1), SubnetID: s}}
		}), "UnsupportedOperation", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := f.failsUnchanged(t, tt.code, func() error {
				_, err := f.RunInstances(ctx, acctA, tt.in)
				return err
			})
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}
}

func TestDescribeInstances(t *testing.T) {
	f := newInstanceFixture(t)
	ctx := context.Background()
	r1 := f.run(t, acctA, RunInstancesInput{SubnetID: f.sn.ID, MinCount: ptr[int32](2)})
	*f.now = f.now.Add(1)
	r2 := f.run(t, acctA, RunInstancesInput{SubnetID: f.sn.ID})

	all, err := f.DescribeInstances(ctx, acctA, DescribeInstancesInput{})
	if err != nil || len(all) != 2 || all[0].ID != r1.ID || all[1].ID != r2.ID || len(all[0].Instances) != 2 {
		t.Fatalf("got %+v, %v", all, err)
	}
	// Asking for some instances of a reservation gives just those.
	some, err := f.DescribeInstances(ctx, acctA, DescribeInstancesInput{InstanceIDs: []string{r1.Instances[1].ID}})
	if err != nil || len(some) != 1 || len(some[0].Instances) != 1 || some[0].Instances[0].ID != r1.Instances[1].ID {
		t.Fatalf("got %+v, %v", some, err)
	}
	_, err = f.DescribeInstances(ctx, acctA, DescribeInstancesInput{InstanceIDs: []string{"i-0123456789abcdef0", "i-12345678"}})
	if e := wantCode(t, err, "InvalidInstanceID.NotFound"); e.Message != "The instance IDs 'i-0123456789abcdef0, i-12345678' do not exist" {
		t.Errorf("message %q", e.Message)
	}
	_, err = f.DescribeInstances(ctx, acctA, DescribeInstancesInput{InstanceIDs: []string{"i-x"}})
	wantCode(t, err, "InvalidInstanceID.Malformed")
}

func TestInstanceLifecycle(t *testing.T) {
	f := newInstanceFixture(t)
	ctx := context.Background()
	r := f.run(t, acctA, RunInstancesInput{SubnetID: f.sn.ID, MinCount: ptr[int32](2)})
	a, b := r.Instances[0].ID, r.Instances[1].ID
	state := func(id string) InstanceDescription {
		t.Helper()
		res, err := f.DescribeInstances(ctx, acctA, DescribeInstancesInput{InstanceIDs: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return res[0].Instances[0]
	}

	if err := f.SetInstanceLabError(ctx, a, "namespace exists"); err != nil {
		t.Fatal(err)
	}
	if in := state(a); in.State != InstancePending || in.StateReason != "Server.InternalError: namespace exists" || in.StateReasonCode != "Server.InternalError" {
		t.Errorf("after lab error: %+v", in.Instance)
	}
	if err := f.SetInstanceRunning(ctx, a); err != nil {
		t.Fatal(err)
	}
	if in := state(a); in.State != InstanceRunning || in.StateReason != "" {
		t.Errorf("after running: %+v", in.Instance)
	}

	// Nothing is terminated if one ID is wrong.
	f.failsUnchanged(t, "InvalidInstanceID.NotFound", func() error {
		_, err := f.TerminateInstances(ctx, acctA, TerminateInstancesInput{InstanceIDs: []string{a, "i-0123456789abcdef0"}})
		return err
	})
	f.failsUnchanged(t, "MissingParameter", func() error {
		_, err := f.TerminateInstances(ctx, acctA, TerminateInstancesInput{})
		return err
	})

	changes, err := f.TerminateInstances(ctx, acctA, TerminateInstancesInput{InstanceIDs: []string{a, b, a}})
	if err != nil {
		t.Fatal(err)
	}
	want := []InstanceStateChange{{a, "running", "shutting-down"}, {b, "pending", "shutting-down"}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes %+v, want %+v", changes, want)
	}
	// A late report from the lab does not revive it.
	if err := f.SetInstanceRunning(ctx, b); err != nil {
		t.Fatal(err)
	}
	if in := state(b); in.State != InstanceShuttingDown || in.StateReasonCode != "Client.UserInitiatedShutdown" || in.NetworkInterface == nil {
		t.Errorf("shutting down: %+v", in)
	}

	if err := f.FinishTermination(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := f.FinishTermination(ctx, a); err != nil { // again: no change
		t.Fatal(err)
	}
	in := state(a)
	if in.State != InstanceTerminated || !in.TerminatedAt.Equal(*f.now) || in.NetworkInterface != nil || in.PrivateIP.IsValid() || in.PrivateDNSName != "" {
		t.Errorf("terminated: %+v", in)
	}
	if _, err := f.DescribeNetworkInterfaces(ctx, acctA, DescribeNetworkInterfacesInput{NetworkInterfaceIDs: []string{r.Instances[0].NetworkInterfaceID}}); err == nil {
		t.Error("terminated instance's interface still exists")
	}
	subnets, _ := f.DescribeSubnets(ctx, acctA, DescribeSubnetsInput{SubnetIDs: []string{f.sn.ID}})
	if subnets[0].AvailableIPAddressCount != 250 {
		t.Errorf("available addresses %d, want 250", subnets[0].AvailableIPAddressCount)
	}
	// The freed address is the next one given out.
	if r2 := f.run(t, acctA, RunInstancesInput{SubnetID: f.sn.ID}); r2.Instances[0].PrivateIP != r.Instances[0].PrivateIP {
		t.Errorf("new instance got %s, want the freed %s", r2.Instances[0].PrivateIP, r.Instances[0].PrivateIP)
	}

	changes, err = f.TerminateInstances(ctx, acctA, TerminateInstancesInput{InstanceIDs: []string{a, b}})
	want = []InstanceStateChange{{a, "terminated", "terminated"}, {b, "shutting-down", "shutting-down"}}
	if err != nil || !reflect.DeepEqual(changes, want) {
		t.Errorf("terminating again: %+v, %v", changes, err)
	}

	// Terminated instances stay visible for an hour.
	*f.now = f.now.Add(TerminatedInstanceRetention)
	if n, err := f.PurgeTerminatedInstances(ctx); err != nil || n != 0 {
		t.Fatalf("purged %d, %v at one hour", n, err)
	}
	*f.now = f.now.Add(1)
	if n, err := f.PurgeTerminatedInstances(ctx); err != nil || n != 1 {
		t.Fatalf("purged %d, %v after an hour", n, err)
	}
	if _, err := f.DescribeInstances(ctx, acctA, DescribeInstancesInput{InstanceIDs: []string{a}}); err == nil {
		t.Error("purged instance still described")
	}

	// Reports about instances that are gone change nothing.
	for name, report := range map[string]func() error{
		"running": func() error { return f.SetInstanceRunning(ctx, a) },
		"error":   func() error { return f.SetInstanceLabError(ctx, a, "x") },
		"finish":  func() error { return f.FinishTermination(ctx, a) },
	} {
		before := f.dump(t)
		if err := report(); err != nil || !reflect.DeepEqual(before, f.dump(t)) {
			t.Errorf("%s report about a purged instance: %v", name, err)
		}
	}
}
