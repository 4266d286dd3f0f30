package route53

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/store/memstore"
)

var bootstrap = core.Caller{AccountID: core.BootstrapAccountID, Admin: true}

// world is a deterministic cloud with two VPCs: IDs from a seeded source,
// a clock that stands still, so that responses match golden files.
type world struct {
	cloud      *core.Cloud
	vpc1, vpc2 core.VPC
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 9, 30, 0, 123_000_000, time.UTC)
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	cloud, err := core.New(st, core.Config{
		Region: "us-east-1",
		Now:    func() time.Time { return now },
		Rand:   rand.NewChaCha8([32]byte{'r', 'o', 'u', 't', 'e', '5', '3'}),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	w := &world{cloud: cloud}
	if w.vpc1, err = cloud.CreateVpc(ctx, bootstrap, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	if w.vpc2, err = cloud.CreateVpc(ctx, bootstrap, core.CreateVpcInput{CidrBlock: "10.1.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// serve runs one request through the handler as the bootstrap account.
func serve(h *Handler, id, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	w := httptest.NewRecorder()
	h.Handle(w, &api.Request{ID: id, Caller: bootstrap, Service: Service, Region: "us-east-1", HTTP: req, Body: []byte(body)})
	return w
}

// golden compares a response body with testdata/name.xml, or rewrites the
// file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".xml")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// element returns the text of the first <name> in an XML body.
func element(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile("<" + name + ">([^<]*)</" + name + ">").FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no <%s> in\n%s", name, body)
	}
	return m[1]
}

const ns = `xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`

// TestHandlerGolden walks a public and a private zone through the handler
// and its errors, comparing each full response with a golden file. The
// steps share one deterministic cloud and run in order.
func TestHandlerGolden(t *testing.T) {
	w := newWorld(t)
	h := New(w.cloud, nil)
	var public, private, change string
	var next [2]string
	records := func(action string) string {
		return `<?xml version="1.0" encoding="UTF-8"?>
<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Comment>seed records</Comment><Changes>
<Change><Action>` + action + `</Action><ResourceRecordSet><Name>www.example.com</Name><Type>A</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.10</Value></ResourceRecord><ResourceRecord><Value>192.0.2.11</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>` + action + `</Action><ResourceRecordSet><Name>example.com</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>"v=spf1 -all"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>` + action + `</Action><ResourceRecordSet><Name>example.com</Name><Type>MX</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>10 mail.example.com.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>` + action + `</Action><ResourceRecordSet><Name>_sip._tcp.example.com</Name><Type>SRV</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>1 10 5060 sip.example.com.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>` + action + `</Action><ResourceRecordSet><Name>*.example.com</Name><Type>AAAA</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>2001:db8::1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>` + action + `</Action><ResourceRecordSet><Name>apex-alias.example.com</Name><Type>A</Type><AliasTarget><HostedZoneId>` + public + `</HostedZoneId><DNSName>www.example.com</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change>
</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	}
	vpcBody := func(root, vpc string) string {
		return `<` + root + ` ` + ns + `><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>` + vpc + `</VPCId></VPC><Comment>c</Comment></` + root + `>`
	}

	steps := []struct {
		name           string
		method, target string
		body           func() string
		status         int
		after          func(t *testing.T, rec *httptest.ResponseRecorder)
	}{
		{
			name: "CreateHostedZone", method: "POST", target: "/2013-04-01/hostedzone", status: 201,
			body: func() string {
				return `<CreateHostedZoneRequest ` + ns + `><Name>Example.com</Name><CallerReference>golden-1</CallerReference><HostedZoneConfig><Comment>seed zone</Comment></HostedZoneConfig></CreateHostedZoneRequest>`
			},
			after: func(t *testing.T, rec *httptest.ResponseRecorder) {
				public = strings.TrimPrefix(element(t, rec.Body.String(), "Id"), "/hostedzone/")
				if loc := rec.Header().Get("Location"); loc != "https://route53.amazonaws.com/2013-04-01/hostedzone/"+public {
					t.Errorf("Location %q", loc)
				}
			},
		},
		{
			name: "CreateHostedZone-private", method: "POST", target: "/2013-04-01/hostedzone", status: 201,
			body: func() string {
				return `<CreateHostedZoneRequest ` + ns + `><Name>internal.example</Name><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>` + w.vpc1.ID + `</VPCId></VPC><CallerReference>golden-2</CallerReference><HostedZoneConfig><PrivateZone>true</PrivateZone></HostedZoneConfig></CreateHostedZoneRequest>`
			},
			after: func(t *testing.T, rec *httptest.ResponseRecorder) {
				private = strings.TrimPrefix(element(t, rec.Body.String(), "Id"), "/hostedzone/")
			},
		},
		{name: "GetHostedZone", method: "GET", target: "/2013-04-01/hostedzone/{public}", status: 200},
		{
			name: "ChangeResourceRecordSets", method: "POST", target: "/2013-04-01/hostedzone/{public}/rrset/", status: 200,
			body: func() string { return records("CREATE") },
			after: func(t *testing.T, rec *httptest.ResponseRecorder) {
				change = strings.TrimPrefix(element(t, rec.Body.String(), "Id"), "/change/")
			},
		},
		{name: "GetChange", method: "GET", target: "/2013-04-01/change/{change}", status: 200},
		{
			name: "ListResourceRecordSets-page1", method: "GET", target: "/2013-04-01/hostedzone/{public}/rrset?maxitems=4", status: 200,
			after: func(t *testing.T, rec *httptest.ResponseRecorder) {
				next = [2]string{element(t, rec.Body.String(), "NextRecordName"), element(t, rec.Body.String(), "NextRecordType")}
			},
		},
		{name: "ListResourceRecordSets-page2", method: "GET", target: "/2013-04-01/hostedzone/{public}/rrset?maxitems=4&name={next-name}&type={next-type}", status: 200},
		{name: "ListHostedZones", method: "GET", target: "/2013-04-01/hostedzone?maxitems=1", status: 200},
		{name: "ListHostedZonesByName", method: "GET", target: "/2013-04-01/hostedzonesbyname?dnsname=example.com", status: 200},
		{
			name: "AssociateVPCWithHostedZone", method: "POST", target: "/2013-04-01/hostedzone/{private}/associatevpc", status: 200,
			body: func() string { return vpcBody("AssociateVPCWithHostedZoneRequest", w.vpc2.ID) },
		},
		{name: "GetHostedZone-private", method: "GET", target: "/2013-04-01/hostedzone/{private}", status: 200},
		{
			name: "DisassociateVPCFromHostedZone", method: "POST", target: "/2013-04-01/hostedzone/{private}/disassociatevpc", status: 200,
			body: func() string { return vpcBody("DisassociateVPCFromHostedZoneRequest", w.vpc1.ID) },
		},

		// Errors.
		{name: "error-InvalidChangeBatch", method: "POST", target: "/2013-04-01/hostedzone/{public}/rrset", status: 400, body: func() string { return records("CREATE") }},
		{name: "error-NoSuchHostedZone", method: "GET", target: "/2013-04-01/hostedzone/Z0000000000000000000", status: 404},
		{name: "error-HostedZoneNotEmpty", method: "DELETE", target: "/2013-04-01/hostedzone/{public}", status: 400},
		{
			name: "error-HostedZoneAlreadyExists", method: "POST", target: "/2013-04-01/hostedzone", status: 409,
			body: func() string {
				return `<CreateHostedZoneRequest ` + ns + `><Name>example.org</Name><CallerReference>golden-1</CallerReference></CreateHostedZoneRequest>`
			},
		},
		{
			name: "error-ConflictingDomainExists", method: "POST", target: "/2013-04-01/hostedzone/{private}/associatevpc", status: 400,
			body: func() string { return vpcBody("AssociateVPCWithHostedZoneRequest", w.vpc2.ID) },
		},
		{
			name: "error-LastVPCAssociation", method: "POST", target: "/2013-04-01/hostedzone/{private}/disassociatevpc", status: 400,
			body: func() string { return vpcBody("DisassociateVPCFromHostedZoneRequest", w.vpc2.ID) },
		},
		{
			name: "error-PublicZoneVPCAssociation", method: "POST", target: "/2013-04-01/hostedzone/{public}/associatevpc", status: 400,
			body: func() string { return vpcBody("AssociateVPCWithHostedZoneRequest", w.vpc2.ID) },
		},
		{
			name: "error-InvalidVPCId", method: "POST", target: "/2013-04-01/hostedzone", status: 400,
			body: func() string {
				return `<CreateHostedZoneRequest ` + ns + `><Name>x.example</Name><VPC><VPCId>vpc-0123456789abcdef0</VPCId></VPC><CallerReference>golden-3</CallerReference></CreateHostedZoneRequest>`
			},
		},
		{
			name: "error-InvalidInput-missing", method: "POST", target: "/2013-04-01/hostedzone", status: 400,
			body: func() string {
				return `<CreateHostedZoneRequest ` + ns + `><Name>x.example</Name></CreateHostedZoneRequest>`
			},
		},
		{
			name: "error-InvalidInput-unknown-element", method: "POST", target: "/2013-04-01/hostedzone", status: 400,
			body: func() string {
				return `<CreateHostedZoneRequest ` + ns + `><Name>x.example</Name><CallerReference>r</CallerReference><Tags/></CreateHostedZoneRequest>`
			},
		},
		{
			name: "error-InvalidInput-action", method: "POST", target: "/2013-04-01/hostedzone/{public}/rrset", status: 400,
			body: func() string {
				return strings.ReplaceAll(records("CREATE"), "<Action>CREATE</Action>", "<Action>INSERT</Action>")
			},
		},
		{
			name: "error-InvalidInput-neither", method: "POST", target: "/2013-04-01/hostedzone/{public}/rrset", status: 400,
			body: func() string {
				return `<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>n.example.com</Name><Type>A</Type></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
			},
		},
		{
			name: "error-InvalidInput-ttl", method: "POST", target: "/2013-04-01/hostedzone/{public}/rrset", status: 400,
			body: func() string { return strings.Replace(records("UPSERT"), "<TTL>300</TTL>", "<TTL>-1</TTL>", 1) },
		},
		{name: "error-InvalidInput-malformed", method: "POST", target: "/2013-04-01/hostedzone", status: 400, body: func() string { return `<CreateHostedZoneRequest><Name>` }},
		{name: "error-InvalidInput-maxitems", method: "GET", target: "/2013-04-01/hostedzone?maxitems=none", status: 400},
		{name: "error-NoSuchChange", method: "GET", target: "/2013-04-01/change/C0000000000000000000", status: 404},
		{name: "error-UnknownOperation", method: "GET", target: "/2013-04-01/healthcheck", status: 404},

		// Emptied, the public zone goes.
		{name: "ChangeResourceRecordSets-delete", method: "POST", target: "/2013-04-01/hostedzone/{public}/rrset", status: 200, body: func() string { return records("DELETE") }},
		{name: "DeleteHostedZone", method: "DELETE", target: "/2013-04-01/hostedzone/%2Fhostedzone%2F{public}", status: 200},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			target := strings.NewReplacer("{public}", public, "{private}", private, "{change}", change, "{next-name}", next[0], "{next-type}", next[1]).Replace(step.target)
			body := ""
			if step.body != nil {
				body = step.body()
			}
			rec := serve(h, "req-"+step.name, step.method, target, body)
			if rec.Code != step.status {
				t.Errorf("status %d, want %d:\n%s", rec.Code, step.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type %q", ct)
			}
			golden(t, step.name, rec.Body.Bytes())
			if step.after != nil && !t.Failed() {
				step.after(t, rec)
			}
		})
	}
}

// TestRouting covers paths and methods that are no operation.
func TestRouting(t *testing.T) {
	h := New(newWorld(t).cloud, nil)
	for _, tc := range []struct {
		method, target string
		status         int
		code           string
	}{
		{"PUT", "/2013-04-01/hostedzone", 404, "UnknownOperationException"},
		{"GET", "/2013-04-01/hostedzone/Z1/rrset/extra", 404, "UnknownOperationException"},
		{"GET", "/2012-12-12/hostedzone", 404, "UnknownOperationException"},
		{"GET", "/2013-04-01/hostedzone/" + strings.Repeat("Z", 33), 400, "InvalidInput"},
		{"GET", "/2013-04-01/hostedzone/Z1/rrset?type=A", 400, "InvalidInput"},
		{"GET", "/2013-04-01/hostedzone/Z1/rrset?name=a.example&type=B", 400, "InvalidInput"},
		{"GET", "/2013-04-01/hostedzone/%2Fhostedzone%2FZ1", 404, "NoSuchHostedZone"},
		{"GET", "/2013-04-01/hostedzone/Z1/rrset/", 404, "NoSuchHostedZone"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rec := serve(h, "r", tc.method, tc.target, "")
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), "<Code>"+tc.code+"</Code>") {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
		})
	}
	if rec := serve(h, "r", "GET", "/2013-04-01/hostedzone/%2Fhostedzone%2FZ1", ""); !strings.Contains(rec.Body.String(), "No hosted zone found with ID: Z1<") {
		t.Errorf("the /hostedzone/ prefix is not stripped: %s", rec.Body)
	}
}

// TestInternalErrorsAreHidden shows that a failure on privlink's side is
// InternalFailure with no detail, a Receiver fault.
func TestInternalErrorsAreHidden(t *testing.T) {
	h := New(newWorld(t).cloud, nil)
	rec := httptest.NewRecorder()
	h.WriteError(rec, "req-1", context.DeadlineExceeded)
	want := `<?xml version="1.0"?>` + "\n" + `<ErrorResponse ` + ns + `><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>The request processing has failed because of an unknown error, exception or failure.</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != want {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}
