package query

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// formTimestampFormat is how the SDKs write timestamps in requests.
const formTimestampFormat = "2006-01-02T15:04:05.999Z"

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

var timestampType = reflect.TypeFor[Timestamp]()

// encoder writes an indented XML document. Elements with children put each
// child on its own line; leaves keep their text inline, so no whitespace
// ever enters a value.
type encoder struct {
	buf   bytes.Buffer
	depth int
	// empty is true while the innermost open element has no children.
	empty bool
}

// encoderPool holds encoders between responses, for their buffers. Growing
// a fresh buffer to a large response's size cost more than encoding it
// (the new pages were zeroed and faulted in at every doubling); a pooled
// buffer already has the room. Like fieldCache it is state no caller can
// observe.
var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// maxPooledBuffer bounds the buffers kept: a rare huge response should not
// pin its memory.
const maxPooledBuffer = 8 << 20

func newEncoder() *encoder {
	e := encoderPool.Get().(*encoder)
	e.buf.Reset()
	e.depth, e.empty = 0, false
	return e
}

// release returns e to the pool; neither e nor its buffer's bytes may be
// used after.
func (e *encoder) release() {
	if e.buf.Cap() <= maxPooledBuffer {
		encoderPool.Put(e)
	}
}

// spaces is indentation for up to 32 levels in one write.
const spaces = "                                                                "

// indent starts a new line at the current depth.
func (e *encoder) indent() {
	if n := e.buf.Len(); n > 0 && e.buf.Bytes()[n-1] != '\n' {
		e.buf.WriteByte('\n')
	}
	for n := 2 * e.depth; n > 0; n -= len(spaces) {
		e.buf.WriteString(spaces[:min(n, len(spaces))])
	}
}

func (e *encoder) open(name, namespace string) {
	e.indent()
	e.buf.WriteByte('<')
	e.buf.WriteString(name)
	if namespace != "" {
		e.buf.WriteString(` xmlns="`)
		escape(&e.buf, namespace)
		e.buf.WriteByte('"')
	}
	e.buf.WriteByte('>')
	e.depth++
	e.empty = true
}

func (e *encoder) close(name string) {
	e.depth--
	if !e.empty {
		e.indent()
	}
	e.empty = false
	e.buf.WriteString("</")
	e.buf.WriteString(name)
	e.buf.WriteByte('>')
}

func (e *encoder) leaf(name, text string) {
	e.indent()
	e.buf.WriteByte('<')
	e.buf.WriteString(name)
	e.buf.WriteByte('>')
	escape(&e.buf, text)
	e.buf.WriteString("</")
	e.buf.WriteString(name)
	e.buf.WriteByte('>')
	e.empty = false
}

// structBody writes the members of out, a pointer to a struct, as children
// of the open element.
func (e *encoder) structBody(out any) error {
	if out == nil {
		return nil
	}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("output must be a pointer to a struct, got %T", out)
	}
	if v.IsNil() {
		return nil
	}
	return e.members(v.Elem())
}

func (e *encoder) members(v reflect.Value) error {
	fs, err := cachedFields(v.Type())
	if err != nil {
		return err
	}
	for _, f := range fs {
		if err := e.member(v.Field(f.index), f); err != nil {
			return fmt.Errorf("%s: %w", f.xml, err)
		}
	}
	return nil
}

// member writes one field; absent (nil) fields are left out.
func (e *encoder) member(v reflect.Value, f field) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return e.value(f.xml, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return e.value(f.xml, v)
		}
		return e.list(v, f)
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		return e.mapping(v, f)
	}
	return e.value(f.xml, v)
}

func (e *encoder) list(v reflect.Value, f field) error {
	name := f.xml
	if f.item != "" {
		e.open(f.xml, "")
		name = f.item
	}
	for i := range v.Len() {
		if err := e.value(name, v.Index(i)); err != nil {
			return err
		}
	}
	if f.item != "" {
		e.close(f.xml)
	}
	return nil
}

