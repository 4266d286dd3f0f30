package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
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
	keys := make([][]byte, len(want))
	for i, a := range want {
		keys[i] = a.AsSlice()
	}
	if err := syncMetrics(r, addrKey, map[string][][]byte{setAttempts: keys}); err != nil {
		return fmt.Errorf("%w (metrics of %s)", err, v.ID)
	}
	l.counted[key] = fp
	return nil
}

// syncMetrics makes the metrics table of a router or the fabric hold
// exactly the wanted elements, keeping the counters of those it already
// has. want maps the first set of each group of sets that share their
// elements (routerMetricSets; fabricNodeSets) to its elements' keys.
func syncMetrics(r *nsConn, k metricKey, want map[string][][]byte) error {
	c, err := nftables.New(nftables.WithNetNSFd(r.fd()), nftables.WithSockOptions(batchBuffers))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: metricsTable}
	sets, fresh, err := metricTable(c, t, k)
	if err != nil {
		return err
	}
	for first, keys := range want {
		group := routerMetricSets
		if first == fabricNodeSets[0] {
			group = fabricNodeSets
		}
		var have []nftables.SetElement
		if !fresh {
			if have, err = c.GetSetElements(sets[first]); err != nil {
				return fmt.Errorf("nftables: list %s: %w", first, err)
			}
		}
		wanted := map[string]bool{}
		for _, key := range keys {
			wanted[string(key)] = true
		}
		var add, del []nftables.SetElement
		present := map[string]bool{}
		for _, e := range have {
			present[string(e.Key)] = true
			if !wanted[string(e.Key)] {
				del = append(del, nftables.SetElement{Key: e.Key})
			}
		}
		for _, key := range keys {
			if !present[string(key)] {
				present[string(key)] = true
				add = append(add, nftables.SetElement{Key: key})
			}
		}
		for _, name := range group {
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
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: metrics: %w", err)
	}
	return nil
}

// metricKey is how a metrics table keys an endpoint's counters: by its
// address in a router, by its VPC's number and its address in the fabric,
// where addresses of VPCs overlap.
type metricKey struct {
	typ    nftables.SetDatatype
	concat bool // typ joins several fields
	// load loads the key of the packet's address at off into register 1.
	load func(off uint32) []expr.Any
	// nodes: the table also counts nodes' flows (the fabric's, where they
	// do not cross the node).
	nodes bool
}

var (
	addrKey   = metricKey{typ: nftables.TypeIPAddr, load: loadAddr}
	fabricKey = metricKey{typ: nftables.MustConcatSetType(nftables.TypeMark, nftables.TypeIPAddr), concat: true, nodes: true,
		load: func(off uint32) []expr.Any {
			return []expr.Any{&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
				&expr.Payload{DestRegister: 9, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4}}
		}}
)

