package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// statusServer answers every HTTP request on port 8080 with the status
// written in a file (which the test changes) and its name as the body;
// its script goes in a third file.
// It reads the whole request first, so that closing never resets it.
const statusServer = `#!/bin/sh
cat > %[3]s <<'END'
#!/bin/sh
while read -r line; do
	case "$line" in "$(printf '\r')"|"") break ;; esac
done
printf 'HTTP/1.0 %%s X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n%%s\n' "$(cat %[1]s)" %[2]s
END
chmod +x %[3]s
socat TCP-LISTEN:8080,fork,reuseaddr EXEC:%[3]s &
`

// greetEchoOn is greetEcho on another port.
const greetEchoOn = "#!/bin/sh\nsocat TCP-LISTEN:%d,fork,reuseaddr SYSTEM:'echo %s; cat' &\n"

// TestTargetGroupsWithRealTraffic proves target group settings on real
// flows through an endpoint: HTTP health checks with a path and matcher
// take a failing target out of rotation, every target failing opens the
// group to all of them, and ip targets with their own ports get traffic.
func TestTargetGroupsWithRealTraffic(t *testing.T) {
	s := startServer(t)
	consumerAcct := s.createAccount()
	p, pelb, c := s.ec2(bootstrap), s.elb(bootstrap), s.ec2(consumerAcct)

	status := t.TempDir()
	setStatus := func(name, code string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(status, name), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setStatus("C", "200")
	setStatus("D", "200")

	pn := createNetwork(t, p, "10.0.0.0/16", "10.0.1.0/24")
	open := createGroup(t, p, pn.vpc, "from-vpc", 0, 65535, "10.0.0.0/16")
	cI := runInstance(t, p, pn.subnet, open, fmt.Sprintf(statusServer, filepath.Join(status, "C"), "C", filepath.Join(status, "C.sh")))
	dI := runInstance(t, p, pn.subnet, open, fmt.Sprintf(statusServer, filepath.Join(status, "D"), "D", filepath.Join(status, "D.sh")))
	aI := runInstance(t, p, pn.subnet, open, fmt.Sprintf(greetEchoOn, 22, "A"))
	bI := runInstance(t, p, pn.subnet, open, fmt.Sprintf(greetEchoOn, 2222, "B"))

	lb, err := pelb.CreateLoadBalancer(ctx(t), &elb.CreateLoadBalancerInput{Name: aws.String("targets"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{pn.subnet}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := *lb.LoadBalancers[0].LoadBalancerArn
	web, err := pelb.CreateTargetGroup(ctx(t), &elb.CreateTargetGroupInput{Name: aws.String("web"),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(8080), VpcId: aws.String(pn.vpc),
		HealthCheckProtocol: elbtypes.ProtocolEnumHttp, HealthCheckPath: aws.String("/health"),
		Matcher:                    &elbtypes.Matcher{HttpCode: aws.String("200")},
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	webARN := *web.TargetGroups[0].TargetGroupArn
	if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(webARN),
		Targets: []elbtypes.TargetDescription{{Id: cI.InstanceId}, {Id: dI.InstanceId}}}); err != nil {
		t.Fatal(err)
	}
	ipt, err := pelb.CreateTargetGroup(ctx(t), &elb.CreateTargetGroupInput{Name: aws.String("ips"),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(22), VpcId: aws.String(pn.vpc), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthyThresholdCount: aws.Int32(2), HealthCheckTimeoutSeconds: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	iptARN := *ipt.TargetGroups[0].TargetGroupArn
	// A on the group's port, B on a port of its own.
	if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(iptARN),
		Targets: []elbtypes.TargetDescription{{Id: aI.PrivateIpAddress}, {Id: bI.PrivateIpAddress, Port: aws.Int32(2222)}}}); err != nil {
		t.Fatal(err)
	}
	for port, tg := range map[int32]string{8080: webARN, 9022: iptARN} {
		if _, err := pelb.CreateListener(ctx(t), &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
			Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(port),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := p.CreateVpcEndpointServiceConfiguration(ctx(t), &ec2.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{lbARN}, AcceptanceRequired: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ModifyVpcEndpointServicePermissions(ctx(t), &ec2.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: svc.ServiceConfiguration.ServiceId, AddAllowedPrincipals: []string{"arn:aws:iam::" + consumerAcct.ID + ":root"}}); err != nil {
		t.Fatal(err)
	}

	cn := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	ci := runInstance(t, c, cn.subnet, "", "")
	toEndpoint := createGroup(t, c, cn.vpc, "to-endpoint", 0, 65535, "10.0.0.0/16")
	ep, err := c.CreateVpcEndpoint(ctx(t), &ec2.CreateVpcEndpointInput{VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		VpcId: aws.String(cn.vpc), ServiceName: svc.ServiceConfiguration.ServiceName, SubnetIds: []string{cn.subnet},
		SecurityGroupIds: []string{toEndpoint}})
	if err != nil {
		t.Fatal(err)
	}
	enis, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.VpcEndpoint.NetworkInterfaceIds})
	if err != nil {
		t.Fatal(err)
	}
	eniIP := netip.MustParseAddr(*enis.NetworkInterfaces[0].PrivateIpAddress)
	client := instanceNS(t, s, *ci.InstanceId)

	health := func(arn string) map[string]elbtypes.TargetHealth {
		t.Helper()
		out, err := pelb.DescribeTargetHealth(ctx(t), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]elbtypes.TargetHealth{}
		for _, d := range out.TargetHealthDescriptions {
			m[*d.Target.Id] = *d.TargetHealth
		}
		return m
	}
	// answers makes n HTTP requests through the endpoint and counts who
	// answered them.
	answers := func(n int) map[string]int {
		seen := map[string]int{}
		for range n {
			conn, r, err := dialFrom(client, netip.AddrPortFrom(eniIP, 8080))
			if err != nil {
				seen["error"]++
				continue
			}
			req, _ := http.NewRequest("GET", "/", nil)
			_ = req.Write(conn)
			resp, err := http.ReadResponse(r, req)
			if err != nil {
				conn.Close()
				seen["error"]++
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			conn.Close()
			seen[strings.TrimSpace(string(body))]++
		}
		return seen
	}
	eventually(t, "both web targets healthy", func() bool {
		h := health(webARN)
		return h[*cI.InstanceId].State == elbtypes.TargetHealthStateEnumHealthy && h[*dI.InstanceId].State == elbtypes.TargetHealthStateEnumHealthy
	})

	t.Run("a target failing its HTTP check leaves rotation", func(t *testing.T) {
		setStatus("C", "503")
		eventually(t, "C unhealthy", func() bool {
			h := health(webARN)[*cI.InstanceId]
			return h.State == elbtypes.TargetHealthStateEnumUnhealthy && h.Reason == elbtypes.TargetHealthReasonEnumResponseCodeMismatch
		})
		eventually(t, "new flows to D only", func() bool { return answers(10)["D"] == 10 })
	})

	t.Run("with every target failing, the group fails open", func(t *testing.T) {
		setStatus("D", "503")
		eventually(t, "D unhealthy", func() bool {
			return health(webARN)[*dI.InstanceId].State == elbtypes.TargetHealthStateEnumUnhealthy
		})
		eventually(t, "flows to both", func() bool {
			got := answers(16)
			return got["C"] > 0 && got["D"] > 0
		})
	})

	t.Run("the target comes back when it passes its checks again", func(t *testing.T) {
		setStatus("C", "200")
		eventually(t, "flows to C only", func() bool { return answers(10)["C"] == 10 })
	})

	t.Run("ip targets get traffic on their own ports", func(t *testing.T) {
		eventually(t, "ip targets healthy", func() bool {
			h := health(iptARN)
			return h[*aI.PrivateIpAddress].State == elbtypes.TargetHealthStateEnumHealthy &&
				h[*bI.PrivateIpAddress].State == elbtypes.TargetHealthStateEnumHealthy
		})
		seen := map[string]int{}
		eventually(t, "both ip targets answer", func() bool {
			conn, r, err := dialFrom(client, netip.AddrPortFrom(eniIP, 9022))
			if err != nil {
				return false
			}
			defer conn.Close()
			line, _ := bufio.NewReader(r).ReadString('\n')
			seen[strings.TrimSpace(line)]++
			return seen["A"] > 0 && seen["B"] > 0
		})
	})
}
