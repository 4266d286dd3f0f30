package resolver

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/privlink/privlink/core"
)

// Public selects the view from outside any VPC: the lab's public resolver.
const Public = ""

// awsTTL is the TTL of the names AWS makes itself: endpoint and load
// balancer DNS names, the private DNS names of endpoint services, and EC2's
// private DNS names.
const awsTTL = 60

// View is everything the resolvers answer from, at one store revision. It
// is immutable: build a new one when the state changes.
type View struct {
	revision int64
	public   zoneSet
	vpcs     map[string]*vpcView
}

// vpcView is what one VPC's resolver adds to the public view.
type vpcView struct {
	// support is enableDnsSupport: without it the resolver answers nothing.
	support bool
	// private holds the private hosted zones associated with the VPC and
	// one zone per private DNS name of its endpoints. internal holds EC2's
	// names of the VPC's interfaces and their reverse zone. Both are empty
	// unless enableDnsHostnames is on too, as AWS requires of both.
	private  zoneSet
	internal zoneSet
}

// Revision is the store revision the view was built from.
func (v *View) Revision() int64 {
	if v == nil {
		return 0
	}
	return v.revision
}

// NewView indexes a snapshot for the resolvers. region is the server's
// region, which appears in endpoint, load balancer and EC2 names.
func NewView(s *core.Snapshot, region string) *View {
	return NewBuilder(region).Build(s)
}

// Builder builds Views one after another, reusing the hosted zones that
// have not changed since the last build: a snapshot shares the objects that
// did not change with the one before, so an unchanged zone is one pointer
// comparison per record set. A Builder is for one goroutine at a time.
type Builder struct {
	region string
	// zones are the last build's compiled hosted zones by ID, internals
	// its VPCs' zones of EC2 names by VPC ID.
	zones     map[string]compiledZone
	internals map[string]compiledInternal
}

// compiledZone is a hosted zone as compiled from its record sets.
type compiledZone struct {
	name string
	sets []*core.ResourceRecordSet
	z    *zone
	// aliases is set when some record set is an alias: its records depend
	// on more than the zone, so the zone is compiled again every time.
	aliases bool
}

// compiledInternal is a VPC's zones of EC2 names, as compiled from its
// interfaces.
type compiledInternal struct {
	cidr  netip.Prefix
	enis  []*core.NetworkInterface
	zones zoneSet
}

// NewBuilder returns a Builder for a server's region.
func NewBuilder(region string) *Builder {
	return &Builder{region: region}
}

// Build indexes a snapshot for the resolvers.
func (bd *Builder) Build(s *core.Snapshot) *View {
	b := newBuilder(s, bd.region)
	b.prev, b.prevInternal = bd.zones, bd.internals
	v := &View{revision: s.Revision, public: zoneSet{}, vpcs: make(map[string]*vpcView, len(s.VPCs))}
	b.endpointNames(v.public)
	b.loadBalancerNames(v.public)
	b.aws = maps.Clone(v.public)
	b.publicZones(v.public)
	for id, vpc := range s.VPCs {
		v.vpcs[id] = b.vpc(vpc)
	}
	bd.zones, bd.internals = b.hosted, b.internals
	return v
}

// builder holds what building one View indexes once.
type builder struct {
	s      *core.Snapshot
	region string
	// aws are the zones of the names AWS makes (endpoints, load
	// balancers), which alias records may point at.
	aws zoneSet
	// hosted are the zones compiled (or reused) so far by ID: a private
	// zone may be associated with many VPCs. prev are the last build's.
	hosted, prev map[string]compiledZone
	// internals are the VPCs' zones of EC2 names built (or reused) so far;
	// prevInternal the last build's.
	internals, prevInternal map[string]compiledInternal
	// By VPC ID, in ID order.
	zonesOf     map[string][]*core.HostedZone
	endpointsOf map[string][]*core.VpcEndpoint
	enisOf      map[string][]*core.NetworkInterface
}

