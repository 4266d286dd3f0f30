#!/usr/bin/env bash
# The walking skeleton's acceptance scenario (issue "Walking skeleton"), run
# exactly as a user would: a privlink server, the AWS CLI, privlink exec.
#
#   provider (bootstrap account): VPC 10.0.0.0/16, instances A and B running a
#     tiny TCP server on port 22, an internal NLB with listeners 8022 → A and
#     8023 → B, an endpoint service that requires acceptance, the consumer
#     allowed;
#   consumer (a new account): a VPC with the same CIDR, instances C and D, a
#     security group admitting 8022-8023 from C only, an interface endpoint.
#
# Usage: scripts/e2e-walking-skeleton.sh [path/to/privlink]
# Env:   AWS (default /usr/bin/aws, the CLI v2), KEEP=1 keeps the data dir,
#        SERVER_ARGS: more flags for the server (e.g. --lab-fabric shared).
set -euo pipefail

BIN=${1:-${PRIVLINK_BIN:-}}
if [[ -z $BIN ]]; then
	BIN=$(mktemp -d)/privlink
	go build -o "$BIN" ./cmd/privlink
fi
AWS_BIN=${AWS:-/usr/bin/aws}
DATA=$(mktemp -d /tmp/privlink-e2e.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
SERVER_PID=

say()  { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; [[ -f $DATA/server.log ]] && tail -50 "$DATA/server.log" >&2; exit 1; }
pass() { printf '   ok: %s\n' "$*"; }

start_server() {
	# shellcheck disable=SC2086 # SERVER_ARGS is a list of flags
	"$BIN" server --listen "127.0.0.1:$PORT" --data-dir "$DATA" ${SERVER_ARGS:-} >>"$DATA/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		curl -fsS "$URL/" >/dev/null 2>&1 && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited at start"
		sleep 0.1
	done
	fail "server did not start"
}

cleanup() {
	local rc=$?
	[[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	"$BIN" lab clean --data-dir "$DATA" >/dev/null || echo "lab clean failed" >&2
	if [[ ${KEEP:-} == 1 || $rc != 0 ]]; then echo "data dir kept: $DATA"; else rm -rf "$DATA"; fi
	exit $rc
}
trap cleanup EXIT

# aws as the provider (bootstrap account) and as the consumer.
export AWS_PAGER="" AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
provider() { AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$AWS_BIN" --endpoint-url "$URL" --region us-east-1 "$@"; }
consumer() { AWS_ACCESS_KEY_ID=$C_KEY AWS_SECRET_ACCESS_KEY=$C_SECRET "$AWS_BIN" --endpoint-url "$URL" --region us-east-1 "$@"; }
stranger() { AWS_ACCESS_KEY_ID=$S_KEY AWS_SECRET_ACCESS_KEY=$S_SECRET "$AWS_BIN" --endpoint-url "$URL" --region us-east-1 "$@"; }
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# in_instance ID CMD…: privlink exec with the credentials of the instance's
# owner (A and B are the provider's; the rest the consumer's).
in_instance() {
	local key=$C_KEY secret=$C_SECRET
	if [[ $1 == "${A:-}" || $1 == "${B:-}" ]]; then key=test secret=test; fi
	AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret "$BIN" exec --endpoint-url "$URL" "$@"
}

# connect INSTANCE IP PORT: prints what the server sent; the exit status is
# nc's (0 connected, 1 failed); nc's error text goes to $DATA/nc.err.
connect() { in_instance "$1" -- nc -v -w 3 "$2" "$3" </dev/null 2>"$DATA/nc.err"; }
expect_timeout() { # INSTANCE IP PORT WHY
	local out
	if out=$(connect "$1" "$2" "$3"); then fail "$4: connected (got '$out')"; fi
	grep -q "timed out" "$DATA/nc.err" || fail "$4: expected a timeout (dropped), got: $(cat "$DATA/nc.err")"
	pass "$4: timed out"
}
expect_no_connection() { # INSTANCE IP PORT WHY
	local out
	if out=$(connect "$1" "$2" "$3") && [[ -n $out ]]; then fail "$4: connected (got '$out')"; fi
	pass "$4: no connection ($(tr -d '\n' <"$DATA/nc.err"))"
}
wait_endpoint_state() { # WANT VPCE: as the consumer
	for _ in $(seq 50); do
		[[ $(consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$2" --query 'VpcEndpoints[0].State' --output text) == "$1" ]] && return 0
		sleep 0.1
	done
	fail "endpoint $2 did not become $1"
}
wait_target_healthy() { # TARGET_GROUP_ARN: as the provider; checks every 5 s, healthy after 2
	for _ in $(seq 60); do
		[[ $(provider elbv2 describe-target-health --target-group-arn "$1" --query 'TargetHealthDescriptions[0].TargetHealth.State' --output text) == healthy ]] && return 0
		sleep 0.5
	done
	fail "target of $1 did not become healthy: $(provider elbv2 describe-target-health --target-group-arn "$1" --output text)"
}
wait_instance_running() { # PROFILE_FN ID
	for _ in $(seq 100); do
		[[ $("$1" ec2 describe-instances --instance-ids "$2" --query 'Reservations[0].Instances[0].State.Name' --output text) == running ]] && return 0
		sleep 0.1
	done
	fail "instance $2 did not start"
}

say "1. privlink server ($BIN, data dir $DATA, $URL)"
start_server
pass "server up"

say "2. privlink accounts create"
ACCT=$(AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$BIN" accounts create --endpoint-url "$URL")
C_ID=$(json AccountId <<<"$ACCT"); C_KEY=$(json AccessKeyId <<<"$ACCT"); C_SECRET=$(json SecretAccessKey <<<"$ACCT")
[[ $C_ID =~ ^[0-9]{12}$ ]] || fail "account id $C_ID"
pass "consumer account $C_ID"

say "3. provider: VPC, subnet, instances A and B, NLB, endpoint service"
P_VPC=$(provider ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
P_SUBNET=$(provider ec2 create-subnet --vpc-id "$P_VPC" --cidr-block 10.0.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId --output text)
# Targets behind an NLB without security groups must admit the NLB's
# addresses, as on AWS: allow SSH from the VPC.
P_SG=$(provider ec2 create-security-group --vpc-id "$P_VPC" --group-name ssh-from-vpc --description "ssh from the VPC" --query GroupId --output text)
provider ec2 authorize-security-group-ingress --group-id "$P_SG" --protocol tcp --port 22 --cidr 10.0.0.0/16 >/dev/null
user_data() { printf '#!/bin/sh\nsocat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'"'"'echo instance=%s peer=$SOCAT_PEERADDR'"'"' &\n' "$1"; }
A=$(provider ec2 run-instances --image-id ami-12345678 --instance-type t3.micro --subnet-id "$P_SUBNET" --security-group-ids "$P_SG" --user-data "$(user_data A)" --query 'Instances[0].InstanceId' --output text)
B=$(provider ec2 run-instances --image-id ami-12345678 --instance-type t3.micro --subnet-id "$P_SUBNET" --security-group-ids "$P_SG" --user-data "$(user_data B)" --query 'Instances[0].InstanceId' --output text)
wait_instance_running provider "$A"; wait_instance_running provider "$B"
pass "instances A=$A B=$B running"
LB=$(provider elbv2 create-load-balancer --name maintenance --type network --scheme internal --subnets "$P_SUBNET" --query 'LoadBalancers[0].LoadBalancerArn' --output text)
HC=(--health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2)
TG1=$(provider elbv2 create-target-group --name ssh-a --protocol TCP --port 22 --target-type instance --vpc-id "$P_VPC" "${HC[@]}" --query 'TargetGroups[0].TargetGroupArn' --output text)
TG2=$(provider elbv2 create-target-group --name ssh-b --protocol TCP --port 22 --target-type instance --vpc-id "$P_VPC" "${HC[@]}" --query 'TargetGroups[0].TargetGroupArn' --output text)
provider elbv2 register-targets --target-group-arn "$TG1" --targets "Id=$A"
provider elbv2 register-targets --target-group-arn "$TG2" --targets "Id=$B"
provider elbv2 create-listener --load-balancer-arn "$LB" --protocol TCP --port 8022 --default-actions "Type=forward,TargetGroupArn=$TG1" >/dev/null
provider elbv2 create-listener --load-balancer-arn "$LB" --protocol TCP --port 8023 --default-actions "Type=forward,TargetGroupArn=$TG2" >/dev/null
LB_IP=$(provider ec2 describe-network-interfaces --query "NetworkInterfaces[?InterfaceType=='network_load_balancer'].PrivateIpAddress | [0]" --output text)
SVC=$(provider ec2 create-vpc-endpoint-service-configuration --network-load-balancer-arns "$LB" --acceptance-required --query ServiceConfiguration.ServiceId --output text)
SVC_NAME=$(provider ec2 describe-vpc-endpoint-service-configurations --service-ids "$SVC" --query 'ServiceConfigurations[0].ServiceName' --output text)
[[ $SVC_NAME == com.amazonaws.vpce.us-east-1.vpce-svc-* ]] || fail "service name $SVC_NAME"
provider ec2 modify-vpc-endpoint-service-permissions --service-id "$SVC" --add-allowed-principals "arn:aws:iam::$C_ID:root" >/dev/null
pass "service $SVC_NAME behind $LB (node $LB_IP), consumer allowed"

say "4. consumer: same CIDR, instances C and D, endpoint"
C_VPC=$(consumer ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
C_SUBNET=$(consumer ec2 create-subnet --vpc-id "$C_VPC" --cidr-block 10.0.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId --output text)
# C answers on port 22 to anyone, so the one-way check below means something.
C_OPEN=$(consumer ec2 create-security-group --vpc-id "$C_VPC" --group-name open-22 --description "port 22 from anywhere" --query GroupId --output text)
consumer ec2 authorize-security-group-ingress --group-id "$C_OPEN" --protocol tcp --port 22 --cidr 0.0.0.0/0 >/dev/null
C=$(consumer ec2 run-instances --image-id ami-12345678 --instance-type t3.micro --subnet-id "$C_SUBNET" --security-group-ids "$C_OPEN" \
	--user-data "$(printf '#!/bin/sh\nsocat TCP-LISTEN:22,fork,reuseaddr SYSTEM:"echo consumer" &\n')" --query 'Instances[0].InstanceId' --output text)
D=$(consumer ec2 run-instances --image-id ami-12345678 --instance-type t3.micro --subnet-id "$C_SUBNET" --query 'Instances[0].InstanceId' --output text)
wait_instance_running consumer "$C"; wait_instance_running consumer "$D"
C_IP=$(consumer ec2 describe-instances --instance-ids "$C" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text)
C_SG=$(consumer ec2 create-security-group --vpc-id "$C_VPC" --group-name endpoint-from-c --description "maintenance ports from C" --query GroupId --output text)
consumer ec2 authorize-security-group-ingress --group-id "$C_SG" --ip-permissions "IpProtocol=tcp,FromPort=8022,ToPort=8023,IpRanges=[{CidrIp=$C_IP/32}]" >/dev/null
[[ $(consumer ec2 describe-vpc-endpoint-services --service-names "$SVC_NAME" --query 'ServiceDetails[0].ServiceName' --output text) == "$SVC_NAME" ]] || fail "consumer cannot see $SVC_NAME"
pass "describe-vpc-endpoint-services lists the service"
EP=$(consumer ec2 create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id "$C_VPC" --service-name "$SVC_NAME" --subnet-ids "$C_SUBNET" --security-group-ids "$C_SG" --query VpcEndpoint.VpcEndpointId --output text)
STATE=$(consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$EP" --query 'VpcEndpoints[0].State' --output text)
[[ $STATE == pendingAcceptance ]] || fail "new endpoint is $STATE"
EP_ENI=$(consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$EP" --query 'VpcEndpoints[0].NetworkInterfaceIds[0]' --output text)
EP_IP=$(consumer ec2 describe-network-interfaces --network-interface-ids "$EP_ENI" --query 'NetworkInterfaces[0].PrivateIpAddress' --output text)
pass "endpoint $EP pendingAcceptance at $EP_IP (C is $C_IP)"
expect_timeout "$C" "$EP_IP" 8022 "before acceptance"

say "5. provider accepts"
[[ $(provider ec2 describe-vpc-endpoint-connections --query "VpcEndpointConnections[?VpcEndpointId=='$EP'].VpcEndpointState | [0]" --output text) == pendingAcceptance ]] || fail "provider does not see the connection"
provider ec2 accept-vpc-endpoint-connections --service-id "$SVC" --vpc-endpoint-ids "$EP" >/dev/null
t0=$(date +%s%N)
wait_endpoint_state available "$EP"
pass "available at the first poll after accept ($(( ($(date +%s%N) - t0) / 1000000 )) ms, mostly the AWS CLI starting)"
DNS=$(consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$EP" --query 'VpcEndpoints[0].DnsEntries[0].DnsName' --output text)
[[ $DNS =~ ^$EP-[a-z0-9]{8}\.$SVC\.us-east-1\.vpce\.amazonaws\.com$ ]] || fail "DNS name $DNS"
pass "DnsEntries: $DNS"

say "6. traffic: C → endpoint:8022 reaches A, :8023 reaches B, source is the NLB"
out=$(connect "$C" "$EP_IP" 8022) || fail "C → 8022: $(cat "$DATA/nc.err")"
[[ $out == "instance=A peer=$LB_IP" ]] || fail "8022 answered '$out', want 'instance=A peer=$LB_IP'"
pass "8022 → $out"
out=$(connect "$C" "$EP_IP" 8023) || fail "C → 8023: $(cat "$DATA/nc.err")"
[[ $out == "instance=B peer=$LB_IP" ]] || fail "8023 answered '$out', want 'instance=B peer=$LB_IP'"
pass "8023 → $out"
# Health checks start at the load balancer's node, whose address the
# consumer's endpoint may share; a target that never turns healthy still
# gets traffic (fail open), so only describe-target-health tells.
wait_target_healthy "$TG1"; wait_target_healthy "$TG2"
pass "describe-target-health: A and B healthy"

say "7. D is not admitted; the provider cannot reach the consumer"
expect_timeout "$D" "$EP_IP" 8022 "D → endpoint"
out=$(connect "$D" "$C_IP" 22) || fail "D → C:22 inside the consumer VPC: $(cat "$DATA/nc.err")"
[[ $out == consumer ]] || fail "C answered '$out'"
for target in "$C_IP" "$EP_IP"; do
	out=$(connect "$A" "$target" 22) || true
	[[ $out != *consumer* ]] || fail "A in the provider VPC reached the consumer at $target"
done
pass "A → consumer addresses: nothing of the consumer's answers"

say "9. kill -9 the server and start it again"
describe_all() {
	provider ec2 describe-vpcs; provider ec2 describe-subnets; provider ec2 describe-instances
	provider elbv2 describe-load-balancers; provider elbv2 describe-target-groups; provider elbv2 describe-listeners --load-balancer-arn "$LB"
	provider ec2 describe-vpc-endpoint-service-configurations; provider ec2 describe-vpc-endpoint-connections
	consumer ec2 describe-vpcs; consumer ec2 describe-instances; consumer ec2 describe-vpc-endpoints; consumer ec2 describe-security-groups
}
describe_all >"$DATA/before.json"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
start_server
wait_endpoint_state available "$EP"
describe_all >"$DATA/after.json"
diff -u "$DATA/before.json" "$DATA/after.json" || fail "resources describe differently after restart"
pass "every resource describes the same"
out=$(connect "$C" "$EP_IP" 8022) || fail "after restart C → 8022: $(cat "$DATA/nc.err")"
[[ $out == "instance=A peer=$LB_IP" ]] || fail "after restart 8022 answered '$out'"
pass "traffic works again: $out"

say "7. reject: nothing connects"
provider ec2 reject-vpc-endpoint-connections --service-id "$SVC" --vpc-endpoint-ids "$EP" >/dev/null
wait_endpoint_state rejected "$EP"
expect_timeout "$C" "$EP_IP" 8022 "after reject"

say "7. delete: nothing connects"
EP2=$(consumer ec2 create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id "$C_VPC" --service-name "$SVC_NAME" --subnet-ids "$C_SUBNET" --security-group-ids "$C_SG" --query VpcEndpoint.VpcEndpointId --output text) \
	|| fail "second endpoint in the same VPC"
provider ec2 accept-vpc-endpoint-connections --service-id "$SVC" --vpc-endpoint-ids "$EP2" >/dev/null
wait_endpoint_state available "$EP2"
EP2_IP=$(consumer ec2 describe-network-interfaces --network-interface-ids "$(consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$EP2" --query 'VpcEndpoints[0].NetworkInterfaceIds[0]' --output text)" --query 'NetworkInterfaces[0].PrivateIpAddress' --output text)
out=$(connect "$C" "$EP2_IP" 8023) || fail "C → second endpoint: $(cat "$DATA/nc.err")"
[[ $out == "instance=B peer=$LB_IP" ]] || fail "second endpoint answered '$out'"
consumer ec2 delete-vpc-endpoints --vpc-endpoint-ids "$EP2" >/dev/null
for _ in $(seq 50); do
	[[ -z $(consumer ec2 describe-vpc-endpoints --query "VpcEndpoints[?VpcEndpointId=='$EP2'].VpcEndpointId" --output text) ]] && break
	sleep 0.1
done
expect_no_connection "$C" "$EP2_IP" 8023 "after delete"

say "8. an account not on the allow list"
ACCT=$(AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$BIN" accounts create --endpoint-url "$URL")
S_KEY=$(json AccessKeyId <<<"$ACCT"); S_SECRET=$(json SecretAccessKey <<<"$ACCT")
S_VPC=$(stranger ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
S_SUBNET=$(stranger ec2 create-subnet --vpc-id "$S_VPC" --cidr-block 10.0.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId --output text)
if err=$(stranger ec2 create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id "$S_VPC" --service-name "$SVC_NAME" --subnet-ids "$S_SUBNET" 2>&1); then
	fail "an account off the allow list created an endpoint"
fi
[[ $err == *InvalidServiceName* ]] || fail "expected InvalidServiceName, got: $err"
pass "create-vpc-endpoint: $err"

say "PASS"
