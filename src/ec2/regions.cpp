// DescribeRegions, DescribeAvailabilityZones, DescribeAccountAttributes.
#include <algorithm>

#include "ec2/api_support.h"
#include "ec2/schema.h"
#include "ec2/zones.h"

namespace berth::ec2 {
namespace {

bool listed(const std::vector<std::string>& wanted, std::string_view value) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), value) != wanted.end();
}

Result<std::string> describe_regions(const Context& ctx, const api::QueryView& q) {
  auto names = string_list(q, "RegionName");
  if (!names) return std::move(names).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  const auto& regions = known_regions();
  for (const auto& n : *names)
    if (std::find(regions.begin(), regions.end(), n) == regions.end())
      return invalid_parameter_value("Invalid region: " + n);
  std::string out;
  api::XmlWriter w(out);
  w.open("regionInfo");
  for (auto region : regions) {
    if (!listed(*names, region)) continue;
    std::string endpoint = "ec2." + std::string(region) + ".amazonaws.com";
    bool keep = true;
    for (const auto& f : *filters) {
      if (f.name == "region-name") keep = keep && any_value_matches(f, region);
      else if (f.name == "endpoint") keep = keep && any_value_matches(f, endpoint);
      else if (f.name == "opt-in-status") keep = keep && any_value_matches(f, "opt-in-not-required");
      else return unknown_filter(f.name);
    }
    if (!keep) continue;
    w.open("item").leaf("regionName", region).leaf("regionEndpoint", endpoint)
        .leaf("optInStatus", "opt-in-not-required").close("item");
  }
  w.close("regionInfo");
  return out;
}

Result<std::string> describe_availability_zones(const Context& ctx, const api::QueryView& q) {
  auto names = string_list(q, "ZoneName");
  if (!names) return std::move(names).error();
  auto zone_ids = string_list(q, "ZoneId");
  if (!zone_ids) return std::move(zone_ids).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  const std::string& region = ctx.options.region;
  auto zones = zones_of(region);
  for (const auto& n : *names)
    if (std::none_of(zones.begin(), zones.end(), [&](const Zone& z) { return z.name == n; }))
      return invalid_parameter_value("Invalid availability zone: [" + n + "]");
  for (const auto& n : *zone_ids)
    if (std::none_of(zones.begin(), zones.end(), [&](const Zone& z) { return z.id == n; }))
      return invalid_parameter_value("Invalid availability zone: [" + n + "]");
  std::string out;
  api::XmlWriter w(out);
  w.open("availabilityZoneInfo");
  for (const auto& z : zones) {
    if (!listed(*names, z.name) || !listed(*zone_ids, z.id)) continue;
    bool keep = true;
    for (const auto& f : *filters) {
      if (f.name == "zone-name") keep = keep && any_value_matches(f, z.name);
      else if (f.name == "zone-id") keep = keep && any_value_matches(f, z.id);
      else if (f.name == "state") keep = keep && any_value_matches(f, "available");
      else if (f.name == "region-name" || f.name == "group-name" || f.name == "network-border-group")
        keep = keep && any_value_matches(f, region);
      else if (f.name == "zone-type") keep = keep && any_value_matches(f, "availability-zone");
      else if (f.name == "opt-in-status") keep = keep && any_value_matches(f, "opt-in-not-required");
      else return unknown_filter(f.name);
    }
    if (!keep) continue;
    w.open("item")
        .leaf("zoneName", z.name)
        .leaf("zoneState", "available")
        .leaf("regionName", region)
        .leaf("zoneId", z.id)
        .leaf("groupName", region)
        .leaf("networkBorderGroup", region)
        .leaf("optInStatus", "opt-in-not-required")
        .leaf("zoneType", "availability-zone")
        .empty("messageSet")
        .close("item");
  }
  w.close("availabilityZoneInfo");
  return out;
}

Result<std::string> describe_account_attributes(const Context& ctx, const api::QueryView& q) {
  auto names = string_list(q, "AttributeName");
  if (!names) return std::move(names).error();
  auto vpc = ctx.db.read([](store::Tx& tx) { return default_vpc_id(tx); });
  std::string default_vpc = vpc ? *vpc : "none";
  const std::pair<std::string_view, std::string> attributes[] = {
      {"supported-platforms", "VPC"},
      {"vpc-max-security-groups-per-interface", "5"},
      {"max-elastic-ips", "5"},
      {"max-instances", "20"},
      {"vpc-max-elastic-ips", "5"},
      {"default-vpc", default_vpc},
  };
  for (const auto& n : *names)
    if (std::none_of(std::begin(attributes), std::end(attributes), [&](const auto& a) { return a.first == n; }))
      return invalid_parameter_value("Value (" + n + ") for parameter attributeName is invalid. Unknown attribute.");
  std::string out;
  api::XmlWriter w(out);
  w.open("accountAttributeSet");
  for (const auto& [name, value] : attributes) {
    if (!listed(*names, name)) continue;
    w.open("item").leaf("attributeName", name).open("attributeValueSet").open("item")
        .leaf("attributeValue", value).close("item").close("attributeValueSet").close("item");
  }
  w.close("accountAttributeSet");
  return out;
}

}  // namespace

void add_region_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("DescribeRegions", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_regions(*ctx, query_of(in));
  });
  service.add("DescribeAvailabilityZones", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_availability_zones(*ctx, query_of(in));
  });
  service.add("DescribeAccountAttributes", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_account_attributes(*ctx, query_of(in));
  });
}

}  // namespace berth::ec2
