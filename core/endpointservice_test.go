package core

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// plWorld is the provider side of the walking skeleton: an internal NLB in
// us-east-1a of the provider VPC with listeners 8022 → instance A:22 and
// 8023 → instance B:22, offered as an endpoint service; and a consumer VPC
// with the same CIDR.
type plWorld struct {
	prov         plNet
	instA, instB *Instance
	lb           LoadBalancer
	tgA, tgB     TargetGroupDescription
	l8022, l8023 Listener
	svc          ServiceConfiguration
	cons         plNet
	consSG       *SecurityGroup
}

func (e *plEnv) plWorld(t *testing.T, acceptanceRequired bool) *plWorld {
	t.Helper()
	ctx := context.Background()
	w := &plWorld{prov: e.plNetwork(t, plProvider, "10.0.0.0/16")}
	w.instA = e.plInstance(t, plProvider, w.prov.subA, InstanceRunning)
	w.instB = e.plInstance(t, plProvider, w.prov.subA, InstanceRunning)
	w.lb = e.plLB(t, plProvider, "svc", w.prov.subA.ID)
	w.tgA = e.plTargetGroup(t, plProvider, "ssh-a", w.prov.vpc.ID, 22)
	w.tgB = e.plTargetGroup(t, plProvider, "ssh-b", w.prov.vpc.ID, 22)
	plOK(t, e.RegisterTargets(ctx, plProvider, w.tgA.ARN, []TargetDescription{{ID: w.instA.ID}}))
	plOK(t, e.RegisterTargets(ctx, plProvider, w.tgB.ARN, []TargetDescription{{ID: w.instB.ID}}))
	w.l8022 = e.plListener(t, plProvider, w.lb.ARN, 8022, w.tgA.ARN)
	w.l8023 = e.plListener(t, plProvider, w.lb.ARN, 8023, w.tgB.ARN)
	svc, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{w.lb.ARN}, AcceptanceRequired: acceptanceRequired,
	})
	plOK(t, err)
	w.svc = svc
	w.cons = e.plNetwork(t, plConsumer, "10.0.0.0/16")
	w.consSG = e.plGroup(t, plConsumer, w.cons.vpc, "endpoint")
	return w
}

func (e *plEnv) plAllow(t *testing.T, serviceID string, principals ...string) []AddedPrincipal {
	t.Helper()
	added, err := e.ModifyVpcEndpointServicePermissions(context.Background(), plProvider, ModifyVpcEndpointServicePermissionsInput{
		ServiceID: serviceID, AddAllowedPrincipals: principals,
	})
	plOK(t, err)
	return added
}

func TestCreateVpcEndpointServiceConfiguration(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "svc", n.subA.ID, n.subB.ID)
	svc, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{lb.ARN}, AcceptanceRequired: true, PrivateDNSName: "api.example.com",
		ClientToken:       "token-1",
		TagSpecifications: []TagSpecification{{ResourceType: "vpc-endpoint-service", Tags: []Tag{{Key: "Name", Value: "ssh"}}}},
	})
	plOK(t, err)
	if !regexp.MustCompile(`^vpce-svc-[0-9a-f]{17}$`).MatchString(svc.ID) {
		t.Errorf("ID %s", svc.ID)
	}
	if svc.ServiceName != "com.amazonaws.vpce.us-east-1."+svc.ID || svc.State != "Available" || svc.ServiceType != "Interface" ||
		!svc.AcceptanceRequired || svc.OwnerID != plProvider.AccountID || !slices.Equal(svc.NetworkLoadBalancerARNs, []string{lb.ARN}) {
		t.Errorf("service %+v", svc.EndpointService)
	}
	if !slices.Equal(svc.AvailabilityZones, []string{"us-east-1a", "us-east-1b"}) ||
		!slices.Equal(svc.BaseEndpointDNSNames, []string{svc.ID + ".us-east-1.vpce.amazonaws.com"}) ||
		!slices.Equal(svc.SupportedIPAddressTypes, []string{"ipv4"}) || len(svc.Tags) != 1 {
		t.Errorf("derived facts %+v", svc)
	}
	pdc := svc.PrivateDNSNameConfiguration
	if svc.PrivateDNSName != "api.example.com" || pdc == nil || pdc.State != "pendingVerification" || pdc.Type != "TXT" ||
		!strings.HasPrefix(pdc.Name, "_") || !strings.HasPrefix(pdc.Value, "vpce:") {
		t.Errorf("private DNS %q %+v", svc.PrivateDNSName, pdc)
	}

	again, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{lb.ARN}, AcceptanceRequired: true, PrivateDNSName: "api.example.com", ClientToken: "token-1",
	})
	plOK(t, err)
	if again.ID != svc.ID {
		t.Errorf("client token repeat created %s", again.ID)
	}
	got, err := e.DescribeVpcEndpointServiceConfigurations(ctx, plProvider, nil)
	plOK(t, err)
	if len(got) != 1 || got[0].ID != svc.ID || got[0].PrivateDNSNameConfiguration.Value != pdc.Value {
		t.Errorf("described %+v", got)
	}
}

