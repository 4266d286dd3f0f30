package sigv4

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BenchmarkVerify is what the server does for every call: Parse the
// signature of a request the AWS SDK for Go v2 signed, then Verify it. The
// bodies are a DescribeVpcEndpoints form and a RunInstances form padded
// with 16 KiB of user data; hashing the body is the part that grows.
func BenchmarkVerify(b *testing.B) {
	small := "Action=DescribeVpcEndpoints&Version=2016-11-15&MaxResults=100"
	large := "Action=RunInstances&Version=2016-11-15&ImageId=ami-0123456789abcdef0&MaxCount=1&MinCount=1" +
		"&UserData=" + strings.Repeat("A", 16<<10)
	for _, body := range []string{small, large} {
		b.Run(fmt.Sprintf("bytes=%d", len(body)), func(b *testing.B) {
			r := benchServerRequest(b, body)
			payload := []byte(body)
			now := testTime.Add(time.Minute)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				a, err := Parse(r)
				if err != nil {
					b.Fatal(err)
				}
				if err := Verify(r, payload, a, testCreds.SecretKey, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchServerRequest signs an EC2 form POST with the SDK's signer, with the
// headers the SDK sends, and returns it as an http.Server hands it over.
func benchServerRequest(b *testing.B, body string) *http.Request {
	c, err := http.NewRequest("POST", "http://127.0.0.1:4580/", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	c.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.Header.Set("User-Agent", "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.210.1")
	c.Header.Set("Amz-Sdk-Invocation-Id", "0f9e8d7c-6b5a-4938-2716-05f4e3d2c1b0")
	c.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	err = sdkv4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: testCreds.AccessKey, SecretAccessKey: testCreds.SecretKey},
		c, HashPayload([]byte(body)), "ec2", "us-east-1", testTime)
	if err != nil {
		b.Fatal(err)
	}
	s := httptest.NewRequest(c.Method, c.URL.RequestURI(), bytes.NewReader([]byte(body)))
	s.Host = c.URL.Host
	s.Header = c.Header.Clone()
	s.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return s
}
