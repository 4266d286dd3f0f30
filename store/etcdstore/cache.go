package etcdstore

// The read cache. A Store keeps an in-memory copy of its keys and serves
// View, Get and List from it, so a read costs a few map-free binary
// searches instead of etcd range requests:
//
//  1. Load: read every key, in pages, at one revision; that is the first
//     snapshot. Then watch the whole prefix (the data and the sequence
//     key) from the next revision.
//  2. Follow: each watch response, with any others already waiting,
//     becomes a new immutable snapshot that shares the chunks it did not
//     change (snapshot.go). Readers take the current snapshot with one
//     atomic load and never hold the watch up.
//  3. Read: a read must see every write committed before it started.
//     Every privlink commit bumps the sequence key, so the sequence key's
//     current ModRevision is at least the revision of every such write. A
//     View learns it (from the embedded member's own index, which holds
//     every acknowledged write since there is only one member; from a
//     cluster, with one linearizable Get) and waits until the cache has
//     applied that revision, which takes a watch event's trip.
//  4. Update reads the same way, and its commit's compare checks that no
//     commit came after the snapshot's revision (update.go).
//  5. Fall back: while the cache loads, after its watch failed, or when it
//     lags more than cacheLag, View and Update read from etcd.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/storage/mvcc"

	"github.com/privlink/privlink/store"
)

// cacheLag is how long a View waits for the cache to catch up with the
// revision it must see before it reads from etcd instead. The cache
// normally trails by microseconds; this only bounds a stalled watch.
const cacheLag = time.Second

// Backoff between attempts to reload the cache after its watch failed.
const (
	reloadBase = 100 * time.Millisecond
	reloadMax  = 10 * time.Second
)

// cache is a Store's read cache.
type cache struct {
	s   *Store
	log *slog.Logger

	// cur is the current snapshot; nil while the cache is not following
	// etcd, when reads go to etcd.
	cur atomic.Pointer[snapshot]

	mu      sync.Mutex    // guards changed
	changed chan struct{} // closed and replaced whenever cur changes
}

func newCache(s *Store, log *slog.Logger) *cache {
	return &cache{s: s, log: log, changed: make(chan struct{})}
}

// publish makes snap (nil: none) the current snapshot and wakes waiting
// readers.
func (c *cache) publish(snap *snapshot) {
	c.cur.Store(snap)
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// run keeps the cache following etcd until ctx is done.
func (c *cache) run(ctx context.Context) {
	delay := reloadBase
	for {
		loaded, err := c.follow(ctx)
		c.publish(nil)
		if ctx.Err() != nil {
			return
		}
		if loaded {
			delay = reloadBase
		}
		c.log.Warn("etcdstore: read cache stopped following etcd; reads go to etcd until it has reloaded",
			"err", err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		delay = min(2*delay, reloadMax)
	}
}

// follow loads the cache and applies the watch until the watch fails. It
// reports whether the load succeeded.
func (c *cache) follow(ctx context.Context) (loaded bool, err error) {
	kvs, rev, err := c.s.rangeAt(ctx, "", 0)
	if err != nil {
		return false, fmt.Errorf("load: %w", err)
	}
	snap := newSnapshot(rev, kvs)
	c.publish(snap)

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := c.s.client.Watch(wctx, c.s.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for {
		var events []*clientv3.Event
		select {
		case wr, ok := <-wch:
			if err := watchErr(wr, ok); err != nil {
				return true, err
			}
			events = append(events, wr.Events...)
		case <-ctx.Done():
			return true, ctx.Err()
		}
		// Take the responses already waiting too: one snapshot for all.
	more:
		for {
			select {
			case wr, ok := <-wch:
				if err := watchErr(wr, ok); err != nil {
					return true, err
				}
				events = append(events, wr.Events...)
			default:
				break more
			}
		}
		if len(events) == 0 {
			continue
		}
		snap = snap.apply(events[len(events)-1].Kv.ModRevision, c.changes(events))
		c.publish(snap)
	}
}

// watchErr turns a failed or closed watch into an error.
func watchErr(wr clientv3.WatchResponse, ok bool) error {
	switch {
	case !ok:
		return errors.New("etcd closed the watch")
	case wr.CompactRevision != 0:
		return fmt.Errorf("watch fell behind compaction at revision %d: %w", wr.CompactRevision, store.ErrCompacted)
	}
	return wr.Err()
}

// changes turns events, in commit order, into changes to store keys,
// sorted by key, the last change to each key winning. The sequence key
// changes nothing but the revision.
func (c *cache) changes(events []*clientv3.Event) []change {
	out := make([]change, 0, len(events))
	for _, ev := range events {
		if !strings.HasPrefix(string(ev.Kv.Key), c.s.dataPfx) {
			continue
		}
		// The value may be shared with etcd's other watchers; the cache
		// keeps its own.
		ch := change{kv: store.KV{Key: c.s.storeKey(ev.Kv.Key), Value: slices.Clone(ev.Kv.Value), ModRevision: ev.Kv.ModRevision}}
		if ev.Type == clientv3.EventTypeDelete {
			ch = change{kv: store.KV{Key: ch.kv.Key}, del: true}
		}
		out = append(out, ch)
	}
	slices.SortStableFunc(out, func(a, b change) int { return strings.Compare(a.kv.Key, b.kv.Key) })
	// Keep the last change of each run of one key.
	w := 0
	for i := range out {
		if i+1 < len(out) && out[i+1].kv.Key == out[i].kv.Key {
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

// await returns a snapshot that includes every write committed before it
// was called, or nil when the cache cannot provide one soon and the read
// should go to etcd.
func (c *cache) await(ctx context.Context) (*snapshot, error) {
	snap := c.cur.Load()
	if snap == nil {
		return nil, nil
	}
	target, err := c.s.lastCommit(ctx)
	if err != nil {
		return nil, err
	}
	if snap.rev >= target {
		return snap, nil
	}
	timer := time.NewTimer(cacheLag)
	defer timer.Stop()
	for {
		// Take the channel before the snapshot, so a publish in between
		// still wakes us.
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		snap = c.cur.Load()
		switch {
		case snap == nil:
			return nil, nil
		case snap.rev >= target:
			return snap, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.s.done:
			return nil, store.ErrClosed
		}
	}
}

// lastCommit returns the revision of the last privlink commit: the
// sequence key's ModRevision, 0 before the first commit. Any write
// acknowledged before lastCommit was called is at or before it.
func (s *Store) lastCommit(ctx context.Context) (int64, error) {
	if s.member != nil {
		// The only member applies a write before acknowledging it, so its
		// own index is linearizable and needs no raft round.
		r, err := s.member.Server.KV().Range(ctx, []byte(s.seqKey), nil, mvcc.RangeOptions{Limit: 1})
		if err != nil {
			return 0, s.wrap("read last commit", err)
		}
		if len(r.KVs) == 0 {
			return 0, nil
		}
		return r.KVs[0].ModRevision, nil
	}
	resp, err := s.client.Get(ctx, s.seqKey)
	if err != nil {
		return 0, s.wrap("read last commit", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	return resp.Kvs[0].ModRevision, nil
}
