#include "elb/api_support.h"

#include <algorithm>
#include <charconv>

#include "elb/elb_store.h"

namespace berth::elb {

Error elb_error(std::string_view code, std::string message) {
  ErrorClass cls = ErrorClass::kInvalid;
  if (code.ends_with("NotFound")) cls = ErrorClass::kNotFound;
  if (code.starts_with("Duplicate")) cls = ErrorClass::kAlreadyExists;
  if (code == "ResourceInUse" || code == "OperationNotPermitted" || code == "PriorityInUse") cls = ErrorClass::kConflict;
  Error e{cls, std::string(code), std::move(message)};
  e.http_status = 400;
  return e;
}
Error validation_error(std::string message) { return elb_error("ValidationError", std::move(message)); }
Error load_balancer_not_found() { return elb_error("LoadBalancerNotFound", "One or more load balancers not found"); }
Error target_group_not_found() { return elb_error("TargetGroupNotFound", "One or more target groups not found"); }
Error listener_not_found() { return elb_error("ListenerNotFound", "One or more listeners not found"); }
Error rule_not_found() { return elb_error("RuleNotFound", "One or more rules not found"); }

const api::QueryView& query_of(const api::OperationInput& input) { return *input.query; }

Result<std::string> required(const api::QueryView& q, std::string_view key) {
  auto v = q.get(key);
  if (!v || v->empty())
    return validation_error("1 validation error detected: Value null at '" + std::string(1, std::tolower(key[0])) +
                            std::string(key.substr(1)) + "' failed to satisfy constraint: Member must not be null");
  return std::string(*v);
}

std::string optional_string(const api::QueryView& q, std::string_view key, std::string fallback) {
  auto v = q.get(key);
  return v ? std::string(*v) : fallback;
}

Result<std::optional<int64_t>> optional_int(const api::QueryView& q, std::string_view key) {
  auto v = q.get(key);
  if (!v) return std::optional<int64_t>();
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size())
    return validation_error("'" + std::string(*v) + "' is not a valid integer for " + std::string(key));
  return std::optional<int64_t>(n);
}

Result<std::optional<bool>> optional_bool(const api::QueryView& q, std::string_view key) {
  auto v = q.get(key);
  if (!v) return std::optional<bool>();
  if (*v == "true") return std::optional<bool>(true);
  if (*v == "false") return std::optional<bool>(false);
  return validation_error("'" + std::string(*v) + "' is not a valid boolean for " + std::string(key));
}

Result<std::vector<std::string>> member_strings(const api::QueryView& q, std::string_view key) {
  auto values = q.member_values(key);
  if (!values) return std::move(values).error();
  return std::vector<std::string>(values->begin(), values->end());
}

Result<std::vector<Tag>> parse_tags(const api::QueryView& q, std::string_view key) {
  auto members = q.members(key);
  if (!members) return std::move(members).error();
  std::vector<Tag> tags;
  for (const auto& m : *members) {
    auto k = m.get("Key");
    if (!k || k->empty()) return validation_error("A tag key must be specified");
    for (const auto& t : tags)
      if (t.key == *k) return elb_error("DuplicateTagKeys", "Tag key '" + std::string(*k) + "' specified more than once");
    tags.push_back({std::string(*k), std::string(m.get("Value").value_or(""))});
  }
  return tags;
}

Result<Page> paginate(const api::QueryView& q, size_t n) {
  auto size = optional_int(q, "PageSize");
  if (!size) return std::move(size).error();
  int64_t page = size->value_or(400);
  if (page < 1 || page > 400)
    return validation_error("1 validation error detected: Value '" + std::to_string(page) +
                            "' at 'pageSize' failed to satisfy constraint: Member must have value less than or "
                            "equal to 400");
  Page p;
  if (auto marker = q.get("Marker"); marker && !marker->empty()) {
    size_t at = 0;
    auto [ptr, ec] = std::from_chars(marker->data(), marker->data() + marker->size(), at);
    if (ec != std::errc() || ptr != marker->data() + marker->size() || at > n)
      return validation_error("Invalid marker");
    p.begin = at;
  }
  p.end = std::min(n, p.begin + static_cast<size_t>(page));
  if (p.end < n) p.next_marker = std::to_string(p.end);
  return p;
}

// ---------------------------------------------------------------- actions

