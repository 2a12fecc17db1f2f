#include "ec2/network_store.h"

namespace berth::ec2 {
namespace {

Result<std::vector<VpcRecord>> query_vpcs(store::Tx& tx, std::string_view where, std::string_view arg) {
  auto stmt = tx.prepare("SELECT vpc_id, cidr, is_default, dhcp_options_id, owner_id FROM ec2_vpcs " +
                         std::string(where) + " ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  if (!arg.empty()) stmt->bind_text(1, arg);
  std::vector<VpcRecord> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back({stmt->column_string(0), stmt->column_string(1), stmt->column_int64(2) != 0,
                   stmt->column_string(3), stmt->column_string(4)});
  }
  return out;
}

Result<std::vector<SubnetRecord>> query_subnets(store::Tx& tx, std::string_view where, std::string_view arg) {
  auto stmt = tx.prepare(
      "SELECT subnet_id, vpc_id, cidr, availability_zone, availability_zone_id, default_for_az, map_public_ip, "
      "owner_id FROM ec2_subnets " + std::string(where) + " ORDER BY availability_zone, rowid");
  if (!stmt) return std::move(stmt).error();
  if (!arg.empty()) stmt->bind_text(1, arg);
  std::vector<SubnetRecord> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back({stmt->column_string(0), stmt->column_string(1), stmt->column_string(2), stmt->column_string(3),
                   stmt->column_string(4), stmt->column_int64(5) != 0, stmt->column_int64(6) != 0,
                   stmt->column_string(7)});
  }
  return out;
}

}  // namespace

Error vpc_not_found(std::string_view vpc_id) {
  return Error::not_found("InvalidVpcID.NotFound", "The vpc ID '" + std::string(vpc_id) + "' does not exist");
}

Error subnet_not_found(std::string_view subnet_id) {
  return Error::not_found("InvalidSubnetID.NotFound",
                          "The subnet ID '" + std::string(subnet_id) + "' does not exist");
}

Result<std::vector<VpcRecord>> list_vpcs(store::Tx& tx) { return query_vpcs(tx, "", ""); }
Result<std::vector<SubnetRecord>> list_subnets(store::Tx& tx) { return query_subnets(tx, "", ""); }

Result<VpcRecord> get_vpc(store::Tx& tx, std::string_view vpc_id) {
  auto rows = query_vpcs(tx, "WHERE vpc_id = ?", vpc_id.empty() ? "-" : vpc_id);
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return vpc_not_found(vpc_id);
  return std::move(rows->front());
}

Result<SubnetRecord> get_subnet(store::Tx& tx, std::string_view subnet_id) {
  auto rows = query_subnets(tx, "WHERE subnet_id = ?", subnet_id.empty() ? "-" : subnet_id);
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return subnet_not_found(subnet_id);
  return std::move(rows->front());
}

Result<SubnetRecord> default_subnet(store::Tx& tx, std::string_view availability_zone) {
  auto rows = availability_zone.empty()
                  ? query_subnets(tx, "WHERE default_for_az = 1", "")
                  : query_subnets(tx, "WHERE default_for_az = 1 AND availability_zone = ?", availability_zone);
  if (!rows) return std::move(rows).error();
  if (rows->empty()) {
    if (!availability_zone.empty())
      return Error::invalid("InvalidParameterValue",
                            "Invalid availability zone: [" + std::string(availability_zone) + "]");
    return Error::invalid("MissingInput", "No subnets found for the default VPC. Please specify a subnet.");
  }
  return std::move(rows->front());
}

}  // namespace berth::ec2
