package query

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// field is a struct field with its parsed tag.
type field struct {
	index    int
	name     string // request parameter
	member   string // list/map wrapper in requests; "" when flattened
	xml      string // response element
	item     string // list/map wrapper in responses; "" when flattened
	key      string // map entry key name
	value    string // map entry value name
	required bool
	tags     fieldTags // the response elements' tags
}

// element is a response element's start and end tags, written out once per
// field so that writing an element is two copies.
type element struct{ open, close string }

func newElement(name string) element { return element{"<" + name + ">", "</" + name + ">"} }

// fieldTags are the elements of a field in responses.
type fieldTags struct{ xml, item, key, value element }

// fieldCache memoizes fields by struct type (reflect.Type → fieldsResult).
// It is the codec's one piece of package state, kept for the reason
// encoding/json keeps one: parsing the tags was half the cost of decoding a
// request. It holds a pure function of types that never change, so no
// caller can observe it, and it grows only to the struct types the program
// passes in.
var fieldCache sync.Map

type fieldsResult struct {
	fs  []field
	err error
}

// cachedFields returns fields(t), parsing t's tags once per process. The
// slice is shared: callers must not modify it.
func cachedFields(t reflect.Type) ([]field, error) {
	if r, ok := fieldCache.Load(t); ok {
		r := r.(fieldsResult)
		return r.fs, r.err
	}
	fs, err := fields(t)
	fieldCache.Store(t, fieldsResult{fs, err})
	return fs, err
}

// fields parses the tags of struct type t.
func fields(t reflect.Type) ([]field, error) {
	fs := make([]field, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("query")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		f := field{index: i, name: name, key: "key", value: "value"}
		if f.name == "" {
			f.name = sf.Name
		}
		for opt := range strings.SplitSeq(opts, ",") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "":
			case "member":
				f.member = v
			case "xml":
				f.xml = v
			case "item":
				f.item = v
			case "key":
				f.key = v
			case "value":
				f.value = v
			case "req":
				f.required = true
			default:
				return nil, fmt.Errorf("query: %s.%s: unknown tag option %q", t, sf.Name, k)
			}
		}
		if f.xml == "" {
			f.xml = f.name
		}
		f.tags = fieldTags{xml: newElement(f.xml), item: newElement(f.item), key: newElement(f.key), value: newElement(f.value)}
		if strings.Contains(f.name, ".") {
			return nil, fmt.Errorf("query: %s.%s: parameter name %q has a dot", t, sf.Name, f.name)
		}
		fs = append(fs, f)
	}
	return fs, nil
}
