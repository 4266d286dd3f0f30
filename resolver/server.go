package resolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/privlink/privlink/core"
)

// Source holds the View servers answer from. The reconciler publishes the
// state of every pass; servers load the view once per query, so a query
// sees one view whole. The zero Source holds none: every query gets
// SERVFAIL until the first Store or Publish.
type Source struct {
	cur atomic.Pointer[published]
	// build serializes building views: a Builder reuses its last build.
	build sync.Mutex
}

// published is a view, or the state to build it from when it is first
// needed.
type published struct {
	view    atomic.Pointer[View] // nil until built
	builder *Builder
	snap    *core.Snapshot
}

// Store makes v the view every server answers from.
func (s *Source) Store(v *View) {
	p := &published{}
	p.view.Store(v)
	s.cur.Store(p)
}

// Publish makes the view of snap the one every server answers from. b
// builds it when a query first needs it, so a state that no query asks
// about before the next Publish costs nothing: without a lab, and between
// lookups in a lab, the reconciler's passes do not rebuild every name in
// the store. Only Load calls b from then on.
func (s *Source) Publish(b *Builder, snap *core.Snapshot) {
	s.cur.Store(&published{builder: b, snap: snap})
}

// Load returns the current view, or nil before the first Store or Publish.
func (s *Source) Load() *View {
	p := s.cur.Load()
	if p == nil {
		return nil
	}
	if v := p.view.Load(); v != nil {
		return v
	}
	s.build.Lock()
	defer s.build.Unlock()
	// Build the newest state, never one it has replaced meanwhile, so the
	// builder moves forward only.
	p = s.cur.Load()
	if v := p.view.Load(); v != nil {
		return v
	}
	v := p.builder.Build(p.snap)
	p.view.Store(v)
	p.snap = nil
	return v
}

// Server answers DNS queries over UDP and TCP for one view: a VPC's
// resolver or the public one.
type Server struct {
	src  *Source
	view string
	log  *slog.Logger
	udp  *net.UDPConn
	tcp  *dns.Server // nil without a TCP listener
	// wg counts the UDP readers and the TCP server's goroutine.
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Serve starts answering queries for view (a VPC ID, or Public) from src's
// current View on pc and ln, either of which may be nil, until Close. The
// Server owns both sockets.
func Serve(src *Source, view string, pc *net.UDPConn, ln net.Listener, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{src: src, view: view, log: log, udp: pc}
	if ln != nil {
		started := make(chan struct{})
		s.tcp = &dns.Server{
			Listener:          ln,
			Handler:           dns.HandlerFunc(s.serveDNS),
			NotifyStartedFunc: func() { close(started) },
		}
		failed := make(chan error, 1)
		s.wg.Go(func() {
			if err := s.tcp.ActivateAndServe(); err != nil {
				failed <- err
			}
		})
		select {
		case <-started:
		case err := <-failed:
			s.wg.Wait()
			if pc != nil {
				pc.Close()
			}
			return nil, fmt.Errorf("resolver: serve TCP on %v: %w", ln.Addr(), err)
		}
	}
	if pc != nil {
		// A few readers share the socket, so a query never waits for
		// another's answer to be written.
		for range min(runtime.GOMAXPROCS(0), 4) {
			s.wg.Go(s.serveUDP)
		}
	}
	return s, nil
}

// Addr is the address the server answers on.
func (s *Server) Addr() netip.AddrPort {
	if s.udp != nil {
		return s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	if s.tcp != nil {
		return s.tcp.Listener.Addr().(*net.TCPAddr).AddrPort()
	}
	return netip.AddrPort{}
}

// Close stops the server: its sockets close and its goroutines end before
// Close returns.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.udp != nil {
			err = s.udp.Close()
		}
		if s.tcp != nil {
			// Shutdown ends reads on open connections at once; the bound
			// only matters for an answer stuck writing to a slow client.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = errors.Join(err, s.tcp.ShutdownContext(ctx))
			cancel()
		}
	})
	s.wg.Wait()
	return err
}

func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	if resp := s.src.Load().Answer(s.view, req); resp != nil {
		_ = w.WriteMsg(resp) // the client went away; nothing to do
	}
}

// udpBatch is how many datagrams one system call reads or writes. Under
// load the kernel's per-call cost, not the lookup, bounds a resolver, so
// queries that arrived together are read together and their answers
// written together (recvmmsg, sendmmsg).
const udpBatch = 32

