package lab

// EndpointCounters are an endpoint interface's counters since its address
// was first seen in the router.
type EndpointCounters struct {
	// Attempts counts packets that tried to open a flow to the address;
	// NewConnections those the service accepted (it answered the SYN).
	// The rest were dropped: by a security group, an endpoint that takes
	// no traffic, a port with no listener, or a target that did not
	// answer.
	Attempts       uint64
	NewConnections uint64
	// BytesIn arrived from clients, BytesOut went back to them.
	BytesIn, BytesOut uint64
	// ResetsReceived counts TCP resets clients sent, ResetsSent those the
	// service sent back.
	ResetsReceived, ResetsSent uint64
	// ActiveConnections are established flows now.
	ActiveConnections uint64
}

// PacketsDropped is how many packets to the endpoint opened no flow.
func (c EndpointCounters) PacketsDropped() uint64 {
	if c.Attempts < c.NewConnections {
		return 0
	}
	return c.Attempts - c.NewConnections
}

// NodeCounters are a load balancer node's counters.
type NodeCounters struct {
	NewFlows     uint64
	Bytes        uint64
	ClientResets uint64 // resets from clients, through endpoints
	TargetResets uint64 // resets from targets
	ActiveFlows  uint64
}
