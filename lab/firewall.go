package lab

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Security groups compile to one nftables table per router namespace,
// replaced in one netlink batch whenever it changes:
//
//	table inet privlink
//	  set router          router addresses (gateways, resolver); instances
//	                      always reach them, as AWS's DNS is never filtered
//	  set endpoints       endpoint interface addresses
//	  map egress          instance address → jump to its groups' egress chain;
//	                      load balancer node → goto admit-ingress
//	  map ingress         instance or endpoint address → jump to its groups'
//	                      ingress chain; load balancer node → accept
//	  chain prerouting    hook prerouting at mangle priority, before the
//	                      endpoint NAT: a TCP segment that opens a flow
//	                      without SYN → reset; new flows to an endpoint →
//	                      endpoint-new
//	  chain endpoint-new  egress map, else drop
//	  chain forward       hook forward, instance → instance; flows the
//	                      endpoint NAT translated were judged in prerouting
//	  chain input         hook input, instance → an address of the router;
//	                      flows the endpoint NAT translated to a local socket
//	                      were judged in prerouting
//	  chain output        hook output, router (load balancer node) → instance
//	  chain admit-ingress egress has admitted a new flow; ingress decides
//	  chain <sg>-egress   one rule per egress rule: match → goto admit-ingress
//	  chain <sg>-ingress  one rule per ingress rule: match → accept
//	  chain groups-<n>-egress, groups-<n>-ingress
//	                      for interfaces with several groups: jump to each
//	  set <sg>-egress-<i>, <sg>-ingress-<i>
//	                      the peers of rule i, when they are not one prefix
//
// A new flow from an instance walks: base chain → egress map → the source's
// group chains; the first matching egress rule goes (without return) to
// admit-ingress → ingress map → the destination's group chains; the first
// matching ingress rule accepts. Whatever finds no match falls back to a
// drop, never a reject, so a client sees a timeout as on AWS. Established
// and related packets are accepted first, so rules judge only new flows.
// Rule count grows with security group rules, map size with interfaces.

// New flows a router drops are logged to nflog, so that the server can say
// why (see WatchDrops): at most dropLogRate a second per rule, after a
// burst, so a flood costs little.
const (
	// DropLogPrefix starts the prefix of every logged drop; the chain
	// that dropped the packet follows.
	DropLogPrefix = "privlink drop "
	dropLogGroup  = 1
	dropLogRate   = 5
	dropLogBurst  = 10
)

// Table, chain and map names of the compiled firewall.
const (
	tableName    = "privlink"
	setRouter    = "router"
	mapEgress    = "egress"
	mapIngress   = "ingress"
	setEndpoints = "endpoints"
	chainAdmitIn = "admit-ingress"
	// chainEndpointNew judges a new flow to an endpoint interface.
	chainEndpointNew = "endpoint-new"
)

// ruleset is a compiled firewall: what goes into the table, in order.
type ruleset struct {
	sets   []nfSet
	chains []nfChain
}

// nfSet is a named interval set of IPv4 addresses, or a verdict map keyed
// by IPv4 address or (byMark) by packet mark.
type nfSet struct {
	name   string
	isMap  bool
	byMark bool
	ranges []addrRange // of a set: disjoint, sorted
	elems  []mapElem   // of a map: sorted by key
}

type mapElem struct {
	addr    netip.Addr
	mark    uint32 // the key of a map by mark
	verdict verdict
}

// nfChain is a chain; hook is "" for a regular chain. Base chains have
// filter priority and drop what no rule accepts, except prerouting, which
// runs at mangle priority (before destination NAT) and lets through what it
// does not drop, and postrouting (the shared fabric's only), which runs
// just after source NAT and lets through what it does not drop.
type nfChain struct {
	name  string
	hook  string // "prerouting", "forward", "input" or "output"
	rules []nfRule
}

