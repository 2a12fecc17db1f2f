// DescribeVpcs and DescribeSubnets (the default VPC is seeded in schema.cpp).
#include <algorithm>

#include "ec2/addresses.h"
#include "ec2/api_support.h"
#include "ec2/network_store.h"

namespace berth::ec2 {
namespace {

std::string bool_text(bool b) { return b ? "true" : "false"; }

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Result<std::string> describe_vpcs(const Context& ctx, const api::QueryView& q) {
  auto ids = string_list(q, "VpcId");
  if (!ids) return std::move(ids).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 5, 1000);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto vpcs = list_vpcs(tx);
    if (!vpcs) return std::move(vpcs).error();
    for (const auto& id : *ids)
      if (std::none_of(vpcs->begin(), vpcs->end(), [&](const VpcRecord& v) { return v.vpc_id == id; }))
        return vpc_not_found(id);
    struct Row {
      const VpcRecord* vpc;
      Tags tags;
    };
    std::vector<Row> rows;
    for (const auto& vpc : *vpcs) {
      if (!ids->empty() && !contains(*ids, vpc.vpc_id)) continue;
      auto tags = load_tags(tx, vpc.vpc_id);
      if (!tags) return std::move(tags).error();
      bool keep = true;
      for (const auto& f : *filters) {
        if (auto t = match_tag_filter(f, *tags)) keep = keep && *t;
        else if (f.name == "vpc-id") keep = keep && any_value_matches(f, vpc.vpc_id);
        else if (f.name == "is-default") keep = keep && any_value_matches(f, bool_text(vpc.is_default));
        else if (f.name == "cidr" || f.name == "cidr-block-association.cidr-block")
          keep = keep && any_value_matches(f, vpc.cidr);
        else if (f.name == "state" || f.name == "cidr-block-association.state")
          keep = keep && any_value_matches(f, f.name == "state" ? "available" : "associated");
        else if (f.name == "owner-id") keep = keep && any_value_matches(f, vpc.owner_id);
        else if (f.name == "dhcp-options-id") keep = keep && any_value_matches(f, vpc.dhcp_options_id);
        else return unknown_filter(f.name);
      }
      if (keep) rows.push_back({&vpc, std::move(*tags)});
    }
    std::string out;
    api::XmlWriter w(out);
    w.open("vpcSet");
    size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
    for (size_t i = page->offset; i < end; ++i) {
      const VpcRecord& v = *rows[i].vpc;
      std::string assoc = "vpc-cidr-assoc-" + v.vpc_id.substr(v.vpc_id.size() > 17 ? v.vpc_id.size() - 17 : 0);
      w.open("item")
          .leaf("vpcId", v.vpc_id)
          .leaf("ownerId", v.owner_id)
          .leaf("state", "available")
          .leaf("cidrBlock", v.cidr)
          .open("cidrBlockAssociationSet")
          .open("item")
          .leaf("cidrBlock", v.cidr)
          .leaf("associationId", assoc)
          .open("cidrBlockState").leaf("state", "associated").close("cidrBlockState")
          .close("item")
          .close("cidrBlockAssociationSet")
          .leaf("dhcpOptionsId", v.dhcp_options_id)
          .leaf("instanceTenancy", "default")
          .leaf_bool("isDefault", v.is_default);
      write_tag_set(w, rows[i].tags);
      w.close("item");
    }
    w.close("vpcSet");
    write_next_token(w, next_token(*page, rows.size()));
    return out;
  });
}

