package core

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// idgen makes identifiers in AWS's forms. It reads from an io.Reader so tests
// can make them deterministic.
type idgen struct{ r io.Reader }

func (g idgen) hex(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := io.ReadFull(g.r, b); err != nil {
		// crypto/rand does not fail on Linux; a test reader that runs dry is a bug.
		panic(fmt.Sprintf("core: id source failed: %v", err))
	}
	return hex.EncodeToString(b)[:n]
}

// id returns prefix + "-" + 17 hex digits, the form of vpc-, subnet-, sg-, i-,
// eni-, vpce-, vpce-svc- and most other EC2 identifiers.
func (g idgen) id(prefix string) string { return prefix + "-" + g.hex(17) }

// digits returns n random decimal digits, the first not zero.
func (g idgen) digits(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(g.r, b); err != nil {
		panic(fmt.Sprintf("core: id source failed: %v", err))
	}
	var sb strings.Builder
	for i, c := range b {
		d := c % 10
		if i == 0 && d == 0 {
			d = 1 + c%9
		}
		sb.WriteByte('0' + d)
	}
	return sb.String()
}

// alnum returns n characters from the alphabet.
func (g idgen) fromAlphabet(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(g.r, b); err != nil {
		panic(fmt.Sprintf("core: id source failed: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	secretChar = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// validID reports whether s is prefix + "-" + 8 or 17 lower-case hex digits.
func validID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"-")
	if !ok || (len(rest) != 8 && len(rest) != 17) {
		return false
	}
	for _, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// newRandReader is the default id source.
func newRandReader() io.Reader { return rand.Reader }
