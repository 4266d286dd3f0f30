// Command bench measures privlink against the paths a user could put in its
// place, in one run on one machine, and writes BENCHMARKS.md.
//
// It starts its own `privlink server` (a fresh data dir, a free loopback
// port), builds a lab topology through the public AWS APIs with the AWS SDK
// for Go v2, and measures:
//
//   - the data plane: a client instance reaching a server instance directly
//     (one VPC, two subnets, routed by the kernel), through privlink (an
//     interface endpoint in another VPC → NLB → the server), through HAProxy
//     and through socat (each an instance in the server's VPC). Throughput
//     with iperf3, request/response latency, new connections per second,
//     memory per idle proxied connection and CPU per GB moved; and, apart
//     from privlink, what each router namespace on a path costs;
//   - the control plane: accept → first byte through a new endpoint, and
//     DescribeVpcEndpoints with many endpoints stored, beside moto_server;
//   - the micro-benchmarks (`go test -bench`) of the hot pieces.
//
// Usage (as root, from the repository):
//
//	go run ./bench                 # the full run; rewrites BENCHMARKS.md
//	go run ./bench -quick -out -   # CI's smoke mode: every path moves data, every figure is produced
//	go run ./bench -sections sequence -server-profile /tmp/prof -out -
//	                               # one part, with CPU profiles of the servers (go tool pprof)
//
// Load generators run inside lab instances as this same program in its
// hidden `worker` mode, started with `privlink exec`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(worker(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var (
		bin      = flag.String("privlink", "", "the privlink binary to measure (default: build ./cmd/privlink)")
		quick    = flag.Bool("quick", false, "smoke mode: tiny sizes and durations; proves every figure is produced, not how fast")
		out      = flag.String("out", "BENCHMARKS.md", "where to write the report (- for stdout)")
		sections = flag.String("sections", "dataplane,controlplane,micro",
			"which sections to run, comma-separated; controlplane's parts one by one: accept, sequence, describe; "+
				"hops: dataplane's table of what a namespace on the path costs, alone")
		profile = flag.String("server-profile", "", "write a CPU profile of every privlink server started into this directory, and its live heap when it is stopped")
		verbose = flag.Bool("v", false, "log progress in detail")
		fabric  = flag.String("lab-fabric", "", "the lab fabric of the servers measured (privlink server --lab-fabric; default: the server's)")
	)
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if os.Geteuid() != 0 {
		log.Error("bench needs root: it builds a lab of network namespaces")
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := newEnv(ctx, log, *bin, *quick, *profile)
	if err != nil {
		log.Error("set-up failed", "err", err)
		return 1
	}
	defer env.close()
	env.labFabric = *fabric

	rep := &report{Quick: *quick, Fabric: *fabric, Started: time.Now()}
	for _, s := range strings.Split(*sections, ",") {
		var err error
		start := time.Now()
		log.Info("section", "name", s)
		switch s {
		case "dataplane":
			err = dataPlane(ctx, env, rep)
		case "controlplane":
			err = controlPlane(ctx, env, rep, []string{cpPartAccept, cpPartSequence, cpPartDescribe})
		case cpPartAccept, cpPartSequence, cpPartDescribe:
			err = controlPlane(ctx, env, rep, []string{s})
		case "hops":
			err = hopCost(ctx, env, rep)
		case "micro":
			err = micro(ctx, env, rep)
		default:
			err = fmt.Errorf("unknown section %q", s)
		}
		if err != nil {
			log.Error("section failed", "name", s, "err", err)
			return 1
		}
		log.Info("section done", "name", s, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := rep.check(); err != nil {
		log.Error("incomplete report", "err", err)
		return 1
	}

	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			log.Error("write report", "err", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	if err := rep.write(w, env); err != nil {
		log.Error("write report", "err", err)
		return 1
	}
	return 0
}
