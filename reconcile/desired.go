package reconcile

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/dataplane"
	"github.com/privlink/privlink/lab"
)

// Namer names the lab's namespaces. *lab.Lab is one.
type Namer interface {
	RouterNamespace(vpcID string) string
	InstanceNamespace(instanceID string) string
	// ResolverSocket says where the resolver of a VPC, which its
	// instances reach at resolver, listens, and the mark its sockets
	// carry; ok is false while the lab cannot say yet.
	ResolverSocket(vpcID string, resolver netip.AddrPort) (namespace string, listen netip.AddrPort, mark uint32, ok bool)
	// EndpointSocket says where the data plane listens for an endpoint
	// interface's listener, which the VPC's instances reach at addr; ok
	// is false while the lab cannot say yet.
	EndpointSocket(vpcID string, addr netip.AddrPort) (namespace string, listen netip.AddrPort, ok bool)
}

// labInstance reports whether an instance should exist in the lab.
func labInstance(in *core.Instance) bool {
	return in.State == core.InstancePending || in.State == core.InstanceRunning
}

// endpointCarriesTraffic reports whether an endpoint's listeners should be
// open: it has been accepted (or needed no acceptance) and is not on its way
// out.
func endpointCarriesTraffic(ep *core.VpcEndpoint) bool {
	return ep.State == core.EndpointPending || ep.State == core.EndpointAvailable
}

// desiredLab derives the lab spec: every VPC with its router addresses, its
// endpoint interfaces' addresses, its live instances, its load balancer
// nodes (namespaces of their own) and its firewall; on the kernel data path
// also every endpoint listener and where each node forwards it.
func desiredLab(s *core.Snapshot, path DataPath) lab.Spec {
	var spec lab.Spec
	x := s.ELBIndex()
	eps := endpointListeners(s, x)
	nodeLB := map[string]*core.LoadBalancer{} // node ENI ID → its load balancer
	for _, lb := range s.LoadBalancers {
		for _, n := range lb.Nodes {
			nodeLB[n.NetworkInterfaceID] = lb
		}
	}
	for _, vpcID := range slices.Sorted(maps.Keys(s.VPCs)) {
		vpc := s.VPCs[vpcID]
		v := lab.VPC{ID: vpc.ID, CIDR: vpc.CIDR, Resolver: vpcResolverAddr(vpc), Firewall: lab.Firewall{Groups: map[string]lab.Group{}}}
		for _, subID := range slices.Sorted(maps.Keys(s.Subnets)) {
			if sub := s.Subnets[subID]; sub.VpcID == vpc.ID {
				v.RouterAddrs = append(v.RouterAddrs, core.NthAddress(sub.CIDR, 1))
			}
		}
		live := map[string]bool{} // interfaces whose owner is live in the lab
		for _, instID := range slices.Sorted(maps.Keys(s.Instances)) {
			in := s.Instances[instID]
			if in.VpcID != vpc.ID || !labInstance(in) {
				continue
			}
			sub, ok := s.Subnets[in.SubnetID]
			if !ok {
				continue
			}
			live[in.NetworkInterfaceID] = true
			v.Instances = append(v.Instances, lab.Instance{
				ID:       in.ID,
				Addr:     netip.PrefixFrom(in.PrivateIP, sub.CIDR.Bits()),
				Gateway:  core.NthAddress(sub.CIDR, 1),
				UserData: in.UserData,
			})
		}
		for _, eniID := range slices.Sorted(maps.Keys(s.ENIs)) {
			eni := s.ENIs[eniID]
			if eni.VpcID != vpc.ID {
				continue
			}
			switch eni.InterfaceType {
			case core.InterfaceTypeVpcEndpoint:
				v.LocalAddrs = append(v.LocalAddrs, eni.PrivateIP)
				// An endpoint that carries no traffic (not accepted yet,
				// rejected, on its way out) has no groups in the firewall,
				// so its address drops everything: a client times out, as
				// on AWS, instead of being refused by the router's kernel.
				var groups []string
				if ep, ok := s.Endpoints[eni.ResourceID]; ok && endpointCarriesTraffic(ep) {
					groups = eni.SecurityGroupIDs
				}
				v.Firewall.Interfaces = append(v.Firewall.Interfaces, lab.Interface{
					Addr: eni.PrivateIP, Kind: lab.KindEndpoint, Groups: groups,
				})
			case core.InterfaceTypeLoadBalancer:
				// A load balancer node is a namespace of its own, attached
				// to its subnet like an instance.
				sub, ok := s.Subnets[eni.SubnetID]
				lb := nodeLB[eni.ID]
				if !ok || lb == nil {
					continue
				}
				node := lab.Instance{
					ID:      eni.ID,
					Addr:    netip.PrefixFrom(eni.PrivateIP, sub.CIDR.Bits()),
					Gateway: core.NthAddress(sub.CIDR, 1),
				}
				if path == DataPathKernel {
					node.Forwards = nodeForwards(s, x, lb, eni.AvailabilityZone)
				}
				v.Instances = append(v.Instances, node)
				v.Firewall.Interfaces = append(v.Firewall.Interfaces, lab.Interface{
					Addr: eni.PrivateIP, Kind: lab.KindLoadBalancer,
				})
			case core.InterfaceTypeInstance:
				if live[eni.ID] {
					v.Firewall.Interfaces = append(v.Firewall.Interfaces, lab.Interface{
						Addr: eni.PrivateIP, Kind: lab.KindInstance, Groups: eni.SecurityGroupIDs,
					})
				}
			}
		}
		for _, e := range eps {
			if e.endpoint.VpcID == vpc.ID && e.inKernel(path) {
				v.Endpoints = append(v.Endpoints, lab.EndpointForward{
					Addr: e.addr, Node: e.node.NetworkInterfaceID, IdleTimeout: idleTimeout(e.listener),
				})
			}
		}
		members := groupMembers(s, vpc.ID)
		for _, sgID := range slices.Sorted(maps.Keys(s.SecurityGroups)) {
			sg := s.SecurityGroups[sgID]
			if sg.VpcID != vpc.ID {
				continue
			}
			var g lab.Group
			for _, r := range sg.Rules {
				lr := labRule(r, members)
				if r.Egress {
					g.Egress = append(g.Egress, lr)
				} else {
					g.Ingress = append(g.Ingress, lr)
				}
			}
			v.Firewall.Groups[sg.ID] = g
		}
		spec.VPCs = append(spec.VPCs, v)
	}
	return spec
}

