package lab

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Endpoint flows in the shared fabric are translated once, in the fabric,
// straight to a target (docs/fabric.md, "Endpoint flows"):
//
//	client → endpoint address:port, marked with the consumer VPC's number:
//	  raw: the flow's entry takes the consumer's zone in the original
//	       direction only (xtables CT --zone-orig)
//	  firewall prerouting: the endpoint's security groups judge it
//	  nat prerouting: dnat to a target (symhash mod n), ct mark set to the
//	       flow's path, meta mark set to the provider VPC's number
//	  firewall postrouting, after srcnat: the target's security groups
//	       judge it as a flow from the node
//	  nat postrouting: snat to the node's address, a port of endpointPorts
//	→ target.
//	Replies (target → node address, a port of endpointPorts) are looked up
//	in the default zone, where the translation made their tuple unique;
//	the path's mark routes them back in the consumer's table.
//
// A path is one consumer VPC's way to one load balancer node: its number,
// consumer<<16 | node, is the conntrack mark of its flows, which tells
// each later packet which table routes it.

// endpointPorts are the source ports of endpoint flows translated to a
// node's address; nodeLocalPorts are those of the node's own sockets
// (health checks, the proxy path's dials), so that a reply tells by its
// port which zone its flow lives in. Endpoint flows take the upper half,
// which holds Linux's default ephemeral range (32768-60999) and the IANA
// dynamic one: a client's port is then kept unless another flow to the
// target holds it, as the router namespaces keep it, and a client's own
// TIME_WAIT rules keep guarding the tuple the target sees. The node's
// sockets take the lower half, 31,744 ports, for as many concurrent
// proxied flows to one target port. (A node range of 4,536 ports once
// ended the benchmark's 9,000 idle proxied flows at 3,534, the rest held
// in TIME_WAIT by the run before.)
const endpointPortMin, endpointPortMax = 32768, 65535

var nodeLocalPorts = fmt.Sprintf("1024 %d", endpointPortMin-1) // ip_local_port_range

// resolverDNAT sends each VPC's queries to its resolver address (TCP and
// UDP port 53) to the VPC's service address, where its resolver listens.
func resolverDNAT(vpcs []VPC, nums map[string]int) []natRule {
	var rules []natRule
	for _, v := range vpcs {
		if !v.Resolver.Is4() {
			continue
		}
		n := nums[v.ID]
		to := fabricServiceAddr(n)
		for _, p := range []struct {
			name  string
			proto byte
		}{{"udp", unix.IPPROTO_UDP}, {"tcp", unix.IPPROTO_TCP}} {
			rules = append(rules, natRule{
				text:  fmt.Sprintf("meta mark %#x ip daddr %v %s dport %d dnat to %v", n, v.Resolver, p.name, dnsPort, to),
				exprs: concat(matchMark(uint32(n)), matchDaddr(v.Resolver), matchDport(p.proto, dnsPort), dnat(netip.AddrPortFrom(to, 0))),
			})
		}
	}
	return rules
}

// endpointSocketDNAT sends each VPC's TCP flows to its endpoint
// interfaces' addresses to the interfaces' service addresses, where the
// PROXY protocol path's listeners are (EndpointSocket). It follows the
// kernel listeners' rules, which take their flows to targets first; a flow
// to a port nobody listens on is refused there as it would be at the
// interface's address. The firewall judged each flow on the interface's
// address before (prerouting), and lets it in on the service address.
func endpointSocketDNAT(vpcs []VPC, nums map[string]int) []natRule {
	var rules []natRule
	for _, v := range vpcs {
		n := nums[v.ID]
		for _, a := range endpointAddrs(v) {
			s := nums[localID(v.ID, a)]
			if s == 0 {
				continue
			}
			to := fabricServiceAddr(s)
			rules = append(rules, natRule{
				text:  fmt.Sprintf("meta mark %#x ip daddr %v meta l4proto tcp dnat to %v", n, a, to),
				exprs: concat(matchMark(uint32(n)), matchDaddr(a), matchL4Proto(unix.IPPROTO_TCP), dnat(netip.AddrPortFrom(to, 0))),
			})
		}
	}
	return rules
}

