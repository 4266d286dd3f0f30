// Package metrics serves GET /metrics: Prometheus text with counters for
// every endpoint, endpoint service and network load balancer, named after
// the CloudWatch metrics AWS publishes for them (AWS/PrivateLinkEndpoints,
// AWS/PrivateLinkServices, AWS/NetworkELB). Counts come from the kernel's
// counters in the lab (see lab.EndpointCounters) and health from the store,
// read at scrape time.
package metrics

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/lab"
)

// Counters reads the data path's counters, one scrape at a time (each
// namespace read once per scrape). *lab.Lab is one.
type Counters interface {
	Scrape() *lab.Scrape
}

// Handler returns the /metrics handler. counters is nil for a server
// without a lab: only what the store knows is reported then.
func Handler(cloud *core.Cloud, counters Counters, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{cloud: cloud, counters: counters, log: log})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func newFamily(name, help string, typ prometheus.ValueType, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), typ}
}

var (
	endpointLabels = []string{"owner_id", "vpc_endpoint_id", "vpc_id", "subnet_id", "service_name"}
	serviceLabels  = []string{"owner_id", "service_id"}
	nlbLabels      = []string{"owner_id", "load_balancer", "availability_zone"}
	hostLabels     = []string{"owner_id", "load_balancer", "target_group"}

	epActive  = newFamily("privlink_endpoint_active_connections", "Established flows through the endpoint interface (AWS/PrivateLinkEndpoints ActiveConnections).", prometheus.GaugeValue, endpointLabels...)
	epNew     = newFamily("privlink_endpoint_new_connections_total", "Flows the endpoint interface accepted (AWS/PrivateLinkEndpoints NewConnections).", prometheus.CounterValue, endpointLabels...)
	epBytes   = newFamily("privlink_endpoint_bytes_processed_total", "Bytes through the endpoint interface, both directions (AWS/PrivateLinkEndpoints BytesProcessed).", prometheus.CounterValue, endpointLabels...)
	epDropped = newFamily("privlink_endpoint_packets_dropped_total", "Packets to the endpoint interface that opened no flow: refused by its security groups, an endpoint that takes no traffic, or a port with no listener (AWS/PrivateLinkEndpoints PacketsDropped).", prometheus.CounterValue, endpointLabels...)
	epRST     = newFamily("privlink_endpoint_rst_packets_received_total", "TCP resets clients sent through the endpoint interface (AWS/PrivateLinkEndpoints RstPacketsReceived).", prometheus.CounterValue, endpointLabels...)

	svcActive    = newFamily("privlink_service_active_connections", "Established flows from all endpoints of the service (AWS/PrivateLinkServices ActiveConnections).", prometheus.GaugeValue, serviceLabels...)
	svcNew       = newFamily("privlink_service_new_connections_total", "Flows from all endpoints of the service (AWS/PrivateLinkServices NewConnections).", prometheus.CounterValue, serviceLabels...)
	svcBytes     = newFamily("privlink_service_bytes_processed_total", "Bytes between the service and its endpoints (AWS/PrivateLinkServices BytesProcessed).", prometheus.CounterValue, serviceLabels...)
	svcEndpoints = newFamily("privlink_service_endpoints_count", "Endpoints connected to the service (AWS/PrivateLinkServices EndpointsCount).", prometheus.GaugeValue, serviceLabels...)
	svcRST       = newFamily("privlink_service_rst_packets_sent_total", "TCP resets the service sent to endpoints (AWS/PrivateLinkServices RstPacketsSent).", prometheus.CounterValue, serviceLabels...)

	nlbActive    = newFamily("privlink_nlb_active_flow_count", "Established flows through the load balancer node (AWS/NetworkELB ActiveFlowCount).", prometheus.GaugeValue, nlbLabels...)
	nlbNew       = newFamily("privlink_nlb_new_flow_count_total", "Flows the load balancer node sent to targets (AWS/NetworkELB NewFlowCount).", prometheus.CounterValue, nlbLabels...)
	nlbBytes     = newFamily("privlink_nlb_processed_bytes_total", "Bytes through the load balancer node (AWS/NetworkELB ProcessedBytes).", prometheus.CounterValue, nlbLabels...)
	nlbClientRST = newFamily("privlink_nlb_tcp_client_reset_count_total", "TCP resets clients sent to targets (AWS/NetworkELB TCP_Client_Reset_Count).", prometheus.CounterValue, nlbLabels...)
	nlbTargetRST = newFamily("privlink_nlb_tcp_target_reset_count_total", "TCP resets targets sent to clients (AWS/NetworkELB TCP_Target_Reset_Count).", prometheus.CounterValue, nlbLabels...)
	nlbHealthy   = newFamily("privlink_nlb_healthy_host_count", "Healthy targets of the target group (AWS/NetworkELB HealthyHostCount).", prometheus.GaugeValue, hostLabels...)
	nlbUnhealthy = newFamily("privlink_nlb_unhealthy_host_count", "Unhealthy targets of the target group (AWS/NetworkELB UnHealthyHostCount).", prometheus.GaugeValue, hostLabels...)

	families = []family{epActive, epNew, epBytes, epDropped, epRST, svcActive, svcNew, svcBytes, svcEndpoints, svcRST,
		nlbActive, nlbNew, nlbBytes, nlbClientRST, nlbTargetRST, nlbHealthy, nlbUnhealthy}
)

type collector struct {
	cloud    *core.Cloud
	counters Counters // nil without a lab
	log      *slog.Logger
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect reads the store and the kernel's counters once per scrape.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.cloud.LoadSnapshot(ctx)
	if err != nil {
		c.log.Error("metrics: read state", "err", err)
		for _, f := range families {
			ch <- prometheus.NewInvalidMetric(f.desc, err)
		}
		return
	}
	emit := func(f family, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(f.desc, f.typ, v, labels...)
	}
	var sc *lab.Scrape
	if c.counters != nil {
		sc = c.counters.Scrape()
	}
	c.endpoints(s, sc, emit)
	c.loadBalancers(s, sc, emit)
}

