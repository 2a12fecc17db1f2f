#include "core/time_format.h"

#include <algorithm>
#include <cstdint>
#include <ctime>

namespace berth {
namespace {

std::tm utc(WallTimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

std::string strftime_utc(WallTimePoint t, const char* fmt) {
  std::tm tm = utc(t);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string format_iso8601_millis(WallTimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  std::string s = strftime_utc(t, "%Y-%m-%dT%H:%M:%S");
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lldZ", static_cast<long long>(ms));
  return s + frac;
}

std::string format_amz_date(WallTimePoint t) { return strftime_utc(t, "%Y%m%dT%H%M%SZ"); }

std::string format_http_date(WallTimePoint t) { return strftime_utc(t, "%a, %d %b %Y %H:%M:%S GMT"); }

double epoch_seconds(WallTimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

std::optional<WallTimePoint> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  std::tm tm{};
  auto num = [&](size_t pos, size_t len, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || !num(4, 2, mo) || !num(6, 2, d) || !num(9, 2, h) || !num(11, 2, mi) || !num(13, 2, se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  // system_clock counts nanoseconds in 64 bits (libstdc++): it holds only
  // 1678..2261, and from_time_t beyond that overflows. A date outside
  // saturates a year inside those bounds: as far outside any signature's
  // time window, and a caller's arithmetic of days around it cannot overflow.
  using std::chrono::seconds;
  constexpr int64_t kYear = 366 * 86400;
  constexpr int64_t kLatest = std::chrono::duration_cast<seconds>(WallTimePoint::duration::max()).count() - kYear;
  constexpr int64_t kEarliest = std::chrono::duration_cast<seconds>(WallTimePoint::duration::min()).count() + kYear;
  int64_t t = std::clamp<int64_t>(timegm(&tm), kEarliest, kLatest);
  return WallTimePoint(std::chrono::duration_cast<WallTimePoint::duration>(seconds(t)));
}

}  // namespace berth
