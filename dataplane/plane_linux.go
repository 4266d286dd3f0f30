package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/privlink/privlink/netns"
)

// ErrClosed is reported for every listener by Apply after Close.
var ErrClosed = errors.New("dataplane: closed")

// Plane is the data plane. Its methods are safe for concurrent use.
type Plane struct {
	log         *slog.Logger
	dialTimeout time.Duration
	events      *dispatcher

	// wg counts every goroutine the plane starts except the dispatcher's:
	// accept loops, flows and health checkers.
	wg sync.WaitGroup

	applyMu sync.Mutex // serializes Apply and Close; guards closed, ns and retired
	closed  bool
	ns      map[string]*netns.NS // open namespace handles by name
	retired []*netns.NS          // handles of namespaces recreated since; routes may still hold them

	mu        sync.RWMutex // guards the maps listeners and groups (written only under applyMu too)
	listeners map[string]*listener
	groups    map[string]*group
}

// New returns a plane with nothing configured; Apply configures it.
func New(opts Options) *Plane {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Plane{
		log:         log,
		dialTimeout: opts.DialTimeout,
		events:      newDispatcher(opts.OnHealth),
		ns:          map[string]*netns.NS{},
		listeners:   map[string]*listener{},
		groups:      map[string]*group{},
	}
	if p.dialTimeout <= 0 {
		p.dialTimeout = 10 * time.Second
	}
	return p
}

// Apply converges the plane to cfg and returns, by listener key (see
// Listener.Key), the listeners it could not realise. A failure touches only
// its own listener. New listeners open; removed ones close and reset their
// flows; changed ones switch backends atomically for new flows while their
// established flows carry on. Target groups start, change or stop their
// health checkers; targets that stay keep their health.
//
// A part of cfg that cannot be realised (an invalid listener, a namespace
// that is missing) leaves its previous state in place and is reported: the
// plane keeps forwarding on the last configuration that worked. Applying the
// same configuration again changes nothing.
func (p *Plane) Apply(cfg Config) map[string]error {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	errs := map[string]error{}
	if p.closed {
		for _, l := range cfg.Listeners {
			errs[l.Key()] = ErrClosed
		}
		return errs
	}
	resolved := map[string]*netns.NS{}
	nsErr := map[string]error{}
	openNS := func(name string) (*netns.NS, error) {
		if ns, ok := resolved[name]; ok {
			return ns, nil
		}
		if err, ok := nsErr[name]; ok {
			return nil, err
		}
		ns, err := p.resolveNS(name)
		if err != nil {
			nsErr[name] = err
			return nil, err
		}
		resolved[name] = ns
		return ns, nil
	}

	// Target groups first, so listeners can point at them.
	wantTG := map[string]bool{}
	tgErr := map[string]error{}
	for _, tg := range cfg.TargetGroups {
		if wantTG[tg.ID] {
			p.log.Warn("target group listed twice; the first wins", "targetGroup", tg.ID)
			continue
		}
		wantTG[tg.ID] = true
		if err := p.applyGroup(tg, openNS); err != nil {
			p.log.Warn("target group not realised; keeping its previous state", "targetGroup", tg.ID, "err", err)
			tgErr[tg.ID] = err
		}
	}

	want := map[string]bool{}
	for _, lc := range cfg.Listeners {
		key := lc.Key()
		if want[key] {
			errs[key] = fmt.Errorf("listener %s listed twice", key)
			continue
		}
		want[key] = true
		if err := p.applyListener(lc, openNS, wantTG, tgErr); err != nil {
			errs[key] = fmt.Errorf("listener %s: %w", key, err)
		}
	}
	for key, l := range p.listeners {
		if !want[key] {
			l.close()
			p.mu.Lock()
			delete(p.listeners, key)
			p.mu.Unlock()
			p.log.Info("listener closed", "listener", key)
		}
	}

	// Groups go last: a removed listener's in-flight accepts may still
	// read their view, which stays valid after the group stops.
	for id, g := range p.groups {
		if !wantTG[id] {
			g.close(true)
			p.mu.Lock()
			delete(p.groups, id)
			p.mu.Unlock()
		}
	}
	return errs
}

// resolveNS returns the cached handle on the named namespace, replacing it
// when the namespace was deleted and created again since.
func (p *Plane) resolveNS(name string) (*netns.NS, error) {
	cur, err := netns.Open(name)
	if err != nil {
		return nil, err
	}
	old, ok := p.ns[name]
	if ok && old.Handle().Equal(cur.Handle()) {
		cur.Close()
		return old, nil
	}
	if ok {
		p.retired = append(p.retired, old)
	}
	p.ns[name] = cur
	return cur, nil
}

