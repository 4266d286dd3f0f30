package core

import (
	"context"
	"slices"
	"strings"
)

// VPC endpoint services: a provider offers network load balancers to
// consumers. Permissions (allowed principals) decide who may see the service
// and connect to it; AcceptanceRequired decides whether the provider must
// accept each connection.

// Endpoint service constants.
const (
	ServiceTypeInterface = "Interface"

	// Verification states of a service's private DNS name (DnsNameState).
	DNSNamePendingVerification = "pendingVerification"
	DNSNameVerified            = "verified"
	DNSNameFailed              = "failed"

	// Principal types of allowed principals.
	PrincipalAll     = "All"
	PrincipalService = "Service"
	PrincipalAccount = "Account"
	PrincipalUser    = "User"
	PrincipalRole    = "Role"

	// ResourceTypeVpcEndpointService is the TagSpecifications resource type
	// of endpoint services.
	ResourceTypeVpcEndpointService = "vpc-endpoint-service"
)

// CreateVpcEndpointServiceConfigurationInput is
// CreateVpcEndpointServiceConfiguration's request.
type CreateVpcEndpointServiceConfigurationInput struct {
	AcceptanceRequired      bool
	PrivateDNSName          string
	NetworkLoadBalancerARNs []string
	GatewayLoadBalancerARNs []string // not supported
	SupportedIPAddressTypes []string // "ipv4" only; default ["ipv4"]
	ClientToken             string
	TagSpecifications       []TagSpecification // resource type "vpc-endpoint-service"
}

// ServiceConfiguration is an endpoint service as its owner sees it, with the
// facts derived from its load balancers.
type ServiceConfiguration struct {
	EndpointService
	AvailabilityZones           []string
	BaseEndpointDNSNames        []string
	PrivateDNSNameConfiguration *PrivateDNSNameConfiguration // nil without a private DNS name
}

// PrivateDNSNameConfiguration is the TXT record a provider publishes to prove
// that it owns its service's private DNS name, and the proof's state.
type PrivateDNSNameConfiguration struct {
	State string
	Type  string // "TXT"
	Value string
	Name  string
}

// UnsuccessfulItem is one failed item of a batch action; the rest of the
// batch still happens.
type UnsuccessfulItem struct {
	ResourceID string
	Code       string
	Message    string
}

// ModifyVpcEndpointServicePermissionsInput is
// ModifyVpcEndpointServicePermissions's request.
type ModifyVpcEndpointServicePermissionsInput struct {
	ServiceID               string
	AddAllowedPrincipals    []string
	RemoveAllowedPrincipals []string
}

// AddedPrincipal is one principal a ModifyVpcEndpointServicePermissions call
// allowed.
type AddedPrincipal struct {
	PrincipalType       string
	Principal           string
	ServicePermissionID string
	ServiceID           string
}

// ServiceDetail is an endpoint service as DescribeVpcEndpointServices shows
// it to a caller that may use it.
type ServiceDetail struct {
	ServiceName                     string
	ServiceID                       string
	ServiceType                     string
	AvailabilityZones               []string
	Owner                           string
	BaseEndpointDNSNames            []string
	PrivateDNSName                  string
	PrivateDNSNames                 []string
	PrivateDNSNameVerificationState string
	VpcEndpointPolicySupported      bool
	AcceptanceRequired              bool
	ManagesVpcEndpoints             bool
	SupportedIPAddressTypes         []string
	Tags                            []Tag // the owner's view only
}

