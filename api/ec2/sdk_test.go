package ec2_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
)

// sdkEnv is privlink's API server in-process with the EC2 handler, and SDK
// clients for two accounts: the bootstrap account (the provider) and a
// second one (the consumer).
type sdkEnv struct {
	cloud              *core.Cloud
	url                string
	provider, consumer *sdk.Client
	providerID         string
	consumerID         string
	consumerCaller     core.Caller
	consumerKey        core.AccessKey
}

func newSDKEnv(t *testing.T) *sdkEnv {
	t.Helper()
	cloud := newCloud(t)
	acct := newAccount(t, cloud)
	log := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(api.NewServer(api.DefaultConfig(), cloud, map[string]api.Handler{"ec2": ec2.New(cloud, log)}, log))
	t.Cleanup(srv.Close)
	client := func(key, secret string) *sdk.Client {
		return sdk.New(sdk.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
			BaseEndpoint: aws.String(srv.URL),
			HTTPClient:   &http.Client{Transport: querytest.BufferBodies(srv.Client().Transport)},
			Retryer:      aws.NopRetryer{},
		})
	}
	return &sdkEnv{
		cloud:          cloud,
		url:            srv.URL,
		provider:       client(core.BootstrapAccessKey, core.BootstrapSecretKey),
		consumer:       client(acct.AccessKey.ID, acct.AccessKey.Secret),
		providerID:     core.BootstrapAccountID,
		consumerID:     acct.Account.ID,
		consumerCaller: core.Caller{AccountID: acct.Account.ID},
		consumerKey:    acct.AccessKey,
	}
}

// must returns v, failing the test that it is given if err is set:
// must(client.Call(ctx, in))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func tags(rt types.ResourceType, ts ...types.Tag) []types.TagSpecification {
	return []types.TagSpecification{{ResourceType: rt, Tags: ts}}
}

func hasTag(ts []types.Tag, k, v string) bool {
	return slices.ContainsFunc(ts, func(t types.Tag) bool { return aws.ToString(t.Key) == k && aws.ToString(t.Value) == v })
}

var (
	vpceDNSName  = regexp.MustCompile(`^vpce-[0-9a-f]{17}-[a-z0-9]{8}(-us-east-1[a-f])?\.vpce-svc-[0-9a-f]{17}\.us-east-1\.vpce\.amazonaws\.com$`)
	macAddress   = regexp.MustCompile(`^02(:[0-9a-f]{2}){5}$`)
	resourceID17 = func(prefix string) *regexp.Regexp { return regexp.MustCompile(`^` + prefix + `-[0-9a-f]{17}$`) }
)

