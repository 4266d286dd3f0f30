package explain

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/core"
)

const (
	consumer = "111111111111"
	provider = "222222222222"
	lbARN    = "arn:aws:elasticloadbalancing:us-east-1:" + provider + ":loadbalancer/net/nlb/0000000000000001"
	lb2ARN   = "arn:aws:elasticloadbalancing:us-east-1:" + provider + ":loadbalancer/net/nlb2/0000000000000002"
	tgARN    = "arn:aws:elasticloadbalancing:us-east-1:" + provider + ":targetgroup/ssh/00000000000000a1"
)

// world builds a snapshot by hand: a consumer VPC with a client instance
// and an endpoint, a provider VPC (the same CIDR) with a load balancer
// whose listener on tcp/443 forwards to one healthy instance target on
// tcp/22. The flow client → endpoint:443 is delivered.
func world() *core.Snapshot {
	s := &core.Snapshot{
		VPCs:             map[string]*core.VPC{},
		Subnets:          map[string]*core.Subnet{},
		SecurityGroups:   map[string]*core.SecurityGroup{},
		Instances:        map[string]*core.Instance{},
		ENIs:             map[string]*core.NetworkInterface{},
		LoadBalancers:    map[string]*core.LoadBalancer{},
		TargetGroups:     map[string]*core.TargetGroup{},
		Listeners:        map[string]*core.Listener{},
		TargetHealth:     map[string]*core.TargetHealth{},
		EndpointServices: map[string]*core.EndpointService{},
		Endpoints:        map[string]*core.VpcEndpoint{},
	}
	for _, v := range []struct{ id, owner string }{{"vpc-c", consumer}, {"vpc-p", provider}} {
		s.VPCs[v.id] = &core.VPC{ID: v.id, OwnerID: v.owner, CIDR: netip.MustParsePrefix("10.0.0.0/16"), State: core.VPCAvailable}
		for _, sub := range []struct{ suffix, cidr, zone string }{{"a", "10.0.1.0/24", "us-east-1a"}, {"b", "10.0.2.0/24", "us-east-1b"}} {
			id := "subnet-" + v.id[4:] + sub.suffix
			s.Subnets[id] = &core.Subnet{ID: id, OwnerID: v.owner, VpcID: v.id, CIDR: netip.MustParsePrefix(sub.cidr), AvailabilityZone: sub.zone}
		}
	}
	group(s, "sg-client", consumer, "vpc-c", egressRule(core.ProtocolAll, -1, -1, "0.0.0.0/0"))
	group(s, "sg-ep", consumer, "vpc-c", ingressRule(core.ProtocolTCP, 443, 443, "10.0.1.10/32"))
	group(s, "sg-target", provider, "vpc-p", ingressRule(core.ProtocolTCP, 22, 22, "10.0.0.0/16"))
	instance(s, "i-client", consumer, "vpc-c", "subnet-ca", "us-east-1a", "10.0.1.10", "sg-client")
	instance(s, "i-target", provider, "vpc-p", "subnet-pa", "us-east-1a", "10.0.1.5", "sg-target")
	instance(s, "i-target-b", provider, "vpc-p", "subnet-pb", "us-east-1b", "10.0.2.5", "sg-target")

	s.ENIs["eni-ep-a"] = &core.NetworkInterface{ID: "eni-ep-a", OwnerID: consumer, VpcID: "vpc-c", SubnetID: "subnet-ca", AvailabilityZone: "us-east-1a",
		PrivateIP: netip.MustParseAddr("10.0.1.20"), SecurityGroupIDs: []string{"sg-ep"}, InterfaceType: core.InterfaceTypeVpcEndpoint, ResourceID: "vpce-1"}
	s.Endpoints["vpce-1"] = &core.VpcEndpoint{ID: "vpce-1", OwnerID: consumer, VpcID: "vpc-c", ServiceID: "vpce-svc-1", ServiceOwnerID: provider,
		State: core.EndpointAvailable, NetworkInterfaceIDs: []string{"eni-ep-a"}, SecurityGroupIDs: []string{"sg-ep"}}
	s.EndpointServices["vpce-svc-1"] = &core.EndpointService{ID: "vpce-svc-1", OwnerID: provider, State: core.ServiceAvailable, NetworkLoadBalancerARNs: []string{lbARN}}

	lb := &core.LoadBalancer{ID: "0000000000000001", ARN: lbARN, Name: "nlb", OwnerID: provider, Type: "network", Scheme: core.SchemeInternal, VpcID: "vpc-p", State: core.LBActive}
	for _, n := range []struct{ id, subnet, zone, ip string }{{"eni-node-a", "subnet-pa", "us-east-1a", "10.0.1.50"}, {"eni-node-b", "subnet-pb", "us-east-1b", "10.0.2.50"}} {
		lb.Nodes = append(lb.Nodes, core.LoadBalancerNode{SubnetID: n.subnet, AvailabilityZone: n.zone, NetworkInterfaceID: n.id, PrivateIP: netip.MustParseAddr(n.ip)})
		s.ENIs[n.id] = &core.NetworkInterface{ID: n.id, OwnerID: provider, VpcID: "vpc-p", SubnetID: n.subnet, AvailabilityZone: n.zone,
			PrivateIP: netip.MustParseAddr(n.ip), InterfaceType: core.InterfaceTypeLoadBalancer, ResourceID: lb.ID}
	}
	s.LoadBalancers[lb.ID] = lb
	s.TargetGroups["00000000000000a1"] = &core.TargetGroup{ID: "00000000000000a1", ARN: tgARN, Name: "ssh", OwnerID: provider, Protocol: "TCP", Port: 22,
		VpcID: "vpc-p", TargetType: core.TargetTypeInstance,
		Targets: []core.Target{{ID: "i-target", Port: 22, AvailabilityZone: "us-east-1a"}}}
	health(s, "i-target", core.TargetHealthy)
	listener(s, "l1", lb, 443)
	return s
}

