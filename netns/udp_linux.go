package netns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ListenUDP opens a UDP socket bound to addr inside the namespace. The
// address need not be configured yet (IP_FREEBIND), but bound in a
// namespace that has no local routing table yet (lo never up) the socket
// receives on the address without sending from it: name the source of each
// datagram (IP_PKTINFO), as the resolver does. Unlike ListenTCP it sets no
// SO_REUSEADDR: UDP has no TIME_WAIT to wait out, and without it a second
// socket on the address fails instead of taking its datagrams.
func (ns *NS) ListenUDP(addr netip.AddrPort, opts ...ListenOption) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: listenControl(false, opts)}
	var pc net.PacketConn
	err := ns.Do(func() error {
		var err error
		pc, err = lc.ListenPacket(context.Background(), "udp4", addr.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: listen udp %s in %s: %w", addr, ns.name, err)
	}
	return pc.(*net.UDPConn), nil
}

// Mounted reports whether the handle's namespace is still the one mounted
// under its name: false once the name was deleted, or deleted and made
// again (sockets opened in the old namespace stay in it).
func (ns *NS) Mounted() bool {
	var held, named unix.Stat_t
	if ns.name == "" || unix.Fstat(int(ns.h), &held) != nil || unix.Stat(filepath.Join(Dir, ns.name), &named) != nil {
		return false
	}
	return held.Dev == named.Dev && held.Ino == named.Ino
}
