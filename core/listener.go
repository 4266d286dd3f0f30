package core

import (
	"context"
	"slices"
)

// Listeners of network load balancers: a TCP port that forwards to one
// target group.

// maxListenersPerLB is ELBv2's default quota of listeners per load balancer.
const maxListenersPerLB = 50

// CreateListenerInput is CreateListener's request.
type CreateListenerInput struct {
	LoadBalancerARN string
	Protocol        string // only "TCP" is supported
	Port            int32  // 1–65535; 0 means not given
	DefaultActions  []ListenerActionInput
	// TLS-only settings, refused for TCP listeners.
	SSLPolicy                string
	CertificateARNs          []string
	ALPNPolicy               []string
	MutualAuthenticationMode string
	Tags                     []Tag
}

// ListenerActionInput is one default action. Network load balancers take
// exactly one, of type "forward", to one target group named by
// TargetGroupARN or by a ForwardConfig of one group (or both, if they agree).
type ListenerActionInput struct {
	Type                string
	TargetGroupARN      string
	Order               int32
	ForwardTargetGroups []WeightedTargetGroup
	ForwardStickiness   bool // ForwardConfig.TargetGroupStickinessConfig.Enabled
}

// WeightedTargetGroup is an entry of a forward action's ForwardConfig.
type WeightedTargetGroup struct {
	TargetGroupARN string
	Weight         *int32
}

// DescribeListenersInput selects listeners by load balancer or by ARN (one of
// the two is required).
type DescribeListenersInput struct {
	LoadBalancerARN string
	ListenerARNs    []string
}

// CreateListener adds a TCP listener to a network load balancer. A request
// that repeats an existing listener's port and settings returns that
// listener, as AWS does.
func (c *Cloud) CreateListener(ctx context.Context, caller Caller, in CreateListenerInput) (Listener, error) {
	if in.LoadBalancerARN == "" {
		return Listener{}, elbRequired("loadBalancerArn")
	}
	switch in.Protocol {
	case "":
		return Listener{}, elbValidation("A listener protocol must be specified for network load balancers")
	case "TCP":
	case "TLS", "UDP", "TCP_UDP":
		return Listener{}, Errorf(KindInvalid, "UnsupportedProtocol", "Protocol '%s' is not supported: privlink listeners are TCP only", in.Protocol)
	case "HTTP", "HTTPS", "GENEVE":
		return Listener{}, elbValidation("Listener protocol '%s' must be one of 'TCP_UDP, TLS, UDP, TCP'", in.Protocol)
	default:
		return Listener{}, elbEnum("protocol", in.Protocol, "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE")
	}
	if in.Port == 0 {
		return Listener{}, elbValidation("A listener port must be specified for network load balancers")
	}
	if in.Port < 1 || in.Port > 65535 {
		return Listener{}, elbRange("port", in.Port, 1, 65535)
	}
	if in.SSLPolicy != "" || len(in.CertificateARNs) > 0 || len(in.ALPNPolicy) > 0 {
		return Listener{}, elbConfig("SSL policies, certificates and ALPN policies can be specified only for TLS listeners")
	}
	if in.MutualAuthenticationMode != "" && in.MutualAuthenticationMode != "off" {
		return Listener{}, elbConfig("Mutual authentication is supported only for HTTPS listeners")
	}
	tgARN, order, err := forwardTarget(in.DefaultActions)
	if err != nil {
		return Listener{}, err
	}
	if err := validateELBTags(in.Tags, "listener"); err != nil {
		return Listener{}, err
	}

	var out Listener
	err = c.update(ctx, func(t *txn) error {
		lb, err := c.ownedLoadBalancerByARN(t, caller, in.LoadBalancerARN)
		if err != nil {
			return err
		}
		g, err := c.ownedTargetGroupByARN(t, caller, tgARN)
		if IsKind(err, KindNotFound) {
			return Errorf(KindNotFound, "TargetGroupNotFound", "Target group '%s' not found", tgARN)
		}
		if err != nil {
			return err
		}
		if g.VpcID != lb.VpcID {
			return elbConfig("Target group '%s' is in a different VPC than load balancer '%s'", g.ARN, lb.ARN)
		}
		if g.Protocol != in.Protocol {
			return Errorf(KindInvalid, "IncompatibleProtocols", "Listener protocol '%s' is not compatible with target group protocol '%s'", in.Protocol, g.Protocol)
		}
		users, err := listenersUsing(t, g.ARN)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.LoadBalancerID != lb.ID {
				return Errorf(KindLimit, "TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", g.ARN)
			}
		}
		all, err := list[Listener](t, prefixListeners)
		if err != nil {
			return err
		}
		mine := slices.DeleteFunc(all, func(l *Listener) bool { return l.LoadBalancerID != lb.ID })
		for _, l := range mine {
			if l.Port != in.Port {
				continue
			}
			if l.Protocol == in.Protocol && slices.Equal(listenerTargetGroupARNs(l), []string{g.ARN}) {
				out = *l
				return nil
			}
			return Errorf(KindConflict, "DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lb.ARN)
		}
		if len(mine) >= maxListenersPerLB {
			return Errorf(KindLimit, "TooManyListeners", "You've reached the limit on the number of listeners per load balancer")
		}
		id := c.ids.hex(16)
		l := Listener{
			ID:              id,
			ARN:             c.elbARN(caller.AccountID, "listener/net/"+lb.Name+"/"+lb.ID+"/"+id),
			LoadBalancerID:  lb.ID,
			LoadBalancerARN: lb.ARN,
			OwnerID:         caller.AccountID,
			Protocol:        in.Protocol,
			Port:            in.Port,
			DefaultActions:  []ListenerAction{{Type: "forward", TargetGroupARN: g.ARN, Order: order}},
			Tags:            slices.Clone(in.Tags),
			CreatedAt:       c.now(),
		}
		if err := put(t, keyListener(id), l); err != nil {
			return err
		}
		out = l
		return nil
	})
	return out, err
}

