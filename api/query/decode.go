package query

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// MaxListIndex is the largest list or map index a request may use. AWS
// caps its lists at 1000 entries.
const MaxListIndex = 1000

// maxDecodeErrors bounds the errors one request can produce.
const maxDecodeErrors = 100

// DecodeErrorKind says what was wrong with a request parameter.
type DecodeErrorKind int

const (
	// UnknownParameter: the operation has no such parameter (EC2's
	// UnknownParameter).
	UnknownParameter DecodeErrorKind = iota + 1
	// InvalidParameter: the value cannot be read as its type, or a list
	// index is out of range (EC2's InvalidParameterValue).
	InvalidParameter
	// MissingParameter: a required parameter is absent (EC2's
	// MissingParameter).
	MissingParameter
)

func (k DecodeErrorKind) String() string {
	switch k {
	case UnknownParameter:
		return "unknown"
	case InvalidParameter:
		return "invalid"
	case MissingParameter:
		return "missing"
	}
	return "DecodeErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// DecodeError is one problem with one request parameter. Its message is
// fit for a client: it quotes only what the client sent.
type DecodeError struct {
	Kind DecodeErrorKind
	// Param is the full parameter name, e.g. "TagSpecification.1.Tag.2.Key".
	Param string
	// Value is the value sent, for InvalidParameter.
	Value string
	// Reason says why the value is invalid, for InvalidParameter.
	Reason string
}

func (e *DecodeError) Error() string {
	switch e.Kind {
	case UnknownParameter:
		return fmt.Sprintf("The parameter %s is not recognized", e.Param)
	case MissingParameter:
		return fmt.Sprintf("The request must contain the parameter %s", e.Param)
	}
	v := e.Value
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("Value (%s) for parameter %s is invalid. %s", v, e.Param, e.Reason)
}

// DecodeErrors is every problem Decode found, unknown parameters first, then
// invalid values, then missing ones. errors.As with a *DecodeError target
// finds the first.
type DecodeErrors []*DecodeError

func (es DecodeErrors) Error() string {
	switch len(es) {
	case 0:
		return "no decode errors"
	case 1:
		return es[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", es[0].Error(), len(es)-1)
}

// Unwrap lets errors.As and errors.Is see each DecodeError.
func (es DecodeErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// Decode reads form, a Query request's parameters, into in, a non-nil
// pointer to a tagged struct. Action, Version and SigV4 query-signing
// parameters (X-Amz-*) are not the operation's and are ignored. Problems
// with the request come back as DecodeErrors; any other error means in is
// not a valid target.
func Decode(form url.Values, in any) error {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("query: Decode wants a non-nil pointer to a struct, got %T", in)
	}
	d := &decoder{form: form, keys: make([]string, 0, len(form))}
	for k := range form {
		if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		d.keys = append(d.keys, k)
	}
	slices.Sort(d.keys)
	d.used = make([]bool, len(d.keys))
	if err := d.structure("", v.Elem()); err != nil {
		return fmt.Errorf("query: decode %T: %w", in, err)
	}
	var unknown DecodeErrors
	for i, k := range d.keys {
		if !d.used[i] && len(unknown)+len(d.errs) < maxDecodeErrors {
			unknown = append(unknown, &DecodeError{Kind: UnknownParameter, Param: k})
		}
	}
	errs := append(unknown, d.errs...)
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *DecodeError) int { return cmp.Compare(a.Kind, b.Kind) })
	return errs
}

// decoder walks the target struct and looks each parameter up in the
// sorted keys, so its work follows the struct and the keys sent, never an
// index a client names.
type decoder struct {
	form url.Values
	// keys are the form's keys, sorted so that a prefix's keys are
	// contiguous; used marks those a field has read.
	keys []string
	used []bool
	errs DecodeErrors
}

func (d *decoder) fail(kind DecodeErrorKind, param, value, reason string) {
	if len(d.errs) < maxDecodeErrors {
		d.errs = append(d.errs, &DecodeError{Kind: kind, Param: param, Value: value, Reason: reason})
	}
}

// find returns the index of key, or -1.
func (d *decoder) find(key string) int {
	i, ok := slices.BinarySearch(d.keys, key)
	if !ok {
		return -1
	}
	return i
}

// span returns the range of keys that start with prefix.
func (d *decoder) span(prefix string) (lo, hi int) {
	lo, _ = slices.BinarySearch(d.keys, prefix)
	hi = lo
	for hi < len(d.keys) && strings.HasPrefix(d.keys[hi], prefix) {
		hi++
	}
	return lo, hi
}

// under reports whether some key starts with prefix+name, without building
// that string: most fields of a request are absent, and this keeps them
// from costing an allocation each.
func (d *decoder) under(prefix, name string) bool {
	lo, hi := 0, len(d.keys)
	for lo < hi { // the first key not below prefix+name
		mid := int(uint(lo+hi) >> 1)
		if compareJoined(d.keys[mid], prefix, name) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(d.keys) {
		return false
	}
	k := d.keys[lo]
	return strings.HasPrefix(k, prefix) && strings.HasPrefix(k[len(prefix):], name)
}

// compareJoined compares s with a+b, as strings.Compare(s, a+b) would.
func compareJoined(s, a, b string) int {
	n := min(len(s), len(a))
	if c := strings.Compare(s[:n], a[:n]); c != 0 {
		return c
	}
	if len(s) < len(a) {
		return -1 // s is a proper prefix of a, so of a+b
	}
	return strings.Compare(s[len(a):], b)
}

// take marks key i used and returns its value.
func (d *decoder) take(i int) string {
	d.used[i] = true
	vals := d.form[d.keys[i]]
	if len(vals) == 0 {
		return ""
	}
	for _, v := range vals[1:] {
		if v != vals[0] {
			d.fail(InvalidParameter, d.keys[i], v, "The parameter is given more than once with different values.")
			break
		}
	}
	return vals[0]
}

// structure decodes the members of struct v from the keys under prefix
// ("" or "Name.1.").
func (d *decoder) structure(prefix string, v reflect.Value) error {
	fs, err := cachedFields(v.Type())
	if err != nil {
		return err
	}
	for _, f := range fs {
		fv := v.Field(f.index)
		// A field no key starts with is absent; maps still go through
		// mapping, which rejects a map type the codec cannot decode.
		if fv.Kind() != reflect.Map && !d.under(prefix, f.name) {
			if f.required {
				d.fail(MissingParameter, prefix+f.name, "", "")
			}
			continue
		}
		name := prefix + f.name
		present, err := d.member(name, fv, f)
		if err != nil {
			return err
		}
		if f.required && !present {
			d.fail(MissingParameter, name, "", "")
		}
	}
	return nil
}

// member decodes one field and reports whether the request had it.
func (d *decoder) member(name string, v reflect.Value, f field) (bool, error) {
	switch {
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8:
		return d.list(name, v, f)
	case v.Kind() == reflect.Map:
		return d.mapping(name, v, f)
	}
	return d.value(name, v)
}

// value decodes the scalar or structure v (a pointer or a value) from name.
func (d *decoder) value(name string, v reflect.Value) (bool, error) {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t != timestampType {
		prefix := name + "."
		if lo, hi := d.span(prefix); lo == hi {
			return false, nil
		}
		if v.Kind() == reflect.Pointer {
			v.Set(reflect.New(t))
			v = v.Elem()
		}
		return true, d.structure(prefix, v)
	}
	i := d.find(name)
	if i < 0 {
		return false, nil
	}
	s := d.take(i)
	target := v
	if v.Kind() == reflect.Pointer {
		target = reflect.New(t).Elem()
	}
	reason, err := parseScalar(target, s)
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	if reason != "" {
		d.fail(InvalidParameter, name, s, reason)
		return true, nil
	}
	if v.Kind() == reflect.Pointer {
		v.Set(target.Addr())
	}
	return true, nil
}

// indexes returns the distinct entry indexes under prefix, in order.
// Indexes that are numbers out of range are reported; keys whose index is
// not a number are left unused, to be reported as unknown.
func (d *decoder) indexes(prefix string) []int {
	lo, hi := d.span(prefix)
	var idx []int
	lastBad := ""
	for i := lo; i < hi; i++ {
		seg, _, _ := strings.Cut(d.keys[i][len(prefix):], ".")
		n, ok, valid := parseIndex(seg)
		if !ok {
			continue
		}
		if !valid {
			d.used[i] = true
			if seg != lastBad {
				lastBad = seg
				d.fail(InvalidParameter, prefix+seg, seg,
					"List indexes run from 1 to "+strconv.Itoa(MaxListIndex)+".")
			}
			continue
		}
		if len(idx) == 0 || idx[len(idx)-1] != n {
			idx = append(idx, n)
		}
	}
	// Keys sort as text ("10" before "2"); entries go in number order.
	slices.Sort(idx)
	return slices.Compact(idx)
}

// parseIndex reads a list index: ok says it is a number at all, valid that
// it is a canonical one in 1..MaxListIndex.
func parseIndex(seg string) (n int, ok, valid bool) {
	if seg == "" {
		return 0, false, false
	}
	for _, c := range []byte(seg) {
		if c < '0' || c > '9' {
			return 0, false, false
		}
	}
	// Nine digits cannot overflow an int; any longer index is out of
	// range anyway.
	if seg[0] == '0' || len(seg) > 9 {
		return 0, true, false
	}
	n, _ = strconv.Atoi(seg)
	return n, true, n <= MaxListIndex
}

// marker reads "Name=" with an empty value, which awsquery clients send for
// an empty list or map.
func (d *decoder) marker(name string) bool {
	i := d.find(name)
	if i < 0 {
		return false
	}
	if s := d.take(i); s != "" {
		d.fail(InvalidParameter, name, s, "A list is sent as numbered parameters.")
	}
	return true
}

func (d *decoder) list(name string, v reflect.Value, f field) (bool, error) {
	present := d.marker(name)
	prefix := entryPrefix(name, f)
	idx := d.indexes(prefix)
	if len(idx) == 0 {
		if present {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
		return present, nil
	}
	s := reflect.MakeSlice(v.Type(), len(idx), len(idx))
	for j, n := range idx {
		if _, err := d.value(prefix+strconv.Itoa(n), s.Index(j)); err != nil {
			return false, err
		}
	}
	v.Set(s)
	return true, nil
}

func (d *decoder) mapping(name string, v reflect.Value, f field) (bool, error) {
	if v.Type().Key().Kind() != reflect.String {
		return false, fmt.Errorf("%s: map key must be a string, got %s", name, v.Type().Key())
	}
	present := d.marker(name)
	prefix := entryPrefix(name, f)
	idx := d.indexes(prefix)
	if len(idx) == 0 {
		if present {
			v.Set(reflect.MakeMap(v.Type()))
		}
		return present, nil
	}
	m := reflect.MakeMapWithSize(v.Type(), len(idx))
	for _, n := range idx {
		entry := prefix + strconv.Itoa(n) + "."
		ki := d.find(entry + f.key)
		if ki < 0 {
			d.fail(MissingParameter, entry+f.key, "", "")
			continue
		}
		key := d.take(ki)
		k := reflect.ValueOf(key).Convert(v.Type().Key())
		if m.MapIndex(k).IsValid() {
			d.fail(InvalidParameter, entry+f.key, key, "The map key is given more than once.")
			continue
		}
		val := reflect.New(v.Type().Elem()).Elem()
		ok, err := d.value(entry+f.value, val)
		if err != nil {
			return false, err
		}
		if !ok {
			d.fail(MissingParameter, entry+f.value, "", "")
			continue
		}
		m.SetMapIndex(k, val)
	}
	v.Set(m)
	return true, nil
}

// parseScalar sets v from s. A non-empty reason means s is not a valid
// value of v's type; an error means v's type is not one the codec knows.
func parseScalar(v reflect.Value, s string) (reason string, err error) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
		return "", nil
	case reflect.Bool:
		switch {
		case strings.EqualFold(s, "true"):
			v.SetBool(true)
		case strings.EqualFold(s, "false"):
			v.SetBool(false)
		default:
			return "Expected true or false.", nil
		}
		return "", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return "Expected an integer of " + strconv.Itoa(v.Type().Bits()) + " bits.", nil
		}
		v.SetInt(n)
		return "", nil
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "Expected a finite number.", nil
		}
		v.SetFloat(f)
		return "", nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return "Expected base64.", nil
			}
			v.SetBytes(b)
			return "", nil
		}
	case reflect.Struct:
		if v.Type() == timestampType {
			var t Timestamp
			if err := t.UnmarshalText([]byte(s)); err != nil {
				return "Expected an ISO 8601 time such as 2006-01-02T15:04:05Z.", nil
			}
			if y := t.UTC().Year(); y < 0 || y > 9999 {
				return "The year must be 0000 to 9999.", nil
			}
			v.Set(reflect.ValueOf(t))
			return "", nil
		}
	}
	return "", errors.New("unsupported type " + v.Type().String())
}
