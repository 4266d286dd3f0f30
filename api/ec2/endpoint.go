package ec2

import (
	"context"

	"github.com/privlink/privlink/api/query"
	"github.com/privlink/privlink/core"
)

// Endpoint services (the provider's side) and interface endpoints (the
// consumer's side).

// defaultEndpointPolicy is the policy document EC2 reports for an interface
// endpoint created without one: full access, in EC2's own formatting.
const defaultEndpointPolicy = "{\n  \"Statement\": [\n    {\n      \"Action\": \"*\", \n      \"Effect\": \"Allow\", \n      \"Principal\": \"*\", \n      \"Resource\": \"*\"\n    }\n  ]\n}"

// payerResponsibility is who pays for endpoint traffic: the service owner
// is the only value EC2 has.
const payerResponsibility = "ServiceOwner"

func serviceTypes(t string) []ServiceTypeDetail {
	return []ServiceTypeDetail{{ServiceType: new(t)}}
}

func (h *Handler) createVpcEndpointServiceConfiguration(ctx context.Context, caller core.Caller, in *CreateVpcEndpointServiceConfigurationRequest) (any, error) {
	sc, err := h.cloud.CreateVpcEndpointServiceConfiguration(ctx, caller, core.CreateVpcEndpointServiceConfigurationInput{
		AcceptanceRequired:      deref(in.AcceptanceRequired),
		PrivateDNSName:          deref(in.PrivateDnsName),
		NetworkLoadBalancerARNs: in.NetworkLoadBalancerArns,
		GatewayLoadBalancerARNs: in.GatewayLoadBalancerArns,
		SupportedIPAddressTypes: in.SupportedIpAddressTypes,
		ClientToken:             deref(in.ClientToken),
		TagSpecifications:       tagSpecifications(in.TagSpecifications),
	})
	if err != nil {
		return nil, err
	}
	out := serviceConfiguration(sc)
	return &CreateVpcEndpointServiceConfigurationResult{ServiceConfiguration: &out, ClientToken: in.ClientToken}, nil
}

func serviceConfiguration(sc core.ServiceConfiguration) ServiceConfiguration {
	out := ServiceConfiguration{
		ServiceType:             serviceTypes(sc.ServiceType),
		ServiceId:               new(sc.ID),
		ServiceName:             new(sc.ServiceName),
		ServiceState:            new(sc.State),
		AvailabilityZones:       nonNil(sc.AvailabilityZones),
		AcceptanceRequired:      new(sc.AcceptanceRequired),
		ManagesVpcEndpoints:     new(sc.ManagesVpcEndpoints),
		NetworkLoadBalancerArns: nonNil(sc.NetworkLoadBalancerARNs),
		SupportedIpAddressTypes: nonNil(sc.SupportedIPAddressTypes),
		BaseEndpointDnsNames:    nonNil(sc.BaseEndpointDNSNames),
		PrivateDnsName:          optional(sc.PrivateDNSName),
		PayerResponsibility:     new(payerResponsibility),
		Tags:                    tagSet(sc.Tags),
	}
	if c := sc.PrivateDNSNameConfiguration; c != nil {
		out.PrivateDnsNameConfiguration = &PrivateDnsNameConfiguration{
			State: new(c.State), Type: new(c.Type), Value: new(c.Value), Name: new(c.Name),
		}
	}
	return out
}

