package reconcile

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/netns"
)

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
	for _, fabric := range fabrics {
		t.Run(string(fabric), func(t *testing.T) { testVPCResolversFollowTheLab(t, fabric) })
	}
}

func testVPCResolversFollowTheLab(t *testing.T, fabric lab.Fabric) {
	w := newWorld(t, worldConfig{fabric: fabric, dns: true})
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

	// Someone removes the router namespace (the fabric, if shared): the
	// lab builds it again on its next check, and the resolver listens in
	// the new one.
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

// TestVPCResolversApart checks that VPCs of the same CIDR each get their
// own resolver at the same address: one VPC's DNS attributes do not leak
// into the other's answers, in either fabric (where the shared one puts
// both resolvers in one namespace).
func TestVPCResolversApart(t *testing.T) {
	for _, fabric := range fabrics {
		t.Run(string(fabric), func(t *testing.T) {
			w := newWorld(t, worldConfig{fabric: fabric, dns: true})
			me := core.Caller{AccountID: core.BootstrapAccountID, Admin: true}
			vpcA, subA := w.network(me, "10.41.0.0/16", "10.41.1.0/24")
			_, subB := w.network(me, "10.41.0.0/16", "10.41.1.0/24")
			a := w.instance(me, subA.ID, "", "")
			b := w.instance(me, subB.ID, "", "")
			w.must(w.cloud.ModifyVpcAttribute(w.ctx, me, core.ModifyVpcAttributeInput{VpcID: vpcA.ID, EnableDNSHostnames: new(true)}))
			nameA := core.PrivateDNSName("us-east-1", a.PrivateIP)
			for _, c := range []struct {
				from, want string
			}{
				{a.ID, "NOERROR " + a.PrivateIP.String()},
				{b.ID, "NXDOMAIN"},
			} {
				var got string
				w.eventually(fmt.Sprintf("%s asks for %s → %q", c.from, nameA, c.want), func() bool {
					got = w.dig(c.from, nameA)
					return got == c.want
				})
			}
		})
	}
}
