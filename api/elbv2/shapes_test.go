package elbv2_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/privlink/privlink/api/elbv2"
	"github.com/privlink/privlink/api/query"
	"github.com/privlink/privlink/api/query/querytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.xml")

func newClient(srv *querytest.Server) *sdk.Client {
	return sdk.New(sdk.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.HTTPClient(),
		Retryer:      aws.NopRetryer{},
	})
}

// TestSDKRequestsEveryField sends every generated operation through the SDK
// with every field the model knows set, and decodes what arrives.
func TestSDKRequestsEveryField(t *testing.T) {
	srv := querytest.NewServer(elbv2.LookupOperation)
	defer srv.Close()
	client := newClient(srv)
	for _, name := range elbv2.OperationNames() {
		t.Run(name, func(t *testing.T) {
			op, _ := elbv2.LookupOperation(name)
			want := op.NewInput()
			querytest.Fill(want, 8)
			in := querytest.NewSDKInput(client, name)
			if err := querytest.ToSDK(want, in); err != nil {
				t.Fatal(err)
			}
			if _, err := querytest.Call(t.Context(), client, name, in); err != nil {
				t.Fatalf("SDK %s: %v", name, err)
			}
			form := srv.LastForm()
			if got := form.Get("Action"); got != name {
				t.Fatalf("Action = %q", got)
			}
			got, err := op.DecodeInput(form)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			querytest.SameShape(t, got, want)
		})
	}
}

// TestSDKResponsesEveryField serves every generated output with every field
// set and reads it back through the SDK's own parser.
func TestSDKResponsesEveryField(t *testing.T) {
	srv := querytest.NewServer(elbv2.LookupOperation)
	defer srv.Close()
	client := newClient(srv)
	for _, name := range elbv2.OperationNames() {
		t.Run(name, func(t *testing.T) {
			op, _ := elbv2.LookupOperation(name)
			in := op.NewInput()
			querytest.Fill(in, 8)
			sdkIn := querytest.NewSDKInput(client, name)
			if err := querytest.ToSDK(in, sdkIn); err != nil {
				t.Fatal(err)
			}
			want := op.NewOutput()
			querytest.Fill(want, 8)
			srv.SetReply(name, querytest.Reply{Output: want})
			out, err := querytest.Call(t.Context(), client, name, sdkIn)
			if err != nil {
				t.Fatalf("SDK %s: %v", name, err)
			}
			got := op.NewOutput()
			if err := querytest.FromSDK(out, got); err != nil {
				t.Fatal(err)
			}
			querytest.SameShape(t, got, want)
		})
	}
}

