package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"golang.org/x/sys/unix"

	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/netns"
)

// startMemServer starts privlink --store memory with a lab, on a free
// loopback port and a data dir named plm-memstore-…, and removes its lab
// when the test ends. The public resolver is off, so that the test does not
// depend on its default port being free.
func startMemServer(t *testing.T) *server {
	return startServerWith(t, "plm-memstore-", "--store", "memory", "--dns-listen", "")
}

// memEcho greets each client with its name and the client's address, and
// runs until it is killed.
const memEcho = "#!/bin/sh\nexec socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo %s $SOCAT_PEERADDR'\n"

// TestMemoryStoreRestart runs a lab on the memory store, then restarts the
// server on the same data dir: the state is gone, and so is everything the
// lab built for it — namespaces, their /etc/netns files, the instances'
// processes and files — because the first pass on the empty state removes
// what no VPC or instance names.
func TestMemoryStoreRestart(t *testing.T) {
	s := startMemServer(t)
	if !strings.Contains(s.log.String(), "store:         in memory (--store memory): state ends with the server") {
		t.Fatalf("the banner does not say the state is in memory:\n%s", s.log)
	}
	c := s.ec2(bootstrap)
	n := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	sg := createGroup(t, c, n.vpc, "echo-from-vpc", 22, 22, "10.0.0.0/16")
	target := runInstance(t, c, n.subnet, sg, fmt.Sprintf(memEcho, "M"))
	client := runInstance(t, c, n.subnet, "", "")
	targetID, clientID := *target.InstanceId, *client.InstanceId

	out, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{targetID}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Reservations[0].Instances[0].State.Name; got != "running" {
		t.Fatalf("instance %s is %s, want running", targetID, got)
	}
	// The target is reached from the client over the VPC, and answers.
	to := netip.AddrPortFrom(netip.MustParseAddr(*target.PrivateIpAddress), 22)
	greeting := memGreeting(t, lab.PrefixFor(s.dataDir)+"-"+clientID, to)
	if want := "M " + *client.PrivateIpAddress; greeting != want {
		t.Fatalf("the target greeted the client with %q, want %q", greeting, want)
	}
	if stdout, stderr, status := s.exec(bootstrap, targetID, "ip", "-4", "-o", "addr", "show", "eth0"); status != 0 ||
		!strings.Contains(stdout, *target.PrivateIpAddress+"/24") {
		t.Fatalf("privlink exec in the target: status %d, out %q, err %q", status, stdout, stderr)
	}

	// What the lab built for this run: the namespaces, the target's
	// processes (found by its namespace's inode), /etc/netns files and
	// the instances' state.
	prefix := lab.PrefixFor(s.dataDir)
	// The VPC's router is in the lab's shared fabric namespace (the
	// default, docs/fabric.md), which goes with the last VPC.
	namespaces := []string{prefix + "-fabric", prefix + "-" + targetID, prefix + "-" + clientID}
	have, err := netns.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range namespaces {
		if !slices.Contains(have, name) {
			t.Fatalf("namespace %s is missing while the server runs (have %q)", name, have)
		}
	}
	targetNS := memNamespace(t, filepath.Join(netns.Dir, prefix+"-"+targetID))
	if pids := memProcessesIn(t, targetNS); len(pids) == 0 {
		t.Fatalf("no process runs in the target's namespace: its user data did not start")
	}
	var files []string
	for _, name := range namespaces {
		if _, err := os.Stat(filepath.Join("/etc/netns", name)); err == nil {
			files = append(files, filepath.Join("/etc/netns", name))
		}
	}
	files = append(files, filepath.Join(s.dataDir, "lab", "instances", targetID))
	if _, err := os.Stat(files[len(files)-1]); err != nil {
		t.Fatalf("the target's user data files: %v", err)
	}

	t.Logf("before the restart: namespaces %q, files %q, target processes %v", namespaces, files, memProcessesIn(t, targetNS))

	// Stop and start again on the same data dir. The user data outlives
	// the server, as it does with etcd (so that a restart adopts it).
	s.stop(syscall.SIGTERM)
	if pids := memProcessesIn(t, targetNS); len(pids) == 0 {
		t.Fatalf("the target's user data died with the server; the test cannot show the restart removes it")
	}
	s.start()

	vpcs, err := c.DescribeVpcs(ctx(t), &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vpcs.Vpcs) != 0 {
		t.Fatalf("after a restart on the memory store DescribeVpcs returns %d VPCs (%s first), want none", len(vpcs.Vpcs), aws.ToString(vpcs.Vpcs[0].VpcId))
	}
	insts, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(insts.Reservations) != 0 {
		t.Fatalf("after a restart on the memory store DescribeInstances returns %d reservations, want none", len(insts.Reservations))
	}
	eventually(t, "the previous run's namespaces removed", func() bool {
		have, err := netns.List()
		if err != nil {
			t.Fatal(err)
		}
		return !slices.ContainsFunc(namespaces, func(name string) bool { return slices.Contains(have, name) })
	})
	eventually(t, "the previous run's processes ended", func() bool { return len(memProcessesIn(t, targetNS)) == 0 })
	for _, f := range files {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s is left from the previous run (stat: %v)", f, err)
		}
	}

	// The restarted lab builds as a fresh one does.
	n2 := createNetwork(t, c, "10.0.0.0/16", "10.0.1.0/24")
	again := runInstance(t, c, n2.subnet, "", "")
	if stdout, stderr, status := s.exec(bootstrap, *again.InstanceId, "ip", "-4", "-o", "addr", "show", "eth0"); status != 0 ||
		!strings.Contains(stdout, *again.PrivateIpAddress+"/24") {
		t.Fatalf("privlink exec in an instance after the restart: status %d, out %q, err %q", status, stdout, stderr)
	}

	// A second server on the data dir would fight over its lab.
	second := exec.CommandContext(ctx(t), bin, "server", "--listen", "127.0.0.1:0", "--data-dir", s.dataDir, "--store", "memory", "--dns-listen", "")
	if out, err := second.CombinedOutput(); err == nil || !strings.Contains(string(out), "is in use by another privlink server") {
		t.Fatalf("a second server on the data dir: %v: %s; want it refused", err, out)
	}
}

