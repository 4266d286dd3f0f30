package lab

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
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

// fabricEndpointCounters is EndpointCounters in the shared fabric.
func (l *Lab) fabricEndpointCounters(vpcID string) (map[netip.Addr]EndpointCounters, error) {
	n := l.number(vpcID)
	f, err := openExisting(fabricNS(l.cfg.Prefix))
	if err != nil || f == nil || n == 0 {
		return nil, err
	}
	defer f.close()
	mark := markBytes(uint32(n))
	out := map[netip.Addr]EndpointCounters{}
	err = readCounterSets(f, routerMetricSets, func(set string, e nftables.SetElement) {
		if len(e.Key) < 8 || !bytes.Equal(e.Key[:4], mark) {
			return
		}
		a, _ := netip.AddrFromSlice(e.Key[4:8])
		ec := out[a]
		ec.add(set, e.Counter)
		out[a] = ec
	})
	if err != nil {
		return nil, fmt.Errorf("%w (counters of %s)", err, vpcID)
	}
	flows, err := f.flows()
	if err != nil {
		return nil, err
	}
	for _, fl := range flows {
		a := origDst(fl).Addr()
		if ec, ok := out[a]; ok && fl.Mark>>16 == uint32(n) && established(fl) {
			ec.ActiveConnections++
			out[a] = ec
		}
	}
	return out, nil
}

// fabricNodeCounters is NodeCounters in the shared fabric, for a node
// whose namespace exists.
func (l *Lab) fabricNodeCounters(nodeID string) (NodeCounters, bool, error) {
	n := l.number(nodeID)
	f, err := openExisting(fabricNS(l.cfg.Prefix))
	if err != nil || f == nil || n == 0 {
		return NodeCounters{}, false, err
	}
	defer f.close()
	mark := markBytes(uint32(n))
	var nc NodeCounters
	err = readCounterSets(f, fabricNodeSets, func(set string, e nftables.SetElement) {
		if bytes.Equal(e.Key, mark) {
			nc.add(strings.TrimPrefix(set, fabricNodeSet("")), e.Counter)
		}
	})
	if err != nil {
		return NodeCounters{}, false, fmt.Errorf("%w (counters of %s)", err, nodeID)
	}
	flows, err := f.flows()
	if err != nil {
		return NodeCounters{}, false, err
	}
	for _, fl := range flows {
		if fl.Mark >= 1<<16 && fl.Mark&0xffff == uint32(n) && established(fl) {
			nc.ActiveFlows++
		}
	}
	return nc, true, nil
}
