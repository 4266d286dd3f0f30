package ec2_test

import (
	"bytes"
	"context"
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
// decoding, the core call on a memory store and encoding. The SDK's share
// and the network's are the control-plane benchmark's (go run ./bench).
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
	srv := api.NewServer(api.Config{}, cloud, map[string]api.Handler{"ec2": ec2.New(cloud, nil)}, nil)
	for _, tc := range []struct{ name, body string }{
		{"DescribeSecurityGroups", "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=" + g.ID},
		{"DescribeVpcs", "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=" + vpc.ID},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := []byte(tc.body)
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4580/", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
				if err := sigv4.Sign(r, body, sigv4.Credentials{AccessKey: "test", SecretKey: "test"}, "us-east-1", "ec2", time.Now()); err != nil {
					b.Fatal(err)
				}
				return r
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				r := req()
				w := httptest.NewRecorder()
				b.StartTimer()
				srv.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
