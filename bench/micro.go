package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// microBenchmarks are the `go test -bench` benchmarks of the hot pieces, by
// package. BenchmarkEndToEnd in dataplane is left out: it builds a lab and
// runs iperf3, which the data-plane section does better.
var microBenchmarks = []struct{ pkg, pattern string }{
	{"./dataplane", "^Benchmark(FlowHash|PickTarget|PickFlow)$"},
	{"./lab", "^Benchmark(CompileSecurityGroups|EncodeSecurityGroups|RenderRuleset)$"},
	{"./api/ec2", "^Benchmark(Decode|WriteResponse|Serve)$"},
	{"./api/sigv4", "^BenchmarkVerify$"},
	{"./store/etcdstore", "^BenchmarkEmbeddedUpdate$"},
}

// microCommand is the go test command line for one package.
func microCommand(pkg, pattern string, quick bool) []string {
	benchtime := "1s"
	if quick {
		benchtime = "1x"
	}
	return []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-benchtime", benchtime, "-count", "1", pkg}
}

var benchLine = regexp.MustCompile(`(?m)^Benchmark\S+\s+\d+\s+[\d.]+ ns/op`)

// micro runs the micro-benchmarks and keeps their output as go test prints
// it, which benchstat reads.
func micro(ctx context.Context, e *env, rep *report) error {
	var out bytes.Buffer
	for _, m := range microBenchmarks {
		args := microCommand(m.pkg, m.pattern, e.quick)
		e.log.Info("go " + strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, "go", args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go %s: %w\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
		}
		if !benchLine.Match(stdout.Bytes()) {
			return fmt.Errorf("go %s ran no benchmark:\n%s", strings.Join(args, " "), stdout.Bytes())
		}
		out.Write(stdout.Bytes())
	}
	rep.Raw = append(rep.Raw, raw{
		Title: "Micro-benchmarks",
		Intro: "`go test -bench` for the hot pieces: flow hash and target choice (proxy data path), security-group compilation, " +
			"Query decoding, XML encoding, SigV4 verification, a whole request inside the API server (BenchmarkServe: no network, a memory store), " +
			"and a write committed to the embedded etcd member (on disk before it returns). Compare runs with benchstat. One package's command: `go " +
			strings.Join(microCommand(microBenchmarks[2].pkg, microBenchmarks[2].pattern, false), " ") + "`.",
		Text: out.String(),
	})
	return nil
}
