package ec2_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
)

// goldenStep is one request of the golden story: who sends it, its form
// with {name} placeholders for values saved from earlier answers, the
// status it must get, and the values to save from its answer.
type goldenStep struct {
	name   string
	as     string // "provider" or "consumer"
	before func(t *testing.T, v map[string]string)
	form   string
	get    bool // send the form as the URL query of a GET
	status int
	// save maps a placeholder to the XML element whose first value it
	// takes, e.g. {"vpc": "vpcId"}.
	save map[string]string
}

// TestHandlerGolden runs the provider/consumer story through the handler
// directly, with a deterministic core, and compares every answer with
// testdata/handler/<NN>-<name>.xml (go test -update rewrites them).
func TestHandlerGolden(t *testing.T) {
	cloud := newCloud(t)
	consumerAccount := newAccount(t, cloud)
	callers := map[string]core.Caller{
		"provider": bootstrap,
		"consumer": {AccountID: consumerAccount.Account.ID},
	}
	h := ec2.New(cloud, nil)
	ctx := context.Background()
	v := map[string]string{"consumerAccount": consumerAccount.Account.ID}

	steps := []goldenStep{
		{name: "CreateVpc", as: "provider", status: 200, save: map[string]string{"vpc": "vpcId"},
			form: "Action=CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=provider"},
		{name: "DescribeVpcs", as: "provider", status: 200, form: "Action=DescribeVpcs&VpcId.1={vpc}"},
		{name: "CreateSubnet", as: "provider", status: 200, save: map[string]string{"subnet": "subnetId"},
			form: "Action=CreateSubnet&VpcId={vpc}&CidrBlock=10.0.1.0/24&AvailabilityZone=us-east-1a&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=app"},
		{name: "DescribeSubnets", as: "provider", status: 200, form: "Action=DescribeSubnets&SubnetId.1={subnet}"},
		{name: "CreateSecurityGroup", as: "provider", status: 200, save: map[string]string{"sg": "groupId"},
			form: "Action=CreateSecurityGroup&GroupName=web&GroupDescription=web+servers&VpcId={vpc}"},
		{name: "AuthorizeSecurityGroupIngress", as: "provider", status: 200,
			form: "Action=AuthorizeSecurityGroupIngress&GroupId={sg}" +
				"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80" +
				"&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/16&IpPermissions.1.IpRanges.1.Description=vpc" +
				"&IpPermissions.1.IpRanges.2.CidrIp=192.168.0.0/24"},
		{name: "AuthorizeSecurityGroupIngress-duplicate", as: "provider", status: 400,
			form: "Action=AuthorizeSecurityGroupIngress&GroupId={sg}&IpProtocol=tcp&FromPort=80&ToPort=80&CidrIp=10.0.0.0/16"},
		{name: "RevokeSecurityGroupIngress", as: "provider", status: 200,
			form: "Action=RevokeSecurityGroupIngress&GroupId={sg}&IpProtocol=tcp&FromPort=80&ToPort=80&CidrIp=192.168.0.0/24"},
		{name: "DescribeSecurityGroups", as: "provider", status: 200, form: "Action=DescribeSecurityGroups"},
		{name: "RunInstances", as: "provider", status: 200, save: map[string]string{"instance": "instanceId", "eni": "networkInterfaceId"},
			form: "Action=RunInstances&ImageId=ami-0123456789abcdef0&InstanceType=t3.micro&MinCount=1&MaxCount=1" +
				"&SubnetId={subnet}&SecurityGroupId.1={sg}&UserData=IyEvYmluL3NoCmVjaG8gaGkK&KeyName=lab&ClientToken=token-1" +
				"&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web-1"},
		{name: "DescribeInstances", as: "provider", status: 200,
			before: func(t *testing.T, v map[string]string) {
				if err := cloud.SetInstanceRunning(ctx, v["instance"]); err != nil {
					t.Fatal(err)
				}
			},
			form: "Action=DescribeInstances&InstanceId.1={instance}"},
		{name: "DescribeNetworkInterfaces", as: "provider", status: 200, form: "Action=DescribeNetworkInterfaces&NetworkInterfaceId.1={eni}"},
		{name: "DescribeAvailabilityZones", as: "provider", status: 200, form: "Action=DescribeAvailabilityZones&ZoneName.1=us-east-1a&ZoneId.1=use1-az2"},
		{name: "DescribeRegions-GET", as: "provider", status: 200, get: true, form: "Action=DescribeRegions&Version=2016-11-15&RegionName.1=us-east-1&RegionName.2=eu-west-1"},
		{name: "CreateVpcEndpointServiceConfiguration", as: "provider", status: 200,
			before: func(t *testing.T, v map[string]string) {
				v["nlb"] = newNLB(t, cloud, bootstrap, "provider-nlb", v["subnet"]).ARN
			},
			save: map[string]string{"service": "serviceId", "serviceName": "serviceName"},
			form: "Action=CreateVpcEndpointServiceConfiguration&NetworkLoadBalancerArn.1={nlb}&AcceptanceRequired=true&ClientToken=svc-1" +
				"&TagSpecification.1.ResourceType=vpc-endpoint-service&TagSpecification.1.Tag.1.Key=team&TagSpecification.1.Tag.1.Value=core"},
		{name: "ModifyVpcEndpointServicePermissions", as: "provider", status: 200,
			form: "Action=ModifyVpcEndpointServicePermissions&ServiceId={service}&AddAllowedPrincipals.1=arn:aws:iam::{consumerAccount}:root"},
		{name: "DescribeVpcEndpointServicePermissions", as: "provider", status: 200,
			form: "Action=DescribeVpcEndpointServicePermissions&ServiceId={service}"},
		{name: "DescribeVpcEndpointServiceConfigurations", as: "provider", status: 200,
			form: "Action=DescribeVpcEndpointServiceConfigurations&ServiceId.1={service}"},
		{name: "consumer-CreateVpc", as: "consumer", status: 200, save: map[string]string{"cvpc": "vpcId"},
			form: "Action=CreateVpc&CidrBlock=10.1.0.0/16"},
		{name: "consumer-CreateSubnet", as: "consumer", status: 200, save: map[string]string{"csubnet": "subnetId"},
			form: "Action=CreateSubnet&VpcId={cvpc}&CidrBlock=10.1.1.0/24&AvailabilityZoneId=use1-az1"},
		{name: "DescribeVpcEndpointServices", as: "consumer", status: 200, form: "Action=DescribeVpcEndpointServices"},
		{name: "CreateVpcEndpoint", as: "consumer", status: 200, save: map[string]string{"endpoint": "vpcEndpointId"},
			form: "Action=CreateVpcEndpoint&VpcEndpointType=Interface&VpcId={cvpc}&ServiceName={serviceName}&SubnetId.1={csubnet}&ClientToken=ep-1"},
		{name: "DescribeVpcEndpointConnections", as: "provider", status: 200, form: "Action=DescribeVpcEndpointConnections"},
		{name: "AcceptVpcEndpointConnections", as: "provider", status: 200,
			form: "Action=AcceptVpcEndpointConnections&ServiceId={service}&VpcEndpointId.1={endpoint}&VpcEndpointId.2=vpce-0000000000000000a"},
		{name: "DescribeVpcEndpoints", as: "consumer", status: 200,
			before: func(t *testing.T, v map[string]string) {
				if err := cloud.SetEndpointAvailable(ctx, v["endpoint"]); err != nil {
					t.Fatal(err)
				}
			},
			form: "Action=DescribeVpcEndpoints&VpcEndpointId.1={endpoint}"},
		{name: "consumer-DescribeNetworkInterfaces", as: "consumer", status: 200, form: "Action=DescribeNetworkInterfaces"},
		{name: "RejectVpcEndpointConnections", as: "provider", status: 200,
			form: "Action=RejectVpcEndpointConnections&ServiceId={service}&VpcEndpointId.1={endpoint}"},
		{name: "DeleteVpcEndpoints", as: "consumer", status: 200,
			form: "Action=DeleteVpcEndpoints&VpcEndpointId.1={endpoint}&VpcEndpointId.2=vpce-0000000000000000b"},
		{name: "DeleteVpcEndpointServiceConfigurations", as: "provider", status: 200,
			form: "Action=DeleteVpcEndpointServiceConfigurations&ServiceId.1={service}&ServiceId.2=vpce-svc-0000000000000000c"},
		{name: "TerminateInstances", as: "provider", status: 200, form: "Action=TerminateInstances&InstanceId.1={instance}"},
		{name: "DeleteSecurityGroup-in-use", as: "provider", status: 400, form: "Action=DeleteSecurityGroup&GroupId={sg}"},
		{name: "DescribeInstances-terminated", as: "provider", status: 200,
			before: func(t *testing.T, v map[string]string) {
				if err := cloud.FinishTermination(ctx, v["instance"]); err != nil {
					t.Fatal(err)
				}
			},
			form: "Action=DescribeInstances"},
		{name: "DeleteSecurityGroup", as: "provider", status: 200, form: "Action=DeleteSecurityGroup&GroupId={sg}"},
		{name: "DeleteSubnet", as: "consumer", status: 200,
			before: func(t *testing.T, v map[string]string) {
				if err := cloud.FinishEndpointDeletion(ctx, v["endpoint"]); err != nil {
					t.Fatal(err)
				}
			},
			form: "Action=DeleteSubnet&SubnetId={csubnet}"},
		{name: "DeleteVpc", as: "consumer", status: 200, form: "Action=DeleteVpc&VpcId={cvpc}"},
		{name: "DeleteVpc-dependencies", as: "provider", status: 400, form: "Action=DeleteVpc&VpcId={vpc}"},

		// Protocol errors.
		{name: "error-InvalidAction", as: "provider", status: 400, form: "Action=DescribeKeyPairs"},
		{name: "error-MissingAction", as: "provider", status: 400, form: "VpcId.1={vpc}"},
		{name: "error-UnknownParameter", as: "provider", status: 400, form: "Action=DescribeVpcs&Bogus=1"},
		{name: "error-MissingParameter", as: "provider", status: 400, form: "Action=DeleteVpc"},
		{name: "error-InvalidParameterValue", as: "provider", status: 400, form: "Action=DescribeVpcs&MaxResults=many"},
		{name: "error-DryRunOperation", as: "provider", status: 412, form: "Action=CreateVpc&CidrBlock=10.9.0.0/16&DryRun=true"},
		{name: "error-Filter", as: "provider", status: 400, form: "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc}"},
		{name: "error-MaxResults", as: "provider", status: 400, form: "Action=DescribeSubnets&MaxResults=2"},
		{name: "error-NextToken", as: "provider", status: 400, form: "Action=DescribeSubnets&NextToken=bogus"},
		{name: "error-InvalidVpcID.NotFound", as: "consumer", status: 400, form: "Action=DescribeVpcs&VpcId.1={vpc}"},
	}
	runGolden(t, h, callers, v, "handler", steps)
}

