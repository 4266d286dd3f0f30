package route53_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/internal/testserver"
)

// client returns a Route 53 client for acct. Route 53 is global: the SDK
// signs for us-east-1.
func client(s *testserver.Server, acct testserver.Account) *sdk.Client {
	cfg := s.AWSConfig(acct)
	// The SDK closes request bodies early (aws-sdk-go-v2 issue 2737).
	cfg.HTTPClient = &http.Client{Transport: querytest.BufferBodies(http.DefaultTransport)}
	return sdk.NewFromConfig(cfg)
}

// apiError asserts that err is the AWS error code with the HTTP status.
func apiError(t *testing.T, err error, code string, status int) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("%s: HTTP %d, want %d", code, re.HTTPStatusCode(), status)
	}
	return ae
}

var (
	zoneIDRe   = regexp.MustCompile(`^/hostedzone/Z[0-9A-Z]{13,21}$`)
	changeIDRe = regexp.MustCompile(`^/change/C[0-9A-Z]{13,21}$`)
	nsRe       = regexp.MustCompile(`^ns-\d+\.awsdns-\d\d\.(com|net|org|co\.uk)\.$`)
)

func bare(id *string) string {
	return aws.ToString(id)[strings.LastIndexByte(aws.ToString(id), '/')+1:]
}

