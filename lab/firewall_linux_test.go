package lab

import (
	"net/netip"
	"testing"
)

// TestInstallMatchesText checks the two renderings of a ruleset against
// each other: the table installed through the nftables library must be
// the table nft(8) makes from the text form, as nft itself lists them.
func TestInstallMatchesText(t *testing.T) {
	requireRoot(t)
	compile := func(fw Firewall) *ruleset {
		rs, err := compileFirewall(fw, addrs("10.0.1.1", "10.0.2.1", "10.0.0.2"))
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	tests := []struct {
		name string
		rs   *ruleset
	}{
		{"empty", compile(Firewall{})},
		{"vpc", compile(testFirewall())},
		// The shared fabric's: maps by mark, every name scoped.
		{"fabric", fabricRuleset([]vpcRuleset{
			{number: 7, id: "vpc-b", rs: compile(Firewall{})},
			{number: 3, id: "vpc-a", rs: compile(testFirewall())},
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.rs
			lib := testNS(t, testPrefix(t)+"-fwlib")
			txt := testNS(t, testPrefix(t)+"-fwtext")
			// Twice: the second install replaces the first in place.
			for range 2 {
				if err := rs.install(int(lib.Handle())); err != nil {
					t.Fatal(err)
				}
			}
			run(t, rs.String(), "ip", "netns", "exec", txt.Name(), "nft", "-f", "-")
			got := run(t, "", "ip", "netns", "exec", lib.Name(), "nft", "list", "table", "inet", tableName)
			want := run(t, "", "ip", "netns", "exec", txt.Name(), "nft", "list", "table", "inet", tableName)
			if got != want {
				t.Errorf("library-built table differs from nft's reading of the text\n--- library\n%s\n--- nft -f\n%s", got, want)
			}
			if ok, err := tableExists(int(lib.Handle())); !ok || err != nil {
				t.Errorf("tableExists = %v, %v; want true", ok, err)
			}
		})
	}
}

func TestIntervalElements(t *testing.T) {
	r := func(a, b string) addrRange { return addrRange{netip.MustParseAddr(a), netip.MustParseAddr(b)} }
	tests := []struct {
		name   string
		ranges []addrRange
		want   []string // key, "]" marks an interval end
	}{
		{"one prefix", []addrRange{r("10.0.0.0", "10.0.255.255")}, []string{"0.0.0.0]", "10.0.0.0", "10.1.0.0]"}},
		{"from zero", []addrRange{r("0.0.0.0", "0.255.255.255")}, []string{"0.0.0.0", "1.0.0.0]"}},
		{"to the top", []addrRange{r("255.0.0.0", "255.255.255.255")}, []string{"0.0.0.0]", "255.0.0.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range intervalElements(tt.ranges) {
				a, _ := netip.AddrFromSlice(e.Key)
				s := a.String()
				if e.IntervalEnd {
					s += "]"
				}
				got = append(got, s)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("elements %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("elements %v, want %v", got, tt.want)
				}
			}
		})
	}
}