// CreateVpcEndpointServiceConfiguration offers the caller's network load
// balancers (active or provisioning, not used by another service) as an
// interface endpoint service. A private DNS name is recorded as
// pendingVerification with the TXT record that would verify it.
func (c *Cloud) CreateVpcEndpointServiceConfiguration(ctx context.Context, caller Caller, in CreateVpcEndpointServiceConfigurationInput) (ServiceConfiguration, error) {
	switch {
	case len(in.NetworkLoadBalancerARNs) > 0 && len(in.GatewayLoadBalancerARNs) > 0:
		return ServiceConfiguration{}, Errorf(KindInvalid, "InvalidParameterCombination", "The request must contain exactly one of gatewayLoadBalancerArn or networkLoadBalancerArn")
	case len(in.GatewayLoadBalancerARNs) > 0:
		return ServiceConfiguration{}, unsupportedOperation("Gateway Load Balancer endpoint services are not supported: privlink endpoint services front network load balancers")
	case len(in.NetworkLoadBalancerARNs) == 0:
		return ServiceConfiguration{}, missingParameter("NetworkLoadBalancerArn")
	}
	ipTypes := distinctInOrder(in.SupportedIPAddressTypes)
	if err := checkServiceIPTypes(ipTypes); err != nil {
		return ServiceConfiguration{}, err
	}
	if len(ipTypes) == 0 {
		ipTypes = []string{"ipv4"}
	}
	if in.PrivateDNSName != "" && !validDNSName(in.PrivateDNSName) {
		return ServiceConfiguration{}, vpceInvalidParameter("Invalid private DNS name '%s'", in.PrivateDNSName)
	}
	tags, err := ec2TagsByType(in.TagSpecifications, ResourceTypeVpcEndpointService)
	if err != nil {
		return ServiceConfiguration{}, err
	}
	lbARNs := distinctInOrder(in.NetworkLoadBalancerARNs)
	if err := checkNLBARNs(lbARNs); err != nil {
		return ServiceConfiguration{}, err
	}

	var out ServiceConfiguration
	err = c.update(ctx, func(t *txn) error {
		all, err := list[EndpointService](t, prefixEndpointServices)
		if err != nil {
			return err
		}
		if in.ClientToken != "" {
			for _, s := range all {
				if s.OwnerID != caller.AccountID || s.ClientToken != in.ClientToken {
					continue
				}
				if s.AcceptanceRequired != in.AcceptanceRequired || s.PrivateDNSName != normalPrivateDNSName(in.PrivateDNSName) ||
					!slices.Equal(vpceSorted(s.NetworkLoadBalancerARNs), vpceSorted(lbARNs)) {
					return Errorf(KindInvalid, "IdempotentParameterMismatch", "The client token '%s' has already been used with different parameters", in.ClientToken)
				}
				out, err = c.serviceConfiguration(t, s)
				return err
			}
		}
		for _, arn := range lbARNs {
			if err := c.checkServiceLoadBalancer(t, caller, arn, all); err != nil {
				return err
			}
		}
		id := c.ids.id("vpce-svc")
		s := EndpointService{
			ID:                      id,
			OwnerID:                 caller.AccountID,
			ServiceName:             endpointServiceName(c.cfg.Region, id),
			ServiceType:             ServiceTypeInterface,
			State:                   ServiceAvailable,
			AcceptanceRequired:      in.AcceptanceRequired,
			NetworkLoadBalancerARNs: lbARNs,
			SupportedIPAddressTypes: ipTypes,
			ClientToken:             in.ClientToken,
			Tags:                    tags[ResourceTypeVpcEndpointService],
			CreatedAt:               c.now(),
		}
		if in.PrivateDNSName != "" {
			c.setPrivateDNSName(&s, normalPrivateDNSName(in.PrivateDNSName))
		}
		if err := put(t, keyEndpointService(id), s); err != nil {
			return err
		}
		out, err = c.serviceConfiguration(t, &s)
		return err
	})
	return out, err
}

// checkServiceIPTypes refuses IP address types other than ipv4, which is
// all privlink's endpoint services carry.
func checkServiceIPTypes(types []string) error {
	for _, ty := range types {
		switch ty {
		case "ipv4":
		case "ipv6":
			return vpceInvalidParameter("Supported IP address type 'ipv6' is not supported: privlink endpoint services are IPv4 only")
		default:
			return invalidParameterValue("Value (%s) for parameter SupportedIpAddressType is invalid. Valid values: ipv4, ipv6", ty)
		}
	}
	return nil
}

