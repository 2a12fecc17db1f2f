// autoscaling: Application Auto Scaling (JSON 1.1, AnyScaleFrontendService,
// signing name application-autoscaling) for ECS services: scalable targets,
// target tracking and step scaling policies, scheduled actions, scaling
// activities, tags. berth scales one namespace and dimension: ecs,
// ecs:service:DesiredCount, ResourceId "service/<cluster>/<service>".
//
//   aws application-autoscaling ... ──front door──> operations.cpp ──Tx──> "autoscaling_*" tables
//        PutScalingPolicy (target tracking) ──AlarmPort──> CloudWatch alarms it owns
//   CloudWatch alarm in ALARM ──on_alarm_action──> scaling.cpp: policy arithmetic (capacity.h),
//        cooldowns, suspended states ──EcsPort::set_desired_count──> ECS; an activity
//   timer (daemon) ──run_due_scheduled_actions──> min/max of the target, desired count into bounds
//
// Cooldowns are AWS's seconds divided by time_scale (CloudWatch divides its
// alarm periods likewise), so tests can watch a scale out and in quickly.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/service.h"
#include "autoscaling/ports.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace berth::autoscaling {

struct AutoScalingOptions {
  std::string region = "us-east-1";
  std::string account_id;  // 12 digits
  const Clock* clock = nullptr;  // the system clock when null
  double time_scale = 1;  // > 0; cooldowns are divided by it
  std::string zoneinfo_dir = "/usr/share/zoneinfo";
};

class AutoScaling {
 public:
  // Applies the "autoscaling" migrations. db and the ports must outlive it.
  static Result<std::shared_ptr<AutoScaling>> open(store::Database& db, AutoScalingOptions options, AlarmPort& alarms,
                                                   EcsPort& ecs);

  // The operations; they hold a shared_ptr to this.
  api::Service service();

  // CloudWatch's callback for alarm actions naming one of our policy ARNs.
  // Unknown ARNs and OK states are ignored (Ok); a failure to read or write
  // the store, or ECS refusing the count, is returned (the caller logs it).
  // Any thread may call it, but not from inside a store transaction or
  // change-feed callback of the same Database (it reads and writes the store).
  Status on_alarm_action(const AlarmActionEvent& event);

  // Runs every scheduled action due at the clock's now.
  Status run_due_scheduled_actions();
  // When the next scheduled action is due, if any.
  Result<std::optional<WallTime>> next_scheduled_run();

  const AutoScalingOptions& options() const { return options_; }
  store::Database& db() { return db_; }
  AlarmPort& alarms() { return alarms_; }
  EcsPort& ecs() { return ecs_; }
  WallTime now() const { return options_.clock->now(); }
  // Serialises decisions that read the desired count and then set it.
  std::mutex& scaling_mutex() { return scaling_mutex_; }

 private:
  AutoScaling(store::Database& db, AutoScalingOptions options, AlarmPort& alarms, EcsPort& ecs)
      : db_(db), options_(std::move(options)), alarms_(alarms), ecs_(ecs) {}

  store::Database& db_;
  AutoScalingOptions options_;
  AlarmPort& alarms_;
  EcsPort& ecs_;
  std::mutex scaling_mutex_;
  std::weak_ptr<AutoScaling> self_;
};

}  // namespace berth::autoscaling
