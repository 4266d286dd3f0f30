package lab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The endpoint data path, all in the kernel:
//
//	client → endpoint address:port, in the consumer VPC's router:
//	  filter: the endpoint interface's security groups judge the new flow
//	  nat prerouting: dnat to the node's transit address (same port)
//	  nat postrouting: snat to the router's transit address
//	→ transit link (a veth) → the load balancer node's namespace:
//	  nat prerouting: dnat to a target, chosen by a hash of the flow
//	  nat postrouting: snat to the node's own address in its subnet
//	→ the provider VPC's router: the target's security groups judge a
//	  flow from the node's address, as from any instance
//	→ target.
//
// Conntrack in both namespaces carries every later packet of the flow and
// the answers back, so a flow stays with its target when the target list
// changes (a deregistered target drains), and half-close, resets and
// window sizes pass end to end, as through an NLB.

// natTable is the name of the NAT table in routers and nodes; the
// security groups' table (inet privlink) is separate, so each is replaced
// without touching the other.
const natTable = "privlink-nat"

// applyTransit realises every VPC's endpoint listeners and every node's
// forwards. It runs after every VPC's namespaces exist.
func (l *Lab) applyTransit(ctx context.Context, vpcs []VPC, st *Status) {
	nodes := map[string]Instance{}
	var ids []string
	for _, v := range vpcs {
		ids = append(ids, v.ID)
		for _, in := range v.Instances {
			if isNode(in.ID) {
				nodes[in.ID] = in
				ids = append(ids, in.ID)
			}
		}
	}
	addrs, err := l.transit.assign(ids)
	if err != nil {
		for _, v := range vpcs {
			st.fail(v.ID, err)
		}
		return
	}
	for _, v := range vpcs {
		if err := ctx.Err(); err != nil {
			st.fail(v.ID, err)
			continue
		}
		st.fail(v.ID, errors.Join(l.applyRouterNAT(v, nodes, addrs), l.syncRouterMetrics(v)))
	}
	for _, id := range slices.Sorted(maps.Keys(nodes)) {
		if err := ctx.Err(); err != nil {
			st.fail(id, err)
			continue
		}
		st.fail(id, errors.Join(l.applyNodeNAT(nodes[id], addrs[id]), l.ensureNodeMetrics(id)))
	}
}

// applyRouterNAT builds a router's transit links and its half of the NAT.
func (l *Lab) applyRouterNAT(v VPC, nodes map[string]Instance, addrs map[string]netip.Addr) error {
	name := l.RouterNamespace(v.ID)
	own := addrs[v.ID]
	var errs []error
	var rules []natRule
	linked := map[string]bool{}
	eps := slices.Clone(v.Endpoints)
	slices.SortFunc(eps, func(a, b EndpointForward) int { return a.Addr.Compare(b.Addr) })
	for _, e := range eps {
		n, ok := nodes[e.Node]
		if !ok || !e.Addr.Addr().Is4() {
			errs = append(errs, fmt.Errorf("lab: endpoint %v: node %q is not in the spec", e.Addr, e.Node))
			continue
		}
		linked[n.ID] = true
		timeout := newIdleTimeout(e.IdleTimeout)
		rules = append(rules, natRule{
			text:     fmt.Sprintf("ip daddr %v tcp dport %d %s%s dnat to %v", e.Addr.Addr(), e.Addr.Port(), synOnlyText, timeout.text(), addrs[n.ID]),
			exprs:    concat(matchDaddr(e.Addr.Addr()), matchTCPDport(e.Addr.Port()), matchTCPFlags(tcpSYN|tcpACK, tcpSYN), timeout.exprs(), dnat(netip.AddrPortFrom(addrs[n.ID], 0))),
			timeouts: timeout.objs(),
		})
	}
	post := []natRule{{text: fmt.Sprintf("oifname \"t*\" snat to %v", own),
		exprs: concat(matchOifPrefix("t"), snat(own))}}
	if len(rules) == 0 {
		post = nil
	}
	fp := fmt.Sprint(own, rules, post, slices.Sorted(maps.Keys(linked)))
	relink := false
	for id := range linked {
		relink = relink || l.rebuilt[id]
	}
	if l.nats[name] == fp && !relink {
		return errors.Join(errs...)
	}
	delete(l.nats, name)
	r, err := openNS(name)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer r.close()
	for _, id := range slices.Sorted(maps.Keys(linked)) {
		if err := l.ensureTransit(r, v.ID, own, id, addrs[id]); err != nil {
			return errors.Join(append(errs, fmt.Errorf("lab: transit link %s ↔ %s: %w", v.ID, id, err))...)
		}
	}
	if err := installNAT(r.fd(), natChains{pre: rules, post: post}); err != nil {
		return errors.Join(append(errs, fmt.Errorf("lab: NAT of %s: %w", v.ID, err))...)
	}
	l.nats[name] = fp
	// Flows to listeners that are gone (the endpoint was rejected or
	// deleted, the listener removed) lose their state: the client's next
	// segment is answered with a reset.
	live := map[netip.AddrPort]bool{}
	for _, e := range eps {
		live[e.Addr] = true
	}
	if keep := fmt.Sprint(slices.SortedFunc(maps.Keys(live), netip.AddrPort.Compare)); l.swept[name] != keep {
		n, err := r.sweepFlows(func(f *netlink.ConntrackFlow) bool {
			return fromTransit(f) && !live[origDst(f)]
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("lab: reset flows of %s: %w", v.ID, err))
		} else {
			l.swept[name] = keep
			if n > 0 {
				l.log.Info("lab: endpoint flows reset", "vpc", v.ID, "flows", n)
			}
		}
	}
	if len(rules) > 0 {
		l.log.Info("lab: endpoint NAT installed", "vpc", v.ID, "listeners", len(rules), "nodes", len(linked))
	}
	return errors.Join(errs...)
}