func TestCreateVpcEndpointServiceConfigurationErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	used := e.plLB(t, plProvider, "used", n.subA.ID)
	free := e.plLB(t, plProvider, "free", n.subB.ID)
	_, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{used.ARN}, ClientToken: "tok",
	})
	plOK(t, err)
	cn := e.plNetwork(t, plConsumer, "10.0.0.0/16")
	foreign := e.plLB(t, plConsumer, "theirs", cn.subA.ID)
	broken := e.plLB(t, plProvider, "broken", n.subA.ID)
	e.plPut(t, func(tx *txn) error {
		lb, _, err := get[LoadBalancer](tx, keyLoadBalancer(broken.ID))
		if err != nil {
			return err
		}
		lb.State = LBFailed
		return put(tx, keyLoadBalancer(lb.ID), lb)
	})

	ok := func(mod func(*CreateVpcEndpointServiceConfigurationInput)) CreateVpcEndpointServiceConfigurationInput {
		in := CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{free.ARN}}
		mod(&in)
		return in
	}
	for _, tc := range []struct {
		name string
		in   CreateVpcEndpointServiceConfigurationInput
		code string
		msg  string
	}{
		{"no load balancer", ok(func(in *CreateVpcEndpointServiceConfigurationInput) { in.NetworkLoadBalancerARNs = nil }), "MissingParameter", "NetworkLoadBalancerArn"},
		{"gateway load balancer", ok(func(in *CreateVpcEndpointServiceConfigurationInput) {
			in.NetworkLoadBalancerARNs = nil
			in.GatewayLoadBalancerARNs = []string{"arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/gwy/g/0123456789abcdef"}
		}), "UnsupportedOperation", "Gateway Load Balancer"},
		{"both kinds", ok(func(in *CreateVpcEndpointServiceConfigurationInput) { in.GatewayLoadBalancerARNs = []string{"x"} }), "InvalidParameterCombination", "exactly one"},
		{"malformed ARN", ok(func(in *CreateVpcEndpointServiceConfigurationInput) { in.NetworkLoadBalancerARNs = []string{"nlb"} }), "InvalidNetworkLoadBalancerArn.Malformed", "nlb"},
		{"application load balancer ARN", ok(func(in *CreateVpcEndpointServiceConfigurationInput) {
			in.NetworkLoadBalancerARNs = []string{strings.Replace(free.ARN, "/net/", "/app/", 1)}
		}), "InvalidNetworkLoadBalancerArn.Malformed", "app"},
		{"another account's NLB", ok(func(in *CreateVpcEndpointServiceConfigurationInput) {
			in.NetworkLoadBalancerARNs = []string{foreign.ARN}
		}), "InvalidNetworkLoadBalancerArn.NotFound", foreign.ARN},
		{"NLB of another service", ok(func(in *CreateVpcEndpointServiceConfigurationInput) {
			in.NetworkLoadBalancerARNs = []string{free.ARN, used.ARN}
		}), "InvalidParameter", "already associated"},
		{"failed NLB", ok(func(in *CreateVpcEndpointServiceConfigurationInput) {
			in.NetworkLoadBalancerARNs = []string{broken.ARN}
		}), "InvalidParameter", "failed"},
		{"ipv6", ok(func(in *CreateVpcEndpointServiceConfigurationInput) {
			in.SupportedIPAddressTypes = []string{"ipv4", "ipv6"}
		}), "InvalidParameter", "ipv6"},
		{"unknown IP type", ok(func(in *CreateVpcEndpointServiceConfigurationInput) { in.SupportedIPAddressTypes = []string{"ipx"} }), "InvalidParameterValue", "ipx"},
		{"bad private DNS name", ok(func(in *CreateVpcEndpointServiceConfigurationInput) { in.PrivateDNSName = "bad_name!.com" }), "InvalidParameter", "bad_name!.com"},
		{"single-label private DNS name", ok(func(in *CreateVpcEndpointServiceConfigurationInput) { in.PrivateDNSName = "localhost" }), "InvalidParameter", "localhost"},
		{"tags for another type", ok(func(in *CreateVpcEndpointServiceConfigurationInput) {
			in.TagSpecifications = []TagSpecification{{ResourceType: "vpc", Tags: []Tag{{Key: "a"}}}}
		}), "InvalidParameterValue", "vpc"},
		{"client token reused", ok(func(in *CreateVpcEndpointServiceConfigurationInput) { in.ClientToken = "tok" }), "IdempotentParameterMismatch", "tok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, tc.in)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
}

func TestModifyVpcEndpointServicePermissions(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)

	added := e.plAllow(t, w.svc.ID,
		"arn:aws:iam::123456789012:root", "arn:aws:iam::210987654321:role/ops", "arn:aws:iam::210987654321:user/dev", "*", "ec2.amazonaws.com")
	wantTypes := []string{"Account", "Role", "User", "All", "Service"}
	for i, a := range added {
		if a.PrincipalType != wantTypes[i] || a.ServiceID != w.svc.ID || !regexp.MustCompile(`^vpce-svc-perm-[0-9a-f]{17}$`).MatchString(a.ServicePermissionID) {
			t.Errorf("added %d: %+v", i, a)
		}
	}
	// Adding one again keeps its permission.
	again := e.plAllow(t, w.svc.ID, "*")
	if len(again) != 1 || again[0].ServicePermissionID != added[3].ServicePermissionID {
		t.Errorf("re-added %+v", again)
	}
	_, err := e.ModifyVpcEndpointServicePermissions(ctx, plProvider, ModifyVpcEndpointServicePermissionsInput{
		ServiceID: w.svc.ID, RemoveAllowedPrincipals: []string{"*", "arn:aws:iam::999999999999:root"},
	})
	plOK(t, err)
	perms, err := e.DescribeVpcEndpointServicePermissions(ctx, plProvider, w.svc.ID)
	plOK(t, err)
	var got []string
	for _, p := range perms {
		got = append(got, p.Principal)
	}
	if !slices.Equal(got, []string{"arn:aws:iam::123456789012:root", "arn:aws:iam::210987654321:role/ops", "arn:aws:iam::210987654321:user/dev", "ec2.amazonaws.com"}) {
		t.Errorf("permissions %v", got)
	}

	for _, bad := range []string{
		"123456789012", "arn:aws:iam::12345:root", "arn:aws:iam::123456789012:group/g", "arn:aws:iam::123456789012:role/path/name",
		"arn:aws:sts::123456789012:assumed-role/r/s", "arn:aws:iam::123456789012:user/", "everyone", "",
	} {
		t.Run("invalid "+bad, func(t *testing.T) {
			got := e.plFailsUnchanged(t, "InvalidPrincipal", func() error {
				_, err := e.ModifyVpcEndpointServicePermissions(ctx, plProvider, ModifyVpcEndpointServicePermissionsInput{
					ServiceID: w.svc.ID, AddAllowedPrincipals: []string{"arn:aws:iam::123456789012:root", bad},
				})
				return err
			})
			if got.Message != "Invalid Principal: '"+bad+"'" {
				t.Errorf("message %q", got.Message)
			}
		})
	}
	t.Run("only the owner", func(t *testing.T) {
		e.plFailsUnchanged(t, "InvalidVpcEndpointServiceId.NotFound", func() error {
			_, err := e.ModifyVpcEndpointServicePermissions(ctx, plConsumer, ModifyVpcEndpointServicePermissionsInput{
				ServiceID: w.svc.ID, AddAllowedPrincipals: []string{"*"},
			})
			return err
		})
		_, err := e.DescribeVpcEndpointServicePermissions(ctx, plConsumer, w.svc.ID)
		if got := plCode(t, err, "InvalidVpcEndpointServiceId.NotFound"); got.Message != "The VpcEndpointService Id '"+w.svc.ID+"' does not exist" {
			t.Errorf("message %q", got.Message)
		}
	})
}

