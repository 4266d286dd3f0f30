package query

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The codec's fast paths must give exactly what the plain way gives: these
// tests hold each to its reference.

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "vpc-0123", `{"a": "b"}` + "\n", "a&b<c>d'e\"f", "\t\r\n", "é", "\xff", "x\x00y", "\u2028", "ok\ufffe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bytes.Buffer
		escape(&got, s)
		_ = xml.EscapeText(&want, []byte(s))
		if got.String() != want.String() {
			t.Fatalf("escape(%q) = %q, xml.EscapeText gives %q", s, got.String(), want.String())
		}
	})
}

func FuzzCompareJoined(f *testing.F) {
	f.Add("Tag.1.Key", "Tag.1.", "Key")
	f.Add("Tag", "Tag.1.", "Key")
	f.Add("Tag.1.Keys", "Tag.1.", "Key")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, s, a, b string) {
		if got, want := compareJoined(s, a, b), strings.Compare(s, a+b); got != want {
			t.Fatalf("compareJoined(%q, %q, %q) = %d, want %d", s, a, b, got, want)
		}
	})
}

// TestUnder checks the presence test that lets Decode skip absent fields.
func TestUnder(t *testing.T) {
	d := &decoder{keys: []string{"A", "Nested.Name", "Nested.Tag.1.Key", "SubnetId.1", "SubnetIds"}}
	for _, tc := range []struct {
		prefix, name string
		want         bool
	}{
		{"", "A", true},
		{"", "Nested", true},
		{"Nested.", "Tag", true},
		{"Nested.", "Tags", false},
		{"Nested.", "Count", false},
		{"", "SubnetId", true},
		{"", "SubnetIds", true},
		{"", "Z", false},
		{"", "0", false},
	} {
		if got := d.under(tc.prefix, tc.name); got != tc.want {
			t.Errorf("under(%q, %q) = %v, want %v", tc.prefix, tc.name, got, tc.want)
		}
	}
}

// A bad target stays bad: the field cache keeps the error, not a result.
func TestDecodeRejectsBadTargetEveryTime(t *testing.T) {
	type badTag struct {
		A *string `query:"A,bogus"`
	}
	for i := range 3 {
		err := Decode(url.Values{"A": {"1"}}, &badTag{})
		var errs DecodeErrors
		if err == nil || errors.As(err, &errs) {
			t.Fatalf("call %d: Decode = %v, want a programming error", i+1, err)
		}
	}
}

func TestIndent(t *testing.T) {
	for _, depth := range []int{0, 1, 31, 32, 33, 70} {
		// At the document's start the line is already begun; after an
		// element a new one starts.
		for _, before := range []string{"", "<a>"} {
			e := newEncoder()
			e.buf = append(e.buf, before...)
			e.depth = depth
			e.indent()
			want := before + strings.Repeat("  ", depth)
			if before != "" {
				want = before + "\n" + strings.Repeat("  ", depth)
			}
			if got := string(e.buf); got != want {
				t.Errorf("depth %d after %q: indent wrote %q, want %q", depth, before, got, want)
			}
			e.release()
		}
	}
}

func TestParseIndex(t *testing.T) {
	for _, tc := range []struct {
		seg       string
		n         int
		ok, valid bool
	}{
		{"1", 1, true, true},
		{"10", 10, true, true},
		{"1000", 1000, true, true},
		{"1001", 0, true, false},
		{"10000", 0, true, false},
		{"999999999", 0, true, false},
		{"99999999999999999999999", 0, true, false},
		{"0", 0, true, false},
		{"01", 0, true, false},
		{"", 0, false, false},
		{"1a", 0, false, false},
		{"-1", 0, false, false},
	} {
		n, ok, valid := parseIndex(tc.seg)
		if ok != tc.ok || valid != tc.valid || (valid && n != tc.n) {
			t.Errorf("parseIndex(%q) = %d, %v, %v; want %d, %v, %v", tc.seg, n, ok, valid, tc.n, tc.ok, tc.valid)
		}
	}
}

// Pooled encoders must not leak one response into another: responses
// encoded at once, of different sizes, each come out as when encoded alone.
func TestResponsesConcurrent(t *testing.T) {
	outs := make([]*testInput, 8)
	want := make([]string, len(outs))
	for i := range outs {
		ids := make([]string, 1<<i)
		for j := range ids {
			ids[j] = "subnet-" + strconv.Itoa(j)
		}
		outs[i] = &testInput{ID: new(strconv.Itoa(i)), IDs: ids}
		doc, err := testEC2Op.MarshalResponse("r", outs[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = string(doc)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 50 {
				i := (g + round) % len(outs)
				if round%2 == 0 {
					rec := httptest.NewRecorder()
					if err := testEC2Op.WriteResponse(rec, "r", outs[i]); err != nil {
						t.Error(err)
						return
					}
					if got := rec.Body.String(); got != want[i] {
						t.Errorf("WriteResponse of output %d differs from its lone encoding", i)
						return
					}
					continue
				}
				doc, err := testEC2Op.MarshalResponse("r", outs[i])
				if err != nil {
					t.Error(err)
					return
				}
				if string(doc) != want[i] {
					t.Errorf("MarshalResponse of output %d differs from its lone encoding", i)
					return
				}
			}
		})
	}
	wg.Wait()
}
