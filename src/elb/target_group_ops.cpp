// CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup,
// DeleteTargetGroup, Describe/ModifyTargetGroupAttributes (§3.2, §3.4).
#include <algorithm>
#include <charconv>

#include "core/ids.h"
#include "ec2/network_store.h"
#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {
namespace {

Result<TargetGroup> find_tg(store::Tx& tx, const std::string& arn) {
  auto tg = get_object<TargetGroup>(tx, Kind::kTargetGroup, arn);
  if (!tg) return std::move(tg).error();
  if (!*tg) return target_group_not_found();
  return std::move(**tg);
}

Error out_of_range(std::string_view field, int64_t value, int64_t lo, int64_t hi) {
  std::string f(field);
  f[0] = static_cast<char>(std::tolower(f[0]));
  return validation_error("1 validation error detected: Value '" + std::to_string(value) + "' at '" + f +
                          "' failed to satisfy constraint: Member must have value " +
                          (value < lo ? "greater than or equal to " + std::to_string(lo)
                                      : "less than or equal to " + std::to_string(hi)));
}

// The health-check members shared by Create and Modify.
Status apply_health_check(const api::QueryView& q, TargetGroup& tg) {
  struct IntField {
    std::string_view key;
    int64_t* target;
    int64_t lo, hi;
  } fields[] = {
      {"HealthCheckIntervalSeconds", &tg.health_check_interval, 5, 300},
      {"HealthCheckTimeoutSeconds", &tg.health_check_timeout, 2, 120},
      {"HealthyThresholdCount", &tg.healthy_threshold, 2, 10},
      {"UnhealthyThresholdCount", &tg.unhealthy_threshold, 2, 10},
  };
  for (auto& f : fields) {
    auto v = optional_int(q, f.key);
    if (!v) return std::move(v).error();
    if (!*v) continue;
    if (**v < f.lo || **v > f.hi) return out_of_range(f.key, **v, f.lo, f.hi);
    *f.target = **v;
  }
  if (tg.health_check_timeout >= tg.health_check_interval)
    return validation_error("Health check interval must be greater than the timeout.");
  if (auto path = q.get("HealthCheckPath")) {
    if (path->empty() || path->size() > 1024 || (*path)[0] != '/')
      return validation_error("Health check path must begin with '/' and be 1-1024 characters long");
    tg.health_check_path = std::string(*path);
  }
  if (auto port = q.get("HealthCheckPort")) {
    if (*port != "traffic-port") {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(port->data(), port->data() + port->size(), n);
      if (ec != std::errc() || p != port->data() + port->size() || n < 1 || n > 65535)
        return validation_error("Health check port '" + std::string(*port) + "' must be 'traffic-port' or 1-65535");
    }
    tg.health_check_port = std::string(*port);
  }
  if (auto proto = q.get("HealthCheckProtocol")) {
    if (*proto != "HTTP" && *proto != "HTTPS")
      return validation_error("Health check protocol '" + std::string(*proto) + "' is not supported for this target group");
    tg.health_check_protocol = std::string(*proto);
  }
  auto enabled = optional_bool(q, "HealthCheckEnabled");
  if (!enabled) return std::move(enabled).error();
  if (*enabled && !**enabled && (tg.target_type == "instance" || tg.target_type == "ip"))
    return elb_error("InvalidConfigurationRequest",
                     "Health checks cannot be disabled for target groups with target type '" + tg.target_type + "'");
  if (auto code = q.get("Matcher.HttpCode")) {
    // "200", "200,202", "200-299", each within 200-499.
    std::string_view rest = *code;
    bool ok = !rest.empty();
    while (ok && !rest.empty()) {
      auto comma = rest.find(',');
      auto piece = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      auto dash = piece.find('-');
      for (auto part : {piece.substr(0, dash), dash == std::string_view::npos ? piece : piece.substr(dash + 1)}) {
        int n = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
        if (ec != std::errc() || p != part.data() + part.size() || n < 200 || n > 499) ok = false;
      }
    }
    if (!ok)
      return validation_error("Invalid matcher HTTP code '" + std::string(*code) +
                              "': it must be a value from 200 to 499, a comma-separated list or a range");
    tg.matcher = std::string(*code);
  }
  return Ok{};
}

bool same_settings(const TargetGroup& a, const TargetGroup& b) {
  return a.protocol == b.protocol && a.port == b.port && a.vpc_id == b.vpc_id && a.target_type == b.target_type &&
         a.health_check_path == b.health_check_path && a.health_check_port == b.health_check_port &&
         a.health_check_interval == b.health_check_interval && a.health_check_timeout == b.health_check_timeout &&
         a.healthy_threshold == b.healthy_threshold && a.unhealthy_threshold == b.unhealthy_threshold &&
         a.matcher == b.matcher;
}

std::string write_groups(const Config& config, const std::vector<const TargetGroup*>& groups, const Page& page) {
  std::string out;
  api::XmlWriter w(out);
  w.open("TargetGroups");
  for (size_t i = page.begin; i < page.end; ++i) {
    w.open("member");
    write_target_group(w, *groups[i], load_balancers_of_group(config, groups[i]->arn));
    w.close("member");
  }
  w.close("TargetGroups");
  if (!page.next_marker.empty()) w.leaf("NextMarker", page.next_marker);
  return out;
}

Result<std::string> create_target_group(const Context& ctx, const api::QueryView& q) {
  auto name = required(q, "Name");
  if (!name) return std::move(name).error();
  bool name_ok = name->size() <= 32 && name->front() != '-' && name->back() != '-' &&
                 std::all_of(name->begin(), name->end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
  if (!name_ok)
    return validation_error("Target group name '" + *name +
                            "' can only contain characters that are alphanumeric characters or hyphens(-)");
  TargetGroup tg;
  tg.name = *name;
  tg.target_type = optional_string(q, "TargetType", "instance");
  if (tg.target_type != "instance" && tg.target_type != "ip")
    return elb_error("InvalidConfigurationRequest", "berth supports target types 'instance' and 'ip'");
  tg.protocol = optional_string(q, "Protocol");
  if (tg.protocol.empty())
    return validation_error("A protocol must be specified for target groups with target type '" + tg.target_type + "'");
  if (tg.protocol != "HTTP" && tg.protocol != "HTTPS")
    return elb_error("UnsupportedProtocol", "Protocol '" + tg.protocol + "' is not supported by berth target groups");
  auto port = optional_int(q, "Port");
  if (!port) return std::move(port).error();
  if (!*port) return validation_error("A port must be specified");
  if (**port < 1 || **port > 65535) return out_of_range("Port", **port, 1, 65535);
  tg.port = **port;
  tg.vpc_id = optional_string(q, "VpcId");
  if (tg.vpc_id.empty()) return validation_error("A VPC ID must be specified");
  tg.protocol_version = optional_string(q, "ProtocolVersion", "HTTP1");
  if (tg.protocol_version != "HTTP1")
    return elb_error("InvalidConfigurationRequest", "berth supports protocol version HTTP1 only");
  tg.health_check_protocol = tg.protocol;
  if (auto st = apply_health_check(q, tg); !st) return std::move(st).error();
  auto tags = parse_tags(q);
  if (!tags) return std::move(tags).error();
  tg.tags = std::move(*tags);
  tg.attributes = default_target_group_attributes();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    if (auto vpc = ec2::get_vpc(tx, tg.vpc_id); !vpc)
      return validation_error("The VPC ID '" + tg.vpc_id + "' is not found");
    auto config = load_config(tx);
    if (!config) return std::move(config).error();
    auto it = std::find_if(config->target_groups.begin(), config->target_groups.end(),
                           [&](const TargetGroup& g) { return g.name == tg.name; });
    const TargetGroup* result = nullptr;
    if (it != config->target_groups.end()) {
      if (!same_settings(*it, tg))
        return elb_error("DuplicateTargetGroupName",
                         "A target group with the same name '" + tg.name + "' exists, but with different settings");
      result = &*it;
    } else {
      tg.arn = "arn:aws:elasticloadbalancing:" + ctx.options.region + ":" + ctx.options.account_id + ":targetgroup/" +
               tg.name + "/" + ids::random_hex(16);
      tg.created_ms = to_ms(ctx.clock.now());
      if (auto st = put_object(tx, Kind::kTargetGroup, tg.arn, tg); !st) return std::move(st).error();
      result = &tg;
    }
    return write_groups(*config, {result}, Page{0, 1, {}});
  });
}

