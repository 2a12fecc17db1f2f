#include <gtest/gtest.h>

#include <set>

#include "core/clock.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "core/utf8.h"
#include "core/testing/expect_ok.h"

using namespace std::chrono_literals;

namespace berth {
namespace {

TEST(GoDuration, ParsesGoSyntax) {
  EXPECT_EQ(parse_go_duration("5s"), std::chrono::nanoseconds(5s));
  EXPECT_EQ(parse_go_duration("300ms"), std::chrono::nanoseconds(300ms));
  EXPECT_EQ(parse_go_duration("1.5h"), std::chrono::nanoseconds(90min));
  EXPECT_EQ(parse_go_duration("2h45m"), std::chrono::nanoseconds(165min));
  EXPECT_EQ(parse_go_duration("1m30.5s"), std::chrono::nanoseconds(90500ms));
  EXPECT_EQ(parse_go_duration("0"), std::chrono::nanoseconds(0));
  EXPECT_EQ(parse_go_duration("-1s"), std::chrono::nanoseconds(-1s));
  EXPECT_EQ(parse_go_duration("10us"), std::chrono::nanoseconds(10us));
}

TEST(GoDuration, RejectsWhatGoRejects) {
  for (const char* bad : {"", "5", "s", "5x", "1.s.", "-", ".s", "5 s", "1e3s", "9999999999999h"})
    EXPECT_FALSE(parse_go_duration(bad).has_value()) << bad;
}

TEST(Ids, ShapesMatchAws) {
  EXPECT_EQ(ids::account_id().size(), 12u);
  EXPECT_NE(ids::account_id()[0], '0');
  std::string u = ids::uuid4();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_EQ(ids::prefixed("sg-").size(), 20u);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(ids::random_hex(17));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(TimeFormat, AmzDateRoundTrips) {
  auto t = std::chrono::system_clock::from_time_t(1764077915);
  EXPECT_EQ(format_amz_date(t), "20251125T133835Z");
  EXPECT_EQ(parse_amz_date("20251125T133835Z"), t);
  EXPECT_EQ(format_iso8601_millis(t + 123ms), "2025-11-25T13:38:35.123Z");
  EXPECT_EQ(format_http_date(t), "Tue, 25 Nov 2025 13:38:35 GMT");
  EXPECT_FALSE(parse_amz_date("2025-11-25T13:38:35Z"));
  EXPECT_FALSE(parse_amz_date("20251325T133835Z"));
}

TEST(ManualClock, MovesOnlyByHand) {
  ManualClock clock(std::chrono::system_clock::from_time_t(1000));
  auto before = clock.now();
  clock.advance(5s);
  EXPECT_EQ(clock.now() - before, std::chrono::nanoseconds(5s));
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 7;
  Result<int> bad = Error::not_found("X.NotFound", "gone");
  EXPECT_OK(good);
  EXPECT_EQ(*good, 7);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "X.NotFound");
  EXPECT_EQ(bad.error().error_class, ErrorClass::kNotFound);
}

TEST(Utf8, WellFormedPassesAndEachBadByteBecomesOneReplacement) {
  EXPECT_TRUE(utf8::is_valid("plain \xC3\xA9t\xC3\xA9 \xF0\x9F\x99\x82"));
  for (std::string_view bad : {"\xC3\x28", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\xE2\x82"})
    EXPECT_FALSE(utf8::is_valid(bad)) << bad;
  EXPECT_EQ(utf8::to_valid("a\xFF\xFE" "b"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8::to_valid("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short: each byte replaced
  EXPECT_EQ(utf8::to_valid("\xC3\xA9"), "\xC3\xA9");
}

}  // namespace
}  // namespace berth
