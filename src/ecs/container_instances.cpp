// Container instances: the registration reconciler (see the header's
// diagram) and ListContainerInstances, DescribeContainerInstances,
// DeregisterContainerInstance, UpdateContainerInstancesState.
#include "ecs/container_instances.h"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "core/ids.h"
#include "core/log.h"
#include "ec2/catalogue.h"
#include "ec2/key_crypto.h"
#include "ecs/common.h"
#include "ecs/schema.h"
#include "ecs/tasks.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

// What a current ECS-optimized Amazon Linux 2 AMI's agent reports.
constexpr std::string_view kAgentVersion = "1.79.1";
constexpr std::string_view kAgentHash = "a1b2c3d4";
constexpr std::string_view kDockerVersion = "DockerVersion: 20.10.25";

// Capabilities the agent registers; task definitions' requiresAttributes
// name some of them.
constexpr std::string_view kCapabilities[] = {
    "com.amazonaws.ecs.capability.privileged-container",
    "com.amazonaws.ecs.capability.docker-remote-api.1.17",
    "com.amazonaws.ecs.capability.docker-remote-api.1.18",
    "com.amazonaws.ecs.capability.docker-remote-api.1.19",
    "com.amazonaws.ecs.capability.docker-remote-api.1.20",
    "com.amazonaws.ecs.capability.docker-remote-api.1.21",
    "com.amazonaws.ecs.capability.docker-remote-api.1.22",
    "com.amazonaws.ecs.capability.docker-remote-api.1.23",
    "com.amazonaws.ecs.capability.docker-remote-api.1.24",
    "com.amazonaws.ecs.capability.docker-remote-api.1.25",
    "com.amazonaws.ecs.capability.docker-remote-api.1.26",
    "com.amazonaws.ecs.capability.docker-remote-api.1.27",
    "com.amazonaws.ecs.capability.docker-remote-api.1.28",
    "com.amazonaws.ecs.capability.docker-remote-api.1.29",
    "com.amazonaws.ecs.capability.docker-remote-api.1.30",
    "com.amazonaws.ecs.capability.docker-remote-api.1.31",
    "com.amazonaws.ecs.capability.docker-remote-api.1.32",
    "com.amazonaws.ecs.capability.logging-driver.json-file",
    "com.amazonaws.ecs.capability.logging-driver.awslogs",
    "com.amazonaws.ecs.capability.logging-driver.none",
    "com.amazonaws.ecs.capability.ecr-auth",
    "com.amazonaws.ecs.capability.task-iam-role",
    "com.amazonaws.ecs.capability.task-iam-role-network-host",
    "ecs.capability.execution-role-ecr-pull",
    "ecs.capability.task-eni",
    "ecs.capability.container-health-check",
    "ecs.capability.task-cpu-mem-limit",
};

// MemTotal per type: the AL1-era figures of reference §5.5 where known,
// else installed memory less the ~3.5% the kernel keeps (estimates, as
// the reference marks them).
struct MemTotal {
  std::string_view type;
  int64_t mib;
};
constexpr MemTotal kMemTotals[] = {
    {"t2.micro", 993}, {"t2.small", 2001}, {"t2.medium", 3952}, {"t2.nano", 483},
};

json::object integer_resource(std::string_view name, int64_t v) {
  return json::object{{"name", name}, {"type", "INTEGER"}, {"doubleValue", 0.0}, {"longValue", 0},
                      {"integerValue", v}};
}

json::object stringset_resource(std::string_view name, const std::vector<int64_t>& ports) {
  json::array set;
  for (auto p : ports) set.push_back(json::string(std::to_string(p)));
  return json::object{{"name", name}, {"type", "STRINGSET"}, {"doubleValue", 0.0}, {"longValue", 0},
                      {"integerValue", 0}, {"stringSetValue", std::move(set)}};
}

json::object attribute(std::string_view name, std::optional<std::string_view> value = std::nullopt) {
  json::object a{{"name", name}};
  if (value) a["value"] = *value;
  return a;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The value after KEY= on a line, up to whitespace, a redirection or the
// end, without surrounding quotes.
std::optional<std::string> assignment(std::string_view line, std::string_view key) {
  std::string k = std::string(key) + "=";
  size_t pos = line.find(k);
  while (pos != std::string_view::npos && pos > 0 && !is_space(line[pos - 1]) && line[pos - 1] != '"' &&
         line[pos - 1] != '\'') {
    pos = line.find(k, pos + 1);
  }
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(pos + k.size());
  std::string value;
  for (char c : rest) {
    if (is_space(c) || c == '>' || c == ';' || c == '|' || c == '&') break;
    if (c == '"' || c == '\'') continue;
    value += c;
  }
  return value;
}

}  // namespace

