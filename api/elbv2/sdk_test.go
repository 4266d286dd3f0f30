package elbv2_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
)

// server is privlink's front door serving ELBv2 over a world, with an SDK
// client signed by the bootstrap account.
type server struct {
	*world
	url    string
	client *sdk.Client
}

func newServer(t *testing.T) *server {
	t.Helper()
	w := newWorld(t, false)
	log := slog.New(slog.DiscardHandler)
	handlers := map[string]api.Handler{"elasticloadbalancing": elbv2.New(w.cloud, log)}
	hs := httptest.NewServer(api.NewServer(api.DefaultConfig(), w.cloud, handlers, log))
	t.Cleanup(hs.Close)
	// querytest's client buffers request bodies: the workaround for
	// aws-sdk-go-v2 issue 2737 against fast in-process servers.
	httpClient := (&querytest.Server{Server: hs}).HTTPClient()
	client := sdk.New(sdk.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(core.BootstrapAccessKey, core.BootstrapSecretKey, ""),
		BaseEndpoint: aws.String(hs.URL),
		HTTPClient:   httpClient,
		Retryer:      aws.NopRetryer{},
	})
	return &server{world: w, url: hs.URL, client: client}
}

// arnID is the last part of an ELBv2 ARN, the resource's ID in core.
func arnID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// TestSDKSeedScenario runs the walking skeleton's load balancing story
// through the AWS SDK for Go v2 and checks what it parses, field by field.
func TestSDKSeedScenario(t *testing.T) {
	s := newServer(t)
	c := s.client
	ctx := context.Background()
	subnet := s.subnets[0]
	start := time.Now()

	// An internal NLB in one subnet.
	created, err := c.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
		Name: aws.String("seed-nlb"), Type: types.LoadBalancerTypeEnumNetwork, Scheme: types.LoadBalancerSchemeEnumInternal,
		Subnets: []string{subnet.ID}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("seed")}},
	})
	if err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	if len(created.LoadBalancers) != 1 {
		t.Fatalf("CreateLoadBalancer returned %d load balancers", len(created.LoadBalancers))
	}
	lb := created.LoadBalancers[0]
	lbARN := aws.ToString(lb.LoadBalancerArn)
	id := arnID(lbARN)
	nodes, err := s.cloud.DescribeLoadBalancers(ctx, bootstrap, core.DescribeLoadBalancersInput{LoadBalancerARNs: []string{lbARN}})
	if err != nil {
		t.Fatal(err)
	}
	nodeIP := nodes[0].Nodes[0].PrivateIP
	if !netip.MustParsePrefix("10.0.1.0/24").Contains(nodeIP) {
		t.Errorf("node address %s is outside the subnet", nodeIP)
	}
	if !slices.Equal(nodes[0].Tags, []core.Tag{{Key: "Name", Value: "seed"}}) {
		t.Errorf("core has tags %v", nodes[0].Tags)
	}
	checkLB := func(t *testing.T, lb types.LoadBalancer, state types.LoadBalancerStateEnum) {
		t.Helper()
		checks := []struct{ field, got, want string }{
			{"LoadBalancerArn", lbARN, "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/seed-nlb/" + id},
			{"DNSName", aws.ToString(lb.DNSName), "seed-nlb-" + id + ".elb.us-east-1.amazonaws.com"},
			{"CanonicalHostedZoneId", aws.ToString(lb.CanonicalHostedZoneId), "Z26RNL4JYFTOTI"},
			{"LoadBalancerName", aws.ToString(lb.LoadBalancerName), "seed-nlb"},
			{"Scheme", string(lb.Scheme), "internal"},
			{"VpcId", aws.ToString(lb.VpcId), s.vpc.ID},
			{"State.Code", string(lb.State.Code), string(state)},
			{"Type", string(lb.Type), "network"},
			{"IpAddressType", string(lb.IpAddressType), "ipv4"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
			}
		}
		if lb.State.Reason != nil {
			t.Errorf("State.Reason = %q", *lb.State.Reason)
		}
		if lb.CreatedTime == nil || lb.CreatedTime.Before(start.Add(-time.Second)) || lb.CreatedTime.After(time.Now().Add(time.Second)) {
			t.Errorf("CreatedTime = %v, want about %v", lb.CreatedTime, start)
		}
		wantAZ := []types.AvailabilityZone{{
			ZoneName: aws.String("us-east-1a"), SubnetId: aws.String(subnet.ID),
			LoadBalancerAddresses: []types.LoadBalancerAddress{{PrivateIPv4Address: aws.String(nodeIP.String())}},
		}}
		if !sameJSON(lb.AvailabilityZones, wantAZ) {
			t.Errorf("AvailabilityZones = %s, want %s", toJSON(lb.AvailabilityZones), toJSON(wantAZ))
		}
		if lb.SecurityGroups != nil || lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic != nil || lb.CustomerOwnedIpv4Pool != nil {
			t.Errorf("security group or pool members on a network load balancer: %s", toJSON(lb))
		}
	}
	checkLB(t, lb, types.LoadBalancerStateEnumProvisioning)

	// Two TCP target groups with the default health checks.
	var tgARNs []string
	for _, tg := range []struct {
		name string
		port int32
	}{{"seed-ssh", 22}, {"seed-telnet", 23}} {
		out, err := c.CreateTargetGroup(ctx, &sdk.CreateTargetGroupInput{
			Name: aws.String(tg.name), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(tg.port), VpcId: aws.String(s.vpc.ID),
		})
		if err != nil {
			t.Fatalf("CreateTargetGroup %s: %v", tg.name, err)
		}
		got := out.TargetGroups[0]
		arn := aws.ToString(got.TargetGroupArn)
		want := types.TargetGroup{
			TargetGroupArn: aws.String(arn), TargetGroupName: aws.String(tg.name), Protocol: types.ProtocolEnumTcp,
			Port: aws.Int32(tg.port), VpcId: aws.String(s.vpc.ID), HealthCheckProtocol: types.ProtocolEnumTcp,
			HealthCheckPort: aws.String("traffic-port"), HealthCheckEnabled: aws.Bool(true),
			HealthCheckIntervalSeconds: aws.Int32(30), HealthCheckTimeoutSeconds: aws.Int32(10),
			HealthyThresholdCount: aws.Int32(5), UnhealthyThresholdCount: aws.Int32(2),
			TargetType: types.TargetTypeEnumInstance, IpAddressType: types.TargetGroupIpAddressTypeEnumIpv4,
		}
		if !sameJSON(got, want) {
			t.Errorf("CreateTargetGroup %s:\n got %s\nwant %s", tg.name, toJSON(got), toJSON(want))
		}
		if !strings.HasPrefix(arn, "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/"+tg.name+"/") {
			t.Errorf("TargetGroupArn = %s", arn)
		}
		tgARNs = append(tgARNs, arn)
	}

	// Both instances in both groups.
	for _, arn := range tgARNs {
		_, err := c.RegisterTargets(ctx, &sdk.RegisterTargetsInput{
			TargetGroupArn: aws.String(arn),
			Targets:        []types.TargetDescription{{Id: aws.String(s.instances[0])}, {Id: aws.String(s.instances[1])}},
		})
		if err != nil {
			t.Fatalf("RegisterTargets: %v", err)
		}
	}

	// Listeners 8022 and 8023.
	var listenerARNs []string
	for i, port := range []int32{8022, 8023} {
		out, err := c.CreateListener(ctx, &sdk.CreateListenerInput{
			LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(port),
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARNs[i])}},
		})
		if err != nil {
			t.Fatalf("CreateListener %d: %v", port, err)
		}
		l := out.Listeners[0]
		arn := aws.ToString(l.ListenerArn)
		want := types.Listener{
			ListenerArn: aws.String(arn), LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(port), Protocol: types.ProtocolEnumTcp,
			DefaultActions: []types.Action{{
				Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARNs[i]),
				ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String(tgARNs[i])}}},
			}},
		}
		if !sameJSON(l, want) {
			t.Errorf("CreateListener %d:\n got %s\nwant %s", port, toJSON(l), toJSON(want))
		}
		if !strings.HasPrefix(arn, "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/seed-nlb/"+id+"/") {
			t.Errorf("ListenerArn = %s", arn)
		}
		listenerARNs = append(listenerARNs, arn)
	}

	// The reconciler would now make the load balancer active.
	if err := s.cloud.SetLoadBalancerActive(ctx, id); err != nil {
		t.Fatal(err)
	}
	described, err := c.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{Names: []string{"seed-nlb"}})
	if err != nil {
		t.Fatalf("DescribeLoadBalancers: %v", err)
	}
	if len(described.LoadBalancers) != 1 || described.NextMarker != nil {
		t.Fatalf("DescribeLoadBalancers: %s", toJSON(described))
	}
	checkLB(t, described.LoadBalancers[0], types.LoadBalancerStateEnumActive)

	groups, err := c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbARN)})
	if err != nil {
		t.Fatalf("DescribeTargetGroups: %v", err)
	}
	var gotGroups []string
	for _, g := range groups.TargetGroups {
		gotGroups = append(gotGroups, aws.ToString(g.TargetGroupArn))
		if !slices.Equal(g.LoadBalancerArns, []string{lbARN}) {
			t.Errorf("%s: LoadBalancerArns = %v", aws.ToString(g.TargetGroupName), g.LoadBalancerArns)
		}
	}
	if !sameSet(gotGroups, tgARNs) {
		t.Errorf("DescribeTargetGroups by load balancer = %v, want %v", gotGroups, tgARNs)
	}

	listeners, err := c.DescribeListeners(ctx, &sdk.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	if err != nil {
		t.Fatalf("DescribeListeners: %v", err)
	}
	var ports []int32
	for _, l := range listeners.Listeners {
		ports = append(ports, aws.ToInt32(l.Port))
	}
	if !slices.Equal(ports, []int32{8022, 8023}) {
		t.Errorf("DescribeListeners ports = %v", ports)
	}

	health := func(t *testing.T, tgARN string) []types.TargetHealthDescription {
		t.Helper()
		out, err := c.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			t.Fatalf("DescribeTargetHealth: %v", err)
		}
		return out.TargetHealthDescriptions
	}
	wantHealth := func(state types.TargetHealthStateEnum, reason types.TargetHealthReasonEnum, desc string, ids ...string) []types.TargetHealthDescription {
		var out []types.TargetHealthDescription
		for _, id := range ids {
			th := &types.TargetHealth{State: state, Reason: reason}
			if desc != "" {
				th.Description = aws.String(desc)
			}
			out = append(out, types.TargetHealthDescription{
				Target:          &types.TargetDescription{Id: aws.String(id), Port: aws.Int32(22)},
				HealthCheckPort: aws.String("22"),
				TargetHealth:    th,
			})
		}
		return out
	}
	if got, want := health(t, tgARNs[0]), wantHealth(types.TargetHealthStateEnumInitial, types.TargetHealthReasonEnumInitialHealthChecking,
		"Initial health checks in progress", s.instances...); !sameJSON(got, want) {
		t.Errorf("initial health:\n got %s\nwant %s", toJSON(got), toJSON(want))
	}
	for _, in := range s.instances {
		s.setHealth(t, tgARNs[0], in, 22, core.TargetHealthy, "", "")
	}
	if got, want := health(t, tgARNs[0]), wantHealth(types.TargetHealthStateEnumHealthy, "", "", s.instances...); !sameJSON(got, want) {
		t.Errorf("checked health:\n got %s\nwant %s", toJSON(got), toJSON(want))
	}

	// Paging with pages of one, through the SDK's own paginators.
	if _, err := c.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
		Name: aws.String("seed-nlb-2"), Type: types.LoadBalancerTypeEnumNetwork, Scheme: types.LoadBalancerSchemeEnumInternal,
		Subnets: []string{s.subnets[1].ID},
	}); err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	var lbNames []string
	lbPages := sdk.NewDescribeLoadBalancersPaginator(c, &sdk.DescribeLoadBalancersInput{PageSize: aws.Int32(1)})
	for lbPages.HasMorePages() {
		p, err := lbPages.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeLoadBalancers page: %v", err)
		}
		if len(p.LoadBalancers) != 1 {
			t.Fatalf("page of %d load balancers", len(p.LoadBalancers))
		}
		lbNames = append(lbNames, aws.ToString(p.LoadBalancers[0].LoadBalancerName))
	}
	if !sameSet(lbNames, []string{"seed-nlb", "seed-nlb-2"}) {
		t.Errorf("paged load balancers = %v", lbNames)
	}
	var pagedGroups []string
	tgPages := sdk.NewDescribeTargetGroupsPaginator(c, &sdk.DescribeTargetGroupsInput{PageSize: aws.Int32(1)})
	for tgPages.HasMorePages() {
		p, err := tgPages.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeTargetGroups page: %v", err)
		}
		if len(p.TargetGroups) != 1 {
			t.Fatalf("page of %d target groups", len(p.TargetGroups))
		}
		pagedGroups = append(pagedGroups, aws.ToString(p.TargetGroups[0].TargetGroupArn))
	}
	if !sameSet(pagedGroups, tgARNs) {
		t.Errorf("paged target groups = %v, want %v", pagedGroups, tgARNs)
	}
	var pagedPorts []int32
	lPages := sdk.NewDescribeListenersPaginator(c, &sdk.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN), PageSize: aws.Int32(1)})
	for lPages.HasMorePages() {
		p, err := lPages.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeListeners page: %v", err)
		}
		if len(p.Listeners) != 1 {
			t.Fatalf("page of %d listeners", len(p.Listeners))
		}
		pagedPorts = append(pagedPorts, aws.ToInt32(p.Listeners[0].Port))
	}
	if !slices.Equal(pagedPorts, []int32{8022, 8023}) {
		t.Errorf("paged listener ports = %v", pagedPorts)
	}

	// Tear down in AWS's order.
	if _, err := c.DeregisterTargets(ctx, &sdk.DeregisterTargetsInput{
		TargetGroupArn: aws.String(tgARNs[0]), Targets: []types.TargetDescription{{Id: aws.String(s.instances[1]), Port: aws.Int32(22)}},
	}); err != nil {
		t.Fatalf("DeregisterTargets: %v", err)
	}
	// The target drains for the group's deregistration delay (300 s), then
	// leaves.
	draining := append(wantHealth(types.TargetHealthStateEnumHealthy, "", "", s.instances[0]),
		wantHealth(types.TargetHealthStateEnumDraining, types.TargetHealthReasonEnumDeregistrationInProgress, "Target deregistration is in progress", s.instances[1])...)
	if got := health(t, tgARNs[0]); !sameJSON(got, draining) {
		t.Errorf("health after deregistering:\n got %s\nwant %s", toJSON(got), toJSON(draining))
	}
	if _, err := s.cloud.FinishDeregistrations(ctx, time.Now().Add(301*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, want := health(t, tgARNs[0]), wantHealth(types.TargetHealthStateEnumHealthy, "", "", s.instances[0]); !sameJSON(got, want) {
		t.Errorf("health after the drain:\n got %s\nwant %s", toJSON(got), toJSON(want))
	}
	if _, err := c.DeleteListener(ctx, &sdk.DeleteListenerInput{ListenerArn: aws.String(listenerARNs[0])}); err != nil {
		t.Fatalf("DeleteListener: %v", err)
	}
	listeners, err = c.DescribeListeners(ctx, &sdk.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	if err != nil || len(listeners.Listeners) != 1 || aws.ToString(listeners.Listeners[0].ListenerArn) != listenerARNs[1] {
		t.Errorf("listeners after DeleteListener: %s, %v", toJSON(listeners), err)
	}
	if _, err := c.DeleteTargetGroup(ctx, &sdk.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgARNs[0])}); err != nil {
		t.Fatalf("DeleteTargetGroup: %v", err)
	}
	_, err = c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{TargetGroupArns: tgARNs[:1]})
	if !isA[*types.TargetGroupNotFoundException](err) {
		t.Errorf("deleted target group described: %v", err)
	}
	if _, err := c.DeleteLoadBalancer(ctx, &sdk.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbARN)}); err != nil {
		t.Fatalf("DeleteLoadBalancer: %v", err)
	}
	_, err = c.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	if !isA[*types.LoadBalancerNotFoundException](err) {
		t.Errorf("deleted load balancer described: %v", err)
	}
	// The listener went with its load balancer, so the other group is free.
	if _, err := c.DeleteTargetGroup(ctx, &sdk.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgARNs[1])}); err != nil {
		t.Errorf("DeleteTargetGroup after DeleteLoadBalancer: %v", err)
	}
}

