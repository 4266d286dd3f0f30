package route53

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// model is the part of AWS's service model the shapes are checked against.
type model struct {
	Operations map[string]struct {
		Input struct {
			Shape        string `json:"shape"`
			LocationName string `json:"locationName"`
		} `json:"input"`
		Output struct {
			Shape string `json:"shape"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]modelShape `json:"shapes"`
}

type modelShape struct {
	Type     string                 `json:"type"`
	Required []string               `json:"required"`
	Members  map[string]modelMember `json:"members"`
	Member   *modelMember           `json:"member"` // of a list
	// order is the members' order in the file, which json.Unmarshal into a
	// map loses.
	order []string
}

type modelMember struct {
	Shape        string `json:"shape"`
	Location     string `json:"location"`
	LocationName string `json:"locationName"`
}

// loadModel reads Route 53's model from the AWS SDK for Go v1 module, which
// internal/awsgen reads models from too. go mod download returns its
// directory, fetching it first on a machine that has never had it.
func loadModel(t *testing.T) *model {
	t.Helper()
	dl := exec.Command("go", "mod", "download", "-json", "github.com/aws/aws-sdk-go@v1.55.8")
	dl.Dir = t.TempDir() // outside the module: never edits go.mod or go.sum
	out, err := dl.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Error != "" {
		t.Fatalf("go mod download github.com/aws/aws-sdk-go@v1.55.8: %v %s %s", err, mod.Error, out)
	}
	b, err := os.ReadFile(filepath.Join(mod.Dir, "models/apis/route53/2013-04-01/api-2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// Recover member order: each structure's members as they appear.
	var raw struct {
		Shapes map[string]struct {
			Members json.RawMessage `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for name, s := range raw.Shapes {
		if len(s.Members) == 0 {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(string(s.Members)))
		dec.Token() // {
		var order []string
		for dec.More() {
			tok, _ := dec.Token()
			order = append(order, tok.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		ms := m.Shapes[name]
		ms.order = order
		m.Shapes[name] = ms
	}
	return &m
}

// TestShapesMatchModel checks every hand-written shape against the model:
// each element is a member of the model's shape (or the item of its list)
// with a matching type, in the model's order; a request shape knows every
// body member, so that decodeBody refuses only what Route 53 refuses; a
// response shape has every required member.
func TestShapesMatchModel(t *testing.T) {
	m := loadModel(t)
	for _, tc := range []struct {
		op     string
		shape  any
		output bool
	}{
		{"CreateHostedZone", createHostedZoneRequest{}, false},
		{"ChangeResourceRecordSets", changeResourceRecordSetsRequest{}, false},
		{"AssociateVPCWithHostedZone", associateVPCRequest{}, false},
		{"DisassociateVPCFromHostedZone", disassociateVPCRequest{}, false},
		{"CreateHostedZone", createHostedZoneResponse{}, true},
		{"GetHostedZone", getHostedZoneResponse{}, true},
		{"ListHostedZones", listHostedZonesResponse{}, true},
		{"ListHostedZonesByName", listHostedZonesByNameResponse{}, true},
		{"DeleteHostedZone", deleteHostedZoneResponse{}, true},
		{"ChangeResourceRecordSets", changeResourceRecordSetsResponse{}, true},
		{"ListResourceRecordSets", listResourceRecordSetsResponse{}, true},
		{"GetChange", getChangeResponse{}, true},
		{"AssociateVPCWithHostedZone", associateVPCResponse{}, true},
		{"DisassociateVPCFromHostedZone", disassociateVPCResponse{}, true},
	} {
		typ := reflect.TypeOf(tc.shape)
		t.Run(typ.Name(), func(t *testing.T) {
			op, ok := m.Operations[tc.op]
			if !ok {
				t.Fatalf("no operation %s", tc.op)
			}
			shape, root := op.Input.Shape, op.Input.LocationName
			if tc.output {
				shape, root = op.Output.Shape, op.Output.Shape
			}
			if got := rootName(typ); !strings.HasSuffix(got, " "+root) && got != root {
				t.Errorf("root element %q, want %q", got, root)
			}
			checkShape(t, m, typ, shape, typ.Name(), !tc.output)
		})
	}
}

// checkShape compares a struct with a structure shape.
func checkShape(t *testing.T, m *model, typ reflect.Type, shapeName, path string, request bool) {
	t.Helper()
	shape := m.Shapes[shapeName]
	if shape.Type != "structure" {
		t.Errorf("%s: model shape %s is a %s", path, shapeName, shape.Type)
		return
	}
	have := map[string]bool{}
	last := -1
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
		if f.Name == "XMLName" || tag == "" {
			continue
		}
		outer, item, isList := strings.Cut(tag, ">")
		fpath := path + "." + outer
		member, ok := shape.Members[outer]
		if !ok || member.Location != "" {
			t.Errorf("%s: not a body member of %s", fpath, shapeName)
			continue
		}
		have[outer] = true
		if at := indexOf(shape.order, outer); at < last {
			t.Errorf("%s: out of the model's order %v", fpath, shape.order)
		} else {
			last = at
		}
		ms := m.Shapes[member.Shape]
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case isList:
			if ms.Type != "list" || ms.Member.LocationName != item {
				t.Errorf("%s: model has a %s of %v, not a list of %s", fpath, ms.Type, ms.Member, item)
				continue
			}
			checkValue(t, m, ft.Elem(), ms.Member.Shape, fpath+"."+item, request)
		case ms.Type == "list":
			// A wrapper struct whose one field is the list's items.
			if ft.Kind() != reflect.Struct || ft.NumField() != 1 || ft.Field(0).Tag.Get("xml") != ms.Member.LocationName || ft.Field(0).Type.Kind() != reflect.Slice {
				t.Errorf("%s: want a struct with one list field %q for the model's list", fpath, ms.Member.LocationName)
				continue
			}
			checkValue(t, m, ft.Field(0).Type.Elem(), ms.Member.Shape, fpath+"."+ms.Member.LocationName, request)
		default:
			checkValue(t, m, f.Type, member.Shape, fpath, request)
		}
	}
	for _, name := range shape.order {
		if shape.Members[name].Location != "" || have[name] {
			continue
		}
		if request {
			t.Errorf("%s: the request shape lacks the model's member %s, so decodeBody would refuse it", path, name)
		} else if contains(shape.Required, name) {
			t.Errorf("%s: the response lacks the required member %s", path, name)
		}
	}
}

// checkValue compares a field's type with a member's shape.
func checkValue(t *testing.T, m *model, ft reflect.Type, shapeName, path string, request bool) {
	t.Helper()
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	ms := m.Shapes[shapeName]
	if ms.Type == "structure" {
		if ft.Kind() != reflect.Struct {
			t.Errorf("%s: %s for a structure", path, ft)
			return
		}
		checkShape(t, m, ft, shapeName, path, request)
		return
	}
	want := map[string]reflect.Kind{"string": reflect.String, "timestamp": reflect.String, "long": reflect.Int64, "integer": reflect.Int64, "boolean": reflect.Bool}[ms.Type]
	if request {
		want = reflect.String // requests keep text, and parse it with the schema's messages
	}
	if ft.Kind() != want {
		t.Errorf("%s: %s for the model's %s (%s)", path, ft, ms.Type, shapeName)
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }
