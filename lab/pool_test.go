package lab

import (
	"net/netip"
	"path/filepath"
	"testing"
)

func TestPoolRunsOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "transit.json")
	p := newTransitAddrs(path)
	p.next = func(a netip.Addr) (netip.Addr, bool) { // a pool of two addresses
		a = a.Next()
		return a, a.Compare(netip.MustParseAddr("169.254.0.2")) <= 0
	}
	got, err := p.assign([]string{"vpc-a", "vpc-b"})
	if err != nil || got["vpc-a"] != netip.MustParseAddr("169.254.0.1") || got["vpc-b"] != netip.MustParseAddr("169.254.0.2") {
		t.Fatalf("assign = %v, %v", got, err)
	}
	if _, err := p.assign([]string{"vpc-a", "vpc-b", "vpc-c"}); err == nil {
		t.Fatal("a third ID got an address from a pool of two")
	}
}
