// Application Load Balancers: target groups (health checks, attributes),
// load balancers (attributes), listeners and their rules. Targets are not
// exported: ECS registers a service's tasks itself; anything registered by
// hand is said in a note. Attributes at AWS's default are left out.
#include <boost/json.hpp>

#include "elb/attribute_defaults.h"
#include "export/builders.h"

namespace berth::cfn {

namespace {

// AWS's defaults (ModifyTargetGroupAttributes / ModifyLoadBalancerAttributes
// reference), which a template need not repeat.
const std::map<std::string, std::string>& target_group_defaults() {
  static const auto kDefaults = elb::default_target_group_attributes();
  return kDefaults;
}

const std::map<std::string, std::string>& load_balancer_defaults() {
  static const auto kDefaults = elb::default_load_balancer_attributes();
  return kDefaults;
}

json::array changed_attributes(const json::array& attributes, const std::map<std::string, std::string>& defaults) {
  std::map<std::string, std::string> changed;
  for (const auto& a : attributes) {
    std::string key = str(a.as_object(), "Key"), value = str(a.as_object(), "Value");
    auto d = defaults.find(key);
    if (d == defaults.end() || d->second != value) changed[key] = value;
  }
  json::array out;
  for (const auto& [key, value] : changed) out.push_back(json::object{{"Key", key}, {"Value", value}});
  return out;
}

// An action or a rule condition, from the query answer's strings to
// CloudFormation's types; a target group ARN becomes a Ref.
json::value typed(Context& c, const json::value& v, std::string_view key, const std::string& forwarder) {
  static const std::set<std::string_view> kIntegers{"Order", "Weight", "DurationSeconds"};
  static const std::set<std::string_view> kBooleans{"Enabled"};
  if (v.is_object()) {
    json::object out;
    for (const auto& kv : v.as_object()) {
      json::value item = typed(c, kv.value(), kv.key(), forwarder);
      if (!(item.is_string() && item.as_string().empty())) out[kv.key()] = std::move(item);
    }
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& item : v.as_array()) out.push_back(typed(c, item, key, forwarder));
    return out;
  }
  if (!v.is_string()) return v;
  std::string text(v.as_string());
  if (key == "TargetGroupArn") {
    c.forwarders[text].insert(forwarder);
    auto found = c.target_groups.find(text);
    return found != c.target_groups.end() ? make_ref(found->second) : json::value(text);
  }
  if (kIntegers.count(key)) return num(json::object{{"v", text}}, "v");
  if (kBooleans.count(key)) return text == "true";
  return json::value(text);
}

// ELBv2 describes a plain forward with both TargetGroupArn and a
// ForwardConfig of that one group; the template keeps the plain form.
void drop_redundant_forward_config(const json::object& in, json::object& out) {
  const auto& config = obj(in, "ForwardConfig");
  const auto& groups = arr(config, "TargetGroups");
  if (str(in, "TargetGroupArn").empty() || groups.size() != 1 ||
      str(groups[0].as_object(), "TargetGroupArn") != str(in, "TargetGroupArn") ||
      flag(obj(config, "TargetGroupStickinessConfig"), "Enabled"))
    return;
  out.erase("ForwardConfig");
}

json::array actions(Context& c, const json::array& list, const std::string& forwarder) {
  json::array out;
  for (const auto* a : sorted_by(list, "Order")) {
    json::object action = typed(c, *a, "", forwarder).as_object();
    drop_redundant_forward_config(*a, action);
    out.push_back(std::move(action));
  }
  return out;
}

void add_target_group(Context& c, const json::object& g, const std::set<std::string>& used_by_services) {
  std::string name = str(g, "TargetGroupName"), arn = str(g, "TargetGroupArn");
  auto& r = c.add(c.target_groups.at(arn), "AWS::ElasticLoadBalancingV2::TargetGroup");
  auto& p = r.properties;
  p["Name"] = name;
  p["TargetType"] = str(g, "TargetType");
  if (str(g, "TargetType") != "lambda") {
    p["Protocol"] = str(g, "Protocol");
    p["Port"] = num(g, "Port");
    p["VpcId"] = make_ref(kVpcParameter);
  }
  if (auto version = str(g, "ProtocolVersion"); !version.empty()) p["ProtocolVersion"] = version;
  p["HealthCheckEnabled"] = flag(g, "HealthCheckEnabled") || !g.contains("HealthCheckEnabled");
  for (const char* key : {"HealthCheckPath", "HealthCheckPort", "HealthCheckProtocol"})
    if (auto value = str(g, key); !value.empty()) p[key] = value;
  for (const char* key : {"HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
                          "UnhealthyThresholdCount"})
    if (int64_t value = num(g, key); value >= 0) p[key] = value;
  if (auto code = str(obj(g, "Matcher"), "HttpCode"); !code.empty()) p["Matcher"] = json::object{{"HttpCode", code}};
  if (auto attributes = changed_attributes(arr(g, "Attributes"), target_group_defaults()); !attributes.empty())
    p["TargetGroupAttributes"] = std::move(attributes);
  if (used_by_services.count(arn)) return;
  for (const auto& t : arr(g, "Targets")) {
    const auto& target = t.as_object();
    std::string what = str(g, "TargetType") == "ip" ? "by IP address on the host" : "by hand";
    c.note("not exported: target " + str(target, "Id") + ":" + str(target, "Port") + " of target group " + name +
           ", registered " + what + " (berth's addresses and instances do not exist on AWS; register the "
           "account's own targets after the deploy)");
  }
}

void add_listener(Context& c, const std::string& lb_name, const std::string& lb_id, const json::object& l) {
  std::string port = str(l, "Port"), protocol = str(l, "Protocol");
  if (!arr(l, "Certificates").empty() || protocol == "HTTPS") {
    c.note("not exported: listener " + protocol + ":" + port + " of load balancer " + lb_name +
           " (its certificate is berth's; add the listener with an ACM certificate of the account)");
    return;
  }
  std::string id = c.ids.make(lb_name + "-" + protocol + "-" + port, "Listener");
  auto& r = c.add(id, "AWS::ElasticLoadBalancingV2::Listener");
  r.properties["LoadBalancerArn"] = make_ref(lb_id);
  r.properties["Port"] = num(l, "Port");
  r.properties["Protocol"] = protocol;
  r.properties["DefaultActions"] = actions(c, arr(l, "DefaultActions"), id);
  for (const auto* rule : sorted_by(arr(l, "Rules"), "Priority")) {
    if (flag(*rule, "IsDefault") || str(*rule, "Priority") == "default") continue;
    std::string rule_id = c.ids.make(lb_name + "-" + port + "-rule-" + str(*rule, "Priority"), "ListenerRule");
    auto& rr = c.add(rule_id, "AWS::ElasticLoadBalancingV2::ListenerRule");
    rr.properties["ListenerArn"] = make_ref(id);
    rr.properties["Priority"] = num(*rule, "Priority");
    rr.properties["Actions"] = actions(c, arr(*rule, "Actions"), rule_id);
    json::array conditions;
    for (const auto& condition : arr(*rule, "Conditions")) conditions.push_back(typed(c, condition, "", rule_id));
    rr.properties["Conditions"] = std::move(conditions);
  }
}

void add_load_balancer(Context& c, const json::object& lb) {
  std::string name = str(lb, "LoadBalancerName"), arn = str(lb, "LoadBalancerArn");
  if (str(lb, "Type") != "application") {
    c.note("not exported: load balancer " + name + " of type " + str(lb, "Type") + " (only application ones are)");
    return;
  }
  std::string id = c.ids.make(name, "LoadBalancer");
  c.load_balancers[arn] = id;
  auto& r = c.add(id, "AWS::ElasticLoadBalancingV2::LoadBalancer");
  r.properties["Name"] = name;
  r.properties["Type"] = "application";
  r.properties["Scheme"] = str(lb, "Scheme").empty() ? "internet-facing" : str(lb, "Scheme");
  if (auto ip = str(lb, "IpAddressType"); !ip.empty()) r.properties["IpAddressType"] = ip;
  r.properties["Subnets"] = make_ref(kSubnetsParameter);
  json::array groups;
  for (const auto& g : arr(lb, "SecurityGroups")) {
    std::string gid = g.is_string() ? std::string(g.as_string()) : std::string();
    if (auto found = c.security_groups.find(gid); found != c.security_groups.end())
      groups.push_back(get_att(found->second, "GroupId"));
    else
      c.note("not exported: security group " + gid + " of load balancer " + name + " (the VPC's default group)");
  }
  if (!groups.empty()) r.properties["SecurityGroups"] = std::move(groups);
  if (auto attributes = changed_attributes(arr(lb, "Attributes"), load_balancer_defaults()); !attributes.empty())
    r.properties["LoadBalancerAttributes"] = std::move(attributes);
  c.t.outputs[id + "Url"] = {{"Description", "load balancer " + name},
                             {"Value", sub("http://${" + id + ".DNSName}/")}};
}

}  // namespace

void build_load_balancing(Context& c) {
  std::set<std::string> used_by_services;
  for (const auto& s : c.state.services)
    for (const auto& lb : arr(s.as_object(), "loadBalancers")) used_by_services.insert(str(lb.as_object(), "targetGroupArn"));
  auto groups = sorted_by(c.state.target_groups, "TargetGroupName");
  for (const auto* g : groups) c.target_groups[str(*g, "TargetGroupArn")] = c.ids.make(str(*g, "TargetGroupName"), "TargetGroup");
  for (const auto* g : groups) add_target_group(c, *g, used_by_services);
  for (const auto* lb : sorted_by(c.state.load_balancers, "LoadBalancerName")) {
    add_load_balancer(c, *lb);
    auto id = c.load_balancers.find(str(*lb, "LoadBalancerArn"));
    if (id == c.load_balancers.end()) continue;
    for (const auto* l : sorted_by(arr(*lb, "Listeners"), "Port"))
      add_listener(c, str(*lb, "LoadBalancerName"), id->second, *l);
  }
}

}  // namespace berth::cfn
