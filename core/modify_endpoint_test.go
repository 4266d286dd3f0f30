package core

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// modWorld is a service whose load balancer covers us-east-1a and
// us-east-1b, open to everyone, and a consumer VPC with subnets in 1a, 1b,
// a second one in 1a and one in 1c, with two security groups.
type modWorld struct {
	prov             plNet
	svc              ServiceConfiguration
	cons             plNet
	sameZone, zoneC  *Subnet
	sg1, sg2         *SecurityGroup
	otherNet         plNet
	otherSG          *SecurityGroup
	privateDNSDomain string
}

func (e *plEnv) modWorld(t *testing.T, privateDNSName string) *modWorld {
	t.Helper()
	ctx := context.Background()
	w := &modWorld{prov: e.plNetwork(t, plProvider, "10.0.0.0/16"), privateDNSDomain: privateDNSName}
	lb := e.plLB(t, plProvider, "svc", w.prov.subA.ID, w.prov.subB.ID)
	svc, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{lb.ARN}, PrivateDNSName: privateDNSName,
	})
	plOK(t, err)
	w.svc = svc
	e.plAllow(t, svc.ID, "*")
	w.cons = e.plNetwork(t, plConsumer, "10.0.0.0/16")
	w.sameZone = e.plSubnet(t, plConsumer, w.cons.vpc, "10.0.4.0/24", "us-east-1a")
	w.zoneC = e.plSubnet(t, plConsumer, w.cons.vpc, "10.0.3.0/24", "us-east-1c")
	w.sg1 = e.plGroup(t, plConsumer, w.cons.vpc, "endpoint-1")
	w.sg2 = e.plGroup(t, plConsumer, w.cons.vpc, "endpoint-2")
	w.otherNet = e.plNetwork(t, plConsumer, "10.5.0.0/16")
	w.otherSG = e.plGroup(t, plConsumer, w.otherNet.vpc, "elsewhere")
	return w
}

// modEndpoint creates the consumer's endpoint in the subnets with sg1.
func (e *plEnv) modEndpoint(t *testing.T, w *modWorld, privateDNS bool, subnets ...string) VpcEndpointDescription {
	t.Helper()
	ep, err := e.CreateVpcEndpoint(context.Background(), plConsumer, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: subnets, SecurityGroupIDs: []string{w.sg1.ID}, PrivateDNSEnabled: &privateDNS,
	})
	plOK(t, err)
	return ep
}

func (e *plEnv) modDescribe(t *testing.T, id string) VpcEndpointDescription {
	t.Helper()
	got, err := e.DescribeVpcEndpoints(context.Background(), plConsumer, []string{id})
	plOK(t, err)
	return got[0]
}

// modENIs reads the endpoint's interfaces, in the endpoint's order.
func (e *plEnv) modENIs(t *testing.T, ep VpcEndpointDescription) []*NetworkInterface {
	t.Helper()
	var out []*NetworkInterface
	e.plPut(t, func(tx *txn) error {
		out = nil
		for _, id := range ep.NetworkInterfaceIDs {
			eni, ok, err := get[NetworkInterface](tx, keyENI(id))
			if err != nil {
				return err
			}
			if !ok {
				t.Errorf("interface %s of %s is not stored", id, ep.ID)
				continue
			}
			out = append(out, eni)
		}
		return nil
	})
	return out
}

func (e *plEnv) modENIExists(t *testing.T, id string) bool {
	t.Helper()
	var found bool
	e.plPut(t, func(tx *txn) error {
		_, ok, err := get[NetworkInterface](tx, keyENI(id))
		found = ok
		return err
	})
	return found
}

