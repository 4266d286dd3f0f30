package core

import "strings"

// Region is an AWS region as DescribeRegions reports it.
type Region struct {
	Name     string
	Endpoint string
}

// AvailabilityZone is a zone of the served region.
type AvailabilityZone struct {
	Name   string // us-east-1a
	ID     string // use1-az1
	Region string
}

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
		out = append(out, Region{Name: r.name, Endpoint: "ec2." + r.name + ".amazonaws.com"})
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
				Name:   r.name + string(rune('a'+i)),
				ID:     r.short + "-az" + itoa(int32(i+1)),
				Region: r.name,
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
