package resolver

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/privlink/privlink/core"
)

// canonical turns a name in any presentation form miekg/dns reads (such as
// core.DNSName's) into the View's form: fully qualified, lower-case, with
// miekg's own escapes. ok is false for a name that does not parse.
func canonical(name string) (string, bool) {
	if plainName(name) {
		return dns.Fqdn(name), true
	}
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return "", false
	}
	s, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return "", false
	}
	return strings.ToLower(s), true
}

// plainName reports whether a name has only bytes that read the same in
// every presentation form, lower-case, and labels of a valid length, so
// that canonical need not parse it: the names AWS makes always do.
func plainName(name string) bool {
	if len(name) == 0 || len(name) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '*':
		default:
			return false
		}
		if label++; label > 63 {
			return false
		}
	}
	return true
}

// route53Name is a stored Route 53 name in the View's form.
func route53Name(stored string) (string, bool) {
	if plainName(stored) {
		// Route 53's canonical form escapes every other byte, and the
		// wildcard label is \052, so this name reads the same in both.
		return dns.Fqdn(stored), true
	}
	return canonical(core.DNSName(stored))
}

func header(owner string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// addressRecords are A (and AAAA) records of owner for addrs.
func addressRecords(owner string, ttl uint32, addrs []netip.Addr) []dns.RR {
	out := make([]dns.RR, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4() {
			out = append(out, &dns.A{Hdr: header(owner, dns.TypeA, ttl), A: a.AsSlice()})
		} else if a.Is6() {
			out = append(out, &dns.AAAA{Hdr: header(owner, dns.TypeAAAA, ttl), AAAA: a.AsSlice()})
		}
	}
	return out
}

// recordSet compiles a stored record set that has values (not an alias)
// into records owned by owner. Values core would not have stored are
// skipped.
func recordSet(owner string, set *core.ResourceRecordSet) []dns.RR {
	ttl := uint32(min(max(set.TTL, 0), 1<<31-1))
	out := make([]dns.RR, 0, len(set.Records))
	for _, v := range set.Records {
		if rr := recordValue(header(owner, 0, ttl), set.Type, v); rr != nil {
			out = append(out, rr)
		}
	}
	return out
}

// recordValue parses one value in Route 53's text form.
func recordValue(h dns.RR_Header, typ, v string) dns.RR {
	name := func(s string) (string, bool) { return route53Name(s) }
	f := strings.Fields(v)
	switch typ {
	case "A", "AAAA":
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" || a.Is4() != (typ == "A") {
			return nil
		}
		return addressRecords(h.Name, h.Ttl, []netip.Addr{a})[0]
	case "CNAME":
		if t, ok := name(v); ok {
			h.Rrtype = dns.TypeCNAME
			return &dns.CNAME{Hdr: h, Target: t}
		}
	case "NS":
		if t, ok := name(v); ok {
			h.Rrtype = dns.TypeNS
			return &dns.NS{Hdr: h, Ns: t}
		}
	case "PTR":
		if t, ok := name(v); ok {
			h.Rrtype = dns.TypePTR
			return &dns.PTR{Hdr: h, Ptr: t}
		}
	case "MX":
		if len(f) != 2 {
			return nil
		}
		pref, err := strconv.ParseUint(f[0], 10, 16)
		t, ok := name(f[1])
		if err == nil && ok {
			h.Rrtype = dns.TypeMX
			return &dns.MX{Hdr: h, Preference: uint16(pref), Mx: t}
		}
	case "SRV":
		if len(f) != 4 {
			return nil
		}
		var n [3]uint16
		for i := range n {
			u, err := strconv.ParseUint(f[i], 10, 16)
			if err != nil {
				return nil
			}
			n[i] = uint16(u)
		}
		if t, ok := name(f[3]); ok {
			h.Rrtype = dns.TypeSRV
			return &dns.SRV{Hdr: h, Priority: n[0], Weight: n[1], Port: n[2], Target: t}
		}
	case "TXT", "SPF":
		s := core.TXTStrings(v)
		if len(s) == 0 {
			return nil
		}
		txt := make([]string, len(s))
		for i, x := range s {
			txt[i] = escapeTXT(x)
		}
		if typ == "SPF" {
			h.Rrtype = dns.TypeSPF
			return &dns.SPF{Hdr: h, Txt: txt}
		}
		h.Rrtype = dns.TypeTXT
		return &dns.TXT{Hdr: h, Txt: txt}
	case "CAA":
		parts := strings.SplitN(v, " ", 3)
		if len(parts) != 3 {
			return nil
		}
		flag, err := strconv.ParseUint(parts[0], 10, 8)
		s := core.TXTStrings(parts[2])
		if err != nil || len(s) != 1 {
			return nil
		}
		h.Rrtype = dns.TypeCAA
		return &dns.CAA{Hdr: h, Flag: uint8(flag), Tag: parts[1], Value: s[0]}
	case "SOA":
		if len(f) != 7 {
			return nil
		}
		ns, ok1 := name(f[0])
		mbox, ok2 := name(f[1])
		var n [5]uint32
		for i := range n {
			u, err := strconv.ParseUint(f[2+i], 10, 32)
			if err != nil {
				return nil
			}
			n[i] = uint32(u)
		}
		if ok1 && ok2 {
			h.Rrtype = dns.TypeSOA
			return &dns.SOA{Hdr: h, Ns: ns, Mbox: mbox, Serial: n[0], Refresh: n[1], Retry: n[2], Expire: n[3], Minttl: n[4]}
		}
	}
	return nil
}

// escapeTXT writes a character string's bytes in the escaped form miekg/dns
// packs TXT strings from.
func escapeTXT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			b.WriteByte('\\')
			b.WriteString(strconv.Itoa(int(c)/100) + strconv.Itoa(int(c)/10%10) + strconv.Itoa(int(c)%10))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// reowned returns copies of rrs owned by name.
func reowned(rrs []dns.RR, name string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = name
		out[i] = c
	}
	return out
}
