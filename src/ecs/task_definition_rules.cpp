#include "ecs/task_definition_rules.h"

#include <boost/json/array.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "ecs/common.h"
#include "ecs/task_definition_features.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

// Docker >= 20.10 refuses less than 6 MiB; the agent passes it on.
constexpr int64_t kMinContainerMemory = 6;

std::string lower_trim(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A decimal number (digits with an optional fraction) followed by `unit`
// (already lower case, spaces removed); nullopt when it is not that.
std::optional<double> number_with_unit(std::string_view s, std::string_view unit) {
  if (s.size() <= unit.size() || s.substr(s.size() - unit.size()) != unit) return std::nullopt;
  std::string_view num = s.substr(0, s.size() - unit.size());
  double v = 0;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || p != num.data() + num.size() || !(v > 0)) return std::nullopt;
  return v;
}

std::optional<int64_t> plain_integer(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Error invalid_container(std::string_view what, std::string_view name, std::string_view tail = "") {
  return client_exception("Invalid '" + std::string(what) + "' setting for container '" + std::string(name) + "'." +
                          std::string(tail));
}

Result<std::optional<int64_t>> int_member(const json::object& o, std::string_view key, std::string_view container) {
  auto v = opt_int(o, key);
  if (!v) return invalid_container(key, container);
  return *v;
}

Result<json::array> port_mappings(const json::object& c, std::string_view name, std::string_view mode) {
  json::array out;
  auto it = c.find("portMappings");
  if (it == c.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) return invalid_container("portMappings", name);
  if (mode == "none" && !it->value().get_array().empty()) {
    // Unverified wording.
    return client_exception("Port mappings are not valid when networkMode=none.");
  }
  for (const auto& m : it->value().get_array()) {
    if (!m.is_object()) return invalid_container("portMappings", name);
    const auto& pm = m.get_object();
    auto container_port = opt_int(pm, "containerPort");
    auto host_port = opt_int(pm, "hostPort");
    auto protocol = opt_string(pm, "protocol");
    if (!container_port || !host_port || !protocol) return invalid_container("portMappings", name);
    if (!*container_port && !pm.contains("containerPortRange")) {
      return invalid_container("containerPort", name, " A containerPort must be specified.");  // unverified
    }
    if (*container_port && (**container_port < 1 || **container_port > 65535)) {
      return invalid_container("containerPort", name);  // unverified
    }
    if (*host_port && (**host_port < 0 || **host_port > 65535)) return invalid_container("hostPort", name);
    std::string proto = protocol->value_or("tcp");
    if (proto != "tcp" && proto != "udp") return invalid_container("protocol", name);  // unverified
    json::object n;
    if (*container_port) n["containerPort"] = **container_port;
    if (mode == "awsvpc" || mode == "host") {
      // Observed for awsvpc; host mode answers with the same template.
      if (*host_port && *container_port && **host_port != **container_port) {
        return client_exception("When networkMode=" + std::string(mode) +
                                ", the host ports and container ports in port mappings must match.");
      }
      if (*container_port) n["hostPort"] = **container_port;
    } else {
      n["hostPort"] = host_port->value_or(0);
    }
    n["protocol"] = proto;
    for (const auto& [k, v] : pm) {
      if (!n.contains(k)) n[k] = v;
    }
    out.push_back(std::move(n));
  }
  return out;
}

Result<std::optional<json::object>> health_check(const json::object& c, std::string_view name) {
  auto it = c.find("healthCheck");
  if (it == c.end() || it->value().is_null()) return std::optional<json::object>();
  if (!it->value().is_object()) return invalid_container("healthCheck", name);
  const auto& h = it->value().get_object();
  auto command = string_list(h, "command");
  if (!command || command->empty() ||
      ((*command)[0] != "CMD" && (*command)[0] != "CMD-SHELL" && (*command)[0] != "NONE")) {
    // Unverified wording.
    return invalid_container("healthCheck", name, " The command must start with CMD or CMD-SHELL.");
  }
  json::object out;
  out["command"] = h.at("command");
  struct Range {
    std::string_view key;
    int64_t lo, hi, def;  // def < 0: no default shown
  };
  // Ranges and defaults from the model's HealthCheck documentation.
  for (Range r : {Range{"interval", 5, 300, 30}, Range{"timeout", 2, 60, 5}, Range{"retries", 1, 10, 3},
                  Range{"startPeriod", 0, 300, -1}}) {
    auto v = opt_int(h, r.key);
    if (!v) return invalid_container("healthCheck", name);
    if (*v && (**v < r.lo || **v > r.hi)) {
      // Unverified wording.
      return invalid_container("healthCheck", name,
                               " The '" + std::string(r.key) + "' must be between " + std::to_string(r.lo) + " and " +
                                   std::to_string(r.hi) + ".");
    }
    if (*v) out[r.key] = **v;
    else if (r.def >= 0) out[r.key] = r.def;
  }
  return std::optional<json::object>(std::move(out));
}

struct TaskSizes {
  std::optional<int64_t> cpu, memory;
};

Result<json::object> container(const json::value& v, std::string_view mode, const TaskSizes& task,
                               std::set<std::string>& names, bool& essential_seen) {
  if (!v.is_object()) return client_exception("Container definition must be an object.");  // unverified
  const auto& c = v.get_object();
  auto name_in = opt_string(c, "name");
  if (!name_in || !*name_in || (*name_in)->empty()) {
    return client_exception("Container.name should not be null or empty.");  // unverified
  }
  std::string name = **name_in;
  if (!valid_name(name)) return client_exception("Container.name contains invalid characters.");  // observed
  if (!names.insert(name).second) {
    return client_exception("Duplicate container name '" + name + "' in the task definition.");  // unverified
  }
  auto image = opt_string(c, "image");
  if (!image || !*image || (*image)->empty()) {
    return client_exception("Container.image should not be null or empty.");  // unverified
  }
  auto cpu = int_member(c, "cpu", name);
  if (!cpu) return std::move(cpu).error();
  auto memory = int_member(c, "memory", name);
  if (!memory) return std::move(memory).error();
  auto reservation = int_member(c, "memoryReservation", name);
  if (!reservation) return std::move(reservation).error();
  if (*cpu && **cpu < 0) return invalid_container("cpu", name);
  if (*memory && **memory <= 0) return invalid_container("memory", name);  // observed (memory 0)
  if (*reservation && **reservation <= 0) return invalid_container("memoryReservation", name);
  if (*memory && **memory < kMinContainerMemory) {
    return invalid_container("memory", name, " The minimum allowed value is 6 MiB.");  // unverified tail
  }
  if (*reservation && **reservation < kMinContainerMemory) {
    return invalid_container("memoryReservation", name, " The minimum allowed value is 6 MiB.");  // unverified tail
  }
  if (*memory && *reservation && **reservation > **memory) {
    // Unverified wording (reference §7).
    return invalid_container("memoryReservation", name,
                             " The value for 'memoryReservation' must be less than or equal to 'memory'.");
  }
  if (!task.memory && !*memory && !*reservation) {
    // Observed.
    return client_exception("Invalid setting for container '" + name +
                            "'. At least one of 'memory' or 'memoryReservation' must be specified.");
  }
  if (task.memory && *memory && **memory > *task.memory) {
    return client_exception("The 'memory' setting for container '" + name + "' is greater than for the task.");
  }
  if (task.memory && *reservation && **reservation > *task.memory) {
    return client_exception("The 'memoryReservation' setting for container '" + name +
                            "' is greater than for the task.");  // unverified, by analogy with 'memory'
  }
  if (task.cpu && *cpu && **cpu > *task.cpu) {
    return client_exception("The 'cpu' setting for container '" + name + "' is greater than for the task.");  // unverified
  }
  // Members the runtime reads must have their model types (botocore checks
  // them client-side; a hand-made request gets this, wording unverified).
  for (std::string_view key : {"command", "entryPoint", "links", "dnsServers", "dnsSearchDomains",
                               "dockerSecurityOptions"}) {
    if (!string_list(c, key)) return invalid_container(key, name);
  }
  if (auto it = c.find("environment"); it != c.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return invalid_container("environment", name);
    for (const auto& e : it->value().as_array()) {
      if (!e.is_object()) return invalid_container("environment", name);
      auto n = opt_string(e.as_object(), "name");
      auto v = opt_string(e.as_object(), "value");
      if (!n || !v) return invalid_container("environment", name);
    }
  }
  for (std::string_view key : {"workingDirectory", "user", "hostname"}) {
    if (!opt_string(c, key)) return invalid_container(key, name);
  }
  if (auto v = opt_int(c, "stopTimeout"); !v || (*v && (**v < 0 || **v > 120))) {
    return invalid_container("stopTimeout", name);
  }
  if (auto it = c.find("ulimits"); it != c.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return invalid_container("ulimits", name);
    for (const auto& u : it->value().as_array()) {
      if (!u.is_object()) return invalid_container("ulimits", name);
      auto n = opt_string(u.as_object(), "name");
      auto soft = opt_int(u.as_object(), "softLimit");
      auto hard = opt_int(u.as_object(), "hardLimit");
      if (!n || !*n || !soft || !hard) return invalid_container("ulimits", name);
    }
  }
  auto essential = opt_bool(c, "essential");
  if (!essential) return invalid_container("essential", name);
  if (essential->value_or(true)) essential_seen = true;
  auto ports = port_mappings(c, name, mode);
  if (!ports) return std::move(ports).error();
  auto health = health_check(c, name);
  if (!health) return std::move(health).error();

  // Known members first in AWS's order, then whatever else was given.
  json::object out;
  out["name"] = name;
  out["image"] = **image;
  out["cpu"] = cpu->value_or(0);
  if (*memory) out["memory"] = **memory;
  if (*reservation) out["memoryReservation"] = **reservation;
  if (c.contains("links")) out["links"] = c.at("links");
  out["portMappings"] = std::move(*ports);
  out["essential"] = essential->value_or(true);
  if (c.contains("entryPoint")) out["entryPoint"] = c.at("entryPoint");
  if (c.contains("command")) out["command"] = c.at("command");
  out["environment"] = c.contains("environment") ? c.at("environment") : json::array();
  out["mountPoints"] = c.contains("mountPoints") ? c.at("mountPoints") : json::array();
  out["volumesFrom"] = c.contains("volumesFrom") ? c.at("volumesFrom") : json::array();
  if (*health) out["healthCheck"] = std::move(**health);
  for (const auto& [k, val] : c) {
    if (!out.contains(k) && !val.is_null()) out[k] = val;
  }
  return out;
}

bool one_of(std::string_view v, std::initializer_list<std::string_view> set) {
  for (auto s : set) {
    if (v == s) return true;
  }
  return false;
}

}  // namespace

