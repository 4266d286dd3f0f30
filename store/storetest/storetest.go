// Package storetest is the conformance suite for store.Store. Every
// implementation runs it from its own tests, so they all keep the contract in
// store.go the same way and the rest of privlink can treat them alike.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privlink/privlink/store"
)

// Harness tells Run how to make the stores it tests.
type Harness struct {
	// New returns a new, empty store and arranges for it to be closed when
	// t ends. The suite closes some stores itself, so Close must tolerate
	// a second call.
	New func(t *testing.T) store.Store
	// Compact, if set, discards the history of s before rev, as etcd's
	// Compact does: a Watch from rev-1 or later still works, a Watch from
	// an earlier revision gets store.ErrCompacted. Without it the
	// compaction test is skipped.
	Compact func(t *testing.T, s store.Store, rev int64)
	// NewPair, if set, returns two new stores on the same, empty data that
	// share no locks or caches, like two processes on one cluster. Both are
	// closed when t ends. Without it the tests of transactions racing across
	// stores are skipped.
	NewPair func(t *testing.T) (a, b store.Store)
}

// patience bounds every wait for a watch response. It only turns a hang
// into a failure; nothing here asserts speed.
const patience = 30 * time.Second

// Run runs the whole suite against h, each test on its own store, in
// parallel.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"ValuesAreCopies", testValuesAreCopies},
		{"Revisions", testRevisions},
		{"ListOrderAndPrefix", testListOrderAndPrefix},
		{"ListThenWatch", testListThenWatch},
		{"ReadYourWrites", testReadYourWrites},
		{"DeleteMissing", testDeleteMissing},
		{"FnErrorWritesNothing", testFnErrorWritesNothing},
		{"FnPanic", testFnPanic},
		{"ReadOnlyUpdate", testReadOnlyUpdate},
		{"UpdateListRevisions", testUpdateListRevisions},
		{"View", testView},
		{"ViewSeesEarlierWrites", testViewSeesEarlierWrites},
		{"ViewThenWatch", testViewThenWatch},
		{"ViewValuesStay", testViewValuesStay},
		{"CanceledContext", testCanceledContext},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"SnapshotsAreConsistent", testSnapshotsAreConsistent},
		{"WatchEvents", testWatchEvents},
		{"WatchCompacted", testWatchCompacted},
		{"WatchCancel", testWatchCancel},
		{"Close", testClose},
		{"Pair/ConcurrentIncrements", testPairIncrements},
		{"Pair/SnapshotsAreConsistent", testPairSnapshots},
		{"Pair/RetryOnConflict", testPairRetry},
		{"Pair/ErrConflict", testPairErrConflict},
		{"Pair/ViewSeesEarlierWrites", testPairViewSeesEarlierWrites},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h)
		})
	}
}

// Benchmarks shared by the implementations' tests.

// BenchUpdate measures an Update that reads nothing and writes one small
// key.
func BenchUpdate(b *testing.B, s store.Store) {
	ctx := context.Background()
	val := []byte("a small value of about forty bytes......")
	i := 0
	for b.Loop() {
		key := "bench/update/" + strconv.Itoa(i%1000)
		i++
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, val) }); err != nil {
			b.Fatal(err)
		}
	}
}

// value is a transaction read's value.
func value(kv store.KV, found bool, err error) ([]byte, bool, error) {
	return kv.Value, found, err
}

