// One pass: the reconciler's inputs from the store and the load balancer's
// memory, then its plan applied (scheduler.h).
#include "ecs/scheduler/applier.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

#include "ec2/network_store.h"
#include "ecs/placement.h"
#include "ecs/scheduler/reconciler.h"
#include "ecs/scheduler/service_tasks.h"
#include "ecs/service_deployments.h"
#include "ecs/services.h"
#include "ecs/task_creation.h"
#include "ecs/task_definitions.h"
#include "ecs/tasks.h"

namespace berth::ecs::scheduler {
namespace {

namespace json = boost::json;

WallTime wall(double seconds) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds)));
}

// How far back launch failures count toward the back-off.
constexpr double kFailureWindowSeconds = 15 * 60;

std::string who(const ServiceRow& s) { return "(service " + s.name + ")"; }

Status event(store::Tx& tx, const ServiceRow& s, const std::string& message, double now) {
  return add_service_event(tx, s.cluster, s.name, message, now);
}

// What a pass learns about each task beyond its row: why it must go.
struct Verdict {
  StopCause cause = StopCause::kScaleIn;
  std::string message;  // the event announcing it
  std::string target_group;
};

bool has_container_health_checks(const json::object& td) {
  for (const auto& c : td.at("containerDefinitions").as_array()) {
    const auto& o = c.as_object();
    bool essential = !o.contains("essential") || o.at("essential").as_bool();
    if (essential && o.contains("healthCheck")) return true;
  }
  return false;
}

class Pass {
 public:
  Pass(store::Tx& tx, PassContext& ctx, ServiceRow& service, double now)
      : tx_(tx), ctx_(ctx), s_(service), now_(now) {}

  Status run();

 private:
  Result<bool> checked_by_containers(const TaskRecord& t);
  Result<TaskView> view_of(const TaskRecord& t);
  Result<ServiceView> service_view();
  Status trip_circuit_breaker();
  Status stop_tasks(const Plan& plan);
  Result<bool> backing_off(std::string_view deployment_id);
  Status start_tasks(int64_t count);
  // Places and creates up to `count` tasks; `refusal` is the event for
  // those that fit nowhere.
  Status place_on_instances(const TaskSpec& spec, const TaskDefinitionRow& td, int64_t count,
                            std::vector<std::string>& started, std::string& refusal);
  Status update_deployments(const Plan& plan);
  Result<std::vector<std::string>> eligible_instances();
  Status run_daemon();
  json::object& primary() { return s_.doc["deployments"].as_array()[0].as_object(); }

  store::Tx& tx_;
  PassContext& ctx_;
  ServiceRow& s_;
  double now_;
  std::vector<TaskRecord> tasks_;
  std::map<std::string, Verdict, std::less<>> verdicts_;
  std::map<std::string, bool, std::less<>> checked_;  // task definition ARN -> has container health checks
  std::vector<std::string> only_;  // DAEMON: the instances the next start_tasks places on, one task each
};

Result<bool> Pass::checked_by_containers(const TaskRecord& t) {
  std::string arn(t.doc.at("taskDefinitionArn").as_string());
  if (auto it = checked_.find(arn); it != checked_.end()) return it->second;
  auto td = find_task_definition(tx_, arn);
  if (!td) return std::move(td).error();
  bool checked = *td && has_container_health_checks((*td)->doc);
  checked_[arn] = checked;
  return checked;
}

