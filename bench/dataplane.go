package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/privlink/privlink/lab"
)

// The paths the data-plane section compares, in column order.
const (
	pathDirect   = "direct"
	pathPrivlink = "privlink"
	pathProxy    = "privlink-proxy" // privlink with --data-path proxy
	pathHAProxy  = "haproxy"
	pathSocat    = "socat"
)

var allPaths = []string{pathDirect, pathPrivlink, pathProxy, pathHAProxy, pathSocat}

// dpTopo is the lab the section measures in.
type dpTopo struct {
	s *server
	// server runs the iperf3, echo and one-shot servers; direct is a
	// client in its VPC's other subnet; haproxy and socat are the proxies'
	// instances there; consumer is the client in the other account's VPC.
	server, direct, haproxy, socat, consumer string
	serverIP, haproxyIP, socatIP, endpointIP string
	// proxy is the same topology on a server with the proxy data path.
	proxy *dpTopo
}

// clientOf is the server and instance that start a path's clients, and
// where they connect.
func (tp *dpTopo) clientOf(path string) (s *server, instance, ip string) {
	switch path {
	case pathDirect:
		return tp.s, tp.direct, tp.serverIP
	case pathPrivlink:
		return tp.s, tp.consumer, tp.endpointIP
	case pathProxy:
		return tp.proxy.s, tp.proxy.consumer, tp.proxy.endpointIP
	case pathHAProxy:
		return tp.s, tp.direct, tp.haproxyIP
	default:
		return tp.s, tp.direct, tp.socatIP
	}
}

func dataPlane(ctx context.Context, e *env, rep *report) error {
	s, err := e.startServer(ctx)
	if err != nil {
		return err
	}
	tp, err := buildDataPlaneTopo(ctx, s)
	if err != nil {
		return fmt.Errorf("topology: %w", err)
	}
	s2, err := e.startServer(ctx, "--data-path", "proxy")
	if err != nil {
		return err
	}
	if tp.proxy, err = buildDataPlaneTopo(ctx, s2); err != nil {
		return fmt.Errorf("topology (proxy data path): %w", err)
	}
	e.log.Info("topology ready", "server", tp.serverIP, "endpoint", tp.endpointIP, "haproxy", tp.haproxyIP, "socat", tp.socatIP)

	// The servers and proxies.
	var daemons []*daemon
	defer func() {
		for _, d := range daemons {
			d.stop()
		}
	}()
	start := func(instance, name string, args ...string) (*daemon, error) {
		d, err := s.start(instance, name, args...)
		if err == nil {
			daemons = append(daemons, d)
		}
		return d, err
	}
	for _, t := range []*dpTopo{tp, tp.proxy} {
		d, err := t.s.start(t.server, "iperf3", "-s", "-p", strconv.Itoa(portIperf))
		if err != nil {
			return err
		}
		daemons = append(daemons, d)
		if d, err = t.s.start(t.server, e.self, "worker", "serve"); err != nil {
			return err
		}
		daemons = append(daemons, d)
	}
	cfg := filepath.Join(e.tmp, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyConfig(tp.serverIP)), 0o644); err != nil {
		return err
	}
	hap, err := start(tp.haproxy, "haproxy", "-db", "-f", cfg)
	if err != nil {
		return err
	}
	var socats []*daemon
	for _, port := range []int{portIperf, portEcho, portOnce} {
		d, err := start(tp.socat, "socat", fmt.Sprintf("TCP-LISTEN:%d,fork,reuseaddr,backlog=1024", port), fmt.Sprintf("TCP:%s:%d", tp.serverIP, port))
		if err != nil {
			return err
		}
		socats = append(socats, d)
	}
	proxyPIDs := map[string][]int{pathPrivlink: {s.pid()}, pathProxy: {s2.pid()}, pathHAProxy: {hap.pid()}}
	for _, d := range socats {
		proxyPIDs[pathSocat] = append(proxyPIDs[pathSocat], d.pid())
	}

	time.Sleep(300 * time.Millisecond)
	for _, d := range daemons {
		if err := d.alive(); err != nil {
			return err
		}
	}
	rep.Notes = append(rep.Notes, "What was tried. The walking skeleton carried endpoint flows through a user-space hop in the "+
		"server (accept in the consumer's router namespace, dial from the load balancer node, io.Copy with splice between "+
		"the two sockets). It is still here as `--data-path proxy` (the privlink-proxy column). Profiles and these tables "+
		"showed where it stood: about half to two thirds of the direct throughput, round trips no faster than HAProxy's "+
		"(netpoll wake-ups on both sockets of every message), about half HAProxy's new-connection rate (a goroutine, two "+
		"sockets and namespace switches per flow), and, through io.Copy's splice, a pipe held per idle direction (six "+
		"descriptors per flow, fixed since: it now waits without a pipe). The design was changed instead of tuned: endpoint "+
		"flows are now translated by nftables NAT, and conntrack carries them, which is how AWS's Hyperplane carries "+
		"PrivateLink too. No process touches the bytes: the privlink column. That NAT first ran in the consumer VPC's router "+
		"and in the load balancer node's namespace, joined by a veth, and kept about two thirds of direct's throughput with "+
		"four streams; since 2026-12-07 the lab's shared fabric (the default; the hop table below) translates each flow "+
		"once, in the one namespace that holds every VPC's router.")
	m := &dpMeasure{e: e, tp: tp, proxyPIDs: proxyPIDs}
	if err := m.throughput(ctx, rep); err != nil {
		return err
	}
	if err := hopCost(ctx, e, rep); err != nil {
		return err
	}
	if err := m.latency(ctx, rep); err != nil {
		return err
	}
	if err := m.connRate(ctx, rep); err != nil {
		return err
	}
	return m.idleMemory(ctx, rep)
}

