package route53

import (
	"testing"

	"github.com/privlink/privlink/core"
)

// FuzzDecodeBody feeds arbitrary documents to every request shape and the
// conversions after it: a client's body may be refused, never crash the
// handler.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`<CreateHostedZoneRequest xmlns="` + XMLNamespace + `"><Name>a.example</Name><CallerReference>r</CallerReference><VPC><VPCId>vpc-1</VPCId></VPC></CreateHostedZoneRequest>`,
		`<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a</Name><Type>A</Type><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>1.2.3.4</Value></ResourceRecord></ResourceRecords><AliasTarget><HostedZoneId>Z</HostedZoneId><DNSName>x</DNSName><EvaluateTargetHealth>1</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<AssociateVPCWithHostedZoneRequest><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>vpc-1</VPCId></VPC></AssociateVPCWithHostedZoneRequest>`,
		`<a><b>`, ``, `<?xml version="1.0"?><ChangeResourceRecordSetsRequest>text</ChangeResourceRecordSetsRequest>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var c createHostedZoneRequest
		if err := decodeBody(body, &c); err == nil && c.VPC != nil {
			_, _ = vpcFrom(c.VPC)
		}
		var r changeResourceRecordSetsRequest
		if err := decodeBody(body, &r); err == nil && r.ChangeBatch != nil {
			for _, ch := range r.ChangeBatch.Changes {
				if _, err := changeFrom(ch); err != nil && !core.IsKind(err, core.KindInvalid) {
					t.Fatalf("changeFrom: %v", err)
				}
			}
		}
		var a associateVPCRequest
		_ = decodeBody(body, &a)
		var d disassociateVPCRequest
		_ = decodeBody(body, &d)
	})
}
