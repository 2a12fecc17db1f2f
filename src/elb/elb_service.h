// elb/elb_service: the ELBv2 API (query protocol, version 2015-12-01,
// signing name elasticloadbalancing) as an api::Service over the store.
// This header is the module's public face for `berth serve` (see also
// elb_daemon.h, which adds the data plane and the health checker).
//
//   front door ──Operation──> handlers (one file per area) ──Tx──> elb_objects
//      load_balancer_ops.cpp  Create/Describe/Delete LoadBalancers, SetSecurityGroups, SetSubnets, attributes
//      target_group_ops.cpp   Create/Describe/Modify/Delete TargetGroups, attributes
//      target_ops.cpp         Register/DeregisterTargets, DescribeTargetHealth   <── HealthSource (memory)
//      listener_ops.cpp       Create/Describe/Modify/Delete Listeners
//      rule_ops.cpp           Create/Describe/Modify/Delete Rules, SetRulePriorities
//      tag_ops.cpp            AddTags/RemoveTags/DescribeTags
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "api/service.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace berth::elb {

struct ElbOptions {
  std::string region = "us-east-1";
  std::string account_id;
  // How long a new load balancer stays "provisioning".
  std::chrono::milliseconds provisioning{1000};
  // Whether RegisterTargets takes IP targets on this host (127.0.0.0/8),
  // which AWS never does (VPC, RFC 1918 and RFC 6598 addresses only). Safe
  // only when the load balancers listen on loopback themselves: on a
  // non-loopback --bind they would expose services that listen on loopback
  // only. start_elb decides (loopback bind, or --allow-loopback-targets).
  bool loopback_ip_targets = true;
};

// What DescribeTargetHealth reports for a registered target that is not
// draining (the health checker's in-memory state).
struct TargetHealthView {
  std::string state;        // initial | healthy | unhealthy | unused | draining | unavailable
  std::string reason;       // "" for healthy
  std::string description;  // "" for healthy
};

class HealthSource {
 public:
  virtual ~HealthSource() = default;
  // By registration key (model.h); nullopt when the checker has no session yet.
  virtual std::optional<TargetHealthView> health(std::string_view registration_key) const = 0;
};

// Applies the "elb" migrations; then the Service. db, clock and health
// (optional) must outlive the Service.
Result<api::Service> make_elb_service(store::Database& db, const Clock& clock, ElbOptions options,
                                      const HealthSource* health = nullptr);

}  // namespace berth::elb
