package ec2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/core"
)

// modifyWorld is a provider's service on a load balancer in us-east-1a and
// us-east-1b, open to a consumer whose VPC has subnets in 1a, 1b and 1c and
// an endpoint to the service in 1a.
type modifyWorld struct {
	consumer                     core.Caller
	vpc                          core.VPC
	subA, subB, subC             core.SubnetDescription
	serviceName, endpoint, epENI string
}

func newModifyWorld(t testing.TB, cloud *core.Cloud, consumer core.Caller) modifyWorld {
	t.Helper()
	ctx := context.Background()
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	network := func(caller core.Caller, cidr string, zones ...string) (core.VPC, []core.SubnetDescription) {
		t.Helper()
		vpc, err := cloud.CreateVpc(ctx, caller, core.CreateVpcInput{CidrBlock: cidr + ".0.0/16"})
		ok(err)
		var subs []core.SubnetDescription
		for i, z := range zones {
			s, err := cloud.CreateSubnet(ctx, caller, core.CreateSubnetInput{
				VpcID: vpc.ID, CidrBlock: cidr + "." + string(rune('1'+i)) + ".0/24", AvailabilityZone: z,
			})
			ok(err)
			subs = append(subs, s)
		}
		return vpc, subs
	}
	_, prov := network(bootstrap, "10.0", "us-east-1a", "us-east-1b")
	nlb := newNLB(t, cloud, bootstrap, "modify-nlb", prov[0].ID, prov[1].ID)
	svc, err := cloud.CreateVpcEndpointServiceConfiguration(ctx, bootstrap, core.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerARNs: []string{nlb.ARN},
	})
	ok(err)
	_, err = cloud.ModifyVpcEndpointServicePermissions(ctx, bootstrap, core.ModifyVpcEndpointServicePermissionsInput{
		ServiceID: svc.ID, AddAllowedPrincipals: []string{"arn:aws:iam::" + consumer.AccountID + ":root"},
	})
	ok(err)
	w := modifyWorld{consumer: consumer, serviceName: svc.ServiceName}
	var subs []core.SubnetDescription
	w.vpc, subs = network(consumer, "10.1", "us-east-1a", "us-east-1b", "us-east-1c")
	w.subA, w.subB, w.subC = subs[0], subs[1], subs[2]
	ep, err := cloud.CreateVpcEndpoint(ctx, consumer, core.CreateVpcEndpointInput{
		VpcEndpointType: core.EndpointTypeInterface, VpcID: w.vpc.ID, ServiceName: svc.ServiceName, SubnetIDs: []string{w.subA.ID},
	})
	ok(err)
	ok(cloud.SetEndpointAvailable(ctx, ep.ID))
	w.endpoint, w.epENI = ep.ID, ep.NetworkInterfaceIDs[0]
	return w
}

