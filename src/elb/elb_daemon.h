// elb/elb_daemon: the load balancer inside `berth serve`: the API service,
// the routing builder that turns the store into snapshots, the data plane
// listeners and the health checker, started and stopped together.
//
//   store ──change feed──> RoutingBuilder ──snapshot──> Proxy (one server per listener port)
//                            ^   │   ^ counters by key        │ +1 / -1 per request on its target's counter
//             health changes │   │   └── InFlightCounters <───┘ (kept across snapshots)
//                            │   └──targets──> HealthChecker ──probes──> targets
//                            └─────────────────────┘
//
// ECS writes its registrations through targets.h in its own transactions,
// watches their health (target_health, set_health_listener: the checker),
// and ends a deregistered target's draining early once requests_in_flight
// (the counters) is 0; DescribeTargetHealth still shows it draining for the
// whole delay.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/service.h"
#include "core/clock.h"
#include "core/error.h"
#include "elb/dataplane/metrics.h"
#include "elb/dataplane/private_route.h"
#include "elb/elb_service.h"
#include "net/event_loops.h"
#include "store/store.h"

namespace berth::elb {

class ElbDaemon {
 public:
  virtual ~ElbDaemon() = default;
  // The API service (once).
  virtual api::Service take_service() = 0;
  // The data plane's metrics in Prometheus text format (/_berth/metrics). Any thread.
  virtual std::string metrics_text() const = 0;
  // The same counters, structured (for CloudWatch's AWS/ApplicationELB). Any thread.
  virtual std::vector<dp::LbTotals> metric_totals() const = 0;
  // The health checker's view of one registration (registration_key in model.h); nullopt when it has no session. Any thread.
  virtual std::optional<TargetHealthView> target_health(std::string_view registration_key) const = 0;
  // Called (on the checker's thread, after the routing rebuild) whenever some target's health state changes. Set once, before traffic; must return quickly.
  virtual void set_health_listener(std::function<void()> listener) = 0;
  // Requests the data plane has in flight to that target right now (across all loops), including a target that has left the routing snapshot because it is draining. Any thread.
  virtual int64_t requests_in_flight(std::string_view registration_key) const = 0;
  // Stops listeners and health checks; idempotent. Call before the loops stop.
  virtual void stop() = 0;
};

Result<std::unique_ptr<ElbDaemon>> start_elb(store::Database& db, const Clock& clock, net::EventLoops& loops,
                                             const std::string& bind_address, const std::string& region,
                                             const std::string& account_id,
                                             dp::PrivateConnector private_connector = {},
                                             bool allow_loopback_targets = false);

}  // namespace berth::elb