namespace {

Result<Action> parse_action(const api::QueryView& m) {
  Action a;
  a.type = std::string(m.get("Type").value_or(""));
  if (a.type.empty()) return validation_error("An action type must be specified");
  auto order = optional_int(m, "Order");
  if (!order) return std::move(order).error();
  if (*order) {
    if (**order < 1 || **order > 50000) return validation_error("Action order must be between 1 and 50000");
    a.order = **order;
  }
  if (a.type == "forward") {
    a.target_group_arn = std::string(m.get("TargetGroupArn").value_or(""));
    auto groups = m.sub("ForwardConfig").members("TargetGroups");
    if (!groups) return std::move(groups).error();
    for (const auto& g : *groups) {
      WeightedGroup wg;
      wg.target_group_arn = std::string(g.get("TargetGroupArn").value_or(""));
      auto weight = optional_int(g, "Weight");
      if (!weight) return std::move(weight).error();
      wg.weight = weight->value_or(1);
      if (wg.weight < 0 || wg.weight > 999) return validation_error("Target group weight must be between 0 and 999");
      a.groups.push_back(std::move(wg));
    }
    if (a.groups.size() > 5) return elb_error("TooManyTargetGroups", "You cannot forward to more than 5 target groups");
    auto sticky = optional_bool(m, "ForwardConfig.TargetGroupStickinessConfig.Enabled");
    if (!sticky) return std::move(sticky).error();
    a.stickiness_enabled = sticky->value_or(false);
    auto duration = optional_int(m, "ForwardConfig.TargetGroupStickinessConfig.DurationSeconds");
    if (!duration) return std::move(duration).error();
    a.stickiness_duration = duration->value_or(0);
    if (a.target_group_arn.empty() && a.groups.empty())
      return validation_error("A target group ARN must be specified for a forward action");
    if (!a.target_group_arn.empty() && !a.groups.empty()) {
      bool same = a.groups.size() == 1 && a.groups[0].target_group_arn == a.target_group_arn;
      if (!same)
        return validation_error(
            "You cannot specify both a target group ARN and a list of target groups for a forward action");
    }
  } else if (a.type == "fixed-response") {
    auto c = m.sub("FixedResponseConfig");
    a.fixed_status = std::string(c.get("StatusCode").value_or(""));
    if (a.fixed_status.size() != 3 || (a.fixed_status[0] != '2' && a.fixed_status[0] != '4' && a.fixed_status[0] != '5') ||
        !std::all_of(a.fixed_status.begin(), a.fixed_status.end(), ::isdigit))
      return validation_error("1 validation error detected: Value '" + a.fixed_status +
                              "' at 'fixedResponseConfig.statusCode' failed to satisfy constraint: Member must "
                              "satisfy regular expression pattern: ^(2|4|5)\\d\\d$");
    a.fixed_content_type = std::string(c.get("ContentType").value_or(""));
    static constexpr std::string_view kTypes[] = {"text/plain", "text/css", "text/html", "application/javascript",
                                                  "application/json"};
    if (!a.fixed_content_type.empty() &&
        std::find(std::begin(kTypes), std::end(kTypes), a.fixed_content_type) == std::end(kTypes))
      return validation_error("Invalid content type '" + a.fixed_content_type + "'");
    if (auto body = c.get("MessageBody")) {
      if (body->size() > 1024) return validation_error("The message body cannot exceed 1024 characters");
      a.fixed_body = std::string(*body);
      a.fixed_has_body = true;
    }
  } else if (a.type == "redirect") {
    auto c = m.sub("RedirectConfig");
    a.redirect_status = std::string(c.get("StatusCode").value_or(""));
    if (a.redirect_status != "HTTP_301" && a.redirect_status != "HTTP_302")
      return validation_error("1 validation error detected: Value '" + a.redirect_status +
                              "' at 'redirectConfig.statusCode' failed to satisfy constraint: Member must satisfy "
                              "enum value set: [HTTP_301, HTTP_302]");
    a.redirect_protocol = optional_string(c, "Protocol", a.redirect_protocol);
    a.redirect_port = optional_string(c, "Port", a.redirect_port);
    a.redirect_host = optional_string(c, "Host", a.redirect_host);
    a.redirect_path = optional_string(c, "Path", a.redirect_path);
    a.redirect_query = optional_string(c, "Query", a.redirect_query);
    if (a.redirect_protocol == "#{protocol}" && a.redirect_port == "#{port}" && a.redirect_host == "#{host}" &&
        a.redirect_path == "/#{path}")
      return elb_error("InvalidLoadBalancerAction",
                       "The redirect configuration is not valid because it creates a loop.");
    if (!a.redirect_path.empty() && a.redirect_path[0] != '/')
      return validation_error("The redirect path must start with a '/' character");
  } else if (a.type == "authenticate-oidc" || a.type == "authenticate-cognito" || a.type == "jwt-validation") {
    return elb_error("InvalidLoadBalancerAction", "Action type '" + a.type + "' requires an HTTPS listener");
  } else {
    return validation_error("1 validation error detected: Value '" + a.type +
                            "' at 'actions.member.1.type' failed to satisfy constraint: Member must satisfy enum "
                            "value set: [forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response, "
                            "jwt-validation]");
  }
  return a;
}

}  // namespace

