package dataplane

import (
	"encoding/binary"
	"hash/fnv"
	"net/netip"
)

// flowHash hashes a flow's 4-tuple. It is deterministic (no per-process
// seed), so a flow maps to the same node and target after a restart too.
func flowHash(client, eni netip.AddrPort) uint64 {
	ca, ea := client.Addr().Unmap(), eni.Addr().Unmap()
	ports := uint64(client.Port())<<16 | uint64(eni.Port())
	if ca.Is4() && ea.Is4() {
		c, e := ca.As4(), ea.As4()
		addrs := uint64(binary.BigEndian.Uint32(c[:]))<<32 | uint64(binary.BigEndian.Uint32(e[:]))
		return mix(mix(addrs^0x9e3779b97f4a7c15) ^ ports)
	}
	c, e := ca.As16(), ea.As16()
	h := mix(binary.LittleEndian.Uint64(c[0:8]) ^ 0x9e3779b97f4a7c15)
	h = mix(h ^ binary.LittleEndian.Uint64(c[8:16]))
	h = mix(h ^ binary.LittleEndian.Uint64(e[0:8]))
	h = mix(h ^ binary.LittleEndian.Uint64(e[8:16]))
	return mix(h ^ ports)
}

// mix is the splitmix64 finalizer: cheap, and every input bit affects every
// output bit.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// nameHash gives a target or node a fixed identity for rendezvous hashing.
func nameHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return mix(h.Sum64())
}

// rendezvous returns the index of the candidate with the highest score for
// flow hash h (highest-random-weight hashing): when a candidate leaves or
// joins, only the flows that scored highest on it move.
func rendezvous(h uint64, ids []uint64) int {
	best, bestScore := 0, mix(h^ids[0])
	for i := 1; i < len(ids); i++ {
		if s := mix(h ^ ids[i]); s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// pickSet is a set of candidates with their rendezvous identities, built once
// per configuration or health change so picking allocates nothing.
type pickSet[T any] struct {
	items []T
	ids   []uint64
}

func (s *pickSet[T]) add(item T, id uint64) {
	s.items = append(s.items, item)
	s.ids = append(s.ids, id)
}

func (s *pickSet[T]) pick(h uint64) (T, bool) {
	if len(s.items) == 0 {
		var zero T
		return zero, false
	}
	return s.items[rendezvous(h, s.ids)], true
}

// groupView is an immutable snapshot of a target group that forwarding reads
// without locks: every target with its health, and the ones to pick from.
type groupView struct {
	health  []HealthEvent // sorted by target ID and port
	all     pickSet[Target]
	healthy pickSet[Target]
}

// pick chooses the target for flow hash h among the healthy targets or, when
// none is healthy, among all of them: a network load balancer fails open.
func (v *groupView) pick(h uint64) (Target, bool) {
	if len(v.healthy.items) > 0 {
		return v.healthy.pick(h)
	}
	return v.all.pick(h)
}

// nodeSet returns the nodes a listener in zone may use: those in its zone,
// or all of them when the load balancer has no node there.
func nodeSet(zone string, nodes []Node) pickSet[netip.Addr] {
	var s pickSet[netip.Addr]
	for _, n := range nodes {
		if n.Zone == zone {
			s.add(n.Addr, nameHash(n.Addr.String()))
		}
	}
	if len(s.items) == 0 {
		for _, n := range nodes {
			s.add(n.Addr, nameHash(n.Addr.String()))
		}
	}
	return s
}
