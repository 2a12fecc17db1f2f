// The CloudWatch Logs operations called as the front door calls them: JSON
// in, JSON (or an AWS error) out.
#include "logs/logs_service.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "logs/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::logs {
namespace {

namespace json = boost::json;
using testing::kNowMs;

struct LogsService : testing::StoreFixture {
  void SetUp() override {
    StoreFixture::SetUp();
    service = make_logs_service(store);
  }
  Result<json::object> call(const std::string& op, const std::string& input) {
    api::Caller caller{"123456789012", "administrator", "AIDA", "arn:aws:iam::123456789012:user/administrator",
                       "AKIAADMIN"};
    api::CallContext ctx{"req-1", op, "us-east-1", "127.0.0.9:4566", caller, clock.now()};
    json::object in = json::parse(input).as_object();
    api::OperationInput oi;
    oi.json = &in;
    auto it = service.operations.find(op);
    if (it == service.operations.end()) return Error::invalid("UnknownOperation", op);
    auto out = it->second.run(ctx, oi);
    if (!out) return std::move(out).error();
    return json::parse(*out).as_object();
  }
  json::object ok(const std::string& op, const std::string& input) {
    auto r = call(op, input);
    EXPECT_TRUE(r.ok()) << op << " " << input << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : json::object();
  }
  std::string failure(const std::string& op, const std::string& input) {
    auto r = call(op, input);
    if (r) return "answered " + json::serialize(*r);
    return r.error().code + ": " + r.error().message;
  }
  api::Service service;
};

std::string put_body(const std::string& group, const std::string& stream, int n, int64_t first) {
  json::array events;
  for (int i = 0; i < n; ++i)
    events.push_back(json::object{{"timestamp", first + i}, {"message", "e" + std::to_string(i)}});
  return json::serialize(json::object{{"logGroupName", group}, {"logStreamName", stream}, {"logEvents", events}});
}

TEST_F(LogsService, GroupsAndStreamsShapes) {
  EXPECT_EQ(json::serialize(ok("CreateLogGroup", R"({"logGroupName":"/ecs/web","tags":{"a":"b"}})")), "{}");
  EXPECT_EQ(failure("CreateLogGroup", R"({"logGroupName":"/ecs/web"})"),
            "ResourceAlreadyExistsException: The specified log group already exists");
  EXPECT_EQ(failure("CreateLogGroup", R"({"logGroupName":"bad name"})"),
            "InvalidParameterException: 1 validation error detected: Value 'bad name' at 'logGroupName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
  auto groups = ok("DescribeLogGroups", "{}");
  const auto& g = groups.at("logGroups").as_array().at(0).as_object();
  EXPECT_EQ(g.at("arn").as_string(), "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*");
  EXPECT_EQ(g.at("logGroupArn").as_string(), "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web");
  EXPECT_EQ(g.at("creationTime").as_int64(), kNowMs);
  EXPECT_EQ(g.at("storedBytes").as_int64(), 0);
  EXPECT_FALSE(g.contains("retentionInDays"));

  EXPECT_EQ(failure("CreateLogStream", R"({"logGroupName":"/ecs/none","logStreamName":"s"})"),
            "ResourceNotFoundException: The specified log group does not exist.");
  ok("CreateLogStream", R"({"logGroupName":"/ecs/web","logStreamName":"web/app/1"})");
  ok("PutLogEvents", put_body("/ecs/web", "web/app/1", 2, kNowMs - 10));
  auto streams =
      ok("DescribeLogStreams", R"({"logGroupIdentifier":"arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web"})");
  const auto& s = streams.at("logStreams").as_array().at(0).as_object();
  EXPECT_EQ(s.at("logStreamName").as_string(), "web/app/1");
  EXPECT_EQ(s.at("firstEventTimestamp").as_int64(), kNowMs - 10);
  EXPECT_EQ(s.at("lastEventTimestamp").as_int64(), kNowMs - 9);
  EXPECT_EQ(s.at("arn").as_string(), "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:web/app/1");
  EXPECT_EQ(s.at("uploadSequenceToken").as_string().size(), 56u);
  EXPECT_EQ(failure("DescribeLogStreams",
                    R"({"logGroupName":"/ecs/web","orderBy":"LastEventTime","logStreamNamePrefix":"w"})"),
            "InvalidParameterException: Cannot order by LastEventTime with a logStreamNamePrefix.");
  EXPECT_EQ(failure("DescribeLogStreams", R"({"logGroupName":"/ecs/none"})"),
            "ResourceNotFoundException: The specified log group does not exist.");
}

TEST_F(LogsService, DescribePagingWithTokens) {
  for (int i = 0; i < 5; ++i) ok("CreateLogGroup", R"({"logGroupName":"g)" + std::to_string(i) + R"("})");
  std::vector<std::string> names;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    std::string in = token.empty() ? R"({"limit":2})" : R"({"limit":2,"nextToken":")" + token + R"("})";
    auto out = ok("DescribeLogGroups", in);
    for (const auto& g : out.at("logGroups").as_array()) names.emplace_back(g.at("logGroupName").as_string());
    if (!out.contains("nextToken")) break;
    token = std::string(out.at("nextToken").as_string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"g0", "g1", "g2", "g3", "g4"}));
  EXPECT_EQ(failure("DescribeLogGroups", R"({"nextToken":"zz"})"),
            "InvalidParameterException: The specified nextToken is invalid.");
}

