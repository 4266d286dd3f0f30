package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/privlink/privlink/netns"
)

// Clean removes every namespace of the prefix (killing the processes in
// them) and their /etc/netns directories. It is safe at any time, also with
// no lab at all; what another prefix owns is left alone. Instance files
// under a Lab's StateDir (user data, console logs) stay for the next Apply
// to reuse or sweep.
func Clean(prefix string) error {
	if prefix == "" || !isName(prefix) {
		return fmt.Errorf("lab: clean: invalid prefix %q", prefix)
	}
	mine := func(name string) bool { return strings.HasPrefix(name, prefix+"-") }
	var errs []error
	names, err := netns.List()
	if err != nil {
		errs = append(errs, err)
	}
	for _, name := range names {
		if !mine(name) {
			continue
		}
		if err := killProcesses(context.Background(), name, nil); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := removeNamespace(name); err != nil {
			errs = append(errs, err)
		}
	}
	if ents, err := os.ReadDir(etcNetns); err == nil {
		for _, e := range ents {
			if mine(e.Name()) {
				if err := os.RemoveAll(filepath.Join(etcNetns, e.Name())); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: clean %s: %w", prefix, err)
	}
	return nil
}

// Check reports whether this host can run the lab: root, network
// namespaces, veth pairs, nftables with conntrack and iproute2. It builds
// what it tries in a throwaway namespace that vanishes with it. The error
// is a plain sentence for `privlink server` to print.
func Check() error {
	const hint = "; run privlink server as root on Linux, or with --no-lab to serve the APIs without a lab"
	if os.Geteuid() != 0 {
		return errors.New("the lab needs root: it builds network namespaces, veth pairs and nftables rules" + hint)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the lab needs iproute2's ip command (to run user data and privlink exec) but it is not on PATH" + hint)
	}
	if err := os.MkdirAll(netns.Dir, 0o755); err != nil {
		return fmt.Errorf("the lab cannot create %s for named network namespaces: %v%s", netns.Dir, err, hint)
	}
	if err := os.MkdirAll(etcNetns, 0o755); err != nil {
		return fmt.Errorf("the lab cannot create %s for the instances' resolv.conf: %v%s", etcNetns, err, hint)
	}
	ns, err := netns.Anonymous()
	if err != nil {
		return fmt.Errorf("the lab cannot create network namespaces: %v%s", err, hint)
	}
	defer ns.Close()
	nl, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		return fmt.Errorf("the lab cannot configure network namespaces over netlink: %v%s", err, hint)
	}
	defer nl.Close()
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "check0"}, PeerName: "check1"}); err != nil {
		return fmt.Errorf("the lab cannot create veth pairs: %v%s", err, hint)
	}
	rs, _ := compileFirewall(Firewall{}, nil)
	if err := rs.install(int(ns.Handle())); err != nil {
		return fmt.Errorf("the lab cannot install nftables rules with connection tracking: %v%s", err, hint)
	}
	return nil
}
