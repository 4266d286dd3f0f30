package main

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// queryImport is the codec package the generated code refers to.
const queryImport = "github.com/privlink/privlink/api/query"

// maxEnumInComment is the largest enum whose values are listed in a field's
// comment; longer ones (instance types) would drown the file.
const maxEnumInComment = 16

// generator turns the shapes of some operations of one model into Go.
type generator struct {
	m      *model
	pkg    string
	source string
	ops    []*operation
	// structs are the structure shapes to emit, by model name.
	structs map[string]bool
	// goNames maps a structure's model name to its Go type name.
	goNames map[string]string
	// roles says which operation uses a shape directly, for its comment.
	roles map[string]string
}

// generate returns the gofmt'ed Go source for the named operations of m.
// source names the model in the generated header.
func generate(m *model, pkg, source string, opNames []string) ([]byte, error) {
	g := &generator{
		m:       m,
		pkg:     pkg,
		source:  source,
		structs: map[string]bool{},
		goNames: map[string]string{},
		roles:   map[string]string{},
	}
	if err := g.resolve(opNames); err != nil {
		return nil, err
	}
	src, err := g.emit()
	if err != nil {
		return nil, err
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("gofmt generated code: %w", err)
	}
	return out, nil
}

// resolve finds the operations and every structure they reach.
func (g *generator) resolve(opNames []string) error {
	if len(opNames) == 0 {
		return fmt.Errorf("no operations given")
	}
	seen := map[string]bool{}
	for _, name := range opNames {
		op, ok := g.m.Operations[name]
		if !ok {
			return fmt.Errorf("operation %s is not in the %s model", name, g.m.Metadata.ServiceID)
		}
		if seen[name] {
			return fmt.Errorf("operation %s given twice", name)
		}
		seen[name] = true
		g.ops = append(g.ops, op)
		for _, r := range []*ref{op.Input, op.Output} {
			if r == nil {
				continue
			}
			if err := g.walk(r.Shape, name); err != nil {
				return fmt.Errorf("operation %s: %w", name, err)
			}
		}
		if op.Input != nil {
			g.roles[op.Input.Shape] = appendRole(g.roles[op.Input.Shape], "the input of "+name)
		}
		if op.Output != nil {
			g.roles[op.Output.Shape] = appendRole(g.roles[op.Output.Shape], "the output of "+name)
		}
	}
	reserved := map[string]string{
		"APIVersion": "", "XMLNamespace": "", "LookupOperation": "", "OperationNames": "",
	}
	for name := range g.structs {
		goName := exportedIdent(name)
		if other, dup := reserved[goName]; dup {
			return fmt.Errorf("shape %s: Go name %s collides with %q", name, goName, other)
		}
		reserved[goName] = name
		g.goNames[name] = goName
	}
	return nil
}

func appendRole(roles, role string) string {
	if roles == "" {
		return role
	}
	return roles + " and " + role
}

// walk records the structures reachable from shape name.
func (g *generator) walk(name, path string) error {
	s, ok := g.m.Shapes[name]
	if !ok {
		return fmt.Errorf("%s: shape %s is not in the model", path, name)
	}
	switch s.Type {
	case "structure":
		if g.structs[name] {
			return nil
		}
		g.structs[name] = true
		for _, mem := range s.Members {
			if err := g.walk(mem.Ref.Shape, path+"."+mem.Name); err != nil {
				return err
			}
		}
	case "list":
		if s.Member == nil {
			return fmt.Errorf("%s: list %s has no member", path, name)
		}
		return g.walk(s.Member.Shape, path+"[]")
	case "map":
		if s.Key == nil || s.Value == nil {
			return fmt.Errorf("%s: map %s has no key or value", path, name)
		}
		if k := g.m.Shapes[s.Key.Shape]; k == nil || k.Type != "string" {
			return fmt.Errorf("%s: map %s has a key that is not a string", path, name)
		}
		return g.walk(s.Value.Shape, path+"{}")
	}
	return nil
}

// scalarTypes maps the model's scalar types to Go value types.
var scalarTypes = map[string]string{
	"string":    "string",
	"integer":   "int32",
	"long":      "int64",
	"boolean":   "bool",
	"double":    "float64",
	"float":     "float64",
	"timestamp": "query.Timestamp",
}

