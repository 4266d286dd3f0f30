package reconcile

import (
	"log/slog"
	"maps"
	"net/netip"
	"slices"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/netns"
	"github.com/privlink/privlink/resolver"
)

// dnsPort is where every VPC resolver listens, UDP and TCP.
const dnsPort = 53

// vpcResolverAddr is a VPC's resolver address: its CIDR's base +2, as on
// AWS. desiredLab puts it on the router's loopback and in every instance's
// resolv.conf.
func vpcResolverAddr(vpc *core.VPC) netip.Addr {
	return core.NthAddress(vpc.CIDR, 2)
}

// dnsResolvers publishes every pass's state for the resolvers' view (built
// when a query first needs it) and keeps a resolver listening for every
// VPC where the lab says (Namer.ResolverSocket): in the VPC's router
// namespace, or in the shared fabric. Only Run's goroutine uses it.
type dnsResolvers struct {
	src     *resolver.Source
	builder *resolver.Builder
	log     *slog.Logger
	servers map[string]*vpcResolver // by VPC ID
	// errs is the last listen error logged per VPC, so a failure that
	// lasts is logged when it starts and when it changes.
	errs map[string]string
}

// vpcResolver is one VPC's resolver: sockets in its router's namespace
// (or the fabric).
type vpcResolver struct {
	ns  *netns.NS // the namespace the sockets live in
	srv *resolver.Server
}

// EnableDNS makes every pass publish the view the resolvers answer from to
// src and, with a lab, keep a resolver listening at each VPC's CIDR base +2
// (UDP and TCP port 53), as its instances see it. Call it before Run; the
// VPC resolvers close when Run returns.
func (r *Reconciler) EnableDNS(src *resolver.Source) {
	r.dns = &dnsResolvers{
		src: src, builder: resolver.NewBuilder(r.cloud.Region()), log: r.log,
		servers: map[string]*vpcResolver{}, errs: map[string]string{},
	}
}

// beforeLab runs before a pass applies the lab: it publishes the new view
// and makes sure each VPC's resolver listens before the lab starts any
// instance's user data, which may look names up at once. A VPC seen for the
// first time gets its router namespace made here (the lab adopts it);
// one whose namespace was removed behind the lab's back is left for the
// lab to rebuild, and afterLab listens in it again.
func (d *dnsResolvers) beforeLab(snap *core.Snapshot, names Namer) {
	if d == nil {
		return
	}
	d.src.Publish(d.builder, snap)
	if names == nil {
		return
	}
	for _, id := range slices.Sorted(maps.Keys(snap.VPCs)) {
		if s := d.servers[id]; s != nil && !s.ns.Mounted() {
			d.stop(id)
			continue
		} else if s != nil {
			continue
		}
		d.listen(snap.VPCs[id], names, true)
	}
}

// afterLab runs after a pass applied the lab: resolvers listen in routers
// the lab made or made again, and those of VPCs that are gone close.
func (d *dnsResolvers) afterLab(snap *core.Snapshot, names Namer) {
	if d == nil || names == nil {
		return
	}
	for id := range d.servers {
		if snap.VPCs[id] == nil || !d.servers[id].ns.Mounted() {
			d.stop(id)
		}
	}
	for id := range d.errs {
		if snap.VPCs[id] == nil {
			delete(d.errs, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(snap.VPCs)) {
		if d.servers[id] == nil {
			d.listen(snap.VPCs[id], names, false)
		}
	}
}

// listen starts a VPC's resolver where the lab says it listens (its router
// namespace, or the shared fabric); with create it makes the namespace if
// it does not exist yet.
func (d *dnsResolvers) listen(vpc *core.VPC, names Namer, create bool) {
	addr := netip.AddrPortFrom(vpcResolverAddr(vpc), dnsPort)
	name, at, mark, ok := names.ResolverSocket(vpc.ID, addr)
	if !ok || (!create && !netns.Exists(name)) {
		return // the lab has not built the VPC, or could not; it reports why
	}
	ns, err := netns.Create(name)
	var srv *resolver.Server
	if err == nil {
		srv, err = serveIn(ns, at, mark, vpc.ID, d.src, d.log)
		if err != nil {
			ns.Close()
		}
	}
	if err != nil {
		if msg := err.Error(); d.errs[vpc.ID] != msg {
			d.errs[vpc.ID] = msg
			d.log.Warn("dns: VPC resolver not listening", "vpc", vpc.ID, "addr", addr, "err", err)
		}
		return
	}
	if d.errs[vpc.ID] != "" {
		delete(d.errs, vpc.ID)
		d.log.Info("dns: VPC resolver listening", "vpc", vpc.ID, "addr", addr)
	}
	d.servers[vpc.ID] = &vpcResolver{ns: ns, srv: srv}
}

// serveIn opens a resolver's UDP and TCP sockets in ns, with mark on their
// packets unless it is 0, and serves them.
func serveIn(ns *netns.NS, addr netip.AddrPort, mark uint32, vpcID string, src *resolver.Source, log *slog.Logger) (*resolver.Server, error) {
	var opts []netns.ListenOption
	if mark != 0 {
		opts = append(opts, netns.WithMark(mark))
	}
	pc, err := ns.ListenUDP(addr, opts...)
	if err != nil {
		return nil, err
	}
	ln, err := ns.ListenTCP(addr, opts...)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return resolver.Serve(src, vpcID, pc, ln, log)
}

func (d *dnsResolvers) stop(id string) {
	if s := d.servers[id]; s != nil {
		_ = s.srv.Close() // its sockets are gone with it either way
		s.ns.Close()
		delete(d.servers, id)
	}
}

// close stops every VPC resolver.
func (d *dnsResolvers) close() {
	if d == nil {
		return
	}
	for id := range d.servers {
		d.stop(id)
	}
}
