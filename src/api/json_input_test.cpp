#include "api/json_input.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::api {
namespace {

TEST(JsonInput, ParsesObject) {
  auto r = parse_json_body(R"({"cluster": "c", "services": ["s"], "n": 1.5})");
  ASSERT_OK(r);
  EXPECT_EQ(r->at("cluster").as_string(), "c");
  EXPECT_EQ(r->at("services").as_array().size(), 1u);
}

TEST(JsonInput, EmptyBodyIsEmptyObject) {
  auto r = parse_json_body("");
  ASSERT_OK(r);
  EXPECT_TRUE(r->empty());
  EXPECT_OK(parse_json_body(" \n"));
}

TEST(JsonInput, RejectsMalformed) {
  for (std::string_view bad : {"{", "{\"a\":}", "{\"a\":1,}", "{'a':1}", "{\"a\":1} x", "{/*c*/}", "nul"}) {
    auto r = parse_json_body(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, kSerializationException);
    EXPECT_EQ(r.error().error_class, ErrorClass::kInvalid);
  }
}

// Found by fuzz/json_input: 1e400 became infinity, which serializes as
// "Infinity" (not JSON) wherever the value is stored and echoed back.
TEST(JsonInput, RejectsNumbersBeyondADoublesRange) {
  for (std::string_view bad : {R"({"n": 1e400})", R"({"a": [1, {"b": -1e309}]})", R"({"v": 1e30674707})"}) {
    auto r = parse_json_body(bad);
    ASSERT_FALSE(r.ok()) << "accepted " << bad;
    EXPECT_EQ(r.error().code, kSerializationException);
    EXPECT_EQ(r.error().error_class, ErrorClass::kInvalid);
  }
  auto big = parse_json_body(R"({"n": 1.7976931348623157e308, "i": 18446744073709551615, "t": 1e-400})");
  ASSERT_OK(big);
  EXPECT_DOUBLE_EQ(big->at("n").as_double(), 1.7976931348623157e308) << "the largest double is still a number";
  EXPECT_EQ(big->at("i").as_uint64(), 18446744073709551615u);
}

TEST(JsonInput, RejectsNonObjectTopLevel) {
  for (std::string_view bad : {"[]", "\"s\"", "1", "null", "true"}) {
    auto r = parse_json_body(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, kSerializationException);
    EXPECT_NE(r.error().message.find("JSON object"), std::string::npos);
  }
}

TEST(JsonInput, RejectsInvalidUtf8) {
  auto r = parse_json_body("{\"a\":\"\xFF\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kSerializationException);
  EXPECT_OK(parse_json_body("{\"a\":\"\xE2\x82\xAC\"}"));
}

TEST(JsonInput, DepthLimit) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += "}";
  auto r = parse_json_body(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("depth"), std::string::npos);
  std::string ok = "{\"a\":[[[1]]]}";
  EXPECT_OK(parse_json_body(ok));
  // Depth exactly at the limit is accepted, one more is not.
  auto nested = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "[";
    for (int i = 0; i < n; ++i) s += "]";
    return "{\"a\":" + s + "}";
  };
  EXPECT_OK(parse_json_body(nested(63)));
  EXPECT_FALSE(parse_json_body(nested(64)).ok());
}

TEST(JsonInput, SizeLimit) {
  JsonLimits limits;
  limits.max_bytes = 8;
  auto r = parse_json_body("{\"a\":\"0123456789\"}", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kSerializationException);
}

}  // namespace
}  // namespace berth::api
