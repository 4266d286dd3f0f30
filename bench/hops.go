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
//
// More columns measure the shapes a faster endpoint path could take, with
// two VPCs of the same CIDR: the client in one, the server in the other, the
// client connecting to an endpoint address that is translated once (DNAT to
// the server, SNAT to a load balancer address). One is built by hand as the
// chains are: the consumer VPC's router, joined by a veth to the provider
// VPC's router that only forwards (newNATPair). The other is the lab's shared
// fabric, one namespace that holds every VPC's router (docs/fabric.md), built
// by the lab package itself beside a lab of router namespaces from the same
// spec (newLabPaths), each with its direct path (the client to an instance in
// another subnet of its VPC) and its endpoint path.

// Column names of the hop table.
const (
	colNATPair       = "2 routers, NAT once"
	colRoutersDirect = "lab routers, direct"
	colRoutersEP     = "lab routers, endpoint"
	colSharedDirect  = "lab shared, direct"
	colShared        = "lab shared, endpoint"
)

// hopCounts are the chain lengths measured.
var hopCounts = []int{1, 2, 3}

func hopColumn(n int) string {
	if n == 1 {
		return "1 router"
	}
	return fmt.Sprintf("%d routers", n)
}

// hopChain is one path, of plain namespaces (made by newHopChain or
// newNATPair) or of a lab (newLabPaths), removed by close.
type hopChain struct {
	spaces         []string // every namespace of the path
	client, server string   // the client's and the server's namespaces
	dial           string   // the address the client connects to
	cleanup        func()   // removes what is not in spaces (a lab)
}

// add creates the chain's namespaces, named prefix+name. On an error the
// chain is closed.
func (c *hopChain) add(ctx context.Context, prefix string, names ...string) error {
	for _, name := range names {
		ns := prefix + name
		if err := runCmd(ctx, "ip", "netns", "add", ns); err != nil {
			c.close()
			return err
		}
		c.spaces = append(c.spaces, ns)
	}
	return nil
}

