package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/privlink/privlink/store"
)

// Config holds what a Cloud needs besides its store. Zero fields take the
// defaults of DefaultConfig.
type Config struct {
	// Region is the one region this cloud serves, e.g. "us-east-1".
	Region string
	// Now is the clock. Tests pass a fixed one.
	Now func() time.Time
	// Rand is the source of identifiers and secrets.
	Rand io.Reader
}

// DefaultConfig returns the configuration of a server started with no flags.
func DefaultConfig() Config {
	return Config{Region: "us-east-1", Now: time.Now, Rand: newRandReader()}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if _, ok := regionInfo(c.Region); !ok {
		return fmt.Errorf("core: unknown region %q", c.Region)
	}
	return nil
}

// Cloud is the domain service: one region of one privlink installation. All
// methods are safe for concurrent use; all state is in the store.
type Cloud struct {
	st   store.Store
	cfg  Config
	ids  idgen
	log  *slog.Logger
	memo *memo // what views decoded
}

// New returns a Cloud over the store.
func New(st store.Store, cfg Config, log *slog.Logger) (*Cloud, error) {
	d := DefaultConfig()
	if cfg.Region == "" {
		cfg.Region = d.Region
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = d.Rand
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cloud{st: st, cfg: cfg, ids: idgen{cfg.Rand}, log: log, memo: newMemo()}, nil
}

// Region returns the region the cloud serves.
func (c *Cloud) Region() string { return c.cfg.Region }

// Store returns the cloud's store, for reconcilers that watch it.
func (c *Cloud) Store() store.Store { return c.st }

func (c *Cloud) now() time.Time { return c.cfg.Now().UTC() }

// txn is a store transaction with typed helpers: an update's (tx set) or a
// view's (rx set). A view's objects are shared and must not be changed. An
// update's objects from get, list and listWhere are its own to change;
// forEach and exists pass it shared ones, which it must not change either.
type txn struct {
	tx   store.Tx
	rx   store.ReadTx
	memo *memo // the objects views and updates share

	// refs are the objects a view read with getRef, nil where one was not
	// found: a view's snapshot never changes, so each is read once.
	refs map[refKey]any
}

// refKey names an object by its key's prefix and its ID, so that finding it
// again among a view's refs builds no key.
type refKey struct{ prefix, id string }

// errReadOnly is what writing in a view returns: a bug in core.
var errReadOnly = errors.New("core: write in a read-only transaction")

// update runs fn in one store transaction. Errors from fn come back as they
// are; store failures come back as internal errors.
func (c *Cloud) update(ctx context.Context, fn func(t *txn) error) error {
	_, err := c.st.Update(ctx, func(tx store.Tx) error { return fn(&txn{tx: tx, memo: c.memo}) })
	return wrapStoreErr(err)
}

// view runs fn in a read-only transaction, which gives it one consistent
// snapshot that includes every earlier write. fn must not write, nor
// modify the objects it reads, which other views share; what it returns
// must not alias them.
func (c *Cloud) view(ctx context.Context, fn func(t *txn) error) error {
	_, err := c.viewRev(ctx, fn)
	return err
}

// viewRev is view that also returns the snapshot's revision.
func (c *Cloud) viewRev(ctx context.Context, fn func(t *txn) error) (int64, error) {
	rev, err := c.st.View(ctx, func(rx store.ReadTx) error { return fn(&txn{rx: rx, memo: c.memo}) })
	return rev, wrapStoreErr(err)
}

func wrapStoreErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := AsError(err); ok {
		return err
	}
	if err == context.Canceled || err == context.DeadlineExceeded {
		return err
	}
	return &Error{Kind: KindInternal, Code: "InternalError", Message: "An internal error has occurred", Err: err}
}

