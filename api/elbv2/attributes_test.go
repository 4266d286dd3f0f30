package elbv2_test

import (
	"testing"

	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/api/query/querytest"
)

// TestHandWrittenShapes holds the hand-written listener attribute shapes to
// what the generated ones are held to: the SDK's requests with every field
// decode, its parser reads every field of our responses, and its own
// request snapshots decode.
func TestHandWrittenShapes(t *testing.T) {
	srv := querytest.NewServer(elbv2.LookupAnyOperation)
	defer srv.Close()
	client := newClient(srv)
	for _, name := range elbv2.HandWrittenOperations() {
		op, ok := elbv2.LookupAnyOperation(name)
		if !ok {
			t.Fatalf("no operation %s", name)
		}
		if _, generated := elbv2.LookupOperation(name); generated {
			t.Errorf("%s is generated now: drop its hand-written shapes", name)
		}
		t.Run(name+"/request", func(t *testing.T) {
			want := op.NewInput()
			querytest.Fill(want, 8)
			in := querytest.NewSDKInput(client, name)
			if err := querytest.ToSDK(want, in); err != nil {
				t.Fatal(err)
			}
			if _, err := querytest.Call(t.Context(), client, name, in); err != nil {
				t.Fatalf("SDK %s: %v", name, err)
			}
			got, err := op.DecodeInput(srv.LastForm())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			querytest.SameShape(t, got, want)
		})
		t.Run(name+"/response", func(t *testing.T) {
			in := op.NewInput()
			querytest.Fill(in, 8)
			sdkIn := querytest.NewSDKInput(client, name)
			if err := querytest.ToSDK(in, sdkIn); err != nil {
				t.Fatal(err)
			}
			want := op.NewOutput()
			querytest.Fill(want, 8)
			srv.SetReply(name, querytest.Reply{Output: want})
			out, err := querytest.Call(t.Context(), client, name, sdkIn)
			if err != nil {
				t.Fatalf("SDK %s: %v", name, err)
			}
			got := op.NewOutput()
			if err := querytest.FromSDK(out, got); err != nil {
				t.Fatal(err)
			}
			querytest.SameShape(t, got, want)
		})
		t.Run(name+"/snapshot", func(t *testing.T) {
			form := querytest.RequestSnapshot(t, "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2", name)
			querytest.CheckSnapshot(t, op, form, nil)
		})
	}
}
