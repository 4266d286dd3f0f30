package resolver

import (
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/privlink/privlink/core"
)

// TestViewAnswers asks each view of the test world (testWorld) a question
// per rule and compares the whole answer: response code, answer records
// (owner, TTL, type, data) and the owner of the SOA in the authority
// section of a negative answer.
func TestViewAnswers(t *testing.T) {
	v := NewView(testWorld().s, "us-east-1")
	const a = dns.TypeA
	both := []string{regionalC + " 60 A 10.0.1.100", regionalC + " 60 A 10.0.2.100"}
	cases := []struct {
		name, view, q string
		qtype         uint16
		rcode         int
		answer        []string
		soa           string // owner of the authority section's SOA, "" for none
	}{
		// Endpoint DNS names are public: every VPC and the public view.
		{"regional name in the consumer VPC", "vpc-c", regionalC, a, 0, both, ""},
		{"regional name in another VPC", "vpc-o", regionalC, a, 0, both, ""},
		{"regional name publicly", Public, regionalC, a, 0, both, ""},
		{"regional name without DNS hostnames", "vpc-n", regionalC, a, 0, both, ""},
		{"zonal name, zone a", "vpc-c", zonalCA, a, 0, []string{zonalCA + " 60 A 10.0.1.100"}, ""},
		{"zonal name, zone b, publicly", Public, zonalCB, a, 0, []string{zonalCB + " 60 A 10.0.2.100"}, ""},
		{"names are case-insensitive", Public, "VPCE-0000000000000000C-ABCD1234." + svcA + ".US-EAST-1.vpce.amazonaws.com.", a, 0,
			[]string{regionalC + " 60 A 10.0.1.100", regionalC + " 60 A 10.0.2.100"}, ""},
		{"regional name has no AAAA", Public, regionalC, dns.TypeAAAA, 0, nil, "us-east-1.vpce.amazonaws.com."},
		{"rejected endpoint has no names", Public, epRejected + "-abcd1234." + svcA + ".us-east-1.vpce.amazonaws.com.", a,
			dns.RcodeNameError, nil, "us-east-1.vpce.amazonaws.com."},
		{"endpoint pending acceptance has its names", "vpc-c", epPending + "-abcd1234." + svcC + ".us-east-1.vpce.amazonaws.com.", a, 0,
			[]string{epPending + "-abcd1234." + svcC + ".us-east-1.vpce.amazonaws.com. 60 A 10.0.1.102"}, ""},
		{"load balancer name", "vpc-o", lbName + ".", a, 0, []string{lbName + ". 60 A 10.0.1.20"}, ""},

		// Private DNS names of services: only in VPCs whose endpoint has
		// private DNS, with a verified name, accepted.
		{"private DNS name in the consumer VPC", "vpc-c", "api.example.com.", a, 0,
			[]string{"api.example.com. 60 A 10.0.1.100", "api.example.com. 60 A 10.0.2.100"}, ""},
		{"private DNS name in any case", "vpc-c", "API.Example.COM.", a, 0,
			[]string{"api.example.com. 60 A 10.0.1.100", "api.example.com. 60 A 10.0.2.100"}, ""},
		{"private DNS name zone is authoritative below it", "vpc-c", "x.api.example.com.", a, dns.RcodeNameError, nil, "api.example.com."},
		{"private DNS name has no AAAA", "vpc-c", "api.example.com.", dns.TypeAAAA, 0, nil, "api.example.com."},
		{"private DNS name elsewhere is public DNS's", "vpc-o", "api.example.com.", a, dns.RcodeNameError, nil, "example.com."},
		{"private DNS name publicly", Public, "api.example.com.", a, 0, []string{"api.example.com. 300 A 203.0.113.20"}, ""},
		{"private DNS name without DNS hostnames", "vpc-n", "api.example.com.", a, 0, []string{"api.example.com. 300 A 203.0.113.20"}, ""},
		{"unverified private DNS name", "vpc-c", "unverified.example.com.", a, dns.RcodeNameError, nil, "example.com."},
		{"private DNS name of an endpoint pending acceptance", "vpc-c", "pa.example.com.", a, dns.RcodeNameError, nil, "example.com."},
		{"wildcard private DNS name", "vpc-c", "x.y.wild.example.net.", a, 0, []string{"x.y.wild.example.net. 60 A 10.0.1.104"}, ""},
		{"wildcard private DNS name's base", "vpc-c", "wild.example.net.", a, 0, nil, "wild.example.net."},

		// Private hosted zones: only in associated VPCs with both DNS
		// attributes; authoritative for their names.
		{"CNAME to an endpoint's regional name is chased", "vpc-c", "api.internal.example.", a, 0,
			append([]string{"api.internal.example. 300 CNAME " + regionalC}, both...), ""},
		{"CNAME asked as CNAME", "vpc-c", "api.internal.example.", dns.TypeCNAME, 0, []string{"api.internal.example. 300 CNAME " + regionalC}, ""},
		{"CNAME then NODATA at the target", "vpc-c", "api.internal.example.", dns.TypeMX, 0,
			[]string{"api.internal.example. 300 CNAME " + regionalC}, "us-east-1.vpce.amazonaws.com."},
		{"private zone not associated", "vpc-o", "api.internal.example.", a, dns.RcodeNameError, nil, ""},
		{"private zone without DNS hostnames", "vpc-n", "api.internal.example.", a, dns.RcodeNameError, nil, ""},
		{"private zone publicly", Public, "api.internal.example.", a, dns.RcodeNameError, nil, ""},
		{"alias to a regional name", "vpc-c", "alias.internal.example.", a, 0,
			[]string{"alias.internal.example. 60 A 10.0.1.100", "alias.internal.example. 60 A 10.0.2.100"}, ""},
		{"alias to a zonal name", "vpc-c", "zonal.internal.example.", a, 0, []string{"zonal.internal.example. 60 A 10.0.2.100"}, ""},
		{"alias to a record of the zone", "vpc-c", "same.internal.example.", a, 0, []string{"same.internal.example. 300 A 10.9.9.9"}, ""},
		{"alias to an alias", "vpc-c", "chain.internal.example.", a, 0, []string{"chain.internal.example. 300 A 10.9.9.9"}, ""},
		{"alias to a load balancer", "vpc-c", "lb.internal.example.", a, 0, []string{"lb.internal.example. 60 A 10.0.1.20"}, ""},
		{"alias to a deleted endpoint", "vpc-c", "gone.internal.example.", a, 0, nil, "internal.example."},
		{"CNAME loop", "vpc-c", "loop1.internal.example.", a, dns.RcodeServerFailure, nil, ""},
		{"CNAME out to a public zone", "vpc-c", "out.internal.example.", a, 0,
			[]string{"out.internal.example. 300 CNAME www.example.com.", "www.example.com. 300 A 203.0.113.10"}, ""},
		{"missing name in a private zone", "vpc-c", "nope.internal.example.", a, dns.RcodeNameError, nil, "internal.example."},
		{"empty non-terminal", "vpc-c", "x.internal.example.", a, 0, nil, "internal.example."},
		{"below an empty non-terminal", "vpc-c", "deep.x.internal.example.", a, 0, []string{"deep.x.internal.example. 300 A 10.8.8.8"}, ""},
		{"wildcard", "vpc-c", "a.b.wild.internal.example.", a, 0, []string{"a.b.wild.internal.example. 300 A 10.7.7.7"}, ""},
		{"wildcard's own name", "vpc-c", "*.wild.internal.example.", a, 0, []string{"*.wild.internal.example. 300 A 10.7.7.7"}, ""},
		{"wildcard, other type", "vpc-c", "a.wild.internal.example.", dns.TypeTXT, 0, nil, "internal.example."},
		{"longest private zone wins", "vpc-c", "a.sub.internal.example.", a, 0, []string{"a.sub.internal.example. 300 A 10.6.6.6"}, ""},
		{"longest private zone is authoritative", "vpc-c", "b.sub.internal.example.", a, dns.RcodeNameError, nil, "sub.internal.example."},
		{"private zone hides the public zone of its name", "vpc-o", "www.example.com.", a, dns.RcodeNameError, nil, "example.com."},
		{"private zone of a public zone's name", "vpc-o", "only.example.com.", a, 0, []string{"only.example.com. 300 A 10.5.5.5"}, ""},

		// Record types.
		{"TXT", "vpc-c", "txt.internal.example.", dns.TypeTXT, 0, []string{`txt.internal.example. 300 TXT "hello world" "a\"b\\c"`}, ""},
		{"MX", "vpc-c", "mx.internal.example.", dns.TypeMX, 0,
			[]string{"mx.internal.example. 300 MX 10 mail.internal.example.", "mx.internal.example. 300 MX 20 backup.internal.example."}, ""},
		{"SRV", "vpc-c", "_svc._tcp.internal.example.", dns.TypeSRV, 0,
			[]string{"_svc._tcp.internal.example. 300 SRV 1 2 443 api.internal.example."}, ""},
		{"AAAA", "vpc-c", "v6.internal.example.", dns.TypeAAAA, 0, []string{"v6.internal.example. 300 AAAA 2001:db8::1"}, ""},
		{"CAA", "vpc-c", "caa.internal.example.", dns.TypeCAA, 0, []string{`caa.internal.example. 300 CAA 0 issue "amazon.com"`}, ""},
		{"SPF", "vpc-c", "spf.internal.example.", dns.TypeSPF, 0, []string{`spf.internal.example. 300 SPF "v=spf1 -all"`}, ""},
		{"PTR", "vpc-c", "ptr.internal.example.", dns.TypePTR, 0, []string{"ptr.internal.example. 300 PTR host.internal.example."}, ""},
		{"SOA at the apex", "vpc-c", "internal.example.", dns.TypeSOA, 0,
			[]string{"internal.example. 900 SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}, ""},
		{"NS at the apex", "vpc-c", "internal.example.", dns.TypeNS, 0,
			[]string{"internal.example. 172800 NS ns-1536.awsdns-00.co.uk.", "internal.example. 172800 NS ns-0.awsdns-00.com."}, ""},
		{"name with escaped bytes", "vpc-c", `odd\ name\.with\@escapes.internal.example.`, a, 0,
			[]string{`odd\ name\.with\@escapes.internal.example. 300 A 10.4.4.4`}, ""},
		{"an escaped dot is no label boundary", "vpc-c", `escapes.internal.example.`, a, dns.RcodeNameError, nil, "internal.example."},
		{"ANY", "vpc-c", "same.internal.example.", dns.TypeANY, 0, []string{"same.internal.example. 300 A 10.9.9.9"}, ""},

		// EC2's names of the VPC's interfaces, with both DNS attributes.
		{"instance name", "vpc-c", "ip-10-0-1-5.ec2.internal.", a, 0, []string{"ip-10-0-1-5.ec2.internal. 60 A 10.0.1.5"}, ""},
		{"endpoint interface name", "vpc-c", "ip-10-0-1-100.ec2.internal.", a, 0, []string{"ip-10-0-1-100.ec2.internal. 60 A 10.0.1.100"}, ""},
		{"instance of another VPC", "vpc-c", "ip-10-0-1-10.ec2.internal.", a, dns.RcodeNameError, nil, "ec2.internal."},
		{"instance name in its VPC", "vpc-p", "ip-10-0-1-10.ec2.internal.", a, 0, []string{"ip-10-0-1-10.ec2.internal. 60 A 10.0.1.10"}, ""},
		{"instance name without DNS hostnames", "vpc-n", "ip-10-2-1-5.ec2.internal.", a, dns.RcodeNameError, nil, ""},
		{"instance name publicly", Public, "ip-10-0-1-5.ec2.internal.", a, dns.RcodeNameError, nil, ""},
		{"reverse name", "vpc-c", "5.1.0.10.in-addr.arpa.", dns.TypePTR, 0, []string{"5.1.0.10.in-addr.arpa. 60 PTR ip-10-0-1-5.ec2.internal."}, ""},
		{"reverse name of nothing", "vpc-c", "9.9.0.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, "0.10.in-addr.arpa."},

		// Everything else.
		{"unknown name", "vpc-c", "nothing.invalid.", a, dns.RcodeNameError, nil, ""},
		{"unknown name publicly", Public, "nothing.invalid.", a, dns.RcodeNameError, nil, ""},
		{"first public zone of a name answers", Public, "www.example.com.", a, 0, []string{"www.example.com. 300 A 203.0.113.10"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := ask(t, v, c.view, c.q, c.qtype)
			if resp == nil {
				t.Fatal("no answer")
			}
			if resp.Rcode != c.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[c.rcode])
			}
			if got := show(resp.Answer); !slices.Equal(got, c.answer) {
				t.Errorf("answer\n got %q\nwant %q", got, c.answer)
			}
			soa := ""
			for _, rr := range resp.Ns {
				if rr.Header().Rrtype == dns.TypeSOA {
					soa = rr.Header().Name
				}
			}
			if soa != c.soa {
				t.Errorf("authority SOA %q, want %q (%v)", soa, c.soa, resp.Ns)
			}
			if !resp.Response || !resp.RecursionAvailable || resp.Authoritative || len(resp.Question) != 1 || resp.Question[0].Name != c.q {
				t.Errorf("header or question: %v", resp)
			}
		})
	}
}

// TestBuilderReuses checks that a Builder reuses what did not change and
// rebuilds what did: a changed record set, a new interface, a zone's alias
// to an endpoint whose interfaces changed.
func TestBuilderReuses(t *testing.T) {
	w := testWorld()
	bd := NewBuilder("us-east-1")
	v1 := bd.Build(w.s)

	// The same snapshot again: plain zones and EC2 names are the same
	// objects; a zone with aliases is compiled again.
	v2 := bd.Build(w.s)
	if v1.public["example.com."] != v2.public["example.com."] {
		t.Error("an unchanged public zone was compiled again")
	}
	if v1.vpcs["vpc-c"].internal["ec2.internal."] != v2.vpcs["vpc-c"].internal["ec2.internal."] {
		t.Error("unchanged EC2 names were built again")
	}
	if v1.vpcs["vpc-c"].private["internal.example."] == v2.vpcs["vpc-c"].private["internal.example."] {
		t.Error("a zone with aliases was reused")
	}

	// A new snapshot shares unchanged objects and replaces changed ones.
	s := *w.s
	s.RecordSets = map[string][]*core.ResourceRecordSet{}
	for id, sets := range w.s.RecordSets {
		s.RecordSets[id] = slices.Clone(sets)
	}
	for i, set := range s.RecordSets["Z2"] {
		if set.Name == "www.example.com." {
			c := *set
			c.Records = []string{"203.0.113.99"}
			s.RecordSets["Z2"][i] = &c
		}
	}
	s.ENIs = maps.Clone(w.s.ENIs)
	s.ENIs["eni-c2"] = &core.NetworkInterface{ID: "eni-c2", VpcID: "vpc-c", SubnetID: "sub-ca", AvailabilityZone: "us-east-1a",
		PrivateIP: netip.MustParseAddr("10.0.1.6"), InterfaceType: core.InterfaceTypeInstance}
	ep := *w.s.Endpoints[epC]
	ep.NetworkInterfaceIDs = ep.NetworkInterfaceIDs[:1] // the one in us-east-1b
	s.Endpoints = maps.Clone(w.s.Endpoints)
	s.Endpoints[epC] = &ep
	v3 := bd.Build(&s)
	cases := []struct {
		view, q string
		want    []string
	}{
		{Public, "www.example.com.", []string{"www.example.com. 300 A 203.0.113.99"}},
		{"vpc-c", "ip-10-0-1-6.ec2.internal.", []string{"ip-10-0-1-6.ec2.internal. 60 A 10.0.1.6"}},
		{"vpc-c", "alias.internal.example.", []string{"alias.internal.example. 60 A 10.0.2.100"}},
		{"vpc-c", "txt.internal.example.", nil}, // asked for A: NODATA
	}
	for _, c := range cases {
		if got := show(ask(t, v3, c.view, c.q, dns.TypeA).Answer); !slices.Equal(got, c.want) {
			t.Errorf("%s in %q: %q, want %q", c.q, c.view, got, c.want)
		}
	}
	if v3.public["example.com."] == v2.public["example.com."] {
		t.Error("a changed zone was reused")
	}
}
