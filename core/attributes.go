package core

import (
	"context"
	"maps"
	"strconv"
	"strings"
)

// Attributes of load balancers, target groups and listeners, as Elastic Load
// Balancing names them. Objects store only the values a user set; reads
// fall back to AWS's defaults for a network load balancer, so a default
// never has to be written down twice.
//
// Modify* validates every key and value before it changes anything: a key
// that network load balancers do not have, or a value of the wrong form or
// out of range, is a ValidationError; a well-formed value that contradicts
// the object's configuration is an InvalidConfigurationRequest.

// Target group attribute keys.
const (
	AttrDeregistrationDelay            = "deregistration_delay.timeout_seconds"
	AttrDeregistrationTermination      = "deregistration_delay.connection_termination.enabled"
	AttrPreserveClientIP               = "preserve_client_ip.enabled"
	AttrProxyProtocolV2                = "proxy_protocol_v2.enabled"
	AttrStickinessEnabled              = "stickiness.enabled"
	AttrStickinessType                 = "stickiness.type"
	AttrCrossZone                      = "load_balancing.cross_zone.enabled"
	AttrUnhealthyTermination           = "target_health_state.unhealthy.connection_termination.enabled"
	AttrUnhealthyDrainingInterval      = "target_health_state.unhealthy.draining_interval_seconds"
	AttrDNSFailoverMinHealthyCount     = "target_group_health.dns_failover.minimum_healthy_targets.count"
	AttrDNSFailoverMinHealthyPercent   = "target_group_health.dns_failover.minimum_healthy_targets.percentage"
	AttrUnhealthyRoutingMinCount       = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count"
	AttrUnhealthyRoutingMinPercent     = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage"
	CrossZoneUseLoadBalancerConfig     = "use_load_balancer_configuration"
	defaultDeregistrationDelaySeconds  = 300
	defaultListenerIdleTimeoutSeconds  = 350
	defaultUnhealthyDrainingIntervalS  = 0
	defaultMinimumHealthyTargetsCount  = 1
	minimumHealthyTargetsPercentageOff = "off"
)

// Load balancer attribute keys (network load balancers). Cross-zone load
// balancing shares its key with the target group attribute AttrCrossZone.
const (
	AttrDeletionProtection     = "deletion_protection.enabled"
	AttrAccessLogsEnabled      = "access_logs.s3.enabled"
	AttrAccessLogsBucket       = "access_logs.s3.bucket"
	AttrAccessLogsPrefix       = "access_logs.s3.prefix"
	AttrIPv6DenyAllIGWTraffic  = "ipv6.deny_all_igw_traffic"
	AttrDNSClientRoutingPolicy = "dns_record.client_routing_policy"
	AttrZonalShift             = "zonal_shift.config.enabled"
	AttrSecondaryIPsPerSubnet  = "secondary_ips.auto_assigned.per_subnet"
)

// Listener attribute keys (TCP listeners of network load balancers).
const (
	AttrTCPIdleTimeout = "tcp.idle_timeout.seconds"
)

// Attribute is one attribute of a load balancer, target group or listener.
type Attribute struct{ Key, Value string }

// AttributeDefault is one attribute and its default value.
type AttributeDefault = Attribute

// TargetGroupAttributeDefaults lists every attribute a network load
// balancer's target group has, with AWS's default, in the order
// DescribeTargetGroupAttributes reports them.
func TargetGroupAttributeDefaults(g *TargetGroup) []AttributeDefault {
	preserve := "true"
	if g.TargetType == TargetTypeIP {
		preserve = "false" // AWS: off by default for ip targets over TCP
	}
	return []AttributeDefault{
		{AttrDeregistrationDelay, strconv.Itoa(defaultDeregistrationDelaySeconds)},
		{AttrDeregistrationTermination, "false"},
		{AttrPreserveClientIP, preserve},
		{AttrProxyProtocolV2, "false"},
		{AttrStickinessEnabled, "false"},
		{AttrStickinessType, "source_ip"},
		{AttrCrossZone, CrossZoneUseLoadBalancerConfig},
		{AttrUnhealthyTermination, "true"},
		{AttrUnhealthyDrainingInterval, strconv.Itoa(defaultUnhealthyDrainingIntervalS)},
		{AttrDNSFailoverMinHealthyCount, strconv.Itoa(defaultMinimumHealthyTargetsCount)},
		{AttrDNSFailoverMinHealthyPercent, minimumHealthyTargetsPercentageOff},
		{AttrUnhealthyRoutingMinCount, strconv.Itoa(defaultMinimumHealthyTargetsCount)},
		{AttrUnhealthyRoutingMinPercent, minimumHealthyTargetsPercentageOff},
	}
}