// forwardTarget validates a network load balancer's default actions and
// returns the one target group they forward to.
func forwardTarget(actions []ListenerActionInput) (tgARN string, order int32, err error) {
	if len(actions) == 0 {
		return "", 0, elbRequired("defaultActions")
	}
	if len(actions) > 1 {
		return "", 0, Errorf(KindInvalid, "InvalidLoadBalancerAction", "Network Load Balancer listeners support exactly one default action")
	}
	a := actions[0]
	switch a.Type {
	case "forward":
	case "":
		return "", 0, elbRequired("defaultActions.member.1.type")
	case "authenticate-oidc", "authenticate-cognito", "redirect", "fixed-response":
		return "", 0, Errorf(KindInvalid, "InvalidLoadBalancerAction", "The action type '%s' is not valid for a Network Load Balancer listener", a.Type)
	default:
		return "", 0, elbEnum("defaultActions.member.1.type", a.Type, "forward", "authenticate-oidc", "authenticate-cognito", "redirect", "fixed-response")
	}
	if a.Order != 0 && (a.Order < 1 || a.Order > 50000) {
		return "", 0, elbRange("defaultActions.member.1.order", a.Order, 1, 50000)
	}
	if a.ForwardStickiness {
		return "", 0, elbConfig("Target group stickiness is not supported for Network Load Balancer listeners")
	}
	tgARN = a.TargetGroupARN
	switch len(a.ForwardTargetGroups) {
	case 0:
	case 1:
		f := a.ForwardTargetGroups[0]
		if f.Weight != nil && (*f.Weight < 0 || *f.Weight > 999) {
			return "", 0, elbRange("defaultActions.member.1.forwardConfig.targetGroups.member.1.weight", *f.Weight, 0, 999)
		}
		if tgARN != "" && f.TargetGroupARN != tgARN {
			return "", 0, elbValidation("You cannot specify a target group ARN and a forward config with a different target group")
		}
		tgARN = f.TargetGroupARN
	default:
		return "", 0, Errorf(KindInvalid, "InvalidLoadBalancerAction", "A forward action of a Network Load Balancer listener can have only one target group")
	}
	if tgARN == "" {
		return "", 0, elbValidation("A target group ARN must be specified for a forward action")
	}
	if _, ok := parseELBARN(tgARN, "targetgroup"); !ok {
		return "", 0, elbValidation("'%s' is not a valid target group ARN", tgARN)
	}
	return tgARN, a.Order, nil
}

