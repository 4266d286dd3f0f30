package core

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/privlink/privlink/store"
)

// Secondary indexes. A create must check its siblings: the addresses taken
// in a subnet, the endpoints of a VPC (quota, private DNS names), an
// earlier call with the same client token, the names of a VPC's security
// groups. A delete must check that nothing uses the security group, subnet
// or VPC. Finding them by scanning every interface or endpoint costs each
// call time in proportion to the whole store, so filling it costs the
// square of its size. Instead, put and del keep small index keys beside
// the objects of the indexed kinds, in the same transaction, and those
// checks list a few keys under one prefix. The lists of one account's
// endpoints and of one service's (a provider's connections) are read the
// same way, not picked out of every endpoint.
//
// An index key names its object by the fields looked up and ends with the
// object's ID (or, for addresses, the address; for group names, the name);
// its value is the object's ID (keys.go spells them). EnsureIndexes builds
// the keys for objects stored before an index existed.

// indexVersion names the set of indexes: change it when one is added or
// changes shape, and EnsureIndexes rebuilds them all.
const indexVersion = "4"

// indexEntry is one index key and its value.
type indexEntry struct{ key, value string }

// indexKind is a kind with index entries: where its objects are stored,
// and how to find an object's entries from its stored value (entries,
// which decodes through the memo, when one is given) or from the value put
// is about to write (of).
type indexKind struct {
	prefix  string
	entries func(m *memo, kv store.KV) ([]indexEntry, error)
	of      func(v any) ([]indexEntry, error)
}

// indexedKinds are the kinds with index entries.
var indexedKinds = []indexKind{
	indexed(prefixENIs, eniIndexEntries),
	indexed(prefixEndpoints, endpointIndexEntries),
	indexed(prefixSecurityGroups, securityGroupIndexEntries),
	indexed(prefixInstances, instanceIndexEntries),
	indexed(prefixSubnets, subnetIndexEntries),
	indexed(prefixLoadBalancers, loadBalancerIndexEntries),
}

// indexed makes the indexKind of objects of type T stored under prefix.
func indexed[T any](prefix string, entries func(*T) []indexEntry) indexKind {
	return indexKind{
		prefix: prefix,
		entries: func(m *memo, kv store.KV) ([]indexEntry, error) {
			v, err := decode[T](m, kv)
			if err != nil {
				return nil, err
			}
			return entries(v), nil
		},
		of: func(v any) ([]indexEntry, error) {
			switch v := v.(type) {
			case *T:
				return entries(v), nil
			case T:
				return entries(&v), nil
			}
			return nil, fmt.Errorf("core: a %T under %s, want a %T", v, prefix, *new(T))
		},
	}
}

// indexedKind returns the index kind of key's object, or nil when the kind
// has no index.
func indexedKind(key string) *indexKind {
	for i := range indexedKinds {
		if strings.HasPrefix(key, indexedKinds[i].prefix) {
			return &indexedKinds[i]
		}
	}
	return nil
}

// eniIndexEntries: as on AWS, an interface is what uses a security group
// or a subnet; an endpoint's and an instance's interfaces carry their groups
// and sit in their subnets. An interface keeps its subnet by its address,
// which every interface has once made, and its VPC by its subnet.
func eniIndexEntries(e *NetworkInterface) []indexEntry {
	out := groupUserEntries(nil, e.ID, e.SecurityGroupIDs)
	if e.PrivateIP.IsValid() {
		out = append(out, indexEntry{prefixIxSubnetAddrsOf(e.SubnetID) + e.PrivateIP.String(), e.ID})
	}
	return out
}

func endpointIndexEntries(e *VpcEndpoint) []indexEntry {
	out := []indexEntry{
		{prefixIxVPCEndpointsOf(e.VpcID) + e.ID, e.ID},
		{prefixIxOwnerVPCEsOf(e.OwnerID) + e.ID, e.ID},
	}
	if e.ServiceID != "" {
		out = append(out, indexEntry{prefixIxServiceVPCEsOf(e.ServiceID) + e.ID, e.ID})
	}
	if e.ClientToken != "" {
		out = append(out, indexEntry{keyIxVPCEToken(e.OwnerID, e.ClientToken), e.ID})
	}
	return out
}

