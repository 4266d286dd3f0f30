package reconcile

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/dataplane"
	"github.com/privlink/privlink/lab"
	"github.com/privlink/privlink/metrics"
	"github.com/privlink/privlink/netns"
	"github.com/privlink/privlink/resolver"
	"github.com/privlink/privlink/store/memstore"
)

// world is core, the real lab and the real data plane, driven by a running
// reconciler, as `privlink server` wires them.
type world struct {
	t     *testing.T
	cloud *core.Cloud
	lab   *lab.Lab
	rec   *Reconciler
	ctx   context.Context
}

// worldConfig is what a test world runs.
type worldConfig struct {
	path   DataPath
	fabric lab.Fabric
	dns    bool // the VPC resolvers, as `privlink server` wires them
}

// fabrics are the lab's fabrics every world test runs against.
var fabrics = []lab.Fabric{lab.FabricRouters, lab.FabricShared}

func newWorld(t *testing.T, wc worldConfig) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root: it builds the lab in network namespaces")
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("PRIVLINK_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	prefix := fmt.Sprintf("pltrc%d%.1s", os.Getpid(), wc.fabric)
	_ = lab.Clean(prefix)
	cloud, err := core.New(memstore.New(), core.Config{Region: "us-east-1"}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	fabric, err := lab.New(lab.Config{Prefix: prefix, StateDir: t.TempDir(), Logger: log, Fabric: wc.fabric})
	if err != nil {
		t.Fatal(err)
	}
	var rec *Reconciler
	plane := dataplane.New(dataplane.Options{Logger: log, OnHealth: func(ev dataplane.HealthEvent) { rec.HealthSink(ev) }})
	rec = New(cloud, fabric, plane, Config{Resync: 300 * time.Millisecond, DataPath: wc.path}, log)
	if wc.dns {
		rec.EnableDNS(&resolver.Source{})
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = rec.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		plane.Close()
		if err := lab.Clean(prefix); err != nil {
			t.Errorf("lab clean: %v", err)
		}
	})
	return &world{t: t, cloud: cloud, lab: fabric, rec: rec, ctx: ctx}
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// eventually polls cond until it holds or a generous deadline passes. The
// deadline is a hang guard, not a speed assertion.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) network(caller core.Caller, cidr, subnetCIDR string) (vpc core.VPC, subnet core.SubnetDescription) {
	w.t.Helper()
	vpc, err := w.cloud.CreateVpc(w.ctx, caller, core.CreateVpcInput{CidrBlock: cidr})
	w.must(err)
	subnet, err = w.cloud.CreateSubnet(w.ctx, caller, core.CreateSubnetInput{VpcID: vpc.ID, CidrBlock: subnetCIDR, AvailabilityZone: "us-east-1a"})
	w.must(err)
	return vpc, subnet
}

func (w *world) group(caller core.Caller, vpcID, name, proto string, from, to int32, cidr string) string {
	w.t.Helper()
	sg, err := w.cloud.CreateSecurityGroup(w.ctx, caller, core.CreateSecurityGroupInput{GroupName: name, Description: name, VpcID: vpcID})
	w.must(err)
	_, err = w.cloud.AuthorizeSecurityGroupIngress(w.ctx, caller, core.SecurityGroupRulesInput{
		GroupID: sg.ID,
		IPPermissions: []core.IPPermission{{IPProtocol: proto, FromPort: &from, ToPort: &to,
			IPRanges: []core.IPRange{{CIDR: cidr}}}},
	})
	w.must(err)
	return sg.ID
}

func (w *world) instance(caller core.Caller, subnetID, sg, userData string) core.InstanceDescription {
	w.t.Helper()
	one := int32(1)
	in := core.RunInstancesInput{ImageID: "ami-12345678", SubnetID: subnetID, MinCount: &one, MaxCount: &one,
		UserData: base64.StdEncoding.EncodeToString([]byte(userData))}
	if sg != "" {
		in.SecurityGroupIDs = []string{sg}
	}
	res, err := w.cloud.RunInstances(w.ctx, caller, in)
	w.must(err)
	id := res.Instances[0].ID
	var inst core.InstanceDescription
	w.eventually("instance "+id+" running", func() bool {
		rs, err := w.cloud.DescribeInstances(w.ctx, caller, core.DescribeInstancesInput{InstanceIDs: []string{id}})
		w.must(err)
		inst = rs[0].Instances[0]
		return inst.State == core.InstanceRunning
	})
	return inst
}

