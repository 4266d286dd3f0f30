package core

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/etcdstore"
	"github.com/privlink/privlink/store/memstore"
)

// The read-path benchmarks run core on the store privlink serves from (an
// embedded etcd member) holding benchEndpoints interface endpoints, spread
// the way AWS's default quotas force them to be: maxVPCsPerAccount VPCs per
// account and maxEndpointsPerVPC endpoints per VPC, so 40 consumer
// accounts. Each endpoint has an interface in two zones, as a highly
// available endpoint does, and connects to one of benchServices services
// of benchProviders provider accounts, so each provider sees 1,000
// connections. (With more services, filling the store would take longer:
// every create reads every service.)
//
// Run: go test ./core -run '^$' -bench ReadPath -benchtime 100x
const (
	benchEndpoints = 10000
	benchProviders = 10
	benchServices  = benchProviders // one each
)

// benchWorld is the filled store and who owns what in it.
type benchWorld struct {
	cloud     *Cloud
	consumers []Caller
	providers []Caller
	// endpoints holds the first consumer's endpoint IDs in creation order,
	// others those of the other consumers.
	endpoints, others []string
}

// newBenchWorld fills an embedded etcd store. Every object in it is written
// by core's API, but not on etcd and not all in one Cloud, which would take
// minutes (each etcd commit syncs to disk): the provider side is built once on a memstore,
// then each consumer VPC is built on a copy of it, in parallel, and the
// union of what those Clouds wrote is copied into etcd in large
// transactions. A VPC's resources depend only on that VPC, its account's
// other VPCs (only their count, under the quota) and the services, so the
// union is a state core could have reached by itself.
func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	base, err := benchCloud(memstore.New(), 0, t0)
	if err != nil {
		b.Fatal(err)
	}
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(base.EnsureBootstrap(ctx))
	admin := Caller{AccountID: BootstrapAccountID, Admin: true}
	newAccount := func() Caller {
		a, err := base.CreateAccount(ctx, admin)
		must(err)
		return Caller{AccountID: a.Account.ID}
	}
	w := &benchWorld{}
	var serviceNames []string
	for p := range benchProviders {
		prov := newAccount()
		w.providers = append(w.providers, prov)
		vpc, err := base.CreateVpc(ctx, prov, CreateVpcInput{CidrBlock: "10.0.0.0/16"})
		must(err)
		var subnets []string
		for i, zone := range []string{"us-east-1a", "us-east-1b"} {
			s, err := base.CreateSubnet(ctx, prov, CreateSubnetInput{VpcID: vpc.ID, CidrBlock: fmt.Sprintf("10.0.%d.0/24", i), AvailabilityZone: zone})
			must(err)
			subnets = append(subnets, s.ID)
		}
		for i := range benchServices / benchProviders {
			lb, err := base.CreateLoadBalancer(ctx, prov, CreateLoadBalancerInput{
				Name: fmt.Sprintf("svc-%d-%d", p, i), Type: LBTypeNetwork, Scheme: SchemeInternal, Subnets: subnets,
			})
			must(err)
			svc, err := base.CreateVpcEndpointServiceConfiguration(ctx, prov, CreateVpcEndpointServiceConfigurationInput{
				NetworkLoadBalancerARNs: []string{lb.ARN},
			})
			must(err)
			_, err = base.ModifyVpcEndpointServicePermissions(ctx, prov, ModifyVpcEndpointServicePermissionsInput{
				ServiceID: svc.ID, AddAllowedPrincipals: []string{"*"},
			})
			must(err)
			serviceNames = append(serviceNames, svc.ServiceName)
		}
	}
	perAccount := maxVPCsPerAccount * maxEndpointsPerVPC
	for range (benchEndpoints + perAccount - 1) / perAccount {
		w.consumers = append(w.consumers, newAccount())
	}
	baseKVs, _, err := base.st.List(ctx, "")
	must(err)
	shared := slices.DeleteFunc(slices.Clone(baseKVs), func(kv store.KV) bool { return strings.HasPrefix(kv.Key, prefixENIs) })

	// Build every consumer VPC on its own copy of the base.
	type job struct {
		account Caller
		acct    int
		vpc     int
		out     []store.KV // what the job's Cloud added to the base
		eps     []string   // the endpoint IDs, in creation order
		err     error
	}
	var jobs []*job
	for a, acct := range w.consumers {
		for v := range maxVPCsPerAccount {
			if len(jobs)*maxEndpointsPerVPC < benchEndpoints {
				jobs = append(jobs, &job{account: acct, acct: a, vpc: v})
			}
		}
	}
	next := make(chan *job)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range next {
				j.out, j.eps, j.err = buildConsumerVPC(ctx, shared, j.account, j.acct*maxVPCsPerAccount+j.vpc+1,
					t0.Add(time.Duration(j.acct*maxVPCsPerAccount+j.vpc+1)*time.Hour), serviceNames)
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()

	all := slices.Clone(baseKVs)
	for _, j := range jobs {
		if j.err != nil {
			b.Fatalf("consumer %d VPC %d: %v", j.acct, j.vpc, j.err)
		}
		all = append(all, j.out...)
		if j.acct == 0 {
			w.endpoints = append(w.endpoints, j.eps...)
		} else {
			w.others = append(w.others, j.eps...)
		}
	}

	st, err := etcdstore.Open(ctx, etcdstore.Config{
		DataDir: filepath.Join(b.TempDir(), "etcd"),
		Logger:  slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	must(err)
	b.Cleanup(func() { st.Close() })
	must(copyKVs(ctx, st, all))
	w.cloud, err = benchCloud(st, 1<<20, t0)
	must(err)
	b.Logf("filled %d keys (%d endpoints, %d consumer accounts) in %v", len(all), len(jobs)*maxEndpointsPerVPC, len(w.consumers), time.Since(start).Round(time.Millisecond))
	return w
}

// benchCloud returns a Cloud over st with IDs from a seeded source.
func benchCloud(st store.Store, seed uint64, t0 time.Time) (*Cloud, error) {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	var mu sync.Mutex // guards now
	now := t0
	return New(st, Config{
		Rand: rand.NewChaCha8(key),
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(time.Second)
			return now
		},
	}, nil)
}

// buildConsumerVPC creates one consumer VPC full of endpoints on a copy of
// base and returns the keys it added, and its endpoints in creation order.
func buildConsumerVPC(ctx context.Context, base []store.KV, acct Caller, n int, t0 time.Time, services []string) ([]store.KV, []string, error) {
	st := memstore.New()
	defer st.Close()
	if err := copyKVs(ctx, st, base); err != nil {
		return nil, nil, err
	}
	c, err := benchCloud(st, uint64(n), t0)
	if err != nil {
		return nil, nil, err
	}
	vpc, err := c.CreateVpc(ctx, acct, CreateVpcInput{CidrBlock: fmt.Sprintf("10.%d.0.0/16", n%250)})
	if err != nil {
		return nil, nil, err
	}
	var subnets []string
	for i, zone := range []string{"us-east-1a", "us-east-1b"} {
		s, err := c.CreateSubnet(ctx, acct, CreateSubnetInput{VpcID: vpc.ID, CidrBlock: fmt.Sprintf("10.%d.%d.0/24", n%250, i), AvailabilityZone: zone})
		if err != nil {
			return nil, nil, err
		}
		subnets = append(subnets, s.ID)
	}
	var eps []string
	for i := range maxEndpointsPerVPC {
		ep, err := c.CreateVpcEndpoint(ctx, acct, CreateVpcEndpointInput{
			VpcEndpointType: EndpointTypeInterface, VpcID: vpc.ID, ServiceName: services[i%len(services)], SubnetIDs: subnets,
		})
		if err != nil {
			return nil, nil, err
		}
		eps = append(eps, ep.ID)
	}
	kvs, _, err := st.List(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	old := map[string]string{}
	for _, kv := range base {
		old[kv.Key] = string(kv.Value)
	}
	var added []store.KV
	for _, kv := range kvs {
		v, ok := old[kv.Key]
		switch {
		case !ok:
			added = append(added, kv)
		case v != string(kv.Value):
			return nil, nil, fmt.Errorf("building a consumer VPC changed shared key %s", kv.Key)
		}
	}
	return added, eps, nil
}

// copyKVs writes kvs to st in transactions of at most 1,000 keys or 1 MiB.
func copyKVs(ctx context.Context, st store.Store, kvs []store.KV) error {
	for len(kvs) > 0 {
		n, size := 0, 0
		for n < len(kvs) && n < 1000 && size < 1<<20 {
			size += len(kvs[n].Key) + len(kvs[n].Value)
			n++
		}
		batch := kvs[:n]
		kvs = kvs[n:]
		if _, err := st.Update(ctx, func(tx store.Tx) error {
			for _, kv := range batch {
				if err := tx.Put(kv.Key, kv.Value); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// latencies records the duration of calls and reports p50 and p99 beside
// ns/op.
type latencies struct {
	mu sync.Mutex // guards d
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.d = append(l.d, d...)
}

func (l *latencies) report(b *testing.B) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(q float64) float64 { return float64(l.d[int(q*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// reportHeap reports the live heap, which holds the store's and core's
// caches besides etcd's own data.
func reportHeap(b *testing.B) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
}

// BenchmarkReadPath measures the read-only calls on a store with 10,000
// endpoints: one consumer's endpoints (all 250 of them: the EC2 handler
// pages after core returns them all, so a MaxResults page costs the same
// here; and five by ID), also with concurrent callers and with a writer
// marking other accounts' endpoints available; the services a consumer
// may use; a provider's 1,000 connections; a consumer's subnets and
// interfaces; and the reconciler's whole-state read.
func BenchmarkReadPath(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	consumer, provider := w.consumers[0], w.providers[0]
	perAccount := maxVPCsPerAccount * maxEndpointsPerVPC

	type call func() (int, error)
	// run measures call, want items a time, in b's loop.
	run := func(b *testing.B, want int, c call, parallel bool) {
		// One call first, so the benchmark measures the steady state
		// rather than a cold start.
		if _, err := c(); err != nil {
			b.Fatal(err)
		}
		var l latencies
		loop := func(next func() bool) {
			var d []time.Duration
			for next() {
				start := time.Now()
				n, err := c()
				d = append(d, time.Since(start))
				if err != nil {
					b.Error(err)
					return
				}
				if n != want {
					b.Errorf("got %d items, want %d", n, want)
					return
				}
			}
			l.add(d)
		}
		b.ReportAllocs()
		if parallel {
			b.RunParallel(func(pb *testing.PB) { loop(pb.Next) })
		} else {
			loop(b.Loop)
		}
		l.report(b)
		reportHeap(b)
	}
	describeAll := func() (int, error) {
		eps, err := w.cloud.DescribeVpcEndpoints(ctx, consumer, nil)
		return len(eps), err
	}
	b.Run("DescribeVpcEndpoints/all", func(b *testing.B) { run(b, perAccount, describeAll, false) })
	b.Run("DescribeVpcEndpoints/all/parallel", func(b *testing.B) { run(b, perAccount, describeAll, true) })
	// The writer commits one change to another account's endpoint after
	// another, as the reconciler does when endpoints become available (or
	// fail), going on where it stopped each time the benchmark runs.
	written := 0
	write := func(ctx context.Context) error {
		i := written % len(w.others)
		written++
		if written <= len(w.others) {
			return w.cloud.SetEndpointAvailable(ctx, w.others[i])
		}
		if written <= 2*len(w.others) {
			return w.cloud.SetEndpointFailed(ctx, w.others[i], "Bench", "failed for the benchmark")
		}
		return fmt.Errorf("the writer ran out of changes after %d", written)
	}
	b.Run("DescribeVpcEndpoints/all/with-writes", func(b *testing.B) {
		wctx, cancel := context.WithCancel(ctx)
		writes := 0
		var wg sync.WaitGroup
		wg.Go(func() {
			for wctx.Err() == nil {
				if err := write(wctx); err != nil && wctx.Err() == nil {
					b.Error(err)
					return
				}
				writes++
			}
		})
		start := time.Now()
		run(b, perAccount, describeAll, false)
		cancel()
		wg.Wait()
		b.ReportMetric(float64(writes)/time.Since(start).Seconds(), "writes/s")
	})
	ids := w.endpoints[:5]
	b.Run("DescribeVpcEndpoints/ids=5", func(b *testing.B) {
		run(b, len(ids), func() (int, error) {
			eps, err := w.cloud.DescribeVpcEndpoints(ctx, consumer, ids)
			return len(eps), err
		}, false)
	})
	b.Run("DescribeVpcEndpointServices", func(b *testing.B) {
		run(b, benchServices, func() (int, error) {
			svcs, err := w.cloud.DescribeVpcEndpointServices(ctx, consumer, nil)
			return len(svcs), err
		}, false)
	})
	b.Run("DescribeVpcEndpointConnections", func(b *testing.B) {
		run(b, benchEndpoints/benchProviders, func() (int, error) {
			conns, err := w.cloud.DescribeVpcEndpointConnections(ctx, provider)
			return len(conns), err
		}, false)
	})
	b.Run("DescribeSubnets", func(b *testing.B) {
		run(b, 2*maxVPCsPerAccount, func() (int, error) {
			subnets, err := w.cloud.DescribeSubnets(ctx, consumer, DescribeSubnetsInput{})
			return len(subnets), err
		}, false)
	})
	b.Run("DescribeNetworkInterfaces", func(b *testing.B) {
		run(b, 2*perAccount, func() (int, error) {
			enis, err := w.cloud.DescribeNetworkInterfaces(ctx, consumer, DescribeNetworkInterfacesInput{})
			return len(enis), err
		}, false)
	})
	b.Run("LoadSnapshot", func(b *testing.B) {
		run(b, benchEndpoints, func() (int, error) {
			s, err := w.cloud.LoadSnapshot(ctx)
			if err != nil {
				return 0, err
			}
			return len(s.Endpoints), nil
		}, false)
	})
}
