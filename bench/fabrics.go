package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"sync"

	"github.com/privlink/privlink/lab"
)

// newLabPaths builds, with the lab package in the given fabric, a
// consumer VPC and a provider VPC of the same CIDR (open security groups)
// and returns the consumer client's two paths: direct, to an instance in
// another subnet of its VPC (hopOther), and endpoint, through an endpoint
// listener at hopEndpoint to a target at hopInstance in the provider VPC,
// behind a load balancer node at hopNode. Closing either path removes the
// whole lab.
func newLabPaths(ctx context.Context, prefix string, fabric lab.Fabric) (direct, endpoint *hopChain, err error) {
	dir, err := os.MkdirTemp("", "privlink-bench-lab-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		_ = lab.Clean(prefix)
		_ = os.RemoveAll(dir)
	}
	l, err := lab.New(lab.Config{Prefix: prefix, StateDir: dir, Fabric: fabric})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	spec := labPathSpec()
	if st := l.Apply(ctx, spec); len(st.Errors) > 0 {
		cleanup()
		var errs []error
		for _, id := range slices.Sorted(maps.Keys(st.Errors)) {
			errs = append(errs, fmt.Errorf("%s: %w", id, st.Errors[id]))
		}
		return nil, nil, errors.Join(errs...)
	}
	ns := l.InstanceNamespace
	direct = &hopChain{client: ns(labClient), server: ns(labOther), dial: hopOther}
	// One cleanup for both: the lab is removed by whichever path closes
	// first.
	once := sync.OnceFunc(cleanup)
	direct.cleanup = once
	endpoint = &hopChain{client: ns(labClient), server: ns(labTarget), dial: hopEndpoint, cleanup: once}
	return direct, endpoint, nil
}

// The lab paths' objects.
const (
	labConsumer = "vpc-0b000000000000001"
	labProvider = "vpc-0b000000000000002"
	labClient   = "i-0b000000000000001"
	labOther    = "i-0b000000000000002"
	labTarget   = "i-0b000000000000003"
	labNode     = "eni-0b000000000000004"
)

func labPathSpec() lab.Spec {
	ip := netip.MustParseAddr
	cidr := netip.MustParsePrefix("10.0.0.0/16")
	all := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	open := map[string]lab.Group{"sg-open": {
		Ingress: []lab.Rule{{Protocol: "all", Sources: all}},
		Egress:  []lab.Rule{{Protocol: "all", Sources: all}},
	}}
	instance := func(v *lab.VPC, id, addr string) {
		a := netip.MustParsePrefix(addr + "/24")
		gw := a.Masked().Addr().Next()
		v.Instances = append(v.Instances, lab.Instance{ID: id, Addr: a, Gateway: gw})
		v.Firewall.Interfaces = append(v.Firewall.Interfaces, lab.Interface{Addr: a.Addr(), Kind: lab.KindInstance, Groups: []string{"sg-open"}})
	}
	c := lab.VPC{ID: labConsumer, CIDR: cidr, RouterAddrs: []netip.Addr{ip("10.0.1.1"), ip("10.0.2.1")},
		LocalAddrs: []netip.Addr{ip(hopEndpoint)}, Firewall: lab.Firewall{Groups: open}}
	instance(&c, labClient, hopInstance)
	instance(&c, labOther, hopOther)
	c.Firewall.Interfaces = append(c.Firewall.Interfaces, lab.Interface{Addr: ip(hopEndpoint), Kind: lab.KindEndpoint, Groups: []string{"sg-open"}})
	c.Endpoints = []lab.EndpointForward{{Addr: netip.AddrPortFrom(ip(hopEndpoint), portIperf), Node: labNode}}

	p := lab.VPC{ID: labProvider, CIDR: cidr, RouterAddrs: []netip.Addr{ip("10.0.1.1")}, Firewall: lab.Firewall{Groups: open}}
	instance(&p, labTarget, hopInstance)
	p.Instances = append(p.Instances, lab.Instance{ID: labNode, Addr: netip.MustParsePrefix(hopNode + "/24"), Gateway: ip("10.0.1.1"),
		Forwards: []lab.Forward{{Port: portIperf, Targets: []netip.AddrPort{netip.AddrPortFrom(ip(hopInstance), portIperf)}}}})
	p.Firewall.Interfaces = append(p.Firewall.Interfaces, lab.Interface{Addr: ip(hopNode), Kind: lab.KindLoadBalancer})
	return lab.Spec{VPCs: []lab.VPC{c, p}}
}
