package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/privlink/privlink/store"
	"github.com/privlink/privlink/store/etcdstore"
)

// checkMemo fails if an object views share was modified: each one must
// still encode to the stored value it was decoded from. Test clouds run it
// when their test ends, so every test checks that core and its callers
// leave shared objects alone.
func checkMemo(t *testing.T, c *Cloud) {
	t.Helper()
	bad, err := modifiedShared(c)
	if err != nil {
		t.Errorf("check shared objects: %v", err)
	}
	for _, b := range bad {
		t.Errorf("shared object %s", b)
	}
}

// modifiedShared describes every shared object that no longer encodes to
// the stored value it was decoded from.
func modifiedShared(c *Cloud) ([]string, error) {
	var bad []string
	_, err := c.st.View(context.Background(), func(rx store.ReadTx) error {
		for _, k := range c.memo.kinds {
			k.mu.RLock()
			defer k.mu.RUnlock()
			for key, o := range k.objs {
				kv, ok, err := rx.Get(key)
				if err != nil {
					return err
				}
				if !ok || kv.ModRevision != o.rev {
					continue // stale: a later view decodes the new value
				}
				b, err := json.Marshal(o.v)
				if err != nil {
					return err
				}
				if !bytes.Equal(b, kv.Value) {
					bad = append(bad, fmt.Sprintf("%s was modified:\n stored %s\n now    %s", key, kv.Value, b))
				}
			}
		}
		return nil
	})
	return bad, err
}

