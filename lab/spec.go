package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Config configures a Lab.
type Config struct {
	// Prefix starts the name of every namespace and /etc/netns directory the
	// lab makes, so labs with different prefixes never touch each other.
	// PrefixFor derives one from a data directory.
	Prefix string
	// StateDir holds per-instance files: the user data script and its
	// console log (<StateDir>/instances/<id>/console.log).
	StateDir string
	// Logger receives what the lab does; nil discards it.
	Logger *slog.Logger
	// SmallSegments keeps TCP segments on lab links at 64 KiB, as on EC2,
	// instead of BIG TCP's 512 KiB, the default: about a quarter less
	// throughput, but every captured packet carries its IP length (older
	// tcpdump, Debian 12's 4.99.3 among them, prints "IP bad-len 0" for a
	// larger segment, whose length field the kernel leaves at 0).
	SmallSegments bool
	// Fabric says how VPCs are built; "" is FabricShared.
	Fabric Fabric
}

// Fabric is how the lab builds VPCs.
type Fabric string

const (
	// FabricRouters makes each VPC a router namespace of its own: VPCs
	// are apart because nothing routes between namespaces, and an
	// endpoint flow crosses three namespaces, translated twice.
	FabricRouters Fabric = "routers"
	// FabricShared, the default, puts every VPC's router in one
	// namespace, kept apart by a routing table, a conntrack zone and a
	// packet mark per VPC, so that an endpoint flow crosses from one VPC
	// to another in one namespace, translated once (docs/fabric.md).
	FabricShared Fabric = "shared"
)

// Validate reports whether the configuration can name lab objects.
func (c Config) Validate() error {
	if c.Prefix == "" || len(c.Prefix) > 64 || !isName(c.Prefix) {
		return fmt.Errorf("lab: prefix %q: want 1-64 letters, digits, '-', '_' or '.'", c.Prefix)
	}
	if c.StateDir == "" {
		return fmt.Errorf("lab: no state directory")
	}
	switch c.Fabric {
	case "", FabricRouters, FabricShared:
	default:
		return fmt.Errorf("lab: fabric %q: want %q or %q", c.Fabric, FabricRouters, FabricShared)
	}
	return nil
}

// PrefixFor returns the lab prefix of the server whose data lives in
// dataDir: "pl" and 6 hex digits of the SHA-256 of the absolute path, so
// servers with different data directories never share a lab object.
func PrefixFor(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = filepath.Clean(dataDir)
	}
	sum := sha256.Sum256([]byte(abs))
	return "pl" + hex.EncodeToString(sum[:3])
}

// Spec is the lab as it should be. Everything of the lab's prefix that the
// spec does not name is removed.
type Spec struct {
	VPCs []VPC
}

// VPC is one router namespace and the instances attached to it.
type VPC struct {
	ID   string // "vpc-…"
	CIDR netip.Prefix
	// Resolver, when valid, is put on the router's loopback and written to
	// every instance's resolv.conf.
	Resolver netip.Addr
	// RouterAddrs are the router's own addresses (subnet gateways). Instances
	// reach them whatever their security groups say.
	RouterAddrs []netip.Addr
	// LocalAddrs are addresses privlink opens sockets on in the router
	// namespace: endpoint and load balancer interfaces.
	LocalAddrs []netip.Addr
	Instances  []Instance
	Firewall   Firewall
	// Endpoints are the listeners of the VPC's endpoint interfaces. New
	// flows to each address and port are translated by the router's kernel
	// and sent over a transit link to a load balancer node (an Instance
	// with Forwards, in any VPC), which translates them again towards a
	// target: the same path as AWS's Hyperplane, with no process copying
	// bytes. The security groups of the endpoint interface apply first.
	Endpoints []EndpointForward
}

// EndpointForward is one listener of an endpoint interface.
type EndpointForward struct {
	Addr netip.AddrPort // the interface's address and the listener's port
	Node string         // the load balancer node that carries its flows (an Instance ID, "eni-…")
	// IdleTimeout ends a flow that carries nothing for longer: its state
	// expires and the next segment either side sends is answered with a
	// reset. Zero keeps the kernel's default (five days).
	IdleTimeout time.Duration
}

// Instance is one namespace with a veth to its VPC's router: an EC2
// instance ("i-…"), or a load balancer node ("eni-…", the node's network
// interface), which is where privlink's health checks start and where
// endpoint flows arriving over transit links are sent on to targets from
// the node's own address.
type Instance struct {
	ID       string       // "i-" or "eni-", and hex digits
	Addr     netip.Prefix // address and subnet length, e.g. 10.0.1.5/24
	Gateway  netip.Addr   // the subnet's router address
	UserData []byte       // run once, when the instance's namespace is made
	// Forwards are a load balancer node's listeners (nodes only).
	Forwards []Forward
}

