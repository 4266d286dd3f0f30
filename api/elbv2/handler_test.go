package elbv2_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/core"
)

// golden compares a response body with testdata/handler/name.xml, or
// rewrites the file with -update (the flag of shapes_test.go).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "handler", name+".xml")
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
		t.Fatalf("%v (run with -update to create it)", err)
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

// TestHandlerGolden walks the seed story and its failures through the
// handler, comparing each full response with a golden file. The steps
// share one deterministic cloud and run in order.
func TestHandlerGolden(t *testing.T) {
	w := newWorld(t, true)
	h := elbv2.New(w.cloud, nil)
	ctx := context.Background()
	s1, s2 := w.subnets[0].ID, w.subnets[1].ID
	i1, i2 := w.instances[0], w.instances[1]
	var lb, tgSSH, tgWeb, l8022, marker string
	const unknownLB = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/gone/0123456789abcdef"

	steps := []struct {
		name   string
		before func(t *testing.T)
		form   func() url.Values
		status int
		after  func(t *testing.T, body string)
	}{
		{
			name: "CreateLoadBalancer",
			form: func() url.Values {
				return params("CreateLoadBalancer", "Name", "nlb", "Type", "network", "Scheme", "internal",
					"Subnets.member.1", s2, "Subnets.member.2", s1,
					"Tags.member.1.Key", "Name", "Tags.member.1.Value", "seed", "Tags.member.2.Key", "team")
			},
			status: http.StatusOK,
			after: func(t *testing.T, body string) {
				lb = element(t, body, "LoadBalancerArn")
				got, err := w.cloud.DescribeLoadBalancers(ctx, bootstrap, core.DescribeLoadBalancersInput{LoadBalancerARNs: []string{lb}})
				if err != nil {
					t.Fatal(err)
				}
				want := []core.Tag{{Key: "Name", Value: "seed"}, {Key: "team"}}
				if !slices.Equal(got[0].Tags, want) {
					t.Errorf("core has tags %v, want %v", got[0].Tags, want)
				}
			},
		},
		{
			name: "CreateLoadBalancer-application",
			form: func() url.Values {
				return params("CreateLoadBalancer", "Name", "alb", "Subnets.member.1", s1)
			},
			status: http.StatusBadRequest,
		},
		{
			name: "CreateLoadBalancer-missing-subnet",
			form: func() url.Values {
				return params("CreateLoadBalancer", "Name", "nlb2", "Type", "network", "Subnets.member.1", "subnet-0123456789abcdef0")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "CreateTargetGroup",
			form: func() url.Values {
				return params("CreateTargetGroup", "Name", "tg-ssh", "Protocol", "TCP", "Port", "22", "VpcId", w.vpc.ID)
			},
			status: http.StatusOK,
			after:  func(t *testing.T, body string) { tgSSH = element(t, body, "TargetGroupArn") },
		},
		{
			name: "CreateTargetGroup-health-check",
			form: func() url.Values {
				return params("CreateTargetGroup", "Name", "tg-web", "Protocol", "TCP", "Port", "80", "VpcId", w.vpc.ID,
					"TargetType", "instance", "HealthCheckPort", "8080", "HealthCheckIntervalSeconds", "10",
					"HealthCheckTimeoutSeconds", "5", "HealthyThresholdCount", "3", "UnhealthyThresholdCount", "3",
					"Tags.member.1.Key", "app", "Tags.member.1.Value", "web")
			},
			status: http.StatusOK,
			after:  func(t *testing.T, body string) { tgWeb = element(t, body, "TargetGroupArn") },
		},
		{
			name: "RegisterTargets",
			form: func() url.Values {
				return params("RegisterTargets", "TargetGroupArn", tgSSH, "Targets.member.1.Id", i1, "Targets.member.2.Id", i2)
			},
			status: http.StatusOK,
		},
		{
			name: "RegisterTargets-port",
			form: func() url.Values {
				return params("RegisterTargets", "TargetGroupArn", tgWeb, "Targets.member.1.Id", i1, "Targets.member.1.Port", "8080")
			},
			status: http.StatusOK,
		},
		{
			name: "DescribeTargetHealth-unused",
			form: func() url.Values {
				return params("DescribeTargetHealth", "TargetGroupArn", tgSSH)
			},
			status: http.StatusOK,
		},
		{
			name: "CreateListener",
			form: func() url.Values {
				return params("CreateListener", "LoadBalancerArn", lb, "Protocol", "TCP", "Port", "8022",
					"DefaultActions.member.1.Type", "forward", "DefaultActions.member.1.TargetGroupArn", tgSSH)
			},
			status: http.StatusOK,
			after:  func(t *testing.T, body string) { l8022 = element(t, body, "ListenerArn") },
		},
		{
			name: "CreateListener-forward-config",
			form: func() url.Values {
				return params("CreateListener", "LoadBalancerArn", lb, "Protocol", "TCP", "Port", "8023",
					"DefaultActions.member.1.Type", "forward",
					"DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn", tgWeb,
					"DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight", "1",
					"DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled", "false")
			},
			status: http.StatusOK,
		},
		{
			name: "CreateListener-duplicate",
			form: func() url.Values {
				return params("CreateListener", "LoadBalancerArn", lb, "Protocol", "TCP", "Port", "8022",
					"DefaultActions.member.1.Type", "forward", "DefaultActions.member.1.TargetGroupArn", tgWeb)
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DescribeLoadBalancers",
			before: func(t *testing.T) {
				if err := w.cloud.SetLoadBalancerActive(ctx, targetGroupID(lb)); err != nil {
					t.Fatal(err)
				}
			},
			form:   func() url.Values { return params("DescribeLoadBalancers") },
			status: http.StatusOK,
		},
		{
			name: "DescribeTargetGroups",
			form: func() url.Values {
				return params("DescribeTargetGroups", "LoadBalancerArn", lb)
			},
			status: http.StatusOK,
		},
		{
			name: "DescribeListeners-page1",
			form: func() url.Values {
				return params("DescribeListeners", "LoadBalancerArn", lb, "PageSize", "1")
			},
			status: http.StatusOK,
			after:  func(t *testing.T, body string) { marker = element(t, body, "NextMarker") },
		},
		{
			name: "DescribeListeners-page2",
			form: func() url.Values {
				return params("DescribeListeners", "LoadBalancerArn", lb, "PageSize", "1", "Marker", marker)
			},
			status: http.StatusOK,
		},
		{
			name: "DescribeListenerAttributes",
			form: func() url.Values {
				return params("DescribeListenerAttributes", "ListenerArn", l8022)
			},
			status: http.StatusOK,
		},
		{
			name: "ModifyListenerAttributes",
			form: func() url.Values {
				return params("ModifyListenerAttributes", "ListenerArn", l8022,
					"Attributes.member.1.Key", "tcp.idle_timeout.seconds", "Attributes.member.1.Value", "120")
			},
			status: http.StatusOK,
		},
		{
			name: "ModifyListenerAttributes-out-of-range",
			form: func() url.Values {
				return params("ModifyListenerAttributes", "ListenerArn", l8022,
					"Attributes.member.1.Key", "tcp.idle_timeout.seconds", "Attributes.member.1.Value", "59")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DescribeTargetGroupAttributes",
			form: func() url.Values {
				return params("DescribeTargetGroupAttributes", "TargetGroupArn", tgSSH)
			},
			status: http.StatusOK,
		},
		{
			name: "ModifyTargetGroupAttributes",
			form: func() url.Values {
				return params("ModifyTargetGroupAttributes", "TargetGroupArn", tgSSH,
					"Attributes.member.1.Key", "deregistration_delay.timeout_seconds", "Attributes.member.1.Value", "60",
					"Attributes.member.2.Key", "proxy_protocol_v2.enabled", "Attributes.member.2.Value", "true")
			},
			status: http.StatusOK,
		},
		{
			name: "ModifyTargetGroupAttributes-out-of-range",
			form: func() url.Values {
				return params("ModifyTargetGroupAttributes", "TargetGroupArn", tgSSH,
					"Attributes.member.1.Key", "deregistration_delay.timeout_seconds", "Attributes.member.1.Value", "3601")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ModifyTargetGroupAttributes-unknown-key",
			form: func() url.Values {
				return params("ModifyTargetGroupAttributes", "TargetGroupArn", tgSSH,
					"Attributes.member.1.Key", "slow_start.duration_seconds", "Attributes.member.1.Value", "30")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ModifyTargetGroupAttributes-stickiness",
			form: func() url.Values {
				return params("ModifyTargetGroupAttributes", "TargetGroupArn", tgSSH,
					"Attributes.member.1.Key", "stickiness.type", "Attributes.member.1.Value", "lb_cookie")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ModifyTargetGroup",
			form: func() url.Values {
				return params("ModifyTargetGroup", "TargetGroupArn", tgWeb, "HealthCheckProtocol", "HTTP",
					"HealthCheckPath", "/healthz", "Matcher.HttpCode", "200,202", "HealthCheckTimeoutSeconds", "4")
			},
			status: http.StatusOK,
		},
		{
			name: "ModifyTargetGroup-path-on-TCP",
			form: func() url.Values {
				return params("ModifyTargetGroup", "TargetGroupArn", tgSSH, "HealthCheckPath", "/")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DescribeLoadBalancerAttributes",
			form: func() url.Values {
				return params("DescribeLoadBalancerAttributes", "LoadBalancerArn", lb)
			},
			status: http.StatusOK,
		},
		{
			name: "ModifyLoadBalancerAttributes",
			form: func() url.Values {
				return params("ModifyLoadBalancerAttributes", "LoadBalancerArn", lb,
					"Attributes.member.1.Key", "deletion_protection.enabled", "Attributes.member.1.Value", "true",
					"Attributes.member.2.Key", "load_balancing.cross_zone.enabled", "Attributes.member.2.Value", "true")
			},
			status: http.StatusOK,
		},
		{
			name: "ModifyLoadBalancerAttributes-not-boolean",
			form: func() url.Values {
				return params("ModifyLoadBalancerAttributes", "LoadBalancerArn", lb,
					"Attributes.member.1.Key", "deletion_protection.enabled", "Attributes.member.1.Value", "yes")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DeleteLoadBalancer-protected",
			form: func() url.Values {
				return params("DeleteLoadBalancer", "LoadBalancerArn", lb)
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DescribeTargetHealth-initial",
			form: func() url.Values {
				return params("DescribeTargetHealth", "TargetGroupArn", tgSSH)
			},
			status: http.StatusOK,
		},
		{
			name: "DescribeTargetHealth-checked",
			before: func(t *testing.T) {
				w.setHealth(t, tgSSH, i1, 22, core.TargetHealthy, "", "")
				w.setHealth(t, tgSSH, i2, 22, core.TargetUnhealthy, core.ReasonTimeout, "Connection to target timed out")
			},
			form: func() url.Values {
				return params("DescribeTargetHealth", "TargetGroupArn", tgSSH)
			},
			status: http.StatusOK,
		},
		{
			name: "DeregisterTargets",
			form: func() url.Values {
				return params("DeregisterTargets", "TargetGroupArn", tgSSH, "Targets.member.1.Id", i2)
			},
			status: http.StatusOK,
		},
		{
			name: "DescribeTargetHealth-draining",
			form: func() url.Values {
				return params("DescribeTargetHealth", "TargetGroupArn", tgSSH)
			},
			status: http.StatusOK,
		},
		{
			name: "DescribeTargetHealth-not-registered",
			before: func(t *testing.T) {
				// The group's 60 s deregistration delay is over.
				if _, err := w.cloud.FinishDeregistrations(ctx, time.Date(2025, 6, 1, 9, 31, 0, 123_000_000, time.UTC)); err != nil {
					t.Fatal(err)
				}
			},
			form: func() url.Values {
				return params("DescribeTargetHealth", "TargetGroupArn", tgSSH, "Targets.member.1.Id", i2)
			},
			status: http.StatusOK,
		},
		{
			name: "DeleteTargetGroup-in-use",
			form: func() url.Values {
				return params("DeleteTargetGroup", "TargetGroupArn", tgSSH)
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DeleteListener",
			form: func() url.Values {
				return params("DeleteListener", "ListenerArn", l8022)
			},
			status: http.StatusOK,
		},
		{
			name: "DeleteListener-not-found",
			form: func() url.Values {
				return params("DeleteListener", "ListenerArn", l8022)
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DeleteTargetGroup",
			form: func() url.Values {
				return params("DeleteTargetGroup", "TargetGroupArn", tgSSH)
			},
			status: http.StatusOK,
		},
		{
			name: "DescribeTargetGroups-not-found",
			form: func() url.Values {
				return params("DescribeTargetGroups", "TargetGroupArns.member.1", tgSSH)
			},
			status: http.StatusBadRequest,
		},
		{
			name: "DeleteLoadBalancer",
			before: func(t *testing.T) {
				attrs := []core.Attribute{{Key: core.AttrDeletionProtection, Value: "false"}}
				if _, err := w.cloud.ModifyLoadBalancerAttributes(ctx, bootstrap, lb, attrs); err != nil {
					t.Fatal(err)
				}
			},
			form: func() url.Values {
				return params("DeleteLoadBalancer", "LoadBalancerArn", lb)
			},
			status: http.StatusOK,
		},
		{
			name:   "DescribeLoadBalancers-empty",
			form:   func() url.Values { return params("DescribeLoadBalancers") },
			status: http.StatusOK,
		},
		{
			name: "DescribeLoadBalancers-not-found",
			form: func() url.Values {
				return params("DescribeLoadBalancers", "LoadBalancerArns.member.1", unknownLB)
			},
			status: http.StatusBadRequest,
		},
		{
			name:   "InvalidAction",
			form:   func() url.Values { return params("CreateRule") },
			status: http.StatusBadRequest,
		},
		{
			name: "InvalidAction-classic-version",
			form: func() url.Values {
				f := params("DescribeLoadBalancers", "LoadBalancerNames.member.1", "classic")
				f.Set("Version", "2012-06-01")
				return f
			},
			status: http.StatusBadRequest,
		},
		{
			name:   "MissingAction",
			form:   func() url.Values { return url.Values{"Version": {elbv2.APIVersion}} },
			status: http.StatusBadRequest,
		},
		{
			name: "ValidationError-missing",
			form: func() url.Values {
				return params("RegisterTargets", "Targets.member.1.Port", "22")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ValidationError-not-a-number",
			form: func() url.Values {
				return params("CreateTargetGroup", "Name", "tg", "Protocol", "TCP", "Port", "twenty-two", "VpcId", w.vpc.ID)
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ValidationError-unknown-parameter",
			form: func() url.Values {
				return params("DescribeLoadBalancers", "LoadBalancerName", "nlb")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ValidationError-page-size",
			form: func() url.Values {
				return params("DescribeTargetGroups", "PageSize", "401")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ValidationError-marker",
			form: func() url.Values {
				return params("DescribeTargetGroups", "Marker", "not-a-marker")
			},
			status: http.StatusBadRequest,
		},
		{
			name: "ValidationError-target-port",
			form: func() url.Values {
				return params("RegisterTargets", "TargetGroupArn", tgWeb, "Targets.member.1.Id", i1, "Targets.member.1.Port", "0")
			},
			status: http.StatusBadRequest,
		},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before(t)
			}
			rec := serve(h, "req-"+s.name, s.form())
			if rec.Code != s.status {
				t.Errorf("status %d, want %d\n%s", rec.Code, s.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/xml;charset=UTF-8" {
				t.Errorf("Content-Type %q", ct)
			}
			golden(t, s.name, rec.Body.Bytes())
			if s.after != nil && rec.Code == s.status {
				s.after(t, rec.Body.String())
			}
		})
	}
}

// TestHandleForms reads parameters from the URL query and the body, and
// refuses bodies that are not forms.
func TestHandleForms(t *testing.T) {
	w := newWorld(t, false)
	h := elbv2.New(w.cloud, nil)
	tests := []struct {
		name        string
		method      string
		query       string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
	}{
		{"GET with query", http.MethodGet, "Action=DescribeLoadBalancers&Version=2015-12-01", "", "", http.StatusOK, ""},
		{"POST with action in query", http.MethodPost, "Action=DescribeTargetGroups", "application/x-www-form-urlencoded", "Version=2015-12-01&PageSize=5", http.StatusOK, ""},
		{"POST without content type", http.MethodPost, "", "", "Action=DescribeLoadBalancers&Version=2015-12-01", http.StatusOK, ""},
		{"same parameter twice, different values", http.MethodPost, "PageSize=2", "application/x-www-form-urlencoded", "Action=DescribeLoadBalancers&PageSize=3", http.StatusBadRequest, "ValidationError"},
		{"JSON body", http.MethodPost, "", "application/json", `{"Action":"DescribeLoadBalancers"}`, http.StatusBadRequest, "UnsupportedMediaType"},
		{"bad escape", http.MethodPost, "", "application/x-www-form-urlencoded", "Action=Describe%zzLoadBalancers", http.StatusBadRequest, "MalformedQueryString"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/?"+tc.query, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			rec := httptest.NewRecorder()
			h.Handle(rec, &api.Request{ID: "req", Caller: bootstrap, HTTP: req, Body: []byte(tc.body)})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d\n%s", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantCode != "" {
				if got := element(t, rec.Body.String(), "Code"); got != tc.wantCode {
					t.Errorf("code %s, want %s", got, tc.wantCode)
				}
			}
		})
	}
}

// TestWriteErrorInternal hides an internal error's text and marks it the
// service's fault.
func TestWriteErrorInternal(t *testing.T) {
	w := newWorld(t, false)
	h := elbv2.New(w.cloud, nil)
	rec := httptest.NewRecorder()
	h.WriteError(rec, "req-1", os.ErrPermission)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if element(t, body, "Type") != "Receiver" || element(t, body, "Code") != "InternalFailure" || strings.Contains(body, "permission") {
		t.Errorf("internal error written as\n%s", body)
	}
}

// TestPaging pages through target groups while others are created and
// deleted between pages: every group that exists throughout is listed
// exactly once, in one order, whatever happens around it.
func TestPaging(t *testing.T) {
	type change struct {
		deleteLastSeen bool // delete the last group of the first page
		create         int  // groups created after the first page
	}
	tests := []struct {
		name     string
		pageSize int
		change   change
	}{
		{"unchanged", 2, change{}},
		{"page of one", 1, change{}},
		{"one page", 400, change{}},
		{"last seen deleted", 2, change{deleteLastSeen: true}},
		{"groups created", 2, change{create: 3}},
		{"both", 3, change{deleteLastSeen: true, create: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, false)
			h := elbv2.New(w.cloud, nil)
			ctx := context.Background()
			create := func(name string) string {
				g, err := w.cloud.CreateTargetGroup(ctx, bootstrap, core.CreateTargetGroupInput{
					Name: name, Protocol: "TCP", Port: new(int32(22)), VpcID: w.vpc.ID,
				})
				if err != nil {
					t.Fatal(err)
				}
				return g.ARN
			}
			var all []string
			for i := range 7 {
				all = append(all, create("tg-"+string(rune('a'+i))))
			}
			arnRE := regexp.MustCompile(`<TargetGroupArn>([^<]*)</TargetGroupArn>`)
			size := strconv.Itoa(tc.pageSize)
			var seen []string
			marker := ""
			for pageNo := 0; ; pageNo++ {
				form := params("DescribeTargetGroups", "PageSize", size)
				if marker != "" {
					form.Set("Marker", marker)
				}
				rec := serve(h, "req", form)
				if rec.Code != http.StatusOK {
					t.Fatalf("page %d: %d\n%s", pageNo, rec.Code, rec.Body)
				}
				body := rec.Body.String()
				var page []string
				for _, m := range arnRE.FindAllStringSubmatch(body, -1) {
					page = append(page, m[1])
				}
				if len(page) > tc.pageSize {
					t.Fatalf("page %d has %d groups, more than %d", pageNo, len(page), tc.pageSize)
				}
				seen = append(seen, page...)
				m := regexp.MustCompile(`<NextMarker>([^<]*)</NextMarker>`).FindStringSubmatch(body)
				if pageNo == 0 {
					if tc.change.deleteLastSeen && len(page) > 0 {
						last := page[len(page)-1]
						if err := w.cloud.DeleteTargetGroup(ctx, bootstrap, last); err != nil {
							t.Fatal(err)
						}
						all = slices.DeleteFunc(all, func(a string) bool { return a == last })
					}
					for i := range tc.change.create {
						create("new-" + string(rune('a'+i)))
					}
				}
				if m == nil {
					break
				}
				marker = m[1]
				if pageNo > 20 {
					t.Fatal("paging does not end")
				}
			}
			for _, arn := range all {
				if n := count(seen, arn); n != 1 {
					t.Errorf("%s listed %d times", arn, n)
				}
			}
			if got := len(dedupe(seen)); got != len(seen) {
				t.Errorf("a group was listed twice: %v", seen)
			}
		})
	}
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

func dedupe(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// FuzzHandle sends arbitrary forms to the handler: every one is answered
// with a result or a client error, never a panic or an internal error.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{
		"Action=DescribeLoadBalancers&Version=2015-12-01&PageSize=1",
		"Action=DescribeListeners&LoadBalancerArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A000000000000%3Aloadbalancer%2Fnet%2Fx%2F0123456789abcdef&Marker=MXxsaXN0ZW5lcnN8MDgwMjIvMA",
		"Action=CreateLoadBalancer&Name=nlb&Type=network&Subnets.member.1=subnet-1&SubnetMappings.member.1.SubnetId=subnet-2",
		"Action=CreateTargetGroup&Name=tg&Protocol=TCP&Port=0&VpcId=vpc-1&Matcher.HttpCode=200",
		"Action=RegisterTargets&TargetGroupArn=x&Targets.member.1.Id=i-1&Targets.member.1.Port=0&Targets.member.999999.Id=y",
		"Action=CreateListener&LoadBalancerArn=x&DefaultActions.member.1.Type=forward&DefaultActions.member.1.Order=0&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight=-1",
		"Action=DescribeTargetHealth&TargetGroupArn=&Include.member.1=All&Targets=",
		"Action=DeleteListener&ListenerArn=%ff%fe",
	} {
		f.Add(seed)
	}
	w := newWorld(f, false)
	h := elbv2.New(w.cloud, nil)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.Handle(rec, &api.Request{ID: "req", Caller: bootstrap, HTTP: req, Body: []byte(body)})
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q:\n%s", rec.Code, body, rec.Body)
		}
	})
}
