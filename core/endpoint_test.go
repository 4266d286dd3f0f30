package core

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func (e *plEnv) plEndpoint(t *testing.T, owner Caller, w *plWorld, subnets ...string) VpcEndpointDescription {
	t.Helper()
	ep, err := e.CreateVpcEndpoint(context.Background(), owner, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: subnets, SecurityGroupIDs: []string{w.consSG.ID},
	})
	plOK(t, err)
	return ep
}

func (e *plEnv) plSetEndpointState(t *testing.T, id, state string) {
	t.Helper()
	e.plPut(t, func(tx *txn) error {
		ep, _, err := get[VpcEndpoint](tx, keyEndpoint(id))
		if err != nil {
			return err
		}
		ep.State = state
		return put(tx, keyEndpoint(id), ep)
	})
}

func (e *plEnv) plEndpointState(t *testing.T, owner Caller, id string) string {
	t.Helper()
	got, err := e.DescribeVpcEndpoints(context.Background(), owner, []string{id})
	plOK(t, err)
	return got[0].State
}

// TestPrivateLinkStory walks the provider/consumer story of the walking
// skeleton across two accounts whose VPCs share a CIDR.
func TestPrivateLinkStory(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)

	// An account that is not on the allow list cannot see the service.
	_, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName, SubnetIDs: []string{w.cons.subA.ID},
	})
	if got := plCode(t, err, "InvalidServiceName"); got.Message != "The Vpc Endpoint Service '"+w.svc.ServiceName+"' does not exist" {
		t.Errorf("message %q", got.Message)
	}

	e.plAllow(t, w.svc.ID, "arn:aws:iam::"+plConsumer.AccountID+":root")
	details, err := e.DescribeVpcEndpointServices(ctx, plConsumer, nil)
	plOK(t, err)
	if len(details) != 1 || details[0].ServiceName != w.svc.ServiceName {
		t.Fatalf("consumer sees %+v", details)
	}

	ep := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)
	if ep.State != "pendingAcceptance" || ep.ServiceOwnerID != plProvider.AccountID || len(ep.NetworkInterfaceIDs) != 1 {
		t.Fatalf("new endpoint %+v", ep.VpcEndpoint)
	}
	var eni *NetworkInterface
	e.plPut(t, func(tx *txn) error {
		eni, _, err = get[NetworkInterface](tx, keyENI(ep.NetworkInterfaceIDs[0]))
		return err
	})
	// The consumer's address comes from its own subnet even though the
	// provider's VPC has the same CIDR.
	if eni.SubnetID != w.cons.subA.ID || !w.cons.subA.CIDR.Contains(eni.PrivateIP) || eni.OwnerID != plConsumer.AccountID {
		t.Errorf("endpoint interface %+v", eni)
	}

	conns, err := e.DescribeVpcEndpointConnections(ctx, plProvider)
	plOK(t, err)
	if len(conns) != 1 || conns[0].VpcEndpointID != ep.ID || conns[0].VpcEndpointState != "pendingAcceptance" ||
		conns[0].VpcEndpointOwner != plConsumer.AccountID || conns[0].ServiceID != w.svc.ID ||
		!slices.Equal(conns[0].NetworkLoadBalancerARNs, []string{w.lb.ARN}) || conns[0].IPAddressType != "ipv4" ||
		!regexp.MustCompile(`^vpce-con-[0-9a-f]{17}$`).MatchString(conns[0].VpcEndpointConnectionID) ||
		!conns[0].CreationTimestamp.Equal(ep.CreatedAt) || len(conns[0].DNSEntries) != 2 {
		t.Errorf("connections %+v", conns)
	}
	if c, err := e.DescribeVpcEndpointConnections(ctx, plConsumer); err != nil || len(c) != 0 {
		t.Errorf("the consumer sees connections %+v, %v", c, err)
	}

	// Only the provider accepts; the consumer cannot.
	_, err = e.AcceptVpcEndpointConnections(ctx, plConsumer, w.svc.ID, []string{ep.ID})
	plCode(t, err, "InvalidVpcEndpointServiceId.NotFound")
	un, err := e.AcceptVpcEndpointConnections(ctx, plProvider, w.svc.ID, []string{ep.ID})
	plOK(t, err)
	if len(un) != 0 || e.plEndpointState(t, plConsumer, ep.ID) != "pending" {
		t.Fatalf("after accept: %+v, %s", un, e.plEndpointState(t, plConsumer, ep.ID))
	}
	plOK(t, e.SetEndpointAvailable(ctx, ep.ID))
	if s := e.plEndpointState(t, plConsumer, ep.ID); s != "available" {
		t.Fatalf("after the reconciler: %s", s)
	}
	conns, err = e.DescribeVpcEndpointConnections(ctx, plProvider)
	plOK(t, err)
	if conns[0].VpcEndpointState != "available" {
		t.Errorf("provider sees %s", conns[0].VpcEndpointState)
	}

	// The provider cannot delete the service while it is connected.
	un, err = e.DeleteVpcEndpointServiceConfigurations(ctx, plProvider, []string{w.svc.ID})
	plOK(t, err)
	if len(un) != 1 || un[0].Code != "ExistingVpcEndpointConnections" {
		t.Errorf("deleting a connected service: %+v", un)
	}

	un, err = e.RejectVpcEndpointConnections(ctx, plProvider, w.svc.ID, []string{ep.ID})
	plOK(t, err)
	if len(un) != 0 || e.plEndpointState(t, plConsumer, ep.ID) != "rejected" {
		t.Fatalf("after reject: %+v", un)
	}
	plOK(t, e.SetEndpointAvailable(ctx, ep.ID)) // a stale reconciler cannot revive it
	if s := e.plEndpointState(t, plConsumer, ep.ID); s != "rejected" {
		t.Fatalf("a rejected endpoint became %s", s)
	}

	// Only the consumer deletes its endpoint.
	un, err = e.DeleteVpcEndpoints(ctx, plProvider, []string{ep.ID})
	plOK(t, err)
	if len(un) != 1 || un[0].Code != "InvalidVpcEndpoint.NotFound" {
		t.Errorf("provider deleting the consumer's endpoint: %+v", un)
	}
	un, err = e.DeleteVpcEndpoints(ctx, plConsumer, []string{ep.ID})
	plOK(t, err)
	if len(un) != 0 || e.plEndpointState(t, plConsumer, ep.ID) != "deleting" {
		t.Fatalf("after delete: %+v", un)
	}
	plOK(t, e.FinishEndpointDeletion(ctx, ep.ID))
	_, err = e.DescribeVpcEndpoints(ctx, plConsumer, []string{ep.ID})
	plCode(t, err, "InvalidVpcEndpointId.NotFound")
	for _, kv := range e.plDump(t) {
		if kv.Key == keyENI(eni.ID) {
			t.Error("the endpoint's interface survived")
		}
	}
	un, err = e.DeleteVpcEndpointServiceConfigurations(ctx, plProvider, []string{w.svc.ID})
	plOK(t, err)
	if len(un) != 0 {
		t.Errorf("deleting the unused service: %+v", un)
	}
}

