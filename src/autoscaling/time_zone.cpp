#include "autoscaling/time_zone.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

namespace berth::autoscaling {
namespace {

Error unknown_zone(std::string_view name) {
  return Error::invalid("ValidationException", "Invalid timezone: " + std::string(name));  // unverified wording
}

int64_t be(const std::string& data, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[at + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

bool valid_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
  });
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::utc() {
  static auto zone = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    return std::shared_ptr<const TimeZone>(z);
  }();
  return zone;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::load(std::string_view name, const std::string& zoneinfo_dir) {
  if (name == "UTC" || name == "Etc/UTC") return utc();
  if (!valid_zone_name(name)) return unknown_zone(name);
  std::ifstream in(zoneinfo_dir + "/" + std::string(name), std::ios::binary);
  if (!in) return unknown_zone(name);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Header: "TZif", version, 15 reserved, six 4-byte counts.
  auto header = [&](size_t at, int64_t counts[6]) {
    if (data.size() < at + 44 || data.compare(at, 4, "TZif") != 0) return false;
    for (int i = 0; i < 6; ++i) counts[i] = be(data, at + 20 + 4 * i, 4);
    return true;
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c) || data[4] < '2') return unknown_zone(name);
  size_t v1_size = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
  size_t at = 44 + v1_size;
  if (!header(at, c)) return unknown_zone(name);
  at += 44;
  int64_t timecnt = c[3], typecnt = c[4];
  if (typecnt <= 0 || data.size() < at + timecnt * 9 + typecnt * 6) return unknown_zone(name);
  auto zone = std::make_shared<TimeZone>();
  zone->name_ = std::string(name);
  size_t types_at = at + timecnt * 9;
  auto type_offset = [&](int64_t type) { return static_cast<int32_t>(be(data, types_at + type * 6, 4)); };
  zone->initial_offset_ = type_offset(0);
  for (int64_t i = 0; i < timecnt; ++i) {
    int64_t type = static_cast<unsigned char>(data[at + timecnt * 8 + i]);
    if (type >= typecnt) return unknown_zone(name);
    zone->transitions_.push_back(be(data, at + i * 8, 8));
    zone->offsets_.push_back(type_offset(type));
  }
  return std::shared_ptr<const TimeZone>(zone);
}

int64_t TimeZone::offset_at_utc(int64_t utc_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

int64_t TimeZone::to_utc(int64_t local_seconds) const {
  // The offset in force a day before is the one "before the change".
  int64_t before = offset_at_utc(local_seconds - 86400);
  int64_t guess = local_seconds - before;
  int64_t at_guess = offset_at_utc(guess);
  if (at_guess == before) return guess;
  int64_t second = local_seconds - at_guess;
  // Both readings name this local time in a fold: the earlier is the first.
  if (offset_at_utc(second) == at_guess) return std::min(guess, second);
  return guess;  // a gap: the offset before the change
}

}  // namespace berth::autoscaling