type emitFunc func(f family, v float64, labels ...string)

// endpoints reports each endpoint interface and, summed, each service;
// sc is nil without a lab.
func (c *collector) endpoints(s *core.Snapshot, sc *lab.Scrape, emit emitFunc) {
	byVPC := map[string]map[netip.Addr]lab.EndpointCounters{}
	read := func(vpcID string) map[netip.Addr]lab.EndpointCounters {
		if sc == nil {
			return nil
		}
		m, ok := byVPC[vpcID]
		if !ok {
			var err error
			if m, err = sc.EndpointCounters(vpcID); err != nil {
				c.log.Warn("metrics: endpoint counters", "vpc", vpcID, "err", err)
			}
			byVPC[vpcID] = m
		}
		return m
	}
	type sum struct {
		lab.EndpointCounters
		endpoints int
	}
	services := map[string]*sum{}
	for _, id := range slices.Sorted(maps.Keys(s.EndpointServices)) {
		services[id] = &sum{}
	}
	for _, id := range slices.Sorted(maps.Keys(s.Endpoints)) {
		ep := s.Endpoints[id]
		svc := services[ep.ServiceID]
		if svc != nil && (ep.State == core.EndpointAvailable || ep.State == core.EndpointPending) {
			svc.endpoints++
		}
		for _, eniID := range ep.NetworkInterfaceIDs {
			eni, ok := s.ENIs[eniID]
			if !ok {
				continue
			}
			ec := read(ep.VpcID)[eni.PrivateIP]
			l := []string{ep.OwnerID, ep.ID, ep.VpcID, eni.SubnetID, ep.ServiceName}
			emit(epActive, float64(ec.ActiveConnections), l...)
			emit(epNew, float64(ec.NewConnections), l...)
			emit(epBytes, float64(ec.BytesIn+ec.BytesOut), l...)
			emit(epDropped, float64(ec.PacketsDropped()), l...)
			emit(epRST, float64(ec.ResetsReceived), l...)
			if svc != nil {
				svc.ActiveConnections += ec.ActiveConnections
				svc.NewConnections += ec.NewConnections
				svc.BytesIn += ec.BytesIn
				svc.BytesOut += ec.BytesOut
				svc.ResetsSent += ec.ResetsSent
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(services)) {
		svc, sv := services[id], s.EndpointServices[id]
		l := []string{sv.OwnerID, id}
		emit(svcActive, float64(svc.ActiveConnections), l...)
		emit(svcNew, float64(svc.NewConnections), l...)
		emit(svcBytes, float64(svc.BytesIn+svc.BytesOut), l...)
		emit(svcEndpoints, float64(svc.endpoints), l...)
		emit(svcRST, float64(svc.ResetsSent), l...)
	}
}

// loadBalancers reports each load balancer node's flows and each target
// group's healthy and unhealthy hosts.
func (c *collector) loadBalancers(s *core.Snapshot, sc *lab.Scrape, emit emitFunc) {
	x := s.ELBIndex()
	for _, id := range slices.Sorted(maps.Keys(s.LoadBalancers)) {
		lb := s.LoadBalancers[id]
		dim := dimension(lb)
		if sc != nil {
			for _, n := range lb.Nodes {
				nc, ok, err := sc.NodeCounters(n.NetworkInterfaceID)
				if err != nil {
					c.log.Warn("metrics: node counters", "node", n.NetworkInterfaceID, "err", err)
				}
				if !ok {
					continue
				}
				l := []string{lb.OwnerID, dim, n.AvailabilityZone}
				emit(nlbActive, float64(nc.ActiveFlows), l...)
				emit(nlbNew, float64(nc.NewFlows), l...)
				emit(nlbBytes, float64(nc.Bytes), l...)
				emit(nlbClientRST, float64(nc.ClientResets), l...)
				emit(nlbTargetRST, float64(nc.TargetResets), l...)
			}
		}
		groups := map[string]*core.TargetGroup{} // the groups its listeners forward to, by ID
		for _, l := range x.Listeners(id) {
			if tg := x.Forward(l); tg != nil {
				groups[tg.ID] = tg
			}
		}
		for _, tgID := range slices.Sorted(maps.Keys(groups)) {
			tg := groups[tgID]
			var healthy, unhealthy int
			for _, t := range tg.Targets {
				if t.Draining() {
					continue
				}
				switch h := s.Health(tg.ID, t.ID, t.Port); {
				case h == nil:
				case h.State == core.TargetHealthy:
					healthy++
				case h.State == core.TargetUnhealthy:
					unhealthy++
				}
			}
			l := []string{lb.OwnerID, dim, targetGroupDimension(tg)}
			emit(nlbHealthy, float64(healthy), l...)
			emit(nlbUnhealthy, float64(unhealthy), l...)
		}
	}
}

// dimension is CloudWatch's LoadBalancer dimension: "net/<name>/<id>", the
// end of the ARN.
func dimension(lb *core.LoadBalancer) string {
	if _, after, ok := strings.Cut(lb.ARN, ":loadbalancer/"); ok {
		return after
	}
	return lb.ID
}

// targetGroupDimension is CloudWatch's TargetGroup dimension:
// "targetgroup/<name>/<id>".
func targetGroupDimension(tg *core.TargetGroup) string {
	if i := strings.LastIndex(tg.ARN, ":targetgroup/"); i >= 0 {
		return tg.ARN[i+1:]
	}
	return tg.ID
}
