package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/privlink/privlink/lab"
)

// The hop table measures what one more namespace on a path costs, apart
// from privlink: a client and a server namespace joined through a chain of
// 1, 2 or 3 router namespaces by veth pairs with the lab's link settings
// (lab.SetBigSegments), each router forwarding with a
// stateful nftables filter (so conntrack tracks every flow in each, as it
// does in every namespace of privlink's path). direct crosses one router;
// privlink's kernel path crosses three (the consumer VPC's router, the load
// balancer node, the provider VPC's router).

// hopCounts are the chain lengths measured.
var hopCounts = []int{1, 2, 3}

func hopColumn(n int) string {
	if n == 1 {
		return "1 router"
	}
	return fmt.Sprintf("%d routers", n)
}

// hopChain is one chain of namespaces, made by newHopChain and removed by
// close.
type hopChain struct {
	prefix string
	spaces []string // client, routers…, server
	server string   // the server's address
}

func newHopChain(ctx context.Context, prefix string, routers int) (*hopChain, error) {
	c := &hopChain{prefix: prefix}
	c.spaces = append(c.spaces, prefix+"c")
	for i := range routers {
		c.spaces = append(c.spaces, fmt.Sprintf("%sr%d", prefix, i+1))
	}
	c.spaces = append(c.spaces, prefix+"s")
	run := func(args ...string) error {
		out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	for _, ns := range c.spaces {
		if err := run("ip", "netns", "add", ns); err != nil {
			c.close()
			return nil, err
		}
	}
	last := len(c.spaces) - 2 // the link into the server
	c.server = fmt.Sprintf("10.99.%d.2", last)
	var cmds [][]string
	for k := 0; k+1 < len(c.spaces); k++ {
		a, b := c.spaces[k], c.spaces[k+1]
		la, lb := fmt.Sprintf("h%da", k), fmt.Sprintf("h%db", k)
		cmds = append(cmds,
			[]string{"ip", "link", "add", la, "netns", a, "type", "veth", "peer", lb, "netns", b},
			[]string{"ip", "-n", a, "addr", "add", fmt.Sprintf("10.99.%d.1/24", k), "dev", la},
			[]string{"ip", "-n", b, "addr", "add", fmt.Sprintf("10.99.%d.2/24", k), "dev", lb},
			[]string{"ip", "-n", a, "link", "set", la, "up"},
			[]string{"ip", "-n", b, "link", "set", lb, "up"})
	}
	for k, ns := range c.spaces {
		cmds = append(cmds, []string{"ip", "-n", ns, "link", "set", "lo", "up"})
		if k < last {
			cmds = append(cmds, []string{"ip", "-n", ns, "route", "add", fmt.Sprintf("10.99.%d.0/24", last), "via", fmt.Sprintf("10.99.%d.2", k)})
		}
		if k > 1 {
			cmds = append(cmds, []string{"ip", "-n", ns, "route", "add", "10.99.0.0/24", "via", fmt.Sprintf("10.99.%d.1", k-1)})
		}
		if k > 0 && k+1 < len(c.spaces) {
			// A router: forwarding on (this namespace's own setting) and a
			// stateful filter.
			cmds = append(cmds, []string{"ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"})
		}
	}
	for _, cmd := range cmds {
		if err := run(cmd...); err != nil {
			c.close()
			return nil, err
		}
	}
	for _, ns := range c.spaces {
		// The lab's own link settings, so the chains cost what its
		// namespaces do.
		if err := lab.SetBigSegments(ns); err != nil {
			c.close()
			return nil, err
		}
	}
	for _, ns := range c.spaces[1 : len(c.spaces)-1] {
		nft := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", "-")
		nft.Stdin = strings.NewReader("table inet hop {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n" +
			"\t\tct state established,related accept\n\t\tct state new accept\n\t}\n}\n")
		if out, err := nft.CombinedOutput(); err != nil {
			c.close()
			return nil, fmt.Errorf("nft in %s: %w: %s", ns, err, out)
		}
	}
	return c, nil
}

// close deletes the chain's namespaces, and with them its veths.
func (c *hopChain) close() {
	for _, ns := range c.spaces {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

// iperf runs one iperf3 test from the client to the server through the
// chain and returns its received throughput in Gbit/s.
func (c *hopChain) iperf(ctx context.Context, secs string, streams int) (float64, error) {
	srv := exec.CommandContext(ctx, "ip", "netns", "exec", c.spaces[len(c.spaces)-1], "iperf3", "-s", "-1", "-p", strconv.Itoa(portIperf))
	var srvOut bytes.Buffer
	srv.Stdout, srv.Stderr = &srvOut, &srvOut
	if err := srv.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}()
	res, err := runIperf(ctx, func() ([]byte, error) {
		return exec.CommandContext(ctx, "ip", "netns", "exec", c.spaces[0], "iperf3", "-c", c.server, "-p", strconv.Itoa(portIperf),
			"-t", secs, "-P", strconv.Itoa(streams), "-J").Output()
	})
	if err != nil {
		return 0, fmt.Errorf("iperf3 through %d routers: %w: %s", len(c.spaces)-2, err, srvOut.Bytes())
	}
	return res.BitsPerSecond / 1e9, nil
}

// hopCost adds the hop table: iperf3 through each chain, rounds
// interleaved, the median kept.
func hopCost(ctx context.Context, e *env, rep *report) error {
	secs, rounds := "5", 3
	if e.quick {
		secs, rounds = "1", 1
	}
	prefix := fmt.Sprintf("plbh%d-", os.Getpid()%100000)
	chains := map[int]*hopChain{}
	defer func() {
		for _, c := range chains {
			c.close()
		}
	}()
	for _, n := range hopCounts {
		c, err := newHopChain(ctx, fmt.Sprintf("%s%d", prefix, n), n)
		if err != nil {
			return fmt.Errorf("hop chain of %d: %w", n, err)
		}
		chains[n] = c
	}
	var cols []string
	var ratios [][2]string
	for _, n := range hopCounts {
		cols = append(cols, hopColumn(n))
		if n > 1 {
			ratios = append(ratios, [2]string{hopColumn(n), hopColumn(1)})
		}
	}
	t := rep.table(&table{
		Title: "What a namespace on the path costs",
		Intro: "Plain namespaces, no privlink: a client and a server joined through a chain of router namespaces by veth pairs, " +
			"each router forwarding with a stateful nftables filter, so conntrack tracks every flow in each, as in every namespace " +
			"of privlink's path. direct above crosses 1 router; privlink's kernel path crosses 3 (the consumer VPC's router, the " +
			"load balancer node's namespace, the provider VPC's router). iperf3 as above; the median of " + strconv.Itoa(rounds) +
			" interleaved rounds of " + secs + " s.",
		Columns: cols,
		Ratios:  ratios,
	})
	var four map[string]float64 // the last row's: four streams
	for _, streams := range []int{1, 4} {
		r := t.add(&row{Metric: fmt.Sprintf("%d stream(s)", streams), Unit: "Gbit/s", Higher: true})
		runs := map[int][]float64{}
		for range rounds {
			for _, n := range hopCounts {
				g, err := chains[n].iperf(ctx, secs, streams)
				if err != nil {
					return err
				}
				runs[n] = append(runs[n], g)
				e.log.Info("iperf3", "routers", n, "streams", streams, "Gbit/s", fmt.Sprintf("%.2f", g))
			}
		}
		for _, n := range hopCounts {
			r.Values[hopColumn(n)] = median(runs[n])
		}
		four = r.Values
	}
	one := four[hopColumn(1)]
	rep.Notes = append(rep.Notes, fmt.Sprintf("What the hop table says about throughput. iperf3 runs each end in one "+
		"thread, and the kernel carries a packet through every namespace of its path in the softirq of the CPU that sent "+
		"it, so the sending CPU is the limit: each namespace crossed (a veth, a routing decision, a conntrack lookup and the "+
		"filter) adds to that CPU's work, while the other CPU is partly idle (13-15%% of a system-wide perf profile of four "+
		"streams, on both paths). In this run 2 routers kept %.2f× and 3 routers %.2f× of one router's four-stream "+
		"throughput. privlink's kernel path crosses three namespaces and also translates each flow twice, which is why its "+
		"ratio to direct sits at or below the 3-router chain's. "+
		"What was tried, by hand on 2026-12-06 in a lab built through the API (medians of 5 to 7 interleaved rounds of "+
		"4 s, four streams): "+
		"segments of up to 512 KiB on every veth (BIG TCP, now the lab's setting) raised direct from 25.9 to 34.9 Gbit/s "+
		"and privlink from 15.5 to 21.6, the ratio only from 0.65 to 0.67; "+
		"the consumer VPC's router joined straight to the provider VPC's router, translating to the target there, without "+
		"the load balancer node's namespace on the path, raised the ratio by about 0.05 (0.64 to 0.70), not enough on its "+
		"own for the work it takes (the node's metrics, resets and flow sweeps would move into the provider's router); "+
		"spreading the forwarding over both CPUs with RPS on every veth cost direct more than it gave privlink; threaded "+
		"NAPI (GRO on) on every veth gave ratios of 0.72 to 0.85 in three sets of rounds, for two kernel threads per veth, "+
		"and on the transit links alone nothing (0.62). Not available in this kernel: nftables flowtables (a fast path "+
		"past the forward hook for established flows) and VRFs (CONFIG_NET_VRF is not set). "+
		"Where privlink's share goes, measured by hand on 2026-12-06 beside a lab built through the API (plain namespaces "+
		"built by hand as the chains above, medians of 6 interleaved rounds of 4 s, four streams): a chain of three routers "+
		"kept 0.89× of direct and privlink 0.88× of that chain; one router that translates each flow (DNAT and SNAT, "+
		"like privlink's) kept 0.95× of one that only forwards. So each namespace on the path costs about 5%%, each "+
		"translation about as much, and privlink's path has two namespaces and two translations more than direct's. "+
		"Deleting privlink's counter tables (privlink-metrics) from the path moved privlink within the noise: on this "+
		"shared machine the rounds of one path spread over ±20%%. A path as fast as direct's crosses no more namespaces and "+
		"translates once. In one namespace holding every VPC's router (a routing table and an ip rule per VPC, a "+
		"conntrack zone per VPC, the resolver told apart by interface), a translated flow belongs to two VPCs, but "+
		"conntrack gives an entry one zone, which may apply to one direction only: its replies would be tracked in the "+
		"default zone, told apart by the load balancer addresses they go to, and routed by the flow's mark (an ip rule "+
		"on the connmark). With two namespaces (the consumer's router translating straight to the target, the provider's "+
		"router forwarding: 0.95 × 0.95 by the figures above), every consumer VPC's router would pick source ports for "+
		"the same load balancer address, so each needs a port range of its own. Either is a redesign of the lab fabric "+
		"across several sessions, recorded here and not started.",
		four[hopColumn(2)]/one, four[hopColumn(3)]/one))
	return nil
}