func group(s *core.Snapshot, id, owner, vpc string, rules ...core.SecurityGroupRule) {
	s.SecurityGroups[id] = &core.SecurityGroup{ID: id, OwnerID: owner, VpcID: vpc, Name: id + "-name", Rules: rules}
}

func ingressRule(proto string, from, to int32, peer string) core.SecurityGroupRule {
	r := core.SecurityGroupRule{ID: "sgr-" + proto + peer, Protocol: proto, FromPort: from, ToPort: to}
	if strings.HasPrefix(peer, "sg-") {
		r.GroupID = peer
	} else {
		r.CIDR = netip.MustParsePrefix(peer)
	}
	return r
}

func egressRule(proto string, from, to int32, peer string) core.SecurityGroupRule {
	r := ingressRule(proto, from, to, peer)
	r.Egress = true
	return r
}

func instance(s *core.Snapshot, id, owner, vpc, subnet, zone, ip string, groups ...string) {
	eni := "eni-" + id
	s.Instances[id] = &core.Instance{ID: id, OwnerID: owner, VpcID: vpc, SubnetID: subnet, AvailabilityZone: zone,
		PrivateIP: netip.MustParseAddr(ip), NetworkInterfaceID: eni, SecurityGroupIDs: groups, State: core.InstanceRunning}
	s.ENIs[eni] = &core.NetworkInterface{ID: eni, OwnerID: owner, VpcID: vpc, SubnetID: subnet, AvailabilityZone: zone,
		PrivateIP: netip.MustParseAddr(ip), SecurityGroupIDs: groups, InterfaceType: core.InterfaceTypeInstance, InstanceID: id}
}

func health(s *core.Snapshot, target, state string) {
	s.TargetHealth["00000000000000a1/"+target+":22"] = &core.TargetHealth{TargetGroupID: "00000000000000a1", TargetID: target, Port: 22, State: state}
}

func listener(s *core.Snapshot, id string, lb *core.LoadBalancer, port int32) {
	s.Listeners[id] = &core.Listener{ID: id, ARN: lb.ARN + "/listener/" + id, LoadBalancerID: lb.ID, LoadBalancerARN: lb.ARN, OwnerID: lb.OwnerID,
		Protocol: "TCP", Port: port, DefaultActions: []core.ListenerAction{{Type: "forward", TargetGroupARN: tgARN}}}
}

func tg(s *core.Snapshot) *core.TargetGroup { return s.TargetGroups["00000000000000a1"] }

// base is the query of the delivered flow: the client to the endpoint on
// tcp/443, explained to an operator.
var base = Query{SourceInstanceID: "i-client", EndpointID: "vpce-1", Port: 443}

func TestHealthKeyMatchesCore(t *testing.T) {
	s := world()
	if s.Health("00000000000000a1", "i-target", 22) == nil {
		t.Fatal("the test's target health key is not the one core.Snapshot.Health reads")
	}
}