// TestUpdatesShareObjects checks that updates reuse what views decoded
// and change only copies of their own, and that the check on shared
// objects catches an update that changes a shared one.
func TestUpdatesShareObjects(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v1 := tc.vpc(t, acctA, "10.0.0.0/16")
	tc.vpc(t, acctA, "10.1.0.0/16")
	var viewed []*VPC
	if err := tc.view(ctx, func(t *txn) error {
		var err error
		viewed, err = list[VPC](t, prefixVPCs)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		read   func(t *txn) ([]*VPC, error)
		shared bool // whether read returns the view's objects
	}{
		{"list", func(t *txn) ([]*VPC, error) { return list[VPC](t, prefixVPCs) }, false},
		{"listWhere", func(t *txn) ([]*VPC, error) {
			return listWhere(t, prefixVPCs, func(*VPC) bool { return true })
		}, false},
		{"forEach", func(t *txn) ([]*VPC, error) {
			var out []*VPC
			err := forEach(t, prefixVPCs, func(v *VPC) { out = append(out, v) })
			return out, err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*VPC
			tc.plainUpdate(t, func(t *txn) error {
				var err error
				got, err = tt.read(t)
				for _, v := range got {
					v.Tags = append(v.Tags, Tag{Key: "changed", Value: "in an update"})
				}
				return err
			})
			if len(got) != len(viewed) {
				t.Fatalf("update read %d VPCs, want %d", len(got), len(viewed))
			}
			for i, v := range got {
				if same := v == viewed[i]; same != tt.shared {
					t.Errorf("update's %s is the view's object: %v, want %v", v.ID, same, tt.shared)
				}
			}
			bad, err := modifiedShared(tc.Cloud)
			if err != nil {
				t.Fatal(err)
			}
			if tt.shared != (len(bad) == len(viewed)) || !tt.shared && len(bad) != 0 {
				t.Errorf("after changing what %s read, the check found %d modified shared objects of %d: %q",
					tt.name, len(bad), len(viewed), bad)
			}
			for _, v := range got {
				v.Tags = v.Tags[:len(v.Tags)-1] // undo, for the next case and the cleanup check
			}
		})
	}

	// An update's own writes are read anew, and not remembered.
	tc.plainUpdate(t, func(t *txn) error {
		if err := put(t, keyVPC(v1.ID), &VPC{ID: v1.ID, OwnerID: v1.OwnerID, CIDR: v1.CIDR}); err != nil {
			return err
		}
		found, err := exists(t, prefixVPCs, func(v *VPC) bool { return v.ID == v1.ID && v.CIDR == v1.CIDR && len(v.Tags) == 0 })
		if err == nil && !found {
			err = fmt.Errorf("the update's own write of %s was not read", v1.ID)
		}
		return err
	})
}

// TestViewsShareObjects checks the memo's behaviour: views decode an object
// once per revision, see changes, and forget deleted objects when their
// kind is listed.
func TestViewsShareObjects(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v1 := tc.vpc(t, acctA, "10.0.0.0/16")
	v2 := tc.vpc(t, acctA, "10.1.0.0/16")

	read := func() map[string]*VPC {
		t.Helper()
		out := map[string]*VPC{}
		if err := tc.view(ctx, func(t *txn) error {
			vpcs, err := list[VPC](t, prefixVPCs)
			for _, v := range vpcs {
				out[v.ID] = v
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first, second := read(), read()
	if first[v1.ID] == nil || first[v1.ID] != second[v1.ID] || first[v2.ID] != second[v2.ID] {
		t.Fatalf("two views of unchanged VPCs decoded them twice: %p %p", first[v1.ID], second[v1.ID])
	}
	var got *VPC
	if err := tc.view(ctx, func(t *txn) error {
		var err error
		got, _, err = get[VPC](t, keyVPC(v1.ID))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got != first[v1.ID] {
		t.Errorf("get and list of one unchanged VPC decoded it twice")
	}

	tc.plainUpdate(t, func(t *txn) error {
		v, _, err := get[VPC](t, keyVPC(v1.ID))
		if err != nil {
			return err
		}
		v.Tags = []Tag{{Key: "Name", Value: "changed"}}
		return put(t, keyVPC(v1.ID), v)
	})
	third := read()
	if third[v1.ID] == first[v1.ID] || len(third[v1.ID].Tags) != 1 || third[v2.ID] != first[v2.ID] {
		t.Fatalf("after a change: %+v, want the new VPC and the old other one", third[v1.ID])
	}

	// Deleting most VPCs, then listing them, forgets the deleted ones.
	var ids []string
	for i := range 40 {
		owner := Caller{AccountID: fmt.Sprintf("%012d", 100+i/maxVPCsPerAccount)}
		ids = append(ids, tc.vpc(t, owner, fmt.Sprintf("10.%d.0.0/16", i)).ID)
	}
	read()
	tc.plainUpdate(t, func(t *txn) error {
		for _, id := range ids {
			if err := del(t, keyVPC(id)); err != nil {
				return err
			}
		}
		return nil
	})
	read()
	k := tc.memo.kinds[prefixVPCs]
	if n := len(k.objs); n != 2 {
		t.Fatalf("after deleting 40 of 42 VPCs and listing them, %d are remembered, want 2", n)
	}
}

// countingReads counts a view's reads of each key.
type countingReads struct {
	store.ReadTx
	gets map[string]int
}

func (c *countingReads) Get(key string) (store.KV, bool, error) {
	c.gets[key]++
	return c.ReadTx.Get(key)
}

// TestGetRefReadsOnce checks that a view reads an object that many others
// refer to once, found or not, and that an update's getRef gives it a copy
// of its own.
func TestGetRefReadsOnce(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, acctA, "10.0.0.0/16")
	sn := tc.subnet(t, acctA, v.ID, "10.0.1.0/24")
	reads := &countingReads{gets: map[string]int{}}
	if _, err := tc.st.View(ctx, func(rx store.ReadTx) error {
		reads.ReadTx = rx
		tx := &txn{rx: reads, memo: tc.memo}
		for range 3 {
			s, ok, err := getRef[Subnet](tx, prefixSubnets, sn.ID)
			if err != nil || !ok || s.ID != sn.ID {
				return fmt.Errorf("getRef of the subnet: %v, %v, %v", s, ok, err)
			}
			if s2, ok, err := getRef[Subnet](tx, prefixSubnets, "subnet-0000000000000000f"); err != nil || ok || s2 != nil {
				return fmt.Errorf("getRef of a missing subnet: %v, %v, %v", s2, ok, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for key, n := range reads.gets {
		if n != 1 {
			t.Errorf("%s read %d times in one view, want once", key, n)
		}
	}
	if len(reads.gets) != 2 {
		t.Errorf("reads %v, want the subnet's and the missing one's", reads.gets)
	}

	// An update's copy is its own: changing it leaves the shared one.
	tc.plainUpdate(t, func(tx *txn) error {
		s, ok, err := getRef[Subnet](tx, prefixSubnets, sn.ID)
		if err != nil || !ok {
			return fmt.Errorf("getRef in an update: %v, %v", ok, err)
		}
		s.AvailabilityZone = "changed"
		return nil
	})
	if err := tc.view(ctx, func(tx *txn) error {
		s, _, err := getRef[Subnet](tx, prefixSubnets, sn.ID)
		if err == nil && s.AvailabilityZone == "changed" {
			err = errors.New("an update's change to its copy reached the shared subnet")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// plainUpdate runs fn in an update and fails the test on an error.
func (tc *testCloud) plainUpdate(t *testing.T, fn func(t *txn) error) {
	t.Helper()
	if err := tc.update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestViewsCannotWrite checks that a write in a view fails rather than
// being lost.
func TestViewsCannotWrite(t *testing.T) {
	tc := newTestCloud(t)
	err := tc.view(context.Background(), func(t *txn) error { return put(t, keyVPC("vpc-1"), VPC{ID: "vpc-1"}) })
	if err == nil {
		t.Fatal("put in a view succeeded")
	}
	err = tc.view(context.Background(), func(t *txn) error { return del(t, keyVPC("vpc-1")) })
	if err == nil {
		t.Fatal("delete in a view succeeded")
	}
}

// TestClonesShareNothing fills every field of every stored type that has
// clone, and checks that the clone shares no slice, map or pointer with
// it, at any depth: an update changes the clone get returns of the object
// views share.
func TestClonesShareNothing(t *testing.T) {
	tests := []struct {
		name  string
		obj   any
		clone func(any) any
	}{
		{"VPC", &VPC{}, func(v any) any { c := v.(*VPC).clone(); return &c }},
		{"Subnet", &Subnet{}, func(v any) any { c := v.(*Subnet).clone(); return &c }},
		{"SecurityGroup", &SecurityGroup{}, func(v any) any { c := v.(*SecurityGroup).clone(); return &c }},
		{"Instance", &Instance{}, func(v any) any { c := v.(*Instance).clone(); return &c }},
		{"NetworkInterface", &NetworkInterface{}, func(v any) any { c := v.(*NetworkInterface).clone(); return &c }},
		{"LoadBalancer", &LoadBalancer{}, func(v any) any { c := v.(*LoadBalancer).clone(); return &c }},
		{"TargetGroup", &TargetGroup{}, func(v any) any { c := v.(*TargetGroup).clone(); return &c }},
		{"Listener", &Listener{}, func(v any) any { c := v.(*Listener).clone(); return &c }},
		{"EndpointService", &EndpointService{}, func(v any) any { c := v.(*EndpointService).clone(); return &c }},
		{"VpcEndpoint", &VpcEndpoint{}, func(v any) any { c := v.(*VpcEndpoint).clone(); return &c }},
		{"HostedZone", &HostedZone{}, func(v any) any { c := v.(*HostedZone).clone(); return &c }},
		{"ResourceRecordSet", &ResourceRecordSet{}, func(v any) any { c := v.(*ResourceRecordSet).clone(); return &c }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fill(reflect.ValueOf(tc.obj).Elem())
			c := tc.clone(tc.obj)
			if !reflect.DeepEqual(c, tc.obj) {
				t.Fatalf("clone differs:\n %+v\n %+v", c, tc.obj)
			}
			if path := sharedPart(reflect.ValueOf(tc.obj).Elem(), reflect.ValueOf(c).Elem(), tc.name); path != "" {
				t.Errorf("clone shares %s", path)
			}
		})
	}
}

// sharedPart returns the path of the first slice, map or pointer that a
// and b share, at any depth, or "". Interfaces, channels and functions
// cannot be copied by a clone and count as shared.
func sharedPart(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				if p := sharedPart(a.Field(i), b.Field(i), path+"."+f.Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice, reflect.Map, reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
		switch a.Kind() {
		case reflect.Slice:
			for i := range a.Len() {
				if p := sharedPart(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		case reflect.Map:
			for _, k := range a.MapKeys() {
				if p := sharedPart(a.MapIndex(k), b.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); p != "" {
					return p
				}
			}
		default:
			return sharedPart(a.Elem(), b.Elem(), path)
		}
	case reflect.Interface, reflect.Chan, reflect.Func:
		return path + " (a " + a.Kind().String() + ")"
	}
	return ""
}

// fill sets every field of v to a non-zero value, with one element in
// each slice and map.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// TestConcurrentViews runs views on the production store, where they run
// in parallel and share decoded objects, while a writer changes the state
// under them: every view sees a consistent state, and no shared object is
// modified. Run it with -race.
func TestConcurrentViews(t *testing.T) {
	ctx := context.Background()
	st, err := etcdstore.Open(ctx, etcdstore.Config{DataDir: filepath.Join(t.TempDir(), "etcd")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := New(st, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkMemo(t, c)
		checkIndexes(t, c)
	})
	owners := []Caller{{AccountID: "100000000001"}, {AccountID: "100000000002"}}

	// The writer keeps each owner at two or three VPCs: it creates a third
	// and deletes it again.
	for _, o := range owners {
		for i := range 2 {
			if _, err := c.CreateVpc(ctx, o, CreateVpcInput{CidrBlock: fmt.Sprintf("10.%d.0.0/16", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range 20 {
			o := owners[i%len(owners)]
			v, err := c.CreateVpc(ctx, o, CreateVpcInput{CidrBlock: "10.9.0.0/16"})
			if err != nil {
				t.Error(err)
				return
			}
			if err := c.DeleteVpc(ctx, o, DeleteVpcInput{VpcID: v.ID}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for r := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				o := owners[r%len(owners)]
				vpcs, err := c.DescribeVpcs(ctx, o, DescribeVpcsInput{})
				if err != nil {
					t.Error(err)
					return
				}
				if n := len(vpcs); n < 2 || n > 3 {
					t.Errorf("reader %d: %d VPCs, want 2 or 3", r, n)
					return
				}
				for _, v := range vpcs {
					if v.OwnerID != o.AccountID || v.DefaultSecurityGroupID == "" {
						t.Errorf("reader %d: VPC %+v", r, v)
						return
					}
					v.Tags = append(v.Tags, Tag{Key: "mine", Value: "to change"}) // results are the caller's
				}
				snap, err := c.LoadSnapshot(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				for id, v := range snap.VPCs {
					if _, ok := snap.SecurityGroups[v.DefaultSecurityGroupID]; !ok {
						t.Errorf("reader %d: snapshot at %d has VPC %s without its default group", r, snap.Revision, id)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
