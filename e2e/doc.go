// Package e2e holds end-to-end tests that run the real privlink binary as a
// user does — `privlink server` with a data dir and a listen address, the
// AWS SDK for Go v2 as the client, `privlink exec` to run commands inside
// instances — and check what crosses the lab's network. They need root.
package e2e
