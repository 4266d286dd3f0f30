package etcdstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/storetest"
)

// crashChildEnv names the data dir a re-executed test binary writes to
// until it is killed; see TestCrashRecovery.
const crashChildEnv = "ETCDSTORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

// testLogger sends warnings and errors to the test log, so anything etcd
// complains about shows up next to the failure it may explain.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openEmbedded opens a store on a new embedded member in a temp dir.
func openEmbedded(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(t.TempDir(), "etcd")
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// sibling returns a second Store on s's member that shares nothing with s
// but the client, as a second privlink process on one cluster would: it
// has its own read cache (unless s has none), which learns the last commit
// as an external cluster's client does. Its Close closes the shared client,
// so it is registered to run first.
func sibling(t testing.TB, s *Store) *Store {
	b := &Store{
		client:   s.client,
		prefix:   s.prefix,
		dataPfx:  s.dataPfx,
		seqKey:   s.seqKey,
		attempts: s.attempts,
		turn:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	if s.cache != nil {
		b.startCache(testLogger(t))
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func compact(t *testing.T, s store.Store, rev int64) {
	if err := s.(*Store).Compact(context.Background(), rev); err != nil {
		t.Fatalf("Compact(%d): %v", rev, err)
	}
}

func TestEmbeddedConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New:     func(t *testing.T) store.Store { return openEmbedded(t, Config{}) },
		Compact: compact,
		NewPair: func(t *testing.T) (store.Store, store.Store) {
			a := openEmbedded(t, Config{})
			return a, sibling(t, a)
		},
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // empty: valid
	}{
		{"embedded", Config{DataDir: "/x"}, ""},
		{"external", Config{Endpoints: []string{"127.0.0.1:2379"}}, ""},
		{"nowhere", Config{}, "DataDir is required"},
		{"empty endpoint", Config{Endpoints: []string{""}}, "empty endpoint"},
		{"prefix without slash", Config{DataDir: "/x", Prefix: "/privlink"}, "must end in /"},
		{"negative retention", Config{DataDir: "/x", CompactionRetention: -1}, "CompactionRetention"},
		{"negative attempts", Config{DataDir: "/x", MaxAttempts: -1}, "MaxAttempts"},
		{"negative timeout", Config{DataDir: "/x", DialTimeout: -time.Second}, "DialTimeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.withDefaults().Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want an error about %q", err, tc.wantErr)
			}
			if _, err := Open(context.Background(), tc.cfg); err == nil {
				t.Fatal("Open accepted an invalid config")
			}
		})
	}
}

func TestMemberConfig(t *testing.T) {
	ec := memberConfig(Config{DataDir: "/d"}.withDefaults(), newZapLogger(testLogger(t)))
	if len(ec.ListenClientUrls)+len(ec.ListenPeerUrls)+len(ec.ListenClientHttpUrls)+len(ec.ListenMetricsUrls) != 0 {
		t.Errorf("member listens on client %v, peer %v, http %v, metrics %v; want nothing",
			ec.ListenClientUrls, ec.ListenPeerUrls, ec.ListenClientHttpUrls, ec.ListenMetricsUrls)
	}
	if ec.AutoCompactionMode != "revision" || ec.AutoCompactionRetention != strconv.Itoa(DefaultCompactionRetention) {
		t.Errorf("auto-compaction %s %s, want revision %d", ec.AutoCompactionMode, ec.AutoCompactionRetention, DefaultCompactionRetention)
	}
	if err := ec.Validate(); err != nil {
		t.Errorf("etcd rejects the member config: %v", err)
	}
}

