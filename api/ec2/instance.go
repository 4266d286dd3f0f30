package ec2

import (
	"context"
	"time"

	"github.com/privlink/privlink/core"
)

// Instances and network interfaces. privlink's instances are what EC2
// shows for an EBS-backed x86_64 HVM Linux instance with no public address;
// the facts that such an instance always has (architecture, root device,
// platform, metadata options…) are written as EC2 writes them, and nothing
// core does not know (volumes, public addresses) is made up.

// Constant facts of privlink instances.
const (
	instanceArchitecture   = "x86_64"
	instanceHypervisor     = "xen"
	instanceRootDeviceName = "/dev/xvda"
	instanceRootDeviceType = "ebs"
	instanceVirtualization = "hvm"
	instancePlatform       = "Linux/UNIX"
	instanceUsageOperation = "RunInstances"
	userShutdownReasonCode = "Client.UserInitiatedShutdown"
)

func (h *Handler) runInstances(ctx context.Context, caller core.Caller, in *RunInstancesRequest) (any, error) {
	if err := unsupportedLaunchOptions(in); err != nil {
		return nil, err
	}
	req := core.RunInstancesInput{
		ImageID:               deref(in.ImageId),
		InstanceType:          deref(in.InstanceType),
		MinCount:              in.MinCount,
		MaxCount:              in.MaxCount,
		SubnetID:              deref(in.SubnetId),
		SecurityGroupIDs:      in.SecurityGroupIds,
		SecurityGroups:        in.SecurityGroups,
		PrivateIPAddress:      deref(in.PrivateIpAddress),
		UserData:              deref(in.UserData),
		KeyName:               deref(in.KeyName),
		ClientToken:           deref(in.ClientToken),
		Ipv6AddressCount:      in.Ipv6AddressCount,
		Ipv6Addresses:         ipv6Addresses(in.Ipv6Addresses),
		DisableAPITermination: deref(in.DisableApiTermination),
		TagSpecifications:     tagSpecifications(in.TagSpecifications),
	}
	if p := in.Placement; p != nil {
		req.Placement = &core.Placement{AvailabilityZone: deref(p.AvailabilityZone), Tenancy: deref(p.Tenancy)}
	}
	if lt := in.LaunchTemplate; lt != nil {
		req.LaunchTemplate = &core.LaunchTemplateSpecification{
			LaunchTemplateID: deref(lt.LaunchTemplateId), LaunchTemplateName: deref(lt.LaunchTemplateName), Version: deref(lt.Version),
		}
	}
	for _, ni := range in.NetworkInterfaces {
		spec := core.InstanceNetworkInterfaceSpecification{
			DeviceIndex:                    ni.DeviceIndex,
			SubnetID:                       deref(ni.SubnetId),
			Groups:                         ni.Groups,
			PrivateIPAddress:               deref(ni.PrivateIpAddress),
			Description:                    deref(ni.Description),
			NetworkInterfaceID:             deref(ni.NetworkInterfaceId),
			AssociatePublicIPAddress:       ni.AssociatePublicIpAddress,
			DeleteOnTermination:            ni.DeleteOnTermination,
			SecondaryPrivateIPAddressCount: ni.SecondaryPrivateIpAddressCount,
			Ipv6AddressCount:               ni.Ipv6AddressCount,
			Ipv6Addresses:                  ipv6Addresses(ni.Ipv6Addresses),
			InterfaceType:                  deref(ni.InterfaceType),
			NetworkCardIndex:               ni.NetworkCardIndex,
		}
		for _, a := range ni.PrivateIpAddresses {
			spec.PrivateIPAddresses = append(spec.PrivateIPAddresses, deref(a.PrivateIpAddress))
		}
		req.NetworkInterfaces = append(req.NetworkInterfaces, spec)
	}
	res, err := h.cloud.RunInstances(ctx, caller, req)
	if err != nil {
		return nil, err
	}
	out := h.reservation(res.ID, res.OwnerID, res.Instances)
	return &out, nil
}