// nfRule is a conjunction of matches and a verdict, kept in the order they
// are evaluated.
type nfRule struct {
	ctState uint32 // match when any of these ct state bits is set
	ctDNAT  bool   // the flow's destination was translated
	// ctMarked matches a flow with a conntrack mark: in the shared
	// fabric, an endpoint flow (fabric_nat_linux.go).
	ctMarked bool
	iifLo    bool // the packet came in on lo
	oifLo    bool // the packet goes out on lo
	notIPv4  bool // the packet is not IPv4
	// orphanTCP matches a TCP segment with neither SYN nor RST: as the
	// first packet of a flow, one whose state is gone (it idled out, or
	// its endpoint or target was taken away).
	orphanTCP bool
	// logDrop, when set, logs the packet to nflog group dropLogGroup with
	// this prefix (at most dropLogRate a second) and goes on: the rule
	// has no verdict.
	logDrop  string
	src, dst addrMatch
	proto    int // IP protocol; -1 for any
	ports    *portRange
	vmap     *vmapMatch // the verdict comes from a map
	verdict  verdict
}

type addrMatch struct {
	prefix netip.Prefix // valid: match this prefix
	set    string       // non-empty: match this named set
}

type portRange struct{ from, to uint16 }

type vmapMatch struct {
	dst  bool // key on the destination address, else the source
	mark bool // key on the packet's mark instead
	name string
}

type verdictKind int

const (
	vAccept verdictKind = iota + 1
	vDrop
	vJump
	vGoto
	vReset // reject with a TCP reset
)

type verdict struct {
	kind  verdictKind
	chain string
}

// ct state bits as the kernel numbers them.
const (
	ctInvalid     = 1
	ctEstablished = 2
	ctRelated     = 4
	ctNew         = 8
)

// ctStatusDNAT is conntrack's status bit of a flow whose destination was
// translated.
const ctStatusDNAT = 1 << 5

// IP protocol numbers the rules name.
const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
)

// addrRange is an inclusive range of IPv4 addresses.
type addrRange struct{ first, last netip.Addr }

// compileFirewall turns a VPC's security groups into a ruleset. router are
// the addresses instances may always reach. Problems (a bad protocol, a
// duplicate address) leave the offending rule or interface out — which
// admits less, never more — and are returned joined beside the ruleset.
func compileFirewall(fw Firewall, router []netip.Addr) (*ruleset, error) {
	c := compiler{fw: fw, groupSets: map[string]string{}}
	c.compile(router)
	var errs []error
	seen := map[string]bool{}
	for _, err := range c.errs {
		if !seen[err.Error()] {
			seen[err.Error()] = true
			errs = append(errs, err)
		}
	}
	return &c.rs, errors.Join(errs...)
}

