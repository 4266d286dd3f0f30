package explain

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/privlink/privlink/core"
)

// walker walks one flow's path over a snapshot and records the steps.
type walker struct {
	s   *core.Snapshot
	q   Query
	x   core.ELBIndex
	res Result
}

// sees reports whether the viewer may see the IDs of an account's objects.
func (w *walker) sees(owner string) bool { return w.q.Viewer == "" || w.q.Viewer == owner }

func (w *walker) pass(name, check, finding string) *Step {
	w.res.Steps = append(w.res.Steps, Step{Name: name, Status: Pass, Check: check, Finding: finding})
	return &w.res.Steps[len(w.res.Steps)-1]
}

// decide records the step that decides the flow.
func (w *walker) decide(v Verdict, name, check, finding string) *Step {
	st := Fail
	if v == Unknown {
		st = Unsure
	}
	w.res.Steps = append(w.res.Steps, Step{Name: name, Status: st, Check: check, Finding: finding})
	w.res.Verdict, w.res.DecidedBy, w.res.Summary = v, name, finding
	return &w.res.Steps[len(w.res.Steps)-1]
}

func (w *walker) walk(src source, dst destination) {
	w.res.Source = src.addr.String()
	if src.instance != nil && w.sees(src.owner) {
		w.res.Source += " (" + src.instance.ID + ")"
	}
	w.res.Destination = dst.ep.ID + " tcp/" + strconv.Itoa(int(w.q.Port))
	if dst.eni != nil {
		w.res.Destination = dst.eni.PrivateIP.String() + " tcp/" + strconv.Itoa(int(w.q.Port)) + " (" + dst.ep.ID + ")"
	}
	if !w.source(src) || !w.route(src, dst) || !w.sourceEgress(src, dst) || !w.endpointState(dst) || !w.endpointIngress(src, dst) {
		return
	}
	lb, tg, ok := w.listener(dst)
	if !ok {
		return
	}
	node := w.node(dst, lb)
	chosen, ok := w.targets(lb, node, tg)
	if !ok {
		return
	}
	w.targetAdmission(node, tg, chosen)
}

// 1. The source sends: a running instance, or a load balancer node.
func (w *walker) source(src source) bool {
	const check = "the source can send: a running instance (or another interface) in the VPC"
	if in := src.instance; in != nil {
		name := "instance " + in.ID
		if !w.sees(src.owner) {
			name = "the source"
		}
		switch in.State {
		case core.InstanceRunning:
			w.pass(StepSource, check, fmt.Sprintf("%s is running in %s (%s, %s) with address %s", name, in.VpcID, in.SubnetID, in.AvailabilityZone, in.PrivateIP))
			return true
		case core.InstancePending:
			w.decide(Unknown, StepSource, check, name+" is pending: its network is not set up yet, so it sends nothing")
		default:
			w.decide(Unknown, StepSource, check, name+" is "+in.State+": it sends nothing")
		}
		return false
	}
	if eni := src.eni; eni != nil {
		switch eni.InterfaceType {
		case core.InterfaceTypeLoadBalancer:
			w.pass(StepSource, check, fmt.Sprintf("%s is load balancer node %s in %s", src.addr, eni.ID, src.vpcID))
			return true
		case core.InterfaceTypeVpcEndpoint:
			w.decide(Dropped, StepSource, check, fmt.Sprintf("%s is %s: endpoint interfaces receive flows and never start them; the VPC's router drops them", src.addr, describeENI(eni)))
		default:
			w.decide(Dropped, StepSource, check, fmt.Sprintf("%s is interface %s, which belongs to no instance in the lab: the VPC's router drops its flows", src.addr, eni.ID))
		}
		return false
	}
	w.decide(Dropped, StepSource, check, fmt.Sprintf("no network interface in %s has the address %s: the VPC's router drops new flows from an address it does not know", src.vpcID, src.addr))
	return false
}

