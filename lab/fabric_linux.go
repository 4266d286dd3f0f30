package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// fabricTable is the name of the shared fabric's arp table, which tells
// VPCs apart for proxy ARP (see fabric.go).
const fabricTable = "privlink-fabric"

// nfARPIn is the arp family's input hook (linux/netfilter_arp.h), where
// the inet families have prerouting: ChainHookInput would be its output.
const nfARPIn = 0

func (l *Lab) shared() bool { return l.cfg.Fabric != FabricRouters }

// number returns the fabric's number of a VPC or node, 0 if it has none.
func (l *Lab) number(id string) int {
	if m := l.vpcNum.Load(); m != nil {
		return (*m)[id]
	}
	return 0
}

// table returns the routing table of a VPC's routes in its router's
// namespace: main in a router of its own, the VPC's number in the fabric.
func (l *Lab) table(vpcID string) int {
	if l.shared() {
		return l.number(vpcID)
	}
	return unix.RT_TABLE_MAIN
}

// fabricSysctls are the fabric's own settings besides routerSysctls;
// ip_forward follows the firewall, as in a router. Answers the fabric
// sends itself (ICMP, resets, a listener's SYN-ACK) carry the mark of what
// they answer, so they are routed in its VPC's table. Reverse path
// filtering stays off: it would look a source up in main (without
// src_valid_mark) or cost a second route lookup per packet, and a VPC's
// table alone decides where a packet may go. Local sources are accepted:
// the fabric holds every VPC's local addresses (gateways, endpoint
// interfaces), and without accept_local an instance of another VPC at one
// of them would be a martian source here, its packets and ARP requests
// dropped, since the kernel checks a source against the fabric's own
// addresses without the packet's mark.
var fabricSysctls = []sysctl{
	{"net/ipv4/fwmark_reflect", "1"},
	{"net/ipv4/tcp_fwmark_accept", "1"},
	{"net/ipv4/conf/all/rp_filter", "0"},
	{"net/ipv4/conf/default/rp_filter", "0"},
	{"net/ipv4/conf/all/accept_local", "1"},
}