// EndpointSocket says where privlink listens for an endpoint interface's
// listener, which a VPC's instances reach at addr: at addr in the VPC's
// router namespace, or in the shared fabric at the interface's service
// address and addr's port (addr must be a KindEndpoint interface among the
// VPC's LocalAddrs). The fabric translates addr to the service
// address for the VPC's packets only, so that endpoint interfaces at the
// same address in VPCs that share a CIDR never share a socket; a
// connection accepted there carries the VPC's mark (tcp_fwmark_accept),
// which routes its packets in the VPC's table. ok is false while the
// interface has no number: the Apply that builds it gives it one.
func (l *Lab) EndpointSocket(vpcID string, addr netip.AddrPort) (namespace string, listen netip.AddrPort, ok bool) {
	if !l.shared() {
		return l.RouterNamespace(vpcID), addr, true
	}
	n := l.number(localID(vpcID, addr.Addr()))
	if n == 0 {
		return "", netip.AddrPort{}, false
	}
	return fabricNS(l.cfg.Prefix), netip.AddrPortFrom(fabricServiceAddr(n), addr.Port()), true
}

// dnsPort is where resolvers listen.
const dnsPort = 53

// ResolverSocket says where the resolver of a VPC, which its instances
// reach at resolver, listens: at that address in the VPC's router
// namespace, or in the shared fabric at the VPC's service address, with
// the VPC's number as the mark of its sockets, so that its answers take the
// VPC's table (the fabric translates resolver to the service address for
// the VPC's packets only). A VPC the lab has not built yet gets its number
// here, so that its resolver may listen before its instances' user data
// runs; ok is false if no number is left (Apply then says why).
func (l *Lab) ResolverSocket(vpcID string, resolver netip.AddrPort) (namespace string, listen netip.AddrPort, mark uint32, ok bool) {
	if !l.shared() {
		return l.RouterNamespace(vpcID), resolver, 0, true
	}
	n := l.number(vpcID)
	if n == 0 {
		n = l.reserveNumber(vpcID)
	}
	if n == 0 {
		return "", netip.AddrPort{}, 0, false
	}
	return fabricNS(l.cfg.Prefix), netip.AddrPortFrom(fabricServiceAddr(n), resolver.Port()), uint32(n), true
}

// reserveNumber gives a VPC the lab has not built yet its number, which
// the Apply that builds it keeps; 0 if none is left.
func (l *Lab) reserveNumber(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	nums, err := l.numbers.reserve(id)
	if err != nil {
		l.log.Warn("lab: no fabric number", "id", id, "err", err)
		return 0
	}
	l.vpcNum.Store(&nums)
	return nums[id]
}

// fabricOrphanRule sends a flow's first segment to fabricResetAddr when it
// is neither a SYN nor a reset.
var fabricOrphanRule = natRule{
	text:  fmt.Sprintf("ct state new tcp flags & (syn | rst) == 0 dnat to %v", fabricResetAddr),
	exprs: concat(matchCtState(ctNew), matchTCPFlags(tcpSYN|tcpRST, 0), dnat(netip.AddrPortFrom(fabricResetAddr, 0))),
}

// xtCTZoneDirOrig is XT_CT_ZONE_DIR_ORIG of linux/netfilter/xt_CT.h.
const xtCTZoneDirOrig = 1 << 2

// fabricPath is where the flows of one path go.
type fabricPath struct {
	provider, consumer int
	node               netip.Addr
}

// fabricEndpoints is what the fabric's tables need of the spec's
// endpoints and nodes.
type fabricEndpoints struct {
	listeners map[int][]netip.AddrPort // consumer VPC number → its endpoints' listeners that have targets
	nodes     map[int][]netip.Addr     // provider VPC number → its nodes' addresses
	paths     map[uint32]fabricPath    // by path number
	dnat      []natRule
	snat      []natRule
}

