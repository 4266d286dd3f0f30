package dataplane

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"

	"github.com/privlink/privlink/netns"
)

// Ports target A serves in these tests, besides the topology's own.
const (
	haproxyPort   = 9000 // HAProxy, mode http, bind … accept-proxy
	ppFlowPort    = 9001 // Go server that parses the PROXY header of flows
	ppCheckPort   = 9002 // the same, for health checks only
	httpPort      = 9080 // Go net/http
	httpsPort     = 9443 // Go net/http over TLS
	httpsPPPort   = 9444 // Go net/http over TLS behind a required PROXY header
	testEndpoint  = "vpce-0123456789abcdef0"
	checkInterval = 300 * time.Millisecond
)

// ppRecorder is a target that reads a PROXY protocol header with
// go-proxyproto's parser, records what it saw, and answers an HTTP request
// that follows with the same summary as its body:
//
//	PROXY <client ip:port> <ENI ip:port> <VPC endpoint ID>
//	LOCAL
//	none (no header)
type ppRecorder struct {
	mu   sync.Mutex // guards seen
	seen []string
}

func (pr *ppRecorder) handle(c *net.TCPConn) {
	br := bufio.NewReader(c)
	summary := "none"
	h, err := proxyproto.Read(br)
	switch {
	case err == proxyproto.ErrNoProxyProtocol:
	case err != nil:
		summary = "error: " + err.Error()
	case h.Command == proxyproto.LOCAL:
		summary = "LOCAL"
	default:
		src, dst, _ := h.TCPAddrs()
		tlvs, _ := h.TLVs()
		summary = fmt.Sprintf("PROXY %s %s %s", src, dst, tlvparse.FindAWSVPCEndpointID(tlvs))
	}
	pr.mu.Lock()
	pr.seen = append(pr.seen, summary)
	pr.mu.Unlock()
	if _, err := http.ReadRequest(br); err != nil {
		return // a TCP health check, or no header: nothing more to say
	}
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(summary), summary)
}

func (pr *ppRecorder) all() []string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return slices.Clone(pr.seen)
}

