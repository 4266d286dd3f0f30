package lab

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestPoolKeepsValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fabric.json")
	p := newVPCNumbers(path)
	got, err := p.assign([]string{"vpc-b", "vpc-a"})
	if err != nil {
		t.Fatal(err)
	}
	if got["vpc-a"] != 1 || got["vpc-b"] != 2 {
		t.Fatalf("first assignment = %v, want vpc-a 1 and vpc-b 2 (sorted, lowest first)", got)
	}
	// vpc-a leaves; vpc-c takes the lowest free number, vpc-b keeps its own.
	if got, err = p.assign([]string{"vpc-b", "vpc-c"}); err != nil {
		t.Fatal(err)
	}
	if got["vpc-b"] != 2 || got["vpc-c"] != 1 || len(got) != 2 {
		t.Fatalf("after vpc-a left: %v, want vpc-b 2, vpc-c 1", got)
	}
	// A restart reads the file.
	if got, err = newVPCNumbers(path).assign([]string{"vpc-b", "vpc-c", "vpc-d"}); err != nil {
		t.Fatal(err)
	}
	if got["vpc-b"] != 2 || got["vpc-c"] != 1 || got["vpc-d"] != 3 {
		t.Fatalf("after a restart: %v, want vpc-b 2, vpc-c 1, vpc-d 3", got)
	}
}

func TestPoolSkipsUnusable(t *testing.T) {
	dir := t.TempDir()
	// A file naming a kernel table and a taken number: both are replaced.
	path := filepath.Join(dir, "fabric.json")
	if err := os.WriteFile(path, []byte(`{"vpc-a":254,"vpc-b":7,"vpc-c":7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newVPCNumbers(path)
	got, err := p.assign([]string{"vpc-a", "vpc-b", "vpc-c"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for id, n := range got {
		if !usableVPCNumber(n) || seen[n] {
			t.Errorf("%s got %d: unusable or taken twice (%v)", id, n, got)
		}
		seen[n] = true
	}

	// Past 252 come 256 and on: the kernel's tables are never handed out.
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = fmt.Sprintf("vpc-%d", i)
	}
	got, err = newVPCNumbers(filepath.Join(dir, "many.json")).assign(ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range got {
		if n >= firstKernelTable && n <= lastKernelTable {
			t.Errorf("%s got kernel table %d", id, n)
		}
	}

	// A damaged file costs new values, not an error.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newVPCNumbers(path).assign([]string{"vpc-a"}); err != nil {
		t.Fatalf("damaged file: %v", err)
	}
}

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

func TestPoolReserveKeepsOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fabric.json")
	if _, err := newVPCNumbers(path).assign([]string{"vpc-a", "vpc-c"}); err != nil {
		t.Fatal(err)
	}
	// After a restart, before any assign: the file's IDs stay.
	p := newVPCNumbers(path)
	got, err := p.reserve("vpc-b")
	if err != nil {
		t.Fatal(err)
	}
	if got["vpc-a"] != 1 || got["vpc-c"] != 2 || got["vpc-b"] != 3 {
		t.Fatalf("reserve = %v, want vpc-a 1, vpc-c 2 kept and vpc-b 3", got)
	}
	if again, err := p.reserve("vpc-b"); err != nil || again["vpc-b"] != 3 || len(again) != 3 {
		t.Fatalf("reserve again = %v, %v; want the same three", again, err)
	}
	if got, err = p.assign([]string{"vpc-b"}); err != nil || got["vpc-b"] != 3 || len(got) != 1 {
		t.Fatalf("assign after reserve = %v, %v; want vpc-b 3 alone", got, err)
	}
}
