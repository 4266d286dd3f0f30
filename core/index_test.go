package core

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/privlink/privlink/store"
)

// checkIndexes fails unless the store's index keys are exactly those its
// indexed objects call for. Test clouds run it when their test
// ends, so every test that writes through core checks that put and del
// kept the indexes.
func checkIndexes(t *testing.T, c *Cloud) {
	t.Helper()
	got, want, err := storedAndDerivedIndexes(c)
	if err != nil {
		t.Errorf("check indexes: %v", err)
		return
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("index key %s = %q (stored: %t), want %q", k, g, ok, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("index key %s = %q names nothing stored", k, v)
		}
	}
}

// storedAndDerivedIndexes returns the index keys in the store and those its
// objects call for, with their values.
func storedAndDerivedIndexes(c *Cloud) (got, want map[string]string, err error) {
	got, want = map[string]string{}, map[string]string{}
	_, err = c.st.View(context.Background(), func(rx store.ReadTx) error {
		clear(got)
		clear(want)
		kvs, err := rx.List(prefixIndex)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if kv.Key != keyIndexVersion {
				got[kv.Key] = string(kv.Value)
			}
		}
		for _, k := range indexedKinds {
			kvs, err := rx.List(k.prefix)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				entries, err := k.entries(nil, kv)
				if err != nil {
					return err
				}
				for _, e := range entries {
					want[e.key] = e.value
				}
			}
		}
		return nil
	})
	return got, want, err
}

