// Scheduled actions' expressions: at(), rate(), cron() in UTC and in time
// zones read from the system's tz database (DST included).
#include "autoscaling/schedule.h"

#include <gtest/gtest.h>

#include <chrono>

namespace berth::autoscaling {
namespace {

// Epoch seconds of a UTC civil time.
int64_t utc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  using namespace std::chrono;
  return sys_days(year{y} / month{mo} / day{d}).time_since_epoch().count() * 86400 + h * 3600 + mi * 60 + s;
}

std::shared_ptr<const TimeZone> zone(std::string_view name) {
  auto z = TimeZone::load(name);
  EXPECT_TRUE(z.ok()) << (z.ok() ? "" : z.error().message);
  return z.ok() ? *z : TimeZone::utc();
}

std::optional<int64_t> next(std::string_view expression, std::string_view tz, int64_t after,
                            std::optional<int64_t> start = std::nullopt, std::optional<int64_t> end = std::nullopt,
                            int64_t anchor = 0) {
  auto s = parse_schedule(expression);
  EXPECT_TRUE(s.ok()) << expression << ": " << (s.ok() ? "" : s.error().message);
  if (!s.ok()) return std::nullopt;
  return next_run(*s, *zone(tz), after, start, end, anchor);
}

TEST(Schedule, AtRunsOnceAtItsUtcTime) {
  int64_t t = utc(2026, 12, 5, 10, 0);
  EXPECT_EQ(next("at(2026-12-05T10:00:00)", "UTC", t - 60), t);
  EXPECT_FALSE(next("at(2026-12-05T10:00:00)", "UTC", t).has_value()) << "an at() runs only once";
}

TEST(Schedule, AtIsReadInTheTimezone) {
  // 10:00 in New York in December is EST (UTC-5), in July EDT (UTC-4).
  EXPECT_EQ(next("at(2026-12-05T10:00:00)", "America/New_York", 0), utc(2026, 12, 5, 15, 0));
  EXPECT_EQ(next("at(2026-07-05T10:00:00)", "America/New_York", 0), utc(2026, 7, 5, 14, 0));
  EXPECT_EQ(next("at(2026-07-05T10:00:00)", "Asia/Kolkata", 0), utc(2026, 7, 5, 4, 30));
}

TEST(Schedule, RateCountsFromStartTime) {
  int64_t start = utc(2026, 1, 1, 0, 0);
  EXPECT_EQ(next("rate(5 minutes)", "UTC", start, start), start + 300);
  EXPECT_EQ(next("rate(5 minutes)", "UTC", start + 301, start), start + 600);
  EXPECT_EQ(next("rate(1 hour)", "UTC", start - 1000, start), start + 3600) << "nothing runs before StartTime";
  EXPECT_EQ(next("rate(2 days)", "UTC", 1000, std::nullopt, std::nullopt, 1000), 1000 + 2 * 86400)
      << "without StartTime a rate counts from the action's creation";
}

TEST(Schedule, EndTimeStopsTheSchedule) {
  int64_t start = utc(2026, 1, 1, 0, 0);
  EXPECT_FALSE(next("rate(1 hour)", "UTC", start + 3600, start, start + 7000).has_value());
  EXPECT_EQ(next("rate(1 hour)", "UTC", start, start, start + 7200), start + 3600);
}

TEST(Schedule, CronEveryDayAtAnHour) {
  int64_t after = utc(2026, 3, 10, 12, 0);
  EXPECT_EQ(next("cron(30 8 * * ? *)", "UTC", after), utc(2026, 3, 11, 8, 30));
  EXPECT_EQ(next("cron(30 13 * * ? *)", "UTC", after), utc(2026, 3, 10, 13, 30));
}

TEST(Schedule, CronDaysOfWeekListsRangesAndSteps) {
  // 2026-03-10 is a Tuesday. MON-FRI at 09:00: Wednesday next.
  int64_t after = utc(2026, 3, 10, 12, 0);
  EXPECT_EQ(next("cron(0 9 ? * MON-FRI *)", "UTC", after), utc(2026, 3, 11, 9, 0));
  // Sundays only (1 = SUN).
  EXPECT_EQ(next("cron(0 9 ? * 1 *)", "UTC", after), utc(2026, 3, 15, 9, 0));
  EXPECT_EQ(next("cron(0/15 * * * ? *)", "UTC", after + 60), after + 15 * 60);
  EXPECT_EQ(next("cron(0 0 1 JAN,JUL ? 2027)", "UTC", after), utc(2027, 1, 1, 0, 0));
}

TEST(Schedule, CronFollowsTheTimezoneAcrossDaylightSaving) {
  // 08:00 in New York: 13:00 UTC in winter, 12:00 UTC after 2026-03-08.
  EXPECT_EQ(next("cron(0 8 * * ? *)", "America/New_York", utc(2026, 3, 6, 14, 0)), utc(2026, 3, 7, 13, 0));
  EXPECT_EQ(next("cron(0 8 * * ? *)", "America/New_York", utc(2026, 3, 8, 0, 0)), utc(2026, 3, 8, 12, 0));
  EXPECT_EQ(next("cron(0 8 * * ? *)", "Europe/Paris", utc(2026, 7, 1, 0, 0)), utc(2026, 7, 1, 6, 0));
}

TEST(Schedule, BadExpressionsAreValidationErrors) {
  for (std::string_view bad : {"at(2026-13-05T10:00:00)", "at(2026-12-05 10:00:00)", "rate(0 minutes)",
                               "rate(5 minute)", "rate(1 minutes)", "rate(5 weeks)", "cron(0 8 * * *)",
                               "cron(0 8 * * MON *)", "cron(61 8 * * ? *)", "cron(0 8 ? * ? *)", "every day", ""}) {
    auto s = parse_schedule(bad);
    ASSERT_FALSE(s.ok()) << bad << " was accepted";
    EXPECT_EQ(s.error().code, "ValidationException") << bad;
  }
}

TEST(TimeZone, UnknownNamesAreRefused) {
  for (std::string_view bad : {"Mars/Olympus", "../etc/passwd", "/etc/passwd", ""}) {
    auto z = TimeZone::load(bad);
    ASSERT_FALSE(z.ok()) << bad;
    EXPECT_EQ(z.error().code, "ValidationException");
  }
}

TEST(TimeZone, LocalTimesInAGapOrAFold) {
  auto ny = zone("America/New_York");
  // 02:30 on 2026-03-08 does not exist (clocks jump 02:00 -> 03:00): taken as 03:30 EDT.
  int64_t gap_local = utc(2026, 3, 8, 2, 30);
  EXPECT_EQ(ny->to_utc(gap_local), utc(2026, 3, 8, 7, 30));
  // 01:30 on 2026-11-01 happens twice: the first (EDT) is taken.
  EXPECT_EQ(ny->to_utc(utc(2026, 11, 1, 1, 30)), utc(2026, 11, 1, 5, 30));
}

}  // namespace
}  // namespace berth::autoscaling
