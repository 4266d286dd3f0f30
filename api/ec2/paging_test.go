package ec2

import (
	"slices"
	"strconv"
	"testing"
)

func TestPager(t *testing.T) {
	items := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "id-"+strconv.Itoa(i))
		}
		return out
	}
	self := func(s string) string { return s }

	t.Run("pages cover every item once", func(t *testing.T) {
		all := items(12)
		var got []string
		var tok *string
		for range 10 {
			p, err := newPager("Op", new(int32(5)), tok, false)
			if err != nil {
				t.Fatal(err)
			}
			var pg []string
			pg, tok = page(p, all, self)
			got = append(got, pg...)
			if tok == nil {
				break
			}
		}
		if !slices.Equal(got, all) {
			t.Errorf("got %v", got)
		}
	})

	t.Run("resumes after the last item when earlier ones are gone", func(t *testing.T) {
		all := items(12)
		p, _ := newPager("Op", new(int32(5)), nil, false)
		_, tok := page(p, all, self)
		rest := slices.Delete(slices.Clone(all), 0, 2) // id-0 and id-1 deleted
		p, err := newPager("Op", new(int32(5)), tok, false)
		if err != nil {
			t.Fatal(err)
		}
		pg, _ := page(p, rest, self)
		if pg[0] != "id-5" {
			t.Errorf("next page starts at %s, want id-5", pg[0])
		}
	})

	t.Run("no limit, no token", func(t *testing.T) {
		p, _ := newPager("Op", nil, nil, false)
		pg, tok := page(p, items(1200), self)
		if len(pg) != 1200 || tok != nil {
			t.Errorf("got %d items, token %v", len(pg), tok)
		}
	})

	t.Run("exact last page has no token", func(t *testing.T) {
		p, _ := newPager("Op", new(int32(5)), nil, false)
		if _, tok := page(p, items(5), self); tok != nil {
			t.Errorf("token %q after the last item", *tok)
		}
	})

	bad := []struct {
		name  string
		max   *int32
		tok   *string
		clamp bool
	}{
		{"below 5", new(int32(4)), nil, false},
		{"negative", new(int32(-1)), nil, true},
		{"over 1000", new(int32(1001)), nil, false},
		{"not base64", nil, new("!!!"), false},
		{"not JSON", nil, new("bm90IGpzb24"), false},
		{"zero offset", nil, new("eyJvcCI6Ik9wIiwib2ZmIjowLCJsYXN0IjoieCJ9"), false},
		{"another operation", nil, new("eyJvcCI6Ik90aGVyIiwib2ZmIjoxLCJsYXN0IjoieCJ9"), false},
	}
	for _, tt := range bad {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			if _, err := newPager("Op", tt.max, tt.tok, tt.clamp); err == nil {
				t.Error("accepted")
			}
		})
	}

	t.Run("clamps over 1000", func(t *testing.T) {
		p, err := newPager("Op", new(int32(5000)), nil, true)
		if err != nil || p.limit != maxPageSize {
			t.Errorf("limit %d, %v", p.limit, err)
		}
	})
}
