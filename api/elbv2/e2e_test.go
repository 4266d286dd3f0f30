package elbv2_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	sdk "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/internal/testserver"
)

// e2eClients are SDK v2 clients of an in-process privlink (the whole
// control plane: API server, core, reconciler), as the bootstrap account.
func e2eClients(t *testing.T) (*testserver.Server, *ec2.Client, *sdk.Client) {
	t.Helper()
	s := testserver.Start(t)
	cfg := s.AWSConfig(testserver.Bootstrap)
	// querytest's buffering transport: the workaround for aws-sdk-go-v2
	// issue 2737 against fast in-process servers.
	cfg.HTTPClient = &http.Client{Transport: querytest.BufferBodies(http.DefaultTransport)}
	return s, ec2.NewFromConfig(cfg), sdk.NewFromConfig(cfg)
}

// apiCode is the AWS error code of err, and whether the SDK read the
// response as a 400.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an API error", err)
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("%s: not a 400: %v", apiErr.ErrorCode(), err)
	}
	return apiErr.ErrorCode()
}

func attrsOf[T any](list []T, kv func(T) (string, string)) map[string]string {
	m := map[string]string{}
	for _, a := range list {
		k, v := kv(a)
		m[k] = v
	}
	return m
}

func tgKV(a types.TargetGroupAttribute) (string, string) {
	return aws.ToString(a.Key), aws.ToString(a.Value)
}
func lbKV(a types.LoadBalancerAttribute) (string, string) {
	return aws.ToString(a.Key), aws.ToString(a.Value)
}
func lisKV(a types.ListenerAttribute) (string, string) {
	return aws.ToString(a.Key), aws.ToString(a.Value)
}
func tgAttr(k, v string) types.TargetGroupAttribute {
	return types.TargetGroupAttribute{Key: aws.String(k), Value: aws.String(v)}
}
func lbAttr(k, v string) types.LoadBalancerAttribute {
	return types.LoadBalancerAttribute{Key: aws.String(k), Value: aws.String(v)}
}
func listenerAttr(k, v string) types.ListenerAttribute {
	return types.ListenerAttribute{Key: aws.String(k), Value: aws.String(v)}
}

