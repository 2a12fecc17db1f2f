#include "elb/health/health_state.h"

#include <gtest/gtest.h>

namespace berth::elb {
namespace {

ProbeResult pass() { return {ProbeOutcome::kPass, 200}; }

TEST(HealthState, InitialToHealthyAfterThreshold) {
  HealthState h(3, 2);
  EXPECT_EQ(h.state(), "initial");
  EXPECT_EQ(h.reason(), "Elb.RegistrationInProgress");
  h.checking();
  EXPECT_EQ(h.reason(), "Elb.InitialHealthChecking");
  EXPECT_EQ(h.description(), "Initial health checks in progress");
  EXPECT_FALSE(h.record(pass()));
  EXPECT_FALSE(h.record(pass()));
  EXPECT_EQ(h.health(), dp::Health::kInitial);
  EXPECT_TRUE(h.record(pass()));
  EXPECT_EQ(h.state(), "healthy");
  EXPECT_EQ(h.reason(), "");
  EXPECT_EQ(h.health(), dp::Health::kHealthy);
}

TEST(HealthState, UnhealthyReasons) {
  HealthState h(2, 2);
  h.checking();
  h.record(pass());
  h.record(pass());
  ASSERT_EQ(h.state(), "healthy");
  EXPECT_FALSE(h.record({ProbeOutcome::kCodeMismatch, 500}));  // one failure is below the threshold
  EXPECT_EQ(h.state(), "healthy");
  EXPECT_TRUE(h.record({ProbeOutcome::kCodeMismatch, 500}));
  EXPECT_EQ(h.state(), "unhealthy");
  EXPECT_EQ(h.reason(), "Target.ResponseCodeMismatch");
  EXPECT_EQ(h.description(), "Health checks failed with these codes: [500]");
  EXPECT_TRUE(h.record({ProbeOutcome::kTimeout, 0}));
  EXPECT_EQ(h.reason(), "Target.Timeout");
  EXPECT_EQ(h.description(), "Request timed out");
  EXPECT_TRUE(h.record({ProbeOutcome::kFailed, 0}));
  EXPECT_EQ(h.reason(), "Target.FailedHealthChecks");
  EXPECT_EQ(h.description(), "Health checks failed");
  // A pass in between resets the failure streak; two passes heal.
  EXPECT_FALSE(h.record(pass()));
  EXPECT_EQ(h.state(), "unhealthy");
  EXPECT_TRUE(h.record(pass()));
  EXPECT_EQ(h.state(), "healthy");
}

TEST(HealthState, InitialCanTurnUnhealthy) {
  HealthState h(5, 2);
  h.checking();
  h.record({ProbeOutcome::kFailed, 0});
  EXPECT_EQ(h.state(), "initial");
  h.record({ProbeOutcome::kFailed, 0});
  EXPECT_EQ(h.state(), "unhealthy");
  EXPECT_EQ(h.health(), dp::Health::kUnhealthy);
}

TEST(Matcher, ListsAndRanges) {
  EXPECT_TRUE(matcher_accepts("200", 200));
  EXPECT_FALSE(matcher_accepts("200", 204));
  EXPECT_TRUE(matcher_accepts("200,202", 202));
  EXPECT_TRUE(matcher_accepts("200-299", 250));
  EXPECT_FALSE(matcher_accepts("200-299", 301));
  EXPECT_TRUE(matcher_accepts("200,300-310", 305));
}

}  // namespace
}  // namespace berth::elb
