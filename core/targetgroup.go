package core

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target groups, their targets and the targets' health.

// Target types.
const (
	TargetTypeInstance = "instance"
	TargetTypeIP       = "ip"
)

// TrafficPort is the health check port that means "the target's own port".
const TrafficPort = "traffic-port"

// Health check defaults of a TCP target group of a network load balancer.
// The timeout depends on the health check's protocol: 6 s for HTTP, 10 s for
// TCP and HTTPS; HTTP and HTTPS checks ask for "/" and accept 200-399.
const (
	defaultHCInterval     = 30
	defaultHCTimeout      = 10
	defaultHCTimeoutHTTP  = 6
	defaultHCHealthy      = 5
	defaultHCUnhealthy    = 2
	defaultHCPath         = "/"
	defaultHCMatcher      = "200-399"
	maxHCPathLength       = 1024
	minHCCode, maxHCCode  = 200, 599
	healthCheckProtoTCP   = "TCP"
	healthCheckProtoHTTP  = "HTTP"
	healthCheckProtoHTTPS = "HTTPS"
)

// CreateTargetGroupInput is CreateTargetGroup's request. Nil pointers mean
// "not given", so that AWS's defaults apply and a given zero is rejected.
type CreateTargetGroupInput struct {
	Name            string
	Protocol        string // only "TCP" is supported
	ProtocolVersion string // HTTP/HTTPS only: refused
	Port            *int32
	VpcID           string
	TargetType      string // "instance" (default) or "ip"
	IPAddressType   string // "" or "ipv4"

	HealthCheckEnabled         *bool
	HealthCheckProtocol        string // "TCP" (default), "HTTP" or "HTTPS"
	HealthCheckPort            string // "traffic-port" (default) or a port number
	HealthCheckPath            string // HTTP and HTTPS health checks only; default "/"
	HealthCheckIntervalSeconds *int32
	HealthCheckTimeoutSeconds  *int32
	HealthyThresholdCount      *int32
	UnhealthyThresholdCount    *int32
	MatcherHTTPCode            string // HTTP and HTTPS health checks only; default "200-399"
	MatcherGRPCCode            string // gRPC only: refused

	Tags []Tag
}

// ModifyTargetGroupInput is ModifyTargetGroup's request: the health check
// settings to change. Settings not given keep their values, except that a
// change to an HTTP or HTTPS check gives it AWS's default path and matcher
// if it had none, and a change to TCP drops them.
type ModifyTargetGroupInput struct {
	TargetGroupARN             string
	HealthCheckEnabled         *bool
	HealthCheckProtocol        string
	HealthCheckPort            string
	HealthCheckPath            string
	HealthCheckIntervalSeconds *int32
	HealthCheckTimeoutSeconds  *int32
	HealthyThresholdCount      *int32
	UnhealthyThresholdCount    *int32
	MatcherHTTPCode            string
	MatcherGRPCCode            string
}

// healthCheckChange is the health check part of CreateTargetGroup and
// ModifyTargetGroup.
type healthCheckChange struct {
	Enabled                  *bool
	Protocol, Port, Path     string
	Interval, Timeout        *int32
	Healthy, Unhealthy       *int32
	MatcherHTTP, MatcherGRPC string
}

// TargetGroupDescription is a target group with the load balancers that
// route to it (derived from listeners).
type TargetGroupDescription struct {
	TargetGroup
	LoadBalancerARNs []string
}

// DescribeTargetGroupsInput selects target groups by load balancer, ARN or
// name (at most one of them); with none it lists all of the caller's.
type DescribeTargetGroupsInput struct {
	LoadBalancerARN string
	TargetGroupARNs []string
	Names           []string
}

// TargetDescription names a target: an instance ID or an IP address, with
// an optional port (0: the target group's port) and zone.
type TargetDescription struct {
	ID               string
	Port             int32
	AvailabilityZone string
}

// DescribeTargetHealthInput is DescribeTargetHealth's request. With no
// Targets it describes every registered target.
type DescribeTargetHealthInput struct {
	TargetGroupARN string
	Targets        []TargetDescription
	Include        []string // "AnomalyDetection" or "All": accepted, nothing to report for NLBs
}

// TargetHealthDescription is one target's health as DescribeTargetHealth
// reports it.
type TargetHealthDescription struct {
	Target          TargetDescription
	HealthCheckPort string
	State           string
	Reason          string
	Description     string
}

