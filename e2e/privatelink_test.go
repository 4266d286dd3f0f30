package e2e

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// net is a VPC with one subnet.
type network struct{ vpc, subnet string }

func createNetwork(t *testing.T, c *ec2.Client, cidr, subnetCIDR string) network {
	t.Helper()
	vpc, err := c.CreateVpc(ctx(t), &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubnet(ctx(t), &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(subnetCIDR),
		AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	return network{vpc: *vpc.Vpc.VpcId, subnet: *sub.Subnet.SubnetId}
}

func createGroup(t *testing.T, c *ec2.Client, vpc, name string, from, to int32, cidr string) string {
	t.Helper()
	sg, err := c.CreateSecurityGroup(ctx(t), &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc),
		GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(from), ToPort: aws.Int32(to),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String(cidr)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return *sg.GroupId
}

// runInstance launches one instance and waits until it runs.
func runInstance(t *testing.T, c *ec2.Client, subnet, sg, userData string) ec2types.Instance {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet)}
	if sg != "" {
		in.SecurityGroupIds = []string{sg}
	}
	if userData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))
	}
	res, err := c.RunInstances(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	id := *res.Instances[0].InstanceId
	var inst ec2types.Instance
	eventually(t, "instance "+id+" running", func() bool {
		out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		inst = out.Reservations[0].Instances[0]
		return inst.State.Name == ec2types.InstanceStateNameRunning
	})
	return inst
}

const echoServer = "#!/bin/sh\nsocat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo %s $SOCAT_PEERADDR' &\n"