// get sends a GET of path on c and returns the status and body.
func get(t *testing.T, c *net.TCPConn, path string) (int, string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: endpoint\r\nConnection: close\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response through %s: %v", c.RemoteAddr(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// startHAProxy runs Debian's HAProxy inside the namespace until cleanup,
// with a frontend that requires a PROXY header and answers with the
// addresses it carried: "<src>:<src_port> <dst>:<dst_port>" (503 on /down).
func startHAProxy(t *testing.T, tp *topo, ns string, addr netip.AddrPort) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	conf := fmt.Sprintf(`defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend pp
    bind %s accept-proxy
    http-request return status 503 content-type text/plain string "down" if { path /down }
    http-request return status 200 content-type text/plain lf-string "%%[src]:%%[src_port] %%[dst]:%%[dst_port]"
`, addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// ip netns exec replaces itself with haproxy, so the process is HAProxy.
	cmd := exec.Command("ip", "netns", "exec", ns, "haproxy", "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	// Ready once it accepts; the provider's direct-path client knocks.
	eventually(t, "haproxy listening on "+addr.String(), func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("haproxy exited: %v\n%s", err, out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := tp.direct.DialTCP(ctx, netip.Addr{}, addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// serveHTTP runs an HTTP (or, with tlsOn, HTTPS) server in ns until
// cleanup; with requireProxy its listener refuses connections that do not
// start with a PROXY header.
func serveHTTP(t *testing.T, ns *netns.NS, addr netip.AddrPort, h http.Handler, tlsOn, requireProxy bool) {
	t.Helper()
	ln, err := ns.ListenTCP(addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	if requireProxy {
		srv.Listener = &proxyproto.Listener{
			Listener:   ln,
			ConnPolicy: func(proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) { return proxyproto.REQUIRE, nil },
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point of some cases
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
}

// checkLog records the health check requests an HTTP server received.
type checkLog struct {
	mu   sync.Mutex // guards reqs
	reqs []string   // "<peer ip> <method> <path> <user agent>"
}

func (cl *checkLog) handler() http.Handler {
	mux := http.NewServeMux()
	record := func(r *http.Request) {
		peer, _, _ := net.SplitHostPort(r.RemoteAddr)
		cl.mu.Lock()
		cl.reqs = append(cl.reqs, fmt.Sprintf("%s %s %s %s", peer, r.Method, r.URL.Path, r.UserAgent()))
		cl.mu.Unlock()
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { record(r); io.WriteString(w, "ok") })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { record(r); w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { record(r); http.Redirect(w, r, "/", http.StatusFound) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { record(r); <-r.Context().Done() })
	return mux
}

func (cl *checkLog) all() []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return slices.Clone(cl.reqs)
}

// healthCase is one target group's checks and the health they must reach.
type healthCase struct {
	name                 string
	hc                   HealthCheck
	proxy                bool
	state, reason, descr string
}

// runHealthCases applies one target group per case (target A, traffic port
// 22) to one plane, so all check at once, and waits for each to settle.
func runHealthCases(t *testing.T, tp *topo, cases []healthCase) {
	t.Helper()
	p, _ := newPlane(t)
	var tgs []TargetGroup
	for i, tc := range cases {
		tc.hc.Enabled = true
		tc.hc.Interval, tc.hc.Timeout = checkInterval, checkInterval
		tc.hc.HealthyThreshold, tc.hc.UnhealthyThreshold = 2, 2
		tg := tp.group(fmt.Sprintf("tg-%d", i), tc.hc, tA)
		tg.ProxyProtocol = tc.proxy
		tgs = append(tgs, tg)
	}
	apply(t, p, Config{TargetGroups: tgs})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := fmt.Sprintf("%s/%s/%s", tc.state, tc.reason, tc.descr)
			var got string
			for deadline := time.Now().Add(30 * time.Second); got != want; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) { // a hang guard, not an assertion on time
					t.Fatalf("health %q, want %q", got, want)
				}
				if h := p.TargetHealth(tgs[i].ID); len(h) == 1 {
					got = fmt.Sprintf("%s/%s/%s", h[0].State, h[0].Reason, h[0].Description)
				}
			}
		})
	}
}

func TestHTTPHealthChecks(t *testing.T) {
	tp := newTopoPrefix(t, "pp2t")
	ta, err := netns.Open(tp.prefix + "-ta")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Close() })
	var plain, secure checkLog
	serveHTTP(t, ta, netip.AddrPortFrom(targetA, httpPort), plain.handler(), false, false)
	serveHTTP(t, ta, netip.AddrPortFrom(targetA, httpsPort), secure.handler(), true, false)
	serveHTTP(t, ta, netip.AddrPortFrom(targetA, httpsPPPort), (&checkLog{}).handler(), true, true)

	const mismatch503 = "Health checks failed with these codes: [503]"
	runHealthCases(t, tp, []healthCase{
		{"HTTP default path and matcher", HealthCheck{Protocol: "HTTP", Port: httpPort}, false, StateHealthy, "", ""},
		{"HTTP 503", HealthCheck{Protocol: "HTTP", Port: httpPort, Path: "/down"}, false, StateUnhealthy, ReasonResponseCodeMismatch, mismatch503},
		{"HTTP 503 accepted by the matcher", HealthCheck{Protocol: "HTTP", Port: httpPort, Path: "/down", Matcher: "200,503"}, false, StateHealthy, "", ""},
		{"HTTP 302 within the default matcher", HealthCheck{Protocol: "HTTP", Port: httpPort, Path: "/moved"}, false, StateHealthy, "", ""},
		{"HTTP 302 outside matcher 200", HealthCheck{Protocol: "HTTP", Port: httpPort, Path: "/moved", Matcher: "200"}, false, StateUnhealthy, ReasonResponseCodeMismatch, "Health checks failed with these codes: [302]"},
		{"HTTP no answer within the timeout", HealthCheck{Protocol: "HTTP", Port: httpPort, Path: "/hang"}, false, StateUnhealthy, ReasonTimeout, "Request timed out"},
		{"HTTP to a closed port", HealthCheck{Protocol: "HTTP", Port: closedPort}, false, StateUnhealthy, ReasonFailedHealthChecks, "Health checks failed"},
		{"HTTP to a server that closes at once", HealthCheck{Protocol: "HTTP", Port: healthPort}, false, StateUnhealthy, ReasonFailedHealthChecks, "Health checks failed"},
		{"HTTPS with a certificate nobody signed", HealthCheck{Protocol: "HTTPS", Port: httpsPort}, false, StateHealthy, "", ""},
		{"HTTPS 503", HealthCheck{Protocol: "HTTPS", Port: httpsPort, Path: "/down"}, false, StateUnhealthy, ReasonResponseCodeMismatch, mismatch503},
		{"HTTPS to a plain HTTP server", HealthCheck{Protocol: "HTTPS", Port: httpPort}, false, StateUnhealthy, ReasonFailedHealthChecks, "Health checks failed"},
		{"HTTPS behind PROXY protocol", HealthCheck{Protocol: "HTTPS", Port: httpsPPPort}, true, StateHealthy, "", ""},
		{"HTTPS behind PROXY protocol, sent none", HealthCheck{Protocol: "HTTPS", Port: httpsPPPort}, false, StateUnhealthy, ReasonFailedHealthChecks, "Health checks failed"},
	})

	// The checks come from the load balancer node, as GETs of the path
	// with ELB's user agent.
	for _, tc := range []struct {
		log  *checkLog
		want string
	}{
		{&plain, nodeA.String() + " GET / ELB-HealthChecker/2.0"},
		{&plain, nodeA.String() + " GET /down ELB-HealthChecker/2.0"},
		{&secure, nodeA.String() + " GET /down ELB-HealthChecker/2.0"},
	} {
		if reqs := tc.log.all(); !slices.Contains(reqs, tc.want) {
			t.Errorf("no request %q among %q", tc.want, reqs)
		}
	}
}

func TestHealthCheckConfigErrors(t *testing.T) {
	tp := newTopoPrefix(t, "pp2t")
	p, _ := newPlane(t)
	good := tp.group("tg-good", fastHC, tA)
	for _, hc := range []HealthCheck{
		{Enabled: true, Protocol: "HTTP", Matcher: "200-"},
		{Enabled: true, Protocol: "HTTP", Matcher: "700"},
		{Enabled: true, Protocol: "HTTP", Path: "no-slash"},
		{Enabled: true, Protocol: "GRPC"},
	} {
		t.Run(fmt.Sprintf("%s %q %q", hc.Protocol, hc.Path, hc.Matcher), func(t *testing.T) {
			bad := tp.group("tg-bad", hc, tA)
			errs := p.Apply(Config{
				Listeners:    []Listener{tp.listener(8022, zoneA, "tg-bad"), tp.listener(8023, zoneA, "tg-good")},
				TargetGroups: []TargetGroup{bad, good},
			})
			if len(errs) != 1 || errs[tp.listener(8022, zoneA, "").Key()] == nil {
				t.Fatalf("Apply errors %v, want one for the listener of the bad group", errs)
			}
			if target, _ := identify(t, dial(t, tp.client, tp.eni(8023))); target != "ta" {
				t.Errorf("the good group's listener reached %q", target)
			}
		})
	}
}

func TestProxyProtocolV2(t *testing.T) {
	tp := newTopoPrefix(t, "pp2t")
	ta, err := netns.Open(tp.prefix + "-ta")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Close() })
	var flows, checks ppRecorder
	serve(t, ta, netip.AddrPortFrom(targetA, ppFlowPort), flows.handle)
	serve(t, ta, netip.AddrPortFrom(targetA, ppCheckPort), checks.handle)
	startHAProxy(t, tp, tp.prefix+"-ta", netip.AddrPortFrom(targetA, haproxyPort))

	tgFlows := tp.group("tg-flows", noHC, Target{ID: "i-a", Addr: netip.AddrPortFrom(targetA, ppFlowPort), Zone: zoneA})
	tgHAProxy := tp.group("tg-haproxy", noHC, Target{ID: "i-a", Addr: netip.AddrPortFrom(targetA, haproxyPort), Zone: zoneA})
	tgFlows.ProxyProtocol, tgHAProxy.ProxyProtocol = true, true
	ppListener := func(port uint16, tg string, on bool) Listener {
		l := tp.listener(port, zoneA, tg)
		l.ProxyProtocol = on
		return l
	}

	t.Run("the header carries the client, the ENI and the endpoint ID", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{Listeners: []Listener{ppListener(8090, "tg-flows", true)}, TargetGroups: []TargetGroup{tgFlows}})
		for range 3 { // each flow its own client port
			c := dial(t, tp.client, tp.eni(8090))
			status, body := get(t, c, "/")
			want := fmt.Sprintf("PROXY %s %s %s", c.LocalAddr(), tp.eni(8090), testEndpoint)
			if status != 200 || body != want {
				t.Errorf("target saw %d %q, want %q", status, body, want)
			}
		}
	})

	t.Run("a socket elsewhere still names the ENI", func(t *testing.T) {
		// As in a lab fabric that translates the ENI's address to the
		// listener's own: the header and the flow hash keep Addr.
		socket := netip.AddrPortFrom(netip.MustParseAddr("10.0.1.101"), 8092)
		tp.run("ip", "-n", tp.consumer, "addr", "add", socket.Addr().String()+"/32", "dev", "lo")
		t.Cleanup(func() {
			_ = exec.Command("ip", "-n", tp.consumer, "addr", "del", socket.Addr().String()+"/32", "dev", "lo").Run()
		})
		p, _ := newPlane(t)
		l := ppListener(8090, "tg-flows", true)
		l.Socket = socket
		apply(t, p, Config{Listeners: []Listener{l}, TargetGroups: []TargetGroup{tgFlows}})
		c := dial(t, tp.client, socket)
		status, body := get(t, c, "/")
		if want := fmt.Sprintf("PROXY %s %s %s", c.LocalAddr(), tp.eni(8090), testEndpoint); status != 200 || body != want {
			t.Errorf("target saw %d %q, want %q", status, body, want)
		}
		if l.Key() != tp.consumer+"|"+socket.String() {
			t.Errorf("listener key %q names no socket %s", l.Key(), socket)
		}
	})

	t.Run("switching it applies to new flows", func(t *testing.T) {
		p, _ := newPlane(t)
		for _, on := range []bool{false, true, false} {
			apply(t, p, Config{Listeners: []Listener{ppListener(8090, "tg-flows", on)}, TargetGroups: []TargetGroup{tgFlows}})
			c := dial(t, tp.client, tp.eni(8090))
			_, body := get(t, c, "/")
			if got := strings.HasPrefix(body, "PROXY "); got != on || !on && body != "none" {
				t.Errorf("ProxyProtocol %v: target saw %q", on, body)
			}
		}
	})

	t.Run("HAProxy with accept-proxy sees the client and the ENI", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{Listeners: []Listener{ppListener(8091, "tg-haproxy", true)}, TargetGroups: []TargetGroup{tgHAProxy}})
		for range 3 {
			c := dial(t, tp.client, tp.eni(8091))
			status, body := get(t, c, "/")
			// HAProxy's view: the consumer's client, never the node, and the
			// endpoint's address and port, never the target's.
			if want := fmt.Sprintf("%s %s", c.LocalAddr(), tp.eni(8091)); status != 200 || body != want {
				t.Errorf("HAProxy answered %d %q, want %q", status, body, want)
			}
		}
	})

	t.Run("HAProxy refuses a flow without the header", func(t *testing.T) {
		p, _ := newPlane(t)
		apply(t, p, Config{Listeners: []Listener{ppListener(8091, "tg-haproxy", false)}, TargetGroups: []TargetGroup{tgHAProxy}})
		c := dial(t, tp.client, tp.eni(8091))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: endpoint\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			t.Errorf("HAProxy answered %s to a flow without a PROXY header; the test above proves nothing", resp.Status)
		}
	})

	t.Run("health checks send LOCAL", func(t *testing.T) {
		checkTarget := Target{ID: "i-a", Addr: netip.AddrPortFrom(targetA, ppCheckPort), Zone: zoneA}
		p, _ := newPlane(t)
		tcp := tp.group("tg-tcp", fastHC, checkTarget)
		web := tp.group("tg-http", HealthCheck{Enabled: true, Protocol: "HTTP", Interval: checkInterval, Timeout: checkInterval, HealthyThreshold: 2, UnhealthyThreshold: 2}, checkTarget)
		tcp.ProxyProtocol, web.ProxyProtocol = true, true
		apply(t, p, Config{TargetGroups: []TargetGroup{tcp, web}})
		waitHealth(t, p, "tg-tcp", map[string]string{"i-a": StateHealthy})
		waitHealth(t, p, "tg-http", map[string]string{"i-a": StateHealthy}) // the target answered 200 only after parsing the header
		seen := checks.all()
		if len(seen) < 4 {
			t.Fatalf("the target saw %d health checks, want at least 4", len(seen))
		}
		for _, s := range seen {
			if s != "LOCAL" {
				t.Errorf("a health check connection started with %q, want a LOCAL header", s)
			}
		}
	})

	t.Run("health checks against HAProxy", func(t *testing.T) {
		hc := func(protocol, path string) HealthCheck {
			return HealthCheck{Protocol: protocol, Port: haproxyPort, Path: path}
		}
		runHealthCases(t, tp, []healthCase{
			{"TCP with the header", hc("TCP", ""), true, StateHealthy, "", ""},
			{"HTTP with the header", hc("HTTP", "/"), true, StateHealthy, "", ""},
			{"HTTP 503 with the header", hc("HTTP", "/down"), true, StateUnhealthy, ReasonResponseCodeMismatch, "Health checks failed with these codes: [503]"},
			{"HTTP without the header", hc("HTTP", "/"), false, StateUnhealthy, ReasonFailedHealthChecks, "Health checks failed"},
		})
	})
}
