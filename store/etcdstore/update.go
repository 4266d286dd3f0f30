package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/privlink/privlink/store"
)

// Backoff between conflicting attempts: full jitter over an interval that
// doubles from backoffBase up to backoffMax.
const (
	backoffBase = 2 * time.Millisecond
	backoffMax  = 200 * time.Millisecond
)

// errTxDone is returned by a Tx used after its attempt ended.
var errTxDone = errors.New("etcdstore: transaction already finished")

// Update implements store.Store. See the package doc for how it stays
// serializable.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	if err := s.begin(); err != nil {
		return 0, err
	}
	defer s.ops.Done()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.done:
		return 0, store.ErrClosed
	}
	defer func() { <-s.turn }()

	for attempt := 1; ; attempt++ {
		rev, committed, err := s.attempt(ctx, fn)
		if err != nil || committed {
			return rev, err
		}
		if attempt >= s.attempts {
			return 0, fmt.Errorf("etcdstore: update gave up after %d attempts: %w", attempt, store.ErrConflict)
		}
		d := min(backoffBase<<(attempt-1), backoffMax)
		t := time.NewTimer(d/2 + rand.N(d/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-s.done:
			t.Stop()
			return 0, store.ErrClosed
		}
	}
}

// attempt runs fn once. It returns done=false, with no error, when the
// attempt lost to another transaction and fn should run again.
func (s *Store) attempt(ctx context.Context, fn func(store.Tx) error) (rev int64, done bool, err error) {
	var cs *snapshot
	if s.cache != nil {
		// A cached snapshot that includes every earlier commit serves the
		// reads without a range request.
		if cs, err = s.cache.await(ctx); err != nil {
			return 0, false, err
		}
	}
	return s.attemptOn(ctx, cs, fn)
}

// attemptOn is attempt with reads from the cached snapshot cs, or from
// etcd when cs is nil.
func (s *Store) attemptOn(ctx context.Context, cs *snapshot, fn func(store.Tx) error) (rev int64, done bool, err error) {
	t := &tx{ctx: ctx, s: s, writes: map[string]*[]byte{}}
	// guard is the commit's compare: no privlink commit since the snapshot.
	var guard clientv3.Cmp
	if cs != nil {
		// The sequence key's mod revision is the last privlink commit, so
		// it is at most the snapshot's revision exactly when none
		// committed after the snapshot.
		t.snap, t.rev = cs, cs.rev
		guard = clientv3.Compare(clientv3.ModRevision(s.seqKey), "<", cs.rev+1)
	}
	if t.snap == nil {
		// The sequence key's mod revision is the last privlink commit; the
		// read's revision is the snapshot.
		snap, err := s.client.Get(ctx, s.seqKey)
		if err != nil {
			return 0, false, s.wrap("update: read snapshot revision", err)
		}
		var seqRev int64
		if len(snap.Kvs) > 0 {
			seqRev = snap.Kvs[0].ModRevision
		}
		t.rev = snap.Header.Revision
		guard = clientv3.Compare(clientv3.ModRevision(s.seqKey), "=", seqRev)
	}
	ferr := fn(t)
	t.finished = true
	switch {
	case t.err != nil && errors.Is(t.err, rpctypes.ErrCompacted):
		// The snapshot was compacted away under fn: a fresh one is needed.
		return 0, false, nil
	case ferr != nil:
		return 0, true, ferr
	case t.err != nil:
		// fn swallowed a failed read, so it decided on a partial view.
		return 0, true, s.wrap("update", t.err)
	case len(t.writes) == 0:
		return t.rev, true, nil
	}

	keys := make([]string, 0, len(t.writes))
	for k := range t.writes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ops := make([]clientv3.Op, 0, len(keys)+1)
	for _, k := range keys {
		if v := t.writes[k]; v != nil {
			ops = append(ops, clientv3.OpPut(s.etcdKey(k), string(*v)))
		} else {
			ops = append(ops, clientv3.OpDelete(s.etcdKey(k)))
		}
	}
	ops = append(ops, clientv3.OpPut(s.seqKey, ""))
	resp, err := s.client.Txn(ctx).
		If(guard).
		Then(ops...).
		Commit()
	if err != nil {
		return 0, true, s.wrap(fmt.Sprintf("update: commit %d writes", len(keys)), err)
	}
	if !resp.Succeeded {
		return 0, false, nil
	}
	return resp.Header.Revision, true, nil
}

// tx is one attempt's view: reads at rev, writes buffered until commit.
type tx struct {
	ctx context.Context // the Update's; Tx methods have none of their own
	s   *Store
	rev int64
	// snap serves the reads when the read cache could; nil means etcd
	// serves them at rev.
	snap *snapshot
	// writes holds pending values; a nil pointer is a delete.
	writes map[string]*[]byte
	// err is the first failed read. It voids the attempt even if fn
	// ignores it.
	err      error
	finished bool
}

func (t *tx) fail(err error) error {
	if t.err == nil {
		t.err = err
	}
	return t.s.wrap("transaction read", err)
}

func (t *tx) Get(key string) ([]byte, bool, error) {
	if t.finished {
		return nil, false, errTxDone
	}
	if v, ok := t.writes[key]; ok {
		if v == nil {
			return nil, false, nil
		}
		return slices.Clone(*v), true, nil
	}
	if t.snap != nil {
		kv, ok, _ := t.snap.Get(key)
		return kv.Value, ok, nil
	}
	resp, err := t.s.getAt(t.ctx, t.s.etcdKey(key), t.rev)
	if err != nil {
		return nil, false, t.fail(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, false, nil
	}
	return resp.Kvs[0].Value, true, nil
}

func (t *tx) List(prefix string) ([]store.KV, error) {
	if t.finished {
		return nil, errTxDone
	}
	var base []store.KV
	if t.snap != nil {
		base, _ = t.snap.List(prefix)
	} else {
		var err error
		if base, _, err = t.s.rangeAt(t.ctx, prefix, t.rev); err != nil {
			return nil, t.fail(err)
		}
	}
	return store.Overlay(base, t.writes, prefix), nil
}

func (t *tx) Put(key string, value []byte) error {
	if t.finished {
		return errTxDone
	}
	v := slices.Clone(value)
	if v == nil {
		v = []byte{}
	}
	t.writes[key] = &v
	return nil
}

func (t *tx) Delete(key string) error {
	if t.finished {
		return errTxDone
	}
	t.writes[key] = nil
	return nil
}
