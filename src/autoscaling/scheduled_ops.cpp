// Scheduled actions: PutScheduledAction, DescribeScheduledActions,
// DeleteScheduledAction, and running them when due (the daemon's timer
// calls run_due_scheduled_actions): a due action sets the target's min and
// max, and the desired count follows into the new bounds.
#include <boost/json/serialize.hpp>

#include <cmath>

#include "autoscaling/internal.h"
#include "autoscaling/operations.h"
#include "autoscaling/requests.h"
#include "autoscaling/schedule.h"
#include "core/ids.h"
#include "core/log.h"

namespace berth::autoscaling {
namespace {

constexpr size_t kMaxScheduledPerTarget = 200;  // AWS's quota

std::string body(const json::object& o) { return json::serialize(o); }

Error scheduled_not_found(std::string_view resource_id, std::string_view name) {
  // unverified: the wording other emulators use, in AWS's pattern for targets
  return Error::not_found("ObjectNotFoundException",
                          "No scheduled action found for service namespace: ecs, resource ID: " +
                              std::string(resource_id) +
                              ", scalable dimension: ecs:service:DesiredCount, scheduled action name: " +
                              std::string(name));
}

std::optional<int64_t> seconds_member(const json::object& doc, std::string_view key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->value().is_number()) return std::nullopt;
  return static_cast<int64_t>(std::floor(it->value().to_number<double>()));
}

std::string text(const json::object& doc, std::string_view key) {
  auto it = doc.find(key);
  return it != doc.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// When the stored action runs next after `after` (nullopt: never again).
Result<std::optional<double>> next_run_of(const AutoScalingOptions& o, const json::object& doc, int64_t after) {
  auto schedule = parse_schedule(text(doc, "Schedule"));
  if (!schedule) return std::move(schedule).error();
  std::string tz = text(doc, "Timezone");
  auto zone = TimeZone::load(tz.empty() ? "UTC" : tz, o.zoneinfo_dir);
  if (!zone) return std::move(zone).error();
  auto next = next_run(*schedule, **zone, after, seconds_member(doc, "StartTime"), seconds_member(doc, "EndTime"),
                       seconds_member(doc, "CreationTime").value_or(after));
  if (!next) return std::optional<double>();
  return std::optional<double>(static_cast<double>(*next));
}

bool valid_action_name(std::string_view n) {
  if (n.front() == ' ' || n.back() == ' ') return false;
  for (unsigned char c : n)
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == ':' || c == '/' || c == '|') return false;
  return true;
}

Result<std::string> put_scheduled_action(AutoScaling& as, const json::object& in) {
  auto id = read_resource_id(in);
  if (!id) return std::move(id).error();
  auto name = req_string(in, "ScheduledActionName", 256);
  if (!name) return std::move(name).error();
  if (!valid_action_name(*name))
    return constraint("ScheduledActionName", in.at("ScheduledActionName"),
                      "Member must satisfy regular expression pattern: (?!((^[ ]+.*)|(.*([\\u0000-\\u001f]|[\\u007f-"
                      "\\u009f]|[:/|])+.*)|(.*[ ]+$))).+");
  auto schedule = opt_string(in, "Schedule");
  auto timezone = opt_string(in, "Timezone");
  auto start = opt_double(in, "StartTime");
  auto end = opt_double(in, "EndTime");
  auto action = opt_object(in, "ScalableTargetAction");
  if (!schedule) return std::move(schedule).error();
  if (!timezone) return std::move(timezone).error();
  if (!start) return std::move(start).error();
  if (!end) return std::move(end).error();
  if (!action) return std::move(action).error();
  if (*schedule)
    if (auto s = parse_schedule(**schedule); !s) return std::move(s).error();
  if (*timezone)
    if (auto z = TimeZone::load(**timezone, as.options().zoneinfo_dir); !z) return std::move(z).error();
  if (*start && *end && **end < **start)
    return validation("EndTime must be after StartTime");  // unverified wording
  json::object target_action;
  if (*action) {
    for (std::string_view m : {"MinCapacity", "MaxCapacity"}) {
      auto v = opt_int(**action, m);
      if (!v) return std::move(v).error();
      if (*v && **v < 0) return validation(std::string(m) + " must be greater than or equal to 0");  // unverified
      if (*v) target_action[m] = **v;
    }
    if (target_action.empty())  // observed
      return validation("At least one of minimum capacity and maximum capacity should be provided");
    if (target_action.contains("MinCapacity") && target_action.contains("MaxCapacity") &&
        target_action.at("MinCapacity").as_int64() > target_action.at("MaxCapacity").as_int64())
      return validation("Minimum capacity cannot be greater than maximum capacity");  // unverified wording
  }
  int64_t now = static_cast<int64_t>(std::floor(seconds_of(as.now())));
  return as.db().transaction([&](store::Tx& tx) -> Result<std::string> {
    auto target = find_target(tx, *id);
    if (!target) return std::move(target).error();
    if (!*target) return target_not_found(*id);
    auto existing = find_scheduled(tx, *id, *name);
    if (!existing) return std::move(existing).error();
    ScheduledRow row;
    if (*existing) {
      row = std::move(**existing);
    } else {
      if (!*schedule)  // unverified wording
        return validation("Schedule must be specified when creating a scheduled action");
      if (!*action)  // observed
        return validation("At least one of minimum capacity and maximum capacity should be provided");
      auto all = scheduled_of(tx, *id);
      if (!all) return std::move(all).error();
      if (all->size() >= kMaxScheduledPerTarget)  // unverified wording
        return Error::invalid("LimitExceededException",
                              "The maximum number of scheduled actions per scalable target (200) has been reached");
      row.doc = json::object{{"ScheduledActionName", *name},
                             {"ScheduledActionARN", "arn:aws:autoscaling:" + as.options().region + ":" +
                                                        as.options().account_id + ":scheduledAction:" + ids::uuid4() +
                                                        ":resource/ecs/" + *id + ":scheduledActionName/" + *name},
                             {"ServiceNamespace", kNamespace},
                             {"ResourceId", *id},
                             {"ScalableDimension", kDimension},
                             {"CreationTime", static_cast<double>(now)}};
    }
    if (*schedule) row.doc["Schedule"] = **schedule;
    if (*timezone) row.doc["Timezone"] = **timezone;
    if (*start) row.doc["StartTime"] = **start;
    if (*end) row.doc["EndTime"] = **end;
    if (*action) row.doc["ScalableTargetAction"] = target_action;
    auto next = next_run_of(as.options(), row.doc, now);
    if (!next) return std::move(next).error();
    row.next_run = *next;
    if (auto s = write_scheduled(tx, row); !s) return std::move(s).error();
    return std::string("{}");
  });
}

Result<std::string> describe_scheduled_actions(AutoScaling& as, const json::object& in) {
  if (auto s = check_namespace(in); !s) return std::move(s).error();
  if (auto s = check_optional_dimension(in); !s) return std::move(s).error();
  auto names = opt_strings(in, "ScheduledActionNames");
  if (!names) return std::move(names).error();
  auto id = opt_string(in, "ResourceId");
  if (!id) return std::move(id).error();
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  auto rows = as.db().read([&](store::Tx& tx) {
    return scheduled_of(tx, *id ? std::optional<std::string_view>(**id) : std::nullopt);
  });
  if (!rows) return std::move(rows).error();
  json::array items;
  for (auto& r : *rows) {
    std::string name(r.doc.at("ScheduledActionName").as_string());
    if (*names && std::find((*names)->begin(), (*names)->end(), name) == (*names)->end()) continue;
    items.push_back(std::move(r.doc));
  }
  json::object out;
  write_page(out, "ScheduledActions", std::move(items), *page);
  return body(out);
}

Result<std::string> delete_scheduled_action(AutoScaling& as, const json::object& in) {
  auto id = read_resource_id(in);
  if (!id) return std::move(id).error();
  auto name = req_string(in, "ScheduledActionName", 256);
  if (!name) return std::move(name).error();
  return as.db().transaction([&](store::Tx& tx) -> Result<std::string> {
    auto row = find_scheduled(tx, *id, *name);
    if (!row) return std::move(row).error();
    if (!*row) return scheduled_not_found(*id, *name);
    if (auto s = delete_scheduled(tx, (*row)->doc.at("ScheduledActionARN").as_string()); !s) return std::move(s).error();
    return std::string("{}");
  });
}

// The target's bounds after the action: a new minimum above the maximum
// lifts the maximum with it, and the reverse (unverified: AWS's handling).
void apply_bounds(json::object& target, const json::object& action) {
  if (auto it = action.find("MinCapacity"); it != action.end()) {
    target["MinCapacity"] = it->value();
    if (target.at("MaxCapacity").to_number<int64_t>() < it->value().to_number<int64_t>()) target["MaxCapacity"] = it->value();
  }
  if (auto it = action.find("MaxCapacity"); it != action.end()) {
    target["MaxCapacity"] = it->value();
    if (target.at("MinCapacity").to_number<int64_t>() > it->value().to_number<int64_t>()) target["MinCapacity"] = it->value();
  }
}

}  // namespace

