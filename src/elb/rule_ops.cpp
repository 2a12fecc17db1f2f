// CreateRule, DescribeRules, ModifyRule, DeleteRule, SetRulePriorities
// (§3.5). The default rule is the listener's default actions; it has its
// own ARN (Listener::default_rule_arn) and cannot be deleted or re-prioritised.
#include <algorithm>

#include "core/ids.h"
#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {
namespace {

constexpr size_t kMaxRulesPerLoadBalancer = 100;

void write_rule(api::XmlWriter& w, const Rule& r) {
  w.open("member").leaf("RuleArn", r.arn).leaf("Priority", std::to_string(r.priority));
  write_conditions(w, r.conditions);
  write_actions(w, "Actions", r.actions);
  w.leaf_bool("IsDefault", false).close("member");
}

void write_default_rule(api::XmlWriter& w, const Listener& l) {
  w.open("member").leaf("RuleArn", l.default_rule_arn).leaf("Priority", "default");
  write_conditions(w, {});
  write_actions(w, "Actions", l.default_actions);
  w.leaf_bool("IsDefault", true).close("member");
}

Result<int64_t> parse_priority(const api::QueryView& q, std::string_view key) {
  auto p = optional_int(q, key);
  if (!p) return std::move(p).error();
  if (!*p) return validation_error("A rule priority must be specified");
  if (**p < 1 || **p > 50000)
    return validation_error("1 validation error detected: Value '" + std::to_string(**p) +
                            "' at 'priority' failed to satisfy constraint: Member must have value between 1 and 50000");
  return **p;
}

Error priority_in_use(int64_t p) {
  return elb_error("PriorityInUse", "Priority '" + std::to_string(p) + "' is currently in use");
}

Result<std::string> create_rule(const Context& ctx, const api::QueryView& q) {
  auto listener_arn = required(q, "ListenerArn");
  if (!listener_arn) return std::move(listener_arn).error();
  auto priority = parse_priority(q, "Priority");
  if (!priority) return std::move(priority).error();
  auto conditions = parse_conditions(q);
  if (!conditions) return std::move(conditions).error();
  if (conditions->empty()) return validation_error("A rule must have at least one condition");
  auto actions = parse_actions(q, "Actions");
  if (!actions) return std::move(actions).error();
  auto tags = parse_tags(q);
  if (!tags) return std::move(tags).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto listener = get_object<Listener>(tx, Kind::kListener, *listener_arn);
    if (!listener) return std::move(listener).error();
    if (!*listener) return listener_not_found();
    const Listener& l = **listener;
    if (auto st = validate_actions(tx, *actions, l.load_balancer_arn); !st) return std::move(st).error();
    auto config = load_config(tx);
    if (!config) return std::move(config).error();
    size_t lb_rules = 0;
    for (const auto& r : config->rules) {
      if (r.listener_arn == l.arn && r.priority == *priority) return priority_in_use(*priority);
      for (const auto& other : config->listeners)
        if (other.arn == r.listener_arn && other.load_balancer_arn == l.load_balancer_arn) ++lb_rules;
    }
    if (lb_rules >= kMaxRulesPerLoadBalancer)
      return elb_error("TooManyRules", "The maximum number of rules for the load balancer has been reached");
    Rule r;
    // listener/app/<lb>/<lb-id>/<listener-id> -> listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>
    std::string base = l.arn;
    base.replace(base.find(":listener/"), 10, ":listener-rule/");
    r.arn = base + "/" + ids::random_hex(16);
    r.listener_arn = l.arn;
    r.priority = *priority;
    r.conditions = std::move(*conditions);
    r.actions = std::move(*actions);
    r.created_ms = to_ms(ctx.clock.now());
    r.tags = std::move(*tags);
    if (auto st = put_object(tx, Kind::kRule, r.arn, r); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    w.open("Rules");
    write_rule(w, r);
    w.close("Rules");
    return out;
  });
}

