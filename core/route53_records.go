package core

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Record sets of Route 53 hosted zones: ChangeResourceRecordSets and
// ListResourceRecordSets.
//
// A change batch is checked and applied in one transaction, change by
// change and in order, as Route 53 does (creating a CNAME before deleting
// the A record it replaces fails): each change sees the ones before it. A
// change that fails is not applied; the batch goes on so that every failure
// is reported, and then nothing is written. Request-shape errors
// (InvalidInput) stop at the first.

// Change actions.
const (
	ActionCreate = "CREATE"
	ActionDelete = "DELETE"
	ActionUpsert = "UPSERT"
)

// recordTypes are the types privlink stores, with Route 53's rules for
// their values. NAPTR and DS, which Route 53 also has, are refused.
var recordTypes = []string{"A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SOA", "SPF", "SRV", "TXT"}

// ChangeResourceRecordSetsInput is ChangeResourceRecordSets' request.
type ChangeResourceRecordSetsInput struct {
	HostedZoneID string
	Comment      string
	Changes      []RecordSetChange
}

// RecordSetChange is one change of a batch.
type RecordSetChange struct {
	Action string // CREATE, DELETE or UPSERT
	Set    RecordSetInput
}

// RecordSetInput is a record set as a change gives it. Records nil means
// no ResourceRecords element; TTL nil, no TTL.
type RecordSetInput struct {
	Name    string
	Type    string
	TTL     *int64
	Records []string
	Alias   *AliasTarget
	// HealthCheckID names a health check, of which privlink has none.
	HealthCheckID string
	// Routing names the routing-policy members the change gave
	// (SetIdentifier, Weight, Region, GeoLocation, Failover,
	// MultiValueAnswer, CidrRoutingConfig, GeoProximityLocation,
	// TrafficPolicyInstanceId): privlink serves simple routing only and
	// refuses them rather than ignore them.
	Routing []string
}

// ChangeBatchError is the InvalidChangeBatch error's list of messages, one
// per failed change, in the *Error's chain.
type ChangeBatchError struct {
	Messages []string
}

func (e *ChangeBatchError) Error() string { return "[" + strings.Join(e.Messages, ", ") + "]" }

// invalidChangeBatch is Route 53's error for a batch with failed changes:
// its message lists them in brackets.
func invalidChangeBatch(msgs []string) *Error {
	cb := &ChangeBatchError{Messages: msgs}
	return &Error{Kind: KindInvalid, Code: "InvalidChangeBatch", Message: cb.Error(), Err: cb}
}

// ChangeResourceRecordSets applies a batch of changes to one of the
// caller's zones, all or nothing.
func (c *Cloud) ChangeResourceRecordSets(ctx context.Context, caller Caller, in ChangeResourceRecordSetsInput) (ChangeInfo, error) {
	if len(in.Changes) == 0 {
		return ChangeInfo{}, r53InvalidInput("Invalid request: the change batch must contain at least one change.")
	}
	for _, ch := range in.Changes {
		if err := checkChangeShape(ch); err != nil {
			return ChangeInfo{}, err
		}
	}
	var change ChangeInfo
	err := c.update(ctx, func(t *txn) error {
		z, err := ownedZone(t, caller, in.HostedZoneID)
		if err != nil {
			return err
		}
		b := &batch{c: c, t: t, zone: z, seen: map[string][]string{}}
		for _, ch := range in.Changes {
			if msg, err := b.apply(ch); err != nil {
				return err
			} else if msg != "" {
				b.msgs = append(b.msgs, msg)
			}
		}
		if err := b.checkApex(); err != nil {
			return err
		}
		if len(b.msgs) > 0 {
			return invalidChangeBatch(b.msgs)
		}
		if b.delta != 0 {
			z.RecordSetCount += b.delta
			if err := put(t, keyHostedZone(z.ID), z); err != nil {
				return err
			}
		}
		change, err = c.recordChange(t, caller, in.Comment)
		return err
	})
	return change, err
}

