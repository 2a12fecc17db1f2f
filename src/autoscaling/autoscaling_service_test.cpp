// Application Auto Scaling's API and scaling behaviour against the real ECS
// store (StoreEcsPort over ecs::set_service_desired_count) with a manual
// clock. CloudWatch, another module, is played by a fake AlarmPort that
// records the alarms and lets the test fire their actions.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>
#include <optional>

#include "api/json_input.h"
#include "autoscaling/daemon_wiring.h"
#include "ec2/ec2_service.h"
#include "ecs/ecs.h"
#include "core/testing/expect_ok.h"

namespace berth::autoscaling {
namespace {

namespace json = boost::json;

constexpr std::string_view kTarget =
    R"("ServiceNamespace":"ecs","ResourceId":"service/web/svc","ScalableDimension":"ecs:service:DesiredCount")";

class FakeAlarms final : public AlarmPort {
 public:
  Status put_alarm(const TrackingAlarm& alarm) override {
    if (fail) return Error::unavailable("CloudWatch is not available");
    alarms[alarm.name] = alarm;
    return Ok{};
  }
  Status delete_alarms(const std::vector<std::string>& names) override {
    for (const auto& n : names) {
      alarms.erase(n);
      deleted.push_back(n);
    }
    return Ok{};
  }
  std::map<std::string, TrackingAlarm> alarms;
  std::vector<std::string> deleted;
  bool fail = false;
};

class AutoScalingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(":memory:");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    ec2::Ec2Options ec2_options;
    ec2_options.account_id = "123456789012";
    auto ec2 = ec2::make_ec2_service(*db_, ec2_options);
    ASSERT_TRUE(ec2.ok()) << ec2.error().message;
    auto ecs = ecs::make_ecs_service(*db_, ecs::Options{"us-east-1", "123456789012"});
    ASSERT_TRUE(ecs.ok()) << ecs.error().message;
    ecs_ = std::move(*ecs);
    ecs_port_.emplace(*db_, clock_);
    AutoScalingOptions options{"us-east-1", "123456789012", &clock_, 10};
    auto as = AutoScaling::open(*db_, options, alarms_, *ecs_port_);
    ASSERT_TRUE(as.ok()) << as.error().message;
    as_ = *as;
    service_ = as_->service();
    run(ecs_, "CreateCluster", R"({"clusterName":"web"})");
    run(ecs_, "RegisterTaskDefinition", R"({"family":"outyet","containerDefinitions":[{"name":"outyet",
        "image":"outyet-image","memory":300,"cpu":256}]})");
    run(ecs_, "CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":1})");
  }

  Result<std::string> call(api::Service& service, std::string_view op, std::string_view body) {
    auto it = service.operations.find(op);
    if (it == service.operations.end()) return Error::internal("no operation " + std::string(op));
    auto parsed = api::parse_json_body(body);
    if (!parsed) return std::move(parsed).error();
    api::OperationInput in;
    in.json = &*parsed;
    api::CallContext ctx{"req-1", op, "us-east-1", "127.0.0.1:4566", caller_, clock_.now()};
    return it->second.run(ctx, in);
  }
  json::object run(api::Service& service, std::string_view op, std::string_view body) {
    auto r = call(service, op, body);
    if (!r.ok()) {
      ADD_FAILURE() << op << " failed: " << r.error().code << ": " << r.error().message;
      return {};
    }
    return json::parse(*r).as_object();
  }
  json::object ok(std::string_view op, const std::string& body) { return run(service_, op, body); }
  std::string fails(std::string_view op, const std::string& body) {
    auto r = call(service_, op, body);
    if (r.ok()) {
      ADD_FAILURE() << op << " succeeded: " << *r;
      return "";
    }
    return r.error().code + ": " + r.error().message;
  }
  std::string with_target(const std::string& rest) { return "{" + std::string(kTarget) + (rest.empty() ? "" : ",") + rest + "}"; }

  int64_t desired_count() {
    auto d = run(ecs_, "DescribeServices", R"({"cluster":"web","services":["svc"]})");
    return d.at("services").as_array().at(0).at("desiredCount").as_int64();
  }
  void register_target(int min, int max) {
    ok("RegisterScalableTarget", with_target("\"MinCapacity\":" + std::to_string(min) + ",\"MaxCapacity\":" +
                                             std::to_string(max)));
  }
  json::array activities(bool include_not_scaled = false) {
    auto a = ok("DescribeScalingActivities", std::string(R"({"ServiceNamespace":"ecs","IncludeNotScaledActivities":)") +
                                                 (include_not_scaled ? "true" : "false") + "}");
    return a.at("ScalingActivities").as_array();
  }
  // Fires the alarm's action as CloudWatch does while it is in ALARM.
  void fire(const std::string& policy_arn, const std::string& alarm_name, std::vector<double> datapoints,
            double threshold) {
    AlarmActionEvent e{policy_arn, alarm_name, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + alarm_name,
                       "ALARM", std::move(datapoints), threshold, "GreaterThanThreshold", clock_.now()};
    auto s = as_->on_alarm_action(e);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  std::string put_step_policy(const std::string& name, const std::string& config) {
    auto r = ok("PutScalingPolicy", with_target("\"PolicyName\":\"" + name +
                                                "\",\"PolicyType\":\"StepScaling\",\"StepScalingPolicyConfiguration\":" +
                                                config));
    return r.empty() ? "" : std::string(r.at("PolicyARN").as_string());
  }

  ManualClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  std::optional<store::Database> db_;
  api::Service ecs_;
  api::Service service_;
  FakeAlarms alarms_;
  std::optional<StoreEcsPort> ecs_port_;
  std::shared_ptr<AutoScaling> as_;
  api::Caller caller_{"123456789012", "administrator", "AIDAEXAMPLE", "arn:aws:iam::123456789012:user/administrator",
                      "AKIAEXAMPLE"};
};