func ipv6Addresses(as []InstanceIpv6Address) []string {
	var out []string
	for _, a := range as {
		out = append(out, deref(a.Ipv6Address))
	}
	return out
}

// unsupportedLaunchOptions refuses RunInstances options that core does not
// take and that would change what the instance is or what EC2 reports
// about it. Options at their defaults, and those with no effect privlink's
// instances could show (credit specification, shutdown behaviour,
// maintenance options, CPU options), are accepted.
func unsupportedLaunchOptions(in *RunInstancesRequest) error {
	refuse := func(what string) error {
		return core.Errorf(core.KindInvalid, "UnsupportedOperation", "%s not supported by privlink.", what)
	}
	switch {
	case len(in.BlockDeviceMappings) > 0:
		return refuse("Block device mappings are")
	case in.IamInstanceProfile != nil:
		return refuse("IAM instance profiles are")
	case in.InstanceMarketOptions != nil:
		return refuse("Spot and Capacity Block instances are")
	case deref(in.KernelId) != "" || deref(in.RamdiskId) != "":
		return refuse("Kernel and RAM disk images are")
	case len(in.ElasticGpuSpecification) > 0 || len(in.ElasticInferenceAccelerators) > 0:
		return refuse("Elastic GPUs and inference accelerators are")
	case len(in.LicenseSpecifications) > 0:
		return refuse("License configurations are")
	case in.Monitoring != nil && deref(in.Monitoring.Enabled):
		return refuse("Detailed monitoring is")
	case deref(in.EbsOptimized):
		return refuse("EBS optimization is")
	case in.CapacityReservationSpecification != nil && in.CapacityReservationSpecification.CapacityReservationTarget != nil:
		return refuse("Capacity reservations are")
	case in.HibernationOptions != nil && deref(in.HibernationOptions.Configured):
		return refuse("Hibernation is")
	case in.EnclaveOptions != nil && deref(in.EnclaveOptions.Enabled):
		return refuse("Nitro Enclaves are")
	case in.CpuOptions != nil && deref(in.CpuOptions.AmdSevSnp) == "enabled":
		return refuse("AMD SEV-SNP is")
	case deref(in.DisableApiStop):
		return refuse("Stop protection is")
	case deref(in.EnablePrimaryIpv6):
		return refuse("IPv6 addresses are")
	case !defaultMetadataOptions(in.MetadataOptions):
		return refuse("Instance metadata options other than the defaults (HttpTokens optional, HttpEndpoint enabled, hop limit 1, no IPv6, no tags) are")
	case !defaultPrivateDNSNameOptions(in.PrivateDnsNameOptions):
		return refuse("Resource-name hostnames are")
	}
	for _, ni := range in.NetworkInterfaces {
		switch {
		case len(ni.Ipv4Prefixes) > 0 || deref(ni.Ipv4PrefixCount) > 0 || len(ni.Ipv6Prefixes) > 0 || deref(ni.Ipv6PrefixCount) > 0:
			return refuse("Prefix delegation is")
		case deref(ni.AssociateCarrierIpAddress) || deref(ni.PrimaryIpv6):
			return refuse("Carrier and IPv6 addresses are")
		case ni.EnaSrdSpecification != nil && deref(ni.EnaSrdSpecification.EnaSrdEnabled):
			return refuse("ENA Express is")
		case ni.ConnectionTrackingSpecification != nil:
			return refuse("Connection tracking timeouts are")
		}
	}
	return nil
}

func defaultMetadataOptions(o *InstanceMetadataOptionsRequest) bool {
	if o == nil {
		return true
	}
	ok := func(p *string, want string) bool { return p == nil || *p == want }
	return ok(o.HttpTokens, "optional") && ok(o.HttpEndpoint, "enabled") && ok(o.HttpProtocolIpv6, "disabled") &&
		ok(o.InstanceMetadataTags, "disabled") && (o.HttpPutResponseHopLimit == nil || *o.HttpPutResponseHopLimit == 1)
}