// metricTable returns the metrics sets of a router or the fabric,
// queueing the table anew (fresh) when it is missing.
func metricTable(c *nftables.Conn, t *nftables.Table, k metricKey) (sets map[string]*nftables.Set, fresh bool, err error) {
	names := routerMetricSets
	if k.nodes {
		names = slices.Concat(routerMetricSets, fabricNodeSets)
	}
	sets = map[string]*nftables.Set{}
	existing, err := c.GetSets(t)
	if err == nil && len(existing) == len(names) {
		for _, s := range existing {
			sets[s.Name] = s
		}
		return sets, false, nil
	}
	// Missing or not what this version makes: build it anew.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	for i, name := range names {
		s := &nftables.Set{Table: t, Name: name, ID: uint32(i + 1), KeyType: k.typ, Counter: true, Concatenation: k.concat}
		if slices.Contains(fabricNodeSets, name) { // keyed by node number
			s.KeyType, s.KeyByteOrder, s.Concatenation = nftables.TypeMark, binaryutil.NativeEndian, false
		}
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
		return append(slices.Clone(key), &expr.Lookup{SourceRegister: 1, SetName: name, SetID: sets[name].ID})
	}
	dst, src := k.load(offDaddr), k.load(offSaddr)
	rules := []struct {
		chain *nftables.Chain
		exprs []expr.Any
	}{
		{pre, concat(matchCtState(ctNew), lookup(setAttempts, dst))},
		{pre, concat(matchCtDirection(0), lookup(setIn, dst))},
		{pre, concat(matchCtDirection(0), matchTCPFlags(tcpRST, tcpRST), lookup(setRST, dst))},
		{post, concat(matchCtDirection(1), matchTCPFlags(tcpSYN|tcpACK, tcpSYN|tcpACK), lookup(setNew, src))},
		{post, concat(matchCtDirection(1), lookup(setOut, src))},
		{post, concat(matchCtDirection(1), matchTCPFlags(tcpRST, tcpRST), lookup(setRSTOut, src))},
	}
	if k.nodes {
		// A node's share of an endpoint flow: its path's mark names the
		// node in its low 16 bits (fabric_nat_linux.go).
		fwd := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityRef(*nftables.ChainPriorityFilter - 10), Policy: &accept})
		node := []expr.Any{&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: markBytes(0xffff), Xor: make([]byte, 4)}}
		for _, r := range nodeCountRules(func(ctr string) []expr.Any { return lookup(fabricNodeSet(ctr), node) }) {
			rules = append(rules, struct {
				chain *nftables.Chain
				exprs []expr.Any
			}{fwd, r})
		}
	}
	for _, r := range rules {
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

// nodeCountRules are the rules that count a node's forwarded flows, in
// nodeCounters' order: count gives the statement that counts into a
// counter (a node's named counter; in the fabric, the node's element of a
// set).
func nodeCountRules(count func(ctr string) []expr.Any) [][]expr.Any {
	return [][]expr.Any{
		concat(matchCtState(ctNew), count(ctrNew)),
		count(ctrBytes),
		concat(matchCtDirection(0), matchTCPFlags(tcpRST, tcpRST), count(ctrRSTClient)),
		concat(matchCtDirection(1), matchTCPFlags(tcpRST, tcpRST), count(ctrRSTTarget)),
	}
}

// add takes the value of the node counter named ctr.
func (nc *NodeCounters) add(ctr string, c *expr.Counter) {
	switch ctr {
	case ctrNew:
		nc.NewFlows = c.Packets
	case ctrBytes:
		nc.Bytes = c.Bytes
	case ctrRSTClient:
		nc.ClientResets = c.Packets
	case ctrRSTTarget:
		nc.TargetResets = c.Packets
	}
}

// The fabric counts each node counter in a set keyed by node number.
func fabricNodeSet(ctr string) string { return "node-" + ctr }

var fabricNodeSets = func() []string {
	var sets []string
	for _, ctr := range nodeCounters {
		sets = append(sets, fabricNodeSet(ctr))
	}
	return sets
}()

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
	for _, r := range nodeCountRules(count) {
		c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: r})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: metrics of node %s: %w", id, err)
	}
	l.counted[key] = "made"
	return nil
}

// Scrape is one reading of the lab's counters, as one /metrics scrape
// needs: a namespace's counters and conntrack table are read at most once,
// when first asked for, however many VPCs and nodes are asked about. (In
// the shared fabric, every VPC's and node's live in one namespace.) A
// Scrape is used by one goroutine.
type Scrape struct {
	l      *Lab
	read   bool
	fabric *fabricCounters
	err    error
}

// Scrape starts a reading of the lab's counters.
func (l *Lab) Scrape() *Scrape { return &Scrape{l: l} }

func (s *Scrape) readFabric() (*fabricCounters, error) {
	if !s.read {
		s.fabric, s.err = s.l.readFabricCounters()
		s.read = true
	}
	return s.fabric, s.err
}

// EndpointCounters reads the counters of every endpoint interface of a
// VPC, by address. A VPC whose router does not exist has none.
func (l *Lab) EndpointCounters(vpcID string) (map[netip.Addr]EndpointCounters, error) {
	return l.Scrape().EndpointCounters(vpcID)
}

