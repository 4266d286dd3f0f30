package core

import (
	"fmt"
	"net/netip"
	"strings"
)

// eniSpec describes an interface to allocate.
type eniSpec struct {
	OwnerID          string
	Subnet           *Subnet
	InterfaceType    string
	Description      string
	SecurityGroupIDs []string
	RequesterID      string
	RequesterManaged bool
	ResourceID       string // vpce-… or load balancer ID for requester-managed interfaces
	InstanceID       string // set for instance interfaces
	// IP, when valid, asks for that address; otherwise the lowest free one
	// is taken.
	IP netip.Addr
}

// allocateENI creates a network interface with an address from the subnet
// inside t. AWS reserves the first four addresses and the last one of every
// subnet; privlink does the same (the router answers at .1, the resolver at
// the VPC base + 2).
func (c *Cloud) allocateENI(t *txn, spec eniSpec) (*NetworkInterface, error) {
	used, err := c.usedAddresses(t, spec.Subnet.ID)
	if err != nil {
		return nil, err
	}
	ip := spec.IP
	if ip.IsValid() {
		if !usableAddress(spec.Subnet.CIDR, ip) {
			return nil, invalidParameterValue("Address %s does not fall within the subnet's address range", ip)
		}
		if used[ip] {
			return nil, Errorf(KindConflict, "InvalidIPAddress.InUse", "Address %s is in use.", ip)
		}
	} else {
		ip, err = firstFree(spec.Subnet.CIDR, used)
		if err != nil {
			return nil, err
		}
	}
	now := c.now()
	eni := &NetworkInterface{
		ID:               c.ids.id("eni"),
		OwnerID:          spec.OwnerID,
		VpcID:            spec.Subnet.VpcID,
		SubnetID:         spec.Subnet.ID,
		AvailabilityZone: spec.Subnet.AvailabilityZone,
		PrivateIP:        ip,
		MACAddress:       "02:" + strings.Join(splitPairs(c.ids.hex(10)), ":"),
		SecurityGroupIDs: spec.SecurityGroupIDs,
		InterfaceType:    spec.InterfaceType,
		Description:      spec.Description,
		Status:           ENIInUse,
		RequesterID:      spec.RequesterID,
		RequesterManaged: spec.RequesterManaged,
		ResourceID:       spec.ResourceID,
		SourceDestCheck:  true,
		CreatedAt:        now,
	}
	if spec.InstanceID != "" {
		eni.InstanceID = spec.InstanceID
		eni.AttachmentID = c.ids.id("eni-attach")
		eni.AttachTime = now
	}
	if err := put(t, keyENI(eni.ID), eni); err != nil {
		return nil, err
	}
	return eni, nil
}

// usedAddresses returns the addresses taken in the subnet.
func (c *Cloud) usedAddresses(t *txn, subnetID string) (map[netip.Addr]bool, error) {
	prefix := prefixIxSubnetAddrsOf(subnetID)
	kvs, err := listIndex(t, prefix)
	if err != nil {
		return nil, err
	}
	used := make(map[netip.Addr]bool, len(kvs))
	for _, kv := range kvs {
		a := strings.TrimPrefix(kv.Key, prefix)
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("core: index key of subnet %s has address %q: %w", subnetID, a, err)
		}
		used[ip] = true
	}
	return used, nil
}

// usedAddressesIn returns the addresses taken in each of the subnets, by
// subnet ID.
func (c *Cloud) usedAddressesIn(t *txn, subnets []*Subnet) (map[string]map[netip.Addr]bool, error) {
	used := make(map[string]map[netip.Addr]bool, len(subnets))
	for _, s := range subnets {
		u, err := c.usedAddresses(t, s.ID)
		if err != nil {
			return nil, err
		}
		used[s.ID] = u
	}
	return used, nil
}

// availableAddressCount is what DescribeSubnets reports as
// AvailableIpAddressCount.
func (c *Cloud) availableAddressCount(t *txn, s *Subnet) (int32, error) {
	used, err := c.usedAddresses(t, s.ID)
	if err != nil {
		return 0, err
	}
	return availableCount(s, used), nil
}

func availableCount(s *Subnet, used map[netip.Addr]bool) int32 {
	return int32(max(subnetUsableCount(s.CIDR)-len(used), 0))
}

func subnetUsableCount(p netip.Prefix) int {
	size := 1 << (32 - p.Bits())
	return size - 5
}

// usableAddress reports whether ip may be given to an interface in the subnet.
func usableAddress(p netip.Prefix, ip netip.Addr) bool {
	if !p.Contains(ip) {
		return false
	}
	off := addrOffset(p, ip)
	return off >= 4 && off < (1<<(32-p.Bits()))-1
}

func firstFree(p netip.Prefix, used map[netip.Addr]bool) (netip.Addr, error) {
	ip := p.Masked().Addr()
	for range 4 {
		ip = ip.Next()
	}
	for ; p.Contains(ip); ip = ip.Next() {
		if !usableAddress(p, ip) {
			break
		}
		if !used[ip] {
			return ip, nil
		}
	}
	return netip.Addr{}, Errorf(KindLimit, "InsufficientFreeAddressesInSubnet",
		"There are not enough free addresses in subnet to satisfy the requested number of instances.")
}

func addrOffset(p netip.Prefix, ip netip.Addr) int {
	a, b := p.Masked().Addr().As4(), ip.As4()
	return int(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) -
		int(uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3]))
}

// NthAddress returns the address n places after the prefix's base, e.g. the
// subnet gateway (n=1) or the VPC resolver (n=2).
func NthAddress(p netip.Prefix, n int) netip.Addr {
	ip := p.Masked().Addr()
	for range n {
		ip = ip.Next()
	}
	return ip
}

func splitPairs(s string) []string {
	var out []string
	for i := 0; i+2 <= len(s); i += 2 {
		out = append(out, s[i:i+2])
	}
	return out
}
