package core

import (
	"context"
	"strings"
	"testing"
)

func TestVpcDNSAttributes(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	vpc := tc.vpc(t, acctA, "10.0.0.0/16")
	attr := func(name string) bool {
		t.Helper()
		a, err := tc.DescribeVpcAttribute(ctx, acctA, vpc.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		if a.VpcID != vpc.ID || a.Name != name {
			t.Errorf("attribute %+v", a)
		}
		return a.Value
	}
	// AWS's defaults for a VPC that is not the default VPC.
	if !attr(VpcAttributeDNSSupport) || attr(VpcAttributeDNSHostnames) || attr(VpcAttributeAddressUseMetrics) {
		t.Fatal("defaults: want support on, hostnames and metrics off")
	}
	modify := func(in ModifyVpcAttributeInput) {
		t.Helper()
		in.VpcID = vpc.ID
		if err := tc.ModifyVpcAttribute(ctx, acctA, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		name              string
		in                ModifyVpcAttributeInput
		support, hostname bool
	}{
		{"hostnames on", ModifyVpcAttributeInput{EnableDNSHostnames: ptr(true)}, true, true},
		{"hostnames on again", ModifyVpcAttributeInput{EnableDNSHostnames: ptr(true)}, true, true},
		{"support off", ModifyVpcAttributeInput{EnableDNSSupport: ptr(false)}, false, true},
		{"support on", ModifyVpcAttributeInput{EnableDNSSupport: ptr(true)}, true, true},
		{"hostnames off", ModifyVpcAttributeInput{EnableDNSHostnames: ptr(false)}, true, false},
		{"metrics off", ModifyVpcAttributeInput{EnableNetworkAddressUsageMetrics: ptr(false)}, true, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			modify(step.in)
			if s, h := attr(VpcAttributeDNSSupport), attr(VpcAttributeDNSHostnames); s != step.support || h != step.hostname {
				t.Errorf("support %v hostnames %v, want %v %v", s, h, step.support, step.hostname)
			}
			vpcs, err := tc.DescribeVpcs(ctx, acctA, DescribeVpcsInput{VpcIDs: []string{vpc.ID}})
			if err != nil {
				t.Fatal(err)
			}
			if vpcs[0].EnableDNSSupport != step.support || vpcs[0].EnableDNSHostnames != step.hostname {
				t.Errorf("stored VPC %+v", vpcs[0])
			}
		})
	}
}

func TestVpcDNSAttributeErrors(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	vpc := tc.vpc(t, acctA, "10.0.0.0/16")
	if err := tc.ModifyVpcAttribute(ctx, acctA, ModifyVpcAttributeInput{VpcID: vpc.ID, EnableDNSSupport: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	for _, tc2 := range []struct {
		name   string
		caller Caller
		in     ModifyVpcAttributeInput
		code   string
		msg    string
	}{
		{"nothing", acctA, ModifyVpcAttributeInput{VpcID: vpc.ID}, "InvalidParameterCombination", "No attributes specified."},
		{"both", acctA, ModifyVpcAttributeInput{VpcID: vpc.ID, EnableDNSSupport: ptr(true), EnableDNSHostnames: ptr(true)},
			"InvalidParameterCombination", "Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames"},
		{"hostnames without support", acctA, ModifyVpcAttributeInput{VpcID: vpc.ID, EnableDNSHostnames: ptr(true)},
			"InvalidParameterValue", "while DNS support"},
		{"metrics", acctA, ModifyVpcAttributeInput{VpcID: vpc.ID, EnableNetworkAddressUsageMetrics: ptr(true)},
			"UnsupportedOperation", "Network Address Usage"},
		{"no VPC", acctA, ModifyVpcAttributeInput{EnableDNSSupport: ptr(true)}, "MissingParameter", "vpcId"},
		{"another account's VPC", acctB, ModifyVpcAttributeInput{VpcID: vpc.ID, EnableDNSSupport: ptr(true)},
			"InvalidVpcID.NotFound", "The vpc ID '" + vpc.ID + "' does not exist"},
		{"malformed VPC", acctA, ModifyVpcAttributeInput{VpcID: "vpc-zz", EnableDNSSupport: ptr(true)}, "InvalidVpcID.Malformed", "vpc-zz"},
	} {
		t.Run(tc2.name, func(t *testing.T) {
			got := tc.failsUnchanged(t, tc2.code, func() error { return tc.ModifyVpcAttribute(ctx, tc2.caller, tc2.in) })
			if !strings.Contains(got.Message, tc2.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc2.msg)
			}
		})
	}
	for _, tc2 := range []struct {
		name, vpc, attr, code string
	}{
		{"unknown attribute", vpc.ID, "enableDns", "InvalidParameterValue"},
		{"no attribute", vpc.ID, "", "MissingParameter"},
		{"unknown VPC", "vpc-0123456789abcdef0", VpcAttributeDNSSupport, "InvalidVpcID.NotFound"},
	} {
		t.Run("describe "+tc2.name, func(t *testing.T) {
			_, err := tc.DescribeVpcAttribute(ctx, acctA, tc2.vpc, tc2.attr)
			wantCode(t, err, tc2.code)
		})
	}
}

// TestVpcDNSAttributesGuardPrivateDNS: private DNS on an endpoint needs both
// attributes, so neither may be turned off under it.
func TestVpcDNSAttributesGuardPrivateDNS(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.modWorld(t, "api.example.com")
	e.plPut(t, func(tx *txn) error {
		s, _, err := get[EndpointService](tx, keyEndpointService(w.svc.ID))
		if err != nil {
			return err
		}
		s.PrivateDNSNameState = DNSNameVerified
		return put(tx, keyEndpointService(s.ID), s)
	})
	vpcID := w.cons.vpc.ID
	plOK(t, e.ModifyVpcAttribute(ctx, plConsumer, ModifyVpcAttributeInput{VpcID: vpcID, EnableDNSHostnames: plBool(true)}))
	ep := e.modEndpoint(t, w, true, w.cons.subA.ID)

	for _, in := range []ModifyVpcAttributeInput{
		{VpcID: vpcID, EnableDNSSupport: plBool(false)},
		{VpcID: vpcID, EnableDNSHostnames: plBool(false)},
	} {
		got := e.plFailsUnchanged(t, "OperationNotPermitted", func() error { return e.ModifyVpcAttribute(ctx, plConsumer, in) })
		if !strings.Contains(got.Message, ep.ID) || !strings.Contains(got.Message, "private DNS enabled") {
			t.Errorf("message %q", got.Message)
		}
	}
	// Once the endpoint is on its way out, the attributes are free.
	un, err := e.DeleteVpcEndpoints(ctx, plConsumer, []string{ep.ID})
	plOK(t, err)
	if len(un) != 0 {
		t.Fatal(un)
	}
	plOK(t, e.ModifyVpcAttribute(ctx, plConsumer, ModifyVpcAttributeInput{VpcID: vpcID, EnableDNSHostnames: plBool(false)}))
}
