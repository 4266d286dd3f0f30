package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/netns"
)

// liveTarget greets with its name and echoes on 22, accepts and never
// answers on 23, and tells each client its peer address on 24.
const liveTarget = `#!/bin/sh
socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo %[1]s; cat' &
socat TCP-LISTEN:23,fork,reuseaddr SYSTEM:'sleep 600' &
socat TCP-LISTEN:24,fork,reuseaddr SYSTEM:'echo %[1]s $SOCAT_PEERADDR' &
`

// The load balancer's listeners: greet-and-echo, hung and peer-address
// through the kernel path; greet-and-echo and hung again through the proxy
// (their groups send PROXY protocol v2, which only the proxy can add).
const (
	liveEcho    = 8022
	liveHung    = 8023
	livePeer    = 8024
	liveEchoPP2 = 8025
	liveHungPP2 = 8026
)

// Both VPCs are 10.0.0.0/16; the endpoint's group admits TCP 8000-8100
// from it unless a subtest says otherwise.
const (
	liveVPCCIDR  = "10.0.0.0/16"
	liveRangeLow = 8000
	liveRangeTop = 8100
)

// TestEndpointsChangeLive changes a running endpoint through the AWS SDK —
// its subnets, its security groups and their rules — and checks each change
// against real flows, then shows what targets see and what happens to
// flows when a target hangs or dies.
func TestEndpointsChangeLive(t *testing.T) {
	s := startServer(t)
	consumerAcct := s.createAccount()
	p, pelb, c := s.ec2(bootstrap), s.elb(bootstrap), s.ec2(consumerAcct)

	// The provider: target A in zone a, B in zone b, a load balancer with
	// a node in each zone and cross-zone load balancing on, so an
	// endpoint interface in either zone reaches both.
	pn := createNetwork(t, p, "10.0.0.0/16", "10.0.1.0/24")
	pnB := liveSubnet(t, p, pn.vpc, "10.0.2.0/24", "us-east-1b")
	open := createGroup(t, p, pn.vpc, "live-from-vpc", 0, 65535, liveVPCCIDR)
	a := runInstance(t, p, pn.subnet, open, fmt.Sprintf(liveTarget, "A"))
	b := runInstance(t, p, pnB, open, fmt.Sprintf(liveTarget, "B"))

	lb, err := pelb.CreateLoadBalancer(ctx(t), &elb.CreateLoadBalancerInput{Name: aws.String("live"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{pn.subnet, pnB}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := *lb.LoadBalancers[0].LoadBalancerArn
	nodeIP := map[string]string{}
	for _, z := range lb.LoadBalancers[0].AvailabilityZones {
		if len(z.LoadBalancerAddresses) != 1 || z.LoadBalancerAddresses[0].PrivateIPv4Address == nil {
			t.Fatalf("zone %s of the load balancer has addresses %v, want one", aws.ToString(z.ZoneName), z.LoadBalancerAddresses)
		}
		nodeIP[*z.ZoneName] = *z.LoadBalancerAddresses[0].PrivateIPv4Address
	}
	if nodeIP["us-east-1a"] == "" || nodeIP["us-east-1b"] == "" || nodeIP["us-east-1a"] == nodeIP["us-east-1b"] {
		t.Fatalf("load balancer node addresses %v, want one of its own in each of us-east-1a and us-east-1b", nodeIP)
	}
	if _, err := pelb.ModifyLoadBalancerAttributes(ctx(t), &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(lbARN),
		Attributes: []elbtypes.LoadBalancerAttribute{{Key: aws.String("load_balancing.cross_zone.enabled"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	setTGAttrs := func(t *testing.T, arn string, kv ...string) {
		t.Helper()
		var attrs []elbtypes.TargetGroupAttribute
		for i := 0; i < len(kv); i += 2 {
			attrs = append(attrs, elbtypes.TargetGroupAttribute{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		if _, err := pelb.ModifyTargetGroupAttributes(ctx(t), &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	// forward makes a target group of A and B on port, with fast health
	// checks, behind a listener on listenerPort.
	var groups []string
	forward := func(name string, port, listenerPort int32, pp2 bool) string {
		t.Helper()
		tg, err := pelb.CreateTargetGroup(ctx(t), &elb.CreateTargetGroupInput{Name: aws.String(name),
			Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(port), VpcId: aws.String(pn.vpc),
			HealthCheckIntervalSeconds: aws.Int32(5), HealthyThresholdCount: aws.Int32(2), HealthCheckTimeoutSeconds: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		arn := *tg.TargetGroups[0].TargetGroupArn
		if pp2 {
			setTGAttrs(t, arn, "proxy_protocol_v2.enabled", "true")
		}
		if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn),
			Targets: []elbtypes.TargetDescription{{Id: a.InstanceId}, {Id: b.InstanceId}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := pelb.CreateListener(ctx(t), &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
			Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(listenerPort),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}}}); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, arn)
		return arn
	}
	forward("live-echo", 22, liveEcho, false)
	forward("live-hung", 23, liveHung, false)
	peerTG := forward("live-peer", 24, livePeer, false)
	forward("live-echo-pp2", 22, liveEchoPP2, true)
	forward("live-hung-pp2", 23, liveHungPP2, true)

	svc, err := p.CreateVpcEndpointServiceConfiguration(ctx(t), &ec2.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{lbARN}, AcceptanceRequired: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	svcID, svcName := *svc.ServiceConfiguration.ServiceId, *svc.ServiceConfiguration.ServiceName
	if _, err := p.ModifyVpcEndpointServicePermissions(ctx(t), &ec2.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: aws.String(svcID), AddAllowedPrincipals: []string{"arn:aws:iam::" + consumerAcct.ID + ":root"}}); err != nil {
		t.Fatal(err)
	}

	// The consumer: subnets in zones a and b, a client in each with the
	// VPC's default group, and a third client in zone a in a group of its
	// own. The endpoint's group admits TCP 8000-8100 from the VPC.
	cn := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	cnB := liveSubnet(t, c, cn.vpc, "10.0.2.0/24", "us-east-1b")
	clientSG := liveGroup(t, c, cn.vpc, "live-clients")
	ca := runInstance(t, c, cn.subnet, "", "")
	cb := runInstance(t, c, cnB, "", "")
	cg := runInstance(t, c, cn.subnet, clientSG, "")
	nsA, nsB, nsG := instanceNS(t, s, *ca.InstanceId), instanceNS(t, s, *cb.InstanceId), instanceNS(t, s, *cg.InstanceId)
	epSG := createGroup(t, c, cn.vpc, "live-endpoint", liveRangeLow, liveRangeTop, liveVPCCIDR)

	ep, err := c.CreateVpcEndpoint(ctx(t), &ec2.CreateVpcEndpointInput{VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		VpcId: aws.String(cn.vpc), ServiceName: aws.String(svcName), SubnetIds: []string{cn.subnet}, SecurityGroupIds: []string{epSG}})
	if err != nil {
		t.Fatal(err)
	}
	epID := *ep.VpcEndpoint.VpcEndpointId
	describeEndpoint := func(t *testing.T) ec2types.VpcEndpoint {
		t.Helper()
		out, err := c.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{epID}})
		if err != nil {
			t.Fatal(err)
		}
		return out.VpcEndpoints[0]
	}
	waitAvailable := func(t *testing.T) ec2types.VpcEndpoint {
		t.Helper()
		var e ec2types.VpcEndpoint
		eventually(t, "endpoint available", func() bool {
			e = describeEndpoint(t)
			return string(e.State) == "available"
		})
		return e
	}
	if e := waitAvailable(t); len(e.NetworkInterfaceIds) != 1 {
		t.Fatalf("endpoint in one subnet has interfaces %v, want one", e.NetworkInterfaceIds)
	}
	eniA := liveENI(t, c, ep.VpcEndpoint.NetworkInterfaceIds[0])
	if *eniA.AvailabilityZone != "us-east-1a" || *eniA.SubnetId != cn.subnet {
		t.Fatalf("endpoint interface in %s/%s, want us-east-1a/%s", *eniA.AvailabilityZone, *eniA.SubnetId, cn.subnet)
	}
	ipA := netip.MustParseAddr(*eniA.PrivateIpAddress)
	at := func(ip netip.Addr, port int) netip.AddrPort { return netip.AddrPortFrom(ip, uint16(port)) }

	for _, arn := range groups {
		eventually(t, "targets healthy", func() bool {
			out, err := pelb.DescribeTargetHealth(ctx(t), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			healthy := 0
			for _, d := range out.TargetHealthDescriptions {
				if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
					healthy++
				}
			}
			return healthy == 2
		})
	}
	if !liveAdmitted(nsA, at(ipA, liveEcho)) {
		t.Fatalf("the zone a client cannot reach the endpoint at %s:%d", ipA, liveEcho)
	}

	modify := func(t *testing.T, in ec2.ModifyVpcEndpointInput) {
		t.Helper()
		in.VpcEndpointId = aws.String(epID)
		if _, err := c.ModifyVpcEndpoint(ctx(t), &in); err != nil {
			t.Fatal(err)
		}
	}
	ingress := func(t *testing.T, revoke bool, perms ...ec2types.IpPermission) {
		t.Helper()
		var err error
		if revoke {
			_, err = c.RevokeSecurityGroupIngress(ctx(t), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(epSG), IpPermissions: perms})
		} else {
			_, err = c.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(epSG), IpPermissions: perms})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// fromVPC is a rule admitting proto (ports from-to) from the VPC.
	fromVPC := func(proto string, from, to int32) ec2types.IpPermission {
		p := ec2types.IpPermission{IpProtocol: aws.String(proto), IpRanges: []ec2types.IpRange{{CidrIp: aws.String(liveVPCCIDR)}}}
		if proto != "-1" {
			p.FromPort, p.ToPort = aws.Int32(from), aws.Int32(to)
		}
		return p
	}
	baseRule := fromVPC("tcp", liveRangeLow, liveRangeTop)

	var eniB ec2types.NetworkInterface
	var ipB netip.Addr
	t.Run("ModifyVpcEndpoint AddSubnetIds puts an interface in zone b that carries flows", func(t *testing.T) {
		modify(t, ec2.ModifyVpcEndpointInput{AddSubnetIds: []string{cnB}})
		e := waitAvailable(t)
		if len(e.NetworkInterfaceIds) != 2 || len(e.SubnetIds) != 2 {
			t.Fatalf("endpoint has interfaces %v in subnets %v, want two in %s and %s", e.NetworkInterfaceIds, e.SubnetIds, cn.subnet, cnB)
		}
		for _, id := range e.NetworkInterfaceIds {
			if id != *eniA.NetworkInterfaceId {
				eniB = liveENI(t, c, id)
			}
		}
		if eniB.NetworkInterfaceId == nil || *eniB.AvailabilityZone != "us-east-1b" || *eniB.SubnetId != cnB {
			t.Fatalf("new interface %v, want one in us-east-1b/%s", eniB, cnB)
		}
		if len(eniB.Groups) != 1 || *eniB.Groups[0].GroupId != epSG {
			t.Errorf("new interface has groups %v, want the endpoint's %s", eniB.Groups, epSG)
		}
		ipB = netip.MustParseAddr(*eniB.PrivateIpAddress)
		got := liveGreetings(nsB, at(ipB, liveEcho), 8)
		if got["A"]+got["B"] != 8 {
			t.Fatalf("zone b client → new interface %s:%d answered %v, want a target's greeting each time", ipB, liveEcho, got)
		}
	})
	if ipB == (netip.Addr{}) {
		t.Fatal("no zone b interface: the subtests after need it")
	}

	t.Run("targets see the load balancer node's address in the endpoint interface's zone, whatever preserve_client_ip says", func(t *testing.T) {
		for _, preserve := range []string{"true", "false"} {
			setTGAttrs(t, peerTG, "preserve_client_ip.enabled", preserve)
			attrs, err := pelb.DescribeTargetGroupAttributes(ctx(t), &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(peerTG)})
			if err != nil {
				t.Fatal(err)
			}
			if v := liveAttr(attrs.Attributes, "preserve_client_ip.enabled"); v != preserve {
				t.Fatalf("preserve_client_ip.enabled reads %q after setting %q", v, preserve)
			}
			for _, tc := range []struct {
				zone   string
				client *netns.NS
				eni    netip.Addr
			}{{"us-east-1a", nsA, ipA}, {"us-east-1b", nsB, ipB}} {
				seen := map[string]int{}
				for range 8 {
					line, err := liveLine(tc.client, at(tc.eni, livePeer))
					if err != nil {
						t.Fatalf("%s → %s:%d: %v", tc.zone, tc.eni, livePeer, err)
					}
					name, peer, _ := strings.Cut(line, " ")
					if peer != nodeIP[tc.zone] {
						t.Errorf("preserve_client_ip.enabled=%s: target %s saw %q through the %s interface, want the node's %s",
							preserve, name, peer, tc.zone, nodeIP[tc.zone])
					}
					seen[name]++
				}
				t.Logf("preserve_client_ip.enabled=%s, %s interface: targets answered %v", preserve, tc.zone, seen)
			}
		}
	})

	t.Run("ModifyVpcEndpoint RemoveSubnetIds takes the zone b interface away", func(t *testing.T) {
		modify(t, ec2.ModifyVpcEndpointInput{RemoveSubnetIds: []string{cnB}})
		e := waitAvailable(t)
		if len(e.NetworkInterfaceIds) != 1 || e.NetworkInterfaceIds[0] != *eniA.NetworkInterfaceId ||
			len(e.SubnetIds) != 1 || e.SubnetIds[0] != cn.subnet {
			t.Fatalf("endpoint has interfaces %v in subnets %v, want only %s in %s", e.NetworkInterfaceIds, e.SubnetIds, *eniA.NetworkInterfaceId, cn.subnet)
		}
		_, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*eniB.NetworkInterfaceId}})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidNetworkInterfaceID.NotFound" {
			t.Errorf("DescribeNetworkInterfaces of the removed interface: %v, want InvalidNetworkInterfaceID.NotFound", err)
		}
		all, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range all.NetworkInterfaces {
			if *n.NetworkInterfaceId == *eniB.NetworkInterfaceId || *n.PrivateIpAddress == ipB.String() && *n.SubnetId == cnB {
				t.Errorf("the consumer's interfaces still list %s (%s)", *n.NetworkInterfaceId, *n.PrivateIpAddress)
			}
		}
		var last error
		eventually(t, "the removed interface's address to stop answering", func() bool {
			conn, _, err := dialFrom(nsB, at(ipB, liveEcho))
			if err == nil {
				conn.Close()
				return false
			}
			last = err
			return true
		})
		t.Logf("dial to the removed interface: %v", last)
		if got := liveGreetings(nsA, at(ipA, liveEcho), 4); got["A"]+got["B"] != 4 {
			t.Fatalf("zone a interface after the removal answered %v, want a greeting each time", got)
		}
	})

	t.Run("swapping the endpoint's security groups applies to new connections", func(t *testing.T) {
		closed := createGroup(t, c, cn.vpc, "live-closed", 9000, 9100, liveVPCCIDR)
		modify(t, ec2.ModifyVpcEndpointInput{AddSecurityGroupIds: []string{closed}, RemoveSecurityGroupIds: []string{epSG}})
		if g := describeEndpoint(t).Groups; len(g) != 1 || *g[0].GroupId != closed {
			t.Fatalf("endpoint groups %v, want only %s", g, closed)
		}
		if g := liveENI(t, c, *eniA.NetworkInterfaceId).Groups; len(g) != 1 || *g[0].GroupId != closed {
			t.Fatalf("endpoint interface groups %v, want only %s", g, closed)
		}
		eventually(t, "new connections dropped under a group that does not admit them", func() bool {
			return liveBlocked(nsA, at(ipA, liveEcho))
		})
		modify(t, ec2.ModifyVpcEndpointInput{AddSecurityGroupIds: []string{epSG}, RemoveSecurityGroupIds: []string{closed}})
		eventually(t, "new connections admitted again", func() bool { return liveAdmitted(nsA, at(ipA, liveEcho)) })
	})

	t.Run("ingress rules: tcp port ranges and protocol -1, changed live", func(t *testing.T) {
		ingress(t, true, baseRule)
		eventually(t, "new connections dropped with no ingress rule", func() bool { return liveBlocked(nsA, at(ipA, liveEcho)) })

		ingress(t, false, fromVPC("tcp", liveRangeLow, liveEcho))
		eventually(t, "tcp 8000-8022 to admit port 8022", func() bool { return liveAdmitted(nsA, at(ipA, liveEcho)) })
		if got := liveOutcome(nsA, at(ipA, livePeer)); got != liveDropped {
			t.Errorf("under tcp %d-%d a flow to port %d was %s, want dropped", liveRangeLow, liveEcho, livePeer, got)
		}

		ingress(t, false, fromVPC("-1", 0, 0))
		eventually(t, "protocol -1 to admit port 8024", func() bool { return liveAdmitted(nsA, at(ipA, livePeer)) })

		ingress(t, true, fromVPC("-1", 0, 0), fromVPC("tcp", liveRangeLow, liveEcho))
		eventually(t, "new connections dropped once both rules are revoked", func() bool { return liveBlocked(nsA, at(ipA, livePeer)) })
		if got := liveOutcome(nsA, at(ipA, liveEcho)); got != liveDropped {
			t.Errorf("with no ingress rule a flow to port %d was %s, want dropped", liveEcho, got)
		}

		ingress(t, false, baseRule)
		eventually(t, "tcp 8000-8100 to admit port 8024", func() bool { return liveAdmitted(nsA, at(ipA, livePeer)) })
	})

	t.Run("the endpoint group's egress rules never matter", func(t *testing.T) {
		// Drop the flows first, so that the admission seen afterwards is
		// known to come from a ruleset made after the egress revocation.
		ingress(t, true, baseRule)
		eventually(t, "new connections dropped", func() bool { return liveBlocked(nsA, at(ipA, liveEcho)) })
		if _, err := c.RevokeSecurityGroupEgress(ctx(t), &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(epSG),
			IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
			t.Fatal(err)
		}
		ingress(t, false, baseRule)
		sg, err := c.DescribeSecurityGroups(ctx(t), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{epSG}})
		if err != nil {
			t.Fatal(err)
		}
		if e := sg.SecurityGroups[0].IpPermissionsEgress; len(e) != 0 {
			t.Fatalf("endpoint group still has egress rules %v", e)
		}
		eventually(t, "new connections admitted by a group without egress rules", func() bool {
			return liveAdmitted(nsA, at(ipA, liveEcho))
		})
		held, r, err := dialFrom(nsA, at(ipA, liveEcho))
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		if line, err := r.ReadString('\n'); err != nil || strings.TrimSpace(line) == "" {
			t.Fatalf("no greeting without egress rules: %q, %v", line, err)
		}
		if line := echo(t, held, r, "both ways"); line != "both ways" {
			t.Fatalf("echoed %q without egress rules", line)
		}
	})

	t.Run("a source-group reference admits the group's members only", func(t *testing.T) {
		// As above: the member's admission must come from a ruleset made
		// after the VPC-wide rule was revoked, not from the one before.
		ingress(t, true, baseRule)
		eventually(t, "the member dropped once the VPC-wide rule is revoked", func() bool { return liveBlocked(nsG, at(ipA, liveEcho)) })
		ingress(t, false, ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(liveRangeLow), ToPort: aws.Int32(liveRangeTop),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(clientSG)}}})
		eventually(t, "the member of "+clientSG+" admitted", func() bool { return liveAdmitted(nsG, at(ipA, liveEcho)) })
		if got := liveOutcome(nsA, at(ipA, liveEcho)); got != liveDropped {
			t.Errorf("under a rule naming only %s, a flow from a client outside it was %s, want dropped", clientSG, got)
		}
		ingress(t, true, ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(liveRangeLow), ToPort: aws.Int32(liveRangeTop),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(clientSG)}}})
		ingress(t, false, baseRule)
		eventually(t, "the VPC admitted again", func() bool { return liveAdmitted(nsA, at(ipA, liveEcho)) })
	})

	t.Run("targets that accept and hang stall no other flow", func(t *testing.T) {
		for _, tc := range []struct {
			path          string
			hung, healthy int
		}{
			{"kernel path", liveHung, liveEcho},
			{"proxy path", liveHungPP2, liveEchoPP2},
		} {
			t.Run(tc.path, func(t *testing.T) {
				for i := range 6 {
					conn, _, err := dialFrom(nsA, at(ipA, tc.hung))
					if err != nil {
						t.Fatalf("hung listener %d: %v", tc.hung, err)
					}
					t.Cleanup(func() { conn.Close() })
					if _, err := io.WriteString(conn, fmt.Sprintf("hello %d\n", i)); err != nil {
						t.Fatal(err)
					}
					_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
					if n, err := conn.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatalf("hung listener %d answered %d bytes, %v; want silence", tc.hung, n, err)
					}
				}
				for _, port := range []int{tc.healthy, liveEcho} {
					got := liveGreetings(nsA, at(ipA, port), 6)
					if got["A"]+got["B"] != 6 {
						t.Errorf("with six flows hung, listener %d answered %v, want a greeting each time", port, got)
					}
				}
			})
		}
	})

	t.Run("killing a target's server ends its flows instead of leaving them hanging", func(t *testing.T) {
		// Flows to target A through both paths: two stalled mid-transfer
		// (the target has bytes it has not read) and two idle.
		var busy, idle []liveHeld
		for _, port := range []int{liveEcho, liveEchoPP2} {
			conn, r := liveHoldGreetedBy(t, nsA, at(ipA, port), "A")
			busy = append(busy, liveHeld{conn, r, port})
			conn, r = liveHoldGreetedBy(t, nsA, at(ipA, port), "A")
			idle = append(idle, liveHeld{conn, r, port})
		}
		for _, h := range busy {
			liveStall(t, h)
		}
		ns := lab.PrefixFor(s.dataDir) + "-" + *a.InstanceId
		if n := liveKill(t, ns, "TCP-LISTEN:22,"); n == 0 {
			t.Fatalf("no greet-and-echo server running in %s", ns)
		}
		for _, h := range busy {
			t.Run(fmt.Sprintf("mid-transfer through listener %d: reset", h.port), func(t *testing.T) { liveWaitReset(t, h) })
		}
		for _, h := range idle {
			t.Run(fmt.Sprintf("idle through listener %d: closed, then reset", h.port), func(t *testing.T) { liveWaitEnded(t, h) })
		}
	})
}