Result<std::string> describe_target_groups(const Context& ctx, const api::QueryView& q) {
  auto arns = member_strings(q, "TargetGroupArns");
  if (!arns) return std::move(arns).error();
  auto names = member_strings(q, "Names");
  if (!names) return std::move(names).error();
  std::string lb_arn = optional_string(q, "LoadBalancerArn");
  auto config = ctx.db.read([](store::Tx& tx) { return load_config(tx); });
  if (!config) return std::move(config).error();
  std::vector<const TargetGroup*> picked;
  auto& all = config->target_groups;
  if (!arns->empty()) {
    for (const auto& a : *arns) {
      auto it = std::find_if(all.begin(), all.end(), [&](const TargetGroup& g) { return g.arn == a; });
      if (it == all.end()) return target_group_not_found();
      picked.push_back(&*it);
    }
  } else if (!names->empty()) {
    for (const auto& n : *names) {
      auto it = std::find_if(all.begin(), all.end(), [&](const TargetGroup& g) { return g.name == n; });
      if (it == all.end()) return elb_error("TargetGroupNotFound", "Target groups '[" + n + "]' not found");
      picked.push_back(&*it);
    }
  } else {
    if (!lb_arn.empty() && std::none_of(config->load_balancers.begin(), config->load_balancers.end(),
                                        [&](const LoadBalancer& l) { return l.arn == lb_arn; }))
      return load_balancer_not_found();
    for (const auto& g : all) {
      if (!lb_arn.empty()) {
        auto lbs = load_balancers_of_group(*config, g.arn);
        if (std::find(lbs.begin(), lbs.end(), lb_arn) == lbs.end()) continue;
      }
      picked.push_back(&g);
    }
  }
  auto page = paginate(q, picked.size());
  if (!page) return std::move(page).error();
  return write_groups(*config, picked, *page);
}