func (p *Plane) applyGroup(tg TargetGroup, openNS func(string) (*netns.NS, error)) error {
	valid, targetErrs, err := tg.validate()
	if err != nil {
		return err
	}
	for _, err := range targetErrs {
		p.log.Warn("target skipped", "targetGroup", tg.ID, "err", err)
	}
	ns, err := openNS(tg.Namespace)
	if err != nil {
		return err
	}
	spec, err := newCheckSpec(tg, ns)
	if err != nil {
		return err
	}
	g := p.groups[tg.ID]
	if g == nil {
		g = newGroup(tg.ID, p.log, p.events.push, &p.wg)
		p.mu.Lock()
		p.groups[tg.ID] = g
		p.mu.Unlock()
	}
	g.update(spec, valid)
	return nil
}

func (p *Plane) applyListener(lc Listener, openNS func(string) (*netns.NS, error), wantTG map[string]bool, tgErr map[string]error) error {
	if err := lc.validate(); err != nil {
		return err
	}
	g := p.groups[lc.TargetGroupID]
	if g == nil || !wantTG[lc.TargetGroupID] {
		if err := tgErr[lc.TargetGroupID]; err != nil {
			return fmt.Errorf("target group %s: %w", lc.TargetGroupID, err)
		}
		return fmt.Errorf("unknown target group %q", lc.TargetGroupID)
	}
	consumer, err := openNS(lc.Namespace)
	if err != nil {
		return err
	}
	provider, err := openNS(lc.Backend.Namespace)
	if err != nil {
		return err
	}
	r := &route{cfg: lc, provider: provider, nodes: nodeSet(lc.Zone, lc.Backend.Nodes), group: g}
	key := lc.Key()
	old := p.listeners[key]
	if old != nil && old.ns == consumer {
		if cur := old.route.Load(); cur.provider == provider && cur.group == g && cur.cfg.equalRoute(lc) {
			return nil
		}
		old.route.Store(r)
		p.log.Info("listener updated", "listener", key, "endpoint", lc.EndpointID, "targetGroup", lc.TargetGroupID)
		return nil
	}
	if old != nil {
		// The namespace was created again: the old socket lives in a
		// namespace nobody reaches any more.
		old.close()
		p.mu.Lock()
		delete(p.listeners, key)
		p.mu.Unlock()
	}
	l, err := p.openListener(consumer, r)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.listeners[key] = l
	p.mu.Unlock()
	p.log.Info("listener opened", "listener", key, "endpoint", lc.EndpointID, "targetGroup", lc.TargetGroupID)
	return nil
}

// TargetHealth returns the plane's current view of a target group's health,
// sorted by target ID and port; nil for an unknown group.
func (p *Plane) TargetHealth(tgID string) []HealthEvent {
	p.mu.RLock()
	g := p.groups[tgID]
	p.mu.RUnlock()
	if g == nil {
		return nil
	}
	return slices.Clone(g.view.Load().health)
}

// Close closes every listener, resets every flow, stops every health
// checker and waits for all of their goroutines. Health events already
// queued are delivered before it returns.
func (p *Plane) Close() error {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	p.mu.Lock()
	listeners, groups := p.listeners, p.groups
	p.listeners, p.groups = map[string]*listener{}, map[string]*group{}
	p.mu.Unlock()
	for _, l := range listeners {
		if err := l.close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, g := range groups {
		g.close(false)
	}
	p.wg.Wait()
	p.events.close()
	for _, ns := range p.ns {
		ns.Close()
	}
	for _, ns := range p.retired {
		ns.Close()
	}
	p.ns, p.retired = nil, nil
	return errors.Join(errs...)
}

// dispatcher delivers health events to the callback in order from one
// goroutine, so checkers never wait for whoever consumes them.
type dispatcher struct {
	fn   func(HealthEvent)
	wake chan struct{} // capacity 1: a pending wake-up
	done chan struct{} // closed when run returns

	mu     sync.Mutex // guards queue and closed
	queue  []HealthEvent
	closed bool
}

func newDispatcher(fn func(HealthEvent)) *dispatcher {
	d := &dispatcher{fn: fn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if fn == nil {
		close(d.done)
		return d
	}
	go d.run()
	return d
}

func (d *dispatcher) push(ev HealthEvent) {
	if d.fn == nil {
		return
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, ev)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		q, closed := d.queue, d.closed
		d.queue = nil
		d.mu.Unlock()
		for _, ev := range q {
			d.fn(ev)
		}
		if len(q) > 0 {
			continue
		}
		if closed {
			return
		}
		<-d.wake
	}
}

// close delivers what is queued and stops the goroutine.
func (d *dispatcher) close() {
	if d.fn == nil {
		return
	}
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-d.done
}