// planEndpoints compiles the spec's endpoints for the fabric. nums holds
// the numbers of VPCs and of nodes. Listeners whose node is not in the
// spec are left out and reported by VPC ID.
func planEndpoints(vpcs []VPC, nums map[string]int) (fabricEndpoints, map[string]error) {
	fe := fabricEndpoints{listeners: map[int][]netip.AddrPort{}, nodes: map[int][]netip.Addr{}, paths: map[uint32]fabricPath{}}
	type node struct {
		in       Instance
		provider int
	}
	nodes := map[string]node{}
	for _, v := range vpcs {
		for _, in := range v.Instances {
			if isNode(in.ID) {
				nodes[in.ID] = node{in, nums[v.ID]}
				fe.nodes[nums[v.ID]] = append(fe.nodes[nums[v.ID]], in.Addr.Addr())
			}
		}
	}
	errs := map[string]error{}
	for _, v := range vpcs {
		c := nums[v.ID]
		eps := slices.Clone(v.Endpoints)
		slices.SortFunc(eps, func(a, b EndpointForward) int { return a.Addr.Compare(b.Addr) })
		var bad []error
		for _, e := range eps {
			n, ok := nodes[e.Node]
			if !ok || !e.Addr.Addr().Is4() {
				bad = append(bad, fmt.Errorf("lab: endpoint %v: node %q is not in the spec", e.Addr, e.Node))
				continue
			}
			mark := uint32(c)<<16 | uint32(nums[n.in.ID])
			if _, ok := fe.paths[mark]; !ok {
				fe.paths[mark] = fabricPath{provider: n.provider, consumer: c, node: n.in.Addr.Addr()}
				fe.snat = append(fe.snat, natRule{
					text: fmt.Sprintf("ct mark %#x snat to %v:%d-%d", mark, n.in.Addr.Addr(), endpointPortMin, endpointPortMax),
					exprs: concat(matchCtMark(mark), []expr.Any{
						&expr.Immediate{Register: 1, Data: n.in.Addr.Addr().AsSlice()},
						&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(endpointPortMin)},
						&expr.Immediate{Register: 3, Data: binaryutil.BigEndian.PutUint16(endpointPortMax)},
						&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, RegProtoMax: 3},
					}),
				})
			}
			var fwd Forward
			for _, f := range n.in.Forwards {
				if f.Port == e.Addr.Port() {
					fwd = f
				}
			}
			ts := sortedTargets(fwd.Targets)
			if len(ts) > 0 {
				// Only a translated flow needs the one-way zone: a flow to
				// a listener without targets ends at the endpoint's
				// address, refused, and the reset must meet its entry.
				fe.listeners[c] = append(fe.listeners[c], e.Addr)
			}
			match := natRule{
				text:  fmt.Sprintf("meta mark %#x ip daddr %v tcp dport %d %s", c, e.Addr.Addr(), e.Addr.Port(), synOnlyText),
				exprs: concat(matchMark(uint32(c)), matchDaddr(e.Addr.Addr()), matchTCPDport(e.Addr.Port()), matchTCPFlags(tcpSYN|tcpACK, tcpSYN)),
			}
			// The path's mark, and the provider's table to route by.
			then := natRule{
				text:  fmt.Sprintf(" ct mark set %#x meta mark set %#x", mark, n.provider),
				exprs: concat(setCtMark(mark), setMark(uint32(n.provider))),
			}
			fe.dnat = append(fe.dnat, dnatToTargets(match, then, ts, newIdleTimeout(shorterTimeout(e.IdleTimeout, fwd.IdleTimeout)))...)
		}
		if len(bad) > 0 {
			errs[v.ID] = errors.Join(bad...)
		}
	}
	return fe, errs
}

