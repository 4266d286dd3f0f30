package elbv2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
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

// run runs the CLI as the bootstrap account and decodes its JSON output
// into out, when out is not nil.
func (c awsCLI) run(t *testing.T, endpoint string, out any, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stdout, err := c.RunAs(ctx, t, endpoint, core.BootstrapAccessKey, core.BootstrapSecretKey, args...)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			return fmt.Errorf("aws %s printed %q: %w", strings.Join(args, " "), stdout, err)
		}
	}
	return nil
}

// cliLB and the types below are the members of the CLI's JSON output that
// the test reads.
type cliLB struct {
	LoadBalancerArn, DNSName, CanonicalHostedZoneId, CreatedTime string
	LoadBalancerName, Scheme, VpcId, Type, IpAddressType         string
	State                                                        struct{ Code string }
	AvailabilityZones                                            []struct {
		ZoneName, SubnetId    string
		LoadBalancerAddresses []struct{ PrivateIPv4Address string }
	}
	SecurityGroups []string
}

type cliTG struct {
	TargetGroupArn, TargetGroupName, Protocol, VpcId, HealthCheckProtocol, HealthCheckPort string
	TargetType, IpAddressType                                                              string
	Port, HealthCheckIntervalSeconds, HealthCheckTimeoutSeconds                            int
	HealthyThresholdCount, UnhealthyThresholdCount                                         int
	HealthCheckEnabled                                                                     bool
}

type cliListener struct {
	ListenerArn, LoadBalancerArn, Protocol string
	Port                                   int
	DefaultActions                         []struct {
		Type, TargetGroupArn string
		ForwardConfig        struct {
			TargetGroups []struct{ TargetGroupArn string }
		}
	}
}

type cliHealth struct {
	Target struct {
		Id   string
		Port int
	}
	HealthCheckPort string
	TargetHealth    struct{ State, Reason, Description string }
}

