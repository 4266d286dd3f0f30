package elbv2

import (
	"fmt"

	"github.com/privlink/privlink/core"
)

// Conversions shared by the actions: the generated shapes use pointers for
// "absent", core uses zero values.

// str returns *p, or "" when absent.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// strs returns a copy of ss that is never nil, for lists AWS always writes.
func strs(ss []string) []string {
	return append([]string{}, ss...)
}

// optional returns a pointer to s, or nil for "" (a member AWS leaves out
// when it has no value).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// positive returns *p for core inputs where 0 means "not given". A given
// value below 1 is refused here with the model's constraint, because core
// would read 0 as absent.
func positive(p *int32, path string) (int32, error) {
	if p == nil {
		return 0, nil
	}
	if *p < 1 {
		return 0, validationErrors(fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 1", *p, path))
	}
	return *p, nil
}

func coreTags(tags []Tag) []core.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]core.Tag, len(tags))
	for i, t := range tags {
		out[i] = core.Tag{Key: str(t.Key), Value: str(t.Value)}
	}
	return out
}