func TestModifyVpcEndpointSubnets(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.modWorld(t, "")
	ep := e.modEndpoint(t, w, false, w.cons.subA.ID)
	plOK(t, e.SetEndpointAvailable(ctx, ep.ID))
	firstENI := ep.NetworkInterfaceIDs[0]

	// Adding a subnet in another zone the service covers makes an
	// interface there, at the address asked for, with the endpoint's
	// groups; the endpoint is pending until the reconciler realises it.
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{
		VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subB.ID},
		SubnetConfigurations: []SubnetConfiguration{{SubnetID: w.cons.subB.ID, IPv4: "10.0.2.50"}},
	}))
	got := e.modDescribe(t, ep.ID)
	if got.State != EndpointPending || !slices.Equal(got.SubnetIDs, []string{w.cons.subA.ID, w.cons.subB.ID}) ||
		len(got.NetworkInterfaceIDs) != 2 || got.NetworkInterfaceIDs[0] != firstENI {
		t.Fatalf("after adding a subnet: %+v", got.VpcEndpoint)
	}
	enis := e.modENIs(t, got)
	added := enis[1]
	if added.SubnetID != w.cons.subB.ID || added.AvailabilityZone != "us-east-1b" || added.PrivateIP.String() != "10.0.2.50" ||
		added.InterfaceType != InterfaceTypeVpcEndpoint || !added.RequesterManaged || added.ResourceID != ep.ID ||
		added.OwnerID != plConsumer.AccountID || !slices.Equal(added.SecurityGroupIDs, []string{w.sg1.ID}) {
		t.Errorf("new interface %+v", added)
	}
	var zonal []string
	for _, d := range got.DNSEntries {
		zonal = append(zonal, d.DNSName)
	}
	if len(got.DNSEntries) != 3 || !strings.Contains(zonal[1], "-us-east-1a.") || !strings.Contains(zonal[2], "-us-east-1b.") {
		t.Errorf("DNS entries %v", zonal)
	}
	plOK(t, e.SetEndpointAvailable(ctx, ep.ID))

	// Removing a subnet deletes its interface.
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, RemoveSubnetIDs: []string{w.cons.subA.ID}}))
	got = e.modDescribe(t, ep.ID)
	if got.State != EndpointPending || !slices.Equal(got.SubnetIDs, []string{w.cons.subB.ID}) ||
		!slices.Equal(got.NetworkInterfaceIDs, []string{added.ID}) || len(got.DNSEntries) != 2 {
		t.Fatalf("after removing a subnet: %+v", got.VpcEndpoint)
	}
	if e.modENIExists(t, firstENI) {
		t.Errorf("the removed subnet's interface %s is still stored", firstENI)
	}

	// One request may free a zone and take it again with another subnet.
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subA.ID}}))
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{
		VpcEndpointID: ep.ID, RemoveSubnetIDs: []string{w.cons.subA.ID, w.cons.subB.ID}, AddSubnetIDs: []string{w.sameZone.ID},
	}))
	got = e.modDescribe(t, ep.ID)
	if !slices.Equal(got.SubnetIDs, []string{w.sameZone.ID}) || len(got.NetworkInterfaceIDs) != 1 ||
		e.modENIs(t, got)[0].AvailabilityZone != "us-east-1a" {
		t.Fatalf("after swapping the 1a subnet: %+v", got.VpcEndpoint)
	}

	// Removing every subnet leaves an endpoint without interfaces, as one
	// created without subnets is.
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, RemoveSubnetIDs: []string{w.sameZone.ID}}))
	got = e.modDescribe(t, ep.ID)
	if got.SubnetIDs == nil || len(got.SubnetIDs) != 0 || len(got.NetworkInterfaceIDs) != 0 || len(got.DNSEntries) != 1 {
		t.Errorf("endpoint without subnets %+v", got.VpcEndpoint)
	}

	// A pendingAcceptance endpoint stays so: only the provider moves it on.
	e.plSetEndpointState(t, ep.ID, EndpointPendingAcceptance)
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subA.ID}}))
	if s := e.plEndpointState(t, plConsumer, ep.ID); s != EndpointPendingAcceptance {
		t.Errorf("state %s after modifying a pendingAcceptance endpoint", s)
	}
}

