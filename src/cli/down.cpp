#include "cli/down.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "cli/data_dir.h"

namespace berth::cli {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// Polls `done` every 200 ms until it is true or `limit` passes.
Status wait_until(const std::function<Result<bool>()>& done, std::chrono::seconds limit, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto r = done();
    if (!r) return std::move(r).error();
    if (*r) return Ok{};
    if (std::chrono::steady_clock::now() > deadline)
      return Error::unavailable("gave up after " + std::to_string(limit.count()) + " s waiting for " + what);
    std::this_thread::sleep_for(200ms);
  }
}

bool gone(const Error& e) { return e.error_class == ErrorClass::kNotFound; }

Result<std::string> service_status(ApiClient& api, const std::string& cluster, const std::string& service) {
  auto described = api.ecs("DescribeServices", {{"cluster", cluster}, {"services", {service}}});
  if (!described) {
    if (gone(described.error())) return std::string("INACTIVE");  // no cluster, so no service
    return std::move(described).error();
  }
  const auto& services = described->at("services").as_array();
  return services.empty() ? std::string("INACTIVE") : std::string(services[0].at("status").as_string());
}

Status remove_service(ApiClient& api, const std::string& cluster, const std::string& service) {
  auto status = service_status(api, cluster, service);
  if (!status) return std::move(status).error();
  if (*status == "INACTIVE") return Ok{};
  if (*status == "ACTIVE") {
    say("removing service " + service + ": deleted with its tasks, which drain from the load balancer first");
    if (auto r = api.ecs("DeleteService", {{"cluster", cluster}, {"service", service}, {"force", true}}); !r)
      return std::move(r).error();
  }
  // DRAINING until its last task has stopped.
  return wait_until(
      [&]() -> Result<bool> {
        auto now = service_status(api, cluster, service);
        if (!now) return std::move(now).error();
        return *now == "INACTIVE";
      },
      120s, "service " + service + " to stop its tasks");
}

Status remove_load_balancer(ApiClient& api, const WorkshopStack& s) {
  auto lbs = api.elbv2("DescribeLoadBalancers", {{"Names.member.1", s.load_balancer}});
  if (!lbs) return gone(lbs.error()) ? Status(Ok{}) : Status(std::move(lbs).error());
  for (const auto* lb : members(*lbs, "DescribeLoadBalancersResult.LoadBalancers")) {
    std::string arn = lb->get("LoadBalancerArn", "");
    auto listeners = api.elbv2("DescribeListeners", {{"LoadBalancerArn", arn}});
    if (!listeners) return std::move(listeners).error();
    for (const auto* l : members(*listeners, "DescribeListenersResult.Listeners")) {
      say("removing listener " + l->get("Protocol", "") + ":" + l->get("Port", "") + " of " + s.load_balancer);
      if (auto r = api.elbv2("DeleteListener", {{"ListenerArn", l->get("ListenerArn", "")}}); !r)
        return std::move(r).error();
    }
    say("removing load balancer " + s.load_balancer);
    if (auto r = api.elbv2("DeleteLoadBalancer", {{"LoadBalancerArn", arn}}); !r) return std::move(r).error();
  }
  return Ok{};
}

Status remove_target_group(ApiClient& api, const std::string& name) {
  auto groups = api.elbv2("DescribeTargetGroups", {{"Names.member.1", name}});
  if (!groups) return gone(groups.error()) ? Status(Ok{}) : Status(std::move(groups).error());
  for (const auto* g : members(*groups, "DescribeTargetGroupsResult.TargetGroups")) {
    say("removing target group " + name);
    if (auto r = api.elbv2("DeleteTargetGroup", {{"TargetGroupArn", g->get("TargetGroupArn", "")}}); !r)
      return std::move(r).error();
  }
  return Ok{};
}

Status remove_task_definitions(ApiClient& api, const std::string& family) {
  auto arns = api.ecs("ListTaskDefinitions", {{"familyPrefix", family}, {"status", "ACTIVE"}});
  if (!arns) return std::move(arns).error();
  for (const auto& arn : arns->at("taskDefinitionArns").as_array()) {
    std::string name(arn.as_string());
    name = name.substr(name.rfind('/') + 1);
    if (name.substr(0, name.rfind(':')) != family) continue;  // a prefix, not the family
    say("deregistering task definition " + name);
    if (auto r = api.ecs("DeregisterTaskDefinition", {{"taskDefinition", arn}}); !r) return std::move(r).error();
  }
  return Ok{};
}