func TestDescribeVpcEndpointServicesVisibility(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)
	name := w.svc.ServiceName
	see := func(c Caller) bool {
		t.Helper()
		all, err := e.DescribeVpcEndpointServices(ctx, c, nil)
		plOK(t, err)
		listed := slices.ContainsFunc(all, func(d ServiceDetail) bool { return d.ServiceName == name })
		_, err = e.DescribeVpcEndpointServices(ctx, c, []string{name})
		if listed != (err == nil) {
			t.Fatalf("listing (%v) and naming (%v) disagree", listed, err)
		}
		if err != nil {
			if got := plCode(t, err, "InvalidServiceName"); got.Message != "The Vpc Endpoint Service '"+name+"' does not exist" {
				t.Errorf("message %q", got.Message)
			}
		}
		return listed
	}
	if !see(plProvider) || see(plConsumer) || see(plStranger) {
		t.Fatal("before any permission only the owner may see the service")
	}
	e.plAllow(t, w.svc.ID, "arn:aws:iam::123456789012:root")
	if !see(plConsumer) || see(plStranger) {
		t.Error("an account root ARN admits exactly that account")
	}
	e.plAllow(t, w.svc.ID, "arn:aws:iam::210987654321:role/ops")
	if !see(plStranger) {
		t.Error("a role ARN admits its account")
	}
	_, err := e.ModifyVpcEndpointServicePermissions(ctx, plProvider, ModifyVpcEndpointServicePermissionsInput{
		ServiceID: w.svc.ID, RemoveAllowedPrincipals: []string{"arn:aws:iam::210987654321:role/ops", "arn:aws:iam::123456789012:root"},
	})
	plOK(t, err)
	if see(plConsumer) || see(plStranger) {
		t.Error("removed principals still see the service")
	}
	e.plAllow(t, w.svc.ID, "*")
	if !see(plStranger) {
		t.Error("'*' admits everyone")
	}

	got, err := e.DescribeVpcEndpointServices(ctx, plStranger, []string{name})
	plOK(t, err)
	d := got[0]
	want := ServiceDetail{
		ServiceName: name, ServiceID: w.svc.ID, ServiceType: "Interface", AvailabilityZones: []string{"us-east-1a"},
		Owner: plProvider.AccountID, BaseEndpointDNSNames: []string{w.svc.ID + ".us-east-1.vpce.amazonaws.com"},
		AcceptanceRequired: true, SupportedIPAddressTypes: []string{"ipv4"},
	}
	if d.ServiceName != want.ServiceName || d.ServiceID != want.ServiceID || d.ServiceType != want.ServiceType ||
		!slices.Equal(d.AvailabilityZones, want.AvailabilityZones) || d.Owner != want.Owner ||
		!slices.Equal(d.BaseEndpointDNSNames, want.BaseEndpointDNSNames) || d.AcceptanceRequired != want.AcceptanceRequired ||
		!slices.Equal(d.SupportedIPAddressTypes, want.SupportedIPAddressTypes) || d.VpcEndpointPolicySupported || d.ManagesVpcEndpoints ||
		d.PrivateDNSName != "" || d.PrivateDNSNameVerificationState != "" {
		t.Errorf("detail %+v", d)
	}
	_, err = e.DescribeVpcEndpointServices(ctx, plStranger, []string{"com.amazonaws.us-east-1.s3"})
	plCode(t, err, "InvalidServiceName")
}