void add_scheduled_operations(api::Service& service, const std::shared_ptr<AutoScaling>& as) {
  auto add = [&](std::string name, Result<std::string> (*fn)(AutoScaling&, const json::object&)) {
    service.add(std::move(name), [as, fn](const api::CallContext&, const api::OperationInput& in) {
      return fn(*as, *in.json);
    });
  };
  add("PutScheduledAction", put_scheduled_action);
  add("DescribeScheduledActions", describe_scheduled_actions);
  add("DeleteScheduledAction", delete_scheduled_action);
}

Status AutoScaling::run_due_scheduled_actions() {
  double now = seconds_of(this->now());
  auto due = db_.read([&](store::Tx& tx) { return due_scheduled(tx, now); });
  if (!due) return std::move(due).error();
  std::lock_guard lock(scaling_mutex_);
  for (const auto& action : *due) {
    std::string resource_id = text(action.doc, "ResourceId");
    std::string name = text(action.doc, "ScheduledActionName");
    auto applied = db_.transaction([&](store::Tx& tx) -> Result<bool> {
      auto row = find_scheduled(tx, resource_id, name);  // deleted or changed since?
      if (!row) return std::move(row).error();
      if (!*row || !(*row)->next_run || *(*row)->next_run > now) return false;
      auto next = next_run_of(options_, (*row)->doc, static_cast<int64_t>(std::floor(now)));
      (*row)->next_run = next ? *next : std::nullopt;
      if (auto s = write_scheduled(tx, **row); !s) return std::move(s).error();
      auto target = find_target(tx, resource_id);
      if (!target) return std::move(target).error();
      if (!*target) return false;
      auto suspended = (*target)->doc.find("SuspendedState");
      if (suspended != (*target)->doc.end() && suspended->value().is_object()) {
        auto s = suspended->value().as_object().find("ScheduledScalingSuspended");
        if (s != suspended->value().as_object().end() && s->value().is_bool() && s->value().as_bool()) return false;
      }
      auto act = (*row)->doc.find("ScalableTargetAction");
      if (act == (*row)->doc.end() || !act->value().is_object()) return false;
      apply_bounds((*target)->doc, act->value().as_object());
      if (auto s = write_target(tx, **target); !s) return std::move(s).error();
      return true;
    });
    if (!applied) {
      log::warn("autoscaling", "scheduled action ", name, ": ", applied.error().message);
      continue;
    }
    if (*applied)
      if (auto s = bring_into_bounds(*this, resource_id); !s)
        log::warn("autoscaling", "scheduled action ", name, ": ", s.error().message);
  }
  return Ok{};
}

Result<std::optional<WallTime>> AutoScaling::next_scheduled_run() {
  return db_.read([](store::Tx& tx) -> Result<std::optional<WallTime>> {
    auto stmt = tx.prepare("SELECT MIN(next_run) FROM autoscaling_scheduled_actions");
    if (!stmt) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    auto t = stmt->column_double_opt(0);
    if (!t) return std::optional<WallTime>();
    return std::optional<WallTime>(WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(*t))));
  });
}

}  // namespace berth::autoscaling
