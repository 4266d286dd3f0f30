package querytest

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api/query"
)

type ours struct {
	Name  *string            `query:"Name"`
	State *string            `query:"State"`
	Count *int32             `query:"Count"`
	When  *query.Timestamp   `query:"When"`
	Tags  []oursTag          `query:"Tag"`
	Attrs map[string]*string `query:"Attrs,member=entry"`
	Blob  []byte             `query:"Blob"`
}

type oursTag struct {
	Key *string `query:"Key"`
}

type stateEnum string

// theirs mimics an SDK struct: value enums and defaults, *time.Time,
// extra fields.
type theirs struct {
	Name  *string
	State stateEnum
	Count int64
	When  *time.Time
	Tags  []theirsTag
	Attrs map[string]string
	Blob  []byte
	Extra *string
}

type theirsTag struct {
	Key *string
}

func TestConvertRoundTrip(t *testing.T) {
	var want ours
	Fill(&want, 4)
	if want.Name == nil || len(want.Tags) != 2 || want.Tags[1].Key == nil || len(want.Attrs) != 2 || want.When == nil {
		t.Fatalf("Fill left fields unset: %+v", want)
	}
	var sdk theirs
	if err := ToSDK(&want, &sdk); err != nil {
		t.Fatal(err)
	}
	if string(sdk.State) != *want.State || sdk.Count != int64(*want.Count) || !sdk.When.Equal(want.When.Time) {
		t.Errorf("ToSDK = %+v from %+v", sdk, want)
	}
	sdk.Extra = new("ignored")
	var got ours
	if err := FromSDK(&sdk, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip = %+v, want %+v", got, want)
	}
}

func TestConvertZeroSDKValuesAreAbsent(t *testing.T) {
	var got ours
	if err := FromSDK(&theirs{}, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ours{}) {
		t.Errorf("FromSDK(zero) = %+v, want all absent", got)
	}
}

func TestConvertMissingField(t *testing.T) {
	type narrow struct{ Name *string }
	if err := ToSDK(&ours{Count: new(int32(1))}, &narrow{}); err == nil || !strings.Contains(err.Error(), "Count") {
		t.Errorf("ToSDK into a struct without Count = %v", err)
	}
	if err := ToSDK(&ours{Name: new("n")}, &narrow{}); err != nil {
		t.Errorf("ToSDK of fields the SDK has = %v", err)
	}
	if err := FromSDK(&narrow{}, &ours{}); err == nil {
		t.Error("FromSDK from a struct lacking generated fields succeeded")
	}
}

func TestDiff(t *testing.T) {
	got := url.Values{"A": {"1"}, "B": {"2"}, "X": {"9"}}
	want := url.Values{"A": {"1"}, "B": {"3"}, "C": {"4"}}
	d := Diff(got, want)
	for _, line := range []string{`B=["2"], want ["3"]`, `missing C=["4"]`, `extra X=["9"]`} {
		if !strings.Contains(d, line) {
			t.Errorf("Diff lacks %q:\n%s", line, d)
		}
	}
	if d := Diff(want, want); d != "" {
		t.Errorf("Diff of equal forms = %q", d)
	}
}
