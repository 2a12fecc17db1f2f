// ListContainerInstances, DescribeContainerInstances,
// DeregisterContainerInstance, UpdateContainerInstancesState.
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "ecs/common.h"
#include "ecs/container_instances.h"
#include "ecs/placement.h"
#include "ecs/schema.h"
#include "ecs/tasks.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

json::object integer_resource(std::string_view name, int64_t v) {
  return json::object{{"name", name}, {"type", "INTEGER"}, {"doubleValue", 0.0}, {"longValue", 0},
                      {"integerValue", v}};
}

json::object stringset_resource(std::string_view name, std::vector<std::string> values) {
  json::array set;
  for (auto& v : values) set.push_back(json::string(v));
  return json::object{{"name", name}, {"type", "STRINGSET"}, {"doubleValue", 0.0}, {"longValue", 0},
                      {"integerValue", 0}, {"stringSetValue", std::move(set)}};
}

std::vector<std::string> ports_of(const ContainerInstanceRow& r, const Usage& u, std::string_view resource,
                                  std::string_view protocol) {
  std::vector<std::string> out;
  for (auto p : registered_ports(r.doc, resource)) out.push_back(std::to_string(p));
  for (const auto& [port, proto] : u.ports) {
    std::string s = std::to_string(port);
    if (proto == protocol && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

Result<json::object> instance_json(store::Tx& tx, const Options& o, const ContainerInstanceRow& r, bool with_tags,
                                   bool with_health) {
  auto u = usage_of(tx, r.id);
  if (!u) return std::move(u).error();
  std::string arn = container_instance_arn(o, r.cluster, r.id);
  json::object c;
  c["containerInstanceArn"] = arn;
  c["ec2InstanceId"] = r.ec2_instance_id;
  c["version"] = r.doc.at("version");
  c["versionInfo"] = r.doc.at("versionInfo");
  c["remainingResources"] = json::array{
      integer_resource("CPU", registered_integer(r.doc, "CPU") - u->cpu),
      integer_resource("MEMORY", registered_integer(r.doc, "MEMORY") - u->memory),
      stringset_resource("PORTS", ports_of(r, *u, "PORTS", "tcp")),
      stringset_resource("PORTS_UDP", ports_of(r, *u, "PORTS_UDP", "udp")),
  };
  c["registeredResources"] = r.doc.at("registeredResources");
  c["status"] = r.status;
  c["agentConnected"] = r.agent_connected;
  c["runningTasksCount"] = u->running;
  c["pendingTasksCount"] = u->pending;
  c["attributes"] = r.doc.at("attributes");
  c["registeredAt"] = r.doc.at("registeredAt");
  c["attachments"] = json::array();
  json::array tags;
  if (with_tags) {
    auto t = tags_json(tx, arn);
    if (!t) return std::move(t).error();
    tags = std::move(*t);
  }
  c["tags"] = std::move(tags);
  if (with_health) {
    c["healthStatus"] = json::object{{"overallStatus", r.agent_connected ? "OK" : "IMPAIRED"},
                                     {"details", json::array()}};
  }
  return c;
}

Candidate facts(const ContainerInstanceRow& r, const Usage& u) {
  Candidate c;
  c.id = r.id;
  c.ec2_instance_id = r.ec2_instance_id;
  c.agent_connected = r.agent_connected;
  c.running_tasks = u.running;
  for (const auto& a : r.doc.at("attributes").as_array()) {
    const auto& o = a.as_object();
    c.attributes[std::string(o.at("name").as_string())] =
        o.contains("value") ? std::string(o.at("value").as_string()) : std::string();
  }
  return c;
}

Result<std::optional<ContainerInstanceRow>> find_in_cluster(store::Tx& tx, std::string_view cluster,
                                                            std::string_view id_or_arn) {
  auto rows = load_container_instances(tx, cluster);
  if (!rows) return std::move(rows).error();
  std::string id = last_segment(id_or_arn);
  for (auto& r : *rows) {
    if (r.id == id) return std::optional<ContainerInstanceRow>(std::move(r));
  }
  return std::optional<ContainerInstanceRow>();
}

Result<std::string> list_container_instances(Context& ctx, const json::object& in) {
  auto filter = opt_string(in, "filter");
  auto status = opt_string(in, "status");
  if (!filter) return std::move(filter).error();
  if (!status) return std::move(status).error();
  std::vector<std::string> statuses;
  if (*status) {
    static constexpr std::string_view kStatuses[] = {"ACTIVE",       "DRAINING", "REGISTERING", "DEREGISTERING",
                                                     "REGISTRATION_FAILED"};
    if (std::find(std::begin(kStatuses), std::end(kStatuses), **status) == std::end(kStatuses)) {
      return invalid_parameter("Invalid status: " + **status + ".");  // unverified wording
    }
    statuses.push_back(**status);
  } else {
    statuses = {"ACTIVE", "DRAINING"};
  }
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    auto rows = load_container_instances(tx, *cluster, statuses);
    if (!rows) return std::move(rows).error();
    std::vector<std::string> arns;
    for (const auto& r : *rows) {
      if (*filter) {
        auto u = usage_of(tx, r.id);
        if (!u) return std::move(u).error();
        auto m = matches_expression(**filter, facts(r, *u));
        if (!m) return std::move(m).error();
        if (!*m) continue;
      }
      arns.push_back(container_instance_arn(ctx.options, *cluster, r.id));
    }
    json::array out_arns;
    for (size_t i = page->offset; i < arns.size() && out_arns.size() < page->max; ++i) {
      out_arns.push_back(json::string(arns[i]));
    }
    json::object out{{"containerInstanceArns", std::move(out_arns)}};
    if (page->offset + page->max < arns.size()) out["nextToken"] = next_token(page->offset + page->max);
    return body(out);
  });
}

Result<std::string> describe_container_instances(Context& ctx, const json::object& in) {
  auto ids = string_list(in, "containerInstances");
  if (!ids) return std::move(ids).error();
  if (ids->size() > 100) return invalid_parameter("Too many container instances. Maximum is 100.");  // unverified
  auto include = string_list(in, "include");
  if (!include) return std::move(include).error();
  bool with_tags = std::find(include->begin(), include->end(), "TAGS") != include->end();
  bool with_health = std::find(include->begin(), include->end(), "CONTAINER_INSTANCE_HEALTH") != include->end();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    json::array instances, failures;
    for (const auto& id : *ids) {
      auto row = find_in_cluster(tx, *cluster, id);
      if (!row) return std::move(row).error();
      if (!*row) {
        failures.push_back(json::object{
            {"arn", id.rfind("arn:", 0) == 0 ? id : container_instance_arn(ctx.options, *cluster, id)},
            {"reason", "MISSING"}});
        continue;
      }
      auto c = instance_json(tx, ctx.options, **row, with_tags, with_health);
      if (!c) return std::move(c).error();
      instances.push_back(std::move(*c));
    }
    return body(json::object{{"containerInstances", std::move(instances)}, {"failures", std::move(failures)}});
  });
}

