package memstore

import (
	"iter"
	"slices"
	"sort"
	"strings"
)

// defaultChunk is the most keys an index chunk holds before it splits: big
// enough that a scan crosses few chunks, small enough that moving one
// chunk's tail on an insert costs a few hundred nanoseconds.
const defaultChunk = 512

// index is a sorted set of keys kept in chunks of at most max keys, so
// that an insert or a delete moves keys within one chunk, never the whole
// set. Finding a key is a binary search over the chunks' last keys, then
// one within the chunk. The zero index (with max set) is empty.
//
// Chunks split in two when they overflow and are dropped when they empty;
// they are not merged, so a set that shrank may keep many small chunks,
// which costs scans a little and nothing else.
type index struct {
	max int
	// chunks are sorted and non-empty, and every key of one sorts before
	// every key of the next.
	chunks [][]string
}

// chunkAt returns the chunk where k is or belongs: the first whose last key
// is not below k, or the last chunk. There must be a chunk.
func (x *index) chunkAt(k string) int {
	i := sort.Search(len(x.chunks), func(i int) bool {
		c := x.chunks[i]
		return c[len(c)-1] >= k
	})
	return min(i, len(x.chunks)-1)
}

// insert adds k, which must not be in the set.
func (x *index) insert(k string) {
	if len(x.chunks) == 0 {
		x.chunks = [][]string{{k}}
		return
	}
	ci := x.chunkAt(k)
	c := x.chunks[ci]
	j, _ := slices.BinarySearch(c, k)
	c = slices.Insert(c, j, k)
	if len(c) > x.max {
		// The upper half moves to an array of its own, with room to grow;
		// the lower half keeps the old one.
		half := len(c) / 2
		upper := make([]string, len(c)-half, x.max)
		copy(upper, c[half:])
		clear(c[half:])
		c = c[:half]
		x.chunks = slices.Insert(x.chunks, ci+1, upper)
	}
	x.chunks[ci] = c
}

// delete removes k, if it is in the set.
func (x *index) delete(k string) {
	if len(x.chunks) == 0 {
		return
	}
	ci := x.chunkAt(k)
	c := x.chunks[ci]
	j, found := slices.BinarySearch(c, k)
	if !found {
		return
	}
	c = slices.Delete(c, j, j+1)
	if len(c) == 0 {
		x.chunks = slices.Delete(x.chunks, ci, ci+1)
		return
	}
	x.chunks[ci] = c
}

// withPrefix yields the keys with the prefix, in order. The set must not
// change during the scan.
func (x *index) withPrefix(prefix string) iter.Seq[string] {
	return func(yield func(string) bool) {
		if len(x.chunks) == 0 {
			return
		}
		ci := x.chunkAt(prefix)
		// Keys with the prefix are contiguous from the first key not
		// below it: any later key without the prefix sorts after them all.
		from := sort.SearchStrings(x.chunks[ci], prefix)
		for _, c := range x.chunks[ci:] {
			for _, k := range c[from:] {
				if !strings.HasPrefix(k, prefix) || !yield(k) {
					return
				}
			}
			from = 0
		}
	}
}