func TestSDKRequests(t *testing.T) {
	srv := querytest.NewServer(elbv2.LookupOperation)
	defer srv.Close()
	client := newClient(srv)
	tests := []struct {
		name string
		send func(context.Context) error
		want any
	}{
		{
			name: "CreateLoadBalancer",
			send: func(ctx context.Context) error {
				_, err := client.CreateLoadBalancer(ctx, &sdk.CreateLoadBalancerInput{
					Name: aws.String("nlb"), Type: types.LoadBalancerTypeEnumNetwork, Scheme: types.LoadBalancerSchemeEnumInternal,
					Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{},
					Tags:          []types.Tag{{Key: aws.String("Name"), Value: aws.String("nlb")}, {Key: aws.String("team")}},
					IpAddressType: types.IpAddressTypeIpv4,
				})
				return err
			},
			want: &elbv2.CreateLoadBalancerInput{
				Name: new("nlb"), Type: new("network"), Scheme: new("internal"),
				// An empty list is sent as "SecurityGroups=" and stays empty, not absent.
				Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{},
				Tags:          []elbv2.Tag{{Key: new("Name"), Value: new("nlb")}, {Key: new("team")}},
				IpAddressType: new("ipv4"),
			},
		},
		{
			name: "CreateTargetGroup",
			send: func(ctx context.Context) error {
				_, err := client.CreateTargetGroup(ctx, &sdk.CreateTargetGroupInput{
					Name: aws.String("tg"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(22), VpcId: aws.String("vpc-1"),
					TargetType: types.TargetTypeEnumInstance, HealthCheckEnabled: aws.Bool(true),
					HealthCheckProtocol: types.ProtocolEnumTcp, HealthCheckPort: aws.String("traffic-port"),
					HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(3), UnhealthyThresholdCount: aws.Int32(3),
					Matcher: &types.Matcher{HttpCode: aws.String("200-299")},
				})
				return err
			},
			want: &elbv2.CreateTargetGroupInput{
				Name: new("tg"), Protocol: new("TCP"), Port: new(int32(22)), VpcId: new("vpc-1"),
				TargetType: new("instance"), HealthCheckEnabled: new(true),
				HealthCheckProtocol: new("TCP"), HealthCheckPort: new("traffic-port"),
				HealthCheckIntervalSeconds: new(int32(10)), HealthyThresholdCount: new(int32(3)), UnhealthyThresholdCount: new(int32(3)),
				Matcher: &elbv2.Matcher{HttpCode: new("200-299")},
			},
		},
		{
			name: "RegisterTargets",
			send: func(ctx context.Context) error {
				_, err := client.RegisterTargets(ctx, &sdk.RegisterTargetsInput{
					TargetGroupArn: aws.String("arn:tg"),
					Targets: []types.TargetDescription{{Id: aws.String("i-1"), Port: aws.Int32(22)},
						{Id: aws.String("10.0.1.5"), Port: aws.Int32(8022), AvailabilityZone: aws.String("all")}},
				})
				return err
			},
			want: &elbv2.RegisterTargetsInput{
				TargetGroupArn: new("arn:tg"),
				Targets: []elbv2.TargetDescription{{Id: new("i-1"), Port: new(int32(22))},
					{Id: new("10.0.1.5"), Port: new(int32(8022)), AvailabilityZone: new("all")}},
			},
		},
		{
			name: "CreateListener",
			send: func(ctx context.Context) error {
				_, err := client.CreateListener(ctx, &sdk.CreateListenerInput{
					LoadBalancerArn: aws.String("arn:lb"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(8022),
					DefaultActions: []types.Action{
						{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String("arn:tg")},
						{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{
							Issuer: aws.String("iss"), AuthorizationEndpoint: aws.String("a"), TokenEndpoint: aws.String("t"),
							UserInfoEndpoint: aws.String("u"), ClientId: aws.String("c"),
							AuthenticationRequestExtraParams: map[string]string{"prompt": "login", "display": "page"},
						}},
						{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
							TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String("arn:tg1"), Weight: aws.Int32(1)},
								{TargetGroupArn: aws.String("arn:tg2"), Weight: aws.Int32(3)}},
						}},
					},
					Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
				})
				return err
			},
			want: &elbv2.CreateListenerInput{
				LoadBalancerArn: new("arn:lb"), Protocol: new("TCP"), Port: new(int32(8022)),
				DefaultActions: []elbv2.Action{
					{Type: new("forward"), TargetGroupArn: new("arn:tg")},
					{Type: new("authenticate-oidc"), Order: new(int32(1)), AuthenticateOidcConfig: &elbv2.AuthenticateOidcActionConfig{
						Issuer: new("iss"), AuthorizationEndpoint: new("a"), TokenEndpoint: new("t"), UserInfoEndpoint: new("u"), ClientId: new("c"),
						AuthenticationRequestExtraParams: map[string]string{"prompt": "login", "display": "page"},
					}},
					{Type: new("forward"), ForwardConfig: &elbv2.ForwardActionConfig{
						TargetGroups: []elbv2.TargetGroupTuple{{TargetGroupArn: new("arn:tg1"), Weight: new(int32(1))},
							{TargetGroupArn: new("arn:tg2"), Weight: new(int32(3))}},
					}},
				},
				Tags: []elbv2.Tag{{Key: new("k"), Value: new("v")}},
			},
		},
		{
			name: "DescribeLoadBalancers",
			send: func(ctx context.Context) error {
				_, err := client.DescribeLoadBalancers(ctx, &sdk.DescribeLoadBalancersInput{
					Names: []string{"a", "b"}, Marker: aws.String("m"), PageSize: aws.Int32(10),
				})
				return err
			},
			want: &elbv2.DescribeLoadBalancersInput{Names: []string{"a", "b"}, Marker: new("m"), PageSize: new(int32(10))},
		},
		{
			name: "DescribeTargetHealth",
			send: func(ctx context.Context) error {
				_, err := client.DescribeTargetHealth(ctx, &sdk.DescribeTargetHealthInput{
					TargetGroupArn: aws.String("arn:tg"), Targets: []types.TargetDescription{{Id: aws.String("i-1")}},
					Include: []types.DescribeTargetHealthInputIncludeEnum{types.DescribeTargetHealthInputIncludeEnumAll},
				})
				return err
			},
			want: &elbv2.DescribeTargetHealthInput{TargetGroupArn: new("arn:tg"), Targets: []elbv2.TargetDescription{{Id: new("i-1")}},
				Include: []string{"All"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.send(t.Context()); err != nil {
				t.Fatalf("SDK: %v", err)
			}
			form := srv.LastForm()
			if form.Get("Action") != tt.name || form.Get("Version") != elbv2.APIVersion {
				t.Fatalf("Action=%q Version=%q", form.Get("Action"), form.Get("Version"))
			}
			op, ok := elbv2.LookupOperation(tt.name)
			if !ok {
				t.Fatalf("no operation %s", tt.name)
			}
			got, err := op.DecodeInput(form)
			if err != nil {
				t.Fatalf("Decode(%v): %v", form, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				querytest.SameShape(t, got, tt.want)
				t.Errorf("Decode = %+v, want %+v", got, tt.want)
			}
		})
	}
}

var (
	created = time.Date(2024, 3, 4, 5, 6, 7, 890e6, time.UTC)
	nlb     = elbv2.LoadBalancer{
		LoadBalancerArn:       new("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/50dc6c495c0c9188"),
		DNSName:               new("nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com"),
		CanonicalHostedZoneId: new("Z26RNL4JYFTOTI"), CreatedTime: query.NewTimestamp(created),
		LoadBalancerName: new("nlb"), Scheme: new("internal"), VpcId: new("vpc-1"), Type: new("network"),
		State: &elbv2.LoadBalancerState{Code: new("provisioning")},
		AvailabilityZones: []elbv2.AvailabilityZone{
			{ZoneName: new("us-east-1a"), SubnetId: new("subnet-1"),
				LoadBalancerAddresses: []elbv2.LoadBalancerAddress{{PrivateIPv4Address: new("10.0.1.10")}}},
			{ZoneName: new("us-east-1b"), SubnetId: new("subnet-2"),
				LoadBalancerAddresses: []elbv2.LoadBalancerAddress{{PrivateIPv4Address: new("10.0.2.10"), IpAddress: new("10.0.2.10")}}},
		},
		SecurityGroups: []string{}, IpAddressType: new("ipv4"),
	}
	tg = elbv2.TargetGroup{
		TargetGroupArn:  new("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/73e2d6bc24d8a067"),
		TargetGroupName: new("tg"), Protocol: new("TCP"), Port: new(int32(22)), VpcId: new("vpc-1"),
		HealthCheckProtocol: new("TCP"), HealthCheckPort: new("traffic-port"), HealthCheckEnabled: new(true),
		HealthCheckIntervalSeconds: new(int32(30)), HealthCheckTimeoutSeconds: new(int32(10)),
		HealthyThresholdCount: new(int32(5)), UnhealthyThresholdCount: new(int32(2)),
		LoadBalancerArns: []string{*nlb.LoadBalancerArn}, TargetType: new("instance"), IpAddressType: new("ipv4"),
	}
)

// responseCases are representative outputs: served to the SDK, checked
// field by field, and kept as golden XML in testdata.
var responseCases = []struct {
	name  string
	op    string
	out   any
	check func(t *testing.T, out any)
}{
	{
		name: "CreateLoadBalancer", op: "CreateLoadBalancer",
		out: &elbv2.CreateLoadBalancerOutput{LoadBalancers: []elbv2.LoadBalancer{nlb}},
		check: func(t *testing.T, out any) {
			lb := out.(*sdk.CreateLoadBalancerOutput).LoadBalancers[0]
			eq(t, "DNSName", *lb.DNSName, "nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com")
			eq(t, "CreatedTime", lb.CreatedTime.Equal(created), true)
			eq(t, "State.Code", lb.State.Code, types.LoadBalancerStateEnumProvisioning)
			eq(t, "Type", lb.Type, types.LoadBalancerTypeEnumNetwork)
			eq(t, "Scheme", lb.Scheme, types.LoadBalancerSchemeEnumInternal)
			eq(t, "len(AvailabilityZones)", len(lb.AvailabilityZones), 2)
			eq(t, "AvailabilityZones[1].ZoneName", *lb.AvailabilityZones[1].ZoneName, "us-east-1b")
			eq(t, "AvailabilityZones[1].LoadBalancerAddresses[0].PrivateIPv4Address",
				*lb.AvailabilityZones[1].LoadBalancerAddresses[0].PrivateIPv4Address, "10.0.2.10")
			eq(t, "AvailabilityZones[0].SubnetId", *lb.AvailabilityZones[0].SubnetId, "subnet-1")
			eq(t, "SecurityGroups", len(lb.SecurityGroups), 0)
		},
	},
	{
		name: "DescribeLoadBalancers", op: "DescribeLoadBalancers",
		out: &elbv2.DescribeLoadBalancersOutput{LoadBalancers: []elbv2.LoadBalancer{nlb, {LoadBalancerName: new("other"),
			State: &elbv2.LoadBalancerState{Code: new("failed"), Reason: new("no capacity")}}}, NextMarker: new("next")},
		check: func(t *testing.T, out any) {
			o := out.(*sdk.DescribeLoadBalancersOutput)
			eq(t, "len(LoadBalancers)", len(o.LoadBalancers), 2)
			eq(t, "NextMarker", *o.NextMarker, "next")
			eq(t, "LoadBalancers[1].State.Reason", *o.LoadBalancers[1].State.Reason, "no capacity")
		},
	},
	{
		name: "CreateTargetGroup", op: "CreateTargetGroup",
		out: &elbv2.CreateTargetGroupOutput{TargetGroups: []elbv2.TargetGroup{tg}},
		check: func(t *testing.T, out any) {
			g := out.(*sdk.CreateTargetGroupOutput).TargetGroups[0]
			eq(t, "Protocol", g.Protocol, types.ProtocolEnumTcp)
			eq(t, "Port", *g.Port, int32(22))
			eq(t, "HealthCheckEnabled", *g.HealthCheckEnabled, true)
			eq(t, "LoadBalancerArns", g.LoadBalancerArns, []string{*nlb.LoadBalancerArn})
			eq(t, "TargetType", g.TargetType, types.TargetTypeEnumInstance)
		},
	},
	{
		name: "DescribeTargetHealth", op: "DescribeTargetHealth",
		out: &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbv2.TargetHealthDescription{
			{Target: &elbv2.TargetDescription{Id: new("i-1"), Port: new(int32(22))}, HealthCheckPort: new("22"),
				TargetHealth: &elbv2.TargetHealth{State: new("healthy")}},
			{Target: &elbv2.TargetDescription{Id: new("i-2"), Port: new(int32(22)), AvailabilityZone: new("us-east-1b")}, HealthCheckPort: new("22"),
				TargetHealth: &elbv2.TargetHealth{State: new("unhealthy"), Reason: new("Target.FailedHealthChecks"), Description: new("Health checks failed")}},
		}},
		check: func(t *testing.T, out any) {
			d := out.(*sdk.DescribeTargetHealthOutput).TargetHealthDescriptions
			eq(t, "len(TargetHealthDescriptions)", len(d), 2)
			eq(t, "[0].Target.Id", *d[0].Target.Id, "i-1")
			eq(t, "[0].TargetHealth.State", d[0].TargetHealth.State, types.TargetHealthStateEnumHealthy)
			eq(t, "[1].TargetHealth.Reason", d[1].TargetHealth.Reason, types.TargetHealthReasonEnumFailedHealthChecks)
			eq(t, "[1].TargetHealth.Description", *d[1].TargetHealth.Description, "Health checks failed")
			eq(t, "[1].Target.AvailabilityZone", *d[1].Target.AvailabilityZone, "us-east-1b")
		},
	},
	{
		name: "CreateListener", op: "CreateListener",
		out: &elbv2.CreateListenerOutput{Listeners: []elbv2.Listener{{
			ListenerArn: new("arn:listener"), LoadBalancerArn: nlb.LoadBalancerArn, Port: new(int32(8022)), Protocol: new("TCP"),
			DefaultActions: []elbv2.Action{{Type: new("forward"), TargetGroupArn: tg.TargetGroupArn,
				ForwardConfig: &elbv2.ForwardActionConfig{TargetGroups: []elbv2.TargetGroupTuple{{TargetGroupArn: tg.TargetGroupArn, Weight: new(int32(1))}}}}},
		}}},
		check: func(t *testing.T, out any) {
			l := out.(*sdk.CreateListenerOutput).Listeners[0]
			eq(t, "Port", *l.Port, int32(8022))
			eq(t, "DefaultActions[0].Type", l.DefaultActions[0].Type, types.ActionTypeEnumForward)
			eq(t, "DefaultActions[0].ForwardConfig.TargetGroups[0].Weight", *l.DefaultActions[0].ForwardConfig.TargetGroups[0].Weight, int32(1))
		},
	},
	{
		name: "DescribeTargetGroupAttributes", op: "DescribeTargetGroupAttributes",
		out: &elbv2.DescribeTargetGroupAttributesOutput{Attributes: []elbv2.TargetGroupAttribute{
			{Key: new("deregistration_delay.timeout_seconds"), Value: new("300")},
			{Key: new("proxy_protocol_v2.enabled"), Value: new("true")},
		}},
		check: func(t *testing.T, out any) {
			a := out.(*sdk.DescribeTargetGroupAttributesOutput).Attributes
			eq(t, "len(Attributes)", len(a), 2)
			eq(t, "Attributes[1].Key", *a[1].Key, "proxy_protocol_v2.enabled")
			eq(t, "Attributes[1].Value", *a[1].Value, "true")
		},
	},
	{
		name: "ModifyLoadBalancerAttributes", op: "ModifyLoadBalancerAttributes",
		out: &elbv2.ModifyLoadBalancerAttributesOutput{Attributes: []elbv2.LoadBalancerAttribute{
			{Key: new("access_logs.s3.bucket"), Value: new("")},
			{Key: new("deletion_protection.enabled"), Value: new("true")},
		}},
		check: func(t *testing.T, out any) {
			a := out.(*sdk.ModifyLoadBalancerAttributesOutput).Attributes
			eq(t, "len(Attributes)", len(a), 2)
			// An empty value is written and read back as empty, not absent.
			eq(t, "Attributes[0].Value", aws.ToString(a[0].Value), "")
			eq(t, "Attributes[0].Value present", a[0].Value != nil, true)
			eq(t, "Attributes[1].Value", *a[1].Value, "true")
		},
	},
	{
		name: "DescribeListenerAttributes", op: "DescribeListenerAttributes",
		out: &elbv2.DescribeListenerAttributesOutput{Attributes: []elbv2.ListenerAttribute{
			{Key: new("tcp.idle_timeout.seconds"), Value: new("350")},
		}},
		check: func(t *testing.T, out any) {
			a := out.(*sdk.DescribeListenerAttributesOutput).Attributes
			eq(t, "len(Attributes)", len(a), 1)
			eq(t, "Attributes[0].Key", *a[0].Key, "tcp.idle_timeout.seconds")
			eq(t, "Attributes[0].Value", *a[0].Value, "350")
		},
	},
	{
		name: "ModifyTargetGroup", op: "ModifyTargetGroup",
		out: &elbv2.ModifyTargetGroupOutput{TargetGroups: []elbv2.TargetGroup{func() elbv2.TargetGroup {
			g := tg
			g.HealthCheckProtocol, g.HealthCheckPath = new("HTTP"), new("/healthz")
			g.HealthCheckTimeoutSeconds = new(int32(6))
			g.Matcher = &elbv2.Matcher{HttpCode: new("200-399")}
			return g
		}()}},
		check: func(t *testing.T, out any) {
			g := out.(*sdk.ModifyTargetGroupOutput).TargetGroups[0]
			eq(t, "HealthCheckProtocol", g.HealthCheckProtocol, types.ProtocolEnumHttp)
			eq(t, "HealthCheckPath", *g.HealthCheckPath, "/healthz")
			eq(t, "Matcher.HttpCode", *g.Matcher.HttpCode, "200-399")
			eq(t, "HealthCheckTimeoutSeconds", *g.HealthCheckTimeoutSeconds, int32(6))
		},
	},
	{
		name: "DeleteLoadBalancer", op: "DeleteLoadBalancer",
		out: &elbv2.DeleteLoadBalancerOutput{},
		check: func(t *testing.T, out any) {
			if _, ok := out.(*sdk.DeleteLoadBalancerOutput); !ok {
				t.Errorf("output %T", out)
			}
		},
	},
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestSDKResponses(t *testing.T) {
	srv := querytest.NewServer(elbv2.LookupAnyOperation)
	defer srv.Close()
	client := newClient(srv)
	for _, tt := range responseCases {
		t.Run(tt.name, func(t *testing.T) {
			op, _ := elbv2.LookupAnyOperation(tt.op)
			in := op.NewInput()
			querytest.Fill(in, 2) // required parameters, for the SDK's validation
			sdkIn := querytest.NewSDKInput(client, tt.op)
			if err := querytest.ToSDK(in, sdkIn); err != nil {
				t.Fatal(err)
			}
			srv.SetReply(tt.op, querytest.Reply{Output: tt.out})
			out, err := querytest.Call(t.Context(), client, tt.op, sdkIn)
			if err != nil {
				t.Fatalf("SDK: %v", err)
			}
			tt.check(t, out)
		})
	}
}

func TestGoldenResponses(t *testing.T) {
	for _, tt := range responseCases {
		t.Run(tt.name, func(t *testing.T) {
			op, _ := elbv2.LookupAnyOperation(tt.op)
			got, err := op.MarshalResponse("req-"+tt.name, tt.out)
			if err != nil {
				t.Fatal(err)
			}
			querytest.Golden(t, filepath.Join("testdata", tt.name+".xml"), got, *update)
		})
	}
	t.Run("Error", func(t *testing.T) {
		doc := query.MarshalQueryError(elbv2.XMLNamespace, "req-error", query.Sender, "LoadBalancerNotFound", "One or more load balancers not found")
		querytest.Golden(t, filepath.Join("testdata", "Error.xml"), doc, *update)
	})
}

func TestSDKErrors(t *testing.T) {
	srv := querytest.NewServer(elbv2.LookupOperation)
	defer srv.Close()
	client := newClient(srv)
	tests := []struct {
		status        int
		fault         query.Fault
		code, message string
		// typed checks the SDK's modelled error, when the code has one.
		typed func(t *testing.T, err error)
	}{
		{http.StatusBadRequest, query.Sender, "LoadBalancerNotFound", "One or more load balancers not found",
			func(t *testing.T, err error) {
				var nf *types.LoadBalancerNotFoundException
				if !errors.As(err, &nf) {
					t.Fatalf("error %T is not a LoadBalancerNotFoundException", err)
				}
				eq(t, "Message", *nf.Message, "One or more load balancers not found")
			}},
		{http.StatusBadRequest, query.Sender, "ValidationError", "The parameter Foo is not recognized <&>", nil},
		{http.StatusServiceUnavailable, query.Receiver, "ServiceUnavailable", "Try again", nil},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			srv.SetReply("DeleteLoadBalancer", querytest.Reply{Status: tt.status,
				Body: query.MarshalQueryError(elbv2.XMLNamespace, "req-err-1", tt.fault, tt.code, tt.message)})
			_, err := client.DeleteLoadBalancer(t.Context(), &sdk.DeleteLoadBalancerInput{LoadBalancerArn: aws.String("arn:lb")})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is not an APIError", err)
			}
			eq(t, "ErrorCode", apiErr.ErrorCode(), tt.code)
			eq(t, "ErrorMessage", apiErr.ErrorMessage(), tt.message)
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) {
				t.Fatalf("error %v is not a ResponseError", err)
			}
			eq(t, "HTTPStatusCode", respErr.HTTPStatusCode(), tt.status)
			eq(t, "ServiceRequestID", respErr.ServiceRequestID(), "req-err-1")
			if tt.typed != nil {
				tt.typed(t, err)
			}
		})
	}
}

