package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// startExplainServer is startServer with a data dir named plx-…, so the
// lab this test builds is told apart from other tests' at a glance.
func startExplainServer(t *testing.T) *server { return startServerWith(t, "plx-explain-") }

// explain runs `privlink explain` as an account and returns its stdout,
// stderr and exit status.
func (s *server) explain(a account, args ...string) (stdout, stderr string, status int) {
	s.t.Helper()
	cmd := exec.Command(bin, append([]string{"explain", "--endpoint-url", s.url()}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+a.Key, "AWS_SECRET_ACCESS_KEY="+a.Secret)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("privlink explain: %v", err)
	}
	return out.String(), errb.String(), 0
}

// TestExplain builds consumer → endpoint → load balancer → target through
// the AWS SDK against the real binary, and checks at each change that
// `privlink explain` names what stops the flow and that a real connection
// does what it says.
func TestExplain(t *testing.T) {
	s := startExplainServer(t)
	consumerAcct := s.createAccount()
	p, pelb, c := s.ec2(bootstrap), s.elb(bootstrap), s.ec2(consumerAcct)

	pn := createNetwork(t, p, "10.0.0.0/16", "10.0.1.0/24")
	ssh := createGroup(t, p, pn.vpc, "ssh-from-vpc", 22, 22, "10.0.0.0/16")
	target := runInstance(t, p, pn.subnet, ssh, fmt.Sprintf(echoServer, "A"))
	lb, err := pelb.CreateLoadBalancer(ctx(t), &elb.CreateLoadBalancerInput{Name: aws.String("plx-explain"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{pn.subnet}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := *lb.LoadBalancers[0].LoadBalancerArn
	lbIP := *lb.LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].PrivateIPv4Address
	tg, err := pelb.CreateTargetGroup(ctx(t), &elb.CreateTargetGroupInput{Name: aws.String("plx-ssh"),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(22), VpcId: aws.String(pn.vpc), TargetType: elbtypes.TargetTypeEnumInstance})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := *tg.TargetGroups[0].TargetGroupArn
	targets := []elbtypes.TargetDescription{{Id: target.InstanceId}}
	if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets}); err != nil {
		t.Fatal(err)
	}
	if _, err := pelb.CreateListener(ctx(t), &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(8022),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}}); err != nil {
		t.Fatal(err)
	}
	svc, err := p.CreateVpcEndpointServiceConfiguration(ctx(t), &ec2.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{lbARN}, AcceptanceRequired: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	svcID := *svc.ServiceConfiguration.ServiceId
	if _, err := p.ModifyVpcEndpointServicePermissions(ctx(t), &ec2.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: aws.String(svcID), AddAllowedPrincipals: []string{"arn:aws:iam::" + consumerAcct.ID + ":root"}}); err != nil {
		t.Fatal(err)
	}

	cn := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	client := runInstance(t, c, cn.subnet, "", "")
	clientID, clientCIDR := *client.InstanceId, *client.PrivateIpAddress+"/32"
	fromClient := createGroup(t, c, cn.vpc, "plx-from-client", 8022, 8022, clientCIDR)
	ep, err := c.CreateVpcEndpoint(ctx(t), &ec2.CreateVpcEndpointInput{VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		VpcId: aws.String(cn.vpc), ServiceName: svc.ServiceConfiguration.ServiceName, SubnetIds: []string{cn.subnet},
		SecurityGroupIds: []string{fromClient}})
	if err != nil {
		t.Fatal(err)
	}
	epID := *ep.VpcEndpoint.VpcEndpointId
	enis, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.VpcEndpoint.NetworkInterfaceIds})
	if err != nil {
		t.Fatal(err)
	}
	eniIP := *enis.NetworkInterfaces[0].PrivateIpAddress

	flow := []string{"--source", clientID, "--endpoint", epID, "--port", "8022"}
	// explainAs runs explain as the consumer and checks its verdict line,
	// its exit status and that its output names what it must.
	explainAs := func(verdict string, status int, names ...string) string {
		t.Helper()
		out, errOut, got := s.explain(consumerAcct, flow...)
		if got != status || !strings.Contains(out, "verdict: "+verdict) {
			t.Fatalf("explain: status %d (want %d), stderr %q, output:\n%s\nwant verdict %s", got, status, errOut, out, verdict)
		}
		for _, n := range names {
			if !strings.Contains(out, n) {
				t.Fatalf("explain output lacks %q:\n%s", n, out)
			}
		}
		return out
	}
	// dial connects from the client to the endpoint and returns what the
	// target said, or nc's complaint.
	dial := func() (string, error) {
		out, errOut, status := s.exec(consumerAcct, clientID, "nc", "-v", "-w", "2", eniIP, "8022")
		if status != 0 {
			return "", fmt.Errorf("nc: status %d: %s", status, errOut)
		}
		return out, nil
	}
	dialFails := func(what, complaint string) {
		t.Helper()
		eventually(t, what, func() bool {
			_, err := dial()
			return err != nil && strings.Contains(err.Error(), complaint)
		})
	}
	delivered := func() {
		t.Helper()
		want := "A " + lbIP
		eventually(t, "the client reaches the target", func() bool { out, err := dial(); return err == nil && out == want })
	}

	// Not accepted yet.
	explainAs("dropped (at endpoint-state)", 1, "✗ endpoint-state", epID+" is pendingAcceptance")
	dialFails("a timeout before acceptance", "timed out")

	if _, err := p.AcceptVpcEndpointConnections(ctx(t), &ec2.AcceptVpcEndpointConnectionsInput{ServiceId: aws.String(svcID),
		VpcEndpointIds: []string{epID}}); err != nil {
		t.Fatal(err)
	}
	delivered()
	out := explainAs("delivered", 0, "✓ endpoint-ingress", fromClient, "✓ target-admission")
	t.Logf("explain, delivered:\n%s", out)

	t.Run("the consumer is not shown the provider's objects", func(t *testing.T) {
		js, errOut, status := s.explain(consumerAcct, append(flow, "--output", "json")...)
		if status != 0 {
			t.Fatalf("status %d: %s", status, errOut)
		}
		var res struct {
			Verdict string
			Steps   []struct{ Name, Status, Finding string }
		}
		if err := json.Unmarshal([]byte(js), &res); err != nil {
			t.Fatalf("--output json printed %q: %v", js, err)
		}
		if res.Verdict != "delivered" || len(res.Steps) != 9 {
			t.Fatalf("verdict %s after %d steps", res.Verdict, len(res.Steps))
		}
		for _, secret := range []string{*target.InstanceId, ssh, "plx-ssh", tgARN} {
			if strings.Contains(js, secret) {
				t.Errorf("the consumer is shown %s:\n%s", secret, js)
			}
		}
	})
	t.Run("the provider owns neither end", func(t *testing.T) {
		_, errOut, status := s.explain(bootstrap, flow...)
		if status != 2 || !strings.Contains(errOut, "InvalidInstanceID.NotFound") {
			t.Fatalf("status %d, stderr %q", status, errOut)
		}
	})
	t.Run("a source in another VPC", func(t *testing.T) {
		// The provider owns this source, so it may ask; the consumer's
		// endpoint is in another VPC, which it is not shown.
		out, errOut, status := s.explain(bootstrap, "--source", *target.InstanceId, "--endpoint", epID, "--port", "8022")
		if status != 1 || !strings.Contains(out, "✗ route") || !strings.Contains(out, "is in another VPC") || strings.Contains(out, cn.vpc) {
			t.Fatalf("status %d, stderr %q, output:\n%s", status, errOut, out)
		}
	})

	// The endpoint's group loses its rule: explain names the group, and
	// the flow is dropped.
	perm := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8022), ToPort: aws.Int32(8022),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String(clientCIDR)}}}}
	if _, err := c.RevokeSecurityGroupIngress(ctx(t), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(fromClient), IpPermissions: perm}); err != nil {
		t.Fatal(err)
	}
	explainAs("dropped (at endpoint-ingress)", 1, "✗ endpoint-ingress",
		fmt.Sprintf("endpoint %s security groups %s have no inbound rule admitting %s on tcp/8022", epID, fromClient, *client.PrivateIpAddress))
	dialFails("a timeout without the endpoint's rule", "timed out")
	if _, err := c.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(fromClient), IpPermissions: perm}); err != nil {
		t.Fatal(err)
	}
	delivered()
	explainAs("delivered", 0)

	// Every target leaves at once: the load balancer refuses new flows.
	if _, err := pelb.ModifyTargetGroupAttributes(ctx(t), &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("0")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pelb.DeregisterTargets(ctx(t), &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets}); err != nil {
		t.Fatal(err)
	}
	explainAs("refused (at targets)", 1, "✗ targets", "no target that can take new flows")
	dialFails("a reset without targets", "refused")

	// The provider rejects the endpoint: it carries nothing.
	if _, err := p.RejectVpcEndpointConnections(ctx(t), &ec2.RejectVpcEndpointConnectionsInput{ServiceId: aws.String(svcID),
		VpcEndpointIds: []string{epID}}); err != nil {
		t.Fatal(err)
	}
	explainAs("dropped (at endpoint-state)", 1, epID+" is rejected: not accepted")
	dialFails("a timeout after rejection", "timed out")
}
