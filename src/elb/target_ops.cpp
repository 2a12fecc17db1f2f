// RegisterTargets, DeregisterTargets, DescribeTargetHealth (§3.3). Health
// comes from the checker's memory (HealthSource); registration and draining
// from the store, written through targets.h (the interface ECS uses too).
#include <algorithm>
#include <map>

#include "ec2/instances.h"
#include "ec2/security_group_rules.h"
#include "elb/api_support.h"
#include "elb/elb_store.h"
#include "elb/targets.h"

namespace berth::elb {
namespace {

struct TargetInput {
  std::string id;
  int64_t port = 0;  // 0: not given
  std::string zone;
};

Result<std::vector<TargetInput>> parse_targets(const api::QueryView& q, bool required_list) {
  auto members = q.members("Targets");
  if (!members) return std::move(members).error();
  if (required_list && members->empty())
    return validation_error("1 validation error detected: Value null at 'targets' failed to satisfy constraint: "
                            "Member must not be null");
  std::vector<TargetInput> out;
  for (const auto& m : *members) {
    TargetInput t;
    t.id = std::string(m.get("Id").value_or(""));
    if (t.id.empty()) return validation_error("A target ID must be specified");
    auto port = optional_int(m, "Port");
    if (!port) return std::move(port).error();
    if (*port && (**port < 1 || **port > 65535))
      return validation_error("Port '" + std::to_string(**port) + "' must be between 1 and 65535");
    t.port = port->value_or(0);
    t.zone = std::string(m.get("AvailabilityZone").value_or(""));
    out.push_back(std::move(t));
  }
  return out;
}

Result<TargetGroup> find_tg(store::Tx& tx, const std::string& arn) {
  auto tg = get_object<TargetGroup>(tx, Kind::kTargetGroup, arn);
  if (!tg) return std::move(tg).error();
  if (!*tg) return target_group_not_found();
  return std::move(**tg);
}

// AWS accepts RFC 1918 / RFC 6598 addresses (and the VPC's own); berth's
// other targets are loopback addresses of this machine, so 127.0.0.0/8 is
// accepted too when `loopback` allows it (ElbOptions::loopback_ip_targets).
bool usable_ip(const std::string& id, bool loopback) {
  auto ip = ec2::IpAddress::parse(id);
  if (!ip || !ip->is_v4()) return false;
  uint32_t a = ip->v4_bits();
  auto in = [&](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return (loopback && in(0x7F000000, 8)) || in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) ||
         in(0x64400000, 10);
}

Result<std::string> register_targets(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "TargetGroupArn");
  if (!arn) return std::move(arn).error();
  auto targets = parse_targets(q, true);
  if (!targets) return std::move(targets).error();
  auto tg0 = ctx.db.read([&](store::Tx& tx) { return find_tg(tx, *arn); });
  if (!tg0) return std::move(tg0).error();
  WallTime now = ctx.clock.now();
  // Instances are checked before the write (get_instance runs its own transaction).
  for (const auto& t : *targets) {
    if (tg0->target_type == "instance") {
      auto instance = ec2::get_instance(ctx.db, t.id, now);
      if (!instance)
        return elb_error("InvalidTarget", "The following targets are not valid instances: '" + t.id + "'");
      if (instance->state != ec2::InstanceState::kRunning)
        return elb_error("InvalidTarget",
                         "The following targets are not in a running state and cannot be registered: '" + t.id + "'");
      if (instance->vpc_id != tg0->vpc_id)
        return elb_error("InvalidTarget", "The following targets are not in the target group VPC '" + tg0->vpc_id +
                                              "': '" + t.id + "'");
    } else if (!usable_ip(t.id, ctx.options.loopback_ip_targets)) {
      // Text unverified: AWS's answer for an address outside these ranges.
      return elb_error("InvalidTarget", "The IP address '" + t.id +
                                            "' is not a valid IPv4 address within the VPC or a private range");
    }
  }
  int64_t now_ms = to_ms(now);
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    for (const auto& t : *targets)
      if (auto st = register_target(tx, *arn, t.id, t.port, t.zone, now_ms); !st) return std::move(st).error();
    return std::string();
  });
}

