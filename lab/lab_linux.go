package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/privlink/privlink/netns"
)

// etcNetns is where `ip netns exec` finds per-namespace files to bind over
// /etc.
const etcNetns = "/etc/netns"

// Lab realises specs as Linux networking. Its methods are safe for
// concurrent use; Apply calls run one at a time. A Lab holds no kernel
// resource between calls, so it needs no Close; what it built outlives it.
type Lab struct {
	cfg    Config
	log    *slog.Logger
	ipPath string // iproute2's ip, which runs user data; "" if missing

	mu sync.Mutex // serialises Apply; guards vpcs, insts, nats, counted, swept, rebuilt and children
	// vpcs and insts record what the last Apply realised, so unchanged
	// objects cost nothing. A missing record means: check the kernel.
	vpcs  map[string]*vpcRecord
	insts map[string]string // instance ID → fingerprint of what was realised
	// nats records the NAT realised in each router or node namespace:
	// namespace name → fingerprint.
	nats map[string]string
	// counted records the metrics table realised in each router or node
	// namespace (metrics_linux.go): namespace name → fingerprint.
	counted map[string]string
	// swept records, per router or node namespace, what the last sweep of
	// its flows kept (see sweepFlows). Forget leaves it: a sweep lists the
	// whole conntrack table, so it runs when what it keeps changes, not on
	// every periodic check.
	swept map[string]string
	// transit hands out transit link addresses, kept in the state
	// directory so that they survive restarts.
	transit *pool[netip.Addr]
	// numbers hands out VPC and node numbers in the shared fabric, kept in
	// the state directory; vpcNum is the last assignment, which readers of
	// counters use without the mutex.
	numbers *pool[int]
	vpcNum  atomic.Pointer[map[string]int]
	// fab records what the shared fabric's lab-wide steps realised: step
	// → fingerprint (see applyFabric).
	fab map[string]string
	// rebuilt names the nodes whose namespaces this Apply (re)built or, after
	// Forget, checked again: their transit ends, NAT and counters are
	// checked again too.
	rebuilt map[string]bool
	// children are user data processes this process started and has not
	// reaped yet: pid → instance ID.
	children map[int]string
}

type vpcRecord struct {
	router   string // fingerprint of the router's addresses
	firewall string // text of the installed ruleset; "" if unknown
	veths    string // router veths kept by the last sweep
}

// New returns a Lab. It touches nothing in the kernel: the first Apply
// adopts whatever namespaces of the prefix already exist.
func New(cfg Config) (*Lab, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "instances"), 0o700); err != nil {
		return nil, fmt.Errorf("lab: state directory: %w", err)
	}
	ipPath, _ := exec.LookPath("ip")
	return &Lab{
		cfg: cfg, log: log, ipPath: ipPath,
		vpcs: map[string]*vpcRecord{}, insts: map[string]string{}, children: map[int]string{},
		nats: map[string]string{}, counted: map[string]string{}, swept: map[string]string{}, transit: newTransitAddrs(filepath.Join(cfg.StateDir, "transit.json")),
		rebuilt: map[string]bool{},
		numbers: newVPCNumbers(filepath.Join(cfg.StateDir, "fabric.json")), fab: map[string]string{},
	}, nil
}

// RouterNamespace returns the name of the namespace that holds a VPC's
// router: its own, or the shared fabric.
func (l *Lab) RouterNamespace(vpcID string) string {
	if l.shared() {
		return fabricNS(l.cfg.Prefix)
	}
	return routerNS(l.cfg.Prefix, vpcID)
}

// InstanceNamespace returns the name of an instance's namespace.
func (l *Lab) InstanceNamespace(instanceID string) string {
	return instanceNS(l.cfg.Prefix, instanceID)
}

// Forget drops the record of what was applied, so the next Apply checks
// every object against the kernel and repairs what drifted, as the first
// Apply after a start does.
func (l *Lab) Forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.vpcs)
	clear(l.insts)
	clear(l.nats)
	clear(l.counted)
	clear(l.fab)
}

