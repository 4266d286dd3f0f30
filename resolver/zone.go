package resolver

import (
	"strings"

	"github.com/miekg/dns"
)

// Names inside a View are in miekg/dns presentation form, fully qualified
// and lower-cased, which is also how a query's name reads once lower-cased:
// map lookups compare them as plain strings.

// zone is one zone's records, indexed by owner name. It is never modified
// once built.
type zone struct {
	origin string
	// negative is the SOA that goes in the authority section of NXDOMAIN and
	// NODATA answers, its TTL already lowered to the SOA's minimum (RFC
	// 2308 §3); nil for none.
	negative []dns.RR
	// nodes holds every owner name of the zone and every empty
	// non-terminal between them and the origin, so that a name that exists
	// with no records is told from one that does not exist.
	nodes     map[string]*node
	wildcards bool // some owner name starts with "*."
}

// node is the records at one owner name.
type node struct {
	sets []rrset
}

// rrset is the records of one type at one name.
type rrset struct {
	rrtype uint16
	rrs    []dns.RR
}

func newZone(origin string) *zone {
	return &zone{origin: origin, nodes: map[string]*node{origin: {}}}
}

// get returns the records of one type, or nil.
func (n *node) get(t uint16) []dns.RR {
	for i := range n.sets {
		if n.sets[i].rrtype == t {
			return n.sets[i].rrs
		}
	}
	return nil
}

func (n *node) add(rr dns.RR) {
	t := rr.Header().Rrtype
	for i := range n.sets {
		if n.sets[i].rrtype == t {
			n.sets[i].rrs = append(n.sets[i].rrs, rr)
			return
		}
	}
	n.sets = append(n.sets, rrset{rrtype: t, rrs: []dns.RR{rr}})
}

// name returns the node of an owner name in the zone, making it and the
// empty non-terminals above it. It returns nil for a name outside the zone.
func (z *zone) name(owner string) *node {
	if n := z.nodes[owner]; n != nil {
		return n
	}
	if !subdomain(owner, z.origin) {
		return nil
	}
	n := &node{}
	z.nodes[owner] = n
	if strings.HasPrefix(owner, "*.") {
		z.wildcards = true
	}
	// The origin is always a node, so the walk stops there at the latest.
	for off, end := dns.NextLabel(owner, 0); !end; off, end = dns.NextLabel(owner, off) {
		p := owner[off:]
		if z.nodes[p] != nil {
			break
		}
		z.nodes[p] = &node{}
	}
	return n
}

// subdomain reports whether name is origin or below it.
func subdomain(name, origin string) bool {
	if name == origin || origin == "." {
		return true
	}
	if !strings.HasSuffix(name, "."+origin) {
		return false
	}
	if strings.IndexByte(name, '\\') < 0 {
		return true
	}
	// An escaped dot (a\.example.com.) is part of a label.
	return dns.IsSubDomain(origin, name)
}

// add puts a record under its owner name. Records outside the zone are
// dropped.
func (z *zone) add(rr dns.RR) {
	if n := z.name(rr.Header().Name); n != nil {
		n.add(rr)
	}
}

// setSOA makes soa the zone's SOA for negative answers.
func (z *zone) setSOA(soa *dns.SOA) {
	neg := dns.Copy(soa).(*dns.SOA)
	neg.Hdr.Name = z.origin
	neg.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	z.negative = []dns.RR{neg}
}

// find looks a lower-case name up. wild reports that the node is a wildcard
// standing in for the name (RFC 4592): its records must be given the name.
func (z *zone) find(name string) (n *node, wild bool) {
	if n := z.nodes[name]; n != nil {
		return n, false
	}
	if !z.wildcards {
		return nil, false
	}
	// The closest encloser is the longest ancestor that exists; only a
	// wildcard directly under it may answer.
	for off, end := dns.NextLabel(name, 0); !end; off, end = dns.NextLabel(name, off) {
		p := name[off:]
		if z.nodes[p] == nil {
			continue
		}
		if w := z.nodes["*."+p]; w != nil {
			return w, true
		}
		return nil, false
	}
	return nil, false
}

// zoneSet is zones by origin; the longest origin that contains a name is
// the zone that answers for it.
type zoneSet map[string]*zone

func (zs zoneSet) find(name string) *zone {
	if len(zs) == 0 {
		return nil
	}
	off := 0
	for {
		if z := zs[name[off:]]; z != nil {
			return z
		}
		var end bool
		if off, end = dns.NextLabel(name, off); end {
			return nil
		}
	}
}
