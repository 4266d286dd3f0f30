package dataplane

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/privlink/privlink/netns"
)

// group is a target group: its targets, their health checkers, and the view
// that forwarding reads.
//
// Each target with checks enabled has one checker goroutine, owned by the
// group: it connects to the target at once and then every interval, and
// stops when the target leaves the group, the check settings change (a new
// checker takes over the same health state) or the plane closes.
type group struct {
	id   string
	log  *slog.Logger
	emit func(HealthEvent)
	wg   *sync.WaitGroup // the plane's; counts checkers

	// view is what forwarding reads; it is replaced, never changed.
	view atomic.Pointer[groupView]

	mu      sync.Mutex // guards spec, targets and every target's fields; held while publishing view and emitting events, so both follow the order of changes
	spec    checkSpec
	targets map[string]*target // by Target.key
}

// checkSpec is how a group's targets are checked. It is comparable: a
// changed spec restarts the group's checkers.
type checkSpec struct {
	ns     *netns.NS
	source netip.Addr
	hc     HealthCheck // with defaults applied
	codes  codeSet     // hc.Matcher parsed; empty for TCP checks
	proxy  bool        // send a PROXY protocol v2 header first
}

// newCheckSpec derives how tg's targets are checked from namespace ns.
func newCheckSpec(tg TargetGroup, ns *netns.NS) (checkSpec, error) {
	spec := checkSpec{ns: ns, source: tg.Source, hc: tg.HealthCheck.withDefaults(), proxy: tg.ProxyProtocol}
	if spec.hc.Protocol != ProtocolTCP {
		codes, err := parseMatcher(spec.hc.Matcher)
		if err != nil {
			return checkSpec{}, fmt.Errorf("target group %s: health check %w", tg.ID, err)
		}
		spec.codes = codes
	}
	return spec, nil
}

type target struct {
	cfg    Target
	id     uint64 // rendezvous identity
	health healthState
	// run is the current checker, nil when checks are off. A checker whose
	// run is no longer current drops its results.
	run *checkRun
}

type checkRun struct{ cancel context.CancelFunc }

func newGroup(id string, log *slog.Logger, emit func(HealthEvent), wg *sync.WaitGroup) *group {
	g := &group{id: id, log: log.With("targetGroup", id), emit: emit, wg: wg, targets: map[string]*target{}}
	g.view.Store(&groupView{})
	return g
}

// update converges the group to its check settings and valid targets.
// Targets that stay keep their health and their checker unless the check
// settings changed.
func (g *group) update(spec checkSpec, valid []Target) {
	g.mu.Lock()
	defer g.mu.Unlock()
	respec := spec != g.spec
	g.spec = spec
	changed := false

	want := make(map[string]Target, len(valid))
	for _, t := range valid {
		want[t.key()] = t
	}
	for k, t := range g.targets {
		if _, ok := want[k]; !ok {
			g.stopLocked(t)
			t.health = unusedHealth()
			g.emitLocked(t)
			delete(g.targets, k)
			changed = true
		}
	}
	for k, cfg := range want {
		t, ok := g.targets[k]
		if !ok {
			t = &target{cfg: cfg, id: nameHash(k), health: initialHealth()}
			if !spec.hc.Enabled {
				t.health = disabledHealth()
			}
			g.targets[k] = t
			g.emitLocked(t)
			g.startLocked(t)
			changed = true
			continue
		}
		if t.cfg != cfg { // the zone changed; nothing forwarding uses yet
			t.cfg = cfg
			changed = true
		}
		if !respec {
			continue
		}
		g.stopLocked(t)
		t.health.successes, t.health.failures = 0, 0
		switch {
		case !spec.hc.Enabled && t.health.state != StateUnavailable:
			t.health = disabledHealth()
			g.emitLocked(t)
		case spec.hc.Enabled && t.health.state == StateUnavailable:
			t.health = initialHealth()
			g.emitLocked(t)
		}
		g.startLocked(t)
		changed = true
	}
	if changed {
		g.publishLocked()
	}
}

// close stops every checker. With deregister, targets are reported unused,
// as when the target group is deleted.
func (g *group) close(deregister bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range g.targets {
		g.stopLocked(t)
		if deregister {
			t.health = unusedHealth()
			g.emitLocked(t)
		}
	}
}

func (g *group) startLocked(t *target) {
	spec := g.spec
	if !spec.hc.Enabled {
		return
	}
	port := spec.hc.Port
	if port == 0 {
		port = t.cfg.Addr.Port()
	}
	addr := netip.AddrPortFrom(t.cfg.Addr.Addr(), port)
	ctx, cancel := context.WithCancel(context.Background())
	run := &checkRun{cancel: cancel}
	t.run = run
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.check(ctx, t, run, spec, addr)
	}()
}

