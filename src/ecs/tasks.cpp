// The task state machine (apply_task_status, request_stop) and the
// TaskDispatcher that hands tasks to the runtime. The API operations on
// tasks are in task_ops.cpp.
#include "ecs/tasks.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>
#include <mutex>

#include "core/log.h"
#include "ec2/instances.h"
#include "ec2/network_interfaces.h"
#include "ecs/common.h"
#include "ecs/schema.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

int rank(std::string_view status) {
  constexpr std::string_view kOrder[] = {"PROVISIONING", "PENDING",  "ACTIVATING",     "RUNNING",
                                         "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"};
  for (int i = 0; i < 8; ++i) {
    if (kOrder[i] == status) return i;
  }
  return -1;
}

struct TaskRow {
  std::string id, cluster, container_instance_id, last_status, desired_status;
  bool launched = false;
  json::object doc;
  std::string eni_id;   // awsvpc
  std::string targets;  // load balancer registrations (schema.h); "" for none
};

Result<std::optional<TaskRow>> find_task(store::Tx& tx, std::string_view id) {
  auto stmt = tx.prepare("SELECT id, cluster, container_instance_id, last_status, desired_status, launched, doc, "
                         "eni_id, targets FROM ecs_tasks WHERE id = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(id);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<TaskRow>();
  TaskRow t{stmt->column_string(0), stmt->column_string(1), stmt->column_string(2), stmt->column_string(3),
            stmt->column_string(4), stmt->column_int64(5) != 0, json::parse(stmt->column_text(6)).as_object(),
            stmt->column_string(7), stmt->column_string(8)};
  return std::optional<TaskRow>(std::move(t));
}

Status write_task(store::Tx& tx, const TaskRow& t, std::optional<std::string> host_ports = std::nullopt) {
  std::optional<double> stopped_at;
  if (t.doc.contains("stoppedAt")) stopped_at = t.doc.at("stoppedAt").as_double();
  Status s = host_ports ? tx.run("UPDATE ecs_tasks SET last_status = ?, desired_status = ?, launched = ?, "
                                 "stopped_at = ?, doc = ?, host_ports = ? WHERE id = ?",
                                 t.last_status, t.desired_status, t.launched ? 1 : 0, stopped_at,
                                 json::serialize(t.doc), *host_ports, t.id)
                        : tx.run("UPDATE ecs_tasks SET last_status = ?, desired_status = ?, launched = ?, "
                                 "stopped_at = ?, doc = ? WHERE id = ?",
                                 t.last_status, t.desired_status, t.launched ? 1 : 0, stopped_at,
                                 json::serialize(t.doc), t.id);
  if (!s) return s;
  tx.record_change(kTasksTable, t.id, store::ChangeKind::kPut);
  return Ok{};
}

void bump_version(json::object& doc) { doc["version"] = doc.at("version").as_int64() + 1; }

// The awsvpc attachment as AWS shows it once the ENI is attached: its
// details, and each container's networkInterfaces.
Status show_attachment(store::Tx& tx, TaskRow& t) {
  if (t.eni_id.empty()) return Ok{};
  auto eni = ec2::find_network_interface(tx, t.eni_id);
  if (!eni) return std::move(eni).error();
  if (!*eni) return Ok{};
  const auto& n = **eni;
  // "arn:aws:ecs:<region>:..."
  std::string arn(t.doc.at("taskArn").as_string());
  std::string region = arn.substr(12, arn.find(':', 12) - 12);
  for (auto& av : t.doc["attachments"].as_array()) {
    auto& a = av.as_object();
    if (a.at("type") != "ElasticNetworkInterface") continue;
    a["status"] = "ATTACHED";
    a["details"] = json::array{
        json::object{{"name", "subnetId"}, {"value", n.subnet_id}},
        json::object{{"name", "networkInterfaceId"}, {"value", n.id}},
        json::object{{"name", "macAddress"}, {"value", n.mac_address}},
        json::object{{"name", "privateDnsName"}, {"value", ec2::private_dns_name(n.private_ip, region)}},
        json::object{{"name", "privateIPv4Address"}, {"value", n.private_ip}}};
    for (auto& c : t.doc["containers"].as_array()) {
      c.as_object()["networkInterfaces"] =
          json::array{json::object{{"attachmentId", a.at("id")}, {"privateIpv4Address", n.private_ip}}};
    }
  }
  return Ok{};
}

// STOPPED: the ENI of an awsvpc task is deleted (its addresses and group
// attachments released); the attachment stays describable as DELETED.
Status release_attachment(store::Tx& tx, TaskRow& t) {
  if (t.eni_id.empty()) return Ok{};
  for (auto& av : t.doc["attachments"].as_array()) {
    auto& a = av.as_object();
    if (a.at("type") == "ElasticNetworkInterface") a["status"] = "DELETED";
  }
  return ec2::delete_network_interface(tx, t.eni_id);
}

// STOPPED with the times AWS sets; containers that never ran stop too, and
// an awsvpc task's ENI goes with it. Every way to STOPPED comes through
// here, so none can leave the ENI's addresses held.
Status mark_stopped(store::Tx& tx, TaskRow& t, double now) {
  t.last_status = "STOPPED";
  t.desired_status = "STOPPED";
  t.doc["lastStatus"] = "STOPPED";
  t.doc["desiredStatus"] = "STOPPED";
  if (!t.doc.contains("stoppingAt")) t.doc["stoppingAt"] = now;
  t.doc["executionStoppedAt"] = now;
  t.doc["stoppedAt"] = now;
  for (auto& c : t.doc["containers"].as_array()) c.as_object()["lastStatus"] = "STOPPED";
  return release_attachment(tx, t);
}

}  // namespace

