// elb/health/health_state: the health state machine of one target in one
// target group (§3.3), pure and clock-free so it is tested step by step.
//
//   initial (Elb.RegistrationInProgress) ──first probe──> initial (Elb.InitialHealthChecking)
//      │ healthy_threshold passes in a row          │ unhealthy_threshold failures in a row
//      v                                            v
//   healthy <──healthy_threshold passes── unhealthy (Target.ResponseCodeMismatch | Target.Timeout |
//      └──────unhealthy_threshold failures──────>     Target.FailedHealthChecks)
#pragma once

#include <string>

#include "elb/dataplane/routing.h"

namespace berth::elb {

enum class ProbeOutcome { kPass, kCodeMismatch, kTimeout, kFailed };

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::kFailed;
  unsigned status = 0;  // the HTTP status, for kCodeMismatch
};

class HealthState {
 public:
  HealthState(int healthy_threshold, int unhealthy_threshold)
      : healthy_threshold_(healthy_threshold), unhealthy_threshold_(unhealthy_threshold) {}

  // The first probe has started.
  void checking();
  // Records a probe; true when state, reason or description changed.
  bool record(const ProbeResult& result);
  // Thresholds changed by ModifyTargetGroup; counts are kept.
  void set_thresholds(int healthy, int unhealthy) {
    healthy_threshold_ = healthy;
    unhealthy_threshold_ = unhealthy;
  }

  dp::Health health() const { return health_; }
  const std::string& state() const { return state_; }
  const std::string& reason() const { return reason_; }
  const std::string& description() const { return description_; }

 private:
  int healthy_threshold_;
  int unhealthy_threshold_;
  int passes_ = 0;
  int failures_ = 0;
  dp::Health health_ = dp::Health::kInitial;
  std::string state_ = "initial";
  std::string reason_ = "Elb.RegistrationInProgress";
  std::string description_ = "Target registration is in progress";
};

// "200", "200,202", "200-299".
bool matcher_accepts(std::string_view matcher, unsigned status);

}  // namespace berth::elb
