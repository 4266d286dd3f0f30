package core

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestModifyNetworkInterfaceGroups(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	vpc := tc.vpc(t, acctA, "10.0.0.0/16")
	sub := tc.subnet(t, acctA, vpc.ID, "10.0.1.0/24")
	web, ssh := tc.group(t, acctA, vpc.ID, "web"), tc.group(t, acctA, vpc.ID, "ssh")
	res := tc.run(t, acctA, RunInstancesInput{SubnetID: sub.ID, SecurityGroupIDs: []string{web.ID}})
	inst := res.Instances[0]
	eniID := inst.NetworkInterfaceID

	check := func(want ...string) {
		t.Helper()
		enis, err := tc.DescribeNetworkInterfaces(ctx, acctA, DescribeNetworkInterfacesInput{NetworkInterfaceIDs: []string{eniID}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(enis[0].SecurityGroupIDs, want) || len(enis[0].Groups) != len(want) {
			t.Errorf("interface groups %v %+v, want %v", enis[0].SecurityGroupIDs, enis[0].Groups, want)
		}
		rs, err := tc.DescribeInstances(ctx, acctA, DescribeInstancesInput{InstanceIDs: []string{inst.ID}})
		if err != nil {
			t.Fatal(err)
		}
		d := rs[0].Instances[0]
		var names []string
		for _, g := range d.SecurityGroups {
			names = append(names, g.ID)
		}
		if !slices.Equal(names, want) || d.NetworkInterface == nil || !slices.Equal(d.NetworkInterface.SecurityGroupIDs, want) {
			t.Errorf("instance groups %v, want %v", names, want)
		}
	}
	for _, step := range []struct {
		name   string
		groups []string
		want   []string
	}{
		{"two groups", []string{ssh.ID, web.ID}, []string{ssh.ID, web.ID}},
		{"repeated ID", []string{ssh.ID, ssh.ID}, []string{ssh.ID}},
		{"the same again", []string{ssh.ID}, []string{ssh.ID}},
		{"default group", []string{vpc.DefaultSecurityGroupID}, []string{vpc.DefaultSecurityGroupID}},
	} {
		t.Run(step.name, func(t *testing.T) {
			if err := tc.ModifyNetworkInterfaceAttribute(ctx, acctA, ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceID: eniID, Groups: step.groups,
			}); err != nil {
				t.Fatal(err)
			}
			check(step.want...)
		})
	}
	desc := "primary interface"
	if err := tc.ModifyNetworkInterfaceAttribute(ctx, acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Description: &desc}); err != nil {
		t.Fatal(err)
	}
	if err := tc.ModifyNetworkInterfaceAttribute(ctx, acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, SourceDestCheck: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	enis, err := tc.DescribeNetworkInterfaces(ctx, acctA, DescribeNetworkInterfacesInput{NetworkInterfaceIDs: []string{eniID}})
	if err != nil {
		t.Fatal(err)
	}
	if enis[0].Description != desc || !enis[0].SourceDestCheck {
		t.Errorf("interface %+v", enis[0].NetworkInterface)
	}
	// A group is in use while the interface has it, and free once the
	// interface has another.
	if err := tc.ModifyNetworkInterfaceAttribute(ctx, acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: []string{ssh.ID}}); err != nil {
		t.Fatal(err)
	}
	tc.failsUnchanged(t, "DependencyViolation", func() error {
		return tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: ssh.ID})
	})
	if err := tc.DeleteSecurityGroup(ctx, acctA, DeleteSecurityGroupInput{GroupID: web.ID}); err != nil {
		t.Errorf("deleting the group the instance no longer has: %v", err)
	}
}

