package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/admin"
	"github.com/privlink/privlink/api/sigv4"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/store/memstore"
)

// lab is a LabInstances with one instance per account: "i-<account>".
type lab struct{}

func (lab) LabInstance(ctx context.Context, caller core.Caller, id string) (string, string, error) {
	if id != "i-"+caller.AccountID {
		return "", "", core.Errorf(core.KindNotFound, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return "privlink-test-" + caller.AccountID, "running", nil
}

// newServer runs a Server over a real Cloud on memstore with the admin
// handler, and returns its URL.
func newServer(t *testing.T, labs admin.LabInstances) string {
	t.Helper()
	ctx := context.Background()
	cloud, err := core.New(memstore.New(), core.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	h := admin.NewHandler(cloud, labs, nil)
	srv := httptest.NewServer(api.NewServer(api.Config{}, cloud, map[string]api.Handler{admin.Service: h}, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

func client(url, key, secret string) *admin.Client {
	return &admin.Client{Endpoint: url, AccessKey: key, SecretKey: secret}
}

func TestCreateAccount(t *testing.T) {
	ctx := context.Background()
	url := newServer(t, lab{})
	boot := client(url, core.BootstrapAccessKey, core.BootstrapSecretKey)

	acct, err := boot.CreateAccount(ctx)
	if err != nil {
		t.Fatalf("bootstrap CreateAccount: %v", err)
	}
	if !regexp.MustCompile(`^\d{12}$`).MatchString(acct.AccountID) || acct.AccountID == core.BootstrapAccountID {
		t.Errorf("AccountId %q", acct.AccountID)
	}
	if !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(acct.AccessKeyID) {
		t.Errorf("AccessKeyId %q", acct.AccessKeyID)
	}
	if len(acct.SecretAccessKey) != 40 {
		t.Errorf("SecretAccessKey %q is not 40 characters", acct.SecretAccessKey)
	}

	second, err := boot.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccountID == acct.AccountID || second.AccessKeyID == acct.AccessKeyID {
		t.Errorf("two accounts share IDs: %+v %+v", acct, second)
	}

	t.Run("new key authenticates as the new account", func(t *testing.T) {
		got, err := client(url, acct.AccessKeyID, acct.SecretAccessKey).DescribeLabInstance(ctx, "i-"+acct.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		want := admin.LabInstance{InstanceID: "i-" + acct.AccountID, Namespace: "privlink-test-" + acct.AccountID, State: "running"}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})

	cases := []struct {
		name       string
		client     *admin.Client
		call       func(c *admin.Client) error
		wantStatus int
		wantCode   string
	}{
		{"new account may not create accounts", client(url, acct.AccessKeyID, acct.SecretAccessKey),
			func(c *admin.Client) error { _, err := c.CreateAccount(ctx); return err }, 400, "AccessDenied"},
		{"another account's instance", client(url, acct.AccessKeyID, acct.SecretAccessKey),
			func(c *admin.Client) error { _, err := c.DescribeLabInstance(ctx, "i-"+second.AccountID); return err },
			400, "InvalidInstanceID.NotFound"},
		{"no instance ID", boot,
			func(c *admin.Client) error { _, err := c.DescribeLabInstance(ctx, ""); return err }, 400, "ValidationException"},
		{"wrong secret", client(url, acct.AccessKeyID, "wrong"),
			func(c *admin.Client) error { _, err := c.CreateAccount(ctx); return err }, 400, "InvalidSignatureException"},
		{"unknown key", client(url, "AKIANOSUCHKEY0000000", "x"),
			func(c *admin.Client) error { _, err := c.CreateAccount(ctx); return err }, 400, "UnrecognizedClientException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(tc.client)
			var e *admin.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want an *admin.Error", err)
			}
			if e.StatusCode != tc.wantStatus || e.Code != tc.wantCode {
				t.Fatalf("got %d %s (%s), want %d %s", e.StatusCode, e.Code, e.Message, tc.wantStatus, tc.wantCode)
			}
			if e.Error() != e.Code+": "+e.Message || e.Message == "" {
				t.Errorf("Error() = %q", e.Error())
			}
			if e.RequestID == "" {
				t.Error("no request ID")
			}
		})
	}
}

func TestNoLab(t *testing.T) {
	url := newServer(t, nil)
	_, err := client(url, "test", "test").DescribeLabInstance(context.Background(), "i-1")
	var e *admin.Error
	if !errors.As(err, &e) || e.Code != "LabUnavailable" {
		t.Fatalf("error %v, want LabUnavailable", err)
	}
}

// TestWireErrors sends hand-made requests the Client would never send.
func TestWireErrors(t *testing.T) {
	url := newServer(t, lab{})
	cases := []struct {
		name, method, target, body string
		wantStatus                 int
		wantType                   string
	}{
		{"unknown operation", "POST", "PrivlinkAdmin.DeleteEverything", "{}", 400, "UnknownOperationException"},
		{"other prefix", "POST", "DynamoDB_20120810.ListTables", "{}", 400, "UnknownOperationException"},
		{"no target", "POST", "", "{}", 400, "UnknownOperationException"},
		{"GET", "GET", "PrivlinkAdmin.CreateAccount", "", 400, "UnknownOperationException"},
		{"bad JSON", "POST", "PrivlinkAdmin.DescribeLabInstance", "{", 400, "SerializationException"},
		{"wrong shape", "POST", "PrivlinkAdmin.DescribeLabInstance", `{"InstanceId":7}`, 400, "SerializationException"},
		{"empty body is an empty object", "POST", "PrivlinkAdmin.CreateAccount", "", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(tc.method, url+"/", bytes.NewReader([]byte(tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", admin.ContentType)
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			if err := sigv4.Sign(r, []byte(tc.body), sigv4.Credentials{AccessKey: "test", SecretKey: "test"}, "us-east-1", admin.Service, time.Now()); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("response is not JSON: %v", err)
			}
			if resp.StatusCode != tc.wantStatus || (tc.wantType != "" && body["__type"] != tc.wantType) {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, tc.wantStatus, tc.wantType)
			}
			if ct := resp.Header.Get("Content-Type"); ct != admin.ContentType {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
