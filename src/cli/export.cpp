#include "cli/export.h"

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <set>

#include "cli/data_dir.h"
#include "export/exporter.h"

namespace berth::cli {

namespace json = boost::json;
namespace pt = boost::property_tree;

namespace {

// A query answer's XML as JSON: element names kept, "member"/"item" lists
// as arrays, leaves as strings.
json::value to_json(const pt::ptree& node) {
  if (node.empty()) return json::string(node.data());
  bool list = true;
  for (const auto& [name, child] : node)
    if (name != "member" && name != "item") list = false;
  if (list) {
    json::array out;
    for (const auto& [name, child] : node) out.push_back(to_json(child));
    return out;
  }
  json::object out;
  for (const auto& [name, child] : node)
    if (name != "<xmlattr>") out[name] = to_json(child);
  return out;
}

json::array json_members(const pt::ptree& tree, const std::string& path) {
  json::array out;
  for (const auto* m : members(tree, path)) out.push_back(to_json(*m));
  return out;
}

const json::array& array_at(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  auto* found = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return found && found->is_array() ? found->as_array() : kEmpty;
}

std::string text_at(const json::value& v, std::string_view key) {
  auto* found = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return found && found->is_string() ? std::string(found->as_string()) : std::string();
}

Status collect_security_groups(ApiClient& api, cfn::State& s) {
  auto groups = api.ec2("DescribeSecurityGroups", {});
  if (!groups) return std::move(groups).error();
  s.security_groups = json_members(*groups, "securityGroupInfo");
  return Ok{};
}

Status collect_instances(ApiClient& api, const std::string& cluster, json::object& into) {
  auto arns = api.ecs("ListContainerInstances", {{"cluster", cluster}, {"status", "ACTIVE"}});
  if (!arns) return std::move(arns).error();
  json::array instances;
  const auto& list = array_at(*arns, "containerInstanceArns");
  if (!list.empty()) {
    auto described = api.ecs("DescribeContainerInstances", {{"cluster", cluster}, {"containerInstances", list}});
    if (!described) return std::move(described).error();
    QueryParams ids;
    for (const auto& i : array_at(*described, "containerInstances"))
      ids.emplace_back("InstanceId." + std::to_string(ids.size() + 1), text_at(i, "ec2InstanceId"));
    auto ec2 = api.ec2("DescribeInstances", ids);
    if (!ec2) return std::move(ec2).error();
    for (const auto* reservation : members(*ec2, "reservationSet"))
      for (const auto* instance : members(*reservation, "instancesSet")) instances.push_back(to_json(*instance));
  }
  into["instances"] = std::move(instances);
  return Ok{};
}

Status collect_services(ApiClient& api, const std::string& cluster, cfn::State& s) {
  auto arns = api.ecs("ListServices", {{"cluster", cluster}, {"maxResults", 100}});
  if (!arns) return std::move(arns).error();
  const auto& list = array_at(*arns, "serviceArns");
  for (size_t at = 0; at < list.size(); at += 10) {
    json::array some(list.begin() + static_cast<std::ptrdiff_t>(at),
                     list.begin() + static_cast<std::ptrdiff_t>(std::min(at + 10, list.size())));
    auto described = api.ecs("DescribeServices", {{"cluster", cluster}, {"services", some}});
    if (!described) return std::move(described).error();
    for (const auto& service : array_at(*described, "services"))
      if (text_at(service, "status") == "ACTIVE") s.services.push_back(service);
  }
  return Ok{};
}

Status collect_clusters(ApiClient& api, const std::string& only, cfn::State& s) {
  json::array names;
  if (!only.empty()) {
    names.emplace_back(only);
  } else {
    auto arns = api.ecs("ListClusters", {{"maxResults", 100}});
    if (!arns) return std::move(arns).error();
    names = array_at(*arns, "clusterArns");
  }
  if (names.empty()) return Ok{};
  auto described = api.ecs("DescribeClusters", {{"clusters", names}});
  if (!described) return std::move(described).error();
  for (const auto& c : array_at(*described, "clusters")) {
    if (text_at(c, "status") != "ACTIVE") continue;
    json::object cluster = c.as_object();
    std::string name = text_at(c, "clusterName");
    if (auto st = collect_instances(api, name, cluster); !st) return st;
    if (auto st = collect_services(api, name, s); !st) return st;
    s.clusters.push_back(std::move(cluster));
  }
  if (!only.empty() && s.clusters.empty())
    return Error::not_found("ClusterNotFoundException", "Cluster not found: " + only);
  return Ok{};
}

Status add_task_definition(ApiClient& api, const std::string& name, cfn::State& s, std::set<std::string>& seen) {
  auto described = api.ecs("DescribeTaskDefinition", {{"taskDefinition", name}});
  if (!described) return std::move(described).error();
  const auto& td = described->at("taskDefinition");
  if (seen.insert(text_at(td, "taskDefinitionArn")).second) s.task_definitions.push_back(td);
  return Ok{};
}

// The revisions the services run and, without --cluster, each family's latest.
Status collect_task_definitions(ApiClient& api, bool every_family, cfn::State& s) {
  std::set<std::string> seen;
  for (const auto& service : s.services)
    if (auto st = add_task_definition(api, text_at(service, "taskDefinition"), s, seen); !st) return st;
  if (!every_family) return Ok{};
  auto families = api.ecs("ListTaskDefinitionFamilies", {{"status", "ACTIVE"}, {"maxResults", 100}});
  if (!families) return std::move(families).error();
  for (const auto& family : array_at(*families, "families"))
    if (auto st = add_task_definition(api, std::string(family.as_string()), s, seen); !st) return st;
  return Ok{};
}

Status collect_load_balancing(ApiClient& api, cfn::State& s) {
  auto lbs = api.elbv2("DescribeLoadBalancers", {});
  if (!lbs) return std::move(lbs).error();
  for (auto& v : json_members(*lbs, "DescribeLoadBalancersResult.LoadBalancers")) {
    auto& lb = v.as_object();
    std::string arn = text_at(v, "LoadBalancerArn");
    auto attributes = api.elbv2("DescribeLoadBalancerAttributes", {{"LoadBalancerArn", arn}});
    if (!attributes) return std::move(attributes).error();
    lb["Attributes"] = json_members(*attributes, "DescribeLoadBalancerAttributesResult.Attributes");
    auto listeners = api.elbv2("DescribeListeners", {{"LoadBalancerArn", arn}});
    if (!listeners) return std::move(listeners).error();
    json::array with_rules;
    for (auto& l : json_members(*listeners, "DescribeListenersResult.Listeners")) {
      auto rules = api.elbv2("DescribeRules", {{"ListenerArn", text_at(l, "ListenerArn")}});
      if (!rules) return std::move(rules).error();
      l.as_object()["Rules"] = json_members(*rules, "DescribeRulesResult.Rules");
      with_rules.push_back(std::move(l));
    }
    lb["Listeners"] = std::move(with_rules);
    s.load_balancers.push_back(std::move(v));
  }
  auto groups = api.elbv2("DescribeTargetGroups", {});
  if (!groups) return std::move(groups).error();
  for (auto& v : json_members(*groups, "DescribeTargetGroupsResult.TargetGroups")) {
    std::string arn = text_at(v, "TargetGroupArn");
    auto attributes = api.elbv2("DescribeTargetGroupAttributes", {{"TargetGroupArn", arn}});
    if (!attributes) return std::move(attributes).error();
    v.as_object()["Attributes"] = json_members(*attributes, "DescribeTargetGroupAttributesResult.Attributes");
    auto health = api.elbv2("DescribeTargetHealth", {{"TargetGroupArn", arn}});
    if (!health) return std::move(health).error();
    json::array targets;
    for (const auto& d : json_members(*health, "DescribeTargetHealthResult.TargetHealthDescriptions"))
      if (auto* target = d.is_object() ? d.as_object().if_contains("Target") : nullptr) targets.push_back(*target);
    v.as_object()["Targets"] = std::move(targets);
    s.target_groups.push_back(std::move(v));
  }
  return Ok{};
}

// Application Auto Scaling and CloudWatch Logs: a berth built without them
// still exports the rest.
void collect_scaling(ApiClient& api, cfn::State& s, std::vector<std::string>& notes) {
  json::object ecs{{"ServiceNamespace", "ecs"}};
  auto targets = api.application_autoscaling("DescribeScalableTargets", ecs);
  auto policies = api.application_autoscaling("DescribeScalingPolicies", ecs);
  auto scheduled = api.application_autoscaling("DescribeScheduledActions", ecs);
  if (!targets || !policies || !scheduled) {
    const Error& e = !targets ? targets.error() : !policies ? policies.error() : scheduled.error();
    notes.push_back("not read: Application Auto Scaling (" + e.code + ": " + e.message + ")");
    return;
  }
  s.scalable_targets = array_at(*targets, "ScalableTargets");
  s.scaling_policies = array_at(*policies, "ScalingPolicies");
  s.scheduled_actions = array_at(*scheduled, "ScheduledActions");
}

void collect_log_groups(ApiClient& api, cfn::State& s, std::vector<std::string>& notes) {
  std::string token;
  for (int page = 0; page < 1000; ++page) {
    json::object input;
    if (!token.empty()) input["nextToken"] = token;
    auto groups = api.logs("DescribeLogGroups", input);
    if (!groups) {
      notes.push_back("not read: CloudWatch Logs (" + groups.error().code + ": " + groups.error().message + ")");
      return;
    }
    for (const auto& g : array_at(*groups, "logGroups")) s.log_groups.push_back(g);
    token = text_at(*groups, "nextToken");
    if (token.empty()) return;
  }
}

}  // namespace

Result<cfn::State> collect_export_state(ApiClient& api, const std::string& cluster, std::vector<std::string>& notes) {
  cfn::State s;
  s.registry = api.endpoint().substr(api.endpoint().find("://") + 3);
  if (auto st = collect_security_groups(api, s); !st) return std::move(st).error();
  auto repos = api.ecr("DescribeRepositories", json::object{});
  if (!repos) return std::move(repos).error();
  s.repositories = array_at(*repos, "repositories");
  if (auto st = collect_clusters(api, cluster, s); !st) return std::move(st).error();
  if (auto st = collect_task_definitions(api, cluster.empty(), s); !st) return std::move(st).error();
  if (auto st = collect_load_balancing(api, s); !st) return std::move(st).error();
  collect_scaling(api, s, notes);
  collect_log_groups(api, s, notes);
  return s;
}

int run_export(const Options& options) {
  std::string dir = data_dir_or_default(options.data_dir);
  auto api = ApiClient::for_data_dir(dir);
  if (!api) {
    std::fprintf(stderr, "berth export: %s\n", api.error().message.c_str());
    return 1;
  }
  std::vector<std::string> notes;
  auto state = collect_export_state(**api, options.cluster, notes);
  if (!state) {
    std::fprintf(stderr, "berth export: %s: %s\n", state.error().code.c_str(), state.error().message.c_str());
    return 1;
  }
  auto result = cfn::export_state(*state, options.stack);
  notes.insert(notes.end(), result.notes.begin(), result.notes.end());
  std::string text = options.format == "yaml" ? cfn::write_yaml(result.resources) : cfn::write_json(result.resources);
  if (options.output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::ofstream out(options.output, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      std::fprintf(stderr, "berth export: cannot write %s\n", options.output.c_str());
      return 1;
    }
  }
  for (const auto& note : notes) std::fprintf(stderr, "berth export: %s\n", note.c_str());
  if (!result.push_commands.empty()) {
    std::fprintf(stderr, "berth export: the images stay in berth; copy them to the account's ECR after the "
                         "repositories exist (set ACCOUNT and REGION):\n");
    for (const auto& line : result.push_commands) std::fprintf(stderr, "  %s\n", line.c_str());
  }
  return 0;
}

}  // namespace berth::cli
