// elb/dataplane/metrics: CloudWatch's AWS/ApplicationELB metrics for the
// load balancers, in Prometheus text exposition format 0.0.4 (served by the
// daemon on /_berth/metrics).
//
//   event loop 0 ── LoopMetrics (cells only loop 0 writes) ──┐
//   event loop 1 ── LoopMetrics ─────────────────────────────┼──> render(snapshot): summed at scrape time,
//   Snapshot (routes, targets' health) ──────────────────────┘     + HealthyHostCount / UnHealthyHostCount
//
// The request path pays a memoised ARN lookup and relaxed loads and stores
// to memory only its own loop writes: no lock, no contended atomic. A loop
// takes its own mutex only to add a cell (a load balancer or target group
// it has not seen), which the scraper takes while it reads that loop's map.
// Cells are never removed: a deleted load balancer's stay (a few hundred
// bytes) but are no longer rendered, since only the snapshot's are.
//
// Where berth differs from CloudWatch: ActiveConnectionCount counts client
// connections only (not the pooled ones to targets), and a connection is
// the first admitting load balancer's when several share a listener port.
//
// Series carry CloudWatch's dimension values as labels:
// load_balancer="app/<name>/<id>", target_group="targetgroup/<name>/<id>".
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "elb/dataplane/routing.h"

namespace berth::elb::dp {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// A number one thread writes and any thread reads: one writer needs no
// read-modify-write, so an add is a relaxed load and store.
class OwnedCounter {
 public:
  void add(int64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// TargetResponseTime bucket bounds, seconds.
inline constexpr std::array<double, 15> kResponseTimeBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                0.5,   1,      2.5,   5,    10,   30,    60};

struct ResponseTimeCells {
  std::array<OwnedCounter, kResponseTimeBuckets.size() + 1> buckets;  // not cumulative; last is +Inf
  OwnedCounter sum_ns;
  OwnedCounter count;
  void observe(std::chrono::nanoseconds elapsed);
};

// What the target side of a load balancer (or one of its target groups) did.
struct TargetCells {
  OwnedCounter requests;                   // RequestCount: a target was chosen
  std::array<OwnedCounter, 4> target_codes;  // HTTPCode_Target_2XX..5XX_Count
  ResponseTimeCells response_time;         // TargetResponseTime
  void answered(unsigned status, std::chrono::nanoseconds elapsed);
};

struct ArnHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using CellMapEq = std::equal_to<>;

struct LoadBalancerCells {
  TargetCells all;
  std::array<OwnedCounter, 3> elb_codes;  // HTTPCode_ELB_3XX..5XX_Count
  OwnedCounter fixed_responses;           // HTTP_Fixed_Response_Count
  OwnedCounter redirects;                 // HTTP_Redirect_Count
  OwnedCounter new_connections;           // NewConnectionCount
  OwnedCounter active_connections;        // ActiveConnectionCount (client side)
  std::unordered_map<std::string, TargetCells, ArnHash, CellMapEq> groups;  // by target group ARN
  std::string_view last_group_key;
  TargetCells* last_group = nullptr;
  void elb_answered(unsigned status);
};

// One client connection counted while it is open: ActiveConnectionCount
// drops when this is destroyed (on the loop that made it).
class CountedConnection {
 public:
  CountedConnection() = default;
  explicit CountedConnection(LoadBalancerCells* lb) : lb_(lb) {}
  CountedConnection(CountedConnection&& o) noexcept : lb_(std::exchange(o.lb_, nullptr)) {}
  CountedConnection& operator=(CountedConnection&& o) noexcept;
  CountedConnection(const CountedConnection&) = delete;
  CountedConnection& operator=(const CountedConnection&) = delete;
  ~CountedConnection();

  // An answer of the load balancer's own on this connection before any
  // load balancer was chosen for a request (an unparseable request).
  void elb_response(unsigned status);

 private:
  LoadBalancerCells* lb_ = nullptr;
};

// The cells one event loop writes. Every method runs on that loop.
class LoopMetrics {
 public:
  LoopMetrics() = default;
  LoopMetrics(const LoopMetrics&) = delete;
  LoopMetrics& operator=(const LoopMetrics&) = delete;

  // An accepted client connection of this load balancer (NewConnectionCount, ActiveConnectionCount).
  CountedConnection connection_opened(std::string_view lb_arn);
  // An error answer made by the load balancer itself (400, 405, 463, 503 without a rule, ...).
  void elb_response(std::string_view lb_arn, unsigned status);
  void fixed_response(std::string_view lb_arn, unsigned status);
  void redirect(std::string_view lb_arn, unsigned status);
  // A forward action's outcome: alb_status non-zero when the load balancer
  // answered itself (503 there means no target could be chosen), else the
  // target's status and the time from sending the request to its response.
  void forwarded(std::string_view lb_arn, std::string_view tg_arn, unsigned alb_status, unsigned target_status,
                 std::chrono::nanoseconds elapsed);

  // For the scraper: calls fn(lb_arn, cells) under this loop's mutex.
  template <class Fn>
  void visit(Fn&& fn) const {
    std::lock_guard lock(insert_mutex_);
    for (const auto& [arn, cells] : lbs_) fn(std::string_view(arn), cells);
  }

 private:
  LoadBalancerCells& lb(std::string_view arn);
  TargetCells& group(LoadBalancerCells& lb, std::string_view arn);

  mutable std::mutex insert_mutex_;
  std::unordered_map<std::string, LoadBalancerCells, ArnHash, CellMapEq> lbs_;
  std::string_view last_lb_key_;
  LoadBalancerCells* last_lb_ = nullptr;
};

// Sums of one TargetCells over the loops (counters since the start).
struct TargetTotals {
  int64_t requests = 0;
  std::array<int64_t, 4> codes{};
  std::array<int64_t, kResponseTimeBuckets.size() + 1> buckets{};
  int64_t sum_ns = 0;
  int64_t count = 0;
  void add(const TargetCells& c);
};

struct GroupTotals {
  std::string arn;
  TargetTotals totals;
  int64_t healthy = 0;  // gauges: targets in the snapshot
  int64_t unhealthy = 0;
};

struct LbTotals {
  std::string arn;
  TargetTotals all;
  std::array<int64_t, 3> elb_codes{};
  int64_t fixed = 0, redirects = 0, new_connections = 0, active = 0;
  std::vector<GroupTotals> groups;  // the snapshot's order, then others seen
  GroupTotals& group(std::string_view group_arn);
};

class Metrics {
 public:
  explicit Metrics(size_t loops);
  LoopMetrics& loop(size_t index) { return *loops_[index]; }

  // The load balancers of the snapshot with their counters summed over the
  // loops (what render writes, and what CloudWatch's publisher reads). Any thread.
  std::vector<LbTotals> totals(const Snapshot& snapshot) const;

  // Every load balancer of the snapshot (with zeros until it sees traffic),
  // its target groups, and their targets' health. Any thread.
  std::string render(const Snapshot& snapshot) const;

 private:
  std::vector<std::unique_ptr<LoopMetrics>> loops_;
};

// CloudWatch's dimension values: "app/<name>/<id>" of a load balancer ARN,
// "targetgroup/<name>/<id>" of a target group ARN (the ARN itself if it has
// neither form).
std::string_view load_balancer_dimension(std::string_view arn);
std::string_view target_group_dimension(std::string_view arn);

}  // namespace berth::elb::dp