// get reads the object at key: a copy of its own in an update, a shared
// one in a view.
func get[T any](t *txn, key string) (*T, bool, error) {
	if t.rx != nil {
		kv, ok, err := t.rx.Get(key)
		if err != nil || !ok {
			return nil, false, err
		}
		v, err := decode[T](t.memo, kv)
		return v, err == nil, err
	}
	kv, ok, err := t.tx.Get(key)
	if err != nil || !ok {
		return nil, false, err
	}
	if !clonable[T]() {
		v, err := decodeNew[T](kv)
		return v, err == nil, err
	}
	// A copy of the shared object: cloning costs far less than decoding.
	v, err := decode[T](t.memo, kv)
	if err != nil {
		return nil, false, err
	}
	return cloneOf(v), true, nil
}

// getRef is get of the object at prefix+id for objects that many others
// refer to, such as subnets and security groups: a view reads each once and
// then answers from its refs, so describing a thousand endpoints in one
// subnet reads the subnet once. In an update it is get.
func getRef[T any](t *txn, prefix, id string) (*T, bool, error) {
	if t.rx == nil {
		return get[T](t, prefix+id)
	}
	k := refKey{prefix, id}
	if v, ok := t.refs[k]; ok {
		p := v.(*T)
		return p, p != nil, nil
	}
	p, ok, err := get[T](t, prefix+id)
	if err != nil {
		return nil, false, err
	}
	if t.refs == nil {
		t.refs = make(map[refKey]any)
	}
	t.refs[k] = p // nil when not found
	return p, ok, nil
}

// list reads every object under prefix, in key order: copies of their own
// in an update, shared ones in a view. The slice is the caller's.
func list[T any](t *txn, prefix string) ([]*T, error) {
	return listWhere(t, prefix, func(*T) bool { return true })
}

// listWhere is list of only the objects keep accepts, which it sees shared
// and must not change. The objects keep rejects cost nothing but the call,
// which matters when a caller's objects are few among many; in an update,
// only the objects kept are copied.
func listWhere[T any](t *txn, prefix string, keep func(*T) bool) ([]*T, error) {
	if t.rx == nil && !clonable[T]() {
		// No clone method: decode copies of its own.
		all, err := listNew[T](t, prefix)
		return slices.DeleteFunc(all, func(v *T) bool { return !keep(v) }), err
	}
	var out []*T
	err := forEach(t, prefix, func(v *T) {
		if keep(v) {
			if t.rx == nil {
				v = cloneOf(v)
			}
			out = append(out, v)
		}
	})
	return out, err
}

// forEach calls fn with every object under prefix, in key order. The
// objects are shared, in an update too: fn must not change them.
func forEach[T any](t *txn, prefix string, fn func(*T)) error {
	if t.rx != nil {
		return scan(t.memo, t.rx, prefix, func(_ string, v *T) { fn(v) })
	}
	kvs, err := t.tx.List(prefix)
	if err != nil {
		return err
	}
	// Keys the update wrote itself have no revision; decode reads them
	// anew, and scan does not remember them.
	return scan(t.memo, kvList{prefix, kvs}, prefix, func(_ string, v *T) { fn(v) })
}

// exists reports whether an object under prefix satisfies match, which
// sees shared objects and must not change them.
func exists[T any](t *txn, prefix string, match func(*T) bool) (bool, error) {
	found := false
	err := forEach(t, prefix, func(v *T) {
		if !found && match(v) {
			found = true
		}
	})
	return found, err
}

// listNew decodes every object under prefix in an update.
func listNew[T any](t *txn, prefix string) ([]*T, error) {
	kvs, err := t.tx.List(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(kvs))
	for _, kv := range kvs {
		v := new(T)
		if err := json.Unmarshal(kv.Value, v); err != nil {
			return nil, fmt.Errorf("core: decode %s: %w", kv.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// put writes v at key, and moves the index entries of an indexed kind
// (index.go) with it.
func put(t *txn, key string, v any) error {
	if t.tx == nil {
		return errReadOnly
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("core: encode %s: %w", key, err)
	}
	if err := reindex(t, key, v); err != nil {
		return err
	}
	return t.tx.Put(key, b)
}

// del removes the object at key and its index entries.
func del(t *txn, key string) error {
	if t.tx == nil {
		return errReadOnly
	}
	if err := reindex(t, key, nil); err != nil {
		return err
	}
	return t.tx.Delete(key)
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