// liveStall writes to a held echo flow without reading the echoes until
// every buffer on the way is full and the write blocks: the target then
// holds bytes it has not read, so its kernel answers the server's death
// with a reset rather than an orderly close.
func liveStall(t *testing.T, h liveHeld) {
	t.Helper()
	chunk := []byte(strings.Repeat("x", 1<<16))
	_ = h.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	total := 0
	for {
		n, err := h.conn.Write(chunk)
		total += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("filling the flow through listener %d: %v after %d bytes", h.port, err, total)
		}
		if total > 256<<20 {
			t.Fatalf("the flow through listener %d took %d bytes without stalling", h.port, total)
		}
	}
	t.Logf("flow through listener %d stalled after %d bytes", h.port, total)
}

// liveWaitEnded waits until an idle held flow is over in both directions:
// the target's kernel closes the dead server's socket (the client reads
// EOF) and answers the client's next segment with a reset, which Linux
// reports to a socket that has already read EOF as EPIPE (ECONNRESET if it
// arrives first). A flow left hanging keeps timing out.
func liveWaitEnded(t *testing.T, h liveHeld) {
	t.Helper()
	var tries []string
	sawEnd := false
	defer func() { t.Logf("idle flow through listener %d: %s", h.port, strings.Join(tries, "; ")) }()
	eventually(t, fmt.Sprintf("the idle flow held through listener %d to end", h.port), func() bool {
		_ = h.conn.SetDeadline(time.Now().Add(3 * time.Second))
		_, werr := io.WriteString(h.conn, "ping\n")
		line, rerr := h.r.ReadString('\n')
		tries = append(tries, fmt.Sprintf("write %v, read %q %v", werr, line, rerr))
		if errors.Is(werr, syscall.ECONNRESET) || errors.Is(rerr, syscall.ECONNRESET) {
			return true
		}
		sawEnd = sawEnd || errors.Is(rerr, io.EOF)
		return sawEnd && errors.Is(werr, syscall.EPIPE)
	})
}