Result<std::string> describe_rules(const Context& ctx, const api::QueryView& q) {
  std::string listener_arn = optional_string(q, "ListenerArn");
  auto arns = member_strings(q, "RuleArns");
  if (!arns) return std::move(arns).error();
  if (listener_arn.empty() && arns->empty()) return validation_error("You must specify either listener ARN or rule ARNs");
  auto config = ctx.db.read([](store::Tx& tx) { return load_config(tx); });
  if (!config) return std::move(config).error();
  // Each item: a rule, or a listener standing for its default rule.
  struct Item {
    const Rule* rule;
    const Listener* default_of;
  };
  std::vector<Item> picked;
  if (!listener_arn.empty()) {
    auto l = std::find_if(config->listeners.begin(), config->listeners.end(),
                          [&](const Listener& x) { return x.arn == listener_arn; });
    if (l == config->listeners.end()) return listener_not_found();
    std::vector<const Rule*> rules;
    for (const auto& r : config->rules)
      if (r.listener_arn == listener_arn) rules.push_back(&r);
    std::sort(rules.begin(), rules.end(), [](const Rule* a, const Rule* b) { return a->priority < b->priority; });
    for (const auto* r : rules) picked.push_back({r, nullptr});
    picked.push_back({nullptr, &*l});
  } else {
    for (const auto& a : *arns) {
      auto r = std::find_if(config->rules.begin(), config->rules.end(), [&](const Rule& x) { return x.arn == a; });
      if (r != config->rules.end()) {
        picked.push_back({&*r, nullptr});
        continue;
      }
      auto l = std::find_if(config->listeners.begin(), config->listeners.end(),
                            [&](const Listener& x) { return x.default_rule_arn == a; });
      if (l == config->listeners.end()) return rule_not_found();
      picked.push_back({nullptr, &*l});
    }
  }
  auto page = paginate(q, picked.size());
  if (!page) return std::move(page).error();
  std::string out;
  api::XmlWriter w(out);
  w.open("Rules");
  for (size_t i = page->begin; i < page->end; ++i) {
    if (picked[i].rule) write_rule(w, *picked[i].rule);
    else write_default_rule(w, *picked[i].default_of);
  }
  w.close("Rules");
  if (!page->next_marker.empty()) w.leaf("NextMarker", page->next_marker);
  return out;
}

Result<std::string> modify_rule(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "RuleArn");
  if (!arn) return std::move(arn).error();
  std::optional<std::vector<Condition>> conditions;
  if (q.has_any("Conditions")) {
    auto parsed = parse_conditions(q);
    if (!parsed) return std::move(parsed).error();
    conditions = std::move(*parsed);
  }
  std::optional<std::vector<Action>> actions;
  if (q.has_any("Actions")) {
    auto parsed = parse_actions(q, "Actions");
    if (!parsed) return std::move(parsed).error();
    actions = std::move(*parsed);
  }
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto config = load_config(tx);
    if (!config) return std::move(config).error();
    std::string out;
    api::XmlWriter w(out);
    auto r = std::find_if(config->rules.begin(), config->rules.end(), [&](const Rule& x) { return x.arn == *arn; });
    if (r == config->rules.end()) {
      auto l = std::find_if(config->listeners.begin(), config->listeners.end(),
                            [&](const Listener& x) { return x.default_rule_arn == *arn; });
      if (l == config->listeners.end()) return rule_not_found();
      if (conditions && !conditions->empty())
        return elb_error("OperationNotPermitted", "You cannot modify the conditions of a default rule");
      if (actions) {
        if (auto st = validate_actions(tx, *actions, l->load_balancer_arn); !st) return std::move(st).error();
        l->default_actions = std::move(*actions);
        if (auto st = put_object(tx, Kind::kListener, l->arn, *l); !st) return std::move(st).error();
      }
      w.open("Rules");
      write_default_rule(w, *l);
      w.close("Rules");
      return out;
    }
    if (conditions) {
      if (conditions->empty()) return validation_error("A rule must have at least one condition");
      r->conditions = std::move(*conditions);
    }
    if (actions) {
      auto l = std::find_if(config->listeners.begin(), config->listeners.end(),
                            [&](const Listener& x) { return x.arn == r->listener_arn; });
      if (auto st = validate_actions(tx, *actions, l == config->listeners.end() ? "" : l->load_balancer_arn); !st)
        return std::move(st).error();
      r->actions = std::move(*actions);
    }
    if (auto st = put_object(tx, Kind::kRule, r->arn, *r); !st) return std::move(st).error();
    w.open("Rules");
    write_rule(w, *r);
    w.close("Rules");
    return out;
  });
}

