package core

import (
	"slices"
	"strings"
)

// DescribeRegions returns the named regions, or all of them, in Regions'
// order. Naming a region privlink does not know fails as on AWS.
func (c *Cloud) DescribeRegions(names []string) ([]Region, error) {
	all := c.Regions()
	if len(names) == 0 {
		return all, nil
	}
	var unknown []string
	for _, n := range names {
		if !slices.ContainsFunc(all, func(r Region) bool { return r.Name == n }) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, invalidParameterValue("Invalid region: [%s]", strings.Join(unknown, ", "))
	}
	return slices.DeleteFunc(all, func(r Region) bool { return !slices.Contains(names, r.Name) }), nil
}
