// Tasks: RunTask, StartTask, StopTask, DescribeTasks, ListTasks.
//
// RunTask resolves the task definition and launch type, places each task
// (placement.h) on the cluster's ACTIVE container instances, and writes
// one row per placed task: lastStatus PROVISIONING (awsvpc) or PENDING,
// desiredStatus RUNNING. Everything after that is the dispatcher's and the
// runtime's (tasks.h). Stopped tasks stay describable for an hour.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <random>

#include "ecs/common.h"
#include "ecs/placement.h"
#include "ecs/schema.h"
#include "ecs/services.h"
#include "ecs/task_creation.h"
#include "ecs/task_definition_rules.h"
#include "ecs/task_definitions.h"
#include "ecs/tasks.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

constexpr double kStoppedVisibleSeconds = 3600;

Error task_definition_not_found() { return invalid_parameter("TaskDefinition not found."); }  // observed wording

// The request: what its tasks share (TaskSpec) and how many, where.
struct RunInput : TaskSpec {
  int count = 1;
  std::vector<Constraint> constraints;
  std::vector<Strategy> strategies;
  json::object network_configuration;
  std::vector<std::string> instance_ids;  // StartTask
};

Result<json::object> read_overrides(const json::object& in, const json::object& td) {
  json::object out;
  auto it = in.find("overrides");
  json::array containers;
  if (it != in.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return invalid_parameter("Invalid parameter at 'overrides'");
    out = it->value().get_object();
    if (out.contains("containerOverrides")) {
      if (!out.at("containerOverrides").is_array()) return invalid_parameter("Invalid parameter at 'overrides'");
      for (const auto& o : out.at("containerOverrides").as_array()) {
        if (!o.is_object()) return invalid_parameter("Invalid parameter at 'overrides'");
        auto name = opt_string(o.as_object(), "name");
        if (!name) return std::move(name).error();
        bool known = false;
        for (const auto& c : td.at("containerDefinitions").as_array()) {
          if (name->has_value() && c.at("name").as_string() == **name) known = true;
        }
        if (!known) {
          return invalid_parameter("Override for container named " + name->value_or("") +
                                   " is not a container in the TaskDefinition.");  // observed wording
        }
        // Types the runtime and the reservation arithmetic rely on.
        for (std::string_view k : {"cpu", "memory", "memoryReservation"}) {
          auto v = opt_int(o.as_object(), k);
          if (!v) return std::move(v).error();
          if (*v && **v < 0) return invalid_parameter("Invalid " + std::string(k) + " override for container " + **name + ".");  // unverified
        }
        if (auto cmd = string_list(o.as_object(), "command"); !cmd) return std::move(cmd).error();
        if (const auto* env = opt_array(o.as_object(), "environment")) {
          for (const auto& e : *env) {
            if (!e.is_object()) return invalid_parameter("Invalid parameter at 'overrides.containerOverrides.environment'");
            auto n = opt_string(e.as_object(), "name");
            auto v = opt_string(e.as_object(), "value");
            if (!n) return std::move(n).error();
            if (!v) return std::move(v).error();
          }
        } else if (o.as_object().contains("environment") && !o.as_object().at("environment").is_null()) {
          return invalid_parameter("Invalid parameter at 'overrides.containerOverrides.environment'");
        }
      }
      containers = out.at("containerOverrides").as_array();
    }
    for (std::string_view k : {"cpu", "memory"}) {
      auto v = opt_string(out, k);
      if (!v) return std::move(v).error();
      bool parses = !*v || (k == "cpu" ? parse_task_cpu(**v) : parse_task_memory(**v)).has_value();
      if (!parses) return invalid_parameter("Invalid " + std::string(k) + " override: " + **v + ".");  // unverified
    }
  }
  // AWS echoes one entry per container, with just the name when not overridden.
  json::object echoed = echoed_overrides(td, containers);
  out["containerOverrides"] = std::move(echoed["containerOverrides"]);
  if (!out.contains("inferenceAcceleratorOverrides")) out["inferenceAcceleratorOverrides"] = json::array();
  return out;
}

// The task definition with the overrides' sizes applied, for reservations.
json::object effective_definition(json::object td, const json::object& overrides) {
  for (auto& cv : td["containerDefinitions"].as_array()) {
    auto& c = cv.as_object();
    for (const auto& o : overrides.at("containerOverrides").as_array()) {
      if (o.at("name") != c.at("name")) continue;
      for (std::string_view k : {"cpu", "memory", "memoryReservation"}) {
        if (auto it = o.as_object().find(k); it != o.as_object().end() && it->value().is_int64()) c[k] = it->value();
      }
    }
  }
  for (std::string_view k : {"cpu", "memory"}) {
    if (overrides.contains(k) && overrides.at(k).is_string()) td[k] = overrides.at(k);
  }
  return td;
}