// checkChangeShape refuses a change whose members do not make a record set
// privlink serves: InvalidInput, in Route 53's words where it has them.
func checkChangeShape(ch RecordSetChange) error {
	s := ch.Set
	describe := func() string {
		return fmt.Sprintf("Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=null]", ch.Action, s.Name, s.Type)
	}
	switch ch.Action {
	case ActionCreate, ActionDelete, ActionUpsert:
	default:
		return r53InvalidInput("Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'. It must be a value from the enumeration.", ch.Action)
	}
	if len(s.Routing) > 0 {
		return r53InvalidInput("Invalid request: privlink supports simple routing only, not %s, in %s", strings.Join(s.Routing, ", "), describe())
	}
	if !slices.Contains(recordTypes, s.Type) {
		return r53InvalidInput("Invalid request: privlink does not support record sets of type %s, in %s", s.Type, describe())
	}
	plain := s.TTL != nil && s.Records != nil
	switch {
	case s.Alias == nil && !plain:
		return r53InvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in %s", describe())
	case s.Alias != nil && (s.TTL != nil || s.Records != nil):
		return r53InvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in %s", describe())
	case s.TTL != nil && (*s.TTL < 0 || *s.TTL > 2147483647):
		return r53InvalidInput("Invalid request: TTL %d is out of range [0, 2147483647] in %s", *s.TTL, describe())
	}
	if s.HealthCheckID != "" {
		return Errorf(KindNotFound, "NoSuchHealthCheck", "A health check with id %s does not exist.", s.HealthCheckID)
	}
	return nil
}

// batch is a change batch being applied in a transaction.
type batch struct {
	c    *Cloud
	t    *txn
	zone *HostedZone
	// seen is the actions so far on each record set, by key.
	seen  map[string][]string
	msgs  []string
	delta int64 // record sets created minus deleted
	// apexTouched is set when a change deleted or replaced an apex SOA or
	// NS set, which must exist when the batch ends.
	apexTouched bool
}

// apply checks one change against the zone as the changes before it left
// it, and applies it. It returns the change's InvalidChangeBatch message,
// or an error that ends the batch.
func (b *batch) apply(ch RecordSetChange) (string, error) {
	s, z := ch.Set, b.zone
	name, p := canonicalName(s.Name)
	if p != nil {
		return p.fatal(s.Name), nil
	}
	if !inZone(name, z.Name) {
		return fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.Name), nil
	}
	key := recordSetKey(z.ID, name, s.Type)
	// A set may be deleted and created again in one batch, nothing else.
	prev := b.seen[key]
	b.seen[key] = append(prev, ch.Action)
	if len(prev) > 0 && !(len(prev) == 1 && prev[0] == ActionDelete && ch.Action == ActionCreate) {
		return fmt.Sprintf("The request contains an invalid set of changes for a resource record set '%s %s'", s.Type, name), nil
	}
	set := &ResourceRecordSet{ZoneID: z.ID, Name: name, Type: s.Type}
	if s.Alias != nil {
		a, msg, err := b.aliasTarget(name, s.Type, s.Alias, ch.Action == ActionDelete)
		if err != nil || msg != "" {
			return msg, err
		}
		set.Alias = a
	} else {
		if msg := checkValues(s.Type, name, s.Records); msg != "" {
			return msg, nil
		}
		set.TTL, set.Records = *s.TTL, slices.Clone(s.Records)
	}
	cur, exists, err := get[ResourceRecordSet](b.t, key)
	if err != nil {
		return "", err
	}
	label := fmt.Sprintf("[name='%s', type='%s']", name, s.Type)
	apex := name == z.Name
	if ch.Action == ActionDelete {
		switch {
		case !exists:
			return "Tried to delete resource record set " + label + " but it was not found", nil
		case !sameRecordSet(cur, set):
			return "Tried to delete resource record set " + label + " but the values provided do not match the current values", nil
		}
		if apex && (s.Type == "SOA" || s.Type == "NS") {
			b.apexTouched = true
		}
		b.delta--
		return "", del(b.t, key)
	}
	if ch.Action == ActionCreate && exists {
		return "Tried to create resource record set " + label + " but it already exists", nil
	}
	if msg, err := b.checkPlacement(set, apex); err != nil || msg != "" {
		return msg, err
	}
	if !exists {
		b.delta++
	}
	return "", b.c.putRecordSet(b.t, set)
}