type dpMeasure struct {
	e         *env
	tp        *dpTopo
	proxyPIDs map[string][]int
}

func (m *dpMeasure) dataTable(rep *report, title, intro string) *table {
	return rep.table(&table{
		Title: title, Intro: intro,
		Columns: allPaths,
		Ratios:  [][2]string{{pathPrivlink, pathDirect}, {pathHAProxy, pathDirect}, {pathPrivlink, pathHAProxy}, {pathProxy, pathHAProxy}},
	})
}

func (m *dpMeasure) throughput(ctx context.Context, rep *report) error {
	t := m.dataTable(rep, "Bulk throughput (iperf3)",
		"iperf3 from a client instance to a server instance. direct: one VPC, two subnets, routed by the kernel through the VPC's router. "+
			"privlink: the client in another account's VPC (same CIDR) → interface endpoint → NLB → server. haproxy and socat: "+
			"an instance in the server's VPC proxying to it (HAProxy 2.6 `mode tcp`, default settings; socat with fork). "+
			"CPU is the proxy's processes (user + system) and, for every path, the whole host's busy time, per GB received.")
	secs, rounds := "5", 5
	if m.e.quick {
		secs, rounds = "1", 1
	}
	for _, streams := range []int{1, 4} {
		gbps := t.add(&row{Metric: fmt.Sprintf("%d stream(s)", streams), Unit: "Gbit/s", Higher: true, Target: "privlink ≥ 0.9× direct and ≥ 1.0× haproxy",
			Met: func(r *row) bool {
				return r.Values[pathPrivlink] >= 0.9*r.Values[pathDirect] && r.Values[pathPrivlink] >= r.Values[pathHAProxy]
			}})
		proxyCPU := t.add(&row{Metric: fmt.Sprintf("proxy CPU per GB, %d stream(s)", streams), Unit: "CPU-s/GB", NA: map[string]string{pathDirect: "no proxy"}})
		hostCPU := t.add(&row{Metric: fmt.Sprintf("host CPU per GB, %d stream(s)", streams), Unit: "CPU-s/GB"})
		runs := map[string][]float64{}
		proc, host, gb := map[string]float64{}, map[string]float64{}, map[string]float64{}
		// Rounds interleave the paths, so a burst of load elsewhere on
		// the machine hits them alike; the median of the rounds is kept.
		for round := range rounds {
			for _, path := range allPaths {
				srv, inst, ip := m.tp.clientOf(path)
				procBefore, hostBefore := m.cpu(path), hostBusy()
				res, err := runIperf(ctx, func() ([]byte, error) {
					return srv.output(ctx, inst, "iperf3", "-c", ip, "-p", strconv.Itoa(portIperf), "-t", secs, "-P", strconv.Itoa(streams), "-J")
				})
				if err != nil {
					return fmt.Errorf("iperf3 %s: %w", path, err)
				}
				proc[path] += m.cpu(path) - procBefore
				host[path] += hostBusy() - hostBefore
				gb[path] += res.Bytes / 1e9
				runs[path] = append(runs[path], res.BitsPerSecond/1e9)
				m.e.log.Info("iperf3", "path", path, "streams", streams, "round", round+1, "Gbit/s", fmt.Sprintf("%.2f", res.BitsPerSecond/1e9))
			}
		}
		for _, path := range allPaths {
			gbps.Values[path] = median(runs[path])
			if path != pathDirect {
				proxyCPU.Values[path] = proc[path] / gb[path]
			}
			hostCPU.Values[path] = host[path] / gb[path]
		}
	}
	if rounds > 1 {
		t.Intro += fmt.Sprintf(" Throughput is the median of %d interleaved rounds of %s s per path.", rounds, secs)
	}
	return nil
}