func (h *Handler) modifyVpcEndpointServiceConfiguration(ctx context.Context, caller core.Caller, in *ModifyVpcEndpointServiceConfigurationRequest) (any, error) {
	err := h.cloud.ModifyVpcEndpointServiceConfiguration(ctx, caller, core.ModifyVpcEndpointServiceConfigurationInput{
		ServiceID:                     deref(in.ServiceId),
		PrivateDNSName:                deref(in.PrivateDnsName),
		RemovePrivateDNSName:          deref(in.RemovePrivateDnsName),
		AcceptanceRequired:            in.AcceptanceRequired,
		AddNetworkLoadBalancerARNs:    in.AddNetworkLoadBalancerArns,
		RemoveNetworkLoadBalancerARNs: in.RemoveNetworkLoadBalancerArns,
		AddGatewayLoadBalancerARNs:    in.AddGatewayLoadBalancerArns,
		RemoveGatewayLoadBalancerARNs: in.RemoveGatewayLoadBalancerArns,
		AddSupportedIPAddressTypes:    in.AddSupportedIpAddressTypes,
		RemoveSupportedIPAddressTypes: in.RemoveSupportedIpAddressTypes,
	})
	if err != nil {
		return nil, err
	}
	return &ModifyVpcEndpointServiceConfigurationResult{Return: new(true)}, nil
}

// startVpcEndpointServicePrivateDnsVerification answers true once the check
// is done: the outcome is the service's PrivateDnsNameConfiguration State,
// verified or failed, as AWS reports it when its asynchronous check ends.
func (h *Handler) startVpcEndpointServicePrivateDnsVerification(ctx context.Context, caller core.Caller, in *StartVpcEndpointServicePrivateDnsVerificationRequest) (any, error) {
	if err := h.cloud.StartVpcEndpointServicePrivateDnsVerification(ctx, caller, deref(in.ServiceId)); err != nil {
		return nil, err
	}
	return &StartVpcEndpointServicePrivateDnsVerificationResult{ReturnValue: new(true)}, nil
}

func (h *Handler) describeVpcEndpointServiceConfigurations(ctx context.Context, caller core.Caller, in *DescribeVpcEndpointServiceConfigurationsRequest) (any, error) {
	p, err := newPager("DescribeVpcEndpointServiceConfigurations", in.MaxResults, in.NextToken, true)
	if err != nil {
		return nil, err
	}
	svcs, err := h.cloud.DescribeVpcEndpointServiceConfigurations(ctx, caller, in.ServiceIds)
	if err != nil {
		return nil, err
	}
	svcs, next := page(p, svcs, func(s core.ServiceConfiguration) string { return s.ID })
	out := &DescribeVpcEndpointServiceConfigurationsResult{ServiceConfigurations: make([]ServiceConfiguration, len(svcs)), NextToken: next}
	for i, s := range svcs {
		out.ServiceConfigurations[i] = serviceConfiguration(s)
	}
	return out, nil
}

func (h *Handler) deleteVpcEndpointServiceConfigurations(ctx context.Context, caller core.Caller, in *DeleteVpcEndpointServiceConfigurationsRequest) (any, error) {
	failed, err := h.cloud.DeleteVpcEndpointServiceConfigurations(ctx, caller, in.ServiceIds)
	if err != nil {
		return nil, err
	}
	return &DeleteVpcEndpointServiceConfigurationsResult{Unsuccessful: unsuccessful(failed)}, nil
}

func (h *Handler) modifyVpcEndpointServicePermissions(ctx context.Context, caller core.Caller, in *ModifyVpcEndpointServicePermissionsRequest) (any, error) {
	added, err := h.cloud.ModifyVpcEndpointServicePermissions(ctx, caller, core.ModifyVpcEndpointServicePermissionsInput{
		ServiceID:               deref(in.ServiceId),
		AddAllowedPrincipals:    in.AddAllowedPrincipals,
		RemoveAllowedPrincipals: in.RemoveAllowedPrincipals,
	})
	if err != nil {
		return nil, err
	}
	out := &ModifyVpcEndpointServicePermissionsResult{ReturnValue: new(true)}
	for _, a := range added {
		out.AddedPrincipals = append(out.AddedPrincipals, AddedPrincipal{
			PrincipalType:       new(a.PrincipalType),
			Principal:           new(a.Principal),
			ServicePermissionId: new(a.ServicePermissionID),
			ServiceId:           new(a.ServiceID),
		})
	}
	return out, nil
}

