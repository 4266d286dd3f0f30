package etcdstore

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/storetest"
)

// TestEmbeddedConformanceNoReadCache runs the suite with every read going
// to etcd, the path reads take while the cache loads or lags.
func TestEmbeddedConformanceNoReadCache(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New:     func(t *testing.T) store.Store { return openEmbedded(t, Config{NoReadCache: true}) },
		Compact: compact,
		NewPair: func(t *testing.T) (store.Store, store.Store) {
			a := openEmbedded(t, Config{NoReadCache: true})
			return a, sibling(t, a)
		},
	})
}

// TestSnapshotApply applies random batches of changes to snapshots and
// compares every read with a map, so chunks split, shrink, join and empty
// out; it also checks that applying never changes an older snapshot.
func TestSnapshotApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string]store.KV{}
	snap := newSnapshot(0, nil)
	key := func() string { return fmt.Sprintf("k/%02d/%04d", rng.IntN(8), rng.IntN(1500)) }
	type kept struct {
		snap  *snapshot
		model map[string]store.KV
	}
	var old []kept
	for rev := int64(1); rev <= 300; rev++ {
		// Phases of growth, churn and shrinkage.
		putShare := []float64{0.9, 0.5, 0.1}[rev/100%3]
		var changes []change
		seen := map[string]bool{}
		for range rng.IntN(200) + 1 {
			k := key()
			if seen[k] {
				continue
			}
			seen[k] = true
			if rng.Float64() < putShare {
				kv := store.KV{Key: k, Value: []byte(strconv.FormatInt(rev, 10)), ModRevision: rev}
				changes = append(changes, change{kv: kv})
				model[k] = kv
			} else {
				changes = append(changes, change{kv: store.KV{Key: k}, del: true})
				delete(model, k)
			}
		}
		slices.SortFunc(changes, func(a, b change) int { return strings.Compare(a.kv.Key, b.kv.Key) })
		snap = snap.apply(rev, changes)
		checkSnapshot(t, snap, model)
		if rev%50 == 0 {
			old = append(old, kept{snap, maps.Clone(model)})
		}
	}
	for _, o := range old {
		checkSnapshot(t, o.snap, o.model)
	}
}

// checkSnapshot compares s with want: its structure, Get of every key and
// of missing keys, and List of many prefixes.
func checkSnapshot(t *testing.T, s *snapshot, want map[string]store.KV) {
	t.Helper()
	for i, ch := range s.chunks {
		if len(ch) == 0 || len(ch) > maxChunk {
			t.Fatalf("rev %d: chunk %d holds %d keys", s.rev, i, len(ch))
		}
	}
	if s.len() != len(want) {
		t.Fatalf("rev %d: %d keys, want %d", s.rev, s.len(), len(want))
	}
	for k, kv := range want {
		got, ok, _ := s.Get(k)
		if !ok || string(got.Value) != string(kv.Value) || got.ModRevision != kv.ModRevision {
			t.Fatalf("rev %d: Get(%s) = %+v, %v; want %+v", s.rev, k, got, ok, kv)
		}
	}
	if _, ok, _ := s.Get("k/99/x"); ok {
		t.Fatalf("rev %d: Get of a missing key found it", s.rev)
	}
	keys := slices.Sorted(maps.Keys(want))
	for _, prefix := range []string{"", "k/", "k/0", "k/03/", "k/07/1", "k/05/0999", "k/08", "j", "l"} {
		var wantKeys []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				wantKeys = append(wantKeys, k)
			}
		}
		kvs, _ := s.List(prefix)
		var got, scanned []string
		for _, kv := range kvs {
			got = append(got, kv.Key)
		}
		for kv := range s.Scan(prefix) {
			scanned = append(scanned, kv.Key)
		}
		if !slices.Equal(got, wantKeys) || !slices.Equal(scanned, wantKeys) {
			t.Fatalf("rev %d: List(%q) = %d keys, Scan %d, want %d", s.rev, prefix, len(got), len(scanned), len(wantKeys))
		}
	}
}

