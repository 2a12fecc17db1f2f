// elb/health/health_checker: one probing session per target per target
// group (envoy's health_checker_base: sessions with their own timers that
// only flip health bits). Sessions run on one event loop; the results live
// in memory, read by DescribeTargetHealth (HealthSource) and by the routing
// builder, which publishes them to the data plane in a new snapshot.
//
//   update(specs) ──> sessions: probe (GET path, timeout) ─> HealthState ─changed─> on_change()
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ec2/connection_policy.h"
#include "elb/dataplane/private_route.h"
#include "elb/dataplane/routing.h"
#include "elb/elb_service.h"
#include "elb/health/health_state.h"

namespace berth::elb {

struct ProbeSpec {
  std::string key;  // registration key
  std::string address;
  uint16_t port = 0;
  std::string path = "/";
  std::string matcher = "200";
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds timeout{5'000};
  int healthy_threshold = 5;
  int unhealthy_threshold = 2;
  // Instance targets: the load balancer's groups must reach the target's
  // (flow_allowed); a refused flow is a probe that times out, as on AWS.
  // source_groups are also what a private route carries.
  std::vector<std::string> source_groups;
  std::vector<std::string> target_groups;
  // The private address the checker's PrivateConnector tries first, from the
  // load balancer's own address (source_address): an instance's VPC address,
  // or an IP target's address off the host (routing_builder.cpp).
  std::string private_address;
  std::string source_address;

  bool operator==(const ProbeSpec&) const = default;
};

// One HTTP health check: connect, GET path with `User-Agent: ELB-HealthChecker/2.0`, read the status.
// A target with a private address published through `connector` is reached
// that way (its security groups decide there; a drop times out); otherwise
// on its address, where `groups` decides instance targets' flows.
boost::asio::awaitable<ProbeResult> probe_once(boost::asio::io_context& io, ProbeSpec spec,
                                               const dp::PrivateConnector& connector = {},
                                               std::shared_ptr<const ec2::SecurityGroupTable> groups = nullptr);

class HealthChecker final : public HealthSource {
 public:
  using Groups = std::function<std::shared_ptr<const ec2::SecurityGroupTable>()>;
  HealthChecker(boost::asio::io_context& io, std::function<void()> on_change, Groups groups = {},
                dp::PrivateConnector connector = {});
  ~HealthChecker() override;

  // The sessions to run; others stop. Any thread.
  void update(std::vector<ProbeSpec> specs);
  std::optional<TargetHealthView> health(std::string_view key) const override;
  std::map<std::string, dp::Health, std::less<>> healths() const;
  // When each healthy target last became healthy beside another healthy
  // target of its group (slow start); the epoch for one that was alone.
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> healthy_since() const;
  // No more callbacks; sessions end at their next wake-up.
  void stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace berth::elb