// Reads and checks everything that does not need the store.
Result<RunInput> read_run_input(const json::object& in, bool start_task) {
  RunInput r;
  auto count = opt_int(in, "count");
  if (!count) return std::move(count).error();
  if (!start_task) {
    r.count = static_cast<int>(count->value_or(1));
    if (count->value_or(1) < 1 || count->value_or(1) > 10) {
      return invalid_parameter("Count must be between 1 and 10.");  // unverified wording
    }
  }
  auto group = opt_string(in, "group");
  auto started_by = opt_string(in, "startedBy");
  auto launch_type = opt_string(in, "launchType");
  if (!group) return std::move(group).error();
  if (!started_by) return std::move(started_by).error();
  if (!launch_type) return std::move(launch_type).error();
  r.group = group->value_or("");
  r.started_by = *started_by;
  if (r.started_by && r.started_by->size() > 128) {
    return invalid_parameter("startedBy must be 128 characters or less.");  // unverified wording
  }
  r.launch_type = launch_type->value_or("");
  if (!r.launch_type.empty() && r.launch_type != "EC2" && r.launch_type != "FARGATE") {
    return invalid_parameter("launchType " + r.launch_type + " is not supported.");  // unverified wording
  }
  if (const auto* strategy = opt_array(in, "capacityProviderStrategy"); strategy && !strategy->empty()) {
    if (!r.launch_type.empty()) {
      return invalid_parameter("Specifying both a launch type and capacity provider strategy is not supported. "
                               "Remove one and try again.");  // observed wording
    }
    const auto& first = (*strategy)[0];
    auto provider = first.is_object() ? opt_string(first.as_object(), "capacityProvider")
                                      : Result<std::optional<std::string>>(std::optional<std::string>());
    if (!provider) return std::move(provider).error();
    if (provider->value_or("") != "FARGATE" && provider->value_or("") != "FARGATE_SPOT") {
      return invalid_parameter("The specified capacity provider strategy cannot contain a capacity provider that is "
                               "not associated with the cluster. Associate the capacity provider with the cluster "
                               "or specify a valid capacity provider and try again.");
    }
    r.launch_type = "FARGATE";
    r.capacity_provider = **provider;
  }
  auto constraints = read_constraints(in);
  if (!constraints) return std::move(constraints).error();
  auto strategies = read_strategies(in);
  if (!strategies) return std::move(strategies).error();
  if (auto s = validate_constraints(*constraints); !s) return std::move(s).error();
  if (auto s = validate_strategies(*strategies); !s) return std::move(s).error();
  r.constraints = std::move(*constraints);
  r.strategies = std::move(*strategies);
  auto nc = in.find("networkConfiguration");
  if (nc != in.end() && nc->value().is_object()) r.network_configuration = nc->value().get_object();
  auto tags = read_tags(in);
  if (!tags) return std::move(tags).error();
  r.tags = std::move(*tags);
  if (start_task) {
    auto ids = string_list(in, "containerInstances");
    if (!ids) return std::move(ids).error();
    if (ids->empty() || ids->size() > 10) {
      return invalid_parameter("containerInstances must list between 1 and 10 container instances.");  // unverified
    }
    for (const auto& id : *ids) r.instance_ids.push_back(last_segment(id));
  }
  return r;
}