Result<std::vector<Action>> parse_actions(const api::QueryView& q, std::string_view key) {
  auto members = q.members(key);
  if (!members) return std::move(members).error();
  std::vector<Action> out;
  for (const auto& m : *members) {
    auto a = parse_action(m);
    if (!a) return std::move(a).error();
    out.push_back(std::move(*a));
  }
  if (out.empty()) return validation_error("At least one action must be specified");
  // Terminal action last by Order (given orders sort; none given keeps input order).
  std::stable_sort(out.begin(), out.end(), [](const Action& a, const Action& b) { return a.order < b.order; });
  if (out.size() > 1) return elb_error("TooManyActions", "Only one terminal action is allowed on an HTTP listener");
  return out;
}

Result<std::vector<Condition>> parse_conditions(const api::QueryView& q) {
  auto members = q.members("Conditions");
  if (!members) return std::move(members).error();
  std::vector<Condition> out;
  size_t values_total = 0;
  for (const auto& m : *members) {
    Condition c;
    c.field = std::string(m.get("Field").value_or(""));
    auto legacy = m.member_values("Values");
    if (!legacy) return std::move(legacy).error();
    std::string_view config;
    if (c.field == "path-pattern") config = "PathPatternConfig";
    else if (c.field == "host-header") config = "HostHeaderConfig";
    else if (c.field == "http-header") config = "HttpHeaderConfig";
    else if (c.field == "http-request-method") config = "HttpRequestMethodConfig";
    else if (c.field == "query-string") config = "QueryStringConfig";
    else if (c.field == "source-ip") config = "SourceIpConfig";
    else
      return validation_error("Condition field '" + c.field + "' must be one of '[http-header, http-request-method, "
                              "host-header, path-pattern, source-ip, query-string]'");
    auto sub = m.sub(config);
    if (c.field == "query-string") {
      auto pairs = sub.members("Values");
      if (!pairs) return std::move(pairs).error();
      for (const auto& p : *pairs)
        c.pairs.push_back({std::string(p.get("Key").value_or("")), std::string(p.get("Value").value_or(""))});
      values_total += c.pairs.size();
      if (c.pairs.empty()) return validation_error("A query string condition must have at least one value");
    } else {
      auto values = sub.member_values("Values");
      if (!values) return std::move(values).error();
      if (!legacy->empty() && !values->empty())
        return validation_error("You cannot specify both 'Values' and '" + std::string(config) + "' for a condition");
      c.legacy_values = !legacy->empty();
      for (auto v : c.legacy_values ? *legacy : *values) c.values.emplace_back(v);
      if (c.field == "http-header") {
        c.header_name = std::string(sub.get("HttpHeaderName").value_or(""));
        if (c.header_name.empty()) return validation_error("An HTTP header condition must specify a header name");
      }
      if (c.values.empty())
        return validation_error("A condition value must be specified for condition '" + c.field + "'");
      for (const auto& v : c.values)
        if (v.size() > 128) return validation_error("A condition value cannot exceed 128 characters");
      values_total += c.values.size();
    }
    if (c.field != "http-header" && c.field != "query-string")
      for (const auto& prior : out)
        if (prior.field == c.field)
          return validation_error("A rule can only have one '" + c.field + "' condition");
    out.push_back(std::move(c));
  }
  if (values_total > 5) return validation_error("A rule can only have '5' condition values");
  return out;
}

std::vector<std::string> forwarded_groups(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) {
    if (a.type != "forward") continue;
    if (!a.target_group_arn.empty()) out.push_back(a.target_group_arn);
    for (const auto& g : a.groups)
      if (std::find(out.begin(), out.end(), g.target_group_arn) == out.end()) out.push_back(g.target_group_arn);
  }
  return out;
}

