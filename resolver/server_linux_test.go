package resolver

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"

	"github.com/privlink/privlink/netns"
)

// TestServeInFreshNamespace is the VPC resolver's situation: its socket is
// bound (IP_FREEBIND) in a namespace the lab has not configured yet, and
// the address arrives later. Answers must still come from the address the
// query was sent to, or the client drops them (and the router's firewall,
// which admits answers as replies to tracked queries, drops them first).
func TestServeInFreshNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (network namespaces)")
	}
	ns, err := netns.Anonymous() // lo down, no routes, no local table
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	resolverAddr := netip.MustParseAddrPort("10.9.9.2:53")
	pc, err := ns.ListenUDP(resolverAddr)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := ns.ListenTCP(resolverAddr)
	if err != nil {
		t.Fatal(err)
	}
	var src Source
	src.Store(NewView(testWorld().s, "us-east-1"))
	s, err := Serve(&src, Public, pc, ln, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Now the lab's part: lo up with the resolver's address and another
	// one, from which routing would pick the source of a reply to it.
	nl, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	lo, err := nl.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := nl.LinkSetUp(lo); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"10.9.9.1/32", "10.9.9.2/32"} {
		addr, _ := netlink.ParseAddr(a)
		if err := nl.AddrAdd(lo, addr); err != nil {
			t.Fatal(err)
		}
	}
	client, err := ns.ListenUDP(netip.MustParseAddrPort("10.9.9.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	q := new(dns.Msg)
	q.SetQuestion(regionalC, dns.TypeA)
	b, _ := q.Pack()
	if _, err := client.WriteToUDPAddrPort(b, resolverAddr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	if err := client.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil { // only a guard against hanging
		t.Fatal(err)
	}
	n, from, err := client.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if from != resolverAddr {
		t.Errorf("answer from %v, want %v", from, resolverAddr)
	}
	var m dns.Msg
	if err := m.Unpack(buf[:n]); err != nil || len(m.Answer) != 2 {
		t.Errorf("answer %v (%v)", &m, err)
	}

	// TCP, for completeness.
	c := &dns.Client{Net: "tcp", Dialer: &net.Dialer{}}
	conn, err := ns.DialTCP(t.Context(), netip.MustParseAddr("10.9.9.1"), resolverAddr)
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := c.ExchangeWithConn(q, &dns.Conn{Conn: conn})
	if err != nil || len(resp.Answer) != 2 {
		t.Errorf("over TCP: %v (%v)", resp, err)
	}
}