// LoadBalancerAttributeDefaults lists every attribute of a network load
// balancer with AWS's default. ipv6.deny_all_igw_traffic defaults to true
// for internal load balancers and to false for internet-facing ones (lb
// nil: internet-facing).
func LoadBalancerAttributeDefaults(lb *LoadBalancer) []AttributeDefault {
	denyIGW := "false"
	if lb != nil && lb.Scheme == SchemeInternal {
		denyIGW = "true"
	}
	return []AttributeDefault{
		{AttrAccessLogsEnabled, "false"},
		{AttrAccessLogsBucket, ""},
		{AttrAccessLogsPrefix, ""},
		{AttrCrossZone, "false"},
		{AttrDeletionProtection, "false"},
		{AttrDNSClientRoutingPolicy, "any_availability_zone"},
		{AttrIPv6DenyAllIGWTraffic, denyIGW},
		{AttrSecondaryIPsPerSubnet, "0"},
		{AttrZonalShift, "false"},
	}
}

// ListenerAttributeDefaults lists every attribute of a TCP listener with
// AWS's default.
func ListenerAttributeDefaults() []AttributeDefault {
	return []AttributeDefault{{AttrTCPIdleTimeout, strconv.Itoa(defaultListenerIdleTimeoutSeconds)}}
}

func attribute(set map[string]string, defaults []AttributeDefault, key string) string {
	if v, ok := set[key]; ok {
		return v
	}
	for _, d := range defaults {
		if d.Key == key {
			return d.Value
		}
	}
	return ""
}

// allAttributes lists every attribute in the defaults' order with its value.
func allAttributes(set map[string]string, defaults []AttributeDefault) []Attribute {
	out := make([]Attribute, len(defaults))
	for i, d := range defaults {
		out[i] = Attribute{Key: d.Key, Value: attribute(set, defaults, d.Key)}
	}
	return out
}

// Attribute returns the value of one of the group's attributes: the one set,
// else AWS's default ("" for an unknown key).
func (g *TargetGroup) Attribute(key string) string {
	return attribute(g.Attributes, TargetGroupAttributeDefaults(g), key)
}

// Attribute returns the value of one of the load balancer's attributes.
func (lb *LoadBalancer) Attribute(key string) string {
	return attribute(lb.Attributes, LoadBalancerAttributeDefaults(lb), key)
}

// Attribute returns the value of one of the listener's attributes.
func (l *Listener) Attribute(key string) string {
	return attribute(l.Attributes, ListenerAttributeDefaults(), key)
}

// DeregistrationDelaySeconds is how long a deregistered target drains.
func (g *TargetGroup) DeregistrationDelaySeconds() int {
	n, err := strconv.Atoi(g.Attribute(AttrDeregistrationDelay))
	if err != nil {
		return defaultDeregistrationDelaySeconds
	}
	return n
}

// IdleTimeoutSeconds is how long a flow through the listener may stay idle.
func (l *Listener) IdleTimeoutSeconds() int {
	n, err := strconv.Atoi(l.Attribute(AttrTCPIdleTimeout))
	if err != nil {
		return defaultListenerIdleTimeoutSeconds
	}
	return n
}

// CrossZone reports whether a target group's targets in every zone get
// traffic from every node of lb, by the group's setting or, when the group
// defers, the load balancer's.
func (g *TargetGroup) CrossZone(lb *LoadBalancer) bool {
	switch g.Attribute(AttrCrossZone) {
	case "true":
		return true
	case "false":
		return false
	}
	return lb != nil && lb.Attribute(AttrCrossZone) == "true"
}

