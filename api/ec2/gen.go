// Package ec2 serves the Amazon EC2 Query API: it decodes EC2 requests into
// the shapes generated from AWS's model, calls core, and encodes the answers
// the AWS CLI and SDKs expect.
//
// zz_shapes.go holds the request and response shapes of the operations on
// the go:generate line below; add an operation there and run go generate.
package ec2

//go:generate go run ../../internal/awsgen -model ec2/2016-11-15 -o zz_shapes.go CreateVpc DescribeVpcs DeleteVpc CreateSubnet DescribeSubnets DeleteSubnet CreateSecurityGroup DescribeSecurityGroups AuthorizeSecurityGroupIngress RevokeSecurityGroupIngress DeleteSecurityGroup RunInstances DescribeInstances TerminateInstances DescribeAvailabilityZones DescribeRegions DescribeNetworkInterfaces CreateVpcEndpointServiceConfiguration DescribeVpcEndpointServiceConfigurations DeleteVpcEndpointServiceConfigurations ModifyVpcEndpointServicePermissions DescribeVpcEndpointServicePermissions DescribeVpcEndpointServices CreateVpcEndpoint DescribeVpcEndpoints DeleteVpcEndpoints AcceptVpcEndpointConnections RejectVpcEndpointConnections DescribeVpcEndpointConnections ModifyVpcEndpoint AuthorizeSecurityGroupEgress RevokeSecurityGroupEgress DescribeSecurityGroupRules ModifyVpcAttribute DescribeVpcAttribute ModifyNetworkInterfaceAttribute ModifyVpcEndpointServiceConfiguration StartVpcEndpointServicePrivateDnsVerification