// 2. The endpoint has an interface in the source's VPC.
func (w *walker) route(src source, dst destination) bool {
	const check = "the endpoint has an interface in the source's VPC (VPCs have no route between them)"
	ep := dst.ep
	if ep.VpcID != src.vpcID {
		other := "another VPC"
		if w.sees(ep.OwnerID) {
			other = ep.VpcID
		}
		w.decide(Dropped, StepRoute, check, fmt.Sprintf("endpoint %s is in %s, not in the source's VPC %s: VPCs have no route between them", ep.ID, other, src.vpcID))
		return false
	}
	eni := dst.eni
	if eni == nil {
		w.decide(Unknown, StepRoute, check, fmt.Sprintf("endpoint %s has no network interface yet", ep.ID))
		return false
	}
	finding := fmt.Sprintf("%s is endpoint %s's interface %s in %s (%s), in the source's VPC %s", eni.PrivateIP, ep.ID, eni.ID, eni.SubnetID, eni.AvailabilityZone, src.vpcID)
	if w.q.EndpointID != "" && src.zone != "" && eni.AvailabilityZone != src.zone {
		finding += fmt.Sprintf("; the endpoint has no interface in %s, the source's zone, so its first one is used", src.zone)
	}
	w.pass(StepRoute, check, finding)
	return true
}

// 3. The source's security groups let the flow out.
func (w *walker) sourceEgress(src source, dst destination) bool {
	port, to := w.q.Port, dst.eni.PrivateIP
	check := fmt.Sprintf("outbound rules of the source's security groups for tcp/%d to %s", port, to)
	if src.instance == nil {
		// Only a load balancer node gets here: it has no groups.
		w.pass(StepSourceEgress, check, "load balancer nodes have no security groups: nothing limits what they send")
		return true
	}
	groups := src.instance.SecurityGroupIDs
	if src.eni != nil {
		groups = src.eni.SecurityGroupIDs
	}
	who := "source " + src.instance.ID
	if !w.sees(src.owner) {
		who = "the source"
	}
	if len(groups) == 0 {
		w.decide(Dropped, StepSourceEgress, check, who+" has no security groups: nothing lets its traffic out")
		return false
	}
	if m, ok := w.match(groups, true, src.vpcID, to, port); ok {
		finding := "allowed by the source's security groups"
		if w.sees(src.owner) {
			finding = "allowed by " + describeMatch(m)
		}
		w.pass(StepSourceEgress, check, finding)
		return true
	}
	finding := fmt.Sprintf("%s's security groups have no outbound rule allowing tcp/%d to %s", who, port, to)
	if w.sees(src.owner) {
		finding = fmt.Sprintf("%s security groups %s have no outbound rule allowing tcp/%d to %s (%s)",
			who, strings.Join(groups, ", "), port, to, w.listRules(groups, true))
	}
	w.decide(Dropped, StepSourceEgress, check, finding)
	return false
}

// 4. The endpoint carries traffic: accepted (or needing no acceptance) and
// not on its way out.
func (w *walker) endpointState(dst destination) bool {
	const check = "the endpoint carries traffic (state pending or available)"
	ep := dst.ep
	name := "endpoint " + ep.ID
	drops := "; it carries no traffic, and its address drops every packet"
	switch ep.State {
	case core.EndpointAvailable:
		w.pass(StepEndpointState, check, name+" is available")
		return true
	case core.EndpointPending:
		w.pass(StepEndpointState, check, name+" is pending: accepted, its data path is being set up, and it carries traffic as soon as it is")
		return true
	case core.EndpointPendingAcceptance:
		w.decide(Dropped, StepEndpointState, check, name+" is pendingAcceptance: not accepted yet by the owner of service "+ep.ServiceID+drops)
	case core.EndpointRejected:
		w.decide(Dropped, StepEndpointState, check, name+" is rejected: not accepted, the owner of service "+ep.ServiceID+" rejected it"+drops)
	case core.EndpointDeleting, core.EndpointDeleted:
		w.decide(Dropped, StepEndpointState, check, name+" is "+ep.State+drops)
	case core.EndpointFailed:
		why := ""
		if ep.LastErrorMessage != "" {
			why = " (" + ep.LastErrorMessage + ")"
		}
		w.decide(Dropped, StepEndpointState, check, name+" failed"+why+drops)
	case core.EndpointExpired:
		w.decide(Dropped, StepEndpointState, check, name+" expired before it was accepted"+drops)
	default:
		w.decide(Unknown, StepEndpointState, check, name+" is in state "+strconv.Quote(ep.State))
	}
	return false
}