// TestViewsUseCache checks that views are served from the cache, both by a
// store on the embedded member and by one that reaches it as a client of
// a cluster would, and that they see the writes before them.
func TestViewsUseCache(t *testing.T) {
	a := openEmbedded(t, Config{})
	b := sibling(t, a)
	ctx := context.Background()
	for i := range 20 {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		rev, err := w.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(strconv.Itoa(i))) })
		if err != nil {
			t.Fatal(err)
		}
		waitCacheCurrent(t, r) // as in TestUpdatesUseCache
		var cached bool
		var got store.KV
		if _, err := r.View(ctx, func(tx store.ReadTx) error {
			_, cached = tx.(*snapshot)
			got, _, err = tx.Get("k")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !cached {
			t.Fatalf("view %d read from etcd, want the cache", i)
		}
		if string(got.Value) != strconv.Itoa(i) || got.ModRevision != rev {
			t.Fatalf("view %d saw %+v, want %d at %d", i, got, i, rev)
		}
	}
}

// TestViewsWithoutCache stops a store's cache, as a lost watch does: views
// then read from etcd and still see every earlier write.
func TestViewsWithoutCache(t *testing.T) {
	s := openEmbedded(t, Config{DataDir: filepath.Join(t.TempDir(), "etcd")})
	ctx := context.Background()
	s.stopCache()
	for s.cache.cur.Load() != nil {
		s.cache.mu.Lock()
		changed := s.cache.changed
		s.cache.mu.Unlock()
		if s.cache.cur.Load() != nil {
			<-changed
		}
	}
	for i := range 10 {
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(strconv.Itoa(i))) }); err != nil {
			t.Fatal(err)
		}
		var cached bool
		var got store.KV
		if _, err := s.View(ctx, func(tx store.ReadTx) error {
			var err error
			_, cached = tx.(*snapshot)
			got, _, err = tx.Get("k")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if cached || string(got.Value) != strconv.Itoa(i) {
			t.Fatalf("view %d without a cache saw %q (from the cache: %v)", i, got.Value, cached)
		}
	}
}

// TestUpdatesUseCache checks that updates read from the cache, on the
// embedded member and through a client, see the writes before them, and
// that the commit's compare refuses a snapshot older than the last
// commit, so an update never decides on stale reads.
func TestUpdatesUseCache(t *testing.T) {
	a := openEmbedded(t, Config{})
	b := sibling(t, a)
	ctx := context.Background()
	for i := range 20 {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		if _, err := w.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(strconv.Itoa(i))) }); err != nil {
			t.Fatal(err)
		}
		// Whether the cache catches up within cacheLag depends on the
		// machine's load; what is tested is that a current cache serves
		// the update's reads.
		waitCacheCurrent(t, r)
		var cached bool
		var got []byte
		if _, err := r.Update(ctx, func(stx store.Tx) error {
			cached = stx.(*tx).snap != nil
			kv, _, err := stx.Get("k")
			if err != nil {
				return err
			}
			got = kv.Value
			return stx.Put("seen", got)
		}); err != nil {
			t.Fatal(err)
		}
		if !cached {
			t.Fatalf("update %d read from etcd, want the cache", i)
		}
		if string(got) != strconv.Itoa(i) {
			t.Fatalf("update %d read %q, want %d", i, got, i)
		}
	}

	// An attempt on a snapshot from before the last commit loses.
	stale := a.cache.cur.Load()
	if _, err := b.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("newer")) }); err != nil {
		t.Fatal(err)
	}
	r := &request{fn: func(tx store.Tx) error { return tx.Put("k", []byte("stale")) }, done: make(chan struct{})}
	if ran, lost := a.runBatch(ctx, a.cachedView(stale), []*request{r}); ran != 1 || !lost || r.finished() {
		t.Fatalf("a batch on a stale snapshot: ran %d, lost %v, finished %v; want it to lose the compare", ran, lost, r.finished())
	}
	if kv, _, err := a.Get(ctx, "k"); err != nil || string(kv.Value) != "newer" {
		t.Fatalf("k = %q (err %v), want the newer write kept", kv.Value, err)
	}
}

// waitCacheCurrent waits until s's cache holds every commit made so far.
// The deadline only guards against hangs.
func waitCacheCurrent(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		target, err := s.lastCommit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if snap := s.cache.cur.Load(); snap != nil && snap.rev >= target {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache never caught up with revision %d", target)
		}
		time.Sleep(time.Millisecond)
	}
}
