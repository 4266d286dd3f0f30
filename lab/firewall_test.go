package lab

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func pfx(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		if !strings.Contains(s, "/") {
			s += "/32"
		}
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func addrs(ss ...string) []netip.Addr {
	var as []netip.Addr
	for _, s := range ss {
		as = append(as, netip.MustParseAddr(s))
	}
	return as
}

// testFirewall is a VPC with web servers, clients, a client whose egress is
// narrowed, an instance in two groups, an interface endpoint and a load
// balancer node.
func testFirewall() Firewall {
	return Firewall{
		Groups: map[string]Group{
			"sg-web": {
				Ingress: []Rule{
					{Protocol: "tcp", FromPort: 80, ToPort: 80, Sources: pfx("10.0.1.11", "10.0.2.10")}, // group reference, expanded
					{Protocol: "tcp", FromPort: 7000, ToPort: 7999, Sources: pfx("10.0.0.0/16")},
					{Protocol: "tcp", FromPort: 9000, ToPort: 9000, Sources: pfx("10.0.2.200")},
					{Protocol: "icmp", FromPort: 0, ToPort: 65535, Sources: pfx("0.0.0.0/0")},
				},
				Egress: []Rule{{Protocol: "-1", Sources: pfx("0.0.0.0/0")}},
			},
			"sg-client": {
				Egress: []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}},
			},
			"sg-narrow": {
				Egress: []Rule{
					{Protocol: "tcp", FromPort: 8080, ToPort: 8080, Sources: pfx("10.0.0.0/16")},
					{Protocol: "udp", FromPort: 0, ToPort: 65535, Sources: pfx("10.0.1.0/25", "10.0.1.128/25", "10.0.3.0/24")},
					{Protocol: "47", Sources: pfx("10.0.9.9")},
					{Protocol: "tcp", FromPort: 22, ToPort: 22}, // references an empty group: admits nothing
				},
			},
			"sg-endpoint": {
				Ingress: []Rule{{Protocol: "tcp", FromPort: 443, ToPort: 443, Sources: pfx("10.0.1.11", "10.0.1.12", "10.0.1.13")}},
			},
			"sg-unused": {
				Ingress: []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}},
			},
		},
		Interfaces: []Interface{
			{Addr: netip.MustParseAddr("10.0.1.10"), Kind: KindInstance, Groups: []string{"sg-web"}},
			{Addr: netip.MustParseAddr("10.0.1.11"), Kind: KindInstance, Groups: []string{"sg-client"}},
			{Addr: netip.MustParseAddr("10.0.2.10"), Kind: KindInstance, Groups: []string{"sg-client"}},
			{Addr: netip.MustParseAddr("10.0.1.12"), Kind: KindInstance, Groups: []string{"sg-narrow"}},
			{Addr: netip.MustParseAddr("10.0.1.13"), Kind: KindInstance, Groups: []string{"sg-web", "sg-client", "sg-web"}},
			{Addr: netip.MustParseAddr("10.0.1.100"), Kind: KindEndpoint, Groups: []string{"sg-endpoint"}},
			{Addr: netip.MustParseAddr("10.0.2.200"), Kind: KindLoadBalancer},
			{Addr: netip.MustParseAddr("10.0.1.14"), Kind: KindInstance}, // no group: nothing admits it
		},
	}
}