func TestModifyNetworkInterfaceAttributeErrors(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	vpc := tc.vpc(t, acctA, "10.0.0.0/16")
	sub := tc.subnet(t, acctA, vpc.ID, "10.0.1.0/24")
	other := tc.vpc(t, acctA, "10.1.0.0/16")
	otherSG := tc.group(t, acctA, other.ID, "elsewhere")
	web := tc.group(t, acctA, vpc.ID, "web")
	res := tc.run(t, acctA, RunInstancesInput{SubnetID: sub.ID, SecurityGroupIDs: []string{web.ID}})
	eniID := res.Instances[0].NetworkInterfaceID
	var six []string
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		six = append(six, tc.group(t, acctA, vpc.ID, n).ID)
	}
	six = append(six, web.ID)
	long := strings.Repeat("x", 256)

	for _, c := range []struct {
		name   string
		caller Caller
		in     ModifyNetworkInterfaceAttributeInput
		code   string
		msg    string
	}{
		{"no interface", acctA, ModifyNetworkInterfaceAttributeInput{Groups: []string{web.ID}}, "MissingParameter", "NetworkInterfaceId"},
		{"malformed interface", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: "eni-q", Groups: []string{web.ID}},
			"InvalidNetworkInterfaceID.Malformed", "eni-q"},
		{"unknown interface", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: "eni-0123456789abcdef0", Groups: []string{web.ID}},
			"InvalidNetworkInterfaceID.NotFound", "The networkInterface ID 'eni-0123456789abcdef0' does not exist"},
		{"another account's interface", acctB, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: []string{web.ID}},
			"InvalidNetworkInterfaceID.NotFound", eniID},
		{"no attribute", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID}, "InvalidParameterCombination", "No attributes specified."},
		{"two attributes", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: []string{web.ID}, SourceDestCheck: ptr(true)},
			"InvalidParameterCombination", "Fields for multiple attribute types specified: sourceDestCheck, groupSet"},
		{"unsupported attribute", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Other: []string{"attachment"}},
			"UnsupportedOperation", "attachment"},
		{"source/dest check off", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, SourceDestCheck: ptr(false)},
			"UnsupportedOperation", "source/destination"},
		{"long description", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Description: &long},
			"InvalidParameterValue", "Length exceeds"},
		{"empty group list", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: []string{}}, "MissingParameter", "SecurityGroupId"},
		{"six groups", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: six},
			"SecurityGroupsPerInterfaceLimitExceeded", "maximum number of security groups"},
		{"unknown group", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: []string{web.ID, "sg-0123456789abcdef0"}},
			"InvalidGroup.NotFound", "sg-0123456789abcdef0"},
		{"malformed group", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: []string{"web"}},
			"InvalidGroupId.Malformed", "web"},
		{"group of another VPC", acctA, ModifyNetworkInterfaceAttributeInput{NetworkInterfaceID: eniID, Groups: []string{otherSG.ID}},
			"InvalidGroup.NotFound", "You have specified two resources that belong to different networks."},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := tc.failsUnchanged(t, c.code, func() error { return tc.ModifyNetworkInterfaceAttribute(ctx, c.caller, c.in) })
			if !strings.Contains(got.Message, c.msg) {
				t.Errorf("message %q lacks %q", got.Message, c.msg)
			}
		})
	}
}

// TestModifyNetworkInterfaceRequesterManaged: the interfaces of endpoints
// and load balancers belong to the caller but are the service's to manage.
func TestModifyNetworkInterfaceRequesterManaged(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.modWorld(t, "")
	ep := e.modEndpoint(t, w, false, w.cons.subA.ID)
	lb := e.plLB(t, plProvider, "other", w.prov.subA.ID)
	for _, c := range []struct {
		name   string
		caller Caller
		eni    string
	}{
		{"endpoint interface", plConsumer, ep.NetworkInterfaceIDs[0]},
		{"load balancer node", plProvider, lb.Nodes[0].NetworkInterfaceID},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, "AuthFailure", func() error {
				return e.ModifyNetworkInterfaceAttribute(ctx, c.caller, ModifyNetworkInterfaceAttributeInput{
					NetworkInterfaceID: c.eni, Groups: []string{w.sg2.ID},
				})
			})
			if got.Message != "You do not have permission to access the specified resource." {
				t.Errorf("message %q", got.Message)
			}
		})
	}
}
