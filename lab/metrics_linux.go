package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/privlink/privlink/netns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Counters of the endpoint data path, kept by the kernel.
//
// Routers and nodes each have a table "privlink-metrics" beside the
// firewall and NAT tables. Those are replaced whole on every change, which
// would zero any counter in them; the metrics table is made once and then
// changed element by element, so its counters only grow.
//
//	router (ip privlink-metrics): sets with a counter per element, keyed
//	by endpoint interface address
//	  prerouting, before the firewall and the NAT (destination: the address)
//	    attempts  new-flow packets
//	    in        bytes from clients
//	    rst       resets from clients
//	  postrouting, after the NAT (source: the address again)
//	    new       connections the service accepted (its SYN-ACKs)
//	    out       bytes to clients
//	    rst-out   resets to clients
//	node (ip privlink-metrics): named counters over forwarded packets
//	  new, bytes, rst-client, rst-target
//
// Active flows are counted from conntrack when read.
const metricsTable = "privlink-metrics"

// Router metric sets, by what they count.
const (
	setAttempts = "attempts"
	setNew      = "new"
	setIn       = "in"
	setOut      = "out"
	setRST      = "rst"
	setRSTOut   = "rst-out"
)

var routerMetricSets = []string{setAttempts, setNew, setIn, setOut, setRST, setRSTOut}

// syncRouterMetrics makes the router's metrics table hold exactly the
// endpoint addresses of v, keeping the counters of those it already has.
func (l *Lab) syncRouterMetrics(v VPC) error {
	var want []netip.Addr
	for _, in := range v.Firewall.Interfaces {
		if in.Kind == KindEndpoint && in.Addr.Is4() {
			want = append(want, in.Addr)
		}
	}
	slices.SortFunc(want, netip.Addr.Compare)
	want = slices.Compact(want)
	key := l.RouterNamespace(v.ID)
	fp := fmt.Sprint(want)
	if l.counted[key] == fp {
		return nil
	}
	delete(l.counted, key)
	r, err := openNS(l.RouterNamespace(v.ID))
	if err != nil {
		return err
	}
	defer r.close()
	c, err := nftables.New(nftables.WithNetNSFd(r.fd()), nftables.WithSockOptions(batchBuffers))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: metricsTable}
	sets, fresh, err := routerMetricTable(c, t)
	if err != nil {
		return err
	}
	var have []nftables.SetElement
	if !fresh {
		if have, err = c.GetSetElements(sets[setAttempts]); err != nil {
			return fmt.Errorf("nftables: list %s: %w", setAttempts, err)
		}
	}
	var add, del []nftables.SetElement
	present := map[netip.Addr]bool{}
	for _, e := range have {
		a, ok := netip.AddrFromSlice(e.Key)
		if !ok {
			continue
		}
		present[a] = true
		if _, keep := slices.BinarySearchFunc(want, a, netip.Addr.Compare); !keep {
			del = append(del, nftables.SetElement{Key: e.Key})
		}
	}
	for _, a := range want {
		if !present[a] {
			add = append(add, nftables.SetElement{Key: a.AsSlice()})
		}
	}
	for _, name := range routerMetricSets {
		if len(add) > 0 {
			if err := c.SetAddElements(sets[name], add); err != nil {
				return fmt.Errorf("nftables: %s: %w", name, err)
			}
		}
		if len(del) > 0 {
			if err := c.SetDeleteElements(sets[name], del); err != nil {
				return fmt.Errorf("nftables: %s: %w", name, err)
			}
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: metrics of %s: %w", v.ID, err)
	}
	l.counted[key] = fp
	return nil
}

