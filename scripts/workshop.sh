#!/usr/bin/env bash
# The outyet workshop on berth, step by step as on AWS, with the workshop's
# names: starts `berth serve` (if it is not running), builds the outyet
# image and pushes it to berth's ECR (outyet-image), makes the key pair
# outyet and the security groups outyet-alb-sg and outyet-sg, the cluster
# outyet-cluster with two t2.nano container instances, the task definition
# outyet-task, the load balancer outyet-alb with its target group
# outyet-alb-target-group and a listener on port 80, and the service
# outyet-service of 3 tasks behind it. Prints the load balancer's URL once
# it serves. Run after scripts/build.sh; run again, it reuses what exists.
# env: BERTH_DATA_DIR (default ~/.local/share/berth), BERTH_BIN (or BERTH; default build/berth)
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${BERTH_DATA_DIR:-$HOME/.local/share/berth}
berth=${BERTH_BIN:-${BERTH:-build/berth}}
mkdir -p "$data_dir"

if ! curl -sf "$("$berth" env --data-dir "$data_dir" 2>/dev/null | sed -n "s/^export AWS_ENDPOINT_URL=//p" | tr -d "'\"")/_berth/health" >/dev/null 2>&1; then
  nohup "$berth" serve --data-dir "$data_dir" >>"$data_dir/serve.log" 2>&1 &
  for _ in $(seq 100); do
    "$berth" env --data-dir "$data_dir" >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
eval "$("$berth" env --data-dir "$data_dir")"
for _ in $(seq 100); do curl -sf "$AWS_ENDPOINT_URL/_berth/health" >/dev/null && break; sleep 0.1; done
# Debian's aws CLI 2.9 ignores AWS_ENDPOINT_URL: pass it explicitly.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" --output text "$@"; }
registry=${AWS_ENDPOINT_URL#http://}

echo "== ECR: outyet-image"
aws ecr describe-repositories --repository-names outyet-image >/dev/null 2>&1 ||
  aws ecr create-repository --repository-name outyet-image >/dev/null
storage=(--root "$data_dir/podman/root" --runroot "$data_dir/podman/run" --storage-driver vfs)
podman "${storage[@]}" build --isolation=chroot -q -t outyet-image . >/dev/null
aws ecr get-login-password |
  podman "${storage[@]}" login --tls-verify=false --username AWS --password-stdin "$registry" >/dev/null
podman "${storage[@]}" push -q --tls-verify=false outyet-image "$registry/outyet-image:latest"

echo "== EC2: key pair outyet, security groups outyet-alb-sg and outyet-sg"
vpc=$(aws ec2 describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId')
subnets=$(aws ec2 describe-subnets --filters Name=vpc-id,Values="$vpc" --query 'Subnets[0:2].SubnetId')
aws ec2 describe-key-pairs --key-names outyet >/dev/null 2>&1 ||
  aws ec2 create-key-pair --key-name outyet --query KeyMaterial >"$data_dir/outyet.pem"
chmod 600 "$data_dir/outyet.pem" 2>/dev/null || true
group_id() { aws ec2 describe-security-groups --filters Name=group-name,Values="$1" --query 'SecurityGroups[0].GroupId'; }
alb_sg=$(group_id outyet-alb-sg)
if [ "$alb_sg" = None ]; then
  alb_sg=$(aws ec2 create-security-group --group-name outyet-alb-sg --description "outyet load balancer" --vpc-id "$vpc" --query GroupId)
  aws ec2 authorize-security-group-ingress --group-id "$alb_sg" --ip-permissions \
    'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0}],Ipv6Ranges=[{CidrIpv6=::/0}]' >/dev/null
fi
instance_sg=$(group_id outyet-sg)
if [ "$instance_sg" = None ]; then
  instance_sg=$(aws ec2 create-security-group --group-name outyet-sg --description "outyet instances" --vpc-id "$vpc" --query GroupId)
  # Only the load balancer's group reaches the instances: berth's ALB
  # connects to the tasks on the instances' private addresses, carrying
  # outyet-alb-sg, as on AWS.
  aws ec2 authorize-security-group-ingress --group-id "$instance_sg" --protocol tcp --port 1-65535 --source-group "$alb_sg" >/dev/null
fi

echo "== ECS: cluster outyet-cluster, two t2.nano container instances"
aws ecs create-cluster --cluster-name outyet-cluster >/dev/null
ami=$(aws ec2 describe-images --owners amazon --filters 'Name=name,Values=amzn2-ami-ecs-hvm-*' --query 'Images[0].ImageId')
have=$(aws ecs list-container-instances --cluster outyet-cluster --status ACTIVE --query 'length(containerInstanceArns)')
if [ "$have" -lt 2 ]; then
  aws ec2 run-instances --image-id "$ami" --instance-type t2.nano --count $((2 - have)) --key-name outyet \
    --security-group-ids "$instance_sg" --user-data "$(printf '#!/bin/bash\necho ECS_CLUSTER=outyet-cluster >> /etc/ecs/ecs.config\n')" \
    --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=outyet-ecs}]' >/dev/null