// An attrRule checks one attribute value. It returns the value in the form
// it is stored and described in, or why it is not valid ("it must be …").
type attrRule func(v string) (canonical, problem string)

func boolRule(v string) (string, string) {
	if v == "true" || v == "false" {
		return v, ""
	}
	return "", "it must be 'true' or 'false'"
}

func intRule(lo, hi int) attrRule {
	return func(v string) (string, string) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return "", "it must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
		}
		return strconv.Itoa(n), ""
	}
}

// offOrIntRule accepts "off" or an integer in range.
func offOrIntRule(lo, hi int) attrRule {
	ints := intRule(lo, hi)
	return func(v string) (string, string) {
		if v == "off" {
			return v, ""
		}
		if c, problem := ints(v); problem == "" {
			return c, ""
		}
		return "", "it must be 'off' or an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
	}
}

func enumRule(values ...string) attrRule {
	return func(v string) (string, string) {
		for _, ok := range values {
			if v == ok {
				return v, ""
			}
		}
		return "", "it must be one of '" + strings.Join(values, "', '") + "'"
	}
}

func anyRule(v string) (string, string) { return v, "" }

// maxTargetsPerGroup bounds the minimum-healthy-targets counts: AWS allows
// up to the number of targets a group may have.
const maxTargetsPerGroup = 1000

// targetGroupRule returns the rule of a target group attribute key, false
// for keys network load balancers' TCP target groups do not have.
func targetGroupRule(key string) (attrRule, bool) {
	switch key {
	case AttrDeregistrationDelay:
		return intRule(0, 3600), true
	case AttrUnhealthyDrainingInterval:
		return intRule(0, 360000), true
	case AttrDeregistrationTermination, AttrPreserveClientIP, AttrProxyProtocolV2, AttrStickinessEnabled, AttrUnhealthyTermination:
		return boolRule, true
	case AttrStickinessType:
		// Stickiness types of other load balancers are well formed but
		// refused for TCP groups (checkTargetGroupAttributes).
		return enumRule("source_ip", "lb_cookie", "app_cookie", "source_ip_dest_ip", "source_ip_dest_ip_proto"), true
	case AttrCrossZone:
		return enumRule("true", "false", CrossZoneUseLoadBalancerConfig), true
	case AttrDNSFailoverMinHealthyCount:
		return offOrIntRule(1, maxTargetsPerGroup), true
	case AttrUnhealthyRoutingMinCount:
		return intRule(1, maxTargetsPerGroup), true
	case AttrDNSFailoverMinHealthyPercent, AttrUnhealthyRoutingMinPercent:
		return offOrIntRule(1, 100), true
	}
	return nil, false
}

// loadBalancerRule returns the rule of a network load balancer attribute.
func loadBalancerRule(key string) (attrRule, bool) {
	switch key {
	case AttrDeletionProtection, AttrAccessLogsEnabled, AttrCrossZone, AttrIPv6DenyAllIGWTraffic, AttrZonalShift:
		return boolRule, true
	case AttrAccessLogsBucket, AttrAccessLogsPrefix:
		return anyRule, true
	case AttrDNSClientRoutingPolicy:
		return enumRule("availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"), true
	case AttrSecondaryIPsPerSubnet:
		return intRule(0, 7), true
	}
	return nil, false
}

// listenerRule returns the rule of a TCP listener attribute.
func listenerRule(key string) (attrRule, bool) {
	if key == AttrTCPIdleTimeout {
		return intRule(60, 6000), true
	}
	return nil, false
}

// mergeAttributes validates changes against the rules and returns the set
// values with the changes applied; set is not modified. Within one request
// a later value of a key wins. noun names the object in messages ("Target
// group").
func mergeAttributes(set map[string]string, changes []Attribute, noun string, rule func(string) (attrRule, bool)) (map[string]string, error) {
	if len(changes) == 0 {
		return nil, elbRequired("attributes")
	}
	out := maps.Clone(set)
	if out == nil {
		out = map[string]string{}
	}
	for _, a := range changes {
		r, ok := rule(a.Key)
		if !ok {
			return nil, elbValidation("%s attribute key '%s' is not recognized", noun, a.Key)
		}
		v, problem := r(a.Value)
		if problem != "" {
			return nil, elbValidation("The value '%s' is not valid for %s attribute '%s': %s", a.Value, strings.ToLower(noun), a.Key, problem)
		}
		out[a.Key] = v
	}
	return out, nil
}

