package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/store"
)

// holdBatches takes the turn, so that Updates queue up behind it, and
// returns a function that waits until n are queued and gives it back.
func holdBatches(t *testing.T, s *Store) (release func(n int)) {
	t.Helper()
	s.turn <- struct{}{}
	return func(n int) {
		t.Helper()
		deadline := time.Now().Add(patience)
		for {
			s.qmu.Lock()
			queued := len(s.queue)
			s.qmu.Unlock()
			if queued >= n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d Updates queued, want %d", queued, n)
			}
			time.Sleep(time.Millisecond)
		}
		<-s.turn
	}
}

// patience bounds waits that only guard against hangs.
const patience = 30 * time.Second

// Updates that wait while another commits go into one commit together:
// each sees the writes of those before it, a failing one leaves nothing
// behind, and a watcher sees the batch as one change.
func TestUpdatesThatWaitCommitTogether(t *testing.T) {
	s := openEmbedded(t, Config{})
	ctx := t.Context()
	_, start, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	release := holdBatches(t, s)
	const n = 5
	const failing = 2
	errFail := errors.New("refused")
	revs, errs := make([]int64, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			revs[i], errs[i] = s.Update(ctx, func(tx store.Tx) error {
				kv, _, err := tx.Get("counter")
				if err != nil {
					return err
				}
				c, _ := strconv.Atoi(string(kv.Value))
				if err := tx.Put("counter", []byte(strconv.Itoa(c+1))); err != nil {
					return err
				}
				if i == failing {
					return errFail
				}
				return tx.Put(fmt.Sprintf("by/%d", i), []byte(strconv.Itoa(c+1)))
			})
		})
	}
	release(n)
	wg.Wait()

	var rev int64
	for i := range n {
		if i == failing {
			if !errors.Is(errs[i], errFail) {
				t.Errorf("Update %d: err %v, want its own error", i, errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("Update %d: %v", i, errs[i])
		}
		if rev == 0 {
			rev = revs[i]
		}
		if revs[i] != rev {
			t.Errorf("Update %d committed at revision %d, another at %d: want one commit", i, revs[i], rev)
		}
	}
	// Each saw the writes of the ones before it and none of the failing
	// one's: the values the four wrote are 1 to 4.
	seen := map[string]bool{}
	kvs, _, err := s.List(ctx, "by/")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		seen[string(kv.Value)] = true
	}
	if len(kvs) != n-1 || !seen["1"] || !seen["2"] || !seen["3"] || !seen["4"] {
		t.Errorf("by/ = %v, want the values 1 to 4 once each", kvs)
	}
	if kv, _, err := s.Get(ctx, "counter"); err != nil || string(kv.Value) != strconv.Itoa(n-1) || kv.ModRevision != rev {
		t.Errorf("counter = %q at %d (err %v), want %d at %d", kv.Value, kv.ModRevision, err, n-1, rev)
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case wr := <-s.Watch(wctx, "", start):
		if wr.Err != nil || wr.Revision != rev || len(wr.Events) != n {
			t.Errorf("first watch response: %d events at %d (err %v), want the counter and 4 keys at %d", len(wr.Events), wr.Revision, wr.Err, rev)
		}
	case <-time.After(patience):
		t.Fatal("no watch response")
	}
}

// A batch stays within what one etcd transaction may hold: Updates whose
// writes together pass the limit commit one after another, each whole.
func TestBatchesStayWithinTransactionLimits(t *testing.T) {
	s := openEmbedded(t, Config{})
	ctx := t.Context()
	release := holdBatches(t, s)
	const n, writes = 3, batchWrites * 6 / 10
	revs := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			revs[i], err = s.Update(ctx, func(tx store.Tx) error {
				for j := range writes {
					if err := tx.Put(fmt.Sprintf("u%d/%03d", i, j), []byte("v")); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	release(n)
	wg.Wait()
	distinct := map[int64]bool{}
	for i := range n {
		distinct[revs[i]] = true
		kvs, _, err := s.List(ctx, fmt.Sprintf("u%d/", i))
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) != writes {
			t.Fatalf("Update %d: %d keys stored, want %d", i, len(kvs), writes)
		}
		for _, kv := range kvs {
			if kv.ModRevision != revs[i] {
				t.Fatalf("Update %d: %s written at %d, want all at %d", i, kv.Key, kv.ModRevision, revs[i])
			}
		}
	}
	if len(distinct) != n {
		t.Errorf("%d Updates of %d writes each committed at revisions %v, want one commit each", n, writes, revs)
	}
}

// An Update whose context ends while it waits for a batch returns at once
// and never runs.
func TestUpdateCancelledWhileQueued(t *testing.T) {
	s := openEmbedded(t, Config{})
	release := holdBatches(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		_, err := s.Update(ctx, func(tx store.Tx) error {
			ran <- struct{}{}
			return tx.Put("k", []byte("v"))
		})
		done <- err
	}()
	s.qmu.Lock()
	for len(s.queue) == 0 {
		s.qmu.Unlock()
		time.Sleep(time.Millisecond)
		s.qmu.Lock()
	}
	s.qmu.Unlock()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Update: %v, want context.Canceled", err)
	}
	release(0)
	if _, err := s.Update(t.Context(), func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Error("the cancelled Update's function ran")
	default:
	}
	if _, found, err := s.Get(t.Context(), "k"); err != nil || found {
		t.Errorf("k found %v (err %v), want nothing written", found, err)
	}
}
