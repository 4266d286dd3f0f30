package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/pires/go-proxyproto"
)

// AWS's PROXY protocol v2 extension, as a Network Load Balancer sends it to
// the targets of an endpoint service: a TLV of type 0xEA (PP2_TYPE_AWS)
// whose value is the subtype 0x01 (PP2_SUBTYPE_AWS_VPCE_ID) followed by the
// VPC endpoint ID in ASCII.
const (
	pp2TypeAWS           proxyproto.PP2Type = 0xEA
	pp2SubtypeAWSVPCEID  byte               = 0x01
	maxEndpointIDLength                     = 255
	endpointIDCharacters                    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
)

// proxyHeader returns the PROXY protocol v2 header that starts a proxied
// flow: command PROXY over TCP/IPv4 from the consumer's client to the
// endpoint ENI's address and port, with the endpoint ID in AWS's TLV.
func proxyHeader(client, eni netip.AddrPort, endpointID string) ([]byte, error) {
	value := make([]byte, 0, 1+len(endpointID))
	value = append(append(value, pp2SubtypeAWSVPCEID), endpointID...)
	return formatHeader(proxyproto.PROXY, client, eni, []proxyproto.TLV{{Type: pp2TypeAWS, Value: value}})
}

// healthCheckHeader returns the PROXY protocol v2 header that starts a
// health check connection. A Network Load Balancer sends the LOCAL command
// there (the connection is its own, relayed for no client) with the TCP/IPv4
// family, and no endpoint TLV. Receivers must ignore the addresses of a
// LOCAL header; ours are the connection's real endpoints, so even a receiver
// that reads them sees the truth.
func healthCheckHeader(local, remote netip.AddrPort) ([]byte, error) {
	return formatHeader(proxyproto.LOCAL, local, remote, nil)
}

// formatHeader encodes a v2 header over TCP/IPv4 from src to dst.
func formatHeader(cmd proxyproto.ProtocolVersionAndCommand, src, dst netip.AddrPort, tlvs []proxyproto.TLV) ([]byte, error) {
	if !src.Addr().Unmap().Is4() || !dst.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("PROXY header from %s to %s: not IPv4", src, dst)
	}
	h := &proxyproto.Header{
		Version:           2,
		Command:           cmd,
		TransportProtocol: proxyproto.TCPv4,
		SourceAddr:        net.TCPAddrFromAddrPort(unmap(src)),
		DestinationAddr:   net.TCPAddrFromAddrPort(unmap(dst)),
	}
	if len(tlvs) > 0 {
		if err := h.SetTLVs(tlvs); err != nil {
			return nil, fmt.Errorf("PROXY header TLV: %w", err)
		}
	}
	b, err := h.Format()
	if err != nil {
		return nil, fmt.Errorf("PROXY header from %s to %s: %w", src, dst, err)
	}
	return b, nil
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// validEndpointID checks that an endpoint ID fits AWS's TLV: non-empty
// ASCII letters, digits and hyphens, as receivers such as go-proxyproto's
// tlvparse insist on.
func validEndpointID(id string) error {
	switch {
	case id == "":
		return errors.New("no endpoint ID for the PROXY protocol header")
	case len(id) > maxEndpointIDLength:
		return fmt.Errorf("endpoint ID of %d bytes is longer than %d", len(id), maxEndpointIDLength)
	}
	for _, r := range id {
		if !strings.ContainsRune(endpointIDCharacters, r) {
			return fmt.Errorf("endpoint ID %q has a character other than a letter, digit or hyphen", id)
		}
	}
	return nil
}
