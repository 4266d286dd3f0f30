package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// dnsServer is a server with its public resolver on a port of its own.
type dnsServer struct {
	*server
	dns string // the public resolver's address
}

// startDNSServer starts privlink with --dns-listen on a free loopback port
// and a data dir named pld-dns-…, and removes its lab when the test ends.
func startDNSServer(t *testing.T) *dnsServer {
	t.Helper()
	dns := freeAddr(t, "udp")
	return &dnsServer{server: startServerWith(t, "pld-dns-", "--dns-listen", dns), dns: dns}
}

func (s *dnsServer) r53(a account) *route53.Client { return route53.NewFromConfig(s.config(a)) }

// dig asks a name with `dig +short` inside an instance and returns the
// answer's lines, sorted.
func (s *dnsServer) dig(t *testing.T, a account, instanceID, name string) []string {
	t.Helper()
	out, errOut, code := s.exec(a, instanceID, "dig", "+short", "+time=2", "+tries=2", name)
	if code != 0 {
		t.Fatalf("dig %s in %s: status %d: %s %s", name, instanceID, code, out, errOut)
	}
	return dnsLines(out)
}

// digStatus is the status of an answer in an instance (NOERROR, NXDOMAIN, …).
func (s *dnsServer) digStatus(t *testing.T, a account, instanceID, name string) string {
	t.Helper()
	out, errOut, code := s.exec(a, instanceID, "dig", "+time=2", "+tries=2", name)
	if code != 0 {
		t.Fatalf("dig %s in %s: status %d: %s %s", name, instanceID, code, out, errOut)
	}
	return dnsStatusOf(out)
}

// digPublic asks the public resolver from the host: +short lines and the
// status.
func (s *dnsServer) digPublic(t *testing.T, name string) ([]string, string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.dns)
	out, err := exec.Command("dig", "@"+host, "-p", port, "+time=2", "+tries=2", name).CombinedOutput()
	if err != nil {
		t.Fatalf("dig @%s %s: %v: %s", s.dns, name, err, out)
	}
	short, err := exec.Command("dig", "@"+host, "-p", port, "+short", "+time=2", "+tries=2", name).CombinedOutput()
	if err != nil {
		t.Fatalf("dig @%s +short %s: %v: %s", s.dns, name, err, short)
	}
	return dnsLines(string(short)), dnsStatusOf(string(out))
}

func dnsLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

func dnsStatusOf(digOutput string) string {
	_, rest, ok := strings.Cut(digOutput, "status: ")
	if !ok {
		return "no status in: " + digOutput
	}
	status, _, _ := strings.Cut(rest, ",")
	return status
}

