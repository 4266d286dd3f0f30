package core

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchGroups is how many extra security groups BenchmarkWritePath adds to
// its VPC, beside the default group of each of the world's VPCs.
const benchGroups = 300

// BenchmarkWritePath measures update transactions on the store of
// BenchmarkReadPath (10,000 endpoints on an embedded etcd member), in a
// fresh account so the quotas leave room: CreateSecurityGroup among a few
// hundred groups, DeleteSecurityGroup, and CreateVpcEndpoint among 10,000
// endpoints, in an empty VPC and beside 45 endpoints of its own. Each iteration also removes what it created, so the state
// stays the same size; p50-ms and p99-ms are those of the create (or the
// delete) alone.
//
// Run: go test ./core -run '^$' -bench WritePath -benchtime 200x
func BenchmarkWritePath(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	admin := Caller{AccountID: BootstrapAccountID, Admin: true}
	acct, err := w.cloud.CreateAccount(ctx, admin)
	must(err)
	caller := Caller{AccountID: acct.Account.ID}
	vpc, err := w.cloud.CreateVpc(ctx, caller, CreateVpcInput{CidrBlock: "10.0.0.0/16"})
	must(err)
	subnet, err := w.cloud.CreateSubnet(ctx, caller, CreateSubnetInput{VpcID: vpc.ID, CidrBlock: "10.0.0.0/24", AvailabilityZone: "us-east-1a"})
	must(err)
	for i := range benchGroups {
		_, err := w.cloud.CreateSecurityGroup(ctx, caller, CreateSecurityGroupInput{
			GroupName: fmt.Sprintf("fill-%d", i), Description: "fill", VpcID: vpc.ID,
		})
		must(err)
	}
	svcs, err := w.cloud.DescribeVpcEndpointServices(ctx, caller, nil)
	must(err)
	if len(svcs) == 0 {
		b.Fatal("no endpoint services")
	}

	// run measures create then undo, b's loop times.
	run := func(b *testing.B, create func(i int) (string, error), undo func(id string) error) {
		var l latencies
		var d []time.Duration
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			start := time.Now()
			id, err := create(i)
			d = append(d, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			if err := undo(id); err != nil {
				b.Fatal(err)
			}
			i++
		}
		l.add(d)
		l.report(b)
	}
	b.Run("CreateSecurityGroup", func(b *testing.B) {
		run(b, func(i int) (string, error) {
			g, err := w.cloud.CreateSecurityGroup(ctx, caller, CreateSecurityGroupInput{
				GroupName: fmt.Sprintf("bench-%d", i), Description: "bench", VpcID: vpc.ID,
			})
			return g.ID, err
		}, func(id string) error {
			return w.cloud.DeleteSecurityGroup(ctx, caller, DeleteSecurityGroupInput{GroupID: id})
		})
	})
	// The delete is timed here, the create is the undo: a group may be
	// deleted only when nothing uses it, which used to mean reading every
	// interface, instance, endpoint and group stored.
	b.Run("DeleteSecurityGroup", func(b *testing.B) {
		var l latencies
		var d []time.Duration
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g, err := w.cloud.CreateSecurityGroup(ctx, caller, CreateSecurityGroupInput{
				GroupName: fmt.Sprintf("doomed-%d", i), Description: "bench", VpcID: vpc.ID,
			})
			must(err)
			start := time.Now()
			must(w.cloud.DeleteSecurityGroup(ctx, caller, DeleteSecurityGroupInput{GroupID: g.ID}))
			d = append(d, time.Since(start))
			i++
		}
		l.add(d)
		l.report(b)
	})
	createEndpoint := func(int) (string, error) {
		e, err := w.cloud.CreateVpcEndpoint(ctx, caller, CreateVpcEndpointInput{
			VpcEndpointType: EndpointTypeInterface, VpcID: vpc.ID, ServiceName: svcs[0].ServiceName,
			SubnetIDs: []string{subnet.ID},
		})
		return e.ID, err
	}
	deleteEndpoint := func(id string) error {
		if _, err := w.cloud.DeleteVpcEndpoints(ctx, caller, []string{id}); err != nil {
			return err
		}
		return w.cloud.FinishEndpointDeletion(ctx, id)
	}
	b.Run("CreateVpcEndpoint", func(b *testing.B) {
		run(b, createEndpoint, deleteEndpoint)
	})
	// A create reads every endpoint of its VPC (the quota, private DNS
	// names): here beside 45 others, near the quota of 50.
	b.Run("CreateVpcEndpoint/beside45", func(b *testing.B) {
		for i := range 45 {
			_, err := createEndpoint(i)
			must(err)
		}
		run(b, createEndpoint, deleteEndpoint)
	})
}
