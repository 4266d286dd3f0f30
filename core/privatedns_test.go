package core

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// pdnsZone creates a hosted zone of the owner's: public, or private to vpc.
func (e *plEnv) pdnsZone(t *testing.T, owner Caller, name string, vpc *VPC) HostedZone {
	t.Helper()
	in := CreateHostedZoneInput{Name: name, CallerReference: "ref-" + e.ids.hex(8)}
	if vpc != nil {
		in.PrivateZone, in.VPC = true, &ZoneVPC{VpcID: vpc.ID}
	}
	z, _, err := e.CreateHostedZone(context.Background(), owner, in)
	plOK(t, err)
	return z
}

// pdnsTXT creates a TXT record set in the zone.
func (e *plEnv) pdnsTXT(t *testing.T, owner Caller, zoneID, name string, values ...string) {
	t.Helper()
	ttl := int64(1800)
	_, err := e.ChangeResourceRecordSets(context.Background(), owner, ChangeResourceRecordSetsInput{
		HostedZoneID: zoneID,
		Changes:      []RecordSetChange{{Action: "UPSERT", Set: RecordSetInput{Name: name, Type: "TXT", TTL: &ttl, Records: values}}},
	})
	plOK(t, err)
}

// pdnsService offers a new load balancer in the provider network as a
// service with the private DNS name.
func (e *plEnv) pdnsService(t *testing.T, n plNet, lbName, privateDNSName string) ServiceConfiguration {
	t.Helper()
	lb := e.plLB(t, plProvider, lbName, n.subA.ID, n.subB.ID)
	svc, err := e.CreateVpcEndpointServiceConfiguration(context.Background(), plProvider, CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{lb.ARN}, PrivateDNSName: privateDNSName,
	})
	plOK(t, err)
	e.plAllow(t, svc.ID, "*")
	return svc
}

// pdnsState reads a service's verification state as its owner and as a
// consumer see it, failing when the two differ.
func (e *plEnv) pdnsState(t *testing.T, svc ServiceConfiguration) string {
	t.Helper()
	ctx := context.Background()
	own, err := e.DescribeVpcEndpointServiceConfigurations(ctx, plProvider, []string{svc.ID})
	plOK(t, err)
	seen, err := e.DescribeVpcEndpointServices(ctx, plConsumer, []string{svc.ServiceName})
	plOK(t, err)
	state := ""
	if c := own[0].PrivateDNSNameConfiguration; c != nil {
		state = c.State
	}
	if seen[0].PrivateDNSNameVerificationState != state {
		t.Errorf("owner reads %q, consumer reads %q", state, seen[0].PrivateDNSNameVerificationState)
	}
	return state
}

