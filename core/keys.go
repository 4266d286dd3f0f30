package core

// Store keys. Every object lives at <kind>/<id>. Keep this the only place
// that spells them.
const (
	prefixAccounts         = "accounts/"
	prefixAccessKeys       = "accesskeys/"
	prefixVPCs             = "vpcs/"
	prefixSubnets          = "subnets/"
	prefixSecurityGroups   = "securitygroups/"
	prefixInstances        = "instances/"
	prefixENIs             = "enis/"
	prefixLoadBalancers    = "loadbalancers/"
	prefixTargetGroups     = "targetgroups/"
	prefixTargetHealth     = "targethealth/" // targethealth/<tg id>/<target id>:<port>
	prefixListeners        = "listeners/"
	prefixEndpointServices = "endpointservices/"
	prefixEndpoints        = "endpoints/"
)

func keyAccount(id string) string         { return prefixAccounts + id }
func keyAccessKey(id string) string       { return prefixAccessKeys + id }
func keyVPC(id string) string             { return prefixVPCs + id }
func keySubnet(id string) string          { return prefixSubnets + id }
func keySecurityGroup(id string) string   { return prefixSecurityGroups + id }
func keyInstance(id string) string        { return prefixInstances + id }
func keyENI(id string) string             { return prefixENIs + id }
func keyLoadBalancer(id string) string    { return prefixLoadBalancers + id }
func keyTargetGroup(id string) string     { return prefixTargetGroups + id }
func keyListener(id string) string        { return prefixListeners + id }
func keyEndpointService(id string) string { return prefixEndpointServices + id }
func keyEndpoint(id string) string        { return prefixEndpoints + id }

func keyTargetHealth(tgID, targetID string, port int32) string {
	return prefixTargetHealth + tgID + "/" + targetID + ":" + itoa(port)
}

// prefixTargetHealthOf is the prefix of every health record of one target
// group.
func prefixTargetHealthOf(tgID string) string { return prefixTargetHealth + tgID + "/" }

// ---- Route 53 (route53*.go) -------------------------------------------------
//
// A hosted zone is one object; each of its record sets is another, so that a
// change writes only the sets it names and a page of a listing decodes only
// the page, whatever the zone's size. Record-set keys sort as
// ListResourceRecordSets lists: by name with its labels reversed, then by
// type (see recordSetKey).
const (
	prefixHostedZones = "hostedzones/"   // hostedzones/<zone id>
	prefixRecordSets  = "rrsets/"        // rrsets/<zone id>/<reversed name> <type>
	prefixR53Changes  = "r53changes/"    // r53changes/<change id>
	prefixCallerRefs  = "r53callerrefs/" // r53callerrefs/<account>/<caller reference>
)

func keyHostedZone(id string) string { return prefixHostedZones + id }
func keyR53Change(id string) string  { return prefixR53Changes + id }

func keyCallerRef(accountID, ref string) string { return prefixCallerRefs + accountID + "/" + ref }

// prefixRecordSetsOf is the prefix of every record set of one zone.
func prefixRecordSetsOf(zoneID string) string { return prefixRecordSets + zoneID + "/" }

// recordSetKey is where the record set of a canonical name and a type
// lives. The space sorts below every byte of a canonical name, so a name's
// sets come before those of its subdomains, as they do in Route 53's
// order; recordSetStart(name) is where the sets of a name begin.
func recordSetKey(zoneID, name, typ string) string {
	return recordSetStart(zoneID, name) + typ
}

func recordSetStart(zoneID, name string) string {
	return prefixRecordSetsOf(zoneID) + reversedName(name) + " "
}

// ---- end of Route 53 --------------------------------------------------------

// ---- Secondary indexes (index.go) -------------------------------------------

const (
	prefixIndex     = "ix/"
	keyIndexVersion = prefixIndex + "version"

	prefixIxSubnetAddrs  = prefixIndex + "subnet-addrs/"  // <subnet id>/<address>: interface ID
	prefixIxVPCEndpoints = prefixIndex + "vpc-endpoints/" // <vpc id>/<endpoint id>: endpoint ID
	prefixIxVPCEToken    = prefixIndex + "vpce-token/"    // <owner>/<client token>: endpoint ID
	prefixIxOwnerVPCEs   = prefixIndex + "owner-vpces/"   // <owner>/<endpoint id>: endpoint ID
	prefixIxServiceVPCEs = prefixIndex + "service-vpces/" // <service id>/<endpoint id>: endpoint ID
	prefixIxVPCSGNames   = prefixIndex + "vpc-sg-names/"  // <vpc id>/<group name>: group ID
	prefixIxSGUsers      = prefixIndex + "sg-users/"      // <group id>/<user id>: user ID
	prefixIxSubnetUsers  = prefixIndex + "subnet-users/"  // <subnet id>/<user id>: user ID
	prefixIxVPCUsers     = prefixIndex + "vpc-users/"     // <vpc id>/<user id>: user ID
)

// prefixIxSubnetAddrsOf is the prefix of the addresses taken in a subnet.
func prefixIxSubnetAddrsOf(subnetID string) string { return prefixIxSubnetAddrs + subnetID + "/" }

// prefixIxVPCEndpointsOf is the prefix of the endpoints of a VPC.
func prefixIxVPCEndpointsOf(vpcID string) string { return prefixIxVPCEndpoints + vpcID + "/" }

// prefixIxOwnerVPCEsOf is the prefix of an account's endpoints.
func prefixIxOwnerVPCEsOf(ownerID string) string { return prefixIxOwnerVPCEs + ownerID + "/" }

// prefixIxServiceVPCEsOf is the prefix of the endpoints of a service.
func prefixIxServiceVPCEsOf(serviceID string) string { return prefixIxServiceVPCEs + serviceID + "/" }

func keyIxVPCEToken(ownerID, token string) string { return prefixIxVPCEToken + ownerID + "/" + token }

// prefixIxVPCSGNamesOf is the prefix of the names of a VPC's security
// groups. A VPC ID has no slash, so a name may have any.
func prefixIxVPCSGNamesOf(vpcID string) string { return prefixIxVPCSGNames + vpcID + "/" }

func keyIxVPCSGName(vpcID, name string) string { return prefixIxVPCSGNamesOf(vpcID) + name }

// prefixIxSGUsersOf is the prefix of what uses a security group: the
// interfaces (an endpoint's among them) and live instances it is attached
// to, and the other groups whose rules name it.
func prefixIxSGUsersOf(groupID string) string { return prefixIxSGUsers + groupID + "/" }

// prefixIxSubnetUsersOf is the prefix of what keeps a subnet from being
// deleted, besides its interfaces (their addresses are indexed): its live
// instances and load balancer nodes.
func prefixIxSubnetUsersOf(subnetID string) string { return prefixIxSubnetUsers + subnetID + "/" }

// prefixIxVPCUsersOf is the prefix of what keeps a VPC from being deleted,
// besides its endpoints and security groups (indexed on their own): its
// subnets (and so the interfaces in them), live instances and load
// balancers.
func prefixIxVPCUsersOf(vpcID string) string { return prefixIxVPCUsers + vpcID + "/" }