func newBuilder(s *core.Snapshot, region string) *builder {
	b := &builder{
		s: s, region: region, hosted: map[string]compiledZone{}, internals: map[string]compiledInternal{},
		zonesOf: map[string][]*core.HostedZone{}, endpointsOf: map[string][]*core.VpcEndpoint{},
		enisOf: map[string][]*core.NetworkInterface{},
	}
	for _, id := range slices.Sorted(maps.Keys(s.HostedZones)) {
		z := s.HostedZones[id]
		if !z.Private {
			continue
		}
		for _, a := range z.VPCs {
			b.zonesOf[a.VpcID] = append(b.zonesOf[a.VpcID], z)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.Endpoints)) {
		ep := s.Endpoints[id]
		b.endpointsOf[ep.VpcID] = append(b.endpointsOf[ep.VpcID], ep)
	}
	for _, id := range slices.Sorted(maps.Keys(s.ENIs)) {
		eni := s.ENIs[id]
		b.enisOf[eni.VpcID] = append(b.enisOf[eni.VpcID], eni)
	}
	return b
}

// awsZone is a zone of names AWS makes, with an SOA for negative answers.
func awsZone(origin string) *zone {
	z := newZone(origin)
	soa := &dns.SOA{
		Hdr: header(origin, dns.TypeSOA, awsTTL), Ns: "ns-0.awsdns-00.com.", Mbox: "awsdns-hostmaster.amazon.com.",
		Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: awsTTL,
	}
	z.add(soa)
	z.setSOA(soa)
	return z
}

// endpointLive reports whether an endpoint's DNS names exist: from creation
// until it is deleted or rejected, as DescribeVpcEndpoints lists them.
func endpointLive(state string) bool {
	switch state {
	case core.EndpointPendingAcceptance, core.EndpointPending, core.EndpointAvailable:
		return true
	}
	return false
}

// endpointCarriesTraffic reports whether an endpoint has been accepted and
// is not on its way out: only then does a private DNS name lead to it.
func endpointCarriesTraffic(state string) bool {
	return state == core.EndpointPending || state == core.EndpointAvailable
}

