package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
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

// A batch holds at most this many writes and this many bytes of keys and
// values, so its commit fits an external cluster's default limits (128
// operations, one of them the sequence key; 1.5 MiB a request). An Update
// that writes more commits alone.
const (
	batchWrites = 100
	batchBytes  = 1 << 20
)

// A request is one Update waiting for its batch to commit.
type request struct {
	fn func(store.Tx) error
	// lost counts the batches it was in that lost to another transaction.
	lost int
	done chan struct{} // closed once rev, err and panicked are set
	rev  int64
	err  error
	// panicked holds what fn panicked with, for the Update to panic with
	// in its caller's goroutine, as if fn had run there.
	panicked any
}

func (r *request) finish(rev int64, err error) {
	r.rev, r.err = rev, err
	close(r.done)
}

func (r *request) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Update implements store.Store. See the package doc for how it stays
// serializable and how Updates that wait together commit together.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	if err := s.begin(); err != nil {
		return 0, err
	}
	defer s.ops.Done()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r := &request{fn: fn, done: make(chan struct{})}
	s.qmu.Lock()
	s.queue = append(s.queue, r)
	s.qmu.Unlock()
	cancelled, closed := ctx.Done(), s.done
	for {
		select {
		case <-r.done:
			if r.panicked != nil {
				panic(r.panicked)
			}
			return r.rev, r.err
		case s.turn <- struct{}{}:
			if ctx.Err() != nil && s.withdraw(r) {
				<-s.turn
				return 0, ctx.Err()
			}
			s.leadTurn(r)
		case <-cancelled:
			if s.withdraw(r) {
				return 0, ctx.Err()
			}
			// A batch has fn: its outcome is the Update's.
			cancelled = nil
		case <-closed:
			if s.withdraw(r) {
				return 0, store.ErrClosed
			}
			closed = nil
		}
	}
}

// withdraw takes r out of the queue and reports whether it was there, so
// no batch will run it.
func (s *Store) withdraw(r *request) bool {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	i := slices.Index(s.queue, r)
	if i < 0 {
		return false
	}
	s.queue = slices.Delete(s.queue, i, i+1)
	return true
}

// leadTurn leads with the turn, and gives it back however lead ends.
func (s *Store) leadTurn(r *request) {
	defer func() { <-s.turn }()
	s.lead(r)
}

// lead runs the queue in batches, holding the turn, until r has finished.
// The batches serve every waiting Update, so no caller's context bounds
// them; a closed store ends them.
func (s *Store) lead(r *request) {
	ctx := context.Background()
	for !r.finished() {
		s.qmu.Lock()
		batch := s.queue
		s.queue = nil
		s.qmu.Unlock()
		if len(batch) == 0 {
			// Cannot happen: while the turn is held, every unfinished
			// request is queued, r among them.
			return
		}
		if s.isClosed() {
			for _, q := range batch {
				q.finish(0, store.ErrClosed)
			}
			continue
		}
		v, err := s.view(ctx)
		if err != nil {
			for _, q := range batch {
				q.finish(0, err)
			}
			continue
		}
		ran, lost := s.runBatch(ctx, v, batch)
		var again []*request
		worst := 0
		if lost {
			for _, q := range batch[:ran] {
				q.lost++
				worst = max(worst, q.lost)
				if q.lost >= s.attempts {
					q.finish(0, fmt.Errorf("etcdstore: update gave up after %d attempts: %w", q.lost, store.ErrConflict))
				} else {
					again = append(again, q)
				}
			}
		}
		again = append(again, batch[ran:]...)
		s.qmu.Lock()
		s.queue = append(again, s.queue...)
		s.qmu.Unlock()
		if lost && len(again) > 0 {
			d := min(backoffBase<<min(worst-1, 16), backoffMax)
			t := time.NewTimer(d/2 + rand.N(d/2+1))
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
			}
		}
	}
}

