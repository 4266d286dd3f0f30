package core

import (
	"net/netip"
	"time"
)

// The objects below are stored as JSON. Field names are part of the stored
// format: rename with care. Derived facts (DNS names, ARNs of children,
// available address counts) are computed, not stored.

// Tag is an AWS resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Account is a tenant. Every resource belongs to one account.
type Account struct {
	ID        string    `json:"id"` // 12 digits
	CreatedAt time.Time `json:"createdAt"`
	// Admin accounts may create other accounts. The bootstrap account is one.
	Admin bool `json:"admin,omitempty"`
}

// AccessKey is a credential pair that signs requests for an account.
type AccessKey struct {
	ID        string    `json:"id"` // AKIA… (or "test" for the bootstrap key)
	Secret    string    `json:"secret"`
	AccountID string    `json:"accountId"`
	CreatedAt time.Time `json:"createdAt"`
}

// Caller is the authenticated principal of a request.
type Caller struct {
	AccountID string
	Admin     bool
}

// VPC states.
const (
	VPCPending   = "pending"
	VPCAvailable = "available"
)

// VPC is a virtual private cloud. In the lab it is a router network namespace.
type VPC struct {
	ID                     string       `json:"id"`
	OwnerID                string       `json:"ownerId"`
	CIDR                   netip.Prefix `json:"cidr"`
	CIDRAssociationID      string       `json:"cidrAssociationId"`
	State                  string       `json:"state"`
	IsDefault              bool         `json:"isDefault"`
	DefaultSecurityGroupID string       `json:"defaultSecurityGroupId"`
	DHCPOptionsID          string       `json:"dhcpOptionsId"`
	InstanceTenancy        string       `json:"instanceTenancy"`
	EnableDNSSupport       bool         `json:"enableDnsSupport"`
	EnableDNSHostnames     bool         `json:"enableDnsHostnames"`
	Tags                   []Tag        `json:"tags,omitempty"`
	CreatedAt              time.Time    `json:"createdAt"`
}

// Subnet states.
const (
	SubnetPending   = "pending"
	SubnetAvailable = "available"
)

// Subnet is a range of a VPC in one availability zone.
type Subnet struct {
	ID                 string       `json:"id"`
	OwnerID            string       `json:"ownerId"`
	VpcID              string       `json:"vpcId"`
	CIDR               netip.Prefix `json:"cidr"`
	AvailabilityZone   string       `json:"availabilityZone"`
	AvailabilityZoneID string       `json:"availabilityZoneId"`
	State              string       `json:"state"`
	Tags               []Tag        `json:"tags,omitempty"`
	CreatedAt          time.Time    `json:"createdAt"`
}