func (g *group) stopLocked(t *target) {
	if t.run != nil {
		t.run.cancel()
		t.run = nil
	}
}

// check is one target's checker: a check at once, then one per interval.
func (g *group) check(ctx context.Context, t *target, run *checkRun, spec checkSpec, addr netip.AddrPort) {
	tick := time.NewTicker(spec.hc.Interval)
	defer tick.Stop()
	for {
		err := probe(ctx, spec, addr)
		if ctx.Err() != nil {
			return
		}
		g.record(t, run, err)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probe is one health check, all of it within the timeout:
//
//  1. Connect from the source address in the provider namespace.
//  2. With PROXY protocol, write a v2 header (command LOCAL) in one write.
//     A TCP check has succeeded once here.
//  3. HTTP and HTTPS: (HTTPS: a TLS handshake that verifies nothing) a GET
//     of the path; the check succeeds when the matcher accepts the status.
func probe(ctx context.Context, spec checkSpec, addr netip.AddrPort) error {
	ctx, cancel := context.WithTimeout(ctx, spec.hc.Timeout)
	defer cancel()
	c, err := spec.ns.DialTCP(ctx, spec.source, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	// The deadline bounds every read and write; cancelling ctx (the checker
	// stopping) moves it to now, so a target that hangs never holds a stop.
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	// When the func has started, wait for it: a probe leaves nothing running
	// once it returns, so a stopped plane leaves no goroutine behind.
	moved := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(moved)
		_ = c.SetDeadline(time.Now())
	})
	defer func() {
		if !stop() {
			<-moved
		}
	}()

	if spec.proxy {
		local := c.LocalAddr().(*net.TCPAddr).AddrPort()
		hdr, err := healthCheckHeader(local, addr)
		if err != nil {
			return err
		}
		if _, err := c.Write(hdr); err != nil {
			return fmt.Errorf("writing PROXY header: %w", err)
		}
	}
	var conn net.Conn = c
	switch spec.hc.Protocol {
	case ProtocolTCP:
		return nil
	case ProtocolHTTPS:
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) // ELB verifies no target certificate
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	return httpCheck(conn, addr, spec.hc.Path, &spec.codes)
}

// maxResponseHead bounds how much of a health check response is read: the
// status line and headers, never the body.
const maxResponseHead = 64 << 10

// httpCheck sends a GET of path on conn and matches the response status.
func httpCheck(conn net.Conn, addr netip.AddrPort, path string, codes *codeSet) error {
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr.String() +
		"\r\nUser-Agent: ELB-HealthChecker/2.0\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return fmt.Errorf("writing health check request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.LimitReader(conn, maxResponseHead)), nil)
	if err != nil {
		return fmt.Errorf("reading health check response: %w", err)
	}
	// The body stays unread (and unclosed, which would read it): the
	// connection closes next.
	if !codes.has(resp.StatusCode) {
		return &statusError{code: resp.StatusCode}
	}
	return nil
}

func (g *group) record(t *target, run *checkRun, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.run != run {
		return // stopped while checking
	}
	if !t.health.observe(err, g.spec.hc) {
		return
	}
	g.log.Info("target health changed", "target", t.cfg.ID, "addr", t.cfg.Addr, "state", t.health.state, "reason", t.health.reason, "err", err)
	g.emitLocked(t)
	g.publishLocked()
}

func (g *group) eventLocked(t *target) HealthEvent {
	return HealthEvent{
		TargetGroupID: g.id, TargetID: t.cfg.ID, Port: t.cfg.Addr.Port(),
		State: t.health.state, Reason: t.health.reason, Description: t.health.description,
	}
}

func (g *group) emitLocked(t *target) { g.emit(g.eventLocked(t)) }

// publishLocked replaces the view forwarding reads with one built from the
// current targets.
func (g *group) publishLocked() {
	ts := make([]*target, 0, len(g.targets))
	for _, t := range g.targets {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *target) int {
		return cmp.Or(cmp.Compare(a.cfg.ID, b.cfg.ID), a.cfg.Addr.Compare(b.cfg.Addr))
	})
	v := &groupView{health: make([]HealthEvent, 0, len(ts))}
	for _, t := range ts {
		v.health = append(v.health, g.eventLocked(t))
		v.all.add(t.cfg, t.id)
		if t.health.state == StateHealthy {
			v.healthy.add(t.cfg, t.id)
		}
	}
	g.view.Store(v)
}