// TestSDKPublicZoneLifecycle drives a public zone through the SDK: create,
// read, records of every type, paging, errors, GetChange and delete.
func TestSDKPublicZoneLifecycle(t *testing.T) {
	s := testserver.Start(t)
	c := client(s, testserver.Bootstrap)
	ctx := context.Background()

	created, err := c.CreateHostedZone(ctx, &sdk.CreateHostedZoneInput{
		Name: aws.String("Example.com"), CallerReference: aws.String("sdk-1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("seed zone")},
	})
	if err != nil {
		t.Fatal(err)
	}
	z := created.HostedZone
	if !zoneIDRe.MatchString(aws.ToString(z.Id)) || aws.ToString(z.Name) != "example.com." || aws.ToString(z.CallerReference) != "sdk-1" ||
		z.Config == nil || z.Config.PrivateZone || aws.ToString(z.Config.Comment) != "seed zone" || aws.ToInt64(z.ResourceRecordSetCount) != 2 {
		t.Errorf("HostedZone %+v", z)
	}
	if aws.ToString(created.Location) != "https://route53.amazonaws.com/2013-04-01/hostedzone/"+bare(z.Id) {
		t.Errorf("Location %q", aws.ToString(created.Location))
	}
	ci := created.ChangeInfo
	if !changeIDRe.MatchString(aws.ToString(ci.Id)) || ci.Status != types.ChangeStatusPending || time.Since(aws.ToTime(ci.SubmittedAt)) > time.Minute {
		t.Errorf("ChangeInfo %+v", ci)
	}
	ns := created.DelegationSet.NameServers
	if len(ns) != 4 {
		t.Fatalf("name servers %q", ns)
	}
	for _, n := range ns {
		if !nsRe.MatchString(n) {
			t.Errorf("name server %q", n)
		}
	}
	// The SDK strips /hostedzone/ and /change/ from IDs; the waiter polls
	// GetChange until INSYNC, which it is at once.
	waiter := sdk.NewResourceRecordSetsChangedWaiter(c)
	if err := waiter.Wait(ctx, &sdk.GetChangeInput{Id: ci.Id}, 10*time.Second); err != nil {
		t.Fatalf("waiting for %s: %v", aws.ToString(ci.Id), err)
	}
	got, err := c.GetHostedZone(ctx, &sdk.GetHostedZoneInput{Id: z.Id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.HostedZone.Id) != aws.ToString(z.Id) || got.DelegationSet == nil || !slices.Equal(got.DelegationSet.NameServers, ns) || len(got.VPCs) != 0 {
		t.Errorf("GetHostedZone %+v", got)
	}

	// Records of every supported type, with a wildcard and an alias.
	rrs := func(name string, typ types.RRType, ttl int64, values ...string) types.Change {
		set := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
		for _, v := range values {
			set.ResourceRecords = append(set.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
		}
		return types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set}
	}
	changed, err := c.ChangeResourceRecordSets(ctx, &sdk.ChangeResourceRecordSetsInput{
		HostedZoneId: z.Id,
		ChangeBatch: &types.ChangeBatch{Comment: aws.String("records"), Changes: []types.Change{
			rrs("www.example.com", types.RRTypeA, 300, "192.0.2.10", "192.0.2.11"),
			rrs("www.example.com", types.RRTypeAaaa, 300, "2001:db8::10"),
			rrs("api.example.com", types.RRTypeCname, 60, "www.example.com"),
			rrs("example.com", types.RRTypeTxt, 300, `"v=spf1 -all"`),
			rrs("example.com", types.RRTypeMx, 300, "10 mail.example.com."),
			rrs("_sip._tcp.example.com", types.RRTypeSrv, 300, "1 10 5060 sip.example.com."),
			rrs("*.example.com", types.RRTypeA, 300, "192.0.2.99"),
			{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
				Name: aws.String("alias.example.com"), Type: types.RRTypeA,
				AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(bare(z.Id)), DNSName: aws.String("www.example.com"), EvaluateTargetHealth: true},
			}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(changed.ChangeInfo.Comment) != "records" {
		t.Errorf("ChangeInfo %+v", changed.ChangeInfo)
	}
	change, err := c.GetChange(ctx, &sdk.GetChangeInput{Id: changed.ChangeInfo.Id})
	if err != nil || change.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Fatalf("GetChange %+v, %v", change, err)
	}

	// The whole zone, in Route 53's order, through the SDK's paginator with
	// pages of three.
	var sets []types.ResourceRecordSet
	pages := sdk.NewListResourceRecordSetsPaginator(c, &sdk.ListResourceRecordSetsInput{HostedZoneId: z.Id, MaxItems: aws.Int32(3)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.ResourceRecordSets) > 3 {
			t.Fatalf("page of %d", len(p.ResourceRecordSets))
		}
		sets = append(sets, p.ResourceRecordSets...)
	}
	var names []string
	for _, s := range sets {
		names = append(names, aws.ToString(s.Name)+" "+string(s.Type))
	}
	want := []string{
		"example.com. MX", "example.com. NS", "example.com. SOA", "example.com. TXT",
		`\052.example.com. A`, "_sip._tcp.example.com. SRV", "alias.example.com. A", "api.example.com. CNAME",
		"www.example.com. A", "www.example.com. AAAA",
	}
	if !slices.Equal(names, want) {
		t.Errorf("record sets\n got %q\nwant %q", names, want)
	}
	for _, s := range sets {
		switch aws.ToString(s.Name) + " " + string(s.Type) {
		case "example.com. SOA":
			if aws.ToInt64(s.TTL) != 900 || aws.ToString(s.ResourceRecords[0].Value) != ns[0]+" awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400" {
				t.Errorf("SOA %+v", s)
			}
		case "alias.example.com. A":
			if s.TTL != nil || len(s.ResourceRecords) != 0 || s.AliasTarget == nil ||
				aws.ToString(s.AliasTarget.HostedZoneId) != bare(z.Id) || aws.ToString(s.AliasTarget.DNSName) != "www.example.com." || !s.AliasTarget.EvaluateTargetHealth {
				t.Errorf("alias %+v", s)
			}
		case "example.com. TXT":
			if aws.ToString(s.ResourceRecords[0].Value) != `"v=spf1 -all"` {
				t.Errorf("TXT %+v", s)
			}
		}
	}
	// Starting at a name and type.
	from, err := c.ListResourceRecordSets(ctx, &sdk.ListResourceRecordSetsInput{
		HostedZoneId: z.Id, StartRecordName: aws.String("WWW.example.com"), StartRecordType: types.RRTypeAaaa,
	})
	if err != nil || len(from.ResourceRecordSets) != 1 || from.IsTruncated || aws.ToInt32(from.MaxItems) != 300 {
		t.Errorf("from www AAAA: %+v, %v", from, err)
	}

	// The batch is atomic and every failure is listed.
	_, err = c.ChangeResourceRecordSets(ctx, &sdk.ChangeResourceRecordSetsInput{
		HostedZoneId: z.Id,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
			rrs("new.example.com", types.RRTypeA, 60, "192.0.2.1"),
			rrs("www.example.com", types.RRTypeA, 60, "192.0.2.1"),
			rrs("api.example.com", types.RRTypeTxt, 60, `"x"`),
		}},
	})
	ae := apiError(t, err, "InvalidChangeBatch", 400)
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		t.Errorf("error %T is not *types.InvalidChangeBatch", err)
	}
	wantMsg := "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists, " +
		"RRSet of type TXT with DNS name api.example.com. is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone example.com.]"
	if ae.ErrorMessage() != wantMsg {
		t.Errorf("message\n got %s\nwant %s", ae.ErrorMessage(), wantMsg)
	}
	if p, _ := c.ListResourceRecordSets(ctx, &sdk.ListResourceRecordSetsInput{HostedZoneId: z.Id, StartRecordName: aws.String("new.example.com"), MaxItems: aws.Int32(1)}); aws.ToString(p.ResourceRecordSets[0].Name) == "new.example.com." {
		t.Error("a failed batch created new.example.com")
	}
	// A set with neither values nor alias is InvalidInput.
	_, err = c.ChangeResourceRecordSets(ctx, &sdk.ChangeResourceRecordSetsInput{
		HostedZoneId: z.Id,
		ChangeBatch:  &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("x.example.com"), Type: types.RRTypeA}}}},
	})
	if ae := apiError(t, err, "InvalidInput", 400); !strings.Contains(ae.ErrorMessage(), "Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none") {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	// A zone with records cannot be deleted; an empty one can.
	_, err = c.DeleteHostedZone(ctx, &sdk.DeleteHostedZoneInput{Id: z.Id})
	apiError(t, err, "HostedZoneNotEmpty", 400)
	var deletes []types.Change
	for _, s := range sets {
		if typ := string(s.Type); typ != "NS" && typ != "SOA" {
			deletes = append(deletes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &s})
		}
	}
	if _, err := c.ChangeResourceRecordSets(ctx, &sdk.ChangeResourceRecordSetsInput{HostedZoneId: z.Id, ChangeBatch: &types.ChangeBatch{Changes: deletes}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteHostedZone(ctx, &sdk.DeleteHostedZoneInput{Id: z.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetHostedZone(ctx, &sdk.GetHostedZoneInput{Id: z.Id})
	var nshz *types.NoSuchHostedZone
	if apiError(t, err, "NoSuchHostedZone", 404); !errors.As(err, &nshz) {
		t.Errorf("error %T is not *types.NoSuchHostedZone", err)
	}
	_, err = c.CreateHostedZone(ctx, &sdk.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("sdk-1")})
	apiError(t, err, "HostedZoneAlreadyExists", 409)
	_, err = c.GetChange(ctx, &sdk.GetChangeInput{Id: aws.String("C0000000000000000000")})
	apiError(t, err, "NoSuchChange", 404)
}

// TestSDKPrivateZoneAndEndpoint is the seed's private zone: a friendly
// name in a private zone, as a CNAME and as an alias, for an interface
// endpoint's regional DNS name; then VPC associations and their errors.
func TestSDKPrivateZoneAndEndpoint(t *testing.T) {
	s := testserver.Start(t)
	c := client(s, testserver.Bootstrap)
	ctx := context.Background()
	boot := core.Caller{AccountID: core.BootstrapAccountID, Admin: true}
	cloud := s.Cloud
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// Provider and consumer VPCs of one account, with the same CIDR, an
	// NLB, a service and an endpoint, all made through core.
	provider, err := cloud.CreateVpc(ctx, boot, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
	must(err)
	consumer, err := cloud.CreateVpc(ctx, boot, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
	must(err)
	third, err := cloud.CreateVpc(ctx, boot, core.CreateVpcInput{CidrBlock: "10.1.0.0/16"})
	must(err)
	psub, err := cloud.CreateSubnet(ctx, boot, core.CreateSubnetInput{VpcID: provider.ID, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1a"})
	must(err)
	csub, err := cloud.CreateSubnet(ctx, boot, core.CreateSubnetInput{VpcID: consumer.ID, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1a"})
	must(err)
	lb, err := cloud.CreateLoadBalancer(ctx, boot, core.CreateLoadBalancerInput{Name: "svc", Type: "network", Scheme: "internal", Subnets: []string{psub.ID}})
	must(err)
	svc, err := cloud.CreateVpcEndpointServiceConfiguration(ctx, boot, core.CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lb.ARN}})
	must(err)
	ep, err := cloud.CreateVpcEndpoint(ctx, boot, core.CreateVpcEndpointInput{VpcEndpointType: "Interface", VpcID: consumer.ID, ServiceName: svc.ServiceName, SubnetIDs: []string{csub.ID}})
	must(err)
	regional := ep.DNSEntries[0]

	created, err := c.CreateHostedZone(ctx, &sdk.CreateHostedZoneInput{
		Name: aws.String("internal.example"), CallerReference: aws.String("private-1"),
		VPC:              &types.VPC{VPCId: aws.String(consumer.ID), VPCRegion: types.VPCRegionUsEast1},
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true},
	})
	must(err)
	z := created.HostedZone
	if !z.Config.PrivateZone || created.VPC == nil || aws.ToString(created.VPC.VPCId) != consumer.ID || created.VPC.VPCRegion != types.VPCRegionUsEast1 {
		t.Errorf("private zone %+v, VPC %+v", z, created.VPC)
	}
	if want := []string{"ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net."}; !slices.Equal(created.DelegationSet.NameServers, want) {
		t.Errorf("private zone name servers %q", created.DelegationSet.NameServers)
	}
	_, err = c.ChangeResourceRecordSets(ctx, &sdk.ChangeResourceRecordSetsInput{
		HostedZoneId: z.Id,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
			{Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{
				Name: aws.String("api.internal.example"), Type: types.RRTypeCname, TTL: aws.Int64(60),
				ResourceRecords: []types.ResourceRecord{{Value: aws.String(regional.DNSName)}},
			}},
			{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
				Name: aws.String("alias.internal.example"), Type: types.RRTypeA,
				AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(regional.HostedZoneID), DNSName: aws.String(regional.DNSName)},
			}},
		}},
	})
	must(err)
	_, err = c.ChangeResourceRecordSets(ctx, &sdk.ChangeResourceRecordSetsInput{
		HostedZoneId: z.Id,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
			Name: aws.String("gone.internal.example"), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(regional.HostedZoneID), DNSName: aws.String("vpce-00000000000000000-aaaaaaaa.vpce-svc-00000000000000000.us-east-1.vpce.amazonaws.com")},
		}}}},
	})
	if ae := apiError(t, err, "InvalidChangeBatch", 400); !strings.HasSuffix(ae.ErrorMessage(), "but that target was not found]") {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	// Associations.
	_, err = c.AssociateVPCWithHostedZone(ctx, &sdk.AssociateVPCWithHostedZoneInput{HostedZoneId: z.Id, VPC: &types.VPC{VPCId: aws.String(consumer.ID), VPCRegion: types.VPCRegionUsEast1}})
	if ae := apiError(t, err, "ConflictingDomainExists", 400); !strings.Contains(ae.ErrorMessage(), consumer.ID) {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	_, err = c.AssociateVPCWithHostedZone(ctx, &sdk.AssociateVPCWithHostedZoneInput{HostedZoneId: z.Id, VPC: &types.VPC{VPCId: aws.String("vpc-0123456789abcdef0"), VPCRegion: types.VPCRegionUsEast1}})
	apiError(t, err, "InvalidVPCId", 400)
	assoc, err := c.AssociateVPCWithHostedZone(ctx, &sdk.AssociateVPCWithHostedZoneInput{HostedZoneId: z.Id, VPC: &types.VPC{VPCId: aws.String(third.ID), VPCRegion: types.VPCRegionUsEast1}, Comment: aws.String("third")})
	must(err)
	if aws.ToString(assoc.ChangeInfo.Comment) != "third" {
		t.Errorf("ChangeInfo %+v", assoc.ChangeInfo)
	}
	got, err := c.GetHostedZone(ctx, &sdk.GetHostedZoneInput{Id: z.Id})
	must(err)
	if got.DelegationSet != nil || len(got.VPCs) != 2 || aws.ToString(got.VPCs[1].VPCId) != third.ID {
		t.Errorf("GetHostedZone %+v", got)
	}
	_, err = c.DisassociateVPCFromHostedZone(ctx, &sdk.DisassociateVPCFromHostedZoneInput{HostedZoneId: z.Id, VPC: &types.VPC{VPCId: aws.String(provider.ID), VPCRegion: types.VPCRegionUsEast1}})
	apiError(t, err, "VPCAssociationNotFound", 404)
	_, err = c.DisassociateVPCFromHostedZone(ctx, &sdk.DisassociateVPCFromHostedZoneInput{HostedZoneId: z.Id, VPC: &types.VPC{VPCId: aws.String(consumer.ID), VPCRegion: types.VPCRegionUsEast1}})
	must(err)
	_, err = c.DisassociateVPCFromHostedZone(ctx, &sdk.DisassociateVPCFromHostedZoneInput{HostedZoneId: z.Id, VPC: &types.VPC{VPCId: aws.String(third.ID), VPCRegion: types.VPCRegionUsEast1}})
	apiError(t, err, "LastVPCAssociation", 400)

	public, err := c.CreateHostedZone(ctx, &sdk.CreateHostedZoneInput{Name: aws.String("public.example"), CallerReference: aws.String("public-1")})
	must(err)
	_, err = c.AssociateVPCWithHostedZone(ctx, &sdk.AssociateVPCWithHostedZoneInput{HostedZoneId: public.HostedZone.Id, VPC: &types.VPC{VPCId: aws.String(consumer.ID), VPCRegion: types.VPCRegionUsEast1}})
	apiError(t, err, "PublicZoneVPCAssociation", 400)

	// What the resolvers will read.
	snap, err := cloud.LoadSnapshot(ctx)
	must(err)
	zones := snap.PrivateZonesOf(third.ID)
	if len(zones) != 1 || zones[0].ID != bare(z.Id) {
		t.Fatalf("PrivateZonesOf(third) = %+v", zones)
	}
	var alias *core.ResourceRecordSet
	for _, rs := range snap.RecordSets[zones[0].ID] {
		if rs.Name == "alias.internal.example." {
			alias = rs
		}
	}
	if alias == nil || alias.Alias == nil || alias.Alias.DNSName != regional.DNSName+"." {
		t.Errorf("snapshot alias %+v", alias)
	}
}

// TestSDKListHostedZones pages both listings and keeps accounts apart.
func TestSDKListHostedZones(t *testing.T) {
	s := testserver.Start(t)
	c := client(s, testserver.Bootstrap)
	other := client(s, s.NewAccount(t))
	ctx := context.Background()
	var ids []string
	for i, name := range []string{"b.example", "a.example", "c.a.example", "a-b.example", "a.example"} {
		out, err := c.CreateHostedZone(ctx, &sdk.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(fmt.Sprint("ref-", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.HostedZone.Id))
	}
	if _, err := other.CreateHostedZone(ctx, &sdk.CreateHostedZoneInput{Name: aws.String("other.example"), CallerReference: aws.String("ref-0")}); err != nil {
		t.Fatal(err)
	}
	var listed []string
	pages := sdk.NewListHostedZonesPaginator(c, &sdk.ListHostedZonesInput{MaxItems: aws.Int32(2)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range p.HostedZones {
			listed = append(listed, aws.ToString(z.Id))
		}
	}
	slices.Sort(ids)
	if !slices.Equal(listed, ids) {
		t.Errorf("ListHostedZones %q, want %q", listed, ids)
	}
	var names []string
	in := &sdk.ListHostedZonesByNameInput{MaxItems: aws.Int32(2)}
	for {
		p, err := c.ListHostedZonesByName(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range p.HostedZones {
			names = append(names, aws.ToString(z.Name))
		}
		if !p.IsTruncated {
			break
		}
		in.DNSName, in.HostedZoneId = p.NextDNSName, p.NextHostedZoneId
	}
	if want := []string{"a-b.example.", "a.example.", "a.example.", "c.a.example.", "b.example."}; !slices.Equal(names, want) {
		t.Errorf("ListHostedZonesByName %q, want %q", names, want)
	}
	_, err := other.GetHostedZone(ctx, &sdk.GetHostedZoneInput{Id: aws.String(ids[0])})
	apiError(t, err, "NoSuchHostedZone", 404)
}

// TestSDKAuthErrors shows Route 53's authentication errors in its own
// format, which the SDK parses.
func TestSDKAuthErrors(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		acct testserver.Account
		code string
	}{
		{"unknown key", testserver.Account{AccessKey: "AKIAUNKNOWN000000000", SecretKey: "x"}, "InvalidClientTokenId"},
		{"wrong secret", testserver.Account{AccessKey: testserver.Bootstrap.AccessKey, SecretKey: "wrong"}, "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client(s, tc.acct).ListHostedZones(ctx, &sdk.ListHostedZonesInput{})
			apiError(t, err, tc.code, 403)
		})
	}
}
