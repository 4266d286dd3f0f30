package resolver

import (
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// TestAnswerProtocol covers what a resolver does with queries it does not
// look up: other opcodes, question counts, EDNS versions, classes, zone
// transfers, unknown VPCs, a VPC without DNS support, no view yet.
func TestAnswerProtocol(t *testing.T) {
	v := NewView(testWorld().s, "us-east-1")
	query := func(edit func(m *dns.Msg)) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(regionalC, dns.TypeA)
		m.Id = 4242
		if edit != nil {
			edit(m)
		}
		return m
	}
	cases := []struct {
		name  string
		view  *View
		sel   string
		req   *dns.Msg
		rcode int // -1: no answer at all
	}{
		{"plain query", v, "vpc-c", query(nil), dns.RcodeSuccess},
		{"VPC without DNS support is silent", v, "vpc-x", query(nil), -1},
		{"unknown VPC", v, "vpc-gone", query(nil), dns.RcodeRefused},
		{"no view yet", nil, "vpc-c", query(nil), dns.RcodeServerFailure},
		{"a response is not answered", v, Public, query(func(m *dns.Msg) { m.Response = true }), -1},
		{"NOTIFY", v, Public, query(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), dns.RcodeNotImplemented},
		{"UPDATE", v, Public, query(func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }), dns.RcodeNotImplemented},
		{"no question", v, Public, query(func(m *dns.Msg) { m.Question = nil }), dns.RcodeFormatError},
		{"two questions", v, Public, query(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), dns.RcodeFormatError},
		{"EDNS version 1", v, Public, query(func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }), dns.RcodeBadVers},
		{"EDNS version 0", v, Public, query(func(m *dns.Msg) { m.SetEdns0(1232, true) }), dns.RcodeSuccess},
		{"class CH", v, Public, query(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), dns.RcodeRefused},
		{"AXFR", v, "vpc-c", query(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAXFR }), dns.RcodeRefused},
		{"IXFR", v, "vpc-c", query(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeIXFR }), dns.RcodeRefused},
		{"name not fully qualified", v, Public, query(func(m *dns.Msg) { m.Question[0].Name = "example.com" }), dns.RcodeFormatError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := c.view.Answer(c.sel, c.req)
			if c.rcode == -1 {
				if resp != nil {
					t.Fatalf("answered %v", resp)
				}
				return
			}
			if resp == nil {
				t.Fatal("no answer")
			}
			b, err := resp.Pack()
			if err != nil {
				t.Fatalf("pack: %v", err)
			}
			got := new(dns.Msg)
			if err := got.Unpack(b); err != nil {
				t.Fatal(err)
			}
			if got.Rcode != c.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[c.rcode])
			}
			if got.Id != c.req.Id || !got.Response || got.Opcode != c.req.Opcode || got.RecursionDesired != c.req.RecursionDesired {
				t.Errorf("header %+v for request %+v", got.MsgHdr, c.req.MsgHdr)
			}
			if (c.req.IsEdns0() != nil) != (got.IsEdns0() != nil) {
				t.Errorf("EDNS in the request %v, in the answer %v", c.req.IsEdns0(), got.IsEdns0())
			}
			if opt := got.IsEdns0(); opt != nil && (opt.Version() != 0 || opt.Do() || opt.UDPSize() != maxUDPSize) {
				t.Errorf("answer's OPT %v", opt)
			}
		})
	}
}

// TestAnswerRotates checks that the records of a set take turns at the
// front, so clients that take the first address spread over the zones.
func TestAnswerRotates(t *testing.T) {
	v := NewView(testWorld().s, "us-east-1")
	firsts := map[string]bool{}
	for id := range uint16(4) {
		m := new(dns.Msg)
		m.SetQuestion(regionalC, dns.TypeA)
		m.Id = id
		resp := v.Answer(Public, m)
		got := show(resp.Answer)
		slices.Sort(got)
		if want := []string{regionalC + " 60 A 10.0.1.100", regionalC + " 60 A 10.0.2.100"}; !slices.Equal(got, want) {
			t.Fatalf("id %d: %q", id, got)
		}
		firsts[resp.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 2 {
		t.Errorf("first addresses over 4 queries: %v, want both", firsts)
	}
}

// TestInstanceNamesOutsideUSEast1 checks EC2's other naming scheme:
// ip-…​.<region>.compute.internal.
func TestInstanceNamesOutsideUSEast1(t *testing.T) {
	w := newWorld()
	w.vpc("vpc-1", "172.31.0.0/16", true, true)
	w.subnet("sub-1", "vpc-1", "172.31.16.0/20", "eu-west-1a")
	w.eni("eni-1", "sub-1", "172.31.20.7", "interface", "")
	v := NewView(w.s, "eu-west-1")
	cases := []struct {
		q     string
		qtype uint16
		want  []string
	}{
		{"ip-172-31-20-7.eu-west-1.compute.internal.", dns.TypeA, []string{"ip-172-31-20-7.eu-west-1.compute.internal. 60 A 172.31.20.7"}},
		{"7.20.31.172.in-addr.arpa.", dns.TypePTR, []string{"7.20.31.172.in-addr.arpa. 60 PTR ip-172-31-20-7.eu-west-1.compute.internal."}},
		{"ip-172-31-20-7.ec2.internal.", dns.TypeA, nil},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			resp := ask(t, v, "vpc-1", c.q, c.qtype)
			if got := show(resp.Answer); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestReverseZone(t *testing.T) {
	for cidr, want := range map[string]string{
		"10.0.0.0/16":    "0.10.in-addr.arpa.",
		"10.0.16.0/20":   "0.10.in-addr.arpa.",
		"192.168.1.0/24": "1.168.192.in-addr.arpa.",
		"10.0.0.0/8":     "10.in-addr.arpa.",
		"10.1.2.16/28":   "2.1.10.in-addr.arpa.",
	} {
		if got := reverseZone(mustPrefix(cidr)); got != want {
			t.Errorf("%s: %s, want %s", cidr, got, want)
		}
	}
}
