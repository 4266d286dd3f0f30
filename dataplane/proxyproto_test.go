package dataplane

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"
)

// hexBytes decodes hex written with spaces and line breaks for reading.
func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProxyHeaderBytes(t *testing.T) {
	const vpce = "vpce-0123456789abcdef0"
	client := netip.MustParseAddrPort("10.0.1.10:40000")
	eni := netip.MustParseAddrPort("10.0.1.100:8090")
	for _, tc := range []struct {
		name string
		got  func() ([]byte, error)
		want string
	}{
		{
			name: "flow",
			got:  func() ([]byte, error) { return proxyHeader(client, eni, vpce) },
			want: `0d0a0d0a000d0a515549540a ` + // signature
				`21 ` + // version 2, command PROXY
				`11 ` + // TCP over IPv4
				`0026 ` + // 12 bytes of addresses + a 26-byte TLV
				`0a00010a 0a000164 9c40 1f9a ` + // 10.0.1.10 → 10.0.1.100, 40000 → 8090
				`ea 0017 01 ` + hex.EncodeToString([]byte(vpce)), // PP2_TYPE_AWS, 23 bytes, PP2_SUBTYPE_AWS_VPCE_ID, the ID
		},
		{
			name: "IPv4-mapped addresses are written as IPv4",
			got: func() ([]byte, error) {
				return proxyHeader(netip.AddrPortFrom(netip.AddrFrom16(client.Addr().As16()), client.Port()), eni, vpce)
			},
			want: `0d0a0d0a000d0a515549540a 21 11 0026 0a00010a 0a000164 9c40 1f9a ea 0017 01 ` + hex.EncodeToString([]byte(vpce)),
		},
		{
			name: "health check",
			got: func() ([]byte, error) {
				return healthCheckHeader(netip.MustParseAddrPort("10.0.1.5:51000"), netip.MustParseAddrPort("10.0.1.10:80"))
			},
			want: `0d0a0d0a000d0a515549540a ` +
				`20 ` + // version 2, command LOCAL
				`11 ` + // TCP over IPv4, as an NLB sends it
				`000c ` + // the address block, no TLV
				`0a000105 0a00010a c738 0050`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if err != nil {
				t.Fatal(err)
			}
			if want := hexBytes(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("header\n got %x\nwant %x", got, want)
			}
		})
	}
}

// TestProxyHeaderParses reads our headers back with go-proxyproto's parser
// and AWS TLV helpers, as a target would.
func TestProxyHeaderParses(t *testing.T) {
	const vpce = "vpce-0a1b2c3d4e5f60718"
	client := netip.MustParseAddrPort("192.0.2.7:61234")
	eni := netip.MustParseAddrPort("10.9.8.7:443")
	hdr, err := proxyHeader(client, eni, vpce)
	if err != nil {
		t.Fatal(err)
	}
	// Client bytes follow the header on the wire; the parser must stop at
	// the header's end.
	r := bufio.NewReader(bytes.NewReader(append(hdr, "GET / HTTP/1.1\r\n"...)))
	h, err := proxyproto.Read(r)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 2 || h.Command != proxyproto.PROXY || h.TransportProtocol != proxyproto.TCPv4 {
		t.Errorf("version %d command %v transport %v, want 2, PROXY, TCPv4", h.Version, h.Command, h.TransportProtocol)
	}
	src, dst, ok := h.TCPAddrs()
	if !ok || unmap(src.AddrPort()) != client || unmap(dst.AddrPort()) != eni {
		t.Errorf("addresses %v → %v, want %s → %s", src, dst, client, eni)
	}
	tlvs, err := h.TLVs()
	if err != nil {
		t.Fatal(err)
	}
	if len(tlvs) != 1 {
		t.Fatalf("TLVs %v, want exactly the AWS one", tlvs)
	}
	if got := tlvparse.FindAWSVPCEndpointID(tlvs); got != vpce {
		t.Errorf("VPC endpoint ID %q, want %q", got, vpce)
	}
	rest, _ := r.ReadString('\n')
	if rest != "GET / HTTP/1.1\r\n" {
		t.Errorf("after the header: %q", rest)
	}

	local, err := healthCheckHeader(netip.MustParseAddrPort("10.0.1.5:51000"), netip.MustParseAddrPort("10.0.1.10:80"))
	if err != nil {
		t.Fatal(err)
	}
	h, err = proxyproto.Read(bufio.NewReader(bytes.NewReader(local)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Command != proxyproto.LOCAL {
		t.Errorf("health check header command %v, want LOCAL", h.Command)
	}
}

func TestProxyHeaderRefuses(t *testing.T) {
	v4 := netip.MustParseAddrPort("10.0.0.1:1")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:1")
	if _, err := proxyHeader(v6, v4, "vpce-1"); err == nil {
		t.Error("proxyHeader accepted an IPv6 client")
	}
	if _, err := healthCheckHeader(v4, v6); err == nil {
		t.Error("healthCheckHeader accepted an IPv6 target")
	}
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"vpce-0123456789abcdef0", true},
		{"", false},
		{"vpce 1", false},
		{"vpce-ü", false},
		{strings.Repeat("a", 256), false},
	} {
		if err := validEndpointID(tc.id); (err == nil) != tc.ok {
			t.Errorf("validEndpointID(%q) = %v", tc.id, err)
		}
	}
	l := Listener{
		Namespace: "c", Addr: v4, Backend: Backend{Namespace: "p", Nodes: []Node{{Addr: netip.MustParseAddr("10.0.0.2")}}},
		ProxyProtocol: true,
	}
	if err := l.validate(); err == nil {
		t.Error("a PROXY protocol listener without an endpoint ID validated")
	}
	l.EndpointID = "vpce-0123456789abcdef0"
	if err := l.validate(); err != nil {
		t.Errorf("valid PROXY protocol listener: %v", err)
	}
}

// BenchmarkProxyHeader measures the per-flow cost of building a header.
func BenchmarkProxyHeader(b *testing.B) {
	client := netip.MustParseAddrPort("10.0.1.10:40000")
	eni := netip.MustParseAddrPort("10.0.1.100:8090")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proxyHeader(client, eni, "vpce-0123456789abcdef0"); err != nil {
			b.Fatal(err)
		}
	}
}