// TestHandlerGoldenModify runs the changes a consumer makes to a live
// network through the handler, and compares every answer with
// testdata/modify/<NN>-<name>.xml (go test -update rewrites them).
func TestHandlerGoldenModify(t *testing.T) {
	cloud := newCloud(t)
	consumer := core.Caller{AccountID: newAccount(t, cloud).Account.ID}
	w := newModifyWorld(t, cloud, consumer)
	h := ec2.New(cloud, nil)
	ctx := context.Background()
	v := map[string]string{
		"vpc": w.vpc.ID, "subA": w.subA.ID, "subB": w.subB.ID, "subC": w.subC.ID,
		"endpoint": w.endpoint, "epENI": w.epENI, "defaultSG": w.vpc.DefaultSecurityGroupID,
	}
	steps := []goldenStep{
		// VPC DNS attributes.
		{name: "DescribeVpcAttribute-support", as: "consumer", status: 200, form: "Action=DescribeVpcAttribute&VpcId={vpc}&Attribute=enableDnsSupport"},
		{name: "DescribeVpcAttribute-hostnames", as: "consumer", status: 200, form: "Action=DescribeVpcAttribute&VpcId={vpc}&Attribute=enableDnsHostnames"},
		{name: "ModifyVpcAttribute", as: "consumer", status: 200, form: "Action=ModifyVpcAttribute&VpcId={vpc}&EnableDnsHostnames.Value=true"},
		{name: "DescribeVpcAttribute-hostnames-on", as: "consumer", status: 200, form: "Action=DescribeVpcAttribute&VpcId={vpc}&Attribute=enableDnsHostnames"},
		{name: "ModifyVpcAttribute-two", as: "consumer", status: 400,
			form: "Action=ModifyVpcAttribute&VpcId={vpc}&EnableDnsHostnames.Value=true&EnableDnsSupport.Value=true"},
		{name: "ModifyVpcAttribute-none", as: "consumer", status: 400, form: "Action=ModifyVpcAttribute&VpcId={vpc}"},
		{name: "DescribeVpcAttribute-unknown", as: "consumer", status: 400, form: "Action=DescribeVpcAttribute&VpcId={vpc}&Attribute=enableDns"},

		// Egress rules.
		{name: "CreateSecurityGroup", as: "consumer", status: 200, save: map[string]string{"sg": "groupId"},
			form: "Action=CreateSecurityGroup&GroupName=endpoint&GroupDescription=endpoint+clients&VpcId={vpc}"},
		{name: "AuthorizeSecurityGroupEgress", as: "consumer", status: 200, save: map[string]string{"egressRule": "securityGroupRuleId"},
			form: "Action=AuthorizeSecurityGroupEgress&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443" +
				"&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8&IpPermissions.1.IpRanges.1.Description=https" +
				"&IpPermissions.1.Groups.1.GroupId={defaultSG}"},
		{name: "AuthorizeSecurityGroupEgress-duplicate", as: "consumer", status: 400,
			form: "Action=AuthorizeSecurityGroupEgress&GroupId={sg}&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"},
		{name: "RevokeSecurityGroupEgress-default", as: "consumer", status: 200,
			form: "Action=RevokeSecurityGroupEgress&GroupId={sg}&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"},
		{name: "DescribeSecurityGroupRules", as: "consumer", status: 200,
			form: "Action=DescribeSecurityGroupRules&Filter.1.Name=group-id&Filter.1.Value.1={sg}"},
		{name: "RevokeSecurityGroupEgress-rule-id", as: "consumer", status: 200,
			form: "Action=RevokeSecurityGroupEgress&GroupId={sg}&SecurityGroupRuleId.1={egressRule}"},
		{name: "RevokeSecurityGroupEgress-missing", as: "consumer", status: 400,
			form: "Action=RevokeSecurityGroupEgress&GroupId={sg}&SecurityGroupRuleId.1={egressRule}"},
		{name: "DescribeSecurityGroups", as: "consumer", status: 200, form: "Action=DescribeSecurityGroups&GroupId.1={sg}"},
		{name: "DescribeSecurityGroupRules-filter", as: "consumer", status: 400,
			form: "Action=DescribeSecurityGroupRules&Filter.1.Name=tag:Name&Filter.1.Value.1=x"},

		// The endpoint.
		{name: "ModifyVpcEndpoint", as: "consumer", status: 200,
			form: "Action=ModifyVpcEndpoint&VpcEndpointId={endpoint}&AddSubnetId.1={subB}&AddSecurityGroupId.1={sg}" +
				"&SubnetConfiguration.1.SubnetId={subB}&SubnetConfiguration.1.Ipv4=10.1.2.100"},
		{name: "DescribeVpcEndpoints", as: "consumer", status: 200, form: "Action=DescribeVpcEndpoints&VpcEndpointId.1={endpoint}"},
		{name: "ModifyVpcEndpoint-remove", as: "consumer", status: 200,
			before: func(t *testing.T, v map[string]string) {
				if err := cloud.SetEndpointAvailable(ctx, v["endpoint"]); err != nil {
					t.Fatal(err)
				}
			},
			form: "Action=ModifyVpcEndpoint&VpcEndpointId={endpoint}&RemoveSubnetId.1={subA}&RemoveSecurityGroupId.1={defaultSG}" +
				"&PolicyDocument=%7B%22Statement%22%3A%5B%5D%7D"},
		{name: "DescribeVpcEndpoints-removed", as: "consumer", status: 200, form: "Action=DescribeVpcEndpoints&VpcEndpointId.1={endpoint}"},
		{name: "ModifyVpcEndpoint-zone", as: "consumer", status: 400,
			form: "Action=ModifyVpcEndpoint&VpcEndpointId={endpoint}&AddSubnetId.1={subC}"},
		{name: "ModifyVpcEndpoint-last-group", as: "consumer", status: 400,
			form: "Action=ModifyVpcEndpoint&VpcEndpointId={endpoint}&RemoveSecurityGroupId.1={sg}"},
		{name: "ModifyVpcEndpoint-provider", as: "provider", status: 400,
			form: "Action=ModifyVpcEndpoint&VpcEndpointId={endpoint}&ResetPolicy=true"},
		{name: "ModifyVpcEndpoint-reset", as: "consumer", status: 200, form: "Action=ModifyVpcEndpoint&VpcEndpointId={endpoint}&ResetPolicy=true"},

		// An instance's groups.
		{name: "RunInstances", as: "consumer", status: 200, save: map[string]string{"instance": "instanceId", "eni": "networkInterfaceId"},
			form: "Action=RunInstances&ImageId=ami-0123456789abcdef0&InstanceType=t3.micro&MinCount=1&MaxCount=1&SubnetId={subA}"},
		{name: "ModifyNetworkInterfaceAttribute", as: "consumer", status: 200,
			form: "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId={eni}&SecurityGroupId.1={sg}&SecurityGroupId.2={defaultSG}"},
		{name: "DescribeNetworkInterfaces", as: "consumer", status: 200, form: "Action=DescribeNetworkInterfaces&NetworkInterfaceId.1={eni}"},
		{name: "ModifyNetworkInterfaceAttribute-two", as: "consumer", status: 400,
			form: "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId={eni}&SecurityGroupId.1={sg}&Description.Value=web"},
		{name: "ModifyNetworkInterfaceAttribute-endpoint", as: "consumer", status: 400,
			before: func(t *testing.T, v map[string]string) {
				eps, err := cloud.DescribeVpcEndpoints(ctx, consumer, []string{v["endpoint"]})
				if err != nil {
					t.Fatal(err)
				}
				v["epENI"] = eps[0].NetworkInterfaceIDs[0]
			},
			form: "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId={epENI}&SecurityGroupId.1={sg}"},
	}
	runGolden(t, h, map[string]core.Caller{"provider": bootstrap, "consumer": consumer}, v, "modify", steps)
}

