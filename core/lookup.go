package core

// Lookups of caller-owned resources by ID, with EC2's errors. Resources of
// other accounts are reported as not found, as AWS does.

func (c *Cloud) ownedVPC(t *txn, caller Caller, id string) (*VPC, error) {
	if id == "" {
		return nil, missingParameter("vpcId")
	}
	if !validID(id, "vpc") {
		return nil, Errorf(KindInvalid, "InvalidVpcID.Malformed", "Invalid id: %q", id)
	}
	v, ok, err := get[VPC](t, keyVPC(id))
	if err != nil {
		return nil, err
	}
	if !ok || v.OwnerID != caller.AccountID {
		return nil, Errorf(KindNotFound, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	}
	return v, nil
}

func (c *Cloud) ownedSubnet(t *txn, caller Caller, id string) (*Subnet, error) {
	if id == "" {
		return nil, missingParameter("subnetId")
	}
	if !validID(id, "subnet") {
		return nil, Errorf(KindInvalid, "InvalidSubnetID.Malformed", "Invalid id: %q", id)
	}
	s, ok, err := get[Subnet](t, keySubnet(id))
	if err != nil {
		return nil, err
	}
	if !ok || s.OwnerID != caller.AccountID {
		return nil, Errorf(KindNotFound, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	}
	return s, nil
}

func (c *Cloud) ownedSecurityGroup(t *txn, caller Caller, id string) (*SecurityGroup, error) {
	if id == "" {
		return nil, missingParameter("groupId")
	}
	if !validID(id, "sg") {
		return nil, Errorf(KindInvalid, "InvalidGroupId.Malformed", "Invalid id: %q (expecting \"sg-...\")", id)
	}
	g, ok, err := get[SecurityGroup](t, keySecurityGroup(id))
	if err != nil {
		return nil, err
	}
	if !ok || g.OwnerID != caller.AccountID {
		return nil, Errorf(KindNotFound, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	return g, nil
}

func (c *Cloud) ownedInstance(t *txn, caller Caller, id string) (*Instance, error) {
	if id == "" {
		return nil, missingParameter("instanceId")
	}
	if !validID(id, "i") {
		return nil, Errorf(KindInvalid, "InvalidInstanceID.Malformed", "Invalid id: %q", id)
	}
	in, ok, err := get[Instance](t, keyInstance(id))
	if err != nil {
		return nil, err
	}
	if !ok || in.OwnerID != caller.AccountID {
		return nil, Errorf(KindNotFound, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return in, nil
}