func TestCompileFirewall(t *testing.T) {
	tests := []struct {
		name    string
		fw      Firewall
		router  []netip.Addr
		wantErr []string // substrings, one per expected problem
	}{
		{name: "empty", router: addrs("10.0.1.1", "10.0.0.2")},
		{name: "vpc", fw: testFirewall(), router: addrs("10.0.1.1", "10.0.2.1", "10.0.0.2")},
		{
			name: "problems",
			fw: Firewall{
				Groups: map[string]Group{
					"sg-a": {Ingress: []Rule{
						{Protocol: "sctp-ish", Sources: pfx("10.0.0.0/8")},
						{Protocol: "tcp", FromPort: 90, ToPort: 80, Sources: pfx("10.0.0.0/8")},
						{Protocol: "udp", FromPort: 53, ToPort: 53, Sources: pfx("10.0.0.0/8")},
					}},
				},
				Interfaces: []Interface{
					{Addr: netip.MustParseAddr("10.0.1.10"), Kind: KindInstance, Groups: []string{"sg-a", "bogus group"}},
					{Addr: netip.MustParseAddr("10.0.1.10"), Kind: KindEndpoint, Groups: []string{"sg-a"}},
					{Addr: netip.MustParseAddr("fd00::1"), Kind: KindInstance, Groups: []string{"sg-a"}},
				},
			},
			wantErr: []string{
				`unknown protocol "sctp-ish"`,
				"port range 90-80 is reversed",
				`invalid security group ID "bogus group"`,
				"10.0.1.10 appears twice",
				"fd00::1: only IPv4",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := compileFirewall(tt.fw, tt.router)
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want it to mention %q", err, want)
				}
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			golden(t, filepath.Join("testdata", tt.name+".nft"), rs.String())
		})
	}
}

// TestFabricRuleset checks the shared fabric's table: every set, chain and
// reference of a VPC carries its number, every reference resolves, and the
// base chains send each VPC's mark to that VPC's chains only.
func TestFabricRuleset(t *testing.T) {
	a, _ := compileFirewall(testFirewall(), addrs("10.0.1.1", "10.0.2.1", "10.0.0.2"))
	b, _ := compileFirewall(Firewall{}, addrs("10.0.1.1"))
	rs := fabricRuleset([]vpcRuleset{{number: 7, id: "vpc-b", rs: b}, {number: 3, id: "vpc-a", rs: a}})
	golden(t, filepath.Join("testdata", "fabric.nft"), rs.String())

	hooks := []string{"prerouting", "forward", "input", "output", "postrouting"}
	sets, chains := map[string]bool{}, map[string]bool{}
	for _, s := range rs.sets {
		sets[s.name] = true
	}
	for _, ch := range rs.chains {
		chains[ch.name] = true
	}
	scoped := func(name string) bool { return strings.HasPrefix(name, "v3-") || strings.HasPrefix(name, "v7-") }
	for _, s := range rs.sets {
		if s.byMark {
			if len(s.elems) != 2 || s.elems[0].mark != 3 || s.elems[1].mark != 7 {
				t.Errorf("map %s: %+v, want marks 3 and 7", s.name, s.elems)
			}
			for _, e := range s.elems {
				// After source NAT, an endpoint flow's target judges it.
				chain := strings.TrimPrefix(s.name, "vpc-")
				if chain == "postrouting" {
					chain = chainAdmitIn
				}
				if want := fmt.Sprintf("v%d-%s", e.mark, chain); e.verdict.chain != want || e.verdict.kind != vGoto {
					t.Errorf("map %s sends mark %d to %v, want goto %s", s.name, e.mark, e.verdict, want)
				}
			}
			continue
		}
		if !scoped(s.name) {
			t.Errorf("set %s carries no VPC number", s.name)
		}
		for _, e := range s.elems {
			if e.verdict.chain != "" && (!chains[e.verdict.chain] || e.verdict.chain[:3] != s.name[:3]) {
				t.Errorf("map %s sends %v to chain %s of another VPC or none", s.name, e.addr, e.verdict.chain)
			}
		}
	}
	for _, ch := range rs.chains {
		if slices.Contains(hooks, ch.name) {
			if ch.hook != ch.name {
				t.Errorf("base chain %s has hook %q", ch.name, ch.hook)
			}
			continue
		}
		if ch.hook != "" || !scoped(ch.name) {
			t.Errorf("chain %s (hook %q): want a regular chain named by its VPC", ch.name, ch.hook)
		}
		own := ch.name[:3]
		for _, r := range ch.rules {
			for _, ref := range []string{r.src.set, r.dst.set} {
				if ref != "" && (!sets[ref] || ref[:3] != own) {
					t.Errorf("chain %s: rule %q names set %s of another VPC or none", ch.name, r, ref)
				}
			}
			if r.vmap != nil && (!sets[r.vmap.name] || r.vmap.name[:3] != own) {
				t.Errorf("chain %s: rule %q names map %s of another VPC or none", ch.name, r, r.vmap.name)
			}
			if c := r.verdict.chain; c != "" && (!chains[c] || c[:3] != own) {
				t.Errorf("chain %s: rule %q goes to chain %s of another VPC or none", ch.name, r, c)
			}
			if r.logDrop != "" {
				id := map[string]string{"v3-": "vpc-a", "v7-": "vpc-b"}[own]
				if !strings.HasPrefix(r.logDrop, DropLogPrefix) || !strings.HasSuffix(r.logDrop, " "+id+" ") {
					t.Errorf("chain %s logs %q, want the VPC ID %s after the chain", ch.name, r.logDrop, id)
				}
			}
		}
	}
}

