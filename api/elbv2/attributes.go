package elbv2

import (
	"context"
	"fmt"

	"github.com/privlink/privlink/core"
)

// Attributes of target groups, load balancers and listeners. The three
// attribute shapes are alike, and core keeps one type for all of them.

// maxLoadBalancerAttributes is the model's bound on ModifyLoadBalancerAttributes'
// list.
const maxLoadBalancerAttributes = 20

func (h *Handler) describeTargetGroupAttributes(ctx context.Context, caller core.Caller, in *DescribeTargetGroupAttributesInput) (*DescribeTargetGroupAttributesOutput, error) {
	attrs, err := h.cloud.DescribeTargetGroupAttributes(ctx, caller, str(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	return &DescribeTargetGroupAttributesOutput{Attributes: toAttributes(attrs, newTargetGroupAttribute)}, nil
}

func (h *Handler) modifyTargetGroupAttributes(ctx context.Context, caller core.Caller, in *ModifyTargetGroupAttributesInput) (*ModifyTargetGroupAttributesOutput, error) {
	changes := make([]core.Attribute, len(in.Attributes))
	for i, a := range in.Attributes {
		changes[i] = core.Attribute{Key: str(a.Key), Value: str(a.Value)}
	}
	attrs, err := h.cloud.ModifyTargetGroupAttributes(ctx, caller, str(in.TargetGroupArn), changes)
	if err != nil {
		return nil, err
	}
	return &ModifyTargetGroupAttributesOutput{Attributes: toAttributes(attrs, newTargetGroupAttribute)}, nil
}

func (h *Handler) describeLoadBalancerAttributes(ctx context.Context, caller core.Caller, in *DescribeLoadBalancerAttributesInput) (*DescribeLoadBalancerAttributesOutput, error) {
	attrs, err := h.cloud.DescribeLoadBalancerAttributes(ctx, caller, str(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	return &DescribeLoadBalancerAttributesOutput{Attributes: toAttributes(attrs, newLoadBalancerAttribute)}, nil
}

func (h *Handler) modifyLoadBalancerAttributes(ctx context.Context, caller core.Caller, in *ModifyLoadBalancerAttributesInput) (*ModifyLoadBalancerAttributesOutput, error) {
	if len(in.Attributes) > maxLoadBalancerAttributes {
		return nil, validationErrors(fmt.Sprintf("Value '%d' at 'attributes' failed to satisfy constraint: Member must have length less than or equal to %d", len(in.Attributes), maxLoadBalancerAttributes))
	}
	changes := make([]core.Attribute, len(in.Attributes))
	for i, a := range in.Attributes {
		changes[i] = core.Attribute{Key: str(a.Key), Value: str(a.Value)}
	}
	attrs, err := h.cloud.ModifyLoadBalancerAttributes(ctx, caller, str(in.LoadBalancerArn), changes)
	if err != nil {
		return nil, err
	}
	return &ModifyLoadBalancerAttributesOutput{Attributes: toAttributes(attrs, newLoadBalancerAttribute)}, nil
}

func (h *Handler) describeListenerAttributes(ctx context.Context, caller core.Caller, in *DescribeListenerAttributesInput) (*DescribeListenerAttributesOutput, error) {
	attrs, err := h.cloud.DescribeListenerAttributes(ctx, caller, str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	return &DescribeListenerAttributesOutput{Attributes: toAttributes(attrs, newListenerAttribute)}, nil
}

func (h *Handler) modifyListenerAttributes(ctx context.Context, caller core.Caller, in *ModifyListenerAttributesInput) (*ModifyListenerAttributesOutput, error) {
	changes := make([]core.Attribute, len(in.Attributes))
	for i, a := range in.Attributes {
		changes[i] = core.Attribute{Key: str(a.Key), Value: str(a.Value)}
	}
	attrs, err := h.cloud.ModifyListenerAttributes(ctx, caller, str(in.ListenerArn), changes)
	if err != nil {
		return nil, err
	}
	return &ModifyListenerAttributesOutput{Attributes: toAttributes(attrs, newListenerAttribute)}, nil
}

func newTargetGroupAttribute(k, v *string) TargetGroupAttribute {
	return TargetGroupAttribute{Key: k, Value: v}
}

func newLoadBalancerAttribute(k, v *string) LoadBalancerAttribute {
	return LoadBalancerAttribute{Key: k, Value: v}
}

func newListenerAttribute(k, v *string) ListenerAttribute {
	return ListenerAttribute{Key: k, Value: v}
}

// toAttributes converts core's attributes to one of the wire shapes. Every
// value is written, empty ones too (an access log bucket that is not set),
// as AWS does.
func toAttributes[T any](attrs []core.Attribute, newAttr func(k, v *string) T) []T {
	out := make([]T, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, newAttr(new(a.Key), new(a.Value)))
	}
	return out
}
