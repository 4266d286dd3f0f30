package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/admin"
	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/api/route53"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/dataplane"
	"github.com/privlink/privlink/internal/dirlock"
	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/metrics"
	"github.com/privlink/privlink/reconcile"
	"github.com/privlink/privlink/resolver"
	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/etcdstore"
	"github.com/privlink/privlink/store/memstore"
)

const defaultDataDir = "/var/lib/privlink"

// defaultDNSListen is the public resolver's address: loopback, beside the
// API's port, and away from 53 (systemd-resolved's 127.0.0.53 and any
// local resolver) and 5353 (mDNS).
const defaultDNSListen = "127.0.0.1:4553"

// The values of --store.
const (
	storeEtcd   = "etcd"   // an embedded etcd member in the data dir, or --etcd-endpoints
	storeMemory = "memory" // memstore: nothing kept, state ends with the server
)

type serverFlags struct {
	listen        string
	dataDir       string
	region        string
	store         string
	etcdEndpoints []string
	noLab         bool
	noBootstrap   bool
	logLevel      string
	dataPath      string
	dnsListen     string
	dnsListenSet  bool // --dns-listen was given: failing to listen is fatal
	cpuProfile    string
	memProfile    string
	smallSegments bool
	labFabric     string
}

func newServerCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a privlink server: the AWS APIs, the store and (by default) the lab",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			f.dnsListenSet = cmd.Flags().Changed("dns-listen")
			return runServer(ctx, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:4580", "address to serve the AWS APIs on")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "directory for lab state and (with --store etcd) the embedded etcd member")
	fl.StringVar(&f.region, "region", "us-east-1", "the AWS region this server plays")
	fl.StringVar(&f.store, "store", storeEtcd,
		"where state lives: etcd (an embedded member in the data dir, or the cluster of --etcd-endpoints) or memory (in this process only: state ends with the server)")
	fl.StringSliceVar(&f.etcdEndpoints, "etcd-endpoints", nil, "use this etcd cluster instead of an embedded member (--store etcd only)")
	fl.BoolVar(&f.noLab, "no-lab", false, "serve the APIs only: no namespaces, no data plane (no root needed)")
	fl.BoolVar(&f.noBootstrap, "no-bootstrap", false, "do not create the bootstrap account (000000000000, key test/test)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.dataPath, "data-path", string(reconcile.DataPathKernel),
		"how endpoint flows reach targets: kernel (NAT in the lab's namespaces, no copy) or proxy (a user-space hop)")
	fl.StringVar(&f.dnsListen, "dns-listen", defaultDNSListen,
		"IP:port (UDP and TCP) of the lab's public DNS resolver, the view from outside any VPC; empty for none")
	fl.BoolVar(&f.smallSegments, "lab-small-segments", false,
		"keep TCP segments on lab links at 64 KiB, as on EC2, instead of 512 KiB (BIG TCP): about a quarter less throughput, "+
			"but every captured packet keeps its IP length (older tcpdump, such as 4.99.3, prints \"IP bad-len 0\" for larger ones)")
	fl.StringVar(&f.labFabric, "lab-fabric", string(lab.FabricShared),
		"how the lab builds VPCs: shared (one namespace holds every VPC's router, kept apart by routing tables, conntrack zones "+
			"and marks; an endpoint flow is translated once) or routers (a router namespace per VPC, apart by construction; "+
			"an endpoint flow crosses three namespaces). docs/fabric.md")
	// For profiling the server under a benchmark (bench -server-profile).
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	_ = fl.MarkHidden("cpuprofile")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile to this file when the server is told to stop, before it closes anything")
	_ = fl.MarkHidden("memprofile")
	return cmd
}

