package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"
)

// Config is the whole desired data plane: the listeners to open and the
// target groups they forward to. Apply converges the plane to it.
type Config struct {
	Listeners    []Listener
	TargetGroups []TargetGroup
}

// Listener is one endpoint ENI address and port in a consumer VPC, and where
// its traffic goes.
type Listener struct {
	// Namespace is the consumer VPC's router namespace, where the ENI's
	// address lives and the listening socket is opened.
	Namespace string
	// Addr is the ENI's address and the load balancer listener's port.
	Addr netip.AddrPort
	// Socket, when valid, is where the listening socket is opened instead
	// of Addr: in a lab fabric shared by VPCs, an address of the ENI's own
	// to which the fabric translates Addr for the consumer VPC's packets,
	// since VPCs that share a CIDR may have ENIs at the same address.
	// Flows still hash, log and send PROXY headers with Addr.
	Socket netip.AddrPort
	// Zone is the ENI's availability zone; the load balancer node in the
	// same zone carries its flows.
	Zone string
	// EndpointID and ServiceID name the flow's endpoint and service in logs;
	// EndpointID also goes in PROXY protocol v2 headers.
	EndpointID, ServiceID string
	// TargetGroupID names the target group the load balancer listener
	// forwards to; it must be one of Config.TargetGroups.
	TargetGroupID string
	// Backend is the load balancer in the provider VPC.
	Backend Backend
	// ProxyProtocol starts every connection to a target with a PROXY
	// protocol v2 header: the consumer client's address and port, the ENI's
	// address and port, and EndpointID in AWS's TLV (type 0xEA, subtype
	// 0x01). It mirrors proxy_protocol_v2.enabled of the target group.
	ProxyProtocol bool
}

// Key identifies the listener in Apply's result: "namespace|ip:port" of
// its socket.
func (l Listener) Key() string { return l.Namespace + "|" + l.socket().String() }

// socket is where the listening socket is opened.
func (l Listener) socket() netip.AddrPort {
	if l.Socket.IsValid() {
		return l.Socket
	}
	return l.Addr
}

// Backend is a network load balancer: the provider VPC's router namespace
// and the load balancer's nodes (one ENI address per zone) in it.
type Backend struct {
	Namespace string
	Nodes     []Node
}

// Node is a load balancer node: its zone and its ENI address in the provider
// VPC, which targets see as the source of every flow.
type Node struct {
	Zone string
	Addr netip.Addr
}

// TargetGroup is a set of targets and how to check their health.
type TargetGroup struct {
	ID string
	// Namespace is the provider VPC's router namespace, where health checks
	// are made.
	Namespace string
	// Source is the address health checks come from (a load balancer node).
	// The zero Addr lets the kernel choose.
	Source      netip.Addr
	Targets     []Target
	HealthCheck HealthCheck
	// ProxyProtocol (proxy_protocol_v2.enabled) starts every health check
	// connection with a PROXY protocol v2 header, as a Network Load
	// Balancer does: command LOCAL, family TCP over IPv4. HTTP and HTTPS
	// checks send their request after it.
	ProxyProtocol bool
}

// Target is a registered target: an ID (instance ID or IP) and the address
// and port traffic goes to. A target is identified by ID and address, so the
// same instance on two ports is two targets, as on AWS.
type Target struct {
	ID   string
	Addr netip.AddrPort
	Zone string
}

func (t Target) key() string { return t.ID + "|" + t.Addr.String() }