// fieldType is the Go type of a structure member: pointers for scalars and
// structures so that absent differs from zero.
func (g *generator) fieldType(name string) (string, error) {
	s := g.m.Shapes[name]
	switch s.Type {
	case "blob":
		return "[]byte", nil
	case "structure":
		return "*" + g.goNames[name], nil
	case "list", "map":
		return g.containerType(name)
	}
	if t, ok := scalarTypes[s.Type]; ok {
		return "*" + t, nil
	}
	return "", fmt.Errorf("shape %s has unsupported type %q", name, s.Type)
}

// containerType is the Go type of a list or map shape.
func (g *generator) containerType(name string) (string, error) {
	s := g.m.Shapes[name]
	if s.Type == "list" {
		elem := g.m.Shapes[s.Member.Shape]
		switch elem.Type {
		case "structure":
			return "[]" + g.goNames[s.Member.Shape], nil
		case "blob":
			return "[][]byte", nil
		case "list", "map":
			return "", fmt.Errorf("list %s of %s is not supported by the codec", name, elem.Type)
		}
		if t, ok := scalarTypes[elem.Type]; ok {
			return "[]" + t, nil
		}
		return "", fmt.Errorf("list %s has unsupported member type %q", name, elem.Type)
	}
	val := g.m.Shapes[s.Value.Shape]
	switch val.Type {
	case "structure":
		return "map[string]*" + g.goNames[s.Value.Shape], nil
	case "blob":
		return "map[string][]byte", nil
	case "list", "map":
		return "", fmt.Errorf("map %s of %s is not supported by the codec", name, val.Type)
	}
	if t, ok := scalarTypes[val.Type]; ok {
		return "map[string]" + t, nil
	}
	return "", fmt.Errorf("map %s has unsupported value type %q", name, val.Type)
}