func TestFlow(t *testing.T) {
	tests := []struct {
		name    string
		change  func(s *core.Snapshot)
		query   func(q *Query)
		verdict Verdict
		// decided is the step that decided it ("" when delivered).
		decided string
		// contains must all appear in the deciding step's finding (or,
		// when delivered, in the JSON of the whole result).
		contains []string
		// absent must not appear anywhere in the result's JSON.
		absent []string
	}{
		{name: "delivered", verdict: Delivered,
			contains: []string{"sg-client-name) rule", "endpoint vpce-1 admits it", "listener on tcp/443", "node eni-node-a (10.0.1.50)", "1 healthy target takes new flows: i-target", "sends new flows to i-target (10.0.1.5:22)"}},

		// 1. source
		{name: "source pending", change: func(s *core.Snapshot) { s.Instances["i-client"].State = core.InstancePending },
			verdict: Unknown, decided: StepSource, contains: []string{"instance i-client is pending"}},
		{name: "source terminated", change: func(s *core.Snapshot) { s.Instances["i-client"].State = core.InstanceTerminated },
			verdict: Unknown, decided: StepSource, contains: []string{"is terminated"}},
		{name: "source address of an instance", query: func(q *Query) { *q = Query{SourceIP: "10.0.1.10", VpcID: "vpc-c", EndpointID: "vpce-1", Port: 443} },
			verdict: Delivered, contains: []string{`"Source":"10.0.1.10 (i-client)"`}},
		{name: "source address of nothing", query: func(q *Query) { *q = Query{SourceIP: "10.0.1.99", VpcID: "vpc-c", EndpointID: "vpce-1", Port: 443} },
			verdict: Dropped, decided: StepSource, contains: []string{"no network interface in vpc-c has the address 10.0.1.99"}},
		{name: "source is an endpoint interface", query: func(q *Query) { *q = Query{SourceIP: "10.0.1.20", VpcID: "vpc-c", EndpointID: "vpce-1", Port: 443} },
			verdict: Dropped, decided: StepSource, contains: []string{"endpoint interfaces receive flows"}},

		// 2. route
		{name: "endpoint in another VPC", change: func(s *core.Snapshot) {
			s.Endpoints["vpce-1"].VpcID = "vpc-p"
		}, verdict: Dropped, decided: StepRoute, contains: []string{"endpoint vpce-1 is in vpc-p, not in the source's VPC vpc-c"}},
		{name: "endpoint without interfaces", change: func(s *core.Snapshot) { s.Endpoints["vpce-1"].NetworkInterfaceIDs = nil },
			verdict: Unknown, decided: StepRoute, contains: []string{"has no network interface"}},
		{name: "interface in the source's zone is preferred", change: func(s *core.Snapshot) {
			s.ENIs["eni-ep-b"] = &core.NetworkInterface{ID: "eni-ep-b", OwnerID: consumer, VpcID: "vpc-c", SubnetID: "subnet-cb", AvailabilityZone: "us-east-1b",
				PrivateIP: netip.MustParseAddr("10.0.2.20"), SecurityGroupIDs: []string{"sg-ep"}, InterfaceType: core.InterfaceTypeVpcEndpoint, ResourceID: "vpce-1"}
			s.Endpoints["vpce-1"].NetworkInterfaceIDs = []string{"eni-ep-a", "eni-ep-b"}
			in := s.Instances["i-client"]
			in.AvailabilityZone, in.SubnetID = "us-east-1b", "subnet-cb"
			tg(s).Targets = append(tg(s).Targets, core.Target{ID: "i-target-b", Port: 22, AvailabilityZone: "us-east-1b"})
			health(s, "i-target-b", core.TargetHealthy)
		}, verdict: Delivered, contains: []string{`"Destination":"10.0.2.20 tcp/443 (vpce-1)"`, "node eni-node-b (10.0.2.50) in us-east-1b",
			"1 healthy target takes new flows: i-target-b", "in us-east-1a, not the node's zone"},
		},
		{name: "no interface in the source's zone: the first", change: func(s *core.Snapshot) {
			in := s.Instances["i-client"]
			in.AvailabilityZone, in.SubnetID = "us-east-1b", "subnet-cb"
		}, verdict: Delivered, contains: []string{"no interface in us-east-1b, the source's zone, so its first one is used"}},

		// 3. source egress
		{name: "source egress has no matching rule", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-client"].Rules = []core.SecurityGroupRule{egressRule(core.ProtocolTCP, 80, 80, "0.0.0.0/0")}
		}, verdict: Dropped, decided: StepSourceEgress,
			contains: []string{"source i-client security groups sg-client have no outbound rule allowing tcp/443 to 10.0.1.20", "outbound rules: sg-client: tcp/80 to 0.0.0.0/0"}},
		{name: "source egress by group reference", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-client"].Rules = []core.SecurityGroupRule{egressRule(core.ProtocolTCP, 443, 443, "sg-ep")}
		}, verdict: Delivered, contains: []string{"tcp/443 to sg-ep"}},
		{name: "source egress group reference to a group the endpoint lacks", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-client"].Rules = []core.SecurityGroupRule{egressRule(core.ProtocolTCP, 443, 443, "sg-client")}
		}, verdict: Dropped, decided: StepSourceEgress, contains: []string{"no outbound rule"}},
		{name: "source without groups", change: func(s *core.Snapshot) {
			s.ENIs["eni-i-client"].SecurityGroupIDs = nil
		}, verdict: Dropped, decided: StepSourceEgress, contains: []string{"source i-client has no security groups"}},
		{name: "source ingress rules do not let traffic out", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-client"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolAll, -1, -1, "0.0.0.0/0")}
		}, verdict: Dropped, decided: StepSourceEgress, contains: []string{"outbound rules: sg-client: none"}},

		// 4. endpoint state
		{name: "endpoint pending carries traffic", change: func(s *core.Snapshot) { s.Endpoints["vpce-1"].State = core.EndpointPending },
			verdict: Delivered, contains: []string{"endpoint vpce-1 is pending"}},
		{name: "endpoint pendingAcceptance", change: func(s *core.Snapshot) { s.Endpoints["vpce-1"].State = core.EndpointPendingAcceptance },
			verdict: Dropped, decided: StepEndpointState, contains: []string{"endpoint vpce-1 is pendingAcceptance: not accepted yet by the owner of service vpce-svc-1"}},
		{name: "endpoint rejected", change: func(s *core.Snapshot) { s.Endpoints["vpce-1"].State = core.EndpointRejected },
			verdict: Dropped, decided: StepEndpointState, contains: []string{"is rejected: not accepted", "drops every packet"}},
		{name: "endpoint deleting", change: func(s *core.Snapshot) { s.Endpoints["vpce-1"].State = core.EndpointDeleting },
			verdict: Dropped, decided: StepEndpointState, contains: []string{"is deleting"}},
		{name: "endpoint failed", change: func(s *core.Snapshot) {
			s.Endpoints["vpce-1"].State, s.Endpoints["vpce-1"].LastErrorMessage = core.EndpointFailed, "no capacity"
		}, verdict: Dropped, decided: StepEndpointState, contains: []string{"failed (no capacity)"}},

		// 5. endpoint ingress
		{name: "endpoint group without the rule", change: func(s *core.Snapshot) { s.SecurityGroups["sg-ep"].Rules = nil },
			verdict: Dropped, decided: StepEndpointIngress,
			contains: []string{"endpoint vpce-1 security groups sg-ep have no inbound rule admitting 10.0.1.10 on tcp/443", "inbound rules: sg-ep: none"}},
		{name: "endpoint groups: the second admits", change: func(s *core.Snapshot) {
			group(s, "sg-other", consumer, "vpc-c", ingressRule(core.ProtocolTCP, 80, 80, "0.0.0.0/0"))
			s.ENIs["eni-ep-a"].SecurityGroupIDs = []string{"sg-other", "sg-ep"}
		}, verdict: Delivered, contains: []string{"sg-ep (sg-ep-name) rule"}},
		{name: "endpoint groups: neither admits, both named", change: func(s *core.Snapshot) {
			group(s, "sg-other", consumer, "vpc-c", ingressRule(core.ProtocolTCP, 80, 80, "0.0.0.0/0"))
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolTCP, 443, 443, "10.0.2.0/24")}
			s.ENIs["eni-ep-a"].SecurityGroupIDs = []string{"sg-other", "sg-ep"}
		}, verdict: Dropped, decided: StepEndpointIngress,
			contains: []string{"security groups sg-other, sg-ep have no inbound rule", "sg-other: tcp/80 from 0.0.0.0/0; sg-ep: tcp/443 from 10.0.2.0/24"}},
		{name: "endpoint rule by source group", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolTCP, 443, 443, "sg-client")}
		}, verdict: Delivered, contains: []string{"tcp/443 from sg-client"}},
		{name: "endpoint rule by a group the source lacks", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolTCP, 443, 443, "sg-ep")}
		}, verdict: Dropped, decided: StepEndpointIngress},
		{name: "endpoint port range covers", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolTCP, 400, 500, "10.0.0.0/16")}
		}, verdict: Delivered, contains: []string{"tcp/400-500 from 10.0.0.0/16"}},
		{name: "endpoint port range misses", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolTCP, 444, 500, "10.0.0.0/16")}
		}, verdict: Dropped, decided: StepEndpointIngress},
		{name: "endpoint protocol -1", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolAll, -1, -1, "0.0.0.0/0")}
		}, verdict: Delivered, contains: []string{"all traffic from 0.0.0.0/0"}},
		{name: "endpoint udp rule does not admit tcp", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolUDP, 443, 443, "0.0.0.0/0")}
		}, verdict: Dropped, decided: StepEndpointIngress},
		{name: "endpoint egress rules never matter", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-ep"].Rules = []core.SecurityGroupRule{egressRule(core.ProtocolAll, -1, -1, "0.0.0.0/0")}
		}, verdict: Dropped, decided: StepEndpointIngress},
		{name: "endpoint interface without groups", change: func(s *core.Snapshot) { s.ENIs["eni-ep-a"].SecurityGroupIDs = nil },
			verdict: Dropped, decided: StepEndpointIngress, contains: []string{"has no security groups"}},

		// 6. listener
		{name: "no listener on the port", change: func(s *core.Snapshot) { s.Listeners["l1"].Port = 8443 },
			verdict: Refused, decided: StepListener, contains: []string{"service vpce-svc-1 has no listener on tcp/443 (its load balancers listen on nlb tcp/8443)", "connection refused"}},
		{name: "listener to a missing target group", change: func(s *core.Snapshot) { s.Listeners["l1"].DefaultActions[0].TargetGroupARN = "arn:gone" },
			verdict: Refused, decided: StepListener},
		{name: "service gone", change: func(s *core.Snapshot) { delete(s.EndpointServices, "vpce-svc-1") },
			verdict: Refused, decided: StepListener, contains: []string{"service vpce-svc-1 no longer exists"}},
		{name: "the second load balancer listens", change: func(s *core.Snapshot) {
			lb2 := &core.LoadBalancer{ID: "0000000000000002", ARN: lb2ARN, Name: "nlb2", OwnerID: provider, VpcID: "vpc-p", State: core.LBActive, Nodes: s.LoadBalancers["0000000000000001"].Nodes}
			s.LoadBalancers[lb2.ID] = lb2
			s.Listeners["l1"].Port = 80
			listener(s, "l2", lb2, 443)
			s.EndpointServices["vpce-svc-1"].NetworkLoadBalancerARNs = []string{lbARN, lb2ARN}
		}, verdict: Delivered, contains: []string{"load balancer nlb2's listener on tcp/443"}},
		{name: "load balancer provisioning", change: func(s *core.Snapshot) { s.LoadBalancers["0000000000000001"].State = core.LBProvisioning },
			verdict: Unknown, decided: StepListener, contains: []string{"load balancer nlb is provisioning"}},

		// 7. node
		{name: "no node in the interface's zone", change: func(s *core.Snapshot) {
			lb := s.LoadBalancers["0000000000000001"]
			lb.Nodes = lb.Nodes[1:]
			tg(s).Targets[0] = core.Target{ID: "i-target-b", Port: 22, AvailabilityZone: "us-east-1b"}
			health(s, "i-target-b", core.TargetHealthy)
		}, verdict: Delivered, contains: []string{"load balancer nlb has no node in us-east-1a; its first node, eni-node-b (10.0.2.50) in us-east-1b, carries the flow"}},

		// 8. targets
		{name: "no registered target", change: func(s *core.Snapshot) { tg(s).Targets = nil },
			verdict: Refused, decided: StepTargets, contains: []string{"target group ssh has no target that can take new flows", "no registered target", "connection refused"}},
		{name: "only target draining", change: func(s *core.Snapshot) { tg(s).Targets[0].DeregisteredAt = time.Unix(1, 0) },
			verdict: Refused, decided: StepTargets, contains: []string{"i-target: deregistration in progress"}},
		{name: "unhealthy target: fail open", change: func(s *core.Snapshot) { health(s, "i-target", core.TargetUnhealthy) },
			verdict: Delivered, contains: []string{"new flows go to it anyway (fail open)", "gets new flows although unhealthy"}},
		{name: "no health yet: initial, fail open", change: func(s *core.Snapshot) { s.TargetHealth = map[string]*core.TargetHealth{} },
			verdict: Delivered, contains: []string{"fail open", `"Health":"initial"`}},
		{name: "healthy target preferred over unhealthy", change: func(s *core.Snapshot) {
			instance(s, "i-sick", provider, "vpc-p", "subnet-pa", "us-east-1a", "10.0.1.6")
			tg(s).Targets = append(tg(s).Targets, core.Target{ID: "i-sick", Port: 22, AvailabilityZone: "us-east-1a"})
			health(s, "i-sick", core.TargetUnhealthy)
		}, verdict: Delivered, contains: []string{`"Id":"i-sick","Address":"10.0.1.6:22","Zone":"us-east-1a","Health":"unhealthy","NewFlows":false`, "1 healthy target takes new flows: i-target"}},
		{name: "no target healthy: fail open to all", change: func(s *core.Snapshot) {
			instance(s, "i-sick", provider, "vpc-p", "subnet-pa", "us-east-1a", "10.0.1.6", "sg-target")
			tg(s).Targets = append(tg(s).Targets, core.Target{ID: "i-sick", Port: 22, AvailabilityZone: "us-east-1a"})
			health(s, "i-target", core.TargetUnhealthy)
		}, verdict: Delivered, contains: []string{"new flows go to all 2 of them (fail open): i-target, i-sick"}},
		{name: "target in another zone without cross-zone", change: func(s *core.Snapshot) {
			tg(s).Targets[0] = core.Target{ID: "i-target-b", Port: 22, AvailabilityZone: "us-east-1b"}
		}, verdict: Refused, decided: StepTargets, contains: []string{"i-target-b: in us-east-1b, not the node's zone, and cross-zone load balancing is off"}},
		{name: "target in another zone, cross-zone on the group", change: func(s *core.Snapshot) {
			tg(s).Targets[0] = core.Target{ID: "i-target-b", Port: 22, AvailabilityZone: "us-east-1b"}
			tg(s).Attributes = map[string]string{core.AttrCrossZone: "true"}
		}, verdict: Delivered, contains: []string{"cross-zone load balancing on"}},
		{name: "target in another zone, cross-zone on the load balancer", change: func(s *core.Snapshot) {
			tg(s).Targets[0] = core.Target{ID: "i-target-b", Port: 22, AvailabilityZone: "us-east-1b"}
			s.LoadBalancers["0000000000000001"].Attributes = map[string]string{core.AttrCrossZone: "true"}
		}, verdict: Delivered},
		{name: "target instance terminated", change: func(s *core.Snapshot) { s.Instances["i-target"].State = core.InstanceTerminated },
			verdict: Refused, decided: StepTargets, contains: []string{"the instance is terminated"}},
		{name: "PROXY protocol noted", change: func(s *core.Snapshot) {
			tg(s).Attributes = map[string]string{core.AttrProxyProtocolV2: "true"}
		}, verdict: Delivered, contains: []string{"PROXY protocol v2 is on"}},

		// 9. target admission
		{name: "target group does not admit the node", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-target"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolTCP, 22, 22, "10.0.1.10/32")}
		}, verdict: Dropped, decided: StepTargetAdmission,
			contains: []string{"no target that takes new flows admits the load balancer node 10.0.1.50", "i-target (security groups sg-target have no inbound rule admitting 10.0.1.50 on tcp/22"}},
		{name: "target admits the node on another port only", change: func(s *core.Snapshot) {
			s.SecurityGroups["sg-target"].Rules = []core.SecurityGroupRule{ingressRule(core.ProtocolTCP, 443, 443, "10.0.0.0/16")}
		}, verdict: Dropped, decided: StepTargetAdmission},
		{name: "target pending", change: func(s *core.Snapshot) { s.Instances["i-target"].State = core.InstancePending },
			verdict: Dropped, decided: StepTargetAdmission, contains: []string{"instance i-target is pending, not running"}},
		{name: "some targets admit: depends on the hash", change: func(s *core.Snapshot) {
			group(s, "sg-closed", provider, "vpc-p")
			instance(s, "i-closed", provider, "vpc-p", "subnet-pa", "us-east-1a", "10.0.1.7", "sg-closed")
			tg(s).Targets = append(tg(s).Targets, core.Target{ID: "i-closed", Port: 22, AvailabilityZone: "us-east-1a"})
			health(s, "i-closed", core.TargetHealthy)
		}, verdict: Unknown, decided: StepTargetAdmission, contains: []string{"1 of 2 targets", "depending on which target its hash picks", "i-closed"}},
		{name: "ip target of an instance", change: func(s *core.Snapshot) {
			tg(s).TargetType = core.TargetTypeIP
			tg(s).Targets = []core.Target{{ID: "10.0.1.5", Port: 22, AvailabilityZone: "us-east-1a"}}
			health(s, "10.0.1.5", core.TargetHealthy)
		}, verdict: Delivered, contains: []string{"sends new flows to 10.0.1.5 (10.0.1.5:22)"}},
		{name: "ip target with no interface", change: func(s *core.Snapshot) {
			tg(s).TargetType = core.TargetTypeIP
			tg(s).Targets = []core.Target{{ID: "10.0.1.99", Port: 22, AvailabilityZone: "us-east-1a"}}
		}, verdict: Dropped, decided: StepTargetAdmission, contains: []string{"no network interface in vpc-p has the address 10.0.1.99"}},

		// destination by address
		{name: "destination by address", query: func(q *Query) { q.EndpointID, q.DestinationIP = "", "10.0.1.20" },
			verdict: Delivered, contains: []string{`"Destination":"10.0.1.20 tcp/443 (vpce-1)"`}},

		// What the consumer sees: its own objects by ID, the provider's
		// not at all.
		{name: "consumer view, delivered", query: func(q *Query) { q.Viewer = consumer }, verdict: Delivered,
			contains: []string{"sg-client", "sg-ep", "service vpce-svc-1 listens on tcp/443", "the service's load balancer has a healthy target", "the flow reaches the service's targets"},
			absent:   []string{"i-target", "sg-target", "nlb", "ssh", "eni-node", "10.0.1.50", "10.0.1.5:"}},
		{name: "consumer view, no healthy target", query: func(q *Query) { q.Viewer = consumer },
			change:  func(s *core.Snapshot) { health(s, "i-target", core.TargetUnhealthy) },
			verdict: Delivered, contains: []string{"the service's load balancer has no healthy target: it fails open"},
			absent: []string{"i-target", "sg-target"}},
		{name: "consumer view, targets refuse", query: func(q *Query) { q.Viewer = consumer },
			change:  func(s *core.Snapshot) { tg(s).Targets = nil },
			verdict: Refused, decided: StepTargets, contains: []string{"the service's load balancer has no target that can take new flows"},
			absent: []string{"ssh", "nlb"}},
		{name: "consumer view, targets do not admit", query: func(q *Query) { q.Viewer = consumer },
			change:  func(s *core.Snapshot) { s.SecurityGroups["sg-target"].Rules = nil },
			verdict: Dropped, decided: StepTargetAdmission, contains: []string{"no target of the service admits its load balancer's traffic (the provider's security groups)"},
			absent: []string{"i-target", "sg-target", "10.0.1.50"}},
		{name: "consumer view, no listener", query: func(q *Query) { q.Viewer = consumer },
			change:  func(s *core.Snapshot) { s.Listeners["l1"].Port = 8443 },
			verdict: Refused, decided: StepListener, contains: []string{"service vpce-svc-1 has no listener on tcp/443"},
			absent: []string{"8443", "nlb"}},
		{name: "provider owning both ends sees everything", query: func(q *Query) { q.Viewer = provider },
			change: func(s *core.Snapshot) {
				s.Instances["i-client"].OwnerID = provider
				s.Endpoints["vpce-1"].OwnerID = provider
			}, verdict: Delivered, contains: []string{"i-target", "sg-target"}},
		{name: "endpoint owner sees a foreign source without its groups", query: func(q *Query) { q.Viewer = consumer },
			change: func(s *core.Snapshot) {
				s.Instances["i-client"].OwnerID = provider
				s.SecurityGroups["sg-client"].Rules = nil
			}, verdict: Dropped, decided: StepSourceEgress, contains: []string{"the source's security groups have no outbound rule"},
			absent: []string{"i-client", "sg-client"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := world()
			if tt.change != nil {
				tt.change(s)
			}
			q := base
			if tt.query != nil {
				tt.query(&q)
			}
			r, err := Flow(s, q)
			if err != nil {
				t.Fatalf("Flow: %v", err)
			}
			js, _ := json.Marshal(r)
			if r.Verdict != tt.verdict || r.DecidedBy != tt.decided {
				t.Fatalf("verdict %s decided by %q, want %s by %q\n%s", r.Verdict, r.DecidedBy, tt.verdict, tt.decided, js)
			}
			checkSteps(t, r)
			haystack := string(js)
			if tt.decided != "" {
				haystack = r.Steps[len(r.Steps)-1].Finding
				if r.Summary != haystack {
					t.Errorf("summary %q is not the deciding step's finding %q", r.Summary, haystack)
				}
			}
			for _, want := range tt.contains {
				if !strings.Contains(haystack, want) {
					t.Errorf("missing %q in\n%s", want, haystack)
				}
			}
			for _, bad := range tt.absent {
				if strings.Contains(string(js), bad) {
					t.Errorf("%q shown to the viewer:\n%s", bad, js)
				}
			}
		})
	}
}

