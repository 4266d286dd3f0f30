package ec2

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/privlink/privlink/core"
)

// TestEndpointListReuse checks that a list answer reused for another one
// writes what a fresh one would, whatever the earlier answer held, and
// that releasing it keeps nothing the answer named.
func TestEndpointListReuse(t *testing.T) {
	op, _ := LookupOperation("DescribeVpcEndpoints")
	desc := func(i, dns, groups int) core.VpcEndpointDescription {
		d := core.VpcEndpointDescription{VpcEndpoint: core.VpcEndpoint{
			ID: fmt.Sprintf("vpce-%017x", i), OwnerID: "210987654321", Type: "Interface", VpcID: "vpc-0123456789abcdef0",
			ServiceName: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", State: "available",
			SubnetIDs: []string{"subnet-0a1b2c3d4e5f60718"}, CreatedAt: benchTime,
		}}
		if i%2 == 1 {
			d.LastErrorCode, d.LastErrorMessage = "Failed", "no"
		}
		for g := range groups {
			name := ""
			if g%2 == 0 {
				name = fmt.Sprintf("group-%d-%d", i, g)
			}
			d.Groups = append(d.Groups, core.GroupIdentifier{ID: fmt.Sprintf("sg-%017x", 100*i+g), Name: name})
		}
		for n := range dns {
			d.DNSEntries = append(d.DNSEntries, core.DNSEntry{DNSName: fmt.Sprintf("name-%d-%d.example", i, n), HostedZoneID: fmt.Sprintf("Z%d", n)})
		}
		return d
	}
	fresh := func(eps []core.VpcEndpointDescription, next *string) []byte {
		out := &DescribeVpcEndpointsResult{VpcEndpoints: make([]VpcEndpoint, len(eps)), NextToken: next}
		for i, e := range eps {
			out.VpcEndpoints[i] = vpcEndpoint(e)
		}
		b, err := op.MarshalResponse("req", out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	next := "token"
	answers := []struct {
		eps  []core.VpcEndpointDescription
		next *string
	}{
		{[]core.VpcEndpointDescription{desc(1, 3, 2), desc(2, 1, 0), desc(3, 4, 3)}, &next},
		{[]core.VpcEndpointDescription{desc(4, 2, 1)}, nil}, // fewer of everything
		{nil, nil},
		{[]core.VpcEndpointDescription{desc(5, 0, 4), desc(6, 5, 1), desc(7, 2, 2), desc(8, 1, 1)}, nil}, // more
	}
	l := new(endpointList)
	for i, a := range answers {
		got, err := op.MarshalResponse("req", l.fill(a.eps, a.next))
		if err != nil {
			t.Fatal(err)
		}
		if want := fresh(a.eps, a.next); !bytes.Equal(got, want) {
			t.Errorf("answer %d from a reused list:\n%s\nwant:\n%s", i, got, want)
		}
		l.release()
		for _, s := range []any{l.descs, l.eps, l.scalars, l.dns, l.strs, l.groups} {
			v := reflect.ValueOf(s)
			for j := range v.Len() {
				if !v.Index(j).IsZero() {
					t.Fatalf("after answer %d, a released list still holds %T[%d]: %v", i, s, j, v.Index(j))
				}
			}
		}
		if !reflect.ValueOf(l.result).IsZero() {
			t.Fatalf("after answer %d, a released list still holds its result", i)
		}
		select { // taken back, as newEndpointList would
		case <-freeEndpointLists:
		default:
		}
	}
}
