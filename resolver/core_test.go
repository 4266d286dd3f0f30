package resolver

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/store/memstore"
)

// TestViewAgreesWithCore builds state through core's own actions (as the
// API would) and checks that every DNS name DescribeVpcEndpoints reports
// resolves to what it names, that a load balancer's DNS name resolves to
// its nodes, and that Route 53 records written through core (an alias to
// the endpoint, a CNAME) resolve inside the associated VPC only.
func TestViewAgreesWithCore(t *testing.T) {
	ctx := context.Background()
	cloud, err := core.New(memstore.New(), core.Config{Region: "us-east-1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	me := core.Caller{AccountID: core.BootstrapAccountID, Admin: true}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpc, err := cloud.CreateVpc(ctx, me, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
	must(err)
	other, err := cloud.CreateVpc(ctx, me, core.CreateVpcInput{CidrBlock: "10.1.0.0/16"})
	must(err)
	for _, id := range []string{vpc.ID, other.ID} {
		must(cloud.ModifyVpcAttribute(ctx, me, core.ModifyVpcAttributeInput{VpcID: id, EnableDNSHostnames: new(true)}))
	}
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s, err := cloud.CreateSubnet(ctx, me, core.CreateSubnetInput{VpcID: vpc.ID, CidrBlock: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i + 1), 0}), 24).String(), AvailabilityZone: az})
		must(err)
		subnets = append(subnets, s.ID)
	}
	lb, err := cloud.CreateLoadBalancer(ctx, me, core.CreateLoadBalancerInput{Name: "web", Type: "network", Scheme: "internal", Subnets: subnets})
	must(err)
	svc, err := cloud.CreateVpcEndpointServiceConfiguration(ctx, me, core.CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lb.ARN}})
	must(err)
	ep, err := cloud.CreateVpcEndpoint(ctx, me, core.CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: vpc.ID,
		ServiceName: svc.ServiceName, SubnetIDs: subnets})
	must(err)
	eps, err := cloud.DescribeVpcEndpoints(ctx, me, []string{ep.ID})
	must(err)
	entries := eps[0].DNSEntries
	if len(entries) != 3 {
		t.Fatalf("DnsEntries %+v: want a regional and two zonal names", entries)
	}

	zone, _, err := cloud.CreateHostedZone(ctx, me, core.CreateHostedZoneInput{Name: "internal.example", CallerReference: "r1",
		PrivateZone: true, VPC: &core.ZoneVPC{VpcID: vpc.ID}})
	must(err)
	_, err = cloud.ChangeResourceRecordSets(ctx, me, core.ChangeResourceRecordSetsInput{HostedZoneID: zone.ID, Changes: []core.RecordSetChange{
		{Action: "CREATE", Set: core.RecordSetInput{Name: "api.internal.example", Type: "CNAME", TTL: new(int64(300)), Records: []string{entries[0].DNSName}}},
		{Action: "CREATE", Set: core.RecordSetInput{Name: "Alias.Internal.Example.", Type: "A",
			Alias: &core.AliasTarget{HostedZoneID: entries[0].HostedZoneID, DNSName: entries[0].DNSName}}},
	}})
	must(err)

	snap, err := cloud.LoadSnapshot(ctx)
	must(err)
	v := NewView(snap, cloud.Region())
	addrsOf := func(resp *dns.Msg) []string {
		var out []string
		for _, rr := range resp.Answer {
			if a, ok := rr.(*dns.A); ok {
				out = append(out, a.A.String())
			}
		}
		slices.Sort(out)
		return out
	}
	var all []string
	byZone := map[string][]string{}
	for _, id := range ep.NetworkInterfaceIDs {
		eni := snap.ENIs[id]
		all = append(all, eni.PrivateIP.String())
		byZone[eni.AvailabilityZone] = append(byZone[eni.AvailabilityZone], eni.PrivateIP.String())
	}
	slices.Sort(all)
	var nodes []string
	for _, n := range lb.Nodes {
		nodes = append(nodes, n.PrivateIP.String())
	}
	slices.Sort(nodes)

	cases := []struct {
		name, view, q string
		want          []string
	}{
		{"regional name", Public, entries[0].DNSName, all},
		{"zonal name us-east-1a", vpc.ID, entries[1].DNSName, byZone["us-east-1a"]},
		{"zonal name us-east-1b", other.ID, entries[2].DNSName, byZone["us-east-1b"]},
		{"load balancer name", Public, lb.DNSName, nodes},
		{"CNAME to the regional name", vpc.ID, "api.internal.example", all},
		{"alias to the regional name", vpc.ID, "alias.internal.example", all},
		{"private zone in another VPC", other.ID, "api.internal.example", nil},
		{"instance-style name of the endpoint's interface", vpc.ID, core.PrivateDNSName("us-east-1", netip.MustParseAddr(all[0])), all[:1]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := addrsOf(ask(t, v, c.view, dns.Fqdn(c.q), dns.TypeA)); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.q, got, c.want)
			}
		})
	}
}
