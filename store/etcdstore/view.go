package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/privlink/privlink/store"
)

// View implements store.Store. It reads from the read cache (cache.go) and,
// when the cache cannot serve, from etcd at a linearizable revision.
func (s *Store) View(ctx context.Context, fn func(store.ReadTx) error) (int64, error) {
	if err := s.begin(); err != nil {
		return 0, err
	}
	defer s.ops.Done()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.cache != nil {
		snap, err := s.cache.await(ctx)
		if err != nil {
			return 0, err
		}
		if snap != nil {
			if err := fn(snap); err != nil {
				return 0, err
			}
			return snap.rev, nil
		}
	}
	for {
		// A linearizable read of the sequence key gives the revision to
		// read at.
		resp, err := s.client.Get(ctx, s.seqKey)
		if err != nil {
			return 0, s.wrap("view: read snapshot revision", err)
		}
		t := &readTx{ctx: ctx, s: s, rev: resp.Header.Revision}
		ferr := fn(t)
		switch {
		case t.err != nil && errors.Is(t.err, rpctypes.ErrCompacted):
			continue // the snapshot was compacted away under fn
		case ferr != nil:
			return 0, ferr
		case t.err != nil:
			return 0, s.wrap("view", t.err)
		}
		return t.rev, nil
	}
}

// readTx is a View's reads from etcd at one revision.
type readTx struct {
	ctx context.Context // the View's
	s   *Store
	rev int64
	// err is the first failed read. It voids the view even if fn ignores
	// it.
	err error
}

func (t *readTx) fail(err error) error {
	if t.err == nil {
		t.err = err
	}
	return t.s.wrap("view read", err)
}

func (t *readTx) Get(key string) (store.KV, bool, error) {
	resp, err := t.s.getAt(t.ctx, t.s.etcdKey(key), t.rev)
	if err != nil {
		return store.KV{}, false, t.fail(err)
	}
	if len(resp.Kvs) == 0 {
		return store.KV{}, false, nil
	}
	kv := resp.Kvs[0]
	return store.KV{Key: key, Value: kv.Value, ModRevision: kv.ModRevision}, true, nil
}

func (t *readTx) List(prefix string) ([]store.KV, error) {
	kvs, _, err := t.s.rangeAt(t.ctx, prefix, t.rev)
	if err != nil {
		return nil, t.fail(err)
	}
	return kvs, nil
}

func (t *readTx) Scan(prefix string) iter.Seq2[store.KV, error] {
	return func(yield func(store.KV, error) bool) {
		kvs, err := t.List(prefix)
		if err != nil {
			yield(store.KV{}, err)
			return
		}
		for _, kv := range kvs {
			if !yield(kv, nil) {
				return
			}
		}
	}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, bool, error) {
	var kv store.KV
	var found bool
	if _, err := s.View(ctx, func(tx store.ReadTx) error {
		var err error
		kv, found, err = tx.Get(key)
		return err
	}); err != nil {
		return store.KV{}, false, fmt.Errorf("etcdstore: get %q: %w", key, err)
	}
	kv.Value = cloneValue(kv.Value)
	return kv, found, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	var kvs []store.KV
	rev, err := s.View(ctx, func(tx store.ReadTx) error {
		var err error
		kvs, err = tx.List(prefix)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("etcdstore: list %q: %w", prefix, err)
	}
	for i := range kvs {
		kvs[i].Value = cloneValue(kvs[i].Value)
	}
	return kvs, rev, nil
}

// cloneValue copies a value that may be shared; empty stays empty (and
// without capacity, so appending to it cannot reach shared memory).
func cloneValue(v []byte) []byte {
	if len(v) == 0 {
		return v[:0:0]
	}
	return append([]byte(nil), v...)
}
