package resolver

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/privlink/privlink/core"
)

// startServer serves the public view of src on a loopback port, UDP and
// TCP.
func startServer(t *testing.T, src *Source, view string) *Server {
	t.Helper()
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Serve(src, view, pc, ln, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func exchange(t *testing.T, s *Server, net string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net}
	resp, _, err := c.Exchange(m, s.Addr().String())
	if err != nil {
		t.Fatalf("%s exchange: %v", net, err)
	}
	return resp
}

// TestServer answers over UDP and TCP from whatever view the source holds,
// truncates UDP answers to what the client takes, and answers malformed
// datagrams with FORMERR or not at all.
func TestServer(t *testing.T) {
	var src Source
	s := startServer(t, &src, Public)

	q := new(dns.Msg)
	q.SetQuestion(regionalC, dns.TypeA)
	if resp := exchange(t, s, "udp", q); resp.Rcode != dns.RcodeServerFailure {
		t.Errorf("before any view: %s, want SERVFAIL", dns.RcodeToString[resp.Rcode])
	}

	w := testWorld()
	var big []string
	for i := range 10 {
		big = append(big, fmt.Sprintf(`"%03d %s"`, i, strings.Repeat("x", 200)))
	}
	w.zone("Z9", "big.example.", false)
	w.set("Z9", "big.example.", "TXT", 300, big...)
	src.Store(NewView(w.s, "us-east-1"))

	t.Run("udp and tcp", func(t *testing.T) {
		for _, n := range []string{"udp", "tcp"} {
			resp := exchange(t, s, n, q)
			got := show(resp.Answer)
			slices.Sort(got)
			if want := []string{regionalC + " 60 A 10.0.1.100", regionalC + " 60 A 10.0.2.100"}; !slices.Equal(got, want) {
				t.Errorf("%s: %q", n, got)
			}
		}
	})

	t.Run("a new view answers at once", func(t *testing.T) {
		w2 := testWorld()
		w2.s.Endpoints[epC].State = "deleted"
		old := src.Load()
		src.Store(NewView(w2.s, "us-east-1"))
		defer src.Store(old)
		if resp := exchange(t, s, "udp", q); resp.Rcode != dns.RcodeNameError {
			t.Errorf("deleted endpoint's name: %s", dns.RcodeToString[resp.Rcode])
		}
	})

	t.Run("truncation", func(t *testing.T) {
		txt := new(dns.Msg)
		txt.SetQuestion("big.example.", dns.TypeTXT)
		cases := []struct {
			net       string
			edns      uint16
			truncated bool
		}{
			{"udp", 0, true},
			{"udp", 1232, true},
			{"udp", 4096, false},
			{"tcp", 0, false},
		}
		for _, c := range cases {
			m := txt.Copy()
			if c.edns != 0 {
				m.SetEdns0(c.edns, false)
			}
			cl := &dns.Client{Net: c.net, UDPSize: max(c.edns, dns.MinMsgSize)}
			resp, _, err := cl.Exchange(m, s.Addr().String())
			if err != nil {
				t.Fatalf("%s/%d: %v", c.net, c.edns, err)
			}
			if resp.Truncated != c.truncated || (!c.truncated && len(resp.Answer) != 10) {
				t.Errorf("%s, EDNS %d: truncated %v with %d records, want truncated %v", c.net, c.edns, resp.Truncated, len(resp.Answer), c.truncated)
			}
			if b, _ := resp.Pack(); c.net == "udp" && len(b) > max(int(c.edns), dns.MinMsgSize) {
				t.Errorf("%s, EDNS %d: %d bytes", c.net, c.edns, len(b))
			}
		}
	})

	t.Run("malformed datagrams", func(t *testing.T) {
		conn, err := net.Dial("udp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		header := func(id uint16, flags uint16, qd uint16) []byte {
			b := make([]byte, 12)
			binary.BigEndian.PutUint16(b, id)
			binary.BigEndian.PutUint16(b[2:], flags)
			binary.BigEndian.PutUint16(b[4:], qd)
			return b
		}
		valid, _ := q.Copy().Pack()
		binary.BigEndian.PutUint16(valid, 7777)
		// Nothing comes back for the first two, so the next answer read
		// is the third's.
		for _, junk := range [][]byte{
			{1, 2, 3},               // shorter than a header
			header(1111, 0x8000, 1), // a response
		} {
			if _, err := conn.Write(junk); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.Write(header(3333, 0x0100, 1)); err != nil { // a query whose question is missing
			t.Fatal(err)
		}
		if _, err := conn.Write(valid); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 512)
		read := func() *dns.Msg {
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			m := new(dns.Msg)
			if err := m.Unpack(buf[:n]); err != nil {
				t.Fatalf("unpack %x: %v", buf[:n], err)
			}
			return m
		}
		if m := read(); m.Id != 3333 || m.Rcode != dns.RcodeFormatError || !m.Response || !m.RecursionDesired {
			t.Errorf("answer to a question cut short: %v", m)
		}
		if m := read(); m.Id != 7777 || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
			t.Errorf("answer after the junk: %v", m)
		}
	})

	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// TestListen checks that one port serves both transports, and that a
// taken address is an error.
func TestListen(t *testing.T) {
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	defer ln.Close()
	if pc.LocalAddr().(*net.UDPAddr).Port != ln.Addr().(*net.TCPAddr).Port {
		t.Errorf("udp %v, tcp %v", pc.LocalAddr(), ln.Addr())
	}
	if _, _, err := Listen(pc.LocalAddr().String()); err == nil {
		t.Error("listening on a taken address succeeded")
	}
	if _, _, err := Listen("localhost:53"); err == nil {
		t.Error("a host name was accepted")
	}
}

// TestSourcePublish checks that a published state is built when first
// loaded, that loads see the newest state published, and that loads and
// publishes may race (run with -race).
func TestSourcePublish(t *testing.T) {
	var src Source
	b := NewBuilder("us-east-1")
	snap := func(rev int64) *core.Snapshot {
		w := testWorld()
		w.s.Revision = rev
		return w.s
	}
	src.Publish(b, snap(1))
	src.Publish(b, snap(2))
	v := src.Load()
	if v == nil || v.Revision() != 2 {
		t.Fatalf("after publishing revisions 1 and 2, the view is %v", v)
	}
	if src.Load() != v {
		t.Errorf("a second load built the view again")
	}
	q := new(dns.Msg)
	q.SetQuestion(regionalC, dns.TypeA)
	if resp := v.Answer(Public, q); resp == nil || len(resp.Answer) != 2 {
		t.Errorf("the built view answers %v", resp)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if v := src.Load(); v == nil || v.Revision() < 2 {
					t.Errorf("a load saw %v", v)
					return
				}
			}
		})
	}
	for rev := int64(3); rev < 100; rev++ {
		src.Publish(b, snap(rev))
	}
	wg.Wait()
	if v := src.Load(); v.Revision() != 99 {
		t.Errorf("the last view is at revision %d, want 99", v.Revision())
	}
}