// TestAWSCLISeed runs the NLB part of the seed story with the AWS CLI v2
// and v1 against privlink's server, and checks the JSON they print.
func TestAWSCLISeed(t *testing.T) {
	s := newServer(t)
	subnet := s.subnets[0]
	for _, cli := range findAWSCLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			must := func(out any, args ...string) {
				t.Helper()
				if err := cli.run(t, s.url, out, args...); err != nil {
					t.Fatal(err)
				}
			}
			eq := func(field string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %v, want %v", field, got, want)
				}
			}
			name := "cli-" + cli.Name

			var lbs struct{ LoadBalancers []cliLB }
			must(&lbs, "elbv2", "create-load-balancer", "--name", name, "--type", "network", "--scheme", "internal",
				"--subnets", subnet.ID, "--tags", "Key=Name,Value="+name)
			if len(lbs.LoadBalancers) != 1 {
				t.Fatalf("create-load-balancer printed %d load balancers", len(lbs.LoadBalancers))
			}
			lb := lbs.LoadBalancers[0]
			id := arnID(lb.LoadBalancerArn)
			eq("LoadBalancerArn", lb.LoadBalancerArn, "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/"+name+"/"+id)
			eq("DNSName", lb.DNSName, name+"-"+id+".elb.us-east-1.amazonaws.com")
			eq("CanonicalHostedZoneId", lb.CanonicalHostedZoneId, "Z26RNL4JYFTOTI")
			eq("LoadBalancerName", lb.LoadBalancerName, name)
			eq("Scheme", lb.Scheme, "internal")
			eq("VpcId", lb.VpcId, s.vpc.ID)
			eq("Type", lb.Type, "network")
			eq("IpAddressType", lb.IpAddressType, "ipv4")
			eq("State.Code", lb.State.Code, "provisioning")
			if _, err := time.Parse(time.RFC3339, lb.CreatedTime); err != nil {
				t.Errorf("CreatedTime %q: %v", lb.CreatedTime, err)
			}
			if len(lb.AvailabilityZones) != 1 || len(lb.AvailabilityZones[0].LoadBalancerAddresses) != 1 {
				t.Fatalf("AvailabilityZones = %+v", lb.AvailabilityZones)
			}
			az := lb.AvailabilityZones[0]
			eq("ZoneName", az.ZoneName, "us-east-1a")
			eq("SubnetId", az.SubnetId, subnet.ID)
			if ip, err := netip.ParseAddr(az.LoadBalancerAddresses[0].PrivateIPv4Address); err != nil || !subnet.CIDR.Contains(ip) {
				t.Errorf("PrivateIPv4Address %q is not in %s", az.LoadBalancerAddresses[0].PrivateIPv4Address, subnet.CIDR)
			}
			if lb.SecurityGroups != nil {
				t.Errorf("SecurityGroups = %v on a network load balancer", lb.SecurityGroups)
			}

			var tgs struct{ TargetGroups []cliTG }
			must(&tgs, "elbv2", "create-target-group", "--name", name, "--protocol", "TCP", "--port", "22", "--vpc-id", s.vpc.ID)
			if len(tgs.TargetGroups) != 1 {
				t.Fatalf("create-target-group printed %d groups", len(tgs.TargetGroups))
			}
			tg := tgs.TargetGroups[0]
			want := cliTG{
				TargetGroupArn: tg.TargetGroupArn, TargetGroupName: name, Protocol: "TCP", Port: 22, VpcId: s.vpc.ID,
				HealthCheckProtocol: "TCP", HealthCheckPort: "traffic-port", HealthCheckEnabled: true,
				HealthCheckIntervalSeconds: 30, HealthCheckTimeoutSeconds: 10, HealthyThresholdCount: 5, UnhealthyThresholdCount: 2,
				TargetType: "instance", IpAddressType: "ipv4",
			}
			if tg != want {
				t.Errorf("create-target-group printed\n%+v, want\n%+v", tg, want)
			}

			must(nil, "elbv2", "register-targets", "--target-group-arn", tg.TargetGroupArn,
				"--targets", "Id="+s.instances[0], "Id="+s.instances[1]+",Port=22")

			var ls struct{ Listeners []cliListener }
			must(&ls, "elbv2", "create-listener", "--load-balancer-arn", lb.LoadBalancerArn, "--protocol", "TCP", "--port", "8022",
				"--default-actions", "Type=forward,TargetGroupArn="+tg.TargetGroupArn)
			if len(ls.Listeners) != 1 || len(ls.Listeners[0].DefaultActions) != 1 {
				t.Fatalf("create-listener printed %+v", ls)
			}
			l := ls.Listeners[0]
			if !strings.HasPrefix(l.ListenerArn, "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/"+name+"/"+id+"/") {
				t.Errorf("ListenerArn = %s", l.ListenerArn)
			}
			eq("LoadBalancerArn", l.LoadBalancerArn, lb.LoadBalancerArn)
			eq("Protocol", l.Protocol, "TCP")
			eq("Port", l.Port, 8022)
			a := l.DefaultActions[0]
			eq("DefaultActions[0].Type", a.Type, "forward")
			eq("DefaultActions[0].TargetGroupArn", a.TargetGroupArn, tg.TargetGroupArn)
			if len(a.ForwardConfig.TargetGroups) != 1 || a.ForwardConfig.TargetGroups[0].TargetGroupArn != tg.TargetGroupArn {
				t.Errorf("ForwardConfig = %+v", a.ForwardConfig)
			}

			var health struct{ TargetHealthDescriptions []cliHealth }
			must(&health, "elbv2", "describe-target-health", "--target-group-arn", tg.TargetGroupArn)
			if len(health.TargetHealthDescriptions) != 2 {
				t.Fatalf("describe-target-health printed %+v", health)
			}
			for i, d := range health.TargetHealthDescriptions {
				eq("Target.Id", d.Target.Id, s.instances[i])
				eq("Target.Port", d.Target.Port, 22)
				eq("HealthCheckPort", d.HealthCheckPort, "22")
				eq("TargetHealth.State", d.TargetHealth.State, "initial")
				eq("TargetHealth.Reason", d.TargetHealth.Reason, "Elb.InitialHealthChecking")
			}

			err := cli.run(t, s.url, nil, "elbv2", "describe-load-balancers", "--names", "no-such-lb")
			if err == nil || !strings.Contains(err.Error(), "An error occurred (LoadBalancerNotFound) when calling the DescribeLoadBalancers operation") {
				t.Errorf("describe-load-balancers of a missing name: %v", err)
			}
		})
	}
}

type cliAttrs struct {
	Attributes []struct{ Key, Value string }
}

func (a cliAttrs) m() map[string]string {
	out := map[string]string{}
	for _, kv := range a.Attributes {
		out[kv.Key] = kv.Value
	}
	return out
}

