package route53

import "encoding/xml"

// The request and response shapes of the operations served, written by
// hand from AWS's model (models/apis/route53/2013-04-01/api-2.json in
// github.com/aws/aws-sdk-go; shapes_test.go checks every element name and
// order against it). Request members are pointers so that a missing
// element can be told from an empty one; "A>B" is a list A of B elements.
// Every struct in a request lists all the children its model shape has:
// decode.go refuses any other element, as Route 53's schema does.

// XMLNamespace is the xmlns of Route 53's documents.
const XMLNamespace = "https://route53.amazonaws.com/doc/2013-04-01/"

// Requests.

type createHostedZoneRequest struct {
	XMLName          xml.Name          `xml:"CreateHostedZoneRequest"`
	Name             *string           `xml:"Name"`
	VPC              *vpcIn            `xml:"VPC"`
	CallerReference  *string           `xml:"CallerReference"`
	HostedZoneConfig *hostedZoneConfig `xml:"HostedZoneConfig"`
	DelegationSetID  *string           `xml:"DelegationSetId"`
}

type vpcIn struct {
	VPCRegion *string `xml:"VPCRegion"`
	VPCID     *string `xml:"VPCId"`
}

type hostedZoneConfig struct {
	Comment     *string `xml:"Comment"`
	PrivateZone *string `xml:"PrivateZone"`
}

type changeResourceRecordSetsRequest struct {
	XMLName     xml.Name     `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *changeBatch `xml:"ChangeBatch"`
}

type changeBatch struct {
	Comment *string  `xml:"Comment"`
	Changes []change `xml:"Changes>Change"`
}

type change struct {
	Action            *string      `xml:"Action"`
	ResourceRecordSet *recordSetIn `xml:"ResourceRecordSet"`
}

type recordSetIn struct {
	Name                    *string               `xml:"Name"`
	Type                    *string               `xml:"Type"`
	SetIdentifier           *string               `xml:"SetIdentifier"`
	Weight                  *string               `xml:"Weight"`
	Region                  *string               `xml:"Region"`
	GeoLocation             *geoLocation          `xml:"GeoLocation"`
	Failover                *string               `xml:"Failover"`
	MultiValueAnswer        *string               `xml:"MultiValueAnswer"`
	TTL                     *string               `xml:"TTL"`
	ResourceRecords         *resourceRecordsIn    `xml:"ResourceRecords"`
	AliasTarget             *aliasTargetIn        `xml:"AliasTarget"`
	HealthCheckID           *string               `xml:"HealthCheckId"`
	TrafficPolicyInstanceID *string               `xml:"TrafficPolicyInstanceId"`
	CidrRoutingConfig       *cidrRoutingConfig    `xml:"CidrRoutingConfig"`
	GeoProximityLocation    *geoProximityLocation `xml:"GeoProximityLocation"`
}

type resourceRecordsIn struct {
	ResourceRecord []resourceRecordIn `xml:"ResourceRecord"`
}

type resourceRecordIn struct {
	Value *string `xml:"Value"`
}

type aliasTargetIn struct {
	HostedZoneID         *string `xml:"HostedZoneId"`
	DNSName              *string `xml:"DNSName"`
	EvaluateTargetHealth *string `xml:"EvaluateTargetHealth"`
}

// The routing-policy members, which privlink refuses; decoded only so that
// their elements are known.
type geoLocation struct {
	ContinentCode   *string `xml:"ContinentCode"`
	CountryCode     *string `xml:"CountryCode"`
	SubdivisionCode *string `xml:"SubdivisionCode"`
}

type cidrRoutingConfig struct {
	CollectionID *string `xml:"CollectionId"`
	LocationName *string `xml:"LocationName"`
}

type geoProximityLocation struct {
	AWSRegion      *string      `xml:"AWSRegion"`
	LocalZoneGroup *string      `xml:"LocalZoneGroup"`
	Coordinates    *coordinates `xml:"Coordinates"`
	Bias           *string      `xml:"Bias"`
}

type coordinates struct {
	Latitude  *string `xml:"Latitude"`
	Longitude *string `xml:"Longitude"`
}

type associateVPCRequest struct {
	XMLName xml.Name `xml:"AssociateVPCWithHostedZoneRequest"`
	VPC     *vpcIn   `xml:"VPC"`
	Comment *string  `xml:"Comment"`
}

type disassociateVPCRequest struct {
	XMLName xml.Name `xml:"DisassociateVPCFromHostedZoneRequest"`
	VPC     *vpcIn   `xml:"VPC"`
	Comment *string  `xml:"Comment"`
}

// Responses. Elements are in the model's order, which the SDKs do not
// need but Route 53 keeps.

type hostedZone struct {
	ID                     string         `xml:"Id"`
	Name                   string         `xml:"Name"`
	CallerReference        string         `xml:"CallerReference"`
	Config                 hostedZoneConf `xml:"Config"`
	ResourceRecordSetCount int64          `xml:"ResourceRecordSetCount"`
}

type hostedZoneConf struct {
	Comment     string `xml:"Comment,omitempty"`
	PrivateZone bool   `xml:"PrivateZone"`
}

type changeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

type delegationSet struct {
	NameServers []string `xml:"NameServers>NameServer"`
}

type vpcOut struct {
	VPCRegion string `xml:"VPCRegion"`
	VPCID     string `xml:"VPCId"`
}

type createHostedZoneResponse struct {
	XMLName       xml.Name       `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateHostedZoneResponse"`
	HostedZone    hostedZone     `xml:"HostedZone"`
	ChangeInfo    changeInfo     `xml:"ChangeInfo"`
	DelegationSet *delegationSet `xml:"DelegationSet"`
	VPC           *vpcOut        `xml:"VPC"`
}