std::optional<int64_t> parse_task_cpu(std::string_view text) {
  std::string s = lower_trim(text);
  if (auto n = plain_integer(s)) return n;
  if (auto v = number_with_unit(s, "vcpu")) return static_cast<int64_t>(std::llround(*v * 1024));
  return std::nullopt;
}

std::optional<int64_t> parse_task_memory(std::string_view text) {
  std::string s = lower_trim(text);
  if (auto n = plain_integer(s)) return n;
  if (auto v = number_with_unit(s, "gb")) return static_cast<int64_t>(std::llround(*v * 1024));
  if (auto v = number_with_unit(s, "mb")) return static_cast<int64_t>(std::llround(*v));
  return std::nullopt;
}

bool fargate_pair_valid(int64_t cpu, int64_t m) {
  auto stepped = [m](int64_t lo, int64_t hi, int64_t step) { return m >= lo && m <= hi && (m - lo) % step == 0; };
  switch (cpu) {
    case 256: return m == 512 || m == 1024 || m == 2048;
    case 512: return stepped(1024, 4096, 1024);
    case 1024: return stepped(2048, 8192, 1024);
    case 2048: return stepped(4096, 16384, 1024);
    case 4096: return stepped(8192, 30720, 1024);
    case 8192: return stepped(16384, 61440, 4096);
    case 16384: return stepped(32768, 122880, 8192);
    default: return false;
  }
}