func defaultPrivateDNSNameOptions(o *PrivateDnsNameOptionsRequest) bool {
	return o == nil || (deref(o.HostnameType) == "" || deref(o.HostnameType) == "ip-name") &&
		!deref(o.EnableResourceNameDnsARecord) && !deref(o.EnableResourceNameDnsAAAARecord)
}

func (h *Handler) describeInstances(ctx context.Context, caller core.Caller, in *DescribeInstancesRequest) (any, error) {
	if len(in.InstanceIds) > 0 && in.MaxResults != nil {
		return nil, core.Errorf(core.KindInvalid, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	p, err := newPager("DescribeInstances", in.MaxResults, in.NextToken, false)
	if err != nil {
		return nil, err
	}
	res, err := h.cloud.DescribeInstances(ctx, caller, core.DescribeInstancesInput{InstanceIDs: in.InstanceIds})
	if err != nil {
		return nil, err
	}
	// MaxResults counts instances; a reservation split across pages
	// appears on each with its part of the instances.
	type entry struct {
		res  *core.Reservation
		inst core.InstanceDescription
	}
	var all []entry
	for i := range res {
		for _, inst := range res[i].Instances {
			all = append(all, entry{&res[i], inst})
		}
	}
	got, next := page(p, all, func(e entry) string { return e.inst.ID })
	out := &DescribeInstancesResult{Reservations: []Reservation{}, NextToken: next}
	for i := 0; i < len(got); {
		j := i
		var insts []core.InstanceDescription
		for ; j < len(got) && got[j].res == got[i].res; j++ {
			insts = append(insts, got[j].inst)
		}
		out.Reservations = append(out.Reservations, h.reservation(got[i].res.ID, got[i].res.OwnerID, insts))
		i = j
	}
	return out, nil
}

// reservation is a reservation as RunInstances and DescribeInstances write
// it. Its group set is empty for instances in a VPC.
func (h *Handler) reservation(id, owner string, instances []core.InstanceDescription) Reservation {
	r := Reservation{
		Groups:        []GroupIdentifier{},
		Instances:     make([]Instance, len(instances)),
		OwnerId:       new(owner),
		ReservationId: new(id),
	}
	for i, d := range instances {
		r.Instances[i] = h.instance(d)
	}
	return r
}

func instanceState(name string) *InstanceState {
	return &InstanceState{Code: new(core.InstanceStateCode[name]), Name: new(name)}
}

// instance writes one instance. A terminated instance has lost its
// interface, address, groups and network, and EC2 stops showing them.
func (h *Handler) instance(d core.InstanceDescription) Instance {
	terminated := d.State == core.InstanceTerminated
	metadataState := "applied"
	if d.State == core.InstancePending {
		metadataState = "pending"
	}
	out := Instance{
		AmiLaunchIndex:        new(d.AmiLaunchIndex),
		ImageId:               new(d.ImageID),
		InstanceId:            new(d.ID),
		InstanceType:          new(d.InstanceType),
		KeyName:               optional(d.KeyName),
		LaunchTime:            timestamp(d.LaunchTime),
		Monitoring:            &Monitoring{State: new("disabled")},
		Placement:             &Placement{AvailabilityZone: new(d.AvailabilityZone), GroupName: new(""), Tenancy: new(core.TenancyDefault)},
		PrivateDnsName:        new(d.PrivateDNSName),
		PrivateIpAddress:      addr(d.PrivateIP),
		ProductCodes:          []ProductCode{},
		PublicDnsName:         new(""),
		State:                 instanceState(d.State),
		StateTransitionReason: new(stateTransitionReason(d.Instance)),
		Architecture:          new(instanceArchitecture),
		BlockDeviceMappings:   []InstanceBlockDeviceMapping{},
		ClientToken:           new(d.ClientToken),
		EbsOptimized:          new(false),
		Hypervisor:            new(instanceHypervisor),
		NetworkInterfaces:     []InstanceNetworkInterface{},
		RootDeviceName:        new(instanceRootDeviceName),
		RootDeviceType:        new(instanceRootDeviceType),
		SecurityGroups:        []GroupIdentifier{},
		StateReason:           stateReason(d.Instance),
		Tags:                  tagSet(d.Tags),
		VirtualizationType:    new(instanceVirtualization),
		CapacityReservationSpecification: &CapacityReservationSpecificationResponse{
			CapacityReservationPreference: new("open"),
		},
		HibernationOptions: &HibernationOptions{Configured: new(false)},
		MetadataOptions: &InstanceMetadataOptionsResponse{
			State:                   new(metadataState),
			HttpTokens:              new("optional"),
			HttpPutResponseHopLimit: new(int32(1)),
			HttpEndpoint:            new("enabled"),
			HttpProtocolIpv6:        new("disabled"),
			InstanceMetadataTags:    new("disabled"),
		},
		EnclaveOptions:           &EnclaveOptions{Enabled: new(false)},
		PlatformDetails:          new(instancePlatform),
		UsageOperation:           new(instanceUsageOperation),
		UsageOperationUpdateTime: timestamp(d.LaunchTime),
		PrivateDnsNameOptions: &PrivateDnsNameOptionsResponse{
			HostnameType:                    new("ip-name"),
			EnableResourceNameDnsARecord:    new(false),
			EnableResourceNameDnsAAAARecord: new(false),
		},
		MaintenanceOptions: &InstanceMaintenanceOptions{AutoRecovery: new("default")},
	}
	if terminated {
		return out
	}
	out.SubnetId, out.VpcId = new(d.SubnetID), new(d.VpcID)
	out.SecurityGroups = groupIdentifiers(d.SecurityGroups)
	out.SourceDestCheck = new(true)
	if eni := d.NetworkInterface; eni != nil {
		out.SourceDestCheck = new(eni.SourceDestCheck)
		attachment := "attached"
		if d.State == core.InstancePending {
			attachment = "attaching"
		}
		dns := core.PrivateDNSName(h.cloud.Region(), eni.PrivateIP)
		out.NetworkInterfaces = []InstanceNetworkInterface{{
			Attachment: &InstanceNetworkInterfaceAttachment{
				AttachTime:          timestamp(eni.AttachTime),
				AttachmentId:        new(eni.AttachmentID),
				DeleteOnTermination: new(true),
				DeviceIndex:         new(eni.DeviceIndex),
				Status:              new(attachment),
				NetworkCardIndex:    new(int32(0)),
			},
			Description:        new(eni.Description),
			Groups:             groupIdentifiers(d.SecurityGroups),
			Ipv6Addresses:      []InstanceIpv6Address{},
			MacAddress:         new(eni.MACAddress),
			NetworkInterfaceId: new(eni.ID),
			OwnerId:            new(eni.OwnerID),
			PrivateDnsName:     new(dns),
			PrivateIpAddress:   addr(eni.PrivateIP),
			PrivateIpAddresses: []InstancePrivateIpAddress{{
				Primary:          new(true),
				PrivateDnsName:   new(dns),
				PrivateIpAddress: addr(eni.PrivateIP),
			}},
			SourceDestCheck: new(eni.SourceDestCheck),
			Status:          new(eni.Status),
			SubnetId:        new(eni.SubnetID),
			VpcId:           new(eni.VpcID),
			InterfaceType:   new(eni.InterfaceType),
		}}
	}
	return out
}

// stateReason is EC2's StateReason: pending instances say "pending",
// running ones have none, and the rest say why they are where they are.
func stateReason(in core.Instance) *StateReason {
	switch {
	case in.StateReasonCode != "":
		return &StateReason{Code: new(in.StateReasonCode), Message: new(in.StateReason)}
	case in.State == core.InstancePending:
		return &StateReason{Code: new("pending"), Message: new("pending")}
	}
	return nil
}

// stateTransitionReason is EC2's StateTransitionReason ("reason"), e.g.
// "User initiated (2024-05-01 12:00:00 GMT)" once terminated. core records
// the time only when termination finishes.
func stateTransitionReason(in core.Instance) string {
	if in.StateReasonCode != userShutdownReasonCode {
		return ""
	}
	if in.TerminatedAt.IsZero() {
		return "User initiated"
	}
	return "User initiated (" + in.TerminatedAt.UTC().Format(time.DateTime) + " GMT)"
}

func (h *Handler) terminateInstances(ctx context.Context, caller core.Caller, in *TerminateInstancesRequest) (any, error) {
	changes, err := h.cloud.TerminateInstances(ctx, caller, core.TerminateInstancesInput{InstanceIDs: in.InstanceIds})
	if err != nil {
		return nil, err
	}
	out := &TerminateInstancesResult{TerminatingInstances: make([]InstanceStateChange, len(changes))}
	for i, c := range changes {
		out.TerminatingInstances[i] = InstanceStateChange{
			CurrentState:  instanceState(c.CurrentState),
			InstanceId:    new(c.InstanceID),
			PreviousState: instanceState(c.PreviousState),
		}
	}
	return out, nil
}

func (h *Handler) describeNetworkInterfaces(ctx context.Context, caller core.Caller, in *DescribeNetworkInterfacesRequest) (any, error) {
	if len(in.NetworkInterfaceIds) > 0 && in.MaxResults != nil {
		return nil, core.Errorf(core.KindInvalid, "InvalidParameterCombination", "The parameter networkInterfaceIdSet cannot be used with the parameter maxResults")
	}
	p, err := newPager("DescribeNetworkInterfaces", in.MaxResults, in.NextToken, false)
	if err != nil {
		return nil, err
	}
	enis, err := h.cloud.DescribeNetworkInterfaces(ctx, caller, core.DescribeNetworkInterfacesInput{NetworkInterfaceIDs: in.NetworkInterfaceIds})
	if err != nil {
		return nil, err
	}
	enis, next := page(p, enis, func(e core.NetworkInterfaceDescription) string { return e.ID })
	out := &DescribeNetworkInterfacesResult{NetworkInterfaces: make([]NetworkInterface, len(enis)), NextToken: next}
	for i, e := range enis {
		out.NetworkInterfaces[i] = networkInterface(e)
	}
	return out, nil
}

// networkInterface writes an interface. Only instance interfaces have an
// attachment: core does not record the attachments of the interfaces AWS
// manages for endpoints and load balancers.
func networkInterface(e core.NetworkInterfaceDescription) NetworkInterface {
	out := NetworkInterface{
		AvailabilityZone:   new(e.AvailabilityZone),
		Description:        new(e.Description),
		Groups:             groupIdentifiers(e.Groups),
		InterfaceType:      new(e.InterfaceType),
		Ipv6Addresses:      []NetworkInterfaceIpv6Address{},
		MacAddress:         new(e.MACAddress),
		NetworkInterfaceId: new(e.ID),
		OwnerId:            new(e.OwnerID),
		PrivateDnsName:     new(e.PrivateDNSName),
		PrivateIpAddress:   addr(e.PrivateIP),
		PrivateIpAddresses: []NetworkInterfacePrivateIpAddress{{
			Primary:          new(true),
			PrivateDnsName:   new(e.PrivateDNSName),
			PrivateIpAddress: addr(e.PrivateIP),
		}},
		RequesterId:      optional(e.RequesterID),
		RequesterManaged: new(e.RequesterManaged),
		SourceDestCheck:  new(e.SourceDestCheck),
		Status:           new(e.Status),
		SubnetId:         new(e.SubnetID),
		TagSet:           tagList(e.Tags),
		VpcId:            new(e.VpcID),
	}
	if e.InstanceID != "" {
		out.Attachment = &NetworkInterfaceAttachment{
			AttachTime:          timestamp(e.AttachTime),
			AttachmentId:        new(e.AttachmentID),
			DeleteOnTermination: new(true),
			DeviceIndex:         new(e.DeviceIndex),
			NetworkCardIndex:    new(int32(0)),
			InstanceId:          new(e.InstanceID),
			InstanceOwnerId:     new(e.OwnerID),
			Status:              new("attached"),
		}
	}
	return out
}