func (h *Handler) describeVpcEndpointServicePermissions(ctx context.Context, caller core.Caller, in *DescribeVpcEndpointServicePermissionsRequest) (any, error) {
	p, err := newPager("DescribeVpcEndpointServicePermissions", in.MaxResults, in.NextToken, true)
	if err != nil {
		return nil, err
	}
	principals, err := h.cloud.DescribeVpcEndpointServicePermissions(ctx, caller, deref(in.ServiceId))
	if err != nil {
		return nil, err
	}
	principals, next := page(p, principals, func(a core.AllowedPrincipal) string { return a.ServicePermissionID })
	out := &DescribeVpcEndpointServicePermissionsResult{AllowedPrincipals: make([]AllowedPrincipal, len(principals)), NextToken: next}
	for i, a := range principals {
		out.AllowedPrincipals[i] = AllowedPrincipal{
			PrincipalType:       new(a.PrincipalType),
			Principal:           new(a.Principal),
			ServicePermissionId: new(a.ServicePermissionID),
			ServiceId:           in.ServiceId,
		}
	}
	return out, nil
}

func (h *Handler) describeVpcEndpointServices(ctx context.Context, caller core.Caller, in *DescribeVpcEndpointServicesRequest) (any, error) {
	p, err := newPager("DescribeVpcEndpointServices", in.MaxResults, in.NextToken, true)
	if err != nil {
		return nil, err
	}
	details, err := h.cloud.DescribeVpcEndpointServices(ctx, caller, in.ServiceNames)
	if err != nil {
		return nil, err
	}
	details, next := page(p, details, func(d core.ServiceDetail) string { return d.ServiceName })
	out := &DescribeVpcEndpointServicesResult{
		ServiceNames:   make([]string, len(details)),
		ServiceDetails: make([]ServiceDetail, len(details)),
		NextToken:      next,
	}
	for i, d := range details {
		out.ServiceNames[i] = d.ServiceName
		sd := ServiceDetail{
			ServiceName:                     new(d.ServiceName),
			ServiceId:                       new(d.ServiceID),
			ServiceType:                     serviceTypes(d.ServiceType),
			AvailabilityZones:               nonNil(d.AvailabilityZones),
			Owner:                           new(d.Owner),
			BaseEndpointDnsNames:            nonNil(d.BaseEndpointDNSNames),
			PrivateDnsName:                  optional(d.PrivateDNSName),
			VpcEndpointPolicySupported:      new(d.VpcEndpointPolicySupported),
			AcceptanceRequired:              new(d.AcceptanceRequired),
			ManagesVpcEndpoints:             new(d.ManagesVpcEndpoints),
			PayerResponsibility:             new(payerResponsibility),
			Tags:                            tagList(d.Tags),
			PrivateDnsNameVerificationState: optional(d.PrivateDNSNameVerificationState),
			SupportedIpAddressTypes:         nonNil(d.SupportedIPAddressTypes),
		}
		for _, n := range d.PrivateDNSNames {
			sd.PrivateDnsNames = append(sd.PrivateDnsNames, PrivateDnsDetails{PrivateDnsName: new(n)})
		}
		out.ServiceDetails[i] = sd
	}
	return out, nil
}

