package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
)

// pool hands out values (transit addresses, VPC numbers) to object IDs and
// keeps them in a file, so that a restart finds every object with the
// value it had. It is used under the Lab's mutex only.
type pool[T comparable] struct {
	path   string
	what   string            // what a value is, for errors: "transit address"
	first  T                 // where the search for a free value starts
	next   func(T) (T, bool) // the value after v; false past the end
	usable func(v T) bool    // whether v may be handed out at all
	loaded bool
	byID   map[string]T
}

// load reads the file once.
func (p *pool[T]) load() error {
	if p.loaded {
		return nil
	}
	b, err := os.ReadFile(p.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("lab: %ss: %w", p.what, err)
	default:
		// A damaged file only costs new values: what used them is
		// rebuilt.
		_ = json.Unmarshal(b, &p.byID)
	}
	if p.byID == nil {
		p.byID = map[string]T{}
	}
	p.loaded = true
	return nil
}

// reserve returns id's value, giving it the lowest free one if it has
// none, and keeps every other ID's: for an object the lab has not built
// yet, until an assign that does not list it.
func (p *pool[T]) reserve(id string) (map[string]T, error) {
	if err := p.load(); err != nil {
		return nil, err
	}
	return p.assign(append(slices.Collect(maps.Keys(p.byID)), id))
}

// assign returns a value for every ID, keeping the ones already given, and
// forgets IDs not listed (their objects are gone from the lab). A new ID
// takes the lowest free value.
func (p *pool[T]) assign(ids []string) (map[string]T, error) {
	if err := p.load(); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	changed := false
	used := map[T]bool{}
	for id, v := range p.byID {
		if !want[id] || !p.usable(v) || used[v] {
			delete(p.byID, id)
			changed = true
			continue
		}
		used[v] = true
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	next := p.first
	for _, id := range ids {
		if _, ok := p.byID[id]; ok {
			continue
		}
		for !p.usable(next) || used[next] {
			var ok bool
			if next, ok = p.next(next); !ok {
				return nil, fmt.Errorf("lab: no %s left for %s", p.what, id)
			}
		}
		p.byID[id], used[next] = next, true
		changed = true
	}
	if changed {
		b, err := json.Marshal(p.byID)
		if err == nil {
			tmp := p.path + ".tmp"
			if err = os.WriteFile(tmp, b, 0o600); err == nil {
				err = os.Rename(tmp, p.path)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("lab: save %ss: %w", p.what, err)
		}
	}
	out := make(map[string]T, len(p.byID))
	for id, v := range p.byID {
		out[id] = v
	}
	return out, nil
}
