package lab

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
)

// The shared fabric's counters live in one table "privlink-metrics" of the
// fabric: the endpoint sets of a router keyed by VPC number and address,
// and sets of node counters keyed by node number, over the endpoint flows
// whose path names the node (metricTable). Active flows are counted from
// the fabric's conntrack table by path mark.

// syncFabricMetrics makes the fabric's metrics table count every endpoint
// interface of every VPC and every load balancer node.
func (l *Lab) syncFabricMetrics(f *nsConn, vpcs []VPC, nums map[string]int) error {
	var eps, nodes [][]byte
	for _, v := range vpcs {
		for _, in := range v.Firewall.Interfaces {
			if in.Kind == KindEndpoint && in.Addr.Is4() {
				eps = append(eps, slices.Concat(markBytes(uint32(nums[v.ID])), in.Addr.AsSlice()))
			}
		}
		for _, in := range v.Instances {
			if isNode(in.ID) {
				nodes = append(nodes, markBytes(uint32(nums[in.ID])))
			}
		}
	}
	slices.SortFunc(eps, bytes.Compare)
	slices.SortFunc(nodes, bytes.Compare)
	fp := fmt.Sprint(eps, nodes)
	if l.fab["metrics"] == fp {
		return nil
	}
	delete(l.fab, "metrics")
	if err := syncMetrics(f, fabricKey, map[string][][]byte{setAttempts: eps, fabricNodeSets[0]: nodes}); err != nil {
		return err
	}
	l.fab["metrics"] = fp
	return nil
}

// fabricCounters is one reading of the fabric's counters: every endpoint
// interface's by VPC number and address, every node's by node number.
type fabricCounters struct {
	endpoints map[int]map[netip.Addr]EndpointCounters
	nodes     map[int]NodeCounters
}

// readFabricCounters reads the fabric's counter sets and lists its
// conntrack table once, for every VPC and node at a time: nil if the
// fabric does not exist.
func (l *Lab) readFabricCounters() (*fabricCounters, error) {
	f, err := openExisting(fabricNS(l.cfg.Prefix))
	if err != nil || f == nil {
		return nil, err
	}
	defer f.close()
	fc := &fabricCounters{endpoints: map[int]map[netip.Addr]EndpointCounters{}, nodes: map[int]NodeCounters{}}
	err = readCounterSets(f, routerMetricSets, func(set string, e nftables.SetElement) {
		if len(e.Key) < 8 {
			return
		}
		n := int(binaryutil.NativeEndian.Uint32(e.Key[:4]))
		a, _ := netip.AddrFromSlice(e.Key[4:8])
		if fc.endpoints[n] == nil {
			fc.endpoints[n] = map[netip.Addr]EndpointCounters{}
		}
		ec := fc.endpoints[n][a]
		ec.add(set, e.Counter)
		fc.endpoints[n][a] = ec
	})
	if err == nil {
		err = readCounterSets(f, fabricNodeSets, func(set string, e nftables.SetElement) {
			if len(e.Key) == 4 {
				n := int(binaryutil.NativeEndian.Uint32(e.Key))
				nc := fc.nodes[n]
				nc.add(strings.TrimPrefix(set, fabricNodeSet("")), e.Counter)
				fc.nodes[n] = nc
			}
		})
	}
	if err != nil {
		return nil, fmt.Errorf("%w (counters of the fabric)", err)
	}
	flows, err := f.flows()
	if err != nil {
		return nil, err
	}
	for _, fl := range flows {
		if fl.Mark < 1<<16 || !established(fl) {
			continue // not an endpoint flow's path
		}
		c, node := int(fl.Mark>>16), int(fl.Mark&0xffff)
		if ec, ok := fc.endpoints[c][origDst(fl).Addr()]; ok {
			ec.ActiveConnections++
			fc.endpoints[c][origDst(fl).Addr()] = ec
		}
		nc := fc.nodes[node]
		nc.ActiveFlows++
		fc.nodes[node] = nc
	}
	return fc, nil
}
