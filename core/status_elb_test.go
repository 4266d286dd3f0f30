package core

import (
	"context"
	"testing"
	"time"
)

func TestSetLoadBalancerActive(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)

	plOK(t, e.SetLoadBalancerActive(ctx, lb.ID))
	got, err := e.DescribeLoadBalancers(ctx, plProvider, DescribeLoadBalancersInput{})
	plOK(t, err)
	if got[0].State != LBActive {
		t.Fatalf("state %s", got[0].State)
	}
	rev := e.plRevision(t)
	plOK(t, e.SetLoadBalancerActive(ctx, lb.ID))
	plOK(t, e.SetLoadBalancerActive(ctx, "0123456789abcdef"))
	if e.plRevision(t) != rev {
		t.Error("no-op status reports wrote to the store")
	}
}

func TestPutTargetHealth(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	in := e.plInstance(t, plProvider, n.subA, InstanceRunning)
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	e.plListener(t, plProvider, lb.ARN, 22, tg.ARN)
	plOK(t, e.RegisterTargets(ctx, plProvider, tg.ARN, []TargetDescription{{ID: in.ID}}))
	health := func() TargetHealthDescription {
		t.Helper()
		h, err := e.DescribeTargetHealth(ctx, plProvider, DescribeTargetHealthInput{TargetGroupARN: tg.ARN})
		plOK(t, err)
		return h[0]
	}
	stored := func() *TargetHealth {
		t.Helper()
		var h *TargetHealth
		e.plPut(t, func(tx *txn) error {
			var err error
			h, _, err = get[TargetHealth](tx, keyTargetHealth(tg.ID, in.ID, 22))
			return err
		})
		return h
	}

	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: tg.ID, TargetID: in.ID, Port: 22, State: TargetHealthy}))
	if h := health(); h.State != TargetHealthy {
		t.Fatalf("health %+v", h)
	}
	first := stored().UpdatedAt

	*e.clock = e.clock.Add(time.Minute)
	rev := e.plRevision(t)
	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: tg.ID, TargetID: in.ID, Port: 22, State: TargetHealthy}))
	if e.plRevision(t) != rev || !stored().UpdatedAt.Equal(first) {
		t.Error("an unchanged report wrote to the store")
	}

	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: tg.ID, TargetID: in.ID, Port: 22, State: TargetUnhealthy,
		Reason: ReasonFailedHealthChecks, Description: "Health checks failed"}))
	if h := health(); h.State != TargetUnhealthy || h.Reason != ReasonFailedHealthChecks || h.Description != "Health checks failed" {
		t.Errorf("health %+v", h)
	}
	if !stored().UpdatedAt.Equal(*e.clock) {
		t.Error("a change did not stamp the report")
	}

	rev = e.plRevision(t)
	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: tg.ID, TargetID: in.ID, Port: 23, State: TargetHealthy}))
	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: "0123456789abcdef", TargetID: in.ID, Port: 22, State: TargetHealthy}))
	if e.plRevision(t) != rev {
		t.Error("reports about unregistered targets were stored")
	}
}

func TestEndpointStatus(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, true)
	e.plAllow(t, w.svc.ID, "*")
	ep := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)

	for _, tc := range []struct {
		name, from string
		call       func() error
		want       string
	}{
		{"available from pendingAcceptance: no", EndpointPendingAcceptance, func() error { return e.SetEndpointAvailable(ctx, ep.ID) }, EndpointPendingAcceptance},
		{"available from pending", EndpointPending, func() error { return e.SetEndpointAvailable(ctx, ep.ID) }, EndpointAvailable},
		{"available from deleting: no", EndpointDeleting, func() error { return e.SetEndpointAvailable(ctx, ep.ID) }, EndpointDeleting},
		{"failed from pending", EndpointPending, func() error { return e.SetEndpointFailed(ctx, ep.ID, "LabError", "namespace exists") }, EndpointFailed},
		{"failed from rejected: no", EndpointRejected, func() error { return e.SetEndpointFailed(ctx, ep.ID, "LabError", "x") }, EndpointRejected},
		{"finish deletion of a live endpoint: no", EndpointAvailable, func() error { return e.FinishEndpointDeletion(ctx, ep.ID) }, EndpointAvailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.plSetEndpointState(t, ep.ID, tc.from)
			plOK(t, tc.call())
			if s := e.plEndpointState(t, plConsumer, ep.ID); s != tc.want {
				t.Errorf("state %s, want %s", s, tc.want)
			}
		})
	}
	e.plSetEndpointState(t, ep.ID, EndpointPending)
	plOK(t, e.SetEndpointFailed(ctx, ep.ID, "LabError", "namespace exists"))
	got, err := e.DescribeVpcEndpoints(ctx, plConsumer, []string{ep.ID})
	plOK(t, err)
	if got[0].LastErrorCode != "LabError" || got[0].LastErrorMessage != "namespace exists" {
		t.Errorf("last error %+v", got[0].VpcEndpoint)
	}
	for _, call := range []func() error{
		func() error { return e.SetEndpointAvailable(ctx, "vpce-0123456789abcdef0") },
		func() error { return e.SetEndpointFailed(ctx, "vpce-0123456789abcdef0", "x", "y") },
		func() error { return e.FinishEndpointDeletion(ctx, "vpce-0123456789abcdef0") },
	} {
		plOK(t, call())
	}
}
