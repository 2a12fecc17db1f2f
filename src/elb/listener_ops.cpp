// CreateListener, DescribeListeners, ModifyListener, DeleteListener (§3.5).
#include <algorithm>

#include "core/ids.h"
#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {
namespace {

Result<Listener> find_listener(store::Tx& tx, const std::string& arn) {
  auto l = get_object<Listener>(tx, Kind::kListener, arn);
  if (!l) return std::move(l).error();
  if (!*l) return listener_not_found();
  return std::move(**l);
}

Status check_protocol(const std::string& protocol) {
  if (protocol == "HTTP") return Ok{};
  if (protocol == "HTTPS") return elb_error("CertificateNotFound", "berth listeners serve HTTP only; no certificate store");
  return elb_error("UnsupportedProtocol", "Protocol '" + protocol + "' is not supported by an application load balancer");
}

Status check_port_free(const std::vector<Listener>& listeners, const std::string& lb_arn, int64_t port,
                       const std::string& except_arn) {
  for (const auto& l : listeners)
    if (l.load_balancer_arn == lb_arn && l.port == port && l.arn != except_arn)
      return elb_error("DuplicateListener", "A listener already exists on this port for this load balancer '" + lb_arn + "'");
  return Ok{};
}

std::string write_one(const Listener& l) {
  std::string out;
  api::XmlWriter w(out);
  w.open("Listeners").open("member");
  write_listener(w, l);
  w.close("member").close("Listeners");
  return out;
}

Result<std::string> create_listener(const Context& ctx, const api::QueryView& q) {
  auto lb_arn = required(q, "LoadBalancerArn");
  if (!lb_arn) return std::move(lb_arn).error();
  std::string protocol = optional_string(q, "Protocol", "HTTP");
  if (auto st = check_protocol(protocol); !st) return std::move(st).error();
  auto port = optional_int(q, "Port");
  if (!port) return std::move(port).error();
  if (!*port) return validation_error("A listener port must be specified");
  if (**port < 1 || **port > 65535) return validation_error("Listener port '" + std::to_string(**port) + "' must be between 1 and 65535");
  auto actions = parse_actions(q, "DefaultActions");
  if (!actions) return std::move(actions).error();
  auto tags = parse_tags(q);
  if (!tags) return std::move(tags).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto lb = get_object<LoadBalancer>(tx, Kind::kLoadBalancer, *lb_arn);
    if (!lb) return std::move(lb).error();
    if (!*lb) return load_balancer_not_found();
    if (auto st = validate_actions(tx, *actions, *lb_arn); !st) return std::move(st).error();
    auto listeners = list_objects<Listener>(tx, Kind::kListener);
    if (!listeners) return std::move(listeners).error();
    for (const auto& l : *listeners)
      if (l.load_balancer_arn == *lb_arn && l.port == **port && l.protocol == protocol &&
          forwarded_groups(l.default_actions) == forwarded_groups(*actions) &&
          l.default_actions.size() == actions->size() && l.default_actions[0].type == (*actions)[0].type)
        return write_one(l);  // CreateListener is idempotent for identical settings
    if (auto st = check_port_free(*listeners, *lb_arn, **port, ""); !st) return std::move(st).error();
    std::string lb_path = (*lb)->name + "/" + arn_tail((*lb)->arn);
    std::string prefix = "arn:aws:elasticloadbalancing:" + ctx.options.region + ":" + ctx.options.account_id;
    Listener l;
    std::string id = ids::random_hex(16);
    l.arn = prefix + ":listener/app/" + lb_path + "/" + id;
    l.default_rule_arn = prefix + ":listener-rule/app/" + lb_path + "/" + id + "/" + ids::random_hex(16);
    l.load_balancer_arn = *lb_arn;
    l.port = **port;
    l.protocol = protocol;
    l.default_actions = std::move(*actions);
    l.created_ms = to_ms(ctx.clock.now());
    l.tags = std::move(*tags);
    if (auto st = put_object(tx, Kind::kListener, l.arn, l); !st) return std::move(st).error();
    return write_one(l);
  });
}