AgentConfig parse_agent_config(std::string_view text) {
  AgentConfig config;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (auto v = assignment(line, "ECS_CLUSTER"); v && !v->empty()) config.cluster = *v;
    if (auto v = assignment(line, "ECS_RESERVED_MEMORY")) {
      try {
        config.reserved_memory_mib = std::max<int64_t>(0, std::stoll(*v));
      } catch (...) {
        // The agent refuses a bad value and keeps its default, 0.
      }
    }
  }
  return config;
}

bool is_ecs_optimized_image(std::string_view image_id) {
  const auto* image = ec2::find_image(image_id);
  return image && std::string_view(image->name).find("-ecs-") != std::string_view::npos;
}

int64_t mem_total_mib(std::string_view instance_type) {
  for (const auto& m : kMemTotals) {
    if (m.type == instance_type) return m.mib;
  }
  const auto* t = ec2::find_instance_type(instance_type);
  if (!t) return 0;
  return t->memory_mib - (t->memory_mib * 35 + 999) / 1000;
}

int64_t registered_integer(const json::object& doc, std::string_view name) {
  for (const auto& r : doc.at("registeredResources").as_array()) {
    if (r.as_object().at("name").as_string() == name) return r.as_object().at("integerValue").as_int64();
  }
  return 0;
}

std::vector<int64_t> registered_ports(const json::object& doc, std::string_view name) {
  std::vector<int64_t> out;
  for (const auto& r : doc.at("registeredResources").as_array()) {
    if (r.as_object().at("name").as_string() != name) continue;
    for (const auto& p : r.as_object().at("stringSetValue").as_array()) out.push_back(std::stoll(std::string(p.as_string())));
  }
  return out;
}

std::string attribute_value(const json::object& doc, std::string_view name) {
  for (const auto& a : doc.at("attributes").as_array()) {
    const auto& o = a.as_object();
    if (o.at("name").as_string() == name && o.contains("value")) return std::string(o.at("value").as_string());
  }
  return "";
}

Result<std::vector<ContainerInstanceRow>> load_container_instances(store::Tx& tx, std::string_view cluster,
                                                                   const std::vector<std::string>& statuses) {
  std::vector<ContainerInstanceRow> out;
  auto stmt = tx.prepare("SELECT id, cluster, ec2_instance_id, status, agent_connected, doc FROM "
                         "ecs_container_instances WHERE (?1 = '' OR cluster = ?1) ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster);
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    ContainerInstanceRow r;
    r.id = stmt->column_string(0);
    r.cluster = stmt->column_string(1);
    r.ec2_instance_id = stmt->column_string(2);
    r.status = stmt->column_string(3);
    r.agent_connected = stmt->column_int64(4) != 0;
    if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), r.status) == statuses.end()) continue;
    r.doc = json::parse(stmt->column_text(5)).as_object();
    out.push_back(std::move(r));
  }
  return out;
}

Result<Usage> usage_of(store::Tx& tx, std::string_view id) {
  Usage u;
  auto stmt = tx.prepare("SELECT last_status, cpu, memory, host_ports FROM ecs_tasks WHERE container_instance_id = ? "
                         "AND last_status != 'STOPPED'");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(id);
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    (stmt->column_text(0) == "RUNNING" ? u.running : u.pending) += 1;
    u.cpu += stmt->column_int64(1);
    u.memory += stmt->column_int64(2);
    // host_ports: "8080/tcp,53/udp"
    std::string_view ports = stmt->column_text(3);
    size_t start = 0;
    while (start < ports.size()) {
      size_t end = ports.find(',', start);
      if (end == std::string_view::npos) end = ports.size();
      std::string_view p = ports.substr(start, end - start);
      auto slash = p.find('/');
      u.ports.emplace_back(std::stoll(std::string(p.substr(0, slash))), std::string(p.substr(slash + 1)));
      start = end + 1;
    }
  }
  return u;
}

