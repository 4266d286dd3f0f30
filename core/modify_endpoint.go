package core

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
)

// ModifyVpcEndpoint changes an interface endpoint while it lives: its
// subnets (an interface appears in each added subnet, and the interface of
// each removed one goes), the security groups of all its interfaces,
// private DNS and its policy. Every change of one request is applied in
// one transaction or none is.

// ModifyVpcEndpointInput is ModifyVpcEndpoint's request. Nil and empty
// fields change nothing.
type ModifyVpcEndpointInput struct {
	VpcEndpointID string

	AddSubnetIDs    []string
	RemoveSubnetIDs []string
	// SubnetConfigurations choose the address of the interface in an
	// added subnet.
	SubnetConfigurations []SubnetConfiguration

	AddSecurityGroupIDs    []string
	RemoveSecurityGroupIDs []string

	PrivateDNSEnabled *bool

	// PolicyDocument replaces the policy; ResetPolicy restores the default
	// (full access). They exclude each other.
	PolicyDocument string
	ResetPolicy    bool

	// Gateway endpoints only: refused.
	AddRouteTableIDs    []string
	RemoveRouteTableIDs []string

	IPAddressType   string // "" or "ipv4"
	DNSRecordIPType string // "", "ipv4" or "service-defined"
	// PrivateDNSOnlyForInboundResolverEndpoint is for S3 only: refused.
	PrivateDNSOnlyForInboundResolverEndpoint *bool
}

// ModifyVpcEndpoint applies the changes to one of the caller's interface
// endpoints, which must be pendingAcceptance, pending or available. Adding
// or removing subnets turns an available endpoint pending until the
// reconciler has realised its interfaces.
func (c *Cloud) ModifyVpcEndpoint(ctx context.Context, caller Caller, in ModifyVpcEndpointInput) error {
	if in.VpcEndpointID == "" {
		return missingParameter("VpcEndpointId")
	}
	if !validID(in.VpcEndpointID, "vpce") {
		return Errorf(KindInvalid, "InvalidVpcEndpointId.Malformed", "Invalid id: %q (expecting \"vpce-...\")", in.VpcEndpointID)
	}
	if err := checkModifyVpcEndpointInput(in); err != nil {
		return err
	}
	addSubnets, removeSubnets := ec2UniqueIDs(in.AddSubnetIDs), ec2UniqueIDs(in.RemoveSubnetIDs)
	addGroups, removeGroups := ec2UniqueIDs(in.AddSecurityGroupIDs), ec2UniqueIDs(in.RemoveSecurityGroupIDs)
	ips := map[string]netip.Addr{}
	for _, sc := range in.SubnetConfigurations {
		if sc.IPv6 != "" {
			return vpceInvalidParameter("IPv6 addresses are not supported: privlink endpoints are IPv4 only")
		}
		if sc.SubnetID == "" {
			return missingParameter("SubnetConfiguration.SubnetId")
		}
		if !slices.Contains(addSubnets, sc.SubnetID) {
			return vpceInvalidParameter("The subnet configuration for %s does not match any of the subnet IDs", sc.SubnetID)
		}
		if sc.IPv4 != "" {
			ip, ok := parseIPv4(sc.IPv4)
			if !ok {
				return invalidParameterValue("Value (%s) for parameter Ipv4 is invalid", sc.IPv4)
			}
			ips[sc.SubnetID] = ip
		}
	}

	return c.update(ctx, func(t *txn) error {
		e, ok, err := get[VpcEndpoint](t, keyEndpoint(in.VpcEndpointID))
		if err != nil {
			return err
		}
		if !ok || e.OwnerID != caller.AccountID {
			return Errorf(KindNotFound, "InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id '%s' does not exist", in.VpcEndpointID)
		}
		switch e.State {
		case EndpointPendingAcceptance, EndpointPending, EndpointAvailable:
		default:
			return Errorf(KindConflict, "IncorrectState", "The VPC endpoint %s is in state %s and cannot be modified.", e.ID, e.State)
		}
		vpc, ok, err := get[VPC](t, keyVPC(e.VpcID))
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(KindConflict, "IncorrectState", "The VPC of endpoint %s no longer exists.", e.ID)
		}
		svc, ok, err := get[EndpointService](t, keyEndpointService(e.ServiceID))
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(KindConflict, "IncorrectState", "The VPC endpoint service %s of endpoint %s no longer exists.", e.ServiceName, e.ID)
		}

		subnetsChanged := len(addSubnets) > 0 || len(removeSubnets) > 0
		if subnetsChanged {
			if err := c.modifyEndpointSubnets(t, caller, e, vpc, svc, addSubnets, removeSubnets, ips); err != nil {
				return err
			}
		}
		groupsChanged := len(addGroups) > 0 || len(removeGroups) > 0
		if groupsChanged {
			groups, err := c.modifiedEndpointGroups(t, caller, e, addGroups, removeGroups)
			if err != nil {
				return err
			}
			e.SecurityGroupIDs = groups
		}
		if subnetsChanged || groupsChanged {
			// Every interface carries the endpoint's groups, the new ones
			// too (they were made with the groups of before).
			for _, id := range e.NetworkInterfaceIDs {
				eni, ok, err := get[NetworkInterface](t, keyENI(id))
				if err != nil {
					return err
				}
				if !ok || slices.Equal(eni.SecurityGroupIDs, e.SecurityGroupIDs) {
					continue
				}
				eni.SecurityGroupIDs = slices.Clone(e.SecurityGroupIDs)
				if err := put(t, keyENI(eni.ID), eni); err != nil {
					return err
				}
			}
		}
		if p := in.PrivateDNSEnabled; p != nil && *p != e.PrivateDNSEnabled {
			if *p {
				inVPC, err := endpointsInVPC(t, e.VpcID)
				if err != nil {
					return err
				}
				inVPC = slices.DeleteFunc(inVPC, func(o *VpcEndpoint) bool { return o.ID == e.ID })
				if err := c.checkPrivateDNS(t, vpc, svc, inVPC); err != nil {
					return err
				}
			}
			e.PrivateDNSEnabled = *p
		}
		switch {
		case in.ResetPolicy:
			e.PolicyDocument = ""
		case in.PolicyDocument != "":
			e.PolicyDocument = in.PolicyDocument
		}
		if subnetsChanged && e.State == EndpointAvailable {
			e.State = EndpointPending
		}
		return put(t, keyEndpoint(e.ID), e)
	})
}

