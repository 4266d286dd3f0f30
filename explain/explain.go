// Package explain answers "why was it dropped?" for PrivateLink: for a new
// TCP flow from a source in a consumer VPC to an interface endpoint and a
// port, it walks the path the flow takes through privlink's data plane, over
// one snapshot of the state, and says whether the flow gets through and, if
// not, which rule or state stops it.
//
// The walk follows the kernel data path (the proxy path makes the same
// decisions):
//
//  1. source          the source is a running instance (or a known address)
//  2. route           the endpoint interface is in the source's VPC
//  3. source-egress   the source's security groups let the flow out
//  4. endpoint-state  the endpoint carries traffic (pending or available)
//  5. endpoint-ingress the endpoint interface's groups admit the source
//  6. listener        a load balancer of the service listens on the port
//  7. node            the load balancer node in the interface's zone
//  8. targets         the targets that take new flows from that node
//  9. target-admission those targets' groups admit the node's address
//
// A drop at steps 1–5 and 9 is silent (the client times out); steps 6 and
// 8 refuse the flow with a reset. The walk stops at the first step that
// decides the flow.
package explain

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/privlink/privlink/core"
)

// Query names a flow: a source (an instance, or an address in a VPC), a
// destination (an endpoint, or an endpoint interface's address in the
// source's VPC) and a TCP port. The JSON names are the admin API's.
type Query struct {
	// SourceInstanceID, or SourceIP with VpcID, names the source.
	SourceInstanceID string `json:"SourceInstanceId,omitempty"`
	SourceIP         string `json:"SourceIp,omitempty"`
	VpcID            string `json:"VpcId,omitempty"`
	// EndpointID, or DestinationIP, names the destination. For an endpoint,
	// its interface in the source's zone is used, else its first.
	EndpointID    string `json:"VpcEndpointId,omitempty"`
	DestinationIP string `json:"DestinationIp,omitempty"`
	Port          int32  `json:"Port"`
	// Viewer is the account the explanation is for. It must own the
	// source or the endpoint; objects of other accounts on the path are
	// described as AWS would to the viewer, without their IDs. Empty means
	// an operator who sees everything.
	Viewer string `json:"-"`
}

// Verdict is what happens to a new flow.
type Verdict string

// Verdicts.
const (
	// Delivered: the flow reaches a target.
	Delivered Verdict = "delivered"
	// Dropped: a packet is discarded silently; the client times out.
	Dropped Verdict = "dropped"
	// Refused: the client gets a reset (connection refused).
	Refused Verdict = "refused"
	// Unknown: the state does not decide the flow (something is not set up
	// yet, or the outcome depends on which target a flow's hash picks).
	Unknown Verdict = "unknown"
)

// Status is the outcome of one step.
type Status string

// Step statuses.
const (
	Pass   Status = "pass"
	Fail   Status = "fail"
	Unsure Status = "unknown"
)

// Step names, in the order the walk takes them.
const (
	StepSource          = "source"
	StepRoute           = "route"
	StepSourceEgress    = "source-egress"
	StepEndpointState   = "endpoint-state"
	StepEndpointIngress = "endpoint-ingress"
	StepListener        = "listener"
	StepNode            = "node"
	StepTargets         = "targets"
	StepTargetAdmission = "target-admission"
)

// Step is one check on the path: what it looked at and what it found.
type Step struct {
	Name    string `json:"Name"`
	Status  Status `json:"Status"`
	Check   string `json:"Check"`
	Finding string `json:"Finding"`
	// Targets are the target group's targets (targets and
	// target-admission steps, when the viewer owns them).
	Targets []Target `json:"Targets,omitempty"`
}

// Target is one registered target as the flow's node sees it.
type Target struct {
	ID      string `json:"Id"`
	Address string `json:"Address,omitempty"` // address:port traffic goes to
	Zone    string `json:"Zone,omitempty"`
	// Health is the target's health state ("initial" before its first
	// checks, "draining" while it is deregistered).
	Health string `json:"Health"`
	// NewFlows reports whether the node sends new flows to the target.
	NewFlows bool `json:"NewFlows"`
	// Admits reports whether the target's security groups admit the node
	// (set for targets that take new flows, after target-admission).
	Admits *bool  `json:"Admits,omitempty"`
	Note   string `json:"Note,omitempty"`
}

