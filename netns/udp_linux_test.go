package netns

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestListenUDPInNamespace binds a UDP socket to an address the namespace
// does not have yet, adds the address, and exchanges a datagram with a
// socket of the same namespace; a second bind of the address fails.
func TestListenUDPInNamespace(t *testing.T) {
	requireRoot(t)
	name := fmt.Sprintf("plt%d-netns-udp", os.Getpid())
	ns, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close(); _ = Delete(name) })
	addr := netip.MustParseAddrPort("10.9.9.2:53")
	pc, err := ns.ListenUDP(addr) // before the address exists: IP_FREEBIND
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := ns.ListenUDP(addr); err == nil {
		t.Error("a second socket bound the same address")
	}
	for _, args := range [][]string{{"link", "set", "lo", "up"}, {"addr", "add", "10.9.9.2/32", "dev", "lo"}} {
		if out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	client, err := ns.ListenUDP(netip.MustParseAddrPort("10.9.9.2:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.WriteToUDPAddrPort([]byte("ping"), addr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if err := pc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, from, err := pc.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "ping" || from != client.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("read %q from %v: %v", buf[:n], from, err)
	}
}

// TestMounted tells a live handle from one whose name was deleted or
// given to a new namespace.
func TestMounted(t *testing.T) {
	requireRoot(t)
	name := fmt.Sprintf("plt%d-netns-mnt", os.Getpid())
	ns, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close(); _ = Delete(name) })
	if !ns.Mounted() {
		t.Fatal("a new namespace is not mounted")
	}
	if err := Delete(name); err != nil {
		t.Fatal(err)
	}
	if ns.Mounted() {
		t.Error("a deleted namespace is mounted")
	}
	again, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if ns.Mounted() {
		t.Error("the old handle is mounted after its name was made again")
	}
	if !again.Mounted() {
		t.Error("the new handle is not mounted")
	}
}
