package core

import "strconv"

// Attributes of load balancers, target groups and listeners, as Elastic Load
// Balancing names them. Objects store only the values a user set; reads
// fall back to AWS's defaults for a network load balancer, so a default
// never has to be written down twice.

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
)

// Listener attribute keys (TCP listeners of network load balancers).
const (
	AttrTCPIdleTimeout = "tcp.idle_timeout.seconds"
)

// AttributeDefault is one attribute and its default value.
type AttributeDefault struct{ Key, Value string }

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
// balancer with AWS's default.
func LoadBalancerAttributeDefaults() []AttributeDefault {
	return []AttributeDefault{
		{AttrAccessLogsEnabled, "false"},
		{AttrAccessLogsBucket, ""},
		{AttrAccessLogsPrefix, ""},
		{AttrCrossZone, "false"},
		{AttrDeletionProtection, "false"},
		{AttrDNSClientRoutingPolicy, "any_availability_zone"},
		{AttrIPv6DenyAllIGWTraffic, "false"},
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

// Attribute returns the value of one of the group's attributes: the one set,
// else AWS's default ("" for an unknown key).
func (g *TargetGroup) Attribute(key string) string {
	return attribute(g.Attributes, TargetGroupAttributeDefaults(g), key)
}

// Attribute returns the value of one of the load balancer's attributes.
func (lb *LoadBalancer) Attribute(key string) string {
	return attribute(lb.Attributes, LoadBalancerAttributeDefaults(), key)
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
