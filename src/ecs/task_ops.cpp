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

#include "core/ids.h"
#include "ec2/catalogue.h"
#include "ec2/instances.h"
#include "ec2/network_interfaces.h"
#include "ec2/network_store.h"
#include "ecs/common.h"
#include "ecs/container_instances.h"
#include "ecs/placement.h"
#include "ecs/schema.h"
#include "ecs/task_definition_rules.h"
#include "ecs/task_definitions.h"
#include "ecs/tasks.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

constexpr double kStoppedVisibleSeconds = 3600;

Error task_definition_not_found() { return invalid_parameter("TaskDefinition not found."); }  // observed wording

struct RunInput {
  std::string cluster;
  TaskDefinitionRow td;
  int count = 1;
  std::string launch_type;
  std::string capacity_provider;  // set when a capacityProviderStrategy chose FARGATE(_SPOT)
  std::string group;
  std::optional<std::string> started_by;
  json::object overrides;
  std::vector<Constraint> constraints;
  std::vector<Strategy> strategies;
  json::object network_configuration;
  // awsvpc: the task's ENI (awsvpcConfiguration).
  std::vector<std::string> subnets;  // as listed
  std::vector<std::string> security_groups;
  bool assign_public_ip = false;
  Tags tags;
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
  json::array all;
  for (const auto& c : td.at("containerDefinitions").as_array()) {
    json::object entry{{"name", c.at("name")}};
    for (const auto& o : containers) {
      if (o.at("name") == c.at("name")) entry = o.as_object();
    }
    all.push_back(std::move(entry));
  }
  out["containerOverrides"] = std::move(all);
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

Result<std::vector<Constraint>> read_constraints(const json::object& in) {
  std::vector<Constraint> out;
  const auto* items = opt_array(in, "placementConstraints");
  if (!items) return out;
  for (const auto& i : *items) {
    if (!i.is_object()) return invalid_parameter("Invalid parameter at 'placementConstraints'");
    auto type = opt_string(i.as_object(), "type");
    auto expr = opt_string(i.as_object(), "expression");
    if (!type) return std::move(type).error();
    if (!expr) return std::move(expr).error();
    out.push_back({type->value_or(""), expr->value_or("")});
  }
  return out;
}

Result<std::vector<Strategy>> read_strategies(const json::object& in) {
  std::vector<Strategy> out;
  const auto* items = opt_array(in, "placementStrategy");
  if (!items) return out;
  for (const auto& i : *items) {
    if (!i.is_object()) return invalid_parameter("Invalid parameter at 'placementStrategy'");
    auto type = opt_string(i.as_object(), "type");
    auto field = opt_string(i.as_object(), "field");
    if (!type) return std::move(type).error();
    if (!field) return std::move(field).error();
    out.push_back({type->value_or(""), field->value_or("")});
  }
  return out;
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

Result<std::vector<Candidate>> candidates(store::Tx& tx, std::string_view cluster, std::string_view group,
                                          const std::vector<std::string>& only) {
  auto rows = load_container_instances(tx, cluster, {"ACTIVE"});
  if (!rows) return std::move(rows).error();
  std::vector<Candidate> out;
  for (const auto& r : *rows) {
    if (!only.empty() && std::find(only.begin(), only.end(), r.id) == only.end()) continue;
    auto u = usage_of(tx, r.id);
    if (!u) return std::move(u).error();
    Candidate c;
    c.id = r.id;
    c.ec2_instance_id = r.ec2_instance_id;
    c.agent_connected = r.agent_connected;
    c.cpu_free = registered_integer(r.doc, "CPU") - u->cpu;
    c.memory_free = registered_integer(r.doc, "MEMORY") - u->memory;
    for (auto p : registered_ports(r.doc, "PORTS")) c.ports_used.insert({p, "tcp"});
    for (auto p : registered_ports(r.doc, "PORTS_UDP")) c.ports_used.insert({p, "udp"});
    for (const auto& p : u->ports) c.ports_used.insert(p);
    for (const auto& a : r.doc.at("attributes").as_array()) {
      const auto& o = a.as_object();
      c.attributes[std::string(o.at("name").as_string())] =
          o.contains("value") ? std::string(o.at("value").as_string()) : std::string();
    }
    c.running_tasks = u->running;
    const auto* type = ec2::find_instance_type(attribute_value(r.doc, "ecs.instance-type"));
    int64_t enis = type ? type->max_network_interfaces - 1 : 0;
    // A task holds a slot while it has an ENI (eni_id), not while its doc
    // merely mentions one: overrides may carry any text.
    auto stmt = tx.prepare("SELECT sum(grp = ?2), sum(eni_id != '') FROM ecs_tasks "
                           "WHERE container_instance_id = ?1 AND last_status != 'STOPPED'");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(r.id, group);
    if (auto row = stmt->step(); !row) return std::move(row).error();
    c.group_tasks = stmt->column_int64_opt(0).value_or(0);
    c.eni_free = enis - stmt->column_int64_opt(1).value_or(0);
    out.push_back(std::move(c));
  }
  return out;
}

std::string ports_text(const Reservation& r) {
  std::string out;
  for (const auto& p : r.ports) {
    if (!out.empty()) out += ",";
    out += std::to_string(p.port) + "/" + p.protocol;
  }
  return out;
}

// EC2's answer about the awsvpcConfiguration, in ECS's words.
Error eni_error(const Error& e, const RunInput& in, const std::string& subnet) {
  if (e.code == "InvalidSubnetID.NotFound") {
    return invalid_parameter("Error retrieving subnet information for [" + subnet + "]: " + e.message +
                             " (ErrorCode: " + e.code + ")");  // unverified wording
  }
  if (e.code == "InvalidGroup.NotFound" || e.code == "InvalidParameter") {
    std::string groups;
    for (const auto& g : in.security_groups) groups += (groups.empty() ? "" : ", ") + g;
    return invalid_parameter("Error retrieving security group information for [" + groups + "]: " + e.message +
                             " (ErrorCode: " + e.code + ")");  // unverified wording
  }
  if (e.code == "InsufficientFreeAddressesInSubnet" || e.code == "AddressLimitExceeded") {
    return invalid_parameter(e.message);
  }
  return e;
}

// awsvpcConfiguration: the subnets, groups and public IP the task's ENI
// gets.
Status read_awsvpc_configuration(RunInput& r) {
  const auto* vpc = r.network_configuration.if_contains("awsvpcConfiguration");
  if (!vpc || !vpc->is_object() || !vpc->as_object().contains("subnets") ||
      !vpc->as_object().at("subnets").is_array() || vpc->as_object().at("subnets").as_array().empty()) {
    return invalid_parameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");  // observed
  }
  for (const auto& s : vpc->as_object().at("subnets").as_array()) {
    if (!s.is_string()) return invalid_parameter("Invalid parameter at 'networkConfiguration.awsvpcConfiguration.subnets'");
    r.subnets.emplace_back(s.as_string());
  }
  auto groups = string_list(vpc->as_object(), "securityGroups");
  if (!groups) return std::move(groups).error();
  if (groups->size() > 5) return invalid_parameter("securityGroups can have at most 5 items.");  // unverified wording
  r.security_groups = std::move(*groups);
  auto assign = opt_string(vpc->as_object(), "assignPublicIp");
  if (!assign) return std::move(assign).error();
  if (*assign && **assign != "ENABLED" && **assign != "DISABLED") {
    return invalid_parameter("assignPublicIp must be ENABLED or DISABLED.");  // unverified wording
  }
  r.assign_public_ip = assign->value_or("DISABLED") == "ENABLED";
  // Tasks on container instances get no public IP of their own (observed).
  if (r.assign_public_ip && r.launch_type == "EC2") {
    return invalid_parameter("Assign public IP is not supported for this launch type.");
  }
  return Ok{};
}

// The listed subnet in the zone of the instance the task was placed on: an
// ENI attaches to an instance of its own zone. FARGATE (no zone yet), or no
// listed subnet in that zone: the first listed.
Result<std::string> subnet_for_zone(store::Tx& tx, const std::vector<std::string>& subnets, std::string_view zone) {
  if (zone.empty()) return subnets.front();
  for (const auto& id : subnets) {
    auto subnet = ec2::get_subnet(tx, id);
    if (subnet && subnet->availability_zone == zone) return id;
    if (!subnet && subnet.error().code != "InvalidSubnetID.NotFound") return std::move(subnet).error();
  }
  return subnets.front();
}

struct Placed {
  std::string instance_id;  // "" for FARGATE
  std::string ec2_instance_id;
  std::string availability_zone;
};

Result<json::object> create_task(store::Tx& tx, Context& ctx, const api::CallContext& call, const RunInput& in,
                                 const json::object& overrides, const Reservation& reservation, const Placed& where) {
  const json::object& td = in.td.doc;
  std::string id = ids::random_hex(32);
  std::string arn = task_arn(ctx.options, in.cluster, id);
  bool awsvpc = td.at("networkMode").as_string() == "awsvpc";
  double now = now_seconds(call.now);
  json::object t;
  json::array attachments;
  std::string eni_id;
  std::string availability_zone = where.availability_zone;
  if (awsvpc) {
    // The ENI is made now (its addresses held while the task lives); the
    // attachment shows it once the task runs, PRECREATED with the subnet
    // until then, as on AWS.
    std::string attachment_id = ids::uuid4();
    auto subnet = subnet_for_zone(tx, in.subnets, where.availability_zone);
    if (!subnet) return std::move(subnet).error();
    ec2::NetworkInterfaceSpec spec;
    spec.subnet_id = *subnet;
    spec.security_group_ids = in.security_groups;
    spec.public_ip = in.assign_public_ip;
    spec.description = "arn:aws:ecs:" + ctx.options.region + ":" + ctx.options.account_id + ":attachment/" + attachment_id;
    spec.requester_id = "amazon-ecs";
    auto eni = ec2::create_network_interface(tx, spec);
    if (!eni) return eni_error(eni.error(), in, *subnet);
    eni_id = eni->id;
    if (availability_zone.empty()) availability_zone = eni->availability_zone;
    json::array details{json::object{{"name", "subnetId"}, {"value", eni->subnet_id}}};
    attachments.push_back(json::object{
        {"id", attachment_id}, {"type", "ElasticNetworkInterface"}, {"status", "PRECREATED"}, {"details", details}});
  }
  t["attachments"] = std::move(attachments);
  t["attributes"] = json::array{json::object{{"name", "ecs.cpu-architecture"}, {"value", "x86_64"}}};
  if (!availability_zone.empty()) t["availabilityZone"] = availability_zone;
  if (!in.capacity_provider.empty()) t["capacityProviderName"] = in.capacity_provider;
  t["clusterArn"] = cluster_arn(ctx.options, in.cluster);
  if (!where.instance_id.empty()) {
    t["containerInstanceArn"] = container_instance_arn(ctx.options, in.cluster, where.instance_id);
  }
  json::array containers;
  for (const auto& cv : td.at("containerDefinitions").as_array()) {
    const auto& c = cv.as_object();
    json::object out{{"containerArn", container_arn(ctx.options, in.cluster, id, ids::uuid4())},
                     {"taskArn", arn},
                     {"name", c.at("name")},
                     {"image", c.at("image")},
                     {"lastStatus", "PENDING"},
                     {"networkInterfaces", json::array()},
                     {"healthStatus", "UNKNOWN"},
                     {"cpu", std::to_string(c.at("cpu").as_int64())}};
    if (c.contains("memory")) out["memory"] = std::to_string(c.at("memory").as_int64());
    if (c.contains("memoryReservation")) out["memoryReservation"] = std::to_string(c.at("memoryReservation").as_int64());
    containers.push_back(std::move(out));
  }
  t["containers"] = std::move(containers);
  t["cpu"] = std::to_string(reservation.cpu);
  t["createdAt"] = now;
  t["desiredStatus"] = "RUNNING";
  t["enableExecuteCommand"] = false;
  t["group"] = in.group;
  t["healthStatus"] = "UNKNOWN";
  std::string last = awsvpc ? "PROVISIONING" : "PENDING";
  t["lastStatus"] = last;
  t["launchType"] = in.launch_type;
  t["memory"] = std::to_string(reservation.memory);
  t["overrides"] = overrides;
  if (in.launch_type == "FARGATE") {
    t["platformVersion"] = "1.4.0";
    t["platformFamily"] = "Linux";
    t["ephemeralStorage"] = json::object{{"sizeInGiB", 20}};
  }
  if (in.started_by) t["startedBy"] = *in.started_by;
  t["tags"] = json::array();
  for (const auto& [k, v] : in.tags) t["tags"].as_array().push_back(json::object{{"key", k}, {"value", v}});
  t["taskArn"] = arn;
  t["taskDefinitionArn"] = td.at("taskDefinitionArn");
  t["version"] = 1;
  auto s = tx.run("INSERT INTO ecs_tasks(id, cluster, container_instance_id, task_definition_arn, family, launch_type, "
                  "last_status, desired_status, started_by, grp, cpu, memory, host_ports, created_at, doc, eni_id) "
                  "VALUES(?, ?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?)",
                  id, in.cluster, where.instance_id, std::string(td.at("taskDefinitionArn").as_string()), in.td.family,
                  in.launch_type, last, in.started_by.value_or(""), in.group,
                  in.launch_type == "EC2" ? reservation.cpu : 0, in.launch_type == "EC2" ? reservation.memory : 0,
                  in.launch_type == "EC2" ? ports_text(reservation) : std::string(), now, json::serialize(t), eni_id);
  if (!s) return std::move(s).error();
  tx.record_change(kTasksTable, id, store::ChangeKind::kPut);
  if (auto s2 = put_tags(tx, arn, in.tags); !s2) return std::move(s2).error();
  return t;
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
      if (auto st = read_awsvpc_configuration(r); !st) return std::move(st).error();
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
        auto t = create_task(tx, ctx, call, r, *overrides, reservation, Placed{});
        if (!t) return std::move(t).error();
        tasks.push_back(std::move(*t));
      }
      return body(json::object{{"tasks", std::move(tasks)}, {"failures", std::move(failures)}});
    }

