package core

import (
	"cmp"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Interface VPC endpoints and, from the service owner's side, endpoint
// connections. The lifecycle is the diagram at the VPC endpoint states in
// types.go; consumers act on their endpoints, providers on the connections
// to their services, and each side sees nothing of the other's that AWS
// does not show.

// VPC endpoint types (EC2's VpcEndpointType).
const (
	EndpointTypeInterface           = "Interface"
	EndpointTypeGateway             = "Gateway"
	EndpointTypeGatewayLoadBalancer = "GatewayLoadBalancer"
	EndpointTypeResource            = "Resource"
	EndpointTypeServiceNetwork      = "ServiceNetwork"

	// ResourceTypeVpcEndpoint is the TagSpecifications resource type of
	// endpoints.
	ResourceTypeVpcEndpoint = "vpc-endpoint"
)

// requesterVPCE is the RequesterId privlink reports on endpoint interfaces,
// which AWS creates on the consumer's behalf.
const requesterVPCE = "amazon-vpce"

// maxEndpointsPerVPC is AWS's default quota of interface endpoints per VPC.
const maxEndpointsPerVPC = 50

// CreateVpcEndpointInput is CreateVpcEndpoint's request.
type CreateVpcEndpointInput struct {
	// VpcEndpointType defaults to "Gateway", as on AWS; only "Interface" is
	// supported.
	VpcEndpointType string
	VpcID           string
	ServiceName     string
	PolicyDocument  string   // recorded if it is JSON
	RouteTableIDs   []string // Gateway endpoints only: refused
	SubnetIDs       []string
	// SecurityGroupIDs default to the VPC's default security group.
	SecurityGroupIDs []string
	IPAddressType    string // "" or "ipv4"
	DNSRecordIPType  string // "", "ipv4" or "service-defined"
	// PrivateDNSOnlyForInboundResolverEndpoint is for S3 only: refused.
	PrivateDNSOnlyForInboundResolverEndpoint *bool
	ClientToken                              string
	// PrivateDNSEnabled defaults to true for services with a verified
	// private DNS name and to false for others.
	PrivateDNSEnabled    *bool
	SubnetConfigurations []SubnetConfiguration
	TagSpecifications    []TagSpecification // resource type "vpc-endpoint"
}

// SubnetConfiguration asks for a chosen address in one of the endpoint's
// subnets.
type SubnetConfiguration struct {
	SubnetID string
	IPv4     string
	IPv6     string // not supported
}

// VpcEndpointDescription is an endpoint as DescribeVpcEndpoints reports it.
type VpcEndpointDescription struct {
	VpcEndpoint
	Groups     []GroupIdentifier
	DNSEntries []DNSEntry
	// RequesterManaged is true for endpoints a service manages for the
	// consumer; privlink has none.
	RequesterManaged bool
}

// VpcEndpointConnection is an endpoint as the owner of its service sees it.
type VpcEndpointConnection struct {
	ServiceID               string
	VpcEndpointID           string
	VpcEndpointOwner        string
	VpcEndpointState        string
	CreationTimestamp       time.Time
	DNSEntries              []DNSEntry
	NetworkLoadBalancerARNs []string
	IPAddressType           string
	VpcEndpointConnectionID string
}

// CreateVpcEndpoint creates an interface endpoint to a service the caller
// may use, with one interface in each subnet (at most one subnet per zone,
// each in a zone the service covers). It starts pendingAcceptance when the
// service requires acceptance and pending otherwise; the reconciler makes it
// available. A repeated ClientToken returns the endpoint it created.
func (c *Cloud) CreateVpcEndpoint(ctx context.Context, caller Caller, in CreateVpcEndpointInput) (VpcEndpointDescription, error) {
	if in.VpcID == "" {
		return VpcEndpointDescription{}, missingParameter("VpcId")
	}
	if in.ServiceName == "" {
		return VpcEndpointDescription{}, missingParameter("ServiceName")
	}
	epType := in.VpcEndpointType
	switch epType {
	case "":
		epType = EndpointTypeGateway
	case EndpointTypeInterface, EndpointTypeGateway, EndpointTypeGatewayLoadBalancer:
	case EndpointTypeResource, EndpointTypeServiceNetwork:
		return VpcEndpointDescription{}, unsupportedOperation("VPC endpoints of type '%s' are not supported yet: privlink creates Interface endpoints", epType)
	default:
		return VpcEndpointDescription{}, Errorf(KindInvalid, "InvalidVpcEndpointType", "The VPC endpoint type '%s' is not valid", epType)
	}
	if epType == EndpointTypeInterface && len(in.RouteTableIDs) > 0 {
		return VpcEndpointDescription{}, vpceInvalidParameter("Route table IDs are only supported for Gateway type VPC Endpoint.")
	}
	switch in.IPAddressType {
	case "", "ipv4":
	case "dualstack", "ipv6":
		return VpcEndpointDescription{}, vpceInvalidParameter("The VPC endpoint service %s does not support the IP address type %s.", in.ServiceName, in.IPAddressType)
	default:
		return VpcEndpointDescription{}, invalidParameterValue("Value (%s) for parameter IpAddressType is invalid. Valid values: ipv4, dualstack, ipv6", in.IPAddressType)
	}
	switch in.DNSRecordIPType {
	case "", "ipv4", "service-defined":
	case "dualstack", "ipv6":
		return VpcEndpointDescription{}, vpceInvalidParameter("DNS record IP type %s requires an IPv6-capable endpoint; privlink endpoints are IPv4 only", in.DNSRecordIPType)
	default:
		return VpcEndpointDescription{}, invalidParameterValue("Value (%s) for parameter DnsRecordIpType is invalid. Valid values: ipv4, dualstack, ipv6, service-defined", in.DNSRecordIPType)
	}
	if in.PrivateDNSOnlyForInboundResolverEndpoint != nil && *in.PrivateDNSOnlyForInboundResolverEndpoint {
		return VpcEndpointDescription{}, vpceInvalidParameter("To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC %s must have a Gateway endpoint for the service.", in.VpcID)
	}
	if in.PolicyDocument != "" {
		var doc map[string]any
		if err := json.Unmarshal([]byte(in.PolicyDocument), &doc); err != nil {
			return VpcEndpointDescription{}, Errorf(KindInvalid, "InvalidPolicyDocument", "The policy document is not valid JSON: %v", err)
		}
	}
	tags, err := ec2TagsByType(in.TagSpecifications, ResourceTypeVpcEndpoint)
	if err != nil {
		return VpcEndpointDescription{}, err
	}
	subnetIDs := distinctInOrder(in.SubnetIDs)
	ips := map[string]netip.Addr{}
	for _, sc := range in.SubnetConfigurations {
		if sc.IPv6 != "" {
			return VpcEndpointDescription{}, vpceInvalidParameter("IPv6 addresses are not supported: privlink endpoints are IPv4 only")
		}
		if sc.SubnetID == "" {
			return VpcEndpointDescription{}, missingParameter("SubnetConfiguration.SubnetId")
		}
		if len(in.SubnetIDs) == 0 && !slices.Contains(subnetIDs, sc.SubnetID) {
			subnetIDs = append(subnetIDs, sc.SubnetID)
		} else if !slices.Contains(subnetIDs, sc.SubnetID) {
			return VpcEndpointDescription{}, vpceInvalidParameter("The subnet configuration for %s does not match any of the subnet IDs", sc.SubnetID)
		}
		if sc.IPv4 != "" {
			ip, err := netip.ParseAddr(sc.IPv4)
			if err != nil || !ip.Is4() {
				return VpcEndpointDescription{}, invalidParameterValue("Value (%s) for parameter Ipv4 is invalid", sc.IPv4)
			}
			ips[sc.SubnetID] = ip
		}
	}

	var out VpcEndpointDescription
	err = c.update(ctx, func(t *txn) error {
		// The indexes find an earlier call with the client token and the
		// VPC's endpoints, for its quota and private DNS names.
		earlier, err := endpointByToken(t, caller.AccountID, in.ClientToken)
		if err != nil {
			return err
		}
		if e := earlier; e != nil {
			if e.VpcID != in.VpcID || e.ServiceName != in.ServiceName || epType != EndpointTypeInterface ||
				!slices.Equal(vpceSorted(e.SubnetIDs), vpceSorted(subnetIDs)) ||
				len(in.SecurityGroupIDs) > 0 && !slices.Equal(vpceSorted(e.SecurityGroupIDs), vpceSorted(distinctInOrder(in.SecurityGroupIDs))) {
				return Errorf(KindInvalid, "IdempotentParameterMismatch", "The client token '%s' has already been used with different parameters", in.ClientToken)
			}
			out, err = c.describeEndpoint(t, e)
			return err
		}
		vpc, err := c.ownedVPC(t, caller, in.VpcID)
		if err != nil {
			return err
		}
		svc, err := c.visibleServiceByName(t, caller, in.ServiceName)
		if err != nil {
			return err
		}
		if epType != svc.ServiceType {
			return vpceInvalidParameter("Endpoint type (%s) does not match available service types ([%s]).", epType, svc.ServiceType)
		}
		subnets, err := c.endpointSubnets(t, caller, vpc.ID, svc, subnetIDs, nil)
		if err != nil {
			return err
		}
		groups := distinctInOrder(in.SecurityGroupIDs)
		if len(groups) == 0 && vpc.DefaultSecurityGroupID != "" {
			groups = []string{vpc.DefaultSecurityGroupID}
		}
		if err := c.checkEndpointGroups(t, caller, vpc.ID, groups); err != nil {
			return err
		}
		inVPC, err := endpointsInVPC(t, vpc.ID)
		if err != nil {
			return err
		}
		live := 0
		for _, e := range inVPC {
			if e.State != EndpointDeleting && e.State != EndpointDeleted {
				live++
			}
		}
		if live >= maxEndpointsPerVPC {
			return Errorf(KindLimit, "VpcEndpointLimitExceeded", "The maximum number of VPC endpoints has been reached.")
		}
		privateDNS := svc.PrivateDNSName != "" && svc.PrivateDNSNameState == DNSNameVerified
		if in.PrivateDNSEnabled != nil {
			privateDNS = *in.PrivateDNSEnabled
		}
		if privateDNS {
			if err := c.checkPrivateDNS(t, vpc, svc, inVPC); err != nil {
				return err
			}
		}

		id := c.ids.id("vpce")
		ep := VpcEndpoint{
			ID:                id,
			OwnerID:           caller.AccountID,
			Type:              EndpointTypeInterface,
			VpcID:             vpc.ID,
			ServiceName:       svc.ServiceName,
			ServiceID:         svc.ID,
			ServiceOwnerID:    svc.OwnerID,
			State:             EndpointPending,
			SubnetIDs:         []string{},
			SecurityGroupIDs:  groups,
			PrivateDNSEnabled: privateDNS,
			PolicyDocument:    in.PolicyDocument,
			IPAddressType:     "ipv4",
			DNSID:             c.ids.fromAlphabet(8, lowerAlnum),
			ConnectionID:      c.ids.id("vpce-con"),
			ClientToken:       in.ClientToken,
			Tags:              tags[ResourceTypeVpcEndpoint],
			CreatedAt:         c.now(),
		}
		if svc.AcceptanceRequired {
			ep.State = EndpointPendingAcceptance
		}
		for _, s := range subnets {
			eni, err := c.allocateENI(t, eniSpec{
				OwnerID:          caller.AccountID,
				Subnet:           s,
				InterfaceType:    InterfaceTypeVpcEndpoint,
				Description:      "VPC Endpoint Interface " + id,
				SecurityGroupIDs: groups,
				RequesterID:      requesterVPCE,
				RequesterManaged: true,
				ResourceID:       id,
				IP:               ips[s.ID],
			})
			if err != nil {
				return err
			}
			ep.SubnetIDs = append(ep.SubnetIDs, s.ID)
			ep.NetworkInterfaceIDs = append(ep.NetworkInterfaceIDs, eni.ID)
		}
		if err := put(t, keyEndpoint(id), ep); err != nil {
			return err
		}
		out, err = c.describeEndpoint(t, &ep)
		return err
	})
	return out, err
}

// endpointSubnets resolves the subnets for new interfaces of an endpoint
// in the VPC: the caller's subnets of that VPC, at most one per zone
// counting the endpoint's other subnets (have), each in a zone the
// service covers.
func (c *Cloud) endpointSubnets(t *txn, caller Caller, vpcID string, svc *EndpointService, ids []string, have []*Subnet) ([]*Subnet, error) {
	svcZones, err := c.serviceZones(t, svc)
	if err != nil {
		return nil, err
	}
	taken := slices.Clone(have)
	out := make([]*Subnet, 0, len(ids))
	for _, id := range ids {
		s, err := c.ownedSubnet(t, caller, id)
		if err != nil {
			return nil, err
		}
		if s.VpcID != vpcID {
			return nil, vpceInvalidParameter("The subnet %s does not belong to VPC %s", s.ID, vpcID)
		}
		for _, prev := range taken {
			if prev.AvailabilityZone == s.AvailabilityZone {
				return nil, Errorf(KindInvalid, "DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone of %s", prev.ID)
			}
		}
		if !slices.Contains(svcZones, s.AvailabilityZone) {
			return nil, vpceInvalidParameter("The VPC endpoint service %s does not support the availability zone of the subnet: %s.", svc.ServiceName, s.ID)
		}
		taken = append(taken, s)
		out = append(out, s)
	}
	return out, nil
}

// checkEndpointGroups checks the security groups of an endpoint's
// interfaces: at most five, each the caller's and in the VPC.
func (c *Cloud) checkEndpointGroups(t *txn, caller Caller, vpcID string, groups []string) error {
	if len(groups) > maxSecurityGroupsPerENI {
		return Errorf(KindLimit, "SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached.")
	}
	for _, id := range groups {
		g, err := c.ownedSecurityGroup(t, caller, id)
		if err != nil {
			return err
		}
		if g.VpcID != vpcID {
			return vpceInvalidParameter("The security group %s does not belong to VPC %s", g.ID, vpcID)
		}
	}
	return nil
}

// DescribeVpcEndpoints returns the caller's endpoints with the given IDs, or
// all of them in creation order.
func (c *Cloud) DescribeVpcEndpoints(ctx context.Context, caller Caller, ids []string) ([]VpcEndpointDescription, error) {
	return c.AppendVpcEndpointDescriptions(ctx, nil, caller, ids)
}

// AppendVpcEndpointDescriptions is DescribeVpcEndpoints that appends the
// descriptions to dst, for callers that reuse its memory.
func (c *Cloud) AppendVpcEndpointDescriptions(ctx context.Context, dst []VpcEndpointDescription, caller Caller, ids []string) ([]VpcEndpointDescription, error) {
	for _, id := range ids {
		if !validID(id, "vpce") {
			return dst, Errorf(KindInvalid, "InvalidVpcEndpointId.Malformed", "Invalid id: %q (expecting \"vpce-...\")", id)
		}
	}
	out := dst
	err := c.view(ctx, func(t *txn) error {
		out = dst
		var eps []*VpcEndpoint
		if len(ids) > 0 {
			var missing []string
			for _, id := range distinctInOrder(ids) {
				e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
				if err != nil {
					return err
				}
				if !ok || e.OwnerID != caller.AccountID {
					missing = append(missing, id)
					continue
				}
				eps = append(eps, e)
			}
			if len(missing) > 0 {
				return Errorf(KindNotFound, "InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id '%s' does not exist", strings.Join(missing, ", "))
			}
		} else {
			var err error
			eps, err = endpointsOwnedBy(t, caller.AccountID)
			if err != nil {
				return err
			}
			slices.SortStableFunc(eps, func(a, b *VpcEndpoint) int { return a.CreatedAt.Compare(b.CreatedAt) })
		}
		out = slices.Grow(out, len(eps))
		for _, e := range eps {
			d, err := c.describeEndpoint(t, e)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// DeleteVpcEndpoints starts deleting the caller's endpoints: they turn
// deleting, and the reconciler removes them and their interfaces once it has
// torn them down (FinishEndpointDeletion). Unknown IDs are UnsuccessfulItems.
func (c *Cloud) DeleteVpcEndpoints(ctx context.Context, caller Caller, ids []string) ([]UnsuccessfulItem, error) {
	if len(ids) == 0 {
		return nil, missingParameter("VpcEndpointId")
	}
	var out []UnsuccessfulItem
	err := c.update(ctx, func(t *txn) error {
		out = nil
		for _, id := range distinctInOrder(ids) {
			if !validID(id, "vpce") {
				out = append(out, UnsuccessfulItem{ResourceID: id, Code: "InvalidVpcEndpointId.Malformed",
					Message: "Invalid id: \"" + id + "\" (expecting \"vpce-...\")"})
				continue
			}
			e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
			if err != nil {
				return err
			}
			if !ok || e.OwnerID != caller.AccountID {
				out = append(out, UnsuccessfulItem{ResourceID: id, Code: "InvalidVpcEndpoint.NotFound",
					Message: "The Vpc Endpoint Id '" + id + "' does not exist"})
				continue
			}
			if e.State == EndpointDeleting {
				continue
			}
			e.State = EndpointDeleting
			if err := put(t, keyEndpoint(id), e); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// AcceptVpcEndpointConnections accepts endpoints that are pending acceptance
// for one of the caller's services: they turn pending, and the reconciler
// makes them available. Accepting an endpoint that is already accepted
// changes nothing.
func (c *Cloud) AcceptVpcEndpointConnections(ctx context.Context, caller Caller, serviceID string, endpointIDs []string) ([]UnsuccessfulItem, error) {
	return c.decideConnections(ctx, caller, serviceID, endpointIDs, func(e *VpcEndpoint) (bool, *UnsuccessfulItem) {
		switch e.State {
		case EndpointPendingAcceptance:
			e.State = EndpointPending
			return true, nil
		case EndpointPending, EndpointAvailable:
			return false, nil
		}
		return false, &UnsuccessfulItem{ResourceID: e.ID, Code: "InvalidState",
			Message: "The VPC endpoint " + e.ID + " is in state " + e.State + " and cannot be accepted"}
	})
}

// RejectVpcEndpointConnections rejects endpoints of one of the caller's
// services that are pending acceptance, pending or available: they turn
// rejected and the reconciler stops their traffic. Rejecting a rejected
// endpoint changes nothing.
func (c *Cloud) RejectVpcEndpointConnections(ctx context.Context, caller Caller, serviceID string, endpointIDs []string) ([]UnsuccessfulItem, error) {
	return c.decideConnections(ctx, caller, serviceID, endpointIDs, func(e *VpcEndpoint) (bool, *UnsuccessfulItem) {
		switch e.State {
		case EndpointPendingAcceptance, EndpointPending, EndpointAvailable:
			e.State = EndpointRejected
			return true, nil
		case EndpointRejected:
			return false, nil
		}
		return false, &UnsuccessfulItem{ResourceID: e.ID, Code: "InvalidState",
			Message: "The VPC endpoint " + e.ID + " is in state " + e.State + " and cannot be rejected"}
	})
}

// decideConnections applies decide to each endpoint of the caller's service
// and stores the endpoints it changed.
func (c *Cloud) decideConnections(ctx context.Context, caller Caller, serviceID string, endpointIDs []string,
	decide func(*VpcEndpoint) (changed bool, failed *UnsuccessfulItem)) ([]UnsuccessfulItem, error) {
	if len(endpointIDs) == 0 {
		return nil, missingParameter("VpcEndpointId")
	}
	var out []UnsuccessfulItem
	err := c.update(ctx, func(t *txn) error {
		out = nil
		svc, err := c.ownedEndpointService(t, caller, serviceID)
		if err != nil {
			return err
		}
		for _, id := range distinctInOrder(endpointIDs) {
			var e *VpcEndpoint
			if validID(id, "vpce") {
				found, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
				if err != nil {
					return err
				}
				if ok && found.ServiceID == svc.ID {
					e = found
				}
			}
			if e == nil {
				out = append(out, UnsuccessfulItem{ResourceID: id, Code: "InvalidVpcEndpoint.NotFound",
					Message: "The Vpc Endpoint Id '" + id + "' does not exist"})
				continue
			}
			changed, failed := decide(e)
			if failed != nil {
				out = append(out, *failed)
				continue
			}
			if changed {
				if err := put(t, keyEndpoint(e.ID), e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// DescribeVpcEndpointConnections lists the endpoints connected to the
// caller's services, in creation order.
func (c *Cloud) DescribeVpcEndpointConnections(ctx context.Context, caller Caller) ([]VpcEndpointConnection, error) {
	var out []VpcEndpointConnection
	err := c.view(ctx, func(t *txn) error {
		out = nil
		// An endpoint's connection ends with its service, so the
		// caller's services name every connection there is.
		svcs, err := listWhere(t, prefixEndpointServices, func(s *EndpointService) bool { return s.OwnerID == caller.AccountID })
		if err != nil {
			return err
		}
		var all []*VpcEndpoint
		byID := make(map[string]*EndpointService, len(svcs))
		for _, s := range svcs {
			eps, err := endpointsOfService(t, s.ID)
			if err != nil {
				return err
			}
			all = append(all, eps...)
			byID[s.ID] = s
		}
		// Ties in creation time keep ID order, as a list of all endpoints
		// would.
		slices.SortStableFunc(all, func(a, b *VpcEndpoint) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
		})
		if len(all) > 0 {
			out = make([]VpcEndpointConnection, 0, len(all))
		}
		for _, e := range all {
			svc := byID[e.ServiceID]
			zones, err := c.endpointZones(t, e)
			if err != nil {
				return err
			}
			out = append(out, VpcEndpointConnection{
				ServiceID:               e.ServiceID,
				VpcEndpointID:           e.ID,
				VpcEndpointOwner:        e.OwnerID,
				VpcEndpointState:        e.State,
				CreationTimestamp:       e.CreatedAt,
				DNSEntries:              endpointDNSEntries(c.cfg.Region, e, zones, ""),
				NetworkLoadBalancerARNs: slices.Clone(svc.NetworkLoadBalancerARNs),
				IPAddressType:           e.IPAddressType,
				VpcEndpointConnectionID: e.ConnectionID,
			})
		}
		return nil
	})
	return out, err
}

// describeEndpoint adds an endpoint's derived facts.
func (c *Cloud) describeEndpoint(t *txn, e *VpcEndpoint) (VpcEndpointDescription, error) {
	groups, err := groupIdentifiers(t, e.SecurityGroupIDs)
	if err != nil {
		return VpcEndpointDescription{}, err
	}
	zones, err := c.endpointZones(t, e)
	if err != nil {
		return VpcEndpointDescription{}, err
	}
	private := ""
	if e.PrivateDNSEnabled {
		svc, ok, err := getRef[EndpointService](t, prefixEndpointServices, e.ServiceID)
		if err != nil {
			return VpcEndpointDescription{}, err
		}
		if ok {
			private = endpointPrivateDNSName(e, svc)
		}
	}
	return VpcEndpointDescription{
		VpcEndpoint: e.clone(),
		Groups:      groups,
		DNSEntries:  endpointDNSEntries(c.cfg.Region, e, zones, private),
	}, nil
}

// endpointZones lists the zones of an endpoint's subnets.
func (c *Cloud) endpointZones(t *txn, e *VpcEndpoint) ([]string, error) {
	var zones []string
	for _, id := range e.SubnetIDs {
		s, ok, err := getRef[Subnet](t, prefixSubnets, id)
		if err != nil {
			return nil, err
		}
		if ok {
			zones = append(zones, s.AvailabilityZone)
		}
	}
	return zones, nil
}
