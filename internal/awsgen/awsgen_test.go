package main

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestGenerateGolden(t *testing.T) {
	tests := []struct {
		name  string
		model string
		pkg   string
		ops   []string
	}{
		{"ec2", "testdata/ec2-api-2.json", "things", []string{"CreateThing,DeleteThing"}},
		{"query", "testdata/query-api-2.json", "widgets", []string{"CreateWidget"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"-model", tt.model, "-pkg", tt.pkg}, tt.ops...)
			if err := run(args, &out, os.Stderr); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".go.golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("generated code differs from %s (run go test -update):\n%s", golden, out.String())
			}
		})
	}
}

// TestGenerateTags pins the serialized names that each protocol's rules
// produce, independently of the golden files.
func TestGenerateTags(t *testing.T) {
	tests := []struct {
		model string
		ops   string
		want  []string
	}{
		{"testdata/ec2-api-2.json", "CreateThing,DeleteThing", []string{
			// queryName wins; EC2 input lists are flattened, output lists wrapped.
			"Specs []Spec `query:\"Spec,xml=spec,item=item\"`",
			// locationName capitalised for the parameter, as is for the element.
			"DryRun *bool `query:\"DryRun,xml=dryRun\"`",
			"Ids []string `query:\"ThingId,xml=ThingId,item=ThingId\"`",
			"Name *string `query:\"Name,xml=Name,req\"`",
			"Created *query.Timestamp `query:\"CreateTime,xml=createTime\"`",
			// A list member without a locationName is a <member>.
			"Names []string `query:\"NameSet,xml=nameSet,item=member\"`",
			"Data []byte `query:\"Data,xml=Data\"`",
			"Size *int64", "Ratio *float64", "Count *int32",
			"// pending, available",
			`Name: "DeleteThing", Protocol: query.EC2`,
			"NewOutput: nil",
			`XMLNamespace = "http://ec2.amazonaws.com/doc/2016-11-15/"`,
		}},
		{"testdata/query-api-2.json", "CreateWidget", []string{
			"Subnets []string `query:\"Subnets,member=member,xml=Subnets,item=member\"`",
			// A flattened list takes its member's name (botocore's rule).
			"Flat []string `query:\"Item,xml=Item\"`",
			"Params map[string]string `query:\"Params,member=entry,xml=Params,item=entry,key=key,value=value\"`",
			"Objs map[string]*Widget `query:\"Objs,member=entry,xml=Objs,item=entry,key=K,value=V\"`",
			"Inner *Nested",
			"Floaty *float64",
			`ResultWrapper: "CreateWidgetResult"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			var out bytes.Buffer
			if err := run([]string{"-model", tt.model, "-pkg", "p", tt.ops}, &out, os.Stderr); err != nil {
				t.Fatal(err)
			}
			norm := strings.Join(strings.Fields(out.String()), " ")
			for _, w := range tt.want {
				if !strings.Contains(norm, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("generated code lacks %s", w)
				}
			}
			if strings.Contains(norm, "UnusedRequest") {
				t.Error("generated a shape no requested operation reaches")
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, js string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const meta = `"metadata": {"apiVersion": "1", "protocol": "query", "serviceId": "S", "xmlNamespace": "ns"}`
	listOfList := write("lol.json", `{`+meta+`, "operations": {"Op": {"input": {"shape": "In"}}}, "shapes": {
		"In": {"type": "structure", "members": {"L": {"shape": "LL"}}},
		"LL": {"type": "list", "member": {"shape": "L"}},
		"L": {"type": "list", "member": {"shape": "S"}},
		"S": {"type": "string"}}}`)
	collide := write("collide.json", `{`+meta+`, "operations": {"Op": {"input": {"shape": "LookupOperation"}}}, "shapes": {
		"LookupOperation": {"type": "structure", "members": {}}}}`)
	jsonProto := write("json.json", `{"metadata": {"protocol": "json"}, "operations": {}, "shapes": {}}`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown operation", []string{"-model", "testdata/query-api-2.json", "-pkg", "p", "Nope"}, "operation Nope is not in"},
		{"duplicate operation", []string{"-model", "testdata/query-api-2.json", "-pkg", "p", "CreateWidget,CreateWidget"}, "given twice"},
		{"no operations", []string{"-model", "testdata/query-api-2.json", "-pkg", "p"}, "no operations"},
		{"no model", []string{"-pkg", "p", "X"}, "-model is required"},
		{"list of lists", []string{"-model", listOfList, "-pkg", "p", "Op"}, "not supported"},
		{"name collision", []string{"-model", collide, "-pkg", "p", "Op"}, "collides"},
		{"not a query protocol", []string{"-model", jsonProto, "-pkg", "p", "Op"}, "not a Query protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(tt.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestGeneratedFilesUpToDate reruns each go:generate line of the API
// packages and compares with the committed zz_shapes.go, so an edited
// operation list or generator is never left unregenerated.
func TestGeneratedFilesUpToDate(t *testing.T) {
	for _, pkg := range []string{"ec2", "elbv2"} {
		t.Run(pkg, func(t *testing.T) {
			dir := filepath.Join("..", "..", "api", pkg)
			args := generateArgs(t, filepath.Join(dir, "gen.go"))
			var out bytes.Buffer
			if err := run(append([]string{"-pkg", pkg}, args...), &out, os.Stderr); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, "zz_shapes.go"))
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("api/%s/zz_shapes.go is stale: run go generate ./api/%s", pkg, pkg)
			}
		})
	}
}

// generateArgs returns the awsgen arguments of the go:generate line in
// file, less "-o file".
func generateArgs(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "//go:generate go run ../../internal/awsgen ")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		var args []string
		for i := 0; i < len(fields); i++ {
			if fields[i] == "-o" {
				i++
				continue
			}
			args = append(args, fields[i])
		}
		return args
	}
	t.Fatalf("%s has no go:generate line for awsgen", file)
	return nil
}