// checkSteps checks the walk's shape: steps in order, every one before
// the last passed, and a delivered flow walked all nine.
func checkSteps(t *testing.T, r Result) {
	t.Helper()
	order := []string{StepSource, StepRoute, StepSourceEgress, StepEndpointState, StepEndpointIngress, StepListener, StepNode, StepTargets, StepTargetAdmission}
	if len(r.Steps) == 0 || len(r.Steps) > len(order) {
		t.Fatalf("%d steps", len(r.Steps))
	}
	for i, s := range r.Steps {
		if s.Name != order[i] {
			t.Fatalf("step %d is %s, want %s", i, s.Name, order[i])
		}
		if s.Check == "" || s.Finding == "" {
			t.Errorf("step %s: empty check or finding: %+v", s.Name, s)
		}
		last := i == len(r.Steps)-1
		if !last && s.Status != Pass {
			t.Errorf("step %s before the last is %s", s.Name, s.Status)
		}
		if last && r.Verdict != Delivered && (s.Name != r.DecidedBy || s.Status == Pass) {
			t.Errorf("last step %s (%s) did not decide the %s verdict", s.Name, s.Status, r.Verdict)
		}
	}
	if r.Verdict == Delivered && (len(r.Steps) != len(order) || r.Steps[len(order)-1].Status != Pass) {
		t.Errorf("delivered after %d steps", len(r.Steps))
	}
}

