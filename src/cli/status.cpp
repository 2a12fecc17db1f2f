#include "cli/status.h"

#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/data_dir.h"

namespace berth::cli {

namespace json = boost::json;
namespace pt = boost::property_tree;

namespace {

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t num(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

const json::array& arr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_array() ? v->as_array() : kEmpty;
}

std::string last_part(std::string_view arn) { return std::string(arn.substr(arn.rfind('/') + 1)); }

// ECS's List* answers are pages of ARNs; status shows the first 100.
Result<json::array> list_arns(ApiClient& api, std::string_view action, json::object input, std::string_view key) {
  input["maxResults"] = 100;
  auto page = api.ecs(action, input);
  if (!page) return std::move(page).error();
  return arr(page->as_object(), key);
}

Result<json::array> described(ApiClient& api, std::string_view action, json::object input, std::string_view key) {
  auto answer = api.ecs(action, input);
  if (!answer) return std::move(answer).error();
  return arr(answer->as_object(), key);
}

int64_t resource(const json::array& resources, std::string_view name) {
  for (const auto& r : resources)
    if (str(r.as_object(), "name") == name) return num(r.as_object(), "integerValue");
  return 0;
}

Result<std::vector<InstanceView>> collect_instances(ApiClient& api, const std::string& cluster) {
  auto arns = list_arns(api, "ListContainerInstances", {{"cluster", cluster}}, "containerInstanceArns");
  if (!arns) return std::move(arns).error();
  std::vector<InstanceView> out;
  if (arns->empty()) return out;
  auto described_instances =
      described(api, "DescribeContainerInstances", {{"cluster", cluster}, {"containerInstances", *arns}},
                "containerInstances");
  if (!described_instances) return std::move(described_instances).error();
  for (const auto& v : *described_instances) {
    const auto& o = v.as_object();
    InstanceView i;
    i.arn = str(o, "containerInstanceArn");
    i.ec2_instance_id = str(o, "ec2InstanceId");
    i.status = str(o, "status");
    auto* agent = o.if_contains("agentConnected");
    i.agent_connected = agent && agent->is_bool() && agent->as_bool();
    i.cpu_registered = resource(arr(o, "registeredResources"), "CPU");
    i.cpu_remaining = resource(arr(o, "remainingResources"), "CPU");
    i.memory_registered = resource(arr(o, "registeredResources"), "MEMORY");
    i.memory_remaining = resource(arr(o, "remainingResources"), "MEMORY");
    out.push_back(std::move(i));
  }
  return out;
}

Result<std::vector<ServiceView>> collect_services(ApiClient& api, const std::string& cluster) {
  auto arns = list_arns(api, "ListServices", {{"cluster", cluster}}, "serviceArns");
  if (!arns) return std::move(arns).error();
  std::vector<ServiceView> out;
  // DescribeServices takes at most 10 at a time.
  for (size_t at = 0; at < arns->size(); at += 10) {
    json::array some(arns->begin() + static_cast<std::ptrdiff_t>(at),
                     arns->begin() + static_cast<std::ptrdiff_t>(std::min(at + 10, arns->size())));
    auto services = described(api, "DescribeServices", {{"cluster", cluster}, {"services", some}}, "services");
    if (!services) return std::move(services).error();
    for (const auto& v : *services) {
      const auto& o = v.as_object();
      ServiceView s{str(o, "serviceName"), str(o, "status"), num(o, "desiredCount"), num(o, "runningCount"),
                    num(o, "pendingCount"), {}};
      for (const auto& d : arr(o, "deployments")) {
        const auto& dep = d.as_object();
        s.deployments.push_back({str(dep, "status"), last_part(str(dep, "taskDefinition")),
                                 str(dep, "rolloutState"), num(dep, "desiredCount"), num(dep, "runningCount"),
                                 num(dep, "pendingCount")});
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string task_location(const json::object& task, const std::vector<InstanceView>& instances) {
  for (const auto& a : arr(task, "attachments")) {
    if (str(a.as_object(), "type") != "ElasticNetworkInterface") continue;
    for (const auto& d : arr(a.as_object(), "details"))
      if (str(d.as_object(), "name") == "privateIPv4Address") return "eni " + str(d.as_object(), "value");
  }
  std::string where;
  std::string instance = str(task, "containerInstanceArn");
  for (const auto& i : instances)
    if (i.arn == instance) where = i.ec2_instance_id;
  for (const auto& c : arr(task, "containers")) {
    for (const auto& b : arr(c.as_object(), "networkBindings")) {
      const auto& binding = b.as_object();
      where += (where.empty() ? "" : " ") + std::to_string(num(binding, "hostPort")) + "->" +
               std::to_string(num(binding, "containerPort"));
    }
  }
  return where.empty() ? "-" : where;
}

// `instances`: the cluster's, to say where a bridge task's ports are.
Result<std::vector<TaskView>> collect_tasks(ApiClient& api, const std::string& cluster,
                                            const std::vector<InstanceView>& instances) {
  auto arns = list_arns(api, "ListTasks", {{"cluster", cluster}}, "taskArns");
  if (!arns) return std::move(arns).error();
  std::vector<TaskView> out;
  if (arns->empty()) return out;
  for (size_t at = 0; at < arns->size(); at += 100) {
    json::array some(arns->begin() + static_cast<std::ptrdiff_t>(at),
                     arns->begin() + static_cast<std::ptrdiff_t>(std::min(at + 100, arns->size())));
    auto tasks = described(api, "DescribeTasks", {{"cluster", cluster}, {"tasks", some}}, "tasks");
    if (!tasks) return std::move(tasks).error();
    for (const auto& v : *tasks) {
      const auto& o = v.as_object();
      out.push_back({last_part(str(o, "taskArn")), last_part(str(o, "taskDefinitionArn")), str(o, "lastStatus"),
                     str(o, "healthStatus"), str(o, "group"), task_location(o, instances)});
    }
  }
  std::sort(out.begin(), out.end(), [](const TaskView& a, const TaskView& b) {
    return std::tie(a.group, a.task_definition, a.id) < std::tie(b.group, b.task_definition, b.id);
  });
  return out;
}

Result<std::vector<LoadBalancerView>> collect_load_balancers(ApiClient& api) {
  auto lbs = api.elbv2("DescribeLoadBalancers", {});
  if (!lbs) return std::move(lbs).error();
  std::vector<LoadBalancerView> out;
  for (const auto* lb : members(*lbs, "DescribeLoadBalancersResult.LoadBalancers")) {
    LoadBalancerView view{lb->get("LoadBalancerName", ""), lb->get("State.Code", ""), {}, {}};
    std::string arn = lb->get("LoadBalancerArn", ""), dns = lb->get("DNSName", "");
    auto listeners = api.elbv2("DescribeListeners", {{"LoadBalancerArn", arn}});
    if (!listeners) return std::move(listeners).error();
    for (const auto* l : members(*listeners, "DescribeListenersResult.Listeners")) {
      std::string port = l->get("Port", ""), scheme = l->get("Protocol", "HTTP") == "HTTPS" ? "https" : "http";
      bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
      view.urls.push_back(scheme + "://" + dns + (default_port ? "" : ":" + port) + "/");
    }
    auto groups = api.elbv2("DescribeTargetGroups", {{"LoadBalancerArn", arn}});
    if (!groups) return std::move(groups).error();
    for (const auto* g : members(*groups, "DescribeTargetGroupsResult.TargetGroups")) {
      TargetGroupView group{g->get("TargetGroupName", ""), g->get("TargetType", ""), {}};
      auto health = api.elbv2("DescribeTargetHealth", {{"TargetGroupArn", g->get("TargetGroupArn", "")}});
      if (!health) return std::move(health).error();
      for (const auto* t : members(*health, "DescribeTargetHealthResult.TargetHealthDescriptions"))
        group.targets.push_back({t->get("Target.Id", ""), t->get("Target.Port", ""),
                                 t->get("TargetHealth.State", ""), t->get("TargetHealth.Reason", "")});
      view.target_groups.push_back(std::move(group));
    }
    out.push_back(std::move(view));
  }
  return out;
}

// Left-aligned columns, two spaces apart, each row indented by two.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t c = 0; c < row.size(); ++c) {
      line += " " + row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 1, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string of(int64_t remaining, int64_t registered) {
  return std::to_string(remaining) + "/" + std::to_string(registered);
}

}  // namespace

Result<StatusView> collect_status(ApiClient& api) {
  StatusView view;
  view.endpoint = api.endpoint();
  auto cluster_arns = list_arns(api, "ListClusters", {}, "clusterArns");
  if (!cluster_arns) return std::move(cluster_arns).error();
  if (!cluster_arns->empty()) {
    auto clusters = described(api, "DescribeClusters", {{"clusters", *cluster_arns}}, "clusters");
    if (!clusters) return std::move(clusters).error();
    for (const auto& c : *clusters) {
      ClusterView cluster{str(c.as_object(), "clusterName"), str(c.as_object(), "status"), {}, {}, {}};
      auto instances = collect_instances(api, cluster.name);
      if (!instances) return std::move(instances).error();
      auto services = collect_services(api, cluster.name);
      if (!services) return std::move(services).error();
      auto tasks = collect_tasks(api, cluster.name, *instances);
      if (!tasks) return std::move(tasks).error();
      cluster.instances = std::move(*instances);
      cluster.services = std::move(*services);
      cluster.tasks = std::move(*tasks);
      view.clusters.push_back(std::move(cluster));
    }
  }
  auto lbs = collect_load_balancers(api);
  if (!lbs) return std::move(lbs).error();
  view.load_balancers = std::move(*lbs);
  return view;
}

std::string render_status(const StatusView& view) {
  std::string out = "berth at " + view.endpoint + "\n";
  if (view.clusters.empty()) out += "\nno clusters\n";
  for (const auto& c : view.clusters) {
    out += "\ncluster " + c.name + " (" + c.status + ")\n";
    if (c.instances.empty()) {
      out += "  no container instances\n";
    } else {
      std::vector<std::vector<std::string>> rows{{"INSTANCE", "STATUS", "AGENT", "CPU FREE/REG", "MEMORY FREE/REG"}};
      for (const auto& i : c.instances)
        rows.push_back({i.ec2_instance_id, i.status, i.agent_connected ? "connected" : "disconnected",
                        of(i.cpu_remaining, i.cpu_registered), of(i.memory_remaining, i.memory_registered) + " MiB"});
      out += table(rows);
    }
    if (!c.services.empty()) {
      std::vector<std::vector<std::string>> rows{{"SERVICE", "DESIRED", "RUNNING", "PENDING", "DEPLOYMENTS"}};
      for (const auto& s : c.services) {
        std::string deployments;
        for (const auto& d : s.deployments)
          deployments += (deployments.empty() ? "" : ", ") + d.status + " " + d.task_definition + " " +
                         d.rollout_state + " " + std::to_string(d.running) + "/" + std::to_string(d.desired);
        rows.push_back({s.name + (s.status == "ACTIVE" ? "" : " (" + s.status + ")"), std::to_string(s.desired),
                        std::to_string(s.running), std::to_string(s.pending), deployments});
      }
      out += table(rows);
    }
    if (c.tasks.empty()) {
      out += "  no tasks\n";
    } else {
      std::vector<std::vector<std::string>> rows{{"TASK", "DEFINITION", "STATUS", "HEALTH", "GROUP", "WHERE"}};
      for (const auto& t : c.tasks)
        rows.push_back({t.id, t.task_definition, t.last_status, t.health, t.group, t.where});
      out += table(rows);
    }
  }
  for (const auto& lb : view.load_balancers) {
    out += "\nload balancer " + lb.name + " (" + lb.state + ")";
    for (const auto& url : lb.urls) out += "  " + url;
    out += "\n";
    for (const auto& g : lb.target_groups) {
      out += "  target group " + g.name + " (" + g.target_type + ")" + (g.targets.empty() ? ": no targets" : "") +
             "\n";
      std::vector<std::vector<std::string>> rows;
      for (const auto& t : g.targets) rows.push_back({" " + t.id + ":" + t.port, t.state, t.reason});
      out += table(rows);
    }
  }
  return out;
}

int run_status(const Options& options) {
  std::string dir = data_dir_or_default(options.data_dir);
  auto api = ApiClient::for_data_dir(dir);
  if (!api) {
    std::fprintf(stderr, "berth status: %s\n", api.error().message.c_str());
    return 1;
  }
  bool terminal = ::isatty(STDOUT_FILENO);
  for (;;) {
    auto view = collect_status(**api);
    std::string text = view ? render_status(*view) : "berth status: " + view.error().message + "\n";
    // Home the cursor and clear the screen, so each picture replaces the last.
    if (options.watch && terminal) text = "\x1b[H\x1b[2J" + text;
    std::fputs(text.c_str(), view ? stdout : stderr);
    std::fflush(stdout);
    if (!options.watch) return view ? 0 : 1;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace berth::cli
