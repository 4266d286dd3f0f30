package core

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCanonicalName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		problem  *nameProblem
	}{
		{in: "example.com", want: "example.com."},
		{in: "WWW.Example.COM.", want: "www.example.com."},
		{in: "*.example.com", want: `\052.example.com.`},
		{in: `\052.example.com`, want: `\052.example.com.`},
		{in: "_srv._tcp.example.com", want: "_srv._tcp.example.com."},
		{in: `a\101b.example.com`, want: "aab.example.com."}, // \101 is 'A', stored lower-case
		{in: `a\.b.example.com`, want: `a\056b.example.com.`},
		{in: "a!b.example.com", want: `a\041b.example.com.`},
		{in: ".", want: "."},
		{in: "a..example.com", problem: problemLabelEmpty},
		{in: ".example.com", problem: problemLabelEmpty},
		{in: strings.Repeat("a", 64) + ".com", problem: problemLabelTooLong},
		{in: strings.Repeat(strings.Repeat("a", 63)+".", 4) + "com", problem: problemNameTooLong},
		{in: "a b.example.com", problem: problemBadCharacter},
		{in: `a\9b.example.com`, problem: problemBadEscape},
		{in: `a\`, problem: problemBadEscape},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, p := canonicalName(tc.in)
			if p != tc.problem || got != tc.want {
				t.Errorf("canonicalName(%q) = %q, %v; want %q, %v", tc.in, got, p, tc.want, tc.problem)
			}
		})
	}
}

func TestRoute53NameHelpers(t *testing.T) {
	if got := reversedName("www.example.com."); got != "com.example.www." {
		t.Errorf("reversedName = %q", got)
	}
	for _, tc := range []struct {
		name, zone string
		want       bool
	}{
		{"example.com.", "example.com.", true},
		{"a.b.example.com.", "example.com.", true},
		{"aexample.com.", "example.com.", false},
		{"example.org.", "example.com.", false},
	} {
		if got := inZone(tc.name, tc.zone); got != tc.want {
			t.Errorf("inZone(%q, %q) = %v", tc.name, tc.zone, got)
		}
	}
	for in, want := range map[string]string{
		`\052.example.com.`:   "*.example.com.",
		`a\052.example.com.`:  "a*.example.com.",
		`a\056b.example.com.`: `a\.b.example.com.`,
		`a\040b.example.com.`: `a\032b.example.com.`,
		"www.example.com.":    "www.example.com.",
	} {
		if got := DNSName(in); got != want {
			t.Errorf("DNSName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := TXTStrings(`"v=spf1 -all" "a\"b" "\101"`); !slices.Equal(got, []string{"v=spf1 -all", `a"b`, "A"}) {
		t.Errorf("TXTStrings = %q", got)
	}
}

// r53 is a test cloud with Route 53 helpers.
type r53 struct {
	*testCloud
	ctx context.Context
}

func newR53(t *testing.T) r53 {
	return r53{testCloud: newTestCloud(t), ctx: context.Background()}
}

func (r r53) zone(t *testing.T, caller Caller, name string, vpc *ZoneVPC) HostedZone {
	t.Helper()
	z, _, err := r.CreateHostedZone(r.ctx, caller, CreateHostedZoneInput{Name: name, CallerReference: "ref-" + name + fmt.Sprint(r.now.UnixNano()), VPC: vpc})
	if err != nil {
		t.Fatal(err)
	}
	*r.now = r.now.Add(1) // the next zone's caller reference differs
	return z
}

func (r r53) change(caller Caller, zoneID string, changes ...RecordSetChange) error {
	_, err := r.ChangeResourceRecordSets(r.ctx, caller, ChangeResourceRecordSetsInput{HostedZoneID: zoneID, Changes: changes})
	return err
}

func (r r53) mustChange(t *testing.T, caller Caller, zoneID string, changes ...RecordSetChange) {
	t.Helper()
	if err := r.change(caller, zoneID, changes...); err != nil {
		t.Fatal(err)
	}
}

func (r r53) list(t *testing.T, caller Caller, zoneID string) []ResourceRecordSet {
	t.Helper()
	p, err := r.ListResourceRecordSets(r.ctx, caller, ListResourceRecordSetsInput{HostedZoneID: zoneID})
	if err != nil {
		t.Fatal(err)
	}
	return p.RecordSets
}

func rr(action, name, typ string, ttl int64, values ...string) RecordSetChange {
	return RecordSetChange{Action: action, Set: RecordSetInput{Name: name, Type: typ, TTL: &ttl, Records: values}}
}

func alias(action, name, typ, zoneID, target string) RecordSetChange {
	return RecordSetChange{Action: action, Set: RecordSetInput{Name: name, Type: typ, Alias: &AliasTarget{HostedZoneID: zoneID, DNSName: target}}}
}

// setNames lists sets as "name type".
func setNames(sets []ResourceRecordSet) []string {
	var out []string
	for _, s := range sets {
		out = append(out, s.Name+" "+s.Type)
	}
	return out
}

