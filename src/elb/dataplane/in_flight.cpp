#include "elb/dataplane/in_flight.h"

namespace berth::elb::dp {
namespace {

struct alignas(64) PaddedCounter {
  std::atomic<int32_t> value{0};
};

}  // namespace

InFlightCounter make_in_flight_counter() {
  auto holder = std::make_shared<PaddedCounter>();
  return InFlightCounter(holder, &holder->value);
}

InFlightCounter InFlightCounters::counter(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto& slot = counters_[key];
  if (auto live = slot.lock()) return live;
  auto made = make_in_flight_counter();
  slot = made;
  return made;
}

int64_t InFlightCounters::in_flight(std::string_view key) const {
  InFlightCounter live;
  {
    std::lock_guard lock(mutex_);
    auto it = counters_.find(key);
    if (it == counters_.end()) return 0;
    live = it->second.lock();
  }
  return live ? live->load(std::memory_order_relaxed) : 0;
}

void InFlightCounters::prune() {
  std::lock_guard lock(mutex_);
  std::erase_if(counters_, [](const auto& entry) { return entry.second.expired(); });
}

size_t InFlightCounters::size() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [key, counter] : counters_) n += counter.expired() ? 0 : 1;
  return n;
}

}  // namespace berth::elb::dp
