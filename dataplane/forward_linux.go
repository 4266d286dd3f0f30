package dataplane

// A flow through an interface endpoint:
//
//  1. Accept on the ENI's ip:port in the consumer VPC's router namespace,
//     or on the Socket address the lab's fabric translates it to. Security
//     groups were already enforced by nftables there before the SYN
//     reached the socket, so every accepted connection is allowed.
//  2. Load the listener's route (one atomic load: an Apply swaps whole
//     routes, never fields of one) and hash the flow's 4-tuple: client ip,
//     client port, ENI ip, ENI port.
//  3. Pick the load balancer node in the ENI's zone (any node when the load
//     balancer has none there).
//  4. Pick a target by rendezvous hash among the healthy targets of the
//     listener's target group; when none is healthy (all still initial, or
//     all failing), among all of them: a network load balancer fails open.
//  5. Dial the target from the node's address in the provider VPC's router
//     namespace (source NAT: the target sees the node, never the consumer).
//     If that fails, reset the client (SO_LINGER 0, close) instead of
//     leaving it hanging.
//  6. With PROXY protocol, write the v2 header to the target in one write
//     (command PROXY, the client's address and port, the ENI's address and
//     port, the endpoint ID in AWS's TLV) before any client byte; a failed
//     write resets both sides.
//  7. Copy both ways between the two *net.TCPConn, never wrapped, so the
//     kernel splices, and without holding a pipe while a direction is idle
//     (see pipe). When one side finishes sending, shut down writing towards
//     the other (half-close) and keep copying the other way. An error either
//     way resets both sides.
//  8. Close both when both directions are done.
//
// Later: an idle timeout (350 s on an NLB) belongs in step 7, as a sweeper
// that reads TCP_INFO's last-data times, because splice hides progress from
// io.Copy; draining keeps a deregistered target's flows in the listener's
// flow set while step 4 skips it.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/privlink/privlink/netns"
)

// route is where a listener's new flows go. It is immutable once stored.
type route struct {
	cfg      Listener
	provider *netns.NS
	nodes    pickSet[netip.Addr]
	group    *group
}

// listener is an open ENI socket, its accept loop and its flows.
type listener struct {
	key     string
	ns      *netns.NS // the consumer namespace the socket was opened in
	ln      *net.TCPListener
	route   atomic.Pointer[route]
	closing chan struct{} // closed by close, wakes an accept back-off
	done    chan struct{} // closed when the accept loop has returned

	mu     sync.Mutex // guards flows, closed and every flow's target
	flows  map[*flow]struct{}
	closed bool
}

// flow is one proxied connection, known to its listener so that closing the
// listener can reset it.
type flow struct {
	cancel context.CancelFunc // aborts the dial
	client *net.TCPConn
	target *net.TCPConn
}

func (p *Plane) openListener(ns *netns.NS, r *route) (*listener, error) {
	ln, err := ns.ListenTCP(r.cfg.socket())
	if err != nil {
		return nil, err
	}
	l := &listener{
		key: r.cfg.Key(), ns: ns, ln: ln,
		closing: make(chan struct{}), done: make(chan struct{}),
		flows: map[*flow]struct{}{},
	}
	l.route.Store(r)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(l.done)
		p.accept(l)
	}()
	return l, nil
}

// accept is the listener's accept loop (step 1). It returns when the
// listener closes.
func (p *Plane) accept(l *listener) {
	var delay time.Duration
	for {
		c, err := l.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as net/http
			// does rather than spin.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			p.log.Warn("accept failed; retrying", "listener", l.key, "err", err, "retryIn", delay)
			select {
			case <-time.After(delay):
				continue
			case <-l.closing:
				return
			}
		}
		delay = 0
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(l, c)
		}()
	}
}

