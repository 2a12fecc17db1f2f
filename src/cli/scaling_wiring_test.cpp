// Target tracking alarms as CloudWatch keeps them, and an alarm in ALARM
// reaching Application Auto Scaling, through the real CloudWatch.
#include "cli/scaling_wiring.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

autoscaling::TrackingAlarm high_alarm() {
  autoscaling::TrackingAlarm a;
  a.name = "TargetTracking-service/prod/web-AlarmHigh-1f8b1c3e";
  a.description = "DO NOT EDIT OR DELETE.";
  a.namespace_ = "AWS/ECS";
  a.metric_name = "CPUUtilization";
  a.dimensions = {{"ClusterName", "prod"}, {"ServiceName", "web"}};
  a.statistic = "Average";
  a.threshold = 75;
  a.comparison_operator = "GreaterThanThreshold";
  a.alarm_actions = {"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:abc:resource/ecs/service/prod/web:"
                     "policyName/cpu"};
  return a;
}

TEST(ScalingWiring, ATrackingAlarmKeepsAwsParameters) {
  auto def = alarm_definition(high_alarm());
  EXPECT_EQ(def.name, "TargetTracking-service/prod/web-AlarmHigh-1f8b1c3e");
  EXPECT_EQ(def.period, 60);
  EXPECT_EQ(def.evaluation_periods, 3);
  EXPECT_EQ(def.datapoints_to_alarm, 3);
  EXPECT_EQ(def.threshold, 75);
  ASSERT_EQ(def.dimensions.size(), 2u);
  EXPECT_EQ(def.dimensions[1].value, "web");
  EXPECT_EQ(def.alarm_actions, high_alarm().alarm_actions);

  autoscaling::TrackingAlarm math = high_alarm();
  autoscaling::AlarmMetricQuery queue;
  queue.id = "m1";
  queue.namespace_ = "App";
  queue.metric_name = "Queue";
  queue.stat = "Sum";
  queue.return_data = false;
  autoscaling::AlarmMetricQuery half;
  half.id = "e1";
  half.expression = "m1 / 2";
  math.metrics = {queue, half};
  auto m = alarm_definition(math);
  ASSERT_EQ(m.metrics.size(), 2u);
  ASSERT_TRUE(m.metrics[0].metric_stat.has_value());
  EXPECT_EQ(m.metrics[0].metric_stat->period, 60) << "each metric of a math alarm carries the period";
  EXPECT_EQ(m.metrics[1].expression, "m1 / 2");
  EXPECT_TRUE(m.metric_name.empty());
}

TEST(ScalingWiring, TheAlarmPortPutsAndDeletesInCloudWatch) {
  auto db = store::Database::open(":memory:");
  ASSERT_TRUE(db.ok()) << db.error().message;
  cloudwatch::CloudWatchOptions options;
  options.run_evaluator = false;
  auto cw = cloudwatch::CloudWatch::open(*db, options);
  ASSERT_TRUE(cw.ok()) << cw.error().message;
  auto port = cloudwatch_alarm_port(*cw);
  auto put = port->put_alarm(high_alarm());
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_TRUE((*cw)->alarm(high_alarm().name).has_value());
  auto deleted = port->delete_alarms({high_alarm().name, "TargetTracking-already-gone"});
  EXPECT_TRUE(deleted.ok()) << "unknown names are ignored: " << deleted.error().message;
  EXPECT_FALSE((*cw)->alarm(high_alarm().name).has_value());
  (*cw)->stop();
}

}  // namespace
}  // namespace berth::cli
