// Package elbv2 serves the Elastic Load Balancing v2 Query API (awsquery):
// it decodes ELBv2 requests into the shapes generated from AWS's model,
// calls core, and encodes the answers the AWS CLI and SDKs expect.
//
// zz_shapes.go holds the request and response shapes of the operations on
// the go:generate line below; add an operation there and run go generate.
// The model awsgen reads predates listener attributes, whose shapes
// listenerattrs.go writes by hand.
package elbv2

//go:generate go run ../../internal/awsgen -model elasticloadbalancingv2/2015-12-01 -o zz_shapes.go CreateLoadBalancer DescribeLoadBalancers DeleteLoadBalancer CreateTargetGroup DescribeTargetGroups DeleteTargetGroup RegisterTargets DeregisterTargets DescribeTargetHealth CreateListener DescribeListeners DeleteListener ModifyTargetGroup DescribeTargetGroupAttributes ModifyTargetGroupAttributes DescribeLoadBalancerAttributes ModifyLoadBalancerAttributes
