// The filter pattern syntax: each form matching and refusing the messages
// AWS's documentation says it does, and bad patterns refused with AWS's texts.
#include "logs/filter_pattern.h"

#include <gtest/gtest.h>

namespace berth::logs {
namespace {

FilterPattern parse_ok(std::string_view text) {
  auto p = FilterPattern::parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << (p.ok() ? "" : p.error().message);
  if (!p.ok()) return *FilterPattern::parse("");
  return std::move(*p);
}

bool matches(std::string_view pattern, std::string_view message) { return parse_ok(pattern).matches(message); }

std::string refusal(std::string_view pattern) {
  auto p = FilterPattern::parse(pattern);
  if (p.ok()) return "parsed";
  return p.error().code + ": " + p.error().message;
}

TEST(LogsFilterPattern, EmptyMatchesEverything) {
  EXPECT_TRUE(parse_ok("").matches_everything());
  EXPECT_TRUE(parse_ok("   ").matches_everything());
  EXPECT_TRUE(matches("", "anything"));
}

TEST(LogsFilterPattern, TermsAllMustMatchCaseSensitive) {
  EXPECT_TRUE(matches("ERROR", "[ERROR] disk full"));
  EXPECT_FALSE(matches("ERROR", "[error] disk full")) << "terms are case-sensitive";
  EXPECT_TRUE(matches("ERROR disk", "[ERROR] disk full"));
  EXPECT_FALSE(matches("ERROR memory", "[ERROR] disk full")) << "every term must be there";
  EXPECT_TRUE(matches("\"disk full\"", "[ERROR] disk full"));
  EXPECT_FALSE(matches("\"full disk\"", "[ERROR] disk full")) << "a quoted phrase is matched as a whole";
  EXPECT_TRUE(matches("\"ERROR:\"", "ERROR: x")) << "quoted terms may hold any character";
}

TEST(LogsFilterPattern, OptionalAndExcludedTerms) {
  EXPECT_TRUE(matches("?ERROR ?WARN", "WARN low disk"));
  EXPECT_TRUE(matches("?ERROR ?WARN", "ERROR no disk"));
  EXPECT_FALSE(matches("?ERROR ?WARN", "INFO all good"));
  EXPECT_TRUE(matches("ERROR -Exiting", "ERROR retrying"));
  EXPECT_FALSE(matches("ERROR -Exiting", "ERROR Exiting now"));
  EXPECT_FALSE(matches("-\"health check\"", "GET /health check"));
}

TEST(LogsFilterPattern, RegexTerms) {
  EXPECT_TRUE(matches("%[Ee]rror|[Ff]ail%", "an error happened"));
  EXPECT_TRUE(matches("%[Ee]rror|[Ff]ail%", "Failed"));
  EXPECT_FALSE(matches("%[Ee]rror|[Ff]ail%", "all good"));
  EXPECT_TRUE(matches("%\\d{3}%", "status 404"));
}

TEST(LogsFilterPattern, JsonEqualityAndWildcards) {
  std::string_view m =
      R"({"eventType":"UpdateTrail","user":{"id":2,"name":"ann"},"list":["a","b"],"ip":"123.123.1.9"})";
  EXPECT_TRUE(matches(R"({ $.eventType = "UpdateTrail" })", m));
  EXPECT_TRUE(matches(R"({ $.eventType = UpdateTrail })", m)) << "unquoted strings are values too";
  EXPECT_FALSE(matches(R"({ $.eventType = "updatetrail" })", m));
  EXPECT_TRUE(matches(R"({ $.eventType != "DeleteTrail" })", m));
  EXPECT_TRUE(matches(R"({ $.ip = 123.123.* })", m));
  EXPECT_TRUE(matches(R"({ $.user.name = "a*" })", m));
  EXPECT_TRUE(matches(R"({ $.list[1] = "b" })", m));
  EXPECT_FALSE(matches(R"({ $.list[5] = "b" })", m));
  EXPECT_FALSE(matches(R"({ $.missing = "x" })", m));
  EXPECT_FALSE(matches(R"({ $.eventType = "UpdateTrail" })", "not json UpdateTrail")) << "only JSON messages match";
}

TEST(LogsFilterPattern, JsonNumbersAndLogic) {
  std::string_view m = R"({"latency":75.5,"status":200,"flag":true,"gone":null,"user":{"id":2}})";
  EXPECT_TRUE(matches("{ $.latency > 75 }", m));
  EXPECT_FALSE(matches("{ $.latency > 80 }", m));
  EXPECT_TRUE(matches("{ $.status = 200 }", m));
  EXPECT_TRUE(matches("{ $.status >= 200 && $.status < 300 }", m));
  EXPECT_FALSE(matches("{ $.status >= 200 && $.latency < 10 }", m));
  EXPECT_TRUE(matches("{ $.status = 500 || $.latency > 10 }", m));
  EXPECT_TRUE(matches("{ ($.user.id = 2 && $.status = 404) || $.flag IS TRUE }", m));
  EXPECT_FALSE(matches("{ $.flag IS FALSE }", m));
  EXPECT_TRUE(matches("{ $.gone IS NULL }", m));
  EXPECT_TRUE(matches("{ $.nothing NOT EXISTS }", m));
  EXPECT_FALSE(matches("{ $.status NOT EXISTS }", m));
  EXPECT_TRUE(matches("{$.status=200}", m)) << "spaces are optional";
}

TEST(LogsFilterPattern, SpaceDelimited) {
  std::string_view m = R"(127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534)";
  EXPECT_TRUE(matches("[ip, user, username, timestamp, request, status_code, bytes]", m));
  EXPECT_FALSE(matches("[ip, user, username, timestamp, request, status_code]", m)) << "every field needs a slot";
  EXPECT_TRUE(matches("[ip, user, username, timestamp, request, status_code = 200, bytes > 1000]", m));
  EXPECT_FALSE(matches("[ip, user, username, timestamp, request, status_code = 4*, bytes]", m));
  EXPECT_TRUE(matches("[..., status_code = 2*, bytes]", m));
  EXPECT_TRUE(matches("[ip = 127.0.0.*, ...]", m));
  EXPECT_TRUE(matches("[ip, ..., status = 404 || status = 200, bytes]", m));
  EXPECT_TRUE(matches("[ip, user, username = frank, timestamp, request = \"GET /apache_pb.gif HTTP/1.0\", ...]", m));
  EXPECT_FALSE(matches("[ip, ..., bytes < 100]", m));
}

TEST(LogsFilterPattern, BadPatternsRefusedWithAwsTexts) {
  EXPECT_EQ(refusal("{ $.a = 1"),
            "InvalidParameterException: If a filter pattern starts with '{' it must end with '}'");
  EXPECT_EQ(refusal("ERR(OR"),
            "InvalidParameterException: Invalid filter pattern: Invalid character(s) in term 'ERR(OR'");
  EXPECT_EQ(refusal("{ $.a = }"), "InvalidParameterException: Invalid filter pattern");
  EXPECT_EQ(refusal("{ $.a > \"x\" }"), "InvalidParameterException: Invalid filter pattern") << "> needs a number";
  EXPECT_EQ(refusal("{ a = 1 }"), "InvalidParameterException: Invalid filter pattern") << "selectors start with $";
  EXPECT_EQ(refusal("{ $.a = 1 && }"), "InvalidParameterException: Invalid filter pattern");
  EXPECT_EQ(refusal("\"unclosed"), "InvalidParameterException: Invalid filter pattern");
  EXPECT_EQ(refusal("%[unclosed%"), "InvalidParameterException: Invalid filter pattern");
  EXPECT_EQ(refusal("[a, b = ]"), "InvalidParameterException: Invalid filter pattern");
  EXPECT_EQ(refusal("[a, b = 4* && c > 1]"), "InvalidParameterException: Invalid filter pattern")
      << "AWS refuses another field's condition inside a slot";
}

}  // namespace
}  // namespace berth::logs
