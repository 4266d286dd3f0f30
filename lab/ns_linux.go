package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/privlink/privlink/netns"
)

// nsConn is a named namespace opened for configuration: a netlink handle
// bound to it, and the namespace itself for sysctls and nftables.
type nsConn struct {
	ns *netns.NS
	nl *netlink.Handle
}

// openNS creates or opens a named namespace. A name that is a plain file
// (a crash between creating and mounting) is replaced by a namespace.
func openNS(name string) (*nsConn, error) {
	ns, err := netns.Create(name)
	if err != nil {
		return nil, err
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(ns.Handle()), &fs); err != nil || fs.Type != unix.NSFS_MAGIC {
		ns.Close()
		if err := netns.Delete(name); err != nil {
			return nil, err
		}
		if ns, err = netns.Create(name); err != nil {
			return nil, err
		}
	}
	return connect(ns)
}

// connect binds a netlink handle to an open namespace, which it then owns.
func connect(ns *netns.NS) (*nsConn, error) {
	nl, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink in %s: %w", ns.Name(), err)
	}
	return &nsConn{ns: ns, nl: nl}, nil
}

func (c *nsConn) close() {
	if c == nil {
		return
	}
	c.nl.Close()
	c.ns.Close()
}

func (c *nsConn) fd() int { return int(c.ns.Handle()) }

// link returns the named link, or nil if there is none.
func (c *nsConn) link(name string) (netlink.Link, error) {
	l, err := c.nl.LinkByName(name)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", name, c.ns.Name(), err)
	}
	return l, nil
}

func (c *nsConn) linkUp(name string) error {
	l, err := c.nl.LinkByName(name)
	if err == nil {
		err = c.nl.LinkSetUp(l)
	}
	if err != nil {
		return fmt.Errorf("%s up in %s: %w", name, c.ns.Name(), err)
	}
	return nil
}

// legacySegment is the IPv4 segment limit without BIG TCP.
const legacySegment = 64 << 10

// segments sets the largest IPv4 segment TCP may hand link. With big, that
// is as large as the device takes (BIG TCP: 512 KiB on a veth, not
// 64 KiB): every namespace a packet crosses costs about the same per
// segment whatever its size, so on a path through lab namespaces larger
// segments carry more bytes for the same work. Kernels before 6.3 report
// no IPv4 limit and are left as they are.
func (c *nsConn) segments(link netlink.Link, big bool) error {
	a := link.Attrs()
	if a.GSOIPv4MaxSize == 0 || a.TSOMaxSize == 0 {
		return nil
	}
	want := min(legacySegment, a.TSOMaxSize)
	if big {
		want = a.TSOMaxSize
	}
	if a.GSOIPv4MaxSize != want {
		if err := c.nl.LinkSetGSOIPv4MaxSize(link, int(want)); err != nil {
			return fmt.Errorf("%s gso_ipv4_max_size %d: %w", a.Name, want, err)
		}
	}
	if a.GROIPv4MaxSize != want {
		if err := c.nl.LinkSetGROIPv4MaxSize(link, int(want)); err != nil {
			return fmt.Errorf("%s gro_ipv4_max_size %d: %w", a.Name, want, err)
		}
	}
	return nil
}

// SetBigSegments gives every veth of a namespace the lab's default segment
// limit, for namespaces built outside the lab (the bench's router chains)
// that are to be measured against it.
func SetBigSegments(namespace string) error {
	ns, err := netns.Open(namespace)
	if err != nil {
		return err
	}
	c, err := connect(ns)
	if err != nil {
		return err
	}
	defer c.close()
	links, err := retryDump(c.nl.LinkList)
	if err != nil {
		return fmt.Errorf("links of %s: %w", namespace, err)
	}
	var errs []error
	for _, l := range links {
		if l.Type() == "veth" {
			errs = append(errs, c.segments(l, true))
		}
	}
	return errors.Join(errs...)
}