namespace {

Status set_state(store::Tx& tx, const ContainerInstanceRow& row, std::string_view status, bool connected,
                 WallTime now) {
  json::object doc = row.doc;
  doc["version"] = doc.at("version").as_int64() + 1;
  auto s = tx.run("UPDATE ecs_container_instances SET status = ?, agent_connected = ?, updated_at = ?, doc = ? "
                  "WHERE id = ?",
                  status, connected ? 1 : 0, now_seconds(now), json::serialize(doc), row.id);
  if (!s) return s;
  tx.record_change(kContainerInstancesTable, row.id, store::ChangeKind::kPut);
  return Ok{};
}

Result<bool> cluster_active(store::Tx& tx, std::string_view name) {
  auto stmt = tx.prepare("SELECT 1 FROM ecs_clusters WHERE name = ? AND status = 'ACTIVE'");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(name);
  return stmt->step();
}

Status register_instance(store::Tx& tx, const ec2::Instance& i, const AgentConfig& config, WallTime now) {
  std::vector<int64_t> reserved(std::begin(kReservedPorts), std::end(kReservedPorts));
  const auto* type = ec2::find_instance_type(i.instance_type);
  int64_t cpu = type ? type->vcpus * 1024 : 0;
  int64_t memory = std::max<int64_t>(0, mem_total_mib(i.instance_type) - config.reserved_memory_mib);
  json::array resources{integer_resource("CPU", cpu), integer_resource("MEMORY", memory),
                        stringset_resource("PORTS", reserved), stringset_resource("PORTS_UDP", {})};
  json::array attributes;
  for (auto c : kCapabilities) attributes.push_back(attribute(c));
  attributes.push_back(attribute("ecs.ami-id", i.image_id));
  attributes.push_back(attribute("ecs.availability-zone", i.availability_zone));
  attributes.push_back(attribute("ecs.capability.cni-plugin-version", "55b2ae77-2023.11.0"));  // as agent 1.79
  attributes.push_back(attribute("ecs.cpu-architecture", "x86_64"));
  attributes.push_back(attribute("ecs.instance-type", i.instance_type));
  attributes.push_back(attribute("ecs.os-family", "LINUX"));
  attributes.push_back(attribute("ecs.os-type", "linux"));
  attributes.push_back(attribute("ecs.subnet-id", i.subnet_id));
  attributes.push_back(attribute("ecs.vpc-id", i.vpc_id));
  json::object doc;
  doc["version"] = 1;
  doc["versionInfo"] = json::object{
      {"agentVersion", kAgentVersion}, {"agentHash", kAgentHash}, {"dockerVersion", kDockerVersion}};
  doc["registeredResources"] = std::move(resources);
  doc["attributes"] = std::move(attributes);
  doc["registeredAt"] = now_seconds(now);
  std::string id = ids::random_hex(32);
  auto s = tx.run("INSERT INTO ecs_container_instances(id, cluster, ec2_instance_id, status, agent_connected, "
                  "registered_at, updated_at, doc) VALUES(?, ?, ?, 'ACTIVE', 1, ?, ?, ?)",
                  id, config.cluster, i.instance_id, now_seconds(now), now_seconds(now), json::serialize(doc));
  if (!s) return s;
  tx.record_change(kContainerInstancesTable, id, store::ChangeKind::kPut);
  log::info("ecs", "registered ", i.instance_id, " as container instance ", id, " in cluster ", config.cluster);
  return Ok{};
}

Status lose_instance(store::Tx& tx, const ContainerInstanceRow& row, WallTime now) {
  if (auto s = set_state(tx, row, "INACTIVE", false, now); !s) return s;
  // Reason as AWS shows it for tasks of a terminated host (observed); the
  // stop code is unverified.
  return stop_tasks_on_instance(tx, row.id, "TerminationNotice",
                                "Host EC2 (instance " + row.ec2_instance_id + ") terminated.", now);
}

Status reconcile_tx(store::Tx& tx, WallTime now) {
  auto instances = ec2::list_instances(tx);
  if (!instances) return std::move(instances).error();
  auto rows = load_container_instances(tx, "");
  if (!rows) return std::move(rows).error();
  std::map<std::string, const ContainerInstanceRow*> by_instance;
  for (const auto& r : *rows) by_instance[r.ec2_instance_id] = &r;
  std::set<std::string> seen;
  for (const auto& i : *instances) {
    seen.insert(i.instance_id);
    auto it = by_instance.find(i.instance_id);
    if (it == by_instance.end()) {
      if (i.state != ec2::InstanceState::kRunning || !is_ecs_optimized_image(i.image_id)) continue;
      std::string text;
      if (!i.user_data.empty()) text = ec2::base64_decode(i.user_data).value_or("");
      AgentConfig config = parse_agent_config(text);
      // The agent retries registration until the cluster exists.
      auto active = cluster_active(tx, config.cluster);
      if (!active) return std::move(active).error();
      if (!*active) continue;
      if (auto s = register_instance(tx, i, config, now); !s) return s;
      continue;
    }
    const ContainerInstanceRow& row = *it->second;
    if (row.status == "INACTIVE") continue;
    switch (i.state) {
      case ec2::InstanceState::kShuttingDown:
      case ec2::InstanceState::kTerminated:
        if (auto s = lose_instance(tx, row, now); !s) return s;
        break;
      case ec2::InstanceState::kStopping:
      case ec2::InstanceState::kStopped:
        if (row.agent_connected) {
          if (auto s = set_state(tx, row, row.status, false, now); !s) return s;
        }
        break;
      case ec2::InstanceState::kRunning:
        if (!row.agent_connected) {
          if (auto s = set_state(tx, row, row.status, true, now); !s) return s;
        }
        break;
      case ec2::InstanceState::kPending:
        break;
    }
  }
  for (const auto& r : *rows) {
    if (r.status != "INACTIVE" && !seen.count(r.ec2_instance_id)) {
      if (auto s = lose_instance(tx, r, now); !s) return s;
    }
  }
  return Ok{};
}

}  // namespace