TEST_F(LogsService, PutLogEventsAnswers) {
  make_stream("g", "s");
  auto out = ok("PutLogEvents", put_body("g", "s", 3, kNowMs));
  EXPECT_TRUE(out.contains("nextSequenceToken"));
  EXPECT_FALSE(out.contains("rejectedLogEventsInfo"));
  // A stale sequence token is ignored, as AWS does now.
  json::object with_token = json::parse(put_body("g", "s", 1, kNowMs)).as_object();
  with_token["sequenceToken"] = "123";
  EXPECT_OK(call("PutLogEvents", json::serialize(with_token)));
  auto rejected = ok("PutLogEvents", put_body("g", "s", 1, kNowMs + 3 * 3600 * 1000));
  EXPECT_EQ(json::serialize(rejected.at("rejectedLogEventsInfo")), R"({"tooNewLogEventStartIndex":0})");
  EXPECT_EQ(
      failure(
          "PutLogEvents",
          R"({"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":2,"message":"b"},{"timestamp":1,"message":"a"}]})"),
      "InvalidParameterException: Log events in a single PutLogEvents request must be in chronological order.");
  EXPECT_EQ(failure("PutLogEvents", put_body("g", "none", 1, kNowMs)),
            "ResourceNotFoundException: The specified log stream does not exist.");
}

TEST_F(LogsService, GetLogEventsTokens) {
  make_stream("g", "s");
  ok("PutLogEvents", put_body("g", "s", 5, kNowMs));
  auto first = ok("GetLogEvents", R"({"logGroupName":"g","logStreamName":"s","startFromHead":true,"limit":3})");
  ASSERT_EQ(first.at("events").as_array().size(), 3u);
  const auto& e = first.at("events").as_array().at(0).as_object();
  EXPECT_EQ(e.at("message").as_string(), "e0");
  EXPECT_EQ(e.at("timestamp").as_int64(), kNowMs);
  EXPECT_EQ(e.at("ingestionTime").as_int64(), kNowMs);
  std::string fwd(first.at("nextForwardToken").as_string());
  EXPECT_EQ(fwd.substr(0, 2), "f/");
  EXPECT_EQ(std::string(first.at("nextBackwardToken").as_string()).substr(0, 2), "b/");
  auto second = ok("GetLogEvents", R"({"logGroupName":"g","logStreamName":"s","nextToken":")" + fwd + R"("})");
  ASSERT_EQ(second.at("events").as_array().size(), 2u);
  std::string end(second.at("nextForwardToken").as_string());
  auto third = ok("GetLogEvents", R"({"logGroupName":"g","logStreamName":"s","nextToken":")" + end + R"("})");
  EXPECT_TRUE(third.at("events").as_array().empty());
  EXPECT_EQ(third.at("nextForwardToken").as_string(), end) << "at the end the same forward token comes back";
  EXPECT_EQ(failure("GetLogEvents", R"({"logGroupName":"g","logStreamName":"s","nextToken":"f/12/s"})"),
            "InvalidParameterException: The specified nextToken is invalid.");
}