// CreateTargetGroup creates a TCP target group. A request that repeats an
// existing group's name and settings returns that group, as AWS does.
func (c *Cloud) CreateTargetGroup(ctx context.Context, caller Caller, in CreateTargetGroupInput) (TargetGroupDescription, error) {
	tg, err := buildTargetGroup(in)
	if err != nil {
		return TargetGroupDescription{}, err
	}
	if err := validateELBTags(in.Tags, "target group"); err != nil {
		return TargetGroupDescription{}, err
	}
	var out TargetGroupDescription
	err = c.update(ctx, func(t *txn) error {
		vpc, ok, err := get[VPC](t, keyVPC(in.VpcID))
		if err != nil {
			return err
		}
		if !ok || vpc.OwnerID != caller.AccountID {
			return elbValidation("The VPC ID '%s' is not found", in.VpcID)
		}
		all, err := list[TargetGroup](t, prefixTargetGroups)
		if err != nil {
			return err
		}
		for _, g := range all {
			if g.OwnerID != caller.AccountID || g.Name != in.Name {
				continue
			}
			if g.Protocol == tg.Protocol && g.Port == tg.Port && g.VpcID == tg.VpcID && g.TargetType == tg.TargetType &&
				g.IPAddressType == tg.IPAddressType && g.HealthCheck == tg.HealthCheck {
				out, err = c.describeTargetGroup(t, g)
				return err
			}
			return Errorf(KindConflict, "DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", in.Name)
		}
		g := tg
		g.ID = c.ids.hex(16)
		g.ARN = c.elbARN(caller.AccountID, "targetgroup/"+g.Name+"/"+g.ID)
		g.OwnerID = caller.AccountID
		g.CreatedAt = c.now()
		if err := put(t, keyTargetGroup(g.ID), g); err != nil {
			return err
		}
		out = TargetGroupDescription{TargetGroup: g}
		return nil
	})
	return out, err
}

// buildTargetGroup validates a create request and applies AWS's defaults.
func buildTargetGroup(in CreateTargetGroupInput) (TargetGroup, error) {
	if in.Name == "" {
		return TargetGroup{}, elbRequired("name")
	}
	if why := elbNameProblem(in.Name); why != "" {
		return TargetGroup{}, elbValidation("Target group name '%s' %s", in.Name, why)
	}
	targetType := in.TargetType
	switch targetType {
	case "":
		targetType = TargetTypeInstance
	case TargetTypeInstance, TargetTypeIP:
	case "lambda", "alb":
		return TargetGroup{}, elbConfig("Target type '%s' is not supported: privlink target groups take 'instance' or 'ip' targets", targetType)
	default:
		return TargetGroup{}, elbEnum("targetType", targetType, TargetTypeInstance, TargetTypeIP, "lambda", "alb")
	}
	switch in.Protocol {
	case "":
		return TargetGroup{}, elbValidation("A protocol must be specified for target groups of type '%s'", targetType)
	case "TCP":
	case "HTTP", "HTTPS", "TLS", "UDP", "TCP_UDP", "GENEVE":
		return TargetGroup{}, elbConfig("Target group protocol '%s' is not supported: privlink target groups use TCP", in.Protocol)
	default:
		return TargetGroup{}, elbEnum("protocol", in.Protocol, "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE")
	}
	if in.ProtocolVersion != "" {
		return TargetGroup{}, elbConfig("A protocol version can be specified only for HTTP and HTTPS target groups")
	}
	if in.Port == nil {
		return TargetGroup{}, elbValidation("A port must be specified for target groups of type '%s'", targetType)
	}
	if *in.Port < 1 || *in.Port > 65535 {
		return TargetGroup{}, elbRange("port", *in.Port, 1, 65535)
	}
	if in.VpcID == "" {
		return TargetGroup{}, elbValidation("A VPC ID must be specified for target groups of type '%s'", targetType)
	}
	ipType := in.IPAddressType
	switch ipType {
	case "", "ipv4":
		ipType = "ipv4"
	case "ipv6":
		return TargetGroup{}, elbConfig("IP address type 'ipv6' is not supported: privlink target groups are IPv4 only")
	default:
		return TargetGroup{}, elbEnum("ipAddressType", ipType, "ipv4", "ipv6")
	}

	hc, err := applyHealthCheck(HealthCheck{}, healthCheckChange{
		Enabled: in.HealthCheckEnabled, Protocol: in.HealthCheckProtocol, Port: in.HealthCheckPort, Path: in.HealthCheckPath,
		Interval: in.HealthCheckIntervalSeconds, Timeout: in.HealthCheckTimeoutSeconds,
		Healthy: in.HealthyThresholdCount, Unhealthy: in.UnhealthyThresholdCount,
		MatcherHTTP: in.MatcherHTTPCode, MatcherGRPC: in.MatcherGRPCCode,
	}, targetType)
	if err != nil {
		return TargetGroup{}, err
	}
	return TargetGroup{
		Name:          in.Name,
		Protocol:      in.Protocol,
		Port:          *in.Port,
		VpcID:         in.VpcID,
		TargetType:    targetType,
		IPAddressType: ipType,
		HealthCheck:   hc,
		Tags:          slices.Clone(in.Tags),
	}, nil
}