func (h *Handler) createVpcEndpoint(ctx context.Context, caller core.Caller, in *CreateVpcEndpointRequest) (any, error) {
	req := core.CreateVpcEndpointInput{
		VpcEndpointType:   deref(in.VpcEndpointType),
		VpcID:             deref(in.VpcId),
		ServiceName:       deref(in.ServiceName),
		PolicyDocument:    deref(in.PolicyDocument),
		RouteTableIDs:     in.RouteTableIds,
		SubnetIDs:         in.SubnetIds,
		SecurityGroupIDs:  in.SecurityGroupIds,
		IPAddressType:     deref(in.IpAddressType),
		ClientToken:       deref(in.ClientToken),
		PrivateDNSEnabled: in.PrivateDnsEnabled,
		TagSpecifications: tagSpecifications(in.TagSpecifications),
	}
	if o := in.DnsOptions; o != nil {
		req.DNSRecordIPType = deref(o.DnsRecordIpType)
		req.PrivateDNSOnlyForInboundResolverEndpoint = o.PrivateDnsOnlyForInboundResolverEndpoint
	}
	for _, sc := range in.SubnetConfigurations {
		req.SubnetConfigurations = append(req.SubnetConfigurations, core.SubnetConfiguration{
			SubnetID: deref(sc.SubnetId), IPv4: deref(sc.Ipv4), IPv6: deref(sc.Ipv6),
		})
	}
	e, err := h.cloud.CreateVpcEndpoint(ctx, caller, req)
	if err != nil {
		return nil, err
	}
	out := vpcEndpoint(e)
	return &CreateVpcEndpointResult{VpcEndpoint: &out, ClientToken: in.ClientToken}, nil
}

// dnsEntries writes DNS entries, whose names all point into one block.
func dnsEntries(entries []core.DNSEntry) []DnsEntry {
	return fillDNSEntries(make([]DnsEntry, len(entries)), make([]string, 2*len(entries)), entries)
}

// fillDNSEntries writes entries into out, pointing into names: out is as
// long as entries and names twice as long.
func fillDNSEntries(out []DnsEntry, names []string, entries []core.DNSEntry) []DnsEntry {
	for i, d := range entries {
		names[2*i], names[2*i+1] = d.DNSName, d.HostedZoneID
		out[i] = DnsEntry{DnsName: &names[2*i], HostedZoneId: &names[2*i+1]}
	}
	return out
}

// endpointScalars holds what a VpcEndpoint shape's scalar fields point to:
// the shapes hold pointers, as the SDK's do, and a list of endpoints then
// makes one allocation per endpoint for them instead of one per field.
type endpointScalars struct {
	id, typ, vpc, service, state, policy, ipType, owner string
	private, requesterManaged                           bool
	created                                             query.Timestamp
	dnsRecordIPType                                     string
	dnsOptions                                          DnsOptions
}

// vpcEndpoint writes an interface endpoint. Its state is core's, already
// in EC2's lower camel case (pendingAcceptance), not the SDK's enum
// spelling.
func vpcEndpoint(e core.VpcEndpointDescription) VpcEndpoint {
	var out VpcEndpoint
	fillVpcEndpoint(&out, new(endpointScalars), e,
		make([]DnsEntry, len(e.DNSEntries)), make([]string, 2*len(e.DNSEntries)+2*len(e.Groups)),
		make([]SecurityGroupIdentifier, len(e.Groups)))
	return out
}

