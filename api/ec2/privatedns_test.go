package ec2_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/internal/testserver"
)

// privateDNSWorld is a provider with a load balancer in us-east-1a and
// us-east-1b and a spare one, and a consumer VPC with DNS hostnames on and
// a subnet in us-east-1a.
type privateDNSWorld struct {
	nlb, spare     core.LoadBalancer
	consumerVPC    string
	consumerSubnet string
	secondVPC      string
	secondSubnet   string
	publicZoneID   string
}

func newPrivateDNSWorld(t testing.TB, cloud *core.Cloud, consumer core.Caller) privateDNSWorld {
	t.Helper()
	ctx := context.Background()
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpc := func(caller core.Caller, prefix string) (string, string) {
		v, err := cloud.CreateVpc(ctx, caller, core.CreateVpcInput{CidrBlock: prefix + ".0.0/16"})
		ok(err)
		s, err := cloud.CreateSubnet(ctx, caller, core.CreateSubnetInput{VpcID: v.ID, CidrBlock: prefix + ".1.0/24", AvailabilityZone: "us-east-1a"})
		ok(err)
		return v.ID, s.ID
	}
	provVPC, provA := vpc(bootstrap, "10.0")
	provB, err := cloud.CreateSubnet(ctx, bootstrap, core.CreateSubnetInput{VpcID: provVPC, CidrBlock: "10.0.2.0/24", AvailabilityZone: "us-east-1b"})
	ok(err)
	var w privateDNSWorld
	w.nlb = newNLB(t, cloud, bootstrap, "pdns-nlb", provA, provB.ID)
	w.spare = newNLB(t, cloud, bootstrap, "pdns-spare", provB.ID)
	w.consumerVPC, w.consumerSubnet = vpc(consumer, "10.1")
	w.secondVPC, w.secondSubnet = vpc(consumer, "10.2")
	for _, id := range []string{w.consumerVPC, w.secondVPC} {
		ok(cloud.ModifyVpcAttribute(ctx, consumer, core.ModifyVpcAttributeInput{VpcID: id, EnableDNSHostnames: new(true)}))
	}
	z, _, err := cloud.CreateHostedZone(ctx, bootstrap, core.CreateHostedZoneInput{Name: "example.com", CallerReference: "pdns-public"})
	ok(err)
	w.publicZoneID = z.ID
	_, _, err = cloud.CreateHostedZone(ctx, consumer, core.CreateHostedZoneInput{Name: "api.example.com", CallerReference: "pdns-private",
		PrivateZone: true, VPC: &core.ZoneVPC{VpcID: w.secondVPC}})
	ok(err)
	return w
}