// checkTargetGroupAttributes checks the rules between a TCP target group's
// attributes, after a change.
func checkTargetGroupAttributes(g *TargetGroup) error {
	if st := g.Attribute(AttrStickinessType); st != "source_ip" {
		return elbConfig("Stickiness type '%s' is not supported for target groups with the %s protocol", st, g.Protocol)
	}
	if g.Attribute(AttrUnhealthyTermination) == "true" && g.Attribute(AttrUnhealthyDrainingInterval) != "0" {
		return elbConfig("The attribute '%s' can be set only when '%s' is 'false'", AttrUnhealthyDrainingInterval, AttrUnhealthyTermination)
	}
	for _, pair := range [][2]string{
		{AttrDNSFailoverMinHealthyCount, AttrUnhealthyRoutingMinCount},
		{AttrDNSFailoverMinHealthyPercent, AttrUnhealthyRoutingMinPercent},
	} {
		// Only thresholds the user set for both actions are compared.
		dns, errD := strconv.Atoi(g.Attributes[pair[0]])
		routing, errR := strconv.Atoi(g.Attributes[pair[1]])
		if errD == nil && errR == nil && dns < routing {
			return elbConfig("The DNS failover threshold '%s' (%d) must be greater than or equal to the routing failover threshold '%s' (%d)", pair[0], dns, pair[1], routing)
		}
	}
	return nil
}

// DescribeTargetGroupAttributes returns every attribute of one of the
// caller's target groups with its value, set or default.
func (c *Cloud) DescribeTargetGroupAttributes(ctx context.Context, caller Caller, arn string) ([]Attribute, error) {
	var out []Attribute
	err := c.view(ctx, func(t *txn) error {
		g, err := c.ownedTargetGroupByARN(t, caller, arn)
		if err != nil {
			return err
		}
		out = allAttributes(g.Attributes, TargetGroupAttributeDefaults(g))
		return nil
	})
	return out, err
}

// ModifyTargetGroupAttributes sets attributes of one of the caller's target
// groups and returns all of them. A request with any invalid key or value
// changes nothing.
func (c *Cloud) ModifyTargetGroupAttributes(ctx context.Context, caller Caller, arn string, attrs []Attribute) ([]Attribute, error) {
	var out []Attribute
	err := c.update(ctx, func(t *txn) error {
		g, err := c.ownedTargetGroupByARN(t, caller, arn)
		if err != nil {
			return err
		}
		if g.Attributes, err = mergeAttributes(g.Attributes, attrs, "Target group", targetGroupRule); err != nil {
			return err
		}
		if err := checkTargetGroupAttributes(g); err != nil {
			return err
		}
		if err := put(t, keyTargetGroup(g.ID), g); err != nil {
			return err
		}
		out = allAttributes(g.Attributes, TargetGroupAttributeDefaults(g))
		return nil
	})
	return out, err
}

// DescribeLoadBalancerAttributes returns every attribute of one of the
// caller's load balancers with its value.
func (c *Cloud) DescribeLoadBalancerAttributes(ctx context.Context, caller Caller, arn string) ([]Attribute, error) {
	if arn == "" {
		return nil, elbRequired("loadBalancerArn")
	}
	var out []Attribute
	err := c.view(ctx, func(t *txn) error {
		lb, err := c.ownedLoadBalancerByARN(t, caller, arn)
		if err != nil {
			return err
		}
		out = allAttributes(lb.Attributes, LoadBalancerAttributeDefaults(lb))
		return nil
	})
	return out, err
}