// BenchUpdateConcurrent measures Updates from clients goroutines at once,
// each reading and rewriting keys of its own, as concurrent API calls do:
// b.N Updates in all.
func BenchUpdateConcurrent(b *testing.B, s store.Store, clients int) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				key := fmt.Sprintf("bench/concurrent/%d/%d", c, i%100)
				if _, err := s.Update(ctx, func(tx store.Tx) error {
					v, _, err := value(tx.Get(key))
					if err != nil {
						return err
					}
					if len(v) >= 64 {
						v = nil
					}
					return tx.Put(key, append(slices.Clip(v), 'x'))
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchList measures a List of n keys with 100-byte values.
func BenchList(b *testing.B, s store.Store, n int) {
	ctx := context.Background()
	val := bytes.Repeat([]byte("v"), 100)
	const batch = 100
	for i := 0; i < n; i += batch {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < min(i+batch, n); j++ {
				if err := tx.Put(fmt.Sprintf("bench/list/%08d", j), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		kvs, _, err := s.List(ctx, "bench/list/")
		if err != nil {
			b.Fatal(err)
		}
		if len(kvs) != n {
			b.Fatalf("List returned %d keys, want %d", len(kvs), n)
		}
	}
}

// Helpers.

type kv struct{ k, v string }

// put commits the pairs in one Update and returns its revision.
func put(t *testing.T, s store.Store, pairs ...kv) int64 {
	t.Helper()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, p := range pairs {
			if err := tx.Put(p.k, []byte(p.v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(put %v): %v", pairs, err)
	}
	return rev
}

// del deletes the keys in one Update and returns its revision.
func del(t *testing.T, s store.Store, keys ...string) int64 {
	t.Helper()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(delete %v): %v", keys, err)
	}
	return rev
}

func mustGet(t *testing.T, s store.Store, key string) (store.KV, bool) {
	t.Helper()
	kv, ok, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv, ok
}

// wantValue fails unless key holds want.
func wantValue(t *testing.T, s store.Store, key, want string) store.KV {
	t.Helper()
	kv, ok := mustGet(t, s, key)
	if !ok {
		t.Fatalf("Get(%q): not found, want %q", key, want)
	}
	if string(kv.Value) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, kv.Value, want)
	}
	return kv
}

func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	if kv, ok := mustGet(t, s, key); ok {
		t.Fatalf("Get(%q) = %q at %d, want not found", key, kv.Value, kv.ModRevision)
	}
}

// ev is an event in a form that compares and prints well.
type ev struct {
	typ store.EventType
	key string
	val string
	rev int64
}

func (e ev) String() string {
	if e.typ == store.EventDelete {
		return fmt.Sprintf("delete %s @%d", e.key, e.rev)
	}
	return fmt.Sprintf("put %s=%q @%d", e.key, e.val, e.rev)
}

func putEv(key, val string, rev int64) ev { return ev{store.EventPut, key, val, rev} }
func delEv(key string, rev int64) ev      { return ev{store.EventDelete, key, "", rev} }

// receive reads n events from ch. It checks each response's Revision and
// that revisions never go back, and fails on an error response or a channel
// that closes early.
func receive(t *testing.T, ch <-chan store.WatchResponse, n int) []ev {
	t.Helper()
	var out []ev
	timeout := time.NewTimer(patience)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case resp, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %v", len(out), n, out)
			}
			if resp.Err != nil {
				t.Fatalf("watch failed after %d of %d events: %v", len(out), n, resp.Err)
			}
			if len(resp.Events) == 0 {
				t.Fatalf("watch sent a response with no events and no error: %+v", resp)
			}
			for _, e := range resp.Events {
				if len(out) > 0 && e.KV.ModRevision < out[len(out)-1].rev {
					t.Fatalf("event %v after %v: revisions went back", e, out[len(out)-1])
				}
				if e.Type == store.EventDelete && len(e.KV.Value) != 0 {
					t.Errorf("delete event for %s carries value %q", e.KV.Key, e.KV.Value)
				}
				out = append(out, ev{e.Type, e.KV.Key, string(e.KV.Value), e.KV.ModRevision})
			}
			if last := out[len(out)-1].rev; resp.Revision < last {
				t.Fatalf("response Revision %d is before its last event's %d", resp.Revision, last)
			}
		case <-timeout.C:
			t.Fatalf("got %d of %d events in %v: %v", len(out), n, patience, out)
		}
	}
	if len(out) > n {
		t.Fatalf("got %d events, want %d: %v", len(out), n, out)
	}
	return out
}

// sameEvents compares events, ignoring the order of events within one
// revision (one transaction), which the contract leaves open.
func sameEvents(t *testing.T, what string, got, want []ev) {
	t.Helper()
	norm := func(es []ev) []ev {
		es = slices.Clone(es)
		sort.SliceStable(es, func(i, j int) bool {
			if es[i].rev != es[j].rev {
				return es[i].rev < es[j].rev
			}
			return es[i].key < es[j].key
		})
		return es
	}
	if g, w := norm(got), norm(want); !slices.Equal(g, w) {
		t.Fatalf("%s:\n got  %v\n want %v", what, g, w)
	}
}

// quiet proves a watch has nothing more queued: it writes key and checks
// that the watch's next event is exactly that write.
func quiet(t *testing.T, s store.Store, ch <-chan store.WatchResponse, key string) {
	t.Helper()
	rev := put(t, s, kv{key, "sentinel"})
	sameEvents(t, "next event after the expected ones", receive(t, ch, 1), []ev{putEv(key, "sentinel", rev)})
}

// drainClosed reads ch until it closes; it fails on events or errors other
// than allowed.
func drainClosed(t *testing.T, ch <-chan store.WatchResponse, allowEvents bool, allowErr error) {
	t.Helper()
	timeout := time.NewTimer(patience)
	defer timeout.Stop()
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return
			}
			if resp.Err != nil && (allowErr == nil || !errors.Is(resp.Err, allowErr)) {
				t.Fatalf("watch ended with %v, want it closed quietly", resp.Err)
			}
			if len(resp.Events) > 0 && !allowEvents {
				t.Fatalf("watch sent events %+v, want it closed", resp.Events)
			}
		case <-timeout.C:
			t.Fatalf("watch still open after %v", patience)
		}
	}
}

// The tests.

func testGetMissing(t *testing.T, h Harness) {
	s := h.New(t)
	wantMissing(t, s, "nothing/here")
	kvs, _, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatalf("List(\"\") on an empty store: %v", err)
	}
	if len(kvs) != 0 {
		t.Fatalf("List(\"\") on an empty store = %+v, want nothing", kvs)
	}
}