Result<std::string> deregister_targets(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "TargetGroupArn");
  if (!arn) return std::move(arn).error();
  auto targets = parse_targets(q, true);
  if (!targets) return std::move(targets).error();
  int64_t now_ms = to_ms(ctx.clock.now());
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    for (const auto& t : *targets)
      if (auto st = deregister_target(tx, *arn, t.id, t.port, now_ms); !st) return std::move(st).error();
    return std::string();
  });
}

void write_health(api::XmlWriter& w, const TargetGroup& tg, const std::string& id, int64_t port,
                  const TargetHealthView& h) {
  w.open("member").open("Target").leaf("Id", id).leaf_int("Port", port).close("Target");
  w.leaf("HealthCheckPort", tg.health_check_port == "traffic-port" ? std::to_string(port) : tg.health_check_port);
  w.open("TargetHealth").leaf("State", h.state);
  if (!h.reason.empty()) w.leaf("Reason", h.reason).leaf("Description", h.description);
  w.close("TargetHealth").close("member");
}

Result<std::string> describe_target_health(const Context& ctx, const api::QueryView& q) {
  auto arn = required(q, "TargetGroupArn");
  if (!arn) return std::move(arn).error();
  auto targets = parse_targets(q, false);
  if (!targets) return std::move(targets).error();
  auto config = ctx.db.read([](store::Tx& tx) { return load_config(tx); });
  if (!config) return std::move(config).error();
  auto tg = std::find_if(config->target_groups.begin(), config->target_groups.end(),
                         [&](const TargetGroup& g) { return g.arn == *arn; });
  if (tg == config->target_groups.end()) return target_group_not_found();
  bool in_use = !load_balancers_of_group(*config, *arn).empty();
  int64_t now_ms = to_ms(ctx.clock.now());
  std::vector<const Registration*> regs;
  for (const auto& r : config->registrations)
    if (r.target_group_arn == *arn && !draining_over(r, *tg, now_ms)) regs.push_back(&r);
  // Instance targets that are not running are unused (§3.3, Target.InvalidState).
  std::map<std::string, std::string> instance_states;
  if (tg->target_type == "instance")
    for (const auto* r : regs) {
      auto instance = ec2::get_instance(ctx.db, r->id, ctx.clock.now());
      instance_states[r->id] = instance ? std::string(ec2::state_name(instance->state)) : "terminated";
    }
  auto health_of = [&](const Registration& r) -> TargetHealthView {
    if (r.deregistered_ms != 0)
      return {"draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"};
    if (auto it = instance_states.find(r.id); it != instance_states.end() && it->second != "running")
      return {"unused", "Target.InvalidState",
              "Target is in the " + std::string(it->second == "terminated" ? "terminated" : "stopped") + " state"};
    if (!in_use)
      return {"unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"};
    if (ctx.health)
      if (auto h = ctx.health->health(registration_key(r.target_group_arn, r.id, r.port))) return *h;
    return {"initial", "Elb.RegistrationInProgress", "Target registration is in progress"};
  };
  std::string out;
  api::XmlWriter w(out);
  w.open("TargetHealthDescriptions");
  if (targets->empty()) {
    for (const auto* r : regs) write_health(w, *tg, r->id, r->port, health_of(*r));
  } else {
    for (const auto& t : *targets) {
      bool found = false;
      for (const auto* r : regs) {
        if (r->id != t.id || (t.port && r->port != t.port)) continue;
        write_health(w, *tg, r->id, r->port, health_of(*r));
        found = true;
      }
      if (!found)
        write_health(w, *tg, t.id, t.port ? t.port : tg->port,
                     {"unused", "Target.NotRegistered", "Target is not registered to the target group"});
    }
  }
  w.close("TargetHealthDescriptions");
  return out;
}

}  // namespace

void add_target_operations(api::Service& service, const ContextPtr& ctx) {
  auto bind = [&](auto fn) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, query_of(in)); };
  };
  service.add("RegisterTargets", bind(register_targets));
  service.add("DeregisterTargets", bind(deregister_targets));
  service.add("DescribeTargetHealth", bind(describe_target_health));
}

}  // namespace berth::elb
