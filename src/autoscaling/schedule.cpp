#include "autoscaling/schedule.h"

#include <chrono>
#include <charconv>
#include <vector>

namespace berth::autoscaling {
namespace {

Error invalid_schedule(std::string_view expression) {
  // unverified wording
  return Error::invalid("ValidationException", "Invalid schedule expression: " + std::string(expression) +
                                                   ". Use at(), rate() or cron().");
}

std::optional<int64_t> number(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t from = 0;
  while (true) {
    size_t at = s.find(sep, from);
    out.push_back(s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

int64_t days_from_civil(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year{y} / month{m} / day{d}).time_since_epoch().count();
}

// "2026-12-05T10:00:00" -> local epoch seconds.
std::optional<int64_t> parse_local_time(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  auto y = number(s.substr(0, 4)), mo = number(s.substr(5, 2)), d = number(s.substr(8, 2));
  auto h = number(s.substr(11, 2)), mi = number(s.substr(14, 2)), se = number(s.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{static_cast<int>(*y)}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 59) return std::nullopt;
  return days_from_civil(static_cast<int>(*y), static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86400 +
         *h * 3600 + *mi * 60 + *se;
}

std::optional<int64_t> field_value(std::string_view s, const std::vector<std::string_view>& names, int first) {
  if (auto v = number(s)) return v;
  for (size_t i = 0; i < names.size(); ++i) {
    if (s.size() == 3 && std::equal(s.begin(), s.end(), names[i].begin(),
                                    [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; }))
      return first + static_cast<int64_t>(i);
  }
  return std::nullopt;
}

// One cron field: sets bits lo..hi (shifted by -offset) per the text.
template <size_t N>
bool parse_field(std::string_view text, int lo, int hi, int offset, const std::vector<std::string_view>& names,
                 std::bitset<N>& out, bool* any = nullptr) {
  if (text == "*" || text == "?") {
    for (int v = lo; v <= hi; ++v) out.set(v - offset);
    if (any) *any = true;
    return true;
  }
  if (any) *any = false;
  for (auto part : split(text, ',')) {
    int64_t step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      auto s = number(part.substr(slash + 1));
      if (!s || *s <= 0) return false;
      step = *s;
      part = part.substr(0, slash);
    }
    int64_t from = lo, to = hi;
    if (part != "*") {
      auto dash = part.find('-');
      auto a = field_value(part.substr(0, dash), names, lo);
      if (!a) return false;
      from = *a;
      to = *a;
      if (dash != std::string_view::npos) {
        auto b = field_value(part.substr(dash + 1), names, lo);
        if (!b) return false;
        to = *b;
      } else if (step != 1) {
        to = hi;
      }
    }
    if (from < lo || to > hi || from > to) return false;
    for (int64_t v = from; v <= to; v += step) out.set(static_cast<size_t>(v - offset));
  }
  return true;
}

std::optional<CronFields> parse_cron(std::string_view body) {
  std::vector<std::string_view> f;
  for (auto p : split(body, ' '))
    if (!p.empty()) f.push_back(p);
  if (f.size() != 6) return std::nullopt;
  static const std::vector<std::string_view> kMonths{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static const std::vector<std::string_view> kDays{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  CronFields c;
  if (!parse_field(f[0], 0, 59, 0, {}, c.minutes) || !parse_field(f[1], 0, 23, 0, {}, c.hours) ||
      !parse_field(f[2], 1, 31, 0, {}, c.days_of_month, &c.any_day_of_month) ||
      !parse_field(f[3], 1, 12, 0, kMonths, c.months) ||
      !parse_field(f[4], 1, 7, 0, kDays, c.days_of_week, &c.any_day_of_week) ||
      !parse_field(f[5], 1970, 2199, 1970, {}, c.years))
    return std::nullopt;
  // As in EventBridge: one of day-of-month and day-of-week must be "?".
  if (f[2] != "?" && f[4] != "?") return std::nullopt;
  if (f[2] == "?" && f[4] == "?") return std::nullopt;
  return c;
}

bool day_matches(const CronFields& c, int64_t day) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{days{day}}};
  int y = static_cast<int>(ymd.year());
  if (y < 1970 || y > 2199 || !c.years.test(static_cast<size_t>(y - 1970))) return false;
  if (!c.months.test(static_cast<unsigned>(ymd.month()))) return false;
  if (!c.any_day_of_month && !c.days_of_month.test(static_cast<unsigned>(ymd.day()))) return false;
  unsigned dow = weekday{sys_days{days{day}}}.c_encoding() + 1;  // 1 = Sunday
  if (!c.any_day_of_week && !c.days_of_week.test(dow)) return false;
  return true;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::optional<int64_t> next_cron(const CronFields& c, const TimeZone& zone, int64_t after) {
  int64_t local_after = after + zone.offset_at_utc(after);
  int64_t first_day = floor_div(local_after, 86400) - 1;  // a day back: an offset change can move a run
  constexpr int64_t kSearchDays = 366 * 30;
  for (int64_t day = first_day; day < first_day + kSearchDays; ++day) {
    if (!day_matches(c, day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!c.hours.test(h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!c.minutes.test(m)) continue;
        int64_t utc = zone.to_utc(day * 86400 + h * 3600 + m * 60);
        if (utc > after) return utc;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Result<Schedule> parse_schedule(std::string_view e) {
  Schedule s;
  auto inner = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (e.size() < prefix.size() + 1 || e.substr(0, prefix.size()) != prefix || e.back() != ')') return std::nullopt;
    return e.substr(prefix.size(), e.size() - prefix.size() - 1);
  };
  if (auto at = inner("at(")) {
    auto t = parse_local_time(*at);
    if (!t) return invalid_schedule(e);
    s.kind = Schedule::Kind::kAt;
    s.at_local = *t;
    return s;
  }
  if (auto rate = inner("rate(")) {
    auto parts = split(*rate, ' ');
    if (parts.size() != 2) return invalid_schedule(e);
    auto n = number(parts[0]);
    if (!n || *n <= 0) return invalid_schedule(e);
    std::string_view unit = parts[1];
    int64_t unit_seconds = 0;
    // AWS wants the singular for 1 and the plural otherwise.
    if (unit == (*n == 1 ? "minute" : "minutes")) unit_seconds = 60;
    else if (unit == (*n == 1 ? "hour" : "hours")) unit_seconds = 3600;
    else if (unit == (*n == 1 ? "day" : "days")) unit_seconds = 86400;
    else return invalid_schedule(e);
    s.kind = Schedule::Kind::kRate;
    s.rate_seconds = *n * unit_seconds;
    return s;
  }
  if (auto cron = inner("cron(")) {
    auto c = parse_cron(*cron);
    if (!c) return invalid_schedule(e);
    s.kind = Schedule::Kind::kCron;
    s.cron = *c;
    return s;
  }
  return invalid_schedule(e);
}

std::optional<int64_t> next_run(const Schedule& s, const TimeZone& zone, int64_t after, std::optional<int64_t> start,
                                std::optional<int64_t> end, int64_t anchor) {
  if (start && after < *start - 1) after = *start - 1;
  std::optional<int64_t> run;
  switch (s.kind) {
    case Schedule::Kind::kAt: {
      int64_t t = zone.to_utc(s.at_local);
      if (t > after) run = t;
      break;
    }
    case Schedule::Kind::kRate: {
      int64_t from = start.value_or(anchor);
      int64_t k = after < from ? 1 : floor_div(after - from, s.rate_seconds) + 1;
      if (k < 1) k = 1;
      run = from + k * s.rate_seconds;
      break;
    }
    case Schedule::Kind::kCron: run = next_cron(s.cron, zone, after); break;
  }
  if (run && end && *run > *end) return std::nullopt;
  return run;
}

}  // namespace berth::autoscaling