// TestCompileDeterministic guards the change detection of Apply, which
// compares compiled text: the same firewall must compile to the same text
// whatever the order of its maps and lists.
func TestCompileDeterministic(t *testing.T) {
	fw := testFirewall()
	want, _ := compileFirewall(fw, addrs("10.0.1.1"))
	for i := range 20 {
		shuffled := testFirewall()
		ifs := shuffled.Interfaces
		for j := range ifs {
			k := (j*7 + i) % len(ifs)
			ifs[j], ifs[k] = ifs[k], ifs[j]
		}
		got, _ := compileFirewall(shuffled, addrs("10.0.1.1"))
		if got.String() != want.String() {
			t.Fatalf("compilation depends on input order:\n%s\nvs\n%s", got, want)
		}
	}
}

func TestMergeRanges(t *testing.T) {
	r := func(a, b string) addrRange { return addrRange{netip.MustParseAddr(a), netip.MustParseAddr(b)} }
	tests := []struct {
		name string
		in   []netip.Prefix
		want string
	}{
		{"none", nil, ""},
		{"one host", pfx("10.0.1.5"), "10.0.1.5"},
		{"adjacent halves make a prefix", pfx("10.0.1.128/25", "10.0.1.0/25"), "10.0.1.0/24"},
		{"contained", pfx("10.0.0.0/16", "10.0.1.5", "10.0.200.0/24"), "10.0.0.0/16"},
		{"gap", pfx("10.0.1.1", "10.0.1.3"), "10.0.1.1 10.0.1.3"},
		{"range that is no prefix", pfx("10.0.1.1", "10.0.1.2"), "10.0.1.1-10.0.1.2"},
		{"everything", pfx("0.0.0.0/0", "10.0.0.0/8"), "0.0.0.0/0"},
		{"top of the space", pfx("255.255.255.255", "255.255.255.254"), "255.255.255.254/31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []addrRange
			for _, p := range tt.in {
				in = append(in, r(p.Masked().Addr().String(), lastAddr(p).String()))
			}
			var got []string
			for _, m := range mergeRanges(in) {
				got = append(got, m.String())
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("merge %v = %q, want %q", tt.in, s, tt.want)
			}
		})
	}
}

func TestPrefixFor(t *testing.T) {
	a, b := PrefixFor("/var/lib/privlink"), PrefixFor("/var/lib/privlink2")
	if len(a) != 8 || !strings.HasPrefix(a, "pl") {
		t.Errorf("PrefixFor = %q, want pl and 6 hex digits", a)
	}
	if a == b {
		t.Errorf("different data directories share prefix %q", a)
	}
	if c := PrefixFor("/var/lib/../lib/privlink"); c != a {
		t.Errorf("the same directory spelled differently got %q and %q", c, a)
	}
}

func TestVethName(t *testing.T) {
	tests := []struct{ id, want string }{
		{"i-0123456789abcdef0", "v3456789abcdef0"},
		{"i-12345678", "v12345678"},
	}
	for _, tt := range tests {
		if got := vethName(tt.id); got != tt.want || len(got) > 15 {
			t.Errorf("vethName(%s) = %q, want %q (at most 15 bytes)", tt.id, got, tt.want)
		}
	}
}

// golden compares got with a file under testdata, or rewrites the file
// with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