// applyNodeNAT installs a node's half of the NAT: each listener port to its
// targets, and the node's address as the source.
func (l *Lab) applyNodeNAT(n Instance, own netip.Addr) error {
	name := l.InstanceNamespace(n.ID)
	var pre []natRule
	fwds := slices.Clone(n.Forwards)
	slices.SortFunc(fwds, func(a, b Forward) int { return int(a.Port) - int(b.Port) })
	for _, f := range fwds {
		match := natRule{
			text:  fmt.Sprintf("iifname \"t*\" tcp dport %d %s", f.Port, synOnlyText),
			exprs: concat(matchIifPrefix("t"), matchTCPDport(f.Port), matchTCPFlags(tcpSYN|tcpACK, tcpSYN)),
		}
		pre = append(pre, dnatToTargets(match, natRule{}, sortedTargets(f.Targets), newIdleTimeout(f.IdleTimeout))...)
	}
	post := []natRule{{text: fmt.Sprintf("ip saddr %v oifname \"eth0\" snat to %v", transitPool, n.Addr.Addr()),
		exprs: concat(matchSaddrPrefix(transitPool), matchOifName("eth0"), snat(n.Addr.Addr()))}}
	fp := fmt.Sprint(own, pre, post, resetFingerprint(fwds))
	if l.nats[name] == fp && !l.rebuilt[n.ID] {
		return nil
	}
	delete(l.nats, name)
	ns, err := openNS(name)
	if err != nil {
		return err
	}
	defer ns.close()
	if err := installNAT(ns.fd(), natChains{pre: pre, post: post, input: []natRule{orphanReset}}); err != nil {
		return fmt.Errorf("lab: NAT of node %s: %w", n.ID, err)
	}
	l.nats[name] = fp
	l.log.Info("lab: node NAT installed", "node", n.ID, "rules", len(pre))
	// Only a change of what flows may keep calls for a sweep, which reads
	// the node's whole conntrack table: a node built anew has no flows,
	// and one checked again after Forget has none that the last sweep
	// kept wrongly.
	keep := fmt.Sprint(pre, resetFingerprint(fwds))
	if l.swept[name] == keep {
		return nil
	}
	reset := targetResets(fwds)
	count, err := ns.sweepFlows(func(f *netlink.ConntrackFlow) bool {
		return fromTransit(f) && reset(f.Forward.DstPort, replySrc(f))
	})
	if err != nil {
		return fmt.Errorf("lab: reset flows of node %s: %w", n.ID, err)
	}
	l.swept[name] = keep
	if count > 0 {
		l.log.Info("lab: target flows reset", "node", n.ID, "flows", count)
	}
	return nil
}

