package core

import (
	"regexp"
	"slices"
	"testing"
)

func TestEndpointDNSEntries(t *testing.T) {
	ep := &VpcEndpoint{ID: "vpce-0c1308d7312217abc", DNSID: "a1b2c3d4", ServiceID: "vpce-svc-03d5ebb7d9579a2b3"}
	got := endpointDNSEntries("us-west-2", ep, []string{"us-west-2b", "us-west-2a", "us-west-2b"}, "")
	want := []DNSEntry{
		{"vpce-0c1308d7312217abc-a1b2c3d4.vpce-svc-03d5ebb7d9579a2b3.us-west-2.vpce.amazonaws.com", "Z1YSA3EXCYUU9Z"},
		{"vpce-0c1308d7312217abc-a1b2c3d4-us-west-2a.vpce-svc-03d5ebb7d9579a2b3.us-west-2.vpce.amazonaws.com", "Z1YSA3EXCYUU9Z"},
		{"vpce-0c1308d7312217abc-a1b2c3d4-us-west-2b.vpce-svc-03d5ebb7d9579a2b3.us-west-2.vpce.amazonaws.com", "Z1YSA3EXCYUU9Z"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	withPrivate := endpointDNSEntries("us-east-1", ep, []string{"us-east-1a"}, "api.example.com")
	last := withPrivate[len(withPrivate)-1]
	if len(withPrivate) != 3 || last.DNSName != "api.example.com" || last.HostedZoneID != privateHostedZoneID(ep.ID) {
		t.Errorf("with private DNS %v", withPrivate)
	}
	if !regexp.MustCompile(`^Z[A-Z2-7]{20}$`).MatchString(last.HostedZoneID) || privateHostedZoneID("vpce-1") == privateHostedZoneID("vpce-2") {
		t.Errorf("private hosted zone ID %s", last.HostedZoneID)
	}
}

func TestNamesOfLoadBalancersAndServices(t *testing.T) {
	if got := loadBalancerDNSName("svc", "eedbb2eaa739616a", "us-east-1"); got != "svc-eedbb2eaa739616a.elb.us-east-1.amazonaws.com" {
		t.Errorf("NLB DNS name %s", got)
	}
	if got := endpointServiceName("eu-west-1", "vpce-svc-006ccfab24f741253"); got != "com.amazonaws.vpce.eu-west-1.vpce-svc-006ccfab24f741253" {
		t.Errorf("service name %s", got)
	}
	if got := baseEndpointDNSName("eu-central-1", "vpce-svc-006ccfab24f741253"); got != "vpce-svc-006ccfab24f741253.eu-central-1.vpce.amazonaws.com" {
		t.Errorf("base DNS name %s", got)
	}
	// Every region privlink serves has both hosted zones.
	for _, r := range regions {
		if nlbHostedZones[r.name] == "" || vpceHostedZones[r.name] == "" {
			t.Errorf("region %s lacks a hosted zone", r.name)
		}
	}
}

func TestValidDNSName(t *testing.T) {
	for name, want := range map[string]bool{
		"api.example.com":                        true,
		"API.Example.com.":                       true,
		"*.internal.example":                     true,
		"a-b.c":                                  true,
		"localhost":                              false,
		"bad_name.example.com":                   false,
		"-a.example.com":                         false,
		"a-.example.com":                         false,
		"a..example.com":                         false,
		"":                                       false,
		"x." + string(make([]byte, 64)) + ".com": false,
	} {
		if got := validDNSName(name); got != want {
			t.Errorf("validDNSName(%q) = %v, want %v", name, got, want)
		}
	}
}