Result<bool> request_stop(store::Tx& tx, std::string_view id, std::string_view stop_code, std::string_view reason,
                          WallTime now) {
  auto found = find_task(tx, id);
  if (!found) return std::move(found).error();
  if (!*found) return false;
  TaskRow& t = **found;
  if (t.desired_status == "STOPPED") return false;
  double at = now_seconds(now);
  t.desired_status = "STOPPED";
  t.doc["desiredStatus"] = "STOPPED";
  t.doc["stoppingAt"] = at;
  t.doc["stopCode"] = stop_code;
  t.doc["stoppedReason"] = reason;
  if (!t.launched) {
    // A task no runtime was asked to run has nothing to wait for.
    if (auto s = mark_stopped(tx, t, at); !s) return std::move(s).error();
  } else if (!t.targets.empty() && rank(t.last_status) <= rank("RUNNING")) {
    // Registered in target groups: deregistered and drained first (the
    // scheduler), stopped after (reference §2.4).
    t.last_status = "DEACTIVATING";
    t.doc["lastStatus"] = "DEACTIVATING";
  }
  bump_version(t.doc);
  if (auto s = write_task(tx, t); !s) return std::move(s).error();
  return true;
}

Status end_deactivating(store::Tx& tx, std::string_view id, WallTime now) {
  auto found = find_task(tx, id);
  if (!found) return std::move(found).error();
  if (!*found || (*found)->last_status != "DEACTIVATING") return Ok{};
  TaskRow& t = **found;
  t.last_status = "STOPPING";
  t.doc["lastStatus"] = "STOPPING";
  t.doc["executionStoppedAt"] = now_seconds(now);
  bump_version(t.doc);
  if (auto s = tx.run("UPDATE ecs_tasks SET targets = '', drain_until = NULL WHERE id = ?", t.id); !s) return s;
  return write_task(tx, t);
}

Status stop_tasks_on_instance(store::Tx& tx, std::string_view container_instance_id, std::string_view stop_code,
                              std::string_view reason, WallTime now) {
  std::vector<std::string> ids;
  {
    auto stmt = tx.prepare("SELECT id FROM ecs_tasks WHERE container_instance_id = ? AND desired_status != 'STOPPED'");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(container_instance_id);
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      ids.push_back(stmt->column_string(0));
    }
  }
  for (const auto& id : ids) {
    if (auto r = request_stop(tx, id, stop_code, reason, now); !r) return std::move(r).error();
  }
  return Ok{};
}

