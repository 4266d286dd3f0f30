// Package reconcile drives the lab fabric and the data plane from the store.
//
// It is level-triggered: each pass reads the whole state (core.LoadSnapshot),
// derives the desired lab spec and data-plane configuration from it, applies
// both (each is idempotent), and reports status back through core — an
// instance turns running when its namespace exists, an endpoint available
// when its listeners are open, a load balancer active when its VPC is built.
// A pass runs after every store change (debounced) and periodically, so a
// crash at any point is repaired by the next pass after restart. Without a
// lab (an API-only server), passes between resyncs leave out the kinds only
// the lab reads (core.LoadSnapshotWithoutLab).
//
// Health events from the data plane are written to the store by one writer
// goroutine, so forwarding never waits on the store. Each pass also
// publishes the DNS view (package resolver) and keeps a resolver listening
// in every VPC; a DropLogger explains in the log the flows the lab's
// firewalls drop.
package reconcile
