package lab

import (
	"context"

	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	nflog "github.com/florianl/go-nflog/v2"
	"golang.org/x/sys/unix"

	"github.com/privlink/privlink/netns"
)

// Drop is a new flow a router's firewall dropped, as the kernel logged it
// (at most a few a second per router; see DropLogPrefix).
type Drop struct {
	VPCID    string
	Src, Dst netip.Addr
	Protocol uint8  // IP protocol number
	DstPort  uint16 // for TCP and UDP
	// Chain is where the packet was dropped: "endpoint-new" (the source's
	// egress rules) or "admit-ingress" (the destination's ingress rules).
	Chain string
}

// dropScan is how often WatchDrops looks for routers that appeared or were
// rebuilt.
const dropScan = 2 * time.Second

// WatchDrops calls fn with every drop the lab's routers log, until ctx is
// done. It listens in every router namespace of the lab (and in the shared
// fabric), starting as routers appear and stopping as they go; fn is
// called from one goroutine per router and must be safe for that.
func (l *Lab) WatchDrops(ctx context.Context, fn func(Drop)) {
	type reader struct {
		ino    uint64
		cancel context.CancelFunc
	}
	readers := map[string]reader{} // by namespace name
	var wg sync.WaitGroup
	defer func() {
		for _, r := range readers {
			r.cancel()
		}
		wg.Wait()
	}()
	tick := time.NewTicker(dropScan)
	defer tick.Stop()
	for {
		names, err := netns.List()
		if err != nil {
			l.log.Warn("lab: list namespaces for drop logs", "err", err)
		}
		seen := map[string]bool{}
		for _, name := range names {
			kind, id := l.owned(name)
			if kind != vpcIDPrefix && kind != fabricName {
				continue
			}
			seen[name] = true
			ino, ok := nsInode(name)
			if !ok {
				continue
			}
			if r, ok := readers[name]; ok && r.ino == ino {
				continue
			} else if ok {
				r.cancel() // the router was rebuilt: listen in the new one
			}
			rctx, cancel := context.WithCancel(ctx)
			readers[name] = reader{ino: ino, cancel: cancel}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := l.readDrops(rctx, name, id, fn); err != nil && rctx.Err() == nil {
					l.log.Warn("lab: drop log reader stopped", "vpc", id, "err", err)
				}
			}()
		}
		for name, r := range readers {
			if !seen[name] {
				r.cancel()
				delete(readers, name)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func nsInode(name string) (uint64, bool) {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(netns.Dir, name), &st); err != nil {
		return 0, false
	}
	return st.Ino, true
}

// readDrops reads the drop log of one router (of the VPC vpcID) or of the
// fabric (vpcID "": each drop names its VPC) until ctx is done.
func (l *Lab) readDrops(ctx context.Context, name, vpcID string, fn func(Drop)) error {
	ns, err := netns.Open(name)
	if err != nil {
		return err
	}
	defer ns.Close()
	nf, err := nflog.Open(&nflog.Config{
		NetNS:    int(ns.Handle()),
		Group:    dropLogGroup,
		Copymode: nflog.CopyPacket,
		Bufsize:  64, // the IP and transport headers are all we read
	})
	if err != nil {
		return err
	}
	defer nf.Close()
	errc := make(chan error, 1)
	err = nf.RegisterWithErrorFunc(ctx, func(a nflog.Attribute) int {
		if a.Prefix == nil || a.Payload == nil || !strings.HasPrefix(*a.Prefix, DropLogPrefix) {
			return 0
		}
		d, ok := parseDrop(*a.Payload)
		if !ok {
			return 0
		}
		// "<chain>", or in the fabric "<chain> <vpc-id>".
		f := strings.Fields(strings.TrimPrefix(*a.Prefix, DropLogPrefix))
		if len(f) == 0 {
			return 0
		}
		d.Chain, d.VPCID = f[0], vpcID
		if len(f) > 1 {
			d.VPCID = f[1]
		}
		fn(d)
		return 0
	}, func(err error) int {
		if ctx.Err() != nil {
			return 1
		}
		select {
		case errc <- err:
		default:
		}
		return 1
	})
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// parseDrop reads the addresses and destination port of an IPv4 packet.
func parseDrop(p []byte) (Drop, bool) {
	if len(p) < 20 || p[0]>>4 != 4 {
		return Drop{}, false
	}
	ihl := int(p[0]&0x0f) * 4
	d := Drop{Protocol: p[9]}
	d.Src, _ = netip.AddrFromSlice(p[12:16])
	d.Dst, _ = netip.AddrFromSlice(p[16:20])
	if (d.Protocol == unix.IPPROTO_TCP || d.Protocol == unix.IPPROTO_UDP) && len(p) >= ihl+4 {
		d.DstPort = uint16(p[ihl+2])<<8 | uint16(p[ihl+3])
	}
	return d, ihl >= 20
}
