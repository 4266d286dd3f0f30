package lab

import "net/netip"

// Transit links join a consumer VPC's router to a load balancer node. Each
// end has an address from 169.254.0.0/16 (which no VPC can use) that is
// unique in the whole lab: a router has one for all its links, a node one
// for all its links. Unique addresses, rather than one pair reused on
// every link, are what let a node tell apart, and answer, consumers whose
// VPCs overlap: the node's conntrack sees every flow from a distinct
// router address.
var transitPool = netip.MustParsePrefix("169.254.0.0/16")

// transitReserved is left alone: AWS's own link-local services (the
// metadata service and the Route 53 Resolver at 169.254.169.253) live
// there.
var transitReserved = netip.MustParsePrefix("169.254.169.0/24")

// newTransitAddrs returns the pool of transit addresses kept at path.
func newTransitAddrs(path string) *pool[netip.Addr] {
	return &pool[netip.Addr]{
		path: path, what: "transit address", first: transitPool.Addr(),
		next: func(a netip.Addr) (netip.Addr, bool) {
			a = a.Next()
			return a, transitPool.Contains(a)
		},
		usable: usableTransit,
	}
}

func usableTransit(a netip.Addr) bool {
	if !transitPool.Contains(a) || transitReserved.Contains(a) {
		return false
	}
	b := a.As4()
	return b[3] != 0 && b[3] != 255
}