func TestCreateVpcEndpoint(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, false)
	e.plAllow(t, w.svc.ID, "*")

	ep, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: []string{w.cons.subA.ID}, ClientToken: "tok",
		SubnetConfigurations: []SubnetConfiguration{{SubnetID: w.cons.subA.ID, IPv4: "10.0.1.200"}},
		TagSpecifications:    []TagSpecification{{ResourceType: "vpc-endpoint", Tags: []Tag{{Key: "Name", Value: "ssh"}}}},
	})
	plOK(t, err)
	if !regexp.MustCompile(`^vpce-[0-9a-f]{17}$`).MatchString(ep.ID) || !regexp.MustCompile(`^[a-z0-9]{8}$`).MatchString(ep.DNSID) {
		t.Errorf("IDs %s %s", ep.ID, ep.DNSID)
	}
	// No acceptance required: pending at once. No private DNS name: private
	// DNS off. No groups given: the VPC's default group.
	if ep.State != "pending" || ep.Type != "Interface" || ep.PrivateDNSEnabled || ep.IPAddressType != "ipv4" ||
		!slices.Equal(ep.SecurityGroupIDs, []string{w.cons.vpc.DefaultSecurityGroupID}) ||
		len(ep.Groups) != 1 || ep.Groups[0].Name != "default" || ep.RequesterManaged || len(ep.Tags) != 1 {
		t.Errorf("endpoint %+v", ep)
	}
	region := ".vpce-svc-"
	wantDNS := []DNSEntry{
		{ep.ID + "-" + ep.DNSID + "." + w.svc.ID + ".us-east-1.vpce.amazonaws.com", "Z7HUB22UULQXV"},
		{ep.ID + "-" + ep.DNSID + "-us-east-1a." + w.svc.ID + ".us-east-1.vpce.amazonaws.com", "Z7HUB22UULQXV"},
	}
	if !slices.Equal(ep.DNSEntries, wantDNS) || !strings.Contains(ep.DNSEntries[0].DNSName, region) {
		t.Errorf("DNS entries %+v", ep.DNSEntries)
	}
	var eni *NetworkInterface
	e.plPut(t, func(tx *txn) error {
		eni, _, err = get[NetworkInterface](tx, keyENI(ep.NetworkInterfaceIDs[0]))
		return err
	})
	if eni.InterfaceType != "vpc_endpoint" || eni.Description != "VPC Endpoint Interface "+ep.ID || !eni.RequesterManaged ||
		eni.PrivateIP.String() != "10.0.1.200" || !slices.Equal(eni.SecurityGroupIDs, ep.SecurityGroupIDs) || eni.ResourceID != ep.ID {
		t.Errorf("interface %+v", eni)
	}

	again, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: []string{w.cons.subA.ID}, ClientToken: "tok",
	})
	plOK(t, err)
	if again.ID != ep.ID {
		t.Errorf("client token repeat created %s", again.ID)
	}
	e.plFailsUnchanged(t, "IdempotentParameterMismatch", func() error {
		_, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
			VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName, ClientToken: "tok",
		})
		return err
	})

	// The provider may connect to its own service, too.
	own, err := e.CreateVpcEndpoint(ctx, plProvider, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.prov.vpc.ID, ServiceName: w.svc.ServiceName, SubnetIDs: []string{w.prov.subA.ID},
	})
	plOK(t, err)
	if own.State != "pending" {
		t.Errorf("own endpoint %s", own.State)
	}
}

func TestCreateVpcEndpointErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)
	e.plAllow(t, w.svc.ID, "arn:aws:iam::"+plConsumer.AccountID+":root")
	sameZone := e.plSubnet(t, plConsumer, w.cons.vpc, "10.0.3.0/24", "us-east-1a")
	otherVPC := e.plNetwork(t, plConsumer, "10.5.0.0/16")
	otherSG := e.plGroup(t, plConsumer, otherVPC.vpc, "elsewhere")
	strangerNet := e.plNetwork(t, plStranger, "10.0.0.0/16")
	busy := e.plInstance(t, plConsumer, w.cons.subA, InstanceRunning)
	svcName := w.svc.ServiceName

	ok := func(mod func(*CreateVpcEndpointInput)) CreateVpcEndpointInput {
		in := CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: svcName,
			SubnetIDs: []string{w.cons.subA.ID}, SecurityGroupIDs: []string{w.consSG.ID}}
		mod(&in)
		return in
	}
	for _, tc := range []struct {
		name   string
		caller Caller
		in     CreateVpcEndpointInput
		code   string
		msg    string
	}{
		{"type defaults to Gateway", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.VpcEndpointType = "" }),
			"InvalidParameter", "Endpoint type (Gateway) does not match available service types ([Interface])."},
		{"GatewayLoadBalancer", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.VpcEndpointType = "GatewayLoadBalancer" }),
			"InvalidParameter", "Endpoint type (GatewayLoadBalancer) does not match"},
		{"Resource", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.VpcEndpointType = "Resource" }), "UnsupportedOperation", "Resource"},
		{"ServiceNetwork", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.VpcEndpointType = "ServiceNetwork" }), "UnsupportedOperation", "ServiceNetwork"},
		{"unknown type", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.VpcEndpointType = "Tunnel" }), "InvalidVpcEndpointType", "Tunnel"},
		{"not allowed", plStranger, ok(func(in *CreateVpcEndpointInput) {
			in.VpcID, in.SubnetIDs, in.SecurityGroupIDs = strangerNet.vpc.ID, []string{strangerNet.subA.ID}, nil
		}), "InvalidServiceName", "The Vpc Endpoint Service '" + svcName + "' does not exist"},
		{"unknown service", plConsumer, ok(func(in *CreateVpcEndpointInput) {
			in.ServiceName = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
		}),
			"InvalidServiceName", "vpce-svc-0123456789abcdef0' does not exist"},
		{"no VPC", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.VpcID = "" }), "MissingParameter", "VpcId"},
		{"no service", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.ServiceName = "" }), "MissingParameter", "ServiceName"},
		{"another account's VPC", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.VpcID = w.prov.vpc.ID }), "InvalidVpcID.NotFound", w.prov.vpc.ID},
		{"unknown subnet", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.SubnetIDs = []string{"subnet-0123456789abcdef0"} }), "InvalidSubnetID.NotFound", "subnet-0123456789abcdef0"},
		{"subnet of another VPC", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.SubnetIDs = []string{otherVPC.subA.ID} }), "InvalidParameter", "does not belong"},
		{"two subnets in one zone", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.SubnetIDs = []string{w.cons.subA.ID, sameZone.ID} }),
			"DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone of " + w.cons.subA.ID},
		{"zone the service lacks", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.SubnetIDs = []string{w.cons.subB.ID} }),
			"InvalidParameter", "The VPC endpoint service " + svcName + " does not support the availability zone of the subnet: " + w.cons.subB.ID + "."},
		{"group of another VPC", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.SecurityGroupIDs = []string{otherSG.ID} }), "InvalidParameter", "does not belong"},
		{"unknown group", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.SecurityGroupIDs = []string{"sg-0123456789abcdef0"} }), "InvalidGroup.NotFound", "sg-0123456789abcdef0"},
		{"private DNS without a name", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.PrivateDNSEnabled = plBool(true) }),
			"InvalidParameter", "Private DNS can't be enabled because the service " + svcName + " does not provide a private DNS name."},
		{"route tables", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.RouteTableIDs = []string{"rtb-12345678"} }), "InvalidParameter", "Route table IDs"},
		{"dualstack", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.IPAddressType = "dualstack" }), "InvalidParameter", "dualstack"},
		{"ipv6 DNS records", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.DNSRecordIPType = "ipv6" }), "InvalidParameter", "ipv6"},
		{"resolver-only private DNS", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.PrivateDNSOnlyForInboundResolverEndpoint = plBool(true) }), "InvalidParameter", "Gateway endpoint"},
		{"policy not JSON", plConsumer, ok(func(in *CreateVpcEndpointInput) { in.PolicyDocument = "{allow all" }), "InvalidPolicyDocument", "JSON"},
		{"subnet configuration for another subnet", plConsumer, ok(func(in *CreateVpcEndpointInput) {
			in.SubnetConfigurations = []SubnetConfiguration{{SubnetID: sameZone.ID, IPv4: "10.0.3.9"}}
		}), "InvalidParameter", "does not match"},
		{"address in use", plConsumer, ok(func(in *CreateVpcEndpointInput) {
			in.SubnetConfigurations = []SubnetConfiguration{{SubnetID: w.cons.subA.ID, IPv4: busy.PrivateIP.String()}}
		}), "InvalidIPAddress.InUse", busy.PrivateIP.String()},
		{"tags for another type", plConsumer, ok(func(in *CreateVpcEndpointInput) {
			in.TagSpecifications = []TagSpecification{{ResourceType: "vpc-endpoint-service", Tags: []Tag{{Key: "a"}}}}
		}), "InvalidParameterValue", "vpc-endpoint-service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.CreateVpcEndpoint(ctx, tc.caller, tc.in)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
}

