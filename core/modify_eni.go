package core

import (
	"context"
	"slices"
	"strings"
)

// ModifyNetworkInterfaceAttributeInput is ModifyNetworkInterfaceAttribute's
// request: exactly one attribute, as AWS requires.
type ModifyNetworkInterfaceAttributeInput struct {
	NetworkInterfaceID string
	// Groups replaces the interface's security groups; nil leaves them.
	Groups          []string
	Description     *string
	SourceDestCheck *bool // only true: privlink instances never route for others
	// Other names the attributes the request set that privlink cannot
	// change (attachment, enaSrdSpecification, …): they are refused.
	Other []string
}

// ModifyNetworkInterfaceAttribute changes one attribute of one of the
// caller's interfaces. New security groups of an instance's interface are
// the instance's groups too, and apply to new connections at once.
// Interfaces that AWS manages for a service (endpoints, load balancers)
// are refused, as on AWS.
func (c *Cloud) ModifyNetworkInterfaceAttribute(ctx context.Context, caller Caller, in ModifyNetworkInterfaceAttributeInput) error {
	if in.NetworkInterfaceID == "" {
		return missingParameter("NetworkInterfaceId")
	}
	if !validID(in.NetworkInterfaceID, "eni") {
		return ec2Malformed("InvalidNetworkInterfaceID.Malformed", in.NetworkInterfaceID, "eni")
	}
	var given []string
	if in.Description != nil {
		given = append(given, "description")
	}
	if in.SourceDestCheck != nil {
		given = append(given, "sourceDestCheck")
	}
	if in.Groups != nil {
		given = append(given, "groupSet")
	}
	given = append(given, in.Other...)
	switch {
	case len(given) == 0:
		return Errorf(KindInvalid, "InvalidParameterCombination", "No attributes specified.")
	case len(given) > 1:
		return Errorf(KindInvalid, "InvalidParameterCombination", "Fields for multiple attribute types specified: %s", strings.Join(given, ", "))
	case len(in.Other) > 0:
		return unsupportedOperation("Modifying the attribute %s of a network interface is not supported.", in.Other[0])
	}
	if p := in.SourceDestCheck; p != nil && !*p {
		return unsupportedOperation("Disabling source/destination checks is not supported: privlink instances do not route traffic for others.")
	}
	if d := in.Description; d != nil && len(*d) > maxSecurityGroupTextLen {
		return invalidParameterValue("Value (%s) for parameter description is invalid. Length exceeds maximum of %d.", *d, maxSecurityGroupTextLen)
	}
	groups := ec2UniqueIDs(in.Groups)
	if in.Groups != nil && len(groups) == 0 {
		return missingParameter("SecurityGroupId")
	}
	if len(groups) > maxSecurityGroupsPerENI {
		return Errorf(KindLimit, "SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached.")
	}
	return c.update(ctx, func(t *txn) error {
		eni, ok, err := get[NetworkInterface](t, keyENI(in.NetworkInterfaceID))
		if err != nil {
			return err
		}
		if !ok || eni.OwnerID != caller.AccountID {
			return ec2NotFound("InvalidNetworkInterfaceID.NotFound", "networkInterface", []string{in.NetworkInterfaceID})
		}
		if eni.RequesterManaged {
			// AWS answers this AuthFailure with status 400, not the 401 of
			// a credential failure: the caller is known, the interface is
			// the service's to manage.
			return Errorf(KindConflict, "AuthFailure", "You do not have permission to access the specified resource.")
		}
		switch {
		case in.Description != nil:
			eni.Description = *in.Description
		case in.SourceDestCheck != nil:
			eni.SourceDestCheck = *in.SourceDestCheck
		case in.Groups != nil:
			for _, id := range groups {
				g, err := c.ownedSecurityGroup(t, caller, id)
				if err != nil {
					return err
				}
				if g.VpcID != eni.VpcID {
					return Errorf(KindNotFound, "InvalidGroup.NotFound", "You have specified two resources that belong to different networks.")
				}
			}
			if slices.Equal(groups, eni.SecurityGroupIDs) {
				return nil
			}
			eni.SecurityGroupIDs = groups
			if err := c.setInstanceGroups(t, eni); err != nil {
				return err
			}
		}
		return put(t, keyENI(eni.ID), eni)
	})
}

// setInstanceGroups gives an instance the groups of its primary interface,
// which DescribeInstances reports as the instance's.
func (c *Cloud) setInstanceGroups(t *txn, eni *NetworkInterface) error {
	if eni.InstanceID == "" {
		return nil
	}
	in, ok, err := get[Instance](t, keyInstance(eni.InstanceID))
	if err != nil || !ok || in.NetworkInterfaceID != eni.ID {
		return err
	}
	in.SecurityGroupIDs = slices.Clone(eni.SecurityGroupIDs)
	return put(t, keyInstance(in.ID), in)
}
