package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/netns"
)

// greetEcho greets with its name, then echoes every line back.
const greetEcho = "#!/bin/sh\nsocat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo %s; cat' &\n"

// haproxyPP2 runs HAProxy behind PROXY protocol v2 on port 8080: it answers
// every HTTP request with the addresses the header carried.
const haproxyPP2 = `#!/bin/sh
cat > /tmp/pp2-$$.cfg <<'EOF'
global
    log stderr local0
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend pp2
    bind :8080 accept-proxy
    http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port] %[dst]:%[dst_port]\n"
EOF
haproxy -f /tmp/pp2-$$.cfg -D
`

// TestLoadBalancerBehaviours drives the load balancer's settings through
// the AWS SDK and checks each against real flows: zones and cross-zone
// load balancing, deregistration with connection termination, PROXY
// protocol v2 into a real HAProxy, an endpoint's rejection, the metrics,
// and the listener's idle timeout.
func TestLoadBalancerBehaviours(t *testing.T) {
	s := startServer(t)
	consumerAcct := s.createAccount()
	p, pelb, c := s.ec2(bootstrap), s.elb(bootstrap), s.ec2(consumerAcct)

	// The provider: targets A (zone a) and B (zone b) greet and echo; P
	// (zone a) is HAProxy behind PROXY protocol.
	pn := createNetwork(t, p, "10.0.0.0/16", "10.0.1.0/24")
	sub2, err := p.CreateSubnet(ctx(t), &ec2.CreateSubnetInput{VpcId: aws.String(pn.vpc), CidrBlock: aws.String("10.0.2.0/24"),
		AvailabilityZone: aws.String("us-east-1b")})
	if err != nil {
		t.Fatal(err)
	}
	pn2 := *sub2.Subnet.SubnetId
	open := createGroup(t, p, pn.vpc, "from-vpc", 0, 65535, "10.0.0.0/16")
	a := runInstance(t, p, pn.subnet, open, fmt.Sprintf(greetEcho, "A"))
	b := runInstance(t, p, pn2, open, fmt.Sprintf(greetEcho, "B"))
	pp := runInstance(t, p, pn.subnet, open, haproxyPP2)

	lb, err := pelb.CreateLoadBalancer(ctx(t), &elb.CreateLoadBalancerInput{Name: aws.String("zonal"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{pn.subnet, pn2}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := *lb.LoadBalancers[0].LoadBalancerArn
	newGroup := func(name string, port int32, targets ...string) string {
		t.Helper()
		tg, err := pelb.CreateTargetGroup(ctx(t), &elb.CreateTargetGroupInput{Name: aws.String(name),
			Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(port), VpcId: aws.String(pn.vpc),
			HealthCheckIntervalSeconds: aws.Int32(5), HealthyThresholdCount: aws.Int32(2), HealthCheckTimeoutSeconds: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		arn := *tg.TargetGroups[0].TargetGroupArn
		var ts []elbtypes.TargetDescription
		for _, id := range targets {
			ts = append(ts, elbtypes.TargetDescription{Id: aws.String(id)})
		}
		if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: ts}); err != nil {
			t.Fatal(err)
		}
		return arn
	}
	listen := func(port int32, tgARN string) string {
		t.Helper()
		l, err := pelb.CreateListener(ctx(t), &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
			Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(port),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}})
		if err != nil {
			t.Fatal(err)
		}
		return *l.Listeners[0].ListenerArn
	}
	echoTG := newGroup("echo", 22, *a.InstanceId, *b.InstanceId)
	echoListener := listen(8022, echoTG)
	ppTG := newGroup("pp2", 8080, *pp.InstanceId)
	listen(8080, ppTG)
	setTGAttrs := func(arn string, kv ...string) {
		t.Helper()
		var attrs []elbtypes.TargetGroupAttribute
		for i := 0; i < len(kv); i += 2 {
			attrs = append(attrs, elbtypes.TargetGroupAttribute{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		if _, err := pelb.ModifyTargetGroupAttributes(ctx(t), &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	setTGAttrs(ppTG, "proxy_protocol_v2.enabled", "true")

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
	waitHealthy := func(arn string, n int) {
		t.Helper()
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
			return healthy == n
		})
	}

	// The consumer: one subnet in zone a, so its endpoint interface uses
	// the node in zone a.
	cn := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	ci := runInstance(t, c, cn.subnet, "", "")
	toEndpoint := createGroup(t, c, cn.vpc, "to-endpoint", 0, 65535, "10.0.0.0/16")
	ep, err := c.CreateVpcEndpoint(ctx(t), &ec2.CreateVpcEndpointInput{VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		VpcId: aws.String(cn.vpc), ServiceName: aws.String(svcName), SubnetIds: []string{cn.subnet}, SecurityGroupIds: []string{toEndpoint}})
	if err != nil {
		t.Fatal(err)
	}
	epID := *ep.VpcEndpoint.VpcEndpointId
	eventually(t, "endpoint available", func() bool {
		out, err := c.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{epID}})
		if err != nil {
			t.Fatal(err)
		}
		return string(out.VpcEndpoints[0].State) == "available"
	})
	enis, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.VpcEndpoint.NetworkInterfaceIds})
	if err != nil {
		t.Fatal(err)
	}
	eniIP := netip.MustParseAddr(*enis.NetworkInterfaces[0].PrivateIpAddress)
	client := instanceNS(t, s, *ci.InstanceId)
	waitHealthy(echoTG, 2)

	// greetings dials the endpoint n times and collects who answered.
	greetings := func(n int) map[string]int {
		seen := map[string]int{}
		for range n {
			conn, r, err := dialFrom(client, netip.AddrPortFrom(eniIP, 8022))
			if err != nil {
				seen[err.Error()]++
				continue
			}
			line, _ := r.ReadString('\n')
			conn.Close()
			seen[strings.TrimSpace(line)]++
		}
		return seen
	}

	t.Run("without cross-zone load balancing the zone a endpoint reaches zone a's target only", func(t *testing.T) {
		if got := greetings(12); got["A"] != 12 {
			t.Fatalf("answers %v, want A only", got)
		}
	})

	t.Run("with cross-zone load balancing it reaches both zones", func(t *testing.T) {
		if _, err := pelb.ModifyLoadBalancerAttributes(ctx(t), &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(lbARN),
			Attributes: []elbtypes.LoadBalancerAttribute{{Key: aws.String("load_balancing.cross_zone.enabled"), Value: aws.String("true")}}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "flows to both zones", func() bool {
			got := greetings(12)
			return got["A"] > 0 && got["B"] > 0
		})
		// The group can turn it off again for itself.
		setTGAttrs(echoTG, "load_balancing.cross_zone.enabled", "false")
		eventually(t, "flows to zone a only", func() bool { return greetings(12)["A"] == 12 })
	})

	t.Run("a deregistered target drains, then its flows are reset", func(t *testing.T) {
		setTGAttrs(echoTG, "deregistration_delay.timeout_seconds", "3", "deregistration_delay.connection_termination.enabled", "true")
		held, r := holdGreeted(t, client, netip.AddrPortFrom(eniIP, 8022), "A")
		if _, err := pelb.DeregisterTargets(ctx(t), &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(echoTG),
			Targets: []elbtypes.TargetDescription{{Id: a.InstanceId}}}); err != nil {
			t.Fatal(err)
		}
		health, err := pelb.DescribeTargetHealth(ctx(t), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(echoTG),
			Targets: []elbtypes.TargetDescription{{Id: a.InstanceId}}})
		if err != nil {
			t.Fatal(err)
		}
		if h := health.TargetHealthDescriptions[0].TargetHealth; h.State != elbtypes.TargetHealthStateEnumDraining ||
			h.Reason != elbtypes.TargetHealthReasonEnumDeregistrationInProgress {
			t.Errorf("deregistered target is %s (%s), want draining (Target.DeregistrationInProgress)", h.State, h.Reason)
		}
		if line := echo(t, held, r, "while draining"); line != "while draining" {
			t.Fatalf("held flow while draining echoed %q", line)
		}
		eventually(t, "the drain to end", func() bool {
			out, err := pelb.DescribeTargetHealth(ctx(t), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(echoTG)})
			if err != nil {
				t.Fatal(err)
			}
			return len(out.TargetHealthDescriptions) == 1
		})
		eventually(t, "the held flow to be reset", func() bool { return wasReset(held, r) })
		if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(echoTG),
			Targets: []elbtypes.TargetDescription{{Id: a.InstanceId}}}); err != nil {
			t.Fatal(err)
		}
		waitHealthy(echoTG, 2)
	})

	t.Run("PROXY protocol v2 tells HAProxy the client and the endpoint", func(t *testing.T) {
		waitHealthy(ppTG, 1)
		conn, _, err := dialFrom(client, netip.AddrPortFrom(eniIP, 8080))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req, _ := http.NewRequest("GET", "http://"+eniIP.String()+":8080/", nil)
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		want := fmt.Sprintf("%s %s:8080", conn.LocalAddr(), eniIP)
		if strings.TrimSpace(string(body)) != want {
			t.Errorf("HAProxy saw %q, want %q (client address and port, endpoint address and port)", body, want)
		}
	})

	t.Run("metrics count the endpoint's flows", func(t *testing.T) {
		resp, err := http.Get(s.url() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		for _, want := range []string{
			`privlink_endpoint_new_connections_total{owner_id="` + consumerAcct.ID + `",service_name="` + svcName,
			`privlink_nlb_healthy_host_count{load_balancer="net/zonal/`,
			`privlink_nlb_new_flow_count_total{availability_zone="us-east-1a",load_balancer="net/zonal/`,
		} {
			if !strings.Contains(string(text), want) {
				t.Errorf("metrics lack %s…", want)
			}
		}
	})

	t.Run("rejecting the endpoint resets its flows", func(t *testing.T) {
		held, r := holdGreeted(t, client, netip.AddrPortFrom(eniIP, 8022), "A")
		if _, err := p.RejectVpcEndpointConnections(ctx(t), &ec2.RejectVpcEndpointConnectionsInput{ServiceId: aws.String(svcID),
			VpcEndpointIds: []string{epID}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the held flow to be reset", func() bool { return wasReset(held, r) })
	})

	t.Run("a flow idle longer than the listener's idle timeout is reset", func(t *testing.T) {
		// The timeout applies to flows opened after the change: the
		// second endpoint (the first was rejected) comes after it.
		if _, err := pelb.ModifyListenerAttributes(ctx(t), &elb.ModifyListenerAttributesInput{ListenerArn: aws.String(echoListener),
			Attributes: []elbtypes.ListenerAttribute{{Key: aws.String("tcp.idle_timeout.seconds"), Value: aws.String("60")}}}); err != nil {
			t.Fatal(err)
		}
		ep2, err := c.CreateVpcEndpoint(ctx(t), &ec2.CreateVpcEndpointInput{VpcEndpointType: ec2types.VpcEndpointTypeInterface,
			VpcId: aws.String(cn.vpc), ServiceName: aws.String(svcName), SubnetIds: []string{cn.subnet}, SecurityGroupIds: []string{toEndpoint}})
		if err != nil {
			t.Fatal(err)
		}
		enis, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep2.VpcEndpoint.NetworkInterfaceIds})
		if err != nil {
			t.Fatal(err)
		}
		addr := netip.AddrPortFrom(netip.MustParseAddr(*enis.NetworkInterfaces[0].PrivateIpAddress), 8022)
		var held net.Conn
		var r *bufio.Reader
		eventually(t, "the second endpoint to carry flows", func() bool {
			conn, br, err := dialFrom(client, addr)
			if err != nil {
				return false
			}
			held, r = conn, br
			return true
		})
		t.Cleanup(func() { held.Close() })
		if line, _ := r.ReadString('\n'); strings.TrimSpace(line) == "" {
			t.Fatal("no greeting")
		}
		time.Sleep(62 * time.Second) // the shortest idle timeout AWS allows, and a margin
		if !wasReset(held, r) {
			t.Error("the idle flow carried on; want a reset")
		}
	})
}