// 5. The endpoint interface's security groups admit the source.
func (w *walker) endpointIngress(src source, dst destination) bool {
	ep, eni, port := dst.ep, dst.eni, w.q.Port
	check := fmt.Sprintf("inbound rules of the endpoint's security groups for %s on tcp/%d (an endpoint's outbound rules never apply)", src.addr, port)
	groups := eni.SecurityGroupIDs
	if len(groups) == 0 {
		w.decide(Dropped, StepEndpointIngress, check, fmt.Sprintf("endpoint %s's interface %s has no security groups: it admits nothing", ep.ID, eni.ID))
		return false
	}
	if m, ok := w.match(groups, false, eni.VpcID, src.addr, port); ok {
		finding := "admitted by the endpoint's security groups"
		if w.sees(ep.OwnerID) {
			finding = fmt.Sprintf("endpoint %s admits it: %s", ep.ID, describeMatch(m))
		}
		w.pass(StepEndpointIngress, check, finding)
		return true
	}
	finding := fmt.Sprintf("endpoint %s's security groups have no inbound rule admitting %s on tcp/%d", ep.ID, src.addr, port)
	if w.sees(ep.OwnerID) {
		finding = fmt.Sprintf("endpoint %s security groups %s have no inbound rule admitting %s on tcp/%d (%s)",
			ep.ID, strings.Join(groups, ", "), src.addr, port, w.listRules(groups, false))
	}
	w.decide(Dropped, StepEndpointIngress, check, finding)
	return false
}

// 6. A load balancer of the endpoint's service listens on the port (the
// first one that does, in the service's order).
func (w *walker) listener(dst destination) (*core.LoadBalancer, *core.TargetGroup, bool) {
	ep, port := dst.ep, w.q.Port
	check := fmt.Sprintf("a load balancer of service %s has a listener on tcp/%d that forwards to a target group", ep.ServiceID, port)
	reset := ": the endpoint's address answers with a reset (connection refused)"
	svc, ok := w.s.EndpointServices[ep.ServiceID]
	if !ok {
		w.decide(Refused, StepListener, check, fmt.Sprintf("service %s no longer exists, so nothing listens on tcp/%d%s", ep.ServiceID, port, reset))
		return nil, nil, false
	}
	owner := w.sees(svc.OwnerID)
	var others []string // what the service's load balancers do listen on
	for _, arn := range svc.NetworkLoadBalancerARNs {
		lb := w.x.LoadBalancer(arn)
		if lb == nil || len(lb.Nodes) == 0 {
			continue
		}
		for _, l := range w.x.Listeners(lb.ID) {
			tg := w.x.Forward(l)
			if l.Port != port || tg == nil {
				if tg != nil {
					others = append(others, fmt.Sprintf("%s tcp/%d", lb.Name, l.Port))
				}
				continue
			}
			if lb.State != core.LBActive {
				name := "the service's load balancer"
				if owner {
					name = "load balancer " + lb.Name
				}
				w.decide(Unknown, StepListener, check, fmt.Sprintf("%s is %s, not active yet", name, lb.State))
				return nil, nil, false
			}
			finding := fmt.Sprintf("service %s listens on tcp/%d", svc.ID, port)
			if owner {
				finding = fmt.Sprintf("load balancer %s's listener on tcp/%d forwards to target group %s (%s targets, port %d)",
					lb.Name, port, tg.Name, tg.TargetType, tg.Port)
			}
			w.pass(StepListener, check, finding)
			return lb, tg, true
		}
	}
	finding := fmt.Sprintf("service %s has no listener on tcp/%d%s", svc.ID, port, reset)
	if owner {
		switch {
		case len(others) > 0:
			finding = fmt.Sprintf("service %s has no listener on tcp/%d (its load balancers listen on %s)%s", svc.ID, port, strings.Join(others, ", "), reset)
		case !w.hasLoadBalancer(svc):
			finding = fmt.Sprintf("service %s has no load balancer with a node, so nothing listens on tcp/%d%s", svc.ID, port, reset)
		default:
			finding = fmt.Sprintf("service %s's load balancers have no listener that forwards to a target group%s", svc.ID, reset)
		}
	}
	w.decide(Refused, StepListener, check, finding)
	return nil, nil, false
}