// routerMetricTable returns the router's metrics sets, queueing the table
// anew (fresh) when it is missing.
func routerMetricTable(c *nftables.Conn, t *nftables.Table) (sets map[string]*nftables.Set, fresh bool, err error) {
	sets = map[string]*nftables.Set{}
	existing, err := c.GetSets(t)
	if err == nil && len(existing) == len(routerMetricSets) {
		for _, s := range existing {
			sets[s.Name] = s
		}
		return sets, false, nil
	}
	// Missing or not what this version makes: build it anew.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	for i, name := range routerMetricSets {
		s := &nftables.Set{Table: t, Name: name, ID: uint32(i + 1), KeyType: nftables.TypeIPAddr, Counter: true}
		if err := c.AddSet(s, nil); err != nil {
			return nil, false, fmt.Errorf("nftables: set %s: %w", name, err)
		}
		sets[name] = s
	}
	accept := nftables.ChainPolicyAccept
	pre := c.AddChain(&nftables.Chain{Name: "prerouting", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRef(*nftables.ChainPriorityMangle - 10), Policy: &accept})
	// After source NAT, where answers carry the endpoint's address again.
	post := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityRef(*nftables.ChainPriorityNATSource + 10), Policy: &accept})
	lookup := func(name string, key []expr.Any) []expr.Any {
		return append(key, &expr.Lookup{SourceRegister: 1, SetName: name, SetID: sets[name].ID})
	}
	for _, r := range []struct {
		chain *nftables.Chain
		exprs []expr.Any
	}{
		{pre, concat(matchCtState(ctNew), lookup(setAttempts, loadAddr(offDaddr)))},
		{pre, concat(matchCtDirection(0), lookup(setIn, loadAddr(offDaddr)))},
		{pre, concat(matchCtDirection(0), matchTCPFlags(tcpRST, tcpRST), lookup(setRST, loadAddr(offDaddr)))},
		{post, concat(matchCtDirection(1), matchTCPFlags(tcpSYN|tcpACK, tcpSYN|tcpACK), lookup(setNew, loadAddr(offSaddr)))},
		{post, concat(matchCtDirection(1), lookup(setOut, loadAddr(offSaddr)))},
		{post, concat(matchCtDirection(1), matchTCPFlags(tcpRST, tcpRST), lookup(setRSTOut, loadAddr(offSaddr)))},
	} {
		c.AddRule(&nftables.Rule{Table: t, Chain: r.chain, Exprs: r.exprs})
	}
	return sets, true, nil
}

// Node counter names.
const (
	ctrNew       = "new"
	ctrBytes     = "bytes"
	ctrRSTClient = "rst-client"
	ctrRSTTarget = "rst-target"
)

var nodeCounters = []string{ctrNew, ctrBytes, ctrRSTClient, ctrRSTTarget}

// ensureNodeMetrics makes the node's metrics table if it is missing.
func (l *Lab) ensureNodeMetrics(id string) error {
	key := l.InstanceNamespace(id)
	if l.counted[key] != "" && !l.rebuilt[id] {
		return nil
	}
	n, err := openNS(l.InstanceNamespace(id))
	if err != nil {
		return err
	}
	defer n.close()
	c, err := nftables.New(nftables.WithNetNSFd(n.fd()))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: metricsTable}
	objs, err := c.GetNamedObjects(t)
	if err == nil && len(objs) == len(nodeCounters) {
		l.counted[key] = "made"
		return nil
	}
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	for _, name := range nodeCounters {
		c.AddObj(&nftables.NamedObj{Table: t, Name: name, Type: nftables.ObjTypeCounter, Obj: &expr.Counter{}})
	}
	accept := nftables.ChainPolicyAccept
	fwd := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityRef(*nftables.ChainPriorityFilter - 10), Policy: &accept})
	count := func(name string) []expr.Any {
		return []expr.Any{&expr.Objref{Type: int(nftables.ObjTypeCounter), Name: name}}
	}
	for _, r := range [][]expr.Any{
		concat(matchCtState(ctNew), count(ctrNew)),
		count(ctrBytes),
		concat(matchCtDirection(0), matchTCPFlags(tcpRST, tcpRST), count(ctrRSTClient)),
		concat(matchCtDirection(1), matchTCPFlags(tcpRST, tcpRST), count(ctrRSTTarget)),
	} {
		c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: r})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: metrics of node %s: %w", id, err)
	}
	l.counted[key] = "made"
	return nil
}

