// The load balancer side of a pass: tasks enter their target groups once
// RUNNING, leave them (draining) before they stop, and the runtime is asked
// to stop them only once the drain is over (reference §2.4: ACTIVATING /
// DEACTIVATING are the target-group steps; §3.3 draining).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

#include "ec2/network_interfaces.h"
#include "ecs/scheduler/service_tasks.h"
#include "ecs/tasks.h"

namespace berth::ecs::scheduler {
namespace {

namespace json = boost::json;

std::string targets_text(const std::vector<TargetRef>& targets) {
  if (targets.empty()) return "";
  json::array out;
  for (const auto& t : targets) out.push_back(json::array{json::string(t.target_group_arn), json::string(t.id), t.port});
  return json::serialize(out);
}

std::vector<TargetRef> parse_targets(std::string_view text) {
  std::vector<TargetRef> out;
  if (text.empty()) return out;
  json::value parsed = json::parse(text);
  for (const auto& v : parsed.as_array()) {
    const auto& a = v.as_array();
    out.push_back({std::string(a[0].as_string()), std::string(a[1].as_string()), a[2].as_int64()});
  }
  return out;
}

Status save_targets(store::Tx& tx, const TaskRecord& t) {
  return tx.run("UPDATE ecs_tasks SET targets = ?, drain_until = ? WHERE id = ?", targets_text(t.targets),
                t.drain_until, t.id);
}

Result<std::string> ec2_instance_of(store::Tx& tx, std::string_view container_instance_id) {
  auto stmt = tx.prepare("SELECT ec2_instance_id FROM ecs_container_instances WHERE id = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(container_instance_id);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  return *row ? stmt->column_string(0) : std::string();
}

// Where the task answers for one loadBalancers entry: its instance and the
// host port bound to the container port (instance targets), or its ENI's
// address and the container port (ip targets). nullopt while unknown.
Result<std::optional<TargetRef>> target_of(store::Tx& tx, const TaskRecord& t, const json::object& lb,
                                           const TargetGroupFacts& tg) {
  std::string container(lb.at("containerName").as_string());
  int64_t port = lb.at("containerPort").as_int64();
  std::string arn(lb.at("targetGroupArn").as_string());
  if (tg.target_type == "ip") {
    if (t.eni_id.empty()) return std::optional<TargetRef>();
    auto eni = ec2::find_network_interface(tx, t.eni_id);
    if (!eni) return std::move(eni).error();
    if (!*eni) return std::optional<TargetRef>();
    return std::optional<TargetRef>(TargetRef{arn, (*eni)->private_ip, port});
  }
  auto instance = ec2_instance_of(tx, t.container_instance_id);
  if (!instance) return std::move(instance).error();
  if (instance->empty()) return std::optional<TargetRef>();
  for (const auto& c : t.doc.at("containers").as_array()) {
    if (c.at("name").as_string() != container || !c.as_object().contains("networkBindings")) continue;
    for (const auto& b : c.at("networkBindings").as_array())
      if (b.at("containerPort").as_int64() == port)
        return std::optional<TargetRef>(TargetRef{arn, *instance, b.at("hostPort").as_int64()});
  }
  return std::optional<TargetRef>();
}

// Counts per target group for the events, in first-seen order.
struct Tally {
  std::vector<std::pair<std::string, int64_t>> counts;
  void add(const std::string& key) {
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& p) { return p.first == key; });
    if (it == counts.end()) counts.emplace_back(key, 1);
    else ++it->second;
  }
};

Status register_running(store::Tx& tx, PassContext& ctx, const ServiceRow& service, TaskRecord& t, double now,
                        Tally& registered) {
  std::vector<TargetRef> targets;
  for (const auto& lbv : service.doc.at("loadBalancers").as_array()) {
    const auto& lb = lbv.as_object();
    auto tg = ctx.load_balancing->target_group(tx, lb.at("targetGroupArn").as_string());
    if (!tg) return std::move(tg).error();
    if (!*tg) continue;  // deleted under the service: nothing to register in
    auto target = target_of(tx, t, lb, **tg);
    if (!target) return std::move(target).error();
    if (!*target) return Ok{};  // bindings not reported yet: next pass
    targets.push_back(**target);
  }
  WallTime at = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(now)));
  for (const auto& target : targets) {
    if (auto s = ctx.load_balancing->register_target(tx, target, at); !s) return s;
    registered.add(target.target_group_arn);
  }
  t.targets = std::move(targets);
  return save_targets(tx, t);
}

Status deregister_all(store::Tx& tx, PassContext& ctx, TaskRecord& t, double now, Tally& deregistered) {
  WallTime at = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(now)));
  for (const auto& target : t.targets) {
    if (ctx.load_balancing) {
      if (auto s = ctx.load_balancing->deregister_target(tx, target, at); !s) return s;
    }
    deregistered.add(target.target_group_arn);
  }
  return Ok{};
}

