// What the logs unit tests share: a LogStore in memory on a manual clock,
// with no retention timer (tests call sweep_expired themselves).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "logs/log_store.h"

namespace berth::logs::testing {

// 2023-11-14T22:13:20Z
inline constexpr int64_t kNowMs = 1'700'000'000'000;
inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kDayMs = 24 * 60 * kMinuteMs;

struct StoreFixture : ::testing::Test {
  void SetUp() override {
    LogStoreOptions options;
    options.account_id = "123456789012";
    options.clock = &clock;
    options.sweep_interval = std::chrono::milliseconds(0);
    auto opened = LogStore::open(":memory:", options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store = std::move(*opened);
  }

  void make_stream(const std::string& group, const std::string& stream) {
    ASSERT_TRUE(store->create_log_group_if_missing(group).ok());
    auto s = store->create_log_stream_if_missing(group, stream);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  // Events "<prefix>0".."<prefix>n-1" at first_ms, first_ms+step, ...
  static std::vector<InputEvent> events(int n, int64_t first_ms, int64_t step_ms = 1, const std::string& prefix = "m") {
    std::vector<InputEvent> out;
    for (int i = 0; i < n; ++i) out.push_back({first_ms + i * step_ms, prefix + std::to_string(i)});
    return out;
  }

  static std::vector<std::string> messages(const std::vector<OutputEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.message);
    return out;
  }

  ManualClock clock{WallTime(std::chrono::milliseconds(kNowMs))};
  std::shared_ptr<LogStore> store;
};

}  // namespace berth::logs::testing