// TestModifyCLI makes a consumer's changes with the AWS CLI and reads them
// back through the CLI's JSON: ModifyVpcEndpoint above all, whose list
// parameters the CLI spells its own way.
func TestModifyCLI(t *testing.T) {
	for _, cli := range findAWSCLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			e := newSDKEnv(t)
			w := newModifyWorld(t, e.cloud, e.consumerCaller)
			sg, err := e.cloud.CreateSecurityGroup(context.Background(), e.consumerCaller, core.CreateSecurityGroupInput{
				GroupName: "clients", Description: "endpoint clients", VpcID: w.vpc.ID,
			})
			if err != nil {
				t.Fatal(err)
			}
			secondB, err := e.cloud.CreateSubnet(context.Background(), e.consumerCaller, core.CreateSubnetInput{
				VpcID: w.vpc.ID, CidrBlock: "10.1.4.0/24", AvailabilityZone: "us-east-1b",
			})
			if err != nil {
				t.Fatal(err)
			}
			runErr := func(args ...string) (map[string]any, error) {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				stdout, err := cli.RunAs(ctx, t, e.url, e.consumerKey.ID, e.consumerKey.Secret, args...)
				if err != nil {
					return nil, err
				}
				var out map[string]any
				if len(bytes.TrimSpace(stdout)) == 0 {
					return out, nil
				}
				if err := json.Unmarshal(stdout, &out); err != nil {
					t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout)
				}
				return out, nil
			}
			run := func(args ...string) map[string]any {
				t.Helper()
				out, err := runErr(args...)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			wantErr := func(code string, args ...string) {
				t.Helper()
				_, err := runErr(args...)
				if err == nil || !strings.Contains(err.Error(), "("+code+")") {
					t.Errorf("aws %s: %v, want %s", strings.Join(args, " "), err, code)
				}
			}

			const policy = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
			out := run("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", w.endpoint,
				"--add-subnet-ids", w.subB.ID, "--add-security-group-ids", sg.ID, "--policy-document", policy)
			eq(t, "Return", jget(t, out, "Return"), any(true))
			ep := run("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", w.endpoint)
			eq(t, "State", jstr(t, ep, "VpcEndpoints", 0, "State"), "pending")
			eq(t, "SubnetIds", jget(t, ep, "VpcEndpoints", 0, "SubnetIds"), any([]any{w.subA.ID, w.subB.ID}))
			eq(t, "Groups[1].GroupId", jstr(t, ep, "VpcEndpoints", 0, "Groups", 1, "GroupId"), sg.ID)
			eq(t, "NetworkInterfaceIds", len(jget(t, ep, "VpcEndpoints", 0, "NetworkInterfaceIds").([]any)), 2)
			eq(t, "PolicyDocument", jstr(t, ep, "VpcEndpoints", 0, "PolicyDocument"), policy)

			run("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", w.endpoint, "--remove-subnet-ids", w.subA.ID,
				"--remove-security-group-ids", w.vpc.DefaultSecurityGroupID, "--reset-policy")
			ep = run("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", w.endpoint)
			eq(t, "SubnetIds after removing", jget(t, ep, "VpcEndpoints", 0, "SubnetIds"), any([]any{w.subB.ID}))
			eq(t, "Groups after removing", len(jget(t, ep, "VpcEndpoints", 0, "Groups").([]any)), 1)
			eq(t, "default policy", strings.Contains(jstr(t, ep, "VpcEndpoints", 0, "PolicyDocument"), `"Effect": "Allow"`), true)
			wantErr("InvalidParameter", "ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", w.endpoint, "--add-subnet-ids", w.subC.ID)
			wantErr("DuplicateSubnetsInSameZone", "ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", w.endpoint, "--add-subnet-ids", secondB.ID)
			wantErr("InvalidVpcEndpointId.NotFound", "ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", "vpce-0123456789abcdef0", "--reset-policy")

			run("ec2", "modify-vpc-attribute", "--vpc-id", w.vpc.ID, "--enable-dns-hostnames", `{"Value":true}`)
			attr := run("ec2", "describe-vpc-attribute", "--vpc-id", w.vpc.ID, "--attribute", "enableDnsHostnames")
			eq(t, "EnableDnsHostnames", jget(t, attr, "EnableDnsHostnames", "Value"), any(true))
			wantErr("InvalidParameterCombination", "ec2", "modify-vpc-attribute", "--vpc-id", w.vpc.ID)

			run("ec2", "authorize-security-group-egress", "--group-id", sg.ID, "--ip-permissions",
				"IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=10.0.0.0/8}]")
			rules := run("ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values="+sg.ID)
			eq(t, "rules", len(jget(t, rules, "SecurityGroupRules").([]any)), 2)
			run("ec2", "revoke-security-group-egress", "--group-id", sg.ID, "--ip-permissions", "IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]")
			rules = run("ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values="+sg.ID)
			eq(t, "rules after revoking", jstr(t, rules, "SecurityGroupRules", 0, "IpProtocol"), "tcp")

			inst := run("ec2", "run-instances", "--image-id", "ami-12345678", "--count", "1", "--subnet-id", w.subA.ID)
			eni := jstr(t, inst, "Instances", 0, "NetworkInterfaces", 0, "NetworkInterfaceId")
			run("ec2", "modify-network-interface-attribute", "--network-interface-id", eni, "--groups", sg.ID, w.vpc.DefaultSecurityGroupID)
			desc := run("ec2", "describe-network-interfaces", "--network-interface-ids", eni)
			eq(t, "interface groups", len(jget(t, desc, "NetworkInterfaces", 0, "Groups").([]any)), 2)
			wantErr("AuthFailure", "ec2", "modify-network-interface-attribute", "--network-interface-id",
				jstr(t, ep, "VpcEndpoints", 0, "NetworkInterfaceIds", 0), "--groups", sg.ID)
		})
	}
}