type compiler struct {
	fw        Firewall
	rs        ruleset
	errs      []error
	groupSets map[string]string // sorted group IDs joined by "," → "groups-<n>"
	chains    []nfChain         // group and group-set chains, sorted later
	sets      []nfSet           // peer sets
	done      map[string]bool   // group chains compiled, by chain name
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

func (c *compiler) compile(router []netip.Addr) {
	c.done = map[string]bool{}
	ifaces := slices.Clone(c.fw.Interfaces)
	slices.SortStableFunc(ifaces, func(a, b Interface) int { return a.Addr.Compare(b.Addr) })

	var egress, ingress []mapElem
	var endpoints []addrRange
	seen := map[netip.Addr]bool{}
	for _, in := range ifaces {
		if !in.Addr.Is4() {
			c.errorf("lab: interface address %v: only IPv4 is supported", in.Addr)
			continue
		}
		if seen[in.Addr] {
			c.errorf("lab: interface address %v appears twice; its later entries are ignored", in.Addr)
			continue
		}
		seen[in.Addr] = true
		switch in.Kind {
		case KindInstance:
			if v, ok := c.groupsVerdict(in.Groups, "egress"); ok {
				egress = append(egress, mapElem{addr: in.Addr, verdict: v})
			}
			if v, ok := c.groupsVerdict(in.Groups, "ingress"); ok {
				ingress = append(ingress, mapElem{addr: in.Addr, verdict: v})
			}
		case KindEndpoint:
			endpoints = append(endpoints, addrRange{in.Addr, in.Addr})
			if v, ok := c.groupsVerdict(in.Groups, "ingress"); ok {
				ingress = append(ingress, mapElem{addr: in.Addr, verdict: v})
			}
		case KindLoadBalancer:
			// A node has no security group: it sends to anyone (whose
			// ingress rules then judge it) and anyone may reach it.
			egress = append(egress, mapElem{addr: in.Addr, verdict: verdict{kind: vGoto, chain: chainAdmitIn}})
			ingress = append(ingress, mapElem{addr: in.Addr, verdict: verdict{kind: vAccept}})
		default:
			c.errorf("lab: interface %v: unknown kind %v", in.Addr, in.Kind)
		}
	}

	var routerRanges []addrRange
	for _, a := range router {
		if a.Is4() {
			routerRanges = append(routerRanges, addrRange{a, a})
		}
	}
	c.rs.sets = append(c.rs.sets,
		nfSet{name: setRouter, ranges: mergeRanges(routerRanges)},
		nfSet{name: setEndpoints, ranges: mergeRanges(endpoints)},
		nfSet{name: mapEgress, isMap: true, elems: egress},
		nfSet{name: mapIngress, isMap: true, elems: ingress},
	)
	slices.SortFunc(c.sets, func(a, b nfSet) int { return strings.Compare(a.name, b.name) })
	c.rs.sets = append(c.rs.sets, c.sets...)

	stateful := []nfRule{
		{ctState: ctEstablished | ctRelated, proto: -1, verdict: verdict{kind: vAccept}},
		{ctState: ctInvalid, proto: -1, verdict: verdict{kind: vDrop}},
	}
	notIPv4 := nfRule{notIPv4: true, proto: -1, verdict: verdict{kind: vDrop}}
	accept := verdict{kind: vAccept}
	c.rs.chains = append(c.rs.chains,
		// An endpoint's listeners are translated towards a transit link
		// before the filter hooks, so its new flows are judged here, on the
		// address the client asked for, and forward lets them through.
		//
		// A segment that opens no flow but belongs to one the router no
		// longer tracks is answered with a reset, so the peer learns at
		// once that the flow is over (as an NLB answers after its idle
		// timeout, or when an endpoint is gone) instead of retransmitting
		// into silence. It is judged before routing, as the address it
		// was sent to may be gone.
		nfChain{name: "prerouting", hook: "prerouting", rules: []nfRule{
			{ctState: ctNew, orphanTCP: true, proto: -1, verdict: verdict{kind: vReset}},
			{ctState: ctNew, dst: addrMatch{set: setEndpoints}, proto: -1, verdict: verdict{kind: vJump, chain: chainEndpointNew}},
		}},
		nfChain{name: chainEndpointNew, rules: []nfRule{
			{proto: -1, vmap: &vmapMatch{name: mapEgress}},
			{proto: -1, logDrop: DropLogPrefix + chainEndpointNew + " "},
			{proto: -1, verdict: verdict{kind: vDrop}},
		}},
		nfChain{name: "forward", hook: "forward", rules: append(slices.Clone(stateful),
			nfRule{ctDNAT: true, proto: -1, verdict: accept},
			notIPv4,
			nfRule{proto: -1, vmap: &vmapMatch{name: mapEgress}},
		)},
		// In the shared fabric, new flows to an endpoint's address reach
		// the sockets of its PROXY protocol listeners translated to their
		// service address (EndpointSocket), judged in prerouting as above.
		nfChain{name: "input", hook: "input", rules: append(slices.Clone(stateful),
			nfRule{ctDNAT: true, proto: -1, verdict: accept},
			nfRule{iifLo: true, proto: -1, verdict: accept},
			notIPv4,
			nfRule{dst: addrMatch{set: setRouter}, proto: -1, verdict: accept},
			nfRule{proto: -1, vmap: &vmapMatch{name: mapEgress}},
		)},
		nfChain{name: "output", hook: "output", rules: append(slices.Clone(stateful),
			nfRule{oifLo: true, proto: -1, verdict: accept},
			notIPv4,
			nfRule{proto: -1, vmap: &vmapMatch{dst: true, name: mapIngress}},
		)},
		nfChain{name: chainAdmitIn, rules: []nfRule{
			{proto: -1, vmap: &vmapMatch{dst: true, name: mapIngress}},
			{proto: -1, logDrop: DropLogPrefix + chainAdmitIn + " "},
			{proto: -1, verdict: verdict{kind: vDrop}},
		}},
	)
	slices.SortFunc(c.chains, func(a, b nfChain) int { return strings.Compare(a.name, b.name) })
	c.rs.chains = append(c.rs.chains, c.chains...)
}

// vpcRuleset is one VPC's compiled firewall in the shared fabric.
type vpcRuleset struct {
	number int // the VPC's number: its packets' mark
	id     string
	rs     *ruleset
}

// fabricRuleset joins the firewalls of the VPCs in the shared fabric into
// one table. Each VPC's sets and chains are named "v<number>-…", its base
// chains become regular chains, and the table's base chains send a packet
// to those of its VPC by its mark (a verdict map per hook), with the same
// policies as a router's; what carries no VPC's mark is dropped, except
// on lo. Drops are logged with the VPC's ID after the chain's name, as one
// log serves every VPC.
func fabricRuleset(vpcs []vpcRuleset) *ruleset {
	out := &ruleset{}
	dispatch := map[string][]mapElem{}
	for _, v := range slices.SortedFunc(slices.Values(vpcs), func(a, b vpcRuleset) int { return a.number - b.number }) {
		prefix := "v" + strconv.Itoa(v.number) + "-"
		scope := func(name string) string { return prefix + name }
		scopeVerdict := func(vd verdict) verdict {
			if vd.chain != "" {
				vd.chain = scope(vd.chain)
			}
			return vd
		}
		for _, s := range v.rs.sets {
			s.name = scope(s.name)
			s.elems = slices.Clone(s.elems)
			for i := range s.elems {
				s.elems[i].verdict = scopeVerdict(s.elems[i].verdict)
			}
			out.sets = append(out.sets, s)
		}
		// An endpoint flow crosses from its consumer's VPC into its
		// provider's, translated once: after its source becomes the load
		// balancer node's, the target's ingress rules judge it in the
		// provider's admit-ingress, as a flow from the node.
		dispatch["postrouting"] = append(dispatch["postrouting"],
			mapElem{mark: uint32(v.number), verdict: verdict{kind: vGoto, chain: scope(chainAdmitIn)}})
		for _, ch := range v.rs.chains {
			ch.rules = slices.Clone(ch.rules)
			if ch.hook == "prerouting" {
				// A reset sent from prerouting finds no route in the
				// fabric: orphans go on to the NAT, which sends them to
				// fabricResetAddr, before any rule may drop them (an
				// endpoint's address drops everything once it carries
				// no traffic).
				for i, r := range ch.rules {
					if r.orphanTCP {
						ch.rules[i].verdict = verdict{kind: vAccept}
					}
				}
			}
			if ch.hook != "" {
				dispatch[ch.hook] = append(dispatch[ch.hook],
					mapElem{mark: uint32(v.number), verdict: verdict{kind: vGoto, chain: scope(ch.name)}})
			}
			ch.name, ch.hook = scope(ch.name), ""
			for i := range ch.rules {
				r := &ch.rules[i]
				r.src.set, r.dst.set = scopeName(prefix, r.src.set), scopeName(prefix, r.dst.set)
				if r.vmap != nil {
					m := *r.vmap
					m.name = scope(m.name)
					r.vmap = &m
				}
				if r.logDrop != "" {
					r.logDrop = strings.TrimSpace(r.logDrop) + " " + v.id + " "
				}
				r.verdict = scopeVerdict(r.verdict)
			}
			out.chains = append(out.chains, ch)
		}
	}
	var sets []nfSet
	var base []nfChain
	for _, hook := range []string{"prerouting", "forward", "input", "output", "postrouting"} {
		name := "vpc-" + hook
		sets = append(sets, nfSet{name: name, isMap: true, byMark: true, elems: dispatch[hook]})
		ch := nfChain{name: hook, hook: hook}
		switch hook {
		case "input":
			ch.rules = append(ch.rules, nfRule{iifLo: true, proto: -1, verdict: verdict{kind: vAccept}})
		case "output":
			ch.rules = append(ch.rules, nfRule{oifLo: true, proto: -1, verdict: verdict{kind: vAccept}})
		}
		r := nfRule{proto: -1, vmap: &vmapMatch{mark: true, name: name}}
		if hook == "postrouting" {
			r.ctState, r.ctMarked = ctNew, true
		}
		ch.rules = append(ch.rules, r)
		base = append(base, ch)
	}
	out.sets = append(sets, out.sets...)
	out.chains = append(base, out.chains...)
	return out
}

func scopeName(prefix, name string) string {
	if name == "" {
		return ""
	}
	return prefix + name
}

// groupsVerdict returns where an interface with these groups goes for one
// direction: straight to the group's chain for one group, to a chain that
// tries each group for several. An interface without groups gets no map
// entry, so nothing admits its traffic.
func (c *compiler) groupsVerdict(groups []string, dir string) (verdict, bool) {
	ids := slices.Clone(groups)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ids = slices.DeleteFunc(ids, func(id string) bool {
		if validGroupID(id) {
			return false
		}
		c.errorf("lab: invalid security group ID %q: want sg- and letters, digits, '-', '_' or '.'", id)
		return true
	})
	if len(ids) == 0 {
		return verdict{}, false
	}
	for _, id := range ids {
		c.groupChain(id, dir)
	}
	if len(ids) == 1 {
		return verdict{kind: vJump, chain: ids[0] + "-" + dir}, true
	}
	key := strings.Join(ids, ",")
	base, ok := c.groupSets[key]
	if !ok {
		base = "groups-" + strconv.Itoa(len(c.groupSets))
		c.groupSets[key] = base
	}
	name := base + "-" + dir
	if !c.done[name] {
		c.done[name] = true
		ch := nfChain{name: name}
		for _, id := range ids {
			ch.rules = append(ch.rules, nfRule{proto: -1, verdict: verdict{kind: vJump, chain: id + "-" + dir}})
		}
		c.chains = append(c.chains, ch)
	}
	return verdict{kind: vJump, chain: name}, true
}

// groupChain compiles one direction of a security group, once.
func (c *compiler) groupChain(id, dir string) {
	name := id + "-" + dir
	if c.done[name] {
		return
	}
	c.done[name] = true
	g := c.fw.Groups[id] // a group not given admits nothing
	rules, admit := g.Ingress, verdict{kind: vAccept}
	if dir == "egress" {
		rules, admit = g.Egress, verdict{kind: vGoto, chain: chainAdmitIn}
	}
	ch := nfChain{name: name}
	for i, r := range rules {
		nr := nfRule{proto: -1, verdict: admit}
		if err := r.protocol(&nr); err != nil {
			c.errorf("lab: %s rule %d of %s: %w", dir, i, id, err)
			continue
		}
		var ranges []addrRange
		for _, p := range r.Sources {
			if !p.Addr().Is4() {
				continue // IPv6 peers match no IPv4 packet
			}
			p = p.Masked()
			ranges = append(ranges, addrRange{p.Addr(), lastAddr(p)})
		}
		ranges = mergeRanges(ranges)
		if len(ranges) == 0 {
			continue // no peer: the rule admits nothing
		}
		var peer addrMatch
		if p, ok := rangePrefix(ranges[0]); ok && len(ranges) == 1 {
			if p.Bits() != 0 {
				peer.prefix = p
			}
		} else {
			peer.set = name + "-" + strconv.Itoa(i)
			c.sets = append(c.sets, nfSet{name: peer.set, ranges: ranges})
		}
		if dir == "egress" {
			nr.dst = peer
		} else {
			nr.src = peer
		}
		ch.rules = append(ch.rules, nr)
	}
	c.chains = append(c.chains, ch)
}

// protocol fills in the protocol and port matches of r.
func (r Rule) protocol(nr *nfRule) error {
	p := strings.ToLower(strings.TrimSpace(r.Protocol))
	switch p {
	case "all", "-1":
		return nil
	case "tcp":
		nr.proto = protoTCP
	case "udp":
		nr.proto = protoUDP
	case "icmp":
		nr.proto = protoICMP
	case "icmpv6":
		nr.proto = 58 // matches no IPv4 packet
	default:
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return fmt.Errorf("unknown protocol %q", r.Protocol)
		}
		nr.proto = int(n)
	}
	if nr.proto == protoTCP || nr.proto == protoUDP {
		if r.FromPort > r.ToPort {
			return fmt.Errorf("port range %d-%d is reversed", r.FromPort, r.ToPort)
		}
		if r.FromPort != 0 || r.ToPort != 65535 {
			nr.ports = &portRange{r.FromPort, r.ToPort}
		}
	}
	return nil
}