// Apply converges the lab on spec: it builds what is missing, repairs what
// differs and removes namespaces of the prefix that spec does not name. It
// does not stop at a failure: every object gets its chance, and the
// failures come back by object ID. Objects unchanged since the last Apply
// cost a stat of their namespace.
func (l *Lab) Apply(ctx context.Context, spec Spec) Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	var st Status
	l.reap()
	clear(l.rebuilt)

	vpcs, wantNS, wantInst := l.validate(spec, &st)

	existing, err := netns.List()
	if err != nil {
		for _, v := range spec.VPCs {
			st.fail(v.ID, fmt.Errorf("lab: %w", err))
		}
	}
	// Instances go first so that a replacement can take over their address.
	for _, name := range existing {
		if kind, id := l.owned(name); kind == instanceIDPrefix && !wantNS[name] {
			st.fail(id, l.removeInstance(ctx, id))
		}
	}
	if l.shared() {
		l.applyFabric(ctx, vpcs, &st)
	} else {
		for _, v := range vpcs {
			l.applyVPC(ctx, v, &st)
		}
		l.applyTransit(ctx, vpcs, &st)
	}
	for _, name := range existing {
		switch kind, id := l.owned(name); {
		case wantNS[name]:
		case kind == vpcIDPrefix:
			st.fail(id, l.removeRouter(ctx, id))
		case kind == fabricName:
			// Left by a lab of the other fabric, or by the last VPC: no
			// object is at fault, and the next Apply tries again.
			if err := l.removeFabric(ctx); err != nil {
				l.log.Error("lab: remove fabric", "err", err)
			}
		}
	}
	l.sweepFiles(wantNS, wantInst)
	return st
}

// validate returns the VPCs of spec that can be built, with only their
// valid instances, and every namespace and instance that spec keeps
// (including those that fail validation: failing is no reason to delete).
func (l *Lab) validate(spec Spec, st *Status) (vpcs []VPC, wantNS, wantInst map[string]bool) {
	wantNS, wantInst = map[string]bool{}, map[string]bool{}
	for _, v := range spec.VPCs {
		if validVPCID(v.ID) == nil {
			wantNS[l.RouterNamespace(v.ID)] = true // the fabric, if shared
		}
		for _, in := range v.Instances {
			if validInstanceID(in.ID) == nil {
				wantNS[l.InstanceNamespace(in.ID)], wantInst[in.ID] = true, true
			}
		}
	}

	seenVPC := map[string]bool{}
	seenInst := map[string]string{} // instance ID → VPC ID
	// In the fabric, every VPC's veths share one namespace.
	labVeths := map[string]string{}
	for _, v := range spec.VPCs {
		err := validVPCID(v.ID)
		if err == nil && seenVPC[v.ID] {
			err = fmt.Errorf("lab: VPC %s appears twice in the spec", v.ID)
		}
		if err != nil {
			st.fail(v.ID, err)
			for _, in := range v.Instances {
				st.fail(in.ID, fmt.Errorf("lab: VPC %q: %w", v.ID, err))
			}
			continue
		}
		seenVPC[v.ID] = true
		veths, addrs := map[string]string{}, map[netip.Addr]string{}
		if l.shared() {
			veths = labVeths
		}
		gateways := sortedAddrs(v.RouterAddrs)
		vv := v
		vv.Instances = nil
		for _, in := range v.Instances {
			err := validInstanceID(in.ID)
			switch {
			case err != nil:
			case seenInst[in.ID] != "":
				err = fmt.Errorf("lab: instance %s appears twice in the spec (in %s and %s)", in.ID, seenInst[in.ID], v.ID)
			case !in.Addr.IsValid() || !in.Addr.Addr().Is4() || in.Addr.Bits() > 30:
				err = fmt.Errorf("lab: instance %s: address %v: want an IPv4 address with a subnet length up to /30", in.ID, in.Addr)
			case !in.Gateway.Is4() || !in.Addr.Masked().Contains(in.Gateway):
				err = fmt.Errorf("lab: instance %s: gateway %v is not in %v", in.ID, in.Gateway, in.Addr.Masked())
			case !slices.Contains(gateways, in.Gateway):
				err = fmt.Errorf("lab: instance %s: gateway %v is not a router address of %s", in.ID, in.Gateway, v.ID)
			case veths[vethName(in.ID)] != "":
				err = fmt.Errorf("lab: instance %s: veth name %s is taken by %s", in.ID, vethName(in.ID), veths[vethName(in.ID)])
			case addrs[in.Addr.Addr()] != "":
				err = fmt.Errorf("lab: instance %s: address %v is taken by %s", in.ID, in.Addr.Addr(), addrs[in.Addr.Addr()])
			}
			if err != nil {
				st.fail(in.ID, err)
				continue
			}
			veths[vethName(in.ID)], addrs[in.Addr.Addr()], seenInst[in.ID] = in.ID, in.ID, v.ID
			vv.Instances = append(vv.Instances, in)
		}
		vpcs = append(vpcs, vv)
	}
	slices.SortFunc(vpcs, func(a, b VPC) int { return strings.Compare(a.ID, b.ID) })
	return vpcs, wantNS, wantInst
}