TEST_F(AutoScalingTest, RegisterScalableTargetAnswersAwsShapes) {
  auto r = ok("RegisterScalableTarget", with_target(R"("MinCapacity":1,"MaxCapacity":4)"));
  std::string arn(r.at("ScalableTargetARN").as_string());
  EXPECT_EQ(arn.rfind("arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/", 0), 0u) << arn;
  auto d = ok("DescribeScalableTargets", R"({"ServiceNamespace":"ecs"})");
  ASSERT_EQ(d.at("ScalableTargets").as_array().size(), 1u);
  const auto& t = d.at("ScalableTargets").as_array()[0].as_object();
  EXPECT_EQ(t.at("ResourceId").as_string(), "service/web/svc");
  EXPECT_EQ(t.at("ScalableDimension").as_string(), "ecs:service:DesiredCount");
  EXPECT_EQ(t.at("MinCapacity").as_int64(), 1);
  EXPECT_EQ(t.at("MaxCapacity").as_int64(), 4);
  EXPECT_EQ(t.at("ScalableTargetARN").as_string(), arn);
  EXPECT_EQ(t.at("RoleARN").as_string(),
            "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_ECSService");
  EXPECT_FALSE(t.at("SuspendedState").at("DynamicScalingInSuspended").as_bool());
  EXPECT_TRUE(t.at("CreationTime").is_number());

  // A second registration updates min/max and the suspended state, keeping the target.
  auto again = ok("RegisterScalableTarget",
                  with_target(R"("MaxCapacity":6,"SuspendedState":{"DynamicScalingOutSuspended":true})"));
  EXPECT_EQ(again.at("ScalableTargetARN").as_string(), arn);
  d = ok("DescribeScalableTargets", R"({"ServiceNamespace":"ecs","ResourceIds":["service/web/svc"]})");
  const auto& u = d.at("ScalableTargets").as_array()[0].as_object();
  EXPECT_EQ(u.at("MinCapacity").as_int64(), 1);
  EXPECT_EQ(u.at("MaxCapacity").as_int64(), 6);
  EXPECT_TRUE(u.at("SuspendedState").at("DynamicScalingOutSuspended").as_bool());
  EXPECT_FALSE(u.at("SuspendedState").at("ScheduledScalingSuspended").as_bool());
}