Status write_status(store::Tx& tx, ContainerInstanceRow& r, std::string_view status, WallTime now) {
  r.status = std::string(status);
  r.doc["version"] = r.doc.at("version").as_int64() + 1;
  auto s = tx.run("UPDATE ecs_container_instances SET status = ?, agent_connected = ?, updated_at = ?, doc = ? "
                  "WHERE id = ?",
                  r.status, r.agent_connected ? 1 : 0, now_seconds(now), json::serialize(r.doc), r.id);
  if (!s) return s;
  tx.record_change(kContainerInstancesTable, r.id, store::ChangeKind::kPut);
  return Ok{};
}

Result<std::string> deregister_container_instance(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto id = opt_string(in, "containerInstance");
  auto force = opt_bool(in, "force");
  if (!id) return std::move(id).error();
  if (!force) return std::move(force).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    auto row = find_in_cluster(tx, *cluster, id->value_or(""));
    if (!row) return std::move(row).error();
    if (!*row || (*row)->status == "INACTIVE") {
      return invalid_parameter("The referenced container instance " + id->value_or("") +
                               " was not found.");  // unverified wording
    }
    auto u = usage_of(tx, (*row)->id);
    if (!u) return std::move(u).error();
    if (u->running + u->pending > 0 && !force->value_or(false)) {
      // Unverified wording.
      return invalid_parameter("Found running tasks on the instance. Use force to deregister the instance with "
                               "running tasks.");
    }
    // With force, AWS orphans the tasks; berth stops them so nothing keeps
    // running unaccounted for (reason unverified).
    if (auto s = stop_tasks_on_instance(tx, (*row)->id, "UserInitiated",
                                        "Container instance deregistered.", call.now);
        !s) {
      return std::move(s).error();
    }
    (*row)->agent_connected = false;
    if (auto s = write_status(tx, **row, "INACTIVE", call.now); !s) return std::move(s).error();
    auto c = instance_json(tx, ctx.options, **row, false, false);
    if (!c) return std::move(c).error();
    return body(json::object{{"containerInstance", std::move(*c)}});
  });
}

Result<std::string> update_container_instances_state(Context& ctx, const api::CallContext& call,
                                                     const json::object& in) {
  auto ids = string_list(in, "containerInstances");
  auto status = opt_string(in, "status");
  if (!ids) return std::move(ids).error();
  if (!status) return std::move(status).error();
  std::string want = status->value_or("");
  if (want != "ACTIVE" && want != "DRAINING") {
    return invalid_parameter("Container instance status can be only ACTIVE or DRAINING.");  // unverified wording
  }
  if (ids->size() > 10) return invalid_parameter("Too many container instances. Maximum is 10.");  // unverified
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    json::array instances, failures;
    for (const auto& id : *ids) {
      auto row = find_in_cluster(tx, *cluster, id);
      if (!row) return std::move(row).error();
      if (!*row || (*row)->status == "INACTIVE") {
        failures.push_back(json::object{
            {"arn", id.rfind("arn:", 0) == 0 ? id : container_instance_arn(ctx.options, *cluster, id)},
            {"reason", "MISSING"}});
        continue;
      }
      if ((*row)->status != want) {
        if (auto s = write_status(tx, **row, want, call.now); !s) return std::move(s).error();
      }
      auto c = instance_json(tx, ctx.options, **row, false, false);
      if (!c) return std::move(c).error();
      instances.push_back(std::move(*c));
    }
    return body(json::object{{"containerInstances", std::move(instances)}, {"failures", std::move(failures)}});
  });
}

}  // namespace

void add_container_instance_operations(api::Service& service, const std::shared_ptr<Context>& ctx) {
  service.add("ListContainerInstances", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return list_container_instances(*ctx, *in.json);
  });
  service.add("DescribeContainerInstances", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_container_instances(*ctx, *in.json);
  });
  service.add("DeregisterContainerInstance", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return deregister_container_instance(*ctx, call, *in.json);
  });
  service.add("UpdateContainerInstancesState", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return update_container_instances_state(*ctx, call, *in.json);
  });
}

}  // namespace berth::ecs
