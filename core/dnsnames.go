package core

import (
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
)

// DNS names of load balancers, endpoint services and endpoints, in AWS's
// formats, with the Route 53 hosted zone IDs AWS reports for them. They are
// derived from stored IDs, never stored.

// DNSEntry is one DNS name of an interface endpoint, as DescribeVpcEndpoints
// reports it.
type DNSEntry struct {
	DNSName      string
	HostedZoneID string
}

// nlbHostedZones is the canonical hosted zone of network load balancer DNS
// names (<name>-<id>.elb.<region>.amazonaws.com) per region, from AWS's
// Elastic Load Balancing endpoints table.
var nlbHostedZones = map[string]string{
	"us-east-1":      "Z26RNL4JYFTOTI",
	"us-east-2":      "ZLMOA37VPKANP",
	"us-west-1":      "Z24FKFUX50B4VW",
	"us-west-2":      "Z18D5FSROUN65G",
	"ca-central-1":   "Z2EPGBW3API2WT",
	"eu-west-1":      "Z2IFOLAFXWLO4F",
	"eu-west-2":      "ZD4D7Y8KGAS4G",
	"eu-west-3":      "Z1CMS0P5QUZ6D5",
	"eu-central-1":   "Z3F0SRJ5LGBH90",
	"eu-north-1":     "Z1UDT6IFJ4EJM",
	"ap-northeast-1": "Z31USIVHYNEOWT",
	"ap-northeast-2": "ZIBE1TIR4HY56",
	"ap-northeast-3": "Z1GWIQ4HH19I5X",
	"ap-southeast-1": "ZKVM4W9LS7TM",
	"ap-southeast-2": "ZCT6FZBF4DROD",
	"ap-south-1":     "ZVDDRBQ08TROA",
	"sa-east-1":      "ZTK26PT1VY4CU",
}

// vpceHostedZones is the hosted zone of <region>.vpce.amazonaws.com names
// per region, as DescribeVpcEndpoints reports it in DnsEntries.
var vpceHostedZones = map[string]string{
	"us-east-1":      "Z7HUB22UULQXV",
	"us-east-2":      "ZC8PG0KIFKBRI",
	"us-west-1":      "Z12I86A8N7VCZO",
	"us-west-2":      "Z1YSA3EXCYUU9Z",
	"ca-central-1":   "ZRCXCF510Y6P9",
	"eu-west-1":      "Z38GZ743OKFT7T",
	"eu-west-2":      "Z7K1066E3PUKB",
	"eu-west-3":      "Z1DWHTMFP0WECP",
	"eu-central-1":   "Z273ZU8SZ5RJPC",
	"eu-north-1":     "Z3OWWK6JFDEDGC",
	"ap-northeast-1": "Z2E726K9Y6RL4W",
	"ap-northeast-2": "Z27UANNT0PRK1T",
	"ap-northeast-3": "Z376B5OMM2JZL2",
	"ap-southeast-1": "Z18LLCSTV4NVNL",
	"ap-southeast-2": "ZDK2GCRPAFKGO",
	"ap-south-1":     "Z2KVTB3ZLFM7JR",
	"sa-east-1":      "Z2LXUWEVLCVZIB",
}

// loadBalancerDNSName is an NLB's DNS name. AWS uses the ARN's ID as the
// suffix and, unlike Classic and Application Load Balancers, gives internal
// NLBs no "internal-" prefix.
func loadBalancerDNSName(name, id, region string) string {
	return name + "-" + id + ".elb." + region + ".amazonaws.com"
}

// endpointServiceName is the name consumers pass to CreateVpcEndpoint.
func endpointServiceName(region, serviceID string) string {
	return "com.amazonaws.vpce." + region + "." + serviceID
}

// baseEndpointDNSName is the service's BaseEndpointDnsNames entry.
func baseEndpointDNSName(region, serviceID string) string {
	return serviceID + "." + region + ".vpce.amazonaws.com"
}

// endpointDNSEntries lists an interface endpoint's DNS names: the regional
// name, one zonal name per zone of its subnets (in zone order) and, when
// privateDNSName is set, the service's private DNS name in the private hosted
// zone AWS associates with the VPC.
func endpointDNSEntries(region string, ep *VpcEndpoint, zones []string, privateDNSName string) []DNSEntry {
	hz := vpceHostedZones[region]
	if !sortedDistinct(zones) {
		zones = slices.Compact(slices.Sorted(slices.Values(zones)))
	}
	// Every name is <id>-<dnsid>[-<zone>].<service>.<region>.vpce.amazonaws.com:
	// they are written into one string and sliced out of it, since a long
	// list describes many endpoints. A builder never changes what it has
	// written, so each slice stays as it was.
	const tail = ".vpce.amazonaws.com"
	base := len(ep.ID) + 1 + len(ep.DNSID) + 1 + len(ep.ServiceID) + 1 + len(region) + len(tail)
	size := base * (len(zones) + 1)
	for _, z := range zones {
		size += 1 + len(z)
	}
	var b strings.Builder
	b.Grow(size)
	name := func(zone string) string {
		start := b.Len()
		b.WriteString(ep.ID)
		b.WriteByte('-')
		b.WriteString(ep.DNSID)
		if zone != "" {
			b.WriteByte('-')
			b.WriteString(zone)
		}
		b.WriteByte('.')
		b.WriteString(ep.ServiceID)
		b.WriteByte('.')
		b.WriteString(region)
		b.WriteString(tail)
		return b.String()[start:]
	}
	out := make([]DNSEntry, 0, len(zones)+2)
	out = append(out, DNSEntry{DNSName: name(""), HostedZoneID: hz})
	for _, z := range zones {
		out = append(out, DNSEntry{DNSName: name(z), HostedZoneID: hz})
	}
	if privateDNSName != "" {
		out = append(out, DNSEntry{DNSName: privateDNSName, HostedZoneID: privateHostedZoneID(ep.ID)})
	}
	return out
}

// sortedDistinct reports whether s is sorted with no element twice.
func sortedDistinct(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

// privateHostedZoneID names the private hosted zone that carries an
// endpoint's private DNS name. AWS creates one zone per endpoint; privlink
// derives its ID from the endpoint ID so that it is stable without being
// stored.
func privateHostedZoneID(endpointID string) string {
	const salt = "privlink-phz/"
	var in [64]byte
	sum := sha256.Sum256(append(append(in[:0], salt...), endpointID...))
	var enc [52]byte // base32 of 32 bytes, unpadded; its alphabet is upper case
	base32.StdEncoding.WithPadding(base32.NoPadding).Encode(enc[:], sum[:])
	return "Z" + string(enc[:20])
}

// validDNSName reports whether s is a DNS name AWS accepts as an endpoint
// service's private DNS name: dot-separated labels of letters, digits and
// hyphens (a leading "*." is allowed), at most 255 characters.
func validDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 255 {
		return false
	}
	s = strings.TrimPrefix(s, "*.")
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