// checkNLBARNs refuses what is not a network load balancer's ARN.
func checkNLBARNs(arns []string) error {
	for _, arn := range arns {
		if _, ok := parseELBARN(arn, "loadbalancer"); !ok || !strings.Contains(arn, ":loadbalancer/net/") {
			return Errorf(KindInvalid, "InvalidNetworkLoadBalancerArn.Malformed", "Invalid network load balancer ARN: '%s'", arn)
		}
	}
	return nil
}

// checkServiceLoadBalancer checks a load balancer for a service: the
// caller's network load balancer, active or provisioning, and used by none
// of the services all.
func (c *Cloud) checkServiceLoadBalancer(t *txn, caller Caller, arn string, all []*EndpointService) error {
	lb, err := c.ownedLoadBalancerByARN(t, caller, arn)
	if IsKind(err, KindNotFound) {
		return Errorf(KindNotFound, "InvalidNetworkLoadBalancerArn.NotFound", "The network load balancer ARN '%s' does not exist", arn)
	}
	if err != nil {
		return err
	}
	if lb.State != LBActive && lb.State != LBProvisioning {
		return vpceInvalidParameter("The network load balancer '%s' is in state '%s' and cannot be used for an endpoint service", arn, lb.State)
	}
	for _, s := range all {
		if slices.Contains(s.NetworkLoadBalancerARNs, arn) {
			return vpceInvalidParameter("LBs are already associated with another VPC Endpoint Service Configuration: %s", arn)
		}
	}
	return nil
}

// ModifyVpcEndpointServiceConfigurationInput is
// ModifyVpcEndpointServiceConfiguration's request. Empty fields change
// nothing.
type ModifyVpcEndpointServiceConfigurationInput struct {
	ServiceID string
	// PrivateDNSName gives the service a new private DNS name, pending
	// verification; RemovePrivateDNSName removes it. They exclude each
	// other.
	PrivateDNSName       string
	RemovePrivateDNSName bool
	AcceptanceRequired   *bool

	AddNetworkLoadBalancerARNs    []string
	RemoveNetworkLoadBalancerARNs []string
	// Gateway Load Balancers are not supported: refused.
	AddGatewayLoadBalancerARNs    []string
	RemoveGatewayLoadBalancerARNs []string

	// Only ipv4 exists: adding it changes nothing, removing it leaves
	// none and is refused.
	AddSupportedIPAddressTypes    []string
	RemoveSupportedIPAddressTypes []string
}

