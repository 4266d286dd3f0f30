package core

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func (e *plEnv) plTargetGroup(t *testing.T, owner Caller, name, vpcID string, port int32) TargetGroupDescription {
	t.Helper()
	tg, err := e.CreateTargetGroup(context.Background(), owner, CreateTargetGroupInput{
		Name: name, Protocol: "TCP", Port: plI32(port), VpcID: vpcID,
	})
	plOK(t, err)
	return tg
}

func TestCreateTargetGroup(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	tg, err := e.CreateTargetGroup(ctx, plProvider, CreateTargetGroupInput{Name: "ssh-a", Protocol: "TCP", Port: plI32(22), VpcID: n.vpc.ID})
	plOK(t, err)
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/ssh-a/[0-9a-f]{16}$`).MatchString(tg.ARN) {
		t.Errorf("ARN %s", tg.ARN)
	}
	want := HealthCheck{Enabled: true, Protocol: "TCP", Port: "traffic-port", IntervalSeconds: 30, TimeoutSeconds: 10, HealthyThreshold: 5, UnhealthyThreshold: 2}
	if tg.HealthCheck != want || tg.TargetType != "instance" || tg.IPAddressType != "ipv4" || tg.Port != 22 || len(tg.LoadBalancerARNs) != 0 {
		t.Errorf("target group %+v", tg)
	}

	custom, err := e.CreateTargetGroup(ctx, plProvider, CreateTargetGroupInput{
		Name: "ips", Protocol: "TCP", Port: plI32(8080), VpcID: n.vpc.ID, TargetType: "ip",
		HealthCheckPort: "9000", HealthCheckIntervalSeconds: plI32(10), HealthCheckTimeoutSeconds: plI32(5),
		HealthyThresholdCount: plI32(3), UnhealthyThresholdCount: plI32(3), HealthCheckEnabled: plBool(true),
	})
	plOK(t, err)
	want = HealthCheck{Enabled: true, Protocol: "TCP", Port: "9000", IntervalSeconds: 10, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}
	if custom.HealthCheck != want || custom.TargetType != "ip" {
		t.Errorf("custom target group %+v", custom)
	}

	again, err := e.CreateTargetGroup(ctx, plProvider, CreateTargetGroupInput{Name: "ssh-a", Protocol: "TCP", Port: plI32(22), VpcID: n.vpc.ID})
	plOK(t, err)
	if again.ARN != tg.ARN {
		t.Errorf("repeat created %s", again.ARN)
	}
}

func TestCreateTargetGroupErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	foreign := e.plVPC(t, plConsumer, "10.0.0.0/16")
	e.plTargetGroup(t, plProvider, "taken", n.vpc.ID, 22)
	ok := func(mod func(*CreateTargetGroupInput)) CreateTargetGroupInput {
		in := CreateTargetGroupInput{Name: "tg", Protocol: "TCP", Port: plI32(22), VpcID: n.vpc.ID}
		mod(&in)
		return in
	}
	cases := []struct {
		name string
		in   CreateTargetGroupInput
		code string
		msg  string
	}{
		{"no name", ok(func(in *CreateTargetGroupInput) { in.Name = "" }), "ValidationError", "at 'name'"},
		{"name too long", ok(func(in *CreateTargetGroupInput) { in.Name = strings.Repeat("t", 33) }), "ValidationError", "Target group name '" + strings.Repeat("t", 33) + "' cannot be longer than '32' characters"},
		{"name with dot", ok(func(in *CreateTargetGroupInput) { in.Name = "a.b" }), "ValidationError", "alphanumeric"},
		{"name ends with hyphen", ok(func(in *CreateTargetGroupInput) { in.Name = "tg-" }), "ValidationError", "hyphen"},
		{"no protocol", ok(func(in *CreateTargetGroupInput) { in.Protocol = "" }), "ValidationError", "protocol"},
		{"HTTP", ok(func(in *CreateTargetGroupInput) { in.Protocol = "HTTP" }), "InvalidConfigurationRequest", "'HTTP' is not supported"},
		{"UDP", ok(func(in *CreateTargetGroupInput) { in.Protocol = "UDP" }), "InvalidConfigurationRequest", "'UDP' is not supported"},
		{"unknown protocol", ok(func(in *CreateTargetGroupInput) { in.Protocol = "SCTP" }), "ValidationError", "enum value set"},
		{"protocol version", ok(func(in *CreateTargetGroupInput) { in.ProtocolVersion = "HTTP2" }), "InvalidConfigurationRequest", "HTTP"},
		{"no port", ok(func(in *CreateTargetGroupInput) { in.Port = nil }), "ValidationError", "port"},
		{"port 0", ok(func(in *CreateTargetGroupInput) { in.Port = plI32(0) }), "ValidationError", "greater than or equal to 1"},
		{"port 65536", ok(func(in *CreateTargetGroupInput) { in.Port = plI32(65536) }), "ValidationError", "less than or equal to 65535"},
		{"no VPC", ok(func(in *CreateTargetGroupInput) { in.VpcID = "" }), "ValidationError", "VPC"},
		{"unknown VPC", ok(func(in *CreateTargetGroupInput) { in.VpcID = "vpc-0123456789abcdef0" }), "ValidationError", "The VPC ID 'vpc-0123456789abcdef0' is not found"},
		{"another account's VPC", ok(func(in *CreateTargetGroupInput) { in.VpcID = foreign.ID }), "ValidationError", "is not found"},
		{"lambda targets", ok(func(in *CreateTargetGroupInput) { in.TargetType = "lambda" }), "InvalidConfigurationRequest", "lambda"},
		{"unknown target type", ok(func(in *CreateTargetGroupInput) { in.TargetType = "pod" }), "ValidationError", "enum value set"},
		{"ipv6", ok(func(in *CreateTargetGroupInput) { in.IPAddressType = "ipv6" }), "InvalidConfigurationRequest", "ipv6"},
		{"health checks off", ok(func(in *CreateTargetGroupInput) { in.HealthCheckEnabled = plBool(false) }), "InvalidConfigurationRequest", "cannot be disabled"},
		{"TLS health check", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "TLS" }), "ValidationError", "not supported for health checks"},
		{"health check path without slash", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.HealthCheckPath = "health" }), "ValidationError", "must begin with '/'"},
		{"health check path with space", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.HealthCheckPath = "/a b" }), "ValidationError", "without spaces"},
		{"health check path too long", ok(func(in *CreateTargetGroupInput) {
			in.HealthCheckProtocol = "HTTPS"
			in.HealthCheckPath = "/" + strings.Repeat("p", 1024)
		}), "ValidationError", "less than or equal to 1024"},
		{"matcher 600", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.MatcherHTTPCode = "200-600" }), "ValidationError", "from 200 to 599"},
		{"matcher 199", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.MatcherHTTPCode = "199" }), "ValidationError", "matcher HTTP code '199'"},
		{"matcher word", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.MatcherHTTPCode = "ok" }), "ValidationError", "matcher"},
		{"matcher reversed range", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.MatcherHTTPCode = "399-200" }), "ValidationError", "matcher"},
		{"matcher empty item", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.MatcherHTTPCode = "200,,202" }), "ValidationError", "matcher"},
		{"gRPC matcher", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "HTTP"; in.MatcherGRPCCode = "12" }), "InvalidConfigurationRequest", "gRPC"},
		{"HTTP timeout above interval", ok(func(in *CreateTargetGroupInput) {
			in.HealthCheckProtocol = "HTTP"
			in.HealthCheckIntervalSeconds = plI32(5)
		}), "InvalidConfigurationRequest", "Health check timeout '6' must not be greater than the health check interval '5'"},
		{"UDP health check", ok(func(in *CreateTargetGroupInput) { in.HealthCheckProtocol = "UDP" }), "ValidationError", "not supported for health checks"},
		{"health check port word", ok(func(in *CreateTargetGroupInput) { in.HealthCheckPort = "ssh" }), "ValidationError", "traffic-port"},
		{"health check port 0", ok(func(in *CreateTargetGroupInput) { in.HealthCheckPort = "0" }), "ValidationError", "traffic-port"},
		{"health check path", ok(func(in *CreateTargetGroupInput) { in.HealthCheckPath = "/" }), "InvalidConfigurationRequest", "path"},
		{"matcher", ok(func(in *CreateTargetGroupInput) { in.MatcherHTTPCode = "200" }), "InvalidConfigurationRequest", "matcher"},
		{"interval 4", ok(func(in *CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = plI32(4) }), "ValidationError", "healthCheckIntervalSeconds"},
		{"interval 301", ok(func(in *CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = plI32(301) }), "ValidationError", "less than or equal to 300"},
		{"timeout 1", ok(func(in *CreateTargetGroupInput) { in.HealthCheckTimeoutSeconds = plI32(1) }), "ValidationError", "healthCheckTimeoutSeconds"},
		{"timeout 121", ok(func(in *CreateTargetGroupInput) { in.HealthCheckTimeoutSeconds = plI32(121) }), "ValidationError", "healthCheckTimeoutSeconds"},
		{"healthy 1", ok(func(in *CreateTargetGroupInput) { in.HealthyThresholdCount = plI32(1) }), "ValidationError", "healthyThresholdCount"},
		{"unhealthy 11", ok(func(in *CreateTargetGroupInput) { in.UnhealthyThresholdCount = plI32(11) }), "ValidationError", "unhealthyThresholdCount"},
		{"timeout above interval", ok(func(in *CreateTargetGroupInput) {
			in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds = plI32(5), plI32(6)
		}), "InvalidConfigurationRequest", "interval"},
		{"reserved tag key", ok(func(in *CreateTargetGroupInput) { in.Tags = []Tag{{Key: "aws:x"}} }), "ValidationError", "aws:"},
		{"existing name, other port", ok(func(in *CreateTargetGroupInput) { in.Name = "taken"; in.Port = plI32(23) }),
			"DuplicateTargetGroupName", "A target group with the same name 'taken' exists, but with different settings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.CreateTargetGroup(ctx, plProvider, tc.in)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
}

func TestRegisterTargets(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	other := e.plNetwork(t, plProvider, "10.9.0.0/16")
	running := e.plInstance(t, plProvider, n.subA, InstanceRunning)
	pending := e.plInstance(t, plProvider, n.subB, InstancePending)
	stopped := e.plInstance(t, plProvider, n.subA, "stopped")
	elsewhere := e.plInstance(t, plProvider, other.subA, InstanceRunning)
	foreignNet := e.plNetwork(t, plConsumer, "10.0.0.0/16")
	foreign := e.plInstance(t, plConsumer, foreignNet.subA, InstanceRunning)
	tg := e.plTargetGroup(t, plProvider, "inst", n.vpc.ID, 22)
	ipg, err := e.CreateTargetGroup(ctx, plProvider, CreateTargetGroupInput{Name: "ips", Protocol: "TCP", Port: plI32(80), VpcID: n.vpc.ID, TargetType: "ip"})
	plOK(t, err)

	plOK(t, e.RegisterTargets(ctx, plProvider, tg.ARN, []TargetDescription{{ID: running.ID}, {ID: pending.ID, Port: 2222}}))
	plOK(t, e.RegisterTargets(ctx, plProvider, tg.ARN, []TargetDescription{{ID: running.ID, Port: 22}})) // again: no change
	plOK(t, e.RegisterTargets(ctx, plProvider, ipg.ARN, []TargetDescription{{ID: "10.0.2.77"}, {ID: "10.0.1.9", Port: 8080, AvailabilityZone: "all"}}))

	got, err := e.DescribeTargetGroups(ctx, plProvider, DescribeTargetGroupsInput{TargetGroupARNs: []string{tg.ARN, ipg.ARN}})
	plOK(t, err)
	targets := got[0].Targets
	if len(targets) != 2 || targets[0].ID != running.ID || targets[0].Port != 22 || targets[0].AvailabilityZone != "us-east-1a" ||
		targets[1].ID != pending.ID || targets[1].Port != 2222 || targets[1].AvailabilityZone != "us-east-1b" {
		t.Errorf("instance targets %+v", targets)
	}
	ips := got[1].Targets
	if len(ips) != 2 || ips[0].AvailabilityZone != "us-east-1b" || ips[0].Port != 80 || ips[1].AvailabilityZone != "us-east-1a" || ips[1].Port != 8080 {
		t.Errorf("IP targets %+v", ips)
	}

	for _, tc := range []struct {
		name    string
		arn     string
		targets []TargetDescription
		code    string
		msg     string
	}{
		{"stopped instance", tg.ARN, []TargetDescription{{ID: stopped.ID}}, "InvalidTarget", "not in a running state"},
		{"instance in another VPC", tg.ARN, []TargetDescription{{ID: elsewhere.ID}}, "InvalidTarget", "not in the target group VPC"},
		{"another account's instance", tg.ARN, []TargetDescription{{ID: foreign.ID}}, "InvalidTarget", "is not valid"},
		{"unknown instance", tg.ARN, []TargetDescription{{ID: "i-0123456789abcdef0"}}, "InvalidTarget", "is not valid"},
		{"IP in an instance group", tg.ARN, []TargetDescription{{ID: "10.0.1.5"}}, "InvalidTarget", "is not valid"},
		{"zone for an instance", tg.ARN, []TargetDescription{{ID: running.ID, AvailabilityZone: "us-east-1a"}}, "ValidationError", "Availability Zone"},
		{"port out of range", tg.ARN, []TargetDescription{{ID: running.ID, Port: 70000}}, "ValidationError", "65535"},
		{"one bad target of two", tg.ARN, []TargetDescription{{ID: running.ID, Port: 23}, {ID: stopped.ID}}, "InvalidTarget", stopped.ID},
		{"IP outside the VPC", ipg.ARN, []TargetDescription{{ID: "10.9.1.5"}}, "InvalidTarget", "not within the CIDR"},
		{"IP in no subnet", ipg.ARN, []TargetDescription{{ID: "10.0.200.5"}}, "InvalidTarget", "not within a subnet"},
		{"not an IP", ipg.ARN, []TargetDescription{{ID: running.ID}}, "InvalidTarget", "not a valid IPv4"},
		{"IP zone mismatch", ipg.ARN, []TargetDescription{{ID: "10.0.1.5", AvailabilityZone: "us-east-1b"}}, "ValidationError", "does not match"},
		{"no targets", tg.ARN, nil, "ValidationError", "targets"},
		{"unknown group", strings.Replace(tg.ARN, tg.ID, "0123456789abcdef", 1), []TargetDescription{{ID: running.ID}}, "TargetGroupNotFound", "One or more target groups not found"},
		{"malformed group ARN", "tg", []TargetDescription{{ID: running.ID}}, "ValidationError", "'tg' is not a valid target group ARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error { return e.RegisterTargets(ctx, plProvider, tc.arn, tc.targets) })
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
	t.Run("another account's group", func(t *testing.T) {
		e.plFailsUnchanged(t, "TargetGroupNotFound", func() error {
			return e.RegisterTargets(ctx, plConsumer, tg.ARN, []TargetDescription{{ID: foreign.ID}})
		})
	})
}

func TestCreateTargetGroupHealthChecks(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	cases := []struct {
		name string
		in   CreateTargetGroupInput
		want HealthCheck
	}{
		{"TCP defaults", CreateTargetGroupInput{},
			HealthCheck{Enabled: true, Protocol: "TCP", Port: "traffic-port", IntervalSeconds: 30, TimeoutSeconds: 10, HealthyThreshold: 5, UnhealthyThreshold: 2}},
		{"HTTP defaults: path /, 200-399, 6 s", CreateTargetGroupInput{HealthCheckProtocol: "HTTP"},
			HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/", Matcher: "200-399", IntervalSeconds: 30, TimeoutSeconds: 6, HealthyThreshold: 5, UnhealthyThreshold: 2}},
		{"HTTPS defaults: 10 s", CreateTargetGroupInput{HealthCheckProtocol: "HTTPS"},
			HealthCheck{Enabled: true, Protocol: "HTTPS", Port: "traffic-port", Path: "/", Matcher: "200-399", IntervalSeconds: 30, TimeoutSeconds: 10, HealthyThreshold: 5, UnhealthyThreshold: 2}},
		{"HTTP with every setting", CreateTargetGroupInput{
			HealthCheckProtocol: "HTTP", HealthCheckPort: "8080", HealthCheckPath: "/healthz?full=1", MatcherHTTPCode: "200, 202,300-302",
			HealthCheckIntervalSeconds: plI32(10), HealthCheckTimeoutSeconds: plI32(10), HealthyThresholdCount: plI32(2), UnhealthyThresholdCount: plI32(10),
			HealthCheckEnabled: plBool(true),
		}, HealthCheck{Enabled: true, Protocol: "HTTP", Port: "8080", Path: "/healthz?full=1", Matcher: "200,202,300-302", IntervalSeconds: 10, TimeoutSeconds: 10, HealthyThreshold: 2, UnhealthyThreshold: 10}},
		{"matcher at the edges", CreateTargetGroupInput{HealthCheckProtocol: "HTTP", MatcherHTTPCode: "200-599"},
			HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/", Matcher: "200-599", IntervalSeconds: 30, TimeoutSeconds: 6, HealthyThreshold: 5, UnhealthyThreshold: 2}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Name, in.Protocol, in.Port, in.VpcID = "hc-"+itoa(int32(i)), "TCP", plI32(80), n.vpc.ID
			tg, err := e.CreateTargetGroup(ctx, plProvider, in)
			plOK(t, err)
			if tg.HealthCheck != tc.want {
				t.Errorf("health check\n got %+v\nwant %+v", tg.HealthCheck, tc.want)
			}
		})
	}
}

func TestModifyTargetGroup(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	e.plListener(t, plProvider, lb.ARN, 22, tg.ARN)

	// Each step applies to what the one before left.
	steps := []struct {
		name string
		in   ModifyTargetGroupInput
		want HealthCheck
	}{
		{"thresholds only", ModifyTargetGroupInput{HealthyThresholdCount: plI32(3), HealthCheckTimeoutSeconds: plI32(20)},
			HealthCheck{Enabled: true, Protocol: "TCP", Port: "traffic-port", IntervalSeconds: 30, TimeoutSeconds: 20, HealthyThreshold: 3, UnhealthyThreshold: 2}},
		{"to HTTP: default path and matcher, the rest kept", ModifyTargetGroupInput{HealthCheckProtocol: "HTTP"},
			HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/", Matcher: "200-399", IntervalSeconds: 30, TimeoutSeconds: 20, HealthyThreshold: 3, UnhealthyThreshold: 2}},
		{"path, matcher and port", ModifyTargetGroupInput{HealthCheckPath: "/ready", MatcherHTTPCode: "204", HealthCheckPort: "9000"},
			HealthCheck{Enabled: true, Protocol: "HTTP", Port: "9000", Path: "/ready", Matcher: "204", IntervalSeconds: 30, TimeoutSeconds: 20, HealthyThreshold: 3, UnhealthyThreshold: 2}},
		{"to HTTPS keeps path and matcher", ModifyTargetGroupInput{HealthCheckProtocol: "HTTPS", HealthCheckIntervalSeconds: plI32(20)},
			HealthCheck{Enabled: true, Protocol: "HTTPS", Port: "9000", Path: "/ready", Matcher: "204", IntervalSeconds: 20, TimeoutSeconds: 20, HealthyThreshold: 3, UnhealthyThreshold: 2}},
		{"back to TCP drops them", ModifyTargetGroupInput{HealthCheckProtocol: "TCP", HealthCheckPort: "traffic-port"},
			HealthCheck{Enabled: true, Protocol: "TCP", Port: "traffic-port", IntervalSeconds: 20, TimeoutSeconds: 20, HealthyThreshold: 3, UnhealthyThreshold: 2}},
	}
	for _, st := range steps {
		in := st.in
		in.TargetGroupARN = tg.ARN
		got, err := e.ModifyTargetGroup(ctx, plProvider, in)
		plOK(t, err)
		if got.HealthCheck != st.want {
			t.Errorf("%s:\n got %+v\nwant %+v", st.name, got.HealthCheck, st.want)
		}
		if len(got.LoadBalancerARNs) != 1 || got.LoadBalancerARNs[0] != lb.ARN {
			t.Errorf("%s: load balancers %v", st.name, got.LoadBalancerARNs)
		}
		d, err := e.DescribeTargetGroups(ctx, plProvider, DescribeTargetGroupsInput{TargetGroupARNs: []string{tg.ARN}})
		plOK(t, err)
		if d[0].HealthCheck != st.want {
			t.Errorf("%s: described %+v", st.name, d[0].HealthCheck)
		}
	}

	for _, tc := range []struct {
		name string
		in   ModifyTargetGroupInput
		code string
		msg  string
	}{
		{"path on a TCP check", ModifyTargetGroupInput{HealthCheckPath: "/"}, "InvalidConfigurationRequest", "path can be specified only"},
		{"matcher on a TCP check", ModifyTargetGroupInput{MatcherHTTPCode: "200"}, "InvalidConfigurationRequest", "matcher can be specified only"},
		{"disable", ModifyTargetGroupInput{HealthCheckEnabled: plBool(false)}, "InvalidConfigurationRequest", "cannot be disabled"},
		{"timeout above the kept interval", ModifyTargetGroupInput{HealthCheckTimeoutSeconds: plI32(21)}, "InvalidConfigurationRequest", "'21' must not be greater than the health check interval '20'"},
		{"interval below the kept timeout", ModifyTargetGroupInput{HealthCheckIntervalSeconds: plI32(10)}, "InvalidConfigurationRequest", "interval '10'"},
		{"unhealthy 1", ModifyTargetGroupInput{UnhealthyThresholdCount: plI32(1)}, "ValidationError", "unhealthyThresholdCount"},
		{"UDP check", ModifyTargetGroupInput{HealthCheckProtocol: "UDP"}, "ValidationError", "not supported for health checks"},
		{"bad port", ModifyTargetGroupInput{HealthCheckPort: "70000"}, "ValidationError", "traffic-port"},
		{"HTTP with a bad matcher: nothing changes", ModifyTargetGroupInput{HealthCheckProtocol: "HTTP", MatcherHTTPCode: "600"}, "ValidationError", "matcher"},
		{"unknown group", ModifyTargetGroupInput{TargetGroupARN: strings.Replace(tg.ARN, tg.ID, "0123456789abcdef", 1)}, "TargetGroupNotFound", "not found"},
		{"malformed ARN", ModifyTargetGroupInput{TargetGroupARN: "tg"}, "ValidationError", "not a valid target group ARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.TargetGroupARN == "" {
				in.TargetGroupARN = tg.ARN
			}
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.ModifyTargetGroup(ctx, plProvider, in)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
	t.Run("another account's group", func(t *testing.T) {
		e.plFailsUnchanged(t, "TargetGroupNotFound", func() error {
			_, err := e.ModifyTargetGroup(ctx, plConsumer, ModifyTargetGroupInput{TargetGroupARN: tg.ARN, HealthyThresholdCount: plI32(2)})
			return err
		})
	})
}

func TestDescribeTargetHealth(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	extra := e.plSubnet(t, plProvider, n.vpc, "10.0.3.0/24", "us-east-1c")
	a := e.plInstance(t, plProvider, n.subA, InstanceRunning)
	b := e.plInstance(t, plProvider, n.subA, InstanceRunning)
	c := e.plInstance(t, plProvider, extra, InstanceRunning)
	spare := e.plInstance(t, plProvider, n.subA, InstanceRunning)
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID, n.subB.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	plOK(t, e.RegisterTargets(ctx, plProvider, tg.ARN, []TargetDescription{{ID: a.ID}, {ID: b.ID, Port: 2022}, {ID: c.ID}}))

	describe := func(targets ...TargetDescription) []TargetHealthDescription {
		t.Helper()
		h, err := e.DescribeTargetHealth(ctx, plProvider, DescribeTargetHealthInput{TargetGroupARN: tg.ARN, Targets: targets})
		plOK(t, err)
		return h
	}
	type row struct{ id, port, hcPort, state, reason string }
	rows := func(h []TargetHealthDescription) []row {
		var out []row
		for _, d := range h {
			out = append(out, row{d.Target.ID, itoa(d.Target.Port), d.HealthCheckPort, d.State, d.Reason})
		}
		return out
	}
	check := func(name string, got []TargetHealthDescription, want ...row) {
		t.Helper()
		if g := rows(got); len(g) != len(want) || !func() bool {
			for i := range g {
				if g[i] != want[i] {
					return false
				}
			}
			return true
		}() {
			t.Errorf("%s:\ngot  %v\nwant %v", name, g, want)
		}
	}

	check("no listener: unused", describe(),
		row{a.ID, "22", "22", "unused", "Target.NotInUse"},
		row{b.ID, "2022", "2022", "unused", "Target.NotInUse"},
		row{c.ID, "22", "22", "unused", "Target.NotInUse"})
	if d := describe()[0].Description; d != "Target group is not configured to receive traffic from the load balancer" {
		t.Errorf("description %q", d)
	}

	e.plListener(t, plProvider, lb.ARN, 8022, tg.ARN)
	check("with a listener: initial, except outside the load balancer's zones", describe(),
		row{a.ID, "22", "22", "initial", "Elb.InitialHealthChecking"},
		row{b.ID, "2022", "2022", "initial", "Elb.InitialHealthChecking"},
		row{c.ID, "22", "22", "unused", "Target.NotInUse"})

	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: tg.ID, TargetID: a.ID, Port: 22, State: TargetHealthy}))
	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: tg.ID, TargetID: b.ID, Port: 2022, State: TargetUnhealthy,
		Reason: ReasonFailedHealthChecks, Description: "Health checks failed"}))
	e.plSetInstanceState(t, c.ID, InstanceTerminated)
	check("recorded health", describe(),
		row{a.ID, "22", "22", "healthy", ""},
		row{b.ID, "2022", "2022", "unhealthy", "Target.FailedHealthChecks"},
		row{c.ID, "22", "22", "unused", "Target.InvalidState"})

	check("selected targets; unregistered but valid", describe(TargetDescription{ID: b.ID}, TargetDescription{ID: spare.ID}),
		row{b.ID, "2022", "2022", "unhealthy", "Target.FailedHealthChecks"},
		row{spare.ID, "22", "22", "unused", "Target.NotRegistered"})

	e.plSetInstanceState(t, a.ID, "stopped")
	if h := describe(TargetDescription{ID: a.ID, Port: 22}); h[0].Reason != ReasonInvalidState || h[0].Description != "Target is in the stopped state" {
		t.Errorf("stopped target %+v", h[0])
	}

	for _, tc := range []struct {
		name string
		in   DescribeTargetHealthInput
		code string
	}{
		{"unknown instance", DescribeTargetHealthInput{TargetGroupARN: tg.ARN, Targets: []TargetDescription{{ID: "i-0123456789abcdef0"}}}, "InvalidTarget"},
		{"malformed target", DescribeTargetHealthInput{TargetGroupARN: tg.ARN, Targets: []TargetDescription{{ID: "web-1"}}}, "InvalidTarget"},
		{"no group", DescribeTargetHealthInput{}, "ValidationError"},
		{"bad include", DescribeTargetHealthInput{TargetGroupARN: tg.ARN, Include: []string{"Everything"}}, "ValidationError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.DescribeTargetHealth(ctx, plProvider, tc.in)
			plCode(t, err, tc.code)
		})
	}
	_, err := e.DescribeTargetHealth(ctx, plConsumer, DescribeTargetHealthInput{TargetGroupARN: tg.ARN})
	plCode(t, err, "TargetGroupNotFound")
}

func TestDescribeAndDeleteTargetGroups(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	used := e.plTargetGroup(t, plProvider, "used", n.vpc.ID, 22)
	idle := e.plTargetGroup(t, plProvider, "idle", n.vpc.ID, 23)
	l := e.plListener(t, plProvider, lb.ARN, 8022, used.ARN)
	e.plListener(t, plProvider, lb.ARN, 9022, used.ARN)

	byLB, err := e.DescribeTargetGroups(ctx, plProvider, DescribeTargetGroupsInput{LoadBalancerARN: lb.ARN})
	plOK(t, err)
	if len(byLB) != 1 || byLB[0].ARN != used.ARN || len(byLB[0].LoadBalancerARNs) != 1 || byLB[0].LoadBalancerARNs[0] != lb.ARN {
		t.Errorf("by load balancer %+v", byLB)
	}
	all, err := e.DescribeTargetGroups(ctx, plProvider, DescribeTargetGroupsInput{})
	plOK(t, err)
	if len(all) != 2 {
		t.Errorf("all %+v", all)
	}
	byName, err := e.DescribeTargetGroups(ctx, plProvider, DescribeTargetGroupsInput{Names: []string{"idle"}})
	plOK(t, err)
	if len(byName) != 1 || byName[0].ARN != idle.ARN || len(byName[0].LoadBalancerARNs) != 0 {
		t.Errorf("by name %+v", byName)
	}
	for _, tc := range []struct {
		name string
		in   DescribeTargetGroupsInput
		code string
		msg  string
	}{
		{"unknown name", DescribeTargetGroupsInput{Names: []string{"nope"}}, "TargetGroupNotFound", "Target groups '[nope]' not found"},
		{"malformed ARN", DescribeTargetGroupsInput{TargetGroupARNs: []string{"nope"}}, "ValidationError", "'nope' is not a valid target group ARN"},
		{"two selectors", DescribeTargetGroupsInput{Names: []string{"idle"}, LoadBalancerARN: lb.ARN}, "ValidationError", "at the same time"},
		{"unknown load balancer", DescribeTargetGroupsInput{LoadBalancerARN: strings.Replace(lb.ARN, lb.ID, "0123456789abcdef", 1)}, "LoadBalancerNotFound", "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.DescribeTargetGroups(ctx, plProvider, tc.in)
			if got := plCode(t, err, tc.code); !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
	if got, err := e.DescribeTargetGroups(ctx, plConsumer, DescribeTargetGroupsInput{}); err != nil || len(got) != 0 {
		t.Errorf("another account sees %+v, %v", got, err)
	}

	got := e.plFailsUnchanged(t, "ResourceInUse", func() error { return e.DeleteTargetGroup(ctx, plProvider, used.ARN) })
	if got.Message != "Target group '"+used.ARN+"' is currently in use by a listener or a rule" {
		t.Errorf("message %q", got.Message)
	}
	plOK(t, e.DeleteTargetGroup(ctx, plProvider, idle.ARN))
	plOK(t, e.DeleteTargetGroup(ctx, plProvider, idle.ARN)) // gone already: succeeds
	e.plFailsUnchanged(t, "ValidationError", func() error { return e.DeleteTargetGroup(ctx, plProvider, "x") })
	plOK(t, e.DeleteListener(ctx, plProvider, l.ARN))
	e.plFailsUnchanged(t, "ResourceInUse", func() error { return e.DeleteTargetGroup(ctx, plProvider, used.ARN) })
}