Result<std::string> describe_listeners(const Context& ctx, const api::QueryView& q) {
  std::string lb_arn = optional_string(q, "LoadBalancerArn");
  auto arns = member_strings(q, "ListenerArns");
  if (!arns) return std::move(arns).error();
  if (lb_arn.empty() && arns->empty())
    return validation_error("You must specify either listener ARNs or a load balancer ARN");
  if (!lb_arn.empty() && !arns->empty())
    return validation_error("Listener ARNs and a load balancer ARN cannot be specified at the same time");
  auto config = ctx.db.read([](store::Tx& tx) { return load_config(tx); });
  if (!config) return std::move(config).error();
  std::vector<const Listener*> picked;
  if (!lb_arn.empty()) {
    if (std::none_of(config->load_balancers.begin(), config->load_balancers.end(),
                     [&](const LoadBalancer& l) { return l.arn == lb_arn; }))
      return load_balancer_not_found();
    for (const auto& l : config->listeners)
      if (l.load_balancer_arn == lb_arn) picked.push_back(&l);
  } else {
    for (const auto& a : *arns) {
      auto it = std::find_if(config->listeners.begin(), config->listeners.end(), [&](const Listener& l) { return l.arn == a; });
      if (it == config->listeners.end()) return listener_not_found();
      picked.push_back(&*it);
    }
  }
  auto page = paginate(q, picked.size());
  if (!page) return std::move(page).error();
  std::string out;
  api::XmlWriter w(out);
  w.open("Listeners");
  for (size_t i = page->begin; i < page->end; ++i) {
    w.open("member");
    write_listener(w, *picked[i]);
    w.close("member");
  }
  w.close("Listeners");
  if (!page->next_marker.empty()) w.leaf("NextMarker", page->next_marker);
  return out;
}

Result<std::string> modify_listener(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "ListenerArn");
  if (!arn) return std::move(arn).error();
  auto port = optional_int(q, "Port");
  if (!port) return std::move(port).error();
  if (*port && (**port < 1 || **port > 65535))
    return validation_error("Listener port '" + std::to_string(**port) + "' must be between 1 and 65535");
  std::optional<std::vector<Action>> actions;
  if (q.has_any("DefaultActions")) {
    auto parsed = parse_actions(q, "DefaultActions");
    if (!parsed) return std::move(parsed).error();
    actions = std::move(*parsed);
  }
  std::string protocol = optional_string(q, "Protocol");
  if (!protocol.empty())
    if (auto st = check_protocol(protocol); !st) return std::move(st).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto l = find_listener(tx, *arn);
    if (!l) return std::move(l).error();
    if (*port) {
      auto listeners = list_objects<Listener>(tx, Kind::kListener);
      if (!listeners) return std::move(listeners).error();
      if (auto st = check_port_free(*listeners, l->load_balancer_arn, **port, l->arn); !st) return std::move(st).error();
      l->port = **port;
    }
    if (actions) {
      if (auto st = validate_actions(tx, *actions, l->load_balancer_arn); !st) return std::move(st).error();
      l->default_actions = std::move(*actions);
    }
    if (auto st = put_object(tx, Kind::kListener, l->arn, *l); !st) return std::move(st).error();
    return write_one(*l);
  });
}

Result<std::string> delete_listener(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "ListenerArn");
  if (!arn) return std::move(arn).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto l = find_listener(tx, *arn);
    if (!l) return std::move(l).error();
    auto rules = list_objects<Rule>(tx, Kind::kRule);
    if (!rules) return std::move(rules).error();
    for (const auto& r : *rules)
      if (r.listener_arn == *arn)
        if (auto st = delete_object(tx, r.arn); !st) return std::move(st).error();
    if (auto st = delete_object(tx, *arn); !st) return std::move(st).error();
    return std::string();
  });
}

}  // namespace

void add_listener_operations(api::Service& service, const ContextPtr& ctx) {
  auto bind = [&](auto fn) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, query_of(in)); };
  };
  service.add("CreateListener", bind(create_listener));
  service.add("DescribeListeners", bind(describe_listeners));
  service.add("ModifyListener", bind(modify_listener));
  service.add("DeleteListener", bind(delete_listener));
}

}  // namespace berth::elb
