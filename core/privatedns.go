package core

import (
	"context"
	"slices"
	"strings"
)

// Private DNS names of endpoint services. A provider names its service
// (CreateVpcEndpointServiceConfiguration or ModifyVpcEndpointServiceConfiguration
// with PrivateDnsName), publishes the TXT record that the service's
// PrivateDnsNameConfiguration gives in a public hosted zone of its own, and
// asks for the proof to be checked:
//
//	name set ──► pendingVerification ──StartVpcEndpointServicePrivateDnsVerification──┬─(TXT record found)──► verified
//	                                                                                   └─(absent or wrong)───► failed
//	verified, failed ──StartVpcEndpointServicePrivateDnsVerification──► checked again, as above
//	any ──new name──► pendingVerification;  any ──RemovePrivateDnsName──► no name
//
// AWS checks asynchronously through public DNS; privlink checks at once,
// in the provider's public hosted zones, so the state a describe reads
// afterwards is already the outcome. Only a verified name can be enabled
// on an endpoint, and then the VPC resolver answers it inside that
// endpoint's VPC (EndpointService.PrivateDNSName with PrivateDNSNameState
// DNSNameVerified, VpcEndpoint.PrivateDNSEnabled).

// newPrivateDNSVerification returns a TXT record name and value in AWS's
// forms: "_" and 20 lower-case letters and digits, "vpce:" and 20 letters
// and digits (e.g. _6e86v84tqgqubxbwii1m, vpce:l6p0ERxlTt45jevFwOCp).
func (c *Cloud) newPrivateDNSVerification() (name, value string) {
	return "_" + c.ids.fromAlphabet(20, lowerAlnum), "vpce:" + c.ids.fromAlphabet(20, secretChar[:62])
}

// normalPrivateDNSName is a private DNS name as a service stores it: lower
// case, without a trailing dot.
func normalPrivateDNSName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// setPrivateDNSName gives the service a new private DNS name, pending
// verification. The TXT record's name and value are made once per service
// and kept across names, so that a record published for a parent domain
// still proves a later subdomain, as AWS's guide describes.
func (c *Cloud) setPrivateDNSName(s *EndpointService, name string) {
	s.PrivateDNSName = name
	s.PrivateDNSNameState = DNSNamePendingVerification
	if s.PrivateDNSVerificationName == "" || s.PrivateDNSVerificationValue == "" {
		s.PrivateDNSVerificationName, s.PrivateDNSVerificationValue = c.newPrivateDNSVerification()
	}
}

// privateDNSZoneName is the name of the private hosted zone AWS makes in a
// consumer's VPC for a private DNS name: the name itself, or its parent for
// a wildcard name (*.example.com is served from a zone for example.com).
func privateDNSZoneName(name string) string {
	return strings.TrimPrefix(name, "*.")
}

// verificationDomains lists the domains whose TXT record proves a private
// DNS name, most specific first: the name (without a leading "*.") and each
// parent of at least two labels. AWS accepts a proof for example.com for
// a.example.com and every other subdomain.
func verificationDomains(name string) []string {
	d := privateDNSZoneName(normalPrivateDNSName(name))
	var out []string
	for strings.Contains(d, ".") {
		out = append(out, d)
		_, d, _ = strings.Cut(d, ".")
	}
	return out
}

// StartVpcEndpointServicePrivateDnsVerification checks the proof of one of
// the caller's services' private DNS name: a TXT record whose value is the
// verification value, at <verification name>.<domain> or at <domain>
// itself, where domain is the name or one of its parents, in one of the
// caller's public hosted zones. The name turns verified when one is found
// and failed otherwise.
func (c *Cloud) StartVpcEndpointServicePrivateDnsVerification(ctx context.Context, caller Caller, serviceID string) error {
	return c.update(ctx, func(t *txn) error {
		s, err := c.ownedEndpointService(t, caller, serviceID)
		if err != nil {
			return err
		}
		if s.PrivateDNSName == "" {
			return vpceInvalidParameter("The VPC endpoint service %s does not have a private DNS name to verify.", s.ID)
		}
		found, err := c.privateDNSProofPublished(t, s)
		if err != nil {
			return err
		}
		s.PrivateDNSNameState = DNSNameFailed
		if found {
			s.PrivateDNSNameState = DNSNameVerified
		}
		return put(t, keyEndpointService(s.ID), s)
	})
}

