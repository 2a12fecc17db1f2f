#include "cloudwatch/input_reader.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace berth::cloudwatch {

std::optional<WallTime> parse_iso8601(std::string_view s) {
  // 2026-12-04T23:10:00[.fff][Z|+hh:mm|-hh:mm]
  int y, mo, d, h, mi, se;
  std::string text(s);
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &consumed) != 6)
    return std::nullopt;
  std::string_view rest = s.substr(static_cast<size_t>(consumed));
  double fraction = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    fraction = std::strtod(std::string("0").append(rest.substr(0, n)).c_str(), nullptr);
    rest.remove_prefix(n);
  }
  int offset_minutes = 0;
  if (rest == "Z" || rest.empty()) {
  } else if ((rest[0] == '+' || rest[0] == '-') && (rest.size() == 6 || rest.size() == 5)) {
    int oh = 0, om = 0;
    std::string tz(rest.substr(1));
    if (tz.find(':') != std::string::npos ? std::sscanf(tz.c_str(), "%2d:%2d", &oh, &om) != 2
                                          : std::sscanf(tz.c_str(), "%2d%2d", &oh, &om) != 2)
      return std::nullopt;
    offset_minutes = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  std::time_t secs = timegm(&tm);
  auto t = std::chrono::system_clock::from_time_t(secs) - std::chrono::minutes(offset_minutes);
  return t + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(fraction));
}

const boost::json::value* Input::find(std::string_view key) const {
  auto* v = o_->if_contains(key);
  if (!v || v->is_null()) return nullptr;
  return v;
}

bool Input::has(std::string_view key) const { return find(key) != nullptr; }

Error Input::wrong_type(std::string_view key, std::string_view expected) const {
  std::string where = path_ + std::string(key);
  if (query_)
    return Error::invalid("InvalidParameterValue", "The value for parameter " + where + " is not a valid " +
                                                       std::string(expected) + ".");  // unverified
  return Error::invalid("SerializationException",
                        "Expected " + std::string(expected) + " for member " + where + ".");  // unverified
}

Result<std::optional<std::string>> Input::str(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(key, "string");
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<double> Input::to_number(const boost::json::value& v, std::string_view key) const {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (query_ && v.is_string()) {
    std::string_view s = v.as_string();
    double x = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec == std::errc() && end == s.data() + s.size()) return x;
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return HUGE_VAL;
    if (s == "-Infinity") return -HUGE_VAL;
  }
  if (!query_ && v.is_string()) {
    // botocore sends NaN and infinities as strings in JSON.
    std::string_view s = v.as_string();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return HUGE_VAL;
    if (s == "-Infinity") return -HUGE_VAL;
  }
  return wrong_type(key, "number");
}

Result<std::optional<double>> Input::number(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<double>();
  auto x = to_number(*v, key);
  if (!x) return std::move(x).error();
  return std::optional<double>(*x);
}

Result<std::optional<int64_t>> Input::integer(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return std::optional<int64_t>(static_cast<int64_t>(v->as_uint64()));
  if (query_ && v->is_string()) {
    std::string_view s = v->as_string();
    int64_t x = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec == std::errc() && end == s.data() + s.size()) return std::optional<int64_t>(x);
  }
  return wrong_type(key, "integer");
}

Result<std::optional<bool>> Input::boolean(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<bool>();
  if (v->is_bool()) return std::optional<bool>(v->as_bool());
  if (query_ && v->is_string()) {
    if (v->as_string() == "true") return std::optional<bool>(true);
    if (v->as_string() == "false") return std::optional<bool>(false);
  }
  return wrong_type(key, "boolean");
}

Result<std::optional<WallTime>> Input::time(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<WallTime>();
  if (v->is_string()) {
    if (auto t = parse_iso8601(v->as_string())) return std::optional<WallTime>(*t);
    if (!query_) return wrong_type(key, "timestamp");
  }
  auto x = to_number(*v, key);
  if (!x || !std::isfinite(*x)) return wrong_type(key, "timestamp");
  return std::optional<WallTime>(
      WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(*x))));
}

Result<std::optional<Input>> Input::structure(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<Input>();
  if (!v->is_object()) return wrong_type(key, "structure");
  return std::optional<Input>(Input(v->as_object(), query_, path_ + std::string(key) + "."));
}

Result<std::vector<const boost::json::value*>> Input::list(std::string_view key) const {
  std::vector<const boost::json::value*> out;
  auto* v = find(key);
  if (!v) return out;
  if (query_ && v->is_string() && v->as_string().empty()) return out;  // "Key=": an empty list
  if (!v->is_array()) return wrong_type(key, "list");
  for (const auto& item : v->as_array()) out.push_back(&item);
  return out;
}

Result<std::vector<Input>> Input::structures(std::string_view key) const {
  auto items = list(key);
  if (!items) return std::move(items).error();
  std::vector<Input> out;
  for (size_t i = 0; i < items->size(); ++i) {
    const auto* item = (*items)[i];
    std::string at = path_ + std::string(key) + ".member." + std::to_string(i + 1);
    if (!item->is_object()) return wrong_type(std::string(key) + ".member." + std::to_string(i + 1), "structure");
    out.emplace_back(item->as_object(), query_, at + ".");
  }
  return out;
}

Result<std::vector<std::string>> Input::strings(std::string_view key) const {
  auto items = list(key);
  if (!items) return std::move(items).error();
  std::vector<std::string> out;
  for (const auto* item : *items) {
    if (!item->is_string()) return wrong_type(key, "list of strings");
    out.emplace_back(item->as_string());
  }
  return out;
}

Result<std::vector<double>> Input::numbers(std::string_view key) const {
  auto items = list(key);
  if (!items) return std::move(items).error();
  std::vector<double> out;
  for (const auto* item : *items) {
    auto x = to_number(*item, key);
    if (!x) return std::move(x).error();
    out.push_back(*x);
  }
  return out;
}

}  // namespace berth::cloudwatch
