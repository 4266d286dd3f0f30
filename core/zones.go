package core

import (
	"slices"
	"strings"
)

// Region is an AWS region as DescribeRegions reports it.
type Region struct {
	Name        string
	Endpoint    string
	OptInStatus string // opt-in-not-required: every region privlink knows is on
}

// AvailabilityZone is a zone of the served region.
type AvailabilityZone struct {
	Name   string // us-east-1a
	ID     string // use1-az1
	Region string
	// State, ZoneType, OptInStatus, GroupName and NetworkBorderGroup are
	// what DescribeAvailabilityZones reports for a standard zone.
	State              string // available
	ZoneType           string // availability-zone
	OptInStatus        string // opt-in-not-required
	GroupName          string // the region
	NetworkBorderGroup string // the region
}

// Facts DescribeAvailabilityZones and DescribeRegions report.
const (
	ZoneStateAvailable  = "available"
	ZoneTypeStandard    = "availability-zone"
	OptInNotRequired    = "opt-in-not-required"
	invalidZoneMsgStart = "Invalid availability zone: "
)

// regions lists the commercial regions privlink knows by name, with the short
// code AWS uses in zone IDs and the number of zones each has.
var regions = []struct {
	name  string
	short string
	zones int
}{
	{"us-east-1", "use1", 6},
	{"us-east-2", "use2", 3},
	{"us-west-1", "usw1", 2},
	{"us-west-2", "usw2", 4},
	{"ca-central-1", "cac1", 3},
	{"eu-west-1", "euw1", 3},
	{"eu-west-2", "euw2", 3},
	{"eu-west-3", "euw3", 3},
	{"eu-central-1", "euc1", 3},
	{"eu-north-1", "eun1", 3},
	{"ap-northeast-1", "apne1", 3},
	{"ap-northeast-2", "apne2", 4},
	{"ap-northeast-3", "apne3", 3},
	{"ap-southeast-1", "apse1", 3},
	{"ap-southeast-2", "apse2", 3},
	{"ap-south-1", "aps1", 3},
	{"sa-east-1", "sae1", 3},
}

func regionInfo(name string) (short string, ok bool) {
	for _, r := range regions {
		if r.name == name {
			return r.short, true
		}
	}
	return "", false
}

// Regions lists the regions, as DescribeRegions reports them.
func (c *Cloud) Regions() []Region {
	out := make([]Region, 0, len(regions))
	for _, r := range regions {
		out = append(out, Region{Name: r.name, Endpoint: "ec2." + r.name + ".amazonaws.com", OptInStatus: OptInNotRequired})
	}
	return out
}

// AvailabilityZones lists the zones of the served region in name order. Zone
// IDs follow the name order (us-east-1a is use1-az1); on AWS the mapping is
// shuffled per account, which nothing in the lab depends on.
func (c *Cloud) AvailabilityZones() []AvailabilityZone {
	for _, r := range regions {
		if r.name != c.cfg.Region {
			continue
		}
		out := make([]AvailabilityZone, r.zones)
		for i := range out {
			out[i] = AvailabilityZone{
				Name:               r.name + string(rune('a'+i)),
				ID:                 r.short + "-az" + itoa(int32(i+1)),
				Region:             r.name,
				State:              ZoneStateAvailable,
				ZoneType:           ZoneTypeStandard,
				OptInStatus:        OptInNotRequired,
				GroupName:          r.name,
				NetworkBorderGroup: r.name,
			}
		}
		return out
	}
	return nil
}

// zoneByNameOrID finds a zone of the served region by name or ID.
func (c *Cloud) zoneByNameOrID(s string) (AvailabilityZone, bool) {
	for _, z := range c.AvailabilityZones() {
		if z.Name == s || strings.EqualFold(z.ID, s) {
			return z, true
		}
	}
	return AvailabilityZone{}, false
}

// DescribeAvailabilityZonesInput is DescribeAvailabilityZones' request. No
// names or IDs means every zone of the served region.
type DescribeAvailabilityZonesInput struct {
	ZoneNames []string
	ZoneIDs   []string
}

// DescribeAvailabilityZones returns the zones named by name or ID, or all
// of them, in name order. Naming a zone the region does not have fails as
// on AWS.
func (c *Cloud) DescribeAvailabilityZones(in DescribeAvailabilityZonesInput) ([]AvailabilityZone, error) {
	zones := c.AvailabilityZones()
	if len(in.ZoneNames) == 0 && len(in.ZoneIDs) == 0 {
		return zones, nil
	}
	byName, byID := map[string]bool{}, map[string]bool{}
	for _, z := range zones {
		byName[z.Name], byID[strings.ToLower(z.ID)] = true, true
	}
	var unknown []string
	for _, n := range in.ZoneNames {
		if !byName[n] {
			unknown = append(unknown, n)
		}
	}
	for _, id := range in.ZoneIDs {
		if !byID[strings.ToLower(id)] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, invalidParameterValue("%s[%s]", invalidZoneMsgStart, strings.Join(unknown, ", "))
	}
	var out []AvailabilityZone
	for _, z := range zones {
		if slices.Contains(in.ZoneNames, z.Name) || slices.ContainsFunc(in.ZoneIDs, func(id string) bool { return strings.EqualFold(id, z.ID) }) {
			out = append(out, z)
		}
	}
	return out, nil
}