// TestHandlerSDKStory runs the whole provider/consumer story through the AWS SDK
// for Go v2 and checks what it parses, field by field.
func TestHandlerSDKStory(t *testing.T) {
	e := newSDKEnv(t)
	ctx := context.Background()
	p, c := e.provider, e.consumer

	// The provider's network.
	vpc := must(p.CreateVpc(ctx, &sdk.CreateVpcInput{
		CidrBlock: aws.String("10.0.0.0/16"), TagSpecifications: tags(types.ResourceTypeVpc, tag("Name", "provider")),
	}))(t).Vpc
	vpcID := aws.ToString(vpc.VpcId)
	if !resourceID17("vpc").MatchString(vpcID) {
		t.Errorf("VpcId = %q", vpcID)
	}
	eq(t, "Vpc.CidrBlock", aws.ToString(vpc.CidrBlock), "10.0.0.0/16")
	eq(t, "Vpc.State", vpc.State, types.VpcStateAvailable)
	eq(t, "Vpc.OwnerId", aws.ToString(vpc.OwnerId), e.providerID)
	eq(t, "Vpc.InstanceTenancy", vpc.InstanceTenancy, types.TenancyDefault)
	eq(t, "Vpc.IsDefault", aws.ToBool(vpc.IsDefault), false)
	eq(t, "Vpc.DhcpOptionsId is dopt-", strings.HasPrefix(aws.ToString(vpc.DhcpOptionsId), "dopt-"), true)
	if len(vpc.CidrBlockAssociationSet) != 1 || vpc.CidrBlockAssociationSet[0].CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated ||
		aws.ToString(vpc.CidrBlockAssociationSet[0].CidrBlock) != "10.0.0.0/16" {
		t.Errorf("Vpc.CidrBlockAssociationSet = %+v", vpc.CidrBlockAssociationSet)
	}
	eq(t, "Vpc tagged", hasTag(vpc.Tags, "Name", "provider"), true)
	vpcs := must(p.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{VpcIds: []string{vpcID}}))(t).Vpcs
	if len(vpcs) != 1 || aws.ToString(vpcs[0].VpcId) != vpcID || !hasTag(vpcs[0].Tags, "Name", "provider") {
		t.Fatalf("DescribeVpcs = %+v", vpcs)
	}

	subnetA := must(p.CreateSubnet(ctx, &sdk.CreateSubnetInput{
		VpcId: aws.String(vpcID), CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1a"),
	}))(t).Subnet
	subnetB := must(p.CreateSubnet(ctx, &sdk.CreateSubnetInput{
		VpcId: aws.String(vpcID), CidrBlock: aws.String("10.0.2.0/24"), AvailabilityZoneId: aws.String("use1-az2"),
	}))(t).Subnet
	eq(t, "Subnet.AvailabilityZoneId", aws.ToString(subnetA.AvailabilityZoneId), "use1-az1")
	eq(t, "Subnet.AvailabilityZone", aws.ToString(subnetB.AvailabilityZone), "us-east-1b")
	eq(t, "Subnet.AvailableIpAddressCount", aws.ToInt32(subnetA.AvailableIpAddressCount), int32(251))
	eq(t, "Subnet.State", subnetA.State, types.SubnetStateAvailable)
	eq(t, "Subnet.DefaultForAz", aws.ToBool(subnetA.DefaultForAz), false)
	eq(t, "Subnet.MapPublicIpOnLaunch", aws.ToBool(subnetA.MapPublicIpOnLaunch), false)
	eq(t, "Subnet.SubnetArn", aws.ToString(subnetA.SubnetArn), "arn:aws:ec2:us-east-1:"+e.providerID+":subnet/"+aws.ToString(subnetA.SubnetId))
	eq(t, "Subnet.OwnerId", aws.ToString(subnetA.OwnerId), e.providerID)
	if subnetA.Ipv6CidrBlockAssociationSet == nil || len(subnetA.Ipv6CidrBlockAssociationSet) != 0 {
		t.Errorf("Subnet.Ipv6CidrBlockAssociationSet = %#v, want empty", subnetA.Ipv6CidrBlockAssociationSet)
	}
	if o := subnetA.PrivateDnsNameOptionsOnLaunch; o == nil || o.HostnameType != types.HostnameTypeIpName {
		t.Errorf("Subnet.PrivateDnsNameOptionsOnLaunch = %+v", o)
	}

	// The default security group, and one of the provider's own.
	groups := must(p.DescribeSecurityGroups(ctx, &sdk.DescribeSecurityGroupsInput{}))(t).SecurityGroups
	if len(groups) != 1 {
		t.Fatalf("DescribeSecurityGroups = %d groups, want the default one", len(groups))
	}
	def := groups[0]
	defID := aws.ToString(def.GroupId)
	eq(t, "default GroupName", aws.ToString(def.GroupName), "default")
	eq(t, "default Description", aws.ToString(def.Description), "default VPC security group")
	eq(t, "default VpcId", aws.ToString(def.VpcId), vpcID)
	if len(def.IpPermissions) != 1 || aws.ToString(def.IpPermissions[0].IpProtocol) != "-1" ||
		len(def.IpPermissions[0].UserIdGroupPairs) != 1 || aws.ToString(def.IpPermissions[0].UserIdGroupPairs[0].GroupId) != defID ||
		aws.ToString(def.IpPermissions[0].UserIdGroupPairs[0].UserId) != e.providerID || len(def.IpPermissions[0].IpRanges) != 0 {
		t.Errorf("default IpPermissions = %+v", def.IpPermissions)
	}
	if len(def.IpPermissionsEgress) != 1 || len(def.IpPermissionsEgress[0].IpRanges) != 1 ||
		aws.ToString(def.IpPermissionsEgress[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Errorf("default IpPermissionsEgress = %+v", def.IpPermissionsEgress)
	}

	sg := must(p.CreateSecurityGroup(ctx, &sdk.CreateSecurityGroupInput{
		GroupName: aws.String("app"), Description: aws.String("app servers"), VpcId: aws.String(vpcID),
		TagSpecifications: tags(types.ResourceTypeSecurityGroup, tag("tier", "app")),
	}))(t)
	sgID := aws.ToString(sg.GroupId)
	eq(t, "CreateSecurityGroup tagged", hasTag(sg.Tags, "tier", "app"), true)
	auth := must(p.AuthorizeSecurityGroupIngress(ctx, &sdk.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(sgID),
		IpPermissions: []types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080), IpRanges: []types.IpRange{
				{CidrIp: aws.String("10.0.0.0/16"), Description: aws.String("vpc")}, {CidrIp: aws.String("10.1.0.0/16")},
			}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(defID)}}},
		},
	}))(t)
	eq(t, "Authorize Return", aws.ToBool(auth.Return), true)
	if len(auth.SecurityGroupRules) != 3 {
		t.Fatalf("Authorize rules = %+v", auth.SecurityGroupRules)
	}
	r0, r2 := auth.SecurityGroupRules[0], auth.SecurityGroupRules[2]
	eq(t, "rule GroupId", aws.ToString(r0.GroupId), sgID)
	eq(t, "rule CidrIpv4", aws.ToString(r0.CidrIpv4), "10.0.0.0/16")
	eq(t, "rule Description", aws.ToString(r0.Description), "vpc")
	eq(t, "rule IsEgress", aws.ToBool(r0.IsEgress), false)
	eq(t, "rule FromPort", aws.ToInt32(r0.FromPort), int32(8080))
	if r2.ReferencedGroupInfo == nil || aws.ToString(r2.ReferencedGroupInfo.GroupId) != defID {
		t.Errorf("group rule = %+v", r2)
	}
	groups = must(p.DescribeSecurityGroups(ctx, &sdk.DescribeSecurityGroupsInput{GroupIds: []string{sgID}}))(t).SecurityGroups
	if len(groups) != 1 || len(groups[0].IpPermissions) != 2 {
		t.Fatalf("DescribeSecurityGroups(app) = %+v", groups)
	}
	perm := groups[0].IpPermissions[0]
	if aws.ToInt32(perm.FromPort) != 8080 || len(perm.IpRanges) != 2 || len(perm.UserIdGroupPairs) != 0 {
		t.Errorf("IpPermissions[0] = %+v, want port 8080 with both ranges", perm)
	}
	if p1 := groups[0].IpPermissions[1]; aws.ToInt32(p1.FromPort) != 22 || len(p1.UserIdGroupPairs) != 1 {
		t.Errorf("IpPermissions[1] = %+v, want port 22 from the default group", p1)
	}
	rev := must(p.RevokeSecurityGroupIngress(ctx, &sdk.RevokeSecurityGroupIngressInput{
		GroupId: aws.String(sgID), SecurityGroupRuleIds: []string{aws.ToString(auth.SecurityGroupRules[1].SecurityGroupRuleId)},
	}))(t)
	eq(t, "Revoke Return", aws.ToBool(rev.Return), true)
	groups = must(p.DescribeSecurityGroups(ctx, &sdk.DescribeSecurityGroupsInput{GroupIds: []string{sgID}}))(t).SecurityGroups
	if len(groups[0].IpPermissions[0].IpRanges) != 1 {
		t.Errorf("after revoke, IpPermissions = %+v", groups[0].IpPermissions)
	}

	// Instances.
	userData := "IyEvYmluL3NoCmVjaG8gaGVsbG8K"
	res := must(p.RunInstances(ctx, &sdk.RunInstancesInput{
		ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(2), MaxCount: aws.Int32(2), SubnetId: subnetA.SubnetId, SecurityGroupIds: []string{sgID},
		UserData: aws.String(userData), TagSpecifications: tags(types.ResourceTypeInstance, tag("Name", "app")),
	}))(t)
	eq(t, "Reservation.OwnerId", aws.ToString(res.OwnerId), e.providerID)
	if !resourceID17("r").MatchString(aws.ToString(res.ReservationId)) || len(res.Instances) != 2 {
		t.Fatalf("RunInstances = %+v", res)
	}
	for i, in := range res.Instances {
		ip := fmt.Sprintf("10.0.1.%d", 4+i)
		eq(t, "AmiLaunchIndex", aws.ToInt32(in.AmiLaunchIndex), int32(i))
		eq(t, "State.Name", in.State.Name, types.InstanceStateNamePending)
		eq(t, "State.Code", aws.ToInt32(in.State.Code), int32(0))
		eq(t, "StateReason.Code", aws.ToString(in.StateReason.Code), "pending")
		eq(t, "PrivateIpAddress", aws.ToString(in.PrivateIpAddress), ip)
		eq(t, "PrivateDnsName", aws.ToString(in.PrivateDnsName), "ip-10-0-1-"+fmt.Sprint(4+i)+".ec2.internal")
		eq(t, "PublicIpAddress", in.PublicIpAddress == nil, true)
		eq(t, "PublicDnsName", aws.ToString(in.PublicDnsName), "")
		eq(t, "Placement.AvailabilityZone", aws.ToString(in.Placement.AvailabilityZone), "us-east-1a")
		eq(t, "Placement.Tenancy", in.Placement.Tenancy, types.TenancyDefault)
		eq(t, "Monitoring", in.Monitoring.State, types.MonitoringStateDisabled)
		eq(t, "Architecture", in.Architecture, types.ArchitectureValuesX8664)
		eq(t, "RootDeviceType", in.RootDeviceType, types.DeviceTypeEbs)
		eq(t, "RootDeviceName", aws.ToString(in.RootDeviceName), "/dev/xvda")
		eq(t, "VirtualizationType", in.VirtualizationType, types.VirtualizationTypeHvm)
		eq(t, "Hypervisor", in.Hypervisor, types.HypervisorTypeXen)
		eq(t, "PlatformDetails", aws.ToString(in.PlatformDetails), "Linux/UNIX")
		eq(t, "UsageOperation", aws.ToString(in.UsageOperation), "RunInstances")
		eq(t, "EbsOptimized", aws.ToBool(in.EbsOptimized), false)
		eq(t, "SourceDestCheck", aws.ToBool(in.SourceDestCheck), true)
		eq(t, "InstanceType", in.InstanceType, types.InstanceTypeT3Micro)
		eq(t, "SubnetId", aws.ToString(in.SubnetId), aws.ToString(subnetA.SubnetId))
		eq(t, "VpcId", aws.ToString(in.VpcId), vpcID)
		eq(t, "MetadataOptions.HttpTokens", in.MetadataOptions.HttpTokens, types.HttpTokensStateOptional)
		eq(t, "LaunchTime set", in.LaunchTime != nil && !in.LaunchTime.IsZero(), true)
		eq(t, "tagged", hasTag(in.Tags, "Name", "app"), true)
		if len(in.SecurityGroups) != 1 || aws.ToString(in.SecurityGroups[0].GroupName) != "app" || aws.ToString(in.SecurityGroups[0].GroupId) != sgID {
			t.Errorf("SecurityGroups = %+v", in.SecurityGroups)
		}
		if len(in.NetworkInterfaces) != 1 {
			t.Fatalf("NetworkInterfaces = %+v", in.NetworkInterfaces)
		}
		ni := in.NetworkInterfaces[0]
		eq(t, "ENI PrivateIpAddress", aws.ToString(ni.PrivateIpAddress), ip)
		eq(t, "ENI InterfaceType", aws.ToString(ni.InterfaceType), "interface")
		eq(t, "ENI Attachment.Status", ni.Attachment.Status, types.AttachmentStatusAttaching)
		eq(t, "ENI Attachment.DeviceIndex", aws.ToInt32(ni.Attachment.DeviceIndex), int32(0))
		eq(t, "ENI Attachment.DeleteOnTermination", aws.ToBool(ni.Attachment.DeleteOnTermination), true)
		eq(t, "ENI MAC", macAddress.MatchString(aws.ToString(ni.MacAddress)), true)
		if len(ni.PrivateIpAddresses) != 1 || !aws.ToBool(ni.PrivateIpAddresses[0].Primary) || aws.ToString(ni.PrivateIpAddresses[0].PrivateIpAddress) != ip {
			t.Errorf("ENI PrivateIpAddresses = %+v", ni.PrivateIpAddresses)
		}
		if len(ni.Groups) != 1 || aws.ToString(ni.Groups[0].GroupId) != sgID {
			t.Errorf("ENI Groups = %+v", ni.Groups)
		}
	}
	ids := []string{aws.ToString(res.Instances[0].InstanceId), aws.ToString(res.Instances[1].InstanceId)}
	for _, id := range ids {
		if err := e.cloud.SetInstanceRunning(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	desc := must(p.DescribeInstances(ctx, &sdk.DescribeInstancesInput{InstanceIds: ids}))(t)
	if len(desc.Reservations) != 1 || len(desc.Reservations[0].Instances) != 2 || aws.ToString(desc.Reservations[0].ReservationId) != aws.ToString(res.ReservationId) {
		t.Fatalf("DescribeInstances = %+v", desc.Reservations)
	}
	running := desc.Reservations[0].Instances[0]
	eq(t, "State.Name", running.State.Name, types.InstanceStateNameRunning)
	eq(t, "State.Code", aws.ToInt32(running.State.Code), int32(16))
	eq(t, "StateReason", running.StateReason == nil, true)
	eq(t, "ENI Attachment.Status", running.NetworkInterfaces[0].Attachment.Status, types.AttachmentStatusAttached)
	eniID := aws.ToString(running.NetworkInterfaces[0].NetworkInterfaceId)
	enis := must(p.DescribeNetworkInterfaces(ctx, &sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}}))(t).NetworkInterfaces
	if len(enis) != 1 {
		t.Fatalf("DescribeNetworkInterfaces = %+v", enis)
	}
	eni := enis[0]
	eq(t, "ENI InterfaceType", eni.InterfaceType, types.NetworkInterfaceTypeInterface)
	eq(t, "ENI Status", eni.Status, types.NetworkInterfaceStatusInUse)
	eq(t, "ENI RequesterManaged", aws.ToBool(eni.RequesterManaged), false)
	eq(t, "ENI Attachment.InstanceId", aws.ToString(eni.Attachment.InstanceId), ids[0])
	eq(t, "ENI Attachment.InstanceOwnerId", aws.ToString(eni.Attachment.InstanceOwnerId), e.providerID)
	eq(t, "ENI PrivateIpAddress", aws.ToString(eni.PrivateIpAddress), "10.0.1.4")
	eq(t, "ENI AvailabilityZone", aws.ToString(eni.AvailabilityZone), "us-east-1a")

	zones := must(p.DescribeAvailabilityZones(ctx, &sdk.DescribeAvailabilityZonesInput{}))(t).AvailabilityZones
	if len(zones) != 6 || aws.ToString(zones[0].ZoneName) != "us-east-1a" || aws.ToString(zones[0].ZoneId) != "use1-az1" ||
		zones[0].State != types.AvailabilityZoneStateAvailable || aws.ToString(zones[0].ZoneType) != "availability-zone" {
		t.Errorf("DescribeAvailabilityZones = %+v", zones)
	}
	regions := must(p.DescribeRegions(ctx, &sdk.DescribeRegionsInput{}))(t).Regions
	if !slices.ContainsFunc(regions, func(r types.Region) bool {
		return aws.ToString(r.RegionName) == "us-east-1" && aws.ToString(r.Endpoint) == "ec2.us-east-1.amazonaws.com"
	}) {
		t.Errorf("DescribeRegions = %+v", regions)
	}

	// The provider offers a network load balancer as an endpoint service.
	nlb := newNLB(t, e.cloud, bootstrap, "api", aws.ToString(subnetA.SubnetId), aws.ToString(subnetB.SubnetId))
	svc := must(p.CreateVpcEndpointServiceConfiguration(ctx, &sdk.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{nlb.ARN}, AcceptanceRequired: aws.Bool(true), PrivateDnsName: aws.String("api.example.com"),
		TagSpecifications: tags(types.ResourceTypeVpcEndpointService, tag("team", "api")),
	}))(t).ServiceConfiguration
	svcID, svcName := aws.ToString(svc.ServiceId), aws.ToString(svc.ServiceName)
	eq(t, "ServiceName", svcName, "com.amazonaws.vpce.us-east-1."+svcID)
	eq(t, "ServiceState", svc.ServiceState, types.ServiceStateAvailable)
	if len(svc.ServiceType) != 1 || svc.ServiceType[0].ServiceType != types.ServiceTypeInterface {
		t.Errorf("ServiceType = %+v", svc.ServiceType)
	}
	eq(t, "AvailabilityZones", strings.Join(svc.AvailabilityZones, ","), "us-east-1a,us-east-1b")
	eq(t, "BaseEndpointDnsNames", strings.Join(svc.BaseEndpointDnsNames, ","), svcID+".us-east-1.vpce.amazonaws.com")
	eq(t, "AcceptanceRequired", aws.ToBool(svc.AcceptanceRequired), true)
	eq(t, "ManagesVpcEndpoints", aws.ToBool(svc.ManagesVpcEndpoints), false)
	eq(t, "NetworkLoadBalancerArns", strings.Join(svc.NetworkLoadBalancerArns, ","), nlb.ARN)
	eq(t, "SupportedIpAddressTypes", len(svc.SupportedIpAddressTypes) == 1 && svc.SupportedIpAddressTypes[0] == types.ServiceConnectivityTypeIpv4, true)
	eq(t, "PrivateDnsName", aws.ToString(svc.PrivateDnsName), "api.example.com")
	eq(t, "PayerResponsibility", svc.PayerResponsibility, types.PayerResponsibilityServiceOwner)
	if cfg := svc.PrivateDnsNameConfiguration; cfg == nil || cfg.State != types.DnsNameStatePendingVerification || aws.ToString(cfg.Type) != "TXT" ||
		!strings.HasPrefix(aws.ToString(cfg.Value), "vpce:") || aws.ToString(cfg.Name) == "" {
		t.Errorf("PrivateDnsNameConfiguration = %+v", cfg)
	}
	eq(t, "service tagged", hasTag(svc.Tags, "team", "api"), true)

	// The consumer cannot see it until the provider allows it.
	if _, err := c.DescribeVpcEndpointServices(ctx, &sdk.DescribeVpcEndpointServicesInput{ServiceNames: []string{svcName}}); apiCode(err) != "InvalidServiceName" {
		t.Errorf("DescribeVpcEndpointServices before permission: %v", err)
	}
	mod := must(p.ModifyVpcEndpointServicePermissions(ctx, &sdk.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: aws.String(svcID), AddAllowedPrincipals: []string{"arn:aws:iam::" + e.consumerID + ":root"},
	}))(t)
	eq(t, "Modify ReturnValue", aws.ToBool(mod.ReturnValue), true)
	if len(mod.AddedPrincipals) != 1 || mod.AddedPrincipals[0].PrincipalType != types.PrincipalTypeAccount || aws.ToString(mod.AddedPrincipals[0].ServiceId) != svcID {
		t.Errorf("AddedPrincipals = %+v", mod.AddedPrincipals)
	}
	perms := must(p.DescribeVpcEndpointServicePermissions(ctx, &sdk.DescribeVpcEndpointServicePermissionsInput{ServiceId: aws.String(svcID)}))(t).AllowedPrincipals
	if len(perms) != 1 || aws.ToString(perms[0].Principal) != "arn:aws:iam::"+e.consumerID+":root" || perms[0].PrincipalType != types.PrincipalTypeAccount ||
		!resourceID17("vpce-svc-perm").MatchString(aws.ToString(perms[0].ServicePermissionId)) {
		t.Errorf("AllowedPrincipals = %+v", perms)
	}
	svcs := must(c.DescribeVpcEndpointServices(ctx, &sdk.DescribeVpcEndpointServicesInput{}))(t)
	if !slices.Equal(svcs.ServiceNames, []string{svcName}) || len(svcs.ServiceDetails) != 1 {
		t.Fatalf("DescribeVpcEndpointServices = %+v", svcs)
	}
	detail := svcs.ServiceDetails[0]
	eq(t, "detail Owner", aws.ToString(detail.Owner), e.providerID)
	eq(t, "detail ServiceId", aws.ToString(detail.ServiceId), svcID)
	eq(t, "detail AcceptanceRequired", aws.ToBool(detail.AcceptanceRequired), true)
	eq(t, "detail VpcEndpointPolicySupported", aws.ToBool(detail.VpcEndpointPolicySupported), false)
	eq(t, "detail PrivateDnsName", aws.ToString(detail.PrivateDnsName), "api.example.com")
	eq(t, "detail PrivateDnsNameVerificationState", detail.PrivateDnsNameVerificationState, types.DnsNameStatePendingVerification)
	eq(t, "detail ServiceType", len(detail.ServiceType) == 1 && detail.ServiceType[0].ServiceType == types.ServiceTypeInterface, true)
	eq(t, "detail AvailabilityZones", strings.Join(detail.AvailabilityZones, ","), "us-east-1a,us-east-1b")
	eq(t, "detail Tags hidden", len(detail.Tags), 0)
	eq(t, "detail PayerResponsibility", detail.PayerResponsibility, types.PayerResponsibilityServiceOwner)

	// The consumer connects.
	cvpc := must(c.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}))(t).Vpc
	csubnet := must(c.CreateSubnet(ctx, &sdk.CreateSubnetInput{
		VpcId: cvpc.VpcId, CidrBlock: aws.String("10.1.1.0/24"), AvailabilityZone: aws.String("us-east-1b"),
	}))(t).Subnet
	cgroups := must(c.DescribeSecurityGroups(ctx, &sdk.DescribeSecurityGroupsInput{}))(t).SecurityGroups
	if len(cgroups) != 1 || aws.ToString(cgroups[0].OwnerId) != e.consumerID {
		t.Fatalf("consumer groups = %+v", cgroups)
	}
	created := must(c.CreateVpcEndpoint(ctx, &sdk.CreateVpcEndpointInput{
		VpcEndpointType: types.VpcEndpointTypeInterface, VpcId: cvpc.VpcId, ServiceName: aws.String(svcName),
		SubnetIds: []string{aws.ToString(csubnet.SubnetId)}, ClientToken: aws.String("ep-token"),
		TagSpecifications: tags(types.ResourceTypeVpcEndpoint, tag("Name", "to-api")),
	}))(t)
	eq(t, "CreateVpcEndpoint ClientToken", aws.ToString(created.ClientToken), "ep-token")
	ep := created.VpcEndpoint
	epID := aws.ToString(ep.VpcEndpointId)
	if !resourceID17("vpce").MatchString(epID) {
		t.Errorf("VpcEndpointId = %q", epID)
	}
	eq(t, "endpoint State", string(ep.State), "pendingAcceptance")
	eq(t, "endpoint Type", ep.VpcEndpointType, types.VpcEndpointTypeInterface)
	eq(t, "endpoint OwnerId", aws.ToString(ep.OwnerId), e.consumerID)
	eq(t, "endpoint ServiceName", aws.ToString(ep.ServiceName), svcName)
	eq(t, "endpoint PrivateDnsEnabled", aws.ToBool(ep.PrivateDnsEnabled), false)
	eq(t, "endpoint RequesterManaged", aws.ToBool(ep.RequesterManaged), false)
	eq(t, "endpoint IpAddressType", ep.IpAddressType, types.IpAddressTypeIpv4)
	eq(t, "endpoint DnsOptions", ep.DnsOptions != nil && ep.DnsOptions.DnsRecordIpType == types.DnsRecordIpTypeIpv4, true)
	eq(t, "endpoint PolicyDocument mentions Allow", strings.Contains(aws.ToString(ep.PolicyDocument), `"Effect": "Allow"`), true)
	eq(t, "endpoint SubnetIds", strings.Join(ep.SubnetIds, ","), aws.ToString(csubnet.SubnetId))
	eq(t, "endpoint RouteTableIds empty", ep.RouteTableIds != nil && len(ep.RouteTableIds) == 0, true)
	eq(t, "endpoint CreationTimestamp set", ep.CreationTimestamp != nil, true)
	eq(t, "endpoint tagged", hasTag(ep.Tags, "Name", "to-api"), true)
	if len(ep.Groups) != 1 || aws.ToString(ep.Groups[0].GroupId) != aws.ToString(cgroups[0].GroupId) || aws.ToString(ep.Groups[0].GroupName) != "default" {
		t.Errorf("endpoint Groups = %+v", ep.Groups)
	}
	if len(ep.DnsEntries) != 2 {
		t.Fatalf("endpoint DnsEntries = %+v", ep.DnsEntries)
	}
	for _, d := range ep.DnsEntries {
		if !vpceDNSName.MatchString(aws.ToString(d.DnsName)) || aws.ToString(d.HostedZoneId) != "Z7HUB22UULQXV" {
			t.Errorf("DnsEntry = %s in %s", aws.ToString(d.DnsName), aws.ToString(d.HostedZoneId))
		}
	}
	eq(t, "zonal DNS name", strings.Contains(aws.ToString(ep.DnsEntries[1].DnsName), "-us-east-1b."), true)
	if len(ep.NetworkInterfaceIds) != 1 {
		t.Fatalf("endpoint NetworkInterfaceIds = %v", ep.NetworkInterfaceIds)
	}
	epENI := must(c.DescribeNetworkInterfaces(ctx, &sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.NetworkInterfaceIds}))(t).NetworkInterfaces[0]
	eq(t, "endpoint ENI address from the subnet", aws.ToString(epENI.PrivateIpAddress), "10.1.1.4")
	eq(t, "endpoint ENI SubnetId", aws.ToString(epENI.SubnetId), aws.ToString(csubnet.SubnetId))
	eq(t, "endpoint ENI InterfaceType", epENI.InterfaceType, types.NetworkInterfaceTypeVpcEndpoint)
	eq(t, "endpoint ENI RequesterManaged", aws.ToBool(epENI.RequesterManaged), true)
	eq(t, "endpoint ENI Description", aws.ToString(epENI.Description), "VPC Endpoint Interface "+epID)
	eq(t, "endpoint ENI has no attachment", epENI.Attachment == nil, true)

	// The provider sees the connection and accepts it.
	conns := must(p.DescribeVpcEndpointConnections(ctx, &sdk.DescribeVpcEndpointConnectionsInput{}))(t).VpcEndpointConnections
	if len(conns) != 1 {
		t.Fatalf("DescribeVpcEndpointConnections = %+v", conns)
	}
	eq(t, "connection VpcEndpointId", aws.ToString(conns[0].VpcEndpointId), epID)
	eq(t, "connection VpcEndpointOwner", aws.ToString(conns[0].VpcEndpointOwner), e.consumerID)
	eq(t, "connection state", string(conns[0].VpcEndpointState), "pendingAcceptance")
	eq(t, "connection ServiceId", aws.ToString(conns[0].ServiceId), svcID)
	eq(t, "connection NLBs", strings.Join(conns[0].NetworkLoadBalancerArns, ","), nlb.ARN)
	eq(t, "connection DNS entries", len(conns[0].DnsEntries), 2)
	eq(t, "connection id", resourceID17("vpce-con").MatchString(aws.ToString(conns[0].VpcEndpointConnectionId)), true)
	acc := must(p.AcceptVpcEndpointConnections(ctx, &sdk.AcceptVpcEndpointConnectionsInput{ServiceId: aws.String(svcID), VpcEndpointIds: []string{epID}}))(t)
	if acc.Unsuccessful == nil || len(acc.Unsuccessful) != 0 {
		t.Errorf("Accept Unsuccessful = %#v, want empty", acc.Unsuccessful)
	}
	state := func() string {
		t.Helper()
		eps := must(c.DescribeVpcEndpoints(ctx, &sdk.DescribeVpcEndpointsInput{VpcEndpointIds: []string{epID}}))(t).VpcEndpoints
		if len(eps) != 1 {
			t.Fatalf("DescribeVpcEndpoints = %+v", eps)
		}
		return string(eps[0].State)
	}
	eq(t, "state after accept", state(), "pending")
	if err := e.cloud.SetEndpointAvailable(ctx, epID); err != nil {
		t.Fatal(err)
	}
	eq(t, "state when realised", state(), "available")

	// Batch actions report what they could not do.
	rej := must(p.RejectVpcEndpointConnections(ctx, &sdk.RejectVpcEndpointConnectionsInput{
		ServiceId: aws.String(svcID), VpcEndpointIds: []string{"vpce-0123456789abcdef0"},
	}))(t)
	if len(rej.Unsuccessful) != 1 || aws.ToString(rej.Unsuccessful[0].ResourceId) != "vpce-0123456789abcdef0" ||
		aws.ToString(rej.Unsuccessful[0].Error.Code) != "InvalidVpcEndpoint.NotFound" ||
		aws.ToString(rej.Unsuccessful[0].Error.Message) != "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist" {
		t.Errorf("Reject Unsuccessful = %+v", rej.Unsuccessful)
	}
	del := must(p.DeleteVpcEndpointServiceConfigurations(ctx, &sdk.DeleteVpcEndpointServiceConfigurationsInput{ServiceIds: []string{svcID}}))(t)
	if len(del.Unsuccessful) != 1 || aws.ToString(del.Unsuccessful[0].Error.Code) != "ExistingVpcEndpointConnections" {
		t.Errorf("Delete service with a live endpoint: Unsuccessful = %+v", del.Unsuccessful)
	}

	// The consumer disconnects; then the provider retires the service.
	delEP := must(c.DeleteVpcEndpoints(ctx, &sdk.DeleteVpcEndpointsInput{VpcEndpointIds: []string{epID}}))(t)
	if delEP.Unsuccessful == nil || len(delEP.Unsuccessful) != 0 {
		t.Errorf("DeleteVpcEndpoints Unsuccessful = %#v", delEP.Unsuccessful)
	}
	eq(t, "state after delete", state(), "deleting")
	if err := e.cloud.FinishEndpointDeletion(ctx, epID); err != nil {
		t.Fatal(err)
	}
	del = must(p.DeleteVpcEndpointServiceConfigurations(ctx, &sdk.DeleteVpcEndpointServiceConfigurationsInput{ServiceIds: []string{svcID}}))(t)
	eq(t, "Delete service Unsuccessful", len(del.Unsuccessful), 0)
	left := must(p.DescribeVpcEndpointServiceConfigurations(ctx, &sdk.DescribeVpcEndpointServiceConfigurationsInput{}))(t).ServiceConfigurations
	eq(t, "services left", len(left), 0)

	// Termination.
	term := must(p.TerminateInstances(ctx, &sdk.TerminateInstancesInput{InstanceIds: ids}))(t).TerminatingInstances
	if len(term) != 2 {
		t.Fatalf("TerminateInstances = %+v", term)
	}
	for _, ch := range term {
		eq(t, "PreviousState", ch.PreviousState.Name, types.InstanceStateNameRunning)
		eq(t, "PreviousState.Code", aws.ToInt32(ch.PreviousState.Code), int32(16))
		eq(t, "CurrentState", ch.CurrentState.Name, types.InstanceStateNameShuttingDown)
		eq(t, "CurrentState.Code", aws.ToInt32(ch.CurrentState.Code), int32(32))
	}
	for _, id := range ids {
		if err := e.cloud.FinishTermination(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	gone := must(p.DescribeInstances(ctx, &sdk.DescribeInstancesInput{InstanceIds: ids[:1]}))(t).Reservations[0].Instances[0]
	eq(t, "terminated State", gone.State.Name, types.InstanceStateNameTerminated)
	eq(t, "terminated State.Code", aws.ToInt32(gone.State.Code), int32(48))
	eq(t, "terminated StateReason", aws.ToString(gone.StateReason.Code), "Client.UserInitiatedShutdown")
	eq(t, "terminated reason", strings.HasPrefix(aws.ToString(gone.StateTransitionReason), "User initiated ("), true)
	eq(t, "terminated has no address", gone.PrivateIpAddress == nil && len(gone.NetworkInterfaces) == 0, true)
	again := must(p.TerminateInstances(ctx, &sdk.TerminateInstancesInput{InstanceIds: ids[:1]}))(t).TerminatingInstances
	eq(t, "terminate again", again[0].CurrentState.Name, types.InstanceStateNameTerminated)

	// Clean-up through the API.
	must(p.DeleteSecurityGroup(ctx, &sdk.DeleteSecurityGroupInput{GroupId: aws.String(sgID)}))(t)
	must(c.DeleteSubnet(ctx, &sdk.DeleteSubnetInput{SubnetId: csubnet.SubnetId}))(t)
	must(c.DeleteVpc(ctx, &sdk.DeleteVpcInput{VpcId: cvpc.VpcId}))(t)
	eq(t, "consumer VPCs left", len(must(c.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{}))(t).Vpcs), 0)
}

