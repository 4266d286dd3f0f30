package ec2_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/sigv4"
	"github.com/privlink/privlink/core"
)

// BenchmarkServe measures one whole request inside the server, from the
// signed HTTP request to the written answer (no network): authentication,
// decoding, the core call on a memory store and encoding: one resource by
// ID, and one account's whole list of endpoints (250, AWS's default quotas
// full). The SDK's share and the network's are the control-plane
// benchmark's (go run ./bench).
func BenchmarkServe(b *testing.B) {
	cloud := newCloud(b)
	ctx := context.Background()
	vpc, err := cloud.CreateVpc(ctx, bootstrap, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
	if err != nil {
		b.Fatal(err)
	}
	g, err := cloud.CreateSecurityGroup(ctx, bootstrap, core.CreateSecurityGroupInput{GroupName: "web", Description: "web", VpcID: vpc.ID})
	if err != nil {
		b.Fatal(err)
	}
	// One consumer account with AWS's default quotas full: 5 VPCs of 50
	// endpoints, each with an interface in two zones, as the control-plane
	// benchmark's accounts have.
	acct := newAccount(b, cloud)
	consumer := core.Caller{AccountID: acct.Account.ID}
	w := newModifyWorld(b, cloud, consumer)
	vpcs := []core.VPC{w.vpc} // with one endpoint already
	for i := range 4 {
		v, err := cloud.CreateVpc(ctx, consumer, core.CreateVpcInput{CidrBlock: fmt.Sprintf("10.%d.0.0/16", 100+i)})
		if err != nil {
			b.Fatal(err)
		}
		vpcs = append(vpcs, v)
	}
	for i, v := range vpcs {
		var subnets []string
		for j, zone := range []string{"us-east-1a", "us-east-1b"} {
			a := v.CIDR.Addr().As4()
			s, err := cloud.CreateSubnet(ctx, consumer, core.CreateSubnetInput{
				VpcID: v.ID, CidrBlock: fmt.Sprintf("%d.%d.%d.0/24", a[0], a[1], 10+j), AvailabilityZone: zone,
			})
			if err != nil {
				b.Fatal(err)
			}
			subnets = append(subnets, s.ID)
		}
		n := 50
		if i == 0 {
			n--
		}
		for range n {
			if _, err := cloud.CreateVpcEndpoint(ctx, consumer, core.CreateVpcEndpointInput{
				VpcEndpointType: core.EndpointTypeInterface, VpcID: v.ID, ServiceName: w.serviceName, SubnetIDs: subnets,
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	srv := api.NewServer(api.Config{}, cloud, map[string]api.Handler{"ec2": ec2.New(cloud, nil)}, nil)
	for _, tc := range []struct {
		name, body string
		creds      sigv4.Credentials
		// item is an element the answer has once per item, n times.
		item string
		n    int
	}{
		{"DescribeSecurityGroups", "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=" + g.ID,
			sigv4.Credentials{AccessKey: "test", SecretKey: "test"}, "<groupId>", 1},
		{"DescribeVpcs", "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=" + vpc.ID,
			sigv4.Credentials{AccessKey: "test", SecretKey: "test"}, "<vpcId>", 1},
		{"DescribeVpcEndpoints/n=250", "Action=DescribeVpcEndpoints&Version=2016-11-15",
			sigv4.Credentials{AccessKey: acct.AccessKey.ID, SecretKey: acct.AccessKey.Secret}, "<vpcEndpointId>", 250},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := []byte(tc.body)
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4580/", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
				if err := sigv4.Sign(r, body, tc.creds, "us-east-1", "ec2", time.Now()); err != nil {
					b.Fatal(err)
				}
				return r
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req())
			if got := bytes.Count(w.Body.Bytes(), []byte(tc.item)); w.Code != http.StatusOK || got != tc.n {
				b.Fatalf("%d, %d items, want %d: %.300s", w.Code, got, tc.n, w.Body)
			}
			// The loop's answers go to a writer that keeps only their
			// status and size, so the allocations counted are the
			// server's (a recorder grows a buffer for every answer).
			d := &discardWriter{}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				r := req()
				d.reset()
				b.StartTimer()
				srv.ServeHTTP(d, r)
				if d.code != http.StatusOK || d.n != w.Body.Len() {
					b.Fatalf("%d, %d bytes, want 200 and %d", d.code, d.n, w.Body.Len())
				}
			}
		})
	}
}

// discardWriter is an http.ResponseWriter that keeps an answer's status and
// size, not its body.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (d *discardWriter) reset() {
	d.header, d.code, d.n = http.Header{}, 0, 0
}

func (d *discardWriter) Header() http.Header { return d.header }

func (d *discardWriter) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}

func (d *discardWriter) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.n += len(p)
	return len(p), nil
}
