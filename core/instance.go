package core

import (
	"context"
	"encoding/base64"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Instance lifecycle. core records what clients ask for; the lab reconciler
// realises it and reports back through status_instance.go:
//
//	RunInstances ──► pending ──SetInstanceRunning──► running
//	                    │                               │
//	                    └──────TerminateInstances───────┘
//	                                   ▼
//	                             shutting-down ──FinishTermination──► terminated
//	                                                                     │ after an hour
//	                                                   PurgeTerminatedInstances ──► (gone)
//
// An instance keeps its interface, and so its address, until it is
// terminated: the lab may still be using the address while it shuts down.

// Instance defaults and limits.
const (
	// DefaultInstanceType is what EC2 launched when a request named no
	// instance type.
	DefaultInstanceType = "m1.small"
	// TerminatedInstanceRetention is how long terminated instances stay
	// visible, as on AWS.
	TerminatedInstanceRetention = time.Hour

	// maxInstancesPerAccount bounds the live instances of one account: each
	// is a network namespace and a process on the lab host.
	maxInstancesPerAccount = 20
	maxUserDataBytes       = 16384
	maxClientTokenLength   = 64
	maxKeyNameLength       = 255

	stateReasonUserShutdown = "Client.UserInitiatedShutdown"
	stateReasonInternal     = "Server.InternalError"
)

// instanceTypePattern is the loose shape of an instance type: family,
// generation and options, a dot, and a size (t3.micro, c6gn.16xlarge,
// u-6tb1.metal). Types are recorded, not enforced.
var instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}\.[a-z0-9-]{1,32}$`)

// Placement is the part of RunInstances' Placement that privlink honours.
type Placement struct {
	AvailabilityZone string // must be the subnet's zone when given
	Tenancy          string // default or dedicated; recorded nowhere
}

// LaunchTemplateSpecification names a launch template. privlink has none,
// so a request with one is refused.
type LaunchTemplateSpecification struct {
	LaunchTemplateID   string
	LaunchTemplateName string
	Version            string
}

// InstanceNetworkInterfaceSpecification is one entry of RunInstances'
// NetworkInterfaces: another way to give the subnet, groups and address of
// the instance's one interface. Options for extra interfaces and addresses
// are refused.
type InstanceNetworkInterfaceSpecification struct {
	DeviceIndex      *int32
	SubnetID         string
	Groups           []string
	PrivateIPAddress string
	Description      string

	NetworkInterfaceID             string
	AssociatePublicIPAddress       *bool
	DeleteOnTermination            *bool
	SecondaryPrivateIPAddressCount *int32
	PrivateIPAddresses             []string
	Ipv6AddressCount               *int32
	Ipv6Addresses                  []string
	InterfaceType                  string
	NetworkCardIndex               *int32
}

// RunInstancesInput is RunInstances' request. SubnetID (or a network
// interface's) is required: privlink accounts have no default VPC.
type RunInstancesInput struct {
	ImageID          string // ami- and 8 or 17 hex digits; recorded, not enforced
	InstanceType     string // DefaultInstanceType when empty; recorded
	MinCount         *int32
	MaxCount         *int32
	SubnetID         string
	SecurityGroupIDs []string // the VPC's default group when empty
	SecurityGroups   []string // names: default VPC only, refused
	PrivateIPAddress string
	UserData         string // base64, at most 16 KB decoded
	KeyName          string // recorded
	ClientToken      string // idempotency, per account
	Placement        *Placement

	NetworkInterfaces     []InstanceNetworkInterfaceSpecification
	Ipv6AddressCount      *int32
	Ipv6Addresses         []string
	LaunchTemplate        *LaunchTemplateSpecification
	DisableAPITermination bool

	TagSpecifications []TagSpecification // "instance" and "network-interface"
}

// DescribeInstancesInput is DescribeInstances' request. No IDs means every
// instance of the caller, terminated ones included until they are purged.
type DescribeInstancesInput struct {
	InstanceIDs []string
}

// TerminateInstancesInput is TerminateInstances' request.
type TerminateInstancesInput struct {
	InstanceIDs []string
}

// Reservation is the set of instances one RunInstances call launched, as
// RunInstances and DescribeInstances report them.
type Reservation struct {
	ID        string // r-…
	OwnerID   string
	Instances []InstanceDescription // in launch index order
}

// InstanceDescription is an instance with what DescribeInstances reports
// beside it: its interface (nil once terminated), the names of its groups
// and its private DNS name.
type InstanceDescription struct {
	Instance
	NetworkInterface *NetworkInterface
	SecurityGroups   []GroupIdentifier
	PrivateDNSName   string
}

// InstanceStateChange is one entry of TerminateInstances' answer. Map
// states to codes with InstanceStateCode.
type InstanceStateChange struct {
	InstanceID    string
	PreviousState string
	CurrentState  string
}

// launchPlan is a validated RunInstances request.
type launchPlan struct {
	subnetID     string
	groupIDs     []string
	ip           netip.Addr
	eniDesc      string
	instanceType string
	userData     []byte
	min, max     int32
	tags         map[string][]Tag
}

// RunInstances launches between MinCount and MaxCount instances into a
// subnet: as many as MaxCount if the subnet's free addresses and the
// account's instance limit allow, and none if they do not allow MinCount.
// Each instance gets one interface. A repeated ClientToken returns the
// first call's reservation.
func (c *Cloud) RunInstances(ctx context.Context, caller Caller, in RunInstancesInput) (Reservation, error) {
	plan, err := planLaunch(in)
	if err != nil {
		return Reservation{}, err
	}
	var out Reservation
	err = c.update(ctx, func(t *txn) error {
		if in.ClientToken != "" {
			prior, err := instancesWithToken(t, caller, in.ClientToken)
			if err != nil {
				return err
			}
			if len(prior) > 0 {
				p := prior[0]
				if p.ImageID != in.ImageID || p.InstanceType != plan.instanceType || p.SubnetID != plan.subnetID || p.KeyName != in.KeyName {
					return Errorf(KindConflict, "IdempotentParameterMismatch",
						"Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
				}
				res, err := c.reservations(t, prior)
				if err != nil || len(res) == 0 {
					return err
				}
				out = res[0]
				return nil
			}
		}
		subnet, err := c.ownedSubnet(t, caller, plan.subnetID)
		if err != nil {
			return err
		}
		if in.Placement != nil && in.Placement.AvailabilityZone != "" && in.Placement.AvailabilityZone != subnet.AvailabilityZone {
			return invalidParameterValue("Value (%s) for parameter availabilityZone is invalid. Subnet '%s' is in the availability zone %s.",
				in.Placement.AvailabilityZone, subnet.ID, subnet.AvailabilityZone)
		}
		groups, err := c.launchGroups(t, caller, subnet, plan.groupIDs)
		if err != nil {
			return err
		}
		n, err := c.launchCount(t, caller, subnet, plan)
		if err != nil {
			return err
		}
		now := c.now()
		out = Reservation{ID: c.ids.id("r"), OwnerID: caller.AccountID}
		for i := range n {
			inst := Instance{
				ID:               c.ids.id("i"),
				OwnerID:          caller.AccountID,
				ReservationID:    out.ID,
				AmiLaunchIndex:   i,
				VpcID:            subnet.VpcID,
				SubnetID:         subnet.ID,
				AvailabilityZone: subnet.AvailabilityZone,
				ImageID:          in.ImageID,
				InstanceType:     plan.instanceType,
				KeyName:          in.KeyName,
				SecurityGroupIDs: groups,
				UserData:         plan.userData,
				ClientToken:      in.ClientToken,
				State:            InstancePending,
				LaunchTime:       now,
				Tags:             plan.tags[ResourceTypeInstance],
			}
			spec := eniSpec{
				OwnerID:          caller.AccountID,
				Subnet:           subnet,
				InterfaceType:    InterfaceTypeInstance,
				Description:      plan.eniDesc,
				SecurityGroupIDs: groups,
				InstanceID:       inst.ID,
			}
			if i == 0 {
				spec.IP = plan.ip
			}
			eni, err := c.allocateENI(t, spec)
			if err != nil {
				return err
			}
			if tags := plan.tags[ResourceTypeNetworkInterface]; len(tags) > 0 {
				eni.Tags = tags
				if err := put(t, keyENI(eni.ID), eni); err != nil {
					return err
				}
			}
			inst.PrivateIP, inst.NetworkInterfaceID = eni.PrivateIP, eni.ID
			if err := put(t, keyInstance(inst.ID), inst); err != nil {
				return err
			}
			d, err := c.describeInstance(t, &inst)
			if err != nil {
				return err
			}
			out.Instances = append(out.Instances, d)
		}
		return nil
	})
	return out, err
}

// planLaunch validates everything about a RunInstances request that does
// not depend on stored state.
func planLaunch(in RunInstancesInput) (launchPlan, error) {
	var p launchPlan
	if in.LaunchTemplate != nil {
		return p, unsupportedOperation("Launch templates are not supported.")
	}
	if in.ImageID == "" {
		return p, missingParameter("ImageId")
	}
	if !validID(in.ImageID, "ami") {
		return p, ec2Malformed("InvalidAMIID.Malformed", in.ImageID, "ami")
	}
	if in.MinCount == nil {
		return p, missingParameter("MinCount")
	}
	if in.MaxCount == nil {
		return p, missingParameter("MaxCount")
	}
	p.min, p.max = *in.MinCount, *in.MaxCount
	switch {
	case p.min < 1:
		return p, invalidParameterValue("Minimum instance count must be greater than zero")
	case p.max < 1:
		return p, invalidParameterValue("Maximum instance count must be greater than zero")
	case p.min > p.max:
		return p, invalidParameterValue("Minimum instance count must not be greater than maximum instance count")
	}
	p.instanceType = in.InstanceType
	if p.instanceType == "" {
		p.instanceType = DefaultInstanceType
	}
	if !instanceTypePattern.MatchString(p.instanceType) {
		return p, invalidParameterValue("Invalid value '%s' for InstanceType.", p.instanceType)
	}
	var err error
	if p.userData, err = decodeUserData(in.UserData); err != nil {
		return p, err
	}
	if len(in.ClientToken) > maxClientTokenLength || !isASCII(in.ClientToken) {
		return p, invalidParameterValue("Value (%s) for parameter clientToken is invalid. A client token is at most %d ASCII characters.", in.ClientToken, maxClientTokenLength)
	}
	if len(in.KeyName) > maxKeyNameLength {
		return p, invalidParameterValue("Value (%s) for parameter keyName is invalid. Length exceeds maximum of %d.", in.KeyName, maxKeyNameLength)
	}
	if in.Ipv6AddressCount != nil && *in.Ipv6AddressCount > 0 || len(in.Ipv6Addresses) > 0 {
		return p, unsupportedOperation("IPv6 addresses are not supported.")
	}
	if in.DisableAPITermination {
		return p, unsupportedOperation("Termination protection is not supported.")
	}
	if pl := in.Placement; pl != nil {
		switch pl.Tenancy {
		case "", TenancyDefault, TenancyDedicated:
		case TenancyHost:
			return p, unsupportedOperation("Dedicated hosts are not supported.")
		default:
			return p, invalidParameterValue("Value (%s) for parameter tenancy is invalid. Valid values: default, dedicated, host", pl.Tenancy)
		}
	}
	ipText := in.PrivateIPAddress
	p.subnetID, p.groupIDs = in.SubnetID, in.SecurityGroupIDs
	if len(in.NetworkInterfaces) > 0 {
		if err := checkLaunchInterface(in); err != nil {
			return p, err
		}
		ni := in.NetworkInterfaces[0]
		p.subnetID, p.groupIDs, ipText, p.eniDesc = ni.SubnetID, ni.Groups, ni.PrivateIPAddress, ni.Description
	}
	if p.subnetID == "" {
		return p, Errorf(KindInvalid, "VPCIdNotSpecified", noDefaultVPCMessage)
	}
	if len(in.SecurityGroups) > 0 {
		return p, Errorf(KindInvalid, "InvalidParameterCombination", "The parameter groupName cannot be used with the parameter subnet")
	}
	p.groupIDs = ec2UniqueIDs(p.groupIDs)
	if err := ec2CheckIDs(p.groupIDs, "sg", "InvalidGroupId.Malformed"); err != nil {
		return p, err
	}
	if len(p.groupIDs) > maxSecurityGroupsPerENI {
		return p, Errorf(KindLimit, "SecurityGroupsPerInterfaceLimitExceeded",
			"The maximum number of security groups that can be associated with a network interface has been reached.")
	}
	if ipText != "" {
		ip, ok := parseIPv4(ipText)
		if !ok {
			return p, invalidParameterValue("Value (%s) for parameter privateIpAddress is invalid. This is not a valid IPv4 address.", ipText)
		}
		if p.max > 1 {
			return p, Errorf(KindInvalid, "InvalidParameterCombination", "A private IP address can only be specified when launching a single instance.")
		}
		p.ip = ip
	}
	p.tags, err = ec2TagsByType(in.TagSpecifications, ResourceTypeInstance, ResourceTypeNetworkInterface)
	return p, err
}

// checkLaunchInterface accepts one primary interface whose options privlink
// can honour, given in place of the instance-level parameters.
func checkLaunchInterface(in RunInstancesInput) error {
	if in.SubnetID != "" {
		return Errorf(KindInvalid, "InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request")
	}
	if len(in.SecurityGroupIDs) > 0 || len(in.SecurityGroups) > 0 {
		return Errorf(KindInvalid, "InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request")
	}
	if in.PrivateIPAddress != "" {
		return Errorf(KindInvalid, "InvalidParameterCombination", "Network interfaces and an instance-level private IP address should not be specified on the same request")
	}
	if len(in.NetworkInterfaces) > 1 {
		return unsupportedOperation("Only one network interface per instance is supported.")
	}
	ni := in.NetworkInterfaces[0]
	switch {
	case ni.DeviceIndex == nil:
		return invalidParameterValue("Each network interface requires a device index.")
	case *ni.DeviceIndex != 0:
		return invalidParameterValue("Each instance must have a network interface at device index 0.")
	case ni.NetworkCardIndex != nil && *ni.NetworkCardIndex != 0:
		return unsupportedOperation("Only network card index 0 is supported.")
	case ni.NetworkInterfaceID != "":
		return unsupportedOperation("Attaching an existing network interface at launch is not supported.")
	case ni.AssociatePublicIPAddress != nil && *ni.AssociatePublicIPAddress:
		return unsupportedOperation("Public IPv4 addresses are not supported.")
	case ni.DeleteOnTermination != nil && !*ni.DeleteOnTermination:
		return unsupportedOperation("Network interfaces that outlive their instance are not supported.")
	case ni.SecondaryPrivateIPAddressCount != nil && *ni.SecondaryPrivateIPAddressCount > 0 || len(ni.PrivateIPAddresses) > 0:
		return unsupportedOperation("Secondary private IP addresses are not supported.")
	case ni.Ipv6AddressCount != nil && *ni.Ipv6AddressCount > 0 || len(ni.Ipv6Addresses) > 0:
		return unsupportedOperation("IPv6 addresses are not supported.")
	case ni.InterfaceType != "" && ni.InterfaceType != InterfaceTypeInstance:
		return unsupportedOperation("Interface type %s is not supported.", ni.InterfaceType)
	}
	if len(ni.Description) > maxSecurityGroupTextLen {
		return invalidParameterValue("Value for parameter description is invalid. Length exceeds maximum of %d.", maxSecurityGroupTextLen)
	}
	return nil
}

// decodeUserData decodes base64 user data, padded or not, and applies
// EC2's 16 KB limit to the decoded bytes.
func decodeUserData(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, invalidParameterValue("Invalid BASE64 encoding of user data")
	}
	if len(b) > maxUserDataBytes {
		return nil, invalidParameterValue("User data is limited to %d bytes", maxUserDataBytes)
	}
	return b, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7f {
			return false
		}
	}
	return true
}

// launchGroups resolves the groups of a launch: the named ones, which must
// be the caller's and in the subnet's VPC, or else the VPC's default group.
func (c *Cloud) launchGroups(t *txn, caller Caller, subnet *Subnet, ids []string) ([]string, error) {
	if len(ids) == 0 {
		vpc, ok, err := get[VPC](t, keyVPC(subnet.VpcID))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, Errorf(KindInternal, "InternalError", "subnet %s has no VPC %s", subnet.ID, subnet.VpcID)
		}
		return []string{vpc.DefaultSecurityGroupID}, nil
	}
	for _, id := range ids {
		g, err := c.ownedSecurityGroup(t, caller, id)
		if err != nil {
			return nil, err
		}
		if g.VpcID != subnet.VpcID {
			return nil, Errorf(KindInvalid, "InvalidParameter", "Security group %s and subnet %s belong to different networks.", g.ID, subnet.ID)
		}
	}
	return slices.Clone(ids), nil
}

// launchCount decides how many instances a launch gets: MaxCount, or fewer
// if the subnet's free addresses or the account's instance limit run out
// first, but never fewer than MinCount.
func (c *Cloud) launchCount(t *txn, caller Caller, subnet *Subnet, plan launchPlan) (int32, error) {
	instances, err := list[Instance](t, prefixInstances)
	if err != nil {
		return 0, err
	}
	live := int32(0)
	for _, in := range instances {
		if in.OwnerID == caller.AccountID && in.State != InstanceTerminated {
			live++
		}
	}
	free, err := c.availableAddressCount(t, subnet)
	if err != nil {
		return 0, err
	}
	allowed := maxInstancesPerAccount - live
	if allowed < plan.min {
		return 0, Errorf(KindLimit, "InstanceLimitExceeded",
			"You have requested more instances (%d) than your current instance limit of %d allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
			plan.min, maxInstancesPerAccount)
	}
	if free < plan.min {
		return 0, Errorf(KindLimit, "InsufficientFreeAddressesInSubnet",
			"There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", subnet.ID)
	}
	return min(plan.max, allowed, free), nil
}

func instancesWithToken(t *txn, caller Caller, token string) ([]*Instance, error) {
	all, err := list[Instance](t, prefixInstances)
	if err != nil {
		return nil, err
	}
	var out []*Instance
	for _, in := range all {
		if in.OwnerID == caller.AccountID && in.ClientToken == token {
			out = append(out, in)
		}
	}
	return out, nil
}

// DescribeInstances returns the caller's instances grouped by reservation,
// in launch order.
func (c *Cloud) DescribeInstances(ctx context.Context, caller Caller, in DescribeInstancesInput) ([]Reservation, error) {
	ids := ec2UniqueIDs(in.InstanceIDs)
	if err := ec2CheckIDs(ids, "i", "InvalidInstanceID.Malformed"); err != nil {
		return nil, err
	}
	var out []Reservation
	err := c.view(ctx, func(t *txn) error {
		instances, err := c.callerInstances(t, caller, ids)
		if err != nil {
			return err
		}
		out, err = c.reservations(t, instances)
		return err
	})
	return out, err
}

// callerInstances returns the named instances of the caller (all of them
// when ids is empty), failing with every ID that is not one.
func (c *Cloud) callerInstances(t *txn, caller Caller, ids []string) ([]*Instance, error) {
	if len(ids) == 0 {
		return listWhere(t, prefixInstances, func(in *Instance) bool { return in.OwnerID == caller.AccountID })
	}
	var out []*Instance
	var missing []string
	for _, id := range ids {
		in, ok, err := get[Instance](t, keyInstance(id))
		if err != nil {
			return nil, err
		}
		if !ok || in.OwnerID != caller.AccountID {
			missing = append(missing, id)
			continue
		}
		out = append(out, in)
	}
	if len(missing) > 0 {
		return nil, ec2NotFound("InvalidInstanceID.NotFound", "instance", missing)
	}
	return out, nil
}

// reservations groups instances by reservation: reservations in launch
// order, instances by launch index.
func (c *Cloud) reservations(t *txn, instances []*Instance) ([]Reservation, error) {
	slices.SortFunc(instances, func(a, b *Instance) int {
		if d := a.LaunchTime.Compare(b.LaunchTime); d != 0 {
			return d
		}
		if d := strings.Compare(a.ReservationID, b.ReservationID); d != 0 {
			return d
		}
		return int(a.AmiLaunchIndex - b.AmiLaunchIndex)
	})
	var out []Reservation
	for _, in := range instances {
		if len(out) == 0 || out[len(out)-1].ID != in.ReservationID {
			out = append(out, Reservation{ID: in.ReservationID, OwnerID: in.OwnerID})
		}
		d, err := c.describeInstance(t, in)
		if err != nil {
			return nil, err
		}
		r := &out[len(out)-1]
		r.Instances = append(r.Instances, d)
	}
	return out, nil
}

func (c *Cloud) describeInstance(t *txn, in *Instance) (InstanceDescription, error) {
	d := InstanceDescription{Instance: in.clone(), PrivateDNSName: PrivateDNSName(c.cfg.Region, in.PrivateIP)}
	if in.NetworkInterfaceID != "" {
		eni, ok, err := get[NetworkInterface](t, keyENI(in.NetworkInterfaceID))
		if err != nil {
			return d, err
		}
		if ok {
			e := eni.clone()
			d.NetworkInterface = &e
		}
	}
	groups, err := groupIdentifiers(t, in.SecurityGroupIDs)
	if err != nil {
		return d, err
	}
	d.SecurityGroups = groups
	return d, nil
}

// PrivateDNSName is the name EC2 gives a private address:
// ip-10-0-1-4.ec2.internal in us-east-1, ip-10-0-1-4.<region>.compute.internal
// elsewhere. It is empty for no address.
func PrivateDNSName(region string, ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	host := "ip-" + strings.ReplaceAll(ip.String(), ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// TerminateInstances starts shutting the instances down. It succeeds for
// instances already shutting down or terminated, and changes nothing if
// any ID is wrong.
func (c *Cloud) TerminateInstances(ctx context.Context, caller Caller, in TerminateInstancesInput) ([]InstanceStateChange, error) {
	ids := ec2UniqueIDs(in.InstanceIDs)
	if len(ids) == 0 {
		return nil, missingParameter("InstanceId")
	}
	if err := ec2CheckIDs(ids, "i", "InvalidInstanceID.Malformed"); err != nil {
		return nil, err
	}
	var out []InstanceStateChange
	err := c.update(ctx, func(t *txn) error {
		out = nil
		instances, err := c.callerInstances(t, caller, ids)
		if err != nil {
			return err
		}
		for _, inst := range instances {
			change := InstanceStateChange{InstanceID: inst.ID, PreviousState: inst.State, CurrentState: inst.State}
			if inst.State == InstancePending || inst.State == InstanceRunning {
				inst.State = InstanceShuttingDown
				inst.StateReasonCode = stateReasonUserShutdown
				inst.StateReason = stateReasonUserShutdown + ": User initiated shutdown"
				if err := put(t, keyInstance(inst.ID), inst); err != nil {
					return err
				}
				change.CurrentState = inst.State
			}
			out = append(out, change)
		}
		return nil
	})
	return out, err
}