func TestVerificationDomains(t *testing.T) {
	for name, want := range map[string][]string{
		"api.example.com":    {"api.example.com", "example.com"},
		"a.b.example.co.uk.": {"a.b.example.co.uk", "b.example.co.uk", "example.co.uk", "co.uk"},
		"*.wild.example.com": {"wild.example.com", "example.com"},
		"Service.Internal":   {"service.internal"},
		"*.example.com":      {"example.com"},
	} {
		if got := verificationDomains(name); !slices.Equal(got, want) {
			t.Errorf("verificationDomains(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestPrivateDNSVerificationRecordForm(t *testing.T) {
	e := plNew(t)
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	svc := e.pdnsService(t, n, "svc", "API.Example.com.")
	c := svc.PrivateDNSNameConfiguration
	if svc.PrivateDNSName != "api.example.com" || c == nil || c.State != "pendingVerification" || c.Type != "TXT" {
		t.Fatalf("service %q %+v", svc.PrivateDNSName, c)
	}
	if !regexp.MustCompile(`^_[a-z0-9]{20}$`).MatchString(c.Name) || !regexp.MustCompile(`^vpce:[A-Za-z0-9]{20}$`).MatchString(c.Value) {
		t.Errorf("TXT record %q = %q is not in AWS's form", c.Name, c.Value)
	}
	d, err := e.DescribeVpcEndpointServices(context.Background(), plConsumer, []string{svc.ServiceName})
	plOK(t, err)
	if d[0].PrivateDNSName != "api.example.com" || !slices.Equal(d[0].PrivateDNSNames, []string{"api.example.com"}) ||
		d[0].PrivateDNSNameVerificationState != "pendingVerification" {
		t.Errorf("consumer's view %+v", d[0])
	}
}

func TestStartVpcEndpointServicePrivateDnsVerification(t *testing.T) {
	// Each case publishes records for a service named api.example.com
	// (vname and value are its TXT record's name and value) and expects
	// the state the check leaves.
	type rec struct {
		owner  Caller
		zone   string // the zone's name; "private:" makes it private to the provider's VPC
		name   string
		values []string
	}
	for _, tc := range []struct {
		name    string
		private string
		records func(vname, value string) []rec
		want    string
	}{
		{"no zone at all", "api.example.com", func(string, string) []rec { return nil }, "failed"},
		{"zone without the record", "api.example.com", func(string, string) []rec {
			return []rec{{plProvider, "example.com", "other.example.com", []string{`"x"`}}}
		}, "failed"},
		{"record at <name>.<domain of the name>", "api.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "example.com", vname + ".example.com", []string{`"` + value + `"`}}}
		}, "verified"},
		{"record at <name>.<the name itself>", "api.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "example.com", vname + ".api.example.com", []string{`"` + value + `"`}}}
		}, "verified"},
		{"record at the domain itself", "api.example.com", func(_, value string) []rec {
			return []rec{{plProvider, "example.com", "example.com", []string{`"v=spf1 -all"`, `"` + value + `"`}}}
		}, "verified"},
		{"record in a zone of the name", "api.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "api.example.com", vname + ".api.example.com", []string{`"` + value + `"`}}}
		}, "verified"},
		{"value split into strings", "api.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "example.com", vname + ".example.com", []string{`"` + value[:7] + `" "` + value[7:] + `"`}}}
		}, "verified"},
		{"wildcard name proven by its domain", "*.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "example.com", vname + ".example.com", []string{`"` + value + `"`}}}
		}, "verified"},
		{"value in lower case", "api.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "example.com", vname + ".example.com", []string{`"` + strings.ToLower(value) + `"`}}}
		}, "failed"},
		{"another service's value", "api.example.com", func(vname, _ string) []rec {
			return []rec{{plProvider, "example.com", vname + ".example.com", []string{`"vpce:l6p0ERxlTt45jevFwOCp"`}}}
		}, "failed"},
		{"record under a subdomain of the name", "api.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "example.com", vname + ".v1.api.example.com", []string{`"` + value + `"`}}}
		}, "failed"},
		{"record in a private zone", "api.example.com", func(vname, value string) []rec {
			return []rec{{plProvider, "private:example.com", vname + ".example.com", []string{`"` + value + `"`}}}
		}, "failed"},
		{"record in another account's public zone", "api.example.com", func(vname, value string) []rec {
			return []rec{{plStranger, "example.com", vname + ".example.com", []string{`"` + value + `"`}}}
		}, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := plNew(t)
			ctx := context.Background()
			n := e.plNetwork(t, plProvider, "10.0.0.0/16")
			svc := e.pdnsService(t, n, "svc", tc.private)
			c := svc.PrivateDNSNameConfiguration
			for _, r := range tc.records(c.Name, c.Value) {
				var vpc *VPC
				zone, private := strings.CutPrefix(r.zone, "private:")
				if private {
					vpc = n.vpc
				}
				z := e.pdnsZone(t, r.owner, zone, vpc)
				e.pdnsTXT(t, r.owner, z.ID, r.name, r.values...)
			}
			plOK(t, e.StartVpcEndpointServicePrivateDnsVerification(ctx, plProvider, svc.ID))
			if got := e.pdnsState(t, svc); got != tc.want {
				t.Errorf("state %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPrivateDNSVerificationLifecycle follows one service through failed,
// verified, a new name (its proof for the parent domain still holds), a
// proof taken away and the name removed.
func TestPrivateDNSVerificationLifecycle(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	svc := e.pdnsService(t, n, "svc", "a.example.com")
	c := svc.PrivateDNSNameConfiguration
	verify := func() string {
		t.Helper()
		plOK(t, e.StartVpcEndpointServicePrivateDnsVerification(ctx, plProvider, svc.ID))
		return e.pdnsState(t, svc)
	}
	zone := e.pdnsZone(t, plProvider, "example.com", nil)
	if got := verify(); got != "failed" {
		t.Fatalf("without a record: %s", got)
	}
	e.pdnsTXT(t, plProvider, zone.ID, c.Name+".example.com", `"`+c.Value+`"`)
	if got := verify(); got != "verified" {
		t.Fatalf("with the record: %s", got)
	}
	plOK(t, e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: svc.ID, PrivateDNSName: "b.example.com"}))
	got, err := e.DescribeVpcEndpointServiceConfigurations(ctx, plProvider, []string{svc.ID})
	plOK(t, err)
	if g := got[0]; g.PrivateDNSName != "b.example.com" || *g.PrivateDNSNameConfiguration != (PrivateDNSNameConfiguration{
		State: "pendingVerification", Type: "TXT", Name: c.Name, Value: c.Value}) {
		t.Errorf("after a new name: %q %+v", g.PrivateDNSName, g.PrivateDNSNameConfiguration)
	}
	if got := verify(); got != "verified" {
		t.Errorf("new name under the proven domain: %s", got)
	}
	ttl := int64(1800)
	_, err = e.ChangeResourceRecordSets(ctx, plProvider, ChangeResourceRecordSetsInput{HostedZoneID: zone.ID, Changes: []RecordSetChange{
		{Action: "DELETE", Set: RecordSetInput{Name: c.Name + ".example.com", Type: "TXT", TTL: &ttl, Records: []string{`"` + c.Value + `"`}}},
	}})
	plOK(t, err)
	if got := verify(); got != "failed" {
		t.Errorf("after the record is gone: %s", got)
	}
	plOK(t, e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: svc.ID, RemovePrivateDNSName: true}))
	got, err = e.DescribeVpcEndpointServiceConfigurations(ctx, plProvider, []string{svc.ID})
	plOK(t, err)
	if got[0].PrivateDNSName != "" || got[0].PrivateDNSNameConfiguration != nil || e.pdnsState(t, svc) != "" {
		t.Errorf("after removing the name: %+v", got[0])
	}
	e.plFailsUnchanged(t, "InvalidParameter", func() error {
		return e.StartVpcEndpointServicePrivateDnsVerification(ctx, plProvider, svc.ID)
	})
}

