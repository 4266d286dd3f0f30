package resolver

import (
	"encoding/binary"
	"log/slog"
	"testing"

	"github.com/miekg/dns"
)

// FuzzReply feeds arbitrary datagrams to a VPC resolver and to the public
// one over the test world. Nothing may panic; whatever is answered must
// parse, carry the query's ID and fit in a datagram.
//
//	go test -run '^$' -fuzz FuzzReply -fuzztime 60s ./resolver
func FuzzReply(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{regionalC, dns.TypeA, false},
		{"api.internal.example.", dns.TypeA, true},
		{"loop1.internal.example.", dns.TypeANY, false},
		{"a.b.wild.internal.example.", dns.TypeA, true},
		{"5.1.0.10.in-addr.arpa.", dns.TypePTR, false},
		{"txt.internal.example.", dns.TypeTXT, true},
		{"nothing.invalid.", dns.TypeMX, false},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns {
			m.SetEdns0(1232, true)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 12))
	f.Add([]byte{0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1})

	var src Source
	src.Store(NewView(testWorld().s, "us-east-1"))
	log := slog.New(slog.DiscardHandler)
	servers := []*Server{
		{src: &src, view: "vpc-c", log: log},
		{src: &src, view: Public, log: log},
		{src: &src, view: "vpc-x", log: log},
	}
	out := make([]byte, maxUDPSize+1)
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, s := range servers {
			b := s.reply(msg, out)
			if b == nil {
				continue
			}
			if len(b) > maxUDPSize {
				t.Fatalf("%d-byte answer", len(b))
			}
			if len(msg) < 2 || binary.BigEndian.Uint16(b) != binary.BigEndian.Uint16(msg) {
				t.Fatalf("answer ID %x for query %x", b[:2], msg)
			}
			var m dns.Msg
			if err := m.Unpack(b); err != nil {
				t.Fatalf("answer %x does not parse: %v", b, err)
			}
			if !m.Response {
				t.Fatalf("answer without QR: %v", &m)
			}
		}
	})
}