TEST_F(LogsService, FilterLogEventsShapesAndBadPatterns) {
  make_stream("g", "s");
  ok("PutLogEvents", R"({"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":)" + std::to_string(kNowMs) +
                         R"(,"message":"{\"level\":\"error\",\"ms\":12}"},{"timestamp":)" + std::to_string(kNowMs) +
                         R"(,"message":"{\"level\":\"info\",\"ms\":3}"}]})");
  auto out = ok("FilterLogEvents", R"({"logGroupName":"g","filterPattern":"{ $.level = \"error\" }"})");
  ASSERT_EQ(out.at("events").as_array().size(), 1u);
  const auto& e = out.at("events").as_array().at(0).as_object();
  EXPECT_EQ(e.at("logStreamName").as_string(), "s");
  EXPECT_FALSE(e.at("eventId").as_string().empty());
  EXPECT_EQ(json::serialize(out.at("searchedLogStreams")), R"([{"logStreamName":"s","searchedCompletely":true}])");
  EXPECT_FALSE(out.contains("nextToken"));
  EXPECT_EQ(ok("FilterLogEvents", R"({"logGroupName":"g","filterPattern":"{ $.ms > 5 || $.ms < 1 }"})")
                .at("events")
                .as_array()
                .size(),
            1u);
  EXPECT_EQ(failure("FilterLogEvents", R"({"logGroupName":"g","filterPattern":"{ $.level = "})"),
            "InvalidParameterException: If a filter pattern starts with '{' it must end with '}'");
  EXPECT_EQ(failure("FilterLogEvents", R"({"logGroupName":"g","logStreamNames":["s"],"logStreamNamePrefix":"s"})"),
            "InvalidParameterException: logStreamNames and logStreamNamePrefix are mutually exclusive.");
}

TEST_F(LogsService, RetentionAndTags) {
  ok("CreateLogGroup", R"({"logGroupName":"g"})");
  EXPECT_EQ(failure("PutRetentionPolicy", R"({"logGroupName":"g","retentionInDays":2})").substr(0, 60),
            "InvalidParameterException: 1 validation error detected: Valu");
  ok("PutRetentionPolicy", R"({"logGroupName":"g","retentionInDays":30})");
  EXPECT_EQ(ok("DescribeLogGroups", "{}").at("logGroups").at(0).at("retentionInDays").as_int64(), 30);
  ok("DeleteRetentionPolicy", R"({"logGroupName":"g"})");
  EXPECT_FALSE(ok("DescribeLogGroups", "{}").at("logGroups").at(0).as_object().contains("retentionInDays"));

  std::string arn = "arn:aws:logs:us-east-1:123456789012:log-group:g";
  ok("TagResource", R"({"resourceArn":")" + arn + R"(","tags":{"env":"dev"}})");
  ok("TagLogGroup", R"({"logGroupName":"g","tags":{"team":"web"}})");
  EXPECT_EQ(json::serialize(ok("ListTagsForResource", R"({"resourceArn":")" + arn + R"("})")),
            R"({"tags":{"env":"dev","team":"web"}})");
  ok("UntagResource", R"({"resourceArn":")" + arn + R"(","tagKeys":["env"]})");
  ok("UntagLogGroup", R"({"logGroupName":"g","tags":["team"]})");
  EXPECT_EQ(json::serialize(ok("ListTagsLogGroup", R"({"logGroupName":"g"})")), R"({"tags":{}})");
  EXPECT_EQ(failure("ListTagsForResource", R"({"resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:none"})"),
            "ResourceNotFoundException: The specified log group does not exist.");
}

TEST(LogsPositionToken, RoundTripsAndRefusesJunk) {
  Position p{1'700'000'000'123, 42};
  auto text = position_token(p);
  EXPECT_EQ(text.size(), 38u);
  EXPECT_EQ(parse_position_token(text), p);
  EXPECT_FALSE(parse_position_token("12"));
  EXPECT_FALSE(parse_position_token(std::string(38, 'x')));
}

}  // namespace
}  // namespace berth::logs