// fillVpcEndpoint writes e into out, its scalars into v, its DNS entries
// into dns (as long as e's), its groups into groups (as long as e's), and
// the strings those point to into strs (twice as long as both).
func fillVpcEndpoint(out *VpcEndpoint, v *endpointScalars, e core.VpcEndpointDescription,
	dns []DnsEntry, strs []string, groups []SecurityGroupIdentifier) {
	*v = endpointScalars{
		id: e.ID, typ: e.Type, vpc: e.VpcID, service: e.ServiceName, state: e.State, policy: e.PolicyDocument,
		ipType: e.IPAddressType, owner: e.OwnerID, private: e.PrivateDNSEnabled, requesterManaged: e.RequesterManaged,
		created: query.Timestamp{Time: e.CreatedAt}, dnsRecordIPType: "ipv4",
	}
	if v.policy == "" {
		v.policy = defaultEndpointPolicy
	}
	v.dnsOptions.DnsRecordIpType = &v.dnsRecordIPType
	names, groupStrs := strs[:2*len(dns)], strs[2*len(dns):]
	*out = VpcEndpoint{
		VpcEndpointId:       &v.id,
		VpcEndpointType:     &v.typ,
		VpcId:               &v.vpc,
		ServiceName:         &v.service,
		State:               &v.state,
		PolicyDocument:      &v.policy,
		RouteTableIds:       []string{},
		SubnetIds:           nonNil(e.SubnetIDs),
		Groups:              groups,
		IpAddressType:       &v.ipType,
		DnsOptions:          &v.dnsOptions,
		PrivateDnsEnabled:   &v.private,
		RequesterManaged:    &v.requesterManaged,
		NetworkInterfaceIds: nonNil(e.NetworkInterfaceIDs),
		DnsEntries:          fillDNSEntries(dns, names, e.DNSEntries),
		Tags:                tagList(e.Tags),
		OwnerId:             &v.owner,
	}
	if !e.CreatedAt.IsZero() {
		out.CreationTimestamp = &v.created
	}
	for i, g := range e.Groups {
		groupStrs[2*i], groupStrs[2*i+1] = g.ID, g.Name
		groups[i] = SecurityGroupIdentifier{GroupId: &groupStrs[2*i]}
		if g.Name != "" {
			groups[i].GroupName = &groupStrs[2*i+1]
		}
	}
	if e.LastErrorCode != "" {
		out.LastError = &LastError{Code: new(e.LastErrorCode), Message: new(e.LastErrorMessage)}
	}
}

// endpointList is the memory of one DescribeVpcEndpoints answer: its
// result, the endpoints' shapes and everything they point to. Lists are
// kept between answers (freeEndpointLists) and reused, so a list of
// hundreds of endpoints does not make that much garbage at every call.
type endpointList struct {
	descs   []core.VpcEndpointDescription
	result  DescribeVpcEndpointsResult
	eps     []VpcEndpoint
	scalars []endpointScalars
	dns     []DnsEntry
	strs    []string
	groups  []SecurityGroupIdentifier
}

// freeEndpointLists holds lists between answers: as many as could be
// answered at once on a small machine. A channel rather than a sync.Pool,
// for the reason given at query's freeEncoders: a pool is emptied by the
// collections that large answers bring.
var freeEndpointLists = make(chan *endpointList, 4)

// maxKeptEndpoints bounds the lists kept: AWS's largest page.
const maxKeptEndpoints = 1000

func newEndpointList() *endpointList {
	select {
	case l := <-freeEndpointLists:
		return l
	default:
		return new(endpointList)
	}
}

// release keeps l for a later answer, its contents cleared so it holds on
// to nothing the answer named.
func (l *endpointList) release() {
	if cap(l.descs) > maxKeptEndpoints || cap(l.eps) > maxKeptEndpoints {
		return
	}
	clear(l.descs)
	l.result = DescribeVpcEndpointsResult{}
	clear(l.eps)
	clear(l.scalars)
	clear(l.dns)
	clear(l.strs)
	clear(l.groups)
	select {
	case freeEndpointLists <- l:
	default:
	}
}

// fill writes eps into l's result.
func (l *endpointList) fill(eps []core.VpcEndpointDescription, next *string) *DescribeVpcEndpointsResult {
	var dns, groups int
	for _, e := range eps {
		dns += len(e.DNSEntries)
		groups += len(e.Groups)
	}
	l.eps = resize(l.eps, len(eps))
	l.scalars = resize(l.scalars, len(eps))
	l.dns = resize(l.dns, dns)
	l.groups = resize(l.groups, groups)
	l.strs = resize(l.strs, 2*(dns+groups))
	dnsAt, groupsAt := 0, 0
	for i, e := range eps {
		d, g := len(e.DNSEntries), len(e.Groups)
		strs := l.strs[2*(dnsAt+groupsAt) : 2*(dnsAt+groupsAt+d+g)]
		fillVpcEndpoint(&l.eps[i], &l.scalars[i], e, l.dns[dnsAt:dnsAt+d], strs, l.groups[groupsAt:groupsAt+g])
		dnsAt, groupsAt = dnsAt+d, groupsAt+g
	}
	l.result = DescribeVpcEndpointsResult{VpcEndpoints: l.eps, NextToken: next}
	return &l.result
}