func runServer(ctx context.Context, f serverFlags) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	path := reconcile.DataPath(f.dataPath)
	if path != reconcile.DataPathKernel && path != reconcile.DataPathProxy {
		return fmt.Errorf("--data-path %q: want %s or %s", f.dataPath, reconcile.DataPathKernel, reconcile.DataPathProxy)
	}
	if fab := lab.Fabric(f.labFabric); fab != lab.FabricRouters && fab != lab.FabricShared {
		return fmt.Errorf("--lab-fabric %q: want %s or %s", f.labFabric, lab.FabricRouters, lab.FabricShared)
	}
	if err := checkStoreFlags(f); err != nil {
		return err
	}

	if !f.noLab {
		if err := lab.Check(); err != nil {
			// Check's message says what is missing and offers --no-lab.
			return fmt.Errorf("the lab cannot run here: %w", err)
		}
	}
	dataDir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return err
	}
	// A memory store without a lab keeps nothing on disk, so it needs no
	// data dir (nor the right to create the default one).
	usesDataDir := f.store == storeEtcd || !f.noLab
	if usesDataDir {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	if !f.noLab {
		// The lab's namespaces are named for the data dir: two servers on
		// one data dir would tear down each other's. The embedded etcd
		// member's own lock covers only --store etcd without a cluster.
		unlock, err := lockDataDir(dataDir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()

	st, err := openStore(ctx, f, dataDir, log)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()

	cloud, err := core.New(st, core.Config{Region: f.region}, log)
	if err != nil {
		return err
	}
	if err := cloud.EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("store indexes: %w", err)
	}
	if !f.noBootstrap {
		if err := cloud.EnsureBootstrap(ctx); err != nil {
			return fmt.Errorf("bootstrap account: %w", err)
		}
	}

	var (
		fabric *lab.Lab
		plane  *dataplane.Plane
		rec    *reconcile.Reconciler
	)
	labState := "off (--no-lab)"
	if !f.noLab {
		prefix := lab.PrefixFor(dataDir)
		fabric, err = lab.New(lab.Config{Prefix: prefix, StateDir: filepath.Join(dataDir, "lab"), Logger: log,
			SmallSegments: f.smallSegments, Fabric: lab.Fabric(f.labFabric)})
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		plane = dataplane.New(dataplane.Options{
			Logger:   log,
			OnHealth: func(ev dataplane.HealthEvent) { rec.HealthSink(ev) },
		})
		defer plane.Close()
		labState = "on (namespaces " + prefix + "-*, " + f.labFabric + " fabric, " + string(path) + " data path)"
		rec = reconcile.New(cloud, fabric, plane, reconcile.Config{DataPath: path}, log)
	} else {
		rec = reconcile.New(cloud, nil, nil, reconcile.Config{}, log)
	}
	// The reconciler keeps the resolvers' view current and, with a lab,
	// a resolver in every VPC; the public one listens on the host.
	dnsViews := &resolver.Source{}
	rec.EnableDNS(dnsViews)
	publicDNS, dnsState, err := startPublicDNS(dnsViews, f, log)
	if err != nil {
		return err
	}
	if f.noLab {
		dnsState += "; no VPC resolvers (--no-lab)"
	} else {
		dnsState += "; a VPC resolver at each VPC's CIDR base +2, port 53"
	}
	if publicDNS != nil {
		defer publicDNS.Close()
	}

	handlers := map[string]api.Handler{
		"ec2":                  ec2.New(cloud, log),
		"elasticloadbalancing": elbv2.New(cloud, log),
		"privlink":             admin.NewHandler(cloud, labInstances{cloud: cloud, fabric: fabric}, log),
		route53.Service:        route53.New(cloud, log),
	}
	var counters metrics.Counters // a nil *lab.Lab would not be a nil interface
	if fabric != nil {
		counters = fabric
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(cloud, counters, log))
	mux.Handle("/", api.NewServer(api.Config{}, cloud, handlers, log))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 30 * time.Second,
	}

	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := rec.Run(runCtx); err != nil {
			log.Error("reconciler stopped", "err", err)
		}
	}()
	if fabric != nil {
		// Flows the lab's firewalls drop are explained in the log.
		wg.Add(1)
		go func() {
			defer wg.Done()
			fabric.WatchDrops(runCtx, rec.NewDropLogger(nil).Drop)
		}()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	endpoint := "http://" + ln.Addr().String()
	fmt.Printf(`privlink %s is serving region %s
  endpoint URL:  %s
  metrics:       %s/metrics
  data dir:      %s
  store:         %s
  lab:           %s
  DNS:           %s
  bootstrap:     account %s, AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s
Try: aws --endpoint-url %s --region %s ec2 describe-availability-zones
`, version, f.region, endpoint, endpoint, dataDirDesc(dataDir, usesDataDir), storeDesc(f), labState, dnsState,
		core.BootstrapAccountID, core.BootstrapAccessKey, core.BootstrapSecretKey, endpoint, f.region)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}
	if f.memProfile != "" {
		if err := writeHeapProfile(f.memProfile); err != nil {
			log.Error("heap profile", "err", err)
		}
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	cancel()
	wg.Wait()
	return nil
}

