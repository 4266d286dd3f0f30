package core

import (
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/privlink/privlink/store"
)

// memo keeps the objects that read-only transactions decoded, by store key
// and ModRevision, so that a view decodes only what changed since an
// earlier view read it: describing one account's endpoints still scans
// every endpoint, but decoding ten thousand of them on every call would
// cost far more than the call itself.
//
// Views share these objects with each other, with Snapshot and with
// updates, which reuse them the same way: nothing may modify a shared
// object, and whatever a call returns must not alias one (the clone
// methods in clone.go make the copies). An update changes only copies of
// its own (see txn). Objects an update wrote itself are not remembered:
// they have no revision until the commit, which views then read.
//
// Memory: one object per key views have read. Deleted keys are forgotten
// when their kind is next scanned whole (the reconciler's LoadSnapshot does
// so on every pass).
type memo struct {
	// kinds is fixed at construction, so reading it needs no lock.
	kinds map[string]*memoKind // by kind prefix, e.g. "endpoints/"
}

// memoKind holds the objects of one kind.
type memoKind struct {
	mu   sync.RWMutex // guards objs and last
	objs map[string]memoObj
	// last is the latest whole scan of the kind. A scan that follows it
	// reuses its objects by walking both in key order, which costs a
	// string comparison per key instead of a map lookup.
	last *memoList
}

// memoObj is an object decoded from a key's value at a revision.
type memoObj struct {
	rev int64
	v   any // *T
}

// memoList is a whole kind's keys, their revisions and their objects, in
// key order. It is not modified once made.
type memoList struct {
	keys []string
	revs []int64
	objs any // []*T
}

func newMemo() *memo {
	m := &memo{kinds: map[string]*memoKind{}}
	for _, p := range []string{
		prefixAccounts, prefixAccessKeys, prefixVPCs, prefixSubnets, prefixSecurityGroups,
		prefixInstances, prefixENIs, prefixLoadBalancers, prefixTargetGroups, prefixTargetHealth,
		prefixListeners, prefixEndpointServices, prefixEndpoints, prefixHostedZones, prefixRecordSets,
	} {
		m.kinds[p] = &memoKind{objs: map[string]memoObj{}}
	}
	return m
}

// kindOf returns the memo of key's kind, nil for a key of no known kind.
func (m *memo) kindOf(key string) *memoKind {
	i := strings.IndexByte(key, '/')
	if m == nil || i < 0 {
		return nil
	}
	return m.kinds[key[:i+1]]
}

// sizeHint returns how many keys the kind had when last scanned whole.
func (m *memo) sizeHint(prefix string) int {
	k := m.kinds[prefix]
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.last == nil {
		return 0
	}
	return len(k.last.keys)
}

// decode returns the object at kv, decoded now or earlier.
func decode[T any](m *memo, kv store.KV) (*T, error) {
	k := m.kindOf(kv.Key)
	if k == nil || kv.ModRevision == 0 {
		// Without a revision, an object cannot be told from an older one.
		return decodeNew[T](kv)
	}
	k.mu.RLock()
	o, ok := k.objs[kv.Key]
	k.mu.RUnlock()
	if ok && o.rev == kv.ModRevision {
		if v, ok := o.v.(*T); ok {
			return v, nil
		}
	}
	v, err := decodeNew[T](kv)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if o, ok := k.objs[kv.Key]; !ok || o.rev <= kv.ModRevision {
		k.objs[kv.Key] = memoObj{rev: kv.ModRevision, v: v}
	}
	k.mu.Unlock()
	return v, nil
}