Result<std::string> run_or_start(Context& ctx, const api::CallContext& call, const json::object& in, bool start_task) {
  auto input = read_run_input(in, start_task);
  if (!input) return std::move(input).error();
  auto td_id = opt_string(in, "taskDefinition");
  if (!td_id) return std::move(td_id).error();
  if (!*td_id) return task_definition_not_found();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    RunInput& r = *input;
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    r.cluster = *cluster;
    if (r.launch_type.empty()) {
      // No launch type: the cluster's default capacity provider strategy, else EC2.
      auto stmt = tx.prepare("SELECT doc FROM ecs_clusters WHERE name = ?");
      if (!stmt) return std::move(stmt).error();
      stmt->bind_all(r.cluster);
      if (auto row = stmt->step(); !row) return std::move(row).error();
      json::object doc = json::parse(stmt->column_text(0)).as_object();
      const auto& strategy = doc.at("defaultCapacityProviderStrategy").as_array();
      if (!strategy.empty() && !start_task) {
        r.launch_type = "FARGATE";
        r.capacity_provider = std::string(strategy[0].at("capacityProvider").as_string());
      } else {
        r.launch_type = "EC2";
      }
    }
    if (start_task && r.launch_type != "EC2") {
      return invalid_parameter("StartTask only supports the EC2 launch type.");  // unverified wording
    }
    auto td = find_task_definition(tx, **td_id);
    if (!td) return std::move(td).error();
    if (!*td) return task_definition_not_found();
    if ((*td)->status != "ACTIVE") return invalid_parameter("TaskDefinition is inactive");  // observed wording
    r.td = std::move(**td);
    const json::object& doc = r.td.doc;
    if (r.group.empty()) r.group = "family:" + r.td.family;
    bool awsvpc = doc.at("networkMode").as_string() == "awsvpc";
    if (awsvpc) {
      if (auto st = read_awsvpc_configuration(r.network_configuration, r); !st) return std::move(st).error();
    }
    if (r.launch_type == "FARGATE") {
      bool compatible = false;
      for (const auto& c : doc.at("compatibilities").as_array()) compatible = compatible || c.as_string() == "FARGATE";
      if (!compatible) return invalid_parameter("Task definition does not support launch_type FARGATE.");  // observed
    }
    auto overrides = read_overrides(in, doc);
    if (!overrides) return std::move(overrides).error();
    Reservation reservation = reservation_of(effective_definition(doc, *overrides));

    json::array tasks, failures;
    if (r.launch_type == "FARGATE") {
      for (int i = 0; i < r.count; ++i) {
        auto t = create_task(tx, ctx.options, call.now, r, *overrides, reservation, Placed{});
        if (!t) return std::move(t).error();
        tasks.push_back(std::move(*t));
      }
      return body(json::object{{"tasks", std::move(tasks)}, {"failures", std::move(failures)}});
    }

    auto cands = placement_candidates(tx, r.cluster, r.group, r.instance_ids);
    if (!cands) return std::move(cands).error();
    if (start_task) {
      for (const auto& id : r.instance_ids) {
        bool found = false;
        for (const auto& c : *cands) found = found || c.id == id;
        if (!found) {
          failures.push_back(json::object{{"arn", container_instance_arn(ctx.options, r.cluster, id)},
                                          {"reason", "MISSING"}});
        }
      }
    } else if (cands->empty()) {
      // Reference §2.11; that AWS answers the same when every instance is
      // DRAINING is unverified.
      return invalid_parameter("No Container Instances were found in your cluster.");
    }
    Demand demand = demand_of(doc, reservation);
    std::vector<Constraint> constraints = r.constraints;
    for (auto& k : definition_constraints(doc)) constraints.push_back(std::move(k));
    static thread_local std::mt19937 rng(std::random_device{}());
    PlacementResult placement;
    if (start_task) {
      // StartTask places one task on each named instance, if it fits there.
      for (const auto& c : *cands) {
        auto one = place({c}, demand, 1, constraints, {}, rng);
        placement.placed.insert(placement.placed.end(), one.placed.begin(), one.placed.end());
        placement.failures.insert(placement.failures.end(), one.failures.begin(), one.failures.end());
      }
    } else {
      placement = place(*cands, demand, r.count, constraints, r.strategies, rng);
    }
    for (const auto& id : placement.placed) {
      Placed where = placed_on(*cands, id);
      auto t = create_task(tx, ctx.options, call.now, r, *overrides, reservation, where);
      if (!t) return std::move(t).error();
      tasks.push_back(std::move(*t));
    }
    for (const auto& [id, reason] : placement.failures) {
      failures.push_back(json::object{{"arn", container_instance_arn(ctx.options, r.cluster, id)}, {"reason", reason}});
    }
    return body(json::object{{"tasks", std::move(tasks)}, {"failures", std::move(failures)}});
  });
}