var (
	zoneIDPattern   = regexp.MustCompile(`^Z[0-9A-Z]{13,21}$`)
	changeIDPattern = regexp.MustCompile(`^C[0-9A-Z]{13,21}$`)
	nsPattern       = regexp.MustCompile(`^ns-(\d+)\.awsdns-(\d\d)\.(com|net|org|co\.uk)\.$`)
)

func TestCreatePublicHostedZone(t *testing.T) {
	r := newR53(t)
	z, change, err := r.CreateHostedZone(r.ctx, acctA, CreateHostedZoneInput{Name: "Example.COM", CallerReference: "r1", Comment: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if !zoneIDPattern.MatchString(z.ID) || !changeIDPattern.MatchString(change.ID) {
		t.Errorf("IDs %q, %q are not in Route 53's form", z.ID, change.ID)
	}
	if z.Name != "example.com." || z.Private || z.Comment != "hello" || z.RecordSetCount != 2 || change.Status != ChangePending {
		t.Errorf("zone %+v, change %+v", z, change)
	}
	if len(z.NameServers) != 4 {
		t.Fatalf("name servers %q", z.NameServers)
	}
	for i, ns := range z.NameServers {
		m := nsPattern.FindStringSubmatch(ns)
		if m == nil || m[3] != strings.TrimSuffix(nameServerTLDs[i], ".") {
			t.Errorf("name server %q is not a Route 53 one in %s", ns, nameServerTLDs[i])
			continue
		}
		var n, group int
		fmt.Sscan(m[1], &n)
		fmt.Sscan(m[2], &group)
		if n/512 != i || group != (n%512)/8 {
			t.Errorf("name server %q: number and group disagree", ns)
		}
	}
	sets := r.list(t, acctA, z.ID)
	if got := setNames(sets); !slices.Equal(got, []string{"example.com. NS", "example.com. SOA"}) {
		t.Fatalf("default record sets %q", got)
	}
	if ns := sets[0]; ns.TTL != 172800 || !slices.Equal(ns.Records, z.NameServers) {
		t.Errorf("NS set %+v", ns)
	}
	if soa := sets[1]; soa.TTL != 900 || !slices.Equal(soa.Records, []string{z.NameServers[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}) {
		t.Errorf("SOA set %+v", soa)
	}
	got, err := r.GetHostedZone(r.ctx, acctA, z.ID)
	if err != nil || got.Name != z.Name || got.CallerReference != "r1" {
		t.Errorf("GetHostedZone = %+v, %v", got, err)
	}
	if _, err := r.GetHostedZone(r.ctx, acctB, z.ID); !IsKind(err, KindNotFound) {
		t.Errorf("another account's GetHostedZone: %v", err)
	}

	// A zone of the same name and one of a child get other name servers.
	for _, name := range []string{"example.com", "sub.example.com"} {
		other, _, err := r.CreateHostedZone(r.ctx, acctB, CreateHostedZoneInput{Name: name, CallerReference: "r-" + name})
		if err != nil {
			t.Fatal(err)
		}
		for _, ns := range other.NameServers {
			if slices.Contains(z.NameServers, ns) {
				t.Errorf("%s shares name server %s with example.com", name, ns)
			}
		}
	}
}

func TestCreateHostedZoneErrors(t *testing.T) {
	r := newR53(t)
	vpc := r.vpc(t, acctA, "10.0.0.0/16")
	other := r.vpc(t, acctB, "10.0.0.0/16")
	r.zone(t, acctA, "taken.example", &ZoneVPC{VpcID: vpc.ID})
	if _, _, err := r.CreateHostedZone(r.ctx, acctA, CreateHostedZoneInput{Name: "dup.example", CallerReference: "dup"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   CreateHostedZoneInput
		code string
	}{
		{"caller reference reused", CreateHostedZoneInput{Name: "other.example", CallerReference: "dup"}, "HostedZoneAlreadyExists"},
		{"top-level domain", CreateHostedZoneInput{Name: "com", CallerReference: "x"}, "InvalidDomainName"},
		{"bad name", CreateHostedZoneInput{Name: "a..b", CallerReference: "x"}, "InvalidDomainName"},
		{"delegation set", CreateHostedZoneInput{Name: "a.example", CallerReference: "x", DelegationSetID: "N123"}, "NoSuchDelegationSet"},
		{"private without VPC", CreateHostedZoneInput{Name: "a.example", CallerReference: "x", PrivateZone: true}, "InvalidInput"},
		{"VPC of another account", CreateHostedZoneInput{Name: "a.example", CallerReference: "x", VPC: &ZoneVPC{VpcID: other.ID}}, "InvalidVPCId"},
		{"VPC missing", CreateHostedZoneInput{Name: "a.example", CallerReference: "x", VPC: &ZoneVPC{VpcID: "vpc-0123456789abcdef0"}}, "InvalidVPCId"},
		{"VPC in another region", CreateHostedZoneInput{Name: "a.example", CallerReference: "x", VPC: &ZoneVPC{VpcID: vpc.ID, Region: "eu-west-1"}}, "InvalidVPCId"},
		{"same name in the VPC", CreateHostedZoneInput{Name: "TAKEN.example.", CallerReference: "x", VPC: &ZoneVPC{VpcID: vpc.ID}}, "ConflictingDomainExists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.failsUnchanged(t, tc.code, func() error {
				_, _, err := r.CreateHostedZone(r.ctx, acctA, tc.in)
				return err
			})
		})
	}
}

func TestPrivateZoneConflictsWithEndpointPrivateDNS(t *testing.T) {
	r := newR53(t)
	vpc := r.vpc(t, acctA, "10.0.0.0/16")
	svc := EndpointService{ID: "vpce-svc-0123456789abcdef0", OwnerID: acctB.AccountID, PrivateDNSName: "api.example.com", PrivateDNSNameState: "verified"}
	r.putRaw(t, keyEndpointService(svc.ID), svc)
	r.putRaw(t, keyEndpoint("vpce-0123456789abcdef0"), VpcEndpoint{
		ID: "vpce-0123456789abcdef0", OwnerID: acctA.AccountID, VpcID: vpc.ID, ServiceID: svc.ID,
		State: EndpointAvailable, PrivateDNSEnabled: true,
	})
	e := r.failsUnchanged(t, "ConflictingDomainExists", func() error {
		_, _, err := r.CreateHostedZone(r.ctx, acctA, CreateHostedZoneInput{Name: "API.example.com", CallerReference: "x", VPC: &ZoneVPC{VpcID: vpc.ID}})
		return err
	})
	want := "The VPC that you chose, " + vpc.ID + " in region us-east-1, is already associated with another private hosted zone that has an overlapping name space, api.example.com.."
	if e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
	// A zone of another name is fine, and it is what the endpoint code
	// asks about.
	z := r.zone(t, acctA, "internal.example", &ZoneVPC{VpcID: vpc.ID})
	err := r.view(r.ctx, func(tx *txn) error {
		for _, tc := range []struct {
			name string
			want bool
		}{{"Internal.Example.", true}, {"other.example", false}} {
			got, err := r.privateZoneClaims(tx, vpc.ID, tc.name)
			if err != nil {
				return err
			}
			if got != tc.want {
				t.Errorf("privateZoneClaims(%s) = %v", tc.name, got)
			}
		}
		return nil
	})
	if err != nil || !z.Private || z.VPCs[0] != (ZoneVPC{VpcID: vpc.ID, Region: "us-east-1"}) {
		t.Errorf("zone %+v, %v", z, err)
	}
	if !slices.Equal(z.NameServers, privateZoneNameServers) {
		t.Errorf("private zone name servers %q", z.NameServers)
	}
}

func TestChangeResourceRecordSets(t *testing.T) {
	r := newR53(t)
	z := r.zone(t, acctA, "example.com", nil)
	r.mustChange(t, acctA, z.ID,
		rr(ActionCreate, "www.example.com", "A", 300, "192.0.2.1", "192.0.2.2"),
		rr(ActionCreate, "WWW.example.com.", "AAAA", 300, "2001:db8::1"),
		rr(ActionCreate, "api.example.com", "CNAME", 60, "www.example.com"),
		rr(ActionCreate, "example.com", "TXT", 300, `"v=spf1 -all"`, `"a" "b"`),
		rr(ActionCreate, "example.com", "MX", 300, "10 mail.example.com."),
		rr(ActionCreate, "_sip._tcp.example.com", "SRV", 300, "1 10 5060 sip.example.com."),
		rr(ActionCreate, "*.example.com", "A", 300, "192.0.2.9"),
		alias(ActionCreate, "short.example.com", "A", z.ID, "www.example.com"),
	)
	got := setNames(r.list(t, acctA, z.ID))
	want := []string{
		"example.com. MX", "example.com. NS", "example.com. SOA", "example.com. TXT",
		`\052.example.com. A`, "_sip._tcp.example.com. SRV", "api.example.com. CNAME",
		"short.example.com. A", "www.example.com. A", "www.example.com. AAAA",
	}
	if !slices.Equal(got, want) {
		t.Errorf("record sets\n got %q\nwant %q", got, want)
	}
	zone, _ := r.GetHostedZone(r.ctx, acctA, z.ID)
	if zone.RecordSetCount != int64(len(want)) {
		t.Errorf("RecordSetCount = %d, want %d", zone.RecordSetCount, len(want))
	}

	// UPSERT replaces, DELETE needs the current values, and DELETE then
	// CREATE of one set in a batch replaces it.
	r.mustChange(t, acctA, z.ID, rr(ActionUpsert, "www.example.com", "A", 60, "192.0.2.3"))
	r.mustChange(t, acctA, z.ID, rr(ActionDelete, "www.example.com", "A", 60, "192.0.2.3"), rr(ActionCreate, "www.example.com", "A", 30, "192.0.2.4"))
	r.mustChange(t, acctA, z.ID, rr(ActionDelete, "api.example.com", "CNAME", 60, "WWW.example.com."))
	sets := r.list(t, acctA, z.ID)
	i := slices.IndexFunc(sets, func(s ResourceRecordSet) bool { return s.Name == "www.example.com." && s.Type == "A" })
	if i < 0 || sets[i].TTL != 30 || !slices.Equal(sets[i].Records, []string{"192.0.2.4"}) {
		t.Errorf("www A after changes: %+v", sets)
	}
	if slices.ContainsFunc(sets, func(s ResourceRecordSet) bool { return s.Type == "CNAME" }) {
		t.Error("CNAME still listed after DELETE")
	}
	zone, _ = r.GetHostedZone(r.ctx, acctA, z.ID)
	if zone.RecordSetCount != int64(len(want)-1) {
		t.Errorf("RecordSetCount = %d, want %d", zone.RecordSetCount, len(want)-1)
	}
}

func TestChangeResourceRecordSetsErrors(t *testing.T) {
	r := newR53(t)
	z := r.zone(t, acctA, "example.com", nil)
	r.mustChange(t, acctA, z.ID,
		rr(ActionCreate, "www.example.com", "A", 300, "192.0.2.1"),
		rr(ActionCreate, "alias.example.com", "CNAME", 300, "www.example.com"),
	)
	ttl := int64(300)
	for _, tc := range []struct {
		name    string
		changes []RecordSetChange
		code    string
		message string
	}{
		{
			name:    "create existing",
			changes: []RecordSetChange{rr(ActionCreate, "WWW.example.com", "A", 300, "192.0.2.2")},
			code:    "InvalidChangeBatch",
			message: "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists]",
		},
		{
			name:    "delete missing",
			changes: []RecordSetChange{rr(ActionDelete, "nope.example.com", "TXT", 300, `"x"`)},
			code:    "InvalidChangeBatch",
			message: "[Tried to delete resource record set [name='nope.example.com.', type='TXT'] but it was not found]",
		},
		{
			name:    "delete other values",
			changes: []RecordSetChange{rr(ActionDelete, "www.example.com", "A", 60, "192.0.2.1")},
			code:    "InvalidChangeBatch",
			message: "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]",
		},
		{
			name: "all failures listed, nothing written",
			changes: []RecordSetChange{
				rr(ActionCreate, "new.example.com", "A", 300, "192.0.2.5"),
				rr(ActionCreate, "www.example.com", "A", 300, "192.0.2.2"),
				rr(ActionCreate, "alias.example.com", "CNAME", 300, "x.example.com"),
			},
			code:    "InvalidChangeBatch",
			message: "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists, Tried to create resource record set [name='alias.example.com.', type='CNAME'] but it already exists]",
		},
		{
			name:    "CNAME beside other types",
			changes: []RecordSetChange{rr(ActionCreate, "www.example.com", "CNAME", 300, "x.example.com")},
			code:    "InvalidChangeBatch",
			message: "[RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]",
		},
		{
			name:    "other type beside CNAME",
			changes: []RecordSetChange{rr(ActionCreate, "alias.example.com", "TXT", 300, `"x"`)},
			code:    "InvalidChangeBatch",
			message: "[RRSet of type TXT with DNS name alias.example.com. is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone example.com.]",
		},
		{
			name: "changes apply in order",
			changes: []RecordSetChange{
				rr(ActionCreate, "www.example.com", "CNAME", 300, "x.example.com"),
				rr(ActionDelete, "www.example.com", "A", 300, "192.0.2.1"),
			},
			code:    "InvalidChangeBatch",
			message: "[RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]",
		},
		{
			name:    "CNAME at apex",
			changes: []RecordSetChange{rr(ActionCreate, "example.com", "CNAME", 300, "x.example.org")},
			code:    "InvalidChangeBatch",
			message: "[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]",
		},
		{
			name:    "outside the zone",
			changes: []RecordSetChange{rr(ActionCreate, "www.example.org", "A", 300, "192.0.2.1")},
			code:    "InvalidChangeBatch",
			message: "[RRSet with DNS name www.example.org. is not permitted in zone example.com.]",
		},
		{
			name:    "same set twice",
			changes: []RecordSetChange{rr(ActionUpsert, "x.example.com", "A", 300, "192.0.2.1"), rr(ActionUpsert, "x.example.com", "A", 300, "192.0.2.2")},
			code:    "InvalidChangeBatch",
			message: "[The request contains an invalid set of changes for a resource record set 'A x.example.com.']",
		},
		{
			name:    "apex SOA deleted",
			changes: []RecordSetChange{rr(ActionDelete, "example.com", "SOA", 900, "ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")},
			code:    "InvalidChangeBatch",
		},
		{
			name:    "bad IPv4",
			changes: []RecordSetChange{rr(ActionCreate, "v4.example.com", "A", 300, "192.0.2")},
			code:    "InvalidChangeBatch",
			message: "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '192.0.2'']",
		},
		{
			name:    "unquoted TXT",
			changes: []RecordSetChange{rr(ActionCreate, "t.example.com", "TXT", 300, "hello")},
			code:    "InvalidChangeBatch",
			message: "[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'hello'']",
		},
		{name: "MX without priority", changes: []RecordSetChange{rr(ActionCreate, "example.com", "MX", 300, "mail.example.com")}, code: "InvalidChangeBatch"},
		{name: "SRV with three fields", changes: []RecordSetChange{rr(ActionCreate, "_a._tcp.example.com", "SRV", 300, "1 1 80")}, code: "InvalidChangeBatch"},
		{name: "duplicate value", changes: []RecordSetChange{rr(ActionCreate, "d.example.com", "A", 300, "192.0.2.1", "192.0.2.1")}, code: "InvalidChangeBatch"},
		{name: "two CNAME values", changes: []RecordSetChange{rr(ActionCreate, "c.example.com", "CNAME", 300, "a.example.com", "b.example.com")}, code: "InvalidChangeBatch"},
		{name: "empty label", changes: []RecordSetChange{rr(ActionCreate, "a..example.com", "A", 300, "192.0.2.1")}, code: "InvalidChangeBatch",
			message: "[FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with 'a..example.com']"},
		{
			name:    "alias target missing",
			changes: []RecordSetChange{alias(ActionCreate, "a.example.com", "A", z.ID, "nothing.example.com")},
			code:    "InvalidChangeBatch",
			message: "[Tried to create an alias that targets nothing.example.com., type A in zone " + z.ID + ", but that target was not found]",
		},
		{
			name:    "alias into another zone",
			changes: []RecordSetChange{alias(ActionCreate, "a.example.com", "A", "Z2FDTNDATAQYW2", "d111111abcdef8.cloudfront.net")},
			code:    "InvalidChangeBatch",
			message: "[Tried to create an alias that targets d111111abcdef8.cloudfront.net., type A in zone Z2FDTNDATAQYW2, but the alias target name does not lie within the target zone]",
		},
		{
			name:    "neither alias nor values",
			changes: []RecordSetChange{{Action: ActionCreate, Set: RecordSetInput{Name: "n.example.com", Type: "A", TTL: &ttl}}},
			code:    "InvalidInput",
			message: "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=CREATE, Name=n.example.com, Type=A, SetIdentifier=null]",
		},
		{
			name:    "alias and values",
			changes: []RecordSetChange{{Action: ActionCreate, Set: RecordSetInput{Name: "n.example.com", Type: "A", TTL: &ttl, Records: []string{"192.0.2.1"}, Alias: &AliasTarget{HostedZoneID: z.ID, DNSName: "www.example.com"}}}},
			code:    "InvalidInput",
		},
		{name: "weighted routing", changes: []RecordSetChange{{Action: ActionCreate, Set: RecordSetInput{Name: "w.example.com", Type: "A", TTL: &ttl, Records: []string{"192.0.2.1"}, Routing: []string{"SetIdentifier", "Weight"}}}}, code: "InvalidInput"},
		{name: "health check", changes: []RecordSetChange{{Action: ActionCreate, Set: RecordSetInput{Name: "h.example.com", Type: "A", TTL: &ttl, Records: []string{"192.0.2.1"}, HealthCheckID: "abc"}}}, code: "NoSuchHealthCheck"},
		{name: "unsupported type", changes: []RecordSetChange{rr(ActionCreate, "n.example.com", "NAPTR", 300, "x")}, code: "InvalidInput"},
		{name: "no changes", code: "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := r.failsUnchanged(t, tc.code, func() error { return r.change(acctA, z.ID, tc.changes...) })
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("message\n got %s\nwant %s", e.Message, tc.message)
			}
			if tc.code == "InvalidChangeBatch" {
				var cb *ChangeBatchError
				if !asChangeBatch(e, &cb) || len(cb.Messages) == 0 {
					t.Errorf("no ChangeBatchError in %v", e)
				}
			}
		})
	}
	r.failsUnchanged(t, "NoSuchHostedZone", func() error {
		return r.change(acctB, z.ID, rr(ActionCreate, "x.example.com", "A", 300, "192.0.2.1"))
	})
}