TEST_F(AutoScalingTest, RegisterScalableTargetRefusesWhatAwsRefuses) {
  EXPECT_EQ(fails("RegisterScalableTarget", R"({"ServiceNamespace":"ecs","ResourceId":"service/web/nope",
                  "ScalableDimension":"ecs:service:DesiredCount","MinCapacity":1,"MaxCapacity":2})"),
            "ValidationException: ECS service doesn't exist: service/web/nope");
  EXPECT_EQ(fails("RegisterScalableTarget", R"({"ServiceNamespace":"ecs","ResourceId":"service/other/svc",
                  "ScalableDimension":"ecs:service:DesiredCount","MinCapacity":1,"MaxCapacity":2})"),
            "ValidationException: ECS service doesn't exist: service/other/svc");
  std::string dynamo = fails("RegisterScalableTarget", R"({"ServiceNamespace":"dynamodb","ResourceId":"table/t",
                             "ScalableDimension":"dynamodb:table:ReadCapacityUnits","MinCapacity":1,"MaxCapacity":2})");
  EXPECT_EQ(dynamo.rfind("ValidationException: ", 0), 0u) << dynamo;
  EXPECT_NE(dynamo.find("berth scales only ECS services"), std::string::npos) << dynamo;
  std::string bogus = fails("RegisterScalableTarget", R"({"ServiceNamespace":"bogus","ResourceId":"x",
                            "ScalableDimension":"ecs:service:DesiredCount"})");
  EXPECT_NE(bogus.find("Member must satisfy enum value set"), std::string::npos) << bogus;
  EXPECT_EQ(fails("RegisterScalableTarget", R"({"ServiceNamespace":"ecs","ResourceId":"web/svc",
                  "ScalableDimension":"ecs:service:DesiredCount","MinCapacity":1,"MaxCapacity":2})")
                .rfind("ValidationException", 0),
            0u);
  EXPECT_EQ(fails("RegisterScalableTarget", with_target(R"("MinCapacity":5,"MaxCapacity":2)")).rfind("ValidationException", 0),
            0u);
  EXPECT_EQ(fails("RegisterScalableTarget", with_target(R"("MinCapacity":1)")).rfind("ValidationException", 0), 0u)
      << "a new target needs both bounds";
  EXPECT_EQ(ok("DescribeScalableTargets", R"({"ServiceNamespace":"ecs"})").at("ScalableTargets").as_array().size(), 0u)
      << "nothing was half-written";
}

TEST_F(AutoScalingTest, ANewMinimumAboveTheDesiredCountScalesOut) {
  register_target(3, 6);
  EXPECT_EQ(desired_count(), 3);
  auto a = activities();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].at("Description").as_string(), "Setting desired count to 3.");
  EXPECT_EQ(a[0].at("Cause").as_string(), "minimum capacity was set to 3");
  EXPECT_EQ(a[0].at("StatusCode").as_string(), "Successful");
  EXPECT_EQ(a[0].at("StatusMessage").as_string(), "Successfully set desired count to 3. Change successfully fulfilled by ecs.");
  register_target(1, 2);
  EXPECT_EQ(desired_count(), 2) << "a maximum below the desired count scales in";
}

TEST_F(AutoScalingTest, StepScalingAppliesTheStepForTheBreachAndRespectsTheCooldown) {
  register_target(1, 10);
  std::string arn = put_step_policy("cpu-step", R"({"AdjustmentType":"ChangeInCapacity","Cooldown":60,
      "StepAdjustments":[{"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":20,"ScalingAdjustment":1},
                         {"MetricIntervalLowerBound":20,"ScalingAdjustment":3}]})");
  EXPECT_EQ(arn.rfind("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:", 0), 0u) << arn;
  EXPECT_NE(arn.find(":resource/ecs/service/web/svc:policyName/cpu-step"), std::string::npos) << arn;

  fire(arn, "cpu-high", {95, 92, 91}, 70);  // average breach 22.67: the second step
  EXPECT_EQ(desired_count(), 4);
  auto a = activities();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].at("Cause").as_string(), "monitor alarm cpu-high in state ALARM triggered policy cpu-step");
  EXPECT_EQ(a[0].at("Description").as_string(), "Setting desired count to 4.");

  fire(arn, "cpu-high", {80}, 70);
  EXPECT_EQ(desired_count(), 4) << "60 s cooldown / time scale 10 = 6 s not yet passed";
  clock_.advance(std::chrono::seconds(7));
  fire(arn, "cpu-high", {80}, 70);
  EXPECT_EQ(desired_count(), 5) << "after the cooldown the first step adds 1";
  fire(arn, "cpu-high", {60}, 70);
  EXPECT_EQ(desired_count(), 5) << "no step covers a negative breach";
}

TEST_F(AutoScalingTest, StepScalingPercentAndExactCapacity) {
  register_target(1, 100);
  run(ecs_, "UpdateService", R"({"cluster":"web","service":"svc","desiredCount":10})");
  std::string pct = put_step_policy("pct", R"({"AdjustmentType":"PercentChangeInCapacity","Cooldown":0,
      "MinAdjustmentMagnitude":2,"StepAdjustments":[{"MetricIntervalLowerBound":0,"ScalingAdjustment":15}]})");
  fire(pct, "a", {1}, 0);
  EXPECT_EQ(desired_count(), 12) << "10 * 15% = 1.5 -> 1, raised to MinAdjustmentMagnitude 2";
  std::string exact = put_step_policy("exact", R"({"AdjustmentType":"ExactCapacity","Cooldown":0,
      "StepAdjustments":[{"MetricIntervalUpperBound":0,"ScalingAdjustment":3}]})");
  fire(exact, "b", {-5}, 0);
  EXPECT_EQ(desired_count(), 3);
}