func securityGroupIndexEntries(g *SecurityGroup) []indexEntry {
	out := []indexEntry{{keyIxVPCSGName(g.VpcID, g.Name), g.ID}}
	var named []string
	for _, r := range g.Rules {
		// A group's rules may name the group itself; that does not keep
		// it from being deleted.
		if r.GroupID != "" && r.GroupID != g.ID {
			named = append(named, r.GroupID)
		}
	}
	return groupUserEntries(out, g.ID, named)
}

// instanceIndexEntries: a terminated instance is only a record, and uses
// no group.
func instanceIndexEntries(in *Instance) []indexEntry {
	if in.State == InstanceTerminated {
		return nil
	}
	return groupUserEntries(memberEntries(nil, in.ID, in.VpcID, in.SubnetID), in.ID, in.SecurityGroupIDs)
}

func subnetIndexEntries(s *Subnet) []indexEntry {
	return memberEntries(nil, s.ID, s.VpcID)
}

func loadBalancerIndexEntries(lb *LoadBalancer) []indexEntry {
	subnets := make([]string, len(lb.Nodes))
	for i, n := range lb.Nodes {
		subnets[i] = n.SubnetID
	}
	return memberEntries(nil, lb.ID, lb.VpcID, subnets...)
}

// memberEntries appends the entries of an object that lives in a VPC and
// in subnets (each once); an empty ID is none.
func memberEntries(out []indexEntry, id, vpcID string, subnetIDs ...string) []indexEntry {
	if vpcID != "" {
		out = append(out, indexEntry{prefixIxVPCUsersOf(vpcID) + id, id})
	}
	for i, s := range subnetIDs {
		if s != "" && !slices.Contains(subnetIDs[:i], s) {
			out = append(out, indexEntry{prefixIxSubnetUsersOf(s) + id, id})
		}
	}
	return out
}

// groupUserEntries appends an entry for each of the groups that the object
// with the ID uses, once per group.
func groupUserEntries(out []indexEntry, userID string, groupIDs []string) []indexEntry {
	for i, g := range groupIDs {
		if !slices.Contains(groupIDs[:i], g) {
			out = append(out, indexEntry{prefixIxSGUsersOf(g) + userID, userID})
		}
	}
	return out
}

// reindex moves the index entries of the object at key from its stored
// value (if any) to those of v, the value put is about to write (nil when
// the object is being deleted).
func reindex(t *txn, key string, v any) error {
	k := indexedKind(key)
	if k == nil {
		return nil
	}
	var now []indexEntry
	if v != nil {
		var err error
		if now, err = k.of(v); err != nil {
			return err
		}
	}
	old, ok, err := t.tx.Get(key)
	if err != nil {
		return err
	}
	var was []indexEntry
	if ok {
		if was, err = k.entries(t.memo, old); err != nil {
			return err // names the key
		}
	}
	for _, e := range was {
		if !containsEntry(now, e.key, "") {
			if err := t.tx.Delete(e.key); err != nil {
				return err
			}
		}
	}
	for _, e := range now {
		if !containsEntry(was, e.key, e.value) {
			if err := t.tx.Put(e.key, []byte(e.value)); err != nil {
				return err
			}
		}
	}
	return nil
}

// containsEntry reports whether entries has key (with the value, unless
// value is empty).
func containsEntry(entries []indexEntry, key, value string) bool {
	for _, e := range entries {
		if e.key == key && (value == "" || e.value == value) {
			return true
		}
	}
	return false
}

// listIndex reads the index keys under prefix, in key order.
func listIndex(t *txn, prefix string) ([]store.KV, error) {
	if t.rx != nil {
		return t.rx.List(prefix)
	}
	return t.tx.List(prefix)
}

// anyIndexed reports whether there is an index key under any of the
// prefixes.
func anyIndexed(t *txn, prefixes ...string) (bool, error) {
	for _, prefix := range prefixes {
		kvs, err := listIndex(t, prefix)
		if err != nil || len(kvs) > 0 {
			return len(kvs) > 0, err
		}
	}
	return false, nil
}

// getIndex reads one index key's value.
func getIndex(t *txn, key string) (string, bool, error) {
	if t.rx != nil {
		kv, ok, err := t.rx.Get(key)
		return string(kv.Value), ok, err
	}
	kv, ok, err := t.tx.Get(key)
	return string(kv.Value), ok, err
}

// endpointsInVPC returns the VPC's endpoints, in ID order: copies of their
// own in an update, shared ones in a view.
func endpointsInVPC(t *txn, vpcID string) ([]*VpcEndpoint, error) {
	return indexedEndpoints(t, prefixIxVPCEndpointsOf(vpcID))
}