func TestCreateVpcEndpointPrivateDNS(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "svc", n.subA.ID)
	svc, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{lb.ARN}, PrivateDNSName: "api.example.com",
	})
	plOK(t, err)
	e.plAllow(t, svc.ID, "*")
	cons := e.plNetwork(t, plConsumer, "10.0.0.0/16")
	create := func(in CreateVpcEndpointInput) (VpcEndpointDescription, error) {
		in.VpcEndpointType, in.VpcID, in.ServiceName, in.SubnetIDs = "Interface", cons.vpc.ID, svc.ServiceName, []string{cons.subA.ID}
		return e.CreateVpcEndpoint(ctx, plConsumer, in)
	}

	// An unverified name: private DNS is off unless asked for, and asking fails.
	ep, err := create(CreateVpcEndpointInput{})
	plOK(t, err)
	if ep.PrivateDNSEnabled || len(ep.DNSEntries) != 2 {
		t.Errorf("endpoint of an unverified service %+v", ep)
	}
	got := e.plFailsUnchanged(t, "InvalidParameter", func() error {
		_, err := create(CreateVpcEndpointInput{PrivateDNSEnabled: plBool(true)})
		return err
	})
	if !strings.Contains(got.Message, "has not verified the private DNS name") {
		t.Errorf("message %q", got.Message)
	}
	un, err := e.DeleteVpcEndpoints(ctx, plConsumer, []string{ep.ID})
	plOK(t, err)
	if len(un) != 0 {
		t.Fatal(un)
	}
	plOK(t, e.FinishEndpointDeletion(ctx, ep.ID))

	// Verified, as a later issue will make it: private DNS is on by default,
	// and needs the VPC's DNS attributes.
	e.plPut(t, func(tx *txn) error {
		s, _, err := get[EndpointService](tx, keyEndpointService(svc.ID))
		if err != nil {
			return err
		}
		s.PrivateDNSNameState = DNSNameVerified
		return put(tx, keyEndpointService(s.ID), s)
	})
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error { _, err := create(CreateVpcEndpointInput{}); return err })
	if !strings.Contains(got.Message, "enableDnsSupport and enableDnsHostnames") {
		t.Errorf("message %q", got.Message)
	}
	off, err := create(CreateVpcEndpointInput{PrivateDNSEnabled: plBool(false)})
	plOK(t, err)
	if off.PrivateDNSEnabled {
		t.Error("private DNS on although turned off")
	}
	e.plPut(t, func(tx *txn) error {
		v, _, err := get[VPC](tx, keyVPC(cons.vpc.ID))
		if err != nil {
			return err
		}
		v.EnableDNSHostnames = true
		return put(tx, keyVPC(v.ID), v)
	})
	on, err := create(CreateVpcEndpointInput{})
	plOK(t, err)
	last := on.DNSEntries[len(on.DNSEntries)-1]
	if !on.PrivateDNSEnabled || len(on.DNSEntries) != 3 || last.DNSName != "api.example.com" || last.HostedZoneID != privateHostedZoneID(on.ID) {
		t.Errorf("endpoint with private DNS %+v", on)
	}
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error { _, err := create(CreateVpcEndpointInput{}); return err })
	if !strings.Contains(got.Message, "conflicting DNS domain for api.example.com") {
		t.Errorf("message %q", got.Message)
	}
}