// owned classifies a namespace name: an instance, a router or the fabric of
// this lab, or ("", "") for anything else.
func (l *Lab) owned(name string) (kind, id string) {
	rest, ok := strings.CutPrefix(name, l.cfg.Prefix+"-")
	switch {
	case !ok:
	case (strings.HasPrefix(rest, instanceIDPrefix) || isNode(rest)) && validInstanceID(rest) == nil:
		return instanceIDPrefix, rest
	case strings.HasPrefix(rest, vpcIDPrefix) && validVPCID(rest) == nil:
		return vpcIDPrefix, rest
	case rest == fabricName:
		return fabricName, ""
	}
	return "", ""
}

// applyVPC converges one VPC: router, firewall, instances, in that order,
// so that no instance is attached to a router without a firewall.
func (l *Lab) applyVPC(ctx context.Context, v VPC, st *Status) {
	failAll := func(err error) {
		st.fail(v.ID, err)
		for _, in := range v.Instances {
			st.fail(in.ID, fmt.Errorf("lab: VPC %s not ready: %w", v.ID, err))
		}
	}
	if err := ctx.Err(); err != nil {
		failAll(err)
		return
	}
	name := l.RouterNamespace(v.ID)
	rec := l.vpcs[v.ID]
	fresh := rec == nil || !mounted(name)
	if fresh {
		rec = &vpcRecord{}
		l.vpcs[v.ID] = rec
	}

	var router *nsConn // opened on first need
	defer func() { router.close() }()
	open := func() (*nsConn, error) {
		if router != nil {
			return router, nil
		}
		var err error
		router, err = openNS(name)
		return router, err
	}

	if key := fmt.Sprint(routerKey(v), l.table(v.ID)); fresh || rec.router != key {
		rec.router = ""
		r, err := open()
		if err == nil {
			err = l.ensureRouter(r, v)
		}
		if err != nil {
			failAll(fmt.Errorf("lab: router %s: %w", name, err))
			return
		}
		rec.router = key
		l.log.Info("lab: router ready", "vpc", v.ID, "netns", name)
	}

	if l.shared() {
		// The firewall and stale veths are the fabric's (applyFabric).
		l.attach(ctx, v, fresh, open, st)
		return
	}

	rs, cerr := compileFirewall(v.Firewall, routerAddrs(v))
	st.fail(v.ID, cerr) // bad rules are left out and reported; the rest applies
	if text := rs.String(); fresh || rec.firewall != text {
		rec.firewall = ""
		r, err := open()
		if err == nil {
			err = rs.install(r.fd())
		}
		if err != nil {
			err = fmt.Errorf("lab: firewall of %s: %w", v.ID, err)
			if r == nil {
				failAll(err)
				return
			}
			// Without any table the router would forward unfiltered: stop
			// forwarding and attach nothing until a table is in place.
			if ok, _ := tableExists(r.fd()); !ok {
				_ = r.sysctl(sysctl{"net/ipv4/ip_forward", "0"})
				failAll(err)
				return
			}
			st.fail(v.ID, err)
		} else {
			if err := r.sysctl(sysctl{"net/ipv4/ip_forward", "1"}); err != nil {
				failAll(fmt.Errorf("lab: router %s: %w", name, err))
				return
			}
			rec.firewall = text
			l.log.Info("lab: firewall installed", "vpc", v.ID, "groups", len(v.Firewall.Groups), "interfaces", len(v.Firewall.Interfaces))
		}
	}

	l.attach(ctx, v, fresh, open, st)

	// Veths of instances that left the VPC would keep their routes.
	keep := map[string]bool{}
	for _, e := range v.Endpoints {
		keep[transitName(e.Node)] = true
	}
	for _, in := range v.Instances {
		keep[vethName(in.ID)] = true
	}
	if names := strings.Join(slices.Sorted(maps.Keys(keep)), ","); fresh || rec.veths != names {
		rec.veths = ""
		r, err := open()
		if err == nil {
			err = sweepVeths(r, keep)
		}
		if err != nil {
			st.fail(v.ID, fmt.Errorf("lab: router %s: remove stale veths: %w", name, err))
		} else {
			rec.veths = names
		}
	}
}

