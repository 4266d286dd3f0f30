package elbv2

import "github.com/privlink/privlink/api/query"

// Listener attributes came to ELBv2 in 2024, after the frozen v1 model that
// awsgen reads (aws-sdk-go v1.55.8), so the shapes of their two actions are
// written here by hand, in the generated form. The SDK v2 tests check them
// against the SDK's own serializers and parsers.

// ListenerAttribute is the Elastic Load Balancing v2 shape ListenerAttribute.
type ListenerAttribute struct {
	Key   *string `query:"Key,xml=Key"`
	Value *string `query:"Value,xml=Value"`
}

// DescribeListenerAttributesInput is the input of DescribeListenerAttributes.
type DescribeListenerAttributesInput struct {
	ListenerArn *string `query:"ListenerArn,xml=ListenerArn,req"`
}

// DescribeListenerAttributesOutput is the output of DescribeListenerAttributes.
type DescribeListenerAttributesOutput struct {
	Attributes []ListenerAttribute `query:"Attributes,member=member,xml=Attributes,item=member"`
}

// ModifyListenerAttributesInput is the input of ModifyListenerAttributes.
type ModifyListenerAttributesInput struct {
	ListenerArn *string             `query:"ListenerArn,xml=ListenerArn,req"`
	Attributes  []ListenerAttribute `query:"Attributes,member=member,xml=Attributes,item=member,req"`
}

// ModifyListenerAttributesOutput is the output of ModifyListenerAttributes.
type ModifyListenerAttributesOutput struct {
	Attributes []ListenerAttribute `query:"Attributes,member=member,xml=Attributes,item=member"`
}

// lookupOperation returns the operation an Action names: a generated one,
// or one of this file's.
func lookupOperation(action string) (query.Operation, bool) {
	if op, ok := LookupOperation(action); ok {
		return op, true
	}
	op := query.Operation{
		Name: action, Protocol: query.AWSQuery, Version: APIVersion, Namespace: XMLNamespace,
		ResultWrapper: action + "Result",
	}
	switch action {
	case "DescribeListenerAttributes":
		op.NewInput = func() any { return new(DescribeListenerAttributesInput) }
		op.NewOutput = func() any { return new(DescribeListenerAttributesOutput) }
	case "ModifyListenerAttributes":
		op.NewInput = func() any { return new(ModifyListenerAttributesInput) }
		op.NewOutput = func() any { return new(ModifyListenerAttributesOutput) }
	default:
		return query.Operation{}, false
	}
	return op, true
}
