package query

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test shapes cover every field kind and both list styles.
type testTag struct {
	Key   *string `query:"Key,xml=key"`
	Value *string `query:"Value,xml=value"`
}

type testNested struct {
	Name  *string   `query:"Name,xml=name,req"`
	Tags  []testTag `query:"Tag,xml=tagSet,item=item"`
	Count *int32    `query:"Count,xml=count"`
}

type testInput struct {
	ID      *string             `query:"Id,xml=id,req"`
	Flag    *bool               `query:"Flag,xml=flag"`
	Count   *int32              `query:"Count,xml=count"`
	Size    *int64              `query:"Size,xml=size"`
	Ratio   *float64            `query:"Ratio,xml=ratio"`
	When    *Timestamp          `query:"When,xml=when"`
	Data    []byte              `query:"Data,xml=data"`
	IDs     []string            `query:"SubnetId,xml=subnetSet,item=item"`
	Members []string            `query:"Members,member=member,xml=Members,item=member"`
	Nested  *testNested         `query:"Nested,xml=nested"`
	Nesteds []testNested        `query:"Nesteds,member=member,xml=Nesteds,item=member"`
	Params  map[string]string   `query:"Params,member=entry,xml=Params,item=entry,key=key,value=value"`
	Objs    map[string]*testTag `query:"Objs,member=entry,xml=Objs,item=entry,key=Name,value=Tag"`
	Flat    []int32             `query:"Flat,xml=flat"`
	Blobs   [][]byte            `query:"Blob,xml=blobs,item=b"`
	Skipped string              `query:"-"`
}

func mustForm(t testing.TB, raw string) url.Values {
	t.Helper()
	form, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return form
}

