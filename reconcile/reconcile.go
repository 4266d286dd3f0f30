package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/dataplane"
	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/store"
)

// Fabric is the lab, as the reconciler uses it. *lab.Lab is one.
type Fabric interface {
	Namer
	Apply(ctx context.Context, spec lab.Spec) lab.Status
	// Forget makes the next Apply check everything against the kernel.
	Forget()
}

// Plane is the data plane, as the reconciler uses it. *dataplane.Plane is
// one.
type Plane interface {
	Apply(cfg dataplane.Config) map[string]error
}

// Config tunes a Reconciler. Zero fields take defaults.
type Config struct {
	// Debounce is how long a pass waits after a change for more changes.
	Debounce time.Duration
	// Resync is the period of passes that check the whole lab against the
	// kernel, repairing drift (a namespace or rule removed by hand) and
	// retrying failed objects.
	Resync time.Duration
	// DataPath is how endpoint flows are carried (default DataPathKernel).
	DataPath DataPath
}

// DataPath is how endpoint flows reach their targets.
type DataPath string

const (
	// DataPathKernel translates endpoint flows with nftables NAT in the
	// consumer's router and in the load balancer node, across a transit
	// link: no process touches the bytes (see the lab package).
	DataPathKernel DataPath = "kernel"
	// DataPathProxy accepts endpoint flows on sockets in the consumer's
	// router and copies them to new connections from the load balancer
	// node (see the dataplane package). It costs a user-space hop; it is
	// where features that rewrite the stream (PROXY protocol) live.
	DataPathProxy DataPath = "proxy"
)

func (c Config) withDefaults() Config {
	if c.Debounce == 0 {
		c.Debounce = 5 * time.Millisecond
	}
	if c.Resync == 0 {
		c.Resync = 30 * time.Second
	}
	if c.DataPath == "" {
		c.DataPath = DataPathKernel
	}
	return c
}

// Reconciler converges the lab and the data plane on the store's state.
type Reconciler struct {
	cloud  *core.Cloud
	fabric Fabric // nil without a lab: objects go straight to their ready states
	plane  Plane  // nil without a lab
	cfg    Config
	log    *slog.Logger
	health chan dataplane.HealthEvent
	// labErrs is the last lab error logged per object, so that a failure
	// that lasts is logged when it starts and when it changes, not on
	// every pass. Only Run's goroutine uses it.
	labErrs map[string]string
	dns     *dnsResolvers // nil until EnableDNS (dns.go)
	// last is the snapshot of the latest pass, for readers that want the
	// state without a store read of their own (the DropLogger).
	last atomic.Pointer[core.Snapshot]
}

// New returns a Reconciler. fabric and plane are both nil for an API-only
// server (--no-lab). Pass the returned reconciler's HealthSink to the data
// plane's Options.OnHealth.
func New(cloud *core.Cloud, fabric Fabric, plane Plane, cfg Config, log *slog.Logger) *Reconciler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{
		cloud: cloud, fabric: fabric, plane: plane, cfg: cfg.withDefaults(), log: log,
		health: make(chan dataplane.HealthEvent, 1024), labErrs: map[string]string{},
	}
}

// HealthSink receives health events from the data plane. It never blocks: if
// the writer falls behind, events are dropped and the next transition (or
// the periodic resync of health) catches up.
func (r *Reconciler) HealthSink(ev dataplane.HealthEvent) {
	select {
	case r.health <- ev:
	default:
		r.log.Warn("health event dropped: writer behind", "targetGroup", ev.TargetGroupID, "target", ev.TargetID)
	}
}

