package core

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Route 53 hosted zones. A zone is public, or private to the VPCs it is
// associated with. Creating a zone creates its apex SOA and NS record sets,
// as Route 53 does; deleting it requires that nothing else is left. Every
// action records a change (GetChange), which is INSYNC as soon as it can be
// read: the resolvers serve what the store holds.
//
// Zones and record sets are stored apart (see keys.go): the zone carries its
// record-set count, kept in the same transaction as the sets.

// HostedZone is a Route 53 hosted zone.
type HostedZone struct {
	ID              string `json:"id"`      // Z + 20 upper-case letters and digits
	OwnerID         string `json:"ownerId"` // the account that created it
	Name            string `json:"name"`    // canonical (route53_names.go), e.g. "example.com."
	CallerReference string `json:"callerReference"`
	Comment         string `json:"comment,omitempty"`
	Private         bool   `json:"private"`
	// VPCs are a private zone's associations, in the order they were made.
	VPCs []ZoneVPC `json:"vpcs,omitempty"`
	// NameServers are the values of the apex NS record as created, which
	// is also the zone's delegation set.
	NameServers []string `json:"nameServers"`
	// RecordSetCount is ResourceRecordSetCount: every set, SOA and NS
	// included.
	RecordSetCount int64     `json:"recordSetCount"`
	CreatedAt      time.Time `json:"createdAt"`
}

// ZoneVPC is a VPC associated with a private hosted zone.
type ZoneVPC struct {
	VpcID  string `json:"vpcId"`
	Region string `json:"region"`
}

// ResourceRecordSet is one record set of a zone: a name and a type with
// either a TTL and values or an alias target.
type ResourceRecordSet struct {
	ZoneID string `json:"zoneId"`
	Name   string `json:"name"` // canonical; DNSName converts it for DNS
	Type   string `json:"type"` // A, AAAA, CNAME, TXT, MX, SRV, NS, SOA, PTR, SPF, CAA
	// TTL and Records are set when Alias is nil. Records are the values
	// in Route 53's text form, as the client gave them ("10 mail.example.com.",
	// "\"v=spf1 -all\"").
	TTL     int64        `json:"ttl,omitempty"`
	Records []string     `json:"records,omitempty"`
	Alias   *AliasTarget `json:"alias,omitempty"`
}

// AliasTarget is where an alias record set points: another record set of
// the same zone, an endpoint's DNS name (HostedZoneID is the vpce zone of
// the region) or a load balancer's.
type AliasTarget struct {
	HostedZoneID         string `json:"hostedZoneId"`
	DNSName              string `json:"dnsName"` // canonical
	EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
}

// Change statuses.
const (
	ChangePending = "PENDING"
	ChangeInSync  = "INSYNC"
)

// ChangeInfo is a submitted change. Actions answer with PENDING, as Route
// 53 does; GetChange reports INSYNC.
type ChangeInfo struct {
	ID          string // C + 20 upper-case letters and digits
	Status      string
	SubmittedAt time.Time
	Comment     string
}

// r53Change is a change as stored, for GetChange.
type r53Change struct {
	ID          string    `json:"id"`
	OwnerID     string    `json:"ownerId"`
	SubmittedAt time.Time `json:"submittedAt"`
	Comment     string    `json:"comment,omitempty"`
}

// callerRef remembers a CallerReference, which Route 53 never accepts
// twice from an account, even after the zone is gone.
type callerRef struct {
	ZoneID string `json:"zoneId"`
}

func (z *HostedZone) clone() HostedZone {
	c := *z
	c.VPCs = slices.Clone(z.VPCs)
	c.NameServers = slices.Clone(z.NameServers)
	return c
}

func (s *ResourceRecordSet) clone() ResourceRecordSet {
	c := *s
	c.Records = slices.Clone(s.Records)
	if s.Alias != nil {
		a := *s.Alias
		c.Alias = &a
	}
	return c
}

