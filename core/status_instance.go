package core

import (
	"context"
	"net/netip"
)

// Status reports from the lab reconciler about instances. Each is
// idempotent and tolerates races with clients: a report about an instance
// that has meanwhile moved on (terminated by its owner, say) or is gone
// changes nothing and is not an error.

// SetInstanceRunning records that the lab has built a pending instance.
func (c *Cloud) SetInstanceRunning(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error {
		in, ok, err := get[Instance](t, keyInstance(id))
		if err != nil || !ok || in.State != InstancePending {
			return err
		}
		in.State = InstanceRunning
		in.StateReason, in.StateReasonCode = "", ""
		return put(t, keyInstance(id), in)
	})
}

// SetInstanceLabError records why the lab could not build or tear down an
// instance, which stays in its state while the reconciler retries. The
// message is shown to the instance's owner as its state reason.
func (c *Cloud) SetInstanceLabError(ctx context.Context, id, msg string) error {
	return c.update(ctx, func(t *txn) error {
		in, ok, err := get[Instance](t, keyInstance(id))
		if err != nil || !ok || in.State == InstanceTerminated {
			return err
		}
		reason := stateReasonInternal + ": " + msg
		if in.StateReasonCode == stateReasonInternal && in.StateReason == reason {
			return nil
		}
		in.StateReasonCode, in.StateReason = stateReasonInternal, reason
		return put(t, keyInstance(id), in)
	})
}

// FinishTermination records that the lab has torn a shutting-down instance
// down: the instance is terminated and its interface, and with it its
// address, is freed.
func (c *Cloud) FinishTermination(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error {
		in, ok, err := get[Instance](t, keyInstance(id))
		if err != nil || !ok || in.State != InstanceShuttingDown {
			return err
		}
		if in.NetworkInterfaceID != "" {
			if err := del(t, keyENI(in.NetworkInterfaceID)); err != nil {
				return err
			}
		}
		in.State = InstanceTerminated
		in.TerminatedAt = c.now()
		in.NetworkInterfaceID, in.PrivateIP = "", netip.Addr{}
		in.StateReasonCode = stateReasonUserShutdown
		in.StateReason = stateReasonUserShutdown + ": User initiated shutdown"
		return put(t, keyInstance(id), in)
	})
}

// PurgeTerminatedInstances forgets instances terminated more than
// TerminatedInstanceRetention ago and returns how many it removed.
func (c *Cloud) PurgeTerminatedInstances(ctx context.Context) (int, error) {
	var n int
	err := c.update(ctx, func(t *txn) error {
		n = 0
		instances, err := list[Instance](t, prefixInstances)
		if err != nil {
			return err
		}
		cutoff := c.now().Add(-TerminatedInstanceRetention)
		for _, in := range instances {
			if in.State == InstanceTerminated && in.TerminatedAt.Before(cutoff) {
				if err := del(t, keyInstance(in.ID)); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}
