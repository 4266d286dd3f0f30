package query

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// formTimestampFormat is how the SDKs write timestamps in requests.
const formTimestampFormat = "2006-01-02T15:04:05.999Z"

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

var timestampType = reflect.TypeFor[Timestamp]()

// encoder writes an indented XML document. Elements with children put each
// child on its own line; leaves keep their text inline, so no whitespace
// ever enters a value.
type encoder struct {
	buf   []byte
	depth int
	// empty is true while the innermost open element has no children.
	empty bool
}

// freeEncoders holds encoders between responses, for their buffers.
// Growing a fresh buffer to a large response's size cost more than encoding
// it (the new pages were zeroed and faulted in at every growth); a kept
// buffer already has the room. A sync.Pool would drop them at every
// garbage collection, which a server answering large lists runs often, so a
// few are kept here instead, as many as could be encoding at once on a
// small machine. Like fieldCache it is state no caller can observe.
var freeEncoders = make(chan *encoder, 4)

// maxPooledBuffer bounds the buffers kept: a rare huge response should not
// pin its memory. 4 MiB holds a list of 1,000 endpoints, the most a page
// has on AWS.
const maxPooledBuffer = 4 << 20

func newEncoder() *encoder {
	select {
	case e := <-freeEncoders:
		e.buf = e.buf[:0]
		e.depth, e.empty = 0, false
		return e
	default:
		return new(encoder)
	}
}

// release keeps e for a later response; neither e nor its buffer's bytes
// may be used after.
func (e *encoder) release() {
	if cap(e.buf) > maxPooledBuffer {
		return
	}
	select {
	case freeEncoders <- e:
	default:
	}
}

// newlineSpaces starts a line indented for up to 32 levels, in one write.
const newlineSpaces = "\n                                                                "

// indent starts a new line at the current depth.
func (e *encoder) indent() {
	n := 2 * e.depth
	if l := len(e.buf); l == 0 || e.buf[l-1] == '\n' {
		// The line is already started (only the document's first).
		e.writeSpaces(n)
		return
	}
	if n < len(newlineSpaces) {
		e.buf = append(e.buf, newlineSpaces[:1+n]...)
		return
	}
	e.buf = append(e.buf, '\n')
	e.writeSpaces(n)
}

func (e *encoder) writeSpaces(n int) {
	for ; n > 0; n -= len(newlineSpaces) - 1 {
		e.buf = append(e.buf, newlineSpaces[1:1+min(n, len(newlineSpaces)-1)]...)
	}
}

// open starts element name, with an xmlns attribute unless namespace is
// empty: the document's root and its wrappers.
func (e *encoder) open(name, namespace string) {
	e.indent()
	e.buf = append(append(e.buf, '<'), name...)
	if namespace != "" {
		e.buf = append(appendEscaped(append(e.buf, ` xmlns="`...), namespace), '"')
	}
	e.buf = append(e.buf, '>')
	e.entered()
}

// close ends element name, opened by open.
func (e *encoder) close(name string) {
	e.leaving()
	e.buf = append(append(append(e.buf, "</"...), name...), '>')
}

// leaf writes element name with text as its content.
func (e *encoder) leaf(name, text string) {
	e.indent()
	e.buf = append(append(append(e.buf, '<'), name...), '>')
	e.buf = appendEscaped(e.buf, text)
	e.buf = append(append(append(e.buf, "</"...), name...), '>')
	e.empty = false
}

// openTag starts an element whose start tag is tag.
func (e *encoder) openTag(tag string) {
	e.indent()
	e.buf = append(e.buf, tag...)
	e.entered()
}

// closeTag ends the innermost element with its end tag.
func (e *encoder) closeTag(tag string) {
	e.leaving()
	e.buf = append(e.buf, tag...)
}

// entered follows an element's start tag.
func (e *encoder) entered() {
	e.depth++
	e.empty = true
}