func testPutGet(t *testing.T, h Harness) {
	s := h.New(t)
	tests := []struct {
		name, key string
		val       []byte
	}{
		{"text", "vpc/vpc-1", []byte(`{"cidr":"10.0.0.0/16"}`)},
		{"empty", "empty", []byte{}},
		{"nil is empty", "nil", nil},
		{"binary", "bin", []byte{0, 1, 0xfe, 0xff, '\n'}},
		{"odd key", "a b/ünïcode/\x01", []byte("x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rev, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put(tc.key, tc.val) })
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if rev <= 0 {
				t.Fatalf("Update returned revision %d, want > 0", rev)
			}
			kv, ok := mustGet(t, s, tc.key)
			if !ok {
				t.Fatalf("Get(%q): not found after Put", tc.key)
			}
			if kv.Key != tc.key || !bytes.Equal(kv.Value, tc.val) || kv.ModRevision != rev {
				t.Fatalf("Get(%q) = {%q %q %d}, want {%q %q %d}", tc.key, kv.Key, kv.Value, kv.ModRevision, tc.key, tc.val, rev)
			}
		})
	}
}

func testValuesAreCopies(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := context.Background()
	buf := []byte("original")
	if _, err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("k", buf); err != nil {
			return err
		}
		copy(buf, "CHANGED!") // the caller reuses its buffer
		v, _, err := value(tx.Get("k"))
		if err != nil {
			return err
		}
		if string(v) != "original" {
			return fmt.Errorf("tx.Get after the caller changed the Put buffer = %q, want %q", v, "original")
		}
		v[0] = 'X' // and scribbles on what it read
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	kv := wantValue(t, s, "k", "original")
	kv.Value[0] = 'X'
	wantValue(t, s, "k", "original")
	kvs, _, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	kvs[0].Value[0] = 'X'
	wantValue(t, s, "k", "original")
}