// Health as the deployment counts it (reference §2.6): the target groups'
// word, else the containers' health checks, else 40 s of RUNNING.
Result<TaskView> Pass::view_of(const TaskRecord& t) {
  TaskView v;
  v.id = t.id;
  v.deployment_id = t.deployment_id;
  v.stopping = t.desired_status == "STOPPED";
  v.running = t.last_status == "RUNNING" || t.last_status == "DEACTIVATING" || t.last_status == "STOPPING";
  if (v.stopping || t.last_status != "RUNNING") return v;
  double started = t.doc.contains("startedAt") ? t.doc.at("startedAt").as_double() : now_;
  int64_t grace = s_.doc.contains("healthCheckGracePeriodSeconds") ? s_.doc.at("healthCheckGracePeriodSeconds").as_int64() : 0;
  bool past_grace = now_ - started >= static_cast<double>(grace);
  if (!s_.doc.at("loadBalancers").as_array().empty() && ctx_.load_balancing) {
    v.healthy = !t.targets.empty();
    for (const auto& target : t.targets) {
      TargetHealthFacts h = ctx_.load_balancing->health(target);
      v.healthy = v.healthy && h.state == "healthy";
      if (h.state == "unhealthy" && past_grace && !v.must_replace()) {
        v.unhealthy = StopCause::kElbUnhealthy;
        bool by_ip = target.id.rfind("i-", 0) != 0;
        std::string where = by_ip ? "(task " + t.id + ")" : "(instance " + target.id + ")";
        verdicts_[t.id] = {StopCause::kElbUnhealthy,
                           who(s_) + " " + where + " (port " + std::to_string(target.port) + ") is unhealthy in (target-group " +
                               target.target_group_arn + ") due to (reason " + h.description + ").",
                           target.target_group_arn};
      }
    }
    return v;
  }
  auto checked = checked_by_containers(t);
  if (!checked) return std::move(checked).error();
  std::string health = t.doc.contains("healthStatus") ? std::string(t.doc.at("healthStatus").as_string()) : "UNKNOWN";
  if (*checked) {
    v.healthy = health == "HEALTHY";
    if (health == "UNHEALTHY" && past_grace) {
      v.unhealthy = StopCause::kContainerUnhealthy;
      verdicts_[t.id] = {StopCause::kContainerUnhealthy, who(s_) + " (task " + t.id + ") failed container health checks.", ""};
    }
  } else {
    v.healthy = now_ - started >= kUncheckedHealthySeconds;
  }
  return v;
}

Result<ServiceView> Pass::service_view() {
  ServiceView view;
  view.active = s_.status == "ACTIVE";
  view.desired = s_.doc.at("desiredCount").as_int64();
  const auto& config = s_.doc.at("deploymentConfiguration").as_object();
  view.minimum_healthy_percent = config.at("minimumHealthyPercent").as_int64();
  view.maximum_percent = config.at("maximumPercent").as_int64();
  view.circuit_breaker = config.at("deploymentCircuitBreaker").at("enable").as_bool();
  for (const auto& dv : s_.doc.at("deployments").as_array()) {
    const auto& d = dv.as_object();
    std::string id(d.at("id").as_string());
    auto failed = failed_tasks(tx_, s_.cluster, id);
    if (!failed) return std::move(failed).error();
    view.deployments.push_back({id, std::string(d.at("rolloutState").as_string()), *failed});
  }
  for (const auto& t : tasks_) {
    if (t.last_status == "STOPPED") continue;
    auto v = view_of(t);
    if (!v) return std::move(v).error();
    view.tasks.push_back(std::move(*v));
  }
  return view;
}

