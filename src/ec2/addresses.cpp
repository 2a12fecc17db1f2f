#include "ec2/addresses.h"

#include "ec2/security_group_rules.h"

namespace berth::ec2 {
namespace {

struct Range {
  uint32_t first;  // inclusive
  uint32_t last;   // inclusive
};

std::optional<Range> usable_range(std::string_view cidr_text) {
  auto cidr = Cidr::parse_v4(cidr_text);
  if (!cidr || cidr->prefix_length() > 28) return std::nullopt;
  uint32_t network = cidr->network().v4_bits();
  uint32_t size = cidr->prefix_length() == 0 ? 0 : (uint32_t{1} << (32 - cidr->prefix_length()));
  return Range{network + 4, network + size - 2};
}

Result<std::string> subnet_cidr(store::Tx& tx, std::string_view subnet_id) {
  auto stmt = tx.prepare("SELECT cidr FROM ec2_subnets WHERE subnet_id = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(subnet_id);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row)
    return Error::not_found("InvalidSubnetID.NotFound", "The subnet ID '" + std::string(subnet_id) + "' does not exist");
  return stmt->column_string(0);
}

// The lowest value in [first, last] not in the sorted column of stmt.
Result<std::optional<uint32_t>> lowest_free(store::Statement& stmt, uint32_t first, uint32_t last,
                                            bool skip_edges) {
  uint64_t candidate = first;
  auto acceptable = [&](uint64_t a) { return !skip_edges || ((a & 0xff) != 0 && (a & 0xff) != 0xff); };
  while (candidate <= last && !acceptable(candidate)) ++candidate;
  for (;;) {
    auto row = stmt.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    uint64_t used = static_cast<uint64_t>(stmt.column_int64(0));
    if (used < candidate) continue;
    if (used > candidate) break;
    ++candidate;
    while (candidate <= last && !acceptable(candidate)) ++candidate;
  }
  if (candidate > last) return std::optional<uint32_t>{};
  return std::optional<uint32_t>{static_cast<uint32_t>(candidate)};
}

}  // namespace

Result<std::string> allocate_private_ip(store::Tx& tx, std::string_view subnet_id, std::string_view resource_id) {
  auto cidr = subnet_cidr(tx, subnet_id);
  if (!cidr) return std::move(cidr).error();
  auto range = usable_range(*cidr);
  if (!range) return Error::internal("subnet " + std::string(subnet_id) + " has an unusable CIDR " + *cidr);
  auto stmt = tx.prepare("SELECT address FROM ec2_private_ips WHERE subnet_id = ? ORDER BY address");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(subnet_id);
  auto free = lowest_free(*stmt, range->first, range->last, false);
  if (!free) return std::move(free).error();
  if (!*free)
    return Error::conflict("InsufficientFreeAddressesInSubnet",
                           "There are not enough free addresses in subnet '" + std::string(subnet_id) +
                               "' to satisfy the requested number of instances.");
  auto st = tx.run("INSERT INTO ec2_private_ips(subnet_id, address, resource_id) VALUES (?, ?, ?)", subnet_id,
                   static_cast<int64_t>(**free), resource_id);
  if (!st) return std::move(st).error();
  return IpAddress::v4(**free).to_string();
}

Status claim_private_ip(store::Tx& tx, std::string_view subnet_id, std::string_view address,
                        std::string_view resource_id) {
  auto cidr = subnet_cidr(tx, subnet_id);
  if (!cidr) return std::move(cidr).error();
  auto range = usable_range(*cidr);
  auto ip = IpAddress::parse(address);
  if (!range || !ip || !ip->is_v4() || ip->v4_bits() < range->first || ip->v4_bits() > range->last)
    return Error::invalid("InvalidParameterValue", "Address " + std::string(address) +
                                                       " does not fall within the subnet's address range");
  auto stmt = tx.prepare("SELECT 1 FROM ec2_private_ips WHERE subnet_id = ? AND address = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(subnet_id, static_cast<int64_t>(ip->v4_bits()));
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (*row)
    return Error::conflict("InvalidIPAddress.InUse", "Address " + std::string(address) + " is in use.");
  return tx.run("INSERT INTO ec2_private_ips(subnet_id, address, resource_id) VALUES (?, ?, ?)", subnet_id,
                static_cast<int64_t>(ip->v4_bits()), resource_id);
}

Status release_private_ips(store::Tx& tx, std::string_view resource_id) {
  return tx.run("DELETE FROM ec2_private_ips WHERE resource_id = ?", resource_id);
}

Result<std::string> allocate_public_ip(store::Tx& tx, std::string_view block, std::string_view resource_id) {
  auto cidr = Cidr::parse_v4(block);
  if (!cidr || cidr->prefix_length() < 8 || cidr->prefix_length() > 30 ||
      (cidr->network().v4_bits() >> 24) != 127)
    return Error::internal("the public IP block " + std::string(block) + " is not a loopback block");
  uint32_t first = cidr->network().v4_bits();
  uint32_t last = first + ((uint32_t{1} << (32 - cidr->prefix_length())) - 1);
  auto stmt = tx.prepare("SELECT address FROM ec2_public_ips WHERE address BETWEEN ? AND ? ORDER BY address");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(static_cast<int64_t>(first), static_cast<int64_t>(last));
  auto free = lowest_free(*stmt, first, last, true);
  if (!free) return std::move(free).error();
  if (!*free)
    return Error::conflict("AddressLimitExceeded", "The maximum number of addresses has been reached.");
  auto st = tx.run("INSERT INTO ec2_public_ips(address, resource_id) VALUES (?, ?)", static_cast<int64_t>(**free),
                   resource_id);
  if (!st) return std::move(st).error();
  return IpAddress::v4(**free).to_string();
}

Status release_public_ips(store::Tx& tx, std::string_view resource_id) {
  return tx.run("DELETE FROM ec2_public_ips WHERE resource_id = ?", resource_id);
}

Result<int64_t> available_ip_count(store::Tx& tx, std::string_view subnet_id, std::string_view cidr) {
  auto range = usable_range(cidr);
  if (!range) return int64_t{0};
  auto stmt = tx.prepare("SELECT count(*) FROM ec2_private_ips WHERE subnet_id = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(subnet_id);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  return static_cast<int64_t>(range->last - range->first + 1) - stmt->column_int64(0);
}

}  // namespace berth::ec2
