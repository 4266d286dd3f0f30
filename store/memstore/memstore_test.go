package memstore

import (
	"context"
	"errors"
	"sort"
	"strconv"
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
