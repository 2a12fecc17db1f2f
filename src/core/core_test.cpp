#include <gtest/gtest.h>

#include <set>

#include "core/clock.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/time_format.h"
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

// Found by fuzz/sigv4 (X-Amz-Date year 5202): system_clock holds only
// 1678..2261, beyond that the conversion overflowed (UB). Such dates now
// saturate, still later (or earlier) than any time window around now.
TEST(TimeFormat, AmzDateOutsideTheClockRangeSaturates) {
  auto now = std::chrono::system_clock::from_time_t(1764077915);
  auto far_future = parse_amz_date("52021205T020000Z");
  ASSERT_TRUE(far_future);
  EXPECT_GT(*far_future, now + std::chrono::hours(24 * 365 * 200)) << "a year 5202 date must stay far in the future";
  EXPECT_GT(*far_future + std::chrono::hours(24 * 7), *far_future) << "a week later must not wrap around";
  EXPECT_EQ(parse_amz_date("99991231T235959Z"), far_future) << "both saturate to the same latest time";
  auto far_past = parse_amz_date("00010101T000000Z");
  ASSERT_TRUE(far_past);
  EXPECT_LT(*far_past, now - std::chrono::hours(24 * 365 * 200)) << "a year 1 date must stay far in the past";
  EXPECT_LT(*far_past - std::chrono::hours(24 * 7), *far_past) << "a week earlier must not wrap around";
  EXPECT_EQ(format_amz_date(*parse_amz_date("22600101T000000Z")), "22600101T000000Z") << "2260 still fits exactly";
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

}  // namespace
}  // namespace berth