// apiCode returns the error code of an API error, or "" for none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestHandlerSDKPaging pages through describe calls with the SDK's paginators.
func TestHandlerSDKPaging(t *testing.T) {
	e := newSDKEnv(t)
	ctx := context.Background()
	p := e.provider
	vpc := must(p.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))(t).Vpc
	var want []string
	for i := range 7 {
		s := must(p.CreateSubnet(ctx, &sdk.CreateSubnetInput{VpcId: vpc.VpcId, CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i))}))(t).Subnet
		want = append(want, aws.ToString(s.SubnetId))
	}
	slices.Sort(want)

	t.Run("DescribeSubnets", func(t *testing.T) {
		pages := sdk.NewDescribeSubnetsPaginator(p, &sdk.DescribeSubnetsInput{MaxResults: aws.Int32(5)})
		var got []string
		var sizes []int
		for pages.HasMorePages() {
			out := must(pages.NextPage(ctx))(t)
			sizes = append(sizes, len(out.Subnets))
			for _, s := range out.Subnets {
				got = append(got, aws.ToString(s.SubnetId))
			}
		}
		eq(t, "page sizes", fmt.Sprint(sizes), "[5 2]")
		eq(t, "subnets", strings.Join(got, ","), strings.Join(want, ","))
	})

	t.Run("DescribeInstances", func(t *testing.T) {
		var launched []string
		for _, n := range []int32{3, 2, 2} {
			res := must(p.RunInstances(ctx, &sdk.RunInstancesInput{
				ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(n), MaxCount: aws.Int32(n), SubnetId: aws.String(want[0]),
			}))(t)
			for _, in := range res.Instances {
				launched = append(launched, aws.ToString(in.InstanceId))
			}
		}
		pages := sdk.NewDescribeInstancesPaginator(p, &sdk.DescribeInstancesInput{MaxResults: aws.Int32(5)})
		var got []string
		var shape []string
		for pages.HasMorePages() {
			out := must(pages.NextPage(ctx))(t)
			var page []string
			for _, r := range out.Reservations {
				page = append(page, fmt.Sprint(len(r.Instances)))
				for _, in := range r.Instances {
					got = append(got, aws.ToString(in.InstanceId))
				}
			}
			shape = append(shape, strings.Join(page, "+"))
		}
		eq(t, "reservations per page", strings.Join(shape, " | "), "3+2 | 2")
		eq(t, "instances", strings.Join(got, ","), strings.Join(launched, ","))
	})

	t.Run("NextToken from another operation", func(t *testing.T) {
		out := must(p.DescribeSubnets(ctx, &sdk.DescribeSubnetsInput{MaxResults: aws.Int32(5)}))(t)
		_, err := p.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{NextToken: out.NextToken})
		eq(t, "code", apiCode(err), "InvalidParameterValue")
	})

	t.Run("MaxResults over 1000 is served as 1000 by endpoint calls", func(t *testing.T) {
		must(p.DescribeVpcEndpoints(ctx, &sdk.DescribeVpcEndpointsInput{MaxResults: aws.Int32(5000)}))(t)
		_, err := p.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{MaxResults: aws.Int32(5000)})
		eq(t, "DescribeVpcs code", apiCode(err), "InvalidParameterValue")
	})
}