// Limits and defaults of Route 53.
const (
	maxHostedZonesPerAccount = 500
	defaultZonePage          = 100
	defaultRecordPage        = 300
	soaTTL                   = 900
	nsTTL                    = 172800
	hostedZoneIDAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// privateZoneNameServers are the name servers Route 53 gives every private
// hosted zone.
var privateZoneNameServers = []string{
	"ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net.",
}

// nameServerTLDs are the top-level domains of Route 53's name servers, each
// with its block of 512 server numbers: ns-<n>.awsdns-<(n%512)/8>.<tld>.
var nameServerTLDs = []string{"com", "net", "org", "co.uk"}

func nameServer(n int) string {
	return fmt.Sprintf("ns-%d.awsdns-%02d.%s.", n, (n%512)/8, nameServerTLDs[n/512])
}

// soaValue is the default SOA record of a zone whose first name server is ns.
func soaValue(ns string) string {
	return ns + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
}

// intn returns a number in [0, n) from the id source.
func (g idgen) intn(n int) int {
	var b [4]byte
	if _, err := io.ReadFull(g.r, b[:]); err != nil {
		panic(fmt.Sprintf("core: id source failed: %v", err))
	}
	return int(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) % n
}

// newZoneID and newChangeID make IDs in the form of Route 53's newer ones.
func (c *Cloud) newZoneID() string   { return "Z0" + c.ids.fromAlphabet(19, hostedZoneIDAlphabet) }
func (c *Cloud) newChangeID() string { return "C0" + c.ids.fromAlphabet(19, hostedZoneIDAlphabet) }

// Errors of Route 53, in its words.

func noSuchHostedZone(id string) *Error {
	return Errorf(KindNotFound, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
}

func r53InvalidInput(format string, args ...any) *Error {
	return Errorf(KindInvalid, "InvalidInput", format, args...)
}

func invalidVPCID(vpcID string) *Error {
	return Errorf(KindInvalid, "InvalidVPCId",
		"The VPC ID '%s' that you specified either isn't a valid ID or the current account is not authorized to access this VPC.", vpcID)
}

func conflictingDomain(vpc ZoneVPC, name string) *Error {
	return Errorf(KindConflict, "ConflictingDomainExists",
		"The VPC that you chose, %s in region %s, is already associated with another private hosted zone that has an overlapping name space, %s.",
		vpc.VpcID, vpc.Region, name)
}

// recordChange stores a new change and returns it as actions report it.
func (c *Cloud) recordChange(t *txn, caller Caller, comment string) (ChangeInfo, error) {
	ch := r53Change{ID: c.newChangeID(), OwnerID: caller.AccountID, SubmittedAt: c.now(), Comment: comment}
	if err := put(t, keyR53Change(ch.ID), ch); err != nil {
		return ChangeInfo{}, err
	}
	return ChangeInfo{ID: ch.ID, Status: ChangePending, SubmittedAt: ch.SubmittedAt, Comment: comment}, nil
}

// ownedZone reads a zone of the caller's. Zones of other accounts do not
// exist for the caller.
func ownedZone(t *txn, caller Caller, id string) (*HostedZone, error) {
	z, ok, err := get[HostedZone](t, keyHostedZone(id))
	if err != nil {
		return nil, err
	}
	if !ok || z.OwnerID != caller.AccountID {
		return nil, noSuchHostedZone(id)
	}
	return z, nil
}

// CreateHostedZoneInput is CreateHostedZone's request.
type CreateHostedZoneInput struct {
	Name            string
	CallerReference string
	Comment         string
	// PrivateZone is HostedZoneConfig's: a private zone also needs VPC.
	PrivateZone bool
	// VPC makes the zone private to it. Region "" is the cloud's region.
	VPC             *ZoneVPC
	DelegationSetID string
}

// CreateHostedZone creates a zone with its SOA and NS record sets: a public
// zone with four name servers that no zone of the same, a parent or a child
// name has, a private zone associated with the VPC, which must be the
// caller's.
func (c *Cloud) CreateHostedZone(ctx context.Context, caller Caller, in CreateHostedZoneInput) (HostedZone, ChangeInfo, error) {
	name, p := canonicalName(in.Name)
	switch {
	case p != nil || name == ".":
		return HostedZone{}, ChangeInfo{}, Errorf(KindInvalid, "InvalidDomainName", "%s is not a valid domain name.", in.Name)
	case len(nameLabels(name)) < 2 && in.VPC == nil:
		return HostedZone{}, ChangeInfo{}, Errorf(KindInvalid, "InvalidDomainName", "%s is reserved by AWS!", strings.TrimSuffix(name, "."))
	case in.CallerReference == "":
		return HostedZone{}, ChangeInfo{}, r53InvalidInput("CallerReference must not be empty.")
	case in.DelegationSetID != "":
		return HostedZone{}, ChangeInfo{}, Errorf(KindInvalid, "NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist: %s", in.DelegationSetID)
	case in.PrivateZone && in.VPC == nil:
		return HostedZone{}, ChangeInfo{}, r53InvalidInput("When you're creating a private hosted zone (when you specify true for PrivateZone), you must also specify values for VPCId and VPCRegion.")
	}
	var vpc ZoneVPC
	if in.VPC != nil {
		vpc = c.zoneVPC(*in.VPC)
	}
	var out HostedZone
	var change ChangeInfo
	err := c.update(ctx, func(t *txn) error {
		if _, ok, err := get[callerRef](t, keyCallerRef(caller.AccountID, in.CallerReference)); err != nil {
			return err
		} else if ok {
			return Errorf(KindConflict, "HostedZoneAlreadyExists", "A hosted zone has already been created with the specified caller reference.")
		}
		zones, err := listWhere(t, prefixHostedZones, func(*HostedZone) bool { return true })
		if err != nil {
			return err
		}
		owned := 0
		for _, z := range zones {
			if z.OwnerID == caller.AccountID {
				owned++
			}
		}
		if owned >= maxHostedZonesPerAccount {
			return Errorf(KindLimit, "TooManyHostedZones", "Limits Exceeded: MAX_HOSTED_ZONES_BY_OWNER - Cannot create more than %d hosted zones.", maxHostedZonesPerAccount)
		}
		z := HostedZone{
			ID: c.newZoneID(), OwnerID: caller.AccountID, Name: name, CallerReference: in.CallerReference,
			Comment: in.Comment, Private: in.VPC != nil, CreatedAt: c.now(),
		}
		if z.Private {
			if err := c.checkAssociation(t, caller, zones, &z, vpc); err != nil {
				return err
			}
			z.VPCs = []ZoneVPC{vpc}
			z.NameServers = slices.Clone(privateZoneNameServers)
		} else {
			z.NameServers = c.pickNameServers(zones, name)
		}
		if err := c.putRecordSet(t, &ResourceRecordSet{ZoneID: z.ID, Name: name, Type: "SOA", TTL: soaTTL, Records: []string{soaValue(z.NameServers[0])}}); err != nil {
			return err
		}
		if err := c.putRecordSet(t, &ResourceRecordSet{ZoneID: z.ID, Name: name, Type: "NS", TTL: nsTTL, Records: slices.Clone(z.NameServers)}); err != nil {
			return err
		}
		z.RecordSetCount = 2
		if err := put(t, keyHostedZone(z.ID), z); err != nil {
			return err
		}
		if err := put(t, keyCallerRef(caller.AccountID, in.CallerReference), callerRef{ZoneID: z.ID}); err != nil {
			return err
		}
		out = z
		change, err = c.recordChange(t, caller, "")
		return err
	})
	if err != nil {
		return HostedZone{}, ChangeInfo{}, err
	}
	return out, change, nil
}

// zoneVPC fills in the region of a VPC given for a zone.
func (c *Cloud) zoneVPC(v ZoneVPC) ZoneVPC {
	if v.Region == "" {
		v.Region = c.cfg.Region
	}
	return v
}

// checkAssociation refuses to associate vpc with zone z unless the VPC is
// the caller's and in this cloud's region, and no private zone of the same
// name, nor an endpoint's private DNS name, claims the name in it already.
// zones are every zone.
func (c *Cloud) checkAssociation(t *txn, caller Caller, zones []*HostedZone, z *HostedZone, vpc ZoneVPC) error {
	if vpc.Region != c.cfg.Region || !validID(vpc.VpcID, "vpc") {
		return invalidVPCID(vpc.VpcID)
	}
	v, ok, err := get[VPC](t, keyVPC(vpc.VpcID))
	if err != nil {
		return err
	}
	if !ok || v.OwnerID != caller.AccountID {
		return invalidVPCID(vpc.VpcID)
	}
	for _, other := range zones {
		if other.Private && other.Name == z.Name && slices.ContainsFunc(other.VPCs, func(a ZoneVPC) bool { return a.VpcID == vpc.VpcID }) {
			return conflictingDomain(vpc, z.Name)
		}
	}
	claimed, err := c.endpointClaimsName(t, vpc.VpcID, z.Name)
	if err != nil {
		return err
	}
	if claimed {
		return conflictingDomain(vpc, z.Name)
	}
	return nil
}

// endpointClaimsName reports whether an endpoint in the VPC has private DNS
// enabled for a service whose private DNS name is the canonical name: AWS
// keeps a private zone of that name in the VPC for the endpoint.
func (c *Cloud) endpointClaimsName(t *txn, vpcID, name string) (bool, error) {
	inVPC, err := endpointsInVPC(t, vpcID)
	if err != nil {
		return false, err
	}
	var services []string
	for _, e := range inVPC {
		if e.PrivateDNSEnabled && endpointLive(e.State) {
			services = append(services, e.ServiceID)
		}
	}
	if len(services) == 0 {
		return false, nil
	}
	for _, id := range services {
		s, ok, err := get[EndpointService](t, keyEndpointService(id))
		if err != nil {
			return false, err
		}
		if !ok || s.PrivateDNSName == "" {
			continue
		}
		// A wildcard name (*.example.com) claims its parent's zone.
		if n, p := canonicalName(privateDNSZoneName(s.PrivateDNSName)); p == nil && n == name {
			return true, nil
		}
	}
	return false, nil
}

// endpointLive reports an endpoint state in which the endpoint holds its
// names.
func endpointLive(state string) bool {
	switch state {
	case EndpointPendingAcceptance, EndpointPending, EndpointAvailable:
		return true
	}
	return false
}

// privateZoneClaims reports whether a private hosted zone with the name
// (in any form Route 53 accepts) is associated with the VPC: the endpoint
// actions call it, in their transaction, to refuse a private DNS name that
// a zone already serves there, as AWS does.
func (c *Cloud) privateZoneClaims(t *txn, vpcID, name string) (bool, error) {
	n, p := canonicalName(name)
	if p != nil {
		return false, nil
	}
	return exists(t, prefixHostedZones, func(z *HostedZone) bool {
		return z.Private && z.Name == n && slices.ContainsFunc(z.VPCs, func(a ZoneVPC) bool { return a.VpcID == vpcID })
	})
}

// pickNameServers chooses a public zone's four name servers, one in each
// top-level domain, none shared with a public zone whose name is the same
// as name, a parent or a child of it (Route 53's rule, so that delegation
// can tell them apart).
func (c *Cloud) pickNameServers(zones []*HostedZone, name string) []string {
	taken := map[string]bool{}
	for _, z := range zones {
		if !z.Private && (inZone(z.Name, name) || inZone(name, z.Name)) {
			for _, ns := range z.NameServers {
				taken[ns] = true
			}
		}
	}
	out := make([]string, 0, len(nameServerTLDs))
	for i := range nameServerTLDs {
		ns := ""
		for range 64 {
			if ns = nameServer(i*512 + c.ids.intn(512)); !taken[ns] {
				break
			}
		}
		out = append(out, ns)
	}
	return out
}

// GetHostedZone returns one of the caller's zones.
func (c *Cloud) GetHostedZone(ctx context.Context, caller Caller, id string) (HostedZone, error) {
	var out HostedZone
	err := c.view(ctx, func(t *txn) error {
		z, err := ownedZone(t, caller, id)
		if err != nil {
			return err
		}
		out = z.clone()
		return nil
	})
	return out, err
}

// ListHostedZonesInput is ListHostedZones' request. MaxItems 0 means
// Route 53's default of 100, and larger pages are cut to 100.
type ListHostedZonesInput struct {
	Marker          string // the ID to start at, NextMarker of the previous page
	MaxItems        int
	PrivateOnly     bool // HostedZoneType=PrivateHostedZone
	DelegationSetID string
}

// HostedZonePage is a page of ListHostedZones.
type HostedZonePage struct {
	Zones       []HostedZone
	IsTruncated bool
	NextMarker  string
}

// ListHostedZones lists the caller's zones in ID order.
func (c *Cloud) ListHostedZones(ctx context.Context, caller Caller, in ListHostedZonesInput) (HostedZonePage, error) {
	if in.DelegationSetID != "" {
		return HostedZonePage{}, Errorf(KindInvalid, "NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist: %s", in.DelegationSetID)
	}
	size := pageSize(in.MaxItems, defaultZonePage)
	var page HostedZonePage
	err := c.view(ctx, func(t *txn) error {
		return forEachStop(t, prefixHostedZones, func(z *HostedZone) bool {
			if z.OwnerID != caller.AccountID || z.ID < in.Marker || (in.PrivateOnly && !z.Private) {
				return true
			}
			if len(page.Zones) == size {
				page.IsTruncated, page.NextMarker = true, z.ID
				return false
			}
			page.Zones = append(page.Zones, z.clone())
			return true
		})
	})
	return page, err
}

// pageSize is MaxItems with Route 53's default and cap.
func pageSize(maxItems, limit int) int {
	if maxItems <= 0 || maxItems > limit {
		return limit
	}
	return maxItems
}

// forEachStop is forEach that stops when fn returns false. The objects are
// shared, as forEach's are.
func forEachStop[T any](t *txn, prefix string, fn func(*T) bool) error {
	more := true
	return forEach(t, prefix, func(v *T) {
		if more {
			more = fn(v)
		}
	})
}

// ListHostedZonesByNameInput is ListHostedZonesByName's request: the page
// starts at the first zone whose name (labels reversed) and then ID are at
// least DNSName and HostedZoneID.
type ListHostedZonesByNameInput struct {
	DNSName      string
	HostedZoneID string
	MaxItems     int
}

// HostedZonesByNamePage is a page of ListHostedZonesByName.
type HostedZonesByNamePage struct {
	Zones            []HostedZone
	IsTruncated      bool
	NextDNSName      string
	NextHostedZoneID string
}

// ListHostedZonesByName lists the caller's zones by name, labels reversed,
// then by ID.
func (c *Cloud) ListHostedZonesByName(ctx context.Context, caller Caller, in ListHostedZonesByNameInput) (HostedZonesByNamePage, error) {
	start := ""
	if in.DNSName != "" {
		n, p := canonicalName(in.DNSName)
		if p != nil {
			return HostedZonesByNamePage{}, Errorf(KindInvalid, "InvalidDomainName", "%s is not a valid domain name.", in.DNSName)
		}
		start = reversedName(n)
	} else if in.HostedZoneID != "" {
		return HostedZonesByNamePage{}, r53InvalidInput("The parameter hostedzoneid can be specified only together with dnsname.")
	}
	size := pageSize(in.MaxItems, defaultZonePage)
	var zones []*HostedZone
	err := c.view(ctx, func(t *txn) error {
		return forEach(t, prefixHostedZones, func(z *HostedZone) {
			if z.OwnerID == caller.AccountID {
				zones = append(zones, z)
			}
		})
	})
	if err != nil {
		return HostedZonesByNamePage{}, err
	}
	slices.SortFunc(zones, func(a, b *HostedZone) int {
		if c := strings.Compare(reversedName(a.Name), reversedName(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var page HostedZonesByNamePage
	for _, z := range zones {
		r := reversedName(z.Name)
		if r < start || (r == start && z.ID < in.HostedZoneID) {
			continue
		}
		if len(page.Zones) == size {
			page.IsTruncated, page.NextDNSName, page.NextHostedZoneID = true, z.Name, z.ID
			break
		}
		page.Zones = append(page.Zones, z.clone())
	}
	return page, nil
}

// DeleteHostedZone deletes a zone that holds nothing but its apex SOA and
// NS record sets. Its CallerReference stays taken.
func (c *Cloud) DeleteHostedZone(ctx context.Context, caller Caller, id string) (ChangeInfo, error) {
	var change ChangeInfo
	err := c.update(ctx, func(t *txn) error {
		z, err := ownedZone(t, caller, id)
		if err != nil {
			return err
		}
		if z.RecordSetCount > 2 {
			return Errorf(KindConflict, "HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
		}
		kvs, err := t.tx.List(prefixRecordSetsOf(z.ID))
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := del(t, kv.Key); err != nil {
				return err
			}
		}
		if err := del(t, keyHostedZone(z.ID)); err != nil {
			return err
		}
		change, err = c.recordChange(t, caller, "")
		return err
	})
	return change, err
}

// AssociateVPCWithHostedZone associates one of the caller's VPCs with one of
// its private zones.
func (c *Cloud) AssociateVPCWithHostedZone(ctx context.Context, caller Caller, zoneID string, vpc ZoneVPC, comment string) (ChangeInfo, error) {
	vpc = c.zoneVPC(vpc)
	var change ChangeInfo
	err := c.update(ctx, func(t *txn) error {
		z, err := ownedZone(t, caller, zoneID)
		if err != nil {
			return err
		}
		if !z.Private {
			return Errorf(KindInvalid, "PublicZoneVPCAssociation", "Attempting to associate public zone: %s with vpc: %s", z.ID, vpc.VpcID)
		}
		zones, err := listWhere(t, prefixHostedZones, func(o *HostedZone) bool { return o.Private && o.Name == z.Name })
		if err != nil {
			return err
		}
		if err := c.checkAssociation(t, caller, zones, z, vpc); err != nil {
			return err
		}
		z.VPCs = append(z.VPCs, vpc)
		if err := put(t, keyHostedZone(z.ID), z); err != nil {
			return err
		}
		change, err = c.recordChange(t, caller, comment)
		return err
	})
	return change, err
}

// DisassociateVPCFromHostedZone removes a VPC from a private zone, unless it
// is the zone's last. The VPC itself need not exist any more.
func (c *Cloud) DisassociateVPCFromHostedZone(ctx context.Context, caller Caller, zoneID string, vpc ZoneVPC, comment string) (ChangeInfo, error) {
	vpc = c.zoneVPC(vpc)
	if !validID(vpc.VpcID, "vpc") {
		return ChangeInfo{}, invalidVPCID(vpc.VpcID)
	}
	var change ChangeInfo
	err := c.update(ctx, func(t *txn) error {
		z, err := ownedZone(t, caller, zoneID)
		if err != nil {
			return err
		}
		i := slices.Index(z.VPCs, vpc)
		if i < 0 {
			return Errorf(KindNotFound, "VPCAssociationNotFound", "The specified VPC %s and hosted zone %s are not currently associated.", vpc.VpcID, z.ID)
		}
		if len(z.VPCs) == 1 {
			return Errorf(KindInvalid, "LastVPCAssociation",
				"The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.")
		}
		z.VPCs = slices.Delete(z.VPCs, i, i+1)
		if err := put(t, keyHostedZone(z.ID), z); err != nil {
			return err
		}
		change, err = c.recordChange(t, caller, comment)
		return err
	})
	return change, err
}

// GetChange reports one of the caller's changes, which is always INSYNC.
func (c *Cloud) GetChange(ctx context.Context, caller Caller, id string) (ChangeInfo, error) {
	var out ChangeInfo
	err := c.view(ctx, func(t *txn) error {
		ch, ok, err := get[r53Change](t, keyR53Change(id))
		if err != nil {
			return err
		}
		if !ok || ch.OwnerID != caller.AccountID {
			return Errorf(KindNotFound, "NoSuchChange", "Could not find resource with ID: %s", id)
		}
		out = ChangeInfo{ID: ch.ID, Status: ChangeInSync, SubmittedAt: ch.SubmittedAt, Comment: ch.Comment}
		return nil
	})
	return out, err
}