func validGroupID(id string) bool {
	return strings.HasPrefix(id, "sg-") && len(id) <= 200 && isName(id)
}

// lastAddr returns the last address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	return addr32(u32(p.Addr()) | uint32(uint64(1)<<(32-p.Bits())-1))
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func addr32(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// mergeRanges sorts ranges and merges those that overlap or touch, as an
// interval set needs them.
func mergeRanges(rs []addrRange) []addrRange {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b addrRange) int {
		return cmp.Or(a.first.Compare(b.first), a.last.Compare(b.last))
	})
	var out []addrRange
	for _, r := range rs {
		if n := len(out); n > 0 {
			prev := &out[n-1]
			if next := prev.last.Next(); !next.IsValid() || r.first.Compare(next) <= 0 {
				if r.last.Compare(prev.last) > 0 {
					prev.last = r.last
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// rangePrefix returns the prefix that is exactly r, if there is one.
func rangePrefix(r addrRange) (netip.Prefix, bool) {
	first := u32(r.first)
	size := uint64(u32(r.last)) - uint64(first) + 1
	if size&(size-1) != 0 || uint64(first)&(size-1) != 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(r.first, 32-bits.TrailingZeros64(size)), true
}

// String renders the ruleset as nft(8) input: `nft -f` accepts it, and it
// is what a person reads to see what a firewall does.
func (rs *ruleset) String() string {
	var b strings.Builder
	b.WriteString("table inet " + tableName + " {\n")
	for i, s := range rs.sets {
		if i > 0 {
			b.WriteString("\n")
		}
		if s.isMap {
			key := "ipv4_addr"
			if s.byMark {
				key = "mark"
			}
			fmt.Fprintf(&b, "\tmap %s {\n\t\ttype %s : verdict\n", s.name, key)
			if len(s.elems) > 0 {
				b.WriteString("\t\telements = {\n")
				for _, e := range s.elems {
					if s.byMark {
						fmt.Fprintf(&b, "\t\t\t%#08x : %s,\n", e.mark, e.verdict)
						continue
					}
					fmt.Fprintf(&b, "\t\t\t%s : %s,\n", e.addr, e.verdict)
				}
				b.WriteString("\t\t}\n")
			}
		} else {
			fmt.Fprintf(&b, "\tset %s {\n\t\ttype ipv4_addr\n\t\tflags interval\n", s.name)
			if len(s.ranges) > 0 {
				b.WriteString("\t\telements = {\n")
				for _, r := range s.ranges {
					fmt.Fprintf(&b, "\t\t\t%s,\n", r)
				}
				b.WriteString("\t\t}\n")
			}
		}
		b.WriteString("\t}\n")
	}
	for _, ch := range rs.chains {
		fmt.Fprintf(&b, "\n\tchain %s {\n", ch.name)
		switch ch.hook {
		case "":
		case "prerouting":
			fmt.Fprintf(&b, "\t\ttype filter hook %s priority mangle; policy accept;\n", ch.hook)
		case "postrouting":
			fmt.Fprintf(&b, "\t\ttype filter hook %s priority srcnat + 1; policy accept;\n", ch.hook)
		default:
			fmt.Fprintf(&b, "\t\ttype filter hook %s priority filter; policy drop;\n", ch.hook)
		}
		for _, r := range ch.rules {
			b.WriteString("\t\t" + r.String() + "\n")
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func (r addrRange) String() string {
	if r.first == r.last {
		return r.first.String()
	}
	if p, ok := rangePrefix(r); ok {
		return p.String()
	}
	return r.first.String() + "-" + r.last.String()
}

func (v verdict) String() string {
	switch v.kind {
	case vAccept:
		return "accept"
	case vDrop:
		return "drop"
	case vJump:
		return "jump " + v.chain
	case vGoto:
		return "goto " + v.chain
	case vReset:
		return "reject with tcp reset"
	}
	return "continue"
}

func (r nfRule) String() string {
	var parts []string
	if r.ctState != 0 {
		var names []string
		for _, s := range []struct {
			bit  uint32
			name string
		}{{ctInvalid, "invalid"}, {ctEstablished, "established"}, {ctRelated, "related"}, {ctNew, "new"}} {
			if r.ctState&s.bit != 0 {
				names = append(names, s.name)
			}
		}
		parts = append(parts, "ct state "+strings.Join(names, ","))
	}
	if r.ctDNAT {
		parts = append(parts, "ct status dnat")
	}
	if r.ctMarked {
		parts = append(parts, "ct mark != 0x00000000")
	}
	if r.iifLo {
		parts = append(parts, `iif "lo"`)
	}
	if r.oifLo {
		parts = append(parts, `oif "lo"`)
	}
	if r.notIPv4 {
		parts = append(parts, "meta nfproto != ipv4")
	}
	if r.orphanTCP {
		parts = append(parts, "tcp flags & (syn | rst) == 0")
	}
	for _, a := range []struct {
		m    addrMatch
		name string
	}{{r.src, "saddr"}, {r.dst, "daddr"}} {
		switch {
		case a.m.set != "":
			parts = append(parts, "ip "+a.name+" @"+a.m.set)
		case a.m.prefix.IsValid():
			s := a.m.prefix.String()
			if a.m.prefix.Bits() == 32 {
				s = a.m.prefix.Addr().String()
			}
			parts = append(parts, "ip "+a.name+" "+s)
		}
	}
	if r.proto >= 0 {
		name := strconv.Itoa(r.proto)
		switch r.proto {
		case protoTCP:
			name = "tcp"
		case protoUDP:
			name = "udp"
		case protoICMP:
			name = "icmp"
		}
		if r.ports != nil {
			ports := strconv.Itoa(int(r.ports.from))
			if r.ports.to != r.ports.from {
				ports += "-" + strconv.Itoa(int(r.ports.to))
			}
			parts = append(parts, name+" dport "+ports)
		} else {
			parts = append(parts, "meta l4proto "+name)
		}
	}
	switch {
	case r.vmap != nil && r.vmap.mark:
		parts = append(parts, "meta mark vmap @"+r.vmap.name)
	case r.vmap != nil:
		field := "saddr"
		if r.vmap.dst {
			field = "daddr"
		}
		parts = append(parts, "ip "+field+" vmap @"+r.vmap.name)
	case r.logDrop != "":
		parts = append(parts, fmt.Sprintf("limit rate %d/second burst %d packets log prefix %q group %d",
			dropLogRate, dropLogBurst, r.logDrop, dropLogGroup))
	default:
		parts = append(parts, r.verdict.String())
	}
	return strings.Join(parts, " ")
}