// ModifyVpcEndpointServiceConfiguration changes one of the caller's
// services in one transaction, or fails and changes nothing: its private
// DNS name, whether connections need acceptance (endpoints already waiting
// for it keep waiting), and its load balancers. Added load balancers are
// checked as at creation, and their zones become the service's; a load
// balancer can be removed only while no endpoint is connected (AWS's
// rule, which also keeps every endpoint's zones covered), and at least
// one must remain.
func (c *Cloud) ModifyVpcEndpointServiceConfiguration(ctx context.Context, caller Caller, in ModifyVpcEndpointServiceConfigurationInput) error {
	if in.ServiceID == "" {
		return missingParameter("ServiceId")
	}
	if in.PrivateDNSName != "" && in.RemovePrivateDNSName {
		return Errorf(KindInvalid, "InvalidParameterCombination", "The parameter PrivateDnsName may not be used in combination with RemovePrivateDnsName.")
	}
	if in.PrivateDNSName != "" && !validDNSName(in.PrivateDNSName) {
		return vpceInvalidParameter("Invalid private DNS name '%s'", in.PrivateDNSName)
	}
	if len(in.AddGatewayLoadBalancerARNs) > 0 || len(in.RemoveGatewayLoadBalancerARNs) > 0 {
		return unsupportedOperation("Gateway Load Balancer endpoint services are not supported: privlink endpoint services front network load balancers")
	}
	addLBs, removeLBs := distinctInOrder(in.AddNetworkLoadBalancerARNs), distinctInOrder(in.RemoveNetworkLoadBalancerARNs)
	if err := checkNLBARNs(append(slices.Clone(addLBs), removeLBs...)); err != nil {
		return err
	}
	for _, arn := range addLBs {
		if slices.Contains(removeLBs, arn) {
			return vpceInvalidParameter("The network load balancer '%s' cannot be both added to and removed from the endpoint service.", arn)
		}
	}
	addTypes, removeTypes := distinctInOrder(in.AddSupportedIPAddressTypes), distinctInOrder(in.RemoveSupportedIPAddressTypes)
	if err := checkServiceIPTypes(addTypes); err != nil {
		return err
	}
	for _, ty := range removeTypes {
		switch ty {
		case "ipv4":
			return vpceInvalidParameter("The endpoint service %s must support at least one IP address type.", in.ServiceID)
		case "ipv6":
		default:
			return invalidParameterValue("Value (%s) for parameter SupportedIpAddressType is invalid. Valid values: ipv4, ipv6", ty)
		}
	}

	return c.update(ctx, func(t *txn) error {
		s, err := c.ownedEndpointService(t, caller, in.ServiceID)
		if err != nil {
			return err
		}
		if len(removeLBs) > 0 {
			for _, arn := range removeLBs {
				if !slices.Contains(s.NetworkLoadBalancerARNs, arn) {
					return vpceInvalidParameter("The network load balancer '%s' is not associated with the endpoint service %s.", arn, s.ID)
				}
			}
			eps, err := endpointsOfService(t, s.ID)
			if err != nil {
				return err
			}
			connected := slices.ContainsFunc(eps, func(e *VpcEndpoint) bool { return activeConnection(e.State) })
			if connected {
				return Errorf(KindConflict, "ExistingVpcEndpointConnections",
					"Service has existing active VPC Endpoint connections! Load balancers cannot be removed from %s while endpoints are connected.", s.ID)
			}
			s.NetworkLoadBalancerARNs = slices.DeleteFunc(s.NetworkLoadBalancerARNs, func(arn string) bool { return slices.Contains(removeLBs, arn) })
		}
		if len(addLBs) > 0 {
			all, err := c.endpointServices(t)
			if err != nil {
				return err
			}
			others := slices.DeleteFunc(all, func(o *EndpointService) bool { return o.ID == s.ID })
			for _, arn := range addLBs {
				if slices.Contains(s.NetworkLoadBalancerARNs, arn) {
					continue
				}
				if err := c.checkServiceLoadBalancer(t, caller, arn, others); err != nil {
					return err
				}
				s.NetworkLoadBalancerARNs = append(s.NetworkLoadBalancerARNs, arn)
			}
		}
		if len(s.NetworkLoadBalancerARNs) == 0 {
			return vpceInvalidParameter("The endpoint service %s must keep at least one network load balancer.", s.ID)
		}
		if in.AcceptanceRequired != nil {
			s.AcceptanceRequired = *in.AcceptanceRequired
		}
		switch name := normalPrivateDNSName(in.PrivateDNSName); {
		case in.RemovePrivateDNSName:
			s.PrivateDNSName, s.PrivateDNSNameState = "", ""
		case name != "" && name != s.PrivateDNSName:
			c.setPrivateDNSName(s, name)
		}
		return put(t, keyEndpointService(s.ID), s)
	})
}