// applyFabric converges the shared fabric: the namespace and its rules,
// then each VPC's table and instances, then what no VPC keeps.
func (l *Lab) applyFabric(ctx context.Context, vpcs []VPC, st *Status) {
	failAll := func(err error) {
		for _, v := range vpcs {
			st.fail(v.ID, err)
			for _, in := range v.Instances {
				st.fail(in.ID, fmt.Errorf("lab: VPC %s not ready: %w", v.ID, err))
			}
		}
	}
	if len(vpcs) == 0 {
		return // Apply removes the fabric
	}
	// VPCs and load balancer nodes draw numbers from one pool: a path's
	// number joins a consumer's and a node's (fabric_nat_linux.go).
	var ids []string
	for _, v := range vpcs {
		ids = append(ids, v.ID)
		for _, in := range v.Instances {
			if isNode(in.ID) {
				ids = append(ids, in.ID)
			}
		}
		for _, a := range endpointAddrs(v) {
			ids = append(ids, localID(v.ID, a))
		}
	}
	nums, err := l.numbers.assign(ids)
	if err != nil {
		failAll(err)
		return
	}
	l.vpcNum.Store(&nums)
	ep, epErrs := planEndpoints(vpcs, nums)
	for id, err := range epErrs {
		st.fail(id, err)
	}

	// A VPC that left has lost its table to the sweep below: if it comes
	// back, it is built anew.
	for id := range l.vpcs {
		if _, ok := nums[id]; !ok {
			delete(l.vpcs, id)
		}
	}
	name := fabricNS(l.cfg.Prefix)
	if !mounted(name) {
		// Built anew below: so is every VPC's part of it.
		clear(l.fab)
		clear(l.vpcs)
	}
	f, err := openNS(name)
	if err != nil {
		failAll(fmt.Errorf("lab: fabric %s: %w", name, err))
		return
	}
	defer f.close()

	var local []netip.Addr
	var numbers []int
	vethVPC := map[string]int{} // instance veth → VPC number
	veths := map[string]bool{}
	for _, v := range vpcs {
		local = append(local, l.fabricAddrs(v)...)
		numbers = append(numbers, nums[v.ID])
		for _, in := range v.Instances {
			vethVPC[vethName(in.ID)], veths[vethName(in.ID)] = nums[v.ID], true
		}
	}
	local = sortedAddrs(local) // fabricResetAddr once
	slices.Sort(numbers)
	tables := fabricTables{vethVPC: vethVPC, numbers: numbers, ep: ep}
	pre := slices.Concat([]natRule{fabricOrphanRule}, resolverDNAT(vpcs, nums), ep.dnat, endpointSocketDNAT(vpcs, nums))

	// Each step runs when what it realises changed since it last
	// succeeded; each needs the ones before it, and instances are attached
	// only once the firewall is in place.
	step := func(key, fp string, do func() error) error {
		if l.fab[key] == fp {
			return nil
		}
		delete(l.fab, key)
		if err := do(); err != nil {
			return err
		}
		l.fab[key] = fp
		return nil
	}
	for _, s := range []struct {
		key, fp string
		do      func() error
	}{
		{"base", "1", func() error { return ensureFabricBase(f) }},
		{"lo", fmt.Sprint(local), func() error { return f.setLoAddrs(local) }},
		{"rules", fmt.Sprint(numbers), func() error { return syncVPCRules(f, numbers) }},
		{"tables", tables.String(), func() error { return installFabricTables(f.fd(), tables) }},
	} {
		if err = step(s.key, s.fp, s.do); err != nil {
			break
		}
	}
	if err == nil && !l.applyFabricFirewall(f, vpcs, st) {
		err = errors.New("no firewall")
	}
	if err == nil {
		err = step("nat", fmt.Sprint(pre, ep.snat), func() error {
			if err := installNAT(f.fd(), natChains{pre: pre, post: ep.snat}); err != nil {
				return fmt.Errorf("endpoint NAT: %w", err)
			}
			l.log.Info("lab: fabric endpoint NAT installed", "rules", len(ep.dnat), "paths", len(ep.paths))
			return nil
		})
	}
	if err == nil {
		err = errors.Join(l.sweepFabricFlows(f, vpcs, nums), l.syncFabricMetrics(f, vpcs, nums))
	}
	if err != nil {
		failAll(fmt.Errorf("lab: fabric %s: %w", name, err))
		return
	}

	for _, v := range vpcs {
		l.applyVPC(ctx, v, st)
	}

	// What no VPC keeps: veths of instances that left, tables of VPCs
	// that left.
	if err := step("sweep", fmt.Sprint(vethVPC, numbers), func() error {
		return errors.Join(sweepVeths(f, veths), sweepTables(f, numbers))
	}); err != nil {
		failAll(fmt.Errorf("lab: fabric %s: sweep: %w", name, err))
	}
}

// applyFabricFirewall installs every VPC's security groups as one table
// (fabricRuleset) and reports whether the fabric has a firewall: without
// any table it would forward unfiltered, so it stops forwarding and no
// instance is attached until a table is in place.
func (l *Lab) applyFabricFirewall(f *nsConn, vpcs []VPC, st *Status) bool {
	parts := make([]vpcRuleset, len(vpcs))
	for i, v := range vpcs {
		rs, err := compileFirewall(v.Firewall, fabricRouterAddrs(v, l.number(v.ID)))
		st.fail(v.ID, err) // bad rules are left out and reported; the rest applies
		parts[i] = vpcRuleset{number: l.number(v.ID), id: v.ID, rs: rs}
	}
	rs := fabricRuleset(parts)
	text := rs.String()
	if l.fab["firewall"] == text {
		return true
	}
	delete(l.fab, "firewall")
	err := rs.install(f.fd())
	if err == nil {
		err = f.sysctl(sysctl{"net/ipv4/ip_forward", "1"})
	}
	if err != nil {
		for _, v := range vpcs {
			st.fail(v.ID, fmt.Errorf("lab: firewall of %s: %w", v.ID, err))
		}
		if ok, _ := tableExists(f.fd()); !ok {
			_ = f.sysctl(sysctl{"net/ipv4/ip_forward", "0"})
			return false
		}
		return true // the last table stands
	}
	l.fab["firewall"] = text
	l.log.Info("lab: fabric firewall installed", "vpcs", len(vpcs))
	return true
}