// applyHealthCheck applies a change to a health check; a zero hc (no
// protocol) is a new group's, which starts from AWS's defaults for the
// protocol asked for. It checks every setting as ELBv2 does for a TCP
// target group of a network load balancer.
func applyHealthCheck(hc HealthCheck, in healthCheckChange, targetType string) (HealthCheck, error) {
	creating := hc.Protocol == ""
	if in.Enabled != nil && !*in.Enabled {
		return hc, elbConfig("Health checks cannot be disabled for target groups with target type '%s'", targetType)
	}
	proto := hc.Protocol
	switch in.Protocol {
	case "":
		if creating {
			proto = healthCheckProtoTCP
		}
	case healthCheckProtoTCP, healthCheckProtoHTTP, healthCheckProtoHTTPS:
		proto = in.Protocol
	case "TLS", "UDP", "TCP_UDP", "GENEVE":
		return hc, elbValidation("Health check protocol '%s' is not supported for health checks", in.Protocol)
	default:
		return hc, elbEnum("healthCheckProtocol", in.Protocol, "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE")
	}
	if creating {
		hc = HealthCheck{
			Enabled:            true,
			Protocol:           proto,
			Port:               TrafficPort,
			IntervalSeconds:    defaultHCInterval,
			TimeoutSeconds:     defaultHCTimeout,
			HealthyThreshold:   defaultHCHealthy,
			UnhealthyThreshold: defaultHCUnhealthy,
		}
		if proto == healthCheckProtoHTTP {
			hc.TimeoutSeconds = defaultHCTimeoutHTTP
		}
	}
	hc.Enabled = true
	hc.Protocol = proto
	httpCheck := proto == healthCheckProtoHTTP || proto == healthCheckProtoHTTPS
	if httpCheck {
		if hc.Path == "" {
			hc.Path = defaultHCPath
		}
		if hc.Matcher == "" {
			hc.Matcher = defaultHCMatcher
		}
	} else {
		hc.Path, hc.Matcher = "", ""
	}
	if p := in.Port; p != "" {
		if p == TrafficPort {
			hc.Port = TrafficPort
		} else {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return hc, elbValidation("Health check port '%s' must be 'traffic-port' or a number between 1 and 65535", p)
			}
			hc.Port = strconv.Itoa(n)
		}
	}
	if in.Path != "" {
		if !httpCheck {
			return hc, elbConfig("A health check path can be specified only for HTTP and HTTPS health checks")
		}
		if len(in.Path) > maxHCPathLength {
			return hc, elbValidation("1 validation error detected: Value '%s' at 'healthCheckPath' failed to satisfy constraint: Member must have length less than or equal to %d", clipValue(in.Path), maxHCPathLength)
		}
		if !validHealthCheckPath(in.Path) {
			return hc, elbValidation("Health check path '%s' is not valid: it must begin with '/' and contain only printable ASCII characters, without spaces", clipValue(in.Path))
		}
		hc.Path = in.Path
	}
	if in.MatcherGRPC != "" {
		return hc, elbConfig("A gRPC matcher can be specified only for HTTP and HTTPS target groups of protocol version GRPC")
	}
	if in.MatcherHTTP != "" {
		if !httpCheck {
			return hc, elbConfig("A health check matcher can be specified only for HTTP and HTTPS health checks")
		}
		m, ok := normalizeMatcher(in.MatcherHTTP)
		if !ok {
			return hc, elbValidation("Health check matcher HTTP code '%s' is not valid: specify codes from %d to %d, as a code ('200'), a list ('200,202') or a range ('200-399')", clipValue(in.MatcherHTTP), minHCCode, maxHCCode)
		}
		hc.Matcher = m
	}
	for _, f := range []struct {
		name   string
		v      *int32
		dst    *int32
		lo, hi int32
	}{
		{"healthCheckIntervalSeconds", in.Interval, &hc.IntervalSeconds, 5, 300},
		{"healthCheckTimeoutSeconds", in.Timeout, &hc.TimeoutSeconds, 2, 120},
		{"healthyThresholdCount", in.Healthy, &hc.HealthyThreshold, 2, 10},
		{"unhealthyThresholdCount", in.Unhealthy, &hc.UnhealthyThreshold, 2, 10},
	} {
		if f.v == nil {
			continue
		}
		if *f.v < f.lo || *f.v > f.hi {
			return hc, elbRange(f.name, *f.v, f.lo, f.hi)
		}
		*f.dst = *f.v
	}
	if hc.TimeoutSeconds > hc.IntervalSeconds {
		return hc, elbConfig("Health check timeout '%d' must not be greater than the health check interval '%d'", hc.TimeoutSeconds, hc.IntervalSeconds)
	}
	return hc, nil
}

