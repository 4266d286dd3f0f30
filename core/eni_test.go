package core

import (
	"net/netip"
	"testing"
)

func TestAddressAllocationSkipsReserved(t *testing.T) {
	p := netip.MustParsePrefix("10.0.1.0/28")
	used := map[netip.Addr]bool{}
	var got []string
	for {
		ip, err := firstFree(p, used)
		if err != nil {
			if !IsKind(err, KindLimit) {
				t.Fatalf("exhaustion error kind: %v", err)
			}
			break
		}
		used[ip] = true
		got = append(got, ip.String())
	}
	// A /28 has 16 addresses: .0–.3 and .15 are reserved, leaving 11.
	if len(got) != 11 || got[0] != "10.0.1.4" || got[10] != "10.0.1.14" {
		t.Fatalf("allocated %v", got)
	}
	if n := subnetUsableCount(p); n != 11 {
		t.Fatalf("usable count %d, want 11", n)
	}
	for _, ip := range []string{"10.0.1.0", "10.0.1.3", "10.0.1.15", "10.0.2.4"} {
		if usableAddress(p, netip.MustParseAddr(ip)) {
			t.Errorf("%s reported usable", ip)
		}
	}
	if got := NthAddress(netip.MustParsePrefix("10.0.0.0/16"), 2); got.String() != "10.0.0.2" {
		t.Errorf("resolver address %s", got)
	}
}
