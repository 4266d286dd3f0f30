// Package core is privlink's domain: accounts, VPCs, subnets, security groups,
// instances, network interfaces, load balancers, endpoint services and
// endpoints, with their validation, state machines and authorization.
//
// core knows rules, not protocols: it imports no HTTP and no etcd. Every
// action is one store transaction, so a rejected request leaves nothing
// half-written. Errors are *Error values with a Kind and an AWS error code;
// the api package turns them into wire errors in one table.
//
// Objects are stored as JSON under the keys in keys.go. Reconcilers read the
// whole state with LoadSnapshot and report status back through the Set*
// methods in status.go.
package core