func (w *walker) hasLoadBalancer(svc *core.EndpointService) bool {
	for _, arn := range svc.NetworkLoadBalancerARNs {
		if lb := w.x.LoadBalancer(arn); lb != nil && len(lb.Nodes) > 0 {
			return true
		}
	}
	return false
}

// 7. The node in the endpoint interface's zone carries the flow, else the
// load balancer's first node.
func (w *walker) node(dst destination, lb *core.LoadBalancer) core.LoadBalancerNode {
	zone := dst.eni.AvailabilityZone
	check := fmt.Sprintf("the load balancer node in the endpoint interface's zone (%s) carries the flow", zone)
	node, found := lb.Nodes[0], false
	for _, n := range lb.Nodes {
		if n.AvailabilityZone == zone {
			node, found = n, true
			break
		}
	}
	var finding string
	switch {
	case !w.sees(lb.OwnerID) && found:
		finding = "the service's load balancer node in " + zone + " carries the flow"
	case !w.sees(lb.OwnerID):
		finding = fmt.Sprintf("the service's load balancer has no node in %s; its node in %s carries the flow", zone, node.AvailabilityZone)
	case found:
		finding = fmt.Sprintf("node %s (%s) in %s carries the flow", node.NetworkInterfaceID, node.PrivateIP, zone)
	default:
		finding = fmt.Sprintf("load balancer %s has no node in %s; its first node, %s (%s) in %s, carries the flow",
			lb.Name, zone, node.NetworkInterfaceID, node.PrivateIP, node.AvailabilityZone)
	}
	w.pass(StepNode, check, finding)
	return node
}

// candidate is a registered target with what the walk found about it.
type candidate struct {
	t    core.Target
	addr netip.Addr // invalid when the target has no address now
	view *Target    // its entry in the step's Targets
}