// endpointsOwnedBy returns the account's endpoints, in ID order: copies of
// their own in an update, shared ones in a view.
func endpointsOwnedBy(t *txn, ownerID string) ([]*VpcEndpoint, error) {
	return indexedEndpoints(t, prefixIxOwnerVPCEsOf(ownerID))
}

// endpointsOfService returns the endpoints of the service, in ID order:
// copies of their own in an update, shared ones in a view.
func endpointsOfService(t *txn, serviceID string) ([]*VpcEndpoint, error) {
	return indexedEndpoints(t, prefixIxServiceVPCEsOf(serviceID))
}

// indexedEndpoints returns the endpoints named by the index keys under
// prefix, in key order.
func indexedEndpoints(t *txn, prefix string) ([]*VpcEndpoint, error) {
	kvs, err := listIndex(t, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*VpcEndpoint, 0, len(kvs))
	for _, kv := range kvs {
		id := string(kv.Value)
		e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("core: index names endpoint %s, which is not stored", id)
		}
		out = append(out, e)
	}
	return out, nil
}

// indexTxnWrites is how many keys one transaction of EnsureIndexes writes
// at most: within an external etcd cluster's default limit on operations
// in one transaction (128), with room for the store's own.
const indexTxnWrites = 100

// EnsureIndexes builds the index keys of every stored object if the store
// has none of this version yet: a store written before an index existed
// gets it on the server's next start. It is quick on a store that has them.
func (c *Cloud) EnsureIndexes(ctx context.Context) error {
	var version string
	var keys []string
	err := c.view(ctx, func(t *txn) error {
		b, ok, err := t.rx.Get(keyIndexVersion)
		if err != nil || (ok && string(b.Value) == indexVersion) {
			version = string(b.Value)
			return err
		}
		keys = nil
		for _, k := range indexedKinds {
			kvs, err := t.rx.List(k.prefix)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				keys = append(keys, kv.Key)
			}
		}
		return nil
	})
	if err != nil || version == indexVersion {
		return err
	}
	c.log.Info("building the store's indexes", "objects", len(keys), "version", indexVersion)
	// Entries of an older version, if any, go first; every object's
	// entries are then written from the object itself, in the same
	// transaction that reads it, so a write meanwhile cannot be missed.
	if err := c.deleteIndexes(ctx); err != nil {
		return err
	}
	// Each transaction indexes objects until the next one's entries would
	// not fit; an object has far fewer than indexTxnWrites.
	for start := 0; start < len(keys); {
		var next int
		if err := c.update(ctx, func(t *txn) error {
			writes := 0
			for next = start; next < len(keys); next++ {
				k := keys[next]
				kv, ok, err := t.tx.Get(k)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				entries, err := indexedKind(k).entries(t.memo, kv)
				if err != nil {
					return err // names the key
				}
				if writes > 0 && writes+len(entries) > indexTxnWrites {
					break
				}
				for _, e := range entries {
					if err := t.tx.Put(e.key, []byte(e.value)); err != nil {
						return err
					}
				}
				writes += len(entries)
			}
			return nil
		}); err != nil {
			return err
		}
		start = next
	}
	return c.update(ctx, func(t *txn) error { return t.tx.Put(keyIndexVersion, []byte(indexVersion)) })
}

// deleteIndexes removes every index key, a batch at a time.
func (c *Cloud) deleteIndexes(ctx context.Context) error {
	for {
		more := false
		if err := c.update(ctx, func(t *txn) error {
			kvs, err := t.tx.List(prefixIndex)
			if err != nil {
				return err
			}
			more = len(kvs) > indexTxnWrites
			for _, kv := range kvs[:min(len(kvs), indexTxnWrites)] {
				if err := t.tx.Delete(kv.Key); err != nil {
					return err
				}
			}
			return nil
		}); err != nil || !more {
			return err
		}
	}
}

// endpointByToken returns the owner's endpoint created with the client
// token, or nil: none, or no token.
func endpointByToken(t *txn, ownerID, token string) (*VpcEndpoint, error) {
	if token == "" {
		return nil, nil
	}
	id, ok, err := getIndex(t, keyIxVPCEToken(ownerID, token))
	if err != nil || !ok {
		return nil, err
	}
	e, ok, err := get[VpcEndpoint](t, keyEndpoint(id))
	if err == nil && !ok {
		err = fmt.Errorf("core: index names endpoint %s, which is not stored", id)
	}
	return e, err
}