// dnatToTargets are the rules that translate the new flows match selects to
// targets: one rule per target, a symmetric hash of the flow choosing among
// several. then runs just before the translation, and the flow takes the
// listener's idle timeout.
func dnatToTargets(match, then natRule, targets []netip.AddrPort, timeout idleTimeout) []natRule {
	var rules []natRule
	for i, t := range targets {
		m, text := match.exprs, match.text
		if len(targets) > 1 {
			m = concat(m, matchSymhash(len(targets), i))
			text += fmt.Sprintf(" symhash mod %d %d", len(targets), i)
		}
		rules = append(rules, natRule{
			text:     text + then.text + timeout.text() + " dnat to " + t.String(),
			exprs:    concat(m, then.exprs, timeout.exprs(), dnat(t)),
			timeouts: timeout.objs(),
		})
	}
	return rules
}

func sortedTargets(targets []netip.AddrPort) []netip.AddrPort {
	ts := slices.Clone(targets)
	slices.SortFunc(ts, netip.AddrPort.Compare)
	ts = slices.Compact(ts)
	return slices.DeleteFunc(ts, func(t netip.AddrPort) bool { return !t.Addr().Is4() })
}

// targetResets returns whether a flow that arrived on a listener port and
// went to a target must be reset: the listener is gone, the target is to
// be reset, or it has left a group that terminates such flows.
func targetResets(fwds []Forward) func(port uint16, target netip.AddrPort) bool {
	byPort := map[uint16]Forward{}
	for _, f := range fwds {
		byPort[f.Port] = f
	}
	return func(port uint16, target netip.AddrPort) bool {
		f, ok := byPort[port]
		switch {
		case !ok:
			return true
		case slices.Contains(f.Reset, target):
			return true
		case f.ResetUnregistered:
			return !slices.Contains(f.Targets, target) && !slices.Contains(f.Registered, target)
		}
		return false
	}
}

// resetFingerprint is the part of the forwards that decides which flows are
// reset, so that a change to it sweeps the node's flows again.
func resetFingerprint(fwds []Forward) string {
	var b []string
	for _, f := range fwds {
		if len(f.Reset) > 0 || f.ResetUnregistered {
			b = append(b, fmt.Sprint(f.Port, sortedTargets(f.Reset), f.ResetUnregistered, sortedTargets(f.Registered)))
		}
	}
	return fmt.Sprint(b)
}

// ensureTransit makes the veth between a router and a node, with the
// router's transit address on its end and the node's on the other, and a
// route to each other's.
func (l *Lab) ensureTransit(r *nsConn, vpcID string, own netip.Addr, nodeID string, peer netip.Addr) error {
	node, err := openNS(l.InstanceNamespace(nodeID))
	if err != nil {
		return err
	}
	defer node.close()
	rname, nname := transitName(nodeID), transitName(vpcID)
	rl, err := r.link(rname)
	if err != nil {
		return err
	}
	nl, err := node.link(nname)
	if err != nil {
		return err
	}
	if !paired(rl, nl) {
		if rl != nil {
			if err := r.nl.LinkDel(rl); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete stale %s: %w", rname, err)
			}
		}
		if nl, _ = node.link(nname); nl != nil {
			if err := node.nl.LinkDel(nl); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete stale %s: %w", nname, err)
			}
		}
		veth := &netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: rname},
			PeerName:      nname,
			PeerNamespace: netlink.NsFd(node.fd()),
		}
		if err := r.nl.LinkAdd(veth); err != nil {
			return fmt.Errorf("create veth %s/%s: %w", rname, nname, err)
		}
		if rl, err = r.link(rname); err == nil && rl == nil {
			err = fmt.Errorf("veth %s vanished", rname)
		}
		if err != nil {
			return err
		}
		if nl, err = node.link(nname); err == nil && nl == nil {
			err = fmt.Errorf("veth %s vanished", nname)
		}
		if err != nil {
			return err
		}
		l.log.Info("lab: transit link created", "vpc", vpcID, "node", nodeID)
	}
	for _, end := range []struct {
		c         *nsConn
		link      netlink.Link
		own, peer netip.Addr
	}{{r, rl, own, peer}, {node, nl, peer, own}} {
		if err := end.c.segments(end.link, !l.cfg.SmallSegments); err != nil {
			return err
		}
		if err := end.c.setAddrs(end.link, map[netip.Prefix]bool{netip.PrefixFrom(end.own, 32): true}, nil); err != nil {
			return err
		}
		if err := end.c.nl.LinkSetUp(end.link); err != nil {
			return fmt.Errorf("%s up: %w", end.link.Attrs().Name, err)
		}
		if err := end.c.setRoutes(end.link, netip.PrefixFrom(end.peer, 32), unix.RT_TABLE_MAIN); err != nil {
			return err
		}
	}
	return nil
}