// fabricRouterAddrs are the addresses of VPC number n's router in the
// fabric, which its instances always reach: the router's own,
// fabricResetAddr and, with a resolver, the service address the resolver
// listens on.
func fabricRouterAddrs(v VPC, n int) []netip.Addr {
	addrs := append(routerAddrs(v), fabricResetAddr)
	if v.Resolver.IsValid() {
		addrs = append(addrs, fabricServiceAddr(n))
	}
	return addrs
}

// endpointAddrs are the local addresses of a VPC's endpoint interfaces:
// those whose new flows the firewall judges before any translation, so
// that the fabric may send them on to the interface's service address.
func endpointAddrs(v VPC) []netip.Addr {
	var out []netip.Addr
	for _, itf := range v.Firewall.Interfaces {
		if itf.Kind == KindEndpoint && itf.Addr.Is4() && slices.Contains(v.LocalAddrs, itf.Addr) {
			out = append(out, itf.Addr)
		}
	}
	return sortedAddrs(out)
}

// fabricAddrs are a VPC's local addresses in the fabric: its router's,
// its endpoint interfaces' and the service addresses where privlink's
// sockets listen for those interfaces.
func (l *Lab) fabricAddrs(v VPC) []netip.Addr {
	addrs := slices.Concat(fabricRouterAddrs(v, l.number(v.ID)), v.LocalAddrs)
	for _, a := range endpointAddrs(v) {
		if n := l.number(localID(v.ID, a)); n != 0 {
			addrs = append(addrs, fabricServiceAddr(n))
		}
	}
	return addrs
}