// TestSideBySide runs two embedded members at once, as two privlink servers
// on one host do: neither may take the other's resources or see its data.
func TestSideBySide(t *testing.T) {
	ctx := context.Background()
	var stores [2]*Store
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			s, err := Open(ctx, Config{DataDir: filepath.Join(t.TempDir(), "etcd"), Logger: testLogger(t)})
			if err != nil {
				t.Errorf("Open member %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
	}
	if t.Failed() {
		return
	}
	for i, s := range stores {
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("who", []byte(strconv.Itoa(i))) }); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range stores {
		kvs, _, err := s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) != 1 || string(kvs[0].Value) != strconv.Itoa(i) {
			t.Fatalf("member %d holds %+v, want only who=%d", i, kvs, i)
		}
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	openEmbedded(t, Config{DataDir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger(t)})
	if err == nil {
		s.Close()
		t.Fatal("a second Open of a data dir in use succeeded")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open = %v, want a data dir in use error", err)
	}
}

// TestReopen closes a member cleanly and opens it again: data and
// revisions carry on.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "etcd")
	s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openEmbedded(t, Config{DataDir: dir})
	kv, ok, err := s.Get(ctx, "k")
	if err != nil || !ok || string(kv.Value) != "v" || kv.ModRevision != rev {
		t.Fatalf("Get after reopen = %+v, %v, %v; want v @%d", kv, ok, err, rev)
	}
	rev2, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("w")) })
	if err != nil {
		t.Fatal(err)
	}
	if rev2 <= rev {
		t.Fatalf("revision after reopen %d, want > %d", rev2, rev)
	}
}

// crashChild is the re-executed test binary of TestCrashRecovery: it writes
// pairs of keys in single transactions and acknowledges each on stdout,
// until it is killed.
func crashChild(dir string) int {
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; ; i++ {
		v := []byte(strconv.Itoa(i))
		rev, err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Put(fmt.Sprintf("a/%06d", i), v); err != nil {
				return err
			}
			return tx.Put(fmt.Sprintf("b/%06d", i), v)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%d %d\n", i, rev)
	}
}

// TestCrashRecovery kills a process with SIGKILL while it writes to its
// embedded member, then opens the data dir again: every acknowledged
// transaction is there, none is half there, and the store takes writes.
func TestCrashRecovery(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	const acks = 50
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = t.Output()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var lastI int
	var lastRev int64
	sc := bufio.NewScanner(out)
	for n := 0; n < acks; n++ {
		if !sc.Scan() {
			t.Fatalf("child stopped after %d acknowledgements: %v", n, sc.Err())
		}
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &lastI, &lastRev); err != nil {
			t.Fatalf("child said %q: %v", sc.Text(), err)
		}
	}
	// The child is busy with its next transactions when it dies.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s := openEmbedded(t, Config{DataDir: dir})
	ctx := context.Background()
	as, rev, err := s.List(ctx, "a/")
	if err != nil {
		t.Fatal(err)
	}
	bs, _, err := s.List(ctx, "b/")
	if err != nil {
		t.Fatal(err)
	}
	if rev < lastRev {
		t.Fatalf("revision after recovery %d, want at least the last acknowledged %d", rev, lastRev)
	}
	if len(as) <= lastI || len(as) != len(bs) {
		t.Fatalf("after recovery %d a/ keys and %d b/ keys, want equal counts above %d", len(as), len(bs), lastI)
	}
	if as[lastI].ModRevision != lastRev {
		t.Fatalf("last acknowledged transaction %d recovered at revision %d, acknowledged at %d", lastI, as[lastI].ModRevision, lastRev)
	}
	for i := range as {
		want := strconv.Itoa(i)
		if string(as[i].Value) != want || string(bs[i].Value) != want || as[i].ModRevision != bs[i].ModRevision {
			t.Fatalf("transaction %d recovered as %+v and %+v", i, as[i], bs[i])
		}
	}
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("after", []byte("crash")) }); err != nil {
		t.Fatalf("Update after recovery: %v", err)
	}
}

// recorder is a slog.Handler that keeps every record it is given.
type recorder struct {
	mu   sync.Mutex // guards recs
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}