// natRule is one rule and its nft(8)-like text, which fingerprints it;
// timeouts are the ct timeout objects it refers to.
type natRule struct {
	text     string
	exprs    []expr.Any
	timeouts []idleTimeout
}

func (r natRule) String() string { return r.text }

// natChains are the rules of a namespace's NAT table: the translations, and
// (in nodes, which have no firewall table) a filter on input.
type natChains struct {
	pre, post, input []natRule
}

// orphanReset answers a segment of a flow the node no longer tracks with a
// reset, as the routers' firewalls do.
var orphanReset = natRule{
	text:  "ct state new tcp flags & (syn | rst) == 0 reject with tcp reset",
	exprs: concat(matchCtState(ctNew), matchTCPFlags(tcpSYN|tcpRST, 0), []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}}),
}

// installNAT replaces the rules of the namespace's NAT table in one batch,
// which the kernel applies atomically. Conntrack keeps the translations of
// established flows across the swap.
//
// Unlike the filter table, the table itself is kept, and so are its ct
// timeout objects, even those no rule uses any more: destroying one would
// strip the idle timeout from every established flow that was given it.
func installNAT(nsFD int, chains natChains) error {
	c, err := nftables.New(nftables.WithNetNSFd(nsFD), nftables.WithSockOptions(batchBuffers))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: natTable})
	objs := map[idleTimeout]bool{}
	for _, rules := range [][]natRule{chains.pre, chains.post, chains.input} {
		for _, r := range rules {
			for _, o := range r.timeouts {
				if !objs[o] {
					objs[o] = true
					addTimeoutObj(c, t, o)
				}
			}
		}
	}
	accept := nftables.ChainPolicyAccept
	for _, ch := range []struct {
		name  string
		typ   nftables.ChainType
		hook  *nftables.ChainHook
		prio  *nftables.ChainPriority
		rules []natRule
	}{
		{"prerouting", nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest, chains.pre},
		{"postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource, chains.post},
		{"input", nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter, chains.input},
	} {
		nc := c.AddChain(&nftables.Chain{Name: ch.name, Table: t, Type: ch.typ, Hooknum: ch.hook, Priority: ch.prio, Policy: &accept})
		c.FlushChain(nc)
		for _, r := range ch.rules {
			c.AddRule(&nftables.Rule{Table: t, Chain: nc, Exprs: r.exprs})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: replace table %s: %w", natTable, err)
	}
	return nil
}

// idleTimeout is a listener's idle timeout in whole seconds; 0 is none.
type idleTimeout uint32

func newIdleTimeout(d time.Duration) idleTimeout {
	if d <= 0 {
		return 0
	}
	return idleTimeout(max(1, (d+time.Second-1)/time.Second))
}

func (o idleTimeout) name() string { return fmt.Sprintf("idle-%d", o) }

func (o idleTimeout) text() string {
	if o == 0 {
		return ""
	}
	return fmt.Sprintf(" ct timeout set %q", o.name())
}

// exprs gives the flow the timeout policy: it must run on a flow's first
// packet, before conntrack confirms the flow.
func (o idleTimeout) exprs() []expr.Any {
	if o == 0 {
		return nil
	}
	return []expr.Any{&expr.Objref{Type: int(nftables.ObjTypeCtTimeout), Name: o.name()}}
}

func (o idleTimeout) objs() []idleTimeout {
	if o == 0 {
		return nil
	}
	return []idleTimeout{o}
}

// ctTimeoutMu serialises building ct timeout objects: the nftables library
// (v0.3.0) fills a policy by writing into its package-level map of default
// timeouts, which is a data race between concurrent callers. Every object
// here sets the same states explicitly, so the writes never change what
// another object gets.
var ctTimeoutMu sync.Mutex

// addTimeoutObj adds the ct timeout object of o to the batch: established
// TCP flows expire after o of silence; other states keep the kernel's
// defaults.
func addTimeoutObj(c *nftables.Conn, t *nftables.Table, o idleTimeout) {
	ctTimeoutMu.Lock()
	defer ctTimeoutMu.Unlock()
	c.AddObj(&nftables.NamedObj{Table: t, Name: o.name(), Type: nftables.ObjTypeCtTimeout, Obj: &expr.CtTimeout{
		L3Proto: unix.NFPROTO_IPV4,
		L4Proto: unix.IPPROTO_TCP,
		Policy:  expr.CtStatePolicyTimeout{expr.CtStateTCPESTABLISHED: uint32(o)},
	}})
}

// sweepFlows deletes the namespace's conntrack entries that doomed selects
// and returns how many it deleted. A deleted flow's next segment opens no
// flow (translations apply to SYNs only) and is answered with a reset.
func (c *nsConn) sweepFlows(doomed func(*netlink.ConntrackFlow) bool) (uint, error) {
	return c.nl.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, flowFilter(doomed))
}