// TestDNS is the DNS of issue 5 end to end, through the AWS SDK against
// the real binary, with dig inside lab instances and against the public
// resolver: endpoint names everywhere, a service's private DNS name only in
// the consumer VPC whose endpoint enables it, a private hosted zone's CNAME
// to the endpoint (and a connection by that name), EC2's instance names,
// NXDOMAIN for the rest, user data using the VPC resolver, and the same
// answers after a server restart.
func TestDNS(t *testing.T) {
	s := startDNSServer(t)
	consumerAcct := s.createAccount()
	p, pelb, pr53 := s.ec2(bootstrap), s.elb(bootstrap), s.r53(bootstrap)
	c, cr53 := s.ec2(consumerAcct), s.r53(consumerAcct)

	// The provider: an echo server behind an NLB in two zones, offered as
	// a service with the private DNS name api.example.com, verified through
	// a TXT record in the provider's public zone example.com, which also
	// has the service's public address.
	pvpc := createNetwork(t, p, "10.0.0.0/16", "10.0.1.0/24")
	psub2 := dnsSubnet(t, p, pvpc.vpc, "10.0.2.0/24", "us-east-1b")
	echo := runInstance(t, p, pvpc.subnet, createGroup(t, p, pvpc.vpc, "ssh-from-vpc", 22, 22, "10.0.0.0/16"), fmt.Sprintf(echoServer, "A"))
	lb, err := pelb.CreateLoadBalancer(ctx(t), &elb.CreateLoadBalancerInput{Name: aws.String("api"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{pvpc.subnet, psub2}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := *lb.LoadBalancers[0].LoadBalancerArn
	tg, err := pelb.CreateTargetGroup(ctx(t), &elb.CreateTargetGroupInput{Name: aws.String("echo"),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(22), VpcId: aws.String(pvpc.vpc), TargetType: elbtypes.TargetTypeEnumInstance})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := *tg.TargetGroups[0].TargetGroupArn
	if _, err := pelb.RegisterTargets(ctx(t), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN),
		Targets: []elbtypes.TargetDescription{{Id: echo.InstanceId}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pelb.CreateListener(ctx(t), &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(8022),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}}); err != nil {
		t.Fatal(err)
	}
	svc, err := p.CreateVpcEndpointServiceConfiguration(ctx(t), &ec2.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{lbARN}, AcceptanceRequired: aws.Bool(false), PrivateDnsName: aws.String("api.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	svcID, svcName := *svc.ServiceConfiguration.ServiceId, *svc.ServiceConfiguration.ServiceName
	proof := svc.ServiceConfiguration.PrivateDnsNameConfiguration
	if proof == nil || proof.Name == nil || proof.Value == nil {
		t.Fatalf("no PrivateDnsNameConfiguration in %+v", svc.ServiceConfiguration)
	}
	zone, err := pr53.CreateHostedZone(ctx(t), &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("dns-e2e-public")})
	if err != nil {
		t.Fatal(err)
	}
	dnsChange(t, pr53, *zone.HostedZone.Id,
		dnsRecord(*proof.Name+".api.example.com", r53types.RRTypeTxt, `"`+*proof.Value+`"`),
		dnsRecord("api.example.com", r53types.RRTypeA, "203.0.113.20"),
		dnsRecord("www.example.com", r53types.RRTypeA, "203.0.113.10"))
	if _, err := p.StartVpcEndpointServicePrivateDnsVerification(ctx(t), &ec2.StartVpcEndpointServicePrivateDnsVerificationInput{
		ServiceId: aws.String(svcID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ModifyVpcEndpointServicePermissions(ctx(t), &ec2.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: aws.String(svcID), AddAllowedPrincipals: []string{"arn:aws:iam::" + consumerAcct.ID + ":root"}}); err != nil {
		t.Fatal(err)
	}

	// The consumer: a VPC with the provider's CIDR, DNS hostnames on (as
	// private DNS and private zones need), an endpoint in two zones with
	// private DNS, a private zone with a friendly name for it, and another
	// VPC that has none of it.
	cvpc := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	csub2 := dnsSubnet(t, c, cvpc.vpc, "10.0.2.0/24", "us-east-1b")
	ovpc := createNetwork(t, c, "10.1.0.0/16", "10.1.1.0/24")
	for _, v := range []string{cvpc.vpc, ovpc.vpc} {
		if _, err := c.ModifyVpcAttribute(ctx(t), &ec2.ModifyVpcAttributeInput{VpcId: aws.String(v),
			EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			t.Fatal(err)
		}
	}
	ep, err := c.CreateVpcEndpoint(ctx(t), &ec2.CreateVpcEndpointInput{VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		VpcId: aws.String(cvpc.vpc), ServiceName: aws.String(svcName), SubnetIds: []string{cvpc.subnet, csub2},
		SecurityGroupIds:  []string{createGroup(t, c, cvpc.vpc, "to-endpoint", 8022, 8022, "10.0.0.0/16")},
		PrivateDnsEnabled: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	epID := *ep.VpcEndpoint.VpcEndpointId
	var avail ec2types.VpcEndpoint
	eventually(t, "endpoint available", func() bool {
		out, err := c.DescribeVpcEndpoints(ctx(t), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{epID}})
		if err != nil {
			t.Fatal(err)
		}
		avail = out.VpcEndpoints[0]
		return string(avail.State) == "available" // the SDK's StateAvailable is "Available"
	})
	enis, err := c.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: avail.NetworkInterfaceIds})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	byZone := map[string][]string{}
	for _, eni := range enis.NetworkInterfaces {
		all = append(all, *eni.PrivateIpAddress)
		byZone[*eni.AvailabilityZone] = append(byZone[*eni.AvailabilityZone], *eni.PrivateIpAddress)
	}
	slices.Sort(all)
	names := map[string]string{} // "regional", "us-east-1a", "us-east-1b", "private" → DNS name
	for _, d := range avail.DnsEntries {
		switch n := *d.DnsName; {
		case n == "api.example.com":
			names["private"] = n
		case strings.Contains(n, "-us-east-1a."):
			names["us-east-1a"] = n
		case strings.Contains(n, "-us-east-1b."):
			names["us-east-1b"] = n
		default:
			names["regional"] = n
		}
	}
	if len(names) != 4 || len(all) != 2 || len(byZone) != 2 {
		t.Fatalf("endpoint DnsEntries %v, interfaces %v", names, byZone)
	}
	pzone, err := cr53.CreateHostedZone(ctx(t), &route53.CreateHostedZoneInput{Name: aws.String("internal.example"),
		CallerReference:  aws.String("dns-e2e-private"),
		HostedZoneConfig: &r53types.HostedZoneConfig{PrivateZone: true},
		VPC:              &r53types.VPC{VPCId: aws.String(cvpc.vpc), VPCRegion: r53types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	dnsChange(t, cr53, *pzone.HostedZone.Id, dnsRecord("api.internal.example", r53types.RRTypeCname, names["regional"]))

	ci := runInstance(t, c, cvpc.subnet, "", "")
	oi := runInstance(t, c, ovpc.subnet, "", "")
	// User data looks the friendly name up the moment the instance starts.
	ui := runInstance(t, c, csub2, "", "#!/bin/sh\ndig +short +time=2 +tries=2 api.internal.example\n")
	ciName := "ip-" + strings.ReplaceAll(*ci.PrivateIpAddress, ".", "-") + ".ec2.internal"
	cname := append([]string{names["regional"] + "."}, all...)
	slices.Sort(cname)

	type check struct {
		where, name string
		want        []string // +short lines, sorted
		status      string   // when want is nil
	}
	checks := []check{
		{"consumer", names["regional"], all, ""},
		{"consumer", names["us-east-1a"], byZone["us-east-1a"], ""},
		{"consumer", names["us-east-1b"], byZone["us-east-1b"], ""},
		{"consumer", "api.example.com", all, ""},
		{"consumer", "api.internal.example", cname, ""},
		{"consumer", ciName, []string{*ci.PrivateIpAddress}, ""},
		{"consumer", "www.example.com", []string{"203.0.113.10"}, ""},
		{"consumer", "nothing.invalid", nil, "NXDOMAIN"},
		{"consumer", "nope.internal.example", nil, "NXDOMAIN"},
		{"other VPC", names["regional"], all, ""},
		{"other VPC", "api.example.com", []string{"203.0.113.20"}, ""},
		{"other VPC", "api.internal.example", nil, "NXDOMAIN"},
		{"other VPC", ciName, nil, "NXDOMAIN"},
		{"public", names["regional"], all, ""},
		{"public", names["us-east-1b"], byZone["us-east-1b"], ""},
		{"public", "api.example.com", []string{"203.0.113.20"}, ""},
		{"public", "api.internal.example", nil, "NXDOMAIN"},
		{"public", ciName, nil, "NXDOMAIN"},
		{"public", "nothing.invalid", nil, "NXDOMAIN"},
	}
	ask := func(t *testing.T, c check) ([]string, string) {
		switch c.where {
		case "consumer", "other VPC":
			inst := *ci.InstanceId
			if c.where == "other VPC" {
				inst = *oi.InstanceId
			}
			if c.want == nil {
				return nil, s.digStatus(t, consumerAcct, inst, c.name)
			}
			return s.dig(t, consumerAcct, inst, c.name), "NOERROR"
		default:
			return s.digPublic(t, c.name)
		}
	}
	verify := func(t *testing.T) {
		for _, c := range checks {
			t.Run(c.where+" "+c.name, func(t *testing.T) {
				got, status := ask(t, c)
				switch {
				case c.want == nil && status != c.status:
					t.Errorf("status %s, want %s", status, c.status)
				case c.want != nil && !slices.Equal(got, c.want):
					t.Errorf("got %q, want %q", got, c.want)
				}
			})
		}
	}

	t.Run("resolv.conf points at the VPC resolver", func(t *testing.T) {
		for inst, want := range map[string]string{*ci.InstanceId: "nameserver 10.0.0.2", *oi.InstanceId: "nameserver 10.1.0.2"} {
			out, _, code := s.exec(consumerAcct, inst, "cat", "/etc/resolv.conf")
			if code != 0 || strings.TrimSpace(out) != want {
				t.Errorf("%s: resolv.conf %q (status %d), want %q", inst, out, code, want)
			}
		}
	})
	t.Run("answers", verify)
	t.Run("user data uses the VPC resolver", func(t *testing.T) {
		console := filepath.Join(s.dataDir, "lab", "instances", *ui.InstanceId, "console.log")
		var got []string
		eventually(t, "user data's dig output", func() bool {
			b, _ := os.ReadFile(console)
			got = dnsLines(string(b))
			return len(got) >= len(cname)
		})
		if !slices.Equal(got, cname) {
			t.Errorf("user data printed %q, want %q", got, cname)
		}
	})
	t.Run("a connection by the friendly name reaches the service", func(t *testing.T) {
		for _, name := range []string{"api.internal.example", "api.example.com"} {
			out, errOut, code := s.exec(consumerAcct, *ci.InstanceId, "nc", "-w", "3", name, "8022")
			if code != 0 || !strings.HasPrefix(out, "A ") {
				t.Errorf("nc %s 8022: %q (status %d, %s), want the echo server's greeting", name, out, code, errOut)
			}
		}
	})

	t.Run("a restart loses nothing", func(t *testing.T) {
		s.stop(syscall.SIGTERM)
		s.start()
		eventually(t, "the consumer's resolver answering again", func() bool {
			out, _, code := s.exec(consumerAcct, *ci.InstanceId, "dig", "+short", "+time=1", "+tries=1", "api.internal.example")
			return code == 0 && slices.Equal(dnsLines(out), cname)
		})
		verify(t)
	})
}

func dnsSubnet(t *testing.T, c *ec2.Client, vpc, cidr, zone string) string {
	t.Helper()
	sub, err := c.CreateSubnet(ctx(t), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	return *sub.Subnet.SubnetId
}

func dnsRecord(name string, typ r53types.RRType, value string) r53types.Change {
	return r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
		Name: aws.String(name), Type: typ, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(value)}}}}
}

func dnsChange(t *testing.T, c *route53.Client, zoneID string, changes ...r53types.Change) {
	t.Helper()
	if _, err := c.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
		ChangeBatch: &r53types.ChangeBatch{Changes: changes}}); err != nil {
		t.Fatal(err)
	}
}