Result<std::string> delete_rule(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "RuleArn");
  if (!arn) return std::move(arn).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto r = get_object<Rule>(tx, Kind::kRule, *arn);
    if (!r) return std::move(r).error();
    if (!*r) {
      auto listeners = list_objects<Listener>(tx, Kind::kListener);
      if (!listeners) return std::move(listeners).error();
      for (const auto& l : *listeners)
        if (l.default_rule_arn == *arn)
          return elb_error("OperationNotPermitted", "Default rule '" + *arn + "' cannot be deleted");
      return rule_not_found();
    }
    if (auto st = delete_object(tx, *arn); !st) return std::move(st).error();
    return std::string();
  });
}

Result<std::string> set_rule_priorities(const Context& ctx, const api::QueryView& q) {
  auto pairs = q.members("RulePriorities");
  if (!pairs) return std::move(pairs).error();
  if (pairs->empty()) return validation_error("Rule priorities must be specified");
  std::vector<std::pair<std::string, int64_t>> wanted;
  for (const auto& p : *pairs) {
    auto priority = parse_priority(p, "Priority");
    if (!priority) return std::move(priority).error();
    wanted.emplace_back(std::string(p.get("RuleArn").value_or("")), *priority);
  }
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto config = load_config(tx);
    if (!config) return std::move(config).error();
    for (const auto& [arn, priority] : wanted) {
      auto r = std::find_if(config->rules.begin(), config->rules.end(), [&](const Rule& x) { return x.arn == arn; });
      if (r == config->rules.end()) {
        for (const auto& l : config->listeners)
          if (l.default_rule_arn == arn)
            return elb_error("OperationNotPermitted", "Default rule '" + arn + "' cannot have its priority changed");
        return rule_not_found();
      }
      r->priority = priority;
    }
    // After all moves, priorities must be unique per listener.
    for (size_t i = 0; i < config->rules.size(); ++i)
      for (size_t j = i + 1; j < config->rules.size(); ++j)
        if (config->rules[i].listener_arn == config->rules[j].listener_arn &&
            config->rules[i].priority == config->rules[j].priority)
          return priority_in_use(config->rules[i].priority);
    std::string out;
    api::XmlWriter w(out);
    w.open("Rules");
    for (const auto& [arn, priority] : wanted) {
      auto r = std::find_if(config->rules.begin(), config->rules.end(), [&](const Rule& x) { return x.arn == arn; });
      if (auto st = put_object(tx, Kind::kRule, r->arn, *r); !st) return std::move(st).error();
      write_rule(w, *r);
    }
    w.close("Rules");
    return out;
  });
}

}  // namespace

void add_rule_operations(api::Service& service, const ContextPtr& ctx) {
  auto bind = [&](auto fn) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, query_of(in)); };
  };
  service.add("CreateRule", bind(create_rule));
  service.add("DescribeRules", bind(describe_rules));
  service.add("ModifyRule", bind(modify_rule));
  service.add("DeleteRule", bind(delete_rule));
  service.add("SetRulePriorities", bind(set_rule_priorities));
}

}  // namespace berth::elb
