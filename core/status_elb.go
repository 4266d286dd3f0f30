package core

import "context"

// Status reported by reconcilers for load balancers, targets and endpoints.
// Each method is idempotent and ignores objects that are gone or have moved
// on to another state, so a reconciler acting on a stale snapshot cannot
// undo a user's later action.

// SetLoadBalancerActive marks a provisioning load balancer active.
func (c *Cloud) SetLoadBalancerActive(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error {
		lb, ok, err := get[LoadBalancer](t, keyLoadBalancer(id))
		if err != nil || !ok || lb.State != LBProvisioning {
			return err
		}
		lb.State = LBActive
		lb.StateReason = ""
		return put(t, keyLoadBalancer(id), lb)
	})
}

// PutTargetHealth records a target's observed health. It writes only when
// the state, reason or description changed, so that periodic checks of a
// steady target cost no store writes, and it drops reports about targets
// that are no longer registered.
func (c *Cloud) PutTargetHealth(ctx context.Context, h TargetHealth) error {
	return c.update(ctx, func(t *txn) error {
		g, ok, err := get[TargetGroup](t, keyTargetGroup(h.TargetGroupID))
		if err != nil || !ok {
			return err
		}
		registered := false
		for _, x := range g.Targets {
			registered = registered || x.ID == h.TargetID && x.Port == h.Port
		}
		if !registered {
			return nil
		}
		key := keyTargetHealth(h.TargetGroupID, h.TargetID, h.Port)
		old, ok, err := get[TargetHealth](t, key)
		if err != nil {
			return err
		}
		if ok && old.State == h.State && old.Reason == h.Reason && old.Description == h.Description {
			return nil
		}
		h.UpdatedAt = c.now()
		return put(t, key, h)
	})
}

// SetEndpointAvailable marks a pending endpoint available once its
// interfaces carry traffic. Endpoints in any other state are left alone.
func (c *Cloud) SetEndpointAvailable(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error {
		e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
		if err != nil || !ok || e.State != EndpointPending {
			return err
		}
		e.State = EndpointAvailable
		e.LastErrorCode, e.LastErrorMessage = "", ""
		return put(t, keyEndpoint(id), e)
	})
}

// SetEndpointFailed marks a pending or available endpoint failed, with the
// error DescribeVpcEndpoints reports as LastError.
func (c *Cloud) SetEndpointFailed(ctx context.Context, id, code, msg string) error {
	return c.update(ctx, func(t *txn) error {
		e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
		if err != nil || !ok || (e.State != EndpointPending && e.State != EndpointAvailable) {
			return err
		}
		e.State = EndpointFailed
		e.LastErrorCode, e.LastErrorMessage = code, msg
		return put(t, keyEndpoint(id), e)
	})
}

// FinishEndpointDeletion removes a deleting endpoint and its interfaces,
// once the reconciler has torn them down. Endpoints that are not deleting
// are left alone.
func (c *Cloud) FinishEndpointDeletion(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error {
		e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
		if err != nil || !ok || e.State != EndpointDeleting {
			return err
		}
		for _, eni := range e.NetworkInterfaceIDs {
			if err := del(t, keyENI(eni)); err != nil {
				return err
			}
		}
		return del(t, keyEndpoint(id))
	})
}
