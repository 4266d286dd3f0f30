package core

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/privlink/privlink/store/etcdstore"
)

// BenchmarkRoute53 measures a hosted zone of 10,000 record sets on the
// store privlink serves from (an embedded etcd member): a page of the
// listing at the start and at the end of the zone, a one-set change, a
// batch of 100, and the reconciler's whole-state read. One object per
// record set makes a page and a change cost the same in any zone.
//
// Run: go test ./core -run '^$' -bench Route53 -benchtime 200x
func BenchmarkRoute53(b *testing.B) {
	const sets = 10000
	ctx := context.Background()
	st, err := etcdstore.Open(ctx, etcdstore.Config{
		DataDir: filepath.Join(b.TempDir(), "etcd"),
		Logger:  slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	c, err := New(st, Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	owner := Caller{AccountID: "123456789012"}
	z, _, err := c.CreateHostedZone(ctx, owner, CreateHostedZoneInput{Name: "bench.example", CallerReference: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ttl := int64(300)
	set := func(action string, i int) RecordSetChange {
		return RecordSetChange{Action: action, Set: RecordSetInput{
			Name: fmt.Sprintf("host-%05d.bench.example", i), Type: "A", TTL: &ttl,
			Records: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)},
		}}
	}
	// Route 53 takes at most 1,000 changes in a batch.
	for from := 0; from < sets; from += 1000 {
		var changes []RecordSetChange
		for i := from; i < from+1000; i++ {
			changes = append(changes, set(ActionCreate, i))
		}
		if _, err := c.ChangeResourceRecordSets(ctx, owner, ChangeResourceRecordSetsInput{HostedZoneID: z.ID, Changes: changes}); err != nil {
			b.Fatal(err)
		}
	}
	list := func(b *testing.B, start string, want int) {
		for b.Loop() {
			p, err := c.ListResourceRecordSets(ctx, owner, ListResourceRecordSetsInput{HostedZoneID: z.ID, StartRecordName: start})
			if err != nil || len(p.RecordSets) != want {
				b.Fatalf("%d sets, %v", len(p.RecordSets), err)
			}
		}
	}
	b.Run("ListResourceRecordSets/first-page", func(b *testing.B) { list(b, "", 300) })
	b.Run("ListResourceRecordSets/last-page", func(b *testing.B) { list(b, fmt.Sprintf("host-%05d.bench.example", sets-100), 100) })
	b.Run("ChangeResourceRecordSets/upsert-1", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := c.ChangeResourceRecordSets(ctx, owner, ChangeResourceRecordSetsInput{HostedZoneID: z.ID, Changes: []RecordSetChange{set(ActionUpsert, i%sets)}}); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("ChangeResourceRecordSets/upsert-100", func(b *testing.B) {
		i := 0
		for b.Loop() {
			var changes []RecordSetChange
			for range 100 {
				changes = append(changes, set(ActionUpsert, i%sets))
				i += 7919
			}
			if _, err := c.ChangeResourceRecordSets(ctx, owner, ChangeResourceRecordSetsInput{HostedZoneID: z.ID, Changes: changes}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LoadSnapshot", func(b *testing.B) {
		for b.Loop() {
			s, err := c.LoadSnapshot(ctx)
			if err != nil || len(s.RecordSets[z.ID]) != sets+2 {
				b.Fatalf("%d sets, %v", len(s.RecordSets[z.ID]), err)
			}
		}
	})
}

// FuzzCanonicalName checks that any name either is refused or has a
// canonical form that is its own canonical form and converts to DNS.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"example.com", "*.Example.COM.", `a\052b.c`, `\\.x`, "a..b", `\999.x`, "", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, p := canonicalName(s)
		if p != nil {
			return
		}
		again, p := canonicalName(n)
		if p != nil || again != n {
			t.Fatalf("canonicalName(%q) = %q, whose canonical form is %q, %v", s, n, again, p)
		}
		_ = DNSName(n)
		_ = reversedName(n)
	})
}