// publishTXT puts the TXT record of a service's private DNS name
// verification in the provider's public zone, as the provider would
// through Route 53.
func publishTXT(t testing.TB, cloud *core.Cloud, zoneID, serviceID string) {
	t.Helper()
	ctx := context.Background()
	svcs, err := cloud.DescribeVpcEndpointServiceConfigurations(ctx, bootstrap, []string{serviceID})
	if err != nil {
		t.Fatal(err)
	}
	c := svcs[0].PrivateDNSNameConfiguration
	ttl := int64(1800)
	_, err = cloud.ChangeResourceRecordSets(ctx, bootstrap, core.ChangeResourceRecordSetsInput{HostedZoneID: zoneID, Changes: []core.RecordSetChange{
		{Action: "UPSERT", Set: core.RecordSetInput{Name: c.Name + ".example.com", Type: "TXT", TTL: &ttl, Records: []string{`"` + c.Value + `"`}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHandlerGoldenPrivateDNS runs a service's private DNS name through the
// handler, from creation to verification and a consumer's endpoint, and
// compares every answer with testdata/privatedns/<NN>-<name>.xml (go test
// -update rewrites them).
func TestHandlerGoldenPrivateDNS(t *testing.T) {
	cloud := newCloud(t)
	consumer := core.Caller{AccountID: newAccount(t, cloud).Account.ID}
	w := newPrivateDNSWorld(t, cloud, consumer)
	h := ec2.New(cloud, nil)
	v := map[string]string{
		"nlb": w.nlb.ARN, "spare": w.spare.ARN, "consumerAccount": consumer.AccountID,
		"cvpc": w.consumerVPC, "csubnet": w.consumerSubnet, "svpc": w.secondVPC, "ssubnet": w.secondSubnet,
	}
	steps := []goldenStep{
		{name: "CreateVpcEndpointServiceConfiguration", as: "provider", status: 200,
			save: map[string]string{"service": "serviceId", "serviceName": "serviceName"},
			form: "Action=CreateVpcEndpointServiceConfiguration&NetworkLoadBalancerArn.1={nlb}&PrivateDnsName=api.example.com"},
		{name: "ModifyVpcEndpointServicePermissions", as: "provider", status: 200,
			form: "Action=ModifyVpcEndpointServicePermissions&ServiceId={service}&AddAllowedPrincipals.1=arn:aws:iam::{consumerAccount}:root"},
		{name: "DescribeVpcEndpointServices-pending", as: "consumer", status: 200, form: "Action=DescribeVpcEndpointServices&ServiceName.1={serviceName}"},
		{name: "CreateVpcEndpoint-unverified", as: "consumer", status: 400,
			form: "Action=CreateVpcEndpoint&VpcEndpointType=Interface&VpcId={cvpc}&ServiceName={serviceName}&SubnetId.1={csubnet}&PrivateDnsEnabled=true"},
		{name: "StartVpcEndpointServicePrivateDnsVerification-absent", as: "provider", status: 200,
			form: "Action=StartVpcEndpointServicePrivateDnsVerification&ServiceId={service}"},
		{name: "DescribeVpcEndpointServiceConfigurations-failed", as: "provider", status: 200,
			form: "Action=DescribeVpcEndpointServiceConfigurations&ServiceId.1={service}"},
		{name: "StartVpcEndpointServicePrivateDnsVerification", as: "provider", status: 200,
			before: func(t *testing.T, v map[string]string) { publishTXT(t, cloud, w.publicZoneID, v["service"]) },
			form:   "Action=StartVpcEndpointServicePrivateDnsVerification&ServiceId={service}"},
		{name: "DescribeVpcEndpointServiceConfigurations-verified", as: "provider", status: 200,
			form: "Action=DescribeVpcEndpointServiceConfigurations&ServiceId.1={service}"},
		{name: "DescribeVpcEndpointServices-verified", as: "consumer", status: 200, form: "Action=DescribeVpcEndpointServices&ServiceName.1={serviceName}"},
		{name: "StartVpcEndpointServicePrivateDnsVerification-consumer", as: "consumer", status: 400,
			form: "Action=StartVpcEndpointServicePrivateDnsVerification&ServiceId={service}"},
		{name: "CreateVpcEndpoint", as: "consumer", status: 200, save: map[string]string{"endpoint": "vpcEndpointId"},
			form: "Action=CreateVpcEndpoint&VpcEndpointType=Interface&VpcId={cvpc}&ServiceName={serviceName}&SubnetId.1={csubnet}"},
		{name: "CreateVpcEndpoint-conflict", as: "consumer", status: 400,
			form: "Action=CreateVpcEndpoint&VpcEndpointType=Interface&VpcId={cvpc}&ServiceName={serviceName}&SubnetId.1={csubnet}&PrivateDnsEnabled=true"},
		{name: "CreateVpcEndpoint-private-zone", as: "consumer", status: 400,
			form: "Action=CreateVpcEndpoint&VpcEndpointType=Interface&VpcId={svpc}&ServiceName={serviceName}&SubnetId.1={ssubnet}"},
		{name: "DescribeVpcEndpoints", as: "consumer", status: 200, form: "Action=DescribeVpcEndpoints&VpcEndpointId.1={endpoint}"},
		{name: "ModifyVpcEndpointServiceConfiguration-remove-nlb", as: "provider", status: 400,
			form: "Action=ModifyVpcEndpointServiceConfiguration&ServiceId={service}&RemoveNetworkLoadBalancerArn.1={nlb}&AddNetworkLoadBalancerArn.1={spare}"},
		{name: "ModifyVpcEndpointServiceConfiguration-name-and-remove", as: "provider", status: 400,
			form: "Action=ModifyVpcEndpointServiceConfiguration&ServiceId={service}&PrivateDnsName=b.example.com&RemovePrivateDnsName=true"},
		{name: "ModifyVpcEndpointServiceConfiguration", as: "provider", status: 200,
			form: "Action=ModifyVpcEndpointServiceConfiguration&ServiceId={service}&PrivateDnsName=v2.api.example.com&AcceptanceRequired=true" +
				"&AddNetworkLoadBalancerArn.1={spare}&AddSupportedIpAddressType.1=ipv4"},
		{name: "DescribeVpcEndpointServiceConfigurations-modified", as: "provider", status: 200,
			form: "Action=DescribeVpcEndpointServiceConfigurations&ServiceId.1={service}"},
		{name: "DescribeVpcEndpoints-unverified", as: "consumer", status: 200, form: "Action=DescribeVpcEndpoints&VpcEndpointId.1={endpoint}"},
		{name: "ModifyVpcEndpointServiceConfiguration-remove-name", as: "provider", status: 200,
			form: "Action=ModifyVpcEndpointServiceConfiguration&ServiceId={service}&RemovePrivateDnsName=true"},
		{name: "StartVpcEndpointServicePrivateDnsVerification-no-name", as: "provider", status: 400,
			form: "Action=StartVpcEndpointServicePrivateDnsVerification&ServiceId={service}"},
		{name: "DescribeVpcEndpointServices-no-name", as: "consumer", status: 200, form: "Action=DescribeVpcEndpointServices&ServiceName.1={serviceName}"},
	}
	runGolden(t, h, map[string]core.Caller{"provider": bootstrap, "consumer": consumer}, v, "privatedns", steps)
}

// TestPrivateDNSSDK runs the private DNS story with the AWS SDK for Go v2
// against the whole in-process control plane: the provider's service
// through ELBv2 and EC2, its proof through Route 53, and a consumer's
// endpoints, with the conflicts AWS refuses.
func TestPrivateDNSSDK(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	cons := s.NewAccount(t)
	p := sdk.NewFromConfig(s.AWSConfig(testserver.Bootstrap))
	pelb := elb.NewFromConfig(s.AWSConfig(testserver.Bootstrap))
	r53cfg := s.AWSConfig(testserver.Bootstrap)
	// The SDK closes request bodies early (aws-sdk-go-v2 issue 2737).
	r53cfg.HTTPClient = &http.Client{Transport: querytest.BufferBodies(http.DefaultTransport)}
	pr53 := r53.NewFromConfig(r53cfg)
	c := sdk.NewFromConfig(s.AWSConfig(cons))

	network := func(cl *sdk.Client, prefix string, zones ...string) (string, []string) {
		t.Helper()
		vpc := must(cl.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String(prefix + ".0.0/16")}))(t).Vpc
		var subnets []string
		for i, z := range zones {
			sub := must(cl.CreateSubnet(ctx, &sdk.CreateSubnetInput{VpcId: vpc.VpcId, AvailabilityZone: aws.String(z),
				CidrBlock: aws.String(prefix + "." + string(rune('1'+i)) + ".0/24")}))(t).Subnet
			subnets = append(subnets, aws.ToString(sub.SubnetId))
		}
		return aws.ToString(vpc.VpcId), subnets
	}
	nlb := func(name string, subnets []string) string {
		t.Helper()
		lb := must(pelb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name),
			Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: subnets}))(t).LoadBalancers[0]
		return aws.ToString(lb.LoadBalancerArn)
	}
	config := func(id string) types.ServiceConfiguration {
		t.Helper()
		return must(p.DescribeVpcEndpointServiceConfigurations(ctx, &sdk.DescribeVpcEndpointServiceConfigurationsInput{ServiceIds: []string{id}}))(t).ServiceConfigurations[0]
	}
	verify := func(id string) types.DnsNameState {
		t.Helper()
		out := must(p.StartVpcEndpointServicePrivateDnsVerification(ctx, &sdk.StartVpcEndpointServicePrivateDnsVerificationInput{ServiceId: aws.String(id)}))(t)
		if !aws.ToBool(out.ReturnValue) {
			t.Fatalf("StartVpcEndpointServicePrivateDnsVerification returned %v", out.ReturnValue)
		}
		return config(id).PrivateDnsNameConfiguration.State
	}
	publish := func(zoneID string, cfg *types.PrivateDnsNameConfiguration, domain string) {
		t.Helper()
		must(pr53.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
			ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert,
				ResourceRecordSet: &r53types.ResourceRecordSet{
					Name: aws.String(aws.ToString(cfg.Name) + "." + domain), Type: r53types.RRTypeTxt, TTL: aws.Int64(1800),
					ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"` + aws.ToString(cfg.Value) + `"`)}}}}}}}))(t)
	}

	// The provider: two services with one private DNS name, and a public
	// zone for its domain.
	_, provSubnets := network(p, "10.0", "us-east-1a", "us-east-1b")
	lbA, lbB, spare := nlb("pdns-a", provSubnets), nlb("pdns-b", provSubnets), nlb("pdns-spare", provSubnets[1:])
	created := must(p.CreateVpcEndpointServiceConfiguration(ctx, &sdk.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{lbA}, PrivateDnsName: aws.String("api.example.com")}))(t).ServiceConfiguration
	svcA := aws.ToString(created.ServiceId)
	pdc := created.PrivateDnsNameConfiguration
	if aws.ToString(created.PrivateDnsName) != "api.example.com" || pdc == nil || pdc.State != types.DnsNameStatePendingVerification ||
		aws.ToString(pdc.Type) != "TXT" || !strings.HasPrefix(aws.ToString(pdc.Name), "_") || !strings.HasPrefix(aws.ToString(pdc.Value), "vpce:") {
		t.Fatalf("created %q %+v", aws.ToString(created.PrivateDnsName), pdc)
	}
	svcB := aws.ToString(must(p.CreateVpcEndpointServiceConfiguration(ctx, &sdk.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{lbB}, PrivateDnsName: aws.String("api.example.com")}))(t).ServiceConfiguration.ServiceId)
	for _, id := range []string{svcA, svcB} {
		must(p.ModifyVpcEndpointServicePermissions(ctx, &sdk.ModifyVpcEndpointServicePermissionsInput{ServiceId: aws.String(id),
			AddAllowedPrincipals: []string{"arn:aws:iam::" + cons.ID + ":root"}}))(t)
	}
	zone := must(pr53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("pdns")}))(t).HostedZone
	zoneID := aws.ToString(zone.Id)[strings.LastIndexByte(aws.ToString(zone.Id), '/')+1:]

	if got := verify(svcA); got != types.DnsNameStateFailed {
		t.Errorf("without the TXT record: %s", got)
	}
	publish(zoneID, pdc, "example.com")
	if got := verify(svcA); got != types.DnsNameStateVerified {
		t.Fatalf("with the TXT record: %s", got)
	}
	publish(zoneID, config(svcB).PrivateDnsNameConfiguration, "api.example.com")
	if got := verify(svcB); got != types.DnsNameStateVerified {
		t.Fatalf("second service: %s", got)
	}

	// The consumer sees the verified name.
	names := func(id string) string {
		svcs := must(c.DescribeVpcEndpointServices(ctx, &sdk.DescribeVpcEndpointServicesInput{}))(t)
		for _, d := range svcs.ServiceDetails {
			if aws.ToString(d.ServiceId) == id {
				return aws.ToString(d.PrivateDnsName) + " " + string(d.PrivateDnsNameVerificationState) + " " + aws.ToString(d.PrivateDnsNames[0].PrivateDnsName)
			}
		}
		return "not listed"
	}
	if got := names(svcA); got != "api.example.com verified api.example.com" {
		t.Errorf("consumer's view: %s", got)
	}

	// The consumer's endpoints: without DNS hostnames private DNS fails.
	cvpc, csubs := network(c, "10.1", "us-east-1a", "us-east-1b")
	svcName := aws.ToString(config(svcA).ServiceName)
	endpoint := func(vpc, subnet, service string, privateDNS *bool) (*sdk.CreateVpcEndpointOutput, error) {
		return c.CreateVpcEndpoint(ctx, &sdk.CreateVpcEndpointInput{VpcEndpointType: types.VpcEndpointTypeInterface, VpcId: aws.String(vpc),
			ServiceName: aws.String(service), SubnetIds: []string{subnet}, PrivateDnsEnabled: privateDNS})
	}
	_, err := endpoint(cvpc, csubs[0], svcName, nil)
	wantAPIError(t, "private DNS without DNS hostnames", err, "InvalidParameter", 400)
	must(c.ModifyVpcAttribute(ctx, &sdk.ModifyVpcAttributeInput{VpcId: aws.String(cvpc), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))(t)
	ep := must(endpoint(cvpc, csubs[0], svcName, nil))(t).VpcEndpoint
	entries := ep.DnsEntries
	if !aws.ToBool(ep.PrivateDnsEnabled) || len(entries) != 3 || aws.ToString(entries[2].DnsName) != "api.example.com" ||
		!vpceDNSName.MatchString(aws.ToString(entries[0].DnsName)) {
		t.Errorf("endpoint with private DNS: %v %+v", aws.ToBool(ep.PrivateDnsEnabled), entries)
	}
	waitFor(t, "endpoint available", func() bool {
		out := must(c.DescribeVpcEndpoints(ctx, &sdk.DescribeVpcEndpointsInput{VpcEndpointIds: []string{aws.ToString(ep.VpcEndpointId)}}))(t)
		return out.VpcEndpoints[0].State == "available" // EC2 writes lower case, not the enum's "Available"
	})

	// Two claims of one name in a VPC, and a private zone of the name.
	svcBName := aws.ToString(config(svcB).ServiceName)
	_, err = endpoint(cvpc, csubs[1], svcBName, aws.Bool(true))
	wantAPIError(t, "second claim", err, "InvalidParameter", 400)
	if err != nil && !strings.Contains(err.Error(), "conflicting DNS domain for api.example.com in the VPC "+cvpc) {
		t.Errorf("second claim: %v", err)
	}
	second := must(endpoint(cvpc, csubs[1], svcBName, aws.Bool(false)))(t).VpcEndpoint
	_, err = c.ModifyVpcEndpoint(ctx, &sdk.ModifyVpcEndpointInput{VpcEndpointId: second.VpcEndpointId, PrivateDnsEnabled: aws.Bool(true)})
	wantAPIError(t, "second claim by ModifyVpcEndpoint", err, "InvalidParameter", 400)

	zvpc, zsubs := network(c, "10.2", "us-east-1a")
	must(c.ModifyVpcAttribute(ctx, &sdk.ModifyVpcAttributeInput{VpcId: aws.String(zvpc), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))(t)
	cr53cfg := s.AWSConfig(cons)
	cr53cfg.HTTPClient = r53cfg.HTTPClient
	must(r53.NewFromConfig(cr53cfg).CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("api.example.com"), CallerReference: aws.String("consumer-private"),
		VPC: &r53types.VPC{VPCId: aws.String(zvpc), VPCRegion: r53types.VPCRegionUsEast1}}))(t)
	_, err = endpoint(zvpc, zsubs[0], svcName, aws.Bool(true))
	wantAPIError(t, "private hosted zone of the name", err, "InvalidParameter", 400)
	if err != nil && !strings.Contains(err.Error(), "conflicting DNS domain for api.example.com in the VPC "+zvpc) {
		t.Errorf("private hosted zone of the name: %v", err)
	}

	// The provider changes its service: a load balancer cannot leave while
	// an endpoint is connected, a new name waits for its proof.
	_, err = p.ModifyVpcEndpointServiceConfiguration(ctx, &sdk.ModifyVpcEndpointServiceConfigurationInput{ServiceId: aws.String(svcA),
		AddNetworkLoadBalancerArns: []string{spare}, RemoveNetworkLoadBalancerArns: []string{lbA}})
	wantAPIError(t, "removing a load balancer with an endpoint connected", err, "ExistingVpcEndpointConnections", 400)
	_, err = p.ModifyVpcEndpointServiceConfiguration(ctx, &sdk.ModifyVpcEndpointServiceConfigurationInput{ServiceId: aws.String(svcA),
		PrivateDnsName: aws.String("x.example.com"), RemovePrivateDnsName: aws.Bool(true)})
	wantAPIError(t, "name and removal", err, "InvalidParameterCombination", 400)
	out := must(p.ModifyVpcEndpointServiceConfiguration(ctx, &sdk.ModifyVpcEndpointServiceConfigurationInput{ServiceId: aws.String(svcA),
		AcceptanceRequired: aws.Bool(true), PrivateDnsName: aws.String("v2.api.example.com"), AddNetworkLoadBalancerArns: []string{spare}}))(t)
	if !aws.ToBool(out.Return) {
		t.Errorf("ModifyVpcEndpointServiceConfiguration returned %v", out.Return)
	}
	got := config(svcA)
	if !aws.ToBool(got.AcceptanceRequired) || aws.ToString(got.PrivateDnsName) != "v2.api.example.com" ||
		got.PrivateDnsNameConfiguration.State != types.DnsNameStatePendingVerification || len(got.NetworkLoadBalancerArns) != 2 {
		t.Errorf("after modifying: %+v", got)
	}
	// Its proof for example.com still holds for the new name.
	if got := verify(svcA); got != types.DnsNameStateVerified {
		t.Errorf("new name under the proven domain: %s", got)
	}
}

// TestPrivateDNSCLI runs the verification flow with the AWS CLI v2 (and
// v1 where installed): create a service with a private DNS name, publish
// its TXT record with aws route53, verify, read the state back.
func TestPrivateDNSCLI(t *testing.T) {
	for _, cli := range findAWSCLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			s := testserver.Start(t)
			ctx := context.Background()
			run := func(args ...string) map[string]any {
				t.Helper()
				out, err := awsCLI{cli.CLI}.run(t, s.URL, args...)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			runErr := func(args ...string) error {
				t.Helper()
				ctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				_, err := cli.RunAs(ctx, t, s.URL, core.BootstrapAccessKey, core.BootstrapSecretKey, args...)
				return err
			}
			vpc, err := s.Cloud.CreateVpc(ctx, bootstrap, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := s.Cloud.CreateSubnet(ctx, bootstrap, core.CreateSubnetInput{VpcID: vpc.ID, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1a"})
			if err != nil {
				t.Fatal(err)
			}
			lb := newNLB(t, s.Cloud, bootstrap, "cli-pdns", sub.ID)

			svc := run("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb.ARN,
				"--private-dns-name", "svc.cli.example.com", "--no-acceptance-required")
			id := jstr(t, svc, "ServiceConfiguration", "ServiceId")
			eq(t, "PrivateDnsName", jstr(t, svc, "ServiceConfiguration", "PrivateDnsName"), "svc.cli.example.com")
			eq(t, "PrivateDnsNameConfiguration.State", jstr(t, svc, "ServiceConfiguration", "PrivateDnsNameConfiguration", "State"), "pendingVerification")
			eq(t, "PrivateDnsNameConfiguration.Type", jstr(t, svc, "ServiceConfiguration", "PrivateDnsNameConfiguration", "Type"), "TXT")
			name := jstr(t, svc, "ServiceConfiguration", "PrivateDnsNameConfiguration", "Name")
			value := jstr(t, svc, "ServiceConfiguration", "PrivateDnsNameConfiguration", "Value")

			state := func() string {
				t.Helper()
				out := run("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids", id)
				return jstr(t, out, "ServiceConfigurations", 0, "PrivateDnsNameConfiguration", "State")
			}
			if err := runErr("ec2", "start-vpc-endpoint-service-private-dns-verification", "--service-id", id); err != nil {
				t.Fatal(err)
			}
			eq(t, "state without a record", state(), "failed")

			zone := run("route53", "create-hosted-zone", "--name", "cli.example.com", "--caller-reference", "cli-pdns")
			zoneID := jstr(t, zone, "HostedZone", "Id")
			batch := `{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"` + name + `.cli.example.com","Type":"TXT","TTL":1800,` +
				`"ResourceRecords":[{"Value":"\"` + value + `\""}]}}]}`
			run("route53", "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", batch)
			if err := runErr("ec2", "start-vpc-endpoint-service-private-dns-verification", "--service-id", id); err != nil {
				t.Fatal(err)
			}
			eq(t, "state with the record", state(), "verified")
			services := run("ec2", "describe-vpc-endpoint-services", "--service-names", jstr(t, svc, "ServiceConfiguration", "ServiceName"))
			eq(t, "PrivateDnsNameVerificationState", jstr(t, services, "ServiceDetails", 0, "PrivateDnsNameVerificationState"), "verified")
			eq(t, "PrivateDnsNames[0]", jstr(t, services, "ServiceDetails", 0, "PrivateDnsNames", 0, "PrivateDnsName"), "svc.cli.example.com")

			run("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", id, "--private-dns-name", "other.example.org", "--acceptance-required")
			eq(t, "state after a new name", state(), "pendingVerification")
			err = runErr("ec2", "start-vpc-endpoint-service-private-dns-verification", "--service-id", "vpce-svc-0123456789abcdef0")
			if err == nil || !strings.Contains(err.Error(), "(InvalidVpcEndpointServiceId.NotFound)") {
				t.Errorf("unknown service: %v", err)
			}
			err = runErr("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", id, "--remove-network-load-balancer-arns", lb.ARN)
			if err == nil || !strings.Contains(err.Error(), "(InvalidParameter)") || !strings.Contains(err.Error(), "at least one network load balancer") {
				t.Errorf("removing the last load balancer: %v", err)
			}
		})
	}
}