// TestSDKErrorConformance checks that the SDK reads privlink's ELBv2 errors as its
// typed exceptions, with AWS's codes and HTTP statuses.
func TestSDKErrorConformance(t *testing.T) {
	s := newServer(t)
	c := s.client
	ctx := context.Background()
	lb, err := c.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
		Name: aws.String("err-nlb"), Type: types.LoadBalancerTypeEnumNetwork, Scheme: types.LoadBalancerSchemeEnumInternal,
		Subnets: []string{s.subnets[0].ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	tg, err := c.CreateTargetGroup(ctx, &sdk.CreateTargetGroupInput{
		Name: aws.String("err-tg"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(22), VpcId: aws.String(s.vpc.ID),
	})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	other, err := c.CreateTargetGroup(ctx, &sdk.CreateTargetGroupInput{
		Name: aws.String("err-tg-2"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(23), VpcId: aws.String(s.vpc.ID),
	})
	if err != nil {
		t.Fatal(err)
	}
	otherARN := aws.ToString(other.TargetGroups[0].TargetGroupArn)
	forward := func(arn string) []types.Action {
		return []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}}
	}
	if _, err := c.CreateListener(ctx, &sdk.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(8022), DefaultActions: forward(tgARN),
	}); err != nil {
		t.Fatal(err)
	}
	const (
		missingLB       = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/missing/0123456789abcdef"
		missingListener = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/missing/0123456789abcdef/0123456789abcdef"
	)

	tests := []struct {
		name  string
		call  func() error
		typed func(error) bool
		code  string
	}{
		{
			name: "LoadBalancerNotFound",
			call: func() error {
				_, err := c.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{LoadBalancerArns: []string{missingLB}})
				return err
			},
			typed: isA[*types.LoadBalancerNotFoundException], code: "LoadBalancerNotFound",
		},
		{
			name: "TargetGroupNotFound",
			call: func() error {
				_, err := c.DescribeTargetGroups(ctx, &sdk.DescribeTargetGroupsInput{Names: []string{"no-such-group"}})
				return err
			},
			typed: isA[*types.TargetGroupNotFoundException], code: "TargetGroupNotFound",
		},
		{
			name: "ListenerNotFound",
			call: func() error {
				_, err := c.DeleteListener(ctx, &sdk.DeleteListenerInput{ListenerArn: aws.String(missingListener)})
				return err
			},
			typed: isA[*types.ListenerNotFoundException], code: "ListenerNotFound",
		},
		{
			name: "DuplicateListener",
			call: func() error {
				_, err := c.CreateListener(ctx, &sdk.CreateListenerInput{
					LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(8022), DefaultActions: forward(otherARN),
				})
				return err
			},
			typed: isA[*types.DuplicateListenerException], code: "DuplicateListener",
		},
		{
			name: "DuplicateLoadBalancerName",
			call: func() error {
				_, err := c.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
					Name: aws.String("err-nlb"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: []string{s.subnets[0].ID},
				})
				return err
			},
			typed: isA[*types.DuplicateLoadBalancerNameException], code: "DuplicateLoadBalancerName",
		},
		{
			name: "DuplicateTargetGroupName",
			call: func() error {
				_, err := c.CreateTargetGroup(ctx, &sdk.CreateTargetGroupInput{
					Name: aws.String("err-tg"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(2222), VpcId: aws.String(s.vpc.ID),
				})
				return err
			},
			typed: isA[*types.DuplicateTargetGroupNameException], code: "DuplicateTargetGroupName",
		},
		{
			name: "ResourceInUse",
			call: func() error {
				_, err := c.DeleteTargetGroup(ctx, &sdk.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgARN)})
				return err
			},
			typed: isA[*types.ResourceInUseException], code: "ResourceInUse",
		},
		{
			name: "InvalidTarget",
			call: func() error {
				_, err := c.RegisterTargets(ctx, &sdk.RegisterTargetsInput{
					TargetGroupArn: aws.String(tgARN), Targets: []types.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}},
				})
				return err
			},
			typed: isA[*types.InvalidTargetException], code: "InvalidTarget",
		},
		{
			name: "ValidationError from core",
			call: func() error {
				_, err := c.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
					Name: aws.String("-bad-"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: []string{s.subnets[0].ID},
				})
				return err
			},
			typed: notTyped, code: "ValidationError",
		},
		{
			name: "ValidationError from paging",
			call: func() error {
				_, err := c.DescribeListeners(ctx, &sdk.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN), PageSize: aws.Int32(0)})
				return err
			},
			typed: notTyped, code: "ValidationError",
		},
		{
			name: "InvalidConfigurationRequest",
			call: func() error {
				_, err := c.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
					Name: aws.String("alb"), Type: types.LoadBalancerTypeEnumApplication, Subnets: []string{s.subnets[0].ID},
				})
				return err
			},
			typed: isA[*types.InvalidConfigurationRequestException], code: "InvalidConfigurationRequest",
		},
		{
			name: "SubnetNotFound",
			call: func() error {
				_, err := c.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
					Name: aws.String("lost"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: []string{"subnet-0123456789abcdef0"},
				})
				return err
			},
			typed: isA[*types.SubnetNotFoundException], code: "SubnetNotFound",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			if !tc.typed(err) {
				t.Errorf("error %T is not the typed exception: %v", errors.Unwrap(err), err)
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("not an API error: %v", err)
			}
			// The SDK reads the fault of modelled errors from the model and
			// leaves that of generic ones unknown.
			if apiErr.ErrorCode() != tc.code || apiErr.ErrorFault() == smithy.FaultServer || apiErr.ErrorMessage() == "" {
				t.Errorf("code %q fault %v message %q, want %q, not a server fault, a message", apiErr.ErrorCode(), apiErr.ErrorFault(), apiErr.ErrorMessage(), tc.code)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) {
				t.Fatalf("no HTTP response in %v", err)
			}
			if respErr.HTTPStatusCode() != http.StatusBadRequest {
				t.Errorf("status %d, want 400", respErr.HTTPStatusCode())
			}
			if respErr.ServiceRequestID() == "" {
				t.Error("the SDK found no request ID")
			}
		})
	}
}

// isA reports whether err is, or wraps, a T.
func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// notTyped accepts an error the model has no exception for (ValidationError
// is one), which the SDK returns as a generic API error.
func notTyped(err error) bool {
	var generic *smithy.GenericAPIError
	return errors.As(err, &generic)
}

func sameSet(a, b []string) bool {
	return slices.Equal(dedupe(a), dedupe(b)) && len(a) == len(b)
}