// testUpdateListRevisions checks that a transaction's List and Get report the
// revisions a view reports for the keys it did not write, and 0 for those
// it did: callers reuse what they decoded by key and revision.
func testUpdateListRevisions(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := context.Background()
	ra := put(t, s, kv{"k/a", "1"})
	rb := put(t, s, kv{"k/b", "1"})
	put(t, s, kv{"k/a", "2"})
	var viewed []store.KV
	if _, err := s.View(ctx, func(rx store.ReadTx) error {
		var err error
		viewed, err = rx.List("k/")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(viewed) != 2 || viewed[0].ModRevision <= ra || viewed[1].ModRevision != rb {
		t.Fatalf("view listed %+v, want k/a after revision %d and k/b at %d", viewed, ra, rb)
	}
	if _, err := s.Update(ctx, func(tx store.Tx) error {
		got, err := tx.List("k/")
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].ModRevision != viewed[0].ModRevision || got[1].ModRevision != rb {
			return fmt.Errorf("update listed %+v before writing, want the revisions %+v", got, viewed)
		}
		if err := tx.Put("k/c", []byte("1")); err != nil {
			return err
		}
		if err := tx.Put("k/b", []byte("2")); err != nil {
			return err
		}
		got, err = tx.List("k/")
		if err != nil {
			return err
		}
		want := []int64{viewed[0].ModRevision, 0, 0}
		if len(got) != 3 || got[0].ModRevision != want[0] || got[1].ModRevision != 0 || got[2].ModRevision != 0 {
			return fmt.Errorf("update listed %+v after writing k/b and k/c, want revisions %v", got, want)
		}
		// Get reports revisions as List does.
		for i, key := range []string{"k/a", "k/b", "k/c"} {
			kv, ok, err := tx.Get(key)
			if err != nil {
				return err
			}
			if !ok || kv.Key != key || kv.ModRevision != want[i] || !bytes.Equal(kv.Value, got[i].Value) {
				return fmt.Errorf("update got %+v, %v for %s, want %+v", kv, ok, key, got[i])
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func testRevisions(t *testing.T, h Harness) {
	s := h.New(t)
	r1 := put(t, s, kv{"a", "1"})
	r2 := put(t, s, kv{"b", "1"})
	r3 := put(t, s, kv{"a", "2"})
	r4 := del(t, s, "b")
	if !(0 < r1 && r1 < r2 && r2 < r3 && r3 < r4) {
		t.Fatalf("commit revisions %d %d %d %d, want strictly increasing", r1, r2, r3, r4)
	}
	if kv := wantValue(t, s, "a", "2"); kv.ModRevision != r3 {
		t.Fatalf("a's ModRevision = %d, want %d (its last write)", kv.ModRevision, r3)
	}
	r5 := put(t, s, kv{"c", "1"})
	if kv := wantValue(t, s, "a", "2"); kv.ModRevision != r3 {
		t.Fatalf("a's ModRevision = %d after a write to c, want %d", kv.ModRevision, r3)
	}
	_, rev, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if rev < r5 {
		t.Fatalf("List revision %d is before the last commit %d", rev, r5)
	}
}

func testListOrderAndPrefix(t *testing.T, h Harness) {
	s := h.New(t)
	keys := []string{"a", "a/1", "a/10", "a/2", "a/b/c", "ab", "B", "b/x", "é", "a/\x00", "~"}
	revs := map[string]int64{}
	for _, i := range rand.Perm(len(keys)) {
		revs[keys[i]] = put(t, s, kv{keys[i], "v" + keys[i]})
	}
	last := slices.Max(slices.Collect(maps.Values(revs)))
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"B", "a", "a/\x00", "a/1", "a/10", "a/2", "a/b/c", "ab", "b/x", "~", "é"}},
		{"a/", []string{"a/\x00", "a/1", "a/10", "a/2", "a/b/c"}},
		{"a/1", []string{"a/1", "a/10"}},
		{"a", []string{"a", "a/\x00", "a/1", "a/10", "a/2", "a/b/c", "ab"}},
		{"b", []string{"b/x"}},
		{"zzz", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.prefix), func(t *testing.T) {
			kvs, rev, err := s.List(context.Background(), tc.prefix)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if rev < last {
				t.Errorf("List revision %d is before the last commit %d", rev, last)
			}
			var got []string
			for _, kv := range kvs {
				got = append(got, kv.Key)
				if string(kv.Value) != "v"+kv.Key || kv.ModRevision != revs[kv.Key] {
					t.Errorf("List gave %q = %q @%d, want %q @%d", kv.Key, kv.Value, kv.ModRevision, "v"+kv.Key, revs[kv.Key])
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("List(%q) keys = %q, want %q", tc.prefix, got, tc.want)
			}
		})
	}
}

// testListThenWatch checks the pattern every reconciler uses: list, then
// watch from the list's revision, and see exactly the later changes.
func testListThenWatch(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	put(t, s, kv{"obj/1", "before"})
	kvs, rev, err := s.List(ctx, "obj/")
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 1 {
		t.Fatalf("List = %+v, want obj/1", kvs)
	}
	r2 := put(t, s, kv{"obj/2", "after"})
	r3 := del(t, s, "obj/1")
	ch := s.Watch(ctx, "obj/", rev)
	sameEvents(t, "watch from the List revision", receive(t, ch, 2), []ev{putEv("obj/2", "after", r2), delEv("obj/1", r3)})
	quiet(t, s, ch, "obj/zz")
}

func testReadYourWrites(t *testing.T, h Harness) {
	s := h.New(t)
	put(t, s, kv{"x", "1"}, kv{"y", "1"}, kv{"z", "1"}, kv{"other/q", "1"})
	check := func(tx store.Tx, key, want string) error {
		v, ok, err := value(tx.Get(key))
		switch {
		case err != nil:
			return fmt.Errorf("tx.Get(%q): %w", key, err)
		case want == "" && ok:
			return fmt.Errorf("tx.Get(%q) = %q, want not found", key, v)
		case want != "" && (!ok || string(v) != want):
			return fmt.Errorf("tx.Get(%q) = %q, %v, want %q", key, v, ok, want)
		}
		return nil
	}
	_, err := s.Update(context.Background(), func(tx store.Tx) error {
		steps := []func() error{
			func() error { return check(tx, "x", "1") },
			func() error { return tx.Put("x", []byte("2")) },
			func() error { return check(tx, "x", "2") },
			func() error { return tx.Delete("y") },
			func() error { return check(tx, "y", "") },
			func() error { return tx.Put("w", []byte("1")) },
			func() error { return tx.Delete("w") },
			func() error { return check(tx, "w", "") },
			func() error { return tx.Delete("z") },
			func() error { return tx.Put("z", []byte("3")) },
			func() error { return check(tx, "z", "3") },
			func() error { return tx.Put("n", []byte("new")) },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		kvs, err := tx.List("")
		if err != nil {
			return err
		}
		var got []string
		for _, kv := range kvs {
			got = append(got, kv.Key+"="+string(kv.Value))
		}
		if want := []string{"n=new", "other/q=1", "x=2", "z=3"}; !slices.Equal(got, want) {
			return fmt.Errorf("tx.List(\"\") = %q, want %q", got, want)
		}
		kvs, err = tx.List("other/")
		if err != nil {
			return err
		}
		if len(kvs) != 1 || kvs[0].Key != "other/q" {
			return fmt.Errorf("tx.List(\"other/\") = %+v, want other/q only", kvs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "x", "2")
	wantMissing(t, s, "y")
	wantMissing(t, s, "w")
	wantValue(t, s, "z", "3")
	wantValue(t, s, "n", "new")
}

func testDeleteMissing(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, rev, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("k/ghost") }); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	wantMissing(t, s, "k/ghost")
	// Nothing changed, so a watcher sees no event for the ghost.
	quiet(t, s, s.Watch(ctx, "k/", rev), "k/real")
}

type fnError struct{ msg string }

func (e *fnError) Error() string { return e.msg }

func testFnErrorWritesNothing(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	put(t, s, kv{"k/a", "1"}, kv{"k/b", "1"})
	_, rev, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	sentinel := &fnError{"no, thanks"}
	_, err = s.Update(ctx, func(tx store.Tx) error {
		_ = tx.Put("k/a", []byte("2"))
		_ = tx.Delete("k/b")
		_ = tx.Put("k/c", []byte("1"))
		return sentinel
	})
	if err != sentinel { // the contract says "as is", so not errors.Is
		t.Fatalf("Update returned %v (%T), want fn's error unchanged", err, err)
	}
	wantValue(t, s, "k/a", "1")
	wantValue(t, s, "k/b", "1")
	wantMissing(t, s, "k/c")
	quiet(t, s, s.Watch(ctx, "k/", rev), "k/z")
}

// testFnPanic: a function that panics panics its Update's caller, as if
// it ran there, writes nothing, and leaves the store working, even when
// other Updates run at the same time.
func testFnPanic(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := context.Background()
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			key := "ok/" + strconv.Itoa(w)
			if w == 0 {
				key = "panicked"
			}
			defer func() {
				got := recover()
				switch {
				case w == 0 && got != "boom":
					t.Errorf("Update whose function panicked with boom: recovered %v", got)
				case w != 0 && got != nil:
					t.Errorf("Update %d panicked with %v", w, got)
				}
			}()
			_, err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.Put(key, []byte("1")); err != nil {
					return err
				}
				if w == 0 {
					panic("boom")
				}
				return nil
			})
			if err != nil {
				t.Errorf("Update %d: %v", w, err)
			}
		})
	}
	wg.Wait()
	wantMissing(t, s, "panicked")
	for w := 1; w < workers; w++ {
		wantValue(t, s, "ok/"+strconv.Itoa(w), "1")
	}
	put(t, s, kv{"after", "1"})
	wantValue(t, s, "after", "1")
}