// checkPlacement applies the rules of where a set may be: CNAME alone at
// its name and never at the apex, SOA only at the apex, no wildcard NS.
func (b *batch) checkPlacement(set *ResourceRecordSet, apex bool) (string, error) {
	z := b.zone
	switch set.Type {
	case "CNAME":
		if apex {
			return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", set.Name, z.Name), nil
		}
		for _, typ := range recordTypes {
			if typ == "CNAME" {
				continue
			}
			if _, ok, err := b.t.tx.Get(recordSetKey(z.ID, set.Name, typ)); err != nil || ok {
				if ok {
					return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", set.Name, z.Name), nil
				}
				return "", err
			}
		}
		return "", nil
	case "SOA":
		if !apex {
			return fmt.Sprintf("RRSet of type SOA with DNS name %s is not permitted because SOA records are allowed only at the apex of zone %s", set.Name, z.Name), nil
		}
	case "NS":
		if strings.HasPrefix(set.Name, wildcardLabel+".") {
			return fmt.Sprintf("RRSet of type NS with DNS name %s is not permitted because NS records cannot have a wildcard name in zone %s", set.Name, z.Name), nil
		}
	}
	if _, ok, err := b.t.tx.Get(recordSetKey(z.ID, set.Name, "CNAME")); err != nil || ok {
		if ok {
			// Two spaces before CNAME, as Route 53 writes it.
			return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone %s", set.Type, set.Name, z.Name), nil
		}
		return "", err
	}
	return "", nil
}

// checkApex refuses a batch that leaves the zone without its apex SOA or
// NS set.
func (b *batch) checkApex() error {
	if !b.apexTouched {
		return nil
	}
	z := b.zone
	if _, ok, err := b.t.tx.Get(recordSetKey(z.ID, z.Name, "SOA")); err != nil {
		return err
	} else if !ok {
		b.msgs = append(b.msgs, "A HostedZone must contain exactly one SOA record.")
	}
	if _, ok, err := b.t.tx.Get(recordSetKey(z.ID, z.Name, "NS")); err != nil {
		return err
	} else if !ok {
		b.msgs = append(b.msgs, "A HostedZone must contain at least one NS record for the zone itself.")
	}
	return nil
}

func (c *Cloud) putRecordSet(t *txn, s *ResourceRecordSet) error {
	return put(t, recordSetKey(s.ZoneID, s.Name, s.Type), s)
}

// sameRecordSet reports whether a DELETE's set matches the stored one:
// the same TTL and values (in any order), or the same alias target.
func sameRecordSet(cur, del *ResourceRecordSet) bool {
	if (cur.Alias == nil) != (del.Alias == nil) {
		return false
	}
	if cur.Alias != nil {
		return strings.EqualFold(cur.Alias.HostedZoneID, del.Alias.HostedZoneID) &&
			cur.Alias.DNSName == del.Alias.DNSName && cur.Alias.EvaluateTargetHealth == del.Alias.EvaluateTargetHealth
	}
	if cur.TTL != del.TTL || len(cur.Records) != len(del.Records) {
		return false
	}
	norm := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = normalValue(cur.Type, v)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(cur.Records), norm(del.Records))
}

// normalValue is a value in the form two equal values share.
func normalValue(typ, v string) string {
	switch typ {
	case "A", "AAAA":
		if a, err := netip.ParseAddr(v); err == nil {
			return a.String()
		}
	case "CNAME", "NS", "PTR":
		if n, p := canonicalName(v); p == nil {
			return n
		}
	}
	return v
}

// invalidRecord is Route 53's message for a value it cannot parse.
func invalidRecord(code, text, value string) string {
	return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s (%s) encountered with '%s''", code, text, value)
}