// attach connects the VPC's instances to its router, those changed since
// the last Apply (all of them if the router is fresh).
func (l *Lab) attach(ctx context.Context, v VPC, fresh bool, open func() (*nsConn, error), st *Status) {
	for _, in := range v.Instances {
		if err := ctx.Err(); err != nil {
			st.fail(in.ID, err)
			continue
		}
		key := fmt.Sprint(instanceKey(v, in), l.table(v.ID))
		nsName := l.InstanceNamespace(in.ID)
		if !fresh && l.insts[in.ID] == key && mounted(nsName) {
			continue
		}
		delete(l.insts, in.ID)
		r, err := open()
		if err == nil {
			err = l.ensureInstance(r, v, in)
		}
		if err != nil {
			st.fail(in.ID, fmt.Errorf("lab: instance %s: %w", in.ID, err))
			continue
		}
		l.insts[in.ID] = key
		if isNode(in.ID) {
			// A node built anew lost its end of every transit link.
			l.rebuilt[in.ID] = true
		}
	}
}

func routerAddrs(v VPC) []netip.Addr {
	addrs := slices.Clone(v.RouterAddrs)
	if v.Resolver.IsValid() {
		addrs = append(addrs, v.Resolver)
	}
	return addrs
}

func routerKey(v VPC) string {
	return fmt.Sprint(sortedAddrs(routerAddrs(v)), sortedAddrs(v.LocalAddrs))
}

func instanceKey(v VPC, in Instance) string {
	return fmt.Sprint(v.ID, in.Addr, in.Gateway, v.Resolver)
}

func sortedAddrs(a []netip.Addr) []netip.Addr {
	a = slices.Clone(a)
	slices.SortFunc(a, netip.Addr.Compare)
	return slices.Compact(a)
}

// Router sysctls. Namespaces inherit IPv4 settings from the host, so the
// ones the design depends on are set rather than assumed: arp_ignore must
// let the router answer ARP for addresses on lo, and redirects would tell
// instances to bypass the router (and its firewall).
var routerSysctls = []sysctl{
	{"net/ipv4/conf/all/send_redirects", "0"},
	{"net/ipv4/conf/default/send_redirects", "0"},
	{"net/ipv4/conf/all/arp_ignore", "0"},
	{"net/ipv4/conf/default/arp_ignore", "0"},
}

// ensureRouter makes the router namespace match v, except the firewall
// and ip_forward, which follow it.
func (l *Lab) ensureRouter(r *nsConn, v VPC) error {
	if l.shared() {
		return ensureVPCTable(r, l.table(v.ID), l.fabricAddrs(v))
	}
	if err := r.linkUp("lo"); err != nil {
		return err
	}
	if err := r.sysctl(routerSysctls...); err != nil {
		return err
	}
	if err := r.setLoAddrs(append(routerAddrs(v), v.LocalAddrs...)); err != nil {
		return err
	}
	// A VPC without a gateway drops what leaves it.
	return blackholeDefault(r, unix.RT_TABLE_MAIN)
}

