// CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer,
// SetSecurityGroups, SetSubnets, Describe/ModifyLoadBalancerAttributes.
#include <algorithm>
#include <random>

#include "core/ids.h"
#include "ec2/attachments.h"
#include "ec2/network_store.h"
#include "ec2/schema.h"
#include "ec2/sg_store.h"
#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

Result<LoadBalancer> find_lb(store::Tx& tx, const std::string& arn) {
  auto lb = get_object<LoadBalancer>(tx, Kind::kLoadBalancer, arn);
  if (!lb) return std::move(lb).error();
  if (!*lb) return load_balancer_not_found();
  return std::move(**lb);
}

// Subnets or SubnetMappings -> zones, at least two distinct AZs, one VPC.
Result<std::vector<ZoneSubnet>> resolve_subnets(store::Tx& tx, const api::QueryView& q, std::string& vpc_id) {
  auto subnets = member_strings(q, "Subnets");
  if (!subnets) return std::move(subnets).error();
  auto mappings = q.members("SubnetMappings");
  if (!mappings) return std::move(mappings).error();
  for (const auto& m : *mappings) subnets->emplace_back(m.get("SubnetId").value_or(""));
  std::vector<ZoneSubnet> zones;
  for (const auto& id : *subnets) {
    auto subnet = ec2::get_subnet(tx, id);
    if (!subnet) return elb_error("SubnetNotFound", "The subnet ID '" + id + "' is not valid");
    if (!vpc_id.empty() && subnet->vpc_id != vpc_id)
      return elb_error("InvalidSubnet", "The subnets must all belong to the same VPC");
    vpc_id = subnet->vpc_id;
    for (const auto& z : zones)
      if (z.zone == subnet->availability_zone)
        return elb_error("InvalidConfigurationRequest",
                         "A load balancer cannot be attached to multiple subnets in the same Availability Zone");
    zones.push_back({subnet->availability_zone, subnet->subnet_id});
  }
  if (zones.size() < 2)
    return validation_error("At least two subnets in two different Availability Zones must be specified");
  std::sort(zones.begin(), zones.end(), [](const ZoneSubnet& a, const ZoneSubnet& b) { return a.zone < b.zone; });
  return zones;
}

Result<std::vector<std::string>> resolve_groups(store::Tx& tx, const api::QueryView& q, const std::string& vpc_id) {
  auto groups = member_strings(q, "SecurityGroups");
  if (!groups) return std::move(groups).error();
  if (groups->empty()) {
    auto def = ec2::find_group_by_name(tx, vpc_id, "default");
    if (!def) return std::move(def).error();
    if (*def) groups->push_back((*def)->group_id);
  }
  for (const auto& g : *groups) {
    auto found = ec2::find_group(tx, g);
    if (!found) return std::move(found).error();
    if (!*found || (*found)->vpc_id != vpc_id)
      return elb_error("InvalidSecurityGroup", "One or more security groups are invalid");
  }
  return std::move(*groups);
}

Result<std::string> create_load_balancer(const Context& ctx, const api::QueryView& q) {
  auto name = required(q, "Name");
  if (!name) return std::move(name).error();
  if (!valid_name(*name) || name->rfind("internal-", 0) == 0)
    return validation_error("The load balancer name '" + *name +
                            "' cannot be longer than '32' characters, must contain only alphanumeric characters or "
                            "hyphens, must not begin or end with a hyphen, and must not begin with 'internal-'");
  std::string type = optional_string(q, "Type", "application");
  if (type != "application")
    return elb_error("UnsupportedProtocol", "berth supports load balancers of type 'application' only");
  std::string scheme = optional_string(q, "Scheme", "internet-facing");
  if (scheme != "internet-facing" && scheme != "internal")
    return validation_error("1 validation error detected: Value '" + scheme +
                            "' at 'scheme' failed to satisfy constraint: Member must satisfy enum value set: "
                            "[internet-facing, internal]");
  std::string ip_type = optional_string(q, "IpAddressType", "ipv4");
  if (ip_type != "ipv4") return elb_error("InvalidConfigurationRequest", "berth load balancers are ipv4 only");
  auto tags = parse_tags(q);
  if (!tags) return std::move(tags).error();
  WallTime now = ctx.clock.now();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    std::string vpc_id;
    auto zones = resolve_subnets(tx, q, vpc_id);
    if (!zones) return std::move(zones).error();
    auto groups = resolve_groups(tx, q, vpc_id);
    if (!groups) return std::move(groups).error();
    auto all = list_objects<LoadBalancer>(tx, Kind::kLoadBalancer);
    if (!all) return std::move(all).error();
    LoadBalancer lb;
    auto existing = std::find_if(all->begin(), all->end(), [&](const LoadBalancer& l) { return l.name == *name; });
    if (existing != all->end()) {
      if (existing->scheme != scheme || existing->security_groups != *groups || existing->zones.size() != zones->size())
        return elb_error("DuplicateLoadBalancerName",
                         "A load balancer with the same name '" + *name + "' exists, but with different settings");
      lb = *existing;
    } else {
      std::string id = ids::random_hex(16);
      std::uniform_int_distribution<uint64_t> digits(100000000, 2147483647);
      std::random_device rd;
      lb.arn = "arn:aws:elasticloadbalancing:" + ctx.options.region + ":" + ctx.options.account_id +
               ":loadbalancer/app/" + *name + "/" + id;
      lb.name = *name;
      lb.dns_name = (scheme == "internal" ? "internal-" : "") + *name + "-" + std::to_string(digits(rd)) + "." +
                    ctx.options.region + ".elb.localhost";
      lb.scheme = scheme;
      lb.vpc_id = vpc_id;
      lb.zones = std::move(*zones);
      lb.security_groups = std::move(*groups);
      lb.created_ms = to_ms(now);
      lb.attributes = default_load_balancer_attributes();
      lb.tags = std::move(*tags);
      if (auto st = put_object(tx, Kind::kLoadBalancer, lb.arn, lb); !st) return std::move(st).error();
      if (auto st = ec2::attach_security_groups(tx, lb.arn, lb.security_groups); !st) return std::move(st).error();
    }
    std::string out;
    api::XmlWriter w(out);
    w.open("LoadBalancers").open("member");
    write_load_balancer(w, lb, load_balancer_state(lb, now, ctx.options.provisioning));
    w.close("member").close("LoadBalancers");
    return out;
  });
}