func asChangeBatch(e *Error, out **ChangeBatchError) bool {
	cb, ok := e.Err.(*ChangeBatchError)
	*out = cb
	return ok
}

func TestApexRecordSetsCanBeReplaced(t *testing.T) {
	r := newR53(t)
	z := r.zone(t, acctA, "example.com", nil)
	ns := r.list(t, acctA, z.ID)[0]
	r.mustChange(t, acctA, z.ID,
		rr(ActionDelete, "example.com", "NS", ns.TTL, ns.Records...),
		rr(ActionCreate, "example.com", "NS", 3600, "ns1.example.net."),
	)
	r.mustChange(t, acctA, z.ID, rr(ActionUpsert, "example.com", "SOA", 60, "ns1.example.net. hostmaster.example.com. 2 7200 900 1209600 60"))
	sets := r.list(t, acctA, z.ID)
	if sets[0].TTL != 3600 || sets[1].TTL != 60 {
		t.Errorf("apex sets %+v", sets)
	}
	r.failsUnchanged(t, "InvalidChangeBatch", func() error {
		return r.change(acctA, z.ID, rr(ActionDelete, "example.com", "NS", 3600, "ns1.example.net."))
	})
}

func TestAliasToEndpointDNSName(t *testing.T) {
	r := newR53(t)
	vpc := r.vpc(t, acctA, "10.0.0.0/16")
	sn := r.subnet(t, acctA, vpc.ID, "10.0.1.0/24")
	ep := VpcEndpoint{
		ID: "vpce-0123456789abcdef0", OwnerID: acctA.AccountID, VpcID: vpc.ID, ServiceID: "vpce-svc-0123456789abcdef0",
		State: EndpointAvailable, SubnetIDs: []string{sn.ID}, DNSID: "abcd1234",
	}
	r.putRaw(t, keyEndpoint(ep.ID), ep)
	z := r.zone(t, acctA, "internal.example", &ZoneVPC{VpcID: vpc.ID})
	regional := "vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com"
	zonal := "vpce-0123456789abcdef0-abcd1234-" + sn.AvailabilityZone + ".vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com"
	r.mustChange(t, acctA, z.ID,
		alias(ActionCreate, "api.internal.example", "A", "Z7HUB22UULQXV", regional),
		alias(ActionCreate, "zonal.internal.example", "A", "Z7HUB22UULQXV", zonal+"."),
		rr(ActionCreate, "cname.internal.example", "CNAME", 60, regional),
	)
	sets := r.list(t, acctA, z.ID)
	i := slices.IndexFunc(sets, func(s ResourceRecordSet) bool { return s.Name == "api.internal.example." })
	if i < 0 || sets[i].Alias == nil || *sets[i].Alias != (AliasTarget{HostedZoneID: "Z7HUB22UULQXV", DNSName: regional + "."}) || sets[i].TTL != 0 {
		t.Errorf("alias set %+v", sets)
	}
	for _, target := range []string{
		"vpce-0123456789abcdef1-abcd1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com", // no such endpoint
		"vpce-0123456789abcdef0-zzzz1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com", // not its name
	} {
		e := r.failsUnchanged(t, "InvalidChangeBatch", func() error {
			return r.change(acctA, z.ID, alias(ActionCreate, "x.internal.example", "A", "Z7HUB22UULQXV", target))
		})
		if !strings.HasSuffix(e.Message, "but that target was not found]") {
			t.Errorf("message %q", e.Message)
		}
	}
	r.mustChange(t, acctA, z.ID, alias(ActionDelete, "api.internal.example", "A", "Z7HUB22UULQXV", regional))
}

