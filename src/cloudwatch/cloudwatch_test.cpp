// CloudWatch end to end in process: alarms evaluated on a manual clock with
// a time scale, action handlers, history, validation, and the API operations
// answering in each protocol.
#include "cloudwatch/cloudwatch.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/cbor.h"
#include "core/testing/expect_ok.h"

namespace berth::cloudwatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kStart = WallTime(seconds(1'796'425'800));  // 2026-12-04T23:10:00Z

class CloudWatchTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(double time_scale = 20) {
    if (!db_) {
      auto d = store::Database::open(":memory:");
      ASSERT_OK(d);
      db_ = std::make_unique<store::Database>(std::move(*d));
    }
    cw_.reset();
    CloudWatchOptions options;
    options.account_id = "123456789012";
    options.clock = &clock_;
    options.time_scale = time_scale;
    options.run_evaluator = false;
    auto cw = CloudWatch::open(*db_, options);
    ASSERT_TRUE(cw.ok()) << cw.error().message;
    cw_ = std::move(*cw);
  }

  void put(double value, std::string metric = "CPU") {
    Datum d;
    d.namespace_name = "App";
    d.metric_name = std::move(metric);
    d.dimensions = {{"Service", "web"}};
    d.value = value;
    auto r = cw_->put_metric_data(std::span(&d, 1));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  AlarmDefinition cpu_alarm(std::vector<std::string> alarm_actions = {}) {
    AlarmDefinition a;
    a.name = "cpu-high";
    a.namespace_name = "App";
    a.metric_name = "CPU";
    a.dimensions = {{"Service", "web"}};
    a.statistic = "Average";
    a.period = 60;  // 3 s of real time at time scale 20
    a.evaluation_periods = 3;
    a.threshold = 70;
    a.comparison_operator = "GreaterThanThreshold";
    a.alarm_actions = std::move(alarm_actions);
    return a;
  }

  // One scaled period (3 s) with one datapoint in it, then an evaluation.
  void period_with(std::optional<double> value) {
    if (value) put(*value);
    clock_.advance(seconds(3));
    cw_->evaluate_due_alarms();
  }

  std::string state(const std::string& name = "cpu-high") { return cw_->alarm(name)->state; }

  // Runs an operation of the API as the front door would, in `protocol`.
  Result<std::string> call(std::string_view op, const std::string& json, api::Protocol protocol) {
    api::Service service = cw_->service();
    auto parsed = boost::json::parse(json).as_object();
    api::Caller caller;
    api::CallContext ctx{"req-1", op, "us-east-1", "localhost", caller, clock_.now(), protocol};
    api::OperationInput in;
    in.json = &parsed;
    return service.operations.at(std::string(op)).run(ctx, in);
  }

  ManualClock clock_{kStart};
  std::unique_ptr<store::Database> db_;
  std::shared_ptr<CloudWatch> cw_;
};

TEST_F(CloudWatchTest, AlarmGoesOkToAlarmToOkOverScaledPeriods) {
  ASSERT_OK(cw_->put_metric_alarm(cpu_alarm()));
  EXPECT_EQ(state(), "INSUFFICIENT_DATA");
  EXPECT_EQ(cw_->alarm("cpu-high")->reason, "Unchecked: Initial alarm creation");
  for (int i = 0; i < 3; ++i) period_with(10);
  EXPECT_EQ(state(), "OK");
  period_with(90);
  period_with(95);
  EXPECT_EQ(state(), "OK") << "2 of 3 periods breaching is not enough for 3 out of 3";
  period_with(99);
  EXPECT_EQ(state(), "ALARM");
  const auto alarm = *cw_->alarm("cpu-high");
  EXPECT_TRUE(alarm.reason.starts_with("Threshold Crossed: 3 datapoints [99.0 (04/12/26 23:10:")) << alarm.reason;
  EXPECT_TRUE(alarm.reason.ends_with("were greater than the threshold (70.0).")) << alarm.reason;
  EXPECT_EQ(alarm.transitioned, clock_.now());
  for (int i = 0; i < 3; ++i) period_with(5);
  EXPECT_EQ(state(), "OK");

  auto history = cw_->history("cpu-high", "StateUpdate", WallTime{}, clock_.now() + seconds(1));
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].summary, "Alarm updated from ALARM to OK");
  EXPECT_EQ((*history)[1].summary, "Alarm updated from OK to ALARM");
  EXPECT_EQ((*history)[2].summary, "Alarm updated from INSUFFICIENT_DATA to OK");
  auto data = boost::json::parse((*history)[1].data).as_object();
  EXPECT_EQ(data.at("newState").as_object().at("stateValue").as_string(), "ALARM");
  auto config = cw_->history("cpu-high", "ConfigurationUpdate", WallTime{}, clock_.now() + seconds(1));
  ASSERT_EQ(config->size(), 1u);
  EXPECT_EQ((*config)[0].summary, "Alarm \"cpu-high\" created");
}

