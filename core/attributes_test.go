package core

import (
	"context"
	"strings"
	"testing"
)

// attrMap turns a described attribute list into a map, failing on repeats.
func attrMap(t *testing.T, attrs []Attribute) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, a := range attrs {
		if _, dup := m[a.Key]; dup {
			t.Fatalf("attribute %s described twice", a.Key)
		}
		m[a.Key] = a.Value
	}
	return m
}

func TestTargetGroupAttributes(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	tg := e.plTargetGroup(t, plProvider, "inst", n.vpc.ID, 22)
	ipg, err := e.CreateTargetGroup(ctx, plProvider, CreateTargetGroupInput{Name: "ips", Protocol: "TCP", Port: plI32(80), VpcID: n.vpc.ID, TargetType: "ip"})
	plOK(t, err)

	got, err := e.DescribeTargetGroupAttributes(ctx, plProvider, tg.ARN)
	plOK(t, err)
	want := []Attribute{
		{"deregistration_delay.timeout_seconds", "300"},
		{"deregistration_delay.connection_termination.enabled", "false"},
		{"preserve_client_ip.enabled", "true"},
		{"proxy_protocol_v2.enabled", "false"},
		{"stickiness.enabled", "false"},
		{"stickiness.type", "source_ip"},
		{"load_balancing.cross_zone.enabled", "use_load_balancer_configuration"},
		{"target_health_state.unhealthy.connection_termination.enabled", "true"},
		{"target_health_state.unhealthy.draining_interval_seconds", "0"},
		{"target_group_health.dns_failover.minimum_healthy_targets.count", "1"},
		{"target_group_health.dns_failover.minimum_healthy_targets.percentage", "off"},
		{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1"},
		{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off"},
	}
	if len(got) != len(want) {
		t.Fatalf("described %d attributes, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attribute %d = %v, want %v", i, got[i], want[i])
		}
	}
	ipAttrs, err := e.DescribeTargetGroupAttributes(ctx, plProvider, ipg.ARN)
	plOK(t, err)
	if v := attrMap(t, ipAttrs)[AttrPreserveClientIP]; v != "false" {
		t.Errorf("ip group preserve_client_ip.enabled = %s, want false", v)
	}

	// One request sets several; the answer lists all with the new values.
	out, err := e.ModifyTargetGroupAttributes(ctx, plProvider, tg.ARN, []Attribute{
		{AttrDeregistrationDelay, "030"},
		{AttrProxyProtocolV2, "true"},
		{AttrCrossZone, "true"},
		{AttrUnhealthyTermination, "false"},
		{AttrUnhealthyDrainingInterval, "600"},
		{AttrDNSFailoverMinHealthyPercent, "50"},
		{AttrStickinessEnabled, "true"},
		{AttrStickinessType, "source_ip"},
		{AttrDeregistrationTermination, "true"},
	})
	plOK(t, err)
	m := attrMap(t, out)
	for k, v := range map[string]string{
		AttrDeregistrationDelay: "30", AttrProxyProtocolV2: "true", AttrCrossZone: "true", AttrUnhealthyTermination: "false",
		AttrUnhealthyDrainingInterval: "600", AttrDNSFailoverMinHealthyPercent: "50", AttrStickinessEnabled: "true",
		AttrDeregistrationTermination: "true", AttrPreserveClientIP: "true",
	} {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if len(out) != len(want) {
		t.Errorf("Modify answered %d attributes", len(out))
	}
	described, err := e.DescribeTargetGroups(ctx, plProvider, DescribeTargetGroupsInput{TargetGroupARNs: []string{tg.ARN}})
	plOK(t, err)
	g := described[0].TargetGroup
	if g.DeregistrationDelaySeconds() != 30 || g.Attribute(AttrProxyProtocolV2) != "true" || !g.CrossZone(nil) {
		t.Errorf("stored group: delay %d, attributes %v", g.DeregistrationDelaySeconds(), g.Attributes)
	}
	if _, stored := g.Attributes[AttrStickinessType]; !stored {
		t.Error("a value set to its default was not kept as set")
	}
	if _, stored := g.Attributes[AttrUnhealthyRoutingMinCount]; stored {
		t.Error("an attribute nobody set was stored")
	}

	for _, tc := range []struct {
		name  string
		attrs []Attribute
		code  string
		msg   string
	}{
		{"unknown key", []Attribute{{"slow_start.duration_seconds", "30"}}, "ValidationError", "Target group attribute key 'slow_start.duration_seconds' is not recognized"},
		{"delay 3601", []Attribute{{AttrDeregistrationDelay, "3601"}}, "ValidationError", "The value '3601' is not valid for target group attribute 'deregistration_delay.timeout_seconds': it must be an integer from 0 to 3600"},
		{"delay -1", []Attribute{{AttrDeregistrationDelay, "-1"}}, "ValidationError", "from 0 to 3600"},
		{"delay words", []Attribute{{AttrDeregistrationDelay, "five"}}, "ValidationError", "from 0 to 3600"},
		{"boolean yes", []Attribute{{AttrProxyProtocolV2, "yes"}}, "ValidationError", "it must be 'true' or 'false'"},
		{"boolean True", []Attribute{{AttrPreserveClientIP, "True"}}, "ValidationError", "'true' or 'false'"},
		{"cross zone maybe", []Attribute{{AttrCrossZone, "maybe"}}, "ValidationError", "'true', 'false', 'use_load_balancer_configuration'"},
		{"lb_cookie on TCP", []Attribute{{AttrStickinessType, "lb_cookie"}}, "InvalidConfigurationRequest", "Stickiness type 'lb_cookie' is not supported for target groups with the TCP protocol"},
		{"unknown stickiness", []Attribute{{AttrStickinessType, "cookie"}}, "ValidationError", "stickiness.type"},
		{"draining interval above range", []Attribute{{AttrUnhealthyDrainingInterval, "360001"}}, "ValidationError", "from 0 to 360000"},
		{"draining interval with termination on", []Attribute{{AttrUnhealthyTermination, "true"}}, "InvalidConfigurationRequest", "can be set only when"},
		{"routing count off", []Attribute{{AttrUnhealthyRoutingMinCount, "off"}}, "ValidationError", "from 1 to 1000"},
		{"percentage 101", []Attribute{{AttrUnhealthyRoutingMinPercent, "101"}}, "ValidationError", "'off' or an integer from 1 to 100"},
		{"DNS count 0", []Attribute{{AttrDNSFailoverMinHealthyCount, "0"}}, "ValidationError", "'off' or an integer"},
		{"DNS threshold below routing", []Attribute{{AttrDNSFailoverMinHealthyCount, "2"}, {AttrUnhealthyRoutingMinCount, "3"}}, "InvalidConfigurationRequest", "must be greater than or equal to"},
		{"DNS percent below routing", []Attribute{{AttrUnhealthyRoutingMinPercent, "60"}}, "InvalidConfigurationRequest", "percentage"},
		{"good then bad: all or nothing", []Attribute{{AttrDeregistrationDelay, "10"}, {AttrProxyProtocolV2, "1"}}, "ValidationError", "proxy_protocol_v2.enabled"},
		{"no attributes", nil, "ValidationError", "attributes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.ModifyTargetGroupAttributes(ctx, plProvider, tg.ARN, tc.attrs)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
	t.Run("another account's group", func(t *testing.T) {
		e.plFailsUnchanged(t, "TargetGroupNotFound", func() error {
			_, err := e.ModifyTargetGroupAttributes(ctx, plConsumer, tg.ARN, []Attribute{{AttrProxyProtocolV2, "true"}})
			return err
		})
		_, err := e.DescribeTargetGroupAttributes(ctx, plConsumer, tg.ARN)
		plCode(t, err, "TargetGroupNotFound")
	})
	t.Run("malformed ARN", func(t *testing.T) {
		_, err := e.DescribeTargetGroupAttributes(ctx, plProvider, "tg")
		plCode(t, err, "ValidationError")
	})
	t.Run("unset termination after interval: routing thresholds agree", func(t *testing.T) {
		_, err := e.ModifyTargetGroupAttributes(ctx, plProvider, tg.ARN, []Attribute{
			{AttrUnhealthyDrainingInterval, "0"}, {AttrUnhealthyTermination, "true"},
			{AttrDNSFailoverMinHealthyCount, "3"}, {AttrUnhealthyRoutingMinCount, "3"},
		})
		plOK(t, err)
	})
}

func TestLoadBalancerAttributes(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID) // internal
	public, err := e.CreateLoadBalancer(ctx, plProvider, CreateLoadBalancerInput{Name: "pub", Type: LBTypeNetwork, Subnets: []string{n.subB.ID}})
	plOK(t, err)

	got, err := e.DescribeLoadBalancerAttributes(ctx, plProvider, lb.ARN)
	plOK(t, err)
	want := []Attribute{
		{"access_logs.s3.enabled", "false"},
		{"access_logs.s3.bucket", ""},
		{"access_logs.s3.prefix", ""},
		{"load_balancing.cross_zone.enabled", "false"},
		{"deletion_protection.enabled", "false"},
		{"dns_record.client_routing_policy", "any_availability_zone"},
		{"ipv6.deny_all_igw_traffic", "true"},
		{"secondary_ips.auto_assigned.per_subnet", "0"},
		{"zonal_shift.config.enabled", "false"},
	}
	if len(got) != len(want) {
		t.Fatalf("described %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attribute %d = %v, want %v", i, got[i], want[i])
		}
	}
	pub, err := e.DescribeLoadBalancerAttributes(ctx, plProvider, public.ARN)
	plOK(t, err)
	if v := attrMap(t, pub)[AttrIPv6DenyAllIGWTraffic]; v != "false" {
		t.Errorf("internet-facing ipv6.deny_all_igw_traffic = %s", v)
	}

	out, err := e.ModifyLoadBalancerAttributes(ctx, plProvider, lb.ARN, []Attribute{
		{AttrCrossZone, "true"}, {AttrDNSClientRoutingPolicy, "availability_zone_affinity"},
		{AttrAccessLogsBucket, "logs"}, {AttrAccessLogsPrefix, "nlb/"}, {AttrSecondaryIPsPerSubnet, "2"},
	})
	plOK(t, err)
	m := attrMap(t, out)
	if m[AttrCrossZone] != "true" || m[AttrDNSClientRoutingPolicy] != "availability_zone_affinity" || m[AttrAccessLogsBucket] != "logs" ||
		m[AttrAccessLogsPrefix] != "nlb/" || m[AttrSecondaryIPsPerSubnet] != "2" || m[AttrDeletionProtection] != "false" {
		t.Errorf("after modify: %v", m)
	}

	for _, tc := range []struct {
		name  string
		attrs []Attribute
		code  string
		msg   string
	}{
		{"ALB key", []Attribute{{"idle_timeout.timeout_seconds", "60"}}, "ValidationError", "Load balancer attribute key 'idle_timeout.timeout_seconds' is not recognized"},
		{"listener key", []Attribute{{AttrTCPIdleTimeout, "60"}}, "ValidationError", "is not recognized"},
		{"deletion protection 1", []Attribute{{AttrDeletionProtection, "1"}}, "ValidationError", "load balancer attribute 'deletion_protection.enabled'"},
		{"routing policy", []Attribute{{AttrDNSClientRoutingPolicy, "nearest"}}, "ValidationError", "availability_zone_affinity"},
		{"secondary IPs 8", []Attribute{{AttrSecondaryIPsPerSubnet, "8"}}, "ValidationError", "from 0 to 7"},
		{"secondary IPs decrease", []Attribute{{AttrSecondaryIPsPerSubnet, "1"}}, "InvalidConfigurationRequest", "cannot be decreased"},
		{"access logs without bucket", []Attribute{{AttrAccessLogsEnabled, "true"}, {AttrAccessLogsBucket, ""}}, "InvalidConfigurationRequest", "cannot be empty"},
		{"access logs", []Attribute{{AttrAccessLogsEnabled, "true"}}, "InvalidConfigurationRequest", "privlink has no S3 bucket 'logs'"},
		{"good then bad", []Attribute{{AttrDeletionProtection, "true"}, {"waf.fail_open.enabled", "true"}}, "ValidationError", "not recognized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.ModifyLoadBalancerAttributes(ctx, plProvider, lb.ARN, tc.attrs)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
	t.Run("another account's load balancer", func(t *testing.T) {
		e.plFailsUnchanged(t, "LoadBalancerNotFound", func() error {
			_, err := e.ModifyLoadBalancerAttributes(ctx, plConsumer, lb.ARN, []Attribute{{AttrDeletionProtection, "true"}})
			return err
		})
		_, err := e.DescribeLoadBalancerAttributes(ctx, plConsumer, lb.ARN)
		plCode(t, err, "LoadBalancerNotFound")
		_, err = e.DescribeLoadBalancerAttributes(ctx, plProvider, "")
		plCode(t, err, "ValidationError")
	})
}

func TestDeletionProtection(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	_, err := e.ModifyLoadBalancerAttributes(ctx, plProvider, lb.ARN, []Attribute{{AttrDeletionProtection, "true"}})
	plOK(t, err)
	got := e.plFailsUnchanged(t, "OperationNotPermitted", func() error { return e.DeleteLoadBalancer(ctx, plProvider, lb.ARN) })
	if want := "Load balancer '" + lb.ARN + "' cannot be deleted because deletion protection is enabled"; got.Message != want {
		t.Errorf("message %q, want %q", got.Message, want)
	}
	_, err = e.ModifyLoadBalancerAttributes(ctx, plProvider, lb.ARN, []Attribute{{AttrDeletionProtection, "false"}})
	plOK(t, err)
	plOK(t, e.DeleteLoadBalancer(ctx, plProvider, lb.ARN))
	if lbs, err := e.DescribeLoadBalancers(ctx, plProvider, DescribeLoadBalancersInput{}); err != nil || len(lbs) != 0 {
		t.Errorf("after delete: %v, %v", lbs, err)
	}
}

func TestZonalShiftNeedsGroupsThatFollow(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	e.plListener(t, plProvider, lb.ARN, 22, tg.ARN)
	shift := []Attribute{{AttrCrossZone, "true"}, {AttrZonalShift, "true"}}

	got := e.plFailsUnchanged(t, "InvalidConfigurationRequest", func() error {
		_, err := e.ModifyLoadBalancerAttributes(ctx, plProvider, lb.ARN, shift)
		return err
	})
	if !strings.Contains(got.Message, tg.ARN) {
		t.Errorf("message %q does not name the group", got.Message)
	}
	// Without cross-zone load balancing the groups do not matter.
	_, err := e.ModifyLoadBalancerAttributes(ctx, plProvider, lb.ARN, []Attribute{{AttrZonalShift, "true"}})
	plOK(t, err)
	_, err = e.ModifyTargetGroupAttributes(ctx, plProvider, tg.ARN, []Attribute{{AttrUnhealthyTermination, "false"}})
	plOK(t, err)
	_, err = e.ModifyLoadBalancerAttributes(ctx, plProvider, lb.ARN, shift)
	plOK(t, err)
}

func TestListenerAttributes(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	l := e.plListener(t, plProvider, lb.ARN, 22, tg.ARN)

	got, err := e.DescribeListenerAttributes(ctx, plProvider, l.ARN)
	plOK(t, err)
	if len(got) != 1 || got[0] != (Attribute{"tcp.idle_timeout.seconds", "350"}) {
		t.Errorf("described %v", got)
	}
	for _, v := range []string{"60", "6000", "120"} {
		out, err := e.ModifyListenerAttributes(ctx, plProvider, l.ARN, []Attribute{{AttrTCPIdleTimeout, v}})
		plOK(t, err)
		if len(out) != 1 || out[0].Value != v {
			t.Errorf("modify to %s answered %v", v, out)
		}
	}
	ls, err := e.DescribeListeners(ctx, plProvider, DescribeListenersInput{ListenerARNs: []string{l.ARN}})
	plOK(t, err)
	if ls[0].IdleTimeoutSeconds() != 120 {
		t.Errorf("stored idle timeout %d", ls[0].IdleTimeoutSeconds())
	}

	for _, tc := range []struct {
		name  string
		arn   string
		attrs []Attribute
		code  string
		msg   string
	}{
		{"59", l.ARN, []Attribute{{AttrTCPIdleTimeout, "59"}}, "ValidationError", "The value '59' is not valid for listener attribute 'tcp.idle_timeout.seconds': it must be an integer from 60 to 6000"},
		{"6001", l.ARN, []Attribute{{AttrTCPIdleTimeout, "6001"}}, "ValidationError", "from 60 to 6000"},
		{"ALB key", l.ARN, []Attribute{{"routing.http.response.server.enabled", "true"}}, "ValidationError", "Listener attribute key 'routing.http.response.server.enabled' is not recognized"},
		{"unknown listener", strings.Replace(l.ARN, l.ID, "0123456789abcdef", 1), []Attribute{{AttrTCPIdleTimeout, "60"}}, "ListenerNotFound", "not found"},
		{"malformed ARN", "listener", []Attribute{{AttrTCPIdleTimeout, "60"}}, "ValidationError", "not a valid listener ARN"},
		{"no ARN", "", []Attribute{{AttrTCPIdleTimeout, "60"}}, "ValidationError", "listenerArn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.ModifyListenerAttributes(ctx, plProvider, tc.arn, tc.attrs)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
	_, err = e.DescribeListenerAttributes(ctx, plConsumer, l.ARN)
	plCode(t, err, "ListenerNotFound")
}