// runBatch runs the functions of batch in order, each on v and the writes
// of those before it, and commits their writes in one transaction. It
// stops before a function whose writes would make the commit too big, and
// returns how many ran. When the commit loses to another transaction it
// finishes none of them and reports lost; otherwise it finishes every
// request that ran.
func (s *Store) runBatch(ctx context.Context, v view, batch []*request) (ran int, lost bool) {
	// outcome is what fn returned; the revision comes with the commit.
	type outcome struct {
		err error
		// seen: fn's view held writes of earlier requests in the batch.
		seen bool
	}
	var (
		outcomes = make([]outcome, 0, len(batch))
		writes   = map[string]*[]byte{}
		size     int
	)
	for _, r := range batch {
		t := &tx{ctx: ctx, s: s, rev: v.rev, snap: v.snap, under: writes, writes: map[string]*[]byte{}}
		ferr, panicked := call(r.fn, t)
		t.finished = true
		if r.panicked = panicked; panicked != nil {
			// Its writes are dropped; the others' stand.
			ferr = errFnPanicked
		}
		switch {
		case t.err != nil && errors.Is(t.err, rpctypes.ErrCompacted):
			// The snapshot was compacted away under fn: every function
			// runs again on a fresh one.
			return ran + 1, true
		case ferr == nil && t.err != nil:
			// fn swallowed a failed read, so it decided on a partial view.
			ferr = s.wrap("update", t.err)
		}
		if ferr == nil && len(t.writes) > 0 {
			n, added := size, 0
			for k, w := range t.writes {
				if _, ok := writes[k]; !ok {
					added++
				}
				n += len(k)
				if w != nil {
					n += len(*w)
				}
			}
			if ran > 0 && (len(writes)+added > batchWrites || n > batchBytes) {
				break
			}
			size = n
			maps.Copy(writes, t.writes)
		}
		outcomes = append(outcomes, outcome{err: ferr, seen: len(writes) > 0})
		ran++
	}

	rev := v.rev
	var commitErr error
	if len(writes) > 0 {
		keys := slices.Sorted(maps.Keys(writes))
		ops := make([]clientv3.Op, 0, len(keys)+1)
		for _, k := range keys {
			if w := writes[k]; w != nil {
				ops = append(ops, clientv3.OpPut(s.etcdKey(k), string(*w)))
			} else {
				ops = append(ops, clientv3.OpDelete(s.etcdKey(k)))
			}
		}
		ops = append(ops, clientv3.OpPut(s.seqKey, ""))
		resp, err := s.client.Txn(ctx).If(v.guard).Then(ops...).Commit()
		switch {
		case err != nil:
			// Not retried: it may have committed, and fn is not
			// idempotent in general.
			commitErr = s.wrap(fmt.Sprintf("update: commit %d writes", len(keys)), err)
		case !resp.Succeeded:
			return ran, true
		default:
			rev = resp.Header.Revision
		}
	}
	for i, r := range batch[:ran] {
		switch o := outcomes[i]; {
		case o.seen && commitErr != nil:
			// fn decided on writes that may not have committed.
			r.finish(0, commitErr)
		case o.err != nil:
			r.finish(0, o.err)
		case o.seen:
			r.finish(rev, nil)
		default:
			r.finish(v.rev, nil)
		}
	}
	return ran, false
}

// errFnPanicked is the outcome of a function that panicked; its Update
// panics with the value instead of returning it.
var errFnPanicked = errors.New("etcdstore: the transaction's function panicked")

// call runs fn on t, and returns what it panicked with, if it did.
func call(fn func(store.Tx) error, t *tx) (err error, panicked any) {
	defer func() {
		if v := recover(); v != nil {
			panicked = v
		}
	}()
	return fn(t), nil
}

// view is what a batch reads and what its commit must compare.
type view struct {
	// snap serves the reads; nil means etcd serves them at rev.
	snap *snapshot
	rev  int64
	// guard holds at commit time only if nothing committed after the
	// snapshot.
	guard clientv3.Cmp
}

// view returns a snapshot that includes every commit made before it was
// called: the read cache's, once it has caught up, or else etcd's.
func (s *Store) view(ctx context.Context) (view, error) {
	if s.cache != nil {
		cs, err := s.cache.await(ctx)
		if err != nil {
			return view{}, err
		}
		if cs != nil {
			return s.cachedView(cs), nil
		}
	}
	// The sequence key's mod revision is the last privlink commit; the
	// read's revision is the snapshot.
	resp, err := s.client.Get(ctx, s.seqKey)
	if err != nil {
		return view{}, s.wrap("update: read snapshot revision", err)
	}
	var seqRev int64
	if len(resp.Kvs) > 0 {
		seqRev = resp.Kvs[0].ModRevision
	}
	return view{rev: resp.Header.Revision, guard: clientv3.Compare(clientv3.ModRevision(s.seqKey), "=", seqRev)}, nil
}

// cachedView returns the view on cs, a snapshot of the read cache.
func (s *Store) cachedView(cs *snapshot) view {
	// The sequence key's mod revision is the last privlink commit, so it
	// is at most the snapshot's revision exactly when none committed
	// after the snapshot.
	return view{snap: cs, rev: cs.rev, guard: clientv3.Compare(clientv3.ModRevision(s.seqKey), "<", cs.rev+1)}
}

// tx is what one function of a batch sees: reads at rev, over the
// writes of the functions before it, and its own writes buffered until
// the batch commits.
type tx struct {
	ctx context.Context // the batch's; Tx methods have none of their own
	s   *Store
	rev int64
	// snap serves the reads when the read cache could; nil means etcd
	// serves them at rev.
	snap *snapshot
	// under holds the writes of the requests before this one in its
	// batch; reads see them over snap's.
	under map[string]*[]byte
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

func (t *tx) Get(key string) (store.KV, bool, error) {
	if t.finished {
		return store.KV{}, false, errTxDone
	}
	if v, ok := t.writes[key]; ok {
		if v == nil {
			return store.KV{}, false, nil
		}
		return store.KV{Key: key, Value: slices.Clone(*v)}, true, nil
	}
	if v, ok := t.under[key]; ok {
		// Written earlier in the batch: not committed, so no revision.
		if v == nil {
			return store.KV{}, false, nil
		}
		return store.KV{Key: key, Value: *v}, true, nil
	}
	if t.snap != nil {
		return t.snap.Get(key)
	}
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
	return store.Overlay(store.Overlay(base, t.under, prefix), t.writes, prefix), nil
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
