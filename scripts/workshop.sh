#!/usr/bin/env bash
# The outyet workshop on berth, step by step as on AWS: starts `berth serve`
# (if it is not running), builds the outyet image and pushes it to berth's
# ECR, launches an ECS container instance, runs outyet as an ECS task in
# bridge mode, and puts an Application Load Balancer in front of it.
# Prints the load balancer's URL. Run after scripts/build.sh; idempotent
# enough to run again against the same data dir.
#
# Until ECS services land, the task is started with run-task and its host
# port is registered in the target group by this script.
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

echo "== EC2: key pair, security groups, container instance"
vpc=$(aws ec2 describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId')
subnets=$(aws ec2 describe-subnets --filters Name=vpc-id,Values="$vpc" --query 'Subnets[0:2].SubnetId')
aws ec2 describe-key-pairs --key-names outyet-key >/dev/null 2>&1 ||
  aws ec2 create-key-pair --key-name outyet-key --query KeyMaterial >"$data_dir/outyet-key.pem"
chmod 600 "$data_dir/outyet-key.pem" 2>/dev/null || true
group_id() { aws ec2 describe-security-groups --filters Name=group-name,Values="$1" --query 'SecurityGroups[0].GroupId'; }
alb_sg=$(group_id outyet-alb-sg)
if [ "$alb_sg" = None ]; then
  alb_sg=$(aws ec2 create-security-group --group-name outyet-alb-sg --description "outyet load balancer" --vpc-id "$vpc" --query GroupId)
  aws ec2 authorize-security-group-ingress --group-id "$alb_sg" --protocol tcp --port 80 --cidr 0.0.0.0/0 >/dev/null
fi
instance_sg=$(group_id outyet-instance-sg)
if [ "$instance_sg" = None ]; then
  instance_sg=$(aws ec2 create-security-group --group-name outyet-instance-sg --description "outyet instances" --vpc-id "$vpc" --query GroupId)
  # Only the load balancer's group reaches the instances: berth's ALB
  # connects to the task on the instance's private address, carrying
  # outyet-alb-sg, as on AWS.
  aws ec2 authorize-security-group-ingress --group-id "$instance_sg" --protocol tcp --port 0-65535 --source-group "$alb_sg" >/dev/null
fi
aws ecs create-cluster --cluster-name outyet >/dev/null
ami=$(aws ec2 describe-images --owners amazon --filters 'Name=name,Values=amzn2-ami-ecs-hvm-*' --query 'Images[0].ImageId')
instance=$(aws ec2 describe-instances --filters Name=tag:Name,Values=outyet-ecs Name=instance-state-name,Values=pending,running \
  --query 'Reservations[0].Instances[0].InstanceId')
if [ "$instance" = None ]; then
  instance=$(aws ec2 run-instances --image-id "$ami" --instance-type t2.small --key-name outyet-key \
    --security-group-ids "$instance_sg" --user-data "$(printf '#!/bin/bash\necho ECS_CLUSTER=outyet >> /etc/ecs/ecs.config\n')" \
    --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=outyet-ecs}]' --query 'Instances[0].InstanceId')
fi
for _ in $(seq 100); do
  [ "$(aws ecs list-container-instances --cluster outyet --query 'length(containerInstanceArns)')" != 0 ] && break
  sleep 0.2
done

echo "== ECS: task definition and task"
cat >"$data_dir/outyet-task-definition.json" <<JSON
{"family": "outyet", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
 "containerDefinitions": [{"name": "outyet", "image": "$registry/outyet-image:latest", "memory": 128,
   "essential": true, "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
   "command": ["-http", ":8080", "-version", "1.4"]}]}
JSON
aws ecs register-task-definition --cli-input-json "file://$data_dir/outyet-task-definition.json" >/dev/null
running=$(aws ecs list-tasks --cluster outyet --family outyet --desired-status RUNNING --query 'taskArns[0]')
if [ "$running" = None ]; then
  running=$(aws ecs run-task --cluster outyet --task-definition outyet --count 1 --query 'tasks[0].taskArn')
fi
command aws --endpoint-url "$AWS_ENDPOINT_URL" ecs wait tasks-running --cluster outyet --tasks "$running"
host_port=$(aws ecs describe-tasks --cluster outyet --tasks "$running" --query 'tasks[0].containers[0].networkBindings[0].hostPort')

echo "== ALB: load balancer, target group, listener"
lb_arn=$(aws elbv2 describe-load-balancers --names outyet-alb --query 'LoadBalancers[0].LoadBalancerArn' 2>/dev/null || true)
if [ -z "$lb_arn" ] || [ "$lb_arn" = None ]; then
  # shellcheck disable=SC2086
  lb_arn=$(aws elbv2 create-load-balancer --name outyet-alb --subnets $subnets --security-groups "$alb_sg" \
    --query 'LoadBalancers[0].LoadBalancerArn')
fi
tg_arn=$(aws elbv2 describe-target-groups --names outyet-tg --query 'TargetGroups[0].TargetGroupArn' 2>/dev/null || true)
if [ -z "$tg_arn" ] || [ "$tg_arn" = None ]; then
  tg_arn=$(aws elbv2 create-target-group --name outyet-tg --protocol HTTP --port 8080 --vpc-id "$vpc" \
    --target-type instance --health-check-path / --health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2 \
    --query 'TargetGroups[0].TargetGroupArn')
fi
if [ "$(aws elbv2 describe-listeners --load-balancer-arn "$lb_arn" --query 'length(Listeners)')" = 0 ]; then
  aws elbv2 create-listener --load-balancer-arn "$lb_arn" --protocol HTTP --port 80 \
    --default-actions Type=forward,TargetGroupArn="$tg_arn" >/dev/null
fi
aws elbv2 register-targets --target-group-arn "$tg_arn" --targets Id="$instance",Port="$host_port" >/dev/null
command aws --endpoint-url "$AWS_ENDPOINT_URL" elbv2 wait target-in-service --target-group-arn "$tg_arn" \
  --targets Id="$instance",Port="$host_port"
dns=$(aws elbv2 describe-load-balancers --load-balancer-arns "$lb_arn" --query 'LoadBalancers[0].DNSName')
echo
echo "outyet is served by the load balancer at: http://$dns/"
echo "(curl resolves *.localhost to loopback; so do browsers: http://$dns/)"
