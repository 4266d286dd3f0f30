package core

import (
	"reflect"
	"strings"
	"testing"
)

func TestEC2TagsByType(t *testing.T) {
	spec := func(typ string, tags ...Tag) TagSpecification { return TagSpecification{ResourceType: typ, Tags: tags} }
	tests := []struct {
		name  string
		specs []TagSpecification
		code  string
		msg   string
	}{
		{"longest key and value", []TagSpecification{spec("instance", Tag{strings.Repeat("é", 128), strings.Repeat("ü", 256)})}, "", ""},
		{"empty value", []TagSpecification{spec("instance", Tag{"k", ""})}, "", ""},
		{"fifty", []TagSpecification{{ResourceType: "instance", Tags: manyTags(50)}}, "", ""},
		{"fifty-one", []TagSpecification{{ResourceType: "instance", Tags: manyTags(51)}}, "TagLimitExceeded", ""},
		{"long key", []TagSpecification{spec("instance", Tag{strings.Repeat("k", 129), ""})}, "InvalidParameterValue",
			"Tag key exceeds the maximum length of 128 characters"},
		{"long value", []TagSpecification{spec("instance", Tag{"k", strings.Repeat("v", 257)})}, "InvalidParameterValue",
			"Tag value exceeds the maximum length of 256 characters"},
		{"empty key", []TagSpecification{spec("instance", Tag{"", "v"})}, "InvalidParameterValue", ""},
		{"reserved key", []TagSpecification{spec("instance", Tag{"AWS:cloudformation:stack-name", "v"})}, "InvalidParameterValue",
			"Value ( AWS:cloudformation:stack-name ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use"},
		{"aws without colon is fine", []TagSpecification{spec("instance", Tag{"awsome", "v"})}, "", ""},
		{"duplicate key", []TagSpecification{spec("instance", Tag{"k", "1"}, Tag{"k", "2"})}, "InvalidParameterValue", ""},
		{"not utf-8", []TagSpecification{spec("instance", Tag{"k", "\xff"})}, "InvalidParameterValue", ""},
		{"type twice", []TagSpecification{spec("instance", Tag{"a", ""}), spec("instance", Tag{"b", ""})}, "InvalidParameterValue",
			"The same resource type may not be specified more than once in tag specifications"},
		{"no tags", []TagSpecification{spec("instance")}, "InvalidParameterValue", ""},
		{"no type", []TagSpecification{spec("", Tag{"a", ""})}, "MissingParameter", ""},
		{"type of another operation", []TagSpecification{spec("vpc", Tag{"a", ""})}, "InvalidParameterValue",
			"'vpc' is not a valid taggable resource type for this operation."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ec2TagsByType(tt.specs, "instance", "network-interface")
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got["instance"], tt.specs[0].Tags) {
					t.Errorf("got %v", got)
				}
				return
			}
			if e := wantCode(t, err, tt.code); tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
		})
	}

	t.Run("copies", func(t *testing.T) {
		tags := []Tag{{"a", "1"}}
		got, err := ec2TagsByType([]TagSpecification{{ResourceType: "instance", Tags: tags}}, "instance")
		if err != nil {
			t.Fatal(err)
		}
		tags[0].Value = "changed"
		if got["instance"][0].Value != "1" {
			t.Error("result aliases the request")
		}
	})
}