// instanceNS opens a lab instance's namespace, as `privlink exec` does.
func instanceNS(t *testing.T, s *server, instanceID string) *netns.NS {
	t.Helper()
	n, err := netns.Open(lab.PrefixFor(s.dataDir) + "-" + instanceID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func dialFrom(n *netns.NS, to netip.AddrPort) (net.Conn, *bufio.Reader, error) {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := n.DialTCP(c, netip.Addr{}, to)
	if err != nil {
		return nil, nil, err
	}
	// Keepalives would keep an idle flow alive through the load
	// balancer, as they should; the idle timeout test needs silence.
	if err := conn.SetKeepAlive(false); err != nil {
		conn.Close()
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	return conn, bufio.NewReader(conn), nil
}

// holdGreeted opens a flow that the target named greeting answered.
func holdGreeted(t *testing.T, n *netns.NS, to netip.AddrPort, greeting string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, r, err := dialFrom(n, to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if line, err := r.ReadString('\n'); strings.TrimSpace(line) != greeting {
		t.Fatalf("greeted %q, %v; want %s", line, err, greeting)
	}
	return conn, r
}

func echo(t *testing.T, conn net.Conn, r *bufio.Reader, line string) string {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(got)
}

// wasReset sends a line on a held flow and reports whether the flow turned
// out to be reset: the write or the read fails with ECONNRESET (whichever
// meets the reset first), rather than the line coming back.
func wasReset(conn net.Conn, r *bufio.Reader) bool {
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	_, werr := io.WriteString(conn, "ping\n")
	_, rerr := r.ReadString('\n')
	return errors.Is(werr, syscall.ECONNRESET) || errors.Is(rerr, syscall.ECONNRESET)
}