// checkValues checks a set's values against its type, and returns
// Route 53's message for the first that fails.
func checkValues(typ, name string, values []string) string {
	if len(values) == 0 {
		return "Invalid Resource Record: 'FATAL problem: RRDATAEmpty (Value is empty) encountered with '''"
	}
	seen := map[string]bool{}
	for _, v := range values {
		if msg := checkValue(typ, v); msg != "" {
			return msg
		}
		n := normalValue(typ, v)
		if seen[n] {
			return fmt.Sprintf("Duplicate Resource Record: '%s'", v)
		}
		seen[n] = true
	}
	switch typ {
	case "CNAME", "SOA":
		if len(values) > 1 {
			return fmt.Sprintf("RRSet of type %s with DNS name %s must have exactly one value, not %d", typ, name, len(values))
		}
	}
	return ""
}

func checkValue(typ, v string) string {
	switch typ {
	case "A":
		if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
			return invalidRecord("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address", v)
		}
	case "AAAA":
		if a, err := netip.ParseAddr(v); err != nil || !a.Is6() || a.Zone() != "" {
			return invalidRecord("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address", v)
		}
	case "CNAME", "NS", "PTR":
		return checkDomainValue(v)
	case "TXT", "SPF":
		if _, msg := characterStrings(v); msg != "" {
			return msg
		}
	case "MX":
		f := strings.Fields(v)
		switch {
		case len(f) == 1:
			return invalidRecord("MXRRDATAPriorityRequired", "MX record requires a priority and a mail server", v)
		case len(f) != 2:
			return invalidRecord("MXRRDATANotTwoFields", "Value must contain a priority and a mail server", v)
		case !uint16Field(f[0]):
			return invalidRecord("MXRRDATAIllegalPriority", "Priority must be an integer from 0 to 65535", v)
		}
		return checkDomainValue(f[1])
	case "SRV":
		f := strings.Fields(v)
		if len(f) != 4 {
			return invalidRecord("SRVRRDATANotFourFields", "Value must contain priority, weight, port and target", v)
		}
		for _, n := range f[:3] {
			if !uint16Field(n) {
				return invalidRecord("SRVRRDATAIllegalNumber", "Priority, weight and port must be integers from 0 to 65535", v)
			}
		}
		return checkDomainValue(f[3])
	case "SOA":
		f := strings.Fields(v)
		if len(f) != 7 {
			return invalidRecord("SOARRDATANotSevenFields", "Value must contain seven fields", v)
		}
		for _, n := range f[:2] {
			if msg := checkDomainValue(n); msg != "" {
				return msg
			}
		}
		for _, n := range f[2:] {
			if _, err := strconv.ParseUint(n, 10, 32); err != nil {
				return invalidRecord("SOARRDATAIllegalNumber", "Serial, refresh, retry, expire and minimum must be integers", v)
			}
		}
	case "CAA":
		f := strings.SplitN(v, " ", 3)
		if len(f) != 3 {
			return invalidRecord("CAARRDATANotThreeFields", "Value must contain flags, tag and value", v)
		}
		if n, err := strconv.ParseUint(f[0], 10, 8); err != nil || n > 255 {
			return invalidRecord("CAARRDATAIllegalFlags", "Flags must be an integer from 0 to 255", v)
		}
		if _, msg := characterStrings(f[2]); msg != "" {
			return msg
		}
	}
	return ""
}