// setAddrs makes want the IPv4 addresses of link, apart from those keep
// reports as not the lab's business.
func (c *nsConn) setAddrs(link netlink.Link, want map[netip.Prefix]bool, keep func(netip.Prefix) bool) error {
	have, err := retryDump(func() ([]netlink.Addr, error) { return c.nl.AddrList(link, netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("addresses of %s: %w", link.Attrs().Name, err)
	}
	present := map[netip.Prefix]bool{}
	for _, a := range have {
		p, ok := ipNetPrefix(a.IPNet)
		if ok && want[p] {
			present[p] = true
			continue
		}
		if ok && keep != nil && keep(p) {
			continue
		}
		if err := c.nl.AddrDel(link, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("remove %v from %s: %w", a.IPNet, link.Attrs().Name, err)
		}
	}
	for p := range want {
		if present[p] {
			continue
		}
		a := &netlink.Addr{IPNet: prefixIPNet(p)}
		if err := c.nl.AddrReplace(link, a); err != nil {
			return fmt.Errorf("add %v to %s: %w", p, link.Attrs().Name, err)
		}
	}
	return nil
}

// setLoAddrs makes addrs the /32s on a router's or the fabric's lo,
// besides 127.0.0.0/8. In the fabric, they let it answer from them (ICMP,
// resets): the kernel routes a packet from an address only if some
// interface has it.
func (c *nsConn) setLoAddrs(addrs []netip.Addr) error {
	lo, err := c.nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	return c.setAddrs(lo, hostPrefixes(addrs), func(p netip.Prefix) bool { return p.Addr().IsLoopback() })
}

// hostPrefixes returns a /32 for each IPv4 address of addrs.
func hostPrefixes(addrs []netip.Addr) map[netip.Prefix]bool {
	want := map[netip.Prefix]bool{}
	for _, a := range addrs {
		if a.Is4() {
			want[netip.PrefixFrom(a, 32)] = true
		}
	}
	return want
}

// setRoutes makes dst (scope link) the only route of table through link.
func (c *nsConn) setRoutes(link netlink.Link, dst netip.Prefix, table int) error {
	idx := link.Attrs().Index
	have, err := retryDump(func() ([]netlink.Route, error) {
		return c.nl.RouteListFiltered(netlink.FAMILY_V4,
			&netlink.Route{LinkIndex: idx, Table: table}, netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return fmt.Errorf("routes via %s: %w", link.Attrs().Name, err)
	}
	for _, r := range have {
		if p, ok := ipNetPrefix(r.Dst); ok && p == dst && r.Gw == nil {
			continue
		}
		if err := c.nl.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("remove route %v via %s: %w", r.Dst, link.Attrs().Name, err)
		}
	}
	want := &netlink.Route{LinkIndex: idx, Dst: prefixIPNet(dst), Scope: netlink.SCOPE_LINK, Table: table}
	if err := c.nl.RouteReplace(want); err != nil {
		return fmt.Errorf("route %v via %s: %w", dst, link.Attrs().Name, err)
	}
	return nil
}

// sysctl is a path under /proc/sys and a value.
type sysctl struct{ key, value string }

// sysctl writes values inside the namespace: /proc/sys/net shows the
// namespace of the thread that opens it.
func (c *nsConn) sysctl(kv ...sysctl) error {
	return c.ns.Do(func() error {
		for _, s := range kv {
			if err := os.WriteFile("/proc/sys/"+s.key, []byte(s.value), 0); err != nil {
				return fmt.Errorf("sysctl %s=%s in %s: %w", s.key, s.value, c.ns.Name(), err)
			}
		}
		return nil
	})
}

// retryDump repeats a netlink dump that a concurrent change interrupted.
func retryDump[T any](f func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		v, err := f()
		if errors.Is(err, netlink.ErrDumpInterrupted) && i < 5 {
			continue
		}
		return v, err
	}
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

func ipNetPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), bits), true
}

func prefixIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