// 8. New flows go to the healthy targets the node may use (those in its
// zone, or in every zone with cross-zone load balancing), to all of those
// when none is healthy (fail open); draining targets get none.
func (w *walker) targets(lb *core.LoadBalancer, node core.LoadBalancerNode, tg *core.TargetGroup) ([]candidate, bool) {
	owner := w.sees(tg.OwnerID)
	cross := tg.CrossZone(lb)
	scope := "cross-zone load balancing off: targets in " + node.AvailabilityZone + " only"
	if cross {
		scope = "cross-zone load balancing on: targets in every zone"
	}
	check := "the service's load balancer has a target for new flows"
	if owner {
		check = fmt.Sprintf("targets of target group %s that take new flows from the node in %s (%s)", tg.Name, node.AvailabilityZone, scope)
	}
	views := make([]Target, len(tg.Targets))
	var eligible, healthy []int
	for i, t := range tg.Targets {
		v := &views[i]
		v.ID, v.Zone = t.ID, t.AvailabilityZone
		addr, state := w.targetAddr(tg, t)
		if addr.IsValid() {
			v.Address = netip.AddrPortFrom(addr, uint16(t.Port)).String()
		}
		if v.Zone == "" && state != nil {
			v.Zone = state.AvailabilityZone
		}
		v.Health = core.TargetInitial
		if h := w.s.Health(tg.ID, t.ID, t.Port); h != nil {
			v.Health = h.State
		}
		switch {
		case t.Draining():
			v.Health = core.TargetDraining
			v.Note = "deregistration in progress: no new flows"
		case tg.TargetType == core.TargetTypeInstance && (state == nil || state.State != core.InstancePending && state.State != core.InstanceRunning):
			v.Health = core.TargetUnused
			v.Note = "the instance is gone: no flows"
			if state != nil {
				v.Note = "the instance is " + state.State + ": no flows"
			}
		case !addr.IsValid():
			v.Note = "not a valid address: no flows"
		case !cross && v.Zone != node.AvailabilityZone:
			v.Note = fmt.Sprintf("in %s, not the node's zone, and cross-zone load balancing is off: no flows from this node", v.Zone)
		default:
			eligible = append(eligible, i)
			if v.Health == core.TargetHealthy {
				healthy = append(healthy, i)
			}
		}
	}
	step := func(s *Step) {
		if owner {
			s.Targets = views
		}
		if owner && tg.Attribute(core.AttrProxyProtocolV2) == "true" {
			s.Finding += "; PROXY protocol v2 is on: each connection starts with a v2 header (privlink's user-space proxy carries it; the same checks apply)"
		}
	}
	chosen := healthy
	failOpen := len(healthy) == 0
	if failOpen {
		chosen = eligible
	}
	if len(chosen) == 0 {
		finding := "the service's load balancer has no target that can take new flows: the connection is refused (reset)"
		if owner {
			why := "it has no registered target"
			if len(tg.Targets) > 0 {
				var notes []string
				for _, v := range views {
					notes = append(notes, v.ID+": "+v.Note)
				}
				why = strings.Join(notes, "; ")
			}
			finding = fmt.Sprintf("target group %s has no target that can take new flows from the node in %s (%s): the load balancer resets the connection (connection refused)",
				tg.Name, node.AvailabilityZone, why)
		}
		step(w.decide(Refused, StepTargets, check, finding))
		return nil, false
	}
	out := make([]candidate, len(chosen))
	ids := make([]string, len(chosen))
	for k, i := range chosen {
		v := &views[i]
		v.NewFlows = true
		if failOpen && v.Health != core.TargetHealthy {
			v.Note = "gets new flows although " + v.Health + ": no target is healthy, so the load balancer fails open"
		}
		addr, _ := w.targetAddr(tg, tg.Targets[i])
		out[k] = candidate{t: tg.Targets[i], addr: addr, view: v}
		ids[k] = v.ID
	}
	var finding string
	switch {
	case !owner && !failOpen:
		finding = "the service's load balancer has a healthy target for this flow"
	case !owner:
		finding = "the service's load balancer has no healthy target: it fails open and sends new flows to every target it can"
	case !failOpen && len(chosen) == 1:
		finding = "1 healthy target takes new flows: " + ids[0]
	case !failOpen:
		finding = fmt.Sprintf("%d healthy targets take new flows: %s", len(chosen), strings.Join(ids, ", "))
	case len(chosen) == 1:
		finding = "the only target the node may use is not healthy: new flows go to it anyway (fail open): " + ids[0]
	default:
		finding = fmt.Sprintf("no target the node may use is healthy: new flows go to all %d of them (fail open): %s", len(chosen), strings.Join(ids, ", "))
	}
	step(w.pass(StepTargets, check, finding))
	return out, true
}

// targetAddr is where a target's traffic goes: an instance's address
// while it exists, or the IP itself. It also returns the instance.
func (w *walker) targetAddr(tg *core.TargetGroup, t core.Target) (netip.Addr, *core.Instance) {
	if tg.TargetType == core.TargetTypeIP {
		ip, err := netip.ParseAddr(t.ID)
		if err != nil {
			return netip.Addr{}, nil
		}
		return ip, nil
	}
	in, ok := w.s.Instances[t.ID]
	if !ok {
		return netip.Addr{}, nil
	}
	return in.PrivateIP, in
}

