package core

import (
	"context"
	"strings"
)

// A VPC's DNS attributes. enableDnsSupport turns the VPC's resolver on;
// enableDnsHostnames lets it answer the names of instances, endpoints'
// private DNS names and private hosted zones. Non-default VPCs start with
// support on and hostnames off, as on AWS.

// VPC attribute names, as ModifyVpcAttribute and DescribeVpcAttribute
// spell them.
const (
	VpcAttributeDNSSupport        = "enableDnsSupport"
	VpcAttributeDNSHostnames      = "enableDnsHostnames"
	VpcAttributeAddressUseMetrics = "enableNetworkAddressUsageMetrics"
)

// ModifyVpcAttributeInput is ModifyVpcAttribute's request: exactly one
// attribute, as AWS requires.
type ModifyVpcAttributeInput struct {
	VpcID                            string
	EnableDNSSupport                 *bool
	EnableDNSHostnames               *bool
	EnableNetworkAddressUsageMetrics *bool // only false: privlink keeps no such metrics
}

// VpcAttribute is one attribute of a VPC, as DescribeVpcAttribute reports
// it.
type VpcAttribute struct {
	VpcID string
	Name  string // one of the VpcAttribute… names
	Value bool
}

// ModifyVpcAttribute changes one DNS attribute of one of the caller's VPCs.
// DNS hostnames can be enabled only while DNS support is; neither can be
// turned off while an endpoint in the VPC has private DNS enabled, which
// needs both.
func (c *Cloud) ModifyVpcAttribute(ctx context.Context, caller Caller, in ModifyVpcAttributeInput) error {
	var given []string
	if in.EnableDNSSupport != nil {
		given = append(given, VpcAttributeDNSSupport)
	}
	if in.EnableDNSHostnames != nil {
		given = append(given, VpcAttributeDNSHostnames)
	}
	if in.EnableNetworkAddressUsageMetrics != nil {
		given = append(given, VpcAttributeAddressUseMetrics)
	}
	switch {
	case len(given) == 0:
		return Errorf(KindInvalid, "InvalidParameterCombination", "No attributes specified.")
	case len(given) > 1:
		return Errorf(KindInvalid, "InvalidParameterCombination", "Fields for multiple attribute types specified: %s", strings.Join(given, ", "))
	}
	if p := in.EnableNetworkAddressUsageMetrics; p != nil && *p {
		return unsupportedOperation("Network Address Usage metrics are not supported.")
	}
	return c.update(ctx, func(t *txn) error {
		vpc, err := c.ownedVPC(t, caller, in.VpcID)
		if err != nil {
			return err
		}
		switch {
		case in.EnableDNSSupport != nil:
			if *in.EnableDNSSupport == vpc.EnableDNSSupport {
				return nil
			}
			if !*in.EnableDNSSupport {
				if err := noPrivateDNSEndpoints(t, vpc, VpcAttributeDNSSupport); err != nil {
					return err
				}
			}
			vpc.EnableDNSSupport = *in.EnableDNSSupport
		case in.EnableDNSHostnames != nil:
			if *in.EnableDNSHostnames == vpc.EnableDNSHostnames {
				return nil
			}
			if *in.EnableDNSHostnames && !vpc.EnableDNSSupport {
				return invalidParameterValue("DNS hostnames can only be enabled for %s while DNS support (enableDnsSupport) is enabled.", vpc.ID)
			}
			if !*in.EnableDNSHostnames {
				if err := noPrivateDNSEndpoints(t, vpc, VpcAttributeDNSHostnames); err != nil {
					return err
				}
			}
			vpc.EnableDNSHostnames = *in.EnableDNSHostnames
		default:
			return nil // Network Address Usage metrics, already off
		}
		return put(t, keyVPC(vpc.ID), vpc)
	})
}

// noPrivateDNSEndpoints refuses to turn a DNS attribute off while an
// endpoint in the VPC relies on it for its private DNS name.
func noPrivateDNSEndpoints(t *txn, vpc *VPC, attr string) error {
	inVPC, err := endpointsInVPC(t, vpc.ID)
	if err != nil {
		return err
	}
	var ids []string
	for _, e := range inVPC {
		if e.PrivateDNSEnabled && e.State != EndpointDeleting && e.State != EndpointDeleted {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return Errorf(KindConflict, "OperationNotPermitted",
		"Cannot disable %s for %s: VPC endpoint(s) %s have private DNS enabled, which requires enableDnsSupport and enableDnsHostnames.",
		attr, vpc.ID, strings.Join(ids, ", "))
}

// DescribeVpcAttribute returns one attribute of one of the caller's VPCs.
func (c *Cloud) DescribeVpcAttribute(ctx context.Context, caller Caller, vpcID, attribute string) (VpcAttribute, error) {
	switch attribute {
	case "":
		return VpcAttribute{}, missingParameter("Attribute")
	case VpcAttributeDNSSupport, VpcAttributeDNSHostnames, VpcAttributeAddressUseMetrics:
	default:
		return VpcAttribute{}, invalidParameterValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", attribute)
	}
	out := VpcAttribute{VpcID: vpcID, Name: attribute}
	err := c.view(ctx, func(t *txn) error {
		vpc, err := c.ownedVPC(t, caller, vpcID)
		if err != nil {
			return err
		}
		switch attribute {
		case VpcAttributeDNSSupport:
			out.Value = vpc.EnableDNSSupport
		case VpcAttributeDNSHostnames:
			out.Value = vpc.EnableDNSHostnames
		}
		return nil
	})
	return out, err
}