func TestDecode(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)
	tests := []struct {
		name string
		form string
		want testInput
	}{
		{
			name: "scalars",
			form: "Action=X&Version=1&X-Amz-Date=20240101T000000Z&Id=a&Flag=TRUE&Count=-7&Size=9000000000&Ratio=0.25&When=2024-05-06T07:08:09.123Z&Data=aGk%3D",
			want: testInput{ID: new("a"), Flag: new(true), Count: new(int32(-7)), Size: new(int64(9000000000)),
				Ratio: new(0.25), When: NewTimestamp(when), Data: []byte("hi")},
		},
		{
			name: "empty string is present",
			form: "Id=",
			want: testInput{ID: new("")},
		},
		{
			name: "flattened list in index order, compacted",
			form: "Id=a&SubnetId.10=j&SubnetId.2=b&SubnetId.1=a&Flat.3=30",
			want: testInput{ID: new("a"), IDs: []string{"a", "b", "j"}, Flat: []int32{30}},
		},
		{
			name: "member list and empty marker",
			form: "Id=a&Members.member.1=x&Members.member.2=y&Nesteds=",
			want: testInput{ID: new("a"), Members: []string{"x", "y"}, Nesteds: []testNested{}},
		},
		{
			name: "nested structures and lists",
			form: "Id=a&Nested.Name=n&Nested.Tag.1.Key=k1&Nested.Tag.1.Value=v1&Nested.Tag.2.Key=k2" +
				"&Nesteds.member.1.Name=p&Nesteds.member.1.Count=3&Nesteds.member.2.Name=q",
			want: testInput{ID: new("a"),
				Nested:  &testNested{Name: new("n"), Tags: []testTag{{Key: new("k1"), Value: new("v1")}, {Key: new("k2")}}},
				Nesteds: []testNested{{Name: new("p"), Count: new(int32(3))}, {Name: new("q")}},
			},
		},
		{
			name: "maps",
			form: "Id=a&Params.entry.1.key=k&Params.entry.1.value=v&Params.entry.2.key=e&Params.entry.2.value=" +
				"&Objs.entry.1.Name=o&Objs.entry.1.Tag.Key=ok",
			want: testInput{ID: new("a"), Params: map[string]string{"k": "v", "e": ""},
				Objs: map[string]*testTag{"o": {Key: new("ok")}}},
		},
		{
			name: "list of blobs",
			form: "Id=a&Blob.1=aGk%3D&Blob.2=",
			want: testInput{ID: new("a"), Blobs: [][]byte{[]byte("hi"), {}}},
		},
		{
			name: "repeated identical values",
			form: "Id=a&Id=a",
			want: testInput{ID: new("a")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got testInput
			if err := Decode(mustForm(t, tt.form), &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode = %s\nwant %s", dump(t, &got), dump(t, &tt.want))
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		form string
		want []DecodeError // Kind and Param
	}{
		{"missing required", "Flag=true", []DecodeError{{Kind: MissingParameter, Param: "Id"}}},
		{"missing nested required", "Id=a&Nesteds.member.1.Count=1&Nested.Tag.1.Key=k",
			[]DecodeError{{Kind: MissingParameter, Param: "Nested.Name"}, {Kind: MissingParameter, Param: "Nesteds.member.1.Name"}}},
		{"unknown top-level and nested, sorted", "Id=a&Zed=1&Nested.Name=n&Nested.Bogus=2&Apple=3",
			[]DecodeError{{Kind: UnknownParameter, Param: "Apple"}, {Kind: UnknownParameter, Param: "Nested.Bogus"},
				{Kind: UnknownParameter, Param: "Zed"}}},
		{"scalar with children", "Id=a&Count.1=4", []DecodeError{{Kind: UnknownParameter, Param: "Count.1"}}},
		{"structure given a value", "Id=a&Nested=x", []DecodeError{{Kind: UnknownParameter, Param: "Nested"}}},
		{"member list sent flattened", "Id=a&Members.1=x", []DecodeError{{Kind: UnknownParameter, Param: "Members.1"}}},
		{"non-numeric index", "Id=a&SubnetId.one=x", []DecodeError{{Kind: UnknownParameter, Param: "SubnetId.one"}}},
		{"index too large", "Id=a&SubnetId.999999999=x&SubnetId.1001=y",
			[]DecodeError{{Kind: InvalidParameter, Param: "SubnetId.1001"}, {Kind: InvalidParameter, Param: "SubnetId.999999999"}}},
		{"index zero and leading zero", "Id=a&SubnetId.0=x&SubnetId.01=y",
			[]DecodeError{{Kind: InvalidParameter, Param: "SubnetId.0"}, {Kind: InvalidParameter, Param: "SubnetId.01"}}},
		{"list given a value", "Id=a&SubnetId=x", []DecodeError{{Kind: InvalidParameter, Param: "SubnetId"}}},
		{"bad values", "Id=a&Flag=yes&Count=2147483648&Size=1.5&Ratio=NaN&When=yesterday&Data=%25%25",
			[]DecodeError{{Kind: InvalidParameter, Param: "Flag"}, {Kind: InvalidParameter, Param: "Count"},
				{Kind: InvalidParameter, Param: "Size"}, {Kind: InvalidParameter, Param: "Ratio"},
				{Kind: InvalidParameter, Param: "When"}, {Kind: InvalidParameter, Param: "Data"}}},
		{"conflicting repeats", "Id=a&Id=b", []DecodeError{{Kind: InvalidParameter, Param: "Id"}}},
		{"map entry without key", "Id=a&Params.entry.1.value=v", []DecodeError{{Kind: UnknownParameter, Param: "Params.entry.1.value"},
			{Kind: MissingParameter, Param: "Params.entry.1.key"}}},
		{"map entry without value", "Id=a&Objs.entry.1.Name=o", []DecodeError{{Kind: MissingParameter, Param: "Objs.entry.1.Tag"}}},
		{"duplicate map key", "Id=a&Params.entry.1.key=k&Params.entry.1.value=1&Params.entry.2.key=k&Params.entry.2.value=2",
			[]DecodeError{{Kind: UnknownParameter, Param: "Params.entry.2.value"}, {Kind: InvalidParameter, Param: "Params.entry.2.key"}}},
		{"year out of range after UTC", "Id=a&When=0000-01-01T00:00:00%2B01:00",
			[]DecodeError{{Kind: InvalidParameter, Param: "When"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in testInput
			err := Decode(mustForm(t, tt.form), &in)
			var errs DecodeErrors
			if !errors.As(err, &errs) {
				t.Fatalf("Decode error = %v, want DecodeErrors", err)
			}
			var got []DecodeError
			for _, e := range errs {
				got = append(got, DecodeError{Kind: e.Kind, Param: e.Param})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors = %v, want %v", got, tt.want)
			}
			var first *DecodeError
			if !errors.As(err, &first) || first != errs[0] {
				t.Errorf("errors.As(*DecodeError) = %v, want the first error %v", first, errs[0])
			}
		})
	}
}

func TestDecodeErrorMessages(t *testing.T) {
	tests := []struct {
		err  DecodeError
		want string
	}{
		{DecodeError{Kind: UnknownParameter, Param: "Foo.1"}, "The parameter Foo.1 is not recognized"},
		{DecodeError{Kind: MissingParameter, Param: "VpcId"}, "The request must contain the parameter VpcId"},
		{DecodeError{Kind: InvalidParameter, Param: "MaxResults", Value: "x", Reason: "Expected an integer of 32 bits."},
			"Value (x) for parameter MaxResults is invalid. Expected an integer of 32 bits."},
		{DecodeError{Kind: InvalidParameter, Param: "P", Value: strings.Repeat("v", 100), Reason: "R"},
			"Value (" + strings.Repeat("v", 64) + "...) for parameter P is invalid. R"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeBoundsErrorCount(t *testing.T) {
	form := url.Values{"Id": {"a"}}
	for i := range 5000 {
		form.Set("Unknown"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/182), "1")
	}
	var in testInput
	var errs DecodeErrors
	if err := Decode(form, &in); !errors.As(err, &errs) {
		t.Fatalf("Decode error = %v", err)
	}
	if len(errs) != maxDecodeErrors {
		t.Errorf("got %d errors, want them capped at %d", len(errs), maxDecodeErrors)
	}
}

func TestDecodeRejectsBadTargets(t *testing.T) {
	type badTag struct {
		A *string `query:"A,bogus"`
	}
	type badType struct {
		C *complex128 `query:"C"`
	}
	tests := []struct {
		name string
		in   any
		form string
	}{
		{"nil", nil, ""},
		{"non-pointer", testInput{}, ""},
		{"pointer to non-struct", new(string), ""},
		{"unknown tag option", &badTag{}, "A=1"},
		{"unsupported type", &badType{}, "C=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Decode(mustForm(t, tt.form), tt.in)
			var errs DecodeErrors
			if err == nil || errors.As(err, &errs) {
				t.Errorf("Decode = %v, want a programming error", err)
			}
		})
	}
}

func TestEncodeFormRoundTrip(t *testing.T) {
	in := testInput{
		ID: new("a&b=c"), Flag: new(false), Count: new(int32(0)), Size: new(int64(-1)), Ratio: new(1e-7),
		When: NewTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)), Data: []byte{0, 1, 2},
		IDs: []string{"x", "y"}, Members: []string{}, Flat: []int32{1, 2, 3},
		Nested:  &testNested{Name: new("n"), Tags: []testTag{{Key: new("k")}}},
		Nesteds: []testNested{{Name: new("m")}},
		Params:  map[string]string{"b": "2", "a": "1"},
		Objs:    map[string]*testTag{"o": {Value: new("v")}},
		Blobs:   [][]byte{[]byte("z")},
	}
	form, err := EncodeForm(&in)
	if err != nil {
		t.Fatal(err)
	}
	want := "Blob.1=eg%3D%3D&Count=0&Data=AAEC&Flag=false&Flat.1=1&Flat.2=2&Flat.3=3&Id=a%26b%3Dc&Members=" +
		"&Nested.Name=n&Nested.Tag.1.Key=k&Nesteds.member.1.Name=m&Objs.entry.1.Name=o&Objs.entry.1.Tag.Value=v" +
		"&Params.entry.1.key=a&Params.entry.1.value=1&Params.entry.2.key=b&Params.entry.2.value=2" +
		"&Ratio=0.0000001&Size=-1&SubnetId.1=x&SubnetId.2=y&When=2024-01-02T03%3A04%3A05.006Z"
	if got := form.Encode(); got != want {
		t.Errorf("EncodeForm =\n%s\nwant\n%s", got, want)
	}
	var back testInput
	if err := Decode(form, &back); err != nil {
		t.Fatalf("Decode(EncodeForm): %v", err)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("round trip = %s\nwant %s", dump(t, &back), dump(t, &in))
	}
}

var (
	testEC2Op = Operation{
		Name: "DescribeThings", Protocol: EC2, Version: "2016-11-15", Namespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
		NewInput: func() any { return new(testInput) }, NewOutput: func() any { return new(testInput) },
	}
	testEC2VoidOp = Operation{
		Name: "DeleteThing", Protocol: EC2, Version: "2016-11-15", Namespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
		NewInput: func() any { return new(testInput) },
	}
	testQueryOp = Operation{
		Name: "DescribeThings", Protocol: AWSQuery, Version: "2015-12-01", ResultWrapper: "DescribeThingsResult",
		Namespace: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
		NewInput:  func() any { return new(testInput) }, NewOutput: func() any { return new(testInput) },
	}
)

func TestMarshalResponse(t *testing.T) {
	out := &testInput{
		ID: new("<&>"), Flag: new(true), Ratio: new(2.5),
		When: NewTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))),
		IDs:  []string{"a", "b"}, Members: []string{}, Flat: []int32{7, 8},
		Nested:  &testNested{Tags: []testTag{{Key: new("k"), Value: new("")}}},
		Nesteds: []testNested{{}},
		Params:  map[string]string{"z": "1", "a": "2"},
	}
	tests := []struct {
		name string
		op   Operation
		out  any
		want string
	}{
		{"ec2", testEC2Op, out, `<?xml version="1.0" encoding="UTF-8"?>
<DescribeThingsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-1</requestId>
  <id>&lt;&amp;&gt;</id>
  <flag>true</flag>
  <ratio>2.5</ratio>
  <when>2024-01-02T02:04:05.000Z</when>
  <subnetSet>
    <item>a</item>
    <item>b</item>
  </subnetSet>
  <Members></Members>
  <nested>
    <tagSet>
      <item>
        <key>k</key>
        <value></value>
      </item>
    </tagSet>
  </nested>
  <Nesteds>
    <member></member>
  </Nesteds>
  <Params>
    <entry>
      <key>a</key>
      <value>2</value>
    </entry>
    <entry>
      <key>z</key>
      <value>1</value>
    </entry>
  </Params>
  <flat>7</flat>
  <flat>8</flat>
</DescribeThingsResponse>
`},
		{"ec2 without output", testEC2VoidOp, nil, `<?xml version="1.0" encoding="UTF-8"?>
<DeleteThingResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-1</requestId>
  <return>true</return>
</DeleteThingResponse>
`},
		{"awsquery", testQueryOp, &testInput{ID: new("x"), Members: []string{"m"}}, `<DescribeThingsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <DescribeThingsResult>
    <id>x</id>
    <Members>
      <member>m</member>
    </Members>
  </DescribeThingsResult>
  <ResponseMetadata>
    <RequestId>req-1</RequestId>
  </ResponseMetadata>
</DescribeThingsResponse>
`},
		{"awsquery nil output", testQueryOp, nil, `<DescribeThingsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <DescribeThingsResult></DescribeThingsResult>
  <ResponseMetadata>
    <RequestId>req-1</RequestId>
  </ResponseMetadata>
</DescribeThingsResponse>
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op.MarshalResponse("req-1", tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("MarshalResponse =\n%s\nwant\n%s", got, tt.want)
			}
			checkWellFormed(t, got)
		})
	}
}

func TestMarshalResponseRejectsWrongOutput(t *testing.T) {
	tests := []struct {
		name string
		op   Operation
		out  any
	}{
		{"wrong type", testEC2Op, &testTag{}},
		{"non-pointer", testEC2Op, testInput{}},
		{"output for void operation", testEC2VoidOp, &testInput{}},
		{"unknown protocol", Operation{Name: "X", Protocol: "json"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := tt.op.WriteResponse(rec, "r", tt.out); err == nil {
				t.Fatal("WriteResponse succeeded")
			}
			if rec.Body.Len() != 0 {
				t.Errorf("wrote %q on error", rec.Body)
			}
		})
	}
}

func TestWriteResponse(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := testQueryOp.WriteResponse(rec, "r", &testInput{ID: new("x")}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/xml;charset=UTF-8" {
		t.Errorf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), "<id>x</id>") {
		t.Errorf("body %q", rec.Body)
	}
}

func TestErrorDocuments(t *testing.T) {
	tests := []struct {
		name   string
		write  func(*httptest.ResponseRecorder)
		status int
		want   string
	}{
		{"ec2", func(w *httptest.ResponseRecorder) {
			WriteEC2Error(w, 400, "req-1", "InvalidVpcID.NotFound", "The vpc ID 'vpc-1<' does not exist")
		}, 400, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID &#39;vpc-1&lt;&#39; does not exist</Message></Error></Errors><RequestID>req-1</RequestID></Response>
`},
		{"awsquery", func(w *httptest.ResponseRecorder) {
			WriteQueryError(w, 503, "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", "req-2", Receiver, "InternalFailure", "a & b")
		}, 503, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <Error>
    <Type>Receiver</Type>
    <Code>InternalFailure</Code>
    <Message>a &amp; b</Message>
  </Error>
  <RequestId>req-2</RequestId>
</ErrorResponse>
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.write(rec)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("body =\n%s\nwant\n%s", got, tt.want)
			}
			checkWellFormed(t, rec.Body.Bytes())
		})
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"},
		{"2024-01-02T03:04:05.5Z", "2024-01-02T03:04:05.500Z"},
		{"2024-01-02T03:04:05.123456+02:00", "2024-01-02T01:04:05.123Z"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var ts Timestamp
			if err := ts.UnmarshalText([]byte(tt.in)); err != nil {
				t.Fatal(err)
			}
			if got, _ := ts.MarshalText(); string(got) != tt.want {
				t.Errorf("MarshalText = %s, want %s", got, tt.want)
			}
		})
	}
	var ts Timestamp
	if err := ts.UnmarshalText([]byte("1704164645")); err == nil {
		t.Error("UnmarshalText accepted epoch seconds")
	}
}