// unknownInSnapshots are the parameters of the SDK's request snapshots that
// the frozen v1 model (and so privlink) does not know: the SDK's model is
// newer.
var unknownInSnapshots = map[string][]string{
	"CreateListener": {
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.1.Format",
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.1.Name",
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.1.Values.member.1",
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.1.Values.member.2",
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.2.Format",
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.2.Name",
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.2.Values.member.1",
		"DefaultActions.member.1.JwtValidationConfig.AdditionalClaims.member.2.Values.member.2",
		"DefaultActions.member.1.JwtValidationConfig.Issuer",
		"DefaultActions.member.1.JwtValidationConfig.JwksEndpoint",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.1.Format",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.1.Name",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.1.Values.member.1",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.1.Values.member.2",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.2.Format",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.2.Name",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.2.Values.member.1",
		"DefaultActions.member.2.JwtValidationConfig.AdditionalClaims.member.2.Values.member.2",
		"DefaultActions.member.2.JwtValidationConfig.Issuer",
		"DefaultActions.member.2.JwtValidationConfig.JwksEndpoint",
		"MutualAuthentication.AdvertiseTrustStoreCaNames",
	},
	"CreateLoadBalancer": {
		"EnablePrefixForIpv6SourceNat", "IpamPools.Ipv4IpamPoolId",
		"SubnetMappings.member.1.SourceNatIpv6Prefix", "SubnetMappings.member.2.SourceNatIpv6Prefix",
	},
	"CreateTargetGroup":    {"TargetControlPort"},
	"DeregisterTargets":    {"Targets.member.1.QuicServerId", "Targets.member.2.QuicServerId"},
	"DescribeTargetHealth": {"Targets.member.1.QuicServerId", "Targets.member.2.QuicServerId"},
	"RegisterTargets":      {"Targets.member.1.QuicServerId", "Targets.member.2.QuicServerId"},
}