// Forward is one listener of a load balancer node: where the flows that
// endpoints send to its port go.
type Forward struct {
	Port uint16
	// Targets receive new flows, spread by a hash of the flow; established
	// flows stay with their target when the list changes (which is how a
	// deregistered target drains). Without targets, new flows are refused.
	Targets []netip.AddrPort
	// IdleTimeout is the listener's, as EndpointForward's.
	IdleTimeout time.Duration
	// Reset lists targets whose established flows are reset (unhealthy
	// targets of a group that terminates their connections).
	Reset []netip.AddrPort
	// With ResetUnregistered, flows to a target that is neither in Targets
	// nor in Registered (it has left the group) are reset too; without it
	// they continue until they end or idle out, as on an NLB.
	Registered        []netip.AddrPort
	ResetUnregistered bool
}

// isNode reports whether an instance ID names a load balancer node.
func isNode(id string) bool { return strings.HasPrefix(id, nodeIDPrefix) }

// Firewall is the security groups of a VPC and the interfaces they guard.
type Firewall struct {
	Groups     map[string]Group // by group ID ("sg-…")
	Interfaces []Interface
}

// Group is a security group's rules. Rules only admit; what no rule admits
// is dropped.
type Group struct {
	Ingress, Egress []Rule
}

// Rule admits traffic of a protocol and port range from (ingress) or to
// (egress) a list of peers.
type Rule struct {
	// Protocol is "tcp", "udp", "icmp", "icmpv6", "all" (or "-1"), or an IP
	// protocol number.
	Protocol string
	// FromPort and ToPort bound the destination port for tcp and udp; 0 and
	// 65535 mean any. Other protocols ignore them (ICMP types are not
	// filtered).
	FromPort, ToPort uint16
	// Sources are the peers: sources of ingress rules, destinations of
	// egress rules. Group references are expanded to member addresses by the
	// caller. An empty list admits nothing; 0.0.0.0/0 admits everyone.
	Sources []netip.Prefix
}

// InterfaceKind says what an address in a VPC belongs to, which decides
// which security group rules apply to it.
type InterfaceKind int

const (
	// KindInstance is an instance's interface: its groups' egress rules
	// apply to what it sends, ingress rules to what it receives.
	KindInstance InterfaceKind = iota + 1
	// KindEndpoint is an interface endpoint's ENI in the router namespace:
	// only its groups' ingress rules apply, as on AWS.
	KindEndpoint
	// KindLoadBalancer is a load balancer node's ENI in the router
	// namespace. It has no security group: every instance may reach it
	// (subject to the instance's own egress rules).
	KindLoadBalancer
)

func (k InterfaceKind) String() string {
	switch k {
	case KindInstance:
		return "instance"
	case KindEndpoint:
		return "endpoint"
	case KindLoadBalancer:
		return "load-balancer"
	}
	return fmt.Sprintf("InterfaceKind(%d)", int(k))
}

// Interface is an address guarded (or not) by security groups.
type Interface struct {
	Addr   netip.Addr
	Kind   InterfaceKind
	Groups []string
}

// Status is the outcome of Apply: errors by VPC or instance ID. An object
// of the spec without an entry is realised; a removed object without an
// entry is gone.
type Status struct {
	Errors map[string]error
}

func (s *Status) fail(id string, err error) {
	if err == nil {
		return
	}
	if s.Errors == nil {
		s.Errors = map[string]error{}
	}
	if s.Errors[id] == nil {
		s.Errors[id] = err
	}
}

// Namespace names: <prefix>-<vpc-id> for routers, <prefix>-<instance-id> for
// instances, <prefix>-fabric for the shared fabric. The kind is read back
// from the ID's own prefix.
const (
	vpcIDPrefix      = "vpc-"
	instanceIDPrefix = "i-"
	nodeIDPrefix     = "eni-"
	fabricName       = "fabric"
)

func routerNS(prefix, vpcID string) string        { return prefix + "-" + vpcID }
func fabricNS(prefix string) string               { return prefix + "-" + fabricName }
func instanceNS(prefix, instanceID string) string { return prefix + "-" + instanceID }

// vethName is the router side of an instance's veth: "v" (instances) or
// "n" (nodes) and the last 14 hex digits of the ID, which fits IFNAMSIZ.
func vethName(instanceID string) string {
	if isNode(instanceID) {
		return "n" + last14(instanceID)
	}
	return "v" + last14(instanceID)
}

// transitName is one end of a transit link: "t" and the last 14 hex digits
// of the ID of what is at the other end (a node, seen from a router; a
// VPC, seen from a node).
func transitName(peerID string) string { return "t" + last14(peerID) }

func last14(id string) string {
	_, h, _ := strings.Cut(id, "-")
	if len(h) > 14 {
		h = h[len(h)-14:]
	}
	return h
}

func validVPCID(id string) error {
	if !strings.HasPrefix(id, vpcIDPrefix) || len(id) > 64 || !isName(id) {
		return fmt.Errorf("lab: invalid VPC ID %q", id)
	}
	return nil
}

func validInstanceID(id string) error {
	h, ok := strings.CutPrefix(id, instanceIDPrefix)
	if !ok {
		h, ok = strings.CutPrefix(id, nodeIDPrefix)
	}
	if !ok || h == "" || len(h) > 32 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("lab: invalid instance ID %q: want i- or eni- and lowercase hex digits", id)
	}
	return nil
}

func isName(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return s != ""
}
