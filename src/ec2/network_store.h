// ec2/network_store: VPC and subnet rows, read inside a caller's transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace berth::ec2 {

struct VpcRecord {
  std::string vpc_id;
  std::string cidr;
  bool is_default = false;
  std::string dhcp_options_id;
  std::string owner_id;
};

struct SubnetRecord {
  std::string subnet_id;
  std::string vpc_id;
  std::string cidr;
  std::string availability_zone;
  std::string availability_zone_id;
  bool default_for_az = false;
  bool map_public_ip = false;
  std::string owner_id;
};

Result<std::vector<VpcRecord>> list_vpcs(store::Tx& tx);
Result<std::vector<SubnetRecord>> list_subnets(store::Tx& tx);
// InvalidVpcID.NotFound / InvalidSubnetID.NotFound when absent.
Result<VpcRecord> get_vpc(store::Tx& tx, std::string_view vpc_id);
Result<SubnetRecord> get_subnet(store::Tx& tx, std::string_view subnet_id);
// The default subnet of a zone ("" = the first zone that has one).
Result<SubnetRecord> default_subnet(store::Tx& tx, std::string_view availability_zone);

Error vpc_not_found(std::string_view vpc_id);
Error subnet_not_found(std::string_view subnet_id);

}  // namespace berth::ec2