Result<std::string> describe_subnets(const Context& ctx, const api::QueryView& q) {
  auto ids = string_list(q, "SubnetId");
  if (!ids) return std::move(ids).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 5, 1000);
  if (!page) return std::move(page).error();
  const std::string& region = ctx.options.region;
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto subnets = list_subnets(tx);
    if (!subnets) return std::move(subnets).error();
    for (const auto& id : *ids)
      if (std::none_of(subnets->begin(), subnets->end(), [&](const SubnetRecord& s) { return s.subnet_id == id; }))
        return subnet_not_found(id);
    struct Row {
      const SubnetRecord* subnet;
      Tags tags;
      int64_t available;
    };
    std::vector<Row> rows;
    for (const auto& s : *subnets) {
      if (!ids->empty() && !contains(*ids, s.subnet_id)) continue;
      auto tags = load_tags(tx, s.subnet_id);
      if (!tags) return std::move(tags).error();
      auto available = available_ip_count(tx, s.subnet_id, s.cidr);
      if (!available) return std::move(available).error();
      bool keep = true;
      for (const auto& f : *filters) {
        if (auto t = match_tag_filter(f, *tags)) keep = keep && *t;
        else if (f.name == "vpc-id") keep = keep && any_value_matches(f, s.vpc_id);
        else if (f.name == "subnet-id") keep = keep && any_value_matches(f, s.subnet_id);
        else if (f.name == "default-for-az" || f.name == "defaultForAz" || f.name == "is-default")
          keep = keep && any_value_matches(f, bool_text(s.default_for_az));
        else if (f.name == "availability-zone" || f.name == "availabilityZone")
          keep = keep && any_value_matches(f, s.availability_zone);
        else if (f.name == "availability-zone-id" || f.name == "availabilityZoneId")
          keep = keep && any_value_matches(f, s.availability_zone_id);
        else if (f.name == "cidr-block" || f.name == "cidr" || f.name == "cidrBlock")
          keep = keep && any_value_matches(f, s.cidr);
        else if (f.name == "state") keep = keep && any_value_matches(f, "available");
        else if (f.name == "owner-id") keep = keep && any_value_matches(f, s.owner_id);
        else if (f.name == "map-public-ip-on-launch") keep = keep && any_value_matches(f, bool_text(s.map_public_ip));
        else if (f.name == "available-ip-address-count" || f.name == "availableIpAddressCount")
          keep = keep && any_value_matches(f, std::to_string(*available));
        else if (f.name == "subnet-arn")
          keep = keep && any_value_matches(f, "arn:aws:ec2:" + region + ":" + s.owner_id + ":subnet/" + s.subnet_id);
        else return unknown_filter(f.name);
      }
      if (keep) rows.push_back({&s, std::move(*tags), *available});
    }
    std::string out;
    api::XmlWriter w(out);
    w.open("subnetSet");
    size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
    for (size_t i = page->offset; i < end; ++i) {
      const SubnetRecord& s = *rows[i].subnet;
      w.open("item")
          .leaf("subnetId", s.subnet_id)
          .leaf("subnetArn", "arn:aws:ec2:" + region + ":" + s.owner_id + ":subnet/" + s.subnet_id)
          .leaf("state", "available")
          .leaf("ownerId", s.owner_id)
          .leaf("vpcId", s.vpc_id)
          .leaf("cidrBlock", s.cidr)
          .empty("ipv6CidrBlockAssociationSet")
          .leaf_int("availableIpAddressCount", rows[i].available)
          .leaf("availabilityZone", s.availability_zone)
          .leaf("availabilityZoneId", s.availability_zone_id)
          .leaf_bool("defaultForAz", s.default_for_az)
          .leaf_bool("mapPublicIpOnLaunch", s.map_public_ip)
          .leaf_bool("mapCustomerOwnedIpOnLaunch", false)
          .leaf_bool("assignIpv6AddressOnCreation", false)
          .leaf_bool("ipv6Native", false)
          .open("privateDnsNameOptionsOnLaunch")
          .leaf("hostnameType", "ip-name")
          .leaf_bool("enableResourceNameDnsARecord", false)
          .leaf_bool("enableResourceNameDnsAAAARecord", false)
          .close("privateDnsNameOptionsOnLaunch");
      write_tag_set(w, rows[i].tags);
      w.close("item");
    }
    w.close("subnetSet");
    write_next_token(w, next_token(*page, rows.size()));
    return out;
  });
}

}  // namespace

void add_vpc_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("DescribeVpcs", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_vpcs(*ctx, query_of(in));
  });
  service.add("DescribeSubnets", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_subnets(*ctx, query_of(in));
  });
}

}  // namespace berth::ec2
