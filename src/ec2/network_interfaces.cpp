// Elastic network interfaces made for other modules' resources, and
// DescribeNetworkInterfaces.
#include "ec2/network_interfaces.h"

#include <algorithm>
#include <chrono>

#include "core/ids.h"
#include "ec2/addresses.h"
#include "ec2/api_support.h"
#include "ec2/attachments.h"
#include "ec2/instances.h"
#include "ec2/network_store.h"
#include "ec2/sg_store.h"

namespace berth::ec2 {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Locally administered unicast, as EC2's own MACs ("0a:...").
std::string random_mac() {
  std::string hex = ids::random_hex(10);
  std::string mac = "0a";
  for (size_t i = 0; i < hex.size(); i += 2) mac += ":" + hex.substr(i, 2);
  return mac;
}

constexpr const char* kColumns =
    "eni_id, subnet_id, vpc_id, availability_zone, mac_address, private_ip, public_ip, security_groups, description, "
    "requester_id";

NetworkInterface read_row(store::Statement& s) {
  NetworkInterface n;
  n.id = s.column_string(0);
  n.subnet_id = s.column_string(1);
  n.vpc_id = s.column_string(2);
  n.availability_zone = s.column_string(3);
  n.mac_address = s.column_string(4);
  n.private_ip = s.column_string(5);
  n.public_ip = s.column_string(6);
  n.security_group_ids = split(s.column_string(7));
  n.description = s.column_string(8);
  n.requester_id = s.column_string(9);
  return n;
}

Result<std::vector<NetworkInterface>> list_network_interfaces(store::Tx& tx) {
  auto stmt = tx.prepare(std::string("SELECT ") + kColumns + " FROM ec2_network_interfaces ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  std::vector<NetworkInterface> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_row(*stmt));
  }
  return out;
}

// DescribeNetworkInterfaces's Filter.N: whether `n` passes `f`.
// group_names[i] is the name of n.security_group_ids[i].
Result<bool> passes_filter(const Filter& f, const NetworkInterface& n, const std::vector<std::string>& group_names) {
  auto any_group = [&](const std::vector<std::string>& values) {
    return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return any_value_matches(f, v); });
  };
  if (f.name == "network-interface-id") return any_value_matches(f, n.id);
  if (f.name == "subnet-id") return any_value_matches(f, n.subnet_id);
  if (f.name == "vpc-id") return any_value_matches(f, n.vpc_id);
  if (f.name == "availability-zone") return any_value_matches(f, n.availability_zone);
  if (f.name == "mac-address") return any_value_matches(f, n.mac_address);
  if (f.name == "private-ip-address" || f.name == "addresses.private-ip-address")
    return any_value_matches(f, n.private_ip);
  if (f.name == "association.public-ip" || f.name == "addresses.association.public-ip")
    return !n.public_ip.empty() && any_value_matches(f, n.public_ip);
  if (f.name == "description") return any_value_matches(f, n.description);
  if (f.name == "requester-id") return any_value_matches(f, n.requester_id);
  if (f.name == "requester-managed") return any_value_matches(f, "true");
  if (f.name == "status") return any_value_matches(f, "in-use");
  if (f.name == "interface-type") return any_value_matches(f, "interface");
  if (f.name == "group-id") return any_group(n.security_group_ids);
  if (f.name == "group-name") return any_group(group_names);
  return unknown_filter(f.name);
}

// One <item> of networkInterfaceSet.
void write_network_interface(api::XmlWriter& w, const NetworkInterface& n, const std::vector<std::string>& group_names,
                             const Context& ctx) {
  const std::string& region = ctx.options.region;
  std::string private_dns = private_dns_name(n.private_ip, region);
  // The public IP shows twice: on the interface and on its primary address.
  auto association = [&] {
    if (n.public_ip.empty()) return;
    w.open("association")
        .leaf("publicIp", n.public_ip)
        .leaf("publicDnsName", public_dns_name(n.public_ip, region))
        .leaf("ipOwnerId", "amazon")
        .close("association");
  };
  w.open("item")
      .leaf("networkInterfaceId", n.id)
      .leaf("subnetId", n.subnet_id)
      .leaf("vpcId", n.vpc_id)
      .leaf("availabilityZone", n.availability_zone)
      .leaf("description", n.description)
      .leaf("ownerId", ctx.options.account_id)
      .leaf("requesterId", n.requester_id)
      .leaf_bool("requesterManaged", true)
      .leaf("status", "in-use")
      .leaf("macAddress", n.mac_address)
      .leaf("privateIpAddress", n.private_ip)
      .leaf("privateDnsName", private_dns)
      .leaf_bool("sourceDestCheck", true);
  w.open("groupSet");
  for (size_t k = 0; k < n.security_group_ids.size(); ++k)
    w.open("item").leaf("groupId", n.security_group_ids[k]).leaf("groupName", group_names[k]).close("item");
  w.close("groupSet");
  association();
  w.open("privateIpAddressesSet").open("item")
      .leaf("privateIpAddress", n.private_ip)
      .leaf("privateDnsName", private_dns)
      .leaf_bool("primary", true);
  association();
  w.close("item").close("privateIpAddressesSet");
  w.empty("ipv6AddressesSet").leaf("interfaceType", "interface");
  w.close("item");
}

