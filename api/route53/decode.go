package route53

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/privlink/privlink/core"
)

// Route 53 validates request bodies against an XML schema and reports the
// first violation as InvalidInput with the schema validator's (Xerces's)
// message after "Invalid XML ; ". decodeBody does the same for the shapes
// in shapes.go: it walks the document beside the Go type, refusing unknown,
// repeated and misplaced elements and stray text, and then unmarshals it.

// invalidXML is InvalidInput with a schema message.
func invalidXML(format string, args ...any) error {
	return core.Errorf(core.KindInvalid, "InvalidInput", "Invalid XML ; "+format, args...)
}

// qualified is an element name as Xerces quotes it in lists of expected
// elements.
func qualified(name string) string { return `"` + XMLNamespace + `":` + name }

// decodeBody checks body against the shape that v points to and decodes it
// into v.
func decodeBody(body []byte, v any) error {
	t := reflect.TypeOf(v).Elem()
	if err := checkDocument(body, t); err != nil {
		return err
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return invalidXML("%s", syntaxMessage(err))
	}
	return nil
}

// frame is an open element: the struct type whose fields are its allowed
// children, or, for a list A of B in an "A>B" tag, the name of the item
// and its type. A leaf has neither.
type frame struct {
	name     string
	st       reflect.Type // a struct, or nil
	item     string       // set for a list element
	itemType reflect.Type
	seen     map[string]bool
}

// checkDocument walks the document's elements beside the root shape t.
func checkDocument(body []byte, t reflect.Type) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidXML("Premature end of file.")
	}
	if !utf8.Valid(body) {
		return invalidXML("Invalid byte sequence in UTF-8.")
	}
	root := rootName(t)
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	done := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return invalidXML("%s", syntaxMessage(err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			if len(stack) == 0 {
				if done || name != root || (tok.Name.Space != "" && tok.Name.Space != XMLNamespace) {
					return invalidXML("cvc-elt.1.a: Cannot find the declaration of element '%s'.", name)
				}
				stack = append(stack, structFrame(name, t))
				continue
			}
			child, err := stack[len(stack)-1].child(name)
			if err != nil {
				return err
			}
			stack = append(stack, child)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			done = len(stack) == 0
		case xml.CharData:
			if len(stack) > 0 && len(bytes.TrimSpace(tok)) > 0 {
				if f := stack[len(stack)-1]; f.st != nil || f.item != "" {
					return invalidXML("cvc-complex-type.2.3: Element '%s' cannot have character [children], because the type's content type is element-only.", f.name)
				}
			}
		}
	}
	if !done {
		return invalidXML("Premature end of file.")
	}
	return nil
}

// rootName is the XMLName of a request shape.
func rootName(t reflect.Type) string {
	if f, ok := t.FieldByName("XMLName"); ok {
		return f.Tag.Get("xml")
	}
	return t.Name()
}

// structFrame opens an element of a shape's type: a struct's fields are
// its children; anything else is text.
func structFrame(name string, t reflect.Type) *frame {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	f := &frame{name: name, seen: map[string]bool{}}
	if t.Kind() == reflect.Struct {
		f.st = t
	}
	return f
}

// child opens the element name inside f, or refuses it.
func (f *frame) child(name string) (*frame, error) {
	if f.item != "" {
		if name != f.item {
			return nil, invalidXML("cvc-complex-type.2.4.a: Invalid content was found starting with element '%s'. One of '{%s}' is expected.", name, qualified(f.item))
		}
		return structFrame(name, f.itemType), nil
	}
	if f.st == nil {
		return nil, invalidXML("cvc-type.3.1.2: Element '%s' is a simple type, so it must have no element information item [children].", f.name)
	}
	var allowed []string
	for i := range f.st.NumField() {
		sf := f.st.Field(i)
		tag := sf.Tag.Get("xml")
		if sf.Name == "XMLName" || tag == "" || tag == "-" {
			continue
		}
		tag, _, _ = strings.Cut(tag, ",")
		outer, item, isList := strings.Cut(tag, ">")
		allowed = append(allowed, qualified(outer))
		if outer != name {
			continue
		}
		if f.seen[name] && !(sf.Type.Kind() == reflect.Slice && !isList) {
			return nil, invalidXML("cvc-complex-type.2.4.d: Invalid content was found starting with element '%s'. No child element is expected at this point.", name)
		}
		f.seen[name] = true
		if isList {
			return &frame{name: name, item: item, itemType: sf.Type.Elem()}, nil
		}
		return structFrame(name, sf.Type), nil
	}
	return nil, invalidXML("cvc-complex-type.2.4.a: Invalid content was found starting with element '%s'. One of '{%s}' is expected.", name, strings.Join(allowed, ", "))
}

// syntaxMessage describes a document that is not well-formed.
func syntaxMessage(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("The document is not well-formed: %s (line %d).", se.Msg, se.Line)
	}
	return "The document is not well-formed."
}

// Value checks, with the messages of the schema's types.

// required refuses a missing member of parent.
func required(parent, member string) error {
	return invalidXML("cvc-complex-type.2.4.b: The content of element '%s' is not complete. One of '{%s}' is expected.", parent, qualified(member))
}

// enumeration checks a value of an enumerated type.
func enumeration(v string, values ...string) error {
	for _, ok := range values {
		if v == ok {
			return nil
		}
	}
	return invalidXML("cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[%s]'. It must be a value from the enumeration.", v, strings.Join(values, ", "))
}

// maxLength checks the length of a string of the named type.
func maxLength(v string, limit int, typ string) error {
	if n := utf8.RuneCountInString(v); n > limit {
		return invalidXML("cvc-maxLength-valid: Value '%s' with length = '%d' is not facet-valid with respect to maxLength '%d' for type '%s'.", clip(v), n, limit, typ)
	}
	return nil
}

// parseBool reads an xsd:boolean.
func parseBool(v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, invalidXML("cvc-datatype-valid.1.2.1: '%s' is not a valid value for 'boolean'.", clip(v))
}

// parseLong reads an xsd:long of the named type within [min, max].
func parseLong(v string, lo, hi int64, typ string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, invalidXML("cvc-datatype-valid.1.2.1: '%s' is not a valid value for 'integer'.", clip(v))
	}
	if n < lo {
		return 0, invalidXML("cvc-minInclusive-valid: Value '%d' is not facet-valid with respect to minInclusive '%d' for type '%s'.", n, lo, typ)
	}
	if n > hi {
		return 0, invalidXML("cvc-maxInclusive-valid: Value '%d' is not facet-valid with respect to maxInclusive '%d' for type '%s'.", n, hi, typ)
	}
	return n, nil
}

// clip shortens a client's value quoted back in a message.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}

// deref is a pointer's string, "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
