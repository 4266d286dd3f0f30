package elbv2

import (
	"context"
	"fmt"

	"github.com/privlink/privlink/core"
)

func (h *Handler) createTargetGroup(ctx context.Context, caller core.Caller, in *CreateTargetGroupInput) (*CreateTargetGroupOutput, error) {
	httpCode, grpcCode, err := healthCheckStrings(in.HealthCheckPath, in.Matcher)
	if err != nil {
		return nil, err
	}
	tg, err := h.cloud.CreateTargetGroup(ctx, caller, core.CreateTargetGroupInput{
		Name:                       str(in.Name),
		Protocol:                   str(in.Protocol),
		ProtocolVersion:            str(in.ProtocolVersion),
		Port:                       in.Port,
		VpcID:                      str(in.VpcId),
		TargetType:                 str(in.TargetType),
		IPAddressType:              str(in.IpAddressType),
		HealthCheckEnabled:         in.HealthCheckEnabled,
		HealthCheckProtocol:        str(in.HealthCheckProtocol),
		HealthCheckPort:            str(in.HealthCheckPort),
		HealthCheckPath:            str(in.HealthCheckPath),
		HealthCheckIntervalSeconds: in.HealthCheckIntervalSeconds,
		HealthCheckTimeoutSeconds:  in.HealthCheckTimeoutSeconds,
		HealthyThresholdCount:      in.HealthyThresholdCount,
		UnhealthyThresholdCount:    in.UnhealthyThresholdCount,
		MatcherHTTPCode:            httpCode,
		MatcherGRPCCode:            grpcCode,
		Tags:                       coreTags(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	out := toTargetGroup(tg)
	// CreateTargetGroup leaves LoadBalancerArns out while no listener uses
	// the group, where DescribeTargetGroups writes an empty list.
	if len(tg.LoadBalancerARNs) == 0 {
		out.LoadBalancerArns = nil
	}
	return &CreateTargetGroupOutput{TargetGroups: []TargetGroup{out}}, nil
}

func (h *Handler) modifyTargetGroup(ctx context.Context, caller core.Caller, in *ModifyTargetGroupInput) (*ModifyTargetGroupOutput, error) {
	httpCode, grpcCode, err := healthCheckStrings(in.HealthCheckPath, in.Matcher)
	if err != nil {
		return nil, err
	}
	tg, err := h.cloud.ModifyTargetGroup(ctx, caller, core.ModifyTargetGroupInput{
		TargetGroupARN:             str(in.TargetGroupArn),
		HealthCheckEnabled:         in.HealthCheckEnabled,
		HealthCheckProtocol:        str(in.HealthCheckProtocol),
		HealthCheckPort:            str(in.HealthCheckPort),
		HealthCheckPath:            str(in.HealthCheckPath),
		HealthCheckIntervalSeconds: in.HealthCheckIntervalSeconds,
		HealthCheckTimeoutSeconds:  in.HealthCheckTimeoutSeconds,
		HealthyThresholdCount:      in.HealthyThresholdCount,
		UnhealthyThresholdCount:    in.UnhealthyThresholdCount,
		MatcherHTTPCode:            httpCode,
		MatcherGRPCCode:            grpcCode,
	})
	if err != nil {
		return nil, err
	}
	return &ModifyTargetGroupOutput{TargetGroups: []TargetGroup{toTargetGroup(tg)}}, nil
}

// healthCheckStrings reads a health check's path and matcher for core,
// where "" means "not given". A given path must not be empty, by the
// model's length constraint.
func healthCheckStrings(path *string, m *Matcher) (httpCode, grpcCode string, err error) {
	if path != nil && *path == "" {
		return "", "", validationErrors("Value '' at 'healthCheckPath' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if m != nil {
		httpCode, grpcCode = str(m.HttpCode), str(m.GrpcCode)
	}
	return httpCode, grpcCode, nil
}

func (h *Handler) describeTargetGroups(ctx context.Context, caller core.Caller, in *DescribeTargetGroupsInput) (*DescribeTargetGroupsOutput, error) {
	p, err := newPager("targetgroups", in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	tgs, err := h.cloud.DescribeTargetGroups(ctx, caller, core.DescribeTargetGroupsInput{
		LoadBalancerARN: str(in.LoadBalancerArn),
		TargetGroupARNs: in.TargetGroupArns,
		Names:           in.Names,
	})
	if err != nil {
		return nil, err
	}
	listing := len(in.TargetGroupArns) == 0 && len(in.Names) == 0
	tgs, next, err := page(p, tgs, func(tg core.TargetGroupDescription) string { return createdKey(tg.CreatedAt, tg.ID) }, listing)
	if err != nil {
		return nil, err
	}
	out := &DescribeTargetGroupsOutput{TargetGroups: make([]TargetGroup, 0, len(tgs)), NextMarker: next}
	for _, tg := range tgs {
		out.TargetGroups = append(out.TargetGroups, toTargetGroup(tg))
	}
	return out, nil
}

func (h *Handler) deleteTargetGroup(ctx context.Context, caller core.Caller, in *DeleteTargetGroupInput) (*DeleteTargetGroupOutput, error) {
	if err := h.cloud.DeleteTargetGroup(ctx, caller, str(in.TargetGroupArn)); err != nil {
		return nil, err
	}
	return &DeleteTargetGroupOutput{}, nil
}

func (h *Handler) registerTargets(ctx context.Context, caller core.Caller, in *RegisterTargetsInput) (*RegisterTargetsOutput, error) {
	targets, err := coreTargets(in.Targets)
	if err != nil {
		return nil, err
	}
	if err := h.cloud.RegisterTargets(ctx, caller, str(in.TargetGroupArn), targets); err != nil {
		return nil, err
	}
	return &RegisterTargetsOutput{}, nil
}

func (h *Handler) deregisterTargets(ctx context.Context, caller core.Caller, in *DeregisterTargetsInput) (*DeregisterTargetsOutput, error) {
	targets, err := coreTargets(in.Targets)
	if err != nil {
		return nil, err
	}
	if err := h.cloud.DeregisterTargets(ctx, caller, str(in.TargetGroupArn), targets); err != nil {
		return nil, err
	}
	return &DeregisterTargetsOutput{}, nil
}

func (h *Handler) describeTargetHealth(ctx context.Context, caller core.Caller, in *DescribeTargetHealthInput) (*DescribeTargetHealthOutput, error) {
	targets, err := coreTargets(in.Targets)
	if err != nil {
		return nil, err
	}
	ds, err := h.cloud.DescribeTargetHealth(ctx, caller, core.DescribeTargetHealthInput{
		TargetGroupARN: str(in.TargetGroupArn),
		Targets:        targets,
		Include:        in.Include,
	})
	if err != nil {
		return nil, err
	}
	out := &DescribeTargetHealthOutput{TargetHealthDescriptions: make([]TargetHealthDescription, 0, len(ds))}
	for _, d := range ds {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, TargetHealthDescription{
			Target: &TargetDescription{
				Id:               new(d.Target.ID),
				Port:             new(d.Target.Port),
				AvailabilityZone: optional(d.Target.AvailabilityZone),
			},
			HealthCheckPort: optional(d.HealthCheckPort),
			TargetHealth: &TargetHealth{
				State:       new(d.State),
				Reason:      optional(d.Reason),
				Description: optional(d.Description),
			},
		})
	}
	return out, nil
}

// coreTargets converts targets; a port of 0 is refused here, as core
// reads 0 as "the group's port".
func coreTargets(ts []TargetDescription) ([]core.TargetDescription, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	out := make([]core.TargetDescription, len(ts))
	for i, t := range ts {
		port, err := positive(t.Port, fmt.Sprintf("targets.%d.member.port", i+1))
		if err != nil {
			return nil, err
		}
		out[i] = core.TargetDescription{ID: str(t.Id), Port: port, AvailabilityZone: str(t.AvailabilityZone)}
	}
	return out, nil
}

// toTargetGroup describes a target group with every health check member
// ELBv2 writes; the path and matcher only for HTTP and HTTPS health
// checks, and LoadBalancerArns always, empty when no listener uses it.
func toTargetGroup(tg core.TargetGroupDescription) TargetGroup {
	hc := tg.HealthCheck
	out := TargetGroup{
		TargetGroupArn:             new(tg.ARN),
		TargetGroupName:            new(tg.Name),
		Protocol:                   new(tg.Protocol),
		Port:                       new(tg.Port),
		VpcId:                      new(tg.VpcID),
		HealthCheckProtocol:        new(hc.Protocol),
		HealthCheckPort:            new(hc.Port),
		HealthCheckEnabled:         new(hc.Enabled),
		HealthCheckIntervalSeconds: new(hc.IntervalSeconds),
		HealthCheckTimeoutSeconds:  new(hc.TimeoutSeconds),
		HealthyThresholdCount:      new(hc.HealthyThreshold),
		UnhealthyThresholdCount:    new(hc.UnhealthyThreshold),
		LoadBalancerArns:           strs(tg.LoadBalancerARNs),
		TargetType:                 new(tg.TargetType),
		IpAddressType:              new(tg.IPAddressType),
	}
	if hc.Protocol == "HTTP" || hc.Protocol == "HTTPS" {
		out.HealthCheckPath = optional(hc.Path)
		if hc.Matcher != "" {
			out.Matcher = &Matcher{HttpCode: new(hc.Matcher)}
		}
	}
	return out
}
