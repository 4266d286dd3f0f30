package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	workers["serve"] = serveWorker
	workers["rr"] = rrWorker
	workers["connrate"] = connRateWorker
	workers["idle"] = idleWorker
}

// Ports of the data-plane section's servers.
const (
	portIperf = 5201
	portEcho  = 7000 // echoes everything, for round trips on a kept-open connection
	portOnce  = 7001 // reads one 64-byte request, answers it and closes
	portEcho2 = 7002 // more echo ports, for many idle connections (idlePorts)
	portEcho3 = 7003
	portEcho4 = 7004
	portEcho5 = 7005
)

// idlePorts are the echo ports idle connections spread over, each behind
// its own NLB listener: one client address reaches one address and port
// from at most half its local port range without slowing down (holdIdle),
// so 100,000 connections need five.
var idlePorts = []int{portEcho, portEcho2, portEcho3, portEcho4, portEcho5}

// serveWorker runs the echo and one-shot servers until killed. It prints
// "listening" once every port is open.
func serveWorker(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// SO_REUSEPORT: several servers share the ports, each holding its
	// part of many connections within its open-file limit. No keepalives
	// on accepted connections: see idleWorker.
	lc := net.ListenConfig{KeepAlive: -1, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	listen := func(port int) (net.Listener, error) {
		return lc.Listen(context.Background(), "tcp4", fmt.Sprintf(":%d", port))
	}
	once, err := listen(portOnce)
	if err != nil {
		return err
	}
	var echos []net.Listener
	for _, port := range idlePorts { // portEcho first
		l, err := listen(port)
		if err != nil {
			return err
		}
		echos = append(echos, l)
	}
	fmt.Println("listening")
	for _, l := range echos[1:] {
		go acceptLoop(l, echoConn)
	}
	go acceptLoop(once, func(c net.Conn) {
		buf := make([]byte, 64)
		if _, err := io.ReadFull(c, buf); err == nil {
			_, _ = c.Write(buf)
		}
		c.Close()
	})
	acceptLoop(echos[0], echoConn)
	return nil
}

// echoConn echoes until the client closes. A read/write loop, not io.Copy:
// io.Copy between TCP sockets splices through a pipe that it holds while
// waiting, three descriptors per idle connection instead of one.
func echoConn(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 16<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func acceptLoop(l net.Listener, serve func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
		go serve(c)
	}
}

// latencies is what rr prints: round-trip percentiles in microseconds.
type latencies struct {
	N                   int
	P50, P99, P999, Max float64
}

// rrWorker measures round trips of -size bytes on one kept-open connection.
func rrWorker(args []string) error {
	fs := flag.NewFlagSet("rr", flag.ContinueOnError)
	addr := fs.String("addr", "", "echo server address")
	size := fs.Int("size", 64, "message size in bytes")
	n := fs.Int("n", 10000, "round trips to measure (after 10% warm-up)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := dialRetry(*addr)
	if err != nil {
		return err
	}
	defer c.Close()
	msg, got := make([]byte, *size), make([]byte, *size)
	for i := range msg {
		msg[i] = byte(i)
	}
	warm := *n / 10
	rtts := make([]time.Duration, 0, *n)
	for i := 0; i < warm+*n; i++ {
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if i >= warm {
			rtts = append(rtts, time.Since(start))
		}
	}
	if string(got) != string(msg) {
		return fmt.Errorf("echo returned other bytes")
	}
	slices.Sort(rtts)
	us := func(q float64) float64 {
		return float64(rtts[min(len(rtts)-1, int(q*float64(len(rtts))))].Nanoseconds()) / 1e3
	}
	return json.NewEncoder(os.Stdout).Encode(latencies{N: len(rtts), P50: us(0.50), P99: us(0.99), P999: us(0.999), Max: us(1)})
}

// rate is what connrate prints.
type rate struct {
	Conns   int64
	Errors  int64
	Seconds float64
	PerSec  float64
	Error   string // the first error, if any
}

// connRateWorker runs -c clients, each looping connect → one 64-byte
// request → answer → close, for -d.
func connRateWorker(args []string) error {
	fs := flag.NewFlagSet("connrate", flag.ContinueOnError)
	addr := fs.String("addr", "", "one-shot server address")
	conc := fs.Int("c", 1, "concurrent clients")
	dur := fs.Duration("d", 3*time.Second, "duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c, err := dialRetry(*addr); err != nil { // the path is up
		return err
	} else {
		c.Close()
	}
	var conns, errs atomic.Int64
	var first atomic.Value
	stop := time.Now().Add(*dur)
	start := time.Now()
	var wg sync.WaitGroup
	for range *conc {
		wg.Go(func() {
			msg, got := make([]byte, 64), make([]byte, 64)
			d := net.Dialer{Timeout: 5 * time.Second}
			for time.Now().Before(stop) {
				err := func() error {
					c, err := d.Dial("tcp4", *addr)
					if err != nil {
						return err
					}
					defer c.Close()
					if _, err := c.Write(msg); err != nil {
						return err
					}
					if _, err := io.ReadFull(c, got); err != nil {
						return err
					}
					// Wait for the server's close, so its side ends first.
					if n, _ := c.Read(got[:1]); n != 0 {
						return fmt.Errorf("server sent more than its answer")
					}
					return nil
				}()
				if err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, err.Error())
					continue
				}
				conns.Add(1)
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	r := rate{Conns: conns.Load(), Errors: errs.Load(), Seconds: secs, PerSec: float64(conns.Load()) / secs}
	if e, ok := first.Load().(string); ok {
		r.Error = e
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// idleWorker opens -n connections to an echo server, makes one round trip
// on each (so every proxy has its flow to the target), prints "ready" and
// holds them until its standard input closes, then prints how many are
// still alive.
func idleWorker(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	addr := fs.String("addr", "", "echo server address")
	n := fs.Int("n", 1000, "connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	conns := make([]net.Conn, 0, *n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// No TCP keepalives (Go's default sends one every 15 s of silence):
	// with both ends of 100,000 connections on one host they are 13,000
	// probes a second and as many answers, each crossing four veths, which
	// overflows the kernel's per-CPU input backlog; a probe dropped there
	// is retried every 500 ms, and new connections' SYNs drop with them.
	// A row holds its connections for less than the NLB's idle timeout
	// (350 s), which is what a keepalive would have to beat.
	d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: -1}
	buf := make([]byte, 1)
	for i := range *n {
		c, err := d.Dial("tcp4", *addr)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(buf); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		_ = c.SetDeadline(time.Time{})
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	// Every connection must still carry data after the idle period.
	alive := 0
	for _, c := range conns {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(buf); err != nil {
			continue
		}
		if _, err := io.ReadFull(c, buf); err == nil {
			alive++
		}
	}
	fmt.Printf("alive %d\n", alive)
	return nil
}

// dialRetry connects, retrying for a few seconds while the path comes up.
func dialRetry(addr string) (net.Conn, error) {
	var err error
	for range 100 {
		var c net.Conn
		if c, err = net.DialTimeout("tcp4", addr, time.Second); err == nil {
			return c, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("dial %s: %w", addr, err)
}

// parseAlive reads the idle worker's last line.
func parseAlive(out string) (int, error) {
	var n int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if _, err := fmt.Sscanf(l, "alive %d", &n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("idle worker printed %q", out)
}
