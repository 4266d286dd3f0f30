// Package conformance tests privlink's front door against the clients
// people point at it: the AWS SDK for Go v2 and the AWS CLI, versions 1
// and 2. The tests run the real api.Server over a real core.Cloud, with
// stand-in protocol handlers that record what reaches them, and check that
// every client's signature authenticates and routes, and that every
// client reads privlink's authentication errors as AWS's.
//
// The package holds only tests; it is apart from package api so that api's
// unit tests do not build the SDK's service clients.
package conformance