// DescribeVpcEndpointServiceConfigurations returns the caller's endpoint
// services with the given IDs, or all of them.
func (c *Cloud) DescribeVpcEndpointServiceConfigurations(ctx context.Context, caller Caller, ids []string) ([]ServiceConfiguration, error) {
	var out []ServiceConfiguration
	err := c.view(ctx, func(t *txn) error {
		out = nil
		var svcs []*EndpointService
		if len(ids) > 0 {
			for _, id := range distinctInOrder(ids) {
				s, err := c.ownedEndpointService(t, caller, id)
				if err != nil {
					return err
				}
				svcs = append(svcs, s)
			}
		} else {
			all, err := c.endpointServices(t)
			if err != nil {
				return err
			}
			for _, s := range all {
				if s.OwnerID == caller.AccountID {
					svcs = append(svcs, s)
				}
			}
		}
		for _, s := range svcs {
			sc, err := c.serviceConfiguration(t, s)
			if err != nil {
				return err
			}
			out = append(out, sc)
		}
		return nil
	})
	return out, err
}

// DeleteVpcEndpointServiceConfigurations deletes the caller's endpoint
// services. A service with endpoint connections that are pending acceptance,
// pending or available is not deleted: the provider must reject them first.
// Each refusal is an UnsuccessfulItem; the others are deleted.
func (c *Cloud) DeleteVpcEndpointServiceConfigurations(ctx context.Context, caller Caller, ids []string) ([]UnsuccessfulItem, error) {
	if len(ids) == 0 {
		return nil, missingParameter("ServiceId")
	}
	var out []UnsuccessfulItem
	err := c.update(ctx, func(t *txn) error {
		out = nil
		for _, id := range distinctInOrder(ids) {
			s, err := c.ownedEndpointService(t, caller, id)
			if IsKind(err, KindNotFound) {
				out = append(out, UnsuccessfulItem{ResourceID: id, Code: "InvalidVpcEndpointService.NotFound",
					Message: "The VpcEndpointService Id '" + id + "' does not exist"})
				continue
			}
			if err != nil {
				return err
			}
			endpoints, err := endpointsOfService(t, s.ID)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(endpoints, func(e *VpcEndpoint) bool { return activeConnection(e.State) }) {
				out = append(out, UnsuccessfulItem{ResourceID: id, Code: "ExistingVpcEndpointConnections",
					Message: "Service has existing active VPC Endpoint connections!"})
				continue
			}
			if err := del(t, keyEndpointService(s.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// activeConnection reports whether an endpoint in this state keeps its
// service from being deleted.
func activeConnection(state string) bool {
	return state == EndpointPendingAcceptance || state == EndpointPending || state == EndpointAvailable
}

// ModifyVpcEndpointServicePermissions adds and removes allowed principals:
// "*", an account (arn:aws:iam::<account>:root), an IAM user or role of an
// account (no paths), or an AWS service principal. Removing a principal that
// is not allowed changes nothing. Existing connections are not affected.
func (c *Cloud) ModifyVpcEndpointServicePermissions(ctx context.Context, caller Caller, in ModifyVpcEndpointServicePermissionsInput) ([]AddedPrincipal, error) {
	for _, p := range append(slices.Clone(in.AddAllowedPrincipals), in.RemoveAllowedPrincipals...) {
		if _, _, ok := parsePrincipal(p); !ok {
			return nil, Errorf(KindInvalid, "InvalidPrincipal", "Invalid Principal: '%s'", p)
		}
	}
	var out []AddedPrincipal
	err := c.update(ctx, func(t *txn) error {
		out = nil
		s, err := c.ownedEndpointService(t, caller, in.ServiceID)
		if err != nil {
			return err
		}
		for _, p := range in.RemoveAllowedPrincipals {
			s.AllowedPrincipals = slices.DeleteFunc(s.AllowedPrincipals, func(a AllowedPrincipal) bool { return a.Principal == p })
		}
		now := c.now()
		for _, p := range distinctInOrder(in.AddAllowedPrincipals) {
			i := slices.IndexFunc(s.AllowedPrincipals, func(a AllowedPrincipal) bool { return a.Principal == p })
			if i < 0 {
				ptype, _, _ := parsePrincipal(p)
				s.AllowedPrincipals = append(s.AllowedPrincipals, AllowedPrincipal{
					Principal:           p,
					PrincipalType:       ptype,
					ServicePermissionID: c.ids.id("vpce-svc-perm"),
					AddedAt:             now,
				})
				i = len(s.AllowedPrincipals) - 1
			}
			a := s.AllowedPrincipals[i]
			out = append(out, AddedPrincipal{PrincipalType: a.PrincipalType, Principal: a.Principal,
				ServicePermissionID: a.ServicePermissionID, ServiceID: s.ID})
		}
		return put(t, keyEndpointService(s.ID), s)
	})
	return out, err
}

// DescribeVpcEndpointServicePermissions lists a service's allowed
// principals; only its owner may.
func (c *Cloud) DescribeVpcEndpointServicePermissions(ctx context.Context, caller Caller, serviceID string) ([]AllowedPrincipal, error) {
	var out []AllowedPrincipal
	err := c.view(ctx, func(t *txn) error {
		s, err := c.ownedEndpointService(t, caller, serviceID)
		if err != nil {
			return err
		}
		out = slices.Clone(s.AllowedPrincipals)
		return nil
	})
	return out, err
}

// DescribeVpcEndpointServices describes the endpoint services the caller may
// use: its own and those whose permissions admit it. With names it describes
// exactly those, and a name the caller may not see does not exist for it.
func (c *Cloud) DescribeVpcEndpointServices(ctx context.Context, caller Caller, names []string) ([]ServiceDetail, error) {
	var out []ServiceDetail
	err := c.view(ctx, func(t *txn) error {
		out = nil
		all, err := c.endpointServices(t)
		if err != nil {
			return err
		}
		var pick []*EndpointService
		if len(names) > 0 {
			for _, name := range distinctInOrder(names) {
				s, err := c.visibleServiceByName(t, caller, name)
				if err != nil {
					return err
				}
				pick = append(pick, s)
			}
		} else {
			for _, s := range all {
				if serviceVisibleTo(s, caller.AccountID) {
					pick = append(pick, s)
				}
			}
			slices.SortFunc(pick, func(a, b *EndpointService) int { return strings.Compare(a.ServiceName, b.ServiceName) })
		}
		for _, s := range pick {
			zones, err := c.serviceZones(t, s)
			if err != nil {
				return err
			}
			d := ServiceDetail{
				ServiceName:             s.ServiceName,
				ServiceID:               s.ID,
				ServiceType:             s.ServiceType,
				AvailabilityZones:       zones,
				Owner:                   s.OwnerID,
				BaseEndpointDNSNames:    []string{baseEndpointDNSName(c.cfg.Region, s.ID)},
				AcceptanceRequired:      s.AcceptanceRequired,
				ManagesVpcEndpoints:     s.ManagesVpcEndpoints,
				SupportedIPAddressTypes: slices.Clone(s.SupportedIPAddressTypes),
			}
			if s.PrivateDNSName != "" {
				d.PrivateDNSName = s.PrivateDNSName
				d.PrivateDNSNames = []string{s.PrivateDNSName}
				d.PrivateDNSNameVerificationState = s.PrivateDNSNameState
			}
			if s.OwnerID == caller.AccountID {
				d.Tags = slices.Clone(s.Tags)
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// visibleServiceByName finds an available service the caller may use. Every
// other name gets the same InvalidServiceName, so that a service's existence
// is not disclosed to accounts it does not admit.
func (c *Cloud) visibleServiceByName(t *txn, caller Caller, name string) (*EndpointService, error) {
	all, err := c.endpointServices(t)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.ServiceName == name && serviceVisibleTo(s, caller.AccountID) {
			return s, nil
		}
	}
	return nil, Errorf(KindNotFound, "InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", name)
}

// serviceVisibleTo reports whether the account may see and connect to the
// service: it owns it, or a permission admits everyone, the account, or a
// user or role of the account.
func serviceVisibleTo(s *EndpointService, account string) bool {
	if s.State != ServiceAvailable {
		return false
	}
	if s.OwnerID == account {
		return true
	}
	for _, a := range s.AllowedPrincipals {
		ptype, acct, _ := parsePrincipal(a.Principal)
		if ptype == PrincipalAll || acct == account && acct != "" {
			return true
		}
	}
	return false
}

// parsePrincipal classifies an allowed principal and returns the account it
// belongs to, if any.
func parsePrincipal(p string) (ptype, account string, ok bool) {
	if p == "*" {
		return PrincipalAll, "", true
	}
	if rest, found := strings.CutPrefix(p, "arn:aws:iam::"); found {
		acct, res, found := strings.Cut(rest, ":")
		if !found || !digitsOfLen(acct, 12) {
			return "", "", false
		}
		if res == "root" {
			return PrincipalAccount, acct, true
		}
		kind, name, found := strings.Cut(res, "/")
		if !found || !iamName(name) {
			return "", "", false
		}
		switch kind {
		case "user":
			return PrincipalUser, acct, true
		case "role":
			return PrincipalRole, acct, true
		}
		return "", "", false
	}
	if svc, found := strings.CutSuffix(p, ".amazonaws.com"); found && svc != "" {
		for _, c := range svc {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				return "", "", false
			}
		}
		return PrincipalService, "", true
	}
	return "", "", false
}

// iamName reports whether s is an IAM user or role name without a path.
func iamName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("+=,.@_-", c)) {
			return false
		}
	}
	return true
}

// serviceConfiguration adds a service's derived facts.
func (c *Cloud) serviceConfiguration(t *txn, s *EndpointService) (ServiceConfiguration, error) {
	zones, err := c.serviceZones(t, s)
	if err != nil {
		return ServiceConfiguration{}, err
	}
	sc := ServiceConfiguration{
		EndpointService:      s.clone(),
		AvailabilityZones:    zones,
		BaseEndpointDNSNames: []string{baseEndpointDNSName(c.cfg.Region, s.ID)},
	}
	if s.PrivateDNSName != "" {
		sc.PrivateDNSNameConfiguration = &PrivateDNSNameConfiguration{
			State: s.PrivateDNSNameState,
			Type:  "TXT",
			Value: s.PrivateDNSVerificationValue,
			Name:  s.PrivateDNSVerificationName,
		}
	}
	return sc, nil
}

// serviceZones lists the zones of a service's load balancers, sorted.
func (c *Cloud) serviceZones(t *txn, s *EndpointService) ([]string, error) {
	var zones []string
	for _, arn := range s.NetworkLoadBalancerARNs {
		id, ok := parseELBARN(arn, "loadbalancer")
		if !ok {
			continue
		}
		lb, found, err := get[LoadBalancer](t, keyLoadBalancer(id))
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		for _, n := range lb.Nodes {
			zones = append(zones, n.AvailabilityZone)
		}
	}
	slices.Sort(zones)
	return slices.Compact(zones), nil
}

// endpointServices lists every endpoint service, in ID order.
func (c *Cloud) endpointServices(t *txn) ([]*EndpointService, error) {
	return list[EndpointService](t, prefixEndpointServices)
}

// ownedEndpointService finds one of the caller's endpoint services. Other
// accounts' services do not exist for the caller.
func (c *Cloud) ownedEndpointService(t *txn, caller Caller, id string) (*EndpointService, error) {
	if id == "" {
		return nil, missingParameter("ServiceId")
	}
	if validID(id, "vpce-svc") {
		s, ok, err := get[EndpointService](t, keyEndpointService(id))
		if err != nil {
			return nil, err
		}
		if ok && s.OwnerID == caller.AccountID {
			return s, nil
		}
	}
	return nil, Errorf(KindNotFound, "InvalidVpcEndpointServiceId.NotFound", "The VpcEndpointService Id '%s' does not exist", id)
}

func vpceInvalidParameter(format string, args ...any) *Error {
	return Errorf(KindInvalid, "InvalidParameter", format, args...)
}

// vpceSorted returns a sorted copy of ss.
func vpceSorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}
