// Package api is privlink's HTTP front door: one listener for every AWS API.
// It authenticates each request with SigV4, routes it by the credential
// scope's service name to the Handler for that protocol, and gives every
// request an ID. It knows protocols, not rules: handlers translate wire
// shapes to core calls and back.
//
// Handlers live in their own packages (ec2, elbv2, admin) and are wired
// together under cmd/privlink; this package imports none of them.
package api
