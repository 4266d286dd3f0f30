package core

import (
	"fmt"
	"strings"
)

// Route 53 domain names. Route 53 accepts names with or without the trailing
// dot, in any case, with printable ASCII characters written as themselves or
// as \ooo octal escapes. It stores and returns them in one form, which this
// file calls canonical: lower-case letters, digits, '-' and '_' as
// themselves, every other byte of a label as a three-digit octal escape
// (so a wildcard label reads \052, as Route 53 returns it), and a trailing
// dot. Canonical names compare, sort and test for subdomains as plain
// strings, because an escaped '.' inside a label is \056, never a dot.

// nameProblem is why Route 53 refuses a domain name, in the words of its
// "FATAL problem" messages.
type nameProblem struct {
	code string // e.g. DomainLabelEmpty
	text string // e.g. Domain label is empty
}

var (
	problemLabelEmpty   = &nameProblem{"DomainLabelEmpty", "Domain label is empty"}
	problemLabelTooLong = &nameProblem{"DomainLabelTooLong", "Domain label is too long"}
	problemNameTooLong  = &nameProblem{"DomainNameTooLong", "Domain name is too long"}
	problemBadCharacter = &nameProblem{"InvalidCharacterString", "Value contains an invalid character"}
	problemBadEscape    = &nameProblem{"InvalidEscapeSequence", "Value contains an invalid escape sequence"}
)

// fatal is the message Route 53 gives for the problem in name.
func (p *nameProblem) fatal(name string) string {
	return fmt.Sprintf("FATAL problem: %s (%s) encountered with '%s'", p.code, p.text, name)
}

// parseName splits a Route 53 name into its labels as raw bytes, with
// escapes decoded and letters lower-cased. The root ("" or ".") has no
// labels.
func parseName(s string) ([][]byte, *nameProblem) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return nil, nil
	}
	var labels [][]byte
	var cur []byte
	wire := 1 // the root's length byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if len(cur) == 0 {
				return nil, problemLabelEmpty
			}
			labels = append(labels, cur)
			wire += 1 + len(cur)
			cur = nil
			continue
		case c == '\\':
			if i+1 >= len(s) {
				return nil, problemBadEscape
			}
			if isDigit(s[i+1]) {
				if i+3 >= len(s) || !isOctal(s[i+1]) || !isOctal(s[i+2]) || !isOctal(s[i+3]) {
					return nil, problemBadEscape
				}
				v := int(s[i+1]-'0')<<6 | int(s[i+2]-'0')<<3 | int(s[i+3]-'0')
				if v > 0xff {
					return nil, problemBadEscape
				}
				c = byte(v)
				i += 3
			} else {
				c = s[i+1]
				i++
			}
		case c < 0x21 || c > 0x7e:
			// Spaces, controls and non-ASCII bytes must be escaped.
			return nil, problemBadCharacter
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		cur = append(cur, c)
		if len(cur) > 63 {
			return nil, problemLabelTooLong
		}
	}
	if len(cur) == 0 {
		return nil, problemLabelEmpty
	}
	labels = append(labels, cur)
	if wire += 1 + len(cur); wire > 255 {
		return nil, problemNameTooLong
	}
	return labels, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// canonicalName returns s in Route 53's stored form (see the top of this
// file), or the problem that makes Route 53 refuse it.
func canonicalName(s string) (string, *nameProblem) {
	labels, p := parseName(s)
	if p != nil {
		return "", p
	}
	return formatLabels(labels), nil
}

// formatLabels writes labels in canonical form.
func formatLabels(labels [][]byte) string {
	if len(labels) == 0 {
		return "."
	}
	var b strings.Builder
	for _, l := range labels {
		for _, c := range l {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "\\%03o", c)
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}

// nameLabels splits a canonical name into its labels, still escaped.
func nameLabels(name string) []string {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return nil
	}
	return strings.Split(name, ".")
}

// reversedName is a canonical name with its labels reversed and a trailing
// dot, e.g. "com.example.www." for "www.example.com.": the order of
// ListResourceRecordSets and ListHostedZonesByName, which compare these
// strings byte by byte.
func reversedName(name string) string {
	labels := nameLabels(name)
	var b strings.Builder
	b.Grow(len(name))
	for i := len(labels) - 1; i >= 0; i-- {
		b.WriteString(labels[i])
		b.WriteByte('.')
	}
	return b.String()
}

// inZone reports whether the canonical name is the zone's apex or below it.
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// wildcardLabel is the canonical form of a leftmost "*" label.
const wildcardLabel = `\052`

// DNSName converts a Route 53 canonical name to DNS presentation format
// as github.com/miekg/dns reads it (RFC 1035 §5.1, with decimal \DDD
// escapes): a leftmost \052 label becomes the wildcard "*", every other
// byte that is not a letter, digit, '-', '_' or '*' is escaped. The result
// is fully qualified.
func DNSName(route53Name string) string {
	labels, p := parseName(route53Name)
	if p != nil || len(labels) == 0 {
		return "."
	}
	var b strings.Builder
	for i, l := range labels {
		if i == 0 && string(l) == "*" {
			b.WriteString("*.")
			continue
		}
		for _, c := range l {
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*':
				b.WriteByte(c)
			case c > 0x20 && c < 0x7f:
				// Printable: miekg/dns escapes the specials with a
				// backslash, which is valid for every printable byte.
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, "\\%03d", c)
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}

// displayName is a name as Route 53's error messages quote it: canonical
// when it parses, as given otherwise.
func displayName(given string) string {
	if n, p := canonicalName(given); p == nil {
		return n
	}
	return given
}
