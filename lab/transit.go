package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
)

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

// transitAddrs hands out transit addresses and keeps them in a file, so
// that a restart finds links with the addresses they had. It is used under
// the Lab's mutex only.
type transitAddrs struct {
	path   string
	loaded bool
	byID   map[string]netip.Addr
}

func newTransitAddrs(path string) *transitAddrs {
	return &transitAddrs{path: path, byID: map[string]netip.Addr{}}
}

// assign returns an address for every ID, keeping the ones already given,
// and forgets IDs not listed (their objects are gone from the lab).
func (t *transitAddrs) assign(ids []string) (map[string]netip.Addr, error) {
	if !t.loaded {
		b, err := os.ReadFile(t.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("lab: transit addresses: %w", err)
		default:
			// A damaged file only costs new addresses: links are rebuilt.
			_ = json.Unmarshal(b, &t.byID)
		}
		t.loaded = true
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	changed := false
	used := map[netip.Addr]bool{}
	for id, a := range t.byID {
		if !want[id] || !usableTransit(a) || used[a] {
			delete(t.byID, id)
			changed = true
			continue
		}
		used[a] = true
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	next := transitPool.Addr().Next()
	for _, id := range ids {
		if _, ok := t.byID[id]; ok {
			continue
		}
		for !usableTransit(next) || used[next] {
			if next = next.Next(); !transitPool.Contains(next) {
				return nil, fmt.Errorf("lab: no transit address left for %s", id)
			}
		}
		t.byID[id], used[next] = next, true
		changed = true
	}
	if changed {
		b, err := json.Marshal(t.byID)
		if err == nil {
			tmp := t.path + ".tmp"
			if err = os.WriteFile(tmp, b, 0o600); err == nil {
				err = os.Rename(tmp, t.path)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("lab: save transit addresses: %w", err)
		}
	}
	out := make(map[string]netip.Addr, len(t.byID))
	for id, a := range t.byID {
		out[id] = a
	}
	return out, nil
}

func usableTransit(a netip.Addr) bool {
	if !transitPool.Contains(a) || transitReserved.Contains(a) {
		return false
	}
	b := a.As4()
	return b[3] != 0 && b[3] != 255
}
