package dataplane

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The HTTP codes a Network Load Balancer's health check matcher may name.
const (
	minMatcherCode = 200
	maxMatcherCode = 599
)

// codeSet is a parsed health check matcher: bit c is set when HTTP code c
// counts as a success. It is an array, not a slice or map, so check
// settings that hold one stay comparable with ==.
type codeSet [(maxMatcherCode + 64) / 64]uint64

// parseMatcher parses a matcher as ELB spells it: codes and ranges of codes
// separated by commas ("200", "200,202", "200-399", "200-299,302").
func parseMatcher(s string) (codeSet, error) {
	var set codeSet
	if s == "" {
		return set, errors.New("matcher is empty")
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		from, err := parseCode(lo)
		if err != nil {
			return codeSet{}, fmt.Errorf("matcher %q: %w", s, err)
		}
		to := from
		if isRange {
			if to, err = parseCode(hi); err != nil {
				return codeSet{}, fmt.Errorf("matcher %q: %w", s, err)
			}
			if to < from {
				return codeSet{}, fmt.Errorf("matcher %q: range %s ends before it starts", s, part)
			}
		}
		for c := from; c <= to; c++ {
			set[c/64] |= 1 << (c % 64)
		}
	}
	return set, nil
}

// parseCode parses one HTTP code in the range a matcher may name. Only
// plain digits are accepted: no signs, spaces or empty elements.
func parseCode(s string) (int, error) {
	if len(s) != 3 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an HTTP code", s)
	}
	c, _ := strconv.Atoi(s) // three digits always parse
	if c < minMatcherCode || c > maxMatcherCode {
		return 0, fmt.Errorf("HTTP code %d is outside %d-%d", c, minMatcherCode, maxMatcherCode)
	}
	return c, nil
}

// has reports whether code counts as a success.
func (s *codeSet) has(code int) bool {
	return code >= 0 && code <= maxMatcherCode && s[code/64]&(1<<(code%64)) != 0
}