Result<std::optional<json::object>> task_doc(store::Tx& tx, std::string_view cluster, std::string_view id,
                                             double now) {
  auto stmt = tx.prepare("SELECT doc, stopped_at FROM ecs_tasks WHERE id = ? AND cluster = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(id, cluster);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<json::object>();
  if (auto at = stmt->column_double_opt(1); at && now - *at > kStoppedVisibleSeconds) {
    return std::optional<json::object>();
  }
  return std::optional<json::object>(json::parse(stmt->column_text(0)).as_object());
}

Result<std::string> describe_tasks(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto ids = string_list(in, "tasks");
  if (!ids) return std::move(ids).error();
  if (ids->empty()) return invalid_parameter("Tasks cannot be empty.");  // unverified wording
  if (ids->size() > 100) return invalid_parameter("Too many tasks. Maximum is 100.");  // unverified wording
  auto include = string_list(in, "include");
  if (!include) return std::move(include).error();
  bool with_tags = std::find(include->begin(), include->end(), "TAGS") != include->end();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    json::array tasks, failures;
    for (const auto& id : *ids) {
      std::string tid = last_segment(id);
      auto t = task_doc(tx, *cluster, tid, now_seconds(call.now));
      if (!t) return std::move(t).error();
      if (!*t) {
        failures.push_back(json::object{
            {"arn", id.rfind("arn:", 0) == 0 ? id : task_arn(ctx.options, *cluster, tid)}, {"reason", "MISSING"}});
        continue;
      }
      if (with_tags) {
        auto tags = tags_json(tx, (**t).at("taskArn").as_string());
        if (!tags) return std::move(tags).error();
        (**t)["tags"] = std::move(*tags);
      } else {
        (**t)["tags"] = json::array();
      }
      tasks.push_back(std::move(**t));
    }
    return body(json::object{{"tasks", std::move(tasks)}, {"failures", std::move(failures)}});
  });
}

Result<std::string> list_tasks(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto ci = opt_string(in, "containerInstance");
  auto family = opt_string(in, "family");
  auto started_by = opt_string(in, "startedBy");
  auto service = opt_string(in, "serviceName");
  auto desired = opt_string(in, "desiredStatus");
  auto launch_type = opt_string(in, "launchType");
  for (const auto* v : {&ci, &family, &started_by, &service, &desired, &launch_type}) {
    if (!*v) return v->error();
  }
  std::string want = desired->value_or("RUNNING");
  if (want != "RUNNING" && want != "PENDING" && want != "STOPPED") {
    return invalid_parameter("Invalid desiredStatus: " + want + ".");  // unverified wording
  }
  if (*family && !valid_name(**family)) return invalid_parameter("family must match ^[a-zA-Z0-9\\-_]+$");  // observed
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    std::string service_name;
    if (*service) {
      service_name = service_name_from(**service);
      auto row = find_service(tx, *cluster, service_name);
      if (!row) return std::move(row).error();
      if (!*row) return service_not_found();
    }
    auto stmt = tx.prepare(
        "SELECT id FROM ecs_tasks WHERE cluster = ?1 AND desired_status = ?2 AND (?3 = '' OR container_instance_id = ?3) "
        "AND (?4 = '' OR family = ?4) AND (?5 = '' OR started_by = ?5) AND (?6 = '' OR launch_type = ?6) "
        "AND (stopped_at IS NULL OR stopped_at >= ?7) AND (?10 = '' OR service = ?10) ORDER BY rowid LIMIT ?8 OFFSET ?9");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(*cluster, want, last_segment(ci->value_or("")), family->value_or(""), started_by->value_or(""),
                   launch_type->value_or(""), now_seconds(call.now) - kStoppedVisibleSeconds,
                   static_cast<int64_t>(page->max + 1), static_cast<int64_t>(page->offset), service_name);
    auto out = page_of(*stmt, *page, "taskArns",
                       [&](const store::Statement& row) { return task_arn(ctx.options, *cluster, row.column_text(0)); });
    if (!out) return std::move(out).error();
    return body(*out);
  });
}

Result<std::string> stop_task(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto id = opt_string(in, "task");
  auto reason = opt_string(in, "reason");
  if (!id) return std::move(id).error();
  if (!reason) return std::move(reason).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    std::string tid = last_segment(id->value_or(""));
    auto t = task_doc(tx, *cluster, tid, now_seconds(call.now));
    if (!t) return std::move(t).error();
    if (!*t) return invalid_parameter("The referenced task was not found.");  // observed wording
    std::string why = reason->value_or("");
    auto changed = request_stop(tx, tid, "UserInitiated", why.empty() ? "Task stopped by user" : why, call.now);
    if (!changed) return std::move(changed).error();
    auto after = task_doc(tx, *cluster, tid, now_seconds(call.now));
    if (!after) return std::move(after).error();
    (**after)["tags"] = json::array();
    return body(json::object{{"task", std::move(**after)}});
  });
}

}  // namespace

void add_task_operations(api::Service& service, const std::shared_ptr<Context>& ctx) {
  service.add("RunTask", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return run_or_start(*ctx, call, *in.json, false);
  });
  service.add("StartTask", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return run_or_start(*ctx, call, *in.json, true);
  });
  service.add("StopTask", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return stop_task(*ctx, call, *in.json);
  });
  service.add("DescribeTasks", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return describe_tasks(*ctx, call, *in.json);
  });
  service.add("ListTasks", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return list_tasks(*ctx, call, *in.json);
  });
}

}  // namespace berth::ecs
