// Package dataplane is privlink's in-process data plane ("hyperplane"): it
// carries TCP from interface endpoint ENIs in consumer VPCs to targets
// behind network load balancers in provider VPCs, and health-checks those
// targets to decide which of them get traffic.
//
// The plane forwards on its own view of the configuration and of target
// health, so it keeps working on its last configuration whatever happens to
// the control plane (static stability). forward_linux.go holds the flow,
// health_linux.go the health checkers (TCP, HTTP, HTTPS), proxyproto.go the
// PROXY protocol v2 headers, plane_linux.go the configuration (Apply); the
// plane needs Linux network namespaces.
package dataplane
