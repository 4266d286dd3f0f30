package ec2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
)

// awsCLI is an installed AWS CLI.
type awsCLI struct {
	name, path string
}

// findAWSCLIs returns the AWS CLIs to test with (querytest.AWSCLIs decides).
func findAWSCLIs(t *testing.T) []awsCLI {
	t.Helper()
	var clis []awsCLI
	for _, c := range querytest.AWSCLIs(t) {
		clis = append(clis, awsCLI{name: c.Name, path: c.Path})
	}
	return clis
}

// run runs the CLI against endpoint as the bootstrap account, with no
// configuration, retries or pager, and returns its parsed JSON output.
func (c awsCLI) run(t *testing.T, endpoint string, args ...string) (map[string]any, error) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_ACCESS_KEY_ID="+core.BootstrapAccessKey, "AWS_SECRET_ACCESS_KEY="+core.BootstrapSecretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &cliError{args: args, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout.Bytes())
	}
	return out, nil
}

type cliError struct {
	args   []string
	err    error
	stderr string
}

func (e *cliError) Error() string {
	return "aws " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
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
		t.Run(cli.name, func(t *testing.T) {
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