// ensureFabricBase sets the fabric's sysctls and moves the local table's
// ip rule behind the VPCs' rules.
func ensureFabricBase(f *nsConn) error {
	if err := f.linkUp("lo"); err != nil {
		return err
	}
	if err := f.sysctl(append(slices.Clone(routerSysctls), fabricSysctls...)...); err != nil {
		return err
	}
	rules, err := retryDump(func() ([]netlink.Rule, error) { return f.nl.RuleList(netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("ip rules: %w", err)
	}
	moved := false
	for _, r := range rules {
		if r.Table == unix.RT_TABLE_LOCAL && r.Priority == localRulePriority {
			moved = true
		}
	}
	if !moved {
		r := netlink.NewRule()
		r.Family, r.Table, r.Priority = unix.AF_INET, unix.RT_TABLE_LOCAL, localRulePriority
		if err := f.nl.RuleAdd(r); err != nil {
			return fmt.Errorf("ip rule lookup local pref %d: %w", localRulePriority, err)
		}
	}
	for _, r := range rules {
		if r.Table == unix.RT_TABLE_LOCAL && r.Priority != localRulePriority {
			if err := f.nl.RuleDel(&r); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("remove ip rule lookup local pref %d: %w", r.Priority, err)
			}
		}
	}
	return nil
}

// syncVPCRules makes the fabric's per-VPC ip rules exactly "fwmark N
// lookup N" for each VPC number N.
func syncVPCRules(f *nsConn, numbers []int) error {
	rules, err := retryDump(func() ([]netlink.Rule, error) { return f.nl.RuleList(netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("ip rules: %w", err)
	}
	have := map[int]bool{}
	for _, r := range rules {
		if r.Priority != vpcRulePriority {
			continue
		}
		if n := int(r.Mark); r.Table == n && slices.Contains(numbers, n) && (r.Mask == nil || *r.Mask == ^uint32(0)) && !have[n] {
			have[n] = true
			continue
		}
		if err := f.nl.RuleDel(&r); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("remove ip rule fwmark %d lookup %d: %w", r.Mark, r.Table, err)
		}
	}
	for _, n := range numbers {
		if have[n] {
			continue
		}
		r := netlink.NewRule()
		r.Family, r.Priority, r.Mark, r.Table = unix.AF_INET, vpcRulePriority, uint32(n), n
		if err := f.nl.RuleAdd(r); err != nil {
			return fmt.Errorf("ip rule fwmark %d lookup %d: %w", n, n, err)
		}
	}
	return nil
}

// ensureVPCTable makes a VPC's table in the fabric hold a local route for
// each of addrs and a blackhole default. Routes to instances are theirs
// (ensureInstance).
func ensureVPCTable(f *nsConn, table int, addrs []netip.Addr) error {
	lo, err := f.nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	want := hostPrefixes(addrs)
	have, err := retryDump(func() ([]netlink.Route, error) {
		return f.nl.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return fmt.Errorf("routes of table %d: %w", table, err)
	}
	present := map[netip.Prefix]bool{}
	for _, r := range have {
		if r.Type != unix.RTN_LOCAL {
			continue
		}
		if p, ok := ipNetPrefix(r.Dst); ok && want[p] && r.LinkIndex == lo.Attrs().Index {
			present[p] = true
			continue
		}
		if err := f.nl.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("remove local route %v from table %d: %w", r.Dst, table, err)
		}
	}
	for p := range want {
		if present[p] {
			continue
		}
		r := &netlink.Route{Type: unix.RTN_LOCAL, LinkIndex: lo.Attrs().Index, Dst: prefixIPNet(p), Table: table, Scope: netlink.SCOPE_HOST}
		if err := f.nl.RouteReplace(r); err != nil {
			return fmt.Errorf("local route %v in table %d: %w", p, table, err)
		}
	}
	return blackholeDefault(f, table)
}

// blackholeDefault makes the default route of a table a blackhole: what
// leaves a VPC without a gateway is dropped silently, so a client sees a
// timeout as on AWS, where an unreachable route would answer with ICMP at
// once.
func blackholeDefault(r *nsConn, table int) error {
	blackhole := &netlink.Route{
		Dst:   &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)},
		Type:  unix.RTN_BLACKHOLE,
		Table: table,
	}
	if err := r.nl.RouteReplace(blackhole); err != nil {
		return fmt.Errorf("blackhole default route in table %d: %w", table, err)
	}
	return nil
}

// sweepTables removes the routes of every table but the kernel's and the
// VPCs' of numbers: tables of VPCs that left.
func sweepTables(f *nsConn, numbers []int) error {
	have, err := retryDump(func() ([]netlink.Route, error) {
		return f.nl.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return fmt.Errorf("routes: %w", err)
	}
	var errs []error
	for _, r := range have {
		if (r.Table >= firstKernelTable && r.Table <= lastKernelTable) || slices.Contains(numbers, r.Table) {
			continue
		}
		if err := f.nl.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("remove route %v from table %d: %w", r.Dst, r.Table, err))
		}
	}
	return errors.Join(errs...)
}

// removeFabric tears the fabric namespace down, and with it every veth
// and table in it.
func (l *Lab) removeFabric(ctx context.Context) error {
	name := fabricNS(l.cfg.Prefix)
	if err := killProcesses(ctx, name, l.reap); err != nil {
		return fmt.Errorf("lab: remove fabric: %w", err)
	}
	// The kernel dismantles a namespace some time after its last user
	// lets go, and its veths forward until then: cut them at once.
	if f, err := openNS(name); err == nil {
		err = sweepVeths(f, nil)
		f.close()
		if err != nil {
			return fmt.Errorf("lab: remove fabric: %w", err)
		}
	}
	if err := removeNamespace(name); err != nil {
		return fmt.Errorf("lab: remove fabric: %w", err)
	}
	clear(l.fab)
	delete(l.swept, name)
	l.log.Info("lab: fabric removed", "netns", name)
	return nil
}
