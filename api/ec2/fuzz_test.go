package ec2_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/ec2"
)

// FuzzHandle sends arbitrary bodies to the handler: whatever a client
// sends, it answers with a status and an XML document, and never panics.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{
		"Action=CreateVpc&CidrBlock=10.0.0.0/16",
		"Action=DescribeVpcs&MaxResults=5&NextToken=eyJvcCI6IkRlc2NyaWJlVnBjcyIsIm9mZiI6MSwibGFzdCI6IngifQ",
		"Action=RunInstances&ImageId=ami-12345678&MinCount=1&MaxCount=1&SubnetId=subnet-0123456789abcdef0",
		"Action=DescribeInstances&Filter.1.Name=x&InstanceId.1000=i-1",
		"Action=CreateVpcEndpoint&VpcId=vpc-1&ServiceName=x&DryRun=true",
		"Action=AuthorizeSecurityGroupIngress&GroupId=sg-1&IpPermissions.1.FromPort=99999999999",
		"Action=%zz",
	} {
		f.Add(seed)
	}
	cloud := newCloud(f)
	h := ec2.New(cloud, nil)
	f.Fuzz(func(t *testing.T, body string) {
		hr := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.Handle(rec, &api.Request{ID: "fuzz", Caller: bootstrap, HTTP: hr, Body: []byte(body)})
		if rec.Code < 200 || rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !strings.HasPrefix(rec.Body.String(), "<?xml") {
			t.Fatalf("not XML for %q: %s", body, rec.Body)
		}
	})
}
