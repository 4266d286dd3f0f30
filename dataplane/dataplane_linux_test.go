package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/privlink/privlink/netns"
)

const (
	zoneA = "us-east-1a"
	zoneB = "us-east-1b"
)

var (
	tA     = Target{ID: "i-a", Addr: netip.AddrPortFrom(targetA, identPort), Zone: zoneA}
	tB     = Target{ID: "i-b", Addr: netip.AddrPortFrom(targetB, identPort), Zone: zoneA}
	tDead  = Target{ID: "i-dead", Addr: netip.AddrPortFrom(targetA, closedPort), Zone: zoneA}
	noHC   = HealthCheck{}
	fastHC = HealthCheck{Enabled: true, Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond, HealthyThreshold: 2, UnhealthyThreshold: 2}
)

func (tp *topo) listener(port uint16, zone, tg string) Listener {
	return Listener{
		Namespace: tp.consumer, Addr: netip.AddrPortFrom(eniAddr, port), Zone: zone,
		EndpointID: "vpce-0123456789abcdef0", ServiceID: "vpce-svc-0123456789abcdef0", TargetGroupID: tg,
		Backend: Backend{Namespace: tp.provider, Nodes: []Node{{Zone: zoneA, Addr: nodeA}, {Zone: zoneB, Addr: nodeB}}},
	}
}

func (tp *topo) group(id string, hc HealthCheck, targets ...Target) TargetGroup {
	return TargetGroup{ID: id, Namespace: tp.provider, Source: nodeA, HealthCheck: hc, Targets: targets}
}

func (tp *topo) eni(port uint16) netip.AddrPort { return netip.AddrPortFrom(eniAddr, port) }

// recorder keeps the health events a plane reports.
type recorder struct {
	mu     sync.Mutex // guards events
	events []HealthEvent
}

