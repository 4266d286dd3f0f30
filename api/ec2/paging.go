package ec2

import (
	"encoding/base64"
	"encoding/json"

	"github.com/privlink/privlink/core"
)

// EC2's page sizes: MaxResults runs from 5 to 1000. Some operations refuse
// larger values; the endpoint operations serve 1000 instead, as their
// documentation says.
const (
	minPageSize = 5
	maxPageSize = 1000
)

// pager pages one describe call's results. Core returns every result in a
// stable order; the pager picks the page that MaxResults and NextToken ask
// for. Its tokens name the operation, the offset of the next result and
// the key of the last one returned, so that a page resumes after that
// result even when earlier ones have gone away meanwhile.
type pager struct {
	op    string
	limit int // 0: no limit
	tok   *pageToken
}

// pageToken is what a NextToken carries, base64url-encoded JSON. Clients
// must treat it as opaque.
type pageToken struct {
	Op     string `json:"op"`
	Offset int    `json:"off"`
	Last   string `json:"last"`
}

// newPager validates MaxResults and NextToken. clamp serves values over
// 1000 as 1000 rather than refusing them. An empty NextToken is no token.
func newPager(op string, maxResults *int32, nextToken *string, clamp bool) (pager, error) {
	p := pager{op: op}
	if maxResults != nil {
		n := *maxResults
		switch {
		case n < minPageSize:
			return p, core.Errorf(core.KindInvalid, "InvalidParameterValue",
				"Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than %d.", n, minPageSize)
		case n > maxPageSize && !clamp:
			return p, core.Errorf(core.KindInvalid, "InvalidParameterValue",
				"Value ( %d ) for parameter maxResults is invalid. Expecting a value less than or equal to %d.", n, maxPageSize)
		}
		p.limit = int(min(n, maxPageSize))
	}
	if nextToken != nil && *nextToken != "" {
		tok, ok := decodePageToken(*nextToken)
		if !ok || tok.Op != op {
			return p, core.Errorf(core.KindInvalid, "InvalidParameterValue",
				"Value ( %s ) for parameter NextToken is invalid. The token is invalid.", truncate(*nextToken, 64))
		}
		p.tok = &tok
	}
	return p, nil
}

func decodePageToken(s string) (pageToken, bool) {
	var tok pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &tok) != nil || tok.Offset < 1 || tok.Last == "" {
		return pageToken{}, false
	}
	return tok, true
}

// page returns the page of items that p asks for and the token of the next
// page, nil after the last. key names an item uniquely.
func page[T any](p pager, items []T, key func(T) string) ([]T, *string) {
	start := 0
	if t := p.tok; t != nil {
		start = resumeAt(t, items, key)
	}
	end := len(items)
	if p.limit > 0 && start+p.limit < end {
		end = start + p.limit
	}
	out := items[start:end]
	if end >= len(items) || end == start {
		return out, nil
	}
	b, _ := json.Marshal(pageToken{Op: p.op, Offset: end, Last: key(items[end-1])})
	next := base64.RawURLEncoding.EncodeToString(b)
	return out, &next
}

// resumeAt finds where the page after the token's last item starts: after
// that item, found where it was or elsewhere, or at the old offset if it is
// gone.
func resumeAt[T any](t *pageToken, items []T, key func(T) string) int {
	if t.Offset <= len(items) && key(items[t.Offset-1]) == t.Last {
		return t.Offset
	}
	for i, it := range items {
		if key(it) == t.Last {
			return i + 1
		}
	}
	return min(t.Offset, len(items))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
