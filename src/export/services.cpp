// Services and their scaling. A service names its cluster, task definition
// and target groups by Ref, and waits for the listeners that forward to its
// target groups (AWS refuses a target group no load balancer uses) and for
// its cluster's instances. Its scalable target and policies follow it.
#include <boost/json.hpp>

#include "export/builders.h"

namespace berth::cfn {

namespace {

json::object deployment_configuration(const json::object& d) {
  json::object out;
  if (int64_t v = num(d, "maximumPercent"); v >= 0) out["MaximumPercent"] = v;
  if (int64_t v = num(d, "minimumHealthyPercent"); v >= 0) out["MinimumHealthyPercent"] = v;
  if (const auto& breaker = obj(d, "deploymentCircuitBreaker"); !breaker.empty())
    out["DeploymentCircuitBreaker"] = json::object{{"Enable", flag(breaker, "enable")}, {"Rollback", flag(breaker, "rollback")}};
  return out;
}

json::object network_configuration(Context& c, const std::string& service, const json::object& n) {
  const auto& vpc = obj(n, "awsvpcConfiguration");
  json::object out{{"Subnets", make_ref(kSubnetsParameter)}};
  json::array groups;
  for (const auto& g : arr(vpc, "securityGroups")) {
    std::string id(g.as_string());
    if (auto found = c.security_groups.find(id); found != c.security_groups.end())
      groups.push_back(get_att(found->second, "GroupId"));
    else
      c.note("not exported: security group " + id + " of service " + service + " (the VPC's default group)");
  }
  if (!groups.empty()) out["SecurityGroups"] = std::move(groups);
  if (auto assign = str(vpc, "assignPublicIp"); !assign.empty()) out["AssignPublicIp"] = assign;
  return json::object{{"AwsvpcConfiguration", std::move(out)}};
}

json::array pascal_pairs(const json::array& list, std::initializer_list<std::pair<const char*, const char*>> fields) {
  json::array out;
  for (const auto& v : list) {
    json::object o;
    for (const auto& [from, to] : fields)
      if (auto value = str(v.as_object(), from); !value.empty()) o[to] = value;
    out.push_back(std::move(o));
  }
  return out;
}

// The service's target groups by Ref; the listeners and rules that forward
// to them join `depends_on`.
json::array load_balancers(Context& c, const std::string& name, const json::array& list,
                           std::set<std::string>& depends_on) {
  json::array balancers;
  for (const auto& v : list) {
    const auto& lb = v.as_object();
    auto group = c.target_groups.find(str(lb, "targetGroupArn"));
    if (group == c.target_groups.end()) {
      c.note("not exported: the load balancer of service " + name + " (target group " + str(lb, "targetGroupArn") +
             " is not exported)");
      continue;
    }
    balancers.push_back(json::object{{"TargetGroupArn", make_ref(group->second)},
                                     {"ContainerName", str(lb, "containerName")},
                                     {"ContainerPort", num(lb, "containerPort")}});
    auto forwarders = c.forwarders.find(str(lb, "targetGroupArn"));
    if (forwarders == c.forwarders.end())
      c.note("service " + name + "'s target group " + group->second +
             " has no listener forwarding to it: AWS refuses such a service until one does");
    else
      depends_on.insert(forwarders->second.begin(), forwarders->second.end());
  }
  return balancers;
}

void add_service(Context& c, const json::object& s) {
  std::string name = str(s, "serviceName"), cluster_arn = str(s, "clusterArn");
  auto cluster = c.clusters.find(cluster_arn);
  auto td = c.task_definitions.find(str(s, "taskDefinition"));
  if (cluster == c.clusters.end() || td == c.task_definitions.end()) {
    c.note("not exported: service " + name + " (its cluster or task definition is not exported)");
    return;
  }
  std::string id = c.ids.make(name, "Service");
  c.services[last_segment(cluster_arn) + "/" + name] = id;
  auto& r = c.add(id, "AWS::ECS::Service");
  auto& p = r.properties;
  p["ServiceName"] = name;
  p["Cluster"] = make_ref(cluster->second);
  p["TaskDefinition"] = make_ref(td->second);
  if (auto strategy = str(s, "schedulingStrategy"); !strategy.empty()) p["SchedulingStrategy"] = strategy;
  if (str(s, "schedulingStrategy") != "DAEMON") p["DesiredCount"] = num(s, "desiredCount");
  if (!arr(s, "capacityProviderStrategy").empty()) {
    json::array strategy;
    for (const auto& item : arr(s, "capacityProviderStrategy")) {
      const auto& o = item.as_object();
      strategy.push_back(json::object{{"CapacityProvider", str(o, "capacityProvider")},
                                      {"Weight", std::max<int64_t>(0, num(o, "weight"))},
                                      {"Base", std::max<int64_t>(0, num(o, "base"))}});
    }
    p["CapacityProviderStrategy"] = std::move(strategy);
  } else if (auto launch = str(s, "launchType"); !launch.empty()) {
    p["LaunchType"] = launch;
  }
  if (auto d = deployment_configuration(obj(s, "deploymentConfiguration")); !d.empty()) p["DeploymentConfiguration"] = d;
  if (auto controller = str(obj(s, "deploymentController"), "type"); !controller.empty() && controller != "ECS")
    p["DeploymentController"] = json::object{{"Type", controller}};
  if (!obj(s, "networkConfiguration").empty())
    p["NetworkConfiguration"] = network_configuration(c, name, obj(s, "networkConfiguration"));
  if (auto balancers = load_balancers(c, name, arr(s, "loadBalancers"), r.depends_on); !balancers.empty())
    p["LoadBalancers"] = std::move(balancers);
  if (int64_t grace = num(s, "healthCheckGracePeriodSeconds"); grace > 0 && !arr(s, "loadBalancers").empty())
    p["HealthCheckGracePeriodSeconds"] = grace;
  if (!arr(s, "placementConstraints").empty())
    p["PlacementConstraints"] = pascal_pairs(arr(s, "placementConstraints"), {{"type", "Type"}, {"expression", "Expression"}});
  if (!arr(s, "placementStrategy").empty())
    p["PlacementStrategies"] = pascal_pairs(arr(s, "placementStrategy"), {{"type", "Type"}, {"field", "Field"}});
  if (flag(s, "enableECSManagedTags")) p["EnableECSManagedTags"] = true;
  if (flag(s, "enableExecuteCommand")) p["EnableExecuteCommand"] = true;
  if (auto propagate = str(s, "propagateTags"); !propagate.empty() && propagate != "NONE") p["PropagateTags"] = propagate;
  // On the EC2 launch type the tasks need the instances; deleting the stack
  // then also stops the service before its capacity.
  if (auto capacity = c.capacity.find(cluster_arn); capacity != c.capacity.end() && str(s, "launchType") != "FARGATE")
    r.depends_on.insert(capacity->second);
}

// A ResourceLabel "app/<lb>/<id>/targetgroup/<tg>/<id>" built from the
// exported load balancer and target group.
json::value resource_label(Context& c, const std::string& label) {
  auto tg_at = label.find("/targetgroup/");
  if (tg_at == std::string::npos) return json::value(label);
  std::string lb_part = label.substr(0, tg_at), tg_part = label.substr(tg_at + 1);
  std::string lb_id, tg_id;
  for (const auto& [arn, id] : c.load_balancers)
    if (arn.ends_with(lb_part)) lb_id = id;
  for (const auto& [arn, id] : c.target_groups)
    if (arn.ends_with(tg_part)) tg_id = id;
  if (lb_id.empty() || tg_id.empty()) return json::value(label);
  return join("/", json::array{get_att(lb_id, "LoadBalancerFullName"), get_att(tg_id, "TargetGroupFullName")});
}

bool empty_value_of(const json::value& v) {
  return v.is_null() || (v.is_array() && v.as_array().empty()) || (v.is_object() && v.as_object().empty());
}

json::value scaling_configuration(Context& c, const json::value& v, std::string_view key) {
  if (v.is_object()) {
    json::object out;
    for (const auto& kv : v.as_object())
      if (!empty_value_of(kv.value())) out[kv.key()] = scaling_configuration(c, kv.value(), kv.key());
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& item : v.as_array()) out.push_back(scaling_configuration(c, item, key));
    return out;
  }
  if (key == "ResourceLabel" && v.is_string()) return resource_label(c, std::string(v.as_string()));
  return v;
}

}  // namespace