// scan calls fn with the key and object of every key under prefix, in key
// order.
func scan[T any](m *memo, rx store.ReadTx, prefix string, fn func(key string, v *T)) error {
	k := m.kinds[prefix]
	whole := k != nil
	var last *memoList
	var lastObjs []*T
	if whole {
		k.mu.RLock()
		last = k.last
		k.mu.RUnlock()
		if last != nil {
			lastObjs, _ = last.objs.([]*T)
		}
	}
	n, reused, j := 0, 0, 0
	for kv, err := range rx.Scan(prefix) {
		if err != nil {
			return err
		}
		n++
		if lastObjs != nil {
			// Equal keys are usually one string, which == finds at once.
			for j < len(last.keys) && last.keys[j] != kv.Key && last.keys[j] < kv.Key {
				j++
			}
			if j < len(last.keys) && last.keys[j] == kv.Key && last.revs[j] == kv.ModRevision {
				fn(kv.Key, lastObjs[j])
				reused++
				continue
			}
		}
		v, err := decode[T](m, kv)
		if err != nil {
			return err
		}
		fn(kv.Key, v)
	}
	if whole && (lastObjs == nil || reused != n || n != len(last.keys)) {
		relist[T](k, rx, prefix)
	}
	return nil
}

// relist makes the kind's last scan from a new one, and forgets the
// objects of keys that are gone. It gives up, harmlessly, when an object
// is missing, as it is when a newer view has replaced it already.
func relist[T any](k *memoKind, rx store.ReadTx, prefix string) {
	l := &memoList{}
	for kv, err := range rx.Scan(prefix) {
		if err != nil || kv.ModRevision == 0 {
			return
		}
		l.keys = append(l.keys, kv.Key)
		l.revs = append(l.revs, kv.ModRevision)
	}
	objs := make([]*T, len(l.keys))
	k.mu.Lock()
	defer k.mu.Unlock()
	// Most objects are in the previous list, found by walking it; the
	// others are in the map.
	var prev *memoList
	var prevObjs []*T
	if k.last != nil {
		prev = k.last
		prevObjs, _ = prev.objs.([]*T)
	}
	j := 0
	for i, key := range l.keys {
		if prevObjs != nil {
			for j < len(prev.keys) && prev.keys[j] != key && prev.keys[j] < key {
				j++
			}
			if j < len(prev.keys) && prev.keys[j] == key && prev.revs[j] == l.revs[i] {
				objs[i] = prevObjs[j]
				continue
			}
		}
		o, ok := k.objs[key]
		v, isT := o.v.(*T)
		if !ok || o.rev != l.revs[i] || !isT {
			return
		}
		objs[i] = v
	}
	l.objs = objs
	k.last = l
	if n := len(l.keys); len(k.objs) > n+n/4+16 {
		// The others were deleted, or written after this scan; forgetting
		// those too costs one decode at worst.
		for key := range k.objs {
			if _, found := slices.BinarySearch(l.keys, key); !found {
				delete(k.objs, key)
			}
		}
	}
}

// kvList is a store.ReadTx over the keys an update listed with a prefix,
// in order, so scan serves updates too.
type kvList struct {
	prefix string
	kvs    []store.KV
}

func (l kvList) Get(key string) (store.KV, bool, error) {
	i, ok := slices.BinarySearchFunc(l.kvs, key, func(kv store.KV, k string) int { return strings.Compare(kv.Key, k) })
	if !ok {
		return store.KV{}, false, nil
	}
	return l.kvs[i], true, nil
}

func (l kvList) List(prefix string) ([]store.KV, error) {
	var out []store.KV
	for kv := range l.Scan(prefix) {
		out = append(out, kv)
	}
	return out, nil
}

func (l kvList) Scan(prefix string) iter.Seq2[store.KV, error] {
	return func(yield func(store.KV, error) bool) {
		all := prefix == l.prefix
		for _, kv := range l.kvs {
			if (all || strings.HasPrefix(kv.Key, prefix)) && !yield(kv, nil) {
				return
			}
		}
	}
}

func decodeNew[T any](kv store.KV) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return nil, fmt.Errorf("core: decode %s: %w", kv.Key, err)
	}
	return v, nil
}
