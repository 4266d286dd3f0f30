package lab

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// install replaces the privlink table in the namespace with rs, in one
// netlink batch: add (so that the delete cannot fail), delete, add anew with
// everything in it. The kernel applies the batch atomically, so no packet
// ever sees a half-built table, and conntrack entries (which live outside
// the table) carry established flows across the swap.
func (rs *ruleset) install(nsFD int) error {
	c, err := nftables.New(nftables.WithNetNSFd(nsFD), nftables.WithSockOptions(batchBuffers))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	if err := rs.queue(c); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: replace table %s: %w", tableName, err)
	}
	return nil
}

// queue adds the batch that replaces the table to c, without sending it.
func (rs *ruleset) queue(c *nftables.Conn) error {
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: tableName}
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)

	// Chains first: map elements and rules refer to them.
	chains := make(map[string]*nftables.Chain, len(rs.chains))
	for _, ch := range rs.chains {
		nc := &nftables.Chain{Name: ch.name, Table: t}
		if ch.hook != "" {
			hook, ok := hooks[ch.hook]
			if !ok {
				return fmt.Errorf("nftables: chain %s: unknown hook %q", ch.name, ch.hook)
			}
			policy, prio := nftables.ChainPolicyDrop, nftables.ChainPriorityFilter
			switch ch.hook {
			case "prerouting":
				policy, prio = nftables.ChainPolicyAccept, nftables.ChainPriorityMangle
			case "postrouting":
				policy, prio = nftables.ChainPolicyAccept, nftables.ChainPriorityRef(*nftables.ChainPriorityNATSource+1)
			}
			nc.Type, nc.Hooknum, nc.Priority, nc.Policy = nftables.ChainTypeFilter, hook, prio, &policy
		}
		chains[ch.name] = c.AddChain(nc)
	}

	sets := make(map[string]*nftables.Set, len(rs.sets))
	for i, s := range rs.sets {
		// Set IDs only need to be unique within the batch; giving them here
		// keeps the library off its package-level counter.
		ns := &nftables.Set{Table: t, Name: s.name, ID: uint32(i + 1), KeyType: nftables.TypeIPAddr}
		if s.byMark {
			ns.KeyType, ns.KeyByteOrder = nftables.TypeMark, binaryutil.NativeEndian
		}
		var elems []nftables.SetElement
		if s.isMap {
			ns.IsMap, ns.DataType = true, nftables.TypeVerdict
			for _, e := range s.elems {
				key := e.addr.AsSlice()
				if s.byMark {
					key = markBytes(e.mark)
				}
				elems = append(elems, nftables.SetElement{Key: key, VerdictData: e.verdict.expr()})
			}
		} else {
			ns.Interval = true
			elems = intervalElements(s.ranges)
		}
		if err := c.AddSet(ns, elems); err != nil {
			return fmt.Errorf("nftables: set %s: %w", s.name, err)
		}
		sets[s.name] = ns
	}

	for _, ch := range rs.chains {
		for _, r := range ch.rules {
			exprs, err := r.exprs(sets)
			if err != nil {
				return fmt.Errorf("nftables: chain %s: %w", ch.name, err)
			}
			c.AddRule(&nftables.Rule{Table: t, Chain: chains[ch.name], Exprs: exprs})
		}
	}
	return nil
}

// batchBuffers lets one batch carry a large table. The library sends a
// batch in one sendmsg, which netlink refuses beyond the socket's send
// buffer (about 200 KB by default: some 300 interfaces), and the kernel
// acknowledges every message of it. The sizes are limits, not allocations.
func batchBuffers(c *netlink.Conn) error {
	const size = 64 << 20
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size); serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
		}
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("netlink buffers: %w", serr)
	}
	return nil
}

// tableExists reports whether the namespace has a privlink table at all.
func tableExists(nsFD int) (bool, error) {
	c, err := nftables.New(nftables.WithNetNSFd(nsFD))
	if err != nil {
		return false, fmt.Errorf("nftables: %w", err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, fmt.Errorf("nftables: list tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == tableName {
			return true, nil
		}
	}
	return false, nil
}

var hooks = map[string]*nftables.ChainHook{
	"prerouting":  nftables.ChainHookPrerouting,
	"forward":     nftables.ChainHookForward,
	"input":       nftables.ChainHookInput,
	"output":      nftables.ChainHookOutput,
	"postrouting": nftables.ChainHookPostrouting,
}

// intervalElements encodes disjoint sorted ranges as nft(8) does: each
// range is a start element and an end element one past its last address;
// the gap before the first range is closed by an end element at 0.0.0.0,
// and a range that reaches 255.255.255.255 has no end element.
func intervalElements(ranges []addrRange) []nftables.SetElement {
	var elems []nftables.SetElement
	if len(ranges) > 0 && u32(ranges[0].first) != 0 {
		elems = append(elems, nftables.SetElement{Key: []byte{0, 0, 0, 0}, IntervalEnd: true})
	}
	for _, r := range ranges {
		elems = append(elems, nftables.SetElement{Key: r.first.AsSlice()})
		if next := r.last.Next(); next.IsValid() {
			elems = append(elems, nftables.SetElement{Key: next.AsSlice(), IntervalEnd: true})
		}
	}
	return elems
}

func (v verdict) expr() *expr.Verdict {
	switch v.kind {
	case vAccept:
		return &expr.Verdict{Kind: expr.VerdictAccept}
	case vDrop:
		return &expr.Verdict{Kind: expr.VerdictDrop}
	case vJump:
		return &expr.Verdict{Kind: expr.VerdictJump, Chain: v.chain}
	case vGoto:
		return &expr.Verdict{Kind: expr.VerdictGoto, Chain: v.chain}
	}
	return nil
}

// exprs is the verdict as the expressions that end a rule: a verdict, or a
// reject statement (which drops).
func (v verdict) exprs() []expr.Any {
	if v.kind == vReset {
		return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}}
	}
	if e := v.expr(); e != nil {
		return []expr.Any{e}
	}
	return nil
}

