package dataplane

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkEndToEnd measures the same work through the endpoint (client →
// ENI → plane → target) and directly (a client in the provider VPC → the
// target through the provider router), alternating within each iteration so
// both run under the same load, and reports both and their ratio. The
// client, the target servers and the plane share this process's 2 cores.
func BenchmarkEndToEnd(b *testing.B) {
	tp := newTopo(b)
	p := New(Options{})
	b.Cleanup(func() { p.Close() })
	if errs := p.Apply(Config{
		Listeners: []Listener{tp.listener(8022, zoneA, "tg-ident"), tp.listener(8007, zoneA, "tg-echo"), tp.listener(iperfPort, zoneA, "tg-iperf")},
		TargetGroups: []TargetGroup{
			tp.group("tg-ident", noHC, tA),
			tp.group("tg-iperf", noHC, Target{ID: "i-a", Addr: netip.AddrPortFrom(targetA, iperfPort)}),
			tp.group("tg-echo", noHC, Target{ID: "i-a", Addr: netip.AddrPortFrom(targetA, echoPort)}),
		},
	}); len(errs) > 0 {
		b.Fatal(errs)
	}
	type path struct {
		name string
		dial func() *net.TCPConn
	}
	paths := func(tb testing.TB, endpointPort, targetPort uint16) []path {
		return []path{
			{"direct", func() *net.TCPConn { return dial(tb, tp.direct, netip.AddrPortFrom(targetA, targetPort)) }},
			{"endpoint", func() *net.TCPConn { return dial(tb, tp.client, tp.eni(endpointPort)) }},
		}
	}

	b.Run("throughput", func(b *testing.B) {
		const size = 64 << 20
		buf := make([]byte, 1<<20)
		elapsed := map[string]time.Duration{}
		for b.Loop() {
			for _, pa := range paths(b, 8022, identPort) {
				c := pa.dial()
				identify(b, c)
				start := time.Now()
				for sent := 0; sent < size; sent += len(buf) {
					if _, err := c.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
				c.CloseWrite()
				reply, err := io.ReadAll(c)
				elapsed[pa.name] += time.Since(start)
				if err != nil || string(reply) != fmt.Sprintf("bytes=%d\n", size) {
					b.Fatalf("%s: reply %q, %v", pa.name, reply, err)
				}
				c.Close()
			}
		}
		gbps := func(name string) float64 { return float64(b.N) * size * 8 / elapsed[name].Seconds() / 1e9 }
		b.ReportMetric(gbps("direct"), "direct-Gbit/s")
		b.ReportMetric(gbps("endpoint"), "endpoint-Gbit/s")
		b.ReportMetric(gbps("endpoint")/gbps("direct"), "endpoint/direct")
	})

	b.Run("round-trip-64B", func(b *testing.B) {
		ps := paths(b, 8007, echoPort)
		conns := make([]*net.TCPConn, len(ps))
		for i, pa := range ps {
			conns[i] = pa.dial()
		}
		msg, got := []byte(strings.Repeat("x", 64)), make([]byte, 64)
		rtts := make([][]time.Duration, len(ps))
		for b.Loop() {
			for i, c := range conns {
				start := time.Now()
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, got); err != nil {
					b.Fatal(err)
				}
				rtts[i] = append(rtts[i], time.Since(start))
			}
		}
		p50 := make([]float64, len(ps))
		for i, pa := range ps {
			slices.Sort(rtts[i])
			p50[i] = float64(rtts[i][len(rtts[i])/2].Nanoseconds()) / 1e3
			b.ReportMetric(p50[i], pa.name+"-p50-µs")
			b.ReportMetric(float64(rtts[i][len(rtts[i])*99/100].Nanoseconds())/1e3, pa.name+"-p99-µs")
		}
		b.ReportMetric(p50[1]/p50[0], "endpoint/direct-p50")
	})

	b.Run("connect", func(b *testing.B) {
		ps := paths(b, 8007, echoPort)
		elapsed := make([]time.Duration, len(ps))
		one := make([]byte, 1)
		for b.Loop() {
			for i, pa := range ps {
				start := time.Now()
				c := pa.dial()
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				c.Close()
				elapsed[i] += time.Since(start)
			}
		}
		rate := func(i int) float64 { return float64(b.N) / elapsed[i].Seconds() }
		b.ReportMetric(rate(0), "direct-conn/s")
		b.ReportMetric(rate(1), "endpoint-conn/s")
		b.ReportMetric(rate(1)/rate(0), "endpoint/direct")
	})

	// iperf3, one stream, as DESIGN.md's measurements: client and server
	// are processes of their own, so this process runs only the plane.
	b.Run("iperf3", func(b *testing.B) {
		srv := exec.Command("ip", "netns", "exec", tp.prefix+"-ta", "iperf3", "-s", "-p", fmt.Sprint(iperfPort))
		if err := srv.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
		gbps := map[string]float64{}
		for b.Loop() {
			for _, pa := range []struct{ name, ns, addr string }{
				{"direct", tp.prefix + "-pc", targetA.String()},
				{"endpoint", tp.prefix + "-cl", eniAddr.String()},
			} {
				var out []byte
				var err error
				for try := 0; try < 50; try++ { // the server may still be starting
					out, err = exec.Command("ip", "netns", "exec", pa.ns, "iperf3", "-c", pa.addr, "-p", fmt.Sprint(iperfPort), "-t", "2", "-J").Output()
					if err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					b.Fatalf("iperf3 %s: %v: %s", pa.name, err, out)
				}
				var res struct {
					End struct {
						SumReceived struct {
							BitsPerSecond float64 `json:"bits_per_second"`
						} `json:"sum_received"`
					} `json:"end"`
				}
				if err := json.Unmarshal(out, &res); err != nil {
					b.Fatal(err)
				}
				gbps[pa.name] += res.End.SumReceived.BitsPerSecond / 1e9
			}
		}
		b.ReportMetric(gbps["direct"]/float64(b.N), "direct-Gbit/s")
		b.ReportMetric(gbps["endpoint"]/float64(b.N), "endpoint-Gbit/s")
		b.ReportMetric(gbps["endpoint"]/gbps["direct"], "endpoint/direct")
	})
}

const iperfPort = 5201