// iperfSum is what an iperf3 client's JSON report says the server received.
type iperfSum struct {
	Bytes         float64 `json:"bytes"`
	BitsPerSecond float64 `json:"bits_per_second"`
}

// runIperf runs an iperf3 client (-J) until it reports bytes received: the
// first tries may find the server still starting.
func runIperf(ctx context.Context, client func() ([]byte, error)) (iperfSum, error) {
	var res struct {
		End struct {
			SumReceived iperfSum `json:"sum_received"`
		} `json:"end"`
	}
	err := retry(ctx, func() error {
		out, err := client()
		if err != nil {
			return err
		}
		if err := json.Unmarshal(out, &res); err != nil || res.End.SumReceived.Bytes == 0 {
			return fmt.Errorf("no bytes received (%v): %.300s", err, out)
		}
		return nil
	})
	return res.End.SumReceived, err
}

func (m *dpMeasure) latency(ctx context.Context, rep *report) error {
	t := m.dataTable(rep, "Request/response latency",
		"Round trips of one message over a kept-open connection to an echo server (a Go program, the same for every path); 10% warm-up discarded.")
	n := "20000"
	if m.e.quick {
		n = "200"
	}
	for _, size := range []int{64, 16 << 10} {
		label := fmt.Sprintf("%d B", size)
		if size >= 1024 {
			label = fmt.Sprintf("%d KiB", size>>10)
		}
		le := func(r *row) bool { return r.Values[pathPrivlink] <= r.Values[pathHAProxy] }
		p50 := t.add(&row{Metric: label + " p50", Unit: "µs", Target: "privlink ≤ haproxy", Met: le})
		p99 := t.add(&row{Metric: label + " p99", Unit: "µs", Target: "privlink ≤ haproxy", Met: le})
		p999 := t.add(&row{Metric: label + " p99.9", Unit: "µs"})
		for _, path := range allPaths {
			srv, inst, ip := m.tp.clientOf(path)
			out, err := srv.output(ctx, inst, m.e.self, "worker", "rr", "-addr", fmt.Sprintf("%s:%d", ip, portEcho), "-size", strconv.Itoa(size), "-n", n)
			if err != nil {
				return err
			}
			var l latencies
			if err := json.Unmarshal(out, &l); err != nil {
				return fmt.Errorf("rr %s: %w: %q", path, err, out)
			}
			p50.Values[path], p99.Values[path], p999.Values[path] = l.P50, l.P99, l.P999
			m.e.log.Info("latency", "path", path, "size", size, "p50", l.P50, "p99", l.P99)
		}
	}
	return nil
}

