// Package lab is the lab fabric: it turns a desired-state Spec into Linux
// networking on one host, so that VPCs, instances and security groups
// behave as on AWS.
//
// By default (FabricShared) every VPC's router lives in one namespace, the
// fabric, kept apart by a routing table, a packet mark and a conntrack
// zone per VPC, and endpoint flows are translated there once (fabric.go,
// docs/fabric.md). With Config.Fabric = FabricRouters, each VPC is a router
// network namespace of its own, drawn below; either way each instance is a
// namespace of its own with one veth to its router. Router and local addresses (subnet
// gateways, the resolver, endpoint and load balancer interfaces) are /32s
// on the router's lo, and the router has no default route: nothing leaves
// a VPC except through privlink's data plane, so VPCs may share a CIDR.
// Instance-side subnets are real (10.0.1.5/24), and the router answers ARP
// for every other address by proxy, so even traffic within a subnet crosses
// the router, where security groups are an nftables table that drops what
// they do not admit (see firewall.go for its layout).
//
//	instance ns              router ns (one per VPC)              instance ns
//	eth0 10.0.1.5/24 ── veth v<id> (proxy_arp, 10.0.1.5/32 route)
//	                         lo: 10.0.1.1/32 gateway, 10.0.0.2/32 resolver,
//	                             endpoint/load balancer /32s
//	                         nftables: table inet privlink
//	                       veth v<id> (10.0.1.6/32 route) ── eth0 10.0.1.6/24
//
// Apply is level-triggered and restart-safe: it adopts namespaces that
// already exist, repairs what differs from the spec and removes what the
// spec no longer names. Every object the lab makes carries its prefix, and
// it never touches the host's own interfaces, routes, resolver or
// firewall.
package lab