// Result is the explanation of one flow.
type Result struct {
	Verdict Verdict `json:"Verdict"`
	// DecidedBy is the step that decided the verdict.
	DecidedBy string `json:"DecidedBy,omitempty"`
	Summary   string `json:"Summary"`
	// Source and Destination describe the flow as resolved, e.g.
	// "10.0.1.10 (i-…)" and "10.0.1.20 tcp/443 (vpce-…)".
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Steps       []Step `json:"Steps"`
}

// Flow explains a new TCP flow. Its error is a *core.Error for a query that
// is malformed or names what does not exist or the viewer may not see;
// every state of the path, however broken, is a Result.
func Flow(s *core.Snapshot, q Query) (Result, error) {
	if err := q.validate(); err != nil {
		return Result{}, err
	}
	w := &walker{s: s, q: q, x: s.ELBIndex()}
	src, err := w.resolveSource()
	if err != nil {
		return Result{}, err
	}
	dst, dstErr := w.resolveDestination(src)
	if q.Viewer != "" && src.owner != q.Viewer && (dstErr != nil || dst.ep.OwnerID != q.Viewer) {
		// The viewer owns neither end: answer as if the source did not
		// exist, whatever the destination is, so nothing leaks.
		return Result{}, w.sourceNotFound()
	}
	if dstErr != nil {
		return Result{}, dstErr
	}
	w.walk(src, dst)
	return w.res, nil
}