func testReadOnlyUpdate(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r1 := put(t, s, kv{"k/a", "1"})
	var seen string
	rev, err := s.Update(ctx, func(tx store.Tx) error {
		v, _, err := value(tx.Get("k/a"))
		seen = string(v)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != "1" {
		t.Fatalf("read-only Update saw k/a = %q, want %q", seen, "1")
	}
	if rev < r1 {
		t.Fatalf("read-only Update returned revision %d, before the last commit %d", rev, r1)
	}
	quiet(t, s, s.Watch(ctx, "k/", r1), "k/z")
}

func testCanceledContext(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("1")) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update with a canceled context = %v, want context.Canceled", err)
	}
	wantMissing(t, s, "k")
	ran := false
	_, err = s.View(ctx, func(tx store.ReadTx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("View with a canceled context = %v (fn ran: %v), want context.Canceled", err, ran)
	}
}

// testView checks what a read-only transaction sees.
func testView(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := context.Background()
	r1 := put(t, s, kv{"v/a", "1"}, kv{"v/b", "2"}, kv{"w", "3"})
	r2 := put(t, s, kv{"v/b", "22"}, kv{"v/c", "3"})
	r3 := del(t, s, "v/c")
	rev, err := s.View(ctx, func(tx store.ReadTx) error {
		a, ok, err := tx.Get("v/a")
		if err != nil || !ok || string(a.Value) != "1" || a.Key != "v/a" || a.ModRevision != r1 {
			return fmt.Errorf("Get(v/a) = %+v, %v, %v; want 1 at %d", a, ok, err, r1)
		}
		if c, ok, err := tx.Get("v/c"); err != nil || ok {
			return fmt.Errorf("Get of a deleted key = %+v, %v, %v; want not found", c, ok, err)
		}
		kvs, err := tx.List("v/")
		if err != nil {
			return err
		}
		var got []string
		for _, kv := range kvs {
			got = append(got, fmt.Sprintf("%s=%s@%d", kv.Key, kv.Value, kv.ModRevision))
		}
		if want := []string{fmt.Sprintf("v/a=1@%d", r1), fmt.Sprintf("v/b=22@%d", r2)}; !slices.Equal(got, want) {
			return fmt.Errorf("List(v/) = %q, want %q", got, want)
		}
		if kvs, err := tx.List("nothing/"); err != nil || len(kvs) != 0 {
			return fmt.Errorf("List(nothing/) = %+v, %v; want nothing", kvs, err)
		}
		for _, prefix := range []string{"", "v/", "nothing/"} {
			want, err := tx.List(prefix)
			if err != nil {
				return err
			}
			var scanned []store.KV
			for kv, err := range tx.Scan(prefix) {
				if err != nil {
					return err
				}
				scanned = append(scanned, kv)
			}
			if fmt.Sprint(scanned) != fmt.Sprint(want) {
				return fmt.Errorf("Scan(%q) = %+v, want List's %+v", prefix, scanned, want)
			}
		}
		n := 0
		for range tx.Scan("") {
			n++
			break
		}
		if n != 1 {
			return fmt.Errorf("a Scan stopped after its first key yielded %d keys", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev < r3 {
		t.Fatalf("View revision %d is before the last commit %d", rev, r3)
	}
	sentinel := &fnError{"from fn"}
	if _, err := s.View(ctx, func(tx store.ReadTx) error { return sentinel }); err != sentinel {
		t.Fatalf("View whose fn failed = %v, want fn's error as is", err)
	}
}

// testViewSeesEarlierWrites checks that a view is linearizable: it sees
// the write that returned just before it began, every time.
func testViewSeesEarlierWrites(t *testing.T, h Harness) {
	s := h.New(t)
	viewsSeeWrites(t, s, s)
}

func testPairViewSeesEarlierWrites(t *testing.T, h Harness) {
	if h.NewPair == nil {
		t.Skip("harness has no pairs")
	}
	a, b := h.NewPair(t)
	viewsSeeWrites(t, a, b)
	viewsSeeWrites(t, b, a)
}

// viewsSeeWrites writes through w and reads each write back through r, in
// a View, with Get and with List.
func viewsSeeWrites(t *testing.T, w, r store.Store) {
	ctx := context.Background()
	for i := range 100 {
		want := strconv.Itoa(i)
		rev := put(t, w, kv{"seen", want})
		var got store.KV
		vrev, err := r.View(ctx, func(tx store.ReadTx) error {
			var err error
			got, _, err = tx.Get("seen")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Value) != want || got.ModRevision != rev || vrev < rev {
			t.Fatalf("View after the write of %s at %d saw %q at %d, revision %d", want, rev, got.Value, got.ModRevision, vrev)
		}
		if kv := wantValue(t, r, "seen", want); kv.ModRevision != rev {
			t.Fatalf("Get after the write at %d saw it at %d", rev, kv.ModRevision)
		}
		kvs, lrev, err := r.List(ctx, "seen")
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) != 1 || string(kvs[0].Value) != want || lrev < rev {
			t.Fatalf("List after the write of %s at %d = %+v at %d", want, rev, kvs, lrev)
		}
	}
}

// testViewThenWatch checks that a watch from a View's revision sees
// exactly the later changes.
func testViewThenWatch(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	put(t, s, kv{"obj/1", "before"})
	rev, err := s.View(ctx, func(tx store.ReadTx) error {
		kvs, err := tx.List("obj/")
		if err == nil && len(kvs) != 1 {
			err = fmt.Errorf("List = %+v, want obj/1", kvs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r2 := put(t, s, kv{"obj/2", "after"})
	r3 := del(t, s, "obj/1")
	ch := s.Watch(ctx, "obj/", rev)
	sameEvents(t, "watch from the View revision", receive(t, ch, 2), []ev{putEv("obj/2", "after", r2), delEv("obj/1", r3)})
	quiet(t, s, ch, "obj/zz")
}

// testViewValuesStay checks that values a View returned do not change when
// their keys are written again: views may keep them.
func testViewValuesStay(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := context.Background()
	put(t, s, kv{"k/1", "first"}, kv{"k/2", "first"})
	var kept []store.KV
	if _, err := s.View(ctx, func(tx store.ReadTx) error {
		var err error
		kept, err = tx.List("k/")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	put(t, s, kv{"k/1", "SECOND"})
	del(t, s, "k/2")
	for _, kv := range kept {
		if string(kv.Value) != "first" {
			t.Fatalf("value of %s kept from a View became %q", kv.Key, kv.Value)
		}
	}
}

func testConcurrentIncrements(t *testing.T, h Harness) {
	increments(t, h.New(t))
}

func testPairIncrements(t *testing.T, h Harness) {
	if h.NewPair == nil {
		t.Skip("harness has no pairs")
	}
	a, b := h.NewPair(t)
	increments(t, a, b)
}

// increments has 8 goroutines, spread over stores, add 1 to one counter 50
// times each.
func increments(t *testing.T, stores ...store.Store) {
	s := stores[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const workers, each = 8, 50
	_, start, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex       // guards revs
	revs := map[int64]int{} // revision → increments committed at it
	var wg sync.WaitGroup
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for range each {
				rev, err := s.Update(ctx, func(tx store.Tx) error {
					v, _, err := value(tx.Get("counter"))
					if err != nil {
						return err
					}
					n := 0
					if len(v) > 0 {
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					runtime.Gosched() // widen the window for lost updates
					return tx.Put("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("increment: %v", err)
					return
				}
				mu.Lock()
				revs[rev]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	wantValue(t, s, "counter", strconv.Itoa(workers*each))

	// The history is the serial order: at each revision an Update
	// returned, the counter rose by the increments committed there (a
	// store may commit several Updates together, as one change).
	got := receive(t, s.Watch(ctx, "counter", start), len(revs))
	total := 0
	for i, e := range got {
		total += revs[e.rev]
		if e.key != "counter" || revs[e.rev] == 0 || e.val != strconv.Itoa(total) {
			t.Fatalf("event %d = %v, want put counter=%d at a revision an Update returned", i, e, total)
		}
	}
}

// testSnapshotsAreConsistent moves units between two keys while readers
// check that no snapshot shows a move half done.
func testSnapshotsAreConsistent(t *testing.T, h Harness) {
	s := h.New(t)
	snapshots(t, s, s)
}

// testPairSnapshots writes through one store and reads through the other,
// so the readers' transactions really overlap the writer's.
func testPairSnapshots(t *testing.T, h Harness) {
	if h.NewPair == nil {
		t.Skip("harness has no pairs")
	}
	a, b := h.NewPair(t)
	snapshots(t, a, b)
}

func snapshots(t *testing.T, s, rs store.Store) {
	ctx := context.Background()
	const total, moves, readers = 100, 200, 4
	put(t, s, kv{"acct/a", strconv.Itoa(total)}, kv{"acct/b", "0"})
	atoi := func(v []byte) (int, error) { return strconv.Atoi(string(v)) }

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range moves {
			from, to := "acct/a", "acct/b"
			if i%3 == 2 {
				from, to = to, from
			}
			_, err := s.Update(ctx, func(tx store.Tx) error {
				fv, _, err := value(tx.Get(from))
				if err != nil {
					return err
				}
				tv, _, err := value(tx.Get(to))
				if err != nil {
					return err
				}
				f, err := atoi(fv)
				if err != nil {
					return err
				}
				g, err := atoi(tv)
				if err != nil {
					return err
				}
				if f == 0 {
					return nil
				}
				if err := tx.Put(from, []byte(strconv.Itoa(f-1))); err != nil {
					return err
				}
				runtime.Gosched() // a reader may run between the two writes
				return tx.Put(to, []byte(strconv.Itoa(g+1)))
			})
			if err != nil {
				t.Errorf("move %d: %v", i, err)
				return
			}
		}
	})
	for r := range readers {
		wg.Go(func() {
			for checks := 0; ; checks++ {
				select {
				case <-done:
					if checks == 0 {
						t.Errorf("reader %d never ran", r)
					}
					return
				default:
				}
				var a, b int
				_, err := rs.Update(ctx, func(tx store.Tx) error {
					av, _, err := value(tx.Get("acct/a"))
					if err != nil {
						return err
					}
					runtime.Gosched() // let the writer commit between the reads
					bv, _, err := value(tx.Get("acct/b"))
					if err != nil {
						return err
					}
					if a, err = atoi(av); err != nil {
						return err
					}
					b, err = atoi(bv)
					return err
				})
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				if a+b != total {
					t.Errorf("reader %d: transaction saw a=%d b=%d, sum %d, want %d", r, a, b, a+b, total)
					return
				}
				var va, vb, vl int
				_, err = rs.View(ctx, func(tx store.ReadTx) error {
					akv, _, err := tx.Get("acct/a")
					if err != nil {
						return err
					}
					runtime.Gosched() // let the writer commit between the reads
					bkv, _, err := tx.Get("acct/b")
					if err != nil {
						return err
					}
					kvs, err := tx.List("acct/")
					if err != nil {
						return err
					}
					if va, err = atoi(akv.Value); err != nil {
						return err
					}
					if vb, err = atoi(bkv.Value); err != nil {
						return err
					}
					for _, kv := range kvs {
						n, err := atoi(kv.Value)
						if err != nil {
							return err
						}
						vl += n
					}
					return nil
				})
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				if va+vb != total || vl != total {
					t.Errorf("reader %d: view saw a=%d b=%d and a list summing to %d, want both sums %d", r, va, vb, vl, total)
					return
				}
				kvs, _, err := rs.List(ctx, "acct/")
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				sum := 0
				for _, kv := range kvs {
					n, err := atoi(kv.Value)
					if err != nil {
						t.Errorf("reader %d: %v", r, err)
						return
					}
					sum += n
				}
				if len(kvs) != 2 || sum != total {
					t.Errorf("reader %d: List saw %+v, sum %d, want 2 keys summing to %d", r, kvs, sum, total)
					return
				}
			}
		})
	}
	wg.Wait()
}

func testWatchEvents(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, r0, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	live := s.Watch(ctx, "a/", r0)
	liveAll := s.Watch(ctx, "", r0)

	r1 := put(t, s, kv{"a/1", "1"}, kv{"a/2", "1"}, kv{"b/1", "1"})
	r2 := put(t, s, kv{"a/1", "2"})
	r3, err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete("a/2"); err != nil {
			return err
		}
		return tx.Put("ab", []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	r4 := put(t, s, kv{"b/2", "1"})
	r5 := put(t, s, kv{"a/3", "1"})

	wantA := []ev{
		putEv("a/1", "1", r1), putEv("a/2", "1", r1),
		putEv("a/1", "2", r2),
		delEv("a/2", r3),
		putEv("a/3", "1", r5),
	}
	wantAll := []ev{
		putEv("a/1", "1", r1), putEv("a/2", "1", r1), putEv("b/1", "1", r1),
		putEv("a/1", "2", r2),
		delEv("a/2", r3), putEv("ab", "1", r3),
		putEv("b/2", "1", r4),
		putEv("a/3", "1", r5),
	}
	sameEvents(t, `live watch of "a/"`, receive(t, live, len(wantA)), wantA)
	sameEvents(t, `live watch of ""`, receive(t, liveAll, len(wantAll)), wantAll)

	// Watches that start in the past replay the history after their
	// revision.
	replay := s.Watch(ctx, "a/", r0)
	sameEvents(t, `replayed watch of "a/" from the start`, receive(t, replay, len(wantA)), wantA)
	fromR2 := s.Watch(ctx, "a/", r2)
	sameEvents(t, `replayed watch of "a/" from r2`, receive(t, fromR2, 2), wantA[3:])
	fromNow := s.Watch(ctx, "a/", r5)

	// Nothing else is queued on any of them, and a new write reaches all.
	rs := put(t, s, kv{"a/zz", "sentinel"})
	for name, ch := range map[string]<-chan store.WatchResponse{
		"live": live, "liveAll": liveAll, "replay": replay, "fromR2": fromR2, "fromNow": fromNow,
	} {
		sameEvents(t, name+" after the expected events", receive(t, ch, 1), []ev{putEv("a/zz", "sentinel", rs)})
	}
}

func testWatchCompacted(t *testing.T, h Harness) {
	if h.Compact == nil {
		t.Skip("harness cannot compact")
	}
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var revs []int64
	for i := range 5 {
		revs = append(revs, put(t, s, kv{"k/" + strconv.Itoa(i), "1"}))
	}
	h.Compact(t, s, revs[3])

	ch := s.Watch(ctx, "k/", revs[0])
	select {
	case resp, ok := <-ch:
		if !ok {
			t.Fatal("watch from a compacted revision closed without an error")
		}
		if !errors.Is(resp.Err, store.ErrCompacted) {
			t.Fatalf("watch from a compacted revision sent %+v, want ErrCompacted", resp)
		}
	case <-time.After(patience):
		t.Fatalf("no response in %v from a watch at a compacted revision", patience)
	}
	drainClosed(t, ch, false, nil)

	// The kept history still serves watches.
	kept := s.Watch(ctx, "k/", revs[3])
	sameEvents(t, "watch from the compaction revision", receive(t, kept, 1), []ev{putEv("k/4", "1", revs[4])})
}

func testWatchCancel(t *testing.T, h Harness) {
	s := h.New(t)
	_, rev, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("idle", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := s.Watch(ctx, "k/", rev)
		cancel()
		drainClosed(t, ch, false, nil)
	})
	t.Run("with unread events", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := s.Watch(ctx, "k/", rev)
		put(t, s, kv{"k/1", "1"})
		put(t, s, kv{"k/2", "1"})
		cancel()
		drainClosed(t, ch, true, nil)
	})
}

func testClose(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rev := put(t, s, kv{"k", "1"})
	open := s.Watch(ctx, "", rev)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	drainClosed(t, open, false, store.ErrClosed)

	if _, _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if _, _, err := s.List(ctx, ""); !errors.Is(err, store.ErrClosed) {
		t.Errorf("List after Close = %v, want ErrClosed", err)
	}
	ran := false
	if _, err := s.Update(ctx, func(tx store.Tx) error { ran = true; return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if ran {
		t.Errorf("Update after Close ran fn")
	}
	if _, err := s.View(ctx, func(tx store.ReadTx) error { ran = true; return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if ran {
		t.Errorf("View after Close ran fn")
	}
	ch := s.Watch(ctx, "", rev)
	select {
	case resp, ok := <-ch:
		if !ok || !errors.Is(resp.Err, store.ErrClosed) {
			t.Errorf("Watch after Close sent %+v (open %v), want ErrClosed", resp, ok)
		}
	case <-time.After(patience):
		t.Fatalf("Watch after Close sent nothing in %v", patience)
	}
	drainClosed(t, ch, false, nil)
	if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close = %v, want nil or ErrClosed", err)
	}
}

// testPairRetry has another store commit while fn runs: fn must run again,
// on a snapshot that includes the other commit.
func testPairRetry(t *testing.T, h Harness) {
	if h.NewPair == nil {
		t.Skip("harness has no pairs")
	}
	a, b := h.NewPair(t)
	put(t, a, kv{"k", "1"})
	var seen []string
	rev, err := a.Update(context.Background(), func(tx store.Tx) error {
		v, _, err := value(tx.Get("k"))
		if err != nil {
			return err
		}
		seen = append(seen, string(v))
		if len(seen) == 1 {
			put(t, b, kv{"k", "2"}) // commits after this attempt's snapshot
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return err
		}
		return tx.Put("k", []byte(strconv.Itoa(n*10)))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if want := []string{"1", "2"}; !slices.Equal(seen, want) {
		t.Fatalf("fn saw k = %q over its runs, want %q", seen, want)
	}
	if kv := wantValue(t, b, "k", "20"); kv.ModRevision != rev {
		t.Fatalf("k's ModRevision = %d, want the Update's %d", kv.ModRevision, rev)
	}
}

// testPairErrConflict has another store commit during every run of fn:
// Update must give up with ErrConflict and write nothing.
func testPairErrConflict(t *testing.T, h Harness) {
	if h.NewPair == nil {
		t.Skip("harness has no pairs")
	}
	a, b := h.NewPair(t)
	runs := 0
	_, err := a.Update(context.Background(), func(tx store.Tx) error {
		runs++
		if runs > 1000 {
			return errors.New("Update kept retrying past 1000 runs")
		}
		put(t, b, kv{"other", strconv.Itoa(runs)})
		return tx.Put("mine", []byte("x"))
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update that always conflicts = %v after %d runs, want ErrConflict", err, runs)
	}
	if runs < 2 {
		t.Fatalf("fn ran %d times, want retries before ErrConflict", runs)
	}
	wantMissing(t, a, "mine")
	wantValue(t, a, "other", strconv.Itoa(runs))
}
