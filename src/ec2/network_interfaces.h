// ec2/network_interfaces: elastic network interfaces that other modules
// make for their resources (ECS awsvpc and FARGATE tasks), inside their own
// store transactions, and DescribeNetworkInterfaces, where users find a
// task's public IP as on AWS.
//
//   ecs RunTask (awsvpc) ──create_network_interface──> ec2_network_interfaces
//                                                      + a private IP of the subnet (addresses.h)
//                                                      + a public IP from the loopback block, if asked
//                                                      + security groups attached (attachments.h)
//   ecs task STOPPED ──delete_network_interface──> all of it released
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace berth::ec2 {

inline constexpr std::string_view kNetworkInterfacesTable = "ec2_network_interfaces";
// Where public IPs come from (Ec2Options::public_ip_block's default).
inline constexpr std::string_view kDefaultPublicIpBlock = "127.100.0.0/16";

struct NetworkInterfaceSpec {
  std::string subnet_id;
  std::vector<std::string> security_group_ids;  // empty: the subnet's VPC's default group
  bool public_ip = false;
  std::string public_ip_block = std::string(kDefaultPublicIpBlock);
  std::string description;
  std::string requester_id;  // who manages it ("amazon-ecs" style), shown as requesterId
};

struct NetworkInterface {
  std::string id;  // "eni-" + 17 hex
  std::string subnet_id;
  std::string vpc_id;
  std::string availability_zone;
  std::string mac_address;  // "0a:..", locally administered
  std::string private_ip;
  std::string public_ip;  // empty: none
  std::vector<std::string> security_group_ids;
  std::string description;
  std::string requester_id;
};

// InvalidSubnetID.NotFound, InvalidGroup.NotFound, InvalidParameter (a group
// of another VPC), InsufficientFreeAddressesInSubnet.
Result<NetworkInterface> create_network_interface(store::Tx& tx, const NetworkInterfaceSpec& spec);
Result<std::optional<NetworkInterface>> find_network_interface(store::Tx& tx, std::string_view id);
// Releases its addresses and group attachments; Ok when it is not there.
Status delete_network_interface(store::Tx& tx, std::string_view id);

}  // namespace berth::ec2
