package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/privlink/privlink/netns"
)

// requireRoot fails (not skips) without root: CI runs as root, and a lab
// test that skips there would pass without testing anything.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (network namespaces, nftables)")
	}
}

// testPrefix is the prefix of every lab object a test makes; parallel test
// processes (and other helpers) use other pids and so other names.
func testPrefix(t *testing.T) string { return fmt.Sprintf("plt-lab%d", os.Getpid()) }

// testNS creates a bare namespace that the test removes.
func testNS(t *testing.T, name string) *netns.NS {
	t.Helper()
	ns, err := netns.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := netns.Delete(name); err != nil {
			t.Error(err)
		}
	})
	return ns
}

// run runs a command and returns its combined output, failing the test if
// it fails.
func run(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
