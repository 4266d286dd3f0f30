package core

import (
	"context"
	"net/netip"
	"slices"
	"strings"
)

// Elastic Load Balancing v2: network load balancers. ELBv2 has error codes
// of its own (ValidationError, InvalidConfigurationRequest,
// LoadBalancerNotFound, …) and never uses EC2's, even for EC2 resources such
// as subnets.

// Load balancer types and schemes (ELBv2's enums).
const (
	LBTypeApplication = "application"
	LBTypeNetwork     = "network"
	LBTypeGateway     = "gateway"

	SchemeInternetFacing = "internet-facing"
	SchemeInternal       = "internal"
)

// requesterELB is the RequesterId AWS reports on load balancer interfaces.
const requesterELB = "amazon-elb"

// SubnetMapping places a load balancer node in a subnet, optionally at a
// chosen private address (internal load balancers only).
type SubnetMapping struct {
	SubnetID           string
	AllocationID       string // Elastic IPs: not supported
	PrivateIPv4Address string
	IPv6Address        string // not supported
}

// CreateLoadBalancerInput is CreateLoadBalancer's request.
type CreateLoadBalancerInput struct {
	Name string
	// Type defaults to "application", as on AWS; only "network" is
	// supported.
	Type string
	// Scheme defaults to "internet-facing". Both schemes are recorded; the
	// lab has no internet, so they behave alike.
	Scheme        string
	IPAddressType string // "" or "ipv4"
	// Subnets or SubnetMappings (not both): one per zone, all in one VPC.
	Subnets               []string
	SubnetMappings        []SubnetMapping
	SecurityGroups        []string // not supported for network load balancers here
	CustomerOwnedIPv4Pool string   // Outposts only: refused
	Tags                  []Tag
}

// DescribeLoadBalancersInput selects load balancers by ARN or by name; with
// neither it lists all of the caller's.
type DescribeLoadBalancersInput struct {
	LoadBalancerARNs []string
	Names            []string
}