Result<std::string> describe_load_balancers(const Context& ctx, const api::QueryView& q) {
  auto arns = member_strings(q, "LoadBalancerArns");
  if (!arns) return std::move(arns).error();
  auto names = member_strings(q, "Names");
  if (!names) return std::move(names).error();
  if (!arns->empty() && !names->empty())
    return validation_error("Load balancer names and load balancer ARNs cannot be specified at the same time");
  WallTime now = ctx.clock.now();
  auto all = ctx.db.read([&](store::Tx& tx) { return list_objects<LoadBalancer>(tx, Kind::kLoadBalancer); });
  if (!all) return std::move(all).error();
  std::vector<const LoadBalancer*> picked;
  if (!arns->empty()) {
    for (const auto& a : *arns) {
      auto it = std::find_if(all->begin(), all->end(), [&](const LoadBalancer& l) { return l.arn == a; });
      if (it == all->end()) return load_balancer_not_found();
      picked.push_back(&*it);
    }
  } else if (!names->empty()) {
    for (const auto& n : *names) {
      auto it = std::find_if(all->begin(), all->end(), [&](const LoadBalancer& l) { return l.name == n; });
      if (it == all->end()) return elb_error("LoadBalancerNotFound", "Load balancers '[" + n + "]' not found");
      picked.push_back(&*it);
    }
  } else {
    for (const auto& l : *all) picked.push_back(&l);
  }
  auto page = paginate(q, picked.size());
  if (!page) return std::move(page).error();
  std::string out;
  api::XmlWriter w(out);
  w.open("LoadBalancers");
  for (size_t i = page->begin; i < page->end; ++i) {
    w.open("member");
    write_load_balancer(w, *picked[i], load_balancer_state(*picked[i], now, ctx.options.provisioning));
    w.close("member");
  }
  w.close("LoadBalancers");
  if (!page->next_marker.empty()) w.leaf("NextMarker", page->next_marker);
  return out;
}

Result<std::string> delete_load_balancer(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "LoadBalancerArn");
  if (!arn) return std::move(arn).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto lb = get_object<LoadBalancer>(tx, Kind::kLoadBalancer, *arn);
    if (!lb) return std::move(lb).error();
    if (!*lb) return std::string();
    if ((*lb)->attributes["deletion_protection.enabled"] == "true")
      return elb_error("OperationNotPermitted",
                       "Load balancer '" + *arn + "' cannot be deleted because deletion protection is enabled");
    auto listeners = list_objects<Listener>(tx, Kind::kListener);
    if (!listeners) return std::move(listeners).error();
    auto rules = list_objects<Rule>(tx, Kind::kRule);
    if (!rules) return std::move(rules).error();
    for (const auto& l : *listeners) {
      if (l.load_balancer_arn != *arn) continue;
      for (const auto& r : *rules)
        if (r.listener_arn == l.arn)
          if (auto st = delete_object(tx, r.arn); !st) return std::move(st).error();
      if (auto st = delete_object(tx, l.arn); !st) return std::move(st).error();
    }
    if (auto st = ec2::detach_security_groups(tx, *arn); !st) return std::move(st).error();
    if (auto st = delete_object(tx, *arn); !st) return std::move(st).error();
    return std::string();
  });
}