func TestStartVpcEndpointServicePrivateDnsVerificationErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	named := e.pdnsService(t, n, "named", "api.example.com")
	unnamed := e.pdnsService(t, n, "unnamed", "")
	for _, tc := range []struct {
		name   string
		caller Caller
		id     string
		code   string
		msg    string
	}{
		{"no ID", plProvider, "", "MissingParameter", "ServiceId"},
		{"unknown service", plProvider, "vpce-svc-0123456789abcdef0", "InvalidVpcEndpointServiceId.NotFound", "vpce-svc-0123456789abcdef0"},
		{"malformed ID", plProvider, "svc-1", "InvalidVpcEndpointServiceId.NotFound", "svc-1"},
		{"another account's service", plConsumer, named.ID, "InvalidVpcEndpointServiceId.NotFound", named.ID},
		{"no private DNS name", plProvider, unnamed.ID, "InvalidParameter", "does not have a private DNS name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error { return e.StartVpcEndpointServicePrivateDnsVerification(ctx, tc.caller, tc.id) })
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
}

func TestModifyVpcEndpointServiceConfiguration(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	zoneC := e.plSubnet(t, plProvider, n.vpc, "10.0.3.0/24", "us-east-1c")
	lbA := e.plLB(t, plProvider, "in-a", n.subA.ID)
	lbC := e.plLB(t, plProvider, "in-c", zoneC.ID)
	svc, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lbA.ARN}})
	plOK(t, err)
	modify := func(in ModifyVpcEndpointServiceConfigurationInput) ServiceConfiguration {
		t.Helper()
		in.ServiceID = svc.ID
		plOK(t, e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, in))
		got, err := e.DescribeVpcEndpointServiceConfigurations(ctx, plProvider, []string{svc.ID})
		plOK(t, err)
		return got[0]
	}

	got := modify(ModifyVpcEndpointServiceConfigurationInput{AcceptanceRequired: plBool(true), PrivateDNSName: "Svc.Example.com",
		AddNetworkLoadBalancerARNs: []string{lbC.ARN, lbA.ARN}, AddSupportedIPAddressTypes: []string{"ipv4"}})
	if !got.AcceptanceRequired || got.PrivateDNSName != "svc.example.com" || got.PrivateDNSNameConfiguration.State != "pendingVerification" ||
		!slices.Equal(got.NetworkLoadBalancerARNs, []string{lbA.ARN, lbC.ARN}) ||
		!slices.Equal(got.AvailabilityZones, []string{"us-east-1a", "us-east-1c"}) || !slices.Equal(got.SupportedIPAddressTypes, []string{"ipv4"}) {
		t.Errorf("after adding: %+v", got)
	}
	proof := *got.PrivateDNSNameConfiguration

	// The same name again changes nothing, not even a verified state.
	e.plPut(t, func(tx *txn) error {
		s, _, err := get[EndpointService](tx, keyEndpointService(svc.ID))
		if err != nil {
			return err
		}
		s.PrivateDNSNameState = DNSNameVerified
		return put(tx, keyEndpointService(s.ID), s)
	})
	if got := modify(ModifyVpcEndpointServiceConfigurationInput{PrivateDNSName: "svc.example.com."}); got.PrivateDNSNameConfiguration.State != "verified" {
		t.Errorf("same name: %+v", got.PrivateDNSNameConfiguration)
	}

	got = modify(ModifyVpcEndpointServiceConfigurationInput{AcceptanceRequired: plBool(false), RemoveNetworkLoadBalancerARNs: []string{lbA.ARN}})
	if got.AcceptanceRequired || !slices.Equal(got.NetworkLoadBalancerARNs, []string{lbC.ARN}) || !slices.Equal(got.AvailabilityZones, []string{"us-east-1c"}) {
		t.Errorf("after removing: %+v", got)
	}
	// The removed load balancer is free for another service.
	_, err = e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lbA.ARN}})
	plOK(t, err)

	got = modify(ModifyVpcEndpointServiceConfigurationInput{PrivateDNSName: "other.example.org"})
	if c := got.PrivateDNSNameConfiguration; got.PrivateDNSName != "other.example.org" || c.State != "pendingVerification" || c.Name != proof.Name || c.Value != proof.Value {
		t.Errorf("after a new name: %q %+v", got.PrivateDNSName, c)
	}
	got = modify(ModifyVpcEndpointServiceConfigurationInput{RemovePrivateDNSName: true})
	if got.PrivateDNSName != "" || got.PrivateDNSNameConfiguration != nil {
		t.Errorf("after removing the name: %+v", got)
	}
	got = modify(ModifyVpcEndpointServiceConfigurationInput{PrivateDNSName: "back.example.org"})
	if c := got.PrivateDNSNameConfiguration; c == nil || c.State != "pendingVerification" || c.Value != proof.Value {
		t.Errorf("after naming it again: %+v", c)
	}
}