// Run reconciles until ctx is done. It returns nil on cancellation.
func (r *Reconciler) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.writeHealth(ctx)
	}()
	defer func() { <-done }()
	defer r.dns.close()

	w := &watch{st: r.cloud.Store()}
	defer w.stop()
	resync := time.NewTicker(r.cfg.Resync)
	defer resync.Stop()
	for resynced := true; ; {
		snap, err := r.load(ctx, resynced)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Error("reconcile: read state", "err", err)
			if !sleep(ctx, time.Second) {
				return nil
			}
			continue
		}
		r.pass(ctx, snap)
		changes := w.from(ctx, snap.Revision)
		// A draining target leaves its group when its delay is over; the
		// removal is a change like any other.
		var drained <-chan time.Time
		var drainTimer *time.Timer
		if next := nextDrainEnd(snap); !next.IsZero() {
			drainTimer = time.NewTimer(time.Until(next))
			drained = drainTimer.C
		}
		// Wait for a change after the snapshot, then a short quiet period.
		resynced = r.wait(ctx, w, changes, resync.C, drained)
		if drainTimer != nil {
			drainTimer.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// load reads the state a pass needs. Without a lab, that is the state
// without the lab's kinds, except on the first pass and on resyncs: those
// read every kind, so the memo of decoded objects forgets deleted ones
// (see core.LoadSnapshotWithoutLab).
func (r *Reconciler) load(ctx context.Context, resynced bool) (*core.Snapshot, error) {
	if r.fabric == nil && !resynced {
		return r.cloud.LoadSnapshotWithoutLab(ctx)
	}
	return r.cloud.LoadSnapshot(ctx)
}

// wait waits for the next reason to pass again: a change (after a quiet
// period), the resync period, or the end of a target's drain. It reports
// whether the resync period was the reason.
func (r *Reconciler) wait(ctx context.Context, w *watch, changes <-chan store.WatchResponse, resync, drained <-chan time.Time) (resynced bool) {
	select {
	case <-ctx.Done():
	case <-drained:
		r.finishDeregistrations(ctx)
	case <-resync:
		if r.fabric != nil {
			r.fabric.Forget()
		}
		return true
	case wr, ok := <-changes:
		if !ok || wr.Err != nil {
			w.stop() // re-watch from the next snapshot
			if wr.Err != nil && !errors.Is(wr.Err, store.ErrCompacted) {
				r.log.Warn("reconcile: watch ended", "err", wr.Err)
			}
			return false
		}
		r.drain(ctx, changes)
	}
	return false
}

// watch keeps one store watch open across passes and restarts it when it
// ends, so a pass never misses a change made while it ran.
type watch struct {
	st      store.Store
	ch      <-chan store.WatchResponse
	cancel  context.CancelFunc
	started bool
}

// from returns the open watch, or opens one for changes after rev.
func (w *watch) from(ctx context.Context, rev int64) <-chan store.WatchResponse {
	if !w.started {
		var wctx context.Context
		wctx, w.cancel = context.WithCancel(ctx)
		w.ch = w.st.Watch(wctx, "", rev)
		w.started = true
	}
	return w.ch
}

func (w *watch) stop() {
	if w.started {
		w.cancel()
		w.started = false
	}
}

// drain absorbs further changes for the debounce period.
func (r *Reconciler) drain(ctx context.Context, changes <-chan store.WatchResponse) {
	t := time.NewTimer(r.cfg.Debounce)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
		}
	}
}

// pass converges once on snap and writes status back.
func (r *Reconciler) pass(ctx context.Context, snap *core.Snapshot) {
	r.last.Store(snap)
	var labErrs map[string]error
	r.dns.beforeLab(snap, r.fabric)
	if r.fabric != nil {
		labErrs = r.fabric.Apply(ctx, desiredLab(snap, r.cfg.DataPath)).Errors
		r.logLabErrors(labErrs)
	}
	r.dns.afterLab(snap, r.fabric)
	// failedEndpoints holds, per endpoint, a listener the plane could not
	// open; such an endpoint stays pending and is retried next pass.
	failedEndpoints := map[string]error{}
	if r.plane != nil {
		cfg := desiredPlane(snap, r.fabric, r.cfg.DataPath)
		planeErrs := r.plane.Apply(cfg)
		for _, l := range cfg.Listeners {
			if err := planeErrs[l.Key()]; err != nil {
				failedEndpoints[l.EndpointID] = err
			}
		}
	}
	r.report(ctx, snap, labErrs, failedEndpoints)
}

