package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// txn is a store transaction with typed helpers: an update's (tx set),
// whose objects are its own to change, or a view's (rx set), whose objects
// are shared and must not be changed.
type txn struct {
	tx   store.Tx
	rx   store.ReadTx
	memo *memo // with rx
}

// errReadOnly is what writing in a view returns: a bug in core.
var errReadOnly = errors.New("core: write in a read-only transaction")

// update runs fn in one store transaction. Errors from fn come back as they
// are; store failures come back as internal errors.
func (c *Cloud) update(ctx context.Context, fn func(t *txn) error) error {
	_, err := c.st.Update(ctx, func(tx store.Tx) error { return fn(&txn{tx: tx}) })
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

// get reads the object at key: a new T in an update, a shared one in a
// view.
func get[T any](t *txn, key string) (*T, bool, error) {
	if t.rx != nil {
		kv, ok, err := t.rx.Get(key)
		if err != nil || !ok {
			return nil, false, err
		}
		v, err := decode[T](t.memo, kv)
		return v, err == nil, err
	}
	b, ok, err := t.tx.Get(key)
	if err != nil || !ok {
		return nil, false, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, false, fmt.Errorf("core: decode %s: %w", key, err)
	}
	return v, true, nil
}

// list reads every object under prefix, in key order: new ones in an
// update, shared ones in a view. The slice is the caller's.
func list[T any](t *txn, prefix string) ([]*T, error) {
	if t.rx != nil {
		return listWhere[T](t, prefix, func(*T) bool { return true })
	}
	return listNew[T](t, prefix)
}

// listWhere is list of only the objects keep accepts. In a view, the
// objects keep rejects cost nothing but the call, which matters when a
// caller's objects are few among many.
func listWhere[T any](t *txn, prefix string, keep func(*T) bool) ([]*T, error) {
	var out []*T
	err := forEach(t, prefix, func(v *T) {
		if keep(v) {
			out = append(out, v)
		}
	})
	return out, err
}

// forEach calls fn with every object under prefix, in key order: new ones
// in an update, shared ones in a view.
func forEach[T any](t *txn, prefix string, fn func(*T)) error {
	if t.rx != nil {
		return scan(t.memo, t.rx, prefix, func(_ string, v *T) { fn(v) })
	}
	all, err := listNew[T](t, prefix)
	for _, v := range all {
		fn(v)
	}
	return err
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

// put writes v at key.
func put(t *txn, key string, v any) error {
	if t.tx == nil {
		return errReadOnly
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("core: encode %s: %w", key, err)
	}
	return t.tx.Put(key, b)
}

func del(t *txn, key string) error {
	if t.tx == nil {
		return errReadOnly
	}
	return t.tx.Delete(key)
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