// CreateLoadBalancer creates a network load balancer with a node ENI in each
// subnet. It starts in state provisioning; the reconciler marks it active
// (SetLoadBalancerActive). A request that repeats an existing load balancer's
// name and settings returns that load balancer, as AWS does.
func (c *Cloud) CreateLoadBalancer(ctx context.Context, caller Caller, in CreateLoadBalancerInput) (LoadBalancer, error) {
	if err := validateLBName(in.Name); err != nil {
		return LoadBalancer{}, err
	}
	lbType := in.Type
	if lbType == "" {
		lbType = LBTypeApplication
	}
	switch lbType {
	case LBTypeNetwork:
	case LBTypeApplication, LBTypeGateway:
		return LoadBalancer{}, elbConfig("Load balancer type '%s' is not supported: privlink provides only network load balancers (the type defaults to 'application'; specify Type 'network')", lbType)
	default:
		return LoadBalancer{}, elbEnum("type", in.Type, LBTypeApplication, LBTypeNetwork, LBTypeGateway)
	}
	scheme := in.Scheme
	if scheme == "" {
		scheme = SchemeInternetFacing
	}
	if scheme != SchemeInternetFacing && scheme != SchemeInternal {
		return LoadBalancer{}, elbEnum("scheme", in.Scheme, SchemeInternetFacing, SchemeInternal)
	}
	ipType := in.IPAddressType
	switch ipType {
	case "", "ipv4":
		ipType = "ipv4"
	case "dualstack", "dualstack-without-public-ipv4":
		return LoadBalancer{}, elbConfig("IP address type '%s' is not supported: privlink load balancers are IPv4 only", ipType)
	default:
		return LoadBalancer{}, elbEnum("ipAddressType", in.IPAddressType, "ipv4", "dualstack", "dualstack-without-public-ipv4")
	}
	if len(in.SecurityGroups) > 0 {
		return LoadBalancer{}, elbConfig("Security groups are not supported for network load balancers in privlink")
	}
	if in.CustomerOwnedIPv4Pool != "" {
		return LoadBalancer{}, elbConfig("Customer-owned IPv4 pools are supported only for Application Load Balancers on Outposts")
	}
	mappings := in.SubnetMappings
	switch {
	case len(in.Subnets) > 0 && len(in.SubnetMappings) > 0:
		return LoadBalancer{}, elbValidation("You can specify subnets or subnet mappings, but not both")
	case len(in.Subnets) == 0 && len(in.SubnetMappings) == 0:
		return LoadBalancer{}, elbValidation("At least one subnet must be specified")
	case len(in.Subnets) > 0:
		mappings = make([]SubnetMapping, len(in.Subnets))
		for i, s := range in.Subnets {
			mappings[i] = SubnetMapping{SubnetID: s}
		}
	}
	for _, m := range mappings {
		if m.AllocationID != "" {
			return LoadBalancer{}, Errorf(KindNotFound, "AllocationIdNotFound", "The allocation ID '%s' does not exist", m.AllocationID)
		}
		if m.IPv6Address != "" {
			return LoadBalancer{}, elbConfig("IPv6 addresses are not supported: privlink load balancers are IPv4 only")
		}
		if m.PrivateIPv4Address != "" && scheme != SchemeInternal {
			return LoadBalancer{}, elbConfig("Private IPv4 addresses can be specified only for internal load balancers")
		}
	}
	if err := validateELBTags(in.Tags, "load balancer"); err != nil {
		return LoadBalancer{}, err
	}

	var out LoadBalancer
	err := c.update(ctx, func(t *txn) error {
		subnets := make([]*Subnet, len(mappings))
		ips := make([]netip.Addr, len(mappings))
		zones := map[string]string{}
		for i, m := range mappings {
			s, err := c.elbSubnet(t, caller, m.SubnetID)
			if err != nil {
				return err
			}
			if prev, dup := zones[s.AvailabilityZone]; dup {
				if prev == s.ID {
					return elbValidation("Duplicate subnet '%s' specified", s.ID)
				}
				return elbConfig("A load balancer cannot be attached to multiple subnets in the same Availability Zone")
			}
			zones[s.AvailabilityZone] = s.ID
			if i > 0 && s.VpcID != subnets[0].VpcID {
				return elbConfig("Subnets '%s' and '%s' are in different VPCs: all subnets of a load balancer must be in one VPC", subnets[0].ID, s.ID)
			}
			subnets[i] = s
			if m.PrivateIPv4Address != "" {
				ip, err := netip.ParseAddr(m.PrivateIPv4Address)
				if err != nil || !ip.Is4() {
					return elbValidation("The private IPv4 address '%s' is not valid", m.PrivateIPv4Address)
				}
				if !usableAddress(s.CIDR, ip) {
					return elbConfig("The private IPv4 address %s is not within the usable range of subnet %s (%s)", ip, s.ID, s.CIDR)
				}
				used, err := c.usedAddresses(t, s.ID)
				if err != nil {
					return err
				}
				if used[ip] {
					return elbConfig("The private IPv4 address %s is already in use in subnet %s", ip, s.ID)
				}
				ips[i] = ip
			}
		}

		lbs, err := list[LoadBalancer](t, prefixLoadBalancers)
		if err != nil {
			return err
		}
		for _, lb := range lbs {
			if lb.OwnerID != caller.AccountID || lb.Name != in.Name {
				continue
			}
			if sameLBSettings(lb, lbType, scheme, ipType, mappings) {
				out = *lb
				return nil
			}
			return Errorf(KindConflict, "DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", in.Name)
		}

		id := c.ids.hex(16)
		lb := LoadBalancer{
			ID:                    id,
			ARN:                   c.elbARN(caller.AccountID, "loadbalancer/net/"+in.Name+"/"+id),
			Name:                  in.Name,
			OwnerID:               caller.AccountID,
			Type:                  LBTypeNetwork,
			Scheme:                scheme,
			VpcID:                 subnets[0].VpcID,
			IPAddressType:         ipType,
			State:                 LBProvisioning,
			DNSName:               loadBalancerDNSName(in.Name, id, c.cfg.Region),
			CanonicalHostedZoneID: nlbHostedZones[c.cfg.Region],
			Tags:                  slices.Clone(in.Tags),
			CreatedAt:             c.now(),
		}
		for i, s := range subnets {
			eni, err := c.allocateENI(t, eniSpec{
				OwnerID:          caller.AccountID,
				Subnet:           s,
				InterfaceType:    InterfaceTypeLoadBalancer,
				Description:      "ELB net/" + in.Name + "/" + id,
				RequesterID:      requesterELB,
				RequesterManaged: true,
				ResourceID:       id,
				IP:               ips[i],
			})
			if IsKind(err, KindLimit) {
				return Errorf(KindInvalid, "InvalidSubnet", "Not enough IP space available in %s", s.ID)
			}
			if err != nil {
				return err
			}
			lb.Nodes = append(lb.Nodes, LoadBalancerNode{
				SubnetID:           s.ID,
				AvailabilityZone:   s.AvailabilityZone,
				NetworkInterfaceID: eni.ID,
				PrivateIP:          eni.PrivateIP,
			})
		}
		if err := put(t, keyLoadBalancer(id), lb); err != nil {
			return err
		}
		out = lb
		return nil
	})
	return out, err
}