Result<std::string> modify_target_group(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "TargetGroupArn");
  if (!arn) return std::move(arn).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto tg = find_tg(tx, *arn);
    if (!tg) return std::move(tg).error();
    if (auto st = apply_health_check(q, *tg); !st) return std::move(st).error();
    if (auto st = put_object(tx, Kind::kTargetGroup, tg->arn, *tg); !st) return std::move(st).error();
    auto config = load_config(tx);
    if (!config) return std::move(config).error();
    return write_groups(*config, {&*tg}, Page{0, 1, {}});
  });
}

Result<std::string> delete_target_group(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "TargetGroupArn");
  if (!arn) return std::move(arn).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto config = load_config(tx);
    if (!config) return std::move(config).error();
    if (!load_balancers_of_group(*config, *arn).empty())
      return elb_error("ResourceInUse", "Target group '" + *arn + "' is currently in use by a listener or a rule");
    for (const auto& r : config->registrations)
      if (r.target_group_arn == *arn)
        if (auto st = delete_object(tx, registration_key(r.target_group_arn, r.id, r.port)); !st)
          return std::move(st).error();
    if (auto st = delete_object(tx, *arn); !st) return std::move(st).error();
    return std::string();
  });
}

Status check_tg_attribute(const std::string& key, const std::string& value) {
  auto int_in = [&](int64_t lo, int64_t hi) {
    if (value.empty() || value.size() > 9 || !std::all_of(value.begin(), value.end(), ::isdigit)) return false;
    int64_t n = std::stoll(value);
    return n >= lo && n <= hi;
  };
  bool ok = true;
  if (key == "deregistration_delay.timeout_seconds") ok = int_in(0, 3600);
  else if (key == "slow_start.duration_seconds") ok = value == "0" || int_in(30, 900);
  else if (key == "load_balancing.algorithm.type")
    ok = value == "round_robin" || value == "least_outstanding_requests" || value == "weighted_random";
  else if (key == "stickiness.enabled") ok = value == "true" || value == "false";
  else if (key == "stickiness.type") ok = value == "lb_cookie" || value == "app_cookie";
  else if (key == "stickiness.lb_cookie.duration_seconds" || key == "stickiness.app_cookie.duration_seconds")
    ok = int_in(1, 604800);
  if (!ok)
    return elb_error("InvalidConfigurationRequest", "The value of '" + key + "' must be valid, not '" + value + "'");
  return Ok{};
}

Result<std::string> describe_tg_attributes(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "TargetGroupArn");
  if (!arn) return std::move(arn).error();
  auto tg = ctx.db.read([&](store::Tx& tx) { return find_tg(tx, *arn); });
  if (!tg) return std::move(tg).error();
  std::string out;
  api::XmlWriter w(out);
  write_attributes(w, tg->attributes);
  return out;
}

Result<std::string> modify_tg_attributes(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "TargetGroupArn");
  if (!arn) return std::move(arn).error();
  auto members = q.members("Attributes");
  if (!members) return std::move(members).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto tg = find_tg(tx, *arn);
    if (!tg) return std::move(tg).error();
    auto known = default_target_group_attributes();
    for (const auto& m : *members) {
      std::string key(m.get("Key").value_or(""));
      std::string value(m.get("Value").value_or(""));
      if (!known.count(key)) return validation_error("Target group attribute key '" + key + "' is not recognized");
      if (auto st = check_tg_attribute(key, value); !st) return std::move(st).error();
      tg->attributes[key] = value;
    }
    if (tg->attributes["slow_start.duration_seconds"] != "0" &&
        tg->attributes["load_balancing.algorithm.type"] == "least_outstanding_requests")
      return elb_error("InvalidConfigurationRequest",
                       "Slow start cannot be enabled with the least outstanding requests algorithm");
    if (auto st = put_object(tx, Kind::kTargetGroup, tg->arn, *tg); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    write_attributes(w, tg->attributes);
    return out;
  });
}

}  // namespace

void add_target_group_operations(api::Service& service, const ContextPtr& ctx) {
  auto bind = [&](auto fn) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, query_of(in)); };
  };
  service.add("CreateTargetGroup", bind(create_target_group));
  service.add("DescribeTargetGroups", bind(describe_target_groups));
  service.add("ModifyTargetGroup", bind(modify_target_group));
  service.add("DeleteTargetGroup", bind(delete_target_group));
  service.add("DescribeTargetGroupAttributes", bind(describe_tg_attributes));
  service.add("ModifyTargetGroupAttributes", bind(modify_tg_attributes));
}

}  // namespace berth::elb
