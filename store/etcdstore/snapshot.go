package etcdstore

import (
	"iter"
	"slices"
	"sort"
	"strings"

	"github.com/privlink/privlink/store"
)

// maxChunk bounds the keys in one chunk of a snapshot. Applying a change
// copies the chunks it touches and the list of chunks, so chunks keep
// changes cheap; and there are few enough of them that finding a key stays
// cheap too. New and split chunks are half full, leaving room to grow.
const maxChunk = 512

// snapshot is the read cache's content at one revision: every store key,
// sorted, in chunks. A published snapshot is never modified: applying
// changes builds a new one that shares every chunk the changes did not
// touch, so readers use a snapshot without locks while the cache moves on.
// It is the store.ReadTx of a cached View.
type snapshot struct {
	rev    int64
	chunks [][]store.KV // in key order; each sorted, non-empty, at most maxChunk long
}

var _ store.ReadTx = (*snapshot)(nil)

// newSnapshot returns the snapshot of kvs, which are sorted by key, at rev.
// It keeps kvs.
func newSnapshot(rev int64, kvs []store.KV) *snapshot {
	s := &snapshot{rev: rev}
	for len(kvs) > 0 {
		n := min(len(kvs), maxChunk/2)
		s.chunks = append(s.chunks, kvs[:n:n])
		kvs = kvs[n:]
	}
	return s
}

// locate returns the position of the first key at or after key: a chunk
// and an index in it, or len(s.chunks) when every key is before key.
func (s *snapshot) locate(key string) (ci, i int) {
	ci = sort.Search(len(s.chunks), func(c int) bool {
		ch := s.chunks[c]
		return ch[len(ch)-1].Key >= key
	})
	if ci == len(s.chunks) {
		return ci, 0
	}
	ch := s.chunks[ci]
	return ci, sort.Search(len(ch), func(j int) bool { return ch[j].Key >= key })
}

// Get implements store.ReadTx.
func (s *snapshot) Get(key string) (store.KV, bool, error) {
	ci, i := s.locate(key)
	if ci < len(s.chunks) && s.chunks[ci][i].Key == key {
		return s.chunks[ci][i], true, nil
	}
	return store.KV{}, false, nil
}

// List implements store.ReadTx.
func (s *snapshot) List(prefix string) ([]store.KV, error) {
	var parts [][]store.KV
	n := 0
	for p := range s.parts(prefix) {
		parts = append(parts, p)
		n += len(p)
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]store.KV, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}

// Scan implements store.ReadTx.
func (s *snapshot) Scan(prefix string) iter.Seq2[store.KV, error] {
	return func(yield func(store.KV, error) bool) {
		for p := range s.parts(prefix) {
			for _, kv := range p {
				if !yield(kv, nil) {
					return
				}
			}
		}
	}
}

// parts yields the keys with the prefix as pieces of chunks, in order.
// They are the run that starts at the first key at or after the prefix.
func (s *snapshot) parts(prefix string) iter.Seq[[]store.KV] {
	return func(yield func([]store.KV) bool) {
		ci, i := s.locate(prefix)
		for ; ci < len(s.chunks); ci, i = ci+1, 0 {
			ch := s.chunks[ci][i:]
			if !strings.HasPrefix(ch[len(ch)-1].Key, prefix) {
				ch = ch[:sort.Search(len(ch), func(j int) bool { return !strings.HasPrefix(ch[j].Key, prefix) })]
				if len(ch) > 0 {
					yield(ch)
				}
				return
			}
			if !yield(ch) {
				return
			}
		}
	}
}

// len returns how many keys the snapshot holds.
func (s *snapshot) len() int {
	n := 0
	for _, ch := range s.chunks {
		n += len(ch)
	}
	return n
}

// change is a put (del false) or a delete of one key.
type change struct {
	kv  store.KV
	del bool
}

// apply returns the snapshot at rev that results from the changes, which are
// sorted by key with one change per key. s does not change.
func (s *snapshot) apply(rev int64, changes []change) *snapshot {
	out := &snapshot{rev: rev, chunks: s.chunks}
	if len(changes) == 0 {
		return out
	}
	chunks := s.chunks
	if len(chunks) == 0 {
		chunks = [][]store.KV{nil} // an empty chunk to merge the changes into
	}
	out.chunks = make([][]store.KV, 0, len(chunks)+len(changes)/(maxChunk/2)+1)
	k := 0
	for c, ch := range chunks {
		// A chunk takes the changes up to its last key; the last chunk
		// takes the rest.
		end := len(changes)
		if c < len(chunks)-1 {
			last := ch[len(ch)-1].Key
			end = k + sort.Search(len(changes)-k, func(j int) bool { return changes[k+j].kv.Key > last })
		}
		if end == k {
			out.chunks = append(out.chunks, ch)
			continue
		}
		out.chunks = appendChunks(out.chunks, merge(ch, changes[k:end]))
		k = end
	}
	return out
}

// merge returns a new chunk: ch with the changes, which are sorted by key.
func merge(ch []store.KV, changes []change) []store.KV {
	out := make([]store.KV, 0, len(ch)+len(changes))
	i := 0
	for _, c := range changes {
		for i < len(ch) && ch[i].Key < c.kv.Key {
			out = append(out, ch[i])
			i++
		}
		if i < len(ch) && ch[i].Key == c.kv.Key {
			i++
		}
		if !c.del {
			out = append(out, c.kv)
		}
	}
	return append(out, ch[i:]...)
}

// appendChunks appends a rebuilt chunk to chunks: split in half-full pieces
// if it grew too long, joined to its predecessor if it shrank to a quarter,
// left out if it is empty.
func appendChunks(chunks [][]store.KV, ch []store.KV) [][]store.KV {
	switch {
	case len(ch) == 0:
		return chunks
	case len(ch) > maxChunk:
		pieces := (len(ch) + maxChunk/2 - 1) / (maxChunk / 2)
		size := (len(ch) + pieces - 1) / pieces
		for len(ch) > 0 {
			n := min(len(ch), size)
			chunks = append(chunks, ch[:n:n])
			ch = ch[n:]
		}
		return chunks
	case len(ch) < maxChunk/4 && len(chunks) > 0 && len(chunks[len(chunks)-1])+len(ch) <= maxChunk/2:
		// A new array: the predecessor may be shared with other
		// snapshots.
		last := len(chunks) - 1
		chunks[last] = slices.Concat(chunks[last], ch)
		return chunks
	}
	return append(chunks, ch)
}