// TestIndexesFollowWrites creates, changes and deletes interfaces and
// endpoints and checks after each step that the index keys match them;
// then it drops every index key, as a store written before the indexes
// would be, and checks that EnsureIndexes builds the same ones again.
func TestIndexesFollowWrites(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, false)
	e.plAllow(t, w.svc.ID, "arn:aws:iam::"+plConsumer.AccountID+":root")

	tokened, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: []string{w.cons.subA.ID}, ClientToken: "token-1",
	})
	plOK(t, err)
	plain := e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)
	checkIndexes(t, e.Cloud)

	// The same token answers with the same endpoint, found by its index.
	again, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: []string{w.cons.subA.ID}, ClientToken: "token-1",
	})
	plOK(t, err)
	if again.ID != tokened.ID {
		t.Errorf("a repeated client token made %s, want %s", again.ID, tokened.ID)
	}

	// Addresses in use are not given again, and a subnet with an
	// interface in it cannot be deleted.
	eniA := func(d VpcEndpointDescription) string {
		var ip string
		e.plPut(t, func(tx *txn) error {
			for _, id := range d.NetworkInterfaceIDs {
				eni, _, err := get[NetworkInterface](tx, keyENI(id))
				if err != nil {
					return err
				}
				if eni.SubnetID == w.cons.subA.ID {
					ip = eni.PrivateIP.String()
				}
			}
			return nil
		})
		return ip
	}
	if a, b := eniA(tokened), eniA(plain); a == b || a == "" {
		t.Errorf("two endpoints' interfaces in one subnet have addresses %q and %q", a, b)
	}
	plCode(t, e.DeleteSubnet(ctx, plConsumer, DeleteSubnetInput{SubnetID: w.cons.subA.ID}), "DependencyViolation")

	// Deleting endpoints drops their entries once they are gone.
	_, err = e.DeleteVpcEndpoints(ctx, plConsumer, []string{tokened.ID, plain.ID})
	plOK(t, err)
	for _, id := range []string{tokened.ID, plain.ID} {
		plOK(t, e.FinishEndpointDeletion(ctx, id))
	}
	checkIndexes(t, e.Cloud)
	got, _, err := storedAndDerivedIndexes(e.Cloud)
	plOK(t, err)
	for k, v := range got {
		if v == tokened.ID || v == plain.ID {
			t.Errorf("deleted endpoints left index key %s", k)
		}
	}

	// A token can be used again once its endpoint is gone.
	fresh, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
		VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
		SubnetIDs: []string{w.cons.subA.ID}, ClientToken: "token-1",
	})
	plOK(t, err)
	if fresh.ID == tokened.ID {
		t.Errorf("the token of a deleted endpoint answered with it")
	}

	// Without its index keys, the store gets them back from EnsureIndexes.
	_, want, err := storedAndDerivedIndexes(e.Cloud)
	plOK(t, err)
	if len(want) == 0 {
		t.Fatal("no index keys to rebuild")
	}
	plOK(t, e.EnsureIndexes(ctx)) // writes the version: nothing to build
	rev := e.plRevision(t)
	plOK(t, e.EnsureIndexes(ctx))
	if e.plRevision(t) != rev {
		t.Errorf("EnsureIndexes wrote to a store whose indexes are built")
	}
	e.plPut(t, func(tx *txn) error {
		if err := dropIndexes(tx); err != nil {
			return err
		}
		// An entry of an older index is removed.
		return tx.tx.Put(prefixIndex+"gone/x", []byte("x"))
	})
	plOK(t, e.EnsureIndexes(ctx))
	got, _, err = storedAndDerivedIndexes(e.Cloud)
	plOK(t, err)
	if !maps.Equal(got, want) {
		t.Errorf("rebuilt index keys %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// TestEnsureIndexesFitsEtcdTransactions rebuilds the indexes of more
// endpoints than one etcd transaction can index, on a store that refuses a
// transaction writing more keys than an external etcd cluster takes by
// default (128 operations, one of them the store's own).
func TestEnsureIndexesFitsEtcdTransactions(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, false)
	e.plAllow(t, w.svc.ID, "arn:aws:iam::"+plConsumer.AccountID+":root")
	for i := range 30 {
		_, err := e.CreateVpcEndpoint(ctx, plConsumer, CreateVpcEndpointInput{
			VpcEndpointType: "Interface", VpcID: w.cons.vpc.ID, ServiceName: w.svc.ServiceName,
			SubnetIDs: []string{w.cons.subA.ID}, ClientToken: "token-" + strconv.Itoa(i),
		})
		plOK(t, err)
	}
	_, want, err := storedAndDerivedIndexes(e.Cloud)
	plOK(t, err)
	e.plPut(t, dropIndexes)

	limited := &writeLimitStore{Store: e.st, limit: 127}
	c, err := New(limited, Config{Region: "us-east-1"}, nil)
	plOK(t, err)
	plOK(t, c.EnsureIndexes(ctx))
	got, _, err := storedAndDerivedIndexes(e.Cloud)
	plOK(t, err)
	if !maps.Equal(got, want) {
		t.Errorf("rebuilt index keys %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if limited.most < indexTxnWrites/2 {
		t.Errorf("the largest transaction wrote %d keys: the rebuild took more transactions than it needs", limited.most)
	}
}

// dropIndexes deletes every index key, as in a store written before the
// indexes existed.
func dropIndexes(tx *txn) error {
	kvs, err := tx.tx.List(prefixIndex)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if err := tx.tx.Delete(kv.Key); err != nil {
			return err
		}
	}
	return nil
}

// writeLimitStore fails every transaction that writes more than limit keys,
// as an etcd cluster does past its --max-txn-ops.
type writeLimitStore struct {
	store.Store
	limit int
	most  int // the most keys one committed transaction wrote
}

func (s *writeLimitStore) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		lt := &countingTx{Tx: tx}
		if err := fn(lt); err != nil {
			return err
		}
		if lt.writes > s.limit {
			return fmt.Errorf("a transaction wrote %d keys, more than %d", lt.writes, s.limit)
		}
		s.most = max(s.most, lt.writes)
		return nil
	})
}

// countingTx counts the keys a transaction writes.
type countingTx struct {
	store.Tx
	writes int
}

func (t *countingTx) Put(key string, value []byte) error { t.writes++; return t.Tx.Put(key, value) }
func (t *countingTx) Delete(key string) error            { t.writes++; return t.Tx.Delete(key) }
