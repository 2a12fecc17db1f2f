// Wall-clock time behind an interface, so tests can move time by hand.
#pragma once

#include <atomic>
#include <chrono>

namespace berth {

using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime start) : now_ns_(to_ns(start)) {}
  WallTime now() const override { return WallTime(std::chrono::nanoseconds(now_ns_.load())); }
  void advance(std::chrono::nanoseconds d) { now_ns_ += d.count(); }
  void set(WallTime t) { now_ns_ = to_ns(t); }

 private:
  static long long to_ns(WallTime t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  std::atomic<long long> now_ns_;
};

}  // namespace berth
