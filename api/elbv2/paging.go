package elbv2

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Paging of the Describe actions. Core returns whole lists; the handler
// cuts them into pages of PageSize (1–400, AWS's bounds; 400 when absent).
//
// A marker names the last item of the previous page by a key that is unique
// and, for listings (everything of the caller, or everything of one load
// balancer), follows the listing's order. The next page starts after that
// item, or, if it has been deleted meanwhile, after where it would be. So
// items created or deleted between pages never make a page repeat or skip
// an item that exists throughout. Lists of named items (by ARN or name)
// keep the request's order; their marker must name one of them.

const maxPageSize = 400

// pager is a validated Marker and PageSize.
type pager struct {
	kind  string // which action's marker, so another action's is refused
	after string // key of the last item already returned; "" for none
	size  int
}

// newPager validates the paging parameters of an action before core is
// called, as AWS checks them before anything else.
func newPager(kind string, marker *string, pageSize *int32) (pager, error) {
	p := pager{kind: kind, size: maxPageSize}
	if pageSize != nil {
		switch n := *pageSize; {
		case n < 1:
			return p, validationErrors(fmt.Sprintf("Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1", n))
		case n > maxPageSize:
			return p, validationErrors(fmt.Sprintf("Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to %d", n, maxPageSize))
		default:
			p.size = int(n)
		}
	}
	if marker != nil && *marker != "" {
		key, ok := decodeMarker(kind, *marker)
		if !ok {
			return p, invalidMarker(*marker)
		}
		p.after = key
	}
	return p, nil
}

// page returns one page of items and the marker of the next, nil on the
// last page. The slice is never nil, so that an empty result is written as
// an empty list. key must be unique among items. With listing, items are
// put in key order first.
func page[T any](p pager, items []T, key func(T) string, listing bool) ([]T, *string, error) {
	if listing {
		slices.SortStableFunc(items, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	}
	start := 0
	if p.after != "" {
		i := slices.IndexFunc(items, func(x T) bool { return key(x) == p.after })
		switch {
		case i >= 0:
			start = i + 1
		case listing:
			start, _ = slices.BinarySearchFunc(items, p.after, func(x T, k string) int { return cmp.Compare(key(x), k) })
		default:
			return nil, nil, invalidMarker(encodeMarker(p.kind, p.after))
		}
	}
	end := min(start+p.size, len(items))
	out := make([]T, 0, end-start)
	out = append(out, items[start:end]...)
	if end == len(items) {
		return out, nil, nil
	}
	next := encodeMarker(p.kind, key(items[end-1]))
	return out, &next, nil
}

const markerVersion = "1"

func encodeMarker(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(markerVersion + "|" + kind + "|" + key))
}

func decodeMarker(kind, marker string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil {
		return "", false
	}
	key, ok := strings.CutPrefix(string(b), markerVersion+"|"+kind+"|")
	if !ok || key == "" {
		return "", false
	}
	return key, true
}

func invalidMarker(marker string) error {
	return validation("The marker '%s' is not valid", clip(marker))
}

// createdKey orders items by creation time, then ID: the order of core's
// listings of load balancers and target groups.
func createdKey(t time.Time, id string) string {
	return t.UTC().Format("20060102150405.000000000") + "/" + id
}