// tag is the struct tag of a member; api/query documents its grammar.
func (g *generator) tag(parent *shape, mem member) (tag, param string, err error) {
	s := g.m.Shapes[mem.Ref.Shape]
	flat := mem.Ref.Flattened || s.Flattened
	name := mem.Name // the input parameter name
	xmlName := mem.Name
	if mem.Ref.LocationName != "" {
		xmlName = mem.Ref.LocationName
	}
	var memberName, itemName, key, value string
	if g.m.Metadata.Protocol == "ec2" {
		// EC2 serializes lists flattened, and names parameters by
		// queryName, else by locationName with its first letter
		// capitalised.
		switch {
		case mem.Ref.QueryName != "":
			name = mem.Ref.QueryName
		case mem.Ref.LocationName != "":
			name = upperFirst(mem.Ref.LocationName)
		}
	} else if mem.Ref.LocationName != "" {
		name = mem.Ref.LocationName
	}
	switch s.Type {
	case "list":
		elemName := s.Member.LocationName
		switch {
		case flat:
			if elemName != "" {
				name, xmlName = elemName, elemName
			}
		case g.m.Metadata.Protocol == "ec2":
			itemName = cmpOr(elemName, "member")
		default:
			memberName = cmpOr(elemName, "member")
			itemName = memberName
		}
	case "map":
		if !flat {
			memberName, itemName = "entry", "entry"
		}
		key = cmpOr(s.Key.LocationName, "key")
		value = cmpOr(s.Value.LocationName, "value")
	}
	for _, n := range []string{name, xmlName, memberName, itemName, key, value} {
		if strings.ContainsAny(n, ".,=\" >") {
			return "", "", fmt.Errorf("member %s: serialized name %q has a character the codec reserves", mem.Name, n)
		}
	}
	parts := []string{name}
	if memberName != "" {
		parts = append(parts, "member="+memberName)
	}
	parts = append(parts, "xml="+xmlName)
	if itemName != "" {
		parts = append(parts, "item="+itemName)
	}
	if key != "" {
		parts = append(parts, "key="+key, "value="+value)
	}
	if slices.Contains(parent.Required, mem.Name) {
		parts = append(parts, "req")
	}
	return "`query:" + strconv.Quote(strings.Join(parts, ",")) + "`", name, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (g *generator) emit() ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	md := g.m.Metadata
	ns := md.XMLNamespace
	if !strings.HasSuffix(ns, "/") {
		// EC2's model omits the slash that its responses carry.
		ns += "/"
	}
	protocol := "query.EC2"
	if md.Protocol == "query" {
		protocol = "query.AWSQuery"
	}

	p("// Code generated by awsgen from %s; DO NOT EDIT.\n\n", g.source)
	p("package %s\n\n", g.pkg)
	p("import %q\n\n", queryImport)
	p("const (\n")
	p("\t// APIVersion is the Version parameter of %s requests.\n", md.ServiceID)
	p("\tAPIVersion = %q\n", md.APIVersion)
	p("\t// XMLNamespace is the xmlns of %s responses.\n", md.ServiceID)
	p("\tXMLNamespace = %q\n", ns)
	p(")\n\n")

	names := make([]string, 0, len(g.ops))
	for _, op := range g.ops {
		names = append(names, op.Name)
	}
	slices.Sort(names)
	p("// LookupOperation returns the generated operation that an Action parameter\n")
	p("// names, and false for any other action.\n")
	p("func LookupOperation(action string) (query.Operation, bool) {\n")
	p("\tswitch action {\n")
	for _, name := range names {
		op := g.m.Operations[name]
		in := "&struct{}{}"
		if op.Input != nil {
			in = "new(" + g.goNames[op.Input.Shape] + ")"
		}
		out := "nil"
		wrapper := ""
		if op.Output != nil {
			out = "func() any { return new(" + g.goNames[op.Output.Shape] + ") }"
			if md.Protocol == "query" {
				wrapper = cmpOr(op.Output.ResultWrapper, name+"Result")
			}
		}
		p("\tcase %q:\n", name)
		p("\t\treturn query.Operation{\n")
		p("\t\t\tName: %q, Protocol: %s, Version: APIVersion, Namespace: XMLNamespace,\n", name, protocol)
		if wrapper != "" {
			p("\t\t\tResultWrapper: %q,\n", wrapper)
		}
		p("\t\t\tNewInput: func() any { return %s },\n", in)
		p("\t\t\tNewOutput: %s,\n", out)
		p("\t\t}, true\n")
	}
	p("\t}\n\treturn query.Operation{}, false\n}\n\n")

	p("// OperationNames returns the names of the generated operations, sorted.\n")
	p("func OperationNames() []string {\n\treturn []string{\n")
	for _, name := range names {
		p("\t\t%q,\n", name)
	}
	p("\t}\n}\n")

	shapes := make([]string, 0, len(g.structs))
	for name := range g.structs {
		shapes = append(shapes, name)
	}
	slices.SortFunc(shapes, func(a, b string) int { return strings.Compare(g.goNames[a], g.goNames[b]) })
	for _, name := range shapes {
		s := g.m.Shapes[name]
		goName := g.goNames[name]
		p("\n")
		if role := g.roles[name]; role != "" {
			p("// %s is %s.\n", goName, role)
		} else {
			p("// %s is the %s shape %s.\n", goName, md.ServiceID, name)
		}
		p("type %s struct {\n", goName)
		fields := map[string]string{}
		params := map[string]string{}
		for _, mem := range s.Members {
			field := exportedIdent(mem.Name)
			if other, dup := fields[field]; dup {
				return nil, fmt.Errorf("shape %s: members %s and %s share Go name %s", name, other, mem.Name, field)
			}
			fields[field] = mem.Name
			typ, err := g.fieldType(mem.Ref.Shape)
			if err != nil {
				return nil, fmt.Errorf("shape %s member %s: %w", name, mem.Name, err)
			}
			tag, param, err := g.tag(s, mem)
			if err != nil {
				return nil, fmt.Errorf("shape %s: %w", name, err)
			}
			if other, dup := params[param]; dup {
				return nil, fmt.Errorf("shape %s: members %s and %s share parameter %s", name, other, mem.Name, param)
			}
			params[param] = mem.Name
			comment := ""
			if enum := g.enumOf(mem.Ref.Shape); len(enum) > 0 {
				if len(enum) <= maxEnumInComment {
					comment = " // " + strings.Join(enum, ", ")
				} else {
					comment = fmt.Sprintf(" // %d values: see the model's %s", len(enum), g.enumName(mem.Ref.Shape))
				}
			}
			p("\t%s %s %s%s\n", field, typ, tag, comment)
		}
		p("}\n")
	}
	return b.Bytes(), nil
}

// enumOf returns the enum values of a string shape, or of a list's members.
func (g *generator) enumOf(name string) []string {
	s := g.m.Shapes[name]
	if s.Type == "list" {
		s = g.m.Shapes[s.Member.Shape]
	}
	if s.Type != "string" {
		return nil
	}
	return s.Enum
}

func (g *generator) enumName(name string) string {
	if s := g.m.Shapes[name]; s.Type == "list" {
		return s.Member.Shape
	}
	return name
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// exportedIdent turns a model name into an exported Go identifier.
func exportedIdent(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	id := b.String()
	if id == "" || !unicode.IsLetter([]rune(id)[0]) {
		id = "X" + id
	}
	return upperFirst(id)
}