// ensureInstance makes an instance's namespace, veth, addresses and routes
// match in, writes its resolv.conf and runs its user data the first time.
func (l *Lab) ensureInstance(r *nsConn, v VPC, in Instance) error {
	name := l.InstanceNamespace(in.ID)
	inst, err := openNS(name)
	if err != nil {
		return err
	}
	defer inst.close()

	vname := vethName(in.ID)
	rv, err := r.link(vname)
	if err != nil {
		return err
	}
	ie, err := inst.link("eth0")
	if err != nil {
		return err
	}
	if !paired(rv, ie) {
		// Deleting either end of a veth deletes both.
		if rv != nil {
			// The kernel may already be tearing the pair down after its
			// peer's namespace was deleted by hand.
			if err := r.nl.LinkDel(rv); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete stale %s: %w", vname, err)
			}
		}
		if ie, _ = inst.link("eth0"); ie != nil {
			if err := inst.nl.LinkDel(ie); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete stale eth0: %w", err)
			}
		}
		veth := &netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: vname},
			PeerName:      "eth0",
			PeerNamespace: netlink.NsFd(inst.fd()),
		}
		if err := r.nl.LinkAdd(veth); err != nil {
			return fmt.Errorf("create veth %s/eth0: %w", vname, err)
		}
		if rv, err = r.link(vname); err == nil && rv == nil {
			err = fmt.Errorf("veth %s vanished", vname)
		}
		if err != nil {
			return err
		}
		if ie, err = inst.link("eth0"); err == nil && ie == nil {
			err = errors.New("eth0 vanished")
		}
		if err != nil {
			return err
		}
		l.log.Info("lab: veth created", "instance", in.ID, "router", r.ns.Name(), "veth", vname)
	}

	// Router side: proxy ARP answers for every other instance of the
	// subnet, so same-subnet traffic crosses the router and its firewall.
	// The kernel delays each proxied answer by up to proxy_delay (0.8 s by
	// default), which would stall every first flow between two addresses
	// of a subnet (an NLB node and its target, say): answer at once.
	conf := "net/ipv4/conf/" + vname + "/"
	if err := r.sysctl(
		sysctl{conf + "proxy_arp", "1"},
		sysctl{conf + "send_redirects", "0"},
		sysctl{conf + "arp_ignore", "0"},
		sysctl{"net/ipv4/neigh/" + vname + "/proxy_delay", "0"},
	); err != nil {
		return err
	}
	big := !l.cfg.SmallSegments
	if err := errors.Join(r.segments(rv, big), inst.segments(ie, big)); err != nil {
		return err
	}
	if err := r.nl.LinkSetUp(rv); err != nil {
		return fmt.Errorf("%s up: %w", vname, err)
	}
	host := netip.PrefixFrom(in.Addr.Addr(), 32)
	if err := r.setRoutes(rv, host, l.table(v.ID)); err != nil {
		return err
	}

	// Instance side.
	if err := inst.linkUp("lo"); err != nil {
		return err
	}
	if err := inst.setAddrs(ie, map[netip.Prefix]bool{in.Addr: true}, nil); err != nil {
		return err
	}
	if err := inst.nl.LinkSetUp(ie); err != nil {
		return fmt.Errorf("eth0 up: %w", err)
	}
	def := &netlink.Route{LinkIndex: ie.Attrs().Index, Gw: net.IP(in.Gateway.AsSlice())}
	if err := inst.nl.RouteReplace(def); err != nil {
		return fmt.Errorf("default route via %v: %w", in.Gateway, err)
	}

	if isNode(in.ID) {
		if l.shared() {
			// Endpoint flows reach targets from the node's address
			// without crossing the node: its own sockets take other
			// ports (fabric_nat_linux.go).
			return inst.sysctl(sysctl{"net/ipv4/ip_local_port_range", nodeLocalPorts})
		}
		// A node forwards what arrives over transit links to targets.
		return inst.sysctl(sysctl{"net/ipv4/ip_forward", "1"})
	}
	if err := writeResolvConf(name, v.Resolver); err != nil {
		return err
	}
	return l.launchUserData(inst, in)
}

// paired reports whether the router's veth and the instance's eth0 are the
// two ends of one veth pair.
func paired(rv, ie netlink.Link) bool {
	if rv == nil || ie == nil || rv.Type() != "veth" || ie.Type() != "veth" {
		return false
	}
	return rv.Attrs().ParentIndex == ie.Attrs().Index && ie.Attrs().ParentIndex == rv.Attrs().Index
}

