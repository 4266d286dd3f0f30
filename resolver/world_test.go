package resolver

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privlink/privlink/core"
)

// A hand-built snapshot for the view's tests: one helper per kind, with
// names stored as core stores them (Route 53 names canonical, with a
// trailing dot).
type world struct {
	s     *core.Snapshot
	clock time.Time
}

func newWorld() *world {
	return &world{s: &core.Snapshot{
		Revision: 7,
		VPCs:     map[string]*core.VPC{}, Subnets: map[string]*core.Subnet{}, Instances: map[string]*core.Instance{},
		ENIs: map[string]*core.NetworkInterface{}, LoadBalancers: map[string]*core.LoadBalancer{},
		EndpointServices: map[string]*core.EndpointService{}, Endpoints: map[string]*core.VpcEndpoint{},
		HostedZones: map[string]*core.HostedZone{}, RecordSets: map[string][]*core.ResourceRecordSet{},
	}, clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (w *world) now() time.Time {
	w.clock = w.clock.Add(time.Second)
	return w.clock
}

func (w *world) vpc(id, cidr string, support, hostnames bool) {
	w.s.VPCs[id] = &core.VPC{ID: id, CIDR: netip.MustParsePrefix(cidr), EnableDNSSupport: support, EnableDNSHostnames: hostnames}
}

func (w *world) subnet(id, vpc, cidr, az string) {
	w.s.Subnets[id] = &core.Subnet{ID: id, VpcID: vpc, CIDR: netip.MustParsePrefix(cidr), AvailabilityZone: az}
}

func (w *world) eni(id, subnet, ip, typ, resource string) {
	sub := w.s.Subnets[subnet]
	w.s.ENIs[id] = &core.NetworkInterface{ID: id, VpcID: sub.VpcID, SubnetID: subnet, AvailabilityZone: sub.AvailabilityZone,
		PrivateIP: netip.MustParseAddr(ip), InterfaceType: typ, ResourceID: resource}
}

func (w *world) service(id, privateName, state string) {
	w.s.EndpointServices[id] = &core.EndpointService{ID: id, ServiceName: "com.amazonaws.vpce.us-east-1." + id,
		PrivateDNSName: privateName, PrivateDNSNameState: state}
}

// endpoint adds an endpoint with one interface per address, each in the
// subnet named beside it ("sub-a=10.0.1.100").
func (w *world) endpoint(id, vpc, svc, state string, privateDNS bool, ifaces ...string) {
	ep := &core.VpcEndpoint{ID: id, VpcID: vpc, ServiceID: svc, State: state, PrivateDNSEnabled: privateDNS,
		DNSID: "abcd1234", Type: "Interface"}
	for i, f := range ifaces {
		sub, ip, _ := strings.Cut(f, "=")
		eniID := fmt.Sprintf("eni-%s%d", id[len(id)-4:], i)
		w.eni(eniID, sub, ip, core.InterfaceTypeVpcEndpoint, id)
		ep.SubnetIDs = append(ep.SubnetIDs, sub)
		ep.NetworkInterfaceIDs = append(ep.NetworkInterfaceIDs, eniID)
	}
	w.s.Endpoints[id] = ep
}

// zone adds a hosted zone with the SOA and NS sets Route 53 creates.
func (w *world) zone(id, name string, private bool, vpcs ...string) {
	z := &core.HostedZone{ID: id, Name: name, Private: private, CreatedAt: w.now(),
		NameServers: []string{"ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com."}}
	for _, v := range vpcs {
		z.VPCs = append(z.VPCs, core.ZoneVPC{VpcID: v, Region: "us-east-1"})
	}
	w.s.HostedZones[id] = z
	w.set(id, name, "SOA", 900, "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")
	w.set(id, name, "NS", 172800, z.NameServers...)
}

func (w *world) set(zone, name, typ string, ttl int64, values ...string) {
	w.s.RecordSets[zone] = append(w.s.RecordSets[zone], &core.ResourceRecordSet{ZoneID: zone, Name: name, Type: typ, TTL: ttl, Records: values})
}

func (w *world) alias(zone, name, typ, targetZone, target string) {
	w.s.RecordSets[zone] = append(w.s.RecordSets[zone], &core.ResourceRecordSet{ZoneID: zone, Name: name, Type: typ,
		Alias: &core.AliasTarget{HostedZoneID: targetZone, DNSName: target}})
}

// Names of the test world's endpoints.
const (
	svcA       = "vpce-svc-0000000000000000a" // private DNS name api.example.com, verified
	svcB       = "vpce-svc-0000000000000000b" // unverified.example.com, pending verification
	svcC       = "vpce-svc-0000000000000000c" // pa.example.com, verified
	svcW       = "vpce-svc-0000000000000000d" // *.wild.example.net, verified
	epC        = "vpce-0000000000000000c"     // in vpc-c, to svcA, available, private DNS
	regionalC  = epC + "-abcd1234." + svcA + ".us-east-1.vpce.amazonaws.com."
	zonalCA    = epC + "-abcd1234-us-east-1a." + svcA + ".us-east-1.vpce.amazonaws.com."
	zonalCB    = epC + "-abcd1234-us-east-1b." + svcA + ".us-east-1.vpce.amazonaws.com."
	epRejected = "vpce-0000000000000000f"
	epPending  = "vpce-0000000000000000a" // pendingAcceptance, to svcC, private DNS
	vpceZone   = "Z7HUB22UULQXV"
	nlbZone    = "Z26RNL4JYFTOTI"
	lbName     = "web-0123456789abcdef.elb.us-east-1.amazonaws.com"
)

// testWorld is the world most view tests ask: a provider VPC with an
// instance and a load balancer; a consumer VPC (same CIDR) with endpoints,
// a private hosted zone and an instance; another VPC with a private zone of
// a public zone's name; a VPC without DNS hostnames; one without DNS
// support; public zones.
func testWorld() *world {
	w := newWorld()
	w.vpc("vpc-p", "10.0.0.0/16", true, true)
	w.subnet("sub-p", "vpc-p", "10.0.1.0/24", "us-east-1a")
	w.eni("eni-p1", "sub-p", "10.0.1.10", core.InterfaceTypeInstance, "")
	w.eni("eni-lb", "sub-p", "10.0.1.20", core.InterfaceTypeLoadBalancer, "0123456789abcdef")
	w.s.LoadBalancers["0123456789abcdef"] = &core.LoadBalancer{ID: "0123456789abcdef", Name: "web", VpcID: "vpc-p",
		State: core.LBActive, DNSName: lbName,
		Nodes: []core.LoadBalancerNode{{SubnetID: "sub-p", NetworkInterfaceID: "eni-lb", PrivateIP: netip.MustParseAddr("10.0.1.20")}}}
	w.service(svcA, "api.example.com", core.DNSNameVerified)
	w.service(svcB, "unverified.example.com", core.DNSNamePendingVerification)
	w.service(svcC, "pa.example.com", core.DNSNameVerified)
	w.service(svcW, "*.wild.example.net", core.DNSNameVerified)

	w.vpc("vpc-c", "10.0.0.0/16", true, true)
	w.subnet("sub-ca", "vpc-c", "10.0.1.0/24", "us-east-1a")
	w.subnet("sub-cb", "vpc-c", "10.0.2.0/24", "us-east-1b")
	w.eni("eni-c1", "sub-ca", "10.0.1.5", core.InterfaceTypeInstance, "")
	w.endpoint(epC, "vpc-c", svcA, core.EndpointAvailable, true, "sub-cb=10.0.2.100", "sub-ca=10.0.1.100")
	w.endpoint("vpce-0000000000000000b", "vpc-c", svcB, core.EndpointAvailable, true, "sub-ca=10.0.1.101")
	w.endpoint(epPending, "vpc-c", svcC, core.EndpointPendingAcceptance, true, "sub-ca=10.0.1.102")
	w.endpoint(epRejected, "vpc-c", svcA, core.EndpointRejected, false, "sub-ca=10.0.1.103")
	w.endpoint("vpce-0000000000000000d", "vpc-c", svcW, core.EndpointPending, true, "sub-ca=10.0.1.104")

	w.vpc("vpc-o", "10.1.0.0/16", true, true)
	w.vpc("vpc-n", "10.2.0.0/16", true, false)
	w.subnet("sub-n", "vpc-n", "10.2.1.0/24", "us-east-1a")
	w.eni("eni-n1", "sub-n", "10.2.1.5", core.InterfaceTypeInstance, "")
	w.endpoint("vpce-0000000000000000e", "vpc-n", svcA, core.EndpointAvailable, true, "sub-n=10.2.1.100")
	w.vpc("vpc-x", "10.3.0.0/16", false, false)

	w.zone("Z1", "internal.example.", true, "vpc-c", "vpc-n")
	w.set("Z1", "api.internal.example.", "CNAME", 300, regionalC)
	w.alias("Z1", "alias.internal.example.", "A", vpceZone, regionalC)
	w.alias("Z1", "zonal.internal.example.", "A", vpceZone, zonalCB)
	w.set("Z1", "api2.internal.example.", "A", 300, "10.9.9.9")
	w.alias("Z1", "same.internal.example.", "A", "Z1", "api2.internal.example.")
	w.alias("Z1", "chain.internal.example.", "A", "Z1", "same.internal.example.")
	w.set("Z1", "loop1.internal.example.", "CNAME", 300, "loop2.internal.example.")
	w.set("Z1", "loop2.internal.example.", "CNAME", 300, "loop1.internal.example.")
	w.set("Z1", "txt.internal.example.", "TXT", 300, `"hello world" "a\"b\\c"`)
	w.set("Z1", "mx.internal.example.", "MX", 300, "10 mail.internal.example.", "20 backup.internal.example.")
	w.set("Z1", "_svc._tcp.internal.example.", "SRV", 300, "1 2 443 api.internal.example.")
	w.set("Z1", `\052.wild.internal.example.`, "A", 300, "10.7.7.7")
	w.set("Z1", "deep.x.internal.example.", "A", 300, "10.8.8.8")
	w.set("Z1", "out.internal.example.", "CNAME", 300, "www.example.com")
	w.alias("Z1", "lb.internal.example.", "A", nlbZone, lbName+".")
	w.set("Z1", "v6.internal.example.", "AAAA", 300, "2001:db8::1")
	w.set("Z1", "caa.internal.example.", "CAA", 300, `0 issue "amazon.com"`)
	w.set("Z1", "spf.internal.example.", "SPF", 300, `"v=spf1 -all"`)
	w.set("Z1", "ptr.internal.example.", "PTR", 300, "host.internal.example.")
	w.alias("Z1", "gone.internal.example.", "A", vpceZone, "vpce-00000000000000099-zzzzzzzz."+svcA+".us-east-1.vpce.amazonaws.com.")
	w.set("Z1", `odd\040name\056with\100escapes.internal.example.`, "A", 300, "10.4.4.4")
	w.zone("Z4", "sub.internal.example.", true, "vpc-c")
	w.set("Z4", "a.sub.internal.example.", "A", 300, "10.6.6.6")

	w.zone("Z2", "example.com.", false)
	w.set("Z2", "www.example.com.", "A", 300, "203.0.113.10")
	w.set("Z2", "api.example.com.", "A", 300, "203.0.113.20")
	w.zone("Z3", "example.com.", true, "vpc-o")
	w.set("Z3", "only.example.com.", "A", 300, "10.5.5.5")
	w.zone("Z5", "example.com.", false) // created after Z2 by someone else
	w.set("Z5", "www.example.com.", "A", 300, "198.51.100.1")
	return w
}

// ask sends one query to a view and returns the answer after a round trip
// through the wire format, so that every answer is also proven to pack.
func ask(t *testing.T, v *View, view, name string, qtype uint16) *dns.Msg {
	t.Helper()
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	req.Id = 0 // record sets in stored order
	resp := v.Answer(view, req)
	if resp == nil {
		return nil
	}
	b, err := resp.Pack()
	if err != nil {
		t.Fatalf("%s %s in %q: pack: %v", name, dns.TypeToString[qtype], view, err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatalf("%s: unpack: %v", name, err)
	}
	return out
}

// show writes records as "owner ttl type data".
func show(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		data := strings.TrimPrefix(rr.String(), h.String())
		out = append(out, fmt.Sprintf("%s %d %s %s", h.Name, h.Ttl, dns.TypeToString[h.Rrtype], data))
	}
	return out
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