// checkWellFormed fails unless doc is one well-formed XML document.
func checkWellFormed(t testing.TB, doc []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 || roots != 1 {
		t.Fatalf("XML has %d roots, depth %d at end:\n%s", roots, depth, doc)
	}
}

func dump(t testing.TB, in *testInput) string {
	form, err := EncodeForm(in)
	if err != nil {
		t.Fatal(err)
	}
	return form.Encode()
}

// FuzzDecode feeds arbitrary forms to Decode. Nothing may panic; what
// decodes must re-encode to a form that decodes to the same thing, and
// must encode to well-formed XML.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"Id=a&Flag=true&Count=1&Size=2&Ratio=0.5&When=2024-01-01T00:00:00Z&Data=aGk%3D",
		"Id=a&SubnetId.1=x&SubnetId.2=y&Members.member.1=m&Members=&Flat.1=3",
		"Id=a&Nested.Name=n&Nested.Tag.1.Key=k&Nested.Tag.1.Value=v&Nesteds.member.1.Name=p",
		"Id=a&Params.entry.1.key=k&Params.entry.1.value=v&Objs.entry.1.Name=o&Objs.entry.1.Tag.Key=x",
		"Id=a&SubnetId.999999999=x&SubnetId.0=y&Nested=z&Count.1=2",
		"Id=%ff%fe&Blob.1=&Blob.2=AA%3D%3D",
		"Id=a&When=9999-12-31T23:59:59-01:00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw) // a partial parse is still a request
		var in testInput
		err := Decode(form, &in)
		var errs DecodeErrors
		if err != nil && !errors.As(err, &errs) {
			t.Fatalf("Decode returned a non-request error: %v", err)
		}
		doc, merr := testEC2Op.MarshalResponse("r", &in)
		if merr != nil {
			t.Fatalf("MarshalResponse: %v", merr)
		}
		checkWellFormed(t, doc)
		if err != nil {
			return
		}
		form1, err := EncodeForm(&in)
		if err != nil {
			t.Fatalf("EncodeForm: %v", err)
		}
		var again testInput
		if err := Decode(form1, &again); err != nil {
			t.Fatalf("Decode(EncodeForm(%q)) = %v", form1.Encode(), err)
		}
		form2, err := EncodeForm(&again)
		if err != nil {
			t.Fatalf("EncodeForm: %v", err)
		}
		if form1.Encode() != form2.Encode() {
			t.Fatalf("round trip changed the request:\n%s\n%s", form1.Encode(), form2.Encode())
		}
	})
}

// BenchmarkDecodeHostile decodes a large form built to be costly: deep
// keys, out-of-range and non-numeric indexes, and many unknown names.
func BenchmarkDecodeHostile(b *testing.B) {
	form := url.Values{"Id": {"a"}}
	for i := range 20000 {
		n := strconv.Itoa(i)
		form.Set("Nested.Tag."+n+".Key", "k")
		form.Set("SubnetId.9"+n+"9", "x")
		form.Set("Nesteds.member.1.Tag.1."+strings.Repeat("x.", i%50)+n, "y")
		form.Set("U"+n, "z")
	}
	b.ReportAllocs()
	for b.Loop() {
		var in testInput
		if err := Decode(form, &in); err == nil {
			b.Fatal("hostile form decoded")
		}
	}
}