// groupMembers maps each security group to the addresses of the interfaces
// in the VPC that carry it, for rules whose source is a group.
func groupMembers(s *core.Snapshot, vpcID string) map[string][]netip.Prefix {
	m := map[string][]netip.Prefix{}
	for _, eniID := range slices.Sorted(maps.Keys(s.ENIs)) {
		eni := s.ENIs[eniID]
		if eni.VpcID != vpcID {
			continue
		}
		for _, g := range eni.SecurityGroupIDs {
			m[g] = append(m[g], netip.PrefixFrom(eni.PrivateIP, 32))
		}
	}
	return m
}

func labRule(r core.SecurityGroupRule, members map[string][]netip.Prefix) lab.Rule {
	lr := lab.Rule{Protocol: r.Protocol, FromPort: 0, ToPort: 65535}
	if r.Protocol == "-1" {
		lr.Protocol = "all"
	}
	if (r.Protocol == "tcp" || r.Protocol == "udp") && r.FromPort >= 0 && r.ToPort >= 0 {
		lr.FromPort, lr.ToPort = uint16(r.FromPort), uint16(r.ToPort)
	}
	if r.GroupID != "" {
		lr.Sources = append(lr.Sources, members[r.GroupID]...)
	} else if r.CIDR.IsValid() {
		lr.Sources = []netip.Prefix{r.CIDR}
	}
	return lr
}

// epListener is one listener of an endpoint interface: an endpoint that
// carries traffic, one of its interfaces, and a listener of a load balancer
// of its service, with the node that carries the interface's flows (the
// one in the interface's zone, else the first).
type epListener struct {
	endpoint *core.VpcEndpoint
	service  *core.EndpointService
	addr     netip.AddrPort // the interface's address, the listener's port
	zone     string
	lb       *core.LoadBalancer
	node     core.LoadBalancerNode
	listener *core.Listener
	group    *core.TargetGroup
}

// inKernel reports whether the listener's flows are carried by the kernel:
// on the kernel data path, unless its target group wants PROXY protocol
// headers, which only the proxy can write.
func (e epListener) inKernel(path DataPath) bool {
	return path == DataPathKernel && !proxyProtocol(e.group)
}

func proxyProtocol(tg *core.TargetGroup) bool {
	return tg.Attribute(core.AttrProxyProtocolV2) == "true"
}

func idleTimeout(l *core.Listener) time.Duration {
	return time.Duration(l.IdleTimeoutSeconds()) * time.Second
}