// HealthCheck says how targets are checked. Zero values take AWS's defaults
// for a TCP network load balancer target group.
type HealthCheck struct {
	// Enabled turns checks on. With checks off every target is "unavailable"
	// (Target.HealthCheckDisabled) and, as none is healthy, all get traffic.
	Enabled bool
	// Protocol is "TCP" (a connection within the timeout succeeds), "HTTP"
	// or "HTTPS" (a GET of Path whose status Matcher accepts succeeds;
	// HTTPS verifies no certificate, as ELB). Empty means TCP.
	Protocol string
	// Path is what HTTP and HTTPS checks request; empty means "/".
	Path string
	// Matcher lists the HTTP codes that count as success as ELB spells
	// them: "200", "200,202", "200-399"; codes from 200 to 599. Empty means
	// "200-399".
	Matcher string
	// Port is the port checks connect to; 0 means the target's traffic port.
	Port     uint16
	Interval time.Duration
	Timeout  time.Duration
	// HealthyThreshold is how many consecutive successes make a target
	// healthy; UnhealthyThreshold how many consecutive failures make it
	// unhealthy.
	HealthyThreshold, UnhealthyThreshold int
}

// AWS's defaults for a TCP target group of a network load balancer.
const (
	DefaultInterval           = 30 * time.Second
	DefaultTimeout            = 10 * time.Second
	DefaultHealthyThreshold   = 5
	DefaultUnhealthyThreshold = 2
	DefaultProtocol           = ProtocolTCP
	DefaultPath               = "/"
	DefaultMatcher            = "200-399"
)

// Health check protocols.
const (
	ProtocolTCP   = "TCP"
	ProtocolHTTP  = "HTTP"
	ProtocolHTTPS = "HTTPS"
)

// maxPathLength is ELB's limit on a health check path.
const maxPathLength = 1024

// Validate reports settings the plane cannot check with: an unknown
// protocol, a path that is not an absolute request path, a matcher that
// does not parse. Empty fields are valid (they take defaults).
func (h HealthCheck) Validate() error {
	switch h.Protocol {
	case "", ProtocolTCP, ProtocolHTTP, ProtocolHTTPS:
	default:
		return fmt.Errorf("health check protocol %q is not TCP, HTTP or HTTPS", h.Protocol)
	}
	if h.Path != "" {
		if h.Path[0] != '/' || len(h.Path) > maxPathLength {
			return fmt.Errorf("health check path %q does not start with / or is longer than %d", h.Path, maxPathLength)
		}
		for _, b := range []byte(h.Path) {
			if b <= ' ' || b >= 0x7f {
				return fmt.Errorf("health check path %q has a space, control or non-ASCII byte", h.Path)
			}
		}
	}
	if h.Matcher != "" {
		if _, err := parseMatcher(h.Matcher); err != nil {
			return fmt.Errorf("health check %w", err)
		}
	}
	return nil
}

// withDefaults fills zero fields with AWS's defaults and keeps the timeout
// within the interval, so at most one check per target is ever in flight.
func (h HealthCheck) withDefaults() HealthCheck {
	if h.Protocol == "" {
		h.Protocol = DefaultProtocol
	}
	if h.Protocol == ProtocolTCP {
		// A TCP check has no path or matcher; clearing them keeps a change
		// to either from restarting its checkers.
		h.Path, h.Matcher = "", ""
	} else {
		if h.Path == "" {
			h.Path = DefaultPath
		}
		if h.Matcher == "" {
			h.Matcher = DefaultMatcher
		}
	}
	if h.Interval <= 0 {
		h.Interval = DefaultInterval
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultTimeout
	}
	h.Timeout = min(h.Timeout, h.Interval)
	if h.HealthyThreshold <= 0 {
		h.HealthyThreshold = DefaultHealthyThreshold
	}
	if h.UnhealthyThreshold <= 0 {
		h.UnhealthyThreshold = DefaultUnhealthyThreshold
	}
	return h
}

// Options configure a Plane.
type Options struct {
	// Logger receives the plane's logs; nil discards them.
	Logger *slog.Logger
	// OnHealth receives every target health change, in order, from one
	// goroutine. It may block without stalling checks or traffic (events
	// queue up meanwhile), and may call TargetHealth, but not Apply or Close.
	OnHealth func(HealthEvent)
	// DialTimeout bounds the connection to a target; the client is reset
	// when it expires. Zero means 10 seconds, like an NLB health check.
	DialTimeout time.Duration
}