func (e *encoder) mapping(v reflect.Value, f field) error {
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("map key must be a string, got %s", v.Type().Key())
	}
	keys := make([]string, 0, v.Len())
	for _, k := range v.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	entry := f.xml
	if f.item != "" {
		e.open(f.xml, "")
		entry = f.item
	}
	for _, k := range keys {
		e.open(entry, "")
		e.leaf(f.key, k)
		if err := e.value(f.value, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))); err != nil {
			return err
		}
		e.close(entry)
	}
	if f.item != "" {
		e.close(f.xml)
	}
	return nil
}

// value writes v as element name: a structure's members, or a scalar's text.
func (e *encoder) value(name string, v reflect.Value) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct && v.Type() != timestampType {
		e.open(name, "")
		if err := e.members(v); err != nil {
			return err
		}
		e.close(name)
		return nil
	}
	text, err := scalarText(v, false)
	if err != nil {
		return err
	}
	e.leaf(name, text)
	return nil
}

// scalarText is the wire text of a scalar. Forms write timestamps as the
// SDKs' query serializers do, with no trailing zero milliseconds.
func scalarText(v reflect.Value, form bool) (string, error) {
	switch v.Kind() {
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN", nil
		case math.IsInf(f, 1):
			return "Infinity", nil
		case math.IsInf(f, -1):
			return "-Infinity", nil
		}
		return strconv.FormatFloat(f, 'f', -1, v.Type().Bits()), nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes()), nil
		}
	case reflect.Struct:
		if v.Type() == timestampType {
			ts := v.Interface().(Timestamp)
			if form {
				return ts.UTC().Format(formTimestampFormat), nil
			}
			return ts.String(), nil
		}
	}
	return "", fmt.Errorf("unsupported type %s", v.Type())
}

// EncodeForm encodes in, a pointer to a tagged input struct, as the form a
// client would send, less Action and Version. It is the inverse of Decode,
// for tests and for clients of privlink's own APIs.
func EncodeForm(in any) (url.Values, error) {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("query: EncodeForm wants a non-nil pointer to a struct, got %T", in)
	}
	fe := formEncoder{form: url.Values{}}
	if err := fe.members("", v.Elem()); err != nil {
		return nil, fmt.Errorf("query: encode %T: %w", in, err)
	}
	return fe.form, nil
}

type formEncoder struct {
	form url.Values
}

func (fe *formEncoder) members(prefix string, v reflect.Value) error {
	fs, err := cachedFields(v.Type())
	if err != nil {
		return err
	}
	for _, f := range fs {
		if err := fe.member(prefix+f.name, v.Field(f.index), f); err != nil {
			return err
		}
	}
	return nil
}

func (fe *formEncoder) member(name string, v reflect.Value, f field) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return fe.value(name, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fe.value(name, v)
		}
		if v.Len() == 0 {
			fe.form[name] = []string{""}
			return nil
		}
		prefix := entryPrefix(name, f)
		for i := range v.Len() {
			if err := fe.value(prefix+strconv.Itoa(i+1), v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		if v.Len() == 0 {
			fe.form[name] = []string{""}
			return nil
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		prefix := entryPrefix(name, f)
		for i, k := range keys {
			entry := prefix + strconv.Itoa(i+1) + "."
			fe.form[entry+f.key] = []string{k}
			if err := fe.value(entry+f.value, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))); err != nil {
				return err
			}
		}
		return nil
	}
	return fe.value(name, v)
}

func (fe *formEncoder) value(name string, v reflect.Value) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct && v.Type() != timestampType {
		return fe.members(name+".", v)
	}
	text, err := scalarText(v, true)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fe.form[name] = []string{text}
	return nil
}

// entryPrefix is where a list's or map's numbered entries start:
// "Name.member." when wrapped, "Name." when flattened.
func entryPrefix(name string, f field) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('.')
	if f.member != "" {
		b.WriteString(f.member)
		b.WriteByte('.')
	}
	return b.String()
}