void build_services(Context& c) {
  auto services = sorted_by(c.state.services, "serviceName");
  std::stable_sort(services.begin(), services.end(), [](auto* a, auto* b) {
    return std::pair(str(*a, "clusterArn"), str(*a, "serviceName")) < std::pair(str(*b, "clusterArn"), str(*b, "serviceName"));
  });
  for (const auto* s : services) add_service(c, *s);
}

void build_scaling(Context& c) {
  std::map<std::string, std::string> targets;  // "ResourceId|ScalableDimension" -> logical id
  for (const auto* t : sorted_by(c.state.scalable_targets, "ResourceId")) {
    std::string resource = str(*t, "ResourceId");
    auto service = resource.starts_with("service/") ? c.services.find(resource.substr(8)) : c.services.end();
    if (str(*t, "ServiceNamespace") != "ecs" || service == c.services.end()) {
      c.note("not exported: scalable target " + resource + " (not a service this export has)");
      continue;
    }
    std::string id = c.ids.make(resource.substr(8), "ScalableTarget");
    targets[resource + "|" + str(*t, "ScalableDimension")] = id;
    const auto& service_props = c.t.resources.at(service->second).properties;
    auto& r = c.add(id, "AWS::ApplicationAutoScaling::ScalableTarget");
    r.properties["ServiceNamespace"] = "ecs";
    r.properties["ScalableDimension"] = str(*t, "ScalableDimension");
    r.properties["MinCapacity"] = num(*t, "MinCapacity");
    r.properties["MaxCapacity"] = num(*t, "MaxCapacity");
    r.properties["ResourceId"] = join("/", json::array{"service", service_props.at("Cluster"), get_att(service->second, "Name")});
    // The service-linked role Application Auto Scaling creates for ECS.
    r.properties["RoleARN"] = sub(
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService");
    json::array scheduled;
    for (const auto* a : sorted_by(c.state.scheduled_actions, "ScheduledActionName")) {
      if (str(*a, "ResourceId") != resource || str(*a, "ScalableDimension") != str(*t, "ScalableDimension")) continue;
      json::object action{{"ScheduledActionName", str(*a, "ScheduledActionName")}, {"Schedule", str(*a, "Schedule")}};
      json::object bounds;
      if (int64_t v = num(obj(*a, "ScalableTargetAction"), "MinCapacity"); v >= 0) bounds["MinCapacity"] = v;
      if (int64_t v = num(obj(*a, "ScalableTargetAction"), "MaxCapacity"); v >= 0) bounds["MaxCapacity"] = v;
      if (!bounds.empty()) action["ScalableTargetAction"] = std::move(bounds);
      if (auto zone = str(*a, "Timezone"); !zone.empty()) action["Timezone"] = zone;
      scheduled.push_back(std::move(action));
    }
    if (!scheduled.empty()) r.properties["ScheduledActions"] = std::move(scheduled);
  }
  for (const auto* p : sorted_by(c.state.scaling_policies, "PolicyName")) {
    auto target = targets.find(str(*p, "ResourceId") + "|" + str(*p, "ScalableDimension"));
    if (target == targets.end()) continue;  // its target's note says why
    auto& r = c.add(c.ids.make(str(*p, "PolicyName"), "ScalingPolicy"), "AWS::ApplicationAutoScaling::ScalingPolicy");
    r.properties["PolicyName"] = str(*p, "PolicyName");
    r.properties["PolicyType"] = str(*p, "PolicyType");
    r.properties["ScalingTargetId"] = make_ref(target->second);
    for (const char* key : {"TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration"})
      if (!obj(*p, key).empty()) r.properties[key] = scaling_configuration(c, obj(*p, key), key);
    if (str(*p, "PolicyType") == "StepScaling")
      c.note("not exported: the CloudWatch alarms that trigger step scaling policy " + str(*p, "PolicyName") +
             " (create them with the policy's ARN as their action)");
  }
}

}  // namespace berth::cfn