// sameLBSettings reports whether an existing load balancer matches a create
// request, which makes the request a repeat rather than a conflict.
func sameLBSettings(lb *LoadBalancer, lbType, scheme, ipType string, mappings []SubnetMapping) bool {
	if lb.Type != lbType || lb.Scheme != scheme || lb.IPAddressType != ipType || len(lb.Nodes) != len(mappings) {
		return false
	}
	for _, m := range mappings {
		i := slices.IndexFunc(lb.Nodes, func(n LoadBalancerNode) bool { return n.SubnetID == m.SubnetID })
		if i < 0 {
			return false
		}
		if m.PrivateIPv4Address != "" && lb.Nodes[i].PrivateIP.String() != m.PrivateIPv4Address {
			return false
		}
	}
	return true
}

// elbSubnet looks up a subnet of the caller with ELBv2's error.
func (c *Cloud) elbSubnet(t *txn, caller Caller, id string) (*Subnet, error) {
	if validID(id, "subnet") {
		s, ok, err := get[Subnet](t, keySubnet(id))
		if err != nil {
			return nil, err
		}
		if ok && s.OwnerID == caller.AccountID {
			return s, nil
		}
	}
	return nil, Errorf(KindNotFound, "SubnetNotFound", "The subnet ID '%s' is not valid", id)
}