Status validate_actions(store::Tx& tx, const std::vector<Action>& actions, const std::string& lb_arn) {
  auto config = load_config(tx);
  if (!config) return std::move(config).error();
  for (const auto& arn : forwarded_groups(actions)) {
    auto it = std::find_if(config->target_groups.begin(), config->target_groups.end(),
                           [&](const TargetGroup& tg) { return tg.arn == arn; });
    if (it == config->target_groups.end()) return target_group_not_found();
    for (const auto& other : load_balancers_of_group(*config, arn))
      if (other != lb_arn)
        return elb_error("TargetGroupAssociationLimit",
                         "The following target groups cannot be associated with more than one load balancer: " + arn);
  }
  return Ok{};
}

// ---------------------------------------------------------------- output

void write_tags(api::XmlWriter& w, const std::vector<Tag>& tags) {
  w.open("Tags");
  for (const auto& t : tags) w.open("member").leaf("Key", t.key).leaf("Value", t.value).close("member");
  w.close("Tags");
}

void write_actions(api::XmlWriter& w, std::string_view element, const std::vector<Action>& actions) {
  w.open(element);
  for (const auto& a : actions) {
    w.open("member").leaf("Type", a.type);
    if (a.order) w.leaf_int("Order", a.order);
    if (a.type == "forward") {
      if (!a.target_group_arn.empty()) w.leaf("TargetGroupArn", a.target_group_arn);
      w.open("ForwardConfig").open("TargetGroups");
      if (a.groups.empty()) {
        w.open("member").leaf("TargetGroupArn", a.target_group_arn).leaf_int("Weight", 1).close("member");
      }
      for (const auto& g : a.groups)
        w.open("member").leaf("TargetGroupArn", g.target_group_arn).leaf_int("Weight", g.weight).close("member");
      w.close("TargetGroups").open("TargetGroupStickinessConfig").leaf_bool("Enabled", a.stickiness_enabled);
      if (a.stickiness_enabled) w.leaf_int("DurationSeconds", a.stickiness_duration);
      w.close("TargetGroupStickinessConfig").close("ForwardConfig");
    } else if (a.type == "fixed-response") {
      w.open("FixedResponseConfig").leaf("StatusCode", a.fixed_status);
      if (!a.fixed_content_type.empty()) w.leaf("ContentType", a.fixed_content_type);
      if (a.fixed_has_body) w.leaf("MessageBody", a.fixed_body);
      w.close("FixedResponseConfig");
    } else if (a.type == "redirect") {
      w.open("RedirectConfig")
          .leaf("Protocol", a.redirect_protocol)
          .leaf("Port", a.redirect_port)
          .leaf("Host", a.redirect_host)
          .leaf("Path", a.redirect_path)
          .leaf("Query", a.redirect_query)
          .leaf("StatusCode", a.redirect_status)
          .close("RedirectConfig");
    }
    w.close("member");
  }
  w.close(element);
}

void write_conditions(api::XmlWriter& w, const std::vector<Condition>& conditions) {
  w.open("Conditions");
  for (const auto& c : conditions) {
    w.open("member").leaf("Field", c.field);
    auto values = [&](std::string_view name) {
      w.open(name);
      for (const auto& v : c.values) w.leaf("member", v);
      w.close(name);
    };
    if (c.legacy_values) values("Values");
    if (c.field == "path-pattern") {
      w.open("PathPatternConfig");
      values("Values");
      w.close("PathPatternConfig");
    } else if (c.field == "host-header") {
      w.open("HostHeaderConfig");
      values("Values");
      w.close("HostHeaderConfig");
    } else if (c.field == "http-header") {
      w.open("HttpHeaderConfig").leaf("HttpHeaderName", c.header_name);
      values("Values");
      w.close("HttpHeaderConfig");
    } else if (c.field == "http-request-method") {
      w.open("HttpRequestMethodConfig");
      values("Values");
      w.close("HttpRequestMethodConfig");
    } else if (c.field == "source-ip") {
      w.open("SourceIpConfig");
      values("Values");
      w.close("SourceIpConfig");
    } else if (c.field == "query-string") {
      w.open("QueryStringConfig").open("Values");
      for (const auto& p : c.pairs) {
        w.open("member");
        if (!p.key.empty()) w.leaf("Key", p.key);
        w.leaf("Value", p.value).close("member");
      }
      w.close("Values").close("QueryStringConfig");
    }
    w.close("member");
  }
  w.close("Conditions");
}

void write_attributes(api::XmlWriter& w, const std::map<std::string, std::string>& attributes) {
  w.open("Attributes");
  for (const auto& [k, v] : attributes) w.open("member").leaf("Key", k).leaf("Value", v).close("member");
  w.close("Attributes");
}

