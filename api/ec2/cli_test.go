package ec2_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
)

// awsCLI is an installed AWS CLI, run as the bootstrap account.
type awsCLI struct{ querytest.CLI }

// findAWSCLIs returns the AWS CLIs to test with (querytest.AWSCLIs decides).
func findAWSCLIs(t *testing.T) []awsCLI {
	t.Helper()
	var clis []awsCLI
	for _, c := range querytest.AWSCLIs(t) {
		clis = append(clis, awsCLI{c})
	}
	return clis
}

// run runs the CLI as the bootstrap account and returns its parsed JSON
// output.
func (c awsCLI) run(t *testing.T, endpoint string, args ...string) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stdout, err := c.RunAs(ctx, t, endpoint, core.BootstrapAccessKey, core.BootstrapSecretKey, args...)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout)
	}
	return out, nil
}

// jget walks parsed JSON: keys for objects, ints for arrays.
func jget(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: not an array that long: %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func jstr(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := jget(t, v, path...).(string)
	if !ok {
		t.Fatalf("%v: not a string in %v", path, v)
	}
	return s
}

// TestHandlerCLI runs a short provider/consumer story with both AWS CLIs
// and checks their JSON output.
func TestHandlerCLI(t *testing.T) {
	for _, cli := range findAWSCLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			e := newSDKEnv(t)
			ctx := context.Background()
			run := func(args ...string) map[string]any {
				t.Helper()
				out, err := cli.run(t, e.url, args...)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}

			vpc := run("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16",
				"--tag-specifications", "ResourceType=vpc,Tags=[{Key=Name,Value=cli}]")
			vpcID := jstr(t, vpc, "Vpc", "VpcId")
			eq(t, "Vpc.State", jstr(t, vpc, "Vpc", "State"), "available")
			eq(t, "Vpc.Tags[0].Value", jstr(t, vpc, "Vpc", "Tags", 0, "Value"), "cli")

			subnet := run("ec2", "create-subnet", "--vpc-id", vpcID, "--cidr-block", "10.0.1.0/24", "--availability-zone", "us-east-1a")
			subnetID := jstr(t, subnet, "Subnet", "SubnetId")
			eq(t, "Subnet.AvailableIpAddressCount", jget(t, subnet, "Subnet", "AvailableIpAddressCount"), any(251.0))

			userData := "#!/bin/sh\necho hello from privlink\n"
			run1 := run("ec2", "run-instances", "--image-id", "ami-12345678", "--count", "1", "--instance-type", "t3.micro",
				"--subnet-id", subnetID, "--user-data", userData)
			instanceID := jstr(t, run1, "Instances", 0, "InstanceId")
			eq(t, "Instances[0].State.Name", jstr(t, run1, "Instances", 0, "State", "Name"), "pending")
			eq(t, "Instances[0].PrivateIpAddress", jstr(t, run1, "Instances", 0, "PrivateIpAddress"), "10.0.1.4")
			res, err := e.cloud.DescribeInstances(ctx, bootstrap, core.DescribeInstancesInput{InstanceIDs: []string{instanceID}})
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "user data as the instance sees it", string(res[0].Instances[0].UserData), userData)

			if err := e.cloud.SetInstanceRunning(ctx, instanceID); err != nil {
				t.Fatal(err)
			}
			desc := run("ec2", "describe-instances", "--instance-ids", instanceID)
			eq(t, "Reservations[0].Instances[0].InstanceId", jstr(t, desc, "Reservations", 0, "Instances", 0, "InstanceId"), instanceID)
			eq(t, "State.Name", jstr(t, desc, "Reservations", 0, "Instances", 0, "State", "Name"), "running")
			eq(t, "PrivateDnsName", jstr(t, desc, "Reservations", 0, "Instances", 0, "PrivateDnsName"), "ip-10-0-1-4.ec2.internal")
			eq(t, "NetworkInterfaces[0].SubnetId", jstr(t, desc, "Reservations", 0, "Instances", 0, "NetworkInterfaces", 0, "SubnetId"), subnetID)

			nlb := newNLB(t, e.cloud, bootstrap, "cli-nlb", subnetID)
			svc := run("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", nlb.ARN, "--no-acceptance-required")
			svcName := jstr(t, svc, "ServiceConfiguration", "ServiceName")
			eq(t, "ServiceType", jstr(t, svc, "ServiceConfiguration", "ServiceType", 0, "ServiceType"), "Interface")
			eq(t, "ServiceState", jstr(t, svc, "ServiceConfiguration", "ServiceState"), "Available")
			eq(t, "AvailabilityZones[0]", jstr(t, svc, "ServiceConfiguration", "AvailabilityZones", 0), "us-east-1a")

			ep := run("ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpcID,
				"--service-name", svcName, "--subnet-ids", subnetID)
			epID := jstr(t, ep, "VpcEndpoint", "VpcEndpointId")
			eq(t, "VpcEndpoint.State", jstr(t, ep, "VpcEndpoint", "State"), "pending")
			if name := jstr(t, ep, "VpcEndpoint", "DnsEntries", 0, "DnsName"); !vpceDNSName.MatchString(name) {
				t.Errorf("DnsEntries[0].DnsName = %q", name)
			}

			eps := run("ec2", "describe-vpc-endpoints")
			eq(t, "VpcEndpoints[0].VpcEndpointId", jstr(t, eps, "VpcEndpoints", 0, "VpcEndpointId"), epID)
			eq(t, "VpcEndpoints[0].State", jstr(t, eps, "VpcEndpoints", 0, "State"), "pending")
			eq(t, "VpcEndpoints[0].ServiceName", jstr(t, eps, "VpcEndpoints", 0, "ServiceName"), svcName)
			eq(t, "VpcEndpoints[0].DnsEntries", len(jget(t, eps, "VpcEndpoints", 0, "DnsEntries").([]any)), 2)
			eq(t, "VpcEndpoints[0].Groups[0].GroupName", jstr(t, eps, "VpcEndpoints", 0, "Groups", 0, "GroupName"), "default")

			_, err = cli.run(t, e.url, "ec2", "describe-vpcs", "--vpc-ids", "vpc-0123456789abcdef0")
			if err == nil || !strings.Contains(err.Error(), "(InvalidVpcID.NotFound)") ||
				!strings.Contains(err.Error(), "The vpc ID 'vpc-0123456789abcdef0' does not exist") {
				t.Errorf("describe-vpcs of a missing VPC: %v", err)
			}
		})
	}
}