func TestDescribeAndDeleteVpcEndpoints(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)
	e.plAllow(t, w.svc.ID, "*")
	a := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)
	*e.clock = e.clock.Add(time.Second)
	b := e.plEndpoint(t, plConsumer, w)

	all, err := e.DescribeVpcEndpoints(ctx, plConsumer, nil)
	plOK(t, err)
	if len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
		t.Errorf("all %+v", all)
	}
	if got, err := e.DescribeVpcEndpoints(ctx, plProvider, nil); err != nil || len(got) != 0 {
		t.Errorf("the provider sees the consumer's endpoints: %+v %v", got, err)
	}
	// An endpoint of the provider's own, in its VPC, is in its list alone.
	own, err := e.CreateVpcEndpoint(ctx, plProvider, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.prov.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: []string{w.prov.subA.ID},
	})
	plOK(t, err)
	if got, err := e.DescribeVpcEndpoints(ctx, plProvider, nil); err != nil || len(got) != 1 || got[0].ID != own.ID {
		t.Errorf("the provider's list %+v %v, want its own endpoint %s alone", got, err, own.ID)
	}
	if got, err := e.DescribeVpcEndpoints(ctx, plConsumer, nil); err != nil || len(got) != 2 {
		t.Errorf("the consumer's list %+v %v, want its 2 endpoints", got, err)
	}
	_, err = e.DescribeVpcEndpoints(ctx, plProvider, []string{a.ID})
	if got := plCode(t, err, "InvalidVpcEndpointId.NotFound"); got.Message != "The Vpc Endpoint Id '"+a.ID+"' does not exist" {
		t.Errorf("message %q", got.Message)
	}
	_, err = e.DescribeVpcEndpoints(ctx, plConsumer, []string{"vpce-xyz"})
	plCode(t, err, "InvalidVpcEndpointId.Malformed")

	un, err := e.DeleteVpcEndpoints(ctx, plConsumer, []string{a.ID, "vpce-0123456789abcdef0", "endpoint", a.ID})
	plOK(t, err)
	if len(un) != 2 || un[0].ResourceID != "vpce-0123456789abcdef0" || un[0].Code != "InvalidVpcEndpoint.NotFound" ||
		un[1].Code != "InvalidVpcEndpointId.Malformed" {
		t.Errorf("unsuccessful %+v", un)
	}
	if e.plEndpointState(t, plConsumer, a.ID) != EndpointDeleting {
		t.Error("not deleting")
	}
	un, err = e.DeleteVpcEndpoints(ctx, plConsumer, []string{a.ID})
	plOK(t, err)
	if len(un) != 0 {
		t.Errorf("deleting twice: %+v", un)
	}
	_, err = e.DeleteVpcEndpoints(ctx, plConsumer, nil)
	plCode(t, err, "MissingParameter")
}