// sweepFabricFlows deletes the endpoint flows that may not go on, as the
// routers' and nodes' sweeps do: their listener is gone (the endpoint was
// rejected or deleted, the listener removed), their node is gone, or their
// target is to be reset. The next segment of either side then opens no
// flow and is answered with a reset. The sweep lists the whole conntrack
// table, so it runs only when what it keeps changed (and, as a router's,
// not again after Forget).
func (l *Lab) sweepFabricFlows(f *nsConn, vpcs []VPC, nums map[string]int) error {
	live := map[uint32]map[netip.AddrPort]bool{} // consumer number → listeners
	resets := map[uint32]func(uint16, netip.AddrPort) bool{}
	var fp []string
	for _, v := range vpcs {
		c := uint32(nums[v.ID])
		for _, e := range v.Endpoints {
			if live[c] == nil {
				live[c] = map[netip.AddrPort]bool{}
			}
			live[c][e.Addr] = true
		}
		fp = append(fp, fmt.Sprint(c, slices.SortedFunc(maps.Keys(live[c]), netip.AddrPort.Compare)))
		for _, in := range v.Instances {
			if isNode(in.ID) {
				n := uint32(nums[in.ID])
				resets[n] = targetResets(in.Forwards)
				var ports []uint16
				for _, fw := range in.Forwards {
					ports = append(ports, fw.Port)
				}
				slices.Sort(ports)
				fp = append(fp, fmt.Sprint(n, ports, resetFingerprint(in.Forwards)))
			}
		}
	}
	keep := fmt.Sprint(fp)
	if l.swept[f.ns.Name()] == keep {
		return nil
	}
	count, err := f.sweepFlows(func(fl *netlink.ConntrackFlow) bool {
		if fl.Mark < 1<<16 {
			return false // not an endpoint flow
		}
		c, n := fl.Mark>>16, fl.Mark&0xffff
		if !live[c][origDst(fl)] {
			return true
		}
		reset, ok := resets[n]
		return !ok || reset(fl.Forward.DstPort, replySrc(fl))
	})
	if err != nil {
		return err
	}
	l.swept[f.ns.Name()] = keep
	if count > 0 {
		l.log.Info("lab: endpoint flows reset", "flows", count)
	}
	return nil
}

