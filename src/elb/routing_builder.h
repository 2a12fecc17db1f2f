// elb/routing_builder: turns the stored configuration plus the health
// checker's memory into the data plane's Snapshot, and the probe list into
// health-check sessions. Runs on the change feed (after every committed elb
// or ec2 instance change) and on every health change; never on a request path.
//
//   store ──load_config──> Config ─┐
//   instances (ec2) ──addresses────┼─ build_snapshot ──> Proxy::publish
//   HealthChecker::healths() ──────┤       └─ probe_specs ──> HealthChecker::update
//   InFlightCounters (by key) ─────┘  (each target's in-flight counter, kept across snapshots)
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "elb/dataplane/in_flight.h"
#include "elb/dataplane/routing.h"
#include "elb/health/health_checker.h"
#include "elb/model.h"
#include "store/store.h"

namespace berth::elb {

// What the builder knows of an instance target.
struct InstanceEndpoint {
  std::string address;  // where its ports answer (public loopback address, else private)
  std::vector<std::string> groups;
  std::string private_address;  // its VPC address (reached through the private connector)
};
// Instance id -> endpoint (running instances only).
using AddressBook = std::map<std::string, InstanceEndpoint, std::less<>>;
using HealthMap = std::map<std::string, dp::Health, std::less<>>;
using HealthySince = std::map<std::string, std::chrono::steady_clock::time_point, std::less<>>;
// Load balancer ARN -> its own address in its VPC (the source of its
// connections to targets on private addresses).
using LbAddresses = std::map<std::string, std::string, std::less<>>;

// The snapshot for a configuration. Draining targets are left out; targets
// without a health entry are initial. Each target's in-flight counter comes
// from `in_flight` by registration key (shared with older snapshots' requests);
// a fresh one each when it is null. Pure but for that registry.
std::shared_ptr<const dp::Snapshot> build_snapshot(const Config& config, const HealthMap& health,
                                                   const AddressBook& addresses, const HealthySince& since = {},
                                                   const LbAddresses& lb_addresses = {},
                                                   dp::InFlightCounters* in_flight = nullptr);
// Pure: one probe per registered, non-draining target of every target group
// a listener or rule uses.
std::vector<ProbeSpec> probe_specs(const Config& config, const AddressBook& addresses,
                                   const LbAddresses& lb_addresses = {});

class RoutingBuilder {
 public:
  using Publish = std::function<void(std::shared_ptr<const dp::Snapshot>)>;
  // checker and in_flight may be null; both must outlive the builder.
  // loopback_ip_targets: whether IP targets on 127.0.0.0/8 are routed and
  // checked (ElbOptions::loopback_ip_targets).
  RoutingBuilder(store::Database& db, Publish publish, HealthChecker* checker,
                 dp::InFlightCounters* in_flight = nullptr, bool loopback_ip_targets = true);

  // Loads, publishes and subscribes to the change feed.
  Status start();
  // Re-reads the store (what the subscription does).
  Status reload();
  // Rebuilds from the last configuration with fresh health (health changes).
  void rebuild();
  void stop();

 private:
  store::Database& db_;
  Publish publish_;
  HealthChecker* checker_;
  dp::InFlightCounters* in_flight_;
  bool loopback_ip_targets_;
  std::mutex mutex_;
  Config config_;
  AddressBook addresses_;
  LbAddresses lb_addresses_;
  store::Subscription subscription_;
};

}  // namespace berth::elb