func TestModifyVpcEndpointSecurityGroups(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.modWorld(t, "")
	ep := e.modEndpoint(t, w, false, w.cons.subA.ID, w.cons.subB.ID)
	plOK(t, e.SetEndpointAvailable(ctx, ep.ID))

	groupsOf := func() []string {
		t.Helper()
		got := e.modDescribe(t, ep.ID)
		for _, eni := range e.modENIs(t, got) {
			if !slices.Equal(eni.SecurityGroupIDs, got.SecurityGroupIDs) {
				t.Errorf("interface %s has groups %v, the endpoint %v", eni.ID, eni.SecurityGroupIDs, got.SecurityGroupIDs)
			}
		}
		if got.State != EndpointAvailable {
			t.Errorf("changing groups made the endpoint %s", got.State)
		}
		var names []string
		for _, g := range got.Groups {
			names = append(names, g.Name)
		}
		if len(names) != len(got.SecurityGroupIDs) {
			t.Errorf("groups %+v for %v", got.Groups, got.SecurityGroupIDs)
		}
		return got.SecurityGroupIDs
	}
	for _, step := range []struct {
		name        string
		add, remove []string
		want        []string
	}{
		{"add", []string{w.sg2.ID}, nil, []string{w.sg1.ID, w.sg2.ID}},
		{"add one it has", []string{w.sg2.ID}, nil, []string{w.sg1.ID, w.sg2.ID}},
		{"remove", nil, []string{w.sg1.ID}, []string{w.sg2.ID}},
		{"swap", []string{w.sg1.ID}, []string{w.sg2.ID}, []string{w.sg1.ID}},
		{"default group", []string{w.cons.vpc.DefaultSecurityGroupID}, nil, []string{w.sg1.ID, w.cons.vpc.DefaultSecurityGroupID}},
	} {
		t.Run(step.name, func(t *testing.T) {
			plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{
				VpcEndpointID: ep.ID, AddSecurityGroupIDs: step.add, RemoveSecurityGroupIDs: step.remove,
			}))
			if got := groupsOf(); !slices.Equal(got, step.want) {
				t.Errorf("groups %v, want %v", got, step.want)
			}
		})
	}

	// An interface added later carries the groups of the moment.
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{
		VpcEndpointID: ep.ID, RemoveSubnetIDs: []string{w.cons.subB.ID}, RemoveSecurityGroupIDs: []string{w.sg1.ID},
	}))
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subB.ID}}))
	plOK(t, e.SetEndpointAvailable(ctx, ep.ID))
	if got := groupsOf(); !slices.Equal(got, []string{w.cons.vpc.DefaultSecurityGroupID}) {
		t.Errorf("groups %v", got)
	}
}

