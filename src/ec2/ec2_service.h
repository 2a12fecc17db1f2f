// ec2/ec2_service: the EC2 API (protocol ec2, version 2016-11-15) as an
// api::Service, over the store. This header is the module's public face
// for `berth serve`; the data-plane and ECS hooks are in sg_publisher.h,
// attachments.h, addresses.h and instances.h.
//
//   front door ──Operation──> handlers (one file per area) ──Tx──> store "ec2" tables
//      regions.cpp          DescribeRegions / AvailabilityZones / AccountAttributes
//      vpcs.cpp             DescribeVpcs / DescribeSubnets (default VPC seeded in schema.cpp)
//      security_groups.cpp  Create / Describe / Delete SecurityGroup
//      sg_rule_ops.cpp      Authorize / Revoke Ingress+Egress, DescribeSecurityGroupRules
//      key_pairs.cpp        Create / Import / Describe / Delete KeyPair (crypto in key_crypto.cpp)
//      instance_ops.cpp     Run / Describe / Start / Stop / Terminate Instances, attributes
//      catalogue.cpp        DescribeInstanceTypes / DescribeImages (static catalogue)
#pragma once

#include <chrono>
#include <string>

#include "api/service.h"
#include "core/error.h"
#include "store/store.h"

namespace berth::ec2 {

// How long the transient instance states last. AWS takes tens of seconds;
// berth is quick but keeps the states visible, so waiters see real transitions.
struct InstanceTimings {
  std::chrono::milliseconds pending{1000};        // pending -> running
  std::chrono::milliseconds stopping{1000};       // stopping -> stopped
  std::chrono::milliseconds shutting_down{1000};  // shutting-down -> terminated
  std::chrono::milliseconds terminated_visible{std::chrono::hours(1)};  // then gone from Describe
};

struct Ec2Options {
  std::string region = "us-east-1";
  std::string account_id;  // 12 digits: OwnerId of everything
  // Public IPs are loopback addresses of this machine (DESIGN.md, "the host
  // plays the internet"), allocated from this block.
  std::string public_ip_block = "127.100.0.0/16";
  InstanceTimings timings;
};

// Applies the "ec2" migrations and creates, once, the default VPC, its
// default subnets (one /20 per AZ) and its default security group.
Status prepare_ec2_store(store::Database& db, const Ec2Options& options);

// prepare_ec2_store, then the Service with every operation. The Database
// must outlive the Service.
Result<api::Service> make_ec2_service(store::Database& db, Ec2Options options);

}  // namespace berth::ec2