// IPv4 header offsets of the addresses, and the transport header offset of
// the destination port (the same for TCP and UDP).
const (
	offSaddr = 12
	offDaddr = 16
	offDport = 2
	// offTCPFlags is the offset of the TCP header's flags byte.
	offTCPFlags = 13
)

// exprs compiles a rule to the expressions nft(8) would generate for its
// text form.
func (r nfRule) exprs(sets map[string]*nftables.Set) ([]expr.Any, error) {
	var e []expr.Any
	if r.ctState != 0 {
		e = append(e,
			&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(r.ctState), Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		)
	}
	if r.ctDNAT {
		e = append(e,
			&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(ctStatusDNAT), Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		)
	}
	if r.ctMarked {
		e = append(e, &expr.Ct{Register: 1, Key: expr.CtKeyMARK},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)})
	}
	// lo is interface 1 in every namespace.
	if r.iifLo {
		e = append(e, &expr.Meta{Key: expr.MetaKeyIIF, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(1)})
	}
	if r.oifLo {
		e = append(e, &expr.Meta{Key: expr.MetaKeyOIF, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(1)})
	}
	if r.notIPv4 {
		e = append(e, &expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}})
	}
	if r.orphanTCP {
		e = append(e, matchTCPFlags(tcpSYN|tcpRST, 0)...)
	}
	// Like nft(8), guard the first IPv4 header load with the protocol
	// check it depends on in an inet table; nft then lists the rule as
	// "ip saddr …" rather than as raw payload.
	ipv4 := false
	loadAddr := func(off uint32) []expr.Any {
		load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4}
		if ipv4 {
			return []expr.Any{load}
		}
		ipv4 = true
		return []expr.Any{&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}}, load}
	}
	for _, a := range []struct {
		m   addrMatch
		off uint32
	}{{r.src, offSaddr}, {r.dst, offDaddr}} {
		switch {
		case a.m.set != "":
			s, ok := sets[a.m.set]
			if !ok {
				return nil, fmt.Errorf("no set %s", a.m.set)
			}
			e = append(e, loadAddr(a.off)...)
			e = append(e, &expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID})
		case a.m.prefix.IsValid():
			e = append(e, loadAddr(a.off)...)
			if bits := a.m.prefix.Bits(); bits < 32 {
				mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-bits))
				e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)})
			}
			e = append(e, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.m.prefix.Masked().Addr().AsSlice()})
		}
	}
	if r.proto >= 0 {
		e = append(e, matchL4Proto(byte(r.proto))...)
	}
	if r.ports != nil {
		e = append(e, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offDport, Len: 2})
		from, to := binaryutil.BigEndian.PutUint16(r.ports.from), binaryutil.BigEndian.PutUint16(r.ports.to)
		if r.ports.from == r.ports.to {
			e = append(e, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: from})
		} else {
			e = append(e, &expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: from, ToData: to})
		}
	}
	if r.vmap != nil {
		s, ok := sets[r.vmap.name]
		if !ok {
			return nil, fmt.Errorf("no map %s", r.vmap.name)
		}
		if r.vmap.mark {
			e = append(e, &expr.Meta{Key: expr.MetaKeyMARK, Register: 1})
		} else {
			off := uint32(offSaddr)
			if r.vmap.dst {
				off = offDaddr
			}
			e = append(e, loadAddr(off)...)
		}
		e = append(e, &expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: s.Name, SetID: s.ID})
		return e, nil
	}
	if r.logDrop != "" {
		return append(e,
			&expr.Limit{Type: expr.LimitTypePkts, Rate: dropLogRate, Unit: expr.LimitTimeSecond, Burst: dropLogBurst},
			&expr.Log{Key: 1<<unix.NFTA_LOG_PREFIX | 1<<unix.NFTA_LOG_GROUP, Data: []byte(r.logDrop), Group: dropLogGroup},
		), nil
	}
	v := r.verdict.exprs()
	if v == nil {
		return nil, fmt.Errorf("rule %q has no verdict", r)
	}
	return append(e, v...), nil
}
