package conformance

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/apierr"
	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/store/memstore"
)

// seen is what a stand-in handler records of an authenticated request.
type seen struct {
	Service, Region, Account, Action string
}

// standIn is a Handler that answers one read-only action per protocol with
// an empty result, in the protocol's real wire format, and records what
// reached it. Errors go through apierr, as the real handlers' do.
type standIn struct {
	family apierr.Family

	mu   sync.Mutex // guards last
	last *seen
}

func (h *standIn) Handle(w http.ResponseWriter, r *api.Request) {
	form, _ := url.ParseQuery(string(r.Body))
	if q := r.HTTP.URL.Query().Get("Action"); q != "" {
		form.Set("Action", q)
	}
	h.mu.Lock()
	h.last = &seen{Service: r.Service, Region: r.Region, Account: r.Caller.AccountID, Action: form.Get("Action")}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	switch h.family {
	case apierr.EC2:
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId><regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item></regionInfo></DescribeRegionsResponse>`, r.ID)
	default:
		fmt.Fprintf(w, `<DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeLoadBalancersResult><LoadBalancers/></DescribeLoadBalancersResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></DescribeLoadBalancersResponse>`, r.ID)
	}
}

func (h *standIn) WriteError(w http.ResponseWriter, requestID string, err error) {
	wire := apierr.Resolve(nil, requestID, h.family, err)
	var b bytes.Buffer
	esc := func(s string) string { var o bytes.Buffer; xml.EscapeText(&o, []byte(s)); return o.String() }
	switch h.family {
	case apierr.EC2:
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			esc(wire.Code), esc(wire.Message), requestID)
	default:
		fmt.Fprintf(&b, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			esc(wire.Code), esc(wire.Message), requestID)
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(wire.Status)
	w.Write(b.Bytes())
}

func (h *standIn) take() *seen {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.last
	h.last = nil
	return s
}

type fixture struct {
	url      string
	ec2, elb *standIn
	account  core.NewAccount // a second, non-admin account
}

// newFixture runs the Server over a Cloud on memstore with the bootstrap
// account and one more. now, if not nil, is the server's clock.
func newFixture(t *testing.T, now func() time.Time) *fixture {
	t.Helper()
	ctx := context.Background()
	cloud, err := core.New(memstore.New(), core.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{ec2: &standIn{family: apierr.EC2}, elb: &standIn{family: apierr.Query}}
	if f.account, err = cloud.CreateAccount(ctx, core.Caller{AccountID: core.BootstrapAccountID, Admin: true}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewServer(api.Config{Now: now}, cloud,
		map[string]api.Handler{"ec2": f.ec2, "elasticloadbalancing": f.elb}, nil))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// creds is a key pair; anonymous means no signature at all.
type creds struct {
	key, secret string
	anonymous   bool
}

var bootstrap = creds{key: core.BootstrapAccessKey, secret: core.BootstrapSecretKey}

func (c creds) provider() aws.CredentialsProvider {
	if c.anonymous {
		return aws.AnonymousCredentials{}
	}
	return credentials.NewStaticCredentialsProvider(c.key, c.secret, "")
}

func (f *fixture) ec2Client(c creds, region string) *ec2.Client {
	return ec2.New(ec2.Options{Region: region, Credentials: c.provider(), BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
}

func (f *fixture) elbClient(c creds, region string) *elbv2.Client {
	return elbv2.New(elbv2.Options{Region: region, Credentials: c.provider(), BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
}

// sdkCall makes one SDK call of the service.
func (f *fixture) sdkCall(ctx context.Context, service string, c creds, region string) error {
	if service == "ec2" {
		_, err := f.ec2Client(c, region).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		return err
	}
	_, err := f.elbClient(c, region).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	return err
}

func (f *fixture) handler(service string) *standIn {
	if service == "ec2" {
		return f.ec2
	}
	return f.elb
}

// TestSDK authenticates and routes requests signed by the AWS SDK for Go v2.
func TestSDK(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	other := creds{key: f.account.AccessKey.ID, secret: f.account.AccessKey.Secret}
	cases := []struct {
		service, region string
		creds           creds
		wantAccount     string
		wantAction      string
	}{
		{"ec2", "us-east-1", bootstrap, core.BootstrapAccountID, "DescribeRegions"},
		{"ec2", "eu-central-1", other, f.account.Account.ID, "DescribeRegions"},
		{"elasticloadbalancing", "us-east-1", bootstrap, core.BootstrapAccountID, "DescribeLoadBalancers"},
		{"elasticloadbalancing", "ap-northeast-1", other, f.account.Account.ID, "DescribeLoadBalancers"},
	}
	for _, tc := range cases {
		t.Run(tc.service+"/"+tc.region, func(t *testing.T) {
			if err := f.sdkCall(ctx, tc.service, tc.creds, tc.region); err != nil {
				t.Fatal(err)
			}
			want := seen{Service: tc.service, Region: tc.region, Account: tc.wantAccount, Action: tc.wantAction}
			if got := f.handler(tc.service).take(); got == nil || *got != want {
				t.Fatalf("handler saw %+v, want %+v", got, want)
			}
		})
	}
}

// TestSDKErrors checks that the SDK reads privlink's authentication
// failures as the codes and statuses AWS's services send.
func TestSDKErrors(t *testing.T) {
	ctx := context.Background()
	ahead := func() time.Time { return time.Now().Add(time.Hour) }
	cases := []struct {
		name       string
		service    string
		creds      creds
		now        func() time.Time
		wantCode   string
		wantStatus int
	}{
		{"ec2 wrong secret", "ec2", creds{key: "test", secret: "wrong"}, nil, "SignatureDoesNotMatch", 403},
		{"elbv2 wrong secret", "elasticloadbalancing", creds{key: "test", secret: "wrong"}, nil, "SignatureDoesNotMatch", 403},
		{"ec2 unknown key", "ec2", creds{key: "AKIAUNKNOWNUNKNOWN00", secret: "x"}, nil, "AuthFailure", 401},
		{"elbv2 unknown key", "elasticloadbalancing", creds{key: "AKIAUNKNOWNUNKNOWN00", secret: "x"}, nil, "InvalidClientTokenId", 403},
		{"ec2 stale date", "ec2", bootstrap, ahead, "RequestExpired", 400},
		{"elbv2 stale date", "elasticloadbalancing", bootstrap, ahead, "SignatureDoesNotMatch", 403},
		{"ec2 unsigned", "ec2", creds{anonymous: true}, nil, "MissingAuthenticationToken", 401},
		{"elbv2 unsigned", "elasticloadbalancing", creds{anonymous: true}, nil, "MissingAuthenticationToken", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.now)
			err := f.sdkCall(ctx, tc.service, tc.creds, "us-east-1")
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v, want an API error %s", err, tc.wantCode)
			}
			if apiErr.ErrorCode() != tc.wantCode {
				t.Errorf("code %s (%s), want %s", apiErr.ErrorCode(), apiErr.ErrorMessage(), tc.wantCode)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != tc.wantStatus {
				t.Errorf("status of %v, want %d", err, tc.wantStatus)
			}
			if respErr != nil && respErr.ServiceRequestID() == "" {
				t.Error("the SDK found no request ID")
			}
			if h := f.handler(tc.service).take(); h != nil {
				t.Errorf("a failed request reached the handler: %+v", h)
			}
		})
	}
}

// cli is an AWS CLI binary of a major version.
type cli struct {
	name string
	path string
}

// findCLIs returns the AWS CLIs to test with (querytest.AWSCLIs decides).
func findCLIs(t *testing.T) []cli {
	t.Helper()
	var clis []cli
	for _, c := range querytest.AWSCLIs(t) {
		clis = append(clis, cli{c.Name, c.Path})
	}
	return clis
}

// run runs the CLI against the fixture with only the given credentials in
// its environment: no config or credentials files, no retries, no pager.
func (c cli) run(t *testing.T, endpoint string, cr creds, args ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if !cr.anonymous {
		env = append(env, "AWS_ACCESS_KEY_ID="+cr.key, "AWS_SECRET_ACCESS_KEY="+cr.secret)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var cliCommands = map[string][]string{
	"ec2":                  {"ec2", "describe-regions"},
	"elasticloadbalancing": {"elbv2", "describe-load-balancers"},
}

// TestCLI authenticates and routes requests signed by both AWS CLIs, and
// checks that they print privlink's authentication errors as AWS's.
func TestCLI(t *testing.T) {
	clis := findCLIs(t)
	f := newFixture(t, nil)
	other := creds{key: f.account.AccessKey.ID, secret: f.account.AccessKey.Secret}
	cases := []struct {
		name     string
		service  string
		creds    creds
		wantCode string // empty: success
		account  string
	}{
		{"ec2", "ec2", bootstrap, "", core.BootstrapAccountID},
		{"ec2 other account", "ec2", other, "", f.account.Account.ID},
		{"elbv2", "elasticloadbalancing", bootstrap, "", core.BootstrapAccountID},
		{"ec2 wrong secret", "ec2", creds{key: "test", secret: "wrong"}, "SignatureDoesNotMatch", ""},
		{"elbv2 wrong secret", "elasticloadbalancing", creds{key: "test", secret: "wrong"}, "SignatureDoesNotMatch", ""},
		{"ec2 unknown key", "ec2", creds{key: "AKIAUNKNOWNUNKNOWN00", secret: "x"}, "AuthFailure", ""},
		{"elbv2 unknown key", "elasticloadbalancing", creds{key: "AKIAUNKNOWNUNKNOWN00", secret: "x"}, "InvalidClientTokenId", ""},
	}
	for _, c := range clis {
		for _, tc := range cases {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				out, err := c.run(t, f.url, tc.creds, cliCommands[tc.service]...)
				got := f.handler(tc.service).take()
				if tc.wantCode == "" {
					if err != nil {
						t.Fatalf("%v\n%s", err, out)
					}
					action := map[string]string{"ec2": "DescribeRegions", "elasticloadbalancing": "DescribeLoadBalancers"}[tc.service]
					want := seen{Service: tc.service, Region: "us-east-1", Account: tc.account, Action: action}
					if got == nil || *got != want {
						t.Fatalf("handler saw %+v, want %+v", got, want)
					}
					return
				}
				if err == nil {
					t.Fatalf("succeeded, want %s:\n%s", tc.wantCode, out)
				}
				if !strings.Contains(out, "("+tc.wantCode+")") {
					t.Fatalf("output lacks (%s):\n%s", tc.wantCode, out)
				}
				if got != nil {
					t.Errorf("a failed request reached the handler: %+v", got)
				}
			})
		}
	}
}