func TestModifyVpcEndpointPolicy(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.modWorld(t, "")
	ep := e.modEndpoint(t, w, false, w.cons.subA.ID)
	const policy = `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, PolicyDocument: policy}))
	if got := e.modDescribe(t, ep.ID); got.PolicyDocument != policy || got.State != EndpointPending {
		t.Errorf("after setting the policy: %q, %s", got.PolicyDocument, got.State)
	}
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, ResetPolicy: true}))
	if got := e.modDescribe(t, ep.ID); got.PolicyDocument != "" {
		t.Errorf("after resetting the policy: %q", got.PolicyDocument)
	}
}

func TestModifyVpcEndpointPrivateDNS(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.modWorld(t, "api.example.com")
	ep := e.modEndpoint(t, w, false, w.cons.subA.ID)
	enable := func(id string, on bool) error {
		return e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: id, PrivateDNSEnabled: &on})
	}

	got := e.plFailsUnchanged(t, "InvalidParameter", func() error { return enable(ep.ID, true) })
	if !strings.Contains(got.Message, "has not verified the private DNS name") {
		t.Errorf("unverified: %q", got.Message)
	}
	e.plPut(t, func(tx *txn) error {
		s, _, err := get[EndpointService](tx, keyEndpointService(w.svc.ID))
		if err != nil {
			return err
		}
		s.PrivateDNSNameState = DNSNameVerified
		return put(tx, keyEndpointService(s.ID), s)
	})
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error { return enable(ep.ID, true) })
	if !strings.Contains(got.Message, "enableDnsSupport and enableDnsHostnames") {
		t.Errorf("without DNS hostnames: %q", got.Message)
	}
	plOK(t, e.ModifyVpcAttribute(ctx, plConsumer, ModifyVpcAttributeInput{VpcID: w.cons.vpc.ID, EnableDNSHostnames: plBool(true)}))
	plOK(t, enable(ep.ID, true))
	d := e.modDescribe(t, ep.ID)
	if last := d.DNSEntries[len(d.DNSEntries)-1]; !d.PrivateDNSEnabled || last.DNSName != "api.example.com" {
		t.Errorf("with private DNS: %+v", d)
	}
	plOK(t, enable(ep.ID, true)) // already on: nothing to check

	// A second endpoint to the service in the VPC may not claim the name.
	other := e.modEndpoint(t, w, false, w.cons.subB.ID)
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error { return enable(other.ID, true) })
	if !strings.Contains(got.Message, "conflicting DNS domain for api.example.com in the VPC "+w.cons.vpc.ID) {
		t.Errorf("conflict: %q", got.Message)
	}
	plOK(t, enable(ep.ID, false))
	if d := e.modDescribe(t, ep.ID); d.PrivateDNSEnabled || len(d.DNSEntries) != 2 {
		t.Errorf("after disabling: %+v", d)
	}
	plOK(t, enable(other.ID, true))
}

func TestModifyVpcEndpointErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.modWorld(t, "")
	ep := e.modEndpoint(t, w, false, w.cons.subA.ID)
	busy := e.plInstance(t, plConsumer, w.cons.subB, InstanceRunning)
	many := []string{w.sg2.ID, w.cons.vpc.DefaultSecurityGroupID}
	for i := range 3 {
		many = append(many, e.plGroup(t, plConsumer, w.cons.vpc, "extra-"+string(rune('a'+i))).ID)
	}
	for _, tc := range []struct {
		name   string
		caller Caller
		in     ModifyVpcEndpointInput
		code   string
		msg    string
	}{
		{"no ID", plConsumer, ModifyVpcEndpointInput{}, "MissingParameter", "VpcEndpointId"},
		{"malformed ID", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: "vpce-xyz"}, "InvalidVpcEndpointId.Malformed", "vpce-xyz"},
		{"unknown endpoint", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: "vpce-0123456789abcdef0"},
			"InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist"},
		{"the provider", plProvider, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subB.ID}},
			"InvalidVpcEndpointId.NotFound", ep.ID},
		{"second subnet in a zone", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.sameZone.ID}},
			"DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone of " + w.cons.subA.ID},
		{"subnet added and removed", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, RemoveSubnetIDs: []string{w.cons.subA.ID},
			AddSubnetIDs: []string{w.cons.subA.ID}}, "InvalidParameter", "both added to and removed"},
		{"zone the service lacks", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.zoneC.ID}},
			"InvalidParameter", "The VPC endpoint service " + w.svc.ServiceName + " does not support the availability zone of the subnet: " + w.zoneC.ID + "."},
		{"subnet of another VPC", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.otherNet.subB.ID}},
			"InvalidParameter", "does not belong to VPC"},
		{"unknown subnet", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{"subnet-0123456789abcdef0"}},
			"InvalidSubnetID.NotFound", "subnet-0123456789abcdef0"},
		{"subnet it has", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subA.ID}},
			"InvalidParameter", "already associated"},
		{"removing a subnet it lacks", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, RemoveSubnetIDs: []string{w.cons.subB.ID}},
			"InvalidParameter", "is not associated"},
		{"removing a malformed subnet", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, RemoveSubnetIDs: []string{"subnet-x"}},
			"InvalidSubnetID.Malformed", "subnet-x"},
		{"address in use", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subB.ID},
			SubnetConfigurations: []SubnetConfiguration{{SubnetID: w.cons.subB.ID, IPv4: busy.PrivateIP.String()}}},
			"InvalidIPAddress.InUse", busy.PrivateIP.String()},
		{"address outside the subnet", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subB.ID},
			SubnetConfigurations: []SubnetConfiguration{{SubnetID: w.cons.subB.ID, IPv4: "10.0.9.9"}}},
			"InvalidParameterValue", "10.0.9.9"},
		{"configuration for a subnet not added", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID,
			SubnetConfigurations: []SubnetConfiguration{{SubnetID: w.cons.subA.ID, IPv4: "10.0.1.99"}}},
			"InvalidParameter", "does not match any of the subnet IDs"},
		{"IPv6 address", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subB.ID},
			SubnetConfigurations: []SubnetConfiguration{{SubnetID: w.cons.subB.ID, IPv6: "fd00::5"}}}, "InvalidParameter", "IPv4 only"},
		{"unknown group", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSecurityGroupIDs: []string{"sg-0123456789abcdef0"}},
			"InvalidGroup.NotFound", "sg-0123456789abcdef0"},
		{"group of another VPC", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSecurityGroupIDs: []string{w.otherSG.ID}},
			"InvalidParameter", "does not belong to VPC"},
		{"removing a group it lacks", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, RemoveSecurityGroupIDs: []string{w.sg2.ID}},
			"InvalidParameter", "is not associated"},
		{"removing the last group", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, RemoveSecurityGroupIDs: []string{w.sg1.ID}},
			"InvalidParameter", "at least one security group"},
		{"six groups", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSecurityGroupIDs: many},
			"SecurityGroupsPerInterfaceLimitExceeded", "maximum number of security groups"},
		{"group added and removed", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID,
			AddSecurityGroupIDs: []string{w.sg2.ID}, RemoveSecurityGroupIDs: []string{w.sg2.ID}}, "InvalidParameter", "both added to and removed"},
		{"private DNS without a name", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, PrivateDNSEnabled: plBool(true)},
			"InvalidParameter", "does not provide a private DNS name"},
		{"policy not JSON", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, PolicyDocument: "{allow"}, "InvalidPolicyDocument", "JSON"},
		{"policy and reset", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, PolicyDocument: "{}", ResetPolicy: true},
			"InvalidParameterCombination", "ResetPolicy"},
		{"route tables", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddRouteTableIDs: []string{"rtb-12345678"}},
			"InvalidParameter", "Route table IDs"},
		{"dualstack", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, IPAddressType: "dualstack"}, "InvalidParameter", "dualstack"},
		{"unknown address type", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, IPAddressType: "ipv5"}, "InvalidParameterValue", "ipv5"},
		{"ipv6 DNS records", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, DNSRecordIPType: "ipv6"}, "InvalidParameter", "ipv6"},
		{"resolver-only private DNS", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, PrivateDNSOnlyForInboundResolverEndpoint: plBool(true)},
			"InvalidParameter", "Gateway endpoint"},
		// A valid change with a bad one is not half applied: the new
		// subnet gets no interface.
		{"valid subnet, bad group", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSubnetIDs: []string{w.cons.subB.ID},
			RemoveSecurityGroupIDs: []string{w.sg2.ID}}, "InvalidParameter", "is not associated"},
		{"valid group, bad private DNS", plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSecurityGroupIDs: []string{w.sg2.ID},
			RemoveSubnetIDs: []string{w.cons.subA.ID}, PrivateDNSEnabled: plBool(true)}, "InvalidParameter", "private DNS name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error { return e.ModifyVpcEndpoint(ctx, tc.caller, tc.in) })
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}

	for _, state := range []string{EndpointRejected, EndpointDeleting, EndpointFailed, EndpointExpired} {
		t.Run("state "+state, func(t *testing.T) {
			e.plSetEndpointState(t, ep.ID, state)
			got := e.plFailsUnchanged(t, "IncorrectState", func() error {
				return e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: ep.ID, AddSecurityGroupIDs: []string{w.sg2.ID}})
			})
			if want := "is in state " + state; !strings.Contains(got.Message, want) {
				t.Errorf("message %q lacks %q", got.Message, want)
			}
		})
	}
}