// endpointListeners lists every listener of every endpoint interface that
// carries traffic, in a stable order.
func endpointListeners(s *core.Snapshot, x core.ELBIndex) []epListener {
	var out []epListener
	for _, epID := range slices.Sorted(maps.Keys(s.Endpoints)) {
		ep := s.Endpoints[epID]
		if !endpointCarriesTraffic(ep) {
			continue
		}
		svc, ok := s.EndpointServices[ep.ServiceID]
		if !ok {
			continue
		}
		seen := map[netip.AddrPort]bool{}
		for _, eniID := range ep.NetworkInterfaceIDs {
			eni, ok := s.ENIs[eniID]
			if !ok {
				continue
			}
			for _, arn := range svc.NetworkLoadBalancerARNs {
				lb := x.LoadBalancer(arn)
				if lb == nil || len(lb.Nodes) == 0 {
					continue
				}
				node := lb.Nodes[0]
				for _, n := range lb.Nodes {
					if n.AvailabilityZone == eni.AvailabilityZone {
						node = n
						break
					}
				}
				for _, l := range x.Listeners(lb.ID) {
					tg := x.Forward(l)
					addr := netip.AddrPortFrom(eni.PrivateIP, uint16(l.Port))
					if tg == nil || seen[addr] {
						continue
					}
					seen[addr] = true
					out = append(out, epListener{endpoint: ep, service: svc, addr: addr, zone: eni.AvailabilityZone, lb: lb, node: node, listener: l, group: tg})
				}
			}
		}
	}
	return out
}

// nodeForwards is where the load balancer's node in zone sends each
// listener's new flows, and which established flows it ends:
//
//   - new flows go to the healthy targets of the listener's target group
//     in the node's zone (in every zone with cross-zone load balancing),
//     or, when none is healthy, to all of them: a network load balancer
//     fails open. Draining targets get none.
//   - flows to unhealthy targets are reset when some target is healthy
//     and the group terminates unhealthy targets' connections (AWS's
//     default); flows to targets that have left the group are reset when
//     the group terminates connections at the end of deregistration.
//   - flows to an instance that is no longer running are reset.
//   - flows idle for longer than the listener's idle timeout end.
//
// Listeners whose group wants PROXY protocol go through the proxy, not the
// node's kernel, and are left out.
func nodeForwards(s *core.Snapshot, x core.ELBIndex, lb *core.LoadBalancer, zone string) []lab.Forward {
	var out []lab.Forward
	for _, l := range x.Listeners(lb.ID) {
		tg := x.Forward(l)
		if tg == nil || proxyProtocol(tg) {
			continue
		}
		crossZone := tg.CrossZone(lb)
		var all, healthy, unhealthy, registered, gone []netip.AddrPort
		for _, t := range tg.Targets {
			ip, ok := targetAddr(s, tg, t)
			if !ok {
				// An instance that stopped running took its sockets
				// with it: its flows are reset rather than left to hang.
				if in, known := s.Instances[t.ID]; known && in.PrivateIP.IsValid() {
					gone = append(gone, netip.AddrPortFrom(in.PrivateIP, uint16(t.Port)))
				}
				continue
			}
			a := netip.AddrPortFrom(ip, uint16(t.Port))
			registered = append(registered, a)
			if t.Draining() {
				continue
			}
			h := s.Health(tg.ID, t.ID, t.Port)
			if h != nil && h.State == core.TargetUnhealthy {
				unhealthy = append(unhealthy, a)
			}
			if !crossZone && !inZone(s, tg, t, zone) {
				continue
			}
			all = append(all, a)
			if h != nil && h.State == core.TargetHealthy {
				healthy = append(healthy, a)
			}
		}
		f := lab.Forward{
			Port:              uint16(l.Port),
			Targets:           healthy,
			IdleTimeout:       idleTimeout(l),
			Registered:        registered,
			ResetUnregistered: tg.Attribute(core.AttrDeregistrationTermination) == "true",
		}
		switch {
		case len(healthy) == 0:
			f.Targets = all
		case tg.Attribute(core.AttrUnhealthyTermination) == "true":
			f.Reset = unhealthy
		}
		f.Reset = append(f.Reset, gone...)
		out = append(out, f)
	}
	return out
}

// inZone reports whether a target is in zone: an instance's zone, or the
// zone an IP target was registered with ("all" is every zone).
func inZone(s *core.Snapshot, tg *core.TargetGroup, t core.Target, zone string) bool {
	z := t.AvailabilityZone
	if tg.TargetType == core.TargetTypeInstance {
		if in, ok := s.Instances[t.ID]; ok {
			z = in.AvailabilityZone
		}
	}
	return z == zone || z == "all" || z == ""
}