func TestEndpointConnectionDecisions(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)
	e.plAllow(t, w.svc.ID, "*")
	ep := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)
	// An endpoint of another service of the provider.
	n2 := e.plNetwork(t, plProvider, "10.7.0.0/16")
	lb2 := e.plLB(t, plProvider, "other", n2.subA.ID)
	svc2, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lb2.ARN}})
	plOK(t, err)

	accept := func(ids ...string) []UnsuccessfulItem {
		t.Helper()
		un, err := e.AcceptVpcEndpointConnections(ctx, plProvider, w.svc.ID, ids)
		plOK(t, err)
		return un
	}
	reject := func(ids ...string) []UnsuccessfulItem {
		t.Helper()
		un, err := e.RejectVpcEndpointConnections(ctx, plProvider, w.svc.ID, ids)
		plOK(t, err)
		return un
	}
	for _, tc := range []struct {
		name      string
		from      string
		decide    func(...string) []UnsuccessfulItem
		wantState string
		wantCode  string
	}{
		{"accept pendingAcceptance", EndpointPendingAcceptance, accept, EndpointPending, ""},
		{"accept pending again", EndpointPending, accept, EndpointPending, ""},
		{"accept available", EndpointAvailable, accept, EndpointAvailable, ""},
		{"accept rejected", EndpointRejected, accept, EndpointRejected, "InvalidState"},
		{"accept deleting", EndpointDeleting, accept, EndpointDeleting, "InvalidState"},
		{"reject pendingAcceptance", EndpointPendingAcceptance, reject, EndpointRejected, ""},
		{"reject pending", EndpointPending, reject, EndpointRejected, ""},
		{"reject available", EndpointAvailable, reject, EndpointRejected, ""},
		{"reject rejected", EndpointRejected, reject, EndpointRejected, ""},
		{"reject failed", EndpointFailed, reject, EndpointFailed, "InvalidState"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.plSetEndpointState(t, ep.ID, tc.from)
			un := tc.decide(ep.ID)
			if tc.wantCode == "" && len(un) != 0 || tc.wantCode != "" && (len(un) != 1 || un[0].Code != tc.wantCode || un[0].ResourceID != ep.ID) {
				t.Errorf("unsuccessful %+v, want code %q", un, tc.wantCode)
			}
			if s := e.plEndpointState(t, plConsumer, ep.ID); s != tc.wantState {
				t.Errorf("state %s, want %s", s, tc.wantState)
			}
		})
	}

	e.plSetEndpointState(t, ep.ID, EndpointPendingAcceptance)
	un, err := e.AcceptVpcEndpointConnections(ctx, plProvider, svc2.ID, []string{ep.ID})
	plOK(t, err)
	if len(un) != 1 || un[0].Code != "InvalidVpcEndpoint.NotFound" || e.plEndpointState(t, plConsumer, ep.ID) != EndpointPendingAcceptance {
		t.Errorf("accepting through another service: %+v", un)
	}
	un = accept("vpce-0123456789abcdef0", ep.ID)
	if len(un) != 1 || un[0].ResourceID != "vpce-0123456789abcdef0" || e.plEndpointState(t, plConsumer, ep.ID) != EndpointPending {
		t.Errorf("partial accept: %+v", un)
	}
	_, err = e.RejectVpcEndpointConnections(ctx, plProvider, w.svc.ID, nil)
	plCode(t, err, "MissingParameter")
	_, err = e.RejectVpcEndpointConnections(ctx, plStranger, w.svc.ID, []string{ep.ID})
	plCode(t, err, "InvalidVpcEndpointServiceId.NotFound")
}