// runGolden sends each step's request to the handler as its caller, checks
// the status, compares the answer with testdata/<dir>/<NN>-<name>.xml and
// saves the values the step names into v.
func runGolden(t *testing.T, h *ec2.Handler, callers map[string]core.Caller, v map[string]string, dir string, steps []goldenStep) {
	t.Helper()
	for i, s := range steps {
		if s.before != nil {
			s.before(t, v)
		}
		form := s.form
		for k, val := range v {
			form = strings.ReplaceAll(form, "{"+k+"}", val)
		}
		var hr *http.Request
		var body []byte
		if s.get {
			hr = httptest.NewRequest(http.MethodGet, "/?"+form, nil)
		} else {
			body = []byte(form + "&Version=2016-11-15")
			hr = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			hr.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
		rec := httptest.NewRecorder()
		h.Handle(rec, &api.Request{
			ID:      fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1),
			Caller:  callers[s.as],
			Service: "ec2",
			Region:  "us-east-1",
			HTTP:    hr,
			Body:    body,
		})
		got := rec.Body.Bytes()
		if rec.Code != s.status {
			t.Fatalf("step %d %s: status %d, want %d\n%s", i+1, s.name, rec.Code, s.status, got)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/xml;charset=UTF-8" {
			t.Errorf("step %d %s: Content-Type %q", i+1, s.name, ct)
		}
		querytest.Golden(t, filepath.Join("testdata", dir, fmt.Sprintf("%02d-%s.xml", i+1, s.name)), got, *update)
		for name, elem := range s.save {
			m := regexp.MustCompile("<" + regexp.QuoteMeta(elem) + ">([^<]*)</").FindSubmatch(got)
			if m == nil {
				t.Fatalf("step %d %s: no <%s> in\n%s", i+1, s.name, elem, got)
			}
			v[name] = string(m[1])
		}
	}
}

// TestEveryOperationServed checks that the handler serves each generated
// operation: an unserved one would answer InvalidAction.
func TestEveryOperationServed(t *testing.T) {
	cloud := newCloud(t)
	h := ec2.New(cloud, nil)
	for _, name := range ec2.OperationNames() {
		t.Run(name, func(t *testing.T) {
			body := []byte("Action=" + name + "&Version=2016-11-15")
			op, _ := ec2.LookupOperation(name)
			if reflect.ValueOf(op.NewInput()).Elem().FieldByName("DryRun").IsValid() {
				body = append(body, "&DryRun=true"...) // ModifyVpcAttribute has no DryRun
			}
			hr := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.Handle(rec, &api.Request{ID: "r", Caller: bootstrap, HTTP: hr, Body: body})
			// Required parameters are missing, so a served operation says
			// MissingParameter or, with none required, DryRunOperation.
			got := rec.Body.String()
			if !strings.Contains(got, "<Code>MissingParameter</Code>") && !strings.Contains(got, "<Code>DryRunOperation</Code>") {
				t.Errorf("%s: %d %s", name, rec.Code, got)
			}
		})
	}
}
