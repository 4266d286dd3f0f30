package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/dataplane"
	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/netns"
	"github.com/privlink/privlink/resolver"
	"github.com/privlink/privlink/store/memstore"
)

// newDNSWorld is newWorld with the resolvers enabled, as `privlink server`
// wires them.
func newDNSWorld(t *testing.T) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root: it builds the lab in network namespaces")
	}
	log := slog.New(slog.DiscardHandler)
	prefix := fmt.Sprintf("pltdn%d", os.Getpid())
	_ = lab.Clean(prefix)
	cloud, err := core.New(memstore.New(), core.Config{Region: "us-east-1"}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	fabric, err := lab.New(lab.Config{Prefix: prefix, StateDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var rec *Reconciler
	plane := dataplane.New(dataplane.Options{Logger: log, OnHealth: func(ev dataplane.HealthEvent) { rec.HealthSink(ev) }})
	rec = New(cloud, fabric, plane, Config{Resync: 300 * time.Millisecond}, log)
	rec.EnableDNS(&resolver.Source{})
	var wg sync.WaitGroup
	wg.Go(func() { _ = rec.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		plane.Close()
		if err := lab.Clean(prefix); err != nil {
			t.Errorf("lab clean: %v", err)
		}
	})
	return &world{t: t, cloud: cloud, lab: fabric, ctx: ctx}
}

// dig asks the instance's resolver (its resolv.conf's) for a name and
// returns the status and the +short answer, or "no answer".
func (w *world) dig(instanceID, name string) string {
	out, _ := exec.Command("ip", "netns", "exec", w.lab.InstanceNamespace(instanceID),
		"dig", "+time=2", "+tries=1", "+noall", "+comments", "+answer", name).CombinedOutput()
	s := string(out)
	if strings.Contains(s, "timed out") || strings.Contains(s, "no servers could be reached") {
		return "no answer"
	}
	_, rest, ok := strings.Cut(s, "status: ")
	if !ok {
		return "unexpected: " + s
	}
	status, _, _ := strings.Cut(rest, ",")
	var addrs []string
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[3] == "A" {
			addrs = append(addrs, f[4])
		}
	}
	return strings.TrimSpace(status + " " + strings.Join(addrs, " "))
}

// TestVPCResolversFollowTheLab checks the VPC resolver's life beside the
// lab's: it answers from the instance's resolv.conf address, follows the
// VPC's DNS attributes, and listens again when its router namespace is
// removed behind the lab's back and rebuilt.
func TestVPCResolversFollowTheLab(t *testing.T) {
	w := newDNSWorld(t)
	me := core.Caller{AccountID: core.BootstrapAccountID, Admin: true}
	vpc, sub := w.network(me, "10.40.0.0/16", "10.40.1.0/24")
	inst := w.instance(me, sub.ID, "", "")
	name := core.PrivateDNSName("us-east-1", inst.PrivateIP)
	attr := func(in core.ModifyVpcAttributeInput) {
		in.VpcID = vpc.ID
		w.must(w.cloud.ModifyVpcAttribute(w.ctx, me, in))
	}
	expect := func(what, q, want string) {
		t.Helper()
		var got string
		w.eventually(fmt.Sprintf("%s: %s → %q", what, q, want), func() bool {
			got = w.dig(inst.ID, q)
			return got == want
		})
	}

	resolv, err := os.ReadFile("/etc/netns/" + w.lab.InstanceNamespace(inst.ID) + "/resolv.conf")
	if err != nil || string(resolv) != "nameserver 10.40.0.2\n" {
		t.Fatalf("resolv.conf %q, %v", resolv, err)
	}
	expect("a new VPC", "nothing.invalid", "NXDOMAIN")
	expect("without DNS hostnames", name, "NXDOMAIN")
	attr(core.ModifyVpcAttributeInput{EnableDNSHostnames: new(true)})
	expect("with DNS hostnames", name, "NOERROR "+inst.PrivateIP.String())

	// Someone removes the router namespace: the lab builds it again on
	// its next check, and the resolver listens in the new one.
	router := w.lab.RouterNamespace(vpc.ID)
	old, err := netns.Open(router)
	w.must(err)
	defer old.Close()
	w.must(netns.Delete(router))
	w.eventually("the router rebuilt, with the instance's veth", func() bool {
		out, err := exec.Command("ip", "-n", router, "-o", "link", "show", "type", "veth").Output()
		return err == nil && len(out) > 0
	})
	if old.Mounted() {
		t.Fatal("the router namespace was not replaced")
	}
	expect("after the router was rebuilt", name, "NOERROR "+inst.PrivateIP.String())

	attr(core.ModifyVpcAttributeInput{EnableDNSHostnames: new(false)})
	attr(core.ModifyVpcAttributeInput{EnableDNSSupport: new(false)})
	expect("without DNS support", name, "no answer")
	attr(core.ModifyVpcAttributeInput{EnableDNSSupport: new(true)})
	expect("with DNS support again", "nothing.invalid", "NXDOMAIN")
}