// liveHeld is a held flow and the listener it went through.
type liveHeld struct {
	conn net.Conn
	r    *bufio.Reader
	port int
}

// liveWaitReset waits until a held flow turns out to be reset, as wasReset
// tells, and on failure logs what each try saw.
func liveWaitReset(t *testing.T, h liveHeld) {
	t.Helper()
	var tries []string
	defer func() {
		if t.Failed() {
			t.Logf("flow %s through listener %d, each try: %s", h.conn.LocalAddr(), h.port, strings.Join(tries, "; "))
		}
	}()
	eventually(t, fmt.Sprintf("the flow held through listener %d to be reset", h.port), func() bool {
		_ = h.conn.SetDeadline(time.Now().Add(3 * time.Second))
		_, werr := io.WriteString(h.conn, "ping\n")
		line, rerr := h.r.ReadString('\n')
		tries = append(tries, fmt.Sprintf("write %v, read %q %v", werr, line, rerr))
		return errors.Is(werr, syscall.ECONNRESET) || errors.Is(rerr, syscall.ECONNRESET)
	})
}

func liveSubnet(t *testing.T, c *ec2.Client, vpc, cidr, zone string) string {
	t.Helper()
	out, err := c.CreateSubnet(ctx(t), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.Subnet.SubnetId
}

// liveGroup makes a security group with no ingress rules (and the default
// egress rule).
func liveGroup(t *testing.T, c *ec2.Client, vpc, name string) string {
	t.Helper()
	sg, err := c.CreateSecurityGroup(ctx(t), &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc), GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *sg.GroupId
}

func liveENI(t *testing.T, c *ec2.Client, id string) ec2types.NetworkInterface {
	t.Helper()
	out, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.NetworkInterfaces[0]
}

func liveAttr(attrs []elbtypes.TargetGroupAttribute, key string) string {
	for _, a := range attrs {
		if aws.ToString(a.Key) == key {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// liveLine opens a flow and returns the first line the far end sends.
func liveLine(n *netns.NS, to netip.AddrPort) (string, error) {
	conn, r, err := dialFrom(n, to)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	line, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read from %s: %w", to, err)
	}
	return strings.TrimSpace(line), nil
}

// liveGreetings dials to n times and counts who answered (or how it
// failed).
func liveGreetings(n *netns.NS, to netip.AddrPort, times int) map[string]int {
	seen := map[string]int{}
	for range times {
		line, err := liveLine(n, to)
		if err != nil {
			seen[err.Error()]++
			continue
		}
		seen[line]++
	}
	return seen
}

// liveAdmitted reports whether a new flow gets through and is greeted.
func liveAdmitted(n *netns.NS, to netip.AddrPort) bool {
	line, err := liveLine(n, to)
	return err == nil && line != ""
}

// liveDropped is how liveOutcome describes a flow whose connect timed out.
const liveDropped = "dropped"

// liveOutcome opens a new flow and says what became of it: liveDropped when
// its connect timed out, as it does when a security group has no rule for
// it (never refused), else the greeting or the error.
func liveOutcome(n *netns.NS, to netip.AddrPort) string {
	conn, r, err := dialFrom(n, to)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		// The connect's deadline fires as either, whichever comes first.
		return liveDropped
	case err != nil:
		return err.Error()
	}
	defer conn.Close()
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Sprintf("connected, then %v", err)
	}
	return "greeted " + strings.TrimSpace(line)
}

// liveBlocked reports whether a new flow is dropped.
func liveBlocked(n *netns.NS, to netip.AddrPort) bool { return liveOutcome(n, to) == liveDropped }

// liveHoldGreetedBy opens flows until one is greeted by name and keeps it.
func liveHoldGreetedBy(t *testing.T, n *netns.NS, to netip.AddrPort, name string) (net.Conn, *bufio.Reader) {
	t.Helper()
	for range 40 {
		conn, r, err := dialFrom(n, to)
		if err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		if err == nil && strings.TrimSpace(line) == name {
			t.Cleanup(func() { conn.Close() })
			return conn, r
		}
		conn.Close()
	}
	t.Fatalf("no flow to %s was greeted by %s in 40 tries", to, name)
	return nil, nil
}

// liveKill kills, by process ID, the processes in the lab namespace ns whose
// command line contains pattern, and returns how many. pkill would match
// processes in every namespace on the host, other tests' too.
func liveKill(t *testing.T, ns, pattern string) int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		t.Fatalf("ip netns pids %s: %v", ns, err)
	}
	killed := 0
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + f + "/cmdline")
		if err != nil || !strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), pattern) {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			killed++
		}
	}
	return killed
}