    auto cands = candidates(tx, r.cluster, r.group, r.instance_ids);
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
    Demand demand;
    demand.cpu = reservation.cpu;
    demand.memory = reservation.memory;
    for (const auto& p : reservation.ports) demand.ports.emplace_back(p.port, p.protocol);
    demand.needs_eni = awsvpc;
    for (const auto& a : doc.at("requiresAttributes").as_array()) {
      demand.required_attributes.emplace_back(a.at("name").as_string());
    }
    std::vector<Constraint> constraints = r.constraints;
    for (const auto& k : doc.at("placementConstraints").as_array()) {
      const auto& o = k.as_object();
      constraints.push_back({std::string(o.at("type").as_string()),
                             o.contains("expression") ? std::string(o.at("expression").as_string()) : ""});
    }
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
      Placed where{id, "", ""};
      for (const auto& c : *cands) {
        if (c.id != id) continue;
        where.ec2_instance_id = c.ec2_instance_id;
        auto az = c.attributes.find("ecs.availability-zone");
        if (az != c.attributes.end()) where.availability_zone = az->second;
      }
      auto t = create_task(tx, ctx, call, r, *overrides, reservation, where);
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
    if (*service) {
      // berth has no services yet, so every named service is unknown.
      return Error::not_found("ServiceNotFoundException", "Service not found.");
    }
    auto stmt = tx.prepare(
        "SELECT id FROM ecs_tasks WHERE cluster = ?1 AND desired_status = ?2 AND (?3 = '' OR container_instance_id = ?3) "
        "AND (?4 = '' OR family = ?4) AND (?5 = '' OR started_by = ?5) AND (?6 = '' OR launch_type = ?6) "
        "AND (stopped_at IS NULL OR stopped_at >= ?7) ORDER BY rowid LIMIT ?8 OFFSET ?9");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(*cluster, want, last_segment(ci->value_or("")), family->value_or(""), started_by->value_or(""),
                   launch_type->value_or(""), now_seconds(call.now) - kStoppedVisibleSeconds,
                   static_cast<int64_t>(page->max + 1), static_cast<int64_t>(page->offset));
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
