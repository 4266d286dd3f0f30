package core

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/memstore"
)

// Fixtures of the load balancing and PrivateLink tests. Names start with
// "pl" so that they never collide with the EC2 networking tests' fixtures.
// VPCs, subnets, groups and instances are written straight into the store,
// as the EC2 actions would leave them, so these tests depend only on the
// stored objects' shapes.

var (
	plProvider = Caller{AccountID: "000000000000", Admin: true}
	plConsumer = Caller{AccountID: "123456789012"}
	plStranger = Caller{AccountID: "210987654321"}
)

type plEnv struct {
	*Cloud
	st    *memstore.Store
	clock *time.Time
}

func plNew(t *testing.T) *plEnv {
	t.Helper()
	now := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	c, err := New(st, Config{
		Region: "us-east-1",
		Rand:   rand.NewChaCha8([32]byte{7, 7, 7}),
		Now:    func() time.Time { return now },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkMemo(t, c)
		checkIndexes(t, c)
	})
	return &plEnv{Cloud: c, st: st, clock: &now}
}

// plPut writes objects in one transaction, as another part of core would.
func (e *plEnv) plPut(t *testing.T, fn func(tx *txn) error) {
	t.Helper()
	if err := e.update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// plVPC stores a VPC with its default security group.
func (e *plEnv) plVPC(t *testing.T, owner Caller, cidr string) *VPC {
	t.Helper()
	var v VPC
	e.plPut(t, func(tx *txn) error {
		v = VPC{
			ID: e.ids.id("vpc"), OwnerID: owner.AccountID, CIDR: netip.MustParsePrefix(cidr),
			State: VPCAvailable, EnableDNSSupport: true, CreatedAt: e.now(),
		}
		sg := SecurityGroup{ID: e.ids.id("sg"), OwnerID: owner.AccountID, VpcID: v.ID, Name: "default",
			Description: "default VPC security group", CreatedAt: e.now()}
		v.DefaultSecurityGroupID = sg.ID
		if err := put(tx, keySecurityGroup(sg.ID), sg); err != nil {
			return err
		}
		return put(tx, keyVPC(v.ID), v)
	})
	return &v
}

func (e *plEnv) plSubnet(t *testing.T, owner Caller, vpc *VPC, cidr, zone string) *Subnet {
	t.Helper()
	var s Subnet
	e.plPut(t, func(tx *txn) error {
		z, _ := e.zoneByNameOrID(zone)
		s = Subnet{ID: e.ids.id("subnet"), OwnerID: owner.AccountID, VpcID: vpc.ID, CIDR: netip.MustParsePrefix(cidr),
			AvailabilityZone: z.Name, AvailabilityZoneID: z.ID, State: SubnetAvailable, CreatedAt: e.now()}
		return put(tx, keySubnet(s.ID), s)
	})
	return &s
}

func (e *plEnv) plGroup(t *testing.T, owner Caller, vpc *VPC, name string) *SecurityGroup {
	t.Helper()
	var g SecurityGroup
	e.plPut(t, func(tx *txn) error {
		g = SecurityGroup{ID: e.ids.id("sg"), OwnerID: owner.AccountID, VpcID: vpc.ID, Name: name, Description: name, CreatedAt: e.now()}
		return put(tx, keySecurityGroup(g.ID), g)
	})
	return &g
}

// plInstance stores an instance in the state, with its interface.
func (e *plEnv) plInstance(t *testing.T, owner Caller, s *Subnet, state string) *Instance {
	t.Helper()
	var in Instance
	e.plPut(t, func(tx *txn) error {
		id := e.ids.id("i")
		eni, err := e.allocateENI(tx, eniSpec{OwnerID: owner.AccountID, Subnet: s, InterfaceType: InterfaceTypeInstance, InstanceID: id})
		if err != nil {
			return err
		}
		in = Instance{ID: id, OwnerID: owner.AccountID, VpcID: s.VpcID, SubnetID: s.ID, AvailabilityZone: s.AvailabilityZone,
			ImageID: "ami-12345678", InstanceType: "t3.micro", PrivateIP: eni.PrivateIP, NetworkInterfaceID: eni.ID,
			State: state, LaunchTime: e.now()}
		return put(tx, keyInstance(id), in)
	})
	return &in
}

// plSetInstanceState changes an instance's state, as the EC2 actions and
// the reconciler would.
func (e *plEnv) plSetInstanceState(t *testing.T, id, state string) {
	t.Helper()
	e.plPut(t, func(tx *txn) error {
		in, _, err := get[Instance](tx, keyInstance(id))
		if err != nil {
			return err
		}
		in.State = state
		return put(tx, keyInstance(id), in)
	})
}

func (e *plEnv) plDump(t *testing.T) []store.KV {
	t.Helper()
	kvs, _, err := e.st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return kvs
}

func (e *plEnv) plRevision(t *testing.T) int64 {
	t.Helper()
	_, rev, err := e.st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// plFailsUnchanged runs a call that must fail with the code and leave the
// store byte for byte as it was.
func (e *plEnv) plFailsUnchanged(t *testing.T, code string, call func() error) *Error {
	t.Helper()
	before := e.plDump(t)
	err := call()
	got := plCode(t, err, code)
	if after := e.plDump(t); !reflect.DeepEqual(before, after) {
		t.Errorf("failed call changed the store: %d keys before, %d after", len(before), len(after))
	}
	return got
}

func plCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("got error %v, want an *Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got %s (%s), want %s", e.Code, e.Message, code)
	}
	return e
}

func plOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func plI32(v int32) *int32 { return &v }
func plBool(v bool) *bool  { return &v }

// plNet is a VPC with subnets in us-east-1a and us-east-1b.
type plNet struct {
	vpc        *VPC
	subA, subB *Subnet
}

func (e *plEnv) plNetwork(t *testing.T, owner Caller, cidr string) plNet {
	t.Helper()
	v := e.plVPC(t, owner, cidr)
	p := netip.MustParsePrefix(cidr).Addr().As4()
	a := netip.AddrFrom4([4]byte{p[0], p[1], 1, 0}).String() + "/24"
	b := netip.AddrFrom4([4]byte{p[0], p[1], 2, 0}).String() + "/24"
	return plNet{vpc: v, subA: e.plSubnet(t, owner, v, a, "us-east-1a"), subB: e.plSubnet(t, owner, v, b, "us-east-1b")}
}

func (e *plEnv) plLB(t *testing.T, owner Caller, name string, subnets ...string) LoadBalancer {
	t.Helper()
	lb, err := e.CreateLoadBalancer(context.Background(), owner, CreateLoadBalancerInput{
		Name: name, Type: LBTypeNetwork, Scheme: SchemeInternal, Subnets: subnets,
	})
	plOK(t, err)
	return lb
}

func TestCreateLoadBalancer(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	lb, err := e.CreateLoadBalancer(ctx, plProvider, CreateLoadBalancerInput{
		Name: "svc-nlb", Type: LBTypeNetwork, Subnets: []string{n.subA.ID, n.subB.ID},
		Tags: []Tag{{Key: "team", Value: "a"}},
	})
	plOK(t, err)

	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/svc-nlb/[0-9a-f]{16}$`).MatchString(lb.ARN) {
		t.Errorf("ARN %s", lb.ARN)
	}
	if want := "svc-nlb-" + lb.ID + ".elb.us-east-1.amazonaws.com"; lb.DNSName != want {
		t.Errorf("DNS name %s, want %s", lb.DNSName, want)
	}
	if lb.CanonicalHostedZoneID != "Z26RNL4JYFTOTI" || lb.State != LBProvisioning || lb.Scheme != SchemeInternetFacing ||
		lb.Type != LBTypeNetwork || lb.VpcID != n.vpc.ID || lb.IPAddressType != "ipv4" {
		t.Errorf("load balancer %+v", lb)
	}
	if len(lb.Nodes) != 2 || lb.Nodes[0].AvailabilityZone != "us-east-1a" || lb.Nodes[1].AvailabilityZone != "us-east-1b" {
		t.Fatalf("nodes %+v", lb.Nodes)
	}
	for i, node := range lb.Nodes {
		sub := []*Subnet{n.subA, n.subB}[i]
		if node.SubnetID != sub.ID || !usableAddress(sub.CIDR, node.PrivateIP) {
			t.Errorf("node %d %+v not in %s", i, node, sub.CIDR)
		}
		var eni *NetworkInterface
		e.plPut(t, func(tx *txn) error {
			eni, _, err = get[NetworkInterface](tx, keyENI(node.NetworkInterfaceID))
			return err
		})
		if eni == nil || eni.InterfaceType != "network_load_balancer" || eni.Description != "ELB net/svc-nlb/"+lb.ID ||
			!eni.RequesterManaged || eni.RequesterID != "amazon-elb" || len(eni.SecurityGroupIDs) != 0 ||
			eni.OwnerID != plProvider.AccountID || eni.PrivateIP != node.PrivateIP || eni.ResourceID != lb.ID {
			t.Errorf("node interface %+v", eni)
		}
	}

	t.Run("repeat with same settings returns it", func(t *testing.T) {
		again, err := e.CreateLoadBalancer(ctx, plProvider, CreateLoadBalancerInput{
			Name: "svc-nlb", Type: LBTypeNetwork, Subnets: []string{n.subB.ID, n.subA.ID},
		})
		plOK(t, err)
		if again.ARN != lb.ARN {
			t.Errorf("repeat created %s", again.ARN)
		}
	})
	t.Run("internal scheme and a chosen address", func(t *testing.T) {
		lb2, err := e.CreateLoadBalancer(ctx, plProvider, CreateLoadBalancerInput{
			Name: "inner", Type: LBTypeNetwork, Scheme: SchemeInternal,
			SubnetMappings: []SubnetMapping{{SubnetID: n.subA.ID, PrivateIPv4Address: "10.0.1.100"}},
		})
		plOK(t, err)
		if lb2.Scheme != SchemeInternal || lb2.Nodes[0].PrivateIP.String() != "10.0.1.100" || strings.HasPrefix(lb2.DNSName, "internal-") {
			t.Errorf("internal load balancer %+v", lb2)
		}
	})
	t.Run("same name in another account", func(t *testing.T) {
		cn := e.plNetwork(t, plConsumer, "10.0.0.0/16")
		other, err := e.CreateLoadBalancer(ctx, plConsumer, CreateLoadBalancerInput{Name: "svc-nlb", Type: LBTypeNetwork, Subnets: []string{cn.subA.ID}})
		plOK(t, err)
		if other.ARN == lb.ARN || other.OwnerID != plConsumer.AccountID {
			t.Errorf("other account's load balancer %+v", other)
		}
	})
}

func TestCreateLoadBalancerErrors(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	other := e.plNetwork(t, plProvider, "10.1.0.0/16")
	sameZone := e.plSubnet(t, plProvider, n.vpc, "10.0.3.0/24", "us-east-1a")
	foreign := e.plNetwork(t, plConsumer, "10.2.0.0/16")
	taken := e.plInstance(t, plProvider, n.subA, InstanceRunning)
	e.plLB(t, plProvider, "existing", n.subA.ID)

	ok := func(mod func(*CreateLoadBalancerInput)) CreateLoadBalancerInput {
		in := CreateLoadBalancerInput{Name: "nlb", Type: LBTypeNetwork, Subnets: []string{n.subA.ID}}
		mod(&in)
		return in
	}
	tags := make([]Tag, 51)
	for i := range tags {
		tags[i] = Tag{Key: "k" + itoa(int32(i))}
	}
	cases := []struct {
		name string
		in   CreateLoadBalancerInput
		code string
		msg  string
	}{
		{"no name", ok(func(in *CreateLoadBalancerInput) { in.Name = "" }), "ValidationError", "at 'name'"},
		{"name too long", ok(func(in *CreateLoadBalancerInput) { in.Name = strings.Repeat("a", 33) }), "ValidationError", "cannot be longer than '32' characters"},
		{"name with underscore", ok(func(in *CreateLoadBalancerInput) { in.Name = "a_b" }), "ValidationError", "alphanumeric"},
		{"name begins with hyphen", ok(func(in *CreateLoadBalancerInput) { in.Name = "-ab" }), "ValidationError", "cannot begin with a hyphen"},
		{"name ends with hyphen", ok(func(in *CreateLoadBalancerInput) { in.Name = "ab-" }), "ValidationError", "cannot end with a hyphen"},
		{"name begins with internal-", ok(func(in *CreateLoadBalancerInput) { in.Name = "internal-ab" }), "ValidationError", "cannot begin with 'internal-'"},
		{"type defaults to application", ok(func(in *CreateLoadBalancerInput) { in.Type = "" }), "InvalidConfigurationRequest", "'application'"},
		{"gateway type", ok(func(in *CreateLoadBalancerInput) { in.Type = "gateway" }), "InvalidConfigurationRequest", "'gateway'"},
		{"unknown type", ok(func(in *CreateLoadBalancerInput) { in.Type = "classic" }), "ValidationError", "enum value set"},
		{"unknown scheme", ok(func(in *CreateLoadBalancerInput) { in.Scheme = "private" }), "ValidationError", "enum value set"},
		{"dualstack", ok(func(in *CreateLoadBalancerInput) { in.IPAddressType = "dualstack" }), "InvalidConfigurationRequest", "dualstack"},
		{"security groups", ok(func(in *CreateLoadBalancerInput) { in.SecurityGroups = []string{n.vpc.DefaultSecurityGroupID} }), "InvalidConfigurationRequest", "Security groups"},
		{"outpost pool", ok(func(in *CreateLoadBalancerInput) { in.CustomerOwnedIPv4Pool = "ipv4pool-coip-1" }), "InvalidConfigurationRequest", "Outposts"},
		{"no subnets", ok(func(in *CreateLoadBalancerInput) { in.Subnets = nil }), "ValidationError", "At least one subnet"},
		{"subnets and mappings", ok(func(in *CreateLoadBalancerInput) {
			in.SubnetMappings = []SubnetMapping{{SubnetID: n.subB.ID}}
		}), "ValidationError", "not both"},
		{"unknown subnet", ok(func(in *CreateLoadBalancerInput) { in.Subnets = []string{"subnet-0123456789abcdef0"} }), "SubnetNotFound", "'subnet-0123456789abcdef0' is not valid"},
		{"malformed subnet", ok(func(in *CreateLoadBalancerInput) { in.Subnets = []string{"sub-1"} }), "SubnetNotFound", "not valid"},
		{"another account's subnet", ok(func(in *CreateLoadBalancerInput) { in.Subnets = []string{foreign.subA.ID} }), "SubnetNotFound", "not valid"},
		{"two subnets in one zone", ok(func(in *CreateLoadBalancerInput) { in.Subnets = []string{n.subA.ID, sameZone.ID} }), "InvalidConfigurationRequest", "multiple subnets in the same Availability Zone"},
		{"same subnet twice", ok(func(in *CreateLoadBalancerInput) { in.Subnets = []string{n.subA.ID, n.subA.ID} }), "ValidationError", "Duplicate subnet"},
		{"subnets of two VPCs", ok(func(in *CreateLoadBalancerInput) { in.Subnets = []string{n.subA.ID, other.subB.ID} }), "InvalidConfigurationRequest", "different VPCs"},
		{"elastic IP", ok(func(in *CreateLoadBalancerInput) {
			in.Subnets, in.SubnetMappings = nil, []SubnetMapping{{SubnetID: n.subA.ID, AllocationID: "eipalloc-12345678"}}
		}), "AllocationIdNotFound", "eipalloc-12345678"},
		{"private address on internet-facing", ok(func(in *CreateLoadBalancerInput) {
			in.Subnets, in.SubnetMappings = nil, []SubnetMapping{{SubnetID: n.subA.ID, PrivateIPv4Address: "10.0.1.50"}}
		}), "InvalidConfigurationRequest", "internal"},
		{"private address in use", ok(func(in *CreateLoadBalancerInput) {
			in.Scheme = SchemeInternal
			in.Subnets, in.SubnetMappings = nil, []SubnetMapping{{SubnetID: n.subA.ID, PrivateIPv4Address: taken.PrivateIP.String()}}
		}), "InvalidConfigurationRequest", "already in use"},
		{"private address outside subnet", ok(func(in *CreateLoadBalancerInput) {
			in.Scheme = SchemeInternal
			in.Subnets, in.SubnetMappings = nil, []SubnetMapping{{SubnetID: n.subA.ID, PrivateIPv4Address: "10.0.2.10"}}
		}), "InvalidConfigurationRequest", "not within"},
		{"IPv6 address", ok(func(in *CreateLoadBalancerInput) {
			in.Subnets, in.SubnetMappings = nil, []SubnetMapping{{SubnetID: n.subA.ID, IPv6Address: "2001:db8::1"}}
		}), "InvalidConfigurationRequest", "IPv6"},
		{"duplicate tag keys", ok(func(in *CreateLoadBalancerInput) { in.Tags = []Tag{{Key: "a"}, {Key: "a"}} }), "DuplicateTagKeys", "a"},
		{"too many tags", ok(func(in *CreateLoadBalancerInput) { in.Tags = tags }), "TooManyTags", "load balancer"},
		{"existing name, other settings", ok(func(in *CreateLoadBalancerInput) { in.Name = "existing"; in.Subnets = []string{n.subB.ID} }),
			"DuplicateLoadBalancerName", "A load balancer with the same name 'existing' exists, but with different settings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.plFailsUnchanged(t, tc.code, func() error {
				_, err := e.CreateLoadBalancer(ctx, plProvider, tc.in)
				return err
			})
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
}

func TestCreateLoadBalancerSubnetFull(t *testing.T) {
	e := plNew(t)
	v := e.plVPC(t, plProvider, "10.0.0.0/16")
	tiny := e.plSubnet(t, plProvider, v, "10.0.9.0/28", "us-east-1a")
	for range 11 {
		e.plInstance(t, plProvider, tiny, InstanceRunning)
	}
	e.plFailsUnchanged(t, "InvalidSubnet", func() error {
		_, err := e.CreateLoadBalancer(context.Background(), plProvider, CreateLoadBalancerInput{Name: "full", Type: LBTypeNetwork, Subnets: []string{tiny.ID}})
		return err
	})
}

func TestDescribeLoadBalancers(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	a := e.plLB(t, plProvider, "alpha", n.subA.ID)
	*e.clock = e.clock.Add(time.Second)
	b := e.plLB(t, plProvider, "beta", n.subB.ID)
	cn := e.plNetwork(t, plConsumer, "10.0.0.0/16")
	foreign := e.plLB(t, plConsumer, "gamma", cn.subA.ID)

	names := func(lbs []LoadBalancer) []string {
		var out []string
		for _, lb := range lbs {
			out = append(out, lb.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   DescribeLoadBalancersInput
		want []string
	}{
		{"all of the caller's", DescribeLoadBalancersInput{}, []string{"alpha", "beta"}},
		{"by ARN, in request order", DescribeLoadBalancersInput{LoadBalancerARNs: []string{b.ARN, a.ARN, b.ARN}}, []string{"beta", "alpha"}},
		{"by name", DescribeLoadBalancersInput{Names: []string{"beta"}}, []string{"beta"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.DescribeLoadBalancers(ctx, plProvider, tc.in)
			plOK(t, err)
			if !slices.Equal(names(got), tc.want) {
				t.Errorf("got %v, want %v", names(got), tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		in   DescribeLoadBalancersInput
		code string
		msg  string
	}{
		{"another account's ARN", DescribeLoadBalancersInput{LoadBalancerARNs: []string{foreign.ARN}}, "LoadBalancerNotFound", "One or more load balancers not found"},
		{"another account's name", DescribeLoadBalancersInput{Names: []string{"gamma", "alpha"}}, "LoadBalancerNotFound", "Load balancers '[gamma]' not found"},
		{"malformed ARN", DescribeLoadBalancersInput{LoadBalancerARNs: []string{"nope"}}, "ValidationError", "'nope' is not a valid load balancer ARN"},
		{"ARNs and names", DescribeLoadBalancersInput{LoadBalancerARNs: []string{a.ARN}, Names: []string{"alpha"}}, "ValidationError", "cannot be specified at the same time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.DescribeLoadBalancers(ctx, plProvider, tc.in)
			if got := plCode(t, err, tc.code); !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q lacks %q", got.Message, tc.msg)
			}
		})
	}
}

func TestDeleteLoadBalancer(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	inst := e.plInstance(t, plProvider, n.subA, InstanceRunning)
	lb := e.plLB(t, plProvider, "doomed", n.subA.ID, n.subB.ID)
	tg := e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	plOK(t, e.RegisterTargets(ctx, plProvider, tg.ARN, []TargetDescription{{ID: inst.ID}}))
	l := e.plListener(t, plProvider, lb.ARN, 8022, tg.ARN)
	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: tg.ID, TargetID: inst.ID, Port: 22, State: TargetHealthy}))

	e.plFailsUnchanged(t, "ValidationError", func() error { return e.DeleteLoadBalancer(ctx, plProvider, "arn:aws:nope") })
	// Another account cannot delete it, and learns nothing: the call succeeds.
	plOK(t, e.DeleteLoadBalancer(ctx, plConsumer, lb.ARN))
	if _, err := e.DescribeLoadBalancers(ctx, plProvider, DescribeLoadBalancersInput{LoadBalancerARNs: []string{lb.ARN}}); err != nil {
		t.Fatalf("another account deleted the load balancer: %v", err)
	}

	svc, err := e.CreateVpcEndpointServiceConfiguration(ctx, plProvider, CreateVpcEndpointServiceConfigurationInput{NetworkLoadBalancerARNs: []string{lb.ARN}})
	plOK(t, err)
	got := e.plFailsUnchanged(t, "ResourceInUse", func() error { return e.DeleteLoadBalancer(ctx, plProvider, lb.ARN) })
	if !strings.Contains(got.Message, "cannot be deleted because it is currently associated with another service") {
		t.Errorf("message %q", got.Message)
	}
	un, err := e.DeleteVpcEndpointServiceConfigurations(ctx, plProvider, []string{svc.ID})
	plOK(t, err)
	if len(un) != 0 {
		t.Fatalf("unsuccessful %+v", un)
	}

	plOK(t, e.DeleteLoadBalancer(ctx, plProvider, lb.ARN))
	plOK(t, e.DeleteLoadBalancer(ctx, plProvider, lb.ARN)) // already gone: succeeds
	_, err = e.DescribeLoadBalancers(ctx, plProvider, DescribeLoadBalancersInput{LoadBalancerARNs: []string{lb.ARN}})
	plCode(t, err, "LoadBalancerNotFound")
	_, err = e.DescribeListeners(ctx, plProvider, DescribeListenersInput{ListenerARNs: []string{l.ARN}})
	plCode(t, err, "ListenerNotFound")
	for _, kv := range e.plDump(t) {
		for _, node := range lb.Nodes {
			if kv.Key == keyENI(node.NetworkInterfaceID) {
				t.Errorf("node interface %s survived", node.NetworkInterfaceID)
			}
		}
		if strings.HasPrefix(kv.Key, prefixTargetHealthOf(tg.ID)) {
			t.Errorf("health record %s survived", kv.Key)
		}
	}
	// The target group and its targets stay, now unused.
	h, err := e.DescribeTargetHealth(ctx, plProvider, DescribeTargetHealthInput{TargetGroupARN: tg.ARN})
	plOK(t, err)
	if len(h) != 1 || h[0].State != TargetUnused || h[0].Reason != ReasonNotInUse {
		t.Errorf("health after deletion %+v", h)
	}
}

func TestParseELBARN(t *testing.T) {
	for _, tc := range []struct {
		arn, kind string
		ok        bool
	}{
		{"arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/a-b/0123456789abcdef", "loadbalancer", true},
		{"arn:aws:elasticloadbalancing:eu-west-1:000000000000:loadbalancer/app/a/0123456789abcdef", "loadbalancer", true},
		{"arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/a/0123456789ABCDEF", "loadbalancer", false},
		{"arn:aws:elasticloadbalancing:us-east-1:00000000000:loadbalancer/net/a/0123456789abcdef", "loadbalancer", false},
		{"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/0123456789abcdef", "targetgroup", true},
		{"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/0123456789abcdef", "loadbalancer", false},
		{"arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/a/0123456789abcdef/fedcba9876543210", "listener", true},
		{"arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/a/0123456789abcdef", "listener", false},
		{"arn:aws:ec2:us-east-1:000000000000:loadbalancer/net/a/0123456789abcdef", "loadbalancer", false},
		{"", "loadbalancer", false},
	} {
		if _, ok := parseELBARN(tc.arn, tc.kind); ok != tc.ok {
			t.Errorf("parseELBARN(%q, %s) = %v, want %v", tc.arn, tc.kind, ok, tc.ok)
		}
	}
}
