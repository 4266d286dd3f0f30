package core

import (
	"context"
	"slices"
	"strings"
)

// DescribeNetworkInterfacesInput is DescribeNetworkInterfaces' request. No
// IDs means every interface the caller can see.
type DescribeNetworkInterfacesInput struct {
	NetworkInterfaceIDs []string
}

// NetworkInterfaceDescription is an interface as DescribeNetworkInterfaces
// reports it, with its groups' names and its private DNS name.
type NetworkInterfaceDescription struct {
	NetworkInterface
	Groups         []GroupIdentifier
	PrivateDNSName string
}

// DescribeNetworkInterfaces returns, in ID order, the interfaces the caller
// owns and those in the caller's VPCs, which include the requester-managed
// interfaces of endpoints and load balancers there.
func (c *Cloud) DescribeNetworkInterfaces(ctx context.Context, caller Caller, in DescribeNetworkInterfacesInput) ([]NetworkInterfaceDescription, error) {
	ids := ec2UniqueIDs(in.NetworkInterfaceIDs)
	if err := ec2CheckIDs(ids, "eni", "InvalidNetworkInterfaceID.Malformed"); err != nil {
		return nil, err
	}
	var out []NetworkInterfaceDescription
	err := c.view(ctx, func(t *txn) error {
		out = nil
		visible := func(e *NetworkInterface) (bool, error) {
			if e.OwnerID == caller.AccountID {
				return true, nil
			}
			vpc, ok, err := get[VPC](t, keyVPC(e.VpcID))
			return ok && vpc.OwnerID == caller.AccountID, err
		}
		var enis []*NetworkInterface
		if len(ids) == 0 {
			// The caller's VPCs, known up front, decide for every
			// interface without a lookup each.
			mine := map[string]bool{}
			if err := forEach(t, prefixVPCs, func(v *VPC) {
				if v.OwnerID == caller.AccountID {
					mine[v.ID] = true
				}
			}); err != nil {
				return err
			}
			var err error
			enis, err = listWhere(t, prefixENIs, func(e *NetworkInterface) bool { return e.OwnerID == caller.AccountID || mine[e.VpcID] })
			if err != nil {
				return err
			}
		} else {
			var missing []string
			for _, id := range ids {
				e, found, err := get[NetworkInterface](t, keyENI(id))
				if err != nil {
					return err
				}
				ok := false
				if found {
					if ok, err = visible(e); err != nil {
						return err
					}
				}
				if !ok {
					missing = append(missing, id)
					continue
				}
				enis = append(enis, e)
			}
			if len(missing) > 0 {
				return ec2NotFound("InvalidNetworkInterfaceID.NotFound", "networkInterface", missing)
			}
		}
		for _, e := range enis {
			groups, err := groupIdentifiers(t, e.SecurityGroupIDs)
			if err != nil {
				return err
			}
			out = append(out, NetworkInterfaceDescription{
				NetworkInterface: e.clone(),
				Groups:           groups,
				PrivateDNSName:   PrivateDNSName(c.cfg.Region, e.PrivateIP),
			})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b NetworkInterfaceDescription) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}
