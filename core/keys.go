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