TEST_F(CloudWatchTest, EvaluatesOncePerScaledPeriodOnly) {
  ASSERT_OK(cw_->put_metric_alarm(cpu_alarm()));
  std::vector<AlarmAction> seen;
  cw_->add_action_handler("arn:aws:autoscaling:", [&](const AlarmAction& a) { seen.push_back(a); });
  AlarmDefinition a = cpu_alarm({"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:p"});
  a.evaluation_periods = 1;
  ASSERT_OK(cw_->put_metric_alarm(a));
  put(80);
  clock_.advance(seconds(3));
  cw_->evaluate_due_alarms();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].state, "ALARM");
  EXPECT_EQ(seen[0].previous_state, "INSUFFICIENT_DATA");
  EXPECT_EQ(seen[0].datapoints, std::vector<double>{80});
  EXPECT_EQ(seen[0].threshold, 70);
  EXPECT_EQ(seen[0].alarm_arn, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high");
  clock_.advance(milliseconds(500));
  cw_->evaluate_due_alarms();
  EXPECT_EQ(seen.size(), 1u) << "no second evaluation inside the same period";
  put(80);
  clock_.advance(milliseconds(2500));
  cw_->evaluate_due_alarms();
  EXPECT_EQ(seen.size(), 2u) << "Auto Scaling actions repeat once per period while in ALARM";
}

TEST_F(CloudWatchTest, ActionsWithoutHandlerAreRecordedAsFailedAndDisabledActionsDoNotRun) {
  int calls = 0;
  cw_->add_action_handler("arn:aws:autoscaling:", [&](const AlarmAction&) { ++calls; });
  AlarmDefinition a = cpu_alarm({"arn:aws:sns:us-east-1:123456789012:topic", "arn:aws:autoscaling:x"});
  a.evaluation_periods = 1;
  a.actions_enabled = false;
  ASSERT_OK(cw_->put_metric_alarm(a));
  period_with(80);
  EXPECT_EQ(state(), "ALARM");
  EXPECT_EQ(calls, 0) << "ActionsEnabled false";
  std::vector<std::string> names{"cpu-high"};
  ASSERT_OK(cw_->set_actions_enabled(names, true));
  ASSERT_OK(cw_->set_alarm_state("cpu-high", "OK", "test", ""));
  ASSERT_OK(cw_->set_alarm_state("cpu-high", "ALARM", "test", "{\"a\":1}"));
  EXPECT_EQ(calls, 1);
  auto actions = cw_->history("cpu-high", "Action", WallTime{}, clock_.now() + seconds(1));
  ASSERT_OK(actions);
  ASSERT_EQ(actions->size(), 1u);
  EXPECT_EQ((*actions)[0].summary,
            "Failed to execute action arn:aws:sns:us-east-1:123456789012:topic. Received error: \"berth does not run "
            "actions of this service\"");
}

TEST_F(CloudWatchTest, AlarmsSurviveReopen) {
  ASSERT_OK(cw_->put_metric_alarm(cpu_alarm()));
  ASSERT_OK(cw_->set_alarm_state("cpu-high", "ALARM", "by hand", ""));
  open();
  auto a = cw_->alarm("cpu-high");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state, "ALARM");
  EXPECT_EQ(a->reason, "by hand");
  EXPECT_EQ(a->def.evaluation_periods, 3);
  std::vector<std::string> names{"cpu-high"};
  ASSERT_OK(cw_->delete_alarms(names));
  auto again = cw_->delete_alarms(names);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "ResourceNotFound");
  auto history = cw_->history("cpu-high", "", WallTime{}, clock_.now() + seconds(1));
  ASSERT_OK(history);
  EXPECT_EQ(history->size(), 2u) << "a deleted alarm's history stays (created, then the state set by hand)";
  clock_.advance(std::chrono::hours(24 * 31));
  ASSERT_OK(cw_->prune_history());
  EXPECT_TRUE(cw_->history("cpu-high", "", WallTime{}, clock_.now())->empty()) << "kept for 30 days";
}

