package ec2

import (
	"net/netip"
	"time"

	"github.com/privlink/privlink/api/query"
	"github.com/privlink/privlink/core"
)

// Conversions shared by the operations. The codec leaves out nil pointers
// and slices and writes empty non-nil slices as empty sets, so each output
// field is set, left nil or set to an empty slice as EC2 writes it.

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// optional returns nil for an empty string, which EC2 leaves out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timestamp(t time.Time) *query.Timestamp {
	if t.IsZero() {
		return nil
	}
	return query.NewTimestamp(t)
}

func addr(a netip.Addr) *string {
	if !a.IsValid() {
		return nil
	}
	return new(a.String())
}

// tagSpecifications converts a create request's TagSpecifications.
func tagSpecifications(specs []TagSpecification) []core.TagSpecification {
	if len(specs) == 0 {
		return nil
	}
	out := make([]core.TagSpecification, len(specs))
	for i, s := range specs {
		out[i] = core.TagSpecification{ResourceType: deref(s.ResourceType), Tags: coreTags(s.Tags)}
	}
	return out
}

func coreTags(tags []Tag) []core.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]core.Tag, len(tags))
	for i, t := range tags {
		out[i] = core.Tag{Key: deref(t.Key), Value: deref(t.Value)}
	}
	return out
}

// tagSet is a resource's tagSet, left out when it has no tags, as EC2 does
// for most resources.
func tagSet(tags []core.Tag) []Tag {
	if len(tags) == 0 {
		return nil
	}
	return tagList(tags)
}

// tagList is a tagSet that EC2 writes even when empty.
func tagList(tags []core.Tag) []Tag {
	out := make([]Tag, len(tags))
	for i, t := range tags {
		out[i] = Tag{Key: new(t.Key), Value: new(t.Value)}
	}
	return out
}

func groupIdentifiers(groups []core.GroupIdentifier) []GroupIdentifier {
	out := make([]GroupIdentifier, len(groups))
	for i, g := range groups {
		out[i] = GroupIdentifier{GroupId: new(g.ID), GroupName: optional(g.Name)}
	}
	return out
}

// unsuccessful is a batch action's unsuccessful set, written even when
// empty.
func unsuccessful(items []core.UnsuccessfulItem) []UnsuccessfulItem {
	out := make([]UnsuccessfulItem, len(items))
	for i, it := range items {
		out[i] = UnsuccessfulItem{
			ResourceId: new(it.ResourceID),
			Error:      &UnsuccessfulItemError{Code: new(it.Code), Message: new(it.Message)},
		}
	}
	return out
}

// nonNil returns s, or an empty slice for nil: a set EC2 always writes.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
