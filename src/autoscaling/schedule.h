// autoscaling/schedule: a scheduled action's Schedule, at(), rate() or
// cron(), and when it runs next, in the action's Timezone.
//
//   at(yyyy-mm-ddThh:mm:ss)          once, at that local time
//   rate(<n> minute|minutes|hour|hours|day|days)
//                                     every n units from StartTime (or creation)
//   cron(minutes hours day-of-month month day-of-week year)
//                                     fields take *, ?, lists, ranges, /steps, JAN-DEC, SUN-SAT (1-7)
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "autoscaling/time_zone.h"
#include "core/error.h"

namespace berth::autoscaling {

struct CronFields {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31
  std::bitset<13> months;         // 1..12
  std::bitset<8> days_of_week;    // 1..7, 1 = Sunday
  bool any_day_of_month = true;   // "?" or "*"
  bool any_day_of_week = true;
  std::bitset<230> years;         // 1970..2199 as 0..229
};

struct Schedule {
  enum class Kind { kAt, kRate, kCron };
  Kind kind = Kind::kAt;
  int64_t at_local = 0;       // kAt: local epoch seconds
  int64_t rate_seconds = 0;   // kRate
  CronFields cron;            // kCron
};

// ValidationException for anything else.
Result<Schedule> parse_schedule(std::string_view expression);

// The first run strictly after `after` (epoch seconds) that lies within
// [start, end]; nullopt when there is none. `anchor` is where a rate
// counts from (StartTime, else the action's creation).
std::optional<int64_t> next_run(const Schedule& schedule, const TimeZone& zone, int64_t after,
                                std::optional<int64_t> start, std::optional<int64_t> end, int64_t anchor);

}  // namespace berth::autoscaling
