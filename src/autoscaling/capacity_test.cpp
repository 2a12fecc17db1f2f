// The arithmetic of scaling decisions: target tracking, steps, percent
// changes with MinAdjustmentMagnitude, exact capacity, bounds.
#include "autoscaling/capacity.h"

#include <gtest/gtest.h>

namespace berth::autoscaling {
namespace {

TEST(TrackingCapacity, ScalesOutInProportionRoundingUp) {
  // 2 tasks at 90% CPU with a 50% target need 3.6 -> 4 tasks.
  EXPECT_EQ(tracking_capacity(2, 90, 50), 4);
  EXPECT_EQ(tracking_capacity(4, 75, 50), 6);
  EXPECT_EQ(tracking_capacity(3, 51, 50), 4) << "any excess over the target adds a task";
}

TEST(TrackingCapacity, ScalesInConservatively) {
  // 10 tasks at 20% with a 50% target could carry the load with 4.
  EXPECT_EQ(tracking_capacity(10, 20, 50), 4);
  // 10 at 44%: 8.8 -> 9, never fewer than the load needs.
  EXPECT_EQ(tracking_capacity(10, 44, 50), 9);
  EXPECT_EQ(tracking_capacity(4, 50, 50), 4) << "at the target nothing changes";
}

TEST(TrackingCapacity, FromZeroTasksStartsFromOne) { EXPECT_EQ(tracking_capacity(0, 100, 50), 2); }

TEST(StepFor, PicksTheIntervalHoldingTheBreach) {
  std::vector<Step> steps{{0.0, 10.0, 1}, {10.0, 20.0, 2}, {20.0, std::nullopt, 3}};
  EXPECT_EQ(step_for(steps, 0)->adjustment, 1) << "lower bounds are inclusive";
  EXPECT_EQ(step_for(steps, 9.99)->adjustment, 1);
  EXPECT_EQ(step_for(steps, 10)->adjustment, 2) << "upper bounds are exclusive";
  EXPECT_EQ(step_for(steps, 1000)->adjustment, 3) << "a null upper bound is infinity";
  EXPECT_FALSE(step_for(steps, -1).has_value()) << "no step covers a breach below the first lower bound";
}

TEST(StepFor, NullLowerBoundIsMinusInfinity) {
  std::vector<Step> steps{{std::nullopt, -10.0, -2}, {-10.0, 0.0, -1}};
  EXPECT_EQ(step_for(steps, -50)->adjustment, -2);
  EXPECT_EQ(step_for(steps, -5)->adjustment, -1);
}

TEST(StepCapacity, ChangeInCapacityAdds) {
  EXPECT_EQ(step_capacity(3, AdjustmentType::kChangeInCapacity, 2, 0), 5);
  EXPECT_EQ(step_capacity(3, AdjustmentType::kChangeInCapacity, -1, 0), 2);
}

TEST(StepCapacity, ExactCapacitySets) { EXPECT_EQ(step_capacity(3, AdjustmentType::kExactCapacity, 7, 0), 7); }

TEST(StepCapacity, PercentRoundsAsAwsDoes) {
  // 10 tasks +25% = 2.5 -> 2 (above 1 rounds down).
  EXPECT_EQ(step_capacity(10, AdjustmentType::kPercentChangeInCapacity, 25, 0), 12);
  // 2 tasks +20% = 0.4 -> 1 (between 0 and 1 rounds to 1).
  EXPECT_EQ(step_capacity(2, AdjustmentType::kPercentChangeInCapacity, 20, 0), 3);
  // 3 tasks -10% = -0.3 -> -1.
  EXPECT_EQ(step_capacity(3, AdjustmentType::kPercentChangeInCapacity, -10, 0), 2);
  // 20 tasks -33% = -6.6 -> -6 (below -1 rounds up).
  EXPECT_EQ(step_capacity(20, AdjustmentType::kPercentChangeInCapacity, -33, 0), 14);
}

TEST(StepCapacity, MinAdjustmentMagnitudeRaisesSmallPercentChanges) {
  // 4 tasks +10% = 0.4 -> 1, raised to at least 2.
  EXPECT_EQ(step_capacity(4, AdjustmentType::kPercentChangeInCapacity, 10, 2), 6);
  EXPECT_EQ(step_capacity(4, AdjustmentType::kPercentChangeInCapacity, -10, 2), 2);
  // A change already larger is kept: 20 * 50% = 10.
  EXPECT_EQ(step_capacity(20, AdjustmentType::kPercentChangeInCapacity, 50, 2), 30);
}

TEST(ClampCapacity, KeepsWithinMinAndMax) {
  EXPECT_EQ(clamp_capacity(12, 1, 10), 10);
  EXPECT_EQ(clamp_capacity(0, 1, 10), 1);
  EXPECT_EQ(clamp_capacity(5, 1, 10), 5);
}

TEST(Aggregate, FollowsMetricAggregationType) {
  std::vector<double> d{10, 40, 70};
  EXPECT_DOUBLE_EQ(aggregate(d, "Average"), 40);
  EXPECT_DOUBLE_EQ(aggregate(d, ""), 40) << "Average is the default";
  EXPECT_DOUBLE_EQ(aggregate(d, "Minimum"), 10);
  EXPECT_DOUBLE_EQ(aggregate(d, "Maximum"), 70);
}

}  // namespace
}  // namespace berth::autoscaling