// DEACTIVATING: deregister (the drain starts), or end the drain once the
// delay is over or nothing is in flight.
Status deactivate(store::Tx& tx, PassContext& ctx, TaskRecord& t, double now, Tally& deregistered, Tally& draining) {
  if (!t.drain_until) {
    int64_t delay = 0;
    for (const auto& target : t.targets) {
      if (!ctx.load_balancing) continue;
      auto tg = ctx.load_balancing->target_group(tx, target.target_group_arn);
      if (!tg) return std::move(tg).error();
      if (*tg) delay = std::max(delay, (*tg)->deregistration_delay_seconds);
    }
    if (auto s = deregister_all(tx, ctx, t, now, deregistered); !s) return s;
    if (!t.targets.empty()) draining.add(t.deployment_id);
    t.drain_until = now + static_cast<double>(delay);
    ctx.drain_started[t.id] = now;
    return save_targets(tx, t);
  }
  double started = ctx.drain_started.try_emplace(t.id, now).first->second;
  bool idle = ctx.load_balancing && now - started >= kMinimumDrainSeconds &&
              std::all_of(t.targets.begin(), t.targets.end(),
                          [&](const TargetRef& r) { return ctx.load_balancing->requests_in_flight(r) == 0; });
  if (now < *t.drain_until && !idle) return Ok{};
  // Nothing in flight before the delay is over: ELB completes the
  // deregistration at once, so the target leaves the group's health too.
  if (now < *t.drain_until)
    for (const auto& r : t.targets)
      if (auto s = ctx.load_balancing->complete_deregistration(tx, r); !s) return s;
  ctx.drain_started.erase(t.id);
  WallTime at = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(now)));
  if (auto s = end_deactivating(tx, t.id, at); !s) return s;
  t.last_status = "STOPPING";
  t.targets.clear();
  t.drain_until.reset();
  return Ok{};
}

}  // namespace

Result<std::vector<TaskRecord>> load_service_tasks(store::Tx& tx, std::string_view cluster, std::string_view service) {
  auto stmt = tx.prepare(
      "SELECT id, last_status, desired_status, started_by, container_instance_id, eni_id, doc, targets, drain_until "
      "FROM ecs_tasks WHERE cluster = ? AND service = ? AND (last_status != 'STOPPED' OR targets != '') "
      "ORDER BY created_at, rowid");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster, service);
  std::vector<TaskRecord> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    TaskRecord t;
    t.id = stmt->column_string(0);
    t.last_status = stmt->column_string(1);
    t.desired_status = stmt->column_string(2);
    t.deployment_id = stmt->column_string(3);
    t.container_instance_id = stmt->column_string(4);
    t.eni_id = stmt->column_string(5);
    t.doc = json::parse(stmt->column_text(6)).as_object();
    t.targets = parse_targets(stmt->column_text(7));
    t.drain_until = stmt->column_double_opt(8);
    out.push_back(std::move(t));
  }
  return out;
}

Status settle_targets(store::Tx& tx, PassContext& ctx, const ServiceRow& service, std::vector<TaskRecord>& tasks,
                      double now) {
  bool balanced = ctx.load_balancing && !service.doc.at("loadBalancers").as_array().empty();
  Tally registered, deregistered, draining;
  for (auto& t : tasks) {
    Status s = Ok{};
    if (t.last_status == "STOPPED") {
      // Died (or stopped before it drained): out of its groups at once.
      s = deregister_all(tx, ctx, t, now, deregistered);
      t.targets.clear();
      if (s) s = save_targets(tx, t);
    } else if (t.last_status == "DEACTIVATING") {
      s = deactivate(tx, ctx, t, now, deregistered, draining);
    } else if (balanced && t.desired_status == "RUNNING" && t.last_status == "RUNNING" && t.targets.empty()) {
      s = register_running(tx, ctx, service, t, now, registered);
    }
    if (!s) return s;
  }
  std::string who = "(service " + service.name + ")";
  for (const auto& [arn, n] : registered.counts) {
    auto s = add_service_event(tx, service.cluster, service.name,
                               who + " registered " + std::to_string(n) + " targets in (target-group " + arn + ")", now, 0);
    if (!s) return s;
  }
  for (const auto& [arn, n] : deregistered.counts) {
    auto s = add_service_event(tx, service.cluster, service.name,
                               who + " deregistered " + std::to_string(n) + " targets in (target-group " + arn + ")", now, 0);
    if (!s) return s;
  }
  for (const auto& [deployment, n] : draining.counts) {
    auto s = add_service_event(tx, service.cluster, service.name,
                               "(service " + service.name + ", taskSet " + deployment + ") has begun draining connections on " +
                                   std::to_string(n) + " tasks.",
                               now, 0);
    if (!s) return s;
  }
  return Ok{};
}

}  // namespace berth::ecs::scheduler