type getHostedZoneResponse struct {
	XMLName       xml.Name       `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone    hostedZone     `xml:"HostedZone"`
	DelegationSet *delegationSet `xml:"DelegationSet"`
	VPCs          *vpcsOut       `xml:"VPCs"`
}

type listHostedZonesResponse struct {
	XMLName     xml.Name    `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesResponse"`
	HostedZones hostedZones `xml:"HostedZones"`
	Marker      string      `xml:"Marker"`
	IsTruncated bool        `xml:"IsTruncated"`
	NextMarker  string      `xml:"NextMarker,omitempty"`
	MaxItems    string      `xml:"MaxItems"`
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name    `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByNameResponse"`
	HostedZones      hostedZones `xml:"HostedZones"`
	DNSName          string      `xml:"DNSName,omitempty"`
	HostedZoneID     string      `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool        `xml:"IsTruncated"`
	NextDNSName      string      `xml:"NextDNSName,omitempty"`
	NextHostedZoneID string      `xml:"NextHostedZoneId,omitempty"`
	MaxItems         string      `xml:"MaxItems"`
}

// hostedZones and recordSetsOut are lists the model requires: their
// element is written even when empty.
type hostedZones struct {
	HostedZone []hostedZone `xml:"HostedZone"`
}

type recordSetsOut struct {
	ResourceRecordSet []recordSetOut `xml:"ResourceRecordSet"`
}

type deleteHostedZoneResponse struct {
	XMLName    xml.Name   `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DeleteHostedZoneResponse"`
	ChangeInfo changeInfo `xml:"ChangeInfo"`
}

type changeResourceRecordSetsResponse struct {
	XMLName    xml.Name   `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeResourceRecordSetsResponse"`
	ChangeInfo changeInfo `xml:"ChangeInfo"`
}

type recordSetOut struct {
	Name            string           `xml:"Name"`
	Type            string           `xml:"Type"`
	TTL             *int64           `xml:"TTL"`
	ResourceRecords *resourceRecords `xml:"ResourceRecords"`
	AliasTarget     *aliasTargetOut  `xml:"AliasTarget"`
}

// resourceRecords, vpcsOut: encoding/xml writes the outer element of an
// "A>B" list even when it is empty, which Route 53 does not: optional lists
// are pointers to a struct.
type resourceRecords struct {
	ResourceRecord []resourceRecord `xml:"ResourceRecord"`
}

type resourceRecord struct {
	Value string `xml:"Value"`
}

type vpcsOut struct {
	VPC []vpcOut `xml:"VPC"`
}

type aliasTargetOut struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

type listResourceRecordSetsResponse struct {
	XMLName            xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	ResourceRecordSets recordSetsOut `xml:"ResourceRecordSets"`
	IsTruncated        bool          `xml:"IsTruncated"`
	NextRecordName     string        `xml:"NextRecordName,omitempty"`
	NextRecordType     string        `xml:"NextRecordType,omitempty"`
	MaxItems           string        `xml:"MaxItems"`
}

type getChangeResponse struct {
	XMLName    xml.Name   `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetChangeResponse"`
	ChangeInfo changeInfo `xml:"ChangeInfo"`
}

type associateVPCResponse struct {
	XMLName    xml.Name   `xml:"https://route53.amazonaws.com/doc/2013-04-01/ AssociateVPCWithHostedZoneResponse"`
	ChangeInfo changeInfo `xml:"ChangeInfo"`
}

type disassociateVPCResponse struct {
	XMLName    xml.Name   `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DisassociateVPCFromHostedZoneResponse"`
	ChangeInfo changeInfo `xml:"ChangeInfo"`
}
