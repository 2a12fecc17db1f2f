// elb/dataplane/private_route: how the load balancer reaches a target on a
// private (VPC) address, which has no socket on this host (DESIGN.md: "the
// ALB reaches targets on their private IPs through berth's own plumbing,
// carrying the ALB's security groups as its source"). The data plane does
// not link the runtime: the daemon injects a PrivateConnector over it.
//
//   proxy / health checker ──(private ip, port, ALB address, ALB groups)──> PrivateConnector
//        kOpened: a socket inside the target's namespace; connect it to 127.0.0.1:port
//        kDenied: dropped by the target's security groups (a connect that times out)
//        kNoRoute: nothing published there (dial the target's address: an instance's
//                  public address, an IP target's own; else refused)
//
// Instance targets go this way on their instance's private address; IP
// targets on their own address unless it is on the host (127.0.0.0/8): an
// awsvpc task's ENI address is one the runtime publishes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "ec2/security_group_rules.h"

namespace berth::elb::dp {

struct PrivateRoute {
  enum class Status : uint8_t { kOpened, kDenied, kNoRoute };
  Status status = Status::kNoRoute;
  int fd = -1;        // kOpened: owned by the caller, non-blocking, not yet connected
  uint16_t port = 0;  // kOpened: the port to connect to on the namespace's 127.0.0.1
};

using PrivateConnector = std::function<PrivateRoute(const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                                                    std::span<const ec2::GroupId> source_groups)>;

}  // namespace berth::elb::dp