// HealthEvent is a target's health as DescribeTargetHealth reports it.
type HealthEvent struct {
	TargetGroupID, TargetID string
	Port                    uint16
	State                   string // initial, healthy, unhealthy, unused, unavailable
	Reason                  string // Elb.InitialHealthChecking, Target.FailedHealthChecks, ...
	Description             string
}

// Target health states and reasons, spelled as DescribeTargetHealth spells
// them (core has the same constants; the data plane does not import core).
const (
	StateInitial     = "initial"
	StateHealthy     = "healthy"
	StateUnhealthy   = "unhealthy"
	StateUnused      = "unused"
	StateUnavailable = "unavailable"

	ReasonInitialHealthChecking = "Elb.InitialHealthChecking"
	ReasonFailedHealthChecks    = "Target.FailedHealthChecks"
	ReasonResponseCodeMismatch  = "Target.ResponseCodeMismatch"
	ReasonTimeout               = "Target.Timeout"
	ReasonNotRegistered         = "Target.NotRegistered"
	ReasonHealthCheckDisabled   = "Target.HealthCheckDisabled"
)

// validate checks what the plane needs from a listener.
func (l Listener) validate() error {
	switch {
	case l.Namespace == "":
		return errors.New("listener has no namespace")
	case !l.Addr.IsValid() || !l.Addr.Addr().Is4() || l.Addr.Port() == 0:
		return fmt.Errorf("listener address %s is not an IPv4 address and port", l.Addr)
	case l.Socket.IsValid() && (!l.Socket.Addr().Is4() || l.Socket.Port() == 0):
		return fmt.Errorf("listener socket %s is not an IPv4 address and port", l.Socket)
	case l.Backend.Namespace == "":
		return errors.New("backend has no namespace")
	case len(l.Backend.Nodes) == 0:
		return errors.New("backend has no load balancer nodes")
	}
	for _, n := range l.Backend.Nodes {
		if !n.Addr.Is4() {
			return fmt.Errorf("load balancer node address %s is not IPv4", n.Addr)
		}
	}
	if l.ProxyProtocol {
		if err := validEndpointID(l.EndpointID); err != nil {
			return err
		}
	}
	return nil
}

// validate checks a target group; errs describes targets it had to drop.
func (tg TargetGroup) validate() (valid []Target, errs []error, err error) {
	switch {
	case tg.ID == "":
		return nil, nil, errors.New("target group has no ID")
	case tg.Namespace == "":
		return nil, nil, fmt.Errorf("target group %s has no namespace", tg.ID)
	case tg.Source.IsValid() && !tg.Source.Is4():
		return nil, nil, fmt.Errorf("target group %s: health check source %s is not IPv4", tg.ID, tg.Source)
	}
	if err := tg.HealthCheck.Validate(); err != nil {
		return nil, nil, fmt.Errorf("target group %s: %w", tg.ID, err)
	}
	seen := map[string]bool{}
	for _, t := range tg.Targets {
		switch {
		case t.ID == "" || !t.Addr.Addr().Is4() || t.Addr.Port() == 0:
			errs = append(errs, fmt.Errorf("target group %s: target %q at %s is not an IPv4 address and port", tg.ID, t.ID, t.Addr))
		case seen[t.key()]:
			errs = append(errs, fmt.Errorf("target group %s: target %s registered twice", tg.ID, t.key()))
		default:
			seen[t.key()] = true
			valid = append(valid, t)
		}
	}
	return valid, errs, nil
}

// equalRoute reports whether two listener configs forward the same way.
func (l Listener) equalRoute(o Listener) bool {
	return l.Addr == o.Addr && l.Zone == o.Zone && l.EndpointID == o.EndpointID && l.ServiceID == o.ServiceID &&
		l.TargetGroupID == o.TargetGroupID && l.Backend.Namespace == o.Backend.Namespace &&
		slices.Equal(l.Backend.Nodes, o.Backend.Nodes) && l.ProxyProtocol == o.ProxyProtocol
}