// TestConnectionsAcrossServices lists a provider's connections to two of
// its services in creation order, and keeps each service's endpoints to
// itself when a load balancer is removed or a service deleted.
func TestConnectionsAcrossServices(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)
	e.plAllow(t, w.svc.ID, "*")
	lb2 := e.plLB(t, plProvider, "svc2", w.prov.subA.ID)
	lb3 := e.plLB(t, plProvider, "svc3", w.prov.subA.ID)
	svc2, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{lb2.ARN, lb3.ARN}, AcceptanceRequired: true,
	})
	plOK(t, err)
	e.plAllow(t, svc2.ID, "*")
	create := func(svc ServiceConfiguration) VpcEndpointDescription {
		t.Helper()
		*e.clock = e.clock.Add(time.Second)
		ep, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
			VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: svc.ServiceName,
			SubnetIDs: []string{w.cons.subA.ID},
		})
		plOK(t, err)
		return ep
	}
	// The first service's endpoints have IDs on both sides of the
	// second's, and creation order mixes the services.
	a, b, c := create(w.svc), create(svc2), create(w.svc)
	conns, err := e.DescribeVpcEndpointConnections(ctx, plProvider)
	plOK(t, err)
	var got []string
	for _, cn := range conns {
		got = append(got, cn.VpcEndpointID+"@"+cn.ServiceID)
	}
	if want := []string{a.ID + "@" + w.svc.ID, b.ID + "@" + svc2.ID, c.ID + "@" + w.svc.ID}; !slices.Equal(got, want) {
		t.Errorf("connections %v, want %v", got, want)
	}

	// With the second service's endpoint rejected, only the first
	// service's connections hold it back.
	_, err = e.RejectVpcEndpointConnections(ctx, plProvider, svc2.ID, []string{b.ID})
	plOK(t, err)
	err = e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, ModifyVpcEndpointServiceConfigurationInput{
		ServiceID: svc2.ID, RemoveNetworkLoadBalancerARNs: []string{lb3.ARN},
	})
	plOK(t, err)
	err = e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, ModifyVpcEndpointServiceConfigurationInput{
		ServiceID: w.svc.ID, AddNetworkLoadBalancerARNs: []string{lb3.ARN},
	})
	plOK(t, err)
	err = e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, ModifyVpcEndpointServiceConfigurationInput{
		ServiceID: w.svc.ID, RemoveNetworkLoadBalancerARNs: []string{lb3.ARN},
	})
	plCode(t, err, "ExistingVpcEndpointConnections")
	un, err := e.DeleteVpcEndpointServiceConfigurations(ctx, plProvider, []string{svc2.ID, w.svc.ID})
	plOK(t, err)
	if len(un) != 1 || un[0].ResourceID != w.svc.ID || un[0].Code != "ExistingVpcEndpointConnections" {
		t.Errorf("deleting both services: %+v, want only %s refused", un, w.svc.ID)
	}
	conns, err = e.DescribeVpcEndpointConnections(ctx, plProvider)
	plOK(t, err)
	if len(conns) != 2 || conns[0].VpcEndpointID != a.ID || conns[1].VpcEndpointID != c.ID {
		t.Errorf("after deleting the second service, connections %+v", conns)
	}
}

