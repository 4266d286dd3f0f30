package elbv2

import (
	"context"
	"fmt"

	"github.com/privlink/privlink/core"
)

func (h *Handler) createListener(ctx context.Context, caller core.Caller, in *CreateListenerInput) (*CreateListenerOutput, error) {
	port, err := positive(in.Port, "port")
	if err != nil {
		return nil, err
	}
	actions := make([]core.ListenerActionInput, 0, len(in.DefaultActions))
	for i, a := range in.DefaultActions {
		order, err := positive(a.Order, fmt.Sprintf("defaultActions.%d.member.order", i+1))
		if err != nil {
			return nil, err
		}
		act := core.ListenerActionInput{Type: str(a.Type), TargetGroupARN: str(a.TargetGroupArn), Order: order}
		if fc := a.ForwardConfig; fc != nil {
			for _, tg := range fc.TargetGroups {
				act.ForwardTargetGroups = append(act.ForwardTargetGroups, core.WeightedTargetGroup{
					TargetGroupARN: str(tg.TargetGroupArn),
					Weight:         tg.Weight,
				})
			}
			if sc := fc.TargetGroupStickinessConfig; sc != nil && sc.Enabled != nil {
				act.ForwardStickiness = *sc.Enabled
			}
		}
		actions = append(actions, act)
	}
	var certs []string
	for _, c := range in.Certificates {
		certs = append(certs, str(c.CertificateArn))
	}
	var mode string
	if in.MutualAuthentication != nil {
		mode = str(in.MutualAuthentication.Mode)
	}
	l, err := h.cloud.CreateListener(ctx, caller, core.CreateListenerInput{
		LoadBalancerARN:          str(in.LoadBalancerArn),
		Protocol:                 str(in.Protocol),
		Port:                     port,
		DefaultActions:           actions,
		SSLPolicy:                str(in.SslPolicy),
		CertificateARNs:          certs,
		ALPNPolicy:               in.AlpnPolicy,
		MutualAuthenticationMode: mode,
		Tags:                     coreTags(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &CreateListenerOutput{Listeners: []Listener{toListener(l)}}, nil
}

func (h *Handler) describeListeners(ctx context.Context, caller core.Caller, in *DescribeListenersInput) (*DescribeListenersOutput, error) {
	p, err := newPager("listeners", in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	ls, err := h.cloud.DescribeListeners(ctx, caller, core.DescribeListenersInput{
		LoadBalancerARN: str(in.LoadBalancerArn),
		ListenerARNs:    in.ListenerArns,
	})
	if err != nil {
		return nil, err
	}
	// A load balancer's listeners are listed by port, which is unique
	// among them.
	key := func(l core.Listener) string { return fmt.Sprintf("%05d/%s", l.Port, l.ID) }
	ls, next, err := page(p, ls, key, len(in.ListenerArns) == 0)
	if err != nil {
		return nil, err
	}
	out := &DescribeListenersOutput{Listeners: make([]Listener, 0, len(ls)), NextMarker: next}
	for _, l := range ls {
		out.Listeners = append(out.Listeners, toListener(l))
	}
	return out, nil
}

func (h *Handler) deleteListener(ctx context.Context, caller core.Caller, in *DeleteListenerInput) (*DeleteListenerOutput, error) {
	if err := h.cloud.DeleteListener(ctx, caller, str(in.ListenerArn)); err != nil {
		return nil, err
	}
	return &DeleteListenerOutput{}, nil
}

// toListener describes a listener as ELBv2 does a network load balancer's:
// a forward action names its group both as TargetGroupArn and in a
// ForwardConfig of that one group, with no weight and no stickiness (which
// ELBv2 adds only for Application Load Balancers).
func toListener(l core.Listener) Listener {
	actions := make([]Action, 0, len(l.DefaultActions))
	for _, a := range l.DefaultActions {
		act := Action{Type: new(a.Type), TargetGroupArn: optional(a.TargetGroupARN)}
		if a.Order != 0 {
			act.Order = new(a.Order)
		}
		if a.Type == "forward" && a.TargetGroupARN != "" {
			act.ForwardConfig = &ForwardActionConfig{
				TargetGroups: []TargetGroupTuple{{TargetGroupArn: new(a.TargetGroupARN)}},
			}
		}
		actions = append(actions, act)
	}
	return Listener{
		ListenerArn:     new(l.ARN),
		LoadBalancerArn: new(l.LoadBalancerARN),
		Port:            new(l.Port),
		Protocol:        new(l.Protocol),
		DefaultActions:  actions,
	}
}