// checkModifyVpcEndpointInput refuses what no endpoint could accept,
// before any lookup.
func checkModifyVpcEndpointInput(in ModifyVpcEndpointInput) error {
	if len(in.AddRouteTableIDs) > 0 || len(in.RemoveRouteTableIDs) > 0 {
		return vpceInvalidParameter("Route table IDs are only supported for Gateway type VPC Endpoint.")
	}
	switch in.IPAddressType {
	case "", "ipv4":
	case "dualstack", "ipv6":
		return vpceInvalidParameter("The VPC endpoint %s does not support the IP address type %s.", in.VpcEndpointID, in.IPAddressType)
	default:
		return invalidParameterValue("Value (%s) for parameter IpAddressType is invalid. Valid values: ipv4, dualstack, ipv6", in.IPAddressType)
	}
	switch in.DNSRecordIPType {
	case "", "ipv4", "service-defined":
	case "dualstack", "ipv6":
		return vpceInvalidParameter("DNS record IP type %s requires an IPv6-capable endpoint; privlink endpoints are IPv4 only", in.DNSRecordIPType)
	default:
		return invalidParameterValue("Value (%s) for parameter DnsRecordIpType is invalid. Valid values: ipv4, dualstack, ipv6, service-defined", in.DNSRecordIPType)
	}
	if p := in.PrivateDNSOnlyForInboundResolverEndpoint; p != nil && *p {
		return vpceInvalidParameter("To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC must have a Gateway endpoint for the service.")
	}
	if in.ResetPolicy && in.PolicyDocument != "" {
		return Errorf(KindInvalid, "InvalidParameterCombination", "The parameter PolicyDocument may not be used in combination with ResetPolicy.")
	}
	if in.PolicyDocument != "" {
		var doc map[string]any
		if err := json.Unmarshal([]byte(in.PolicyDocument), &doc); err != nil {
			return Errorf(KindInvalid, "InvalidPolicyDocument", "The policy document is not valid JSON: %v", err)
		}
	}
	for _, id := range in.AddSubnetIDs {
		if slices.Contains(in.RemoveSubnetIDs, id) {
			return vpceInvalidParameter("The subnet %s cannot be both added to and removed from the VPC endpoint.", id)
		}
	}
	for _, id := range in.AddSecurityGroupIDs {
		if slices.Contains(in.RemoveSecurityGroupIDs, id) {
			return vpceInvalidParameter("The security group %s cannot be both added to and removed from the VPC endpoint.", id)
		}
	}
	return nil
}

