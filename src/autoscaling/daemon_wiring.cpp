#include "autoscaling/daemon_wiring.h"

#include "core/log.h"
#include "ecs/services.h"

namespace berth::autoscaling {

Result<ServiceCapacity> StoreEcsPort::read_service(const std::string& cluster, const std::string& service) {
  auto c = ecs::read_service_capacity(db_, cluster, service);
  if (!c) return std::move(c).error();
  return ServiceCapacity{c->desired_count, c->running_count, c->status};
}

Status StoreEcsPort::set_desired_count(const std::string& cluster, const std::string& service, int64_t count) {
  return ecs::set_service_desired_count(db_, cluster, service, count, clock_.now());
}

Result<std::unique_ptr<AutoScalingDaemon>> AutoScalingDaemon::start(store::Database& db, const Clock& clock,
                                                                     AutoScalingOptions options,
                                                                     std::unique_ptr<AlarmPort> alarms) {
  std::unique_ptr<AutoScalingDaemon> d(new AutoScalingDaemon());
  d->alarms_ = alarms ? std::move(alarms) : std::make_unique<UnavailableAlarmPort>();
  d->ecs_ = std::make_unique<StoreEcsPort>(db, clock);
  options.clock = &clock;
  auto opened = AutoScaling::open(db, std::move(options), *d->alarms_, *d->ecs_);
  if (!opened) return std::move(opened).error();
  d->autoscaling_ = std::move(*opened);
  d->thread_ = std::thread([raw = d.get()] { raw->run(); });
  return d;
}

AutoScalingDaemon::~AutoScalingDaemon() { stop(); }

void AutoScalingDaemon::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AutoScalingDaemon::run() {
  // Scheduled actions have whole-second times; a one-second pass is on time.
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {  // a pass that throws must not end the thread (and the daemon)
      if (auto s = autoscaling_->run_due_scheduled_actions(); !s)
        log::warn("autoscaling", "scheduled actions: ", s.error().message);
    } catch (const std::exception& e) {
      log::error("autoscaling", "scheduled actions: ", e.what());
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
  }
}

}  // namespace berth::autoscaling