// EndpointCounters reads the counters of every endpoint interface of a
// VPC, by address. A VPC whose router does not exist has none.
func (l *Lab) EndpointCounters(vpcID string) (map[netip.Addr]EndpointCounters, error) {
	r, err := openExisting(l.RouterNamespace(vpcID))
	if err != nil || r == nil {
		return nil, err
	}
	defer r.close()
	c, err := nftables.New(nftables.WithNetNSFd(r.fd()))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: metricsTable}
	out := map[netip.Addr]EndpointCounters{}
	for _, name := range routerMetricSets {
		elems, err := c.GetSetElements(&nftables.Set{Table: t, Name: name})
		if err != nil {
			return nil, fmt.Errorf("nftables: read %s of %s: %w", name, vpcID, err)
		}
		for _, e := range elems {
			a, ok := netip.AddrFromSlice(e.Key)
			if !ok || e.Counter == nil {
				continue
			}
			ec := out[a]
			switch name {
			case setAttempts:
				ec.Attempts = e.Counter.Packets
			case setNew:
				ec.NewConnections = e.Counter.Packets
			case setIn:
				ec.BytesIn = e.Counter.Bytes
			case setOut:
				ec.BytesOut = e.Counter.Bytes
			case setRST:
				ec.ResetsReceived = e.Counter.Packets
			case setRSTOut:
				ec.ResetsSent = e.Counter.Packets
			}
			out[a] = ec
		}
	}
	flows, err := r.nl.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("conntrack of %s: %w", vpcID, err)
	}
	for _, f := range flows {
		if ec, ok := out[origDst(f).Addr()]; ok && inTransitPool(f.Reverse.SrcIP) && established(f) {
			ec.ActiveConnections++
			out[origDst(f).Addr()] = ec
		}
	}
	return out, nil
}

// NodeCounters reads a load balancer node's counters; ok is false when the
// node has no namespace.
func (l *Lab) NodeCounters(nodeID string) (NodeCounters, bool, error) {
	n, err := openExisting(l.InstanceNamespace(nodeID))
	if err != nil || n == nil {
		return NodeCounters{}, false, err
	}
	defer n.close()
	c, err := nftables.New(nftables.WithNetNSFd(n.fd()))
	if err != nil {
		return NodeCounters{}, false, fmt.Errorf("nftables: %w", err)
	}
	objs, err := c.GetNamedObjects(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: metricsTable})
	if err != nil {
		return NodeCounters{}, false, fmt.Errorf("nftables: read counters of %s: %w", nodeID, err)
	}
	var nc NodeCounters
	for _, o := range objs {
		no, ok := o.(*nftables.NamedObj)
		if !ok {
			continue
		}
		ctr, ok := no.Obj.(*expr.Counter)
		if !ok {
			continue
		}
		switch no.Name {
		case ctrNew:
			nc.NewFlows = ctr.Packets
		case ctrBytes:
			nc.Bytes = ctr.Bytes
		case ctrRSTClient:
			nc.ClientResets = ctr.Packets
		case ctrRSTTarget:
			nc.TargetResets = ctr.Packets
		}
	}
	flows, err := n.nl.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		return NodeCounters{}, false, fmt.Errorf("conntrack of %s: %w", nodeID, err)
	}
	for _, f := range flows {
		if inTransitPool(f.Forward.SrcIP) && established(f) {
			nc.ActiveFlows++
		}
	}
	return nc, true, nil
}

// established reports whether a TCP flow is in conntrack's ESTABLISHED
// state.
func established(f *netlink.ConntrackFlow) bool {
	p, ok := f.ProtoInfo.(*netlink.ProtoInfoTCP)
	return ok && f.Forward.Protocol == unix.IPPROTO_TCP && p.State == nfConntrackTCPEstablished
}

// nfConntrackTCPEstablished is TCP_CONNTRACK_ESTABLISHED.
const nfConntrackTCPEstablished = 3

// openExisting opens a namespace that exists; nil when it does not.
func openExisting(name string) (*nsConn, error) {
	if !netns.Exists(name) {
		return nil, nil
	}
	c, err := openNS(name)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("lab: open %s", name), err)
	}
	return c, nil
}

func loadAddr(off uint32) []expr.Any {
	return []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4}}
}

// matchCtDirection matches packets of the flow's original (0) or reply (1)
// direction.
func matchCtDirection(dir byte) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeyDIRECTION},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{dir}},
	}
}