// leaving comes before an element's end tag: on a line of its own unless
// the element is empty.
func (e *encoder) leaving() {
	e.depth--
	if !e.empty {
		e.indent()
	}
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
	for i := range fs {
		f := &fs[i]
		if err := e.member(v.Field(f.index), f); err != nil {
			return fmt.Errorf("%s: %w", f.xml, err)
		}
	}
	return nil
}

// member writes one field; absent (nil) fields are left out.
func (e *encoder) member(v reflect.Value, f *field) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return e.value(f.tags.xml, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return e.value(f.tags.xml, v)
		}
		return e.list(v, f)
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		return e.mapping(v, f)
	}
	return e.value(f.tags.xml, v)
}

func (e *encoder) list(v reflect.Value, f *field) error {
	el := f.tags.xml
	if f.item != "" {
		e.openTag(f.tags.xml.open)
		el = f.tags.item
	}
	for i := range v.Len() {
		if err := e.value(el, v.Index(i)); err != nil {
			return err
		}
	}
	if f.item != "" {
		e.closeTag(f.tags.xml.close)
	}
	return nil
}

func (e *encoder) mapping(v reflect.Value, f *field) error {
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("map key must be a string, got %s", v.Type().Key())
	}
	keys := make([]string, 0, v.Len())
	for _, k := range v.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	entry := f.tags.xml
	if f.item != "" {
		e.openTag(f.tags.xml.open)
		entry = f.tags.item
	}
	for _, k := range keys {
		e.openTag(entry.open)
		if err := e.value(f.tags.key, reflect.ValueOf(k)); err != nil {
			return err
		}
		if err := e.value(f.tags.value, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))); err != nil {
			return err
		}
		e.closeTag(entry.close)
	}
	if f.item != "" {
		e.closeTag(f.tags.xml.close)
	}
	return nil
}

// value writes v as element el: a structure's members, or a scalar's text.
func (e *encoder) value(el element, v reflect.Value) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct && v.Type() != timestampType {
		e.openTag(el.open)
		if err := e.members(v); err != nil {
			return err
		}
		e.closeTag(el.close)
		return nil
	}
	e.indent()
	e.buf = append(e.buf, el.open...)
	if err := e.scalar(v); err != nil {
		return err
	}
	e.buf = append(e.buf, el.close...)
	e.empty = false
	return nil
}

// scalar writes the text of a scalar, escaped where it is a string (no
// other scalar's text needs escaping).
func (e *encoder) scalar(v reflect.Value) (err error) {
	if v.Kind() == reflect.String {
		e.buf = appendEscaped(e.buf, v.String())
		return nil
	}
	e.buf, err = appendScalar(e.buf, v, false)
	return err
}

// scalarText is the wire text of a scalar.
func scalarText(v reflect.Value, form bool) (string, error) {
	b, err := appendScalar(nil, v, form)
	return string(b), err
}

// appendScalar appends the wire text of a scalar, unescaped. Forms write
// timestamps as the SDKs' query serializers do, with no trailing zero
// milliseconds.
func appendScalar(dst []byte, v reflect.Value, form bool) ([]byte, error) {
	switch v.Kind() {
	case reflect.String:
		return append(dst, v.String()...), nil
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return append(dst, "NaN"...), nil
		case math.IsInf(f, 1):
			return append(dst, "Infinity"...), nil
		case math.IsInf(f, -1):
			return append(dst, "-Infinity"...), nil
		}
		return strconv.AppendFloat(dst, f, 'f', -1, v.Type().Bits()), nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.AppendEncode(dst, v.Bytes()), nil
		}
	case reflect.Struct:
		if v.Type() == timestampType {
			// A field's timestamp is read in place; only a value
			// outside a struct is copied.
			var ts *Timestamp
			if v.CanAddr() {
				ts = v.Addr().Interface().(*Timestamp)
			} else {
				t := v.Interface().(Timestamp)
				ts = &t
			}
			layout := TimestampFormat
			if form {
				layout = formTimestampFormat
			}
			return ts.UTC().AppendFormat(dst, layout), nil
		}
	}
	return dst, fmt.Errorf("unsupported type %s", v.Type())
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