// DescribeLoadBalancers returns the caller's load balancers, selected by ARN
// or name, in request order (all of them, in creation order, when neither is
// given).
func (c *Cloud) DescribeLoadBalancers(ctx context.Context, caller Caller, in DescribeLoadBalancersInput) ([]LoadBalancer, error) {
	if len(in.LoadBalancerARNs) > 0 && len(in.Names) > 0 {
		return nil, elbValidation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	for _, arn := range in.LoadBalancerARNs {
		if _, ok := parseELBARN(arn, "loadbalancer"); !ok {
			return nil, elbValidation("'%s' is not a valid load balancer ARN", arn)
		}
	}
	var out []LoadBalancer
	err := c.view(ctx, func(t *txn) error {
		out = nil
		all, err := c.ownedLoadBalancers(t, caller)
		if err != nil {
			return err
		}
		switch {
		case len(in.LoadBalancerARNs) > 0:
			for _, arn := range distinctInOrder(in.LoadBalancerARNs) {
				i := slices.IndexFunc(all, func(lb *LoadBalancer) bool { return lb.ARN == arn })
				if i < 0 {
					return lbNotFound()
				}
				out = append(out, all[i].clone())
			}
		case len(in.Names) > 0:
			var missing []string
			for _, name := range distinctInOrder(in.Names) {
				i := slices.IndexFunc(all, func(lb *LoadBalancer) bool { return lb.Name == name })
				if i < 0 {
					missing = append(missing, name)
					continue
				}
				out = append(out, all[i].clone())
			}
			if len(missing) > 0 {
				return Errorf(KindNotFound, "LoadBalancerNotFound", "Load balancers '[%s]' not found", strings.Join(missing, ", "))
			}
		default:
			for _, lb := range all {
				out = append(out, lb.clone())
			}
		}
		return nil
	})
	return out, err
}

// DeleteLoadBalancer deletes a load balancer, its listeners and its node
// interfaces. Target groups and their targets stay. As on AWS, deleting a
// load balancer that does not exist succeeds, and a load balancer with
// deletion protection on, or that an endpoint service uses, cannot be
// deleted.
func (c *Cloud) DeleteLoadBalancer(ctx context.Context, caller Caller, arn string) error {
	id, ok := parseELBARN(arn, "loadbalancer")
	if !ok {
		return elbValidation("'%s' is not a valid load balancer ARN", arn)
	}
	return c.update(ctx, func(t *txn) error {
		lb, ok, err := get[LoadBalancer](t, keyLoadBalancer(id))
		if err != nil || !ok || lb.OwnerID != caller.AccountID || lb.ARN != arn {
			return err
		}
		if lb.Attribute(AttrDeletionProtection) == "true" {
			return Errorf(KindConflict, "OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", lb.ARN)
		}
		svcs, err := list[EndpointService](t, prefixEndpointServices)
		if err != nil {
			return err
		}
		for _, s := range svcs {
			if slices.Contains(s.NetworkLoadBalancerARNs, lb.ARN) {
				return Errorf(KindConflict, "ResourceInUse", "Load balancer '%s' cannot be deleted because it is currently associated with another service", lb.ARN)
			}
		}
		listeners, err := list[Listener](t, prefixListeners)
		if err != nil {
			return err
		}
		var tgARNs []string
		for _, l := range listeners {
			if l.LoadBalancerID != lb.ID {
				continue
			}
			tgARNs = append(tgARNs, listenerTargetGroupARNs(l)...)
			if err := del(t, keyListener(l.ID)); err != nil {
				return err
			}
		}
		for _, n := range lb.Nodes {
			if err := del(t, keyENI(n.NetworkInterfaceID)); err != nil {
				return err
			}
		}
		if err := del(t, keyLoadBalancer(lb.ID)); err != nil {
			return err
		}
		return c.forgetUnusedTargetHealth(t, tgARNs)
	})
}

// ownedLoadBalancers lists the caller's load balancers in creation order.
func (c *Cloud) ownedLoadBalancers(t *txn, caller Caller) ([]*LoadBalancer, error) {
	out, err := listWhere(t, prefixLoadBalancers, func(lb *LoadBalancer) bool { return lb.OwnerID == caller.AccountID })
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b *LoadBalancer) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// ownedLoadBalancerByARN finds one of the caller's load balancers.
func (c *Cloud) ownedLoadBalancerByARN(t *txn, caller Caller, arn string) (*LoadBalancer, error) {
	id, ok := parseELBARN(arn, "loadbalancer")
	if !ok {
		return nil, elbValidation("'%s' is not a valid load balancer ARN", arn)
	}
	lb, ok, err := get[LoadBalancer](t, keyLoadBalancer(id))
	if err != nil {
		return nil, err
	}
	if !ok || lb.OwnerID != caller.AccountID || lb.ARN != arn {
		return nil, lbNotFound()
	}
	return lb, nil
}

func lbNotFound() *Error {
	return Errorf(KindNotFound, "LoadBalancerNotFound", "One or more load balancers not found")
}

// elbARN builds an ARN of an ELBv2 resource in the served region.
func (c *Cloud) elbARN(account, resource string) string {
	return "arn:aws:elasticloadbalancing:" + c.cfg.Region + ":" + account + ":" + resource
}

// parseELBARN checks the shape of an ELBv2 ARN of the kind ("loadbalancer",
// "targetgroup" or "listener") and returns the resource's own 16-hex ID. It
// does not check region or account: a well-formed ARN that names nothing the
// caller owns is "not found", not "invalid".
func parseELBARN(arn, kind string) (string, bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] != "aws" || f[2] != "elasticloadbalancing" || f[3] == "" || !digitsOfLen(f[4], 12) {
		return "", false
	}
	p := strings.Split(f[5], "/")
	var id string
	switch {
	case kind == "loadbalancer" && len(p) == 4 && p[0] == kind && lbTypeCode(p[1]) && p[2] != "":
		id = p[3]
	case kind == "targetgroup" && len(p) == 3 && p[0] == kind && p[1] != "":
		id = p[2]
	case kind == "listener" && len(p) == 5 && p[0] == kind && lbTypeCode(p[1]) && p[2] != "" && hexOfLen(p[3], 16):
		id = p[4]
	default:
		return "", false
	}
	if !hexOfLen(id, 16) {
		return "", false
	}
	return id, true
}

