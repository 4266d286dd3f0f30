package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/privlink/privlink/netns"
)

func requireRootB(b *testing.B) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Fatal("this benchmark needs root (network namespaces, nftables)")
	}
}

// BenchmarkInstallFirewall measures replacing a router's whole table.
func BenchmarkInstallFirewall(b *testing.B) {
	requireRootB(b)
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			rs, err := compileFirewall(bigFirewall(n), addrs("10.0.1.1"))
			if err != nil {
				b.Fatal(err)
			}
			name := fmt.Sprintf("plt-lab%d-bench", os.Getpid())
			conn, err := openNS(name)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				conn.close()
				_ = netns.Delete(name)
			})
			for b.Loop() {
				if err := rs.install(conn.fd()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkApplyUnchanged measures the Apply that a periodic resync makes
// when nothing changed.
func BenchmarkApplyUnchanged(b *testing.B) {
	requireRootB(b)
	cfg := Config{Prefix: fmt.Sprintf("plt-lab%db", os.Getpid()), StateDir: filepath.Join(b.TempDir(), "lab")}
	b.Cleanup(func() { _ = Clean(cfg.Prefix) })
	l, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	spec := labSpec(b.TempDir(), true)
	for i := range spec.VPCs {
		for j := range spec.VPCs[i].Instances {
			spec.VPCs[i].Instances[j].UserData = nil
		}
	}
	if st := l.Apply(context.Background(), spec); len(st.Errors) > 0 {
		b.Fatal(st.Errors)
	}
	for b.Loop() {
		if st := l.Apply(context.Background(), spec); len(st.Errors) > 0 {
			b.Fatal(st.Errors)
		}
	}
}
