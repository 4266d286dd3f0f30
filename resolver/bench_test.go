package resolver

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/privlink/privlink/core"
)

// benchServerEnv makes the test binary a resolver for BenchmarkUDP: it
// serves the test world's consumer VPC on a loopback port, prints the port
// and serves until its stdin closes.
const benchServerEnv = "PRIVLINK_RESOLVER_BENCH_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) != "" {
		os.Exit(benchServer())
	}
	os.Exit(m.Run())
}

func benchServer() int {
	var src Source
	src.Store(NewView(testWorld().s, "us-east-1"))
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := Serve(&src, "vpc-c", pc, ln, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the benchmark closes stdin
	s.Close()
	return 0
}

// benchQueries are what a consumer instance asks: endpoint names, a private
// DNS name, a private zone's CNAME to an endpoint, an instance name, a name
// that does not exist.
var benchQueries = []struct {
	name  string
	qtype uint16
}{
	{regionalC, dns.TypeA},
	{zonalCA, dns.TypeA},
	{"api.example.com.", dns.TypeA},
	{"api.internal.example.", dns.TypeA},
	{"ip-10-0-1-5.ec2.internal.", dns.TypeA},
	{"nothing.invalid.", dns.TypeA},
}

func packedQueries(tb testing.TB) [][]byte {
	var out [][]byte
	for _, q := range benchQueries {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, false)
		b, err := m.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// BenchmarkReply is the CPU cost of one query without the sockets: parse,
// look up, pack. 1e9 / ns/op is the rate one core could answer at if the
// kernel's work were free.
func BenchmarkReply(b *testing.B) {
	var src Source
	src.Store(NewView(testWorld().s, "us-east-1"))
	s := &Server{src: &src, view: "vpc-c", log: slog.New(slog.DiscardHandler)}
	qs := packedQueries(b)
	out := make([]byte, maxUDPSize+1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if s.reply(qs[i%len(qs)], out) == nil {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkUDP measures a VPC resolver over real UDP sockets on loopback:
// the resolver runs in a process of its own with GOMAXPROCS=1, pinned to
// CPU 0 when taskset is installed, and answers the load of this process's
// clients: two sockets, each keeping a window of queries outstanding (as
// dnsperf does), a new one sent for each answer. It reports queries per
// second and round-trip percentiles. Run it with the clients on another
// CPU:
//
//	taskset -c 1 go test -run '^$' -bench UDP -benchtime 400000x ./resolver
func BenchmarkUDP(b *testing.B) {
	args := []string{os.Args[0], "-test.run=^$"}
	if ts, err := exec.LookPath("taskset"); err == nil {
		args = append([]string{ts, "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), benchServerEnv+"=1", "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("resolver did not start: %v", err)
	}
	addr := strings.TrimSpace(line)
	qs := packedQueries(b)

	const sockets = 2
	for _, window := range []int{1, 4, 8, 16} {
		b.Run(fmt.Sprintf("outstanding=%d", sockets*window), func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			var mu sync.Mutex // guards lat
			var wg sync.WaitGroup
			errs := make(chan error, sockets)
			b.ResetTimer()
			start := time.Now()
			for c := range sockets {
				wg.Go(func() {
					mine, err := udpClient(addr, qs, window, b.N/sockets)
					if err != nil {
						errs <- fmt.Errorf("socket %d: %w", c, err)
						return
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				if len(lat) == 0 {
					return 0
				}
				return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds())
			}
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "queries/s")
			b.ReportMetric(pct(0.50), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
			b.ReportMetric(pct(0.999), "p99.9-µs")
		})
	}
}

// udpClient sends n queries on one socket, keeping window of them
// outstanding, and returns each round trip's time.
func udpClient(addr string, qs [][]byte, window, n int) ([]time.Duration, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	lat := make([]time.Duration, 0, n)
	var sent [1 << 16]time.Time // by query ID; the window is far smaller
	q := make([]byte, 0, 512)
	send := func(i int) error {
		q = append(q[:0], qs[i%len(qs)]...)
		binary.BigEndian.PutUint16(q, uint16(i))
		sent[uint16(i)] = time.Now()
		_, err := conn.Write(q)
		return err
	}
	next := 0
	for ; next < min(window, n); next++ {
		if err := send(next); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, 4096)
	for len(lat) < n {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			return nil, err
		}
		m, err := conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("after %d answers: %w", len(lat), err)
		}
		if m < 12 {
			continue
		}
		lat = append(lat, time.Since(sent[binary.BigEndian.Uint16(buf)]))
		if next < n {
			if err := send(next); err != nil {
				return nil, err
			}
			next++
		}
	}
	return lat, nil
}

// BenchmarkBuild is what each reconciler pass spends indexing a large
// state: 1,000 VPCs with an instance each, 1,000 endpoints with private
// DNS, 100 private zones of 100 records each. "first" builds from nothing;
// "again" is a later pass, which reuses the zones that did not change.
func BenchmarkBuild(b *testing.B) {
	w := newWorld()
	w.service(svcA, "api.example.com", core.DNSNameVerified)
	for i := range 1000 {
		vpc, sub := fmt.Sprintf("vpc-%017x", i), fmt.Sprintf("subnet-%017x", i)
		w.vpc(vpc, "10.0.0.0/16", true, true)
		w.subnet(sub, vpc, "10.0.1.0/24", "us-east-1a")
		w.eni(fmt.Sprintf("eni-i%016x", i), sub, "10.0.1.5", core.InterfaceTypeInstance, "")
		w.endpoint(fmt.Sprintf("vpce-%017x", i), vpc, svcA, core.EndpointAvailable, true, sub+"=10.0.1.100")
	}
	for z := range 100 {
		id := fmt.Sprintf("Z%05d", z)
		name := fmt.Sprintf("zone%d.internal.", z)
		w.zone(id, name, true, fmt.Sprintf("vpc-%017x", z*10))
		for r := range 100 {
			w.set(id, fmt.Sprintf("host%d.%s", r, name), "A", 300, fmt.Sprintf("10.9.%d.%d", z, r))
		}
	}
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewView(w.s, "us-east-1")
		}
	})
	b.Run("again", func(b *testing.B) {
		bd := NewBuilder("us-east-1")
		bd.Build(w.s)
		b.ReportAllocs()
		for b.Loop() {
			bd.Build(w.s)
		}
	})
}