// startPublicDNS starts the lab's public resolver on --dns-listen and says
// how to reach it. When the default address is taken (another server runs
// beside this one) it runs without one and says so; an address the user
// chose must work.
func startPublicDNS(src *resolver.Source, f serverFlags, log *slog.Logger) (*resolver.Server, string, error) {
	if f.dnsListen == "" {
		return nil, "public resolver off (--dns-listen is empty)", nil
	}
	pc, ln, err := resolver.Listen(f.dnsListen)
	if err == nil {
		var s *resolver.Server
		if s, err = resolver.Serve(src, resolver.Public, pc, ln, log); err == nil {
			a := s.Addr()
			return s, fmt.Sprintf("public resolver %s (dig @%s -p %d NAME)", a, a.Addr(), a.Port()), nil
		}
	}
	if f.dnsListenSet {
		return nil, "", fmt.Errorf("--dns-listen: %w", err)
	}
	log.Warn("public resolver off: its default address is taken", "addr", f.dnsListen, "err", err)
	return nil, fmt.Sprintf("public resolver off (%s is taken; choose another with --dns-listen)", f.dnsListen), nil
}

// checkStoreFlags checks --store and the flags that go with it.
func checkStoreFlags(f serverFlags) error {
	switch f.store {
	case storeEtcd:
	case storeMemory:
		if len(f.etcdEndpoints) > 0 {
			return errors.New("--store memory keeps state in this process and uses no etcd: " +
				"drop --etcd-endpoints, or use --store etcd to keep state in that cluster")
		}
	default:
		return fmt.Errorf("--store %q: want %s (state kept in etcd) or %s (state kept in this process, gone when it ends)",
			f.store, storeEtcd, storeMemory)
	}
	return nil
}

// openStore opens the store --store names. The memory store keeps nothing
// on disk: if the data dir holds an etcd member from an earlier run, its
// state is left alone, unused, and the lab is rebuilt from empty (its
// namespaces from that run are removed by the first pass).
func openStore(ctx context.Context, f serverFlags, dataDir string, log *slog.Logger) (store.Store, error) {
	etcdDir := filepath.Join(dataDir, "etcd")
	if f.store == storeMemory {
		if _, err := os.Stat(etcdDir); err == nil {
			log.Warn("the data dir holds an etcd store that --store memory does not use; run with --store etcd to serve its state again",
				"dir", etcdDir)
		}
		return memstore.New(), nil
	}
	return etcdstore.Open(ctx, etcdstore.Config{
		DataDir:   etcdDir,
		Endpoints: f.etcdEndpoints,
		Logger:    log,
	})
}

// storeDesc is the banner's account of the store.
func storeDesc(f serverFlags) string {
	switch {
	case f.store == storeMemory:
		return "in memory (--store memory): state ends with the server"
	case len(f.etcdEndpoints) > 0:
		return "etcd cluster " + strings.Join(f.etcdEndpoints, ",")
	}
	return "embedded etcd member"
}

func dataDirDesc(dir string, used bool) string {
	if !used {
		return "none (--store memory --no-lab keeps nothing on disk)"
	}
	return dir
}

// lockDataDir takes an exclusive flock on the data dir's privlink.lock, so
// that a second server on the same data dir fails at once. The kernel drops
// the lock when the process ends.
func lockDataDir(dir string) (unlock func(), err error) {
	f, err := dirlock.Lock(dir)
	if errors.Is(err, dirlock.ErrInUse) {
		return nil, fmt.Errorf("data dir %s is in use by another privlink server (its lab is named for the data dir); give this one its own --data-dir", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return func() { f.Close() }, nil
}

// labInstances tells `privlink exec` which namespace an instance runs in.
type labInstances struct {
	cloud  *core.Cloud
	fabric *lab.Lab // nil without a lab
}

func (l labInstances) LabInstance(ctx context.Context, caller core.Caller, id string) (string, string, error) {
	res, err := l.cloud.DescribeInstances(ctx, caller, core.DescribeInstancesInput{InstanceIDs: []string{id}})
	if err != nil {
		return "", "", err
	}
	in := res[0].Instances[0]
	if l.fabric == nil {
		return "", "", core.Errorf(core.KindConflict, "UnsupportedOperation",
			"This server runs without a lab (--no-lab): instances have no namespace to run commands in.")
	}
	return l.fabric.InstanceNamespace(id), in.State, nil
}

// writeHeapProfile writes the live heap, as of a collection run now, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
