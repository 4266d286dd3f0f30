package core

import (
	"context"
	"encoding/json"
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
	st  store.Store
	cfg Config
	ids idgen
	log *slog.Logger
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
	return &Cloud{st: st, cfg: cfg, ids: idgen{cfg.Rand}, log: log}, nil
}

// Region returns the region the cloud serves.
func (c *Cloud) Region() string { return c.cfg.Region }

// Store returns the cloud's store, for reconcilers that watch it.
func (c *Cloud) Store() store.Store { return c.st }

func (c *Cloud) now() time.Time { return c.cfg.Now().UTC() }

// txn is a store transaction with typed helpers.
type txn struct{ tx store.Tx }

// update runs fn in one store transaction. Errors from fn come back as they
// are; store failures come back as internal errors.
func (c *Cloud) update(ctx context.Context, fn func(t *txn) error) error {
	_, err := c.st.Update(ctx, func(tx store.Tx) error { return fn(&txn{tx}) })
	return wrapStoreErr(err)
}

// view runs fn in a read-only transaction, which gives it one consistent
// snapshot. fn must not write.
func (c *Cloud) view(ctx context.Context, fn func(t *txn) error) error {
	return c.update(ctx, fn)
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

// get reads the object at key into a new T.
func get[T any](t *txn, key string) (*T, bool, error) {
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

// list reads every object under prefix, in key order.
func list[T any](t *txn, prefix string) ([]*T, error) {
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
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("core: encode %s: %w", key, err)
	}
	return t.tx.Put(key, b)
}

func del(t *txn, key string) error { return t.tx.Delete(key) }

func itoa(n int32) string { return strconv.Itoa(int(n)) }
