package core

import (
	"context"
	"net/netip"
	"reflect"
	"testing"
)

func TestDescribeNetworkInterfaces(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	s := tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
	r := tc.run(t, acctA, RunInstancesInput{SubnetID: s.ID})
	own := r.Instances[0].NetworkInterfaceID

	// An endpoint's interface in A's VPC, made on A's behalf by the
	// service: A sees it although another account is its owner.
	managed := NetworkInterface{
		ID: "eni-0123456789abcdef0", OwnerID: "999999999999", VpcID: v.ID, SubnetID: s.ID,
		PrivateIP: netip.MustParseAddr("10.0.1.50"), InterfaceType: InterfaceTypeVpcEndpoint,
		RequesterManaged: true, RequesterID: "727180483921", ResourceID: "vpce-0123456789abcdef0",
		SecurityGroupIDs: []string{v.DefaultSecurityGroupID}, Status: ENIInUse,
	}
	tc.putRaw(t, keyENI(managed.ID), managed)
	// An interface in B's VPC is not A's business.
	vb := tc.vpc(t, acctB, "10.0.0.0/16")
	sb := tc.subnet(t, acctB, vb.ID, "10.0.1.0/24")
	rb := tc.run(t, acctB, RunInstancesInput{SubnetID: sb.ID})

	all, err := tc.DescribeNetworkInterfaces(ctx, acctA, DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	if want := []string{managed.ID, own}; !reflect.DeepEqual(ids, want) {
		t.Errorf("A sees %v, want %v", ids, want)
	}
	m := all[0]
	if !m.RequesterManaged || m.InterfaceType != "vpc_endpoint" || m.PrivateDNSName != "ip-10-0-1-50.ec2.internal" ||
		!reflect.DeepEqual(m.Groups, []GroupIdentifier{{v.DefaultSecurityGroupID, "default"}}) {
		t.Errorf("managed interface %+v", m)
	}

	tests := []struct {
		name   string
		caller Caller
		ids    []string
		want   int
		code   string
	}{
		{"by id", acctA, []string{own, own}, 1, ""},
		{"requester-managed by id", acctA, []string{managed.ID}, 1, ""},
		{"another account's", acctA, []string{rb.Instances[0].NetworkInterfaceID}, 0, "InvalidNetworkInterfaceID.NotFound"},
		{"unknown", acctA, []string{"eni-12345678"}, 0, "InvalidNetworkInterfaceID.NotFound"},
		{"malformed", acctA, []string{"eni-zz"}, 0, "InvalidNetworkInterfaceID.Malformed"},
		{"B sees its own", acctB, nil, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tc.DescribeNetworkInterfaces(ctx, tt.caller, DescribeNetworkInterfacesInput{NetworkInterfaceIDs: tt.ids})
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil || len(got) != tt.want {
				t.Errorf("got %d interfaces, %v; want %d", len(got), err, tt.want)
			}
		})
	}
	_, err = tc.DescribeNetworkInterfaces(ctx, acctA, DescribeNetworkInterfacesInput{NetworkInterfaceIDs: []string{"eni-12345678"}})
	if e := wantCode(t, err, "InvalidNetworkInterfaceID.NotFound"); e.Message != "The networkInterface ID 'eni-12345678' does not exist" {
		t.Errorf("message %q", e.Message)
	}
}