func TestModifyVpcEndpointServiceConfigurationErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, false)
	spare := e.plLB(t, plProvider, "spare", w.prov.subA.ID)
	otherLB := e.plLB(t, plProvider, "other", w.prov.subA.ID)
	_, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{otherLB.ARN}})
	plOK(t, err)
	broken := e.plLB(t, plProvider, "broken", w.prov.subA.ID)
	e.plPut(t, func(tx *txn) error {
		lb, _, err := get[LoadBalancer](tx, keyLoadBalancer(broken.ID))
		if err != nil {
			return err
		}
		lb.State = LBFailed
		return put(tx, keyLoadBalancer(lb.ID), lb)
	})
	theirs := e.plLB(t, plConsumer, "theirs", w.cons.subA.ID)
	missing := strings.Replace(spare.ARN, spare.ID, "0123456789abcdef", 1)
	// A service with an endpoint connected to it, and one without.
	connected := w.svc.ID
	e.plAllow(t, connected, "*")
	ep := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)
	idle := e.pdnsService(t, w.prov, "idle", "")
	idleLB := idle.NetworkLoadBalancerARNs[0]

	for _, tc := range []struct {
		name   string
		caller Caller
		in     ModifyVpcEndpointServiceConfigurationInput
		code   string
		msg    string
	}{
		{"no ID", plProvider, ModifyVpcEndpointServiceConfigurationInput{}, "MissingParameter", "ServiceId"},
		{"unknown service", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: "vpce-svc-0123456789abcdef0"},
			"InvalidVpcEndpointServiceId.NotFound", "vpce-svc-0123456789abcdef0"},
		{"another account's service", plConsumer, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AcceptanceRequired: plBool(true)},
			"InvalidVpcEndpointServiceId.NotFound", idle.ID},
		{"name and removal", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, PrivateDNSName: "a.example.com", RemovePrivateDNSName: true},
			"InvalidParameterCombination", "RemovePrivateDnsName"},
		{"invalid name", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, PrivateDNSName: "bad name.example.com"},
			"InvalidParameter", "Invalid private DNS name 'bad name.example.com'"},
		{"single-label name", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, PrivateDNSName: "localhost"},
			"InvalidParameter", "Invalid private DNS name"},
		{"gateway load balancer", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID,
			AddGatewayLoadBalancerARNs: []string{"arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/gwy/g/0123456789abcdef"}},
			"UnsupportedOperation", "Gateway Load Balancer"},
		{"malformed ARN", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AddNetworkLoadBalancerARNs: []string{"nlb"}},
			"InvalidNetworkLoadBalancerArn.Malformed", "'nlb'"},
		{"malformed ARN to remove", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, RemoveNetworkLoadBalancerARNs: []string{"nlb"}},
			"InvalidNetworkLoadBalancerArn.Malformed", "'nlb'"},
		{"added and removed", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID,
			AddNetworkLoadBalancerARNs: []string{spare.ARN}, RemoveNetworkLoadBalancerARNs: []string{spare.ARN}},
			"InvalidParameter", "both added to and removed"},
		{"unknown load balancer", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AddNetworkLoadBalancerARNs: []string{missing}},
			"InvalidNetworkLoadBalancerArn.NotFound", missing},
		{"another account's load balancer", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AddNetworkLoadBalancerARNs: []string{theirs.ARN}},
			"InvalidNetworkLoadBalancerArn.NotFound", theirs.ARN},
		{"failed load balancer", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AddNetworkLoadBalancerARNs: []string{broken.ARN}},
			"InvalidParameter", "is in state 'failed'"},
		{"load balancer of another service", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AddNetworkLoadBalancerARNs: []string{otherLB.ARN}},
			"InvalidParameter", "already associated with another VPC Endpoint Service Configuration"},
		{"removing one it lacks", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, RemoveNetworkLoadBalancerARNs: []string{spare.ARN}},
			"InvalidParameter", "is not associated with the endpoint service " + idle.ID},
		{"removing the last", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, RemoveNetworkLoadBalancerARNs: []string{idleLB}},
			"InvalidParameter", "must keep at least one network load balancer"},
		{"removing with an endpoint connected", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: connected,
			AddNetworkLoadBalancerARNs: []string{spare.ARN}, RemoveNetworkLoadBalancerARNs: []string{w.lb.ARN}},
			"ExistingVpcEndpointConnections", "existing active VPC Endpoint connections"},
		{"ipv6", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AddSupportedIPAddressTypes: []string{"ipv6"}},
			"InvalidParameter", "IPv4 only"},
		{"unknown address type", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, AddSupportedIPAddressTypes: []string{"ipv5"}},
			"InvalidParameterValue", "ipv5"},
		{"removing ipv4", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, RemoveSupportedIPAddressTypes: []string{"ipv4"}},
			"InvalidParameter", "at least one IP address type"},
		{"removing an unknown address type", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID, RemoveSupportedIPAddressTypes: []string{"ipx"}},
			"InvalidParameterValue", "ipx"},
		// Valid changes with a bad one are not half applied.
		{"valid name and acceptance, bad load balancer", plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: idle.ID,
			PrivateDNSName: "a.example.com", AcceptanceRequired: plBool(true), AddNetworkLoadBalancerARNs: []string{spare.ARN, broken.ARN}},
			"InvalidParameter", "is in state 'failed'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error { return e.ModifyVpcEndpointServiceConfiguration(ctx, tc.caller, tc.in) })
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}

	// Once its endpoint is rejected, the service may change load balancers.
	un, err := e.RejectVpcEndpointConnections(ctx, plProvider, connected, []string{ep.ID})
	plOK(t, err)
	if len(un) != 0 {
		t.Fatal(un)
	}
	plOK(t, e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: connected,
		AddNetworkLoadBalancerARNs: []string{spare.ARN}, RemoveNetworkLoadBalancerARNs: []string{w.lb.ARN}}))
}

