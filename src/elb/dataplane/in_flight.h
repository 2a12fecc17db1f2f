// elb/dataplane/in_flight: requests in flight per target, counted by the
// data plane and kept across routing snapshots. A snapshot's TargetRoute
// holds its target's counter; the routing builder takes the counter of a
// registration key from this registry for every snapshot it builds, so a new
// snapshot shares the count with the requests still running on an older one,
// also once the target has left the snapshot (draining). The registry holds
// counters weakly: one lives as long as some snapshot (and so some request
// holding that snapshot) has it.
//
//   RoutingBuilder ──counter(key)──> shared counter ──in TargetRoute──> proxy: +1 per request, -1 when it ends
//   ECS (through ElbDaemon::requests_in_flight) ──in_flight(key)──> that count, 0 when no snapshot holds one
//
// The request path touches only the counter (one relaxed atomic increment
// and decrement); the registry's lock is the control plane's.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace berth::elb::dp {

using InFlightCounter = std::shared_ptr<std::atomic<int32_t>>;

// A counter at 0 on a cache line of its own (targets' counters are written
// by every loop; neighbours must not share a line).
InFlightCounter make_in_flight_counter();

class InFlightCounters {
 public:
  // The live counter of a registration key, else a new one at 0. Control plane.
  InFlightCounter counter(const std::string& key);
  // Requests in flight to that target now, over all loops and snapshots. Any thread.
  int64_t in_flight(std::string_view key) const;
  // Forgets the keys whose counters no snapshot holds any more. Control plane.
  void prune();
  // Keys with a live counter (tests).
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::weak_ptr<std::atomic<int32_t>>, std::less<>> counters_;
};

}  // namespace berth::elb::dp