// FuzzHandleModify sends arbitrary changes to a live network: whatever a
// client sends, the handler answers with a status and an XML document and
// never panics. The seeds name real resources, so mutations reach core's
// checks rather than stopping at unknown IDs.
func FuzzHandleModify(f *testing.F) {
	cloud := newCloud(f)
	consumer := core.Caller{AccountID: newAccount(f, cloud).Account.ID}
	w := newModifyWorld(f, cloud, consumer)
	for _, seed := range []string{
		"Action=ModifyVpcEndpoint&VpcEndpointId={ep}&AddSubnetId.1={subB}&SubnetConfiguration.1.SubnetId={subB}&SubnetConfiguration.1.Ipv4=10.1.2.9",
		"Action=ModifyVpcEndpoint&VpcEndpointId={ep}&RemoveSubnetId.1={subA}&AddSecurityGroupId.1={sg}&RemoveSecurityGroupId.1={sg}",
		"Action=ModifyVpcEndpoint&VpcEndpointId={ep}&PrivateDnsEnabled=true&PolicyDocument=%7B%7D&DnsOptions.DnsRecordIpType=ipv4",
		"Action=ModifyVpcAttribute&VpcId={vpc}&EnableDnsHostnames.Value=true",
		"Action=DescribeVpcAttribute&VpcId={vpc}&Attribute=enableDnsSupport",
		"Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId={eni}&SecurityGroupId.1={sg}&Attachment.AttachmentId=x",
		"Action=AuthorizeSecurityGroupEgress&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2&IpPermissions.1.Groups.1.GroupId={sg}",
		"Action=RevokeSecurityGroupEgress&GroupId={sg}&SecurityGroupRuleId.1=sgr-0123456789abcdef0",
		"Action=DescribeSecurityGroupRules&Filter.1.Name=group-id&Filter.1.Value.1={sg}&MaxResults=5",
	} {
		for k, v := range map[string]string{"{ep}": w.endpoint, "{subA}": w.subA.ID, "{subB}": w.subB.ID, "{vpc}": w.vpc.ID,
			"{sg}": w.vpc.DefaultSecurityGroupID, "{eni}": w.epENI} {
			seed = strings.ReplaceAll(seed, k, v)
		}
		f.Add(seed)
	}
	h := ec2.New(cloud, nil)
	f.Fuzz(func(t *testing.T, body string) {
		hr := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.Handle(rec, &api.Request{ID: "fuzz", Caller: consumer, HTTP: hr, Body: []byte(body)})
		if rec.Code < 200 || rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !strings.HasPrefix(rec.Body.String(), "<?xml") {
			t.Fatalf("not XML for %q: %s", body, rec.Body)
		}
	})
}