Status apply_task_status(store::Database& db, const TaskReport& report, WallTime now) {
  if (rank(report.last_status) < 0) return Error::invalid("InvalidParameterException", "Unknown task status " + report.last_status);
  // Unsynced: the runtime reports again what runs after a restart (it adopts
  // its tasks), so a report need not wait for the disk; the next synced
  // commit carries it there.
  return db.unsynced_transaction([&](store::Tx& tx) -> Status {
    auto found = find_task(tx, report.task_id);
    if (!found) return std::move(found).error();
    if (!*found) return Error::not_found("InvalidParameterException", "The referenced task was not found.");
    TaskRow& t = **found;
    if (rank(report.last_status) < rank(t.last_status)) return Ok{};  // statuses only move forward
    double at = now_seconds(now);
    std::string ports;
    for (auto& cv : t.doc["containers"].as_array()) {
      auto& c = cv.as_object();
      for (const auto& r : report.containers) {
        if (c.at("name").as_string() != r.name) continue;
        if (!r.runtime_id.empty()) c["runtimeId"] = r.runtime_id;
        if (!r.last_status.empty() && rank(r.last_status) >= rank(std::string(c.at("lastStatus").as_string()))) {
          c["lastStatus"] = r.last_status;
        }
        if (r.exit_code) c["exitCode"] = *r.exit_code;
        if (!r.reason.empty()) c["reason"] = r.reason;
        c["healthStatus"] = r.health_status;
        if (!t.eni_id.empty()) {
          // awsvpc: the task's ports are its ENI's, shown through
          // networkInterfaces; AWS lists no bindings.
          c["networkBindings"] = json::array();
        } else if (!r.network_bindings.empty()) {
          json::array bindings;
          for (const auto& b : r.network_bindings) {
            bindings.push_back(json::object{{"bindIP", b.bind_ip}, {"containerPort", b.container_port},
                                            {"hostPort", b.host_port}, {"protocol", b.protocol}});
          }
          c["networkBindings"] = std::move(bindings);
        }
      }
      // Bindings hold the instance's ports, except an awsvpc task's (its own ENI's).
      if (c.contains("networkBindings") && t.doc.at("launchType").as_string() == "EC2" &&
          t.doc.at("attachments").as_array().empty()) {
        for (const auto& b : c.at("networkBindings").as_array()) {
          if (!ports.empty()) ports += ",";
          ports += std::to_string(b.at("hostPort").as_int64()) + "/" + std::string(b.at("protocol").as_string());
        }
      }
    }
    t.doc["healthStatus"] = report.health_status;
    if (report.last_status == "RUNNING" && t.last_status != "RUNNING") {
      if (auto s = show_attachment(tx, t); !s) return s;
      if (!t.doc.contains("pullStartedAt")) t.doc["pullStartedAt"] = at;
      if (!t.doc.contains("pullStoppedAt")) t.doc["pullStoppedAt"] = at;
      t.doc["startedAt"] = at;
      t.doc["connectivity"] = "CONNECTED";
      t.doc["connectivityAt"] = at;
    }
    if (report.last_status == "STOPPED" && t.last_status != "STOPPED") {
      // A stop ECS asked for keeps its code and reason (UserInitiated, ...).
      if (!t.doc.contains("stopCode") && !report.stop_code.empty()) t.doc["stopCode"] = report.stop_code;
      if (!t.doc.contains("stoppedReason") && !report.stopped_reason.empty()) {
        t.doc["stoppedReason"] = report.stopped_reason;
      }
      if (auto s = mark_stopped(tx, t, at); !s) return s;
    } else {
      t.last_status = report.last_status;
      t.doc["lastStatus"] = report.last_status;
    }
    bump_version(t.doc);
    return write_task(tx, t, ports.empty() ? std::nullopt : std::optional<std::string>(ports));
  });
}

namespace {

// A stored JSON document; an empty object when it is not one.
json::object parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

std::string string_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

struct TaskDispatcher::Shared : std::enable_shared_from_this<TaskDispatcher::Shared> {
  Shared(store::Database& d, const Clock& c, Options o, TaskLauncher* l)
      : db(d), clock(c), options(std::move(o)), launcher(l) {}
  store::Database& db;
  const Clock& clock;
  Options options;
  TaskLauncher* launcher;
  std::mutex run_mutex;
  std::atomic<bool> stopped{false};
  store::Subscription subscription;
  bool first_pass = true;