// dial runs nc inside the instance and returns what the peer sent, or an
// error that says whether the connection timed out.
func (w *world) dial(instanceID string, addr netip.Addr, port int) (string, error) {
	cmd := exec.Command("ip", "netns", "exec", w.lab.InstanceNamespace(instanceID),
		"nc", "-v", "-w", "2", addr.String(), fmt.Sprint(port))
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

const socatUserData = "#!/bin/sh\nsocat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo %s $SOCAT_PEERADDR' &\n"

// TestEndpointCarriesTrafficThroughTheLab runs the walking skeleton's path
// with core calls, on both data paths and both lab fabrics: provider and
// consumer with the same CIDR, acceptance, traffic source-NATed to the load
// balancer, security groups, rejection.
func TestEndpointCarriesTrafficThroughTheLab(t *testing.T) {
	for _, fabric := range fabrics {
		for _, path := range []DataPath{DataPathKernel, DataPathProxy} {
			t.Run(string(fabric)+"/"+string(path), func(t *testing.T) {
				testEndpointCarriesTraffic(t, worldConfig{path: path, fabric: fabric})
			})
		}
	}
}

// service is a provider's side of an endpoint service: a VPC
// (10.0.0.0/16), an instance that answers on port 22 with its name and the
// peer it sees, a network load balancer ("<name>") whose listener on port
// 8022 forwards to it ("<name>-ssh"), and the endpoint service,
// acceptance required.
type service struct {
	target core.InstanceDescription
	lb     core.LoadBalancer
	tg     core.TargetGroupDescription
	svc    core.ServiceConfiguration
	lbIP   netip.Addr // the load balancer's node: what the target sees
}

// provide builds a service whose target answers "<answer> <peer>" and
// allows consumer to connect to it.
func (w *world) provide(provider, consumer core.Caller, name, answer string) service {
	w.t.Helper()
	pVPC, pSubnet := w.network(provider, "10.0.0.0/16", "10.0.1.0/24")
	sshFromVPC := w.group(provider, pVPC.ID, name+"-ssh", "tcp", 22, 22, "10.0.0.0/16")
	a := w.instance(provider, pSubnet.ID, sshFromVPC, fmt.Sprintf(socatUserData, answer))

	lb, err := w.cloud.CreateLoadBalancer(w.ctx, provider, core.CreateLoadBalancerInput{
		Name: name, Type: "network", Scheme: "internal", Subnets: []string{pSubnet.ID}})
	w.must(err)
	port := int32(22)
	interval, timeout, healthy := int32(5), int32(2), int32(2)
	tg, err := w.cloud.CreateTargetGroup(w.ctx, provider, core.CreateTargetGroupInput{
		Name: name + "-ssh", Protocol: "TCP", Port: &port, VpcID: pVPC.ID,
		HealthCheckIntervalSeconds: &interval, HealthCheckTimeoutSeconds: &timeout, HealthyThresholdCount: &healthy})
	w.must(err)
	w.must(w.cloud.RegisterTargets(w.ctx, provider, tg.ARN, []core.TargetDescription{{ID: a.ID}}))
	_, err = w.cloud.CreateListener(w.ctx, provider, core.CreateListenerInput{LoadBalancerARN: lb.ARN, Protocol: "TCP", Port: 8022,
		DefaultActions: []core.ListenerActionInput{{Type: "forward", TargetGroupARN: tg.ARN}}})
	w.must(err)
	svc, err := w.cloud.CreateVpcEndpointServiceConfiguration(w.ctx, provider, core.CreateVpcEndpointServiceConfigurationInput{
		AcceptanceRequired: true, NetworkLoadBalancerARNs: []string{lb.ARN}})
	w.must(err)
	_, err = w.cloud.ModifyVpcEndpointServicePermissions(w.ctx, provider, core.ModifyVpcEndpointServicePermissionsInput{
		ServiceID: svc.ID, AddAllowedPrincipals: []string{"arn:aws:iam::" + consumer.AccountID + ":root"}})
	w.must(err)
	w.eventually("load balancer active", func() bool {
		lbs, err := w.cloud.DescribeLoadBalancers(w.ctx, provider, core.DescribeLoadBalancersInput{LoadBalancerARNs: []string{lb.ARN}})
		w.must(err)
		return lbs[0].State == core.LBActive
	})
	return service{target: a, lb: lb, tg: tg, svc: svc, lbIP: lb.Nodes[0].PrivateIP}
}

// accounts returns the bootstrap account, as a provider, and a new
// account, as a consumer.
func (w *world) accounts() (provider, consumer core.Caller) {
	w.t.Helper()
	provider = core.Caller{AccountID: core.BootstrapAccountID, Admin: true}
	acct, err := w.cloud.CreateAccount(w.ctx, provider)
	w.must(err)
	return provider, core.Caller{AccountID: acct.Account.ID}
}

func testEndpointCarriesTraffic(t *testing.T, wc worldConfig) {
	w := newWorld(t, wc)
	provider, consumer := w.accounts()
	p := w.provide(provider, consumer, "maint", "A")
	lb, tg, svc, lbIP := p.lb, p.tg, p.svc, p.lbIP

	cVPC, cSubnet := w.network(consumer, "10.0.0.0/16", "10.0.1.0/24")
	c := w.instance(consumer, cSubnet.ID, "", "")
	d := w.instance(consumer, cSubnet.ID, "", "")
	fromC := w.group(consumer, cVPC.ID, "from-c", "tcp", 8022, 8022, c.PrivateIP.String()+"/32")
	ep, err := w.cloud.CreateVpcEndpoint(w.ctx, consumer, core.CreateVpcEndpointInput{VpcEndpointType: "Interface",
		VpcID: cVPC.ID, ServiceName: svc.ServiceName, SubnetIDs: []string{cSubnet.ID}, SecurityGroupIDs: []string{fromC}})
	w.must(err)
	if ep.State != core.EndpointPendingAcceptance {
		t.Fatalf("new endpoint is %s", ep.State)
	}
	enis, err := w.cloud.DescribeNetworkInterfaces(w.ctx, consumer, core.DescribeNetworkInterfacesInput{NetworkInterfaceIDs: ep.NetworkInterfaceIDs})
	w.must(err)
	eniIP := enis[0].PrivateIP
	if !cSubnet.CIDR.Contains(eniIP) {
		t.Fatalf("endpoint address %s is outside the consumer subnet %s", eniIP, cSubnet.CIDR)
	}
	if _, err := w.dial(c.ID, eniIP, 8022); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("before acceptance: want a timeout (dropped), got %v", err)
	}

	_, err = w.cloud.AcceptVpcEndpointConnections(w.ctx, provider, svc.ID, []string{ep.ID})
	w.must(err)
	endpointState := func() string {
		eps, err := w.cloud.DescribeVpcEndpoints(w.ctx, consumer, []string{ep.ID})
		w.must(err)
		return eps[0].State
	}
	w.eventually("endpoint available", func() bool { return endpointState() == core.EndpointAvailable })

	out, err := w.dial(c.ID, eniIP, 8022)
	if err != nil {
		t.Fatalf("C → endpoint: %v", err)
	}
	if want := fmt.Sprintf("A %s", lbIP); out != want {
		t.Fatalf("target answered %q, want %q (the load balancer's address as source)", out, want)
	}
	// Drift: someone removes the endpoint's address from the router by hand.
	// A periodic pass checks the lab against the kernel and repairs it.
	router := w.lab.RouterNamespace(cVPC.ID)
	if out, err := exec.Command("ip", "-n", router, "addr", "del", eniIP.String()+"/32", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("remove the endpoint address: %v: %s", err, out)
	}
	w.eventually("drift repaired", func() bool {
		out, err := w.dial(c.ID, eniIP, 8022)
		return err == nil && out == fmt.Sprintf("A %s", lbIP)
	})

	// The server log says why D's flow was dropped, as explain does.
	var logged strings.Builder
	var logMu sync.Mutex
	dl := w.rec.NewDropLogger(slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logged}, nil)))
	watchCtx, stopWatch := context.WithCancel(w.ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); w.lab.WatchDrops(watchCtx, dl.Drop) }()
	time.Sleep(300 * time.Millisecond) // the first scan opens the readers
	if _, err := w.dial(d.ID, eniIP, 8022); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("D is not admitted by the endpoint's group: want a timeout, got %v", err)
	}
	stopWatch()
	<-watched
	logMu.Lock()
	text := logged.String()
	logMu.Unlock()
	for _, want := range []string{"endpoint flow dropped", "source=" + d.PrivateIP.String(), "endpoint=" + ep.ID, "decidedBy=endpoint-ingress", fromC} {
		if !strings.Contains(text, want) {
			t.Errorf("drop log lacks %q:\n%s", want, text)
		}
	}

	w.eventually("target healthy", func() bool {
		hs, err := w.cloud.DescribeTargetHealth(w.ctx, provider, core.DescribeTargetHealthInput{TargetGroupARN: tg.ARN})
		w.must(err)
		return len(hs) == 1 && hs[0].State == core.TargetHealthy
	})

	// /metrics counts what went through: on the kernel path the flows C
	// opened (two, one before and one after the repair, at least), D's
	// dropped SYNs, and the healthy target.
	if wc.path == DataPathKernel {
		text := scrape(t, w)
		for _, want := range []string{
			fmt.Sprintf(`privlink_nlb_healthy_host_count{load_balancer="net/maint/%s",owner_id="%s",target_group="targetgroup/maint-ssh/%s"} 1`, lb.ID, provider.AccountID, tg.ID),
			fmt.Sprintf(`privlink_service_endpoints_count{owner_id="%s",service_id="%s"} 1`, provider.AccountID, svc.ID),
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		labels := fmt.Sprintf(`{owner_id="%s",service_name="%s",subnet_id="%s",vpc_endpoint_id="%s",vpc_id="%s"}`,
			consumer.AccountID, svc.ServiceName, cSubnet.ID, ep.ID, cVPC.ID)
		for name, atLeast := range map[string]float64{
			"privlink_endpoint_new_connections_total": 2,
			"privlink_endpoint_bytes_processed_total": float64(2*len("A ") + 2*len(lbIP.String())),
			"privlink_endpoint_packets_dropped_total": 1,
		} {
			if got := metricValue(t, text, name+labels); got < atLeast {
				t.Errorf("%s = %v, want at least %v", name, got, atLeast)
			}
		}
	}

	// Terminating D tears its namespace down and then reports it terminated.
	_, err = w.cloud.TerminateInstances(w.ctx, consumer, core.TerminateInstancesInput{InstanceIDs: []string{d.ID}})
	w.must(err)
	w.eventually("D terminated", func() bool {
		rs, err := w.cloud.DescribeInstances(w.ctx, consumer, core.DescribeInstancesInput{InstanceIDs: []string{d.ID}})
		w.must(err)
		return rs[0].Instances[0].State == core.InstanceTerminated
	})
	if netns.Exists(w.lab.InstanceNamespace(d.ID)) {
		t.Fatalf("terminated instance %s still has its namespace", d.ID)
	}

	_, err = w.cloud.RejectVpcEndpointConnections(w.ctx, provider, svc.ID, []string{ep.ID})
	w.must(err)
	w.eventually("endpoint rejected", func() bool { return endpointState() == core.EndpointRejected })
	w.eventually("traffic dropped after reject", func() bool {
		_, err := w.dial(c.ID, eniIP, 8022)
		return err != nil && strings.Contains(err.Error(), "timed out")
	})
}