// TestEndpointHoldsItsGroupsAndSubnets: as on AWS, an endpoint's
// interfaces keep its security groups and subnets from being deleted, also
// after a group is swapped, until the endpoint is gone.
func TestEndpointHoldsItsGroupsAndSubnets(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, false)
	e.plAllow(t, w.svc.ID, "arn:aws:iam::"+plConsumer.AccountID+":root")
	ep := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)
	other := e.plGroup(t, plConsumer, w.cons.vpc, "other")

	inUse := func(what string, err error) {
		t.Helper()
		if e, ok := AsError(err); !ok || e.Code != "DependencyViolation" {
			t.Errorf("%s: %v, want DependencyViolation", what, err)
		}
	}
	inUse("the endpoint's group", e.DeleteSecurityGroup(ctx, plConsumer, DeleteSecurityGroupInput{GroupID: w.consSG.ID}))
	inUse("the endpoint's subnet", e.DeleteSubnet(ctx, plConsumer, DeleteSubnetInput{SubnetID: w.cons.subA.ID}))

	// Swapping the endpoint's group frees the old one and holds the new.
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID,
		AddSecurityGroupIDs: []string{other.ID}, RemoveSecurityGroupIDs: []string{w.consSG.ID}}))
	inUse("the endpoint's new group", e.DeleteSecurityGroup(ctx, plConsumer, DeleteSecurityGroupInput{GroupID: other.ID}))
	plOK(t, e.DeleteSecurityGroup(ctx, plConsumer, DeleteSecurityGroupInput{GroupID: w.consSG.ID}))

	// Deleting holds them until the endpoint is gone.
	_, err := e.DeleteVpcEndpoints(ctx, plConsumer, []string{ep.ID})
	plOK(t, err)
	inUse("a deleting endpoint's group", e.DeleteSecurityGroup(ctx, plConsumer, DeleteSecurityGroupInput{GroupID: other.ID}))
	plOK(t, e.FinishEndpointDeletion(ctx, ep.ID))
	plOK(t, e.DeleteSecurityGroup(ctx, plConsumer, DeleteSecurityGroupInput{GroupID: other.ID}))
	plOK(t, e.DeleteSubnet(ctx, plConsumer, DeleteSubnetInput{SubnetID: w.cons.subA.ID}))
}
