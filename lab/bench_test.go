package lab

import (
	"fmt"
	"net/netip"
	"testing"
)

// bigFirewall is a VPC with n instances spread over groups of 20, each
// group with rules that reference other groups (expanded to members) and
// CIDRs.
func bigFirewall(n int) Firewall {
	fw := Firewall{Groups: map[string]Group{}}
	members := map[string][]netip.Prefix{}
	groupOf := func(i int) string { return fmt.Sprintf("sg-%017x", i/20) }
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, 0, byte(1 + i/250), byte(1 + i%250)})
		g := groupOf(i)
		members[g] = append(members[g], netip.PrefixFrom(a, 32))
		fw.Interfaces = append(fw.Interfaces, Interface{Addr: a, Kind: KindInstance, Groups: []string{g}})
	}
	for g := range members {
		var grp Group
		for j, other := range []string{g, groupOf(0)} {
			grp.Ingress = append(grp.Ingress,
				Rule{Protocol: "tcp", FromPort: uint16(80 + j), ToPort: uint16(80 + j), Sources: members[other]},
				Rule{Protocol: "tcp", FromPort: 8000, ToPort: 8999, Sources: pfx("10.0.0.0/16")},
				Rule{Protocol: "udp", FromPort: 53, ToPort: 53, Sources: pfx("10.0.0.0/16", "192.168.0.0/24")},
			)
		}
		grp.Egress = []Rule{{Protocol: "all", Sources: pfx("0.0.0.0/0")}}
		fw.Groups[g] = grp
	}
	return fw
}

func BenchmarkCompileFirewall(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			fw := bigFirewall(n)
			for b.Loop() {
				rs, _ := compileFirewall(fw, addrs("10.0.1.1"))
				_ = rs.String()
			}
		})
	}
}
