package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api/admin"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/explain"
	"github.com/privlink/privlink/internal/testserver"
)

// path is a provider's service (load balancer, listener on tcp/8022, one
// instance target) and a consumer's instance and endpoint, built through
// core on a running in-process server (no lab: objects go straight to
// their ready states).
type path struct {
	srv                 *testserver.Server
	provider, consumer  testserver.Account
	client, target      string // instance IDs
	endpoint, service   string
	targetGroup, tgName string
	endpointGroup       string
}

// buildPath builds the path; with oneAccount the provider is its own
// consumer.
func buildPath(t *testing.T, oneAccount bool) path {
	t.Helper()
	ctx := context.Background()
	srv := testserver.Start(t)
	p := path{srv: srv, provider: testserver.Bootstrap, consumer: testserver.Bootstrap, tgName: "explain-tg"}
	if !oneAccount {
		p.consumer = srv.NewAccount(t)
	}
	pc := core.Caller{AccountID: p.provider.ID, Admin: true}
	cc := core.Caller{AccountID: p.consumer.ID}
	c := srv.Cloud
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	network := func(caller core.Caller) (string, string) {
		vpc, err := c.CreateVpc(ctx, caller, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
		must(err)
		sub, err := c.CreateSubnet(ctx, caller, core.CreateSubnetInput{VpcID: vpc.ID, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1a"})
		must(err)
		return vpc.ID, sub.ID
	}
	group := func(caller core.Caller, vpcID, name string, port, to int32, cidr string) string {
		sg, err := c.CreateSecurityGroup(ctx, caller, core.CreateSecurityGroupInput{GroupName: name, Description: name, VpcID: vpcID})
		must(err)
		_, err = c.AuthorizeSecurityGroupIngress(ctx, caller, core.SecurityGroupRulesInput{GroupID: sg.ID,
			IPPermissions: []core.IPPermission{{IPProtocol: "tcp", FromPort: &port, ToPort: &to, IPRanges: []core.IPRange{{CIDR: cidr}}}}})
		must(err)
		return sg.ID
	}
	one := int32(1)
	instance := func(caller core.Caller, subnetID, sg string) string {
		res, err := c.RunInstances(ctx, caller, core.RunInstancesInput{ImageID: "ami-12345678", SubnetID: subnetID, MinCount: &one, MaxCount: &one, SecurityGroupIDs: []string{sg}})
		must(err)
		id := res.Instances[0].ID
		waitFor(t, "instance running", func() bool {
			rs, err := c.DescribeInstances(ctx, caller, core.DescribeInstancesInput{InstanceIDs: []string{id}})
			must(err)
			return rs[0].Instances[0].State == core.InstanceRunning
		})
		return id
	}

	pVPC, pSub := network(pc)
	p.target = instance(pc, pSub, group(pc, pVPC, "ssh", 22, 22, "10.0.0.0/16"))
	lb, err := c.CreateLoadBalancer(ctx, pc, core.CreateLoadBalancerInput{Name: "explain-nlb", Type: "network", Scheme: "internal", Subnets: []string{pSub}})
	must(err)
	port := int32(22)
	tg, err := c.CreateTargetGroup(ctx, pc, core.CreateTargetGroupInput{Name: p.tgName, Protocol: "TCP", Port: &port, VpcID: pVPC})
	must(err)
	p.targetGroup = tg.ARN
	must(c.RegisterTargets(ctx, pc, tg.ARN, []core.TargetDescription{{ID: p.target}}))
	_, err = c.CreateListener(ctx, pc, core.CreateListenerInput{LoadBalancerARN: lb.ARN, Protocol: "TCP", Port: 8022,
		DefaultActions: []core.ListenerActionInput{{Type: "forward", TargetGroupARN: tg.ARN}}})
	must(err)
	svc, err := c.CreateVpcEndpointServiceConfiguration(ctx, pc, core.CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lb.ARN}})
	must(err)
	p.service = svc.ID
	if !oneAccount {
		_, err = c.ModifyVpcEndpointServicePermissions(ctx, pc, core.ModifyVpcEndpointServicePermissionsInput{
			ServiceID: svc.ID, AddAllowedPrincipals: []string{"arn:aws:iam::" + p.consumer.ID + ":root"}})
		must(err)
	}

	cVPC, cSub := network(cc)
	egress := group(cc, cVPC, "client", 1, 1, "10.9.9.9/32") // the default egress rule lets everything out
	p.client = instance(cc, cSub, egress)
	p.endpointGroup = group(cc, cVPC, "from-vpc", 8000, 8099, "10.0.0.0/16")
	ep, err := c.CreateVpcEndpoint(ctx, cc, core.CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: cVPC, ServiceName: svc.ServiceName,
		SubnetIDs: []string{cSub}, SecurityGroupIDs: []string{p.endpointGroup}})
	must(err)
	p.endpoint = ep.ID
	waitFor(t, "endpoint available", func() bool {
		eps, err := c.DescribeVpcEndpoints(ctx, cc, []string{ep.ID})
		must(err)
		return eps[0].State == core.EndpointAvailable
	})
	return p
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p path) as(a testserver.Account) *admin.Client {
	return &admin.Client{Endpoint: p.srv.URL, AccessKey: a.AccessKey, SecretKey: a.SecretKey}
}

func TestExplainFlow(t *testing.T) {
	ctx := context.Background()
	p := buildPath(t, false)
	flow := explain.Query{SourceInstanceID: p.client, EndpointID: p.endpoint, Port: 8022}

	t.Run("consumer sees delivered, without the provider's objects", func(t *testing.T) {
		res, err := p.as(p.consumer).ExplainFlow(ctx, flow)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != explain.Delivered || len(res.Steps) != 9 {
			t.Fatalf("verdict %s after %d steps: %+v", res.Verdict, len(res.Steps), res)
		}
		js, _ := json.Marshal(res)
		for _, secret := range []string{p.target, p.tgName, "explain-nlb", p.targetGroup} {
			if strings.Contains(string(js), secret) {
				t.Errorf("the consumer is shown the provider's %s:\n%s", secret, js)
			}
		}
		if !strings.Contains(string(js), p.endpointGroup) {
			t.Errorf("the consumer is not shown its own endpoint group %s:\n%s", p.endpointGroup, js)
		}
	})

	t.Run("the provider owns neither end", func(t *testing.T) {
		_, err := p.as(p.provider).ExplainFlow(ctx, flow)
		var e *admin.Error
		if !errors.As(err, &e) || e.StatusCode != 400 || e.Code != "InvalidInstanceID.NotFound" {
			t.Fatalf("err %v, want 400 InvalidInstanceID.NotFound", err)
		}
	})

	cases := []struct {
		name     string
		q        explain.Query
		verdict  explain.Verdict
		decided  string
		contains string
		code     string
	}{
		{name: "no listener", q: explain.Query{SourceInstanceID: p.client, EndpointID: p.endpoint, Port: 8023},
			verdict: explain.Refused, decided: explain.StepListener, contains: "has no listener on tcp/8023"},
		{name: "endpoint group does not admit the port", q: explain.Query{SourceInstanceID: p.client, EndpointID: p.endpoint, Port: 22},
			verdict: explain.Dropped, decided: explain.StepEndpointIngress, contains: "security groups " + p.endpointGroup + " have no inbound rule"},
		{name: "port out of range", q: explain.Query{SourceInstanceID: p.client, EndpointID: p.endpoint, Port: 0}, code: "ValidationException"},
		{name: "unknown endpoint", q: explain.Query{SourceInstanceID: p.client, EndpointID: "vpce-0123456789abcdef0", Port: 8022}, code: "InvalidVpcEndpointId.NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := p.as(p.consumer).ExplainFlow(ctx, tc.q)
			if tc.code != "" {
				var e *admin.Error
				if !errors.As(err, &e) || e.Code != tc.code {
					t.Fatalf("err %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict || res.DecidedBy != tc.decided || !strings.Contains(res.Summary, tc.contains) {
				t.Fatalf("got %s at %s: %q; want %s at %s containing %q", res.Verdict, res.DecidedBy, res.Summary, tc.verdict, tc.decided, tc.contains)
			}
		})
	}

	t.Run("rejected endpoint", func(t *testing.T) {
		if _, err := p.srv.Cloud.RejectVpcEndpointConnections(ctx, core.Caller{AccountID: p.provider.ID, Admin: true}, p.service, []string{p.endpoint}); err != nil {
			t.Fatal(err)
		}
		res, err := p.as(p.consumer).ExplainFlow(ctx, flow)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != explain.Dropped || res.DecidedBy != explain.StepEndpointState || !strings.Contains(res.Summary, "rejected") {
			t.Fatalf("got %s at %s: %q", res.Verdict, res.DecidedBy, res.Summary)
		}
	})
}

// TestExplainFlowOwnPath: an account that owns the whole path sees every
// object on it by ID.
func TestExplainFlowOwnPath(t *testing.T) {
	p := buildPath(t, true)
	res, err := p.as(p.provider).ExplainFlow(context.Background(), explain.Query{SourceInstanceID: p.client, EndpointID: p.endpoint, Port: 8022})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != explain.Delivered {
		t.Fatalf("verdict %s: %+v", res.Verdict, res)
	}
	js, _ := json.Marshal(res)
	for _, want := range []string{p.target, p.tgName, "explain-nlb"} {
		if !strings.Contains(string(js), want) {
			t.Errorf("the owner is not shown %s:\n%s", want, js)
		}
	}
	if ts := res.Steps[len(res.Steps)-1].Targets; len(ts) != 1 || ts[0].ID != p.target || ts[0].Admits == nil || !*ts[0].Admits {
		t.Errorf("target-admission targets %+v", ts)
	}
}