// FAILED, no more launches; with rollback a new PRIMARY deployment of the
// last revision that completed (reference §2.7).
Status Pass::trip_circuit_breaker() {
  json::object& failed = primary();
  std::string failed_id(failed.at("id").as_string());
  failed["rolloutState"] = "FAILED";
  failed["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start.";
  failed["updatedAt"] = now_;
  if (auto st = event(tx_, s_, who(s_) + " (deployment " + failed_id + ") deployment failed: tasks failed to start.", now_); !st)
    return st;
  bool rollback = s_.doc.at("deploymentConfiguration").at("deploymentCircuitBreaker").at("rollback").as_bool();
  const auto* last = s_.state.if_contains("last_completed");
  if (!rollback || !last || *last == failed.at("taskDefinition")) {
    return end_deployment(tx_, failed_id, "STOPPED", "ECS deployment circuit breaker: tasks failed to start.", now_);
  }
  s_.doc["taskDefinition"] = *last;
  auto id = begin_deployment(tx_, ctx_.options, s_, now_, failed_id);
  if (!id) return std::move(id).error();
  s_.doc["deployments"].as_array()[1].as_object()["rolloutStateReason"] =
      "ECS deployment circuit breaker: rolling back to deploymentId " + *id + ".";
  return event(tx_, s_, who(s_) + " rolling back to deployment " + *id + ".", now_);
}

Status Pass::stop_tasks(const Plan& plan) {
  std::string primary_id(primary().at("id").as_string());
  std::string stopped;
  int64_t n = 0;
  for (const auto& stop : plan.stop) {
    std::string reason = "Scaling activity initiated by (deployment " + primary_id + ")";
    if (auto v = verdicts_.find(stop.task_id); v != verdicts_.end() && stop.cause == v->second.cause) {
      if (auto st = event(tx_, s_, v->second.message, now_); !st) return st;
      reason = stop.cause == StopCause::kElbUnhealthy
                   ? "Task failed ELB health checks in (target-group " + v->second.target_group + ")"
                   : "Task failed container health checks";
    }
    auto changed = request_stop(tx_, stop.task_id, "ServiceSchedulerInitiated", reason, wall(now_));
    if (!changed) return std::move(changed).error();
    stopped += " (task " + stop.task_id + ")";
    ++n;
  }
  if (n == 0) return Ok{};
  return event(tx_, s_, who(s_) + " has stopped " + std::to_string(n) + " running tasks:" + stopped + ".", now_);
}

// The AWS tail naming the closest instance's refusal (reference §2.8).
std::string refusal_text(std::string_view reason) {
  if (reason == kReasonMemory) return "has insufficient memory available.";
  if (reason == kReasonCpu) return "has insufficient CPU units available.";
  if (reason == kReasonPorts) return "is already using a port required by your task.";
  if (reason == kReasonAgent) return "doesn't have the agent connected.";
  if (reason == kReasonEni) return "has insufficient free network interfaces available.";  // unverified wording
  return "encountered error \"MemberOf placement constraint unsatisfied.\"";
}

// Closest: the instance whose refusal came latest in the filter chain.
std::string unable_to_place(const ServiceRow& s, const PlacementResult& result) {
  constexpr std::string_view kOrder[] = {kReasonAgent, kReasonAttribute, kReasonMemory,
                                         kReasonCpu,   kReasonPorts,     kReasonEni};
  auto rank = [&](std::string_view r) { return std::find(std::begin(kOrder), std::end(kOrder), r) - std::begin(kOrder); };
  std::map<std::string, std::string> last;  // instance -> its refusal for the last task tried
  for (const auto& [id, reason] : result.failures) last[id] = reason;
  const std::pair<const std::string, std::string>* closest = nullptr;
  for (const auto& entry : last)
    if (!closest || rank(entry.second) > rank(closest->second)) closest = &entry;
  std::string head = who(s) + " was unable to place a task because no container instance met all of its requirements.";
  if (!closest) return head + " Reason: No Container Instances were found in your cluster.";
  return head + " The closest matching (container-instance " + closest->first + ") " + refusal_text(closest->second) +
         " For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.";
}

// The service's placement constraints and its task definition's.
// The service's were checked when it was written.
std::vector<Constraint> constraints_of(const json::object& service, const json::object& td) {
  auto given = read_constraints(service);
  std::vector<Constraint> out = given ? std::move(*given) : std::vector<Constraint>();
  for (auto& c : definition_constraints(td)) out.push_back(std::move(c));
  return out;
}

std::vector<Strategy> strategies_of(const json::object& doc) {
  auto given = read_strategies(doc);
  std::vector<Strategy> out = given ? std::move(*given) : std::vector<Strategy>();
  // The service default: balanced across zones, then across instances.
  if (out.empty()) out = {{"spread", "attribute:ecs.availability-zone"}, {"spread", "instanceId"}};
  return out;
}

Status Pass::place_on_instances(const TaskSpec& spec, const TaskDefinitionRow& td, int64_t count,
                                std::vector<std::string>& started, std::string& refusal) {
  auto candidates = placement_candidates(tx_, spec.cluster, spec.group);
  if (!candidates) return std::move(candidates).error();
  if (!spec.subnets.empty()) {
    // awsvpc: only instances in a zone of a listed subnet can take the ENI.
    std::vector<std::string> zones;
    for (const auto& id : spec.subnets)
      if (auto subnet = ec2::get_subnet(tx_, id)) zones.push_back(subnet->availability_zone);
    std::erase_if(*candidates, [&](const Candidate& c) {
      auto az = c.attributes.find("ecs.availability-zone");
      return az == c.attributes.end() || std::find(zones.begin(), zones.end(), az->second) == zones.end();
    });
  }
  Reservation reservation = reservation_of(td.doc);
  std::vector<Constraint> constraints = constraints_of(s_.doc, td.doc);
  PlacementResult result;
  if (only_.empty()) {
    result = place(*candidates, demand_of(td.doc, reservation), static_cast<int>(count), constraints,
                   strategies_of(s_.doc), ctx_.rng);
  } else {
    // DAEMON: each task on its own instance, if it fits there.
    for (const auto& instance : only_) {
      for (const auto& c : *candidates) {
        if (c.id != instance) continue;
        auto one = place({c}, demand_of(td.doc, reservation), 1, constraints, {}, ctx_.rng);
        result.placed.insert(result.placed.end(), one.placed.begin(), one.placed.end());
        result.failures.insert(result.failures.end(), one.failures.begin(), one.failures.end());
      }
    }
  }
  json::object overrides = echoed_overrides(td.doc);
  for (const auto& id : result.placed) {
    auto task = create_task(tx_, ctx_.options, wall(now_), spec, overrides, reservation, placed_on(*candidates, id));
    if (!task) return event(tx_, s_, who(s_) + " was unable to place a task. Reason: " + task.error().message, now_);
    started.push_back(std::string(task->at("taskArn").as_string()).substr(task->at("taskArn").as_string().rfind('/') + 1));
  }
  if (static_cast<int64_t>(result.placed.size()) < count) refusal = unable_to_place(s_, result);
  return Ok{};
}

// Repeated launch failures space the next attempts out (reference §2.6):
// from the third failure within kFailureWindowSeconds, 10 s doubling per
// further failure, at most 27 minutes after the last one. Whether to wait.
Result<bool> Pass::backing_off(std::string_view deployment_id) {
  auto stmt = tx_.prepare(
      "SELECT count(*), max(stopped_at) FROM ecs_tasks WHERE cluster = ? AND service = ? AND started_by = ? "
      "AND desired_status = 'STOPPED' AND stopped_at >= ? "
      "AND json_extract(doc, '$.stopCode') IN ('TaskFailedToStart', 'EssentialContainerExited')");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(s_.cluster, s_.name, deployment_id, now_ - kFailureWindowSeconds);
  if (auto row = stmt->step(); !row) return std::move(row).error();
  int64_t failures = stmt->column_int64(0);
  if (failures < 3) return false;
  double delay = std::min(10.0 * static_cast<double>(int64_t{1} << std::min<int64_t>(failures - 3, 10)), 27 * 60.0);
  if (now_ - stmt->column_double_opt(1).value_or(0) >= delay) return false;
  auto st = event(tx_, s_,
                  who(s_) + " is unable to consistently start tasks successfully. For more information, see the "
                            "Troubleshooting section of the Amazon ECS Developer Guide.",
                  now_);
  if (!st) return std::move(st).error();
  return true;
}

Status Pass::start_tasks(int64_t count) {
  const json::object& d = primary();
  auto waiting = backing_off(d.at("id").as_string());
  if (!waiting) return std::move(waiting).error();
  if (*waiting) return Ok{};
  auto td = find_task_definition(tx_, d.at("taskDefinition").as_string());
  if (!td) return std::move(td).error();
  if (!*td) return event(tx_, s_, who(s_) + " was unable to place a task. Reason: TaskDefinition not found.", now_);
  TaskSpec spec;
  spec.cluster = s_.cluster;
  spec.td = std::move(**td);
  spec.launch_type = d.contains("launchType") ? std::string(d.at("launchType").as_string()) : "FARGATE";
  if (d.contains("capacityProviderStrategy")) {
    spec.capacity_provider = std::string(d.at("capacityProviderStrategy").as_array()[0].at("capacityProvider").as_string());
  }
  spec.group = "service:" + s_.name;
  spec.started_by = std::string(d.at("id").as_string());
  spec.service = s_.name;
  if (s_.doc.at("propagateTags") == "SERVICE") {
    auto tags = tags_json(tx_, s_.doc.at("serviceArn").as_string());
    if (!tags) return std::move(tags).error();
    for (const auto& t : *tags) spec.tags.emplace_back(t.at("key").as_string(), t.at("value").as_string());
  }
  bool awsvpc = spec.td.doc.at("networkMode").as_string() == "awsvpc";
  if (awsvpc) {
    const auto* nc = d.if_contains("networkConfiguration");
    if (auto st = read_awsvpc_configuration(nc ? nc->as_object() : json::object(), spec); !st)
      return event(tx_, s_, who(s_) + " was unable to place a task. Reason: " + st.error().message, now_);
  }
  std::vector<std::string> started;
  std::string refusal;
  if (spec.launch_type == "FARGATE") {
    // Spread across the listed subnets, as AWS does.
    for (int64_t i = 0; i < count; ++i) {
      TaskSpec one = spec;
      if (!one.subnets.empty()) {
        std::rotate(one.subnets.begin(), one.subnets.begin() + static_cast<long>((tasks_.size() + i) % one.subnets.size()),
                    one.subnets.end());
      }
      auto task = create_task(tx_, ctx_.options, wall(now_), one, echoed_overrides(one.td.doc),
                              reservation_of(one.td.doc), Placed{});
      if (!task) return event(tx_, s_, who(s_) + " was unable to place a task. Reason: " + task.error().message, now_);
      started.push_back(std::string(task->at("taskArn").as_string()).substr(task->at("taskArn").as_string().rfind('/') + 1));
    }
  } else if (auto st = place_on_instances(spec, spec.td, count, started, refusal); !st) {
    return st;
  }
  if (!started.empty()) {
    std::string list;
    for (const auto& id : started) list += " (task " + id + ")";
    auto st = event(tx_, s_, who(s_) + " has started " + std::to_string(started.size()) + " tasks:" + list + ".", now_);
    if (!st) return st;
  }
  return refusal.empty() ? Status(Ok{}) : event(tx_, s_, refusal, now_);
}

Status Pass::update_deployments(const Plan& plan) {
  auto& deployments = s_.doc["deployments"].as_array();
  for (const auto& id : plan.finished_deployments) {
    auto it = std::find_if(deployments.begin(), deployments.end(), [&](const json::value& d) { return d.at("id").as_string() == id; });
    if (it != deployments.end()) deployments.erase(it);
  }
  // ACTIVE deployments want what they still keep; the PRIMARY the service's count.
  for (size_t i = 0; i < deployments.size(); ++i) {
    auto& d = deployments[i].as_object();
    int64_t keep = s_.doc.at("desiredCount").as_int64();
    if (i > 0) {
      keep = 0;
      for (const auto& t : tasks_) keep += (t.deployment_id == d.at("id").as_string() && t.desired_status == "RUNNING");
    }
    if (d.at("desiredCount").as_int64() != keep) d["desiredCount"] = keep, d["updatedAt"] = now_;
  }
  if (plan.primary_completed) {
    json::object& p = primary();
    std::string id(p.at("id").as_string());
    p["rolloutState"] = "COMPLETED";
    p["rolloutStateReason"] = "ECS deployment " + id + " completed.";
    p["updatedAt"] = now_;
    s_.state["last_completed"] = p.at("taskDefinition");
    if (auto st = end_deployment(tx_, id, "SUCCESSFUL", "", now_); !st) return st;
    if (auto st = event(tx_, s_, who(s_) + " (deployment " + id + ") deployment completed.", now_); !st) return st;
  }
  if (plan.stuck) {
    auto st = event(tx_, s_,
                    who(s_) + " was unable to stop or start tasks during a deployment because of the service deployment "
                              "configuration. Update the minimumHealthyPercent or maximumPercent value and try again.",
                    now_);
    if (!st) return st;
  }
  bool was_steady = s_.state.contains("steady") && s_.state.at("steady").as_bool();
  if (plan.steady && !was_steady) {
    if (auto st = event(tx_, s_, who(s_) + " has reached a steady state.", now_); !st) return st;
  }
  s_.state["steady"] = plan.steady;
  return Ok{};
}

// DAEMON: every ACTIVE instance with its agent connected that meets the
// service's and the task definition's memberOf constraints.
Result<std::vector<std::string>> Pass::eligible_instances() {
  auto td = find_task_definition(tx_, primary().at("taskDefinition").as_string());
  if (!td) return std::move(td).error();
  auto candidates = placement_candidates(tx_, s_.cluster, "service:" + s_.name);
  if (!candidates) return std::move(candidates).error();
  std::vector<Constraint> constraints = constraints_of(s_.doc, *td ? (*td)->doc : json::object{
      {"placementConstraints", json::array()}});
  std::vector<std::string> out;
  for (const auto& c : *candidates) {
    bool ok = c.agent_connected;
    for (const auto& k : constraints) {
      if (k.type != "memberOf") continue;
      auto m = matches_expression(k.expression, c);
      ok = ok && m && *m;
    }
    if (ok) out.push_back(c.id);
  }
  return out;
}

Status Pass::run_daemon() {
  auto eligible = eligible_instances();
  if (!eligible) return std::move(eligible).error();
  auto view = service_view();
  if (!view) return std::move(view).error();
  DaemonView daemon;
  daemon.active = view->active;
  daemon.minimum_healthy_percent = view->minimum_healthy_percent;
  daemon.deployments = view->deployments;
  daemon.eligible = std::move(*eligible);
  for (const auto& v : view->tasks) {
    DaemonTaskView t;
    static_cast<TaskView&>(t) = v;
    for (const auto& r : tasks_)
      if (r.id == v.id) t.instance_id = r.container_instance_id;
    daemon.tasks.push_back(std::move(t));
  }
  DaemonPlan d = reconcile_daemon(daemon);
  if (view->active && s_.doc.at("desiredCount").as_int64() != d.desired) s_.doc["desiredCount"] = d.desired;
  Plan plan;
  plan.stop = d.stop;
  plan.primary_completed = d.primary_completed;
  plan.finished_deployments = d.finished_deployments;
  plan.steady = d.steady;
  if (auto st = stop_tasks(plan); !st) return st;
  if (!d.start_on.empty()) {
    only_ = d.start_on;
    if (auto st = start_tasks(static_cast<int64_t>(only_.size())); !st) return st;
  }
  if (auto st = update_deployments(plan); !st) return st;
  bool alive = std::any_of(tasks_.begin(), tasks_.end(), [](const TaskRecord& t) { return t.last_status != "STOPPED"; });
  if (s_.status == "DRAINING" && !alive && plan.stop.empty()) s_.status = "INACTIVE";
  return Ok{};
}

Status Pass::run() {
  auto tasks = load_service_tasks(tx_, s_.cluster, s_.name);
  if (!tasks) return std::move(tasks).error();
  tasks_ = std::move(*tasks);
  if (auto st = settle_targets(tx_, ctx_, s_, tasks_, now_); !st) return st;
  if (s_.doc.at("schedulingStrategy") == "DAEMON") return run_daemon();
  auto view = service_view();
  if (!view) return std::move(view).error();
  Plan plan = reconcile(*view);
  if (plan.circuit_breaker_tripped) {
    if (auto st = trip_circuit_breaker(); !st) return st;
  }
  if (auto st = stop_tasks(plan); !st) return st;
  if (plan.start > 0) {
    if (auto st = start_tasks(plan.start); !st) return st;
  }
  if (auto st = update_deployments(plan); !st) return st;
  bool alive = std::any_of(tasks_.begin(), tasks_.end(), [](const TaskRecord& t) { return t.last_status != "STOPPED"; });
  if (s_.status == "DRAINING" && !alive && plan.stop.empty()) s_.status = "INACTIVE";
  return Ok{};
}

}  // namespace

Status reconcile_service(store::Tx& tx, PassContext& ctx, std::string_view cluster, std::string_view name,
                         WallTime now) {
  auto row = find_service(tx, cluster, name);
  if (!row) return std::move(row).error();
  if (!*row || (*row)->status == "INACTIVE") return Ok{};
  ServiceRow& service = **row;
  std::string before = json::serialize(service.doc) + json::serialize(service.state) + service.status;
  Pass pass(tx, ctx, service, std::chrono::duration<double>(now.time_since_epoch()).count());
  if (auto st = pass.run(); !st) return st;
  if (json::serialize(service.doc) + json::serialize(service.state) + service.status == before) return Ok{};
  return write_service(tx, service, service.doc.at("createdAt").as_double());
}

}  // namespace berth::ecs::scheduler