// shorterTimeout returns the shorter of two idle timeouts, 0 being none:
// the endpoint's and the load balancer listener's, which the fabric's one
// conntrack entry of a flow must both honour.
func shorterTimeout(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

// fabricTables is what the fabric's ip table "raw" and arp table hold.
type fabricTables struct {
	vethVPC map[string]int // instance veth → VPC number
	numbers []int          // VPC numbers
	ep      fabricEndpoints
}

// String fingerprints the tables' contents.
func (ft fabricTables) String() string {
	return fmt.Sprint(ft.vethVPC, ft.numbers, ft.ep.listeners, ft.ep.nodes, ft.ep.paths)
}

// rawTable is the name of the fabric's ip table of marks, zones and route
// marks. It must be "raw": the kernel's xtables CT target, which gives an
// endpoint flow its consumer's zone in one direction only, refuses to run
// in a table of any other name (google/nftables v0.3.0 cannot write the
// native `ct original zone set`; see docs/fabric.md).
const rawTable = "raw"

// installFabricTables replaces the fabric's ip table "raw" and its arp
// table in one batch (see fabric.go and the endpoint path above).
func installFabricTables(nsFD int, ft fabricTables) error {
	c, err := nftables.New(nftables.WithNetNSFd(nsFD), nftables.WithSockOptions(batchBuffers))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	accept := nftables.ChainPolicyAccept
	zoneType := nftables.TypeInteger // a conntrack zone: a 16-bit integer
	zoneType.Bytes = 2
	var markElems, zoneElems, zoneOfMark, toProvider, toConsumer, nodeElems []nftables.SetElement
	for _, veth := range slices.Sorted(maps.Keys(ft.vethVPC)) {
		n := ft.vethVPC[veth]
		markElems = append(markElems, nftables.SetElement{Key: ifnameKey(veth), Val: markBytes(uint32(n))})
		zoneElems = append(zoneElems, nftables.SetElement{Key: ifnameKey(veth), Val: zoneBytes(n)})
	}
	for _, n := range ft.numbers {
		zoneOfMark = append(zoneOfMark, nftables.SetElement{Key: markBytes(uint32(n)), Val: zoneBytes(n)})
	}
	for _, mark := range slices.Sorted(maps.Keys(ft.ep.paths)) {
		p := ft.ep.paths[mark]
		toProvider = append(toProvider, nftables.SetElement{Key: markBytes(mark), Val: markBytes(uint32(p.provider))})
		toConsumer = append(toConsumer, nftables.SetElement{Key: markBytes(mark), Val: markBytes(uint32(p.consumer))})
	}
	for _, n := range slices.Sorted(maps.Keys(ft.ep.nodes)) {
		for _, a := range ft.ep.nodes[n] {
			nodeElems = append(nodeElems, nftables.SetElement{Key: append(markBytes(uint32(n)), a.AsSlice()...)})
		}
	}

	ip := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: rawTable}
	c.AddTable(ip)
	c.DelTable(ip)
	c.AddTable(ip)
	id := uint32(0)
	addSet := func(s *nftables.Set, elems []nftables.SetElement) (*nftables.Set, error) {
		id++
		s.ID = id
		if err := c.AddSet(s, elems); err != nil {
			return nil, fmt.Errorf("nftables: set %s: %w", s.Name, err)
		}
		return s, nil
	}
	ifnameMap := func(t *nftables.Table, name string, data nftables.SetDatatype) *nftables.Set {
		return &nftables.Set{Table: t, Name: name, IsMap: true, KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian, DataType: data}
	}
	markMap := func(name string, data nftables.SetDatatype) *nftables.Set {
		return &nftables.Set{Table: ip, Name: name, IsMap: true, KeyType: nftables.TypeMark, KeyByteOrder: binaryutil.NativeEndian, DataType: data}
	}
	var errs []error
	must := func(s *nftables.Set, err error) *nftables.Set {
		errs = append(errs, err)
		return s
	}
	marks := must(addSet(ifnameMap(ip, "marks", nftables.TypeMark), markElems))
	zones := must(addSet(ifnameMap(ip, "zones", zoneType), zoneElems))
	zoneMark := must(addSet(markMap("zone-of-mark", zoneType), zoneOfMark))
	provider := must(addSet(markMap("path-provider", nftables.TypeMark), toProvider))
	consumer := must(addSet(markMap("path-consumer", nftables.TypeMark), toConsumer))
	nodeReplies := must(addSet(&nftables.Set{Table: ip, Name: "node-replies", Concatenation: true,
		KeyType: nftables.MustConcatSetType(nftables.TypeMark, nftables.TypeIPAddr)}, nodeElems))
	endpointZones := must(addSet(markMap("endpoint-zones", nftables.TypeVerdict), nil))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Per consumer VPC with endpoints: a set of its listeners and a chain
	// that gives their flows its zone in the original direction.
	var zoneChains []nftables.SetElement
	for _, n := range slices.Sorted(maps.Keys(ft.ep.listeners)) {
		var elems []nftables.SetElement
		for _, a := range ft.ep.listeners[n] {
			// address . port, the port padded to a register's 4 bytes
			elems = append(elems, nftables.SetElement{Key: slices.Concat(a.Addr().AsSlice(), binaryutil.BigEndian.PutUint16(a.Port()), []byte{0, 0})})
		}
		set, err := addSet(&nftables.Set{Table: ip, Name: fmt.Sprintf("listeners-%d", n), Concatenation: true,
			KeyType: nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService)}, elems)
		if err != nil {
			return err
		}
		// A SYN only: later segments find their entry in the consumer's
		// zone as well, and one that finds none (an orphan) is not to open
		// a one-way flow, which its reset could not meet.
		ch := c.AddChain(&nftables.Chain{Name: fmt.Sprintf("endpoint-zone-%d", n), Table: ip})
		c.AddRule(&nftables.Rule{Table: ip, Chain: ch, Exprs: concat(matchTCPFlags(tcpSYN|tcpACK, tcpSYN), []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offDaddr, Len: 4},
			&expr.Payload{DestRegister: 9, Base: expr.PayloadBaseTransportHeader, Offset: offDport, Len: 2},
			&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
			&expr.Target{Name: "CT", Rev: 2, Info: ctZoneOrig(uint16(n))},
			&expr.Verdict{Kind: expr.VerdictAccept},
		})})
		zoneChains = append(zoneChains, nftables.SetElement{Key: markBytes(uint32(n)),
			VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: ch.Name}})
	}
	if len(zoneChains) > 0 {
		if err := c.SetAddElements(endpointZones, zoneChains); err != nil {
			return fmt.Errorf("nftables: map %s: %w", endpointZones.Name, err)
		}
	}

	iif := &expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}
	pre := c.AddChain(&nftables.Chain{Name: "prerouting", Table: ip, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw, Policy: &accept})
	for _, exprs := range [][]expr.Any{
		lookupInto(iif, marks, setMarkReg()),
		{&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
			&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: endpointZones.Name, SetID: endpointZones.ID}},
		// A reply to an endpoint flow: its entry's reply direction is in
		// the default zone. (A bare SYN opens a flow: never a reply.)
		concat(tcpFlags(tcpSYN|tcpACK), []expr.Any{
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{tcpSYN}},
			&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
			&expr.Payload{DestRegister: 9, Base: expr.PayloadBaseNetworkHeader, Offset: offDaddr, Len: 4},
			&expr.Lookup{SourceRegister: 1, SetName: nodeReplies.Name, SetID: nodeReplies.ID},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offDport, Len: 2},
			&expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: binaryutil.BigEndian.PutUint16(endpointPortMin), ToData: binaryutil.BigEndian.PutUint16(endpointPortMax)},
			&expr.Verdict{Kind: expr.VerdictAccept},
		}),
		lookupInto(iif, zones, setZoneReg()),
	} {
		c.AddRule(&nftables.Rule{Table: ip, Chain: pre, Exprs: exprs})
	}
	out := c.AddChain(&nftables.Chain{Name: "output", Table: ip, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityRaw, Policy: &accept})
	c.AddRule(&nftables.Rule{Table: ip, Chain: out, Exprs: lookupInto(&expr.Meta{Key: expr.MetaKeyMARK, Register: 1}, zoneMark, setZoneReg())})
	// After conntrack, an endpoint flow's packets take the table of where
	// they go: the provider's one way, the consumer's back.
	route := c.AddChain(&nftables.Chain{Name: "route", Table: ip, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle, Policy: &accept})
	for dir, s := range []*nftables.Set{provider, consumer} {
		c.AddRule(&nftables.Rule{Table: ip, Chain: route, Exprs: concat([]expr.Any{
			&expr.Ct{Key: expr.CtKeyDIRECTION, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(dir)}},
		}, lookupInto(&expr.Ct{Key: expr.CtKeyMARK, Register: 1}, s, setMarkReg()))})
	}

	arp := &nftables.Table{Family: nftables.TableFamilyARP, Name: fabricTable}
	c.AddTable(arp)
	c.DelTable(arp)
	c.AddTable(arp)
	arpMarks, err := addSet(ifnameMap(arp, "marks", nftables.TypeMark), markElems)
	if err != nil {
		return err
	}
	in := c.AddChain(&nftables.Chain{Name: "input", Table: arp, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookRef(nfARPIn), Priority: nftables.ChainPriorityFilter, Policy: &accept})
	c.AddRule(&nftables.Rule{Table: arp, Chain: in, Exprs: lookupInto(iif, arpMarks, setMarkReg())})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: replace tables %s and %s: %w", rawTable, fabricTable, err)
	}
	return nil
}