func (r *recorder) on(ev HealthEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// states lists a target's reported "state/reason"s in order.
func (r *recorder) states(tg, targetID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, ev := range r.events {
		if ev.TargetGroupID == tg && ev.TargetID == targetID {
			s = append(s, ev.State+"/"+ev.Reason)
		}
	}
	return s
}

func newPlane(t *testing.T) (*Plane, *recorder) {
	t.Helper()
	rec := &recorder{}
	p := New(Options{
		Logger:   slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
		OnHealth: rec.on,
	})
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p, rec
}

func apply(t *testing.T, p *Plane, cfg Config) {
	t.Helper()
	if errs := p.Apply(cfg); len(errs) > 0 {
		t.Fatalf("Apply: %v", errs)
	}
}

// eventually polls cond; the deadline only guards against hanging.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitHealth waits until the plane reports the states given by target ID.
func waitHealth(t *testing.T, p *Plane, tg string, want map[string]string) {
	t.Helper()
	var got map[string]string
	eventually(t, fmt.Sprintf("%s health %v (last %v)", tg, want, &got), func() bool {
		got = map[string]string{}
		for _, ev := range p.TargetHealth(tg) {
			got[ev.TargetID] = ev.State
		}
		return fmt.Sprint(got) == fmt.Sprint(want)
	})
}

// readReset reads until an error and requires it to be a reset.
func readReset(t *testing.T, c *net.TCPConn) {
	t.Helper()
	_, err := io.Copy(io.Discard, c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read ended with %v, want a connection reset", err)
	}
}

func TestPlane(t *testing.T) {
	tp := newTopo(t)

	t.Run("listeners, zones and source NAT", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{
			Listeners: []Listener{
				tp.listener(8022, zoneA, "tg-a"),
				tp.listener(8023, zoneA, "tg-b"),
				tp.listener(8024, zoneB, "tg-a"),
				tp.listener(8025, "us-east-1c", "tg-a"),
			},
			TargetGroups: []TargetGroup{tp.group("tg-a", noHC, tA), tp.group("tg-b", noHC, tB)},
		})
		for _, tc := range []struct {
			port       uint16
			wantTarget string
			wantPeers  []netip.Addr // the load balancer nodes the target may see
		}{
			{8022, "ta", []netip.Addr{nodeA}},
			{8023, "tb", []netip.Addr{nodeA}},
			{8024, "ta", []netip.Addr{nodeB}},        // the node in the ENI's zone
			{8025, "ta", []netip.Addr{nodeA, nodeB}}, // no node in the zone: any
		} {
			t.Run(fmt.Sprint(tc.port), func(t *testing.T) {
				c := dial(t, tp.client, tp.eni(tc.port))
				target, peer := identify(t, c)
				if target != tc.wantTarget {
					t.Errorf("reached %s, want %s", target, tc.wantTarget)
				}
				if !slices.Contains(tc.wantPeers, netip.MustParseAddr(peer)) {
					t.Errorf("target saw source %s, want one of %v (never the consumer's %s)", peer, tc.wantPeers, clientAddr)
				}
				// Bytes flow the other way too: the target counts them.
				payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
				if _, err := c.Write(payload); err != nil {
					t.Fatal(err)
				}
				if err := c.CloseWrite(); err != nil {
					t.Fatal(err)
				}
				rest, err := io.ReadAll(c)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("bytes=%d\n", len(payload)); string(rest) != want {
					t.Errorf("target answered %q, want %q", rest, want)
				}
			})
		}
	})

	t.Run("idle flows hold no pipes", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-a")}, TargetGroups: []TargetGroup{tp.group("tg-a", noHC, tA)}})
		before := pipeFDs(t)
		const flows = 40
		for range flows {
			// The ident line proves the flow is proxied end to end; then
			// both directions wait for data.
			if target, _ := identify(t, dial(t, tp.client, tp.eni(8022))); target != "ta" {
				t.Fatalf("flow reached %q", target)
			}
		}
		// Splicing while waiting would hold a pipe (two descriptors) per
		// direction: 4 × flows. Some may sit in the splice pool (and, under
		// the race detector, dropped pool entries wait for a finalizer), so
		// the bound is one descriptor per flow.
		if grown := pipeFDs(t) - before; grown >= flows {
			t.Errorf("%d idle flows grew the process's pipe descriptors by %d", flows, grown)
		}
	})

	t.Run("half-close", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-a")}, TargetGroups: []TargetGroup{tp.group("tg-a", noHC, tA)}})
		c := dial(t, tp.client, tp.eni(8022))
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		// The target replies only after it sees our FIN, so the reply
		// proves the plane half-closed towards it and kept the other way
		// open; ReadAll returning nil proves the FIN came back too.
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("ta %s\nbytes=5\n", nodeA); string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})

	t.Run("flow hash", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-ab")}, TargetGroups: []TargetGroup{tp.group("tg-ab", fastHC, tA, tB)}})
		waitHealth(t, p, "tg-ab", map[string]string{"i-a": StateHealthy, "i-b": StateHealthy})
		names := map[string]string{"i-a": "ta", "i-b": "tb"}
		view := p.groups["tg-ab"].view.Load()
		seen := map[string]int{}
		for range 64 {
			c := dial(t, tp.client, tp.eni(8022))
			got, _ := identify(t, c)
			client := c.LocalAddr().(*net.TCPAddr).AddrPort()
			want, _ := view.pick(flowHash(client, tp.eni(8022)))
			if got != names[want.ID] {
				t.Errorf("flow from %s reached %s, its hash picks %s", client, got, names[want.ID])
			}
			seen[got]++
			c.Close()
		}
		if seen["ta"] == 0 || seen["tb"] == 0 {
			t.Errorf("64 flows did not spread over both targets: %v", seen)
		}
	})

	t.Run("health", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			hc          HealthCheck
			wantHealth  map[string]string
			wantTargets []string // the targets new flows reach
			wantEvents  map[string][]string
		}{
			{
				name:        "all initial: fail open",
				hc:          HealthCheck{Enabled: true, Port: identPort, Interval: time.Hour, HealthyThreshold: 5},
				wantHealth:  map[string]string{"i-a": StateInitial, "i-b": StateInitial},
				wantTargets: []string{"ta", "tb"},
			},
			{
				name:        "one unhealthy: avoided",
				hc:          HealthCheck{Enabled: true, Port: healthPort, Interval: 100 * time.Millisecond, HealthyThreshold: 2, UnhealthyThreshold: 2},
				wantHealth:  map[string]string{"i-a": StateHealthy, "i-b": StateUnhealthy},
				wantTargets: []string{"ta"},
				wantEvents: map[string][]string{
					"i-a": {"initial/Elb.InitialHealthChecking", "healthy/"},
					"i-b": {"initial/Elb.InitialHealthChecking", "unhealthy/Target.FailedHealthChecks"},
				},
			},
			{
				name:        "all unhealthy: fail open",
				hc:          HealthCheck{Enabled: true, Port: closedPort, Interval: 100 * time.Millisecond, UnhealthyThreshold: 2},
				wantHealth:  map[string]string{"i-a": StateUnhealthy, "i-b": StateUnhealthy},
				wantTargets: []string{"ta", "tb"},
			},
			{
				name:        "checks disabled: all",
				hc:          noHC,
				wantHealth:  map[string]string{"i-a": StateUnavailable, "i-b": StateUnavailable},
				wantTargets: []string{"ta", "tb"},
				wantEvents: map[string][]string{
					"i-a": {"unavailable/Target.HealthCheckDisabled"},
				},
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p, rec := newPlane(t)
				apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-ab")}, TargetGroups: []TargetGroup{tp.group("tg-ab", tc.hc, tA, tB)}})
				waitHealth(t, p, "tg-ab", tc.wantHealth)
				for id, want := range tc.wantEvents {
					eventually(t, fmt.Sprintf("events of %s %v (got %v)", id, want, rec.states("tg-ab", id)), func() bool {
						return slices.Equal(rec.states("tg-ab", id), want)
					})
				}
				seen := map[string]bool{}
				for range 64 {
					c := dial(t, tp.client, tp.eni(8022))
					got, _ := identify(t, c)
					seen[got] = true
					c.Close()
				}
				if got := slices.Sorted(func(yield func(string) bool) {
					for k := range seen {
						if !yield(k) {
							return
						}
					}
				}); !slices.Equal(got, tc.wantTargets) {
					t.Errorf("flows reached %v, want %v", got, tc.wantTargets)
				}
			})
		}
	})

	t.Run("dead target resets the client", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-dead")}, TargetGroups: []TargetGroup{tp.group("tg-dead", noHC, tDead)}})
		// The plane may reset the client before the client has seen its
		// own connect complete; then the dial itself reports the reset.
		c, err := tp.client.DialTCP(t.Context(), netip.Addr{}, tp.eni(8022))
		if errors.Is(err, syscall.ECONNRESET) {
			return
		}
		if err != nil {
			t.Fatalf("dial: %v, want success or a reset", err)
		}
		readReset(t, c)
	})

	t.Run("removing a listener closes it and resets its flows", func(t *testing.T) {
		p, _ := newPlane(t)
		tgs := []TargetGroup{tp.group("tg-a", noHC, tA), tp.group("tg-b", noHC, tB)}
		apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-a"), tp.listener(8023, zoneA, "tg-b")}, TargetGroups: tgs})
		c := dial(t, tp.client, tp.eni(8022))
		identify(t, c) // established end to end
		kept := dial(t, tp.client, tp.eni(8023))
		identify(t, kept)

		apply(t, p, Config{Listeners: []Listener{tp.listener(8023, zoneA, "tg-b")}, TargetGroups: tgs})
		readReset(t, c)
		if _, err := tp.client.DialTCP(t.Context(), netip.Addr{}, tp.eni(8022)); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial to the removed listener: %v, want connection refused", err)
		}
		// The other listener and its flow are untouched.
		if err := kept.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(kept); err != nil || string(got) != "bytes=0\n" {
			t.Errorf("the kept flow ended with %q, %v", got, err)
		}
		target, _ := identify(t, dial(t, tp.client, tp.eni(8023)))
		if target != "tb" {
			t.Errorf("kept listener reached %s, want tb", target)
		}
	})

	t.Run("changing a listener's target group", func(t *testing.T) {
		p, _ := newPlane(t)
		tgs := []TargetGroup{tp.group("tg-a", noHC, tA), tp.group("tg-b", noHC, tB)}
		apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-a")}, TargetGroups: tgs})
		old := dial(t, tp.client, tp.eni(8022))
		identify(t, old)
		apply(t, p, Config{Listeners: []Listener{tp.listener(8022, zoneA, "tg-b")}, TargetGroups: tgs})
		if target, _ := identify(t, dial(t, tp.client, tp.eni(8022))); target != "tb" {
			t.Errorf("new flow reached %s, want tb", target)
		}
		// The established flow still reaches A.
		old.Write([]byte("abc"))
		old.CloseWrite()
		if got, err := io.ReadAll(old); err != nil || string(got) != "bytes=3\n" {
			t.Errorf("the established flow ended with %q, %v", got, err)
		}
	})

	t.Run("one failure affects only its listener", func(t *testing.T) {
		p, _ := newPlane(t)
		bad := tp.listener(8030, zoneA, "tg-a")
		bad.Namespace = tp.prefix + "-missing"
		unknownTG := tp.listener(8031, zoneA, "tg-nope")
		errs := p.Apply(Config{
			Listeners:    []Listener{bad, unknownTG, tp.listener(8022, zoneA, "tg-a")},
			TargetGroups: []TargetGroup{tp.group("tg-a", noHC, tA)},
		})
		if len(errs) != 2 || errs[bad.Key()] == nil || errs[unknownTG.Key()] == nil {
			t.Fatalf("Apply errors %v, want exactly %s and %s", errs, bad.Key(), unknownTG.Key())
		}
		if target, _ := identify(t, dial(t, tp.client, tp.eni(8022))); target != "ta" {
			t.Errorf("good listener reached %s, want ta", target)
		}
	})

	t.Run("a namespace created again gets a new listener", func(t *testing.T) {
		p, _ := newPlane(t)
		// A router namespace of its own, so deleting it spares the others;
		// the client dials from inside it.
		ns := tp.netns("re")
		l := tp.listener(8022, zoneA, "tg-a")
		l.Namespace = ns
		cfg := Config{Listeners: []Listener{l}, TargetGroups: []TargetGroup{tp.group("tg-a", noHC, tA)}}
		for round := range 2 {
			if round == 1 {
				if err := netns.Delete(ns); err != nil {
					t.Fatal(err)
				}
				tp.netns("re")
			}
			tp.run("ip", "-n", ns, "addr", "add", eniAddr.String()+"/32", "dev", "lo")
			apply(t, p, cfg)
			h, err := netns.Open(ns)
			if err != nil {
				t.Fatal(err)
			}
			target, peer := identify(t, dial(t, h, tp.eni(8022)))
			h.Close()
			if target != "ta" || peer != nodeA.String() {
				t.Errorf("round %d: reached %s from %s, want ta from %s", round, target, peer, nodeA)
			}
		}
	})

	t.Run("apply twice changes nothing", func(t *testing.T) {
		p, rec := newPlane(t)
		cfg := Config{
			Listeners:    []Listener{tp.listener(8022, zoneA, "tg-ab"), tp.listener(8023, zoneA, "tg-b")},
			TargetGroups: []TargetGroup{tp.group("tg-ab", fastHC, tA, tB), tp.group("tg-b", fastHC, tB)},
		}
		apply(t, p, cfg)
		waitHealth(t, p, "tg-ab", map[string]string{"i-a": StateHealthy, "i-b": StateHealthy})
		c := dial(t, tp.client, tp.eni(8022))
		identify(t, c)

		type snapshot struct {
			listeners map[string]*listener
			routes    map[string]*route
			runs      map[string]*checkRun
			views     map[string]*groupView
		}
		take := func() snapshot {
			s := snapshot{map[string]*listener{}, map[string]*route{}, map[string]*checkRun{}, map[string]*groupView{}}
			for k, l := range p.listeners {
				s.listeners[k], s.routes[k] = l, l.route.Load()
			}
			for id, g := range p.groups {
				g.mu.Lock()
				for k, tg := range g.targets {
					s.runs[id+"/"+k] = tg.run
				}
				g.mu.Unlock()
				s.views[id] = g.view.Load()
			}
			return s
		}
		before := take()
		apply(t, p, cfg)
		if after := take(); fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("second Apply changed the plane:\nbefore %v\nafter  %v", before, after)
		}
		// The established flow still works.
		c.Write([]byte("xy"))
		c.CloseWrite()
		if got, err := io.ReadAll(c); err != nil || string(got) != "bytes=2\n" {
			t.Errorf("the established flow ended with %q, %v", got, err)
		}
		// Events are delivered in order, so once tg-b's removal shows, any
		// event the second Apply caused would show too: there must be none.
		apply(t, p, Config{Listeners: cfg.Listeners[:1], TargetGroups: cfg.TargetGroups[:1]})
		eventually(t, "tg-b's target reported unused", func() bool {
			return slices.Contains(rec.states("tg-b", "i-b"), StateUnused+"/"+ReasonNotRegistered)
		})
		for _, id := range []string{"i-a", "i-b"} {
			if got, want := rec.states("tg-ab", id), []string{"initial/" + ReasonInitialHealthChecking, "healthy/"}; !slices.Equal(got, want) {
				t.Errorf("%s reported %v, want %v", id, got, want)
			}
		}
	})

	t.Run("removed targets and groups stop being checked", func(t *testing.T) {
		p, rec := newPlane(t)
		apply(t, p, Config{
			Listeners:    []Listener{tp.listener(8022, zoneA, "tg-ab")},
			TargetGroups: []TargetGroup{tp.group("tg-ab", fastHC, tA, tB), tp.group("tg-b", fastHC, tB)},
		})
		waitHealth(t, p, "tg-ab", map[string]string{"i-a": StateHealthy, "i-b": StateHealthy})
		waitHealth(t, p, "tg-b", map[string]string{"i-b": StateHealthy})
		apply(t, p, Config{
			Listeners:    []Listener{tp.listener(8022, zoneA, "tg-ab")},
			TargetGroups: []TargetGroup{tp.group("tg-ab", fastHC, tA)},
		})
		waitHealth(t, p, "tg-ab", map[string]string{"i-a": StateHealthy})
		if h := p.TargetHealth("tg-b"); h != nil {
			t.Errorf("removed group still reports %v", h)
		}
		for _, tg := range []string{"tg-ab", "tg-b"} {
			eventually(t, "i-b reported unused in "+tg, func() bool {
				return slices.Contains(rec.states(tg, "i-b"), StateUnused+"/"+ReasonNotRegistered)
			})
		}
		p.groups["tg-ab"].mu.Lock()
		checkers := len(p.groups["tg-ab"].targets)
		p.groups["tg-ab"].mu.Unlock()
		if checkers != 1 {
			t.Errorf("tg-ab has %d targets, want 1", checkers)
		}
		// What is left: the accept loop, i-a's checker, the event dispatcher.
		eventually(t, "only 3 plane goroutines left", func() bool { return len(planeGoroutines()) == 3 })
	})

	t.Run("close leaves no goroutines", func(t *testing.T) {
		base := runtime.NumGoroutine()
		p, _ := newPlane(t)
		apply(t, p, Config{
			Listeners:    []Listener{tp.listener(8022, zoneA, "tg-ab")},
			TargetGroups: []TargetGroup{tp.group("tg-ab", fastHC, tA, tB)},
		})
		c := dial(t, tp.client, tp.eni(8022))
		identify(t, c) // a flow in the middle of proxying
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		readReset(t, c)
		// Close has waited for every plane goroutine's work; one that has
		// just called wg.Done may still be unwinding, so give it time to
		// exit rather than catch it on its way out.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			g := planeGoroutines()
			if len(g) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("goroutines left after Close:\n%s", strings.Join(g, "\n\n"))
			}
		}
		eventually(t, "goroutine count back to its base", func() bool { return runtime.NumGoroutine() <= base })
		l := tp.listener(8022, zoneA, "tg-ab")
		if errs := p.Apply(Config{Listeners: []Listener{l}}); !errors.Is(errs[l.Key()], ErrClosed) {
			t.Errorf("Apply after Close: %v, want ErrClosed", errs)
		}
	})
}

// planeGoroutines returns the stacks of goroutines running the plane's own
// (non-test) code.
func planeGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			if strings.Contains(line, "/dataplane/") && strings.Contains(line, ".go:") && !strings.Contains(line, "_test.go:") {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// pipeFDs counts the process's open pipe descriptors.
func pipeFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if dst, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(dst, "pipe:") {
			n++
		}
	}
	return n
}
