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
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The control plane's workers: a server that writes one byte to every
// connection (the provider's instance behind the NLB) and a probe that
// measures how soon an endpoint carries that byte (in the consumer's client
// instance).
func init() {
	workers["cp-byteserver"] = cpByteServer
	workers["cp-probe"] = cpProbe
}

// Probe timing. A SYN sent before acceptance is dropped (the endpoint's
// address is in the firewall with no groups), and the kernel would only
// resend it after a second, so the probe starts a fresh dial every
// cpProbeEvery, each giving up after cpProbeDialTimeout. The figure's
// resolution is therefore cpProbeEvery.
const (
	cpProbeEvery       = time.Millisecond
	cpProbeDialTimeout = 50 * time.Millisecond
	cpProbeGiveUp      = 30 * time.Second
)

// cpErrNoByte is the probe's answer when nothing came through in time.
var cpErrNoByte = errors.New("no byte")

// cpByteServer accepts on -port and writes one byte to every connection,
// until interrupted.
func cpByteServer(args []string) error {
	fs := flag.NewFlagSet("cp-byteserver", flag.ContinueOnError)
	port := fs.Int("port", 9000, "TCP port to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", *port))
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { l.Close() })
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		// One write and a close: the connection's whole life is a few
		// microseconds, so no goroutine is needed.
		_, _ = c.Write([]byte{'x'})
		c.Close()
	}
}

// cpProbeResult is one line of cp-probe's output.
type cpProbeResult struct {
	Target      string `json:"target"`
	FirstByteNs int64  `json:"firstByteNs,omitempty"`
	Dials       int    `json:"dials"`
	Error       string `json:"error,omitempty"`
}

// cpProbe reads one "address:port [timeout]" per line on standard input.
// Each line is the "go": the probe starts its clock, dials the address
// until a connection yields its first byte (or the timeout, default
// cpProbeGiveUp, passes), and prints one JSON cpProbeResult line with the
// time from the go. It stays alive for the next line (so exec's start-up
// cost is not in the figure) and exits 0 at end of input. Unlike other
// workers it prints one JSON document per input line.
func cpProbe(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("cp-probe takes no arguments; it reads address:port lines on stdin")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	in := bufio.NewScanner(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		start := time.Now()
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		target, giveUp := f[0], cpProbeGiveUp
		if len(f) > 1 {
			d, err := time.ParseDuration(f[1])
			if err != nil {
				return fmt.Errorf("line %q: %w", in.Text(), err)
			}
			giveUp = d
		}
		took, dials, err := cpFirstByte(ctx, start, target, giveUp)
		res := cpProbeResult{Target: target, FirstByteNs: took.Nanoseconds(), Dials: dials}
		if err != nil {
			res.Error = err.Error()
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return in.Err()
}

// cpFirstByte dials target every cpProbeEvery until one connection reads a
// byte or giveUp passes, and returns the time since start and the number
// of dials.
func cpFirstByte(ctx context.Context, start time.Time, target string, giveUp time.Duration) (time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(ctx, giveUp)
	got := make(chan time.Duration, 1)
	var wg sync.WaitGroup
	// Cancel, then wait: every dial still in flight ends before we return.
	defer wg.Wait()
	defer cancel()
	d := net.Dialer{Timeout: cpProbeDialTimeout}
	try := func() {
		defer wg.Done()
		c, err := d.DialContext(ctx, "tcp", target)
		if err != nil {
			return // refused or dropped: not accepted yet
		}
		defer c.Close()
		stopRead := context.AfterFunc(ctx, func() { c.Close() })
		defer stopRead()
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return // the proxy accepted but had no way through yet
		}
		select {
		case got <- time.Since(start):
		default:
		}
	}
	tick := time.NewTicker(cpProbeEvery)
	defer tick.Stop()
	dials := 0
	for {
		dials++
		wg.Add(1)
		go try()
		select {
		case took := <-got:
			return took, dials, nil
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return 0, dials, fmt.Errorf("%w from %s within %v (%d dials)", cpErrNoByte, target, giveUp, dials)
			}
			return 0, dials, ctx.Err()
		case <-tick.C:
		}
	}
}