func (m *dpMeasure) connRate(ctx context.Context, rep *report) error {
	t := m.dataTable(rep, "New connections per second",
		"Each client loops: connect → one 64-byte request → answer → the server closes → close. Errors must be zero.")
	dur := "3s"
	if m.e.quick {
		dur = "300ms"
	}
	for _, conc := range []int{1, 16, 256} {
		r := t.add(&row{Metric: fmt.Sprintf("%d concurrent clients", conc), Unit: "conn/s", Higher: true, Target: "privlink ≥ haproxy",
			Met: func(r *row) bool { return r.Values[pathPrivlink] >= r.Values[pathHAProxy] }})
		for _, path := range allPaths {
			srv, inst, ip := m.tp.clientOf(path)
			out, err := srv.output(ctx, inst, m.e.self, "worker", "connrate", "-addr", fmt.Sprintf("%s:%d", ip, portOnce), "-c", strconv.Itoa(conc), "-d", dur)
			if err != nil {
				return err
			}
			var res rate
			if err := json.Unmarshal(out, &res); err != nil {
				return fmt.Errorf("connrate %s: %w: %q", path, err, out)
			}
			if res.Conns == 0 || res.Errors > 0 {
				return fmt.Errorf("connrate %s at %d clients: %d connections, %d errors (first: %s)", path, conc, res.Conns, res.Errors, res.Error)
			}
			r.Values[path] = res.PerSec
			m.e.log.Info("connrate", "path", path, "clients", conc, "conn/s", int(res.PerSec))
			// Let TIME_WAIT sockets and the proxies' goroutines settle
			// before the next path.
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// idleMemory holds N idle connections through each proxied path and
// reports the memory each costs.
func (m *dpMeasure) idleMemory(ctx context.Context, rep *report) error {
	type size struct {
		n int
		// workers is how many load generators, and how many echo servers,
		// share the connections: 10,000 apiece at most, within the
		// open-file limit, and 20,000 per echo port at most (holdIdle).
		workers int
		big     bool // privlink's kernel path only: proxies cannot hold it
	}
	sizes := []size{{1000, 1, false}, {9000, 1, false}, {10000, 1, true}, {40000, 4, true}, {100000, 10, true}}
	if m.e.quick {
		sizes = []size{{100, 1, false}, {200, 2, true}}
	}
	began := time.Now()
	t := rep.table(&table{
		Title: "Memory per idle proxied connection",
		Intro: "A client opens N connections through the path, one round trip on each, then holds them idle. Memory is the growth of the " +
			"proxy process's resident set (VmRSS) plus the kernel's conntrack entries of the held flows, divided by N. Every router and " +
			"node namespace on the path tracks each flow: the entries in ESTABLISHED state are counted in each namespace of the path's " +
			"lab (/proc/net/nf_conntrack) before and while the connections are held, each at the size of the kernel's conntrack object " +
			"(/proc/slabinfo) plus, for a translated entry, its 128-byte extension block (NAT and the listener's idle timeout). privlink's " +
			"kernel path has no process on the path; its cost is conntrack and whatever the server's own memory grows by meanwhile. " +
			"Every connection is checked to still carry data afterwards.",
		Columns: []string{pathPrivlink, pathProxy, pathHAProxy},
		Ratios:  [][2]string{{pathPrivlink, pathHAProxy}, {pathProxy, pathHAProxy}},
	})
	// Echo servers beyond the first, sharing its ports, for the big runs.
	var extra []*daemon
	defer func() {
		for _, d := range extra {
			d.stop()
		}
	}()
	// The conntrack entries of each lab namespace, and the connections of
	// the busiest echo server, while the largest run held its connections.
	var peak []nsConntrack
	busiest := 0
	for _, sz := range sizes {
		r := t.add(&row{Metric: fmt.Sprintf("%d connections", sz.n), Unit: "KiB/conn", Target: "privlink ≤ 16 KiB", Met: func(r *row) bool { return r.Values[pathPrivlink] <= 16 }})
		ct := t.add(&row{Metric: fmt.Sprintf("%d connections, of which conntrack", sz.n), Unit: "KiB/conn"})
		if sz.big {
			why := "2 descriptors per connection: over the open-file limit at full size"
			r.NA = map[string]string{pathProxy: why, pathHAProxy: why}
			ct.NA = r.NA
		}
		for len(extra) < sz.workers-1 {
			d, err := m.tp.s.start(m.tp.server, m.e.self, "worker", "serve")
			if err != nil {
				return err
			}
			extra = append(extra, d)
		}
		// A connection goes to one of its port's listeners present when
		// it arrives: every server listens before the first connects.
		if err := waitListening(ctx, extra); err != nil {
			return err
		}
		for _, path := range t.Columns {
			if _, na := r.NA[path]; na {
				continue
			}
			srv, inst, ip := m.tp.clientOf(path)
			pid := m.proxyPIDs[path][0]
			ctBefore, err := m.conntrackRoom(ctx, srv, sz.n)
			if err != nil {
				return err
			}
			before := rss(pid)
			var addrs []string
			for i := range sz.workers {
				addrs = append(addrs, fmt.Sprintf("%s:%d", ip, idlePorts[i%len(idlePorts)]))
			}
			rowStart := time.Now()
			var after int64
			var ctAfter []nsConntrack
			var ctErr error
			err = m.holdIdle(ctx, srv, inst, addrs, sz.n/sz.workers, func() {
				after = rss(pid)
				ctAfter, ctErr = labConntrack(ctx, srv)
				if path == pathPrivlink && sz.n == sizes[len(sizes)-1].n {
					peak = ctAfter
					for _, d := range extra {
						busiest = max(busiest, openFiles(d.pid()))
					}
				}
			})
			if err == nil {
				err = ctErr
			}
			if err != nil {
				return fmt.Errorf("idle %s with %d connections: %w", path, sz.n, err)
			}
			ctBytes, err := conntrackBytes(ctBefore, ctAfter)
			if err != nil {
				return err
			}
			r.Values[path] = float64(after-before+ctBytes) / 1024 / float64(sz.n)
			ct.Values[path] = float64(ctBytes) / 1024 / float64(sz.n)
			m.e.log.Info("idle memory", "path", path, "conns", sz.n, "KiB/conn", fmt.Sprintf("%.2f", r.Values[path]),
				"conntrack KiB/conn", fmt.Sprintf("%.2f", ct.Values[path]), "took", time.Since(rowStart).Round(time.Millisecond))
			time.Sleep(2 * time.Second) // let the closes drain
		}
	}
	largest := sizes[len(sizes)-1]
	counted := ""
	if len(peak) >= 3 {
		counted = fmt.Sprintf(" In this run, while %s connections were held, the three busiest lab namespaces counted %s, %s and %s "+
			"entries each (closed flows of the earlier runs still in TIME_WAIT included), the host's own namespace %s, and the "+
			"busiest echo server held %s descriptors.", thousands(largest.n), thousands(peak[0].count), thousands(peak[1].count),
			thousands(peak[2].count), thousands(hostConntrackCount()), thousands(busiest))
	}
	rep.Notes = append(rep.Notes, "Idle connections: this machine's hard open-file limit (20,000 per process, not raisable even by root) "+
		"caps a proxy process (HAProxy, privlink's proxy path: two sockets per connection) at about 9,900 connections, so they stop "+
		"at 9,000. privlink's kernel path holds no descriptor: its clients and echo servers are spread over "+
		fmt.Sprintf("%d processes each at the largest size (the echo servers share their ports through SO_REUSEPORT), ", largest.workers)+
		fmt.Sprintf("and over up to %d echo ports, each behind its own NLB listener: the client's connect() tries one parity of its ", len(idlePorts))+
		"local port range before the other, about 32,000 ports per destination, and once they are taken scans them all for every "+
		"new connection. Neither end sends TCP keepalives: Go's default of one every 15 s, on both ends of 100,000 connections on "+
		"one host, overflowed the kernel's per-CPU input backlog, and a probe dropped there is retried every 500 ms, until new "+
		"connections' SYNs were dropped too. The kernel counts conntrack entries per network namespace and compares each "+
		"namespace's own count with net.netfilter.nf_conntrack_max (262,144 here, a host setting privlink does not touch). In the "+
		"lab's shared fabric (the default) an endpoint flow is one entry of the fabric's table, which every VPC shares; with "+
		"router namespaces (--lab-fabric routers) it is tracked three times (consumer router, load balancer node, provider "+
		"router), each namespace with room of its own. Either way a namespace holds about 262,000 flows, held or lingering in "+
		"TIME_WAIT (120 s); a run that would not fit with a tenth to spare waits for closed flows to expire. In the shared fabric "+
		"an endpoint flow keeps the client's port towards the target unless another flow holds it (its translation takes ports "+
		"32768-65535): when it took ports 1024-49151 instead, this run's 100,000 connections failed at a worker's 9,151st, its "+
		"SYNs unanswered for 5 s, likely a remapped port meeting an earlier flow's TIME_WAIT at the echo server."+counted)
	m.e.log.Info("idle memory done", "took", time.Since(began).Round(time.Second))
	return nil
}

// waitListening waits until every echo server has printed that it listens.
func waitListening(ctx context.Context, ds []*daemon) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, d := range ds {
		for !strings.Contains(d.out.String(), "listening") {
			if err := d.alive(); err != nil {
				return err
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("echo server not listening after 30 s: %s", d.out.String())
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// nsConntrack is what a lab namespace's conntrack table holds.
type nsConntrack struct {
	ns    string
	count int // nf_conntrack_count: every entry, of any state
	// established are the entries of established TCP flows, translated
	// those of them whose answers come from or go to other addresses or
	// ports than the original's (NAT).
	established, translated int
}

// nsConntrackScript prints a namespace's nf_conntrack_count, then how
// many entries of /proc/net/nf_conntrack are ESTABLISHED and how many of
// those are translated (the reply tuple is not the original reversed).
const nsConntrackScript = `cat /proc/sys/net/netfilter/nf_conntrack_count
awk '/ ESTABLISHED / {
	e++; split("", n); split("", v)
	for (i = 1; i <= NF; i++) {
		k = $i; sub(/=.*/, "", k); x = $i; sub(/^[^=]*=/, "", x)
		if (k == "src" || k == "dst" || k == "sport" || k == "dport") v[k (++n[k])] = x
	}
	if (v["src1"] != v["dst2"] || v["dst1"] != v["src2"] || v["sport1"] != v["dport2"] || v["dport1"] != v["sport2"]) t++
} END { print e + 0, t + 0 }' /proc/net/nf_conntrack`

// labConntrack reads the conntrack tables of a server's lab namespaces,
// largest count first. The kernel keeps the count per namespace and
// compares it with nf_conntrack_max when a flow is added.
func labConntrack(ctx context.Context, s *server) ([]nsConntrack, error) {
	prefix := lab.PrefixFor(s.dataDir) + "-"
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil, err
	}
	var out []nsConntrack
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		b, err := exec.CommandContext(ctx, "ip", "netns", "exec", e.Name(), "sh", "-c", nsConntrackScript).Output()
		if err != nil {
			return nil, fmt.Errorf("conntrack of %s: %w", e.Name(), err)
		}
		c := nsConntrack{ns: e.Name()}
		if _, err := fmt.Sscan(string(b), &c.count, &c.established, &c.translated); err != nil {
			return nil, fmt.Errorf("conntrack of %s: %q: %w", e.Name(), b, err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b nsConntrack) int { return b.count - a.count })
	return out, nil
}

// conntrackRoom waits until every namespace of a server's lab has room in
// its conntrack table for n more flows, with a tenth of the table to
// spare, and returns the tables then. Closed flows of earlier runs (the
// new-connection table's especially) stay in TIME_WAIT for 120 s; a SYN
// finding its namespace's table full is dropped.
func (m *dpMeasure) conntrackRoom(ctx context.Context, s *server, n int) ([]nsConntrack, error) {
	b, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_max")
	if err != nil {
		return nil, err
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		cs, err := labConntrack(ctx, s)
		if err != nil || len(cs) == 0 || limit == 0 || cs[0].count+n <= limit*9/10 {
			return cs, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("conntrack of %s: %d entries, no room for %d more within nf_conntrack_max %d", cs[0].ns, cs[0].count, n, limit)
		}
		m.e.log.Info("waiting for conntrack room", "namespace", cs[0].ns, "entries", cs[0].count, "flows", n, "max", limit)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
}

// hostConntrackCount is nf_conntrack_count in this program's namespace,
// the host's (-1 if unreadable).
func hostConntrackCount() int {
	b, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_count")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// holdIdle runs one idle worker per address, each opening per connections,
// waits until all hold them, takes the measure, then releases them and
// checks that every connection still carried data.
func (m *dpMeasure) holdIdle(ctx context.Context, srv *server, inst string, addrs []string, per int, measure func()) error {
	// connect() looks for a free local port among one parity of the range
	// (every other port) before the other, and once that half is taken for
	// a destination, every new connection scans all of it: 10,000
	// connections took 20 to 30 s where 9,000 took 4. Hence the widest
	// range (about 32,000 ports of a parity), at most 20,000 connections
	// per destination address and port, and tcp_tw_reuse, which lets a
	// new connection take a port that a connection of an earlier run still
	// holds in TIME_WAIT (its conntrack entries reopen on the new SYN).
	perDest := map[string]int{}
	for _, a := range addrs {
		if perDest[a] += per; perDest[a] > 20000 {
			return fmt.Errorf("%d connections to %s: over half a local port range; spread them over more echo ports", perDest[a], a)
		}
	}
	for _, kv := range []string{"net.ipv4.ip_local_port_range=1024 65535", "net.ipv4.tcp_tw_reuse=1"} {
		if _, err := srv.output(ctx, inst, "sysctl", "-q", "-w", kv); err != nil {
			return err
		}
	}
	type proc struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		out    *bufio.Reader
		stderr *strings.Builder
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stdin.Close()
			_ = p.cmd.Wait()
		}
	}()
	for _, a := range addrs {
		p := &proc{cmd: srv.inInstance(ctx, inst, m.e.self, "worker", "idle", "-addr", a, "-n", strconv.Itoa(per)), stderr: &strings.Builder{}}
		var err error
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			return err
		}
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			return err
		}
		p.out = bufio.NewReader(stdout)
		p.cmd.Stderr = p.stderr
		if err := p.cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if line, err := p.out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
			return fmt.Errorf("worker: %q %v: %s", line, err, p.stderr)
		}
	}
	time.Sleep(500 * time.Millisecond) // let the proxy settle
	measure()
	for _, p := range procs {
		p.stdin.Close()
	}
	for _, p := range procs {
		rest, _ := io.ReadAll(p.out)
		err := p.cmd.Wait()
		alive, perr := parseAlive(string(rest))
		switch {
		case err != nil:
			return fmt.Errorf("worker: %w: %s", err, p.stderr)
		case perr != nil:
			return perr
		case alive != per:
			return fmt.Errorf("only %d of %d connections still carried data", alive, per)
		}
	}
	procs = nil
	return nil
}

// cpu is the user+system CPU seconds used so far by a path's proxy
// processes (0 for direct).
func (m *dpMeasure) cpu(path string) float64 {
	var s float64
	for _, pid := range m.proxyPIDs[path] {
		s += procCPU(pid)
	}
	return s
}

func haproxyConfig(server string) string {
	var b strings.Builder
	b.WriteString("global\n  maxconn 9900\n\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n")
	for _, p := range []int{portIperf, portEcho, portOnce} {
		fmt.Fprintf(&b, "\nlisten p%d\n  bind :%d\n  server s %s:%d\n", p, p, server, p)
	}
	return b.String()
}

func buildDataPlaneTopo(ctx context.Context, s *server) (*dpTopo, error) {
	consumerAcct, err := s.createAccount(ctx)
	if err != nil {
		return nil, err
	}
	prov := ec2.NewFromConfig(s.config(bootstrap))
	cons := ec2.NewFromConfig(s.config(consumerAcct))
	lbs := elb.NewFromConfig(s.config(bootstrap))
	tp := &dpTopo{s: s}

	pv, err := network(ctx, prov, "10.0.0.0/16", "10.0.1.0/24", "10.0.2.0/24")
	if err != nil {
		return nil, err
	}
	cv, err := network(ctx, cons, "10.0.0.0/16", "10.0.1.0/24")
	if err != nil {
		return nil, err
	}
	var srv, direct, hap, so, cl ec2types.Instance
	for _, in := range []struct {
		c      *ec2.Client
		n      *vpcNet
		subnet int
		out    *ec2types.Instance
	}{{prov, pv, 0, &srv}, {prov, pv, 1, &direct}, {prov, pv, 1, &hap}, {prov, pv, 1, &so}, {cons, cv, 0, &cl}} {
		r, err := in.c.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(in.n.subnets[in.subnet]), SecurityGroupIds: []string{in.n.sg},
		})
		if err != nil {
			return nil, fmt.Errorf("run instance: %w", err)
		}
		*in.out = r.Instances[0]
	}
	tp.server, tp.serverIP = *srv.InstanceId, *srv.PrivateIpAddress
	tp.direct, tp.consumer = *direct.InstanceId, *cl.InstanceId
	s.own(tp.consumer, consumerAcct)
	tp.haproxy, tp.haproxyIP = *hap.InstanceId, *hap.PrivateIpAddress
	tp.socat, tp.socatIP = *so.InstanceId, *so.PrivateIpAddress

	lb, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name: aws.String("bench"), Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal,
		Subnets: []string{pv.subnets[0]},
	})
	if err != nil {
		return nil, fmt.Errorf("create load balancer: %w", err)
	}
	lbArn := lb.LoadBalancers[0].LoadBalancerArn
	for _, port := range []int32{portIperf, portEcho, portOnce, portEcho2, portEcho3, portEcho4, portEcho5} {
		tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
			Name: aws.String(fmt.Sprintf("bench-%d", port)), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(port),
			TargetType: elbtypes.TargetTypeEnumInstance, VpcId: aws.String(pv.vpc),
		})
		if err != nil {
			return nil, fmt.Errorf("create target group: %w", err)
		}
		tgArn := tg.TargetGroups[0].TargetGroupArn
		if _, err := lbs.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgArn, Targets: []elbtypes.TargetDescription{{Id: srv.InstanceId}}}); err != nil {
			return nil, fmt.Errorf("register targets: %w", err)
		}
		if _, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{
			LoadBalancerArn: lbArn, Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(port),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgArn}},
		}); err != nil {
			return nil, fmt.Errorf("create listener: %w", err)
		}
	}
	svc, err := prov.CreateVpcEndpointServiceConfiguration(ctx, &ec2.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{*lbArn}, AcceptanceRequired: aws.Bool(false),
	})
	if err != nil {
		return nil, fmt.Errorf("create endpoint service: %w", err)
	}
	svcID := svc.ServiceConfiguration.ServiceId
	if _, err := prov.ModifyVpcEndpointServicePermissions(ctx, &ec2.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: svcID, AddAllowedPrincipals: []string{"arn:aws:iam::" + consumerAcct.ID + ":root"},
	}); err != nil {
		return nil, fmt.Errorf("allow consumer: %w", err)
	}
	ep, err := cons.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcEndpointType: ec2types.VpcEndpointTypeInterface, VpcId: aws.String(cv.vpc),
		ServiceName: svc.ServiceConfiguration.ServiceName, SubnetIds: []string{cv.subnets[0]}, SecurityGroupIds: []string{cv.sg},
	})
	if err != nil {
		return nil, fmt.Errorf("create endpoint: %w", err)
	}
	enis, err := cons.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.VpcEndpoint.NetworkInterfaceIds})
	if err != nil || len(enis.NetworkInterfaces) != 1 {
		return nil, fmt.Errorf("endpoint interfaces: %v (%v)", enis, err)
	}
	tp.endpointIP = *enis.NetworkInterfaces[0].PrivateIpAddress
	// The lab builds instances after RunInstances answers: the
	// measurements start in them once they run.
	for _, in := range []struct {
		c  *ec2.Client
		id string
	}{{prov, tp.server}, {prov, tp.direct}, {prov, tp.haproxy}, {prov, tp.socat}, {cons, tp.consumer}} {
		if err := cpRunning(ctx, in.c, in.id); err != nil {
			return nil, err
		}
	}
	return tp, nil
}