func TestFlowErrors(t *testing.T) {
	tests := []struct {
		name  string
		q     Query
		code  string
		kind  core.Kind
		setup func(s *core.Snapshot)
	}{
		{name: "no source", q: Query{EndpointID: "vpce-1", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "both sources", q: Query{SourceInstanceID: "i-client", SourceIP: "10.0.1.10", VpcID: "vpc-c", EndpointID: "vpce-1", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "ip without vpc", q: Query{SourceIP: "10.0.1.10", EndpointID: "vpce-1", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "no destination", q: Query{SourceInstanceID: "i-client", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "both destinations", q: Query{SourceInstanceID: "i-client", EndpointID: "vpce-1", DestinationIP: "10.0.1.20", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "port zero", q: Query{SourceInstanceID: "i-client", EndpointID: "vpce-1"}, code: "ValidationException", kind: core.KindInvalid},
		{name: "port too big", q: Query{SourceInstanceID: "i-client", EndpointID: "vpce-1", Port: 65536}, code: "ValidationException", kind: core.KindInvalid},
		{name: "bad address", q: Query{SourceIP: "10.0.1", VpcID: "vpc-c", EndpointID: "vpce-1", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "IPv6 address", q: Query{SourceInstanceID: "i-client", DestinationIP: "::1", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "malformed instance", q: Query{SourceInstanceID: "client", EndpointID: "vpce-1", Port: 443}, code: "InvalidInstanceID.Malformed", kind: core.KindInvalid},
		{name: "malformed endpoint", q: Query{SourceInstanceID: "i-client", EndpointID: "svc-1", Port: 443}, code: "InvalidVpcEndpointId.Malformed", kind: core.KindInvalid},
		{name: "malformed vpc", q: Query{SourceIP: "10.0.1.10", VpcID: "c", EndpointID: "vpce-1", Port: 443}, code: "InvalidVpcID.Malformed", kind: core.KindInvalid},
		{name: "unknown instance", q: Query{SourceInstanceID: "i-nope", EndpointID: "vpce-1", Port: 443}, code: "InvalidInstanceID.NotFound", kind: core.KindNotFound},
		{name: "unknown vpc", q: Query{SourceIP: "10.0.1.10", VpcID: "vpc-nope", EndpointID: "vpce-1", Port: 443}, code: "InvalidVpcID.NotFound", kind: core.KindNotFound},
		{name: "unknown endpoint", q: Query{SourceInstanceID: "i-client", EndpointID: "vpce-nope", Port: 443}, code: "InvalidVpcEndpointId.NotFound", kind: core.KindNotFound},
		{name: "unknown destination address", q: Query{SourceInstanceID: "i-client", DestinationIP: "10.0.1.99", Port: 443}, code: "InvalidAddress.NotFound", kind: core.KindNotFound},
		{name: "destination is an instance", q: Query{SourceInstanceID: "i-client", DestinationIP: "10.0.1.10", Port: 443}, code: "ValidationException", kind: core.KindInvalid},
		{name: "endpoint address in another VPC is not found", q: Query{SourceInstanceID: "i-target", DestinationIP: "10.0.1.20", Port: 443}, code: "InvalidAddress.NotFound", kind: core.KindNotFound},
		// Viewers must own the source or the endpoint; otherwise the
		// source does not exist for them, whatever the endpoint is.
		{name: "viewer owns neither end", q: Query{SourceInstanceID: "i-client", EndpointID: "vpce-1", Port: 443, Viewer: provider}, code: "InvalidInstanceID.NotFound", kind: core.KindNotFound},
		{name: "viewer owns neither end, unknown endpoint", q: Query{SourceInstanceID: "i-client", EndpointID: "vpce-nope", Port: 443, Viewer: provider}, code: "InvalidInstanceID.NotFound", kind: core.KindNotFound},
		{name: "viewer owns neither end, by address", q: Query{SourceIP: "10.0.1.10", VpcID: "vpc-c", DestinationIP: "10.0.1.20", Port: 443, Viewer: provider}, code: "InvalidVpcID.NotFound", kind: core.KindNotFound},
		{name: "viewer owns the source, unknown endpoint", q: Query{SourceInstanceID: "i-client", EndpointID: "vpce-nope", Port: 443, Viewer: consumer}, code: "InvalidVpcEndpointId.NotFound", kind: core.KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Flow(world(), tt.q)
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Code != tt.code || ce.Kind != tt.kind {
				t.Fatalf("err %v, want %s (%v)", err, tt.code, tt.kind)
			}
		})
	}
	t.Run("viewer owns the endpoint only", func(t *testing.T) {
		s := world()
		s.Instances["i-client"].OwnerID = provider
		if _, err := Flow(s, Query{SourceInstanceID: "i-client", EndpointID: "vpce-1", Port: 443, Viewer: consumer}); err != nil {
			t.Fatalf("the endpoint's owner may explain flows to it: %v", err)
		}
	})
}

func TestWriteText(t *testing.T) {
	s := world()
	s.SecurityGroups["sg-ep"].Rules = nil
	r, err := Flow(s, base)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"flow 10.0.1.10 (i-client) → 10.0.1.20 tcp/443 (vpce-1)",
		"✓ source ",
		"✓ route ",
		"✓ source-egress ",
		"✓ endpoint-state ",
		"✗ endpoint-ingress  endpoint vpce-1 security groups sg-ep have no inbound rule admitting 10.0.1.10 on tcp/443",
		"verdict: dropped (at endpoint-ingress)",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i, lines[i], w)
		}
	}

	r, err = Flow(world(), base)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"✓ targets ", "    · i-target 10.0.1.5:22 us-east-1a healthy (new flows)", "    ✓ i-target 10.0.1.5:22 us-east-1a healthy: sg-target", "verdict: delivered: "} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("missing %q in\n%s", w, b.String())
		}
	}
}

// FuzzFlow: no query, however odd, makes Flow panic, and every result it
// returns has steps and a verdict.
func FuzzFlow(f *testing.F) {
	f.Add("i-client", "", "", "vpce-1", "", int32(443), "")
	f.Add("", "10.0.1.10", "vpc-c", "", "10.0.1.20", int32(22), consumer)
	f.Add("", "10.0.1.50", "vpc-p", "vpce-1", "", int32(1), provider)
	f.Fuzz(func(t *testing.T, inst, ip, vpc, ep, dst string, port int32, viewer string) {
		r, err := Flow(world(), Query{SourceInstanceID: inst, SourceIP: ip, VpcID: vpc, EndpointID: ep, DestinationIP: dst, Port: port, Viewer: viewer})
		if err != nil {
			return
		}
		if len(r.Steps) == 0 || r.Verdict == "" {
			t.Fatalf("result without steps or verdict: %+v", r)
		}
	})
}
