// autoscaling/time_zone: UTC offsets of an IANA time zone, read from the
// system's compiled tz database (/usr/share/zoneinfo, TZif), for scheduled
// actions' Timezone. GCC 12's <chrono> has no time zones yet.
// Beyond the file's last transition (2037 in Debian's "fat" files) the last
// offset holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace berth::autoscaling {

class TimeZone {
 public:
  // "UTC" (or "Etc/UTC") needs no file. kInvalid for an unknown name.
  static Result<std::shared_ptr<const TimeZone>> load(std::string_view name,
                                                      const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  static std::shared_ptr<const TimeZone> utc();

  const std::string& name() const { return name_; }
  // Seconds east of UTC at the instant (epoch seconds).
  int64_t offset_at_utc(int64_t utc_seconds) const;
  // The instant a local wall-clock time names. In a gap (spring forward)
  // it is taken with the offset before the change; in a fold, the first.
  int64_t to_utc(int64_t local_seconds) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // UTC epoch seconds, ascending
  std::vector<int32_t> offsets_;      // offset from transitions_[i] on
  int32_t initial_offset_ = 0;
};

}  // namespace berth::autoscaling