Result<std::string> set_security_groups(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "LoadBalancerArn");
  if (!arn) return std::move(arn).error();
  if (!q.has_any("SecurityGroups"))
    return validation_error("1 validation error detected: Value null at 'securityGroups' failed to satisfy "
                            "constraint: Member must not be null");
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto lb = find_lb(tx, *arn);
    if (!lb) return std::move(lb).error();
    auto groups = resolve_groups(tx, q, lb->vpc_id);
    if (!groups) return std::move(groups).error();
    lb->security_groups = std::move(*groups);
    if (auto st = ec2::detach_security_groups(tx, lb->arn); !st) return std::move(st).error();
    if (auto st = ec2::attach_security_groups(tx, lb->arn, lb->security_groups); !st) return std::move(st).error();
    if (auto st = put_object(tx, Kind::kLoadBalancer, lb->arn, *lb); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    w.open("SecurityGroupIds");
    for (const auto& g : lb->security_groups) w.leaf("member", g);
    w.close("SecurityGroupIds");
    return out;
  });
}

Result<std::string> set_subnets(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "LoadBalancerArn");
  if (!arn) return std::move(arn).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto lb = find_lb(tx, *arn);
    if (!lb) return std::move(lb).error();
    std::string vpc_id = lb->vpc_id;
    auto zones = resolve_subnets(tx, q, vpc_id);
    if (!zones) return std::move(zones).error();
    lb->zones = std::move(*zones);
    if (auto st = put_object(tx, Kind::kLoadBalancer, lb->arn, *lb); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    w.open("AvailabilityZones");
    for (const auto& z : lb->zones)
      w.open("member").leaf("ZoneName", z.zone).leaf("SubnetId", z.subnet_id).open("LoadBalancerAddresses")
          .close("LoadBalancerAddresses").close("member");
    w.close("AvailabilityZones").leaf("IpAddressType", lb->ip_address_type);
    return out;
  });
}

Status check_lb_attribute(const std::string& key, const std::string& value) {
  auto is_bool = value == "true" || value == "false";
  auto int_in = [&](int64_t lo, int64_t hi) {
    if (value.empty() || !std::all_of(value.begin(), value.end(), ::isdigit) || value.size() > 9) return false;
    int64_t n = std::stoll(value);
    return n >= lo && n <= hi;
  };
  bool ok = true;
  if (key == "idle_timeout.timeout_seconds") ok = int_in(1, 4000);
  else if (key == "client_keep_alive.seconds") ok = int_in(60, 604800);
  else if (key.ends_with(".enabled")) ok = is_bool;
  else if (key == "routing.http.xff_header_processing.mode") ok = value == "append" || value == "preserve" || value == "remove";
  else if (key == "routing.http.desync_mitigation_mode") ok = value == "monitor" || value == "defensive" || value == "strictest";
  if (!ok)
    return elb_error("InvalidConfigurationRequest", "The value of '" + key + "' must be valid, not '" + value + "'");
  return Ok{};
}

Result<std::string> describe_lb_attributes(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "LoadBalancerArn");
  if (!arn) return std::move(arn).error();
  auto lb = ctx.db.read([&](store::Tx& tx) { return find_lb(tx, *arn); });
  if (!lb) return std::move(lb).error();
  std::string out;
  api::XmlWriter w(out);
  write_attributes(w, lb->attributes);
  return out;
}

Result<std::string> modify_lb_attributes(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "LoadBalancerArn");
  if (!arn) return std::move(arn).error();
  auto members = q.members("Attributes");
  if (!members) return std::move(members).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto lb = find_lb(tx, *arn);
    if (!lb) return std::move(lb).error();
    auto known = default_load_balancer_attributes();
    for (const auto& m : *members) {
      std::string key(m.get("Key").value_or(""));
      std::string value(m.get("Value").value_or(""));
      if (!known.count(key))
        return validation_error("Load balancer attribute key '" + key + "' is not recognized");
      if (auto st = check_lb_attribute(key, value); !st) return std::move(st).error();
      lb->attributes[key] = value;
    }
    if (auto st = put_object(tx, Kind::kLoadBalancer, lb->arn, *lb); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    write_attributes(w, lb->attributes);
    return out;
  });
}

}  // namespace

void add_load_balancer_operations(api::Service& service, const ContextPtr& ctx) {
  auto bind = [&](auto fn) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, query_of(in)); };
  };
  service.add("CreateLoadBalancer", bind(create_load_balancer));
  service.add("DescribeLoadBalancers", bind(describe_load_balancers));
  service.add("DeleteLoadBalancer", bind(delete_load_balancer));
  service.add("SetSecurityGroups", bind(set_security_groups));
  service.add("SetSubnets", bind(set_subnets));
  service.add("DescribeLoadBalancerAttributes", bind(describe_lb_attributes));
  service.add("ModifyLoadBalancerAttributes", bind(modify_lb_attributes));
}

}  // namespace berth::elb