// TestEndpointListenersApart gives two consumer VPCs of one CIDR an
// endpoint interface each, at the same address and port, to two services.
// On the proxy data path each interface's listener is a socket of the data
// plane, and each VPC's client must reach its own service: in a fabric
// shared by VPCs, the two sockets cannot both be at the interface's address.
func TestEndpointListenersApart(t *testing.T) {
	for _, fabric := range fabrics {
		t.Run(string(fabric), func(t *testing.T) {
			w := newWorld(t, worldConfig{path: DataPathProxy, fabric: fabric})
			provider, consumer := w.accounts()
			eniIP := netip.MustParseAddr("10.0.1.200")
			type side struct {
				client core.InstanceDescription
				want   string
			}
			var sides []side
			for _, answer := range []string{"A", "B"} {
				p := w.provide(provider, consumer, "svc-"+strings.ToLower(answer), answer)
				vpc, subnet := w.network(consumer, "10.0.0.0/16", "10.0.1.0/24")
				client := w.instance(consumer, subnet.ID, "", "")
				open := w.group(consumer, vpc.ID, "to-"+answer, "tcp", 8022, 8022, "10.0.0.0/16")
				ep, err := w.cloud.CreateVpcEndpoint(w.ctx, consumer, core.CreateVpcEndpointInput{VpcEndpointType: "Interface",
					VpcID: vpc.ID, ServiceName: p.svc.ServiceName, SubnetIDs: []string{subnet.ID}, SecurityGroupIDs: []string{open},
					SubnetConfigurations: []core.SubnetConfiguration{{SubnetID: subnet.ID, IPv4: eniIP.String()}}})
				w.must(err)
				_, err = w.cloud.AcceptVpcEndpointConnections(w.ctx, provider, p.svc.ID, []string{ep.ID})
				w.must(err)
				w.eventually("endpoint "+ep.ID+" available", func() bool {
					eps, err := w.cloud.DescribeVpcEndpoints(w.ctx, consumer, []string{ep.ID})
					w.must(err)
					return eps[0].State == core.EndpointAvailable
				})
				sides = append(sides, side{client, fmt.Sprintf("%s %s", answer, p.lbIP)})
			}
			if sides[0].client.PrivateIP != sides[1].client.PrivateIP {
				t.Logf("the clients' addresses differ (%s, %s): the case is weaker than meant", sides[0].client.PrivateIP, sides[1].client.PrivateIP)
			}
			for _, s := range sides {
				out, err := w.dial(s.client.ID, eniIP, 8022)
				if err != nil || out != s.want {
					t.Errorf("%s → endpoint %s: %q, %v; want %q", s.client.ID, eniIP, out, err, s.want)
				}
			}
		})
	}
}

// scrape reads /metrics as a Prometheus server would.
func scrape(t *testing.T, w *world) string {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler(w.cloud, w.lab, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// metricValue finds one sample, named with its labels, in scraped text.
func metricValue(t *testing.T, text, sample string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no sample %s in\n%s", sample, text)
	return 0
}

// lockedWriter serialises writes to w: drop readers log from several
// goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