// sweepVeths deletes the router's instance veths that keep does not name.
func sweepVeths(r *nsConn, keep map[string]bool) error {
	links, err := retryDump(r.nl.LinkList)
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	var errs []error
	for _, link := range links {
		name := link.Attrs().Name
		if link.Type() != "veth" || keep[name] {
			continue
		}
		if err := r.nl.LinkDel(link); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// writeResolvConf points `ip netns exec` in the namespace at the VPC
// resolver, or at the host's resolver when there is none.
func writeResolvConf(name string, resolver netip.Addr) error {
	dir := filepath.Join(etcNetns, name)
	path := filepath.Join(dir, "resolv.conf")
	if !resolver.IsValid() {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("resolv.conf: %w", err)
		}
		return nil
	}
	want := []byte("nameserver " + resolver.String() + "\n")
	if got, err := os.ReadFile(path); err == nil && string(got) == string(want) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("resolv.conf: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, want, 0o644); err != nil {
		return fmt.Errorf("resolv.conf: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("resolv.conf: %w", err)
	}
	return nil
}

// removeInstance tears an instance down: its processes, its veth, its
// namespace, its files.
func (l *Lab) removeInstance(ctx context.Context, id string) error {
	name := l.InstanceNamespace(id)
	if err := killProcesses(ctx, name, l.reap); err != nil {
		return fmt.Errorf("lab: remove instance %s: %w", id, err)
	}
	// Deleting eth0 takes the router's end with it at once, even if
	// something still holds the namespace open.
	if inst, err := openNS(name); err == nil {
		if ie, _ := inst.link("eth0"); ie != nil {
			_ = inst.nl.LinkDel(ie)
		}
		inst.close()
	}
	if err := removeNamespace(name); err != nil {
		return fmt.Errorf("lab: remove instance %s: %w", id, err)
	}
	if err := os.RemoveAll(l.instanceDir(id)); err != nil {
		return fmt.Errorf("lab: remove instance %s: %w", id, err)
	}
	delete(l.insts, id)
	delete(l.nats, name)
	delete(l.counted, name)
	delete(l.swept, name)
	l.log.Info("lab: instance removed", "instance", id, "netns", name)
	return nil
}

// removeRouter tears a VPC's router down.
func (l *Lab) removeRouter(ctx context.Context, id string) error {
	name := routerNS(l.cfg.Prefix, id) // a router of its own, whatever the fabric now
	if err := killProcesses(ctx, name, l.reap); err != nil {
		return fmt.Errorf("lab: remove VPC %s: %w", id, err)
	}
	if err := removeNamespace(name); err != nil {
		return fmt.Errorf("lab: remove VPC %s: %w", id, err)
	}
	delete(l.vpcs, id)
	delete(l.nats, name)
	delete(l.counted, name)
	delete(l.swept, name)
	l.log.Info("lab: router removed", "vpc", id, "netns", name)
	return nil
}

// removeNamespace unmounts a namespace and removes its /etc/netns files.
func removeNamespace(name string) error {
	if err := netns.Delete(name); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(etcNetns, name)); err != nil {
		return fmt.Errorf("remove %s: %w", filepath.Join(etcNetns, name), err)
	}
	return nil
}

// sweepFiles removes /etc/netns directories and instance state of this
// prefix that belong to nothing in the spec: leftovers of a crash between
// removing a namespace and its files.
func (l *Lab) sweepFiles(wantNS, wantInst map[string]bool) {
	if ents, err := os.ReadDir(etcNetns); err == nil {
		for _, e := range ents {
			if kind, _ := l.owned(e.Name()); kind != "" && !wantNS[e.Name()] && !mounted(e.Name()) {
				_ = os.RemoveAll(filepath.Join(etcNetns, e.Name()))
			}
		}
	}
	if ents, err := os.ReadDir(filepath.Join(l.cfg.StateDir, "instances")); err == nil {
		for _, e := range ents {
			if !wantInst[e.Name()] && !mounted(l.InstanceNamespace(e.Name())) {
				_ = os.RemoveAll(l.instanceDir(e.Name()))
			}
		}
	}
}

func (l *Lab) instanceDir(id string) string {
	return filepath.Join(l.cfg.StateDir, "instances", id)
}

// mounted reports whether a namespace of that name is mounted: a plain
// file left by a crash between creating and mounting does not count.
func mounted(name string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(filepath.Join(netns.Dir, name), &fs) == nil && fs.Type == unix.NSFS_MAGIC
}