TEST_F(AutoScalingTest, StepScalingConfigurationIsValidated) {
  register_target(1, 10);
  auto put = [&](const std::string& config) {
    return fails("PutScalingPolicy", with_target(R"("PolicyName":"p","PolicyType":"StepScaling",)"
                                                 R"("StepScalingPolicyConfiguration":)" + config));
  };
  EXPECT_EQ(put(R"({"StepAdjustments":[{"ScalingAdjustment":1}]})").rfind("ValidationException", 0), 0u)
      << "no AdjustmentType";
  EXPECT_EQ(put(R"({"AdjustmentType":"ChangeInCapacity","StepAdjustments":[
      {"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":10,"ScalingAdjustment":1},
      {"MetricIntervalLowerBound":5,"ScalingAdjustment":2}]})").rfind("ValidationException", 0), 0u) << "overlap";
  EXPECT_EQ(put(R"({"AdjustmentType":"ChangeInCapacity","StepAdjustments":[
      {"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":10,"ScalingAdjustment":1},
      {"MetricIntervalLowerBound":20,"ScalingAdjustment":2}]})").rfind("ValidationException", 0), 0u) << "gap";
  EXPECT_EQ(put(R"({"AdjustmentType":"ChangeInCapacity","MinAdjustmentMagnitude":2,
      "StepAdjustments":[{"MetricIntervalLowerBound":0,"ScalingAdjustment":1}]})").rfind("ValidationException", 0), 0u)
      << "MinAdjustmentMagnitude without PercentChangeInCapacity";
  EXPECT_EQ(ok("DescribeScalingPolicies", R"({"ServiceNamespace":"ecs"})").at("ScalingPolicies").as_array().size(), 0u);
}

TEST_F(AutoScalingTest, TargetTrackingCreatesAwsAlarmsAndOwnsThem) {
  register_target(1, 10);
  auto r = ok("PutScalingPolicy", with_target(R"("PolicyName":"cpu-tracking","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":50,
        "PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}})"));
  std::string arn(r.at("PolicyARN").as_string());
  ASSERT_EQ(r.at("Alarms").as_array().size(), 2u);
  std::string high(r.at("Alarms").as_array()[0].at("AlarmName").as_string());
  std::string low(r.at("Alarms").as_array()[1].at("AlarmName").as_string());
  EXPECT_EQ(high.rfind("TargetTracking-service/web/svc-AlarmHigh-", 0), 0u) << high;
  EXPECT_EQ(low.rfind("TargetTracking-service/web/svc-AlarmLow-", 0), 0u) << low;
  EXPECT_EQ(high.size(), std::string("TargetTracking-service/web/svc-AlarmHigh-").size() + 36) << "a uuid suffix";
  EXPECT_EQ(r.at("Alarms").as_array()[0].at("AlarmARN").as_string(),
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + high);

  ASSERT_EQ(alarms_.alarms.count(high), 1u);
  const TrackingAlarm& h = alarms_.alarms[high];
  EXPECT_EQ(h.namespace_, "AWS/ECS");
  EXPECT_EQ(h.metric_name, "CPUUtilization");
  EXPECT_EQ(h.statistic, "Average");
  EXPECT_EQ(h.dimensions, (Dimensions{{"ClusterName", "web"}, {"ServiceName", "svc"}}));
  EXPECT_EQ(h.period_seconds, 60);
  EXPECT_EQ(h.evaluation_periods, 3);
  EXPECT_EQ(h.datapoints_to_alarm, 3);
  EXPECT_DOUBLE_EQ(h.threshold, 50);
  EXPECT_EQ(h.comparison_operator, "GreaterThanThreshold");
  EXPECT_EQ(h.alarm_actions, std::vector<std::string>{arn});
  const TrackingAlarm& l = alarms_.alarms[low];
  EXPECT_EQ(l.evaluation_periods, 15);
  EXPECT_EQ(l.datapoints_to_alarm, 15);
  EXPECT_DOUBLE_EQ(l.threshold, 45);
  EXPECT_EQ(l.comparison_operator, "LessThanThreshold");

  auto d = ok("DescribeScalingPolicies", R"({"ServiceNamespace":"ecs","PolicyNames":["cpu-tracking"]})");
  ASSERT_EQ(d.at("ScalingPolicies").as_array().size(), 1u);
  const auto& p = d.at("ScalingPolicies").as_array()[0].as_object();
  EXPECT_EQ(p.at("PolicyType").as_string(), "TargetTrackingScaling");
  EXPECT_EQ(p.at("Alarms").as_array().size(), 2u);
  EXPECT_DOUBLE_EQ(p.at("TargetTrackingScalingPolicyConfiguration").at("TargetValue").to_number<double>(), 50);

  // An update with DisableScaleIn keeps the names and drops AlarmLow.
  r = ok("PutScalingPolicy", with_target(R"("PolicyName":"cpu-tracking","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":60,"DisableScaleIn":true,
        "PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}})"));
  EXPECT_EQ(r.at("PolicyARN").as_string(), arn) << "an update keeps the policy";
  ASSERT_EQ(r.at("Alarms").as_array().size(), 1u);
  EXPECT_EQ(r.at("Alarms").as_array()[0].at("AlarmName").as_string(), high);
  EXPECT_EQ(alarms_.alarms.count(low), 0u) << "AlarmLow deleted with DisableScaleIn";
  EXPECT_DOUBLE_EQ(alarms_.alarms[high].threshold, 60);

  ok("DeleteScalingPolicy", with_target(R"("PolicyName":"cpu-tracking")"));
  EXPECT_TRUE(alarms_.alarms.empty()) << "deleting the policy deletes its alarms";
  EXPECT_EQ(fails("DeleteScalingPolicy", with_target(R"("PolicyName":"cpu-tracking")")),
            "ObjectNotFoundException: No scaling policy found for service namespace: ecs, resource ID: service/web/svc, "
            "scalable dimension: ecs:service:DesiredCount, policy name: cpu-tracking");
}