// privateDNSProofPublished reports whether a public hosted zone of the
// service's owner holds the TXT record that proves its private DNS name.
// A TXT value of several character strings counts as their concatenation;
// the comparison is exact, as AWS's is.
func (c *Cloud) privateDNSProofPublished(t *txn, s *EndpointService) (bool, error) {
	zones, err := listWhere(t, prefixHostedZones, func(z *HostedZone) bool { return !z.Private && z.OwnerID == s.OwnerID })
	if err != nil || len(zones) == 0 {
		return false, err
	}
	for _, d := range verificationDomains(s.PrivateDNSName) {
		for _, name := range []string{s.PrivateDNSVerificationName + "." + d, d} {
			n, p := canonicalName(name)
			if p != nil {
				continue
			}
			for _, z := range zones {
				if !inZone(n, z.Name) {
					continue
				}
				set, ok, err := get[ResourceRecordSet](t, recordSetKey(z.ID, n, "TXT"))
				if err != nil {
					return false, err
				}
				if ok && slices.ContainsFunc(set.Records, func(r string) bool {
					return strings.Join(TXTStrings(r), "") == s.PrivateDNSVerificationValue
				}) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// checkPrivateDNS applies AWS's conditions for enabling private DNS on an
// endpoint to the service in the VPC: the service has a verified private
// DNS name, the VPC resolves names and gives hostnames, and nothing else in
// the VPC claims the name. others are endpoints of the VPC besides the one
// being created or changed.
func (c *Cloud) checkPrivateDNS(t *txn, vpc *VPC, svc *EndpointService, others []*VpcEndpoint) error {
	if svc.PrivateDNSName == "" {
		return vpceInvalidParameter("Private DNS can't be enabled because the service %s does not provide a private DNS name.", svc.ServiceName)
	}
	if svc.PrivateDNSNameState != DNSNameVerified {
		return vpceInvalidParameter("Private DNS can't be enabled because the service %s has not verified the private DNS name.", svc.ServiceName)
	}
	if !vpc.EnableDNSSupport || !vpc.EnableDNSHostnames {
		return vpceInvalidParameter("Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for %s", vpc.ID)
	}
	conflict := func() error {
		return vpceInvalidParameter("private-dns-enabled cannot be set because there is already a conflicting DNS domain for %s in the VPC %s", svc.PrivateDNSName, vpc.ID)
	}
	zone := privateDNSZoneName(svc.PrivateDNSName)
	for _, e := range others {
		if e.VpcID != vpc.ID || !e.PrivateDNSEnabled || !endpointLive(e.State) {
			continue
		}
		other, ok, err := get[EndpointService](t, keyEndpointService(e.ServiceID))
		if err != nil {
			return err
		}
		if ok && other.PrivateDNSName != "" && privateDNSZoneName(other.PrivateDNSName) == zone {
			return conflict()
		}
	}
	claimed, err := c.privateZoneClaims(t, vpc.ID, zone)
	if err != nil {
		return err
	}
	if claimed {
		return conflict()
	}
	return nil
}

// endpointPrivateDNSName is the private DNS name an endpoint answers in its
// VPC: its service's name while private DNS is enabled and the name is
// verified, and "" otherwise.
func endpointPrivateDNSName(e *VpcEndpoint, svc *EndpointService) string {
	if !e.PrivateDNSEnabled || svc == nil || svc.PrivateDNSNameState != DNSNameVerified {
		return ""
	}
	return svc.PrivateDNSName
}
