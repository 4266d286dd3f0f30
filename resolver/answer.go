package resolver

import (
	"strings"

	"github.com/miekg/dns"
)

const (
	// maxChain bounds the CNAMEs followed for one query; a longer chain (a
	// loop) is SERVFAIL, as recursive resolvers answer.
	maxChain = 8
	// maxUDPSize is the largest answer sent over UDP, and the size the
	// resolvers advertise with EDNS.
	maxUDPSize = 4096
)

// Answer answers a query as the resolver of the VPC whose ID is view, or as
// public DNS when view is Public. It returns nil when nothing must be sent:
// for a message that is itself a response, and for a VPC whose
// enableDnsSupport is off, where AWS runs no resolver and clients time out.
// A nil View (nothing loaded yet) answers SERVFAIL, which clients retry.
//
// The answer is recursive (RA set, AA clear), as the Route 53 Resolver's
// are. Its records may be shared with other answers: never modify them.
func (v *View) Answer(view string, req *dns.Msg) *dns.Msg {
	if req.Response {
		return nil
	}
	resp := &dns.Msg{MsgHdr: dns.MsgHdr{
		Id: req.Id, Response: true, Opcode: req.Opcode, RecursionDesired: req.RecursionDesired,
		RecursionAvailable: true, CheckingDisabled: req.CheckingDisabled,
	}}
	if len(req.Question) == 1 {
		resp.Question = []dns.Question{req.Question[0]}
	}
	opt := req.IsEdns0()
	if opt != nil {
		resp.SetEdns0(maxUDPSize, false)
	}
	switch {
	case req.Opcode != dns.OpcodeQuery:
		resp.Rcode = dns.RcodeNotImplemented
		return resp
	case len(req.Question) != 1:
		resp.Rcode = dns.RcodeFormatError
		return resp
	case opt != nil && opt.Version() != 0:
		resp.Rcode = dns.RcodeBadVers // RFC 6891 §6.1.3
		return resp
	}
	q := req.Question[0]
	if _, ok := dns.IsDomainName(q.Name); !ok || !dns.IsFqdn(q.Name) {
		resp.Question = nil // it would not pack
		resp.Rcode = dns.RcodeFormatError
		return resp
	}
	switch {
	case q.Qclass != dns.ClassINET, q.Qtype == dns.TypeAXFR, q.Qtype == dns.TypeIXFR:
		resp.Rcode = dns.RcodeRefused
		return resp
	case v == nil:
		resp.Rcode = dns.RcodeServerFailure
		return resp
	}
	var vv *vpcView
	if view != Public {
		if vv = v.vpcs[view]; vv == nil {
			resp.Rcode = dns.RcodeRefused
			return resp
		}
		if !vv.support {
			return nil
		}
	}
	v.resolve(vv, q, resp)
	return resp
}

// zoneFor is the zone that answers for a name in a VPC's view (vv) or the
// public view (vv nil): the VPC's private zones first, then EC2's names,
// then public DNS; the longest zone name within each.
func (v *View) zoneFor(vv *vpcView, name string) *zone {
	if vv != nil {
		if z := vv.private.find(name); z != nil {
			return z
		}
		if z := vv.internal.find(name); z != nil {
			return z
		}
	}
	return v.public.find(name)
}

// resolve fills in the answer, following CNAMEs within the view. The
// response code is that of the last name of the chain (RFC 6604).
func (v *View) resolve(vv *vpcView, q dns.Question, resp *dns.Msg) {
	name := q.Name
	lname := strings.ToLower(name)
	for range maxChain {
		z := v.zoneFor(vv, lname)
		if z == nil {
			resp.Rcode = dns.RcodeNameError
			return
		}
		n, wild := z.find(lname)
		if n == nil {
			resp.Rcode = dns.RcodeNameError
			resp.Ns = z.negative
			return
		}
		owner := ""
		if wild {
			owner = name // a wildcard's records answer for the name asked
		}
		if q.Qtype == dns.TypeANY {
			for _, s := range n.sets {
				resp.Answer = appendRRs(resp.Answer, s.rrs, owner, resp.Id)
			}
			if len(n.sets) == 0 {
				resp.Ns = z.negative
			}
			return
		}
		if rrs := n.get(q.Qtype); rrs != nil {
			resp.Answer = appendRRs(resp.Answer, rrs, owner, resp.Id)
			return
		}
		cname := n.get(dns.TypeCNAME)
		if cname == nil || q.Qtype == dns.TypeCNAME {
			resp.Ns = z.negative // NODATA
			return
		}
		resp.Answer = appendRRs(resp.Answer, cname, owner, 0)
		name = cname[0].(*dns.CNAME).Target
		lname = name
	}
	resp.Rcode = dns.RcodeServerFailure
	resp.Answer = nil
}

// appendRRs appends a record set starting at a position chosen by rot, so
// that successive queries (with their random IDs) see a set's records in
// turn at the front, as Route 53 varies their order. A non-empty owner
// renames copies of the records.
func appendRRs(dst, rrs []dns.RR, owner string, rot uint16) []dns.RR {
	start := int(rot) % len(rrs)
	for i := range rrs {
		rr := rrs[(start+i)%len(rrs)]
		if owner != "" {
			rr = dns.Copy(rr)
			rr.Header().Name = owner
		}
		dst = append(dst, rr)
	}
	return dst
}