type flowFilter func(*netlink.ConntrackFlow) bool

func (f flowFilter) MatchConntrackFlow(flow *netlink.ConntrackFlow) bool {
	return flow.Forward.Protocol == unix.IPPROTO_TCP && f(flow)
}

// fromTransit reports whether a flow was translated towards or came over a
// transit link: its answers come from, or its requests came from, a
// transit address.
func fromTransit(f *netlink.ConntrackFlow) bool {
	return inTransitPool(f.Reverse.SrcIP) || inTransitPool(f.Forward.SrcIP)
}

func inTransitPool(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && transitPool.Contains(a.Unmap())
}

func origDst(f *netlink.ConntrackFlow) netip.AddrPort {
	a, _ := netip.AddrFromSlice(f.Forward.DstIP)
	return netip.AddrPortFrom(a.Unmap(), f.Forward.DstPort)
}

func replySrc(f *netlink.ConntrackFlow) netip.AddrPort {
	a, _ := netip.AddrFromSlice(f.Reverse.SrcIP)
	return netip.AddrPortFrom(a.Unmap(), f.Reverse.SrcPort)
}

// TCP flag bits, and the match of a flow's first segment.
const (
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10

	synOnlyText = "tcp flags & (syn | ack) == syn"
)

// matchTCPFlags matches TCP segments whose flags, masked, equal want.
func matchTCPFlags(mask, want byte) []expr.Any {
	return append(tcpFlags(mask), &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{want}})
}

// tcpFlags loads a TCP segment's flags, masked, into register 1.
func tcpFlags(mask byte) []expr.Any {
	return append(matchL4Proto(unix.IPPROTO_TCP),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offTCPFlags, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{mask}, Xor: []byte{0}},
	)
}

func matchCtState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func matchDaddr(a netip.Addr) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offDaddr, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.AsSlice()},
	}
}

func matchSaddrPrefix(p netip.Prefix) []expr.Any {
	mask := binaryutil.BigEndian.PutUint32(^uint32(0) << (32 - p.Bits()))
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offSaddr, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

func matchTCPDport(port uint16) []expr.Any { return matchDport(unix.IPPROTO_TCP, port) }

// matchL4Proto matches a transport protocol.
func matchL4Proto(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

// matchDport matches a TCP or UDP destination port.
func matchDport(proto byte, port uint16) []expr.Any {
	return append(matchL4Proto(proto),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offDport, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(port)},
	)
}

// matchIifPrefix and matchOifPrefix match interface names that start with
// prefix, as nft(8)'s "t*" does: compare only the prefix's bytes.
func matchIifPrefix(prefix string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte(prefix)},
	}
}

func matchOifPrefix(prefix string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte(prefix)},
	}
}

// matchOifName matches one interface name exactly (names are NUL-padded
// to IFNAMSIZ in the register).
func matchOifName(name string) []expr.Any {
	data := make([]byte, unix.IFNAMSIZ)
	copy(data, name)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data},
	}
}

// dnat translates the destination to to (its port too, unless 0).
func dnat(to netip.AddrPort) []expr.Any {
	e := []expr.Any{&expr.Immediate{Register: 1, Data: to.Addr().AsSlice()}}
	n := &expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}
	if to.Port() != 0 {
		e = append(e, &expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(to.Port())})
		n.RegProtoMin = 2
	}
	return append(e, n)
}

func snat(to netip.Addr) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: to.AsSlice()},
		&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1},
	}
}