TEST_F(AutoScalingTest, TargetTrackingOnAlbRequestsAndCustomMetrics) {
  register_target(1, 10);
  ok("PutScalingPolicy", with_target(R"("PolicyName":"alb","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":100,"PredefinedMetricSpecification":{
        "PredefinedMetricType":"ALBRequestCountPerTarget",
        "ResourceLabel":"app/my-alb/778d41231b141a0f/targetgroup/my-tg/943f017f100becff"}})"));
  ASSERT_FALSE(alarms_.alarms.empty());
  const TrackingAlarm& a = alarms_.alarms.begin()->second;
  EXPECT_EQ(a.namespace_, "AWS/ApplicationELB");
  EXPECT_EQ(a.metric_name, "RequestCountPerTarget");
  EXPECT_EQ(a.statistic, "Sum");
  EXPECT_EQ(a.dimensions, (Dimensions{{"TargetGroup", "targetgroup/my-tg/943f017f100becff"}}));

  EXPECT_EQ(fails("PutScalingPolicy", with_target(R"("PolicyName":"bad","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":100,"PredefinedMetricSpecification":{
        "PredefinedMetricType":"ALBRequestCountPerTarget"}})")).rfind("ValidationException", 0), 0u)
      << "ALBRequestCountPerTarget needs its ResourceLabel";

  alarms_.alarms.clear();
  ok("PutScalingPolicy", with_target(R"("PolicyName":"custom","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":10,"CustomizedMetricSpecification":{
        "MetricName":"QueueDepth","Namespace":"MyApp","Statistic":"Maximum","Unit":"Count",
        "Dimensions":[{"Name":"Queue","Value":"jobs"}]}})"));
  ASSERT_EQ(alarms_.alarms.size(), 2u);
  const TrackingAlarm& c = alarms_.alarms.begin()->second;
  EXPECT_EQ(c.namespace_, "MyApp");
  EXPECT_EQ(c.metric_name, "QueueDepth");
  EXPECT_EQ(c.statistic, "Maximum");
  EXPECT_EQ(c.unit, "Count");
  EXPECT_EQ(c.dimensions, (Dimensions{{"Queue", "jobs"}}));
}

TEST_F(AutoScalingTest, TargetTrackingWithoutCloudWatchStoresNothing) {
  register_target(1, 10);
  alarms_.fail = true;
  std::string e = fails("PutScalingPolicy", with_target(R"("PolicyName":"cpu","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":50,
        "PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}})"));
  EXPECT_EQ(e, "FailedResourceAccessException: CloudWatch is not available");
  EXPECT_EQ(ok("DescribeScalingPolicies", R"({"ServiceNamespace":"ecs"})").at("ScalingPolicies").as_array().size(), 0u);
}