// vpcNet is a VPC with subnets (one per CIDR, all in us-east-1a) and a
// security group admitting all TCP from the VPC.
type vpcNet struct {
	vpc     string
	subnets []string
	sg      string
}

func network(ctx context.Context, c *ec2.Client, cidr string, subnets ...string) (*vpcNet, error) {
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		return nil, fmt.Errorf("create vpc: %w", err)
	}
	n := &vpcNet{vpc: *v.Vpc.VpcId}
	for _, sc := range subnets {
		sn, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(sc), AvailabilityZone: aws.String("us-east-1a")})
		if err != nil {
			return nil, fmt.Errorf("create subnet: %w", err)
		}
		n.subnets = append(n.subnets, *sn.Subnet.SubnetId)
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: v.Vpc.VpcId, GroupName: aws.String("bench"), Description: aws.String("bench")})
	if err != nil {
		return nil, fmt.Errorf("create security group: %w", err)
	}
	n.sg = *sg.GroupId
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: sg.GroupId, IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535), CidrIp: aws.String(cidr),
	}); err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	return n, nil
}

// procCPU is a process's user+system CPU seconds, with those of its reaped
// children (socat forks one per connection).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	cut, _ := strconv.ParseFloat(f[13], 64)
	cst, _ := strconv.ParseFloat(f[14], 64)
	return (ut + st + cut + cst) / 100 // USER_HZ
}