// TestPrivateDNSClaims checks who may claim a verified private DNS name in
// a consumer's VPC: one endpoint with private DNS, and no private hosted
// zone of the same name (the name's parent for a wildcard name).
func TestPrivateDNSClaims(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	prov := e.plNetwork(t, plProvider, "10.0.0.0/16")
	verified := func(lbName, name string) ServiceConfiguration {
		t.Helper()
		svc := e.pdnsService(t, prov, lbName, name)
		zone := e.pdnsZone(t, plProvider, privateDNSZoneName(name), nil)
		e.pdnsTXT(t, plProvider, zone.ID, privateDNSZoneName(name), `"`+svc.PrivateDNSNameConfiguration.Value+`"`)
		plOK(t, e.StartVpcEndpointServicePrivateDnsVerification(ctx, plProvider, svc.ID))
		if got := e.pdnsState(t, svc); got != "verified" {
			t.Fatalf("%s: %s", name, got)
		}
		return svc
	}
	api := verified("api", "api.example.com")
	api2 := verified("api2", "api.example.com")
	wild := verified("wild", "*.wild.example.com")
	cons := e.plNetwork(t, plConsumer, "10.0.0.0/16")
	plOK(t, e.ModifyVpcAttribute(ctx, plConsumer, ModifyVpcAttributeInput{VpcID: cons.vpc.ID, EnableDNSHostnames: plBool(true)}))
	create := func(svc ServiceConfiguration, privateDNS bool) (VpcEndpointDescription, error) {
		return e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: cons.vpc.ID,
			ServiceName: svc.ServiceName, SubnetIDs: []string{cons.subA.ID}, PrivateDNSEnabled: &privateDNS})
	}
	conflict := func(name string) string {
		return "private-dns-enabled cannot be set because there is already a conflicting DNS domain for " + name + " in the VPC " + cons.vpc.ID
	}

	// A verified name is on by default, listed after the endpoint's own
	// names, in the zone AWS would make for it.
	ep, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: cons.vpc.ID,
		ServiceName: api.ServiceName, SubnetIDs: []string{cons.subA.ID, cons.subB.ID}})
	plOK(t, err)
	if !ep.PrivateDNSEnabled || len(ep.DNSEntries) != 4 || ep.DNSEntries[3] != (DNSEntry{DNSName: "api.example.com", HostedZoneID: privateHostedZoneID(ep.ID)}) ||
		!strings.HasPrefix(ep.DNSEntries[0].DNSName, ep.ID+"-") {
		t.Errorf("endpoint with private DNS: %+v", ep.DNSEntries)
	}

	// Another service of the same name may not claim it too.
	got := e.plFailsUnchanged(t, "InvalidParameter", func() error { _, err := create(api2, true); return err })
	if got.Message != conflict("api.example.com") {
		t.Errorf("second claim: %q", got.Message)
	}
	other, err := create(api2, false)
	plOK(t, err)
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error {
		return e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: other.ID, PrivateDNSEnabled: plBool(true)})
	})
	if got.Message != conflict("api.example.com") {
		t.Errorf("second claim by modify: %q", got.Message)
	}
	// A deleted endpoint gives the name up.
	_, err = e.DeleteVpcEndpoints(ctx, plConsumer, []string{ep.ID})
	plOK(t, err)
	plOK(t, e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: other.ID, PrivateDNSEnabled: plBool(true)}))

	// A private hosted zone of the name in the VPC claims it; elsewhere
	// it does not.
	second := e.plNetwork(t, plConsumer, "10.9.0.0/16")
	plOK(t, e.ModifyVpcAttribute(ctx, plConsumer, ModifyVpcAttributeInput{VpcID: second.vpc.ID, EnableDNSHostnames: plBool(true)}))
	e.pdnsZone(t, plConsumer, "wild.example.com", second.vpc)
	e.pdnsZone(t, plConsumer, "API.example.com.", second.vpc)
	inSecond := func(svc ServiceConfiguration, privateDNS bool) (VpcEndpointDescription, error) {
		return e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: second.vpc.ID,
			ServiceName: svc.ServiceName, SubnetIDs: []string{second.subA.ID}, PrivateDNSEnabled: &privateDNS})
	}
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error { _, err := inSecond(api, true); return err })
	if got.Message != "private-dns-enabled cannot be set because there is already a conflicting DNS domain for api.example.com in the VPC "+second.vpc.ID {
		t.Errorf("private zone: %q", got.Message)
	}
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error { _, err := inSecond(wild, true); return err })
	if !strings.Contains(got.Message, "conflicting DNS domain for *.wild.example.com") {
		t.Errorf("private zone of a wildcard's domain: %q", got.Message)
	}
	plain, err := inSecond(wild, false)
	plOK(t, err)
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error {
		return e.ModifyVpcEndpoint(ctx, plConsumer, ModifyVpcEndpointInput{VpcEndpointID: plain.ID, PrivateDNSEnabled: plBool(true)})
	})
	if !strings.Contains(got.Message, "conflicting DNS domain for *.wild.example.com in the VPC "+second.vpc.ID) {
		t.Errorf("private zone by modify: %q", got.Message)
	}
	w, err := create(wild, true)
	plOK(t, err)
	if last := w.DNSEntries[len(w.DNSEntries)-1]; last.DNSName != "*.wild.example.com" {
		t.Errorf("wildcard entry %+v", w.DNSEntries)
	}

	// A name that turns unverified leaves the endpoint's entries, and a
	// new endpoint cannot enable it.
	plOK(t, e.ModifyVpcEndpointServiceConfiguration(ctx, plProvider, ModifyVpcEndpointServiceConfigurationInput{ServiceID: wild.ID, PrivateDNSName: "*.new.example.com"}))
	if d := e.modDescribe(t, w.ID); !d.PrivateDNSEnabled || len(d.DNSEntries) != 2 {
		t.Errorf("after the service's name changed: %+v", d)
	}
	got = e.plFailsUnchanged(t, "InvalidParameter", func() error { _, err := inSecond(wild, true); return err })
	if !strings.Contains(got.Message, "has not verified the private DNS name") {
		t.Errorf("unverified new name: %q", got.Message)
	}
}
