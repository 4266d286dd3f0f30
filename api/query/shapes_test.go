package query_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/api/query"
	"github.com/privlink/privlink/api/query/querytest"
)

// operations are every generated operation of both Query APIs.
func operations() []query.Operation {
	var ops []query.Operation
	for _, name := range ec2.OperationNames() {
		op, _ := ec2.LookupOperation(name)
		ops = append(ops, op)
	}
	for _, name := range elbv2.OperationNames() {
		op, _ := elbv2.LookupOperation(name)
		ops = append(ops, op)
	}
	return ops
}

// FuzzDecodeShapes feeds arbitrary forms to the real generated inputs.
// Nothing may panic, and whatever decodes must survive a round trip
// through EncodeForm unchanged.
func FuzzDecodeShapes(f *testing.F) {
	ops := operations()
	for i, op := range ops {
		in := op.NewInput()
		querytest.Fill(in, 2) // small seeds keep the fuzzer fast
		form, err := query.EncodeForm(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), form.Encode())
	}
	f.Add(uint8(0), "SubnetId.999999999=x&TagSpecification.1.Tag.0.Key=k&Filter.1.Value=v&DryRun=maybe")
	f.Fuzz(func(t *testing.T, which uint8, raw string) {
		op := ops[int(which)%len(ops)]
		form, _ := url.ParseQuery(raw)
		in, err := op.DecodeInput(form)
		if err != nil {
			var errs query.DecodeErrors
			if !errors.As(err, &errs) {
				t.Fatalf("%s: non-request error %v", op.Name, err)
			}
			return
		}
		form1, err := query.EncodeForm(in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := op.DecodeInput(form1)
		if err != nil {
			t.Fatalf("%s: Decode(EncodeForm(%q)) = %v", op.Name, form1.Encode(), err)
		}
		form2, err := query.EncodeForm(again)
		if err != nil {
			t.Fatal(err)
		}
		if d := querytest.Diff(form2, form1); d != "" {
			t.Fatalf("%s: round trip changed the request:\n%s", op.Name, d)
		}
	})
}

// TestFilledShapesRoundTrip decodes a fully filled request of every
// operation and encodes a fully filled response of each, so that every
// generated tag is one the codec accepts.
func TestFilledShapesRoundTrip(t *testing.T) {
	for _, op := range operations() {
		t.Run(op.Name, func(t *testing.T) {
			want := op.NewInput()
			querytest.Fill(want, 8)
			form, err := query.EncodeForm(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := op.DecodeInput(form)
			if err != nil {
				t.Fatal(err)
			}
			querytest.SameShape(t, got, want)
			var out any
			if op.NewOutput != nil {
				out = op.NewOutput()
				querytest.Fill(out, 8)
			}
			if _, err := op.MarshalResponse("r", out); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func BenchmarkDecodeRunInstances(b *testing.B) {
	op, _ := ec2.LookupOperation("RunInstances")
	in := op.NewInput()
	querytest.Fill(in, 4)
	form, err := query.EncodeForm(in)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := op.DecodeInput(form); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalDescribeInstances(b *testing.B) {
	op, _ := ec2.LookupOperation("DescribeInstances")
	out := op.NewOutput()
	querytest.Fill(out, 4)
	for b.Loop() {
		doc, err := op.MarshalResponse("r", out)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(doc)))
	}
}
