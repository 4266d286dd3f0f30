package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/internal/testserver"
)

// explainPath builds, as the bootstrap account on an in-process server, an
// instance and an endpoint in one VPC whose service's load balancer
// listens on tcp/8022 and forwards to another instance; the endpoint's
// group admits tcp/8022 from the VPC. It returns the server's URL, the
// client instance and the endpoint.
func explainPath(t *testing.T) (url, client, endpoint string) {
	t.Helper()
	ctx := context.Background()
	srv := testserver.Start(t)
	c, me := srv.Cloud, core.Caller{AccountID: core.BootstrapAccountID, Admin: true}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpc, err := c.CreateVpc(ctx, me, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
	must(err)
	sub, err := c.CreateSubnet(ctx, me, core.CreateSubnetInput{VpcID: vpc.ID, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1a"})
	must(err)
	from, to := int32(0), int32(65535)
	sg, err := c.CreateSecurityGroup(ctx, me, core.CreateSecurityGroupInput{GroupName: "open", Description: "open", VpcID: vpc.ID})
	must(err)
	_, err = c.AuthorizeSecurityGroupIngress(ctx, me, core.SecurityGroupRulesInput{GroupID: sg.ID,
		IPPermissions: []core.IPPermission{{IPProtocol: "tcp", FromPort: &from, ToPort: &to, IPRanges: []core.IPRange{{CIDR: "10.0.0.0/16"}}}}})
	must(err)
	one := int32(1)
	var ids []string
	for range 2 {
		res, err := c.RunInstances(ctx, me, core.RunInstancesInput{ImageID: "ami-12345678", SubnetID: sub.ID, MinCount: &one, MaxCount: &one, SecurityGroupIDs: []string{sg.ID}})
		must(err)
		ids = append(ids, res.Instances[0].ID)
	}
	lb, err := c.CreateLoadBalancer(ctx, me, core.CreateLoadBalancerInput{Name: "nlb", Type: "network", Scheme: "internal", Subnets: []string{sub.ID}})
	must(err)
	port := int32(22)
	tg, err := c.CreateTargetGroup(ctx, me, core.CreateTargetGroupInput{Name: "tg", Protocol: "TCP", Port: &port, VpcID: vpc.ID})
	must(err)
	must(c.RegisterTargets(ctx, me, tg.ARN, []core.TargetDescription{{ID: ids[1]}}))
	_, err = c.CreateListener(ctx, me, core.CreateListenerInput{LoadBalancerARN: lb.ARN, Protocol: "TCP", Port: 8022,
		DefaultActions: []core.ListenerActionInput{{Type: "forward", TargetGroupARN: tg.ARN}}})
	must(err)
	svc, err := c.CreateVpcEndpointServiceConfiguration(ctx, me, core.CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lb.ARN}})
	must(err)
	ep, err := c.CreateVpcEndpoint(ctx, me, core.CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: vpc.ID, ServiceName: svc.ServiceName,
		SubnetIDs: []string{sub.ID}, SecurityGroupIDs: []string{sg.ID}})
	must(err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := c.LoadSnapshot(ctx)
		must(err)
		if s.Instances[ids[0]].State == core.InstanceRunning && s.Instances[ids[1]].State == core.InstanceRunning && s.Endpoints[ep.ID].State == core.EndpointAvailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for instances and endpoint")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv.URL, ids[0], ep.ID
}

func TestExplainCommand(t *testing.T) {
	url, client, endpoint := explainPath(t)
	t.Setenv("AWS_ACCESS_KEY_ID", core.BootstrapAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", core.BootstrapSecretKey)
	run := func(args ...string) (stdout, stderr string, status int) {
		root := newRoot()
		var out, errb bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errb)
		root.SetArgs(append([]string{"explain", "--endpoint-url", url}, args...))
		err := root.Execute()
		var ee exitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			status = int(ee)
		default:
			t.Fatalf("explain %q: %v (main would exit 1 with it)", args, err)
		}
		return out.String(), errb.String(), status
	}
	tests := []struct {
		name   string
		args   []string
		status int
		out    string // in stdout
		errOut string // in stderr
	}{
		{"delivered", []string{"--source", client, "--endpoint", endpoint, "--port", "8022"}, 0, "verdict: delivered", ""},
		{"refused", []string{"--source", client, "--endpoint", endpoint, "--port", "8023"}, 1, "✗ listener", ""},
		{"json", []string{"--source", client, "--endpoint", endpoint, "--port", "8023", "-o", "json"}, 1, `"Verdict": "refused"`, ""},
		{"unknown instance", []string{"--source", "i-0123456789abcdef0", "--endpoint", endpoint, "--port", "8022"}, 2, "", "InvalidInstanceID.NotFound"},
		{"no source", []string{"--endpoint", endpoint, "--port", "8022"}, 2, "", "name the source"},
		{"two sources", []string{"--source", client, "--source-ip", "10.0.1.4", "--vpc", "vpc-1", "--endpoint", endpoint, "--port", "8022"}, 2, "", "name the source"},
		{"source ip without vpc", []string{"--source-ip", "10.0.1.4", "--endpoint", endpoint, "--port", "8022"}, 2, "", "--source-ip needs --vpc"},
		{"no destination", []string{"--source", client, "--port", "8022"}, 2, "", "name the destination"},
		{"no port", []string{"--source", client, "--endpoint", endpoint}, 2, "", "--port"},
		{"bad output", []string{"--source", client, "--endpoint", endpoint, "--port", "8022", "-o", "yaml"}, 2, "", "--output"},
		{"unknown flag", []string{"--sauce", client}, 2, "", "unknown flag"},
		{"arguments", []string{"i-1"}, 2, "", "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := run(tt.args...)
			if status != tt.status || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.errOut) {
				t.Fatalf("status %d (want %d)\nstdout:\n%s\nstderr:\n%s", status, tt.status, out, errOut)
			}
			if strings.Contains(tt.name, "json") && !json.Valid([]byte(out)) {
				t.Errorf("--output json printed invalid JSON:\n%s", out)
			}
		})
	}
}
