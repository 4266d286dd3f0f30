package ec2_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/store/memstore"
)

// stepClock is a deterministic clock that moves one second per reading, so
// that creation order shows in timestamps.
type stepClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// newCloud returns a core over a memory store whose IDs and times are the
// same on every run, with the bootstrap account.
func newCloud(t testing.TB) *core.Cloud {
	t.Helper()
	clock := &stepClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	cloud, err := core.New(memstore.New(), core.Config{
		Region: "us-east-1",
		Now:    clock.Now,
		Rand:   rand.NewChaCha8([32]byte{'p', 'r', 'i', 'v', 'l', 'i', 'n', 'k'}),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.EnsureBootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cloud
}

var bootstrap = core.Caller{AccountID: core.BootstrapAccountID, Admin: true}

// newAccount creates a second account through core.
func newAccount(t testing.TB, cloud *core.Cloud) core.NewAccount {
	t.Helper()
	a, err := cloud.CreateAccount(context.Background(), bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newNLB creates an active internal network load balancer in the subnets
// through core, as the ELBv2 API would.
func newNLB(t testing.TB, cloud *core.Cloud, caller core.Caller, name string, subnets ...string) core.LoadBalancer {
	t.Helper()
	ctx := context.Background()
	lb, err := cloud.CreateLoadBalancer(ctx, caller, core.CreateLoadBalancerInput{
		Name: name, Type: core.LBTypeNetwork, Scheme: core.SchemeInternal, Subnets: subnets,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.SetLoadBalancerActive(ctx, lb.ID); err != nil {
		t.Fatal(err)
	}
	return lb
}