// ModifyLoadBalancerAttributes sets attributes of one of the caller's load
// balancers and returns all of them. A request with any invalid key or
// value changes nothing.
func (c *Cloud) ModifyLoadBalancerAttributes(ctx context.Context, caller Caller, arn string, attrs []Attribute) ([]Attribute, error) {
	if arn == "" {
		return nil, elbRequired("loadBalancerArn")
	}
	var out []Attribute
	err := c.update(ctx, func(t *txn) error {
		lb, err := c.ownedLoadBalancerByARN(t, caller, arn)
		if err != nil {
			return err
		}
		before := *lb
		if lb.Attributes, err = mergeAttributes(lb.Attributes, attrs, "Load balancer", loadBalancerRule); err != nil {
			return err
		}
		if err := c.checkLoadBalancerAttributes(t, &before, lb); err != nil {
			return err
		}
		if err := put(t, keyLoadBalancer(lb.ID), lb); err != nil {
			return err
		}
		out = allAttributes(lb.Attributes, LoadBalancerAttributeDefaults(lb))
		return nil
	})
	return out, err
}

// checkLoadBalancerAttributes checks a load balancer's attributes after a
// change, against its old ones and its target groups.
func (c *Cloud) checkLoadBalancerAttributes(t *txn, before, lb *LoadBalancer) error {
	if lb.Attribute(AttrAccessLogsEnabled) == "true" {
		if lb.Attribute(AttrAccessLogsBucket) == "" {
			return elbConfig("The value of '%s' cannot be empty when access logs are enabled", AttrAccessLogsBucket)
		}
		return elbConfig("Access logs cannot be enabled: privlink has no S3 bucket '%s' to deliver them to", lb.Attribute(AttrAccessLogsBucket))
	}
	oldIPs, _ := strconv.Atoi(before.Attribute(AttrSecondaryIPsPerSubnet))
	if newIPs, _ := strconv.Atoi(lb.Attribute(AttrSecondaryIPsPerSubnet)); newIPs < oldIPs {
		return elbConfig("The value of '%s' cannot be decreased from %d to %d", AttrSecondaryIPsPerSubnet, oldIPs, newIPs)
	}
	if lb.Attribute(AttrZonalShift) != "true" || lb.Attribute(AttrCrossZone) != "true" {
		return nil
	}
	// With cross-zone load balancing on, zonal shift needs every target
	// group to follow the load balancer across zones and to keep its flows
	// to unhealthy targets.
	listeners, err := list[Listener](t, prefixListeners)
	if err != nil {
		return err
	}
	for _, l := range listeners {
		if l.LoadBalancerID != lb.ID {
			continue
		}
		for _, arn := range listenerTargetGroupARNs(l) {
			id, _ := parseELBARN(arn, "targetgroup")
			g, ok, err := get[TargetGroup](t, keyTargetGroup(id))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if g.Attribute(AttrCrossZone) == "false" || g.Attribute(AttrUnhealthyTermination) != "false" {
				return elbConfig("Zonal shift cannot be enabled for a load balancer with cross-zone load balancing: target group '%s' must have '%s' set to 'true' or '%s' and '%s' set to 'false'",
					g.ARN, AttrCrossZone, CrossZoneUseLoadBalancerConfig, AttrUnhealthyTermination)
			}
		}
	}
	return nil
}

// DescribeListenerAttributes returns every attribute of one of the caller's
// listeners with its value.
func (c *Cloud) DescribeListenerAttributes(ctx context.Context, caller Caller, arn string) ([]Attribute, error) {
	var out []Attribute
	err := c.view(ctx, func(t *txn) error {
		l, err := ownedListenerByARN(t, caller, arn)
		if err != nil {
			return err
		}
		out = allAttributes(l.Attributes, ListenerAttributeDefaults())
		return nil
	})
	return out, err
}

// ModifyListenerAttributes sets attributes of one of the caller's listeners
// and returns all of them. A request with any invalid key or value changes
// nothing.
func (c *Cloud) ModifyListenerAttributes(ctx context.Context, caller Caller, arn string, attrs []Attribute) ([]Attribute, error) {
	var out []Attribute
	err := c.update(ctx, func(t *txn) error {
		l, err := ownedListenerByARN(t, caller, arn)
		if err != nil {
			return err
		}
		if l.Attributes, err = mergeAttributes(l.Attributes, attrs, "Listener", listenerRule); err != nil {
			return err
		}
		if err := put(t, keyListener(l.ID), l); err != nil {
			return err
		}
		out = allAttributes(l.Attributes, ListenerAttributeDefaults())
		return nil
	})
	return out, err
}