func TestDeleteVpcEndpointServiceConfigurations(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)
	e.plAllow(t, w.svc.ID, "*")
	ep := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)

	for _, state := range []string{EndpointPendingAcceptance, EndpointPending, EndpointAvailable} {
		t.Run("refused while "+state, func(t *testing.T) {
			e.plSetEndpointState(t, ep.ID, state)
			before := e.plDump(t)
			un, err := e.DeleteVpcEndpointServiceConfigurations(ctx, plProvider, []string{w.svc.ID})
			plOK(t, err)
			if len(un) != 1 || un[0].ResourceID != w.svc.ID || un[0].Code != "ExistingVpcEndpointConnections" ||
				un[0].Message != "Service has existing active VPC Endpoint connections!" {
				t.Errorf("unsuccessful %+v", un)
			}
			if after := e.plDump(t); len(after) != len(before) {
				t.Error("a refused deletion changed the store")
			}
		})
	}
	e.plSetEndpointState(t, ep.ID, EndpointRejected)
	un, err := e.DeleteVpcEndpointServiceConfigurations(ctx, plProvider, []string{"vpce-svc-0123456789abcdef0", w.svc.ID, "svc"})
	plOK(t, err)
	if len(un) != 2 || un[0].Code != "InvalidVpcEndpointService.NotFound" || un[1].ResourceID != "svc" {
		t.Errorf("unsuccessful %+v", un)
	}
	_, err = e.DescribeVpcEndpointServiceConfigurations(ctx, plProvider, []string{w.svc.ID})
	plCode(t, err, "InvalidVpcEndpointServiceId.NotFound")
	// The load balancer is free again.
	_, err = e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{w.lb.ARN}})
	plOK(t, err)

	_, err = e.DeleteVpcEndpointServiceConfigurations(ctx, plProvider, nil)
	plCode(t, err, "MissingParameter")
	un, err = e.DeleteVpcEndpointServiceConfigurations(ctx, plConsumer, []string{w.svc.ID})
	plOK(t, err)
	if len(un) != 1 || un[0].Code != "InvalidVpcEndpointService.NotFound" {
		t.Errorf("another account's deletion: %+v", un)
	}
}
