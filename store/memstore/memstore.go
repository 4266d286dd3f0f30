// Package memstore is an in-memory store.Store: serializable by holding one
// lock for the whole of each transaction. It keeps a bounded log of recent
// events for watches.
package memstore

import (
	"context"
	"iter"
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

	mu sync.Mutex // guards every field below
	// data holds the current value of every key.
	data map[string]store.KV
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
	return &Store{history: DefaultHistory, data: map[string]store.KV{}, changed: make(chan struct{})}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.KV{}, false, store.ErrClosed
	}
	kv, ok := s.data[key]
	return cloneKV(kv), ok, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
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

// listSharedLocked is listLocked with the stored values themselves, which
// are never changed in place: Update stores fresh copies.
func (s *Store) listSharedLocked(prefix string) []store.KV {
	var out []store.KV
	for k, kv := range s.data {
		if strings.HasPrefix(k, prefix) {
			out = append(out, kv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
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
	sort.Strings(keys)
	for _, k := range keys {
		v := tx.writes[k]
		var ev store.Event
		if v == nil {
			if _, ok := s.data[k]; !ok {
				continue
			}
			delete(s.data, k)
			ev = store.Event{Type: store.EventDelete, KV: store.KV{Key: k, ModRevision: s.rev}}
		} else {
			kv := store.KV{Key: k, Value: *v, ModRevision: s.rev}
			s.data[k] = kv
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

// View implements store.Store. It holds the store's lock while fn runs, so
// fn sees the latest commit and no other.
func (s *Store) View(ctx context.Context, fn func(store.ReadTx) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, store.ErrClosed
	}
	if err := fn(readTx{s}); err != nil {
		return 0, err
	}
	return s.rev, nil
}

// readTx reads the store under its lock, sharing the stored values.
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
		for _, kv := range r.s.listSharedLocked(prefix) {
			if !yield(kv, nil) {
				return
			}
		}
	}
}

// Watch implements store.Store.
func (s *Store) Watch(ctx context.Context, prefix string, rev int64) <-chan store.WatchResponse {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
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
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				return
			}
			if next < s.firstRev {
				s.mu.Unlock()
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
			s.mu.Unlock()
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

type tx struct {
	s *Store
	// writes holds pending values; a nil pointer is a delete.
	writes map[string]*[]byte
}

func (t *tx) Get(key string) ([]byte, bool, error) {
	if v, ok := t.writes[key]; ok {
		if v == nil {
			return nil, false, nil
		}
		return append([]byte(nil), *v...), true, nil
	}
	kv, ok := t.s.data[key]
	return append([]byte(nil), kv.Value...), ok, nil
}

func (t *tx) List(prefix string) ([]store.KV, error) {
	base := t.s.listLocked(prefix)
	if len(t.writes) == 0 {
		return base, nil
	}
	m := make(map[string]store.KV, len(base))
	for _, kv := range base {
		m[kv.Key] = kv
	}
	for k, v := range t.writes {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = store.KV{Key: k, Value: append([]byte(nil), *v...)}
		}
	}
	out := make([]store.KV, 0, len(m))
	for _, kv := range m {
		out = append(out, kv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
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
