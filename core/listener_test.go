package core

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func (e *plEnv) plListener(t *testing.T, owner Caller, lbARN string, port int32, tgARN string) Listener {
	t.Helper()
	l, err := e.CreateListener(context.Background(), owner, CreateListenerInput{
		LoadBalancerARN: lbARN, Protocol: "TCP", Port: port,
		DefaultActions: []ListenerActionInput{{Type: "forward", TargetGroupARN: tgARN}},
	})
	plOK(t, err)
	return l
}

func TestCreateListener(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)

	l := e.plListener(t, plProvider, lb.ARN, 8022, tg.ARN)
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/nlb/` + lb.ID + `/[0-9a-f]{16}$`).MatchString(l.ARN) {
		t.Errorf("ARN %s", l.ARN)
	}
	if l.LoadBalancerARN != lb.ARN || l.Port != 8022 || l.Protocol != "TCP" || len(l.DefaultActions) != 1 ||
		l.DefaultActions[0] != (ListenerAction{Type: "forward", TargetGroupARN: tg.ARN}) {
		t.Errorf("listener %+v", l)
	}

	// ForwardConfig with the same group, and a repeat: both return the listener.
	again, err := e.CreateListener(ctx, plProvider, CreateListenerInput{
		LoadBalancerARN: lb.ARN, Protocol: "TCP", Port: 8022,
		DefaultActions: []ListenerActionInput{{Type: "forward", ForwardTargetGroups: []WeightedTargetGroup{{TargetGroupARN: tg.ARN, Weight: plI32(1)}}}},
	})
	plOK(t, err)
	if again.ARN != l.ARN {
		t.Errorf("repeat created %s", again.ARN)
	}
	second := e.plListener(t, plProvider, lb.ARN, 9022, tg.ARN)
	got, err := e.DescribeListeners(ctx, plProvider, DescribeListenersInput{LoadBalancerARN: lb.ARN})
	plOK(t, err)
	if len(got) != 2 || got[0].ARN != l.ARN || got[1].ARN != second.ARN {
		t.Errorf("listeners %+v", got)
	}
	got, err = e.DescribeListeners(ctx, plProvider, DescribeListenersInput{ListenerARNs: []string{second.ARN}})
	plOK(t, err)
	if len(got) != 1 || got[0].ARN != second.ARN {
		t.Errorf("by ARN %+v", got)
	}
}

func TestCreateListenerErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	other := e.plNetwork(t, plProvider, "10.1.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	lb2 := e.plLB(t, plProvider, "nlb2", n.subB.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	tg2 := e.plTargetGroup(t, plProvider, "tg2", n.vpc.ID, 22)
	elsewhere := e.plTargetGroup(t, plProvider, "elsewhere", other.vpc.ID, 22)
	e.plListener(t, plProvider, lb.ARN, 8022, tg.ARN)
	missingTG := strings.Replace(tg.ARN, tg.ID, "0123456789abcdef", 1)

	ok := func(mod func(*CreateListenerInput)) CreateListenerInput {
		in := CreateListenerInput{LoadBalancerARN: lb.ARN, Protocol: "TCP", Port: 9000,
			DefaultActions: []ListenerActionInput{{Type: "forward", TargetGroupARN: tg2.ARN}}}
		mod(&in)
		return in
	}
	cases := []struct {
		name string
		in   CreateListenerInput
		code string
		msg  string
	}{
		{"port in use", ok(func(in *CreateListenerInput) { in.Port = 8022 }), "DuplicateListener", "A listener already exists on this port for this load balancer '" + lb.ARN + "'"},
		{"group of another load balancer", ok(func(in *CreateListenerInput) {
			in.LoadBalancerARN = lb2.ARN
			in.DefaultActions[0].TargetGroupARN = tg.ARN
		}),
			"TargetGroupAssociationLimit", "cannot be associated with more than one load balancer: " + tg.ARN},
		{"group in another VPC", ok(func(in *CreateListenerInput) { in.DefaultActions[0].TargetGroupARN = elsewhere.ARN }), "InvalidConfigurationRequest", "different VPC"},
		{"unknown group", ok(func(in *CreateListenerInput) { in.DefaultActions[0].TargetGroupARN = missingTG }), "TargetGroupNotFound", missingTG},
		{"unknown load balancer", ok(func(in *CreateListenerInput) {
			in.LoadBalancerARN = strings.Replace(lb.ARN, lb.ID, "0123456789abcdef", 1)
		}), "LoadBalancerNotFound", "not found"},
		{"no load balancer", ok(func(in *CreateListenerInput) { in.LoadBalancerARN = "" }), "ValidationError", "loadBalancerArn"},
		{"no protocol", ok(func(in *CreateListenerInput) { in.Protocol = "" }), "ValidationError", "protocol"},
		{"HTTP", ok(func(in *CreateListenerInput) { in.Protocol = "HTTP" }), "ValidationError", "Listener protocol 'HTTP' must be one of 'TCP_UDP, TLS, UDP, TCP'"},
		{"TLS", ok(func(in *CreateListenerInput) { in.Protocol = "TLS" }), "UnsupportedProtocol", "TLS"},
		{"UDP", ok(func(in *CreateListenerInput) { in.Protocol = "UDP" }), "UnsupportedProtocol", "UDP"},
		{"unknown protocol", ok(func(in *CreateListenerInput) { in.Protocol = "QUIC" }), "ValidationError", "enum value set"},
		{"no port", ok(func(in *CreateListenerInput) { in.Port = 0 }), "ValidationError", "port"},
		{"port too big", ok(func(in *CreateListenerInput) { in.Port = 65536 }), "ValidationError", "65535"},
		{"certificate", ok(func(in *CreateListenerInput) {
			in.CertificateARNs = []string{"arn:aws:acm:us-east-1:000000000000:certificate/x"}
		}), "InvalidConfigurationRequest", "TLS"},
		{"no actions", ok(func(in *CreateListenerInput) { in.DefaultActions = nil }), "ValidationError", "defaultActions"},
		{"two actions", ok(func(in *CreateListenerInput) { in.DefaultActions = append(in.DefaultActions, in.DefaultActions[0]) }), "InvalidLoadBalancerAction", "exactly one"},
		{"redirect", ok(func(in *CreateListenerInput) { in.DefaultActions[0].Type = "redirect" }), "InvalidLoadBalancerAction", "redirect"},
		{"unknown action", ok(func(in *CreateListenerInput) { in.DefaultActions[0].Type = "drop" }), "ValidationError", "enum value set"},
		{"forward without a group", ok(func(in *CreateListenerInput) { in.DefaultActions[0].TargetGroupARN = "" }), "ValidationError", "target group"},
		{"two forward groups", ok(func(in *CreateListenerInput) {
			in.DefaultActions[0].ForwardTargetGroups = []WeightedTargetGroup{{TargetGroupARN: tg2.ARN}, {TargetGroupARN: tg.ARN}}
		}), "InvalidLoadBalancerAction", "only one target group"},
		{"disagreeing forward config", ok(func(in *CreateListenerInput) {
			in.DefaultActions[0].ForwardTargetGroups = []WeightedTargetGroup{{TargetGroupARN: tg.ARN}}
		}), "ValidationError", "different target group"},
		{"stickiness", ok(func(in *CreateListenerInput) { in.DefaultActions[0].ForwardStickiness = true }), "InvalidConfigurationRequest", "stickiness"},
		{"malformed group ARN", ok(func(in *CreateListenerInput) { in.DefaultActions[0].TargetGroupARN = "tg2" }), "ValidationError", "'tg2' is not a valid target group ARN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.CreateListener(ctx, plProvider, tc.in)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
	t.Run("another account's load balancer", func(t *testing.T) {
		e.plFailsUnchanged(t, "LoadBalancerNotFound", func() error {
			_, err := e.CreateListener(ctx, plConsumer, ok(func(*CreateListenerInput) {}))
			return err
		})
	})
}

func TestDescribeAndDeleteListeners(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	l := e.plListener(t, plProvider, lb.ARN, 8022, tg.ARN)

	for _, tc := range []struct {
		name string
		in   DescribeListenersInput
		code string
	}{
		{"neither", DescribeListenersInput{}, "ValidationError"},
		{"both", DescribeListenersInput{LoadBalancerARN: lb.ARN, ListenerARNs: []string{l.ARN}}, "ValidationError"},
		{"malformed", DescribeListenersInput{ListenerARNs: []string{lb.ARN}}, "ValidationError"},
		{"unknown", DescribeListenersInput{ListenerARNs: []string{strings.Replace(l.ARN, l.ID, "0123456789abcdef", 1)}}, "ListenerNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.DescribeListeners(ctx, plProvider, tc.in)
			plCode(t, err, tc.code)
		})
	}
	_, err := e.DescribeListeners(ctx, plConsumer, DescribeListenersInput{ListenerARNs: []string{l.ARN}})
	plCode(t, err, "ListenerNotFound")
	e.plFailsUnchanged(t, "ListenerNotFound", func() error { return e.DeleteListener(ctx, plConsumer, l.ARN) })
	e.plFailsUnchanged(t, "ValidationError", func() error { return e.DeleteListener(ctx, plProvider, "listener") })

	plOK(t, e.DeleteListener(ctx, plProvider, l.ARN))
	e.plFailsUnchanged(t, "ListenerNotFound", func() error { return e.DeleteListener(ctx, plProvider, l.ARN) })
	got, err := e.DescribeListeners(ctx, plProvider, DescribeListenersInput{LoadBalancerARN: lb.ARN})
	plOK(t, err)
	if len(got) != 0 {
		t.Errorf("listeners after deletion %+v", got)
	}
	plOK(t, e.DeleteTargetGroup(ctx, plProvider, tg.ARN)) // no longer in use
}