int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t deregistration_delay_ms(const TargetGroup& tg) {
  auto it = tg.attributes.find("deregistration_delay.timeout_seconds");
  if (it == tg.attributes.end()) return 300'000;
  int64_t seconds = 300;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), seconds);
  if (ec != std::errc() || end != it->second.data() + it->second.size() || seconds < 0) seconds = 300;
  return seconds * 1000;
}

bool draining_over(const Registration& r, const TargetGroup& tg, int64_t now_ms) {
  return r.deregistered_ms != 0 && now_ms >= r.deregistered_ms + deregistration_delay_ms(tg);
}

std::string load_balancer_state(const LoadBalancer& lb, WallTime now, std::chrono::milliseconds provisioning) {
  return to_ms(now) - lb.created_ms >= provisioning.count() ? "active" : "provisioning";
}

void write_load_balancer(api::XmlWriter& w, const LoadBalancer& lb, std::string_view state) {
  w.leaf("LoadBalancerArn", lb.arn)
      .leaf("DNSName", lb.dns_name)
      .leaf("CanonicalHostedZoneId", "Z35SXDOTRQ7X7K")
      .leaf_time("CreatedTime", WallTime(std::chrono::milliseconds(lb.created_ms)))
      .leaf("LoadBalancerName", lb.name)
      .leaf("Scheme", lb.scheme)
      .leaf("VpcId", lb.vpc_id)
      .open("State")
      .leaf("Code", state)
      .close("State")
      .leaf("Type", "application")
      .open("AvailabilityZones");
  for (const auto& z : lb.zones)
    w.open("member").leaf("ZoneName", z.zone).leaf("SubnetId", z.subnet_id).open("LoadBalancerAddresses")
        .close("LoadBalancerAddresses").close("member");
  w.close("AvailabilityZones").open("SecurityGroups");
  for (const auto& g : lb.security_groups) w.leaf("member", g);
  w.close("SecurityGroups").leaf("IpAddressType", lb.ip_address_type);
}

void write_target_group(api::XmlWriter& w, const TargetGroup& tg, const std::vector<std::string>& lb_arns) {
  w.leaf("TargetGroupArn", tg.arn)
      .leaf("TargetGroupName", tg.name)
      .leaf("Protocol", tg.protocol)
      .leaf_int("Port", tg.port)
      .leaf("VpcId", tg.vpc_id)
      .leaf("HealthCheckProtocol", tg.health_check_protocol)
      .leaf("HealthCheckPort", tg.health_check_port)
      .leaf_bool("HealthCheckEnabled", tg.health_check_enabled)
      .leaf_int("HealthCheckIntervalSeconds", tg.health_check_interval)
      .leaf_int("HealthCheckTimeoutSeconds", tg.health_check_timeout)
      .leaf_int("HealthyThresholdCount", tg.healthy_threshold)
      .leaf_int("UnhealthyThresholdCount", tg.unhealthy_threshold)
      .leaf("HealthCheckPath", tg.health_check_path)
      .open("Matcher")
      .leaf("HttpCode", tg.matcher)
      .close("Matcher")
      .open("LoadBalancerArns");
  for (const auto& a : lb_arns) w.leaf("member", a);
  w.close("LoadBalancerArns")
      .leaf("TargetType", tg.target_type)
      .leaf("ProtocolVersion", tg.protocol_version)
      .leaf("IpAddressType", "ipv4");
}

void write_listener(api::XmlWriter& w, const Listener& l) {
  w.leaf("ListenerArn", l.arn).leaf("LoadBalancerArn", l.load_balancer_arn).leaf_int("Port", l.port)
      .leaf("Protocol", l.protocol);
  write_actions(w, "DefaultActions", l.default_actions);
}

std::vector<std::string> load_balancers_of_group(const Config& config, const std::string& tg_arn) {
  std::vector<std::string> out;
  auto add = [&](const std::string& listener_arn) {
    for (const auto& l : config.listeners)
      if (l.arn == listener_arn && std::find(out.begin(), out.end(), l.load_balancer_arn) == out.end())
        out.push_back(l.load_balancer_arn);
  };
  for (const auto& l : config.listeners)
    for (const auto& g : forwarded_groups(l.default_actions))
      if (g == tg_arn) add(l.arn);
  for (const auto& r : config.rules)
    for (const auto& g : forwarded_groups(r.actions))
      if (g == tg_arn) add(r.listener_arn);
  return out;
}

}  // namespace berth::elb
