package lab

import (
	"net/netip"
	"testing"
)

// Security groups reach the kernel in three steps: reconcile turns core's
// groups into a Firewall (reconcile/desired.go), compileFirewall turns that
// into a ruleset, and install encodes the ruleset as nftables expressions
// and sends it in one netlink batch. The benchmarks here time the pure
// middle step, without root; sg_bench_linux_test.go times the expression
// encoding, and BenchmarkInstallFirewall (root) the whole install.

// sgSizes are the firewalls the security-group benchmarks compile: n
// instances spread over groups of 20 (bigFirewall), or n rules in one group
// carried by 10 instances (manyRules).
var sgSizes = []struct {
	name string
	fw   func() Firewall
}{
	{"instances=10", func() Firewall { return bigFirewall(10) }},
	{"instances=100", func() Firewall { return bigFirewall(100) }},
	{"instances=1000", func() Firewall { return bigFirewall(1000) }},
	{"rules=10", func() Firewall { return manyRules(10) }},
	{"rules=100", func() Firewall { return manyRules(100) }},
	{"rules=1000", func() Firewall { return manyRules(1000) }},
}

// manyRules is one group with n ingress rules on 10 instances: every third
// rule names a single CIDR, every third two CIDRs (a named set), every third
// the group's own members, as a rule naming a group does once expanded.
func manyRules(n int) Firewall {
	const id = "sg-0123456789abcdef0"
	var members []netip.Prefix
	fw := Firewall{Groups: map[string]Group{}}
	for i := range 10 {
		a := netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + i)})
		members = append(members, netip.PrefixFrom(a, 32))
		fw.Interfaces = append(fw.Interfaces, Interface{Addr: a, Kind: KindInstance, Groups: []string{id}})
	}
	var g Group
	for i := range n {
		port := uint16(1000 + i)
		cidr := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i%16), byte(i / 16), 0}), 24)
		r := Rule{Protocol: "tcp", FromPort: port, ToPort: port}
		switch i % 3 {
		case 0:
			r.Sources = []netip.Prefix{cidr}
		case 1:
			r.Protocol = "udp"
			r.Sources = []netip.Prefix{cidr, netip.MustParsePrefix("192.168.0.0/24")}
		case 2:
			r.Sources = members
		}
		g.Ingress = append(g.Ingress, r)
	}
	g.Egress = []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}}
	fw.Groups[id] = g
	return fw
}

// BenchmarkCompileSecurityGroups times compileFirewall alone: what a
// reconcile pass pays per VPC before any netlink message.
func BenchmarkCompileSecurityGroups(b *testing.B) {
	router := addrs("10.0.0.1", "10.0.0.2")
	for _, size := range sgSizes {
		b.Run(size.name, func(b *testing.B) {
			fw := size.fw()
			if _, err := compileFirewall(fw, router); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := compileFirewall(fw, router); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderRuleset times the nft(8) text of a compiled ruleset, which
// tests and people read; the install path does not use it.
func BenchmarkRenderRuleset(b *testing.B) {
	for _, size := range sgSizes {
		b.Run(size.name, func(b *testing.B) {
			rs, err := compileFirewall(size.fw(), addrs("10.0.0.1"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				b.SetBytes(int64(len(rs.String())))
			}
		})
	}
}
