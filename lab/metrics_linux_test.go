package lab

import (
	"io"
	"net/netip"
	"testing"
	"time"
)

// TestEndpointCounters checks the kernel's counters of an endpoint and a
// node against flows the test makes, and that they survive a firewall
// change (which replaces the firewall table).
func TestEndpointCounters(t *testing.T) {
	forEachFabric(t, testEndpointCounters)
}

func testEndpointCounters(t *testing.T, fabric Fabric) {
	l, _ := newFabricLab(t, "plt-mc"+string(fabric[0]), fabric)
	ns := l.InstanceNamespace
	apply(t, l, transitSpec(transitTargets))
	listenPeer(t, ns(t1), "t1", "10.0.1.10:80")
	ep80 := netip.AddrPortFrom(endpointC, 80)

	held, r := holdFlow(t, ns(c1), ep80, "t1 ")
	payload := "0123456789abcdefghij\n"
	if _, err := io.WriteString(held, payload); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); line != payload {
		t.Fatalf("echo %q, %v", line, err)
	}
	// c2 is not admitted by the endpoint's group: its SYNs are dropped.
	if got := dial(t, ns(c2), "", ep80.String()); got.result != timeout {
		t.Fatalf("c2 → endpoint: %v, want a timeout", got.result)
	}

	read := func() (EndpointCounters, NodeCounters) {
		t.Helper()
		eps, err := l.EndpointCounters(vpcC)
		if err != nil {
			t.Fatal(err)
		}
		nc, ok, err := l.NodeCounters(nodeP)
		if err != nil || !ok {
			t.Fatalf("node counters: %v, %v", ok, err)
		}
		return eps[endpointC], nc
	}
	// nft(8) must be able to read every table the lab makes.
	for _, name := range []string{l.RouterNamespace(vpcC), ns(nodeP)} {
		run(t, "", "ip", "netns", "exec", name, "nft", "list", "ruleset")
	}
	ec, nc := read()
	t.Logf("endpoint %+v, node %+v", ec, nc)
	if ec.NewConnections != 1 || ec.ActiveConnections != 1 {
		t.Errorf("new %d active %d, want 1 and 1", ec.NewConnections, ec.ActiveConnections)
	}
	if ec.PacketsDropped() < 1 {
		t.Errorf("dropped %d, want c2's SYNs", ec.PacketsDropped())
	}
	// Both directions carried the payload, plus headers and the greeting.
	if ec.BytesIn < uint64(len(payload)) || ec.BytesOut < uint64(len(payload)) {
		t.Errorf("bytes in %d out %d, want at least %d each", ec.BytesIn, ec.BytesOut, len(payload))
	}
	if nc.NewFlows != 1 || nc.ActiveFlows != 1 || nc.Bytes < ec.BytesIn {
		t.Errorf("node %+v, want one new and active flow and the endpoint's bytes", nc)
	}

	// A security group change replaces the firewall table; the counters
	// live elsewhere and carry on.
	spec := transitSpec(transitTargets)
	g := spec.VPCs[1].Firewall.Groups["sg-endpoint"]
	g.Ingress = append(g.Ingress, Rule{Protocol: "tcp", FromPort: 80, ToPort: 80, Sources: pfx("10.0.1.11")})
	spec.VPCs[1].Firewall.Groups["sg-endpoint"] = g
	apply(t, l, spec)
	if got := dial(t, ns(c2), "", ep80.String()); got.result != ok {
		t.Fatalf("c2 → endpoint after admitting it: %v", got.result)
	}
	held.Close()
	time.Sleep(100 * time.Millisecond) // the FIN exchange ends the held flow
	after, _ := read()
	t.Logf("endpoint after %+v", after)
	if after.NewConnections != 2 || after.BytesIn <= ec.BytesIn || after.Attempts < ec.Attempts {
		t.Errorf("after the firewall change: %+v, want the earlier counts plus c2's flow", after)
	}
	if after.ResetsReceived != 0 || after.ActiveConnections != 0 {
		t.Errorf("resets %d active %d, want 0 and 0 after both flows closed", after.ResetsReceived, after.ActiveConnections)
	}
}