// endpointAddrs returns an endpoint's interface addresses, all of them
// (zone "") or those in one availability zone, in address order.
func (b *builder) endpointAddrs(ep *core.VpcEndpoint, zone string) []netip.Addr {
	var out []netip.Addr
	for _, id := range ep.NetworkInterfaceIDs {
		eni := b.s.ENIs[id]
		if eni != nil && eni.PrivateIP.IsValid() && (zone == "" || eni.AvailabilityZone == zone) {
			out = append(out, eni.PrivateIP)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// endpointNames adds the zone of interface endpoints' DNS names: the
// regional name resolves to the endpoint's interfaces in every zone, each
// zonal name to the interface in its zone. The names are DescribeVpcEndpoints'
// DnsEntries (core's endpointDNSEntries).
func (b *builder) endpointNames(pub zoneSet) {
	origin, ok := canonical(b.region + ".vpce.amazonaws.com")
	if !ok {
		return
	}
	z := awsZone(origin)
	for _, id := range slices.Sorted(maps.Keys(b.s.Endpoints)) {
		ep := b.s.Endpoints[id]
		if !endpointLive(ep.State) {
			continue
		}
		prefix, suffix := ep.ID+"-"+ep.DNSID, "."+ep.ServiceID+"."+origin
		if name, ok := canonical(prefix + suffix); ok {
			z.name(name)
			for _, rr := range addressRecords(name, awsTTL, b.endpointAddrs(ep, "")) {
				z.add(rr)
			}
		}
		var zones []string
		for _, sid := range ep.SubnetIDs {
			if sub := b.s.Subnets[sid]; sub != nil && !slices.Contains(zones, sub.AvailabilityZone) {
				zones = append(zones, sub.AvailabilityZone)
			}
		}
		for _, az := range zones {
			if name, ok := canonical(prefix + "-" + az + suffix); ok {
				z.name(name)
				for _, rr := range addressRecords(name, awsTTL, b.endpointAddrs(ep, az)) {
					z.add(rr)
				}
			}
		}
	}
	pub[origin] = z
}

// loadBalancerNames adds the zone of load balancer DNS names
// (<name>-<id>.elb.<region>.amazonaws.com), which resolve to their nodes'
// addresses, so that alias records can point at them.
func (b *builder) loadBalancerNames(pub zoneSet) {
	origin, ok := canonical("elb." + b.region + ".amazonaws.com")
	if !ok {
		return
	}
	z := awsZone(origin)
	for _, id := range slices.Sorted(maps.Keys(b.s.LoadBalancers)) {
		lb := b.s.LoadBalancers[id]
		name, ok := canonical(lb.DNSName)
		if !ok || lb.DNSName == "" || lb.State == core.LBFailed {
			continue
		}
		var addrs []netip.Addr
		for _, n := range lb.Nodes {
			if n.PrivateIP.IsValid() {
				addrs = append(addrs, n.PrivateIP)
			}
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		if z.name(name) == nil {
			continue
		}
		for _, rr := range addressRecords(name, awsTTL, addrs) {
			z.add(rr)
		}
	}
	pub[origin] = z
}

// publicZones adds the public hosted zones. Several accounts may have a
// zone of one name; without registrars to delegate to one of them, the
// first created answers.
func (b *builder) publicZones(pub zoneSet) {
	zones := b.s.PublicZones()
	slices.SortStableFunc(zones, func(x, y *core.HostedZone) int { return x.CreatedAt.Compare(y.CreatedAt) })
	for _, hz := range zones {
		origin, ok := route53Name(hz.Name)
		if !ok || pub[origin] != nil {
			continue
		}
		pub[origin] = b.hostedZone(hz)
	}
}

// hostedZone compiles a hosted zone's record sets, or reuses the zone
// compiled from the same sets before.
func (b *builder) hostedZone(hz *core.HostedZone) *zone {
	if c, ok := b.hosted[hz.ID]; ok {
		return c.z
	}
	sets := b.s.RecordSets[hz.ID]
	if c, ok := b.prev[hz.ID]; ok && !c.aliases && c.name == hz.Name && slices.Equal(c.sets, sets) {
		b.hosted[hz.ID] = c
		return c.z
	}
	origin, _ := route53Name(hz.Name)
	z := newZone(origin)
	c := compiledZone{name: hz.Name, sets: sets, z: z}
	byKey := make(map[string]*core.ResourceRecordSet, len(sets))
	for _, set := range sets {
		byKey[set.Name+" "+set.Type] = set
		c.aliases = c.aliases || set.Alias != nil
	}
	b.hosted[hz.ID] = c
	for _, set := range sets {
		owner, ok := route53Name(set.Name)
		if !ok || z.name(owner) == nil {
			continue
		}
		var rrs []dns.RR
		if set.Alias != nil {
			rrs = b.alias(hz, byKey, set, owner, 0)
		} else {
			rrs = recordSet(owner, set)
		}
		for _, rr := range rrs {
			z.add(rr)
			if soa, ok := rr.(*dns.SOA); ok && owner == origin {
				z.setSOA(soa)
			}
		}
	}
	return z
}

// maxAlias bounds a chain of alias records within a zone.
const maxAlias = 8

// alias resolves an alias record set to its target's records, owned by
// owner: another set of the zone (which may be an alias too), or the name
// of an endpoint or a load balancer. The records keep their target's TTL,
// as Route 53 answers.
func (b *builder) alias(hz *core.HostedZone, byKey map[string]*core.ResourceRecordSet, set *core.ResourceRecordSet, owner string, depth int) []dns.RR {
	a := set.Alias
	if strings.EqualFold(a.HostedZoneID, hz.ID) {
		t := byKey[a.DNSName+" "+set.Type]
		if t == nil || t == set || depth >= maxAlias {
			return nil
		}
		if t.Alias != nil {
			return b.alias(hz, byKey, t, owner, depth+1)
		}
		return recordSet(owner, t)
	}
	name, ok := route53Name(a.DNSName)
	if !ok {
		return nil
	}
	z := b.aws.find(name)
	if z == nil || z.nodes[name] == nil {
		return nil
	}
	return reowned(z.nodes[name].get(dns.StringToType[set.Type]), owner)
}

// vpc builds one VPC's additions to the public view.
func (b *builder) vpc(vpc *core.VPC) *vpcView {
	vv := &vpcView{support: vpc.EnableDNSSupport}
	if !vpc.EnableDNSSupport || !vpc.EnableDNSHostnames {
		return vv
	}
	vv.private = zoneSet{}
	for _, hz := range b.zonesOf[vpc.ID] {
		if z := b.hostedZone(hz); vv.private[z.origin] == nil {
			vv.private[z.origin] = z
		}
	}
	b.privateDNSNames(vpc, vv.private)
	vv.internal = b.internal(vpc)
	return vv
}

// privateDNSNames adds a zone for the verified private DNS name of each
// service the VPC's endpoints reach with private DNS enabled, as AWS adds a
// private hosted zone: the name resolves to the endpoint's interfaces. A
// private hosted zone of the same name (which core refuses to create) would
// win.
func (b *builder) privateDNSNames(vpc *core.VPC, private zoneSet) {
	managed := map[*zone]bool{}
	for _, ep := range b.endpointsOf[vpc.ID] {
		if !ep.PrivateDNSEnabled || !endpointCarriesTraffic(ep.State) {
			continue
		}
		svc := b.s.EndpointServices[ep.ServiceID]
		if svc == nil || svc.PrivateDNSName == "" || svc.PrivateDNSNameState != core.DNSNameVerified {
			continue
		}
		// A wildcard name ("*.example.com") is a wildcard record at the
		// top of the zone of the rest.
		base, wildcard := strings.CutPrefix(svc.PrivateDNSName, "*.")
		origin, ok := canonical(base)
		if !ok {
			continue
		}
		z := private[origin]
		switch {
		case z == nil:
			z = awsZone(origin)
			private[origin], managed[z] = z, true
		case !managed[z]:
			continue
		}
		owner := origin
		if wildcard {
			owner = "*." + origin
		}
		z.name(owner)
		for _, rr := range addressRecords(owner, awsTTL, b.endpointAddrs(ep, "")) {
			z.add(rr)
		}
	}
}

// internal builds the zones of EC2's private DNS names for every interface
// in the VPC (ip-10-0-1-5.ec2.internal in us-east-1,
// ip-10-0-1-5.<region>.compute.internal elsewhere) and their PTR records in
// the reverse zone of the VPC's CIDR.
func (b *builder) internal(vpc *core.VPC) zoneSet {
	enis := b.enisOf[vpc.ID]
	if c, ok := b.prevInternal[vpc.ID]; ok && c.cidr == vpc.CIDR && slices.Equal(c.enis, enis) {
		b.internals[vpc.ID] = c
		return c.zones
	}
	domain, ok := canonical(strings.TrimPrefix(core.PrivateDNSName(b.region, netip.IPv4Unspecified()), "ip-0-0-0-0."))
	if !ok {
		return nil
	}
	names := awsZone(domain)
	rev := awsZone(reverseZone(vpc.CIDR))
	for _, eni := range enis {
		ip := eni.PrivateIP
		if !ip.Is4() {
			continue
		}
		name, ok := canonical(core.PrivateDNSName(b.region, ip))
		if !ok {
			continue
		}
		for _, rr := range addressRecords(name, awsTTL, []netip.Addr{ip}) {
			names.add(rr)
		}
		ptr, err := dns.ReverseAddr(ip.String())
		if err == nil && subdomain(ptr, rev.origin) {
			rev.add(&dns.PTR{Hdr: header(ptr, dns.TypePTR, awsTTL), Ptr: name})
		}
	}
	zs := zoneSet{names.origin: names, rev.origin: rev}
	b.internals[vpc.ID] = compiledInternal{cidr: vpc.CIDR, enis: enis, zones: zs}
	return zs
}

// reverseZone is the in-addr.arpa zone that holds a prefix's addresses,
// widened to whole octets: 10.0.0.0/16 → 0.10.in-addr.arpa.
func reverseZone(p netip.Prefix) string {
	if !p.Addr().Is4() {
		return "in-addr.arpa."
	}
	a := p.Masked().Addr().As4()
	var b strings.Builder
	for i := p.Bits()/8 - 1; i >= 0; i-- {
		b.WriteString(strconv.Itoa(int(a[i])))
		b.WriteByte('.')
	}
	b.WriteString("in-addr.arpa.")
	return b.String()
}