// setUp runs cmds, loads each namespace's nftables ruleset and gives every
// veth the lab's link settings. On an error the chain is closed.
func (c *hopChain) setUp(ctx context.Context, cmds [][]string, rulesets map[string]string) error {
	err := func() error {
		for _, cmd := range cmds {
			if err := runCmd(ctx, cmd...); err != nil {
				return err
			}
		}
		for ns, rules := range rulesets {
			nft := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", "-")
			nft.Stdin = strings.NewReader(rules)
			if out, err := nft.CombinedOutput(); err != nil {
				return fmt.Errorf("nft in %s: %w: %s", ns, err, out)
			}
		}
		for _, ns := range c.spaces {
			// The lab's own link settings, so the chains cost what its
			// namespaces do.
			if err := lab.SetBigSegments(ns); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		c.close()
	}
	return err
}

func runCmd(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// statefulForward is a router's filter: conntrack tracks every flow.
const statefulForward = "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n" +
	"\t\tct state established,related accept\n\t\tct state new accept\n\t}\n"

func newHopChain(ctx context.Context, prefix string, routers int) (*hopChain, error) {
	c := &hopChain{}
	names := []string{"c"}
	for i := range routers {
		names = append(names, fmt.Sprintf("r%d", i+1))
	}
	if err := c.add(ctx, prefix, append(names, "s")...); err != nil {
		return nil, err
	}
	c.client, c.server = c.spaces[0], c.spaces[len(c.spaces)-1]
	last := len(c.spaces) - 2 // the link into the server
	c.dial = fmt.Sprintf("10.99.%d.2", last)
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
	rulesets := map[string]string{}
	for k, ns := range c.spaces {
		if k > 0 && k+1 < len(c.spaces) {
			// A router: forwarding on and a stateful filter.
			cmds = append(cmds, routerCmds(ns)...)
			rulesets[ns] = "table inet hop {\n" + statefulForward + "}\n"
		} else {
			cmds = append(cmds, []string{"ip", "-n", ns, "link", "set", "lo", "up"})
		}
		if k < last {
			cmds = append(cmds, []string{"ip", "-n", ns, "route", "add", fmt.Sprintf("10.99.%d.0/24", last), "via", fmt.Sprintf("10.99.%d.2", k)})
		}
		if k > 1 {
			cmds = append(cmds, []string{"ip", "-n", ns, "route", "add", "10.99.0.0/24", "via", fmt.Sprintf("10.99.%d.1", k-1)})
		}
	}
	return c, c.setUp(ctx, cmds, rulesets)
}

// The two VPCs of newNATPair and newLabPaths: both 10.0.0.0/16, the client
// and the server both at 10.0.1.4 in their subnets (10.0.1.0/24, gateway
// .1), and the lab's direct server at hopOther, in another subnet of the
// client's VPC. The client connects to the endpoint address hopEndpoint;
// the server sees the flow come from the load balancer address hopNode
// (newNATPair: from a source port in hopNodePorts).
const (
	hopInstance  = "10.0.1.4"
	hopOther     = "10.0.2.4"
	hopEndpoint  = "10.0.1.6"
	hopNode      = "10.0.1.9"
	hopNodePorts = "20000-29999"
)

// instanceCmds attach the instance namespace inst, at addr in a /24 whose
// gateway is .1, to the router namespace router with a veth (router side
// dev, proxy ARP on), as the lab does.
func instanceCmds(inst, router, dev, addr string) [][]string {
	gw := addr[:strings.LastIndexByte(addr, '.')] + ".1"
	return [][]string{
		{"ip", "link", "add", "eth0", "netns", inst, "type", "veth", "peer", dev, "netns", router},
		{"ip", "-n", inst, "addr", "add", addr + "/24", "dev", "eth0"},
		{"ip", "-n", inst, "link", "set", "eth0", "up"},
		{"ip", "-n", inst, "link", "set", "lo", "up"},
		{"ip", "-n", inst, "route", "add", "default", "via", gw},
		{"ip", "-n", router, "link", "set", dev, "up"},
		{"ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.conf." + dev + ".proxy_arp=1"},
	}
}

// routerCmds set up a router namespace: forwarding on, no reverse-path
// filter (which table routes a packet depends on its mark; links made after
// these commands take the default), lo up.
func routerCmds(router string) [][]string {
	return [][]string{
		{"ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"},
		{"ip", "-n", router, "link", "set", "lo", "up"},
	}
}

// newNATPair builds client → consumer router → provider router → server.
// The consumer's router translates a new flow to the endpoint straight to the
// server and the load balancer address (the flow's mark routes it over the
// link between the routers; its replies come back to the load balancer
// address, which the provider's router routes over that link); the
// provider's router only forwards. Every consumer router that translates
// to one load balancer address needs a range of source ports of its own.
func newNATPair(ctx context.Context, prefix string) (*hopChain, error) {
	c := &hopChain{dial: hopEndpoint}
	if err := c.add(ctx, prefix, "c", "r1", "r2", "s"); err != nil {
		return nil, err
	}
	cl, r1, r2, sv := c.spaces[0], c.spaces[1], c.spaces[2], c.spaces[3]
	c.client, c.server = cl, sv
	cmds := append(routerCmds(r1), routerCmds(r2)...)
	cmds = append(cmds, instanceCmds(cl, r1, "vc", hopInstance)...)
	cmds = append(cmds, instanceCmds(sv, r2, "vs", hopInstance)...)
	cmds = append(cmds,
		[]string{"ip", "-n", r1, "route", "add", hopInstance + "/32", "dev", "vc"},
		[]string{"ip", "-n", r2, "route", "add", hopInstance + "/32", "dev", "vs"},
		[]string{"ip", "-n", r1, "addr", "add", "10.0.1.1/32", "dev", "lo"},
		[]string{"ip", "-n", r1, "addr", "add", hopEndpoint + "/32", "dev", "lo"},
		[]string{"ip", "-n", r2, "addr", "add", "10.0.1.1/32", "dev", "lo"},
		[]string{"ip", "-n", r1, "route", "add", "blackhole", "default"},
		[]string{"ip", "-n", r2, "route", "add", "blackhole", "default"},
		[]string{"ip", "link", "add", "tr", "netns", r1, "type", "veth", "peer", "tr", "netns", r2},
		[]string{"ip", "-n", r1, "addr", "add", "169.254.0.1/32", "dev", "tr"},
		[]string{"ip", "-n", r2, "addr", "add", "169.254.0.2/32", "dev", "tr"},
		[]string{"ip", "-n", r1, "link", "set", "tr", "up"},
		[]string{"ip", "-n", r2, "link", "set", "tr", "up"},
		// Endpoint flows (mark 7) leave the consumer's router over the link.
		[]string{"ip", "-n", r1, "route", "add", "default", "via", "169.254.0.2", "dev", "tr", "onlink", "table", "7"},
		[]string{"ip", "-n", r1, "rule", "add", "fwmark", "7", "lookup", "7", "pref", "100"},
		// Their replies go back to the load balancer address over it.
		[]string{"ip", "-n", r2, "route", "add", hopNode + "/32", "via", "169.254.0.1", "dev", "tr", "onlink"},
	)
	return c, c.setUp(ctx, cmds, map[string]string{
		r1: "table ip hop {\n" +
			"\tchain route {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n" +
			"\t\tct mark 7 ct direction original meta mark set 7\n\t}\n" +
			"\tchain to-target {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n" +
			"\t\tip daddr " + hopEndpoint + " tcp dport " + strconv.Itoa(portIperf) + " tcp flags syn / syn,ack ct mark set 7 meta mark set 7 dnat to " + hopInstance + "\n\t}\n" +
			"\tchain from-node {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n" +
			"\t\tct mark 7 meta l4proto tcp snat to " + hopNode + ":" + hopNodePorts + "\n\t}\n" +
			statefulForward + "}\n",
		r2: "table inet hop {\n" + statefulForward + "}\n",
	})
}

// close deletes the chain's namespaces, and with them its veths.
func (c *hopChain) close() {
	if c.cleanup != nil {
		c.cleanup()
	}
	for _, ns := range c.spaces {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

// iperf runs one iperf3 test from the client to the server through the
// chain and returns its received throughput in Gbit/s.
func (c *hopChain) iperf(ctx context.Context, secs string, streams int) (float64, error) {
	srv := exec.CommandContext(ctx, "ip", "netns", "exec", c.server, "iperf3", "-s", "-1", "-p", strconv.Itoa(portIperf))
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
		return exec.CommandContext(ctx, "ip", "netns", "exec", c.client, "iperf3", "-c", c.dial, "-p", strconv.Itoa(portIperf),
			"-t", secs, "-P", strconv.Itoa(streams), "-J").Output()
	})
	if err != nil {
		return 0, fmt.Errorf("iperf3 through %d routers: %w: %s", len(c.spaces)-2, err, srvOut.Bytes())
	}
	return res.BitsPerSecond / 1e9, nil
}

// hopCost adds the hop table: iperf3 through each path, rounds
// interleaved, the median kept.
func hopCost(ctx context.Context, e *env, rep *report) error {
	secs, rounds := "5", 3
	if e.quick {
		secs, rounds = "1", 1
	}
	prefix := fmt.Sprintf("plbh%d-", os.Getpid()%100000)
	chains := map[string]*hopChain{}
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
		chains[hopColumn(n)] = c
	}
	c, err := newNATPair(ctx, prefix+"n")
	if err != nil {
		return fmt.Errorf("hop path %q: %w", colNATPair, err)
	}
	chains[colNATPair] = c
	for _, f := range []struct {
		fabric           lab.Fabric
		direct, endpoint string
	}{{lab.FabricRouters, colRoutersDirect, colRoutersEP}, {lab.FabricShared, colSharedDirect, colShared}} {
		direct, endpoint, err := newLabPaths(ctx, prefix+"l"+string(f.fabric[0]), f.fabric)
		if err != nil {
			return fmt.Errorf("lab paths of the %s fabric: %w", f.fabric, err)
		}
		chains[f.direct], chains[f.endpoint] = direct, endpoint
	}
	cols := []string{hopColumn(1), hopColumn(2), hopColumn(3), colNATPair, colRoutersDirect, colRoutersEP, colSharedDirect, colShared}
	ratios := [][2]string{{hopColumn(2), hopColumn(1)}, {hopColumn(3), hopColumn(1)}, {colNATPair, hopColumn(1)},
		{colRoutersEP, colRoutersDirect}, {colShared, colSharedDirect}, {colShared, colRoutersDirect}}
	t := rep.table(&table{
		Title: "What a namespace on the path costs",
		Intro: "Plain namespaces, no privlink: a client and a server joined through a chain of router namespaces by veth pairs, " +
			"each router forwarding with a stateful nftables filter, so conntrack tracks every flow in each, as in every namespace " +
			"of privlink's path. With router namespaces per VPC (--lab-fabric routers), direct crosses 1 router and privlink's " +
			"kernel path 3 (the consumer VPC's router, the load balancer node's namespace, the provider VPC's router), translating " +
			"each flow twice; in the lab's shared fabric, the default, both cross the one namespace. The last columns are " +
			"the shapes a path as fast as direct's could take, each between two VPCs of the same CIDR, the client connecting to " +
			"an endpoint address translated once (to the server, from a load balancer address): by the consumer VPC's router, " +
			"joined to the provider VPC's router, which only forwards (" + colNATPair + ", built by hand); or in the lab's " +
			"shared fabric, one namespace holding every VPC's router, told apart by routing tables, marks and conntrack zones " +
			"(docs/fabric.md; what the server builds by default). The lab columns are built by the lab package from one spec, in " +
			"either fabric: direct is the client to an instance in another subnet of its VPC, endpoint the client through an " +
			"endpoint to a target of a load balancer in the other VPC, open security groups. iperf3 as above; the median of " +
			strconv.Itoa(rounds) + " interleaved rounds of " + secs + " s.",
		Columns: cols,
		Ratios:  ratios,
	})
	var four map[string]float64 // the last row's: four streams
	for _, streams := range []int{1, 4} {
		r := t.add(&row{Metric: fmt.Sprintf("%d stream(s)", streams), Unit: "Gbit/s", Higher: true})
		runs := map[string][]float64{}
		for range rounds {
			for _, col := range cols {
				g, err := chains[col].iperf(ctx, secs, streams)
				if err != nil {
					return fmt.Errorf("iperf3 through %s: %w", col, err)
				}
				runs[col] = append(runs[col], g)
				e.log.Info("iperf3", "path", col, "streams", streams, "Gbit/s", fmt.Sprintf("%.2f", g))
			}
		}
		for _, col := range cols {
			r.Values[col] = median(runs[col])
		}
		four = r.Values
	}
	one := four[hopColumn(1)]
	rep.Notes = append(rep.Notes, fmt.Sprintf(hopNote, four[hopColumn(2)]/one, four[hopColumn(3)]/one, four[colNATPair]/one,
		four[colRoutersEP]/four[colRoutersDirect], four[colShared]/four[colSharedDirect], four[colShared]/four[colRoutersDirect]))
	return nil
}

// hopNote is the hop table's note. Its verbs take four-stream ratios: 2
// routers, 3 routers and colNATPair to one router, colRoutersEP to
// colRoutersDirect, colShared to colSharedDirect and to colRoutersDirect.
const hopNote = "What the hop table says about throughput. iperf3 runs each end in one " +
	"thread, and the kernel carries a packet through every namespace of its path in the softirq of the CPU that sent " +
	"it, so the sending CPU is the limit: each namespace crossed (a veth, a routing decision, a conntrack lookup and the " +
	"filter) adds to that CPU's work, while the other CPU is partly idle (13-15%% of a system-wide perf profile of four " +
	"streams, on both paths). In this run 2 routers kept %.2f× and 3 routers %.2f× of one router's four-stream " +
	"throughput. privlink's kernel path crosses three namespaces and also translates each flow twice, which is why its " +
	"ratio to direct sits at or below the 3-router chain's. " +
	"What was tried, by hand on 2026-12-06 in a lab built through the API (medians of 5 to 7 interleaved rounds of " +
	"4 s, four streams): " +
	"segments of up to 512 KiB on every veth (BIG TCP, now the lab's setting) raised direct from 25.9 to 34.9 Gbit/s " +
	"and privlink from 15.5 to 21.6, the ratio only from 0.65 to 0.67; " +
	"the consumer VPC's router joined straight to the provider VPC's router, translating to the target there, without " +
	"the load balancer node's namespace on the path, raised the ratio by about 0.05 (0.64 to 0.70), not enough on its " +
	"own for the work it takes (the node's metrics, resets and flow sweeps would move into the provider's router); " +
	"spreading the forwarding over both CPUs with RPS on every veth cost direct more than it gave privlink; threaded " +
	"NAPI (GRO on) on every veth gave ratios of 0.72 to 0.85 in three sets of rounds, for two kernel threads per veth, " +
	"and on the transit links alone nothing (0.62); tried again on 2026-12-07 in a lab built through the API (GRO on " +
	"every veth, with threaded NAPI in 4 rounds and without in 3, each interleaved with rounds of neither): neither path " +
	"got faster, the ratio 0.58-0.80 either way. Not available in this kernel: nftables flowtables (a fast path " +
	"past the forward hook for established flows) and VRFs (CONFIG_NET_VRF is not set). " +
	"Where privlink's share goes, measured by hand on 2026-12-06 beside a lab built through the API (plain namespaces " +
	"built by hand as the chains above, medians of 6 interleaved rounds of 4 s, four streams): a chain of three routers " +
	"kept 0.89× of direct and privlink 0.88× of that chain; one router that translates each flow (DNAT and SNAT, " +
	"like privlink's) kept 0.95× of one that only forwards. So each namespace on the path costs about 5%%, each " +
	"translation about as much, and privlink's path has two namespaces and two translations more than direct's. " +
	"Deleting privlink's counter tables (privlink-metrics) from the path moved privlink within the noise: on this " +
	"shared machine the rounds of one path spread over ±20%%. " +
	"A path as fast as direct's crosses no more namespaces and translates once: the last columns measure the two " +
	"shapes that could. In this run \"" + colNATPair + "\" kept %.2f× of one router's four-stream throughput. In the " +
	"lab's own code, the routers' endpoint path kept %.2f× of their direct path, and the shared fabric's %.2f× of its " +
	"own (%.2f× of the routers' direct path). On 2026-12-07 a shared router built by hand beside a lab made through " +
	"the API (six interleaved rounds of 4 s, four streams) kept 0.90× of the lab's direct path, where privlink kept " +
	"0.68×; then the lab's shared fabric, built by the lab package in eight interleaved rounds, kept 0.98× of its " +
	"direct path where the routers kept 0.79×. Only the shared fabric meets the target, and it changes what isolates " +
	"one VPC from another (routing tables, conntrack zones and marks in one namespace, instead of a namespace each): " +
	"docs/fabric.md is the design, built and tested against both fabrics, and the server's default since 2026-12-07 " +
	"(the tables above run in it unless -lab-fabric says otherwise). The lab's columns here take 3 rounds each and " +
	"swing from run to run on this shared machine: in three runs of 2026-12-07 the shared fabric's endpoint path kept " +
	"1.03×, 0.72× and 1.41× of its direct path (1.04× of the routers' direct path in the last), while the run that made " +
	"it the default, through the API in 5 rounds, kept 0.93× of direct."