// TestHandlerSDKErrors checks that each operation family's main AWS errors reach
// the SDK as AWS sends them: code, message and HTTP status.
func TestHandlerSDKErrors(t *testing.T) {
	e := newSDKEnv(t)
	ctx := context.Background()
	p, c := e.provider, e.consumer
	vpc := must(p.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))(t).Vpc
	subnet := must(p.CreateSubnet(ctx, &sdk.CreateSubnetInput{VpcId: vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24")}))(t).Subnet
	sg := must(p.CreateSecurityGroup(ctx, &sdk.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: vpc.VpcId}))(t)
	rule := &sdk.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), CidrIp: aws.String("0.0.0.0/0")}
	must(p.AuthorizeSecurityGroupIngress(ctx, rule))(t)

	tests := []struct {
		name    string
		call    func() error
		code    string
		message string // exact, or a prefix when it ends in "…"
		status  int
	}{
		{"InvalidVpcID.NotFound", func() error {
			_, err := p.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
			return err
		}, "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist", 400},
		{"another account's VPC", func() error {
			_, err := c.DeleteVpc(ctx, &sdk.DeleteVpcInput{VpcId: vpc.VpcId})
			return err
		}, "InvalidVpcID.NotFound", "The vpc ID '" + aws.ToString(vpc.VpcId) + "' does not exist", 400},
		{"InvalidSubnet.Range", func() error {
			_, err := p.CreateSubnet(ctx, &sdk.CreateSubnetInput{VpcId: vpc.VpcId, CidrBlock: aws.String("10.9.0.0/24")})
			return err
		}, "InvalidSubnet.Range", "The CIDR '10.9.0.0/24' is invalid.", 400},
		{"InvalidSubnet.Conflict", func() error {
			_, err := p.CreateSubnet(ctx, &sdk.CreateSubnetInput{VpcId: vpc.VpcId, CidrBlock: aws.String("10.0.1.128/25")})
			return err
		}, "InvalidSubnet.Conflict", "The CIDR '10.0.1.128/25' conflicts with another subnet", 400},
		{"InvalidParameterValue", func() error {
			_, err := p.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("banana")})
			return err
		}, "InvalidParameterValue", "Value (banana) for parameter cidrBlock is invalid. This is not a valid CIDR block.", 400},
		{"MissingParameter", func() error {
			_, err := p.CreateVpc(ctx, &sdk.CreateVpcInput{})
			return err
		}, "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.", 400},
		{"DependencyViolation", func() error {
			_, err := p.DeleteVpc(ctx, &sdk.DeleteVpcInput{VpcId: vpc.VpcId})
			return err
		}, "DependencyViolation", "The vpc '" + aws.ToString(vpc.VpcId) + "' has dependencies and cannot be deleted.", 400},
		{"InvalidGroup.Duplicate", func() error {
			_, err := p.CreateSecurityGroup(ctx, &sdk.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("again"), VpcId: vpc.VpcId})
			return err
		}, "InvalidGroup.Duplicate", "The security group 'web' already exists for VPC '" + aws.ToString(vpc.VpcId) + "'", 400},
		{"InvalidPermission.Duplicate", func() error {
			_, err := p.AuthorizeSecurityGroupIngress(ctx, rule)
			return err
		}, "InvalidPermission.Duplicate", `the specified rule "peer: 0.0.0.0/0, TCP, from port: 443, to port: 443, ALLOW" already exists`, 400},
		{"InvalidInstanceID.NotFound", func() error {
			_, err := p.TerminateInstances(ctx, &sdk.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
			return err
		}, "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist", 400},
		{"InvalidServiceName", func() error {
			_, err := p.CreateVpcEndpoint(ctx, &sdk.CreateVpcEndpointInput{
				VpcEndpointType: types.VpcEndpointTypeInterface, VpcId: vpc.VpcId, ServiceName: aws.String("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"),
			})
			return err
		}, "InvalidServiceName", "The Vpc Endpoint Service 'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0' does not exist", 400},
		{"InvalidVpcEndpointId.NotFound", func() error {
			_, err := p.DescribeVpcEndpoints(ctx, &sdk.DescribeVpcEndpointsInput{VpcEndpointIds: []string{"vpce-0123456789abcdef0"}})
			return err
		}, "InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist", 400},
		{"InvalidVpcEndpointServiceId.NotFound", func() error {
			_, err := p.DescribeVpcEndpointServicePermissions(ctx, &sdk.DescribeVpcEndpointServicePermissionsInput{ServiceId: aws.String("vpce-svc-0123456789abcdef0")})
			return err
		}, "InvalidVpcEndpointServiceId.NotFound", "The VpcEndpointService Id 'vpce-svc-0123456789abcdef0' does not exist", 400},
		{"UnknownParameter", func() error {
			_, err := p.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.5.0.0/16"),
				VpcEncryptionControl: &types.VpcEncryptionControlConfiguration{Mode: types.VpcEncryptionControlModeMonitor}})
			return err
		}, "UnknownParameter", "The parameter VpcEncryptionControl.Mode is not recognized", 400},
		{"unknown region", func() error {
			_, err := p.DescribeRegions(ctx, &sdk.DescribeRegionsInput{RegionNames: []string{"us-east-1", "xx-fake-1"}})
			return err
		}, "InvalidParameterValue", "Invalid region: [xx-fake-1]", 400},
		{"InvalidAction", func() error {
			_, err := p.DescribeKeyPairs(ctx, &sdk.DescribeKeyPairsInput{})
			return err
		}, "InvalidAction", "The action DescribeKeyPairs is not valid for this web service.", 400},
		{"DryRunOperation", func() error {
			_, err := p.CreateVpc(ctx, &sdk.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16"), DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412},
		{"DryRunOperation on a describe", func() error {
			_, err := p.DescribeVpcEndpointServices(ctx, &sdk.DescribeVpcEndpointServicesInput{DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412},
		{"filters", func() error {
			_, err := p.DescribeSubnets(ctx, &sdk.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{aws.ToString(vpc.VpcId)}}}})
			return err
		}, "UnsupportedOperation", "The filter 'vpc-id' is not supported…", 400},
		{"MaxResults below 5", func() error {
			_, err := p.DescribeNetworkInterfaces(ctx, &sdk.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(1)})
			return err
		}, "InvalidParameterValue", "Value ( 1 ) for parameter maxResults is invalid. Expecting a value greater than 5.", 400},
		{"MaxResults with IDs", func() error {
			_, err := p.DescribeInstances(ctx, &sdk.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}, MaxResults: aws.Int32(5)})
			return err
		}, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults", 400},
		{"unsupported launch option", func() error {
			_, err := p.RunInstances(ctx, &sdk.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				SubnetId: subnet.SubnetId, Monitoring: &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(true)}})
			return err
		}, "UnsupportedOperation", "Detailed monitoring is not supported by privlink.", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an API error", err)
			}
			eq(t, "ErrorCode", ae.ErrorCode(), tt.code)
			if prefix, ok := strings.CutSuffix(tt.message, "…"); ok {
				if !strings.HasPrefix(ae.ErrorMessage(), prefix) {
					t.Errorf("ErrorMessage = %q, want prefix %q", ae.ErrorMessage(), prefix)
				}
			} else {
				eq(t, "ErrorMessage", ae.ErrorMessage(), tt.message)
			}
			eq(t, "HTTP status", httpStatus(err), tt.status)
		})
	}

	// A dry run changes nothing.
	vpcs := must(p.DescribeVpcs(ctx, &sdk.DescribeVpcsInput{}))(t).Vpcs
	eq(t, "VPCs after the dry run", len(vpcs), 1)
}
