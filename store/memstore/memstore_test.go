package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/storetest"
)

func harness() storetest.Harness {
	return storetest.Harness{
		New: func(t *testing.T) store.Store {
			s := New()
			t.Cleanup(func() { s.Close() })
			return s
		},
		Compact: func(t *testing.T, s store.Store, rev int64) { compact(s.(*Store), rev) },
	}
}

// compact drops the events before rev, as etcd's Compact(rev) does; memstore
// has no compaction API because its history bound does the same job.
func compact(s *Store, rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].rev >= rev })
	s.log = append([]logEntry(nil), s.log[i:]...)
	s.firstRev = max(s.firstRev, rev-1)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness())
}

// TestHistoryBound checks that the log stays bounded and that watches from
// before the kept history get ErrCompacted while later ones replay.
func TestHistoryBound(t *testing.T) {
	s := New()
	defer s.Close()
	s.history = 8
	ctx := context.Background()
	var revs []int64
	for i := range 40 {
		rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(strconv.Itoa(i))) })
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
		if n := len(s.log); n > s.history+s.history/4 {
			t.Fatalf("after %d commits the log holds %d events, want at most %d", i+1, n, s.history+s.history/4)
		}
	}
	tests := []struct {
		name      string
		from      int64
		compacted bool
		first     string
	}{
		{"long ago", revs[0], true, ""},
		{"within the history", revs[len(revs)-4], false, strconv.Itoa(len(revs) - 3)},
		{"latest", revs[len(revs)-2], false, strconv.Itoa(len(revs) - 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			resp := <-s.Watch(ctx, "k", tc.from)
			if tc.compacted {
				if !errors.Is(resp.Err, store.ErrCompacted) {
					t.Fatalf("watch from %d = %+v, want ErrCompacted", tc.from, resp)
				}
				return
			}
			if resp.Err != nil || len(resp.Events) == 0 {
				t.Fatalf("watch from %d = %+v, want events", tc.from, resp)
			}
			if got := string(resp.Events[0].KV.Value); got != tc.first {
				t.Fatalf("watch from %d starts at value %q, want %q", tc.from, got, tc.first)
			}
		})
	}
}

func BenchmarkUpdate(b *testing.B) {
	s := New()
	defer s.Close()
	storetest.BenchUpdate(b, s)
}

func BenchmarkList10k(b *testing.B) {
	s := New()
	defer s.Close()
	storetest.BenchList(b, s, 10000)
}

// BenchmarkListPrefix250of10k lists one prefix of 250 keys among 10,000:
// one account's objects of one kind in a lab that holds forty such.
func BenchmarkListPrefix250of10k(b *testing.B) {
	s := fillPrefixes(b)
	defer s.Close()
	ctx := context.Background()
	for b.Loop() {
		listPrefix(b, ctx, s)
	}
}

// BenchmarkListPrefix250of10kParallel is BenchmarkListPrefix250of10k from
// every CPU at once: the reads share the store's lock.
func BenchmarkListPrefix250of10kParallel(b *testing.B) {
	s := fillPrefixes(b)
	defer s.Close()
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			listPrefix(b, ctx, s)
		}
	})
}

// fillPrefixes returns a store of 10,000 keys with 100-byte values under
// forty prefixes of 250 keys each.
func fillPrefixes(b *testing.B) *Store {
	s := New()
	val := []byte(strings.Repeat("v", 100))
	for p := range 40 {
		if _, err := s.Update(context.Background(), func(tx store.Tx) error {
			for i := range 250 {
				if err := tx.Put(fmt.Sprintf("bench/%02d/%08d", p, i), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func listPrefix(b *testing.B, ctx context.Context, s *Store) {
	kvs, _, err := s.List(ctx, "bench/17/")
	if err != nil {
		b.Fatal(err)
	}
	if len(kvs) != 250 {
		b.Fatalf("List returned %d keys, want 250", len(kvs))
	}
}

// TestIndex checks the sorted key index, and the Lists it serves, against
// a plain map after transactions of every size, with chunks of the default
// size and with chunks so small that they split and empty all the time.
func TestIndex(t *testing.T) {
	for _, chunk := range []int{defaultChunk, 4, 1} {
		t.Run(fmt.Sprint("chunk ", chunk), func(t *testing.T) { testIndex(t, chunk) })
	}
}

func testIndex(t *testing.T, chunk int) {
	s := New()
	defer s.Close()
	s.keys.max = chunk
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string]string{}
	// Few distinct keys, so that puts overwrite and deletes hit; some
	// end in 0xff bytes, which sort after any successor of their prefix
	// made by appending one 0xff.
	key := func() string {
		first, n := rng.IntN(3), rng.IntN(300)
		return "ab\xff"[first:first+1] + "/" + strconv.Itoa(n) + strings.Repeat("\xff", n%3)
	}
	prefixes := []string{"", "a", "a/", "a/1", "b/2", "\xff", "\xff/", "c", "a/299", "zz"}
	for i := range 300 {
		n := 1 + rng.IntN(4)
		if i%10 == 0 {
			n = 20 + rng.IntN(100)
		}
		want := maps.Clone(model)
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for range n {
				k := key()
				switch rng.IntN(3) {
				case 0:
					delete(want, k)
					if err := tx.Delete(k); err != nil {
						return err
					}
				default:
					v := strconv.Itoa(i)
					want[k] = v
					if err := tx.Put(k, []byte(v)); err != nil {
						return err
					}
				}
			}
			// The transaction's own List sees its writes.
			return sameList(tx.List, want, prefixes)
		}); err != nil {
			t.Fatalf("transaction %d: %v", i, err)
		}
		model = want
		var indexed []string
		for ci, c := range s.keys.chunks {
			if len(c) == 0 || len(c) > chunk {
				t.Fatalf("after transaction %d chunk %d of the index holds %d keys, want 1 to %d", i, ci, len(c), chunk)
			}
			indexed = append(indexed, c...)
		}
		if want := slices.Sorted(maps.Keys(s.data)); !slices.Equal(indexed, want) {
			t.Fatalf("after transaction %d the index holds %q, want %q", i, indexed, want)
		}
		list := func(prefix string) ([]store.KV, error) {
			kvs, _, err := s.List(ctx, prefix)
			return kvs, err
		}
		if err := sameList(list, model, prefixes); err != nil {
			t.Fatalf("after transaction %d: %v", i, err)
		}
	}
}

// sameList checks list against the model for each prefix.
func sameList(list func(string) ([]store.KV, error), model map[string]string, prefixes []string) error {
	for _, p := range prefixes {
		kvs, err := list(p)
		if err != nil {
			return err
		}
		var want []string
		for _, k := range slices.Sorted(maps.Keys(model)) {
			if strings.HasPrefix(k, p) {
				want = append(want, k+"="+model[k])
			}
		}
		var got []string
		for _, kv := range kvs {
			got = append(got, kv.Key+"="+string(kv.Value))
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("List(%q) = %q, want %q", p, got, want)
		}
	}
	return nil
}