func lbTypeCode(s string) bool { return s == "net" || s == "app" || s == "gwy" }

func hexOfLen(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func digitsOfLen(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validateLBName applies CreateLoadBalancer's name rules.
func validateLBName(name string) error {
	if name == "" {
		return elbRequired("name")
	}
	if why := elbNameProblem(name); why != "" {
		return elbValidation("The load balancer name '%s' %s", name, why)
	}
	if strings.HasPrefix(name, "internal-") {
		return elbValidation("The load balancer name '%s' cannot begin with 'internal-'", name)
	}
	return nil
}

// elbNameProblem returns why a load balancer or target group name is
// invalid, or "" if it is valid: 1–32 letters, digits and hyphens, not
// beginning or ending with a hyphen.
func elbNameProblem(name string) string {
	if len(name) > 32 {
		return "cannot be longer than '32' characters"
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "can only contain characters that are alphanumeric characters or hyphens(-)"
		}
	}
	if strings.HasPrefix(name, "-") {
		return "cannot begin with a hyphen(-)"
	}
	if strings.HasSuffix(name, "-") {
		return "cannot end with a hyphen(-)"
	}
	return ""
}

// validateELBTags applies the shared tag rules (checkTags in tags.go) with
// ELBv2's error codes. noun names the resource in the quota message.
func validateELBTags(tags []Tag, noun string) error {
	issue, ok := checkTags(tags)
	if ok {
		return nil
	}
	switch issue.Problem {
	case tagTooMany:
		return Errorf(KindLimit, "TooManyTags", "The quota for the number of tags that can be assigned to a %s has been reached", noun)
	case tagKeyDuplicate:
		return Errorf(KindInvalid, "DuplicateTagKeys", "Tag key was specified more than once: %s", issue.Key)
	case tagKeyEmpty, tagKeyTooLong:
		return elbValidation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and %d", issue.Key, maxTagKeyLength)
	case tagValueTooLong:
		return elbValidation("1 validation error detected: Value at 'tags.member.value' of key '%s' failed to satisfy constraint: Member must have length less than or equal to %d", issue.Key, maxTagValueLength)
	case tagKeyReserved:
		return elbValidation("Tag key '%s' is not valid: keys starting with 'aws:' are reserved for internal use", issue.Key)
	default:
		return elbValidation("Tags must be valid UTF-8")
	}
}

// ELBv2 error constructors.

func elbValidation(format string, args ...any) *Error {
	return Errorf(KindInvalid, "ValidationError", format, args...)
}

func elbConfig(format string, args ...any) *Error {
	return Errorf(KindInvalid, "InvalidConfigurationRequest", format, args...)
}

func elbRequired(field string) *Error {
	return elbValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

func elbEnum(field, value string, allowed ...string) *Error {
	return elbValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", value, field, strings.Join(allowed, ", "))
}

func elbRange(field string, v, lo, hi int32) *Error {
	if v < lo {
		return elbValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", v, field, lo)
	}
	return elbValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", v, field, hi)
}

// distinctInOrder returns ss without repeats, keeping first occurrences in order.
func distinctInOrder(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