// logLabErrors logs the lab's failures as they start, change and end.
func (r *Reconciler) logLabErrors(errs map[string]error) {
	for id, err := range errs {
		if err == nil {
			continue
		}
		if msg := err.Error(); r.labErrs[id] != msg {
			r.labErrs[id] = msg
			r.log.Warn("lab: not realised", "object", id, "err", err)
		}
	}
	for id := range r.labErrs {
		if errs[id] == nil {
			delete(r.labErrs, id)
			r.log.Info("lab: realised", "object", id)
		}
	}
}

// report moves objects along their lifecycles once the lab and the data
// plane have realised them.
func (r *Reconciler) report(ctx context.Context, snap *core.Snapshot, labErrs, failedEndpoints map[string]error) {
	vpcReady := func(id string) bool { return labErrs[id] == nil }

	for _, id := range slices.Sorted(maps.Keys(snap.Instances)) {
		in := snap.Instances[id]
		switch in.State {
		case core.InstancePending:
			if err := labErrs[id]; err != nil || !vpcReady(in.VpcID) {
				if err == nil {
					err = labErrs[in.VpcID]
				}
				r.log.Warn("instance not realised", "instance", id, "err", err)
				r.try(r.cloud.SetInstanceLabError(ctx, id, err.Error()), "instance", id)
				continue
			}
			r.try(r.cloud.SetInstanceRunning(ctx, id), "instance", id)
		case core.InstanceShuttingDown:
			if labErrs[id] == nil {
				r.try(r.cloud.FinishTermination(ctx, id), "instance", id)
			}
		}
	}
	if _, err := r.cloud.PurgeTerminatedInstances(ctx); err != nil {
		r.try(err, "instances", "terminated")
	}

	for _, id := range slices.Sorted(maps.Keys(snap.LoadBalancers)) {
		lb := snap.LoadBalancers[id]
		if lb.State == core.LBProvisioning && vpcReady(lb.VpcID) {
			r.try(r.cloud.SetLoadBalancerActive(ctx, id), "loadBalancer", id)
		}
	}

	for _, id := range slices.Sorted(maps.Keys(snap.Endpoints)) {
		ep := snap.Endpoints[id]
		switch ep.State {
		case core.EndpointPending:
			if err := failedEndpoints[id]; err != nil {
				r.log.Warn("endpoint not realised", "endpoint", id, "err", err)
				continue // retried on the next pass
			}
			if !vpcReady(ep.VpcID) {
				continue
			}
			r.try(r.cloud.SetEndpointAvailable(ctx, id), "endpoint", id)
		case core.EndpointDeleting:
			// The plane was applied without it: its listeners are closed.
			r.try(r.cloud.FinishEndpointDeletion(ctx, id), "endpoint", id)
		}
	}
}

// nextDrainEnd is when the first draining target's deregistration delay
// ends; zero when no target drains.
func nextDrainEnd(s *core.Snapshot) time.Time {
	var next time.Time
	for _, tg := range s.TargetGroups {
		for _, t := range tg.Targets {
			if !t.Draining() {
				continue
			}
			if end := tg.DrainEnds(t); next.IsZero() || end.Before(next) {
				next = end
			}
		}
	}
	return next
}

func (r *Reconciler) finishDeregistrations(ctx context.Context) {
	if _, err := r.cloud.FinishDeregistrations(ctx, time.Now()); err != nil {
		r.try(err, "targetGroups", "deregistration")
	}
}

func (r *Reconciler) try(err error, kind, id string) {
	if err != nil && !errors.Is(err, context.Canceled) {
		r.log.Error("reconcile: status update", kind, id, "err", err)
	}
}

// writeHealth writes health transitions to the store until ctx is done.
func (r *Reconciler) writeHealth(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.health:
			err := r.cloud.PutTargetHealth(ctx, core.TargetHealth{
				TargetGroupID: ev.TargetGroupID,
				TargetID:      ev.TargetID,
				Port:          int32(ev.Port),
				State:         ev.State,
				Reason:        ev.Reason,
				Description:   ev.Description,
				UpdatedAt:     time.Now().UTC(),
			})
			r.try(err, "targetGroup", ev.TargetGroupID)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