// resize returns s with length n: s itself when it has the room.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (h *Handler) describeVpcEndpoints(ctx context.Context, caller core.Caller, in *DescribeVpcEndpointsRequest) (any, func(), error) {
	p, err := newPager("DescribeVpcEndpoints", in.MaxResults, in.NextToken, true)
	if err != nil {
		return nil, nil, err
	}
	l := newEndpointList()
	eps, err := h.cloud.AppendVpcEndpointDescriptions(ctx, l.descs[:0], caller, in.VpcEndpointIds)
	l.descs = eps
	if err != nil {
		l.release()
		return nil, nil, err
	}
	eps, next := page(p, eps, func(e core.VpcEndpointDescription) string { return e.ID })
	return l.fill(eps, next), l.release, nil
}

func (h *Handler) deleteVpcEndpoints(ctx context.Context, caller core.Caller, in *DeleteVpcEndpointsRequest) (any, error) {
	failed, err := h.cloud.DeleteVpcEndpoints(ctx, caller, in.VpcEndpointIds)
	if err != nil {
		return nil, err
	}
	return &DeleteVpcEndpointsResult{Unsuccessful: unsuccessful(failed)}, nil
}

func (h *Handler) acceptVpcEndpointConnections(ctx context.Context, caller core.Caller, in *AcceptVpcEndpointConnectionsRequest) (any, error) {
	failed, err := h.cloud.AcceptVpcEndpointConnections(ctx, caller, deref(in.ServiceId), in.VpcEndpointIds)
	if err != nil {
		return nil, err
	}
	return &AcceptVpcEndpointConnectionsResult{Unsuccessful: unsuccessful(failed)}, nil
}

func (h *Handler) rejectVpcEndpointConnections(ctx context.Context, caller core.Caller, in *RejectVpcEndpointConnectionsRequest) (any, error) {
	failed, err := h.cloud.RejectVpcEndpointConnections(ctx, caller, deref(in.ServiceId), in.VpcEndpointIds)
	if err != nil {
		return nil, err
	}
	return &RejectVpcEndpointConnectionsResult{Unsuccessful: unsuccessful(failed)}, nil
}

func (h *Handler) describeVpcEndpointConnections(ctx context.Context, caller core.Caller, in *DescribeVpcEndpointConnectionsRequest) (any, error) {
	p, err := newPager("DescribeVpcEndpointConnections", in.MaxResults, in.NextToken, true)
	if err != nil {
		return nil, err
	}
	conns, err := h.cloud.DescribeVpcEndpointConnections(ctx, caller)
	if err != nil {
		return nil, err
	}
	conns, next := page(p, conns, func(c core.VpcEndpointConnection) string { return c.VpcEndpointConnectionID })
	out := &DescribeVpcEndpointConnectionsResult{VpcEndpointConnections: make([]VpcEndpointConnection, len(conns)), NextToken: next}
	for i, c := range conns {
		out.VpcEndpointConnections[i] = VpcEndpointConnection{
			ServiceId:               new(c.ServiceID),
			VpcEndpointId:           new(c.VpcEndpointID),
			VpcEndpointOwner:        new(c.VpcEndpointOwner),
			VpcEndpointState:        new(c.VpcEndpointState),
			CreationTimestamp:       timestamp(c.CreationTimestamp),
			DnsEntries:              dnsEntries(c.DNSEntries),
			NetworkLoadBalancerArns: nonNil(c.NetworkLoadBalancerARNs),
			IpAddressType:           optional(c.IPAddressType),
			VpcEndpointConnectionId: new(c.VpcEndpointConnectionID),
		}
	}
	return out, nil
}
