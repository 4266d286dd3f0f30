package elbv2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/store/memstore"
)

// bootstrap is the caller of the tests: the account every privlink has.
var bootstrap = core.Caller{AccountID: core.BootstrapAccountID, Admin: true}

// world is a cloud with the EC2 resources the load balancing tests build
// on, made through core's own actions: a VPC with a subnet in each of two
// zones, and two running instances in the first subnet.
type world struct {
	cloud     *core.Cloud
	vpc       core.VPC
	subnets   []core.SubnetDescription
	instances []string
}

// newWorld builds a world. With deterministic, identifiers come from a
// seeded generator and the clock stands still, so that responses can be
// compared with golden files.
func newWorld(t testing.TB, deterministic bool) *world {
	t.Helper()
	ctx := context.Background()
	cfg := core.Config{Region: "us-east-1"}
	if deterministic {
		now := time.Date(2025, 6, 1, 9, 30, 0, 123_000_000, time.UTC)
		cfg.Now = func() time.Time { return now }
		cfg.Rand = rand.NewChaCha8([32]byte{'e', 'l', 'b', 'v', '2'})
	}
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	cloud, err := core.New(st, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.EnsureBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	w := &world{cloud: cloud}
	if w.vpc, err = cloud.CreateVpc(ctx, bootstrap, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ cidr, zone string }{{"10.0.1.0/24", "us-east-1a"}, {"10.0.2.0/24", "us-east-1b"}} {
		sn, err := cloud.CreateSubnet(ctx, bootstrap, core.CreateSubnetInput{VpcID: w.vpc.ID, CidrBlock: s.cidr, AvailabilityZone: s.zone})
		if err != nil {
			t.Fatal(err)
		}
		w.subnets = append(w.subnets, sn)
	}
	res, err := cloud.RunInstances(ctx, bootstrap, core.RunInstancesInput{
		ImageID: "ami-0123456789abcdef0", MinCount: new(int32(2)), MaxCount: new(int32(2)), SubnetID: w.subnets[0].ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range res.Instances {
		if err := cloud.SetInstanceRunning(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		w.instances = append(w.instances, in.ID)
	}
	return w
}

// targetGroupID is the ID core keys a target group's health by: the last
// part of its ARN.
func targetGroupID(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// setHealth records a target's health as the health checker would.
func (w *world) setHealth(t *testing.T, tgARN, target string, port int32, state, reason, desc string) {
	t.Helper()
	err := w.cloud.PutTargetHealth(context.Background(), core.TargetHealth{
		TargetGroupID: targetGroupID(tgARN), TargetID: target, Port: port, State: state, Reason: reason, Description: desc,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// serve calls the handler directly with a form POST, as the server would
// after authenticating the bootstrap account.
func serve(h *elbv2.Handler, requestID string, form url.Values) *httptest.ResponseRecorder {
	body := form.Encode()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	rec := httptest.NewRecorder()
	h.Handle(rec, &api.Request{
		ID: requestID, Caller: bootstrap, Service: "elasticloadbalancing", Region: "us-east-1",
		HTTP: req, Body: []byte(body),
	})
	return rec
}

// params builds a form from alternating names and values, with the
// Version every ELBv2 client sends.
func params(action string, kv ...string) url.Values {
	form := url.Values{"Action": {action}, "Version": {elbv2.APIVersion}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Add(kv[i], kv[i+1])
	}
	return form
}

// toJSON renders an SDK value for comparison and messages; nil and empty
// members stay apart, so a missing member shows.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func sameJSON(a, b any) bool { return toJSON(a) == toJSON(b) }
