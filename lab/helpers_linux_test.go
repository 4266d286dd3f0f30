package lab

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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

// forEachFabric runs test against each fabric, as a subtest named by it:
// what a user sees of the lab must not depend on how it is built.
func forEachFabric(t *testing.T, test func(t *testing.T, fabric Fabric)) {
	requireRoot(t)
	for _, fabric := range []Fabric{FabricRouters, FabricShared} {
		t.Run(string(fabric), func(t *testing.T) { test(t, fabric) })
	}
}

// newTestLab returns a Lab of router namespaces whose objects carry the
// prefix name and this process's pid, and removes them when the test ends.
func newTestLab(t *testing.T, name string) *Lab {
	t.Helper()
	l, _ := newFabricLab(t, name, FabricRouters)
	return l
}

// newFabricLab is newTestLab for either fabric, and returns the Lab's
// configuration too.
func newFabricLab(t *testing.T, name string, fabric Fabric) (*Lab, Config) {
	t.Helper()
	cfg := Config{
		Prefix:   fmt.Sprintf("%s%d", name, os.Getpid()),
		StateDir: filepath.Join(t.TempDir(), "lab"),
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Fabric:   fabric,
	}
	t.Cleanup(func() {
		if err := Clean(cfg.Prefix); err != nil {
			t.Error(err)
		}
	})
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, cfg
}

// checkFlows dials every case as a parallel subtest (each waits for its
// own timeout) and checks how it went and what the server said.
func checkFlows(t *testing.T, cases []flow) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := dial(t, c.from, c.src, c.to)
			t.Logf("%s → %s: %v %q", c.from, c.to, got.result, got.banner)
			if !c.matches(got.result) || (c.banner != "" && got.banner != c.banner) {
				t.Errorf("%s → %s: got %v %q, want %v %q\n%s", c.from, c.to, got.result, got.banner, c.want, c.banner, got.output)
			}
		})
	}
}

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
