package ec2

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/store/memstore"
)

// Micro-benchmarks of the codec on EC2's generated shapes: decoding the
// forms the AWS CLI and SDKs send, and encoding responses built by the
// handler's own conversions, through the functions Handle calls
// (Operation.DecodeInput and Operation.WriteResponse).

// benchForms are request bodies as the AWS SDK for Go v2 and the CLI send
// them (the SDKs fill ClientToken themselves).
var benchForms = []struct {
	name, body string
}{
	{"RunInstances", "Action=RunInstances&Version=2016-11-15" +
		"&ClientToken=7d3f2c1e-6b5a-4c9d-8e7f-0a1b2c3d4e5f&ImageId=ami-0123456789abcdef0&InstanceType=t3.micro" +
		"&KeyName=ops&MaxCount=1&MinCount=1&SubnetId=subnet-0a1b2c3d4e5f60718" +
		"&SecurityGroupId.1=sg-0123456789abcdef0&SecurityGroupId.2=sg-0fedcba9876543210" +
		"&TagSpecification.1.ResourceType=instance" +
		"&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web-1" +
		"&TagSpecification.1.Tag.2.Key=env&TagSpecification.1.Tag.2.Value=prod" +
		"&TagSpecification.1.Tag.3.Key=team&TagSpecification.1.Tag.3.Value=payments" +
		"&UserData=IyEvYmluL3NoCmVjaG8gaGVsbG8K"},
	{"CreateVpcEndpoint", "Action=CreateVpcEndpoint&Version=2016-11-15" +
		"&ClientToken=0f1e2d3c-4b5a-6978-8a9b-acbdcedfe0f1&PrivateDnsEnabled=false" +
		"&SecurityGroupId.1=sg-0123456789abcdef0&SecurityGroupId.2=sg-0fedcba9876543210&SecurityGroupId.3=sg-00112233445566778" +
		"&ServiceName=com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0" +
		"&SubnetId.1=subnet-0a1b2c3d4e5f60718&SubnetId.2=subnet-08172635445362718&SubnetId.3=subnet-0f0e0d0c0b0a09080" +
		"&TagSpecification.1.ResourceType=vpc-endpoint&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=db" +
		"&VpcEndpointType=Interface&VpcId=vpc-0123456789abcdef0"},
	{"DescribeVpcEndpoints", "Action=DescribeVpcEndpoints&Version=2016-11-15&MaxResults=100" +
		"&NextToken=eyJrIjoidnBjZS0wMTIzNDU2Nzg5YWJjZGVmMCJ9"},
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range benchForms {
		b.Run(tc.name, func(b *testing.B) {
			form, err := url.ParseQuery(tc.body)
			if err != nil {
				b.Fatal(err)
			}
			op, ok := LookupOperation(form.Get("Action"))
			if !ok {
				b.Fatalf("no operation %s", form.Get("Action"))
			}
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := op.DecodeInput(form); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchTime = time.Date(2024, 3, 4, 5, 6, 7, 890e6, time.UTC)

// benchEndpoint is an interface endpoint as DescribeVpcEndpoints lists it:
// two subnets, a security group, three DNS names and a Name tag.
func benchEndpoint(i int) VpcEndpoint {
	id := fmt.Sprintf("vpce-%017x", i)
	svc := "vpce-svc-0123456789abcdef0"
	return vpcEndpoint(core.VpcEndpointDescription{
		VpcEndpoint: core.VpcEndpoint{
			ID: id, OwnerID: "210987654321", Type: "Interface", VpcID: "vpc-0123456789abcdef0",
			ServiceName: "com.amazonaws.vpce.us-east-1." + svc, ServiceID: svc, ServiceOwnerID: "123456789012",
			State: "available", SubnetIDs: []string{"subnet-0a1b2c3d4e5f60718", "subnet-08172635445362718"},
			NetworkInterfaceIDs: []string{fmt.Sprintf("eni-%017x", 2*i), fmt.Sprintf("eni-%017x", 2*i+1)},
			SecurityGroupIDs:    []string{"sg-0123456789abcdef0"}, IPAddressType: "ipv4", DNSID: "abcd1234",
			Tags: []core.Tag{{Key: "Name", Value: fmt.Sprintf("endpoint-%d", i)}}, CreatedAt: benchTime,
		},
		Groups: []core.GroupIdentifier{{ID: "sg-0123456789abcdef0", Name: "endpoint"}},
		DNSEntries: []core.DNSEntry{
			{DNSName: id + "-abcd1234." + svc + ".us-east-1.vpce.amazonaws.com", HostedZoneID: "Z7HUB22UULQXV"},
			{DNSName: id + "-abcd1234-us-east-1a." + svc + ".us-east-1.vpce.amazonaws.com", HostedZoneID: "Z7HUB22UULQXV"},
			{DNSName: id + "-abcd1234-us-east-1b." + svc + ".us-east-1.vpce.amazonaws.com", HostedZoneID: "Z7HUB22UULQXV"},
		},
	})
}

// benchInstance is a running instance with its interface, two groups and
// two tags.
func benchInstance(i int) core.InstanceDescription {
	ip := netip.AddrFrom4([4]byte{10, 0, byte(1 + i/250), byte(4 + i%250)})
	id := fmt.Sprintf("i-%017x", i)
	eniID := fmt.Sprintf("eni-%017x", i)
	groups := []core.GroupIdentifier{{ID: "sg-0123456789abcdef0", Name: "web"}, {ID: "sg-0fedcba9876543210", Name: "ssh"}}
	return core.InstanceDescription{
		Instance: core.Instance{
			ID: id, OwnerID: "123456789012", ReservationID: fmt.Sprintf("r-%017x", i), VpcID: "vpc-0123456789abcdef0",
			SubnetID: "subnet-0a1b2c3d4e5f60718", AvailabilityZone: "us-east-1a", ImageID: "ami-0123456789abcdef0",
			InstanceType: "t3.micro", KeyName: "ops", PrivateIP: ip, NetworkInterfaceID: eniID,
			SecurityGroupIDs: []string{groups[0].ID, groups[1].ID}, State: core.InstanceRunning, LaunchTime: benchTime,
			Tags: []core.Tag{{Key: "Name", Value: fmt.Sprintf("web-%d", i)}, {Key: "env", Value: "prod"}},
		},
		NetworkInterface: &core.NetworkInterface{
			ID: eniID, OwnerID: "123456789012", VpcID: "vpc-0123456789abcdef0", SubnetID: "subnet-0a1b2c3d4e5f60718",
			AvailabilityZone: "us-east-1a", PrivateIP: ip, MACAddress: "02:00:0a:00:01:04",
			InterfaceType: core.InterfaceTypeInstance, Description: "Primary network interface", Status: core.ENIInUse,
			AttachmentID: fmt.Sprintf("eni-attach-%017x", i), InstanceID: id, AttachTime: benchTime, SourceDestCheck: true,
		},
		SecurityGroups: groups,
		PrivateDNSName: core.PrivateDNSName("us-east-1", ip),
	}
}

// discardResponse is a ResponseWriter that only counts, so that the
// benchmark times the encoder rather than a recorder's copy.
type discardResponse struct {
	header http.Header
	n      int
}

func (d *discardResponse) Header() http.Header { return d.header }
func (d *discardResponse) WriteHeader(int)     {}
func (d *discardResponse) Write(p []byte) (int, error) {
	d.n += len(p)
	return len(p), nil
}

func BenchmarkWriteResponse(b *testing.B) {
	cloud, err := core.New(memstore.New(), core.Config{Region: "us-east-1"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := New(cloud, nil)
	cases := []struct {
		name string
		op   string
		out  func(n int) any
		ns   []int
	}{
		{"DescribeVpcEndpoints", "DescribeVpcEndpoints", func(n int) any {
			out := &DescribeVpcEndpointsResult{VpcEndpoints: make([]VpcEndpoint, n)}
			for i := range n {
				out.VpcEndpoints[i] = benchEndpoint(i)
			}
			return out
		}, []int{1, 100, 1000}},
		// One reservation per instance, as n RunInstances calls leave them.
		{"DescribeInstances", "DescribeInstances", func(n int) any {
			out := &DescribeInstancesResult{Reservations: make([]Reservation, n)}
			for i := range n {
				d := benchInstance(i)
				out.Reservations[i] = h.reservation(d.ReservationID, d.OwnerID, []core.InstanceDescription{d})
			}
			return out
		}, []int{1, 100}},
	}
	for _, tc := range cases {
		for _, n := range tc.ns {
			b.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(b *testing.B) {
				op, ok := LookupOperation(tc.op)
				if !ok {
					b.Fatalf("no operation %s", tc.op)
				}
				out := tc.out(n)
				const requestID = "0f9e8d7c-6b5a-4938-2716-05f4e3d2c1b0"
				doc, err := op.MarshalResponse(requestID, out)
				if err != nil {
					b.Fatal(err)
				}
				w := &discardResponse{header: http.Header{}}
				b.SetBytes(int64(len(doc)))
				b.ReportAllocs()
				for b.Loop() {
					if err := op.WriteResponse(w, requestID, out); err != nil {
						b.Fatal(err)
					}
				}
				if w.n != b.N*len(doc) {
					b.Fatalf("wrote %d bytes in %d responses of %d", w.n, b.N, len(doc))
				}
			})
		}
	}
}
