// autoscaling/daemon_wiring: Application Auto Scaling as `berth serve` runs
// it: ECS's store functions as its EcsPort, an AlarmPort given by the
// caller (CloudWatch's, once that module is wired), and a thread that runs
// scheduled actions when due. Kept apart so berth_autoscaling links no ecs.
//
//   cli/services.cpp ──start(db, clock, options, alarm port)──> AutoScalingDaemon
//        ├── service()            the API for the front door
//        ├── autoscaling()        on_alarm_action() for CloudWatch's alarm actions
//        └── scheduler thread     run_due_scheduled_actions() every second
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "autoscaling/autoscaling.h"

namespace berth::autoscaling {

// The EcsPort over ecs::read_service_capacity and ecs::set_service_desired_count.
class StoreEcsPort final : public EcsPort {
 public:
  StoreEcsPort(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<ServiceCapacity> read_service(const std::string& cluster, const std::string& service) override;
  Status set_desired_count(const std::string& cluster, const std::string& service, int64_t count) override;

 private:
  store::Database& db_;
  const Clock& clock_;
};

// Until CloudWatch is wired: target tracking policies cannot get their
// alarms, and PutScalingPolicy says so (FailedResourceAccessException).
class UnavailableAlarmPort final : public AlarmPort {
 public:
  Status put_alarm(const TrackingAlarm&) override { return Error::unavailable("CloudWatch is not available"); }
  Status delete_alarms(const std::vector<std::string>&) override { return Ok{}; }
};

class AutoScalingDaemon {
 public:
  static Result<std::unique_ptr<AutoScalingDaemon>> start(store::Database& db, const Clock& clock,
                                                          AutoScalingOptions options, std::unique_ptr<AlarmPort> alarms);
  ~AutoScalingDaemon();
  api::Service service() { return autoscaling_->service(); }
  AutoScaling& autoscaling() { return *autoscaling_; }
  // Stops the scheduler thread; idempotent.
  void stop();

 private:
  AutoScalingDaemon() = default;
  void run();

  std::unique_ptr<AlarmPort> alarms_;
  std::unique_ptr<StoreEcsPort> ecs_;
  std::shared_ptr<AutoScaling> autoscaling_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::autoscaling