func (q Query) validate() error {
	switch {
	case q.SourceInstanceID != "" && (q.SourceIP != "" || q.VpcID != ""):
		return invalid("Name the source either by instance ID or by IP address and VPC ID, not both")
	case q.SourceInstanceID == "" && q.SourceIP == "":
		return invalid("A source is required: an instance ID, or an IP address and a VPC ID")
	case q.SourceIP != "" && q.VpcID == "":
		return invalid("A source IP address needs the VPC ID it is in")
	case q.EndpointID != "" && q.DestinationIP != "":
		return invalid("Name the destination either by VPC endpoint ID or by IP address, not both")
	case q.EndpointID == "" && q.DestinationIP == "":
		return invalid("A destination is required: a VPC endpoint ID or an endpoint's IP address")
	case q.Port < 1 || q.Port > 65535:
		return invalid("Port %d is out of range: it must be from 1 to 65535", q.Port)
	}
	if q.SourceInstanceID != "" && !strings.HasPrefix(q.SourceInstanceID, "i-") {
		return core.Errorf(core.KindInvalid, "InvalidInstanceID.Malformed", "Invalid id: %q (expecting \"i-...\")", q.SourceInstanceID)
	}
	if q.VpcID != "" && !strings.HasPrefix(q.VpcID, "vpc-") {
		return core.Errorf(core.KindInvalid, "InvalidVpcID.Malformed", "Invalid id: %q (expecting \"vpc-...\")", q.VpcID)
	}
	if q.EndpointID != "" && !strings.HasPrefix(q.EndpointID, "vpce-") {
		return core.Errorf(core.KindInvalid, "InvalidVpcEndpointId.Malformed", "Invalid id: %q (expecting \"vpce-...\")", q.EndpointID)
	}
	for _, a := range []string{q.SourceIP, q.DestinationIP} {
		if a == "" {
			continue
		}
		if ip, err := netip.ParseAddr(a); err != nil || !ip.Is4() {
			return invalid("%q is not an IPv4 address", a)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return core.Errorf(core.KindInvalid, "ValidationException", format, args...)
}

// source is the resolved source of the flow.
type source struct {
	addr     netip.Addr
	vpcID    string
	zone     string                 // "" when the address is in no subnet
	owner    string                 // the instance's or the VPC's owner
	instance *core.Instance         // nil for an address that is no instance
	eni      *core.NetworkInterface // the interface with the address, if any
}

// destination is the resolved endpoint and the interface the flow goes to
// (nil when the endpoint has none).
type destination struct {
	ep  *core.VpcEndpoint
	eni *core.NetworkInterface
}

func (w *walker) sourceNotFound() error {
	if w.q.SourceInstanceID != "" {
		return core.Errorf(core.KindNotFound, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", w.q.SourceInstanceID)
	}
	return core.Errorf(core.KindNotFound, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", w.q.VpcID)
}

func (w *walker) resolveSource() (source, error) {
	s := w.s
	if id := w.q.SourceInstanceID; id != "" {
		in, ok := s.Instances[id]
		if !ok {
			return source{}, w.sourceNotFound()
		}
		src := source{addr: in.PrivateIP, vpcID: in.VpcID, zone: in.AvailabilityZone, owner: in.OwnerID, instance: in, eni: s.ENIs[in.NetworkInterfaceID]}
		return src, nil
	}
	vpc, ok := s.VPCs[w.q.VpcID]
	if !ok {
		return source{}, w.sourceNotFound()
	}
	src := source{addr: netip.MustParseAddr(w.q.SourceIP), vpcID: vpc.ID, owner: vpc.OwnerID}
	src.eni = w.eniAt(vpc.ID, src.addr, "")
	if src.eni != nil && src.eni.InterfaceType == core.InterfaceTypeInstance {
		src.instance = s.Instances[src.eni.InstanceID]
	}
	for _, sub := range sortedValues(s.Subnets) {
		if sub.VpcID == vpc.ID && sub.CIDR.Contains(src.addr) {
			src.zone = sub.AvailabilityZone
			break
		}
	}
	return src, nil
}

func (w *walker) resolveDestination(src source) (destination, error) {
	s := w.s
	if id := w.q.EndpointID; id != "" {
		ep, ok := s.Endpoints[id]
		if !ok {
			return destination{}, core.Errorf(core.KindNotFound, "InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id '%s' does not exist", id)
		}
		var first, inZone *core.NetworkInterface
		for _, eniID := range ep.NetworkInterfaceIDs {
			eni, ok := s.ENIs[eniID]
			if !ok {
				continue
			}
			if first == nil {
				first = eni
			}
			if inZone == nil && eni.AvailabilityZone == src.zone {
				inZone = eni
			}
		}
		if inZone == nil {
			inZone = first
		}
		return destination{ep: ep, eni: inZone}, nil
	}
	ip := netip.MustParseAddr(w.q.DestinationIP)
	if eni := w.eniAt(src.vpcID, ip, core.InterfaceTypeVpcEndpoint); eni != nil {
		if ep, ok := s.Endpoints[eni.ResourceID]; ok {
			return destination{ep: ep, eni: eni}, nil
		}
	}
	if eni := w.eniAt(src.vpcID, ip, ""); eni != nil {
		return destination{}, invalid("%s in %s is not an endpoint interface but %s: explain follows flows to VPC endpoints", ip, src.vpcID, describeENI(eni))
	}
	return destination{}, core.Errorf(core.KindNotFound, "InvalidAddress.NotFound",
		"No VPC endpoint interface has the address %s in %s", ip, src.vpcID)
}

// eniAt returns the interface in vpcID with address ip (of type typ, if
// given), or nil.
func (w *walker) eniAt(vpcID string, ip netip.Addr, typ string) *core.NetworkInterface {
	for _, eni := range sortedValues(w.s.ENIs) {
		if eni.VpcID == vpcID && eni.PrivateIP == ip && (typ == "" || eni.InterfaceType == typ) {
			return eni
		}
	}
	return nil
}

func describeENI(eni *core.NetworkInterface) string {
	switch eni.InterfaceType {
	case core.InterfaceTypeInstance:
		return "instance " + eni.InstanceID + "'s interface " + eni.ID
	case core.InterfaceTypeLoadBalancer:
		return "load balancer node " + eni.ID
	case core.InterfaceTypeVpcEndpoint:
		return "endpoint " + eni.ResourceID + "'s interface " + eni.ID
	}
	return "interface " + eni.ID
}

// sortedValues returns a map's values in key order, so walks are stable.
func sortedValues[V any](m map[string]V) []V {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}