Status remove_cluster(ApiClient& api, const WorkshopStack& s) {
  auto clusters = api.ecs("DescribeClusters", {{"clusters", {s.cluster}}});
  if (!clusters) return std::move(clusters).error();
  const auto& found = clusters->at("clusters").as_array();
  if (found.empty() || found[0].at("status") == "INACTIVE") return Ok{};
  auto instances = api.ecs("ListContainerInstances", {{"cluster", s.cluster}});
  if (!instances) return std::move(instances).error();
  const auto& arns = instances->at("containerInstanceArns").as_array();
  if (!arns.empty()) {
    auto described = api.ecs("DescribeContainerInstances", {{"cluster", s.cluster}, {"containerInstances", arns}});
    if (!described) return std::move(described).error();
    QueryParams ids;
    std::string names;
    for (const auto& i : described->at("containerInstances").as_array()) {
      std::string id(i.at("ec2InstanceId").as_string());
      ids.emplace_back("InstanceId." + std::to_string(ids.size() + 1), id);
      names += " " + id;
    }
    say("terminating the cluster's instances:" + names);
    if (auto r = api.ec2("TerminateInstances", ids); !r) return std::move(r).error();
    auto deregistered = wait_until(
        [&]() -> Result<bool> {
          auto left = api.ecs("ListContainerInstances", {{"cluster", s.cluster}});
          if (!left) return std::move(left).error();
          return left->at("containerInstanceArns").as_array().empty();
        },
        60s, "the instances to leave the cluster");
    if (!deregistered) return deregistered;
  }
  say("removing cluster " + s.cluster);
  if (auto r = api.ecs("DeleteCluster", {{"cluster", s.cluster}}); !r) return std::move(r).error();
  return Ok{};
}

Status remove_security_group(ApiClient& api, const std::string& name) {
  auto groups = api.ec2("DescribeSecurityGroups", {{"Filter.1.Name", "group-name"}, {"Filter.1.Value.1", name}});
  if (!groups) return std::move(groups).error();
  for (const auto* g : members(*groups, "securityGroupInfo")) {
    say("removing security group " + name + " (" + g->get("groupId", "") + ")");
    // Terminated instances let go of their groups a moment after they stop.
    auto deleted = wait_until(
        [&]() -> Result<bool> {
          auto r = api.ec2("DeleteSecurityGroup", {{"GroupId", g->get("groupId", "")}});
          if (r) return true;
          if (r.error().code == "DependencyViolation") return false;
          return std::move(r).error();
        },
        30s, "nothing to use security group " + name);
    if (!deleted) return deleted;
  }
  return Ok{};
}

Status remove_key_pair(ApiClient& api, const WorkshopStack& s) {
  auto keys = api.ec2("DescribeKeyPairs", {{"KeyName.1", s.key_pair}});
  if (!keys) return gone(keys.error()) ? Status(Ok{}) : Status(std::move(keys).error());
  if (members(*keys, "keySet").empty()) return Ok{};
  say("removing key pair " + s.key_pair);
  if (auto r = api.ec2("DeleteKeyPair", {{"KeyName", s.key_pair}}); !r) return std::move(r).error();
  return Ok{};
}

Status remove_repository(ApiClient& api, const WorkshopStack& s) {
  auto repos = api.ecr("DescribeRepositories", {{"repositoryNames", {s.repository}}});
  if (!repos) return gone(repos.error()) ? Status(Ok{}) : Status(std::move(repos).error());
  say("removing repository " + s.repository + " and its images");
  if (auto r = api.ecr("DeleteRepository", {{"repositoryName", s.repository}, {"force", true}}); !r)
    return std::move(r).error();
  return Ok{};
}

}  // namespace

Status remove_stack(ApiClient& api, const WorkshopStack& stack) {
  for (const auto& service : stack.services)
    if (auto s = remove_service(api, stack.cluster, service); !s) return s;
  if (auto s = remove_load_balancer(api, stack); !s) return s;
  for (const auto& group : stack.target_groups)
    if (auto s = remove_target_group(api, group); !s) return s;
  for (const auto& family : stack.task_families)
    if (auto s = remove_task_definitions(api, family); !s) return s;
  if (auto s = remove_cluster(api, stack); !s) return s;
  for (const auto& group : stack.security_groups)
    if (auto s = remove_security_group(api, group); !s) return s;
  if (auto s = remove_key_pair(api, stack); !s) return s;
  return remove_repository(api, stack);
}

int run_down(const Options& options) {
  std::string dir = data_dir_or_default(options.data_dir);
  auto api = ApiClient::for_data_dir(dir);
  if (!api) {
    std::fprintf(stderr, "berth down: %s\n", api.error().message.c_str());
    return 1;
  }
  if (auto s = remove_stack(**api, WorkshopStack{}); !s) {
    std::fprintf(stderr, "berth down: %s: %s\n", s.error().code.c_str(), s.error().message.c_str());
    return 1;
  }
  say("the workshop stack is removed (berth keeps running: " + (*api)->endpoint() + ")");
  return 0;
}

}  // namespace berth::cli