// validHealthCheckPath reports whether p begins with "/" and is printable
// ASCII without spaces.
func validHealthCheckPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] > '~' {
			return false
		}
	}
	return true
}

// normalizeMatcher checks an HTTP matcher, a comma-separated list of codes
// and ranges ("200,202", "200-299", "200-299,404"), and returns it without
// spaces.
func normalizeMatcher(m string) (string, bool) {
	parts := strings.Split(m, ",")
	for i, part := range parts {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, okA := httpCode(lo)
		b := a
		okB := true
		if isRange {
			b, okB = httpCode(hi)
		}
		if !okA || !okB || a > b {
			return "", false
		}
		parts[i] = part
	}
	return strings.Join(parts, ","), true
}

func httpCode(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= minHCCode && n <= maxHCCode
}

// clipValue shortens a client's value quoted back in a message.
func clipValue(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}

// ModifyTargetGroup changes the health check of one of the caller's target
// groups and returns the group. Settings not given keep their values.
func (c *Cloud) ModifyTargetGroup(ctx context.Context, caller Caller, in ModifyTargetGroupInput) (TargetGroupDescription, error) {
	var out TargetGroupDescription
	err := c.update(ctx, func(t *txn) error {
		g, err := c.ownedTargetGroupByARN(t, caller, in.TargetGroupARN)
		if err != nil {
			return err
		}
		g.HealthCheck, err = applyHealthCheck(g.HealthCheck, healthCheckChange{
			Enabled: in.HealthCheckEnabled, Protocol: in.HealthCheckProtocol, Port: in.HealthCheckPort, Path: in.HealthCheckPath,
			Interval: in.HealthCheckIntervalSeconds, Timeout: in.HealthCheckTimeoutSeconds,
			Healthy: in.HealthyThresholdCount, Unhealthy: in.UnhealthyThresholdCount,
			MatcherHTTP: in.MatcherHTTPCode, MatcherGRPC: in.MatcherGRPCCode,
		}, g.TargetType)
		if err != nil {
			return err
		}
		if err := put(t, keyTargetGroup(g.ID), g); err != nil {
			return err
		}
		out, err = c.describeTargetGroup(t, g)
		return err
	})
	return out, err
}