func TestListResourceRecordSetsPaging(t *testing.T) {
	r := newR53(t)
	z := r.zone(t, acctA, "example.com", nil)
	// Names whose order depends on the trailing dot: '-' sorts before '.'.
	var changes []RecordSetChange
	for _, n := range []string{"a", "a-b", "b", "a.b", "c", "_x", "z.a"} {
		changes = append(changes, rr(ActionCreate, n+".example.com", "A", 60, "192.0.2.1"), rr(ActionCreate, n+".example.com", "TXT", 60, `"t"`))
	}
	r.mustChange(t, acctA, z.ID, changes...)
	all := r.list(t, acctA, z.ID)
	for i := 1; i < len(all); i++ {
		a, b := reversedName(all[i-1].Name)+" "+all[i-1].Type, reversedName(all[i].Name)+" "+all[i].Type
		if a >= b {
			t.Errorf("out of order: %q before %q", a, b)
		}
	}
	// "com.example.a-b." sorts before "com.example.a.", as Route 53 warns.
	if all[4].Name != "a-b.example.com." || all[6].Name != "a.example.com." || all[8].Name != "z.a.example.com." {
		t.Errorf("order %q", setNames(all))
	}
	for _, size := range []int{1, 2, 3, 5, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var got []ResourceRecordSet
			in := ListResourceRecordSetsInput{HostedZoneID: z.ID, MaxItems: size}
			for {
				p, err := r.ListResourceRecordSets(r.ctx, acctA, in)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.RecordSets) > size {
					t.Fatalf("page of %d", len(p.RecordSets))
				}
				got = append(got, p.RecordSets...)
				if !p.IsTruncated {
					break
				}
				in.StartRecordName, in.StartRecordType = p.NextRecordName, p.NextRecordType
			}
			if !slices.Equal(setNames(got), setNames(all)) {
				t.Errorf("paged\n %q\nwhole\n %q", setNames(got), setNames(all))
			}
		})
	}
	p, err := r.ListResourceRecordSets(r.ctx, acctA, ListResourceRecordSetsInput{HostedZoneID: z.ID, StartRecordName: "B.example.com"})
	if err != nil || p.RecordSets[0].Name != "b.example.com." || p.RecordSets[0].Type != "A" {
		t.Errorf("from b: %v, %v", setNames(p.RecordSets), err)
	}
	p, _ = r.ListResourceRecordSets(r.ctx, acctA, ListResourceRecordSetsInput{HostedZoneID: z.ID, StartRecordName: "b.example.com", StartRecordType: "TXT"})
	if p.RecordSets[0].Name != "b.example.com." || p.RecordSets[0].Type != "TXT" {
		t.Errorf("from b TXT: %v", setNames(p.RecordSets))
	}
	if _, err := r.ListResourceRecordSets(r.ctx, acctA, ListResourceRecordSetsInput{HostedZoneID: z.ID, StartRecordType: "A"}); !IsKind(err, KindInvalid) {
		t.Errorf("type without name: %v", err)
	}
}