// batchConn reads and writes datagrams in batches: an ipv4 or ipv6
// PacketConn (their Message types are one type).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// serveUDP answers datagrams until the socket closes.
func (s *Server) serveUDP() {
	local := s.Addr().Addr().Unmap()
	var pc batchConn = ipv4.NewPacketConn(s.udp)
	// Answers name their source address explicitly (IP_PKTINFO): a
	// socket bound with IP_FREEBIND in a namespace that had no local
	// routing table yet keeps the address for receiving only, and would
	// answer from whatever address routing picks, which the client (and
	// conntrack) would not take for the answer.
	var src []byte
	if local.Is4() {
		if !local.IsUnspecified() {
			src = (&ipv4.ControlMessage{Src: local.AsSlice()}).Marshal()
		}
	} else {
		pc = ipv6.NewPacketConn(s.udp)
		if !local.IsUnspecified() {
			src = (&ipv6.ControlMessage{Src: local.AsSlice()}).Marshal()
		}
	}
	in := make([]ipv4.Message, udpBatch)
	out := make([]ipv4.Message, udpBatch)
	bufs := make([][]byte, udpBatch) // answers are packed here
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, maxUDPSize)}
		out[i].Buffers, out[i].OOB = [][]byte{nil}, src
		bufs[i] = make([]byte, maxUDPSize+1) // PackBuffer wants the length, not the capacity
	}
	for {
		n, err := pc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("resolver: read", "addr", s.Addr(), "err", err)
			time.Sleep(10 * time.Millisecond) // no hot loop on a lasting error
			continue
		}
		answers := 0
		for i := range n {
			if b := s.reply(in[i].Buffers[0][:in[i].N], bufs[i]); b != nil {
				out[answers].Buffers[0], out[answers].Addr = b, in[i].Addr
				answers++
			}
		}
		for sent := 0; sent < answers; {
			k, err := pc.WriteBatch(out[sent:answers], 0)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					s.log.Debug("resolver: write", "err", err)
				}
				// A client that went away costs only its own answer.
				k = max(k, 1)
			}
			sent += k
		}
	}
}

// reply answers one UDP datagram, packing the answer into out, which must
// be long enough for the largest answer. It returns nil when nothing must
// be sent.
func (s *Server) reply(msg, out []byte) []byte {
	req := new(dns.Msg)
	if err := req.Unpack(msg); err != nil {
		return formatError(msg, out)
	}
	resp := s.src.Load().Answer(s.view, req)
	if resp == nil {
		return nil
	}
	resp.Truncate(udpSize(req))
	b, err := resp.PackBuffer(out)
	if err != nil {
		// Only a bug makes an answer unpackable; the client still hears.
		s.log.Error("resolver: pack answer", "question", resp.Question, "err", err)
		return formatError(msg, out)
	}
	return b
}

// udpSize is the largest answer a UDP client takes: 512 bytes, or what it
// advertises with EDNS, up to maxUDPSize.
func udpSize(req *dns.Msg) int {
	if opt := req.IsEdns0(); opt != nil {
		return int(min(max(opt.UDPSize(), dns.MinMsgSize), maxUDPSize))
	}
	return dns.MinMsgSize
}

// formatError is the answer to a query that does not parse: its header
// with FORMERR, as miekg/dns's own server answers. Anything too short to
// have a header, or that claims to be a response, gets nothing.
func formatError(msg, out []byte) []byte {
	const headerSize = 12
	if len(msg) < headerSize || msg[2]&0x80 != 0 {
		return nil
	}
	b := append(out[:0], msg[0], msg[1], 0x80|msg[2]&0x79, 0x80|dns.RcodeFormatError)
	return append(b, make([]byte, 8)...)
}

// Listen opens a UDP socket and a TCP listener on one address of the host,
// such as 127.0.0.1:4553. Port 0 picks a port free for both.
func Listen(addr string) (*net.UDPConn, *net.TCPListener, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("resolver: listen address %q: %w", addr, err)
	}
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			return nil, nil, fmt.Errorf("resolver: listen udp %s: %w", ap, err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).AddrPort()
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(port))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		// A port picked for UDP may be taken for TCP: pick again.
		if ap.Port() != 0 || attempt == 10 {
			return nil, nil, fmt.Errorf("resolver: listen tcp %s: %w", port, err)
		}
	}
}
