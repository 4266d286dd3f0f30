package ec2_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/privlink/privlink/internal/testserver"
)

// waitFor polls cond until it holds, failing the test after a minute: the
// in-process reconciler moves states on in the background.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not reached", what)
		case <-tick.C:
		}
	}
}

// wantAPIError checks an error's AWS code and HTTP status.
func wantAPIError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Errorf("%s: code %q (%v), want %s", what, got, err, code)
		return
	}
	if got := httpStatus(err); got != status {
		t.Errorf("%s: status %d, want %d", what, got, status)
	}
}

// TestModifySDK runs a consumer's changes to a live network through the
// AWS SDK for Go v2 against the whole in-process control plane: the
// provider's load balancer and service through ELBv2 and EC2, then the
// consumer's VPC attributes, egress rules, endpoint subnets and groups, and
// an instance's groups.
func TestModifySDK(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	cons := s.NewAccount(t)
	p := sdk.NewFromConfig(s.AWSConfig(testserver.Bootstrap))
	pelb := elb.NewFromConfig(s.AWSConfig(testserver.Bootstrap))
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

	// The provider: a load balancer in two zones, offered to the consumer.
	_, provSubnets := network(p, "10.0", "us-east-1a", "us-east-1b")
	lb := must(pelb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("modify"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: provSubnets}))(t).LoadBalancers[0]
	waitFor(t, "load balancer active", func() bool {
		out := must(pelb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lb.LoadBalancerArn)}}))(t)
		return out.LoadBalancers[0].State.Code == elbtypes.LoadBalancerStateEnumActive
	})
	svc := must(p.CreateVpcEndpointServiceConfiguration(ctx, &sdk.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{aws.ToString(lb.LoadBalancerArn)}, AcceptanceRequired: aws.Bool(false)}))(t).ServiceConfiguration
	must(p.ModifyVpcEndpointServicePermissions(ctx, &sdk.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: svc.ServiceId, AddAllowedPrincipals: []string{"arn:aws:iam::" + cons.ID + ":root"}}))(t)

	// The consumer's VPC and its DNS attributes.
	vpcID, subs := network(c, "10.1", "us-east-1a", "us-east-1b", "us-east-1c")
	attr := func(name types.VpcAttributeName) *sdk.DescribeVpcAttributeOutput {
		t.Helper()
		return must(c.DescribeVpcAttribute(ctx, &sdk.DescribeVpcAttributeInput{VpcId: &vpcID, Attribute: name}))(t)
	}
	if a := attr(types.VpcAttributeNameEnableDnsSupport); aws.ToString(a.VpcId) != vpcID || !aws.ToBool(a.EnableDnsSupport.Value) || a.EnableDnsHostnames != nil {
		t.Errorf("enableDnsSupport %+v", a)
	}
	if a := attr(types.VpcAttributeNameEnableDnsHostnames); aws.ToBool(a.EnableDnsHostnames.Value) {
		t.Error("DNS hostnames on by default")
	}
	must(c.ModifyVpcAttribute(ctx, &sdk.ModifyVpcAttributeInput{VpcId: &vpcID, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))(t)
	if a := attr(types.VpcAttributeNameEnableDnsHostnames); !aws.ToBool(a.EnableDnsHostnames.Value) {
		t.Error("DNS hostnames still off")
	}
	_, err := c.ModifyVpcAttribute(ctx, &sdk.ModifyVpcAttributeInput{VpcId: &vpcID,
		EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}, EnableDnsSupport: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	wantAPIError(t, "two attributes", err, "InvalidParameterCombination", 400)
	_, err = p.DescribeVpcAttribute(ctx, &sdk.DescribeVpcAttributeInput{VpcId: &vpcID, Attribute: types.VpcAttributeNameEnableDnsSupport})
	wantAPIError(t, "another account's VPC", err, "InvalidVpcID.NotFound", 400)

	// Egress rules: a new group allows everything out until told otherwise.
	sg := aws.ToString(must(c.CreateSecurityGroup(ctx, &sdk.CreateSecurityGroupInput{GroupName: aws.String("clients"),
		Description: aws.String("endpoint clients"), VpcId: &vpcID}))(t).GroupId)
	rulesOf := func(group string) []types.SecurityGroupRule {
		t.Helper()
		return must(c.DescribeSecurityGroupRules(ctx, &sdk.DescribeSecurityGroupRulesInput{
			Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{group}}}}))(t).SecurityGroupRules
	}
	if rs := rulesOf(sg); len(rs) != 1 || !aws.ToBool(rs[0].IsEgress) || aws.ToString(rs[0].IpProtocol) != "-1" ||
		aws.ToString(rs[0].CidrIpv4) != "0.0.0.0/0" || aws.ToString(rs[0].GroupId) != sg {
		t.Errorf("a new group's rules %+v", rs)
	}
	added := must(c.AuthorizeSecurityGroupEgress(ctx, &sdk.AuthorizeSecurityGroupEgressInput{GroupId: &sg, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("https")}},
	}}}))(t)
	if !aws.ToBool(added.Return) || len(added.SecurityGroupRules) != 1 || !aws.ToBool(added.SecurityGroupRules[0].IsEgress) ||
		aws.ToInt32(added.SecurityGroupRules[0].FromPort) != 443 {
		t.Errorf("authorized %+v", added.SecurityGroupRules)
	}
	must(c.RevokeSecurityGroupEgress(ctx, &sdk.RevokeSecurityGroupEgressInput{GroupId: &sg, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}))(t)
	groups := must(c.DescribeSecurityGroups(ctx, &sdk.DescribeSecurityGroupsInput{GroupIds: []string{sg}}))(t).SecurityGroups
	if eg := groups[0].IpPermissionsEgress; len(eg) != 1 || aws.ToString(eg[0].IpProtocol) != "tcp" || aws.ToString(eg[0].IpRanges[0].Description) != "https" {
		t.Errorf("egress after revoking the default %+v", eg)
	}
	ruleID := aws.ToString(added.SecurityGroupRules[0].SecurityGroupRuleId)
	one := must(c.DescribeSecurityGroupRules(ctx, &sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{ruleID}}))(t).SecurityGroupRules
	if len(one) != 1 || aws.ToString(one[0].SecurityGroupRuleId) != ruleID {
		t.Errorf("rule by ID %+v", one)
	}
	must(c.RevokeSecurityGroupEgress(ctx, &sdk.RevokeSecurityGroupEgressInput{GroupId: &sg, SecurityGroupRuleIds: []string{ruleID}}))(t)
	if rs := rulesOf(sg); len(rs) != 0 {
		t.Errorf("rules after revoking all %+v", rs)
	}
	_, err = c.RevokeSecurityGroupEgress(ctx, &sdk.RevokeSecurityGroupEgressInput{GroupId: &sg, SecurityGroupRuleIds: []string{ruleID}})
	wantAPIError(t, "revoking a revoked rule", err, "InvalidSecurityGroupRuleId.NotFound", 400)

	// The endpoint: in 1a, then 1b added with a second group, then 1a
	// removed.
	ep := must(c.CreateVpcEndpoint(ctx, &sdk.CreateVpcEndpointInput{VpcEndpointType: types.VpcEndpointTypeInterface, VpcId: &vpcID,
		ServiceName: svc.ServiceName, SubnetIds: subs[:1], SecurityGroupIds: []string{sg}}))(t).VpcEndpoint
	epID := aws.ToString(ep.VpcEndpointId)
	describe := func() types.VpcEndpoint {
		t.Helper()
		return must(c.DescribeVpcEndpoints(ctx, &sdk.DescribeVpcEndpointsInput{VpcEndpointIds: []string{epID}}))(t).VpcEndpoints[0]
	}
	available := func() bool { return describe().State == "available" } // EC2 writes lower case, not the enum's "Available"
	waitFor(t, "endpoint available", available)
	firstENI := ep.NetworkInterfaceIds[0]

	var defaultSG string
	for _, g := range must(c.DescribeSecurityGroups(ctx, &sdk.DescribeSecurityGroupsInput{}))(t).SecurityGroups {
		if aws.ToString(g.GroupName) == "default" && aws.ToString(g.VpcId) == vpcID {
			defaultSG = aws.ToString(g.GroupId)
		}
	}
	mod := must(c.ModifyVpcEndpoint(ctx, &sdk.ModifyVpcEndpointInput{VpcEndpointId: &epID, AddSubnetIds: subs[1:2],
		AddSecurityGroupIds:  []string{defaultSG},
		SubnetConfigurations: []types.SubnetConfiguration{{SubnetId: aws.String(subs[1]), Ipv4: aws.String("10.1.2.100")}}}))(t)
	if !aws.ToBool(mod.Return) {
		t.Error("ModifyVpcEndpoint returned false")
	}
	waitFor(t, "endpoint available after adding a subnet", available)
	got := describe()
	if !slices.Equal(got.SubnetIds, subs[:2]) || len(got.NetworkInterfaceIds) != 2 || len(got.Groups) != 2 || len(got.DnsEntries) != 3 {
		t.Fatalf("after adding a subnet: %+v", got)
	}
	enis := must(c.DescribeNetworkInterfaces(ctx, &sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: got.NetworkInterfaceIds}))(t).NetworkInterfaces
	for _, eni := range enis {
		if len(eni.Groups) != 2 || eni.InterfaceType != types.NetworkInterfaceTypeVpcEndpoint || !aws.ToBool(eni.RequesterManaged) {
			t.Errorf("endpoint interface %+v", eni)
		}
		if aws.ToString(eni.SubnetId) == subs[1] && (aws.ToString(eni.AvailabilityZone) != "us-east-1b" || aws.ToString(eni.PrivateIpAddress) != "10.1.2.100") {
			t.Errorf("the new interface %s is in %s at %s", aws.ToString(eni.NetworkInterfaceId), aws.ToString(eni.AvailabilityZone), aws.ToString(eni.PrivateIpAddress))
		}
	}

	_, err = c.ModifyVpcEndpoint(ctx, &sdk.ModifyVpcEndpointInput{VpcEndpointId: &epID, AddSubnetIds: subs[2:3]})
	wantAPIError(t, "a zone the service lacks", err, "InvalidParameter", 400)
	_, err = p.ModifyVpcEndpoint(ctx, &sdk.ModifyVpcEndpointInput{VpcEndpointId: &epID, RemoveSubnetIds: subs[:1]})
	wantAPIError(t, "the provider modifying", err, "InvalidVpcEndpointId.NotFound", 400)

	const policy = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	must(c.ModifyVpcEndpoint(ctx, &sdk.ModifyVpcEndpointInput{VpcEndpointId: &epID, RemoveSubnetIds: subs[:1],
		RemoveSecurityGroupIds: []string{defaultSG}, PolicyDocument: aws.String(policy)}))(t)
	waitFor(t, "endpoint available after removing a subnet", available)
	got = describe()
	if !slices.Equal(got.SubnetIds, subs[1:2]) || len(got.NetworkInterfaceIds) != 1 || slices.Contains(got.NetworkInterfaceIds, firstENI) ||
		len(got.Groups) != 1 || aws.ToString(got.Groups[0].GroupId) != sg || aws.ToString(got.PolicyDocument) != policy {
		t.Errorf("after removing a subnet: %+v", got)
	}
	_, err = c.DescribeNetworkInterfaces(ctx, &sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{firstENI}})
	wantAPIError(t, "the removed subnet's interface", err, "InvalidNetworkInterfaceID.NotFound", 400)
	must(c.ModifyVpcEndpoint(ctx, &sdk.ModifyVpcEndpointInput{VpcEndpointId: &epID, ResetPolicy: aws.Bool(true)}))(t)
	if doc := aws.ToString(describe().PolicyDocument); !strings.Contains(doc, `"Effect": "Allow"`) || !strings.Contains(doc, `"Principal": "*"`) {
		t.Errorf("policy after reset %s, want the default full-access policy", doc)
	}

	// An instance's groups, changed live.
	inst := must(c.RunInstances(ctx, &sdk.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subs[0])}))(t).Instances[0]
	instENI := aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)
	must(c.ModifyNetworkInterfaceAttribute(ctx, &sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: &instENI, Groups: []string{sg, defaultSG}}))(t)
	d := must(c.DescribeInstances(ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}))(t).Reservations[0].Instances[0]
	var ids []string
	for _, g := range d.SecurityGroups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	if !slices.Equal(ids, []string{sg, defaultSG}) || len(d.NetworkInterfaces[0].Groups) != 2 {
		t.Errorf("instance groups %v, interface groups %+v", ids, d.NetworkInterfaces[0].Groups)
	}
	_, err = c.ModifyNetworkInterfaceAttribute(ctx, &sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(got.NetworkInterfaceIds[0]), Groups: []string{sg}})
	wantAPIError(t, "an endpoint's interface", err, "AuthFailure", 400)
	_, err = c.ModifyNetworkInterfaceAttribute(ctx, &sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: &instENI})
	wantAPIError(t, "no attribute", err, "InvalidParameterCombination", 400)
}
