// Package memstore is an in-memory store.Store, for tests and for `privlink
// server --store memory`. Updates are serializable because each one holds
// the store's write lock for the whole transaction; reads (Get, List, View)
// share its read lock, so they run side by side and wait only for an Update
// in progress. A sorted index of the keys (index.go) makes a prefix List a
// binary search plus the keys in range. It keeps a bounded log of recent
// events for watches.
package memstore

import (
	"context"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/privlink/privlink/store"
)

// DefaultHistory is how many events a Store keeps, at least, for watchers
// that start at an old revision.
const DefaultHistory = 100000

// Store is an in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	history int

	// mu guards every field below. Update and Close hold it for writing;
	// Get, List, View and watches hold it for reading.
	mu sync.RWMutex
	// data holds the current value of every key. Stored values are never
	// changed in place: Update stores fresh copies, so readers may share
	// them.
	data map[string]store.KV
	// keys indexes the keys of data in order.
	keys index
	rev  int64
	// log holds the most recent events in revision order; firstRev is the
	// oldest revision a watch can start after.
	log      []logEntry
	firstRev int64
	changed  chan struct{} // closed and replaced on every commit
	closed   bool
}

type logEntry struct {
	rev int64
	ev  store.Event
}

// New returns an empty store.
func New() *Store {
	return &Store{
		history: DefaultHistory,
		data:    map[string]store.KV{},
		keys:    index{max: defaultChunk},
		changed: make(chan struct{}),
	}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.KV{}, false, store.ErrClosed
	}
	kv, ok := s.data[key]
	return cloneKV(kv), ok, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, 0, store.ErrClosed
	}
	return s.listLocked(prefix), s.rev, nil
}

// listLocked returns the keys with the prefix, sorted, with copies of their
// values.
func (s *Store) listLocked(prefix string) []store.KV {
	out := s.listSharedLocked(prefix)
	for i := range out {
		out[i] = cloneKV(out[i])
	}
	return out
}

// listSharedLocked is listLocked with the stored values themselves.
func (s *Store) listSharedLocked(prefix string) []store.KV {
	// Counting first costs a comparison per key and saves growing the
	// slice, which costs more.
	n := 0
	for range s.keys.withPrefix(prefix) {
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]store.KV, 0, n)
	for k := range s.keys.withPrefix(prefix) {
		out = append(out, s.data[k])
	}
	return out
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, store.ErrClosed
	}
	tx := &tx{s: s, writes: map[string]*[]byte{}}
	if err := fn(tx); err != nil {
		return 0, err
	}
	if len(tx.writes) == 0 {
		return s.rev, nil
	}
	s.rev++
	keys := make([]string, 0, len(tx.writes))
	for k := range tx.writes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := tx.writes[k]
		_, existed := s.data[k]
		var ev store.Event
		if v == nil {
			if !existed {
				continue
			}
			delete(s.data, k)
			s.keys.delete(k)
			ev = store.Event{Type: store.EventDelete, KV: store.KV{Key: k, ModRevision: s.rev}}
		} else {
			kv := store.KV{Key: k, Value: *v, ModRevision: s.rev}
			s.data[k] = kv
			if !existed {
				s.keys.insert(k)
			}
			ev = store.Event{Type: store.EventPut, KV: kv}
		}
		s.log = append(s.log, logEntry{rev: s.rev, ev: ev})
	}
	// Trim in batches of a quarter of the history: copying the whole log
	// on every commit once it is full would make each commit O(history).
	if over := len(s.log) - s.history; over > 0 && over >= s.history/4 {
		s.firstRev = s.log[over-1].rev
		s.log = append([]logEntry(nil), s.log[over:]...)
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return s.rev, nil
}

// View implements store.Store. It holds the store's read lock while fn
// runs, so fn sees the latest commit and no other.
func (s *Store) View(ctx context.Context, fn func(store.ReadTx) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, store.ErrClosed
	}
	if err := fn(readTx{s}); err != nil {
		return 0, err
	}
	return s.rev, nil
}

// readTx reads the store under its read lock, sharing the stored values.
type readTx struct{ s *Store }

func (r readTx) Get(key string) (store.KV, bool, error) {
	kv, ok := r.s.data[key]
	return kv, ok, nil
}

func (r readTx) List(prefix string) ([]store.KV, error) {
	return r.s.listSharedLocked(prefix), nil
}

func (r readTx) Scan(prefix string) iter.Seq2[store.KV, error] {
	return func(yield func(store.KV, error) bool) {
		for k := range r.s.keys.withPrefix(prefix) {
			if !yield(r.s.data[k], nil) {
				return
			}
		}
	}
}

// Watch implements store.Store.
func (s *Store) Watch(ctx context.Context, prefix string, rev int64) <-chan store.WatchResponse {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		ch := make(chan store.WatchResponse, 1)
		ch <- store.WatchResponse{Err: store.ErrClosed}
		close(ch)
		return ch
	}
	ch := make(chan store.WatchResponse)
	go func() {
		defer close(ch)
		next := rev
		for {
			s.mu.RLock()
			if s.closed {
				s.mu.RUnlock()
				return
			}
			if next < s.firstRev {
				s.mu.RUnlock()
				select {
				case ch <- store.WatchResponse{Err: store.ErrCompacted}:
				case <-ctx.Done():
				}
				return
			}
			var evs []store.Event
			// The log is in revision order; skip what the watcher has seen.
			from := sort.Search(len(s.log), func(i int) bool { return s.log[i].rev > next })
			for _, e := range s.log[from:] {
				if strings.HasPrefix(e.ev.KV.Key, prefix) {
					evs = append(evs, store.Event{Type: e.ev.Type, KV: cloneKV(e.ev.KV)})
				}
			}
			cur, changed := s.rev, s.changed
			s.mu.RUnlock()
			if len(evs) > 0 {
				select {
				case ch <- store.WatchResponse{Revision: evs[len(evs)-1].KV.ModRevision, Events: evs}:
				case <-ctx.Done():
					return
				}
			}
			next = cur
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.changed)
	}
	return nil
}

// tx is an Update's view: the store, read under its write lock, and the
// transaction's pending writes.
type tx struct {
	s *Store
	// writes holds pending values; a nil pointer is a delete.
	writes map[string]*[]byte
}

func (t *tx) Get(key string) (store.KV, bool, error) {
	if v, ok := t.writes[key]; ok {
		if v == nil {
			return store.KV{}, false, nil
		}
		return store.KV{Key: key, Value: append([]byte(nil), *v...)}, true, nil
	}
	// Snapshot values are shared, as store.Tx allows: fn must not
	// modify them, and the store never does.
	kv, ok := t.s.data[key]
	return kv, ok, nil
}

func (t *tx) List(prefix string) ([]store.KV, error) {
	return store.Overlay(t.s.listSharedLocked(prefix), t.writes, prefix), nil
}

func (t *tx) Put(key string, value []byte) error {
	v := append([]byte(nil), value...)
	t.writes[key] = &v
	return nil
}

func (t *tx) Delete(key string) error {
	t.writes[key] = nil
	return nil
}

func cloneKV(kv store.KV) store.KV {
	kv.Value = append([]byte(nil), kv.Value...)
	return kv
}
