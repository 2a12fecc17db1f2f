#include "ecs/task_creation.h"

#include <boost/json/serialize.hpp>

#include <algorithm>

#include "core/ids.h"
#include "ec2/catalogue.h"
#include "ec2/network_interfaces.h"
#include "ec2/network_store.h"
#include "ecs/container_instances.h"
#include "ecs/schema.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

std::string ports_text(const Reservation& r) {
  std::string out;
  for (const auto& p : r.ports) {
    if (!out.empty()) out += ",";
    out += std::to_string(p.port) + "/" + p.protocol;
  }
  return out;
}

// EC2's answer about the awsvpcConfiguration, in ECS's words.
Error eni_error(const Error& e, const TaskSpec& in, const std::string& subnet) {
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
}  // namespace

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

Demand demand_of(const json::object& td, const Reservation& reservation) {
  Demand demand;
  demand.cpu = reservation.cpu;
  demand.memory = reservation.memory;
  for (const auto& p : reservation.ports) demand.ports.emplace_back(p.port, p.protocol);
  demand.needs_eni = td.at("networkMode").as_string() == "awsvpc";
  for (const auto& a : td.at("requiresAttributes").as_array()) {
    demand.required_attributes.emplace_back(a.at("name").as_string());
  }
  return demand;
}

std::vector<Constraint> definition_constraints(const json::object& td) {
  std::vector<Constraint> out;
  for (const auto& k : td.at("placementConstraints").as_array()) {
    const auto& o = k.as_object();
    out.push_back({std::string(o.at("type").as_string()),
                   o.contains("expression") ? std::string(o.at("expression").as_string()) : ""});
  }
  return out;
}

Placed placed_on(const std::vector<Candidate>& candidates, std::string_view instance_id) {
  Placed where{std::string(instance_id), "", ""};
  for (const auto& c : candidates) {
    if (c.id != instance_id) continue;
    where.ec2_instance_id = c.ec2_instance_id;
    auto az = c.attributes.find("ecs.availability-zone");
    if (az != c.attributes.end()) where.availability_zone = az->second;
  }
  return where;
}

json::object echoed_overrides(const json::object& td, const json::array& container_overrides) {
  json::array all;
  for (const auto& c : td.at("containerDefinitions").as_array()) {
    json::object entry{{"name", c.at("name")}};
    for (const auto& o : container_overrides) {
      if (o.at("name") == c.at("name")) entry = o.as_object();
    }
    all.push_back(std::move(entry));
  }
  return json::object{{"containerOverrides", std::move(all)}, {"inferenceAcceleratorOverrides", json::array()}};
}

Result<std::vector<Candidate>> placement_candidates(store::Tx& tx, std::string_view cluster, std::string_view group,
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

// awsvpcConfiguration: the subnets, groups and public IP the task's ENI
// gets.
Status read_awsvpc_configuration(const json::object& network_configuration, TaskSpec& r) {
  const auto* vpc = network_configuration.if_contains("awsvpcConfiguration");
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

Result<json::object> create_task(store::Tx& tx, const Options& options, WallTime at, const TaskSpec& in,
                                 const json::object& overrides, const Reservation& reservation, const Placed& where) {
  const json::object& td = in.td.doc;
  std::string id = ids::random_hex(32);
  std::string arn = task_arn(options, in.cluster, id);
  bool awsvpc = td.at("networkMode").as_string() == "awsvpc";
  double now = now_seconds(at);
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
    spec.description = "arn:aws:ecs:" + options.region + ":" + options.account_id + ":attachment/" + attachment_id;
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
  t["clusterArn"] = cluster_arn(options, in.cluster);
  if (!where.instance_id.empty()) {
    t["containerInstanceArn"] = container_instance_arn(options, in.cluster, where.instance_id);
  }
  json::array containers;
  for (const auto& cv : td.at("containerDefinitions").as_array()) {
    const auto& c = cv.as_object();
    json::object out{{"containerArn", container_arn(options, in.cluster, id, ids::uuid4())},
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
                  "last_status, desired_status, started_by, grp, cpu, memory, host_ports, created_at, doc, eni_id, service) "
                  "VALUES(?, ?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  id, in.cluster, where.instance_id, std::string(td.at("taskDefinitionArn").as_string()), in.td.family,
                  in.launch_type, last, in.started_by.value_or(""), in.group,
                  in.launch_type == "EC2" ? reservation.cpu : 0, in.launch_type == "EC2" ? reservation.memory : 0,
                  in.launch_type == "EC2" ? ports_text(reservation) : std::string(), now, json::serialize(t), eni_id, in.service);
  if (!s) return std::move(s).error();
  tx.record_change(kTasksTable, id, store::ChangeKind::kPut);
  if (auto s2 = put_tags(tx, arn, in.tags); !s2) return std::move(s2).error();
  return t;
}

}  // namespace berth::ecs