// TestAWSCLIAttributes modifies and describes target group, load balancer
// and listener attributes and health checks with the AWS CLI v2 (and v1,
// where installed) against privlink's server, and checks what they print,
// errors included.
func TestAWSCLIAttributes(t *testing.T) {
	s := newServer(t)
	for _, cli := range findAWSCLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			must := func(out any, args ...string) {
				t.Helper()
				if err := cli.run(t, s.url, out, args...); err != nil {
					t.Fatal(err)
				}
			}
			fails := func(code, msg string, args ...string) {
				t.Helper()
				err := cli.run(t, s.url, nil, args...)
				if err == nil || !strings.Contains(err.Error(), "("+code+")") || !strings.Contains(err.Error(), msg) {
					t.Errorf("aws %s: %v, want (%s) %s", strings.Join(args, " "), err, code, msg)
				}
			}
			name := "attrs-" + cli.Name
			var lbs struct{ LoadBalancers []cliLB }
			must(&lbs, "elbv2", "create-load-balancer", "--name", name, "--type", "network", "--scheme", "internal", "--subnets", s.subnets[0].ID)
			lbARN := lbs.LoadBalancers[0].LoadBalancerArn
			var tgs struct{ TargetGroups []cliTG }
			must(&tgs, "elbv2", "create-target-group", "--name", name, "--protocol", "TCP", "--port", "80", "--vpc-id", s.vpc.ID)
			tgARN := tgs.TargetGroups[0].TargetGroupArn
			var ls struct{ Listeners []cliListener }
			must(&ls, "elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "TCP", "--port", "80",
				"--default-actions", "Type=forward,TargetGroupArn="+tgARN)
			listenerARN := ls.Listeners[0].ListenerArn

			var tga cliAttrs
			must(&tga, "elbv2", "describe-target-group-attributes", "--target-group-arn", tgARN)
			if m := tga.m(); len(tga.Attributes) != 13 || m["deregistration_delay.timeout_seconds"] != "300" || m["proxy_protocol_v2.enabled"] != "false" {
				t.Errorf("describe-target-group-attributes printed %+v", tga)
			}
			must(&tga, "elbv2", "modify-target-group-attributes", "--target-group-arn", tgARN,
				"--attributes", "Key=deregistration_delay.timeout_seconds,Value=30", "Key=proxy_protocol_v2.enabled,Value=true")
			if m := tga.m(); m["deregistration_delay.timeout_seconds"] != "30" || m["proxy_protocol_v2.enabled"] != "true" {
				t.Errorf("modify-target-group-attributes printed %+v", tga)
			}
			fails("ValidationError", "it must be an integer from 0 to 3600",
				"elbv2", "modify-target-group-attributes", "--target-group-arn", tgARN, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=3601")
			fails("InvalidConfigurationRequest", "Stickiness type 'app_cookie' is not supported",
				"elbv2", "modify-target-group-attributes", "--target-group-arn", tgARN, "--attributes", "Key=stickiness.type,Value=app_cookie")
			must(&tga, "elbv2", "describe-target-group-attributes", "--target-group-arn", tgARN)
			if m := tga.m(); m["deregistration_delay.timeout_seconds"] != "30" || m["stickiness.type"] != "source_ip" {
				t.Errorf("refused requests changed attributes: %+v", tga)
			}

			var hc struct {
				TargetGroups []struct {
					HealthCheckProtocol, HealthCheckPath string
					HealthCheckTimeoutSeconds            int
					Matcher                              struct{ HttpCode string }
				}
			}
			must(&hc, "elbv2", "modify-target-group", "--target-group-arn", tgARN, "--health-check-protocol", "HTTP",
				"--health-check-path", "/healthz", "--matcher", "HttpCode=200-299")
			if g := hc.TargetGroups[0]; g.HealthCheckProtocol != "HTTP" || g.HealthCheckPath != "/healthz" || g.Matcher.HttpCode != "200-299" || g.HealthCheckTimeoutSeconds != 10 {
				t.Errorf("modify-target-group printed %+v", g)
			}

			var lba cliAttrs
			must(&lba, "elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lbARN,
				"--attributes", "Key=deletion_protection.enabled,Value=true")
			if m := lba.m(); m["deletion_protection.enabled"] != "true" || m["access_logs.s3.bucket"] != "" || len(lba.Attributes) != 9 {
				t.Errorf("modify-load-balancer-attributes printed %+v", lba)
			}
			fails("OperationNotPermitted", "cannot be deleted because deletion protection is enabled",
				"elbv2", "delete-load-balancer", "--load-balancer-arn", lbARN)
			fails("ValidationError", "Load balancer attribute key 'idle_timeout.timeout_seconds' is not recognized",
				"elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lbARN, "--attributes", "Key=idle_timeout.timeout_seconds,Value=60")
			must(&lba, "elbv2", "describe-load-balancer-attributes", "--load-balancer-arn", lbARN)
			if m := lba.m(); m["deletion_protection.enabled"] != "true" {
				t.Errorf("describe-load-balancer-attributes printed %+v", lba)
			}

			// Debian's CLI v2 (2.9) predates listener attributes.
			var la cliAttrs
			err := cli.run(t, s.url, &la, "elbv2", "describe-listener-attributes", "--listener-arn", listenerARN)
			if err != nil && strings.Contains(err.Error(), "Invalid choice") {
				t.Logf("AWS CLI %s has no listener attribute commands", cli.Name)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := la.m(); len(la.Attributes) != 1 || m["tcp.idle_timeout.seconds"] != "350" {
				t.Errorf("describe-listener-attributes printed %+v", la)
			}
			must(&la, "elbv2", "modify-listener-attributes", "--listener-arn", listenerARN, "--attributes", "Key=tcp.idle_timeout.seconds,Value=60")
			if m := la.m(); m["tcp.idle_timeout.seconds"] != "60" {
				t.Errorf("modify-listener-attributes printed %+v", la)
			}
			fails("ValidationError", "it must be an integer from 60 to 6000",
				"elbv2", "modify-listener-attributes", "--listener-arn", listenerARN, "--attributes", "Key=tcp.idle_timeout.seconds,Value=6001")
		})
	}
}