func uint16Field(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

func checkDomainValue(v string) string {
	if n, p := canonicalName(v); p != nil || n == "." {
		if p == nil {
			p = problemLabelEmpty
		}
		return "Invalid Resource Record: '" + p.fatal(v) + "'"
	}
	return ""
}

// characterStrings parses a TXT value: one or more quoted strings of at
// most 255 bytes, separated by spaces, with \" \\ and \ooo escapes.
func characterStrings(v string) ([]string, string) {
	var out []string
	i := 0
	for {
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i == len(v) {
			break
		}
		if v[i] != '"' {
			return nil, invalidRecord("InvalidCharacterString", "Value should be enclosed in quotation marks", v)
		}
		i++
		var s []byte
		closed := false
		for i < len(v) {
			c := v[i]
			i++
			if c == '"' {
				closed = true
				break
			}
			if c == '\\' && i < len(v) {
				if i+2 < len(v) && isOctal(v[i]) && isOctal(v[i+1]) && isOctal(v[i+2]) {
					c = (v[i]-'0')<<6 | (v[i+1]-'0')<<3 | (v[i+2] - '0')
					i += 3
				} else {
					c = v[i]
					i++
				}
			}
			s = append(s, c)
		}
		if !closed {
			return nil, invalidRecord("InvalidCharacterString", "Value should be enclosed in quotation marks", v)
		}
		if len(s) > 255 {
			return nil, invalidRecord("CharacterStringTooLong", "Value is too long", v)
		}
		out = append(out, string(s))
	}
	if len(out) == 0 {
		return nil, invalidRecord("InvalidCharacterString", "Value should be enclosed in quotation marks", v)
	}
	return out, ""
}

// TXTStrings returns the character strings of a TXT or SPF value as Route
// 53 stores it ("\"v=spf1\" \"-all\""), unquoted and unescaped, for the DNS
// resolvers.
func TXTStrings(value string) []string {
	s, _ := characterStrings(value)
	return s
}

// aliasTarget checks an alias target and returns it in stored form:
// another set of this zone, an endpoint's DNS name (the region's vpce zone)
// or a load balancer's (the region's NLB zone). Its message is the change's
// InvalidChangeBatch message. A DELETE's target is only parsed: what it
// pointed at may be gone.
func (b *batch) aliasTarget(name, typ string, in *AliasTarget, deleting bool) (*AliasTarget, string, error) {
	z, region := b.zone, b.c.cfg.Region
	target, p := canonicalName(in.DNSName)
	if p != nil || target == "." {
		if p == nil {
			p = problemLabelEmpty
		}
		return nil, p.fatal(in.DNSName), nil
	}
	out := &AliasTarget{HostedZoneID: in.HostedZoneID, DNSName: target, EvaluateTargetHealth: in.EvaluateTargetHealth}
	fail := func(why string) (*AliasTarget, string, error) {
		return nil, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but %s", target, typ, in.HostedZoneID, why), nil
	}
	const outside, notFound = "the alias target name does not lie within the target zone", "that target was not found"
	if deleting {
		if strings.EqualFold(in.HostedZoneID, z.ID) {
			out.HostedZoneID = z.ID
		}
		return out, "", nil
	}
	switch {
	case typ == "SOA" || typ == "NS":
		return nil, fmt.Sprintf("RRSet of type %s with DNS name %s cannot be an alias", typ, name), nil
	case strings.EqualFold(in.HostedZoneID, z.ID):
		if !inZone(target, z.Name) {
			return fail(outside)
		}
		if target == name {
			return fail(notFound)
		}
		_, ok, err := b.t.tx.Get(recordSetKey(z.ID, target, typ))
		if err != nil || !ok {
			if err != nil {
				return nil, "", err
			}
			return fail(notFound)
		}
		out.HostedZoneID = z.ID
		return out, "", nil
	case in.HostedZoneID == vpceHostedZones[region] && in.HostedZoneID != "":
		if !strings.HasSuffix(target, "."+region+".vpce.amazonaws.com.") {
			return fail(outside)
		}
		if typ != "A" && typ != "AAAA" {
			return fail(notFound)
		}
		ok, err := b.c.endpointHasName(b.t, target)
		if err != nil || !ok {
			if err != nil {
				return nil, "", err
			}
			return fail(notFound)
		}
		return out, "", nil
	case in.HostedZoneID == nlbHostedZones[region] && in.HostedZoneID != "":
		if !strings.HasSuffix(target, ".elb."+region+".amazonaws.com.") {
			return fail(outside)
		}
		if typ != "A" && typ != "AAAA" {
			return fail(notFound)
		}
		lbName := strings.TrimPrefix(target, "dualstack.")
		found, err := exists(b.t, prefixLoadBalancers, func(lb *LoadBalancer) bool {
			return strings.EqualFold(lb.DNSName+".", lbName)
		})
		if err != nil || !found {
			if err != nil {
				return nil, "", err
			}
			return fail(notFound)
		}
		return out, "", nil
	}
	return fail(outside)
}

// endpointHasName reports whether the canonical name is the regional or a
// zonal DNS name of an interface endpoint that holds its names.
func (c *Cloud) endpointHasName(t *txn, name string) (bool, error) {
	first, _, _ := strings.Cut(name, ".")
	// vpce-<17 hex>-<8 chars>[-<zone>]
	if len(first) < len("vpce-")+17 || !strings.HasPrefix(first, "vpce-") {
		return false, nil
	}
	id := first[:len("vpce-")+17]
	e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
	if err != nil || !ok || !endpointLive(e.State) {
		return false, err
	}
	var zones []string
	for _, sid := range e.SubnetIDs {
		s, ok, err := get[Subnet](t, keySubnet(sid))
		if err != nil {
			return false, err
		}
		if ok {
			zones = append(zones, s.AvailabilityZone)
		}
	}
	for _, d := range endpointDNSEntries(c.cfg.Region, e, zones, "") {
		if d.DNSName+"." == name {
			return true, nil
		}
	}
	return false, nil
}

// ListResourceRecordSetsInput is ListResourceRecordSets' request: the page
// begins at the first set whose name (labels reversed) and type are at
// least StartRecordName and StartRecordType. MaxItems 0 means 300, Route
// 53's default and largest page.
type ListResourceRecordSetsInput struct {
	HostedZoneID          string
	StartRecordName       string
	StartRecordType       string
	StartRecordIdentifier string
	MaxItems              int
}

// RecordSetPage is a page of ListResourceRecordSets. When IsTruncated,
// NextRecordName and NextRecordType start the next page.
type RecordSetPage struct {
	RecordSets     []ResourceRecordSet
	IsTruncated    bool
	NextRecordName string
	NextRecordType string
}

// ListResourceRecordSets lists a page of one of the caller's zones, in
// Route 53's order. It reads only the keys from the page's start and
// decodes only the page, so a page costs the same in any zone.
func (c *Cloud) ListResourceRecordSets(ctx context.Context, caller Caller, in ListResourceRecordSetsInput) (RecordSetPage, error) {
	if in.StartRecordType != "" && in.StartRecordName == "" {
		return RecordSetPage{}, r53InvalidInput("The input is not valid: StartRecordType requires StartRecordName.")
	}
	if in.StartRecordType != "" && !slices.Contains(recordTypes, in.StartRecordType) && in.StartRecordType != "NAPTR" && in.StartRecordType != "DS" {
		return RecordSetPage{}, r53InvalidInput("Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS]'. It must be a value from the enumeration.", in.StartRecordType)
	}
	startName := ""
	if in.StartRecordName != "" {
		n, p := canonicalName(in.StartRecordName)
		if p != nil {
			return RecordSetPage{}, r53InvalidInput("Invalid request: %s", p.fatal(in.StartRecordName))
		}
		startName = n
	}
	size := pageSize(in.MaxItems, defaultRecordPage)
	var page RecordSetPage
	err := c.view(ctx, func(t *txn) error {
		z, err := ownedZone(t, caller, in.HostedZoneID)
		if err != nil {
			return err
		}
		prefix := prefixRecordSetsOf(z.ID)
		start := prefix
		if startName != "" {
			start = recordSetKey(z.ID, startName, in.StartRecordType)
			if in.StartRecordIdentifier != "" {
				// Sets without an identifier, all of privlink's, sort
				// before any identifier.
				start += "\x00"
			}
		}
		for kv, err := range t.rx.Scan(prefix) {
			if err != nil {
				return err
			}
			if kv.Key < start {
				continue
			}
			s, err := decode[ResourceRecordSet](t.memo, kv)
			if err != nil {
				return err
			}
			if len(page.RecordSets) == size {
				page.IsTruncated, page.NextRecordName, page.NextRecordType = true, s.Name, s.Type
				break
			}
			page.RecordSets = append(page.RecordSets, s.clone())
		}
		return nil
	})
	return page, err
}