// modifyEndpointSubnets removes the interfaces of the removed subnets and
// allocates one in each added subnet, with the endpoint's current groups.
func (c *Cloud) modifyEndpointSubnets(t *txn, caller Caller, e *VpcEndpoint, vpc *VPC, svc *EndpointService,
	add, remove []string, ips map[string]netip.Addr) error {
	for _, id := range remove {
		if !validID(id, "subnet") {
			return Errorf(KindInvalid, "InvalidSubnetID.Malformed", "Invalid id: %q", id)
		}
		if !slices.Contains(e.SubnetIDs, id) {
			return vpceInvalidParameter("The subnet %s is not associated with the VPC endpoint %s.", id, e.ID)
		}
	}
	// The endpoint's interfaces by subnet; removing drops both.
	var keepSubnets, keepENIs []string
	var have []*Subnet
	for _, eniID := range e.NetworkInterfaceIDs {
		eni, ok, err := get[NetworkInterface](t, keyENI(eniID))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if slices.Contains(remove, eni.SubnetID) {
			if err := del(t, keyENI(eni.ID)); err != nil {
				return err
			}
			continue
		}
		keepSubnets, keepENIs = append(keepSubnets, eni.SubnetID), append(keepENIs, eni.ID)
		if s, ok, err := get[Subnet](t, keySubnet(eni.SubnetID)); err != nil {
			return err
		} else if ok {
			have = append(have, s)
		}
	}
	for _, id := range add {
		if slices.Contains(keepSubnets, id) {
			return vpceInvalidParameter("The subnet %s is already associated with the VPC endpoint %s.", id, e.ID)
		}
	}
	added, err := c.endpointSubnets(t, caller, vpc.ID, svc, add, have)
	if err != nil {
		return err
	}
	for _, s := range added {
		eni, err := c.allocateENI(t, eniSpec{
			OwnerID:          e.OwnerID,
			Subnet:           s,
			InterfaceType:    InterfaceTypeVpcEndpoint,
			Description:      "VPC Endpoint Interface " + e.ID,
			SecurityGroupIDs: slices.Clone(e.SecurityGroupIDs),
			RequesterID:      requesterVPCE,
			RequesterManaged: true,
			ResourceID:       e.ID,
			IP:               ips[s.ID],
		})
		if err != nil {
			return err
		}
		keepSubnets, keepENIs = append(keepSubnets, s.ID), append(keepENIs, eni.ID)
	}
	e.SubnetIDs, e.NetworkInterfaceIDs = nonNilStrings(keepSubnets), nonNilStrings(keepENIs)
	return nil
}

// modifiedEndpointGroups returns the endpoint's groups after removing and
// adding: removed groups must be the endpoint's, added ones the caller's in
// the endpoint's VPC, and at least one must remain, as every interface
// needs one. Adding a group the endpoint has changes nothing.
func (c *Cloud) modifiedEndpointGroups(t *txn, caller Caller, e *VpcEndpoint, add, remove []string) ([]string, error) {
	for _, id := range remove {
		if !validID(id, "sg") {
			return nil, ec2Malformed("InvalidGroupId.Malformed", id, "sg")
		}
		if !slices.Contains(e.SecurityGroupIDs, id) {
			return nil, vpceInvalidParameter("The security group %s is not associated with the VPC endpoint %s.", id, e.ID)
		}
	}
	groups := slices.DeleteFunc(slices.Clone(e.SecurityGroupIDs), func(id string) bool { return slices.Contains(remove, id) })
	for _, id := range add {
		if !slices.Contains(groups, id) {
			groups = append(groups, id)
		}
	}
	if len(groups) == 0 {
		return nil, vpceInvalidParameter("The VPC endpoint %s must keep at least one security group.", e.ID)
	}
	if err := c.checkEndpointGroups(t, caller, e.VpcID, groups); err != nil {
		return nil, err
	}
	return groups, nil
}

// nonNilStrings returns s, or an empty slice for nil: endpoints store
// their subnet and interface lists as JSON arrays, never null.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