Result<ValidatedTaskDefinition> validate_task_definition(const json::object& in) {
  auto family = opt_string(in, "family");
  if (!family) return std::move(family).error();
  if (!*family || !valid_name(**family)) return client_exception("Family contains invalid characters.");  // observed

  auto mode_in = opt_string(in, "networkMode");
  if (!mode_in) return std::move(mode_in).error();
  if (*mode_in && !one_of(**mode_in, {"bridge", "host", "awsvpc", "none"})) {
    return client_exception("Invalid networkMode '" + **mode_in +
                            "'. Valid values are bridge, host, awsvpc and none.");  // unverified
  }
  auto requires_in = string_list(in, "requiresCompatibilities");
  if (!requires_in) return std::move(requires_in).error();
  bool fargate = false;
  for (const auto& r : *requires_in) {
    if (!one_of(r, {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"})) {
      return client_exception("Invalid requiresCompatibilities value '" + r + "'.");  // unverified
    }
    if (r == "FARGATE") fargate = true;
  }
  std::string mode = mode_in->value_or("bridge");

  TaskSizes task;
  auto cpu_in = opt_string(in, "cpu");
  auto memory_in = opt_string(in, "memory");
  if (!cpu_in) return std::move(cpu_in).error();
  if (!memory_in) return std::move(memory_in).error();
  if (*cpu_in) {
    task.cpu = parse_task_cpu(**cpu_in);
    if (!task.cpu) return client_exception("Invalid 'cpu' setting for task.");  // unverified
    if (!fargate && (*task.cpu < 128 || *task.cpu > 196608)) {
      return client_exception("Invalid 'cpu' setting for task. The value must be between 128 and 196608 CPU "
                              "units.");  // unverified tail; range from the model
    }
  }
  if (*memory_in) {
    task.memory = parse_task_memory(**memory_in);
    if (!task.memory || *task.memory < kMinContainerMemory) {
      return client_exception("Invalid 'memory' setting for task.");  // unverified
    }
  }
  if (fargate) {
    if (mode != "awsvpc") return client_exception("Fargate only supports network mode \u2018awsvpc\u2019.");  // observed
    if (!task.cpu) return client_exception("Fargate requires that 'cpu' be defined at the task level.");  // observed
    if (!task.memory) return client_exception("Fargate requires that 'memory' be defined at the task level.");  // observed
    if (!fargate_pair_valid(*task.cpu, *task.memory)) {
      return client_exception("No Fargate configuration exists for given values.");  // observed
    }
  }

  const auto* defs = opt_array(in, "containerDefinitions");
  if (!defs || defs->empty()) return client_exception("Container list cannot be empty.");  // unverified
  json::array containers;
  std::set<std::string> names;
  bool essential = false;
  for (const auto& d : *defs) {
    auto c = container(d, mode, task, names, essential);
    if (!c) return std::move(c).error();
    containers.push_back(std::move(*c));
  }
  if (!essential) {
    return client_exception("A task definition must have at least one essential container.");  // unverified
  }
  if (auto s = check_container_features(in, containers, mode, fargate); !s) return std::move(s).error();

  // Task definitions take memberOf constraints only (the model's
  // TaskDefinitionPlacementConstraint); wording unverified.
  if (auto it = in.find("placementConstraints"); it != in.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return client_exception("Invalid placementConstraints.");
    for (const auto& k : it->value().as_array()) {
      if (!k.is_object()) return client_exception("Invalid placementConstraints.");
      auto type = opt_string(k.as_object(), "type");
      auto expression = opt_string(k.as_object(), "expression");
      if (!type || !expression || type->value_or("") != "memberOf" || !*expression) {
        return client_exception("Invalid placement constraint: task definitions only support memberOf constraints "
                                "with an expression.");
      }
    }
  }

  json::array requires_attributes;
  auto require = [&](std::string_view name) {
    for (const auto& a : requires_attributes) {
      if (a.as_object().at("name").as_string() == name) return;
    }
    requires_attributes.push_back(json::object{{"name", name}});
  };
  require("com.amazonaws.ecs.capability.docker-remote-api.1.18");
  for (const auto& c : containers) {
    if (c.as_object().contains("memoryReservation")) require("com.amazonaws.ecs.capability.docker-remote-api.1.21");
    if (c.as_object().contains("healthCheck")) {
      require("com.amazonaws.ecs.capability.docker-remote-api.1.24");
      require("ecs.capability.container-health-check");
    }
  }
  if (mode == "awsvpc") require("ecs.capability.task-eni");

  json::array compatibilities{"EC2"};
  if (mode == "awsvpc" && task.cpu && task.memory && fargate_pair_valid(*task.cpu, *task.memory)) {
    compatibilities.push_back("FARGATE");
  }

  json::object doc;
  doc["taskDefinitionArn"] = "";
  doc["containerDefinitions"] = std::move(containers);
  doc["family"] = **family;
  for (std::string_view key : {"taskRoleArn", "executionRoleArn"}) {
    auto v = opt_string(in, key);
    if (!v) return std::move(v).error();
    if (*v) doc[key] = **v;
  }
  doc["networkMode"] = mode;
  doc["revision"] = 0;
  if (in.contains("volumes") && !in.at("volumes").is_null() && !in.at("volumes").is_array()) {
    return client_exception("Invalid volumes.");  // unverified wording
  }
  doc["volumes"] = in.contains("volumes") && in.at("volumes").is_array() ? in.at("volumes") : json::array();
  doc["status"] = "ACTIVE";
  doc["requiresAttributes"] = std::move(requires_attributes);
  doc["placementConstraints"] = in.contains("placementConstraints") && in.at("placementConstraints").is_array()
                                    ? in.at("placementConstraints")
                                    : json::array();
  doc["compatibilities"] = std::move(compatibilities);
  for (std::string_view key : {"runtimePlatform", "pidMode", "ipcMode", "proxyConfiguration",
                               "inferenceAccelerators", "ephemeralStorage"}) {
    auto it = in.find(key);
    if (it != in.end() && !it->value().is_null()) doc[key] = it->value();
  }
  if (!requires_in->empty()) doc["requiresCompatibilities"] = in.at("requiresCompatibilities");
  if (task.cpu) doc["cpu"] = std::to_string(*task.cpu);
  if (task.memory) doc["memory"] = std::to_string(*task.memory);
  doc["registeredAt"] = 0.0;
  doc["registeredBy"] = "";
  return ValidatedTaskDefinition{**family, std::move(doc)};
}

Reservation reservation_of(const json::object& td) {
  Reservation r;
  std::string_view mode = td.contains("networkMode") ? std::string_view(td.at("networkMode").as_string()) : "bridge";
  int64_t cpu_sum = 0, memory_sum = 0;
  for (const auto& cv : td.at("containerDefinitions").as_array()) {
    const auto& c = cv.as_object();
    if (c.contains("cpu") && c.at("cpu").is_int64()) cpu_sum += c.at("cpu").as_int64();
    auto reservation = c.find("memoryReservation");
    auto memory = c.find("memory");
    if (reservation != c.end() && reservation->value().is_int64()) memory_sum += reservation->value().as_int64();
    else if (memory != c.end() && memory->value().is_int64()) memory_sum += memory->value().as_int64();
    if (mode == "awsvpc" || mode == "none") continue;  // awsvpc tasks have ports of their own ENI
    for (const auto& pv : c.at("portMappings").as_array()) {
      const auto& p = pv.as_object();
      if (p.contains("hostPort") && p.at("hostPort").as_int64() > 0) {
        r.ports.push_back({p.at("hostPort").as_int64(), std::string(p.at("protocol").as_string())});
      }
    }
  }
  r.cpu = td.contains("cpu") ? parse_task_cpu(td.at("cpu").as_string()).value_or(cpu_sum) : cpu_sum;
  r.memory = td.contains("memory") ? parse_task_memory(td.at("memory").as_string()).value_or(memory_sum) : memory_sum;
  return r;
}

}  // namespace berth::ecs