// TestRequestSnapshots decodes the request bodies that the SDK records for
// its own serializer tests.
func TestRequestSnapshots(t *testing.T) {
	for _, name := range elbv2.OperationNames() {
		t.Run(name, func(t *testing.T) {
			op, _ := elbv2.LookupOperation(name)
			form := querytest.RequestSnapshot(t, "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2", name)
			querytest.CheckSnapshot(t, op, form, unknownInSnapshots[name])
		})
	}
}

// TestAWSCLI drives the generated shapes with the AWS CLI v1 and v2, the
// clients most users have: their requests decode, and they parse our
// responses and errors.
func TestAWSCLI(t *testing.T) {
	srv := querytest.NewServer(elbv2.LookupOperation)
	defer srv.Close()
	requests := []struct {
		name string
		args []string
		want any
	}{
		{
			name: "create-load-balancer",
			args: []string{"elbv2", "create-load-balancer", "--name", "nlb", "--type", "network", "--scheme", "internal",
				"--subnets", "subnet-1", "subnet-2", "--tags", "Key=Name,Value=nlb", "Key=team,Value=net"},
			want: &elbv2.CreateLoadBalancerInput{Name: new("nlb"), Type: new("network"), Scheme: new("internal"),
				Subnets: []string{"subnet-1", "subnet-2"},
				Tags:    []elbv2.Tag{{Key: new("Name"), Value: new("nlb")}, {Key: new("team"), Value: new("net")}}},
		},
		{
			name: "create-target-group",
			args: []string{"elbv2", "create-target-group", "--name", "tg", "--protocol", "TCP", "--port", "22",
				"--vpc-id", "vpc-1", "--target-type", "instance", "--health-check-enabled", "--health-check-interval-seconds", "10"},
			want: &elbv2.CreateTargetGroupInput{Name: new("tg"), Protocol: new("TCP"), Port: new(int32(22)), VpcId: new("vpc-1"),
				TargetType: new("instance"), HealthCheckEnabled: new(true), HealthCheckIntervalSeconds: new(int32(10))},
		},
		{
			name: "register-targets",
			args: []string{"elbv2", "register-targets", "--target-group-arn", "arn:tg", "--targets", "Id=i-1,Port=22", "Id=i-2"},
			want: &elbv2.RegisterTargetsInput{TargetGroupArn: new("arn:tg"),
				Targets: []elbv2.TargetDescription{{Id: new("i-1"), Port: new(int32(22))}, {Id: new("i-2")}}},
		},
		{
			name: "create-listener",
			args: []string{"elbv2", "create-listener", "--load-balancer-arn", "arn:lb", "--protocol", "TCP", "--port", "8022",
				"--default-actions", "Type=forward,TargetGroupArn=arn:tg"},
			want: &elbv2.CreateListenerInput{LoadBalancerArn: new("arn:lb"), Protocol: new("TCP"), Port: new(int32(8022)),
				DefaultActions: []elbv2.Action{{Type: new("forward"), TargetGroupArn: new("arn:tg")}}},
		},
	}
	for _, cli := range querytest.AWSCLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			for _, tt := range requests {
				t.Run(tt.name, func(t *testing.T) {
					if _, err := cli.Run(t.Context(), t, srv.URL, tt.args...); err != nil {
						t.Fatal(err)
					}
					form := srv.LastForm()
					op, _ := elbv2.LookupOperation(form.Get("Action"))
					got, err := op.DecodeInput(form)
					if err != nil {
						t.Fatalf("Decode(%v): %v", form, err)
					}
					querytest.SameShape(t, got, tt.want)
				})
			}
			t.Run("describe-load-balancers", func(t *testing.T) {
				srv.SetReply("DescribeLoadBalancers", querytest.Reply{Output: &elbv2.DescribeLoadBalancersOutput{LoadBalancers: []elbv2.LoadBalancer{nlb}}})
				stdout, err := cli.Run(t.Context(), t, srv.URL, "elbv2", "describe-load-balancers")
				if err != nil {
					t.Fatal(err)
				}
				var out struct {
					LoadBalancers []struct {
						DNSName, CreatedTime string
						State                struct{ Code string }
						AvailabilityZones    []struct {
							ZoneName, SubnetId    string
							LoadBalancerAddresses []struct{ PrivateIPv4Address string }
						}
						SecurityGroups []string
					}
				}
				if err := json.Unmarshal(stdout, &out); err != nil {
					t.Fatalf("%v: %s", err, stdout)
				}
				lb := out.LoadBalancers[0]
				eq(t, "DNSName", lb.DNSName, "nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com")
				eq(t, "State.Code", lb.State.Code, "provisioning")
				eq(t, "AvailabilityZones[1].ZoneName", lb.AvailabilityZones[1].ZoneName, "us-east-1b")
				eq(t, "AvailabilityZones[1].LoadBalancerAddresses[0].PrivateIPv4Address",
					lb.AvailabilityZones[1].LoadBalancerAddresses[0].PrivateIPv4Address, "10.0.2.10")
				eq(t, "SecurityGroups", lb.SecurityGroups, []string{})
				eq(t, "CreatedTime", strings.HasPrefix(lb.CreatedTime, "2024-03-04T05:06:07.89"), true)
			})
			t.Run("describe-target-health", func(t *testing.T) {
				srv.SetReply("DescribeTargetHealth", querytest.Reply{Output: &elbv2.DescribeTargetHealthOutput{
					TargetHealthDescriptions: []elbv2.TargetHealthDescription{{Target: &elbv2.TargetDescription{Id: new("i-1"), Port: new(int32(22))},
						TargetHealth: &elbv2.TargetHealth{State: new("unhealthy"), Reason: new("Target.Timeout")}}}}})
				stdout, err := cli.Run(t.Context(), t, srv.URL, "elbv2", "describe-target-health", "--target-group-arn", "arn:tg")
				if err != nil {
					t.Fatal(err)
				}
				var out struct {
					TargetHealthDescriptions []struct {
						Target struct {
							Id   string
							Port int
						}
						TargetHealth struct{ State, Reason string }
					}
				}
				if err := json.Unmarshal(stdout, &out); err != nil {
					t.Fatalf("%v: %s", err, stdout)
				}
				d := out.TargetHealthDescriptions[0]
				eq(t, "Target.Port", d.Target.Port, 22)
				eq(t, "TargetHealth.Reason", d.TargetHealth.Reason, "Target.Timeout")
			})
			t.Run("error", func(t *testing.T) {
				srv.SetReply("DescribeLoadBalancers", querytest.Reply{Status: http.StatusBadRequest,
					Body: query.MarshalQueryError(elbv2.XMLNamespace, "req-err", query.Sender, "LoadBalancerNotFound", "One or more load balancers not found")})
				_, err := cli.Run(t.Context(), t, srv.URL, "elbv2", "describe-load-balancers", "--names", "nope")
				for _, want := range []string{"An error occurred (LoadBalancerNotFound) when calling the DescribeLoadBalancers operation",
					"): One or more load balancers not found"} {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("error = %v, want it to contain %q", err, want)
					}
				}
			})
		})
	}
}
