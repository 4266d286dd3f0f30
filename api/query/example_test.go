package query_test

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/privlink/privlink/api/ec2"
	"github.com/privlink/privlink/api/query"
)

// A handler looks the action up, decodes its input, calls core, and
// encodes the output; decode errors map to the service's own codes.
func Example() {
	form, _ := url.ParseQuery("Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16" +
		"&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=main")

	op, ok := ec2.LookupOperation(form.Get("Action"))
	if !ok {
		fmt.Println("InvalidAction")
		return
	}
	in, err := op.DecodeInput(form)
	var de *query.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Kind, de.Param)
		return
	}
	req := in.(*ec2.CreateVpcRequest)
	fmt.Println(*req.CidrBlock, *req.TagSpecifications[0].Tags[0].Value)

	out := &ec2.CreateVpcResult{Vpc: &ec2.Vpc{VpcId: new("vpc-1"), CidrBlock: req.CidrBlock, State: new("available")}}
	doc, err := op.MarshalResponse("req-1", out)
	if err != nil {
		panic(err) // only a wrong output type fails
	}
	fmt.Print(string(doc))

	_, err = op.DecodeInput(url.Values{"CidrBlock": {"10.0.0.0/16"}, "Bogus": {"1"}})
	if errors.As(err, &de) {
		fmt.Println(de.Kind, de.Param, "->", de)
	}
	// Output:
	// 10.0.0.0/16 main
	// <?xml version="1.0" encoding="UTF-8"?>
	// <CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
	//   <requestId>req-1</requestId>
	//   <vpc>
	//     <cidrBlock>10.0.0.0/16</cidrBlock>
	//     <state>available</state>
	//     <vpcId>vpc-1</vpcId>
	//   </vpc>
	// </CreateVpcResponse>
	// unknown Bogus -> The parameter Bogus is not recognized
}