// DescribeListeners returns listeners of one of the caller's load balancers,
// or the caller's listeners with the given ARNs.
func (c *Cloud) DescribeListeners(ctx context.Context, caller Caller, in DescribeListenersInput) ([]Listener, error) {
	switch {
	case in.LoadBalancerARN == "" && len(in.ListenerARNs) == 0:
		return nil, elbValidation("You must specify either listener ARNs or a load balancer ARN")
	case in.LoadBalancerARN != "" && len(in.ListenerARNs) > 0:
		return nil, elbValidation("Listener ARNs and a load balancer ARN cannot be specified at the same time")
	}
	for _, arn := range in.ListenerARNs {
		if _, ok := parseELBARN(arn, "listener"); !ok {
			return nil, elbValidation("'%s' is not a valid listener ARN", arn)
		}
	}
	var out []Listener
	err := c.view(ctx, func(t *txn) error {
		out = nil
		all, err := listWhere(t, prefixListeners, func(l *Listener) bool { return l.OwnerID == caller.AccountID })
		if err != nil {
			return err
		}
		if in.LoadBalancerARN != "" {
			lb, err := c.ownedLoadBalancerByARN(t, caller, in.LoadBalancerARN)
			if err != nil {
				return err
			}
			for _, l := range all {
				if l.LoadBalancerID == lb.ID {
					out = append(out, l.clone())
				}
			}
			slices.SortFunc(out, func(a, b Listener) int { return int(a.Port) - int(b.Port) })
			return nil
		}
		for _, arn := range distinctInOrder(in.ListenerARNs) {
			i := slices.IndexFunc(all, func(l *Listener) bool { return l.ARN == arn })
			if i < 0 {
				return listenerNotFound()
			}
			out = append(out, all[i].clone())
		}
		return nil
	})
	return out, err
}

// DeleteListener deletes one of the caller's listeners.
func (c *Cloud) DeleteListener(ctx context.Context, caller Caller, arn string) error {
	id, ok := parseELBARN(arn, "listener")
	if !ok {
		return elbValidation("'%s' is not a valid listener ARN", arn)
	}
	return c.update(ctx, func(t *txn) error {
		l, ok, err := get[Listener](t, keyListener(id))
		if err != nil {
			return err
		}
		if !ok || l.OwnerID != caller.AccountID || l.ARN != arn {
			return listenerNotFound()
		}
		if err := del(t, keyListener(id)); err != nil {
			return err
		}
		return c.forgetUnusedTargetHealth(t, listenerTargetGroupARNs(l))
	})
}

// listenerTargetGroupARNs lists the target groups a listener forwards to.
func listenerTargetGroupARNs(l *Listener) []string {
	var out []string
	for _, a := range l.DefaultActions {
		if a.Type == "forward" && a.TargetGroupARN != "" {
			out = append(out, a.TargetGroupARN)
		}
	}
	return out
}

func listenerNotFound() *Error {
	return Errorf(KindNotFound, "ListenerNotFound", "One or more listeners not found")
}

// ownedListenerByARN finds one of the caller's listeners.
func ownedListenerByARN(t *txn, caller Caller, arn string) (*Listener, error) {
	if arn == "" {
		return nil, elbRequired("listenerArn")
	}
	id, ok := parseELBARN(arn, "listener")
	if !ok {
		return nil, elbValidation("'%s' is not a valid listener ARN", arn)
	}
	l, ok, err := get[Listener](t, keyListener(id))
	if err != nil {
		return nil, err
	}
	if !ok || l.OwnerID != caller.AccountID || l.ARN != arn {
		return nil, listenerNotFound()
	}
	return l, nil
}