// SecurityGroup is a stateful firewall attached to network interfaces.
type SecurityGroup struct {
	ID          string              `json:"id"`
	OwnerID     string              `json:"ownerId"`
	VpcID       string              `json:"vpcId"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Rules       []SecurityGroupRule `json:"rules,omitempty"`
	Tags        []Tag               `json:"tags,omitempty"`
	CreatedAt   time.Time           `json:"createdAt"`
}

// SecurityGroupRule is one rule with one source (or destination): a CIDR or a
// referenced group. AWS's IpPermissions group rules by protocol and ports;
// the API layer groups and ungroups.
type SecurityGroupRule struct {
	ID     string `json:"id"` // sgr-…
	Egress bool   `json:"egress,omitempty"`
	// Protocol is "-1" (all), "tcp", "udp", "icmp", "icmpv6" or a protocol
	// number as a decimal string for any other.
	Protocol string `json:"protocol"`
	// FromPort and ToPort bound the port range for tcp and udp; for icmp they
	// are type and code; -1 means all.
	FromPort     int32        `json:"fromPort"`
	ToPort       int32        `json:"toPort"`
	CIDR         netip.Prefix `json:"cidr,omitempty"`         // set for CIDR rules
	GroupID      string       `json:"groupId,omitempty"`      // set for group-reference rules
	GroupOwnerID string       `json:"groupOwnerId,omitempty"` // owner of GroupID
	Description  string       `json:"description,omitempty"`
}

// Instance states. Codes as EC2 reports them are in InstanceStateCode.
const (
	InstancePending      = "pending"
	InstanceRunning      = "running"
	InstanceShuttingDown = "shutting-down"
	InstanceTerminated   = "terminated"
)

// InstanceStateCode maps an instance state to EC2's numeric code.
var InstanceStateCode = map[string]int32{
	InstancePending:      0,
	InstanceRunning:      16,
	InstanceShuttingDown: 32,
	InstanceTerminated:   48,
	"stopping":           64,
	"stopped":            80,
}

// Instance is a virtual machine. In the lab it is a network namespace with
// one veth to its VPC's router, running the host's own filesystem.
type Instance struct {
	ID                 string     `json:"id"`
	OwnerID            string     `json:"ownerId"`
	ReservationID      string     `json:"reservationId"`
	AmiLaunchIndex     int32      `json:"amiLaunchIndex"`
	VpcID              string     `json:"vpcId"`
	SubnetID           string     `json:"subnetId"`
	AvailabilityZone   string     `json:"availabilityZone"`
	ImageID            string     `json:"imageId"`
	InstanceType       string     `json:"instanceType"`
	KeyName            string     `json:"keyName,omitempty"`
	PrivateIP          netip.Addr `json:"privateIp"`
	NetworkInterfaceID string     `json:"networkInterfaceId"`
	SecurityGroupIDs   []string   `json:"securityGroupIds"`
	UserData           []byte     `json:"userData,omitempty"` // decoded, as the instance sees it
	ClientToken        string     `json:"clientToken,omitempty"`
	State              string     `json:"state"`
	// StateReason explains the current state, e.g. why an instance is still
	// pending (a lab error) or how it was terminated.
	StateReason     string    `json:"stateReason,omitempty"`
	StateReasonCode string    `json:"stateReasonCode,omitempty"`
	LaunchTime      time.Time `json:"launchTime"`
	TerminatedAt    time.Time `json:"terminatedAt,omitzero"`
	Tags            []Tag     `json:"tags,omitempty"`
}

// Network interface types (EC2's InterfaceType values).
const (
	InterfaceTypeInstance     = "interface"
	InterfaceTypeVpcEndpoint  = "vpc_endpoint"
	InterfaceTypeLoadBalancer = "network_load_balancer"
)

// Network interface statuses.
const (
	ENIAvailable = "available"
	ENIInUse     = "in-use"
)

// NetworkInterface is an ENI: an address in a subnet, with security groups.
// Instances, endpoints and load balancer nodes each have them.
type NetworkInterface struct {
	ID               string     `json:"id"`
	OwnerID          string     `json:"ownerId"`
	VpcID            string     `json:"vpcId"`
	SubnetID         string     `json:"subnetId"`
	AvailabilityZone string     `json:"availabilityZone"`
	PrivateIP        netip.Addr `json:"privateIp"`
	MACAddress       string     `json:"macAddress"`
	SecurityGroupIDs []string   `json:"securityGroupIds,omitempty"`
	InterfaceType    string     `json:"interfaceType"`
	Description      string     `json:"description"`
	Status           string     `json:"status"`
	// RequesterID and RequesterManaged are set for interfaces AWS creates on
	// the owner's behalf (endpoints, load balancers).
	RequesterID      string `json:"requesterId,omitempty"`
	RequesterManaged bool   `json:"requesterManaged,omitempty"`
	// Attachment, for instance interfaces.
	AttachmentID    string    `json:"attachmentId,omitempty"`
	InstanceID      string    `json:"instanceId,omitempty"`
	DeviceIndex     int32     `json:"deviceIndex,omitempty"`
	AttachTime      time.Time `json:"attachTime,omitzero"`
	SourceDestCheck bool      `json:"sourceDestCheck"`
	// ResourceID names the endpoint (vpce-…) or load balancer (its ID) that
	// owns a requester-managed interface.
	ResourceID string    `json:"resourceId,omitempty"`
	Tags       []Tag     `json:"tags,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Load balancer states.
const (
	LBProvisioning = "provisioning"
	LBActive       = "active"
	LBFailed       = "failed"
)

// LoadBalancer is an Elastic Load Balancing v2 load balancer. Only type
// "network" is supported.
type LoadBalancer struct {
	ID            string             `json:"id"` // 16 hex digits, the last part of the ARN
	ARN           string             `json:"arn"`
	Name          string             `json:"name"`
	OwnerID       string             `json:"ownerId"`
	Type          string             `json:"type"`   // "network"
	Scheme        string             `json:"scheme"` // "internal" or "internet-facing"
	VpcID         string             `json:"vpcId"`
	IPAddressType string             `json:"ipAddressType"`
	Nodes         []LoadBalancerNode `json:"nodes"`
	State         string             `json:"state"`
	StateReason   string             `json:"stateReason,omitempty"`
	DNSName       string             `json:"dnsName"`
	// CanonicalHostedZoneID is the Route 53 zone of DNSName, as AWS reports it.
	CanonicalHostedZoneID string            `json:"canonicalHostedZoneId"`
	Attributes            map[string]string `json:"attributes,omitempty"`
	Tags                  []Tag             `json:"tags,omitempty"`
	CreatedAt             time.Time         `json:"createdAt"`
}

// LoadBalancerNode is the load balancer's presence in one subnet: an ENI
// whose address is the source of connections to targets.
type LoadBalancerNode struct {
	SubnetID           string     `json:"subnetId"`
	AvailabilityZone   string     `json:"availabilityZone"`
	NetworkInterfaceID string     `json:"networkInterfaceId"`
	PrivateIP          netip.Addr `json:"privateIp"`
}

// TargetGroup routes a listener's traffic to registered targets.
type TargetGroup struct {
	ID            string            `json:"id"` // 16 hex digits, the last part of the ARN
	ARN           string            `json:"arn"`
	Name          string            `json:"name"`
	OwnerID       string            `json:"ownerId"`
	Protocol      string            `json:"protocol"` // "TCP" for now
	Port          int32             `json:"port"`
	VpcID         string            `json:"vpcId"`
	TargetType    string            `json:"targetType"` // "instance" or "ip"
	IPAddressType string            `json:"ipAddressType"`
	HealthCheck   HealthCheck       `json:"healthCheck"`
	Targets       []Target          `json:"targets,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Tags          []Tag             `json:"tags,omitempty"`
	CreatedAt     time.Time         `json:"createdAt"`
}

// HealthCheck is a target group's health check. Port is "traffic-port" or a
// port number.
type HealthCheck struct {
	Enabled            bool   `json:"enabled"`
	Protocol           string `json:"protocol"`
	Port               string `json:"port"`
	Path               string `json:"path,omitempty"`
	Matcher            string `json:"matcher,omitempty"` // HTTP codes, e.g. "200-399"
	IntervalSeconds    int32  `json:"intervalSeconds"`
	TimeoutSeconds     int32  `json:"timeoutSeconds"`
	HealthyThreshold   int32  `json:"healthyThreshold"`
	UnhealthyThreshold int32  `json:"unhealthyThreshold"`
}

// Target is a registered target: an instance ID or an IP address, and the
// port traffic goes to.
type Target struct {
	ID               string    `json:"id"`
	Port             int32     `json:"port"`
	AvailabilityZone string    `json:"availabilityZone,omitempty"`
	RegisteredAt     time.Time `json:"registeredAt"`
	// DeregisteredAt is set while the target drains after DeregisterTargets:
	// it gets no new flows, keeps its established ones, and leaves the group
	// when the group's deregistration delay has passed.
	DeregisteredAt time.Time `json:"deregisteredAt,omitzero"`
}

// Draining reports whether the target is on its way out of its group.
func (t Target) Draining() bool { return !t.DeregisteredAt.IsZero() }

// Target health states and reasons, as DescribeTargetHealth reports them.
const (
	TargetInitial   = "initial"
	TargetHealthy   = "healthy"
	TargetUnhealthy = "unhealthy"
	TargetUnused    = "unused"
	TargetDraining  = "draining"
	TargetUnavail   = "unavailable"

	ReasonInitialHealthChecking = "Elb.InitialHealthChecking"
	ReasonFailedHealthChecks    = "Target.FailedHealthChecks"
	ReasonTimeout               = "Target.Timeout"
	ReasonNotRegistered         = "Target.NotRegistered"
	ReasonNotInUse              = "Target.NotInUse"
	ReasonDeregistration        = "Target.DeregistrationInProgress"
	ReasonInvalidState          = "Target.InvalidState"
	ReasonHealthCheckDisabled   = "Target.HealthCheckDisabled"
)

// TargetHealth is the observed health of one target, written by the health
// checker. Stored apart from the target group so checks never contend with
// API writes.
type TargetHealth struct {
	TargetGroupID string    `json:"targetGroupId"`
	TargetID      string    `json:"targetId"`
	Port          int32     `json:"port"`
	State         string    `json:"state"`
	Reason        string    `json:"reason,omitempty"`
	Description   string    `json:"description,omitempty"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// Listener accepts traffic on a port of a load balancer and forwards it.
type Listener struct {
	ID              string            `json:"id"` // 16 hex digits, the last part of the ARN
	ARN             string            `json:"arn"`
	LoadBalancerID  string            `json:"loadBalancerId"`
	LoadBalancerARN string            `json:"loadBalancerArn"`
	OwnerID         string            `json:"ownerId"`
	Protocol        string            `json:"protocol"`
	Port            int32             `json:"port"`
	DefaultActions  []ListenerAction  `json:"defaultActions"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	Tags            []Tag             `json:"tags,omitempty"`
	CreatedAt       time.Time         `json:"createdAt"`
}

// ListenerAction is a listener's default action. Only "forward" exists for
// network load balancers.
type ListenerAction struct {
	Type           string `json:"type"`
	TargetGroupARN string `json:"targetGroupArn"`
	Order          int32  `json:"order,omitempty"`
}

// Endpoint service states (EC2's ServiceState).
const (
	ServicePending   = "Pending"
	ServiceAvailable = "Available"
	ServiceDeleting  = "Deleting"
	ServiceFailed    = "Failed"
)

// EndpointService is a VPC endpoint service: a provider's offer of one or
// more network load balancers to consumers in other VPCs.
type EndpointService struct {
	ID                      string             `json:"id"` // vpce-svc-…
	OwnerID                 string             `json:"ownerId"`
	ServiceName             string             `json:"serviceName"` // com.amazonaws.vpce.<region>.<id>
	ServiceType             string             `json:"serviceType"` // "Interface"
	State                   string             `json:"state"`
	AcceptanceRequired      bool               `json:"acceptanceRequired"`
	ManagesVpcEndpoints     bool               `json:"managesVpcEndpoints,omitempty"`
	NetworkLoadBalancerARNs []string           `json:"networkLoadBalancerArns"`
	AllowedPrincipals       []AllowedPrincipal `json:"allowedPrincipals,omitempty"`
	PrivateDNSName          string             `json:"privateDnsName,omitempty"`
	// PrivateDNSNameState is "pendingVerification", "verified" or "failed"
	// (DnsNameState); only a verified name is served to endpoints.
	// PrivateDNSVerificationName and …Value are the TXT record that proves
	// ownership of PrivateDNSName (see privatedns.go): made once per
	// service and kept when the name changes or is removed.
	PrivateDNSNameState         string   `json:"privateDnsNameState,omitempty"`
	PrivateDNSVerificationName  string   `json:"privateDnsVerificationName,omitempty"`
	PrivateDNSVerificationValue string   `json:"privateDnsVerificationValue,omitempty"`
	SupportedIPAddressTypes     []string `json:"supportedIpAddressTypes"`
	// ClientToken makes CreateVpcEndpointServiceConfiguration idempotent.
	ClientToken string    `json:"clientToken,omitempty"`
	Tags        []Tag     `json:"tags,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// AllowedPrincipal is one entry of an endpoint service's permissions.
// Principal is an ARN ("arn:aws:iam::123456789012:root", a user or role ARN)
// or "*".
type AllowedPrincipal struct {
	Principal           string    `json:"principal"`
	PrincipalType       string    `json:"principalType"` // All, Service, OrganizationUnit, Account, User, Role
	ServicePermissionID string    `json:"servicePermissionId"`
	AddedAt             time.Time `json:"addedAt"`
}

// VPC endpoint states (EC2's State for endpoints and endpoint connections).
//
//	create ─┬─(acceptance required)──► pendingAcceptance ──accept──► pending ──realised──► available
//	        └─(no acceptance required)──────────────────────────────► pending
//	pendingAcceptance, pending, available ──reject──► rejected
//	pending, available ──cannot be realised──► failed (LastError says why)
//	delete (any state) ──► deleting ──torn down──► (gone)
//
// DeleteVpcEndpointServiceConfigurations refuses a service while any of its
// endpoints is pendingAcceptance, pending or available.
const (
	EndpointPendingAcceptance = "pendingAcceptance"
	EndpointPending           = "pending"
	EndpointAvailable         = "available"
	EndpointRejected          = "rejected"
	EndpointDeleting          = "deleting"
	EndpointDeleted           = "deleted"
	EndpointFailed            = "failed"
	EndpointExpired           = "expired"
)

// VpcEndpoint is an interface endpoint: ENIs in a consumer's subnets that
// carry traffic to an endpoint service. It is also the endpoint connection
// the service's owner sees.
type VpcEndpoint struct {
	ID                  string   `json:"id"` // vpce-…
	OwnerID             string   `json:"ownerId"`
	Type                string   `json:"type"` // "Interface"
	VpcID               string   `json:"vpcId"`
	ServiceName         string   `json:"serviceName"`
	ServiceID           string   `json:"serviceId"`
	ServiceOwnerID      string   `json:"serviceOwnerId"`
	State               string   `json:"state"`
	SubnetIDs           []string `json:"subnetIds"`
	NetworkInterfaceIDs []string `json:"networkInterfaceIds"`
	SecurityGroupIDs    []string `json:"securityGroupIds"`
	PrivateDNSEnabled   bool     `json:"privateDnsEnabled"`
	PolicyDocument      string   `json:"policyDocument,omitempty"`
	IPAddressType       string   `json:"ipAddressType"`
	// DNSID is the 8-character part of the endpoint's DNS names
	// (vpce-<17 hex>-<DNSID>.…), fixed at creation.
	DNSID string `json:"dnsId"`
	// ConnectionID names the endpoint connection (vpce-con-…).
	ConnectionID string `json:"connectionId"`
	// LastErrorCode and LastErrorMessage explain a failed state.
	LastErrorCode    string    `json:"lastErrorCode,omitempty"`
	LastErrorMessage string    `json:"lastErrorMessage,omitempty"`
	ClientToken      string    `json:"clientToken,omitempty"`
	Tags             []Tag     `json:"tags,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
}