TEST_F(AutoScalingTest, TargetTrackingScalesOutProportionallyAndInAfterCooldowns) {
  register_target(1, 6);
  run(ecs_, "UpdateService", R"({"cluster":"web","service":"svc","desiredCount":2})");
  auto r = ok("PutScalingPolicy", with_target(R"("PolicyName":"cpu-tracking","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":50,"ScaleOutCooldown":100,"ScaleInCooldown":200,
        "PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}})"));
  std::string arn(r.at("PolicyARN").as_string());
  std::string high(r.at("Alarms").as_array()[0].at("AlarmName").as_string());
  std::string low(r.at("Alarms").as_array()[1].at("AlarmName").as_string());

  fire(arn, high, {90, 85, 80}, 50);
  EXPECT_EQ(desired_count(), 4) << "ceil(2 * 90 / 50)";
  EXPECT_EQ(activities()[0].at("Cause").as_string(),
            "monitor alarm " + high + " in state ALARM triggered policy cpu-tracking");

  fire(arn, low, {10}, 45);
  EXPECT_EQ(desired_count(), 4) << "no scale in during the scale-out cooldown (100 s / 10)";
  fire(arn, high, {100}, 50);
  EXPECT_EQ(desired_count(), 4) << "no further scale out during the scale-out cooldown";
  clock_.advance(std::chrono::seconds(11));
  fire(arn, low, {20}, 45);
  EXPECT_EQ(desired_count(), 2) << "ceil(4 * 20 / 50)";
  fire(arn, high, {100}, 50);
  EXPECT_EQ(desired_count(), 4) << "a scale out during the scale-in cooldown is allowed";
  clock_.advance(std::chrono::seconds(11));
  fire(arn, high, {200}, 50);
  EXPECT_EQ(desired_count(), 6) << "clamped to MaxCapacity";
  clock_.advance(std::chrono::seconds(11));
  fire(arn, high, {200}, 50);
  EXPECT_EQ(desired_count(), 6);
  auto not_scaled = activities(true);
  ASSERT_FALSE(not_scaled.empty());
  EXPECT_EQ(not_scaled[0].at("StatusCode").as_string(), "Failed");
  EXPECT_EQ(not_scaled[0].at("NotScaledReasons").at(0).at("Code").as_string(), "AlreadyAtMaxCapacity");
  EXPECT_EQ(not_scaled[0].at("NotScaledReasons").at(0).at("MaxCapacity").as_int64(), 6);
  for (const auto& a : activities())
    EXPECT_FALSE(a.as_object().contains("NotScaledReasons")) << "not scaled activities only when asked";

  AlarmActionEvent ok_state{arn, high, "", "OK", {10}, 50, "GreaterThanThreshold", clock_.now()};
  ASSERT_OK(as_->on_alarm_action(ok_state));
  EXPECT_EQ(desired_count(), 6) << "an OK state does nothing";
}

TEST_F(AutoScalingTest, SuspendedDynamicScalingStopsItsDirectionOnly) {
  register_target(1, 10);
  run(ecs_, "UpdateService", R"({"cluster":"web","service":"svc","desiredCount":4})");
  std::string arn = put_step_policy("s", R"({"AdjustmentType":"ChangeInCapacity","Cooldown":0,"StepAdjustments":[
      {"MetricIntervalUpperBound":0,"ScalingAdjustment":-1},{"MetricIntervalLowerBound":0,"ScalingAdjustment":1}]})");
  ok("RegisterScalableTarget", with_target(R"("SuspendedState":{"DynamicScalingOutSuspended":true})"));
  fire(arn, "up", {10}, 0);
  EXPECT_EQ(desired_count(), 4) << "scale out suspended";
  fire(arn, "down", {-10}, 0);
  EXPECT_EQ(desired_count(), 3) << "scale in still runs";
  ok("RegisterScalableTarget", with_target(R"("SuspendedState":{"DynamicScalingOutSuspended":false,
      "DynamicScalingInSuspended":true})"));
  fire(arn, "down", {-10}, 0);
  EXPECT_EQ(desired_count(), 3) << "scale in suspended";
  fire(arn, "up", {10}, 0);
  EXPECT_EQ(desired_count(), 4);
}