TEST_F(CloudWatchTest, ValidationAsTheApiDoes) {
  Datum d;
  d.namespace_name = "App";
  d.metric_name = "M";
  d.value = 1;
  for (int i = 0; i < 31; ++i) d.dimensions.push_back({"D" + std::to_string(i), "v"});
  auto r = cw_->put_metric_data(std::span(&d, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidParameterValue");
  EXPECT_EQ(r.error().message, "The collection MetricData.member.1.Dimensions must not have a size greater than 30.");
  d.dimensions.clear();
  d.statistics = StatisticSet{1, 1, 1, 1};
  r = cw_->put_metric_data(std::span(&d, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidParameterCombination");
  d.statistics.reset();
  d.namespace_name = "AWS/ApplicationELB";
  EXPECT_TRUE(cw_->put_metric_data(std::span(&d, 1)).ok()) << "the daemon's own publishers write AWS/ namespaces";
  auto api = call("PutMetricData", R"({"Namespace":"AWS/EC2","MetricData":[{"MetricName":"M","Value":1}]})",
                  api::Protocol::kJson10);
  ASSERT_FALSE(api.ok()) << "API callers may not";
  EXPECT_EQ(api.error().message, "The value AWS/ for parameter Namespace is invalid.");

  AlarmDefinition a = cpu_alarm();
  a.datapoints_to_alarm = 4;
  EXPECT_FALSE(cw_->put_metric_alarm(a).ok()) << "DatapointsToAlarm above EvaluationPeriods";
  a = cpu_alarm();
  a.evaluation_periods = 1441;
  auto day = cw_->put_metric_alarm(a);
  ASSERT_FALSE(day.ok());
  EXPECT_EQ(day.error().message,
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).");
  a = cpu_alarm();
  a.comparison_operator = "LessThanLowerOrGreaterThanUpperThreshold";
  EXPECT_FALSE(cw_->put_metric_alarm(a).ok()) << "anomaly bands are refused";
  EXPECT_FALSE(cw_->alarm("cpu-high")) << "nothing half-written";
}

TEST_F(CloudWatchTest, MetricMathAlarm) {
  AlarmDefinition a;
  a.name = "error-rate";
  a.evaluation_periods = 1;
  a.threshold = 0.5;
  a.comparison_operator = "GreaterThanOrEqualToThreshold";
  MetricDataQuery errors{"e", MetricStat{{"App", "Errors", {{"Service", "web"}}}, 60, "Sum", ""}, "", "", false, 0};
  MetricDataQuery total{"t", MetricStat{{"App", "CPU", {{"Service", "web"}}}, 60, "Sum", ""}, "", "", false, 0};
  MetricDataQuery rate{"rate", std::nullopt, "e / t", "Error rate", true, 0};
  a.metrics = {errors, total, rate};
  ASSERT_OK(cw_->put_metric_alarm(a));
  put(3, "Errors");
  put(4);
  clock_.advance(seconds(3));
  cw_->evaluate_due_alarms();
  EXPECT_EQ(state("error-rate"), "ALARM") << cw_->alarm("error-rate")->reason;
}

TEST_F(CloudWatchTest, ApiAnswersInEachProtocol) {
  put(10);
  put(30);
  clock_.advance(seconds(120));
  std::string in = R"({"Namespace":"App","MetricName":"CPU","Dimensions":[{"Name":"Service","Value":"web"}],)"
                   R"("StartTime":1796425740,"EndTime":1796425920,"Period":60,"Statistics":["Average","Maximum"],)"
                   R"("ExtendedStatistics":["p50"]})";
  auto json = call("GetMetricStatistics", in, api::Protocol::kJson10);
  ASSERT_TRUE(json.ok()) << json.error().message;
  auto doc = boost::json::parse(*json).as_object();
  EXPECT_EQ(doc.at("Label").as_string(), "CPU");
  ASSERT_EQ(doc.at("Datapoints").as_array().size(), 1u) << *json;
  auto point = doc.at("Datapoints").as_array()[0].as_object();
  EXPECT_EQ(point.at("Average").to_number<double>(), 20);
  EXPECT_EQ(point.at("Maximum").to_number<double>(), 30);
  EXPECT_EQ(point.at("ExtendedStatistics").as_object().at("p50").to_number<double>(), 10);
  EXPECT_EQ(point.at("Timestamp").to_number<double>(), 1796425800) << "JSON timestamps are epoch seconds";

  auto cbor = call("GetMetricStatistics", in, api::Protocol::kRpcV2Cbor);
  ASSERT_OK(cbor);
  auto decoded = api::decode_cbor(*cbor);
  ASSERT_OK(decoded);
  EXPECT_EQ(boost::json::serialize(*decoded), boost::json::serialize(doc)) << "CBOR carries the same answer";

  auto xml = call("GetMetricStatistics", in, api::Protocol::kQuery);
  ASSERT_OK(xml);
  EXPECT_NE(xml->find("<Datapoints><member><Timestamp>2026-12-04T23:10:00.000Z</Timestamp>"), std::string::npos)
      << *xml;
  EXPECT_NE(xml->find("<ExtendedStatistics><entry><key>p50</key><value>10</value></entry></ExtendedStatistics>"),
            std::string::npos)
      << *xml;

  auto too_many = call("GetMetricStatistics",
                       R"({"Namespace":"App","MetricName":"CPU","StartTime":1796339400,"EndTime":1796425800,)"
                       R"("Period":1,"Statistics":["Sum"]})",
                       api::Protocol::kJson10);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, "InvalidParameterValue") << too_many.error().message;
  auto over_limit = call("GetMetricStatistics",
                         R"({"Namespace":"App","MetricName":"CPU","StartTime":1796418000,"EndTime":1796425800,)"
                         R"("Period":5,"Statistics":["Sum"]})",
                         api::Protocol::kJson10);
  ASSERT_FALSE(over_limit.ok());
  EXPECT_EQ(over_limit.error().message,
            "You have requested up to 1,560 datapoints, which exceeds the limit of 1,440. You may reduce the "
            "datapoints requested by increasing Period, or decreasing the time range.");
  auto wrong_type =
      call("GetMetricStatistics", R"({"Namespace":"App","MetricName":"CPU","Period":"sixty"})", api::Protocol::kJson10);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, "SerializationException");
}

TEST_F(CloudWatchTest, GetMetricDataWithExpressions) {
  put(10);
  put(20, "Other");
  clock_.advance(seconds(120));
  auto out = call("GetMetricData", R"({"StartTime":1796425740,"EndTime":1796425920,"ScanBy":"TimestampAscending",
      "MetricDataQueries":[
        {"Id":"a","MetricStat":{"Metric":{"Namespace":"App","MetricName":"CPU","Dimensions":[{"Name":"Service","Value":"web"}]},"Period":60,"Stat":"Sum"},"ReturnData":false},
        {"Id":"b","MetricStat":{"Metric":{"Namespace":"App","MetricName":"Other","Dimensions":[{"Name":"Service","Value":"web"}]},"Period":60,"Stat":"Sum"}},
        {"Id":"total","Expression":"SUM([a,b]) * 2","Label":"Doubled"}]})",
                  api::Protocol::kJson10);
  ASSERT_TRUE(out.ok()) << out.error().message;
  auto results = boost::json::parse(*out).at("MetricDataResults").as_array();
  ASSERT_EQ(results.size(), 2u) << "ReturnData false leaves a query out";
  EXPECT_EQ(results[0].at("Id").as_string(), "b");
  EXPECT_EQ(results[0].at("Label").as_string(), "Other");
  EXPECT_EQ(results[1].at("Label").as_string(), "Doubled");
  EXPECT_EQ(results[1].at("Values").as_array()[0].to_number<double>(), 60);
  EXPECT_EQ(results[1].at("StatusCode").as_string(), "Complete");
}

}  // namespace
}  // namespace berth::cloudwatch