struct InstanceReconciler::Shared : std::enable_shared_from_this<InstanceReconciler::Shared> {
  Shared(store::Database& d, const Clock& c, Options o, ec2::InstanceTimings t)
      : db(d), clock(c), options(std::move(o)), timings(t) {}

  store::Database& db;
  const Clock& clock;
  Options options;
  ec2::InstanceTimings timings;
  std::mutex run_mutex;  // one reconcile at a time
  std::atomic<bool> stopped{false};
  std::atomic<bool> queued{false};
  boost::asio::io_context* loop = nullptr;
  std::unique_ptr<boost::asio::steady_timer> timer;
  std::chrono::milliseconds period{500};
  store::Subscription subscription;

  Status run(WallTime now) {
    std::lock_guard lock(run_mutex);
    if (stopped) return Ok{};
    return db.transaction([&](store::Tx& tx) { return reconcile_tx(tx, now); });
  }

  void post_run() {
    if (queued.exchange(true)) return;
    std::weak_ptr<Shared> weak = shared_from_this();
    boost::asio::post(*loop, [weak] {
      auto self = weak.lock();
      if (!self || self->stopped) return;
      self->queued = false;
      if (auto s = self->run(self->clock.now()); !s) log::warn("ecs", "container instances: ", s.error().message);
    });
  }

  void arm() {
    std::weak_ptr<Shared> weak = shared_from_this();
    timer->expires_after(period);
    timer->async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopped) return;
      // The timed EC2 transitions (pending -> running, ...) happen when
      // someone asks; this is the someone, so registration does not wait
      // for the next EC2 call. Its change reaches us through the feed.
      if (auto s = ec2::advance_instance_states(self->db, self->clock.now(), self->timings); !s) {
        log::warn("ecs", "advancing instance states: ", s.error().message);
      }
      if (auto s = self->run(self->clock.now()); !s) log::warn("ecs", "container instances: ", s.error().message);
      self->arm();
    });
  }
};

InstanceReconciler::InstanceReconciler(store::Database& db, const Clock& clock, Options options,
                                       ec2::InstanceTimings timings)
    : shared_(std::make_shared<Shared>(db, clock, std::move(options), timings)) {}

InstanceReconciler::~InstanceReconciler() { stop(); }

Status InstanceReconciler::reconcile(WallTime now) { return shared_->run(now); }

void InstanceReconciler::start(boost::asio::io_context& loop, std::chrono::milliseconds period) {
  shared_->loop = &loop;
  shared_->period = period;
  shared_->timer = std::make_unique<boost::asio::steady_timer>(loop);
  std::weak_ptr<Shared> weak = shared_;
  shared_->subscription = shared_->db.subscribe([weak](const std::vector<store::Change>& changes) {
    auto self = weak.lock();
    if (!self || self->stopped) return;
    for (const auto& c : changes) {
      if (c.table == ec2::kInstancesTable || c.table == kClustersTable) {
        self->post_run();
        return;
      }
    }
  });
  shared_->post_run();
  shared_->arm();
}

void InstanceReconciler::stop() {
  if (shared_->stopped.exchange(true)) return;
  shared_->subscription.reset();
  // Waits for a reconcile in progress. The timer is not cancelled from this
  // thread (asio timers are not thread-safe); its handler holds the state
  // weakly and returns at once once stopped is set.
  std::lock_guard lock(shared_->run_mutex);
}

}  // namespace berth::ecs
