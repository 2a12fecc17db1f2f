#include "elb/health/health_state.h"

#include <charconv>

namespace berth::elb {

void HealthState::checking() {
  if (health_ == dp::Health::kInitial) {
    reason_ = "Elb.InitialHealthChecking";
    description_ = "Initial health checks in progress";
  }
}

bool HealthState::record(const ProbeResult& result) {
  std::string before = state_ + reason_ + description_;
  if (result.outcome == ProbeOutcome::kPass) {
    ++passes_;
    failures_ = 0;
    if (health_ != dp::Health::kHealthy && passes_ >= healthy_threshold_) {
      health_ = dp::Health::kHealthy;
      state_ = "healthy";
      reason_.clear();
      description_.clear();
    }
  } else {
    ++failures_;
    passes_ = 0;
    if (health_ != dp::Health::kUnhealthy && failures_ >= unhealthy_threshold_) {
      health_ = dp::Health::kUnhealthy;
      state_ = "unhealthy";
    }
    if (health_ == dp::Health::kUnhealthy) {
      switch (result.outcome) {
        case ProbeOutcome::kCodeMismatch:
          reason_ = "Target.ResponseCodeMismatch";
          description_ = "Health checks failed with these codes: [" + std::to_string(result.status) + "]";
          break;
        case ProbeOutcome::kTimeout:
          reason_ = "Target.Timeout";
          description_ = "Request timed out";
          break;
        default:
          reason_ = "Target.FailedHealthChecks";
          description_ = "Health checks failed";
          break;
      }
    } else if (health_ == dp::Health::kInitial) {
      reason_ = "Elb.InitialHealthChecking";
      description_ = "Initial health checks in progress";
    }
  }
  return before != state_ + reason_ + description_;
}

bool matcher_accepts(std::string_view matcher, unsigned status) {
  auto number = [](std::string_view s, unsigned& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  while (!matcher.empty()) {
    auto comma = matcher.find(',');
    auto piece = matcher.substr(0, comma);
    matcher = comma == std::string_view::npos ? std::string_view() : matcher.substr(comma + 1);
    auto dash = piece.find('-');
    unsigned lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (number(piece, lo) && status == lo) return true;
    } else if (number(piece.substr(0, dash), lo) && number(piece.substr(dash + 1), hi) && status >= lo && status <= hi) {
      return true;
    }
  }
  return false;
}

}  // namespace berth::elb