// serve carries one flow (steps 2–8).
func (p *Plane) serve(l *listener, c *net.TCPConn) {
	r := l.route.Load()
	ra, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok { // the peer is gone already
		reset(c)
		return
	}
	client := ra.AddrPort()
	h := flowHash(client, r.cfg.Addr)
	node, _ := r.nodes.pick(h) // validated non-empty
	t, ok := r.group.view.Load().pick(h)
	if !ok {
		p.log.Debug("no targets registered; resetting", "listener", l.key, "client", client, "targetGroup", r.cfg.TargetGroupID)
		reset(c)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), p.dialTimeout)
	defer cancel()
	f := &flow{cancel: cancel, client: c}
	if !l.add(f) {
		reset(c)
		return
	}
	defer l.remove(f)
	tc, err := r.provider.DialTCP(ctx, node, t.Addr)
	cancel() // the timeout was for the dial only
	if err != nil {
		p.log.Debug("target dial failed; resetting client", "listener", l.key, "client", client, "target", t.ID, "addr", t.Addr, "err", err)
		reset(c)
		return
	}
	if !l.setTarget(f, tc) {
		reset(tc)
		reset(c)
		return
	}
	if r.cfg.ProxyProtocol {
		if err := writeProxyHeader(tc, client, r.cfg); err != nil {
			p.log.Debug("PROXY header not sent; resetting", "listener", l.key, "client", client, "target", t.ID, "addr", t.Addr, "err", err)
			reset(tc)
			reset(c)
			return
		}
	}
	up, down := p.proxy(c, tc)
	p.log.Debug("flow done", "listener", l.key, "endpoint", r.cfg.EndpointID, "client", client, "node", node, "target", t.ID, "addr", t.Addr, "bytesUp", up, "bytesDown", down)
}

// writeProxyHeader writes the flow's PROXY protocol v2 header (step 6) with
// one write on the plain connection, which keeps the copy that follows a
// splice.
func writeProxyHeader(tc *net.TCPConn, client netip.AddrPort, cfg Listener) error {
	hdr, err := proxyHeader(client, cfg.Addr, cfg.EndpointID)
	if err != nil {
		return err
	}
	_, err = tc.Write(hdr)
	return err
}

// proxy copies both ways with half-close (steps 7–8) and returns the bytes
// carried client→target and target→client.
func (p *Plane) proxy(client, target *net.TCPConn) (up, down int64) {
	var upErr error
	upDone := make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(upDone)
		up, upErr = pipe(target, client)
		if upErr != nil {
			reset(client)
			reset(target)
		}
	}()
	down, err := pipe(client, target)
	if err != nil {
		reset(client)
		reset(target)
	}
	<-upDone
	client.Close()
	target.Close()
	return up, down
}

// pipe copies src to dst until src's EOF, then shuts down writing on dst.
//
// It waits for src to be readable holding nothing, then splices exactly
// what src has queued (a LimitedReader over a *net.TCPConn, which
// TCPConn.ReadFrom still splices). io.Copy alone splices too, but keeps a
// pipe — two descriptors and up to 64 KiB of kernel memory — for every
// direction of every flow while it waits, which an idle flow does most of
// its life: three times the descriptors of the flow itself.
func pipe(dst, src *net.TCPConn) (int64, error) {
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	var total int64
	lr := &io.LimitedReader{R: src}
	for {
		queued, err := waitQueued(rc)
		if err != nil {
			return total, err
		}
		if queued == 0 { // EOF
			return total, dst.CloseWrite()
		}
		lr.N = queued
		n, err := dst.ReadFrom(lr)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// waitQueued waits until the socket has data or its peer has finished
// sending, and returns how many bytes are queued: 0 means end of stream.
func waitQueued(rc syscall.RawConn) (int64, error) {
	var queued int64
	var opErr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			n, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ)
			if err != nil {
				opErr = err
				return true
			}
			if n > 0 {
				queued = int64(n)
				return true
			}
			// Nothing queued: end of stream, an error, or not yet.
			var b [1]byte
			m, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return false // the poller waits for readability
			case err != nil:
				opErr = err
				return true
			case m == 0:
				return true // end of stream
			}
			// Data arrived between the two calls: count it.
		}
	})
	if err == nil {
		err = opErr
	}
	return queued, err
}

// reset aborts a connection with a TCP RST rather than a FIN.
func reset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// add registers a flow; it fails once the listener is closing.
func (l *listener) add(f *flow) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.flows[f] = struct{}{}
	return true
}

func (l *listener) remove(f *flow) {
	l.mu.Lock()
	delete(l.flows, f)
	l.mu.Unlock()
}

// setTarget records the flow's target connection; it fails once the
// listener is closing, and the caller resets both sides.
func (l *listener) setTarget(f *flow, tc *net.TCPConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	f.target = tc
	return true
}

// close stops accepting, resets every flow and waits for the accept loop,
// after which the address can be listened on again.
func (l *listener) close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	type conns struct{ client, target *net.TCPConn }
	var abort []conns
	for f := range l.flows {
		f.cancel()
		abort = append(abort, conns{f.client, f.target})
	}
	l.mu.Unlock()

	close(l.closing)
	err := l.ln.Close()
	for _, a := range abort {
		reset(a.client)
		if a.target != nil {
			reset(a.target)
		}
	}
	<-l.done
	return err
}