// NodeCounters reads a load balancer node's counters; ok is false when the
// node has no namespace.
func (l *Lab) NodeCounters(nodeID string) (NodeCounters, bool, error) {
	return l.Scrape().NodeCounters(nodeID)
}

// EndpointCounters is Lab.EndpointCounters within the scrape.
func (s *Scrape) EndpointCounters(vpcID string) (map[netip.Addr]EndpointCounters, error) {
	l := s.l
	if l.shared() {
		fc, err := s.readFabric()
		if err != nil || fc == nil {
			return nil, err
		}
		return fc.endpoints[l.number(vpcID)], nil
	}
	r, err := openExisting(l.RouterNamespace(vpcID))
	if err != nil || r == nil {
		return nil, err
	}
	defer r.close()
	out := map[netip.Addr]EndpointCounters{}
	err = readCounterSets(r, routerMetricSets, func(set string, e nftables.SetElement) {
		if a, ok := netip.AddrFromSlice(e.Key); ok {
			ec := out[a]
			ec.add(set, e.Counter)
			out[a] = ec
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w (counters of %s)", err, vpcID)
	}
	flows, err := r.flows()
	if err != nil {
		return nil, err
	}
	for _, f := range flows {
		if ec, ok := out[origDst(f).Addr()]; ok && inTransitPool(f.Reverse.SrcIP) && established(f) {
			ec.ActiveConnections++
			out[origDst(f).Addr()] = ec
		}
	}
	return out, nil
}

// NodeCounters is Lab.NodeCounters within the scrape.
func (s *Scrape) NodeCounters(nodeID string) (NodeCounters, bool, error) {
	l := s.l
	if l.shared() {
		// Endpoint flows do not cross the node: the fabric counts them,
		// and the node's namespace need only exist.
		if !netns.Exists(l.InstanceNamespace(nodeID)) {
			return NodeCounters{}, false, nil
		}
		fc, err := s.readFabric()
		if err != nil || fc == nil {
			return NodeCounters{}, false, err
		}
		return fc.nodes[l.number(nodeID)], true, nil
	}
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
		if ctr, ok := no.Obj.(*expr.Counter); ok {
			nc.add(no.Name, ctr)
		}
	}
	flows, err := n.flows()
	if err != nil {
		return NodeCounters{}, false, err
	}
	for _, f := range flows {
		if inTransitPool(f.Forward.SrcIP) && established(f) {
			nc.ActiveFlows++
		}
	}
	return nc, true, nil
}

// add takes the counter of one element of the set name.
func (ec *EndpointCounters) add(name string, c *expr.Counter) {
	switch name {
	case setAttempts:
		ec.Attempts = c.Packets
	case setNew:
		ec.NewConnections = c.Packets
	case setIn:
		ec.BytesIn = c.Bytes
	case setOut:
		ec.BytesOut = c.Bytes
	case setRST:
		ec.ResetsReceived = c.Packets
	case setRSTOut:
		ec.ResetsSent = c.Packets
	}
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

// readCounterSets calls fn with every element of the named sets of a
// router's or the fabric's metrics table that has a counter.
func readCounterSets(f *nsConn, sets []string, fn func(set string, e nftables.SetElement)) error {
	c, err := nftables.New(nftables.WithNetNSFd(f.fd()))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: metricsTable}
	for _, name := range sets {
		elems, err := c.GetSetElements(&nftables.Set{Table: t, Name: name})
		if err != nil {
			return fmt.Errorf("nftables: read %s: %w", name, err)
		}
		for _, e := range elems {
			if e.Counter != nil {
				fn(name, e)
			}
		}
	}
	return nil
}

// flows lists the namespace's conntrack table.
func (c *nsConn) flows() ([]*netlink.ConntrackFlow, error) {
	flows, err := c.nl.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("conntrack of %s: %w", c.ns.Name(), err)
	}
	return flows, nil
}