// TestPrivateLinkWithSDK is the seed scenario driven by the AWS SDK for Go v2
// against the real binary: a provider's NLB behind an endpoint service, a
// consumer in another account with the same CIDR, acceptance, traffic.
func TestPrivateLinkWithSDK(t *testing.T) {
	s := startServer(t)
	consumerAcct := s.createAccount()
	p, pelb, c := s.ec2(bootstrap), s.elb(bootstrap), s.ec2(consumerAcct)

	pn := createNetwork(t, p, "10.0.0.0/16", "10.0.1.0/24")
	ssh := createGroup(t, p, pn.vpc, "ssh-from-vpc", 22, 22, "10.0.0.0/16")
	a := runInstance(t, p, pn.subnet, ssh, fmt.Sprintf(echoServer, "A"))

	lb, err := pelb.CreateLoadBalancer(ctx(t), &elb.CreateLoadBalancerInput{Name: aws.String("maintenance"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{pn.subnet}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := *lb.LoadBalancers[0].LoadBalancerArn
	lbIP := *lb.LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].PrivateIPv4Address
	tg, err := pelb.CreateTargetGroup(ctx(t), &elb.CreateTargetGroupInput{Name: aws.String("ssh-a"),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(22), VpcId: aws.String(pn.vpc), TargetType: elbtypes.TargetTypeEnumInstance})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := *tg.TargetGroups[0].TargetGroupArn
	if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN),
		Targets: []elbtypes.TargetDescription{{Id: a.InstanceId}}}); err != nil {
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
	svcID, svcName := *svc.ServiceConfiguration.ServiceId, *svc.ServiceConfiguration.ServiceName
	if _, err := p.ModifyVpcEndpointServicePermissions(ctx(t), &ec2.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: aws.String(svcID), AddAllowedPrincipals: []string{"arn:aws:iam::" + consumerAcct.ID + ":root"}}); err != nil {
		t.Fatal(err)
	}

	cn := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	ci := runInstance(t, c, cn.subnet, "", "")
	fromC := createGroup(t, c, cn.vpc, "from-c", 8022, 8022, *ci.PrivateIpAddress+"/32")
	ep, err := c.CreateVpcEndpoint(ctx(t), &ec2.CreateVpcEndpointInput{VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		VpcId: aws.String(cn.vpc), ServiceName: aws.String(svcName), SubnetIds: []string{cn.subnet}, SecurityGroupIds: []string{fromC}})
	if err != nil {
		t.Fatal(err)
	}
	epID := *ep.VpcEndpoint.VpcEndpointId
	if got := string(ep.VpcEndpoint.State); got != "pendingAcceptance" {
		t.Fatalf("new endpoint state %q, want pendingAcceptance", got)
	}
	if _, err := p.AcceptVpcEndpointConnections(ctx(t), &ec2.AcceptVpcEndpointConnectionsInput{ServiceId: aws.String(svcID),
		VpcEndpointIds: []string{epID}}); err != nil {
		t.Fatal(err)
	}
	accepted := time.Now()
	var avail ec2types.VpcEndpoint
	eventually(t, "endpoint available", func() bool {
		out, err := c.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{epID}})
		if err != nil {
			t.Fatal(err)
		}
		avail = out.VpcEndpoints[0]
		return string(avail.State) == "available"
	})
	t.Logf("endpoint available %v after accept returned", time.Since(accepted).Round(time.Millisecond))
	regional := regexp.MustCompile(`^` + epID + `-[a-z0-9]{8}\.` + svcID + `\.us-east-1\.vpce\.amazonaws\.com$`)
	if len(avail.DnsEntries) == 0 || !regional.MatchString(*avail.DnsEntries[0].DnsName) {
		t.Fatalf("DnsEntries %v: want a regional name like %s", avail.DnsEntries, regional)
	}
	enis, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: avail.NetworkInterfaceIds})
	if err != nil {
		t.Fatal(err)
	}
	eniIP := *enis.NetworkInterfaces[0].PrivateIpAddress
	if !strings.HasPrefix(eniIP, "10.0.1.") || *enis.NetworkInterfaces[0].SubnetId != cn.subnet {
		t.Fatalf("endpoint interface %s in %s, want an address of %s", eniIP, *enis.NetworkInterfaces[0].SubnetId, cn.subnet)
	}

	out, errOut, status := s.exec(consumerAcct, *ci.InstanceId, "nc", "-v", "-w", "3", eniIP, "8022")
	if want := "A " + lbIP; status != 0 || out != want {
		t.Fatalf("C → endpoint:8022 = %q (status %d, %s), want %q", out, status, errOut, want)
	}

	t.Run("exec passes status and output through", func(t *testing.T) {
		out, errOut, status := s.exec(consumerAcct, *ci.InstanceId, "sh", "-c", "echo out; echo err >&2; exit 7")
		if status != 7 || strings.TrimSpace(out) != "out" || strings.TrimSpace(errOut) != "err" {
			t.Fatalf("status %d stdout %q stderr %q", status, out, errOut)
		}
	})
	t.Run("exec refuses another account's instance", func(t *testing.T) {
		_, errOut, status := s.exec(bootstrap, *ci.InstanceId, "true")
		if status == 0 || !strings.Contains(errOut, "InvalidInstanceID.NotFound") {
			t.Fatalf("status %d stderr %q", status, errOut)
		}
	})
	t.Run("accounts see only their own resources", func(t *testing.T) {
		vpcs, err := c.DescribeVpcs(ctx(t), &ec2.DescribeVpcsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(vpcs.Vpcs) != 1 || *vpcs.Vpcs[0].VpcId != cn.vpc {
			t.Fatalf("consumer sees VPCs %v", vpcs.Vpcs)
		}
	})
}

// TestServersSideBySide runs two servers with different data dirs and listen
// addresses: each keeps its own state and its own lab, and cleaning one lab
// leaves the other working.
func TestServersSideBySide(t *testing.T) {
	one, two := startServer(t), startServer(t)
	var instances []ec2types.Instance
	for _, s := range []*server{one, two} {
		c := s.ec2(bootstrap)
		n := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
		instances = append(instances, runInstance(t, c, n.subnet, "", ""))
		vpcs, err := c.DescribeVpcs(ctx(t), &ec2.DescribeVpcsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(vpcs.Vpcs) != 1 {
			t.Fatalf("server %s has %d VPCs, want only its own", s.addr, len(vpcs.Vpcs))
		}
	}
	if out, err := execCommand(bin, "lab", "clean", "--data-dir", two.dataDir); err != nil {
		t.Fatalf("lab clean: %v: %s", err, out)
	}
	out, errOut, status := one.exec(bootstrap, *instances[0].InstanceId, "ip", "-4", "-o", "addr", "show", "eth0")
	if status != 0 || !strings.Contains(out, *instances[0].PrivateIpAddress+"/24") {
		t.Fatalf("server one's instance after cleaning server two's lab: status %d out %q err %q", status, out, errOut)
	}
}