// TestQuietLogs checks that a healthy member's start, work and stop log
// nothing above debug, and that etcd's logs do reach the logger.
func TestQuietLogs(t *testing.T) {
	rec := &recorder{}
	dir := filepath.Join(t.TempDir(), "etcd")
	// A fresh start closed at once, a restart with a WAL to replay, and a
	// restart closed at once.
	for _, writes := range []int{1, 1000, 1} {
		s, err := Open(context.Background(), Config{DataDir: dir, Logger: slog.New(rec)})
		if err != nil {
			t.Fatal(err)
		}
		for i := range writes {
			if _, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put(strconv.Itoa(i), nil) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.recs) == 0 {
		t.Fatal("etcd logged nothing at all; its logger is not wired")
	}
	for _, r := range rec.recs {
		if r.Level > slog.LevelDebug {
			attrs := ""
			r.Attrs(func(a slog.Attr) bool { attrs += " " + a.String(); return true })
			t.Errorf("etcd logged at %v: %s%s", r.Level, r.Message, attrs)
		}
	}
}

// TestCloseDuringUpdate closes the store while an Update keeps losing to
// another store: it returns ErrClosed instead of retrying on.
func TestCloseDuringUpdate(t *testing.T) {
	a := openEmbedded(t, Config{DataDir: filepath.Join(t.TempDir(), "etcd"), MaxAttempts: 1000})
	b := sibling(t, a)
	ctx := context.Background()
	runs := 0
	_, err := a.Update(ctx, func(tx store.Tx) error {
		runs++
		if runs == 3 {
			go a.Close()
		}
		if _, err := b.Update(ctx, func(tx store.Tx) error { return tx.Put("other", nil) }); err != nil {
			return err
		}
		return tx.Put("mine", nil)
	})
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update while the store closed = %v after %d runs, want ErrClosed", err, runs)
	}
}

func BenchmarkEmbeddedUpdate(b *testing.B) {
	storetest.BenchUpdate(b, openEmbedded(b, Config{}))
}

func BenchmarkEmbeddedList10k(b *testing.B) {
	storetest.BenchList(b, openEmbedded(b, Config{}), 10000)
}

// BenchmarkEmbeddedOpen measures start-up: a fresh member, and a restart of
// one with data.
func BenchmarkEmbeddedOpen(b *testing.B) {
	ctx := context.Background()
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			s, err := Open(ctx, Config{DataDir: filepath.Join(b.TempDir(), "etcd"), Logger: testLogger(b)})
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("restart", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "etcd")
		s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
		for i := range 1000 {
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(strconv.Itoa(i), []byte("v")) }); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
		for b.Loop() {
			s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger(b)})
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
}

func TestZapToSlogLevels(t *testing.T) {
	tests := []struct {
		name  string
		log   func(zl *zap.Logger)
		level slog.Level
	}{
		{"info is debug", func(zl *zap.Logger) { zl.Info("applied") }, slog.LevelDebug},
		{"warning", func(zl *zap.Logger) { zl.Warn("slow fdatasync") }, slog.LevelWarn},
		{"error", func(zl *zap.Logger) { zl.Error("failed to purge file", zap.Error(errors.New("EIO"))) }, slog.LevelError},
		{"single-port warning", func(zl *zap.Logger) { zl.Warn(msgSinglePort) }, slog.LevelDebug},
		{"storage version before first commit", func(zl *zap.Logger) {
			zl.Error(msgUpdateStorageVer, zap.Error(errors.New("cannot detect storage schema version: missing term information")))
		}, slog.LevelDebug},
		{"storage version failing otherwise", func(zl *zap.Logger) {
			zl.Error(msgUpdateStorageVer, zap.Error(errors.New("disk full")))
		}, slog.LevelError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tc.log(newZapLogger(slog.New(rec)))
			if len(rec.recs) != 1 || rec.recs[0].Level != tc.level {
				t.Fatalf("records %+v, want one at %v", rec.recs, tc.level)
			}
		})
	}
}

// BenchmarkEmbeddedUpdateConcurrent measures Updates from several
// goroutines of one process at once, as an API server under load makes
// them.
func BenchmarkEmbeddedUpdateConcurrent(b *testing.B) {
	for _, clients := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			storetest.BenchUpdateConcurrent(b, openEmbedded(b, Config{}), clients)
		})
	}
}
