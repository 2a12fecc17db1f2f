// elb/elb_daemon: the load balancer inside `berth serve`: the API service,
// the routing builder that turns the store into snapshots, the data plane
// listeners and the health checker, started and stopped together.
//
//   store ──change feed──> RoutingBuilder ──snapshot──> Proxy (one server per listener port)
//                               ^    │                     │
//                 health changes│    └──targets──> HealthChecker ──probes──> targets
//                               └──────────────────────────┘
#pragma once

#include <memory>
#include <string>

#include "api/service.h"
#include "core/clock.h"
#include "core/error.h"
#include "elb/dataplane/private_route.h"
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
  // Stops listeners and health checks; idempotent. Call before the loops stop.
  virtual void stop() = 0;
};

Result<std::unique_ptr<ElbDaemon>> start_elb(store::Database& db, const Clock& clock, net::EventLoops& loops,
                                             const std::string& bind_address, const std::string& region,
                                             const std::string& account_id,
                                             dp::PrivateConnector private_connector = {});

}  // namespace berth::elb