// hostBusy is the CPU seconds the whole host has spent not idle.
func hostBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1:]
	var busy float64
	for i, v := range f {
		x, _ := strconv.ParseFloat(v, 64)
		if i == 3 || i == 4 || i >= 8 { // idle, iowait, guest (counted in user already)
			continue
		}
		busy += x
	}
	return busy / 100
}

// ctExtension is the size of the block a conntrack entry's extensions
// (NAT, a timeout policy) are allocated in: the kernel's
// NF_CT_EXT_PREALLOC, a kmalloc-128 object.
const ctExtension = 128

// conntrackBytes is the memory of the conntrack entries of established
// flows that appeared in a lab's namespaces between two readings: each
// entry is an object of the nf_conntrack slab, and a translated one has an
// extension block too. Counting the lab's own entries, rather than the
// slab's growth, leaves out other labs on the host and the closed flows of
// earlier runs that expire meanwhile.
func conntrackBytes(before, after []nsConntrack) (int64, error) {
	obj, err := slabObjectSize("nf_conntrack")
	if err != nil {
		return 0, err
	}
	var est, tr int
	for _, c := range after {
		est += c.established
		tr += c.translated
	}
	for _, c := range before {
		est -= c.established
		tr -= c.translated
	}
	return int64(est)*obj + int64(tr)*ctExtension, nil
}

// slabObjectSize is the size of one object of a slab cache.
func slabObjectSize(cache string) (int64, error) {
	b, err := os.ReadFile("/proc/slabinfo")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 3 && f[0] == cache {
			return strconv.ParseInt(f[3], 10, 64)
		}
	}
	return 0, fmt.Errorf("no slab cache %s in /proc/slabinfo", cache)
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// openFiles is how many descriptors a process holds.
func openFiles(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// rss is a process's resident memory in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