// DescribeTargetGroups returns the caller's target groups selected by one of
// load balancer, ARNs or names.
func (c *Cloud) DescribeTargetGroups(ctx context.Context, caller Caller, in DescribeTargetGroupsInput) ([]TargetGroupDescription, error) {
	n := 0
	for _, given := range []bool{in.LoadBalancerARN != "", len(in.TargetGroupARNs) > 0, len(in.Names) > 0} {
		if given {
			n++
		}
	}
	if n > 1 {
		return nil, elbValidation("Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time")
	}
	for _, arn := range in.TargetGroupARNs {
		if _, ok := parseELBARN(arn, "targetgroup"); !ok {
			return nil, elbValidation("'%s' is not a valid target group ARN", arn)
		}
	}
	var out []TargetGroupDescription
	err := c.view(ctx, func(t *txn) error {
		out = nil
		all, err := listWhere(t, prefixTargetGroups, func(g *TargetGroup) bool { return g.OwnerID == caller.AccountID })
		if err != nil {
			return err
		}
		slices.SortStableFunc(all, func(a, b *TargetGroup) int { return a.CreatedAt.Compare(b.CreatedAt) })
		var pick []*TargetGroup
		switch {
		case in.LoadBalancerARN != "":
			lb, err := c.ownedLoadBalancerByARN(t, caller, in.LoadBalancerARN)
			if err != nil {
				return err
			}
			used := map[string]bool{}
			listeners, err := list[Listener](t, prefixListeners)
			if err != nil {
				return err
			}
			for _, l := range listeners {
				if l.LoadBalancerID == lb.ID {
					for _, arn := range listenerTargetGroupARNs(l) {
						used[arn] = true
					}
				}
			}
			for _, g := range all {
				if used[g.ARN] {
					pick = append(pick, g)
				}
			}
		case len(in.TargetGroupARNs) > 0:
			for _, arn := range distinctInOrder(in.TargetGroupARNs) {
				i := slices.IndexFunc(all, func(g *TargetGroup) bool { return g.ARN == arn })
				if i < 0 {
					return tgNotFound()
				}
				pick = append(pick, all[i])
			}
		case len(in.Names) > 0:
			var missing []string
			for _, name := range distinctInOrder(in.Names) {
				i := slices.IndexFunc(all, func(g *TargetGroup) bool { return g.Name == name })
				if i < 0 {
					missing = append(missing, name)
					continue
				}
				pick = append(pick, all[i])
			}
			if len(missing) > 0 {
				return Errorf(KindNotFound, "TargetGroupNotFound", "Target groups '[%s]' not found", strings.Join(missing, ", "))
			}
		default:
			pick = all
		}
		for _, g := range pick {
			d, err := c.describeTargetGroup(t, g)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

func (c *Cloud) describeTargetGroup(t *txn, g *TargetGroup) (TargetGroupDescription, error) {
	users, err := listenersUsing(t, g.ARN)
	if err != nil {
		return TargetGroupDescription{}, err
	}
	d := TargetGroupDescription{TargetGroup: g.clone()}
	for _, l := range users {
		if !slices.Contains(d.LoadBalancerARNs, l.LoadBalancerARN) {
			d.LoadBalancerARNs = append(d.LoadBalancerARNs, l.LoadBalancerARN)
		}
	}
	return d, nil
}

// DeleteTargetGroup deletes a target group that no listener uses, with its
// recorded target health. Deleting a group that does not exist succeeds.
func (c *Cloud) DeleteTargetGroup(ctx context.Context, caller Caller, arn string) error {
	id, ok := parseELBARN(arn, "targetgroup")
	if !ok {
		return elbValidation("'%s' is not a valid target group ARN", arn)
	}
	return c.update(ctx, func(t *txn) error {
		g, ok, err := get[TargetGroup](t, keyTargetGroup(id))
		if err != nil || !ok || g.OwnerID != caller.AccountID || g.ARN != arn {
			return err
		}
		users, err := listenersUsing(t, g.ARN)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return Errorf(KindConflict, "ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", g.ARN)
		}
		if err := deleteTargetHealth(t, g.ID, nil); err != nil {
			return err
		}
		return del(t, keyTargetGroup(g.ID))
	})
}

// RegisterTargets adds targets to a group. Instance targets must be pending
// or running instances of the caller in the group's VPC; IP targets must lie
// in a subnet of that VPC (privlink routes nowhere else). Each target's zone
// is recorded. Registering a registered target again changes nothing;
// registering a draining target cancels its deregistration, and it goes on
// in the health state it had, as on AWS.
func (c *Cloud) RegisterTargets(ctx context.Context, caller Caller, arn string, targets []TargetDescription) error {
	if len(targets) == 0 {
		return elbRequired("targets")
	}
	return c.update(ctx, func(t *txn) error {
		g, err := c.ownedTargetGroupByARN(t, caller, arn)
		if err != nil {
			return err
		}
		now := c.now()
		for i, td := range targets {
			port, err := targetPort(g, td, i)
			if err != nil {
				return err
			}
			zone, err := c.resolveTarget(t, caller, g, td, true)
			if err != nil {
				return err
			}
			if i := slices.IndexFunc(g.Targets, func(x Target) bool { return x.ID == td.ID && x.Port == port }); i >= 0 {
				g.Targets[i].DeregisteredAt = time.Time{}
				continue
			}
			g.Targets = append(g.Targets, Target{ID: td.ID, Port: port, AvailabilityZone: zone, RegisteredAt: now})
		}
		return put(t, keyTargetGroup(g.ID), g)
	})
}

// DeregisterTargets starts the deregistration of targets: each drains (no
// new flows, established ones continue) for the group's deregistration
// delay and then leaves the group with its recorded health
// (FinishDeregistrations). With a delay of 0 they leave at once. Targets
// that are not registered, or already draining, are left as they are, as on
// AWS.
func (c *Cloud) DeregisterTargets(ctx context.Context, caller Caller, arn string, targets []TargetDescription) error {
	if len(targets) == 0 {
		return elbRequired("targets")
	}
	return c.update(ctx, func(t *txn) error {
		g, err := c.ownedTargetGroupByARN(t, caller, arn)
		if err != nil {
			return err
		}
		now := c.now()
		drain := g.DeregistrationDelaySeconds() > 0
		var gone []Target
		for i, td := range targets {
			port, err := targetPort(g, td, i)
			if err != nil {
				return err
			}
			if !wellFormedTarget(g, td.ID) {
				return invalidTarget("The target '%s' is not a valid %s target", td.ID, g.TargetType)
			}
			g.Targets = slices.DeleteFunc(g.Targets, func(x Target) bool {
				if x.ID == td.ID && x.Port == port && !drain {
					gone = append(gone, x)
					return true
				}
				return false
			})
			for j := range g.Targets {
				if x := &g.Targets[j]; x.ID == td.ID && x.Port == port && !x.Draining() {
					x.DeregisteredAt = now
				}
			}
		}
		if len(gone) > 0 {
			if err := deleteTargetHealth(t, g.ID, gone); err != nil {
				return err
			}
		}
		return put(t, keyTargetGroup(g.ID), g)
	})
}

// DescribeTargetHealth reports the health of the requested targets, or of
// every registered target. A draining target is "draining" with
// Target.DeregistrationInProgress. A target of a group that no listener
// uses, or in a zone its load balancer does not serve, is "unused"; an
// instance that is not running is "unused" with Target.InvalidState;
// otherwise the state is what the health checker recorded, or "initial"
// until it has. A requested target that is valid but not registered is
// "unused" with Target.NotRegistered; one that does not exist is
// InvalidTarget.
func (c *Cloud) DescribeTargetHealth(ctx context.Context, caller Caller, in DescribeTargetHealthInput) ([]TargetHealthDescription, error) {
	for _, inc := range in.Include {
		if inc != "AnomalyDetection" && inc != "All" {
			return nil, elbEnum("include", inc, "AnomalyDetection", "All")
		}
	}
	var out []TargetHealthDescription
	err := c.view(ctx, func(t *txn) error {
		out = nil
		g, err := c.ownedTargetGroupByARN(t, caller, in.TargetGroupARN)
		if err != nil {
			return err
		}
		users, err := listenersUsing(t, g.ARN)
		if err != nil {
			return err
		}
		lbZones := map[string]bool{}
		for _, l := range users {
			lb, ok, err := get[LoadBalancer](t, keyLoadBalancer(l.LoadBalancerID))
			if err != nil {
				return err
			}
			if ok {
				for _, n := range lb.Nodes {
					lbZones[n.AvailabilityZone] = true
				}
			}
		}
		describe := func(x Target) error {
			d, err := c.targetHealth(t, g, x, len(users) > 0, lbZones)
			if err != nil {
				return err
			}
			out = append(out, d)
			return nil
		}
		if len(in.Targets) == 0 {
			for _, x := range g.Targets {
				if err := describe(x); err != nil {
					return err
				}
			}
			return nil
		}
		for i, td := range in.Targets {
			if td.Port != 0 {
				if _, err := targetPort(g, td, i); err != nil {
					return err
				}
			}
			if !wellFormedTarget(g, td.ID) {
				return invalidTarget("The target '%s' is not a valid %s target", td.ID, g.TargetType)
			}
			found := false
			for _, x := range g.Targets {
				if x.ID == td.ID && (td.Port == 0 || x.Port == td.Port) {
					found = true
					if err := describe(x); err != nil {
						return err
					}
				}
			}
			if found {
				continue
			}
			zone, err := c.resolveTarget(t, caller, g, td, false)
			if err != nil {
				return err
			}
			port := td.Port
			if port == 0 {
				port = g.Port
			}
			out = append(out, TargetHealthDescription{
				Target:          TargetDescription{ID: td.ID, Port: port, AvailabilityZone: zone},
				HealthCheckPort: healthCheckPort(g, port),
				State:           TargetUnused,
				Reason:          ReasonNotRegistered,
				Description:     "Target is not registered to the target group",
			})
		}
		return nil
	})
	return out, err
}

// targetHealth computes one registered target's health description.
func (c *Cloud) targetHealth(t *txn, g *TargetGroup, x Target, inUse bool, lbZones map[string]bool) (TargetHealthDescription, error) {
	d := TargetHealthDescription{
		Target:          TargetDescription{ID: x.ID, Port: x.Port},
		HealthCheckPort: healthCheckPort(g, x.Port),
	}
	zone := x.AvailabilityZone
	if g.TargetType == TargetTypeIP {
		d.Target.AvailabilityZone = zone
	}
	set := func(state, reason, desc string) (TargetHealthDescription, error) {
		d.State, d.Reason, d.Description = state, reason, desc
		return d, nil
	}
	if x.Draining() {
		return set(TargetDraining, ReasonDeregistration, "Target deregistration is in progress")
	}
	if g.TargetType == TargetTypeInstance {
		in, ok, err := get[Instance](t, keyInstance(x.ID))
		if err != nil {
			return d, err
		}
		switch {
		case !ok || in.State == InstanceTerminated || in.State == InstanceShuttingDown:
			return set(TargetUnused, ReasonInvalidState, "Target is in the terminated state")
		case in.State == "stopped" || in.State == "stopping":
			return set(TargetUnused, ReasonInvalidState, "Target is in the stopped state")
		}
		zone = in.AvailabilityZone
	}
	if !inUse {
		return set(TargetUnused, ReasonNotInUse, "Target group is not configured to receive traffic from the load balancer")
	}
	if !lbZones[zone] {
		return set(TargetUnused, ReasonNotInUse, "Target is in an Availability Zone that is not enabled for the load balancer")
	}
	h, ok, err := get[TargetHealth](t, keyTargetHealth(g.ID, x.ID, x.Port))
	if err != nil {
		return d, err
	}
	if ok {
		return set(h.State, h.Reason, h.Description)
	}
	return set(TargetInitial, ReasonInitialHealthChecking, "Initial health checks in progress")
}

// resolveTarget checks that a target can belong to the group and returns its
// zone. With forRegistration, instances must also be pending or running.
func (c *Cloud) resolveTarget(t *txn, caller Caller, g *TargetGroup, td TargetDescription, forRegistration bool) (string, error) {
	if g.TargetType == TargetTypeInstance {
		if td.AvailabilityZone != "" {
			return "", elbValidation("An Availability Zone cannot be specified for targets of type 'instance'")
		}
		if !validID(td.ID, "i") {
			return "", invalidTarget("Instance ID '%s' is not valid", td.ID)
		}
		in, ok, err := get[Instance](t, keyInstance(td.ID))
		if err != nil {
			return "", err
		}
		if !ok || in.OwnerID != caller.AccountID {
			return "", invalidTarget("Instance ID '%s' is not valid", td.ID)
		}
		if in.VpcID != g.VpcID {
			return "", invalidTarget("The following targets are not in the target group VPC '%s': '%s'", g.VpcID, td.ID)
		}
		if forRegistration && in.State != InstanceRunning && in.State != InstancePending {
			return "", invalidTarget("The following targets are not in a running state and cannot be registered: '%s'", td.ID)
		}
		return in.AvailabilityZone, nil
	}
	ip, err := netip.ParseAddr(td.ID)
	if err != nil || !ip.Is4() {
		return "", invalidTarget("The IP address '%s' is not a valid IPv4 address", td.ID)
	}
	vpc, ok, err := get[VPC](t, keyVPC(g.VpcID))
	if err != nil {
		return "", err
	}
	if !ok || !vpc.CIDR.Contains(ip) {
		return "", invalidTarget("The IP address '%s' is not within the CIDR of the target group VPC '%s'; privlink supports IP targets inside that VPC only", td.ID, g.VpcID)
	}
	subnets, err := list[Subnet](t, prefixSubnets)
	if err != nil {
		return "", err
	}
	for _, s := range subnets {
		if s.VpcID != g.VpcID || !s.CIDR.Contains(ip) {
			continue
		}
		if td.AvailabilityZone != "" && td.AvailabilityZone != "all" && td.AvailabilityZone != s.AvailabilityZone {
			return "", elbValidation("The Availability Zone '%s' does not match the zone '%s' of IP address '%s'", td.AvailabilityZone, s.AvailabilityZone, td.ID)
		}
		return s.AvailabilityZone, nil
	}
	return "", invalidTarget("The IP address '%s' is not within a subnet of VPC '%s'", td.ID, g.VpcID)
}

// wellFormedTarget reports whether id has the form of the group's targets.
func wellFormedTarget(g *TargetGroup, id string) bool {
	if g.TargetType == TargetTypeInstance {
		return validID(id, "i")
	}
	ip, err := netip.ParseAddr(id)
	return err == nil && ip.Is4()
}

// targetPort is a target's port: its own, or the group's.
func targetPort(g *TargetGroup, td TargetDescription, i int) (int32, error) {
	if td.ID == "" {
		return 0, elbRequired("targets." + strconv.Itoa(i+1) + ".member.id")
	}
	if td.Port == 0 {
		return g.Port, nil
	}
	if td.Port < 1 || td.Port > 65535 {
		return 0, elbRange("targets."+strconv.Itoa(i+1)+".member.port", td.Port, 1, 65535)
	}
	return td.Port, nil
}

func healthCheckPort(g *TargetGroup, port int32) string {
	if g.HealthCheck.Port == TrafficPort || g.HealthCheck.Port == "" {
		return strconv.Itoa(int(port))
	}
	return g.HealthCheck.Port
}

// ownedTargetGroupByARN finds one of the caller's target groups.
func (c *Cloud) ownedTargetGroupByARN(t *txn, caller Caller, arn string) (*TargetGroup, error) {
	if arn == "" {
		return nil, elbRequired("targetGroupArn")
	}
	id, ok := parseELBARN(arn, "targetgroup")
	if !ok {
		return nil, elbValidation("'%s' is not a valid target group ARN", arn)
	}
	g, ok, err := get[TargetGroup](t, keyTargetGroup(id))
	if err != nil {
		return nil, err
	}
	if !ok || g.OwnerID != caller.AccountID || g.ARN != arn {
		return nil, tgNotFound()
	}
	return g, nil
}

// listenersUsing lists the listeners that forward to the target group.
func listenersUsing(t *txn, tgARN string) ([]*Listener, error) {
	all, err := list[Listener](t, prefixListeners)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(l *Listener) bool {
		return !slices.Contains(listenerTargetGroupARNs(l), tgARN)
	}), nil
}

// deleteTargetHealth removes recorded health of the targets (all of the
// group's when targets is nil).
func deleteTargetHealth(t *txn, tgID string, targets []Target) error {
	if targets == nil {
		kvs, err := t.tx.List(prefixTargetHealthOf(tgID))
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := t.tx.Delete(kv.Key); err != nil {
				return err
			}
		}
		return nil
	}
	for _, x := range targets {
		if err := del(t, keyTargetHealth(tgID, x.ID, x.Port)); err != nil {
			return err
		}
	}
	return nil
}

// forgetUnusedTargetHealth drops the recorded health of target groups that
// no listener uses any more: their targets are "unused" until a listener
// uses them again, and then start over in "initial".
func (c *Cloud) forgetUnusedTargetHealth(t *txn, tgARNs []string) error {
	for _, arn := range distinctInOrder(tgARNs) {
		users, err := listenersUsing(t, arn)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			continue
		}
		if id, ok := parseELBARN(arn, "targetgroup"); ok {
			if err := deleteTargetHealth(t, id, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func tgNotFound() *Error {
	return Errorf(KindNotFound, "TargetGroupNotFound", "One or more target groups not found")
}

func invalidTarget(format string, args ...any) *Error {
	return Errorf(KindInvalid, "InvalidTarget", format, args...)
}