  // Launches what was never launched (and, on the first pass after a
  // restart, what was launched and should still run: launch() is
  // idempotent); asks the runtime to stop what should stop.
  Status run() {
    std::vector<LaunchRequest> launches;
    std::vector<std::pair<std::string, std::string>> stops;
    std::unique_lock lock(run_mutex);
    if (stopped || !launcher) return Ok{};
    bool relaunch = std::exchange(first_pass, false);
    // Unsynced: `launched` only spares a second launch() of a task, and the
    // first pass after a restart launches every running task anyway.
    auto s = db.unsynced_transaction([&](store::Tx& tx) -> Status {
      auto stmt = tx.prepare(
          "SELECT id, cluster, container_instance_id, launch_type, launched, desired_status, doc, eni_id FROM ecs_tasks "
          "WHERE last_status NOT IN ('STOPPED', 'DEACTIVATING') AND ((desired_status = 'RUNNING' AND (launched = 0 OR ?1)) OR "
          "(desired_status = 'STOPPED' AND launched = 1))");
      if (!stmt) return std::move(stmt).error();
      stmt->bind_all(relaunch ? 1 : 0);
      std::vector<std::string> to_mark;
      std::map<std::string, std::string> enis;  // task id -> its awsvpc ENI
      for (;;) {
        auto row = stmt->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        // A row this daemon cannot read is skipped (and said), never thrown
        // at the thread that committed.
        json::object doc = parse_object(stmt->column_text(6));
        if (stmt->column_text(5) == "STOPPED") {
          std::string reason = string_member(doc, "stoppedReason");
          stops.emplace_back(stmt->column_string(0), reason.empty() ? std::string("Task stopped by user") : reason);
          continue;
        }
        LaunchRequest r;
        r.task_id = stmt->column_string(0);
        r.cluster = stmt->column_string(1);
        r.container_instance_id = stmt->column_string(2);
        r.launch_type = stmt->column_string(3);
        r.task_arn = string_member(doc, "taskArn");
        if (r.task_arn.empty()) {
          log::warn("ecs", "task ", r.task_id, ": its stored document is unreadable; not launched");
          continue;
        }
        if (const json::value* o = doc.if_contains("overrides"); o && o->is_object()) r.overrides = o->get_object();
        if (!stmt->column_text(7).empty()) enis[r.task_id] = stmt->column_string(7);
        if (stmt->column_int64(4) == 0) to_mark.push_back(r.task_id);
        launches.push_back(std::move(r));
      }
      for (auto& r : launches) {
        auto td = tx.prepare("SELECT doc FROM ecs_task_definitions WHERE family || ':' || revision = ?");
        if (!td) return std::move(td).error();
        auto arn_stmt = tx.prepare("SELECT task_definition_arn FROM ecs_tasks WHERE id = ?");
        if (!arn_stmt) return std::move(arn_stmt).error();
        arn_stmt->bind_all(r.task_id);
        if (auto row = arn_stmt->step(); !row) return std::move(row).error();
        std::string td_arn = arn_stmt->column_string(0);
        td->bind_all(td_arn.substr(td_arn.find(":task-definition/") + 17));
        if (auto row = td->step(); !row) return std::move(row).error();
        else if (*row) r.task_definition = parse_object(td->column_text(0));
        if (!r.container_instance_id.empty()) {
          auto ci = tx.prepare("SELECT ec2_instance_id FROM ecs_container_instances WHERE id = ?");
          if (!ci) return std::move(ci).error();
          ci->bind_all(r.container_instance_id);
          if (auto row = ci->step(); !row) return std::move(row).error();
          else if (*row) r.ec2_instance_id = ci->column_string(0);
          auto instance = ec2::find_instance(tx, r.ec2_instance_id);
          if (!instance) return std::move(instance).error();
          if (*instance) {
            r.public_ip = (*instance)->public_ip;
            r.private_ip = (*instance)->private_ip;
            r.security_group_ids = (*instance)->security_group_ids;
          }
        }
        // awsvpc (and FARGATE): the task's own addresses and groups, not the instance's.
        if (auto it = enis.find(r.task_id); it != enis.end()) {
          auto eni = ec2::find_network_interface(tx, it->second);
          if (!eni) return std::move(eni).error();
          r.public_ip = *eni ? (*eni)->public_ip : "";
          r.private_ip = *eni ? (*eni)->private_ip : "";
          r.security_group_ids = *eni ? (*eni)->security_group_ids : std::vector<std::string>();
        }
      }
      for (const auto& id : to_mark) {
        if (auto s = tx.run("UPDATE ecs_tasks SET launched = 1 WHERE id = ?", id); !s) return s;
      }
      return Ok{};
    });
    if (!s) return s;
    // Outside the transaction and the lock: the launcher may report back
    // at once, which commits and comes back here through the feed.
    lock.unlock();
    for (const auto& r : launches) launcher->launch(r);
    for (const auto& [id, reason] : stops) launcher->stop(id, reason);
    return Ok{};
  }
};

TaskDispatcher::TaskDispatcher(store::Database& db, const Clock& clock, Options options, TaskLauncher* launcher)
    : shared_(std::make_shared<Shared>(db, clock, std::move(options), launcher)) {}

TaskDispatcher::~TaskDispatcher() { stop(); }

Status TaskDispatcher::dispatch_all() { return shared_->run(); }

void TaskDispatcher::start() {
  std::weak_ptr<Shared> weak = shared_;
  // Task changes are few and the pass is short: it runs on the committing
  // thread, after the commit (the store delivers batches outside its lock).
  shared_->subscription = shared_->db.subscribe([weak](const std::vector<store::Change>& changes) {
    auto self = weak.lock();
    if (!self || self->stopped) return;
    for (const auto& c : changes) {
      if (c.table == kTasksTable) {
        if (auto s = self->run(); !s) log::warn("ecs", "task dispatch: ", s.error().message);
        return;
      }
    }
  });
  if (auto s = shared_->run(); !s) log::warn("ecs", "task dispatch: ", s.error().message);
}

void TaskDispatcher::stop() {
  if (shared_->stopped.exchange(true)) return;
  shared_->subscription.reset();
  std::lock_guard lock(shared_->run_mutex);
}

}  // namespace berth::ecs
