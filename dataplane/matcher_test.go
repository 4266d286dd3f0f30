package dataplane

import (
	"slices"
	"strings"
	"testing"
)

// codes lists the codes a set accepts, for readable failures.
func (s *codeSet) codes() []int {
	var out []int
	for c := 0; c <= maxMatcherCode; c++ {
		if s.has(c) {
			out = append(out, c)
		}
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for c := from; c <= to; c++ {
		out = append(out, c)
	}
	return out
}

func TestParseMatcher(t *testing.T) {
	for _, tc := range []struct {
		matcher string
		want    []int
	}{
		{"200", []int{200}},
		{"200,202", []int{200, 202}},
		{"200-399", span(200, 399)},
		{"200-299,302", append(span(200, 299), 302)},
		{"599", []int{599}},
		{"200-599", span(200, 599)},
		{"204,204", []int{204}},
		{"250-250", []int{250}},
	} {
		t.Run(tc.matcher, func(t *testing.T) {
			set, err := parseMatcher(tc.matcher)
			if err != nil {
				t.Fatal(err)
			}
			if got := set.codes(); !slices.Equal(got, tc.want) {
				t.Errorf("accepts %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseMatcherRejects(t *testing.T) {
	for _, bad := range []string{
		"", ",", "200,", ",200", "200,,202", "-", "200-", "-399", "399-200",
		"199", "600", "100-200", "500-600", "20", "2000", "abc", "2x0", " 200", "200 ",
		"+200", "200-300-400", "２００", "0200", "1e2",
	} {
		t.Run(bad, func(t *testing.T) {
			if set, err := parseMatcher(bad); err == nil {
				t.Errorf("accepted, as %v", set.codes())
			}
		})
	}
}

func TestCodeSetHas(t *testing.T) {
	set, err := parseMatcher("200-399")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code int
		want bool
	}{{199, false}, {200, true}, {302, true}, {399, true}, {400, false}, {503, false}, {-1, false}, {0, false}, {640, false}, {1 << 20, false}} {
		if got := set.has(tc.code); got != tc.want {
			t.Errorf("has(%d) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestHealthCheckValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hc      HealthCheck
		wantErr string // "" means valid
	}{
		{"zero value", HealthCheck{}, ""},
		{"TCP", HealthCheck{Protocol: "TCP"}, ""},
		{"HTTP with everything", HealthCheck{Protocol: "HTTP", Path: "/health?deep=1", Matcher: "200,202"}, ""},
		{"HTTPS", HealthCheck{Protocol: "HTTPS", Path: "/", Matcher: "200-399"}, ""},
		{"unknown protocol", HealthCheck{Protocol: "UDP"}, "protocol"},
		{"lower-case protocol", HealthCheck{Protocol: "http"}, "protocol"},
		{"relative path", HealthCheck{Protocol: "HTTP", Path: "health"}, "path"},
		{"path with a space", HealthCheck{Protocol: "HTTP", Path: "/a b"}, "path"},
		{"path with CRLF", HealthCheck{Protocol: "HTTP", Path: "/\r\nX-Injected: 1"}, "path"},
		{"path too long", HealthCheck{Protocol: "HTTP", Path: "/" + strings.Repeat("a", 1024)}, "path"},
		{"bad matcher", HealthCheck{Protocol: "HTTP", Matcher: "200-"}, "matcher"},
		{"matcher out of range", HealthCheck{Protocol: "HTTP", Matcher: "100"}, "matcher"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.hc.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate: %v, want an error about the %s", err, tc.wantErr)
			}
		})
	}
}

func FuzzParseMatcher(f *testing.F) {
	for _, s := range []string{"200", "200,202", "200-399", "200-299,302", "399-200", "", "-", "600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := parseMatcher(s)
		if err != nil {
			if set != (codeSet{}) {
				t.Fatalf("%q: error %v with codes %v", s, err, set.codes())
			}
			return
		}
		codes := set.codes()
		if len(codes) == 0 || codes[0] < minMatcherCode || codes[len(codes)-1] > maxMatcherCode {
			t.Fatalf("%q accepts %v", s, codes)
		}
	})
}