Result<std::string> describe_network_interfaces(const Context& ctx, const api::QueryView& q) {
  auto ids = string_list(q, "NetworkInterfaceId");
  if (!ids) return std::move(ids).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 5, 1000);
  if (!page) return std::move(page).error();
  // An unknown filter is an error even when there is no ENI to apply it to.
  for (const auto& f : *filters) {
    if (auto known = passes_filter(f, NetworkInterface{}, {}); !known) return std::move(known).error();
  }
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto all = list_network_interfaces(tx);
    if (!all) return std::move(all).error();
    for (const auto& id : *ids) {
      if (std::none_of(all->begin(), all->end(), [&](const NetworkInterface& n) { return n.id == id; }))
        return Error::not_found("InvalidNetworkInterfaceID.NotFound",
                                "The networkInterface ID '" + id + "' does not exist");
    }
    struct Row {
      const NetworkInterface* eni;
      std::vector<std::string> group_names;
    };
    std::vector<Row> rows;
    for (const auto& n : *all) {
      if (!ids->empty() && std::find(ids->begin(), ids->end(), n.id) == ids->end()) continue;
      Row row{&n, {}};
      for (const auto& g : n.security_group_ids) {
        auto group = find_group(tx, g);
        if (!group) return std::move(group).error();
        row.group_names.push_back(*group ? (*group)->name : std::string());
      }
      bool keep = true;
      for (const auto& f : *filters) {
        auto passes = passes_filter(f, n, row.group_names);
        if (!passes) return std::move(passes).error();
        keep = keep && *passes;
      }
      if (keep) rows.push_back(std::move(row));
    }
    std::string out;
    api::XmlWriter w(out);
    w.open("networkInterfaceSet");
    size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
    for (size_t i = page->offset; i < end; ++i) write_network_interface(w, *rows[i].eni, rows[i].group_names, ctx);
    w.close("networkInterfaceSet");
    write_next_token(w, next_token(*page, rows.size()));
    return out;
  });
}

}  // namespace

Result<NetworkInterface> create_network_interface(store::Tx& tx, const NetworkInterfaceSpec& spec) {
  auto subnet = get_subnet(tx, spec.subnet_id);
  if (!subnet) return std::move(subnet).error();
  NetworkInterface n;
  n.id = ids::prefixed("eni-");
  n.subnet_id = subnet->subnet_id;
  n.vpc_id = subnet->vpc_id;
  n.availability_zone = subnet->availability_zone;
  n.mac_address = random_mac();
  n.description = spec.description;
  n.requester_id = spec.requester_id;
  n.security_group_ids = spec.security_group_ids;
  if (n.security_group_ids.empty()) {
    auto group = find_group_by_name(tx, n.vpc_id, "default");
    if (!group) return std::move(group).error();
    if (*group) n.security_group_ids.push_back((*group)->group_id);
  }
  for (const auto& g : n.security_group_ids) {
    auto group = find_group(tx, g);
    if (!group) return std::move(group).error();
    if (!*group) return Error::not_found("InvalidGroup.NotFound", "The security group '" + g + "' does not exist");
    if ((*group)->vpc_id != n.vpc_id)
      return Error::invalid("InvalidParameter", "Security group " + g + " and subnet " + n.subnet_id +
                                                    " belong to different networks.");
  }
  auto ip = allocate_private_ip(tx, n.subnet_id, n.id);
  if (!ip) return std::move(ip).error();
  n.private_ip = *ip;
  if (spec.public_ip) {
    auto pub = allocate_public_ip(tx, spec.public_ip_block, n.id);
    if (!pub) return std::move(pub).error();
    n.public_ip = *pub;
  }
  if (auto st = attach_security_groups(tx, n.id, n.security_group_ids); !st) return std::move(st).error();
  auto st = tx.run(std::string("INSERT INTO ec2_network_interfaces(") + kColumns +
                       ", created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   n.id, n.subnet_id, n.vpc_id, n.availability_zone, n.mac_address, n.private_ip, n.public_ip,
                   join(n.security_group_ids), n.description, n.requester_id, to_millis(std::chrono::system_clock::now()));
  if (!st) return std::move(st).error();
  tx.record_change(kNetworkInterfacesTable, n.id, store::ChangeKind::kPut);
  return n;
}

Result<std::optional<NetworkInterface>> find_network_interface(store::Tx& tx, std::string_view id) {
  auto stmt = tx.prepare(std::string("SELECT ") + kColumns + " FROM ec2_network_interfaces WHERE eni_id = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(id);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<NetworkInterface>();
  return std::optional<NetworkInterface>(read_row(*stmt));
}

Status delete_network_interface(store::Tx& tx, std::string_view id) {
  if (auto st = release_private_ips(tx, id); !st) return st;
  if (auto st = release_public_ips(tx, id); !st) return st;
  if (auto st = detach_security_groups(tx, id); !st) return st;
  if (auto st = tx.run("DELETE FROM ec2_network_interfaces WHERE eni_id = ?", id); !st) return st;
  tx.record_change(kNetworkInterfacesTable, id, store::ChangeKind::kDelete);
  return Ok{};
}

void add_network_interface_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("DescribeNetworkInterfaces", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_network_interfaces(*ctx, query_of(in));
  });
}

}  // namespace berth::ec2