TEST_F(AutoScalingTest, ScheduledActionRaisesTheMinimumAtItsTime) {
  register_target(1, 10);
  // The clock is 2027-01-15T08:00:00Z; the action is a minute later.
  ok("PutScheduledAction", with_target(R"j("ScheduledActionName":"morning","Schedule":"at(2027-01-15T08:01:00)",
      "ScalableTargetAction":{"MinCapacity":3})j"));
  auto d = ok("DescribeScheduledActions", R"({"ServiceNamespace":"ecs"})");
  ASSERT_EQ(d.at("ScheduledActions").as_array().size(), 1u);
  const auto& a = d.at("ScheduledActions").as_array()[0].as_object();
  EXPECT_EQ(a.at("Schedule").as_string(), "at(2027-01-15T08:01:00)");
  EXPECT_EQ(a.at("ScalableTargetAction").at("MinCapacity").as_int64(), 3);
  std::string arn(a.at("ScheduledActionARN").as_string());
  EXPECT_NE(arn.find(":scheduledAction:"), std::string::npos) << arn;
  EXPECT_NE(arn.find(":resource/ecs/service/web/svc:scheduledActionName/morning"), std::string::npos) << arn;

  auto next = as_->next_scheduled_run();
  ASSERT_OK(next);
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ(**next, WallTime(std::chrono::seconds(1'800'000'060)));
  ASSERT_OK(as_->run_due_scheduled_actions());
  EXPECT_EQ(desired_count(), 1) << "not due yet";
  clock_.advance(std::chrono::seconds(60));
  ASSERT_OK(as_->run_due_scheduled_actions());
  EXPECT_EQ(desired_count(), 3);
  auto t = ok("DescribeScalableTargets", R"({"ServiceNamespace":"ecs"})");
  EXPECT_EQ(t.at("ScalableTargets").at(0).at("MinCapacity").as_int64(), 3);
  EXPECT_EQ(activities()[0].at("Cause").as_string(), "minimum capacity was set to 3");
  next = as_->next_scheduled_run();
  ASSERT_OK(next);
  EXPECT_FALSE(next->has_value()) << "an at() runs once";

  ok("DeleteScheduledAction", with_target(R"("ScheduledActionName":"morning")"));
  EXPECT_EQ(fails("DeleteScheduledAction", with_target(R"("ScheduledActionName":"morning")")).rfind(
                "ObjectNotFoundException: No scheduled action found", 0),
            0u);
}

TEST_F(AutoScalingTest, SuspendedScheduledScalingSkipsTheAction) {
  register_target(1, 10);
  ok("RegisterScalableTarget", with_target(R"("SuspendedState":{"ScheduledScalingSuspended":true})"));
  ok("PutScheduledAction", with_target(R"j("ScheduledActionName":"m","Schedule":"rate(1 minute)",
      "ScalableTargetAction":{"MinCapacity":5,"MaxCapacity":8})j"));
  clock_.advance(std::chrono::seconds(61));
  ASSERT_OK(as_->run_due_scheduled_actions());
  EXPECT_EQ(desired_count(), 1);
  ok("RegisterScalableTarget", with_target(R"("SuspendedState":{"ScheduledScalingSuspended":false})"));
  clock_.advance(std::chrono::seconds(60));
  ASSERT_OK(as_->run_due_scheduled_actions());
  EXPECT_EQ(desired_count(), 5) << "the next run of the rate applies";
}

TEST_F(AutoScalingTest, ScheduledActionsAreValidated) {
  EXPECT_EQ(fails("PutScheduledAction", with_target(R"j("ScheduledActionName":"m","Schedule":"rate(1 minute)")j")),
            "ObjectNotFoundException: No scalable target registered for service namespace: ecs, resource ID: "
            "service/web/svc, scalable dimension: ecs:service:DesiredCount");
  register_target(1, 10);
  EXPECT_EQ(fails("PutScheduledAction", with_target(R"("ScheduledActionName":"m","Schedule":"often")"))
                .rfind("ValidationException", 0),
            0u);
  EXPECT_EQ(fails("PutScheduledAction", with_target(R"j("ScheduledActionName":"m","Schedule":"cron(0 8 * * ? *)",
                  "Timezone":"Mars/Olympus")j")).rfind("ValidationException", 0), 0u);
  EXPECT_EQ(fails("PutScheduledAction", with_target(R"j("ScheduledActionName":"a/b","Schedule":"rate(1 minute)")j"))
                .rfind("ValidationException", 0),
            0u);
  EXPECT_EQ(fails("PutScheduledAction", with_target(R"j("ScheduledActionName":"m","Schedule":"rate(1 minute)",
                  "ScalableTargetAction":{})j")),
            "ValidationException: At least one of minimum capacity and maximum capacity should be provided");
  ok("PutScheduledAction", with_target(R"j("ScheduledActionName":"m","Schedule":"cron(0 8 * * ? *)",
      "Timezone":"America/New_York","ScalableTargetAction":{"MinCapacity":2})j"));
  EXPECT_EQ(ok("DescribeScheduledActions", R"({"ServiceNamespace":"ecs"})").at("ScheduledActions").at(0).at("Timezone"),
            "America/New_York");
}

TEST_F(AutoScalingTest, DeregisterRemovesPoliciesAlarmsAndScheduledActions) {
  register_target(1, 10);
  ok("PutScalingPolicy", with_target(R"("PolicyName":"cpu","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":50,
        "PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageMemoryUtilization"}})"));
  EXPECT_EQ(alarms_.alarms.begin()->second.metric_name, "MemoryUtilization");
  put_step_policy("step", R"({"AdjustmentType":"ChangeInCapacity","StepAdjustments":[{"MetricIntervalLowerBound":0,"ScalingAdjustment":1}]})");
  ok("PutScheduledAction", with_target(R"j("ScheduledActionName":"m","Schedule":"rate(5 minutes)",
      "ScalableTargetAction":{"MinCapacity":2})j"));
  ok("DeregisterScalableTarget", with_target(""));
  EXPECT_TRUE(alarms_.alarms.empty());
  EXPECT_EQ(alarms_.deleted.size(), 2u);
  EXPECT_EQ(ok("DescribeScalableTargets", R"({"ServiceNamespace":"ecs"})").at("ScalableTargets").as_array().size(), 0u);
  EXPECT_EQ(ok("DescribeScalingPolicies", R"({"ServiceNamespace":"ecs"})").at("ScalingPolicies").as_array().size(), 0u);
  EXPECT_EQ(ok("DescribeScheduledActions", R"({"ServiceNamespace":"ecs"})").at("ScheduledActions").as_array().size(), 0u);
  EXPECT_EQ(fails("DeregisterScalableTarget", with_target("")),
            "ObjectNotFoundException: No scalable target registered for service namespace: ecs, resource ID: "
            "service/web/svc, scalable dimension: ecs:service:DesiredCount");
  EXPECT_EQ(fails("PutScalingPolicy", with_target(R"("PolicyName":"p","StepScalingPolicyConfiguration":{
                  "AdjustmentType":"ChangeInCapacity","StepAdjustments":[{"ScalingAdjustment":1}]})"))
                .rfind("ObjectNotFoundException: No scalable target registered", 0),
            0u);
}

TEST_F(AutoScalingTest, TagsAndPaging) {
  auto r = ok("RegisterScalableTarget", with_target(R"("MinCapacity":1,"MaxCapacity":2,"Tags":{"team":"web"})"));
  std::string arn(r.at("ScalableTargetARN").as_string());
  ok("TagResource", R"({"ResourceARN":")" + arn + R"(","Tags":{"env":"test"}})");
  auto tags = ok("ListTagsForResource", R"({"ResourceARN":")" + arn + R"("})");
  EXPECT_EQ(json::serialize(tags.at("Tags")), R"({"env":"test","team":"web"})");
  ok("UntagResource", R"({"ResourceARN":")" + arn + R"(","TagKeys":["team"]})");
  tags = ok("ListTagsForResource", R"({"ResourceARN":")" + arn + R"("})");
  EXPECT_EQ(json::serialize(tags.at("Tags")), R"({"env":"test"})");
  EXPECT_EQ(fails("ListTagsForResource",
                  R"({"ResourceARN":"arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/nope"})")
                .rfind("ResourceNotFoundException", 0),
            0u);

  for (std::string name : {"a", "b", "c"})
    put_step_policy(name, R"({"AdjustmentType":"ChangeInCapacity","StepAdjustments":[{"ScalingAdjustment":1}]})");
  auto page = ok("DescribeScalingPolicies", R"({"ServiceNamespace":"ecs","MaxResults":2})");
  EXPECT_EQ(page.at("ScalingPolicies").as_array().size(), 2u);
  ASSERT_TRUE(page.contains("NextToken"));
  auto rest = ok("DescribeScalingPolicies", R"({"ServiceNamespace":"ecs","MaxResults":2,"NextToken":")" +
                                                std::string(page.at("NextToken").as_string()) + R"("})");
  ASSERT_EQ(rest.at("ScalingPolicies").as_array().size(), 1u);
  EXPECT_EQ(rest.at("ScalingPolicies").at(0).at("PolicyName").as_string(), "c");
  EXPECT_FALSE(rest.contains("NextToken"));
  EXPECT_EQ(fails("DescribeScalingPolicies", R"({"ServiceNamespace":"ecs","NextToken":"garbage"})")
                .rfind("InvalidNextTokenException", 0),
            0u);
}

}  // namespace
}  // namespace berth::autoscaling