func TestListHostedZones(t *testing.T) {
	r := newR53(t)
	vpc := r.vpc(t, acctA, "10.0.0.0/16")
	var ids []string
	for _, n := range []string{"b.example", "a.example", "x.a.example", "a-b.example"} {
		ids = append(ids, r.zone(t, acctA, n, nil).ID)
	}
	ids = append(ids, r.zone(t, acctA, "a.example", &ZoneVPC{VpcID: vpc.ID}).ID)
	r.zone(t, acctB, "other.example", nil)
	slices.Sort(ids)
	var got []string
	in := ListHostedZonesInput{MaxItems: 2}
	for {
		p, err := r.ListHostedZones(r.ctx, acctA, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range p.Zones {
			got = append(got, z.ID)
		}
		if !p.IsTruncated {
			break
		}
		in.Marker = p.NextMarker
	}
	if !slices.Equal(got, ids) {
		t.Errorf("ListHostedZones pages %q, want %q", got, ids)
	}
	priv, _ := r.ListHostedZones(r.ctx, acctA, ListHostedZonesInput{PrivateOnly: true})
	if len(priv.Zones) != 1 || !priv.Zones[0].Private {
		t.Errorf("private zones %+v", priv.Zones)
	}

	var names []string
	byName := ListHostedZonesByNameInput{MaxItems: 2}
	for {
		p, err := r.ListHostedZonesByName(r.ctx, acctA, byName)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range p.Zones {
			names = append(names, z.Name)
		}
		if !p.IsTruncated {
			break
		}
		byName.DNSName, byName.HostedZoneID = p.NextDNSName, p.NextHostedZoneID
	}
	want := []string{"a-b.example.", "a.example.", "a.example.", "x.a.example.", "b.example."}
	if !slices.Equal(names, want) {
		t.Errorf("ListHostedZonesByName pages %q, want %q", names, want)
	}
	p, err := r.ListHostedZonesByName(r.ctx, acctA, ListHostedZonesByNameInput{DNSName: "B.EXAMPLE"})
	if err != nil || len(p.Zones) != 1 || p.Zones[0].Name != "b.example." {
		t.Errorf("from b.example: %+v, %v", p, err)
	}
	if _, err := r.ListHostedZonesByName(r.ctx, acctA, ListHostedZonesByNameInput{HostedZoneID: ids[0]}); !IsKind(err, KindInvalid) {
		t.Errorf("hostedzoneid alone: %v", err)
	}
}

func TestDeleteHostedZone(t *testing.T) {
	r := newR53(t)
	z := r.zone(t, acctA, "example.com", nil)
	r.mustChange(t, acctA, z.ID, rr(ActionCreate, "sub.example.com", "NS", 300, "ns1.example.net."))
	e := r.failsUnchanged(t, "HostedZoneNotEmpty", func() error {
		_, err := r.DeleteHostedZone(r.ctx, acctA, z.ID)
		return err
	})
	if e.Message != "The specified hosted zone contains non-required resource record sets and so cannot be deleted." {
		t.Errorf("message %q", e.Message)
	}
	r.failsUnchanged(t, "NoSuchHostedZone", func() error {
		_, err := r.DeleteHostedZone(r.ctx, acctB, z.ID)
		return err
	})
	r.mustChange(t, acctA, z.ID, rr(ActionDelete, "sub.example.com", "NS", 300, "ns1.example.net."))
	change, err := r.DeleteHostedZone(r.ctx, acctA, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetHostedZone(r.ctx, acctA, z.ID); !IsKind(err, KindNotFound) {
		t.Errorf("GetHostedZone after delete: %v", err)
	}
	for _, kv := range r.dump(t) {
		if strings.HasPrefix(kv.Key, prefixRecordSets) || strings.HasPrefix(kv.Key, prefixHostedZones) {
			t.Errorf("key %s left after delete", kv.Key)
		}
	}
	if got, err := r.GetChange(r.ctx, acctA, change.ID); err != nil || got.Status != ChangeInSync {
		t.Errorf("GetChange = %+v, %v", got, err)
	}
	// Route 53 never takes a caller reference twice.
	r.failsUnchanged(t, "HostedZoneAlreadyExists", func() error {
		_, _, err := r.CreateHostedZone(r.ctx, acctA, CreateHostedZoneInput{Name: "example.com", CallerReference: z.CallerReference})
		return err
	})
}

func TestZoneVPCAssociations(t *testing.T) {
	r := newR53(t)
	v1, v2, v3 := r.vpc(t, acctA, "10.0.0.0/16"), r.vpc(t, acctA, "10.1.0.0/16"), r.vpc(t, acctA, "10.2.0.0/16")
	foreign := r.vpc(t, acctB, "10.0.0.0/16")
	z := r.zone(t, acctA, "internal.example", &ZoneVPC{VpcID: v1.ID})
	other := r.zone(t, acctA, "internal.example", &ZoneVPC{VpcID: v3.ID})
	public := r.zone(t, acctA, "public.example", nil)
	assoc := func(caller Caller, zoneID, vpcID string) error {
		_, err := r.AssociateVPCWithHostedZone(r.ctx, caller, zoneID, ZoneVPC{VpcID: vpcID}, "")
		return err
	}
	disassoc := func(caller Caller, zoneID, vpcID string) error {
		_, err := r.DisassociateVPCFromHostedZone(r.ctx, caller, zoneID, ZoneVPC{VpcID: vpcID}, "")
		return err
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"already associated", func() error { return assoc(acctA, z.ID, v1.ID) }, "ConflictingDomainExists"},
		{"same name in that VPC", func() error { return assoc(acctA, z.ID, v3.ID) }, "ConflictingDomainExists"},
		{"public zone", func() error { return assoc(acctA, public.ID, v2.ID) }, "PublicZoneVPCAssociation"},
		{"foreign VPC", func() error { return assoc(acctA, z.ID, foreign.ID) }, "InvalidVPCId"},
		{"malformed VPC", func() error { return assoc(acctA, z.ID, "vpc-zz") }, "InvalidVPCId"},
		{"foreign zone", func() error { return assoc(acctB, z.ID, foreign.ID) }, "NoSuchHostedZone"},
		{"not associated", func() error { return disassoc(acctA, z.ID, v2.ID) }, "VPCAssociationNotFound"},
		{"last VPC", func() error { return disassoc(acctA, z.ID, v1.ID) }, "LastVPCAssociation"},
	} {
		t.Run(tc.name, func(t *testing.T) { r.failsUnchanged(t, tc.code, tc.call) })
	}
	if err := assoc(acctA, z.ID, v2.ID); err != nil {
		t.Fatal(err)
	}
	if err := disassoc(acctA, z.ID, v1.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := r.GetHostedZone(r.ctx, acctA, z.ID)
	if len(got.VPCs) != 1 || got.VPCs[0].VpcID != v2.ID {
		t.Errorf("VPCs %+v", got.VPCs)
	}
	snap, err := r.LoadSnapshot(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if zs := snap.PrivateZonesOf(v2.ID); len(zs) != 1 || zs[0].ID != z.ID {
		t.Errorf("PrivateZonesOf(v2) = %+v", zs)
	}
	if zs := snap.PrivateZonesOf(v1.ID); len(zs) != 0 {
		t.Errorf("PrivateZonesOf(v1) = %+v", zs)
	}
	if zs := snap.PublicZones(); len(zs) != 1 || zs[0].ID != public.ID {
		t.Errorf("PublicZones = %+v", zs)
	}
	if sets := snap.RecordSets[other.ID]; len(sets) != 2 || sets[0].Type != "NS" || sets[1].Type != "SOA" {
		t.Errorf("snapshot record sets %+v", sets)
	}
}

func TestGetChange(t *testing.T) {
	r := newR53(t)
	z := r.zone(t, acctA, "example.com", nil)
	ch, err := r.ChangeResourceRecordSets(r.ctx, acctA, ChangeResourceRecordSetsInput{
		HostedZoneID: z.ID, Comment: "why", Changes: []RecordSetChange{rr(ActionCreate, "a.example.com", "A", 1, "192.0.2.1")},
	})
	if err != nil || ch.Status != ChangePending || ch.Comment != "why" {
		t.Fatalf("change %+v, %v", ch, err)
	}
	got, err := r.GetChange(r.ctx, acctA, ch.ID)
	if err != nil || got != (ChangeInfo{ID: ch.ID, Status: ChangeInSync, SubmittedAt: ch.SubmittedAt, Comment: "why"}) {
		t.Errorf("GetChange = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		caller Caller
		id     string
	}{{acctB, ch.ID}, {acctA, "C0000000000000"}} {
		_, err := r.GetChange(r.ctx, tc.caller, tc.id)
		if e := wantCode(t, err, "NoSuchChange"); e.Message != "Could not find resource with ID: "+tc.id {
			t.Errorf("message %q", e.Message)
		}
	}
}

// TestRoute53SurvivesRestart shows that zones and records come from the
// store: a new Cloud over it serves them unchanged.
func TestRoute53SurvivesRestart(t *testing.T) {
	r := newR53(t)
	z := r.zone(t, acctA, "example.com", nil)
	r.mustChange(t, acctA, z.ID, rr(ActionCreate, "a.example.com", "TXT", 1, `"x"`))
	before := r.list(t, acctA, z.ID)
	c2, err := New(r.st, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c2.ListResourceRecordSets(r.ctx, acctA, ListResourceRecordSetsInput{HostedZoneID: z.ID})
	if err != nil || !slices.EqualFunc(p.RecordSets, before, func(a, b ResourceRecordSet) bool {
		return a.Name == b.Name && a.Type == b.Type && slices.Equal(a.Records, b.Records)
	}) {
		t.Errorf("after restart: %+v, %v", p.RecordSets, err)
	}
}
