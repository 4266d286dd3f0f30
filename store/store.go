// Package store defines privlink's state store: an ordered key-value space with
// serializable transactions, revisions and watches. It is the only state the
// control plane has; every other component derives from it.
//
// Implementations: memstore (in memory, for tests and --store=memory) and
// etcdstore (an embedded etcd member or an external cluster). Every
// implementation passes the suite in storetest.
package store

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
)

// ErrCompacted is sent on a watch whose start revision is no longer kept. The
// watcher must list again and watch from the new revision.
var ErrCompacted = errors.New("store: revision compacted")

// ErrConflict is returned by Update when the transaction kept conflicting with
// concurrent writers and gave up retrying.
var ErrConflict = errors.New("store: transaction conflict, retries exhausted")

// ErrClosed is returned by every call on a closed store.
var ErrClosed = errors.New("store: closed")

// KV is one key and its value at some revision.
type KV struct {
	Key   string
	Value []byte
	// ModRevision is the store revision of the last write to the key.
	ModRevision int64
}

// EventType says what happened to a key.
type EventType int

// Event types.
const (
	EventPut EventType = iota + 1
	EventDelete
)

// Event is one change to one key. For EventDelete, KV.Value is empty and
// KV.ModRevision is the revision of the deletion.
type Event struct {
	Type EventType
	KV   KV
}

// WatchResponse carries the events of one or more committed transactions, in
// commit order. Revision is the store revision after the last event. A
// response with a non-nil Err is the last one on its channel.
type WatchResponse struct {
	Revision int64
	Events   []Event
	Err      error
}

// Store is the state store. All methods are safe for concurrent use.
type Store interface {
	// Get reads one key. The read is linearizable.
	Get(ctx context.Context, key string) (kv KV, found bool, err error)

	// List reads every key with the prefix, sorted by key, and returns the
	// store revision the read was served at. The read is linearizable.
	List(ctx context.Context, prefix string) (kvs []KV, rev int64, err error)

	// Update runs fn in a serializable transaction. fn sees one consistent
	// snapshot plus its own writes; its writes commit atomically, and only if
	// no other transaction committed in between. On such a conflict fn runs
	// again on a fresh snapshot, so fn must have no effects outside tx. If fn
	// returns an error nothing is written and that error is returned as is.
	// Update returns the revision of the commit (or of the snapshot, when fn
	// wrote nothing). A store may commit Updates that run at the same time
	// together, in their serial order, at one revision: a watcher then sees
	// their writes as one change, the last write to a key winning.
	Update(ctx context.Context, fn func(tx Tx) error) (rev int64, err error)

	// View runs fn in a read-only transaction. fn sees one consistent
	// snapshot that includes every write committed before View was called:
	// the read is linearizable, as Get and List are. Views do not conflict
	// with Updates or with each other, but fn may run again, on a newer
	// snapshot, if its snapshot was lost (compacted) while it ran, so fn
	// must have no effects outside tx. If fn returns an error View returns
	// it as is. View returns the snapshot's revision: a Watch from it sees
	// every later change.
	//
	// Values fn reads are shared with the store and with other views,
	// which is what makes views cheap: fn must never modify them. It may
	// keep them after View returns; the store does not change them either.
	View(ctx context.Context, fn func(tx ReadTx) error) (rev int64, err error)

	// Watch streams the changes to keys with the prefix made after revision
	// rev. The channel is closed when ctx is done or after a response with
	// Err. Slow receivers hold the stream back; they never miss events.
	Watch(ctx context.Context, prefix string, rev int64) <-chan WatchResponse

	// Close releases the store. Watches end and later calls return ErrClosed.
	Close() error
}

// Tx is the view a transaction has. Reads see the transaction's snapshot and
// its own earlier writes. Values read from the snapshot may be shared with
// the store and with views, as ReadTx's are: fn must not modify them.
type Tx interface {
	// Get reads one key. A key from the snapshot carries its ModRevision,
	// as ReadTx.Get reports it; a key the transaction wrote itself carries
	// 0.
	Get(key string) (kv KV, found bool, err error)
	// List reads every key with the prefix, sorted by key. A key from the
	// snapshot carries its ModRevision, as ReadTx.List reports it; a key
	// the transaction wrote itself carries 0.
	List(prefix string) ([]KV, error)
	Put(key string, value []byte) error
	// Delete removes the key; deleting a missing key is not an error.
	Delete(key string) error
}

// ReadTx is the view a read-only transaction has: one snapshot. The values
// it returns are shared and must not be modified (see Store.View).
type ReadTx interface {
	// Get reads one key with its ModRevision.
	Get(key string) (kv KV, found bool, err error)
	// List reads every key with the prefix, sorted by key. The slice is
	// the caller's; the values in it are shared.
	List(prefix string) ([]KV, error)
	// Scan yields what List returns, one key at a time, without building
	// the slice. A failed read yields its error, once, and ends the scan.
	Scan(prefix string) iter.Seq2[KV, error]
}

// Overlay is what a transaction lists: base (a snapshot's keys with the
// prefix, sorted) with the transaction's own writes under the prefix laid
// over it. writes maps a key to its new value, or to nil for a deletion.
// Written values are copied; base's are returned as they are.
func Overlay(base []KV, writes map[string]*[]byte, prefix string) []KV {
	var mine []string
	for k := range writes {
		if strings.HasPrefix(k, prefix) {
			mine = append(mine, k)
		}
	}
	if len(mine) == 0 {
		return base
	}
	slices.Sort(mine)
	// Merge two sorted lists; the writes win.
	out := make([]KV, 0, len(base)+len(mine))
	i := 0
	for _, k := range mine {
		for i < len(base) && base[i].Key < k {
			out = append(out, base[i])
			i++
		}
		if i < len(base) && base[i].Key == k {
			i++
		}
		if v := writes[k]; v != nil {
			out = append(out, KV{Key: k, Value: slices.Clone(*v)})
		}
	}
	return append(out, base[i:]...)
}