// TestMemoryStoreFlags checks that the memory store refuses an etcd
// cluster, saying so.
func TestMemoryStoreFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.CommandContext(ctx(t), bin, "server", "--listen", "127.0.0.1:0", "--data-dir", dir, "--store", "memory", "--etcd-endpoints", "x")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("privlink server --store memory --etcd-endpoints x: %v, want a failure: %s", err, out)
	}
	const want = "--store memory keeps state in this process and uses no etcd: drop --etcd-endpoints"
	if !strings.Contains(string(out), want) {
		t.Fatalf("privlink server --store memory --etcd-endpoints x says %q, want %q", out, want)
	}
}

// memGreeting dials to from the named namespace and returns the first line
// the server sends.
func memGreeting(t *testing.T, namespace string, to netip.AddrPort) string {
	t.Helper()
	n, err := netns.Open(namespace)
	if err != nil {
		t.Fatal(err)
	}
	// The handle keeps the namespace alive; close it before the restart.
	defer n.Close()
	conn, r, err := dialFrom(n, to)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", to, namespace, err)
	}
	defer conn.Close()
	line, _ := r.ReadString('\n')
	return strings.TrimSpace(line)
}

// nsID is a namespace's identity: the device and inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

func memNamespace(t *testing.T, path string) nsID {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return nsID{st.Dev, st.Ino}
}

// memProcessesIn returns the processes in the network namespace id.
func memProcessesIn(t *testing.T, id nsID) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(filepath.Join("/proc", e.Name(), "ns", "net"), &st) == nil && st.Dev == id.dev && st.Ino == id.ino {
			pids = append(pids, pid)
		}
	}
	return pids
}