// lookupInto looks up what key loads into register 1 in the map s and
// hands the value to set.
func lookupInto(key expr.Any, s *nftables.Set, set expr.Any) []expr.Any {
	return []expr.Any{key, &expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetName: s.Name, SetID: s.ID}, set}
}

func setMarkReg() expr.Any {
	return &expr.Meta{Key: expr.MetaKeyMARK, Register: 1, SourceRegister: true}
}
func setZoneReg() expr.Any { return &expr.Ct{Key: expr.CtKeyZONE, Register: 1, SourceRegister: true} }

func ifnameKey(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

func markBytes(m uint32) []byte { return binaryutil.NativeEndian.PutUint32(m) }
func zoneBytes(n int) []byte    { return binaryutil.NativeEndian.PutUint16(uint16(n)) }

// ctZoneOrig is the xt_ct_target_info_v1 of `-j CT --zone-orig zone`: 72
// bytes in host byte order, flags and zone first, the rest zero.
func ctZoneOrig(zone uint16) *xt.Unknown {
	info := make(xt.Unknown, 72)
	copy(info[0:2], binaryutil.NativeEndian.PutUint16(xtCTZoneDirOrig))
	copy(info[2:4], binaryutil.NativeEndian.PutUint16(zone))
	return &info
}

func matchMark(m uint32) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: markBytes(m)},
	}
}

func matchCtMark(m uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: markBytes(m)},
	}
}

func setCtMark(m uint32) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: markBytes(m)},
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true},
	}
}

func setMark(m uint32) []expr.Any {
	return []expr.Any{&expr.Immediate{Register: 1, Data: markBytes(m)}, setMarkReg()}
}

// matchSymhash matches the flows a symmetric hash puts in bucket i of n.
func matchSymhash(n, i int) []expr.Any {
	return []expr.Any{
		&expr.Hash{Type: expr.HashTypeSym, Modulus: uint32(n), DestRegister: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(uint32(i))},
	}
}
