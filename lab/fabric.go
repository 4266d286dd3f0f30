package lab

import "net/netip"

// The shared fabric (Config.Fabric = FabricShared) gives each VPC a number
// that is its routing table, its conntrack zone and its packet mark in the
// fabric namespace. Load balancer nodes and endpoint interface addresses
// draw numbers from the same pool (a node's names its flows' path, an
// interface's the address its sockets listen on). Numbers are kept in
// <StateDir>/fabric.json, so that a restart finds each VPC's table where it
// left it.
//
//	fabric namespace <prefix>-fabric
//	  lo: every VPC's router and local addresses (/32s), so that the
//	      fabric may answer from them, and the service addresses where
//	      privlink's sockets listen for each VPC (its resolver's, its
//	      endpoint interfaces')
//	  table ip raw, chain prerouting (raw priority):
//	      meta mark set iifname map @marks   (instance veth → VPC number)
//	      endpoint flows: the consumer's zone one way (fabric_nat_linux.go)
//	      ct zone set iifname map @zones
//	    chain output (raw priority): ct zone set meta mark map @zone-of-mark,
//	      so the fabric's own answers (ICMP, resets) meet their flows
//	    chain route (mangle priority): an endpoint flow's packets take the
//	      mark of the table that routes them
//	  table arp privlink-fabric, chain input:
//	      meta mark set iifname map @marks   (proxy ARP looks up routes too)
//	  table inet privlink: every VPC's security groups (fabricRuleset)
//	  table ip privlink-nat: endpoint flows to targets; a VPC's resolver
//	      and endpoint interface addresses to their service addresses
//	  ip rules: fwmark N lookup N (one per VPC), then the local table
//	      (moved from the front), then main, which stays empty
//	  table N: local routes for the VPC's own addresses, a /32 route to
//	      each instance over its veth, a blackhole default
//
// A packet is routed in its VPC's table only, and a flow's state lives in
// its VPC's zone, so VPCs may share a CIDR. What arrives on no instance
// veth has no mark and finds no route. Load balancer nodes are instances
// here: endpoint flows do not cross them, but their health checks start
// there.

const (
	// maxVPCNumber bounds VPC numbers: a conntrack zone is 16 bits.
	maxVPCNumber = 1<<16 - 1
	// Routing tables 253-255 are the kernel's (default, main, local).
	firstKernelTable, lastKernelTable = 253, 255
	// vpcRulePriority is where the fabric's per-VPC ip rules sit, and
	// localRulePriority where the local table's rule moves to: after
	// them, so that one VPC's address is never local to another, and
	// before main (32766).
	vpcRulePriority   = 1000
	localRulePriority = 32000
)

func usableVPCNumber(n int) bool {
	return n >= 1 && n <= maxVPCNumber && (n < firstKernelTable || n > lastKernelTable) &&
		n>>8 != 169 && fabricServiceAddr(n) != fabricResetAddr
}

// fabricServiceAddr is VPC number n's own address in the fabric:
// 169.254.(n>>8).(n&255), where its resolver listens, since the resolver
// address (base +2) of VPCs that share a CIDR is the same (docs/fabric.md,
// "The resolver"). Numbers whose address would fall in 169.254.169.0/24,
// AWS's own link-local services, or on fabricResetAddr are never handed out.
func fabricServiceAddr(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{169, 254, byte(n >> 8), byte(n)})
}

// localID names a local address of a VPC (an endpoint interface's, where
// privlink opens sockets) in the pool of fabric numbers. Its number gives
// the address those sockets listen on in the fabric (fabricServiceAddr),
// since two VPCs that share a CIDR may have an endpoint interface at the
// same address (docs/fabric.md, "The PROXY protocol listeners").
func localID(vpcID string, a netip.Addr) string { return vpcID + "/" + a.String() }

// fabricResetAddr is where the fabric sends a TCP segment of a flow it no
// longer tracks (its idle timeout passed, or a sweep took it): a local
// address in every VPC's table, where no socket listens, so the kernel
// answers with a reset, from the address the client used once the
// translation is undone. A router rejects such a segment in prerouting
// instead, but in the fabric that reset would find no route: the kernel
// looks the client up without the packet's mark.
var fabricResetAddr = netip.MustParseAddr("169.254.255.254")

// newVPCNumbers returns the pool of VPC numbers kept at path.
func newVPCNumbers(path string) *pool[int] {
	return &pool[int]{
		path: path, what: "VPC number", first: 1,
		next:   func(n int) (int, bool) { return n + 1, n < maxVPCNumber },
		usable: usableVPCNumber,
	}
}