// desiredPlane derives the data-plane configuration: health checks for
// every target group a listener forwards to, from the namespace of the
// load balancer's first node, and one listener per endpoint interface
// listener the kernel does not carry (all of them on the proxy data path;
// those whose group wants PROXY protocol headers on the kernel one).
func desiredPlane(s *core.Snapshot, names Namer, path DataPath) dataplane.Config {
	var cfg dataplane.Config
	x := s.ELBIndex()
	usedTG := map[string]*core.LoadBalancer{} // target group ID → a load balancer forwarding to it
	for _, id := range slices.Sorted(maps.Keys(s.Listeners)) {
		l := s.Listeners[id]
		if tg := x.Forward(l); tg != nil {
			if _, ok := usedTG[tg.ID]; !ok {
				usedTG[tg.ID] = s.LoadBalancers[l.LoadBalancerID]
			}
		}
	}
	for _, e := range endpointListeners(s, x) {
		if e.inKernel(path) {
			continue
		}
		ns, socket, ok := names.EndpointSocket(e.endpoint.VpcID, e.addr)
		if !ok {
			continue // the lab has not built the VPC, and reports why
		}
		cfg.Listeners = append(cfg.Listeners, dataplane.Listener{
			Namespace:     ns,
			Addr:          e.addr,
			Socket:        socket,
			Zone:          e.zone,
			EndpointID:    e.endpoint.ID,
			ServiceID:     e.service.ID,
			TargetGroupID: e.group.ID,
			Backend: dataplane.Backend{
				Namespace: names.InstanceNamespace(e.node.NetworkInterfaceID),
				Nodes:     []dataplane.Node{{Zone: e.node.AvailabilityZone, Addr: e.node.PrivateIP}},
			},
			ProxyProtocol: proxyProtocol(e.group),
		})
	}
	for _, tgID := range slices.Sorted(maps.Keys(usedTG)) {
		tg, lb := s.TargetGroups[tgID], usedTG[tgID]
		if tg == nil || lb == nil || len(lb.Nodes) == 0 {
			continue
		}
		dtg := dataplane.TargetGroup{
			ID:            tg.ID,
			Namespace:     names.InstanceNamespace(lb.Nodes[0].NetworkInterfaceID),
			Source:        lb.Nodes[0].PrivateIP,
			HealthCheck:   healthCheck(tg.HealthCheck),
			ProxyProtocol: proxyProtocol(tg),
		}
		for _, t := range tg.Targets {
			ip, ok := targetAddr(s, tg, t)
			// A draining target is no longer checked: DescribeTargetHealth
			// reports it draining until it leaves.
			if !ok || t.Draining() {
				continue
			}
			dtg.Targets = append(dtg.Targets, dataplane.Target{
				ID: t.ID, Addr: netip.AddrPortFrom(ip, uint16(t.Port)), Zone: t.AvailabilityZone,
			})
		}
		cfg.TargetGroups = append(cfg.TargetGroups, dtg)
	}
	return cfg
}

// targetAddr resolves a registered target to the address traffic goes to:
// an instance's private address while it runs, or the IP itself.
func targetAddr(s *core.Snapshot, tg *core.TargetGroup, t core.Target) (netip.Addr, bool) {
	if tg.TargetType == "ip" {
		ip, err := netip.ParseAddr(t.ID)
		return ip, err == nil
	}
	in, ok := s.Instances[t.ID]
	if !ok || !labInstance(in) {
		return netip.Addr{}, false
	}
	return in.PrivateIP, true
}

func healthCheck(h core.HealthCheck) dataplane.HealthCheck {
	hc := dataplane.HealthCheck{
		Enabled:            h.Enabled,
		Protocol:           h.Protocol,
		Path:               h.Path,
		Matcher:            h.Matcher,
		Interval:           time.Duration(h.IntervalSeconds) * time.Second,
		Timeout:            time.Duration(h.TimeoutSeconds) * time.Second,
		HealthyThreshold:   int(h.HealthyThreshold),
		UnhealthyThreshold: int(h.UnhealthyThreshold),
	}
	// Core has checked the port; anything else means the traffic port.
	if p, err := strconv.ParseUint(h.Port, 10, 16); err == nil && h.Port != core.TrafficPort {
		hc.Port = uint16(p)
	}
	return hc
}