// TestEndToEndAttributesHealthChecksDraining drives issue 4's ELBv2
// control plane with the AWS SDK for Go v2 against a whole in-process
// privlink: attributes of all three kinds with their defaults, ranges and
// errors, HTTP health checks and ModifyTargetGroup, deletion protection,
// and deregistration draining.
func TestEndToEndAttributesHealthChecksDraining(t *testing.T) {
	s, ec, lbc := e2eClients(t)
	ctx := context.Background()

	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16")})
	if err != nil {
		t.Fatalf("CreateVpc: %v", err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.7.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatalf("CreateSubnet: %v", err)
	}
	subnetID := aws.ToString(sub.Subnet.SubnetId)
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), SubnetId: aws.String(subnetID),
		InstanceType: ec2types.InstanceTypeT3Micro,
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	i1, i2 := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)

	lbOut, err := lbc.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
		Name: aws.String("e2e-nlb"), Type: types.LoadBalancerTypeEnumNetwork, Scheme: types.LoadBalancerSchemeEnumInternal, Subnets: []string{subnetID},
	})
	if err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	lbARN := aws.ToString(lbOut.LoadBalancers[0].LoadBalancerArn)

	// An HTTP health check takes AWS's defaults for network load balancers.
	tgOut, err := lbc.CreateTargetGroup(ctx, &sdk.CreateTargetGroupInput{
		Name: aws.String("e2e-web"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(80), VpcId: aws.String(vpcID),
		HealthCheckProtocol: types.ProtocolEnumHttp,
	})
	if err != nil {
		t.Fatalf("CreateTargetGroup: %v", err)
	}
	g := tgOut.TargetGroups[0]
	tgARN := aws.ToString(g.TargetGroupArn)
	if g.HealthCheckProtocol != types.ProtocolEnumHttp || aws.ToString(g.HealthCheckPath) != "/" || g.Matcher == nil ||
		aws.ToString(g.Matcher.HttpCode) != "200-399" || aws.ToInt32(g.HealthCheckTimeoutSeconds) != 6 ||
		aws.ToInt32(g.HealthCheckIntervalSeconds) != 30 || aws.ToString(g.HealthCheckPort) != "traffic-port" {
		t.Errorf("HTTP health check defaults: %s", toJSON(g))
	}
	lOut, err := lbc.CreateListener(ctx, &sdk.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
	})
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	listenerARN := aws.ToString(lOut.Listeners[0].ListenerArn)

	t.Run("ModifyTargetGroup", func(t *testing.T) {
		out, err := lbc.ModifyTargetGroup(ctx, &sdk.ModifyTargetGroupInput{
			TargetGroupArn: aws.String(tgARN), HealthCheckPath: aws.String("/healthz"), Matcher: &types.Matcher{HttpCode: aws.String("200,204")},
			HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(2), HealthCheckPort: aws.String("8080"),
		})
		if err != nil {
			t.Fatalf("ModifyTargetGroup: %v", err)
		}
		g := out.TargetGroups[0]
		if aws.ToString(g.HealthCheckPath) != "/healthz" || aws.ToString(g.Matcher.HttpCode) != "200,204" || aws.ToInt32(g.HealthCheckIntervalSeconds) != 10 ||
			aws.ToInt32(g.HealthyThresholdCount) != 2 || aws.ToString(g.HealthCheckPort) != "8080" || aws.ToInt32(g.HealthCheckTimeoutSeconds) != 6 ||
			len(g.LoadBalancerArns) != 1 {
			t.Errorf("modified: %s", toJSON(g))
		}
		_, err = lbc.ModifyTargetGroup(ctx, &sdk.ModifyTargetGroupInput{TargetGroupArn: aws.String(tgARN), HealthCheckTimeoutSeconds: aws.Int32(11)})
		if !isA[*types.InvalidConfigurationRequestException](err) || apiCode(t, err) != "InvalidConfigurationRequest" {
			t.Errorf("timeout above interval: %v", err)
		}
		out, err = lbc.ModifyTargetGroup(ctx, &sdk.ModifyTargetGroupInput{TargetGroupArn: aws.String(tgARN), HealthCheckProtocol: types.ProtocolEnumTcp})
		if err != nil {
			t.Fatalf("ModifyTargetGroup to TCP: %v", err)
		}
		if g := out.TargetGroups[0]; g.HealthCheckPath != nil || g.Matcher != nil || g.HealthCheckProtocol != types.ProtocolEnumTcp {
			t.Errorf("TCP check still has HTTP settings: %s", toJSON(g))
		}
	})

	t.Run("target group attributes", func(t *testing.T) {
		d, err := lbc.DescribeTargetGroupAttributes(ctx, &sdk.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			t.Fatal(err)
		}
		m := attrsOf(d.Attributes, tgKV)
		if len(d.Attributes) != 13 || m["deregistration_delay.timeout_seconds"] != "300" || m["proxy_protocol_v2.enabled"] != "false" ||
			m["preserve_client_ip.enabled"] != "true" || m["load_balancing.cross_zone.enabled"] != "use_load_balancer_configuration" {
			t.Errorf("defaults: %v", m)
		}
		out, err := lbc.ModifyTargetGroupAttributes(ctx, &sdk.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN),
			Attributes: []types.TargetGroupAttribute{tgAttr("proxy_protocol_v2.enabled", "true"), tgAttr("deregistration_delay.timeout_seconds", "120")}})
		if err != nil {
			t.Fatal(err)
		}
		if m := attrsOf(out.Attributes, tgKV); len(out.Attributes) != 13 || m["proxy_protocol_v2.enabled"] != "true" || m["deregistration_delay.timeout_seconds"] != "120" {
			t.Errorf("after modify: %v", m)
		}
		for _, tc := range []struct {
			attrs []types.TargetGroupAttribute
			code  string
			typed func(error) bool
		}{
			{[]types.TargetGroupAttribute{tgAttr("deregistration_delay.timeout_seconds", "3601")}, "ValidationError", notTyped},
			{[]types.TargetGroupAttribute{tgAttr("idle_timeout.timeout_seconds", "60")}, "ValidationError", notTyped},
			{[]types.TargetGroupAttribute{tgAttr("deregistration_delay.timeout_seconds", "0"), tgAttr("stickiness.type", "lb_cookie")},
				"InvalidConfigurationRequest", isA[*types.InvalidConfigurationRequestException]},
		} {
			_, err := lbc.ModifyTargetGroupAttributes(ctx, &sdk.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN), Attributes: tc.attrs})
			if err == nil || apiCode(t, err) != tc.code || !tc.typed(err) {
				t.Errorf("%s: got %v, want %s", toJSON(tc.attrs), err, tc.code)
			}
		}
		d, err = lbc.DescribeTargetGroupAttributes(ctx, &sdk.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			t.Fatal(err)
		}
		if m := attrsOf(d.Attributes, tgKV); m["deregistration_delay.timeout_seconds"] != "120" || m["stickiness.type"] != "source_ip" {
			t.Errorf("a refused request changed attributes: %v", m)
		}
	})

	t.Run("listener attributes", func(t *testing.T) {
		d, err := lbc.DescribeListenerAttributes(ctx, &sdk.DescribeListenerAttributesInput{ListenerArn: aws.String(listenerARN)})
		if err != nil {
			t.Fatal(err)
		}
		if m := attrsOf(d.Attributes, lisKV); len(m) != 1 || m["tcp.idle_timeout.seconds"] != "350" {
			t.Errorf("defaults: %v", m)
		}
		out, err := lbc.ModifyListenerAttributes(ctx, &sdk.ModifyListenerAttributesInput{ListenerArn: aws.String(listenerARN),
			Attributes: []types.ListenerAttribute{listenerAttr("tcp.idle_timeout.seconds", "6000")}})
		if err != nil {
			t.Fatal(err)
		}
		if m := attrsOf(out.Attributes, lisKV); m["tcp.idle_timeout.seconds"] != "6000" {
			t.Errorf("after modify: %v", m)
		}
		_, err = lbc.ModifyListenerAttributes(ctx, &sdk.ModifyListenerAttributesInput{ListenerArn: aws.String(listenerARN),
			Attributes: []types.ListenerAttribute{listenerAttr("tcp.idle_timeout.seconds", "6001")}})
		if err == nil || apiCode(t, err) != "ValidationError" {
			t.Errorf("6001 s: %v", err)
		}
		ls, err := s.Cloud.DescribeListeners(ctx, bootstrap, core.DescribeListenersInput{ListenerARNs: []string{listenerARN}})
		if err != nil || ls[0].IdleTimeoutSeconds() != 6000 {
			t.Errorf("core sees %v, %v", ls, err)
		}
	})

	t.Run("deletion protection", func(t *testing.T) {
		out, err := lbc.ModifyLoadBalancerAttributes(ctx, &sdk.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(lbARN),
			Attributes: []types.LoadBalancerAttribute{lbAttr("deletion_protection.enabled", "true")}})
		if err != nil {
			t.Fatal(err)
		}
		m := attrsOf(out.Attributes, lbKV)
		if m["deletion_protection.enabled"] != "true" || m["ipv6.deny_all_igw_traffic"] != "true" || m["load_balancing.cross_zone.enabled"] != "false" {
			t.Errorf("after modify: %v", m)
		}
		_, err = lbc.DeleteLoadBalancer(ctx, &sdk.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbARN)})
		if !isA[*types.OperationNotPermittedException](err) || apiCode(t, err) != "OperationNotPermitted" {
			t.Errorf("DeleteLoadBalancer with deletion protection: %v", err)
		}
		if _, err := lbc.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}}); err != nil {
			t.Errorf("protected load balancer gone: %v", err)
		}
		_, err = lbc.ModifyLoadBalancerAttributes(ctx, &sdk.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(lbARN),
			Attributes: []types.LoadBalancerAttribute{lbAttr("deletion_protection.enabled", "false")}})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("draining", func(t *testing.T) {
		targets := []types.TargetDescription{{Id: aws.String(i1)}, {Id: aws.String(i2)}}
		if _, err := lbc.RegisterTargets(ctx, &sdk.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets}); err != nil {
			t.Fatal(err)
		}
		states := func() map[string]types.TargetHealth {
			t.Helper()
			out, err := lbc.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]types.TargetHealth{}
			for _, d := range out.TargetHealthDescriptions {
				m[aws.ToString(d.Target.Id)] = *d.TargetHealth
			}
			return m
		}
		if _, err := lbc.DeregisterTargets(ctx, &sdk.DeregisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets[:1]}); err != nil {
			t.Fatal(err)
		}
		h := states()[i1]
		if h.State != types.TargetHealthStateEnumDraining || h.Reason != types.TargetHealthReasonEnumDeregistrationInProgress ||
			aws.ToString(h.Description) != "Target deregistration is in progress" {
			t.Errorf("deregistered target: %s", toJSON(h))
		}
		// Registering it again cancels the drain.
		if _, err := lbc.RegisterTargets(ctx, &sdk.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets[:1]}); err != nil {
			t.Fatal(err)
		}
		if h := states()[i1]; h.State == types.TargetHealthStateEnumDraining {
			t.Errorf("re-registered target still draining: %s", toJSON(h))
		}
		// With a delay of 0 a target leaves at once, which the SDK's own
		// waiter sees on its first look.
		if _, err := lbc.ModifyTargetGroupAttributes(ctx, &sdk.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN),
			Attributes: []types.TargetGroupAttribute{tgAttr("deregistration_delay.timeout_seconds", "0")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := lbc.DeregisterTargets(ctx, &sdk.DeregisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets[1:]}); err != nil {
			t.Fatal(err)
		}
		waiter := sdk.NewTargetDeregisteredWaiter(lbc)
		if err := waiter.Wait(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN), Targets: targets[1:]}, time.Minute); err != nil {
			t.Errorf("TargetDeregistered waiter: %v", err)
		}
		if m := states(); len(m) != 1 {
			t.Errorf("targets left: %v", toJSON(m))
		}
	})

	if _, err := lbc.DeleteLoadBalancer(ctx, &sdk.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbARN)}); err != nil {
		t.Errorf("DeleteLoadBalancer without protection: %v", err)
	}
}
