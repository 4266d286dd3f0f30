// Package testserver runs a whole privlink control plane in-process for
// tests: core over memstore, the API server with every handler, and the
// reconciler without a lab (objects go straight to their ready states). It is
// what API conformance tests point the AWS SDK and CLI at.
package testserver

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/admin"
	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/api/route53"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/reconcile"
	"github.com/privlink/privlink/store/memstore"
)

// Server is a running in-process privlink.
type Server struct {
	URL   string
	Cloud *core.Cloud
}

// Account is a set of credentials.
type Account struct {
	ID, AccessKey, SecretKey string
}

// Bootstrap is the bootstrap account.
var Bootstrap = Account{ID: core.BootstrapAccountID, AccessKey: core.BootstrapAccessKey, SecretKey: core.BootstrapSecretKey}

// Start runs a server until the test ends. Logs go to the test log when
// PRIVLINK_TEST_LOG is set.
func Start(t testing.TB) *Server {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("PRIVLINK_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cloud, err := core.New(memstore.New(), core.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := cloud.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	handlers := map[string]api.Handler{
		"ec2":                  ec2.New(cloud, log),
		"elasticloadbalancing": elbv2.New(cloud, log),
		admin.Service:          admin.NewHandler(cloud, nil, log),
		route53.Service:        route53.New(cloud, log),
	}
	hs := httptest.NewServer(api.NewServer(api.DefaultConfig(), cloud, handlers, log))
	rec := reconcile.New(cloud, nil, nil, reconcile.Config{}, log)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = rec.Run(ctx)
	}()
	t.Cleanup(func() {
		hs.Close()
		cancel()
		wg.Wait()
	})
	return &Server{URL: hs.URL, Cloud: cloud}
}

// NewAccount creates an account through core.
func (s *Server) NewAccount(t testing.TB) Account {
	t.Helper()
	a, err := s.Cloud.CreateAccount(context.Background(), core.Caller{AccountID: core.BootstrapAccountID, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	return Account{ID: a.Account.ID, AccessKey: a.AccessKey.ID, SecretKey: a.AccessKey.Secret}
}

// AWSConfig returns an SDK configuration that talks to the server as acct.
// Build service clients from it with BaseEndpoint set to s.URL, e.g.
// ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(s.URL) }).
func (s *Server) AWSConfig(acct Account) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(acct.AccessKey, acct.SecretKey, ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