// 9. The security groups of the targets that take new flows admit the
// node's address on the target's port; an instance target must run.
func (w *walker) targetAdmission(node core.LoadBalancerNode, tg *core.TargetGroup, chosen []candidate) {
	owner := w.sees(tg.OwnerID)
	check := "the service's targets admit its load balancer"
	if owner {
		check = fmt.Sprintf("security groups of the targets that take new flows admit the node's address %s on the target's port", node.PrivateIP)
	}
	var yes, no []string
	var targets []Target // the chosen targets, with what admits them
	for _, c := range chosen {
		ok, why := w.admits(tg, c, node.PrivateIP)
		v := *c.view
		v.Admits, v.Note = &ok, why
		if owner {
			targets = append(targets, v)
		}
		if ok {
			yes = append(yes, v.ID+" ("+why+")")
		} else {
			no = append(no, v.ID+" ("+why+")")
		}
	}
	switch {
	case len(no) == 0:
		finding := "the service's targets admit its load balancer"
		if owner {
			finding = "every target that takes new flows admits the node: " + strings.Join(yes, "; ")
		}
		w.pass(StepTargetAdmission, check, finding).Targets = targets
		summary := "the flow reaches the service's targets"
		if owner {
			ids := make([]string, len(chosen))
			for i, c := range chosen {
				ids[i] = c.view.ID
				if c.view.Address != "" {
					ids[i] += " (" + c.view.Address + ")"
				}
			}
			summary = fmt.Sprintf("the node %s in %s sends new flows to %s", node.PrivateIP, node.AvailabilityZone, strings.Join(ids, ", "))
		}
		w.res.Verdict, w.res.Summary = Delivered, summary
	case len(yes) == 0:
		finding := "no target of the service admits its load balancer's traffic (the provider's security groups): the flow is dropped"
		if owner {
			finding = fmt.Sprintf("no target that takes new flows admits the load balancer node %s: %s", node.PrivateIP, strings.Join(no, "; "))
		}
		w.decide(Dropped, StepTargetAdmission, check, finding).Targets = targets
	default:
		finding := "some of the service's targets do not admit its load balancer's traffic: a new flow is delivered or dropped depending on which target its hash picks"
		if owner {
			finding = fmt.Sprintf("%d of %d targets that take new flows admit the node %s: a new flow is delivered or dropped depending on which target its hash picks; not admitted: %s",
				len(yes), len(chosen), node.PrivateIP, strings.Join(no, "; "))
		}
		w.decide(Unknown, StepTargetAdmission, check, finding).Targets = targets
	}
}

// admits reports whether a target takes a flow from the node, and why.
func (w *walker) admits(tg *core.TargetGroup, c candidate, nodeIP netip.Addr) (bool, string) {
	port := c.t.Port
	var in *core.Instance
	var eni *core.NetworkInterface
	if tg.TargetType == core.TargetTypeIP {
		eni = w.eniAt(tg.VpcID, c.addr, "")
		if eni == nil {
			return false, fmt.Sprintf("no network interface in %s has the address %s: nothing receives the flow", tg.VpcID, c.addr)
		}
		switch eni.InterfaceType {
		case core.InterfaceTypeLoadBalancer:
			return true, "a load balancer node: it has no security groups"
		case core.InterfaceTypeVpcEndpoint:
			return false, fmt.Sprintf("%s is %s, not a target privlink delivers to", c.addr, describeENI(eni))
		}
		in = w.s.Instances[eni.InstanceID]
		if in == nil {
			return false, fmt.Sprintf("%s is interface %s of no instance: nothing receives the flow", c.addr, eni.ID)
		}
	} else {
		in = w.s.Instances[c.t.ID]
		if in == nil {
			return false, "the instance is gone"
		}
		eni = w.s.ENIs[in.NetworkInterfaceID]
	}
	if in.State != core.InstanceRunning {
		return false, "instance " + in.ID + " is " + in.State + ", not running"
	}
	groups := in.SecurityGroupIDs
	if eni != nil {
		groups = eni.SecurityGroupIDs
	}
	if len(groups) == 0 {
		return false, "it has no security groups: it admits nothing"
	}
	if m, ok := w.match(groups, false, in.VpcID, nodeIP, port); ok {
		return true, describeMatch(m)
	}
	return false, fmt.Sprintf("security groups %s have no inbound rule admitting %s on tcp/%d (%s)",
		strings.Join(groups, ", "), nodeIP, port, w.listRules(groups, false))
}