fi
for _ in $(seq 150); do
  [ "$(aws ecs list-container-instances --cluster outyet-cluster --status ACTIVE --query 'length(containerInstanceArns)')" -ge 2 ] && break
  sleep 0.2
done

echo "== ECS: task definition outyet-task"
cat >"$data_dir/task-definition.json" <<JSON
{"family": "outyet-task", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
 "containerDefinitions": [{"name": "outyet", "image": "$registry/outyet-image:latest", "memory": 128,
   "essential": true, "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
   "command": ["-http", ":8080", "-version", "1.4"]}]}
JSON
aws ecs describe-task-definition --task-definition outyet-task >/dev/null 2>&1 ||
  aws ecs register-task-definition --cli-input-json "file://$data_dir/task-definition.json" >/dev/null

echo "== ALB: outyet-alb, target group outyet-alb-target-group, listener on port 80"
lb_arn=$(aws elbv2 describe-load-balancers --names outyet-alb --query 'LoadBalancers[0].LoadBalancerArn' 2>/dev/null || true)
if [ -z "$lb_arn" ] || [ "$lb_arn" = None ]; then
  # shellcheck disable=SC2086
  lb_arn=$(aws elbv2 create-load-balancer --name outyet-alb --subnets $subnets --security-groups "$alb_sg" \
    --query 'LoadBalancers[0].LoadBalancerArn')
fi
tg_arn=$(aws elbv2 describe-target-groups --names outyet-alb-target-group --query 'TargetGroups[0].TargetGroupArn' 2>/dev/null || true)
if [ -z "$tg_arn" ] || [ "$tg_arn" = None ]; then
  tg_arn=$(aws elbv2 create-target-group --name outyet-alb-target-group --protocol HTTP --port 8080 --vpc-id "$vpc" \
    --target-type instance --health-check-path / --health-check-interval-seconds 5 --health-check-timeout-seconds 2 \
    --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn')
  aws elbv2 modify-target-group-attributes --target-group-arn "$tg_arn" \
    --attributes Key=deregistration_delay.timeout_seconds,Value=30 >/dev/null
fi
if [ "$(aws elbv2 describe-listeners --load-balancer-arn "$lb_arn" --query 'length(Listeners)')" = 0 ]; then
  aws elbv2 create-listener --load-balancer-arn "$lb_arn" --protocol HTTP --port 80 \
    --default-actions Type=forward,TargetGroupArn="$tg_arn" >/dev/null
fi

echo "== ECS: service outyet-service, 3 tasks behind the load balancer"
account=$(aws sts get-caller-identity --query Account)
cat >"$data_dir/ecs-service.json" <<JSON
{"cluster": "outyet-cluster", "serviceName": "outyet-service", "taskDefinition": "outyet-task",
 "desiredCount": 3, "launchType": "EC2",
 "role": "arn:aws:iam::$account:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
 "loadBalancers": [{"targetGroupArn": "$tg_arn", "containerName": "outyet", "containerPort": 8080}],
 "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100}}
JSON
status=$(aws ecs describe-services --cluster outyet-cluster --services outyet-service --query 'services[0].status')
if [ "$status" != ACTIVE ]; then
  aws ecs create-service --cli-input-json "file://$data_dir/ecs-service.json" >/dev/null
fi
healthy=0
for _ in $(seq 300); do
  healthy=$(aws elbv2 describe-target-health --target-group-arn "$tg_arn" \
    --query "length(TargetHealthDescriptions[?TargetHealth.State=='healthy'])")
  [ "$healthy" -ge 3 ] && break
  sleep 0.2
done
if [ "$healthy" -lt 3 ]; then
  echo "outyet-service did not get 3 healthy tasks; its events:" >&2
  aws ecs describe-services --cluster outyet-cluster --services outyet-service --query 'services[0].events[0:5].message' >&2
  exit 1
fi
dns=$(aws elbv2 describe-load-balancers --load-balancer-arns "$lb_arn" --query 'LoadBalancers[0].DNSName')
echo
echo "outyet is served by the load balancer at: http://$dns/"
echo "(curl resolves *.localhost to loopback; so do browsers: http://$dns/)"
echo "point a shell at berth: eval \"\$($berth env --data-dir $data_dir)\"  (with Debian's aws CLI pass --endpoint-url \"\$AWS_ENDPOINT_URL\")"
