package reconcile

import (
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/explain"
	"github.com/privlink/privlink/lab"
)

// dropQuiet is how long one flow's drops stay out of the log after it was
// explained: a client retransmits its SYN several times.
const dropQuiet = 30 * time.Second

// DropLogger writes why the lab's firewalls dropped new flows to the log:
// for a flow to an endpoint, what `privlink explain` says about it; for a
// load balancer node's flow to a target, that the target's security groups
// do not admit the node.
type DropLogger struct {
	// snapshot is the latest state the reconciler passed on; nil before
	// the first pass.
	snapshot func() *core.Snapshot
	log      *slog.Logger

	mu   sync.Mutex           // guards seen
	seen map[string]time.Time // flow → when it was last logged
}

// NewDropLogger returns a DropLogger that explains drops with the state of
// the reconciler's latest pass and writes to log (nil: the reconciler's);
// pass its Drop method to (*lab.Lab).WatchDrops.
func (r *Reconciler) NewDropLogger(log *slog.Logger) *DropLogger {
	if log == nil {
		log = r.log
	}
	return &DropLogger{snapshot: r.last.Load, log: log, seen: map[string]time.Time{}}
}

// Drop logs one dropped flow, once per flow in dropQuiet.
func (dl *DropLogger) Drop(d lab.Drop) {
	key := d.VPCID + "|" + d.Src.String() + "|" + netip.AddrPortFrom(d.Dst, d.DstPort).String()
	now := time.Now()
	dl.mu.Lock()
	if last, ok := dl.seen[key]; ok && now.Sub(last) < dropQuiet {
		dl.mu.Unlock()
		return
	}
	dl.seen[key] = now
	for k, t := range dl.seen {
		if now.Sub(t) >= dropQuiet {
			delete(dl.seen, k)
		}
	}
	dl.mu.Unlock()

	s := dl.snapshot()
	if s == nil {
		return
	}
	args := []any{"vpc", d.VPCID, "source", d.Src, "destination", netip.AddrPortFrom(d.Dst, d.DstPort), "protocol", d.Protocol, "chain", d.Chain}
	dst, src := eniAt(s, d.VPCID, d.Dst), eniAt(s, d.VPCID, d.Src)
	switch {
	case dst != nil && dst.InterfaceType == core.InterfaceTypeVpcEndpoint && d.Protocol == 6:
		res, err := explain.Flow(s, explain.Query{SourceIP: d.Src.String(), VpcID: d.VPCID,
			DestinationIP: d.Dst.String(), Port: int32(d.DstPort)})
		if err != nil {
			dl.log.Info("endpoint flow dropped", append(args, "endpoint", dst.ResourceID, "why", err.Error())...)
			return
		}
		dl.log.Info("endpoint flow dropped", append(args, "endpoint", dst.ResourceID,
			"verdict", string(res.Verdict), "decidedBy", res.DecidedBy, "why", res.Summary)...)
	case src != nil && src.InterfaceType == core.InterfaceTypeLoadBalancer:
		var groups []string
		if dst != nil {
			groups = dst.SecurityGroupIDs
		}
		dl.log.Info("load balancer flow to a target dropped", append(args, "loadBalancerNode", src.ID,
			"why", "the target's security groups ("+strings.Join(groups, ", ")+") have no inbound rule admitting the load balancer's address")...)
	default:
		dl.log.Debug("flow dropped", args...)
	}
}

// eniAt finds the network interface with an address in a VPC.
func eniAt(s *core.Snapshot, vpcID string, a netip.Addr) *core.NetworkInterface {
	for _, e := range s.ENIs {
		if e.VpcID == vpcID && e.PrivateIP == a {
			return e
		}
	}
	return nil
}
