#include "elb/targets.h"

#include <algorithm>

#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {
namespace {

Result<TargetGroup> group_or_not_found(store::Tx& tx, std::string_view arn) {
  auto tg = get_object<TargetGroup>(tx, Kind::kTargetGroup, std::string(arn));
  if (!tg) return std::move(tg).error();
  if (!*tg) return target_group_not_found();
  return std::move(**tg);
}

// Drops the group's registrations whose draining is over.
Status purge_drained(store::Tx& tx, const TargetGroup& tg, int64_t now_ms) {
  auto regs = list_registrations(tx, tg.arn);
  if (!regs) return std::move(regs).error();
  for (const auto& r : *regs)
    if (draining_over(r, tg, now_ms))
      if (auto st = delete_object(tx, registration_key(r.target_group_arn, r.id, r.port)); !st) return st;
  return Ok{};
}

Status check_target(std::string_view id, int64_t port) {
  if (id.empty()) return validation_error("A target ID must be specified");
  if (port < 1 || port > 65535) return validation_error("Port '" + std::to_string(port) + "' must be between 1 and 65535");
  return Ok{};
}

Result<bool> forwarded_to(store::Tx& tx, const std::string& arn) {
  auto has = [&](const std::vector<Action>& actions) {
    auto groups = forwarded_groups(actions);
    return std::find(groups.begin(), groups.end(), arn) != groups.end();
  };
  auto listeners = list_objects<Listener>(tx, Kind::kListener);
  if (!listeners) return std::move(listeners).error();
  for (const auto& l : *listeners)
    if (has(l.default_actions)) return true;
  auto rules = list_objects<Rule>(tx, Kind::kRule);
  if (!rules) return std::move(rules).error();
  for (const auto& r : *rules)
    if (has(r.actions)) return true;
  return false;
}

}  // namespace

Result<std::optional<TargetGroupInfo>> find_target_group(store::Tx& tx, std::string_view arn) {
  auto tg = get_object<TargetGroup>(tx, Kind::kTargetGroup, std::string(arn));
  if (!tg) return std::move(tg).error();
  if (!*tg) return std::optional<TargetGroupInfo>();
  const TargetGroup& g = **tg;
  auto in_use = forwarded_to(tx, g.arn);
  if (!in_use) return std::move(in_use).error();
  TargetGroupInfo info;
  info.arn = g.arn;
  info.target_type = g.target_type;
  info.vpc_id = g.vpc_id;
  info.port = g.port;
  info.deregistration_delay_seconds = deregistration_delay_ms(g) / 1000;
  info.in_use = *in_use;
  info.health_check_interval_seconds = g.health_check_interval;
  info.healthy_threshold = g.healthy_threshold;
  info.unhealthy_threshold = g.unhealthy_threshold;
  return std::optional<TargetGroupInfo>(std::move(info));
}

Status register_target(store::Tx& tx, std::string_view tg_arn, std::string_view id, int64_t port,
                       std::string_view zone, int64_t now_ms) {
  auto tg = group_or_not_found(tx, tg_arn);
  if (!tg) return std::move(tg).error();
  if (port == 0) port = tg->port;
  if (auto st = check_target(id, port); !st) return st;
  if (auto st = purge_drained(tx, *tg, now_ms); !st) return st;
  std::string key = registration_key(tg->arn, std::string(id), port);
  auto existing = get_object<Registration>(tx, Kind::kRegistration, key);
  if (!existing) return std::move(existing).error();
  if (*existing && (*existing)->deregistered_ms == 0) return Ok{};
  Registration r{tg->arn, std::string(id), port, std::string(zone), now_ms, 0};
  return put_object(tx, Kind::kRegistration, key, r);
}

Status deregister_target(store::Tx& tx, std::string_view tg_arn, std::string_view id, int64_t port, int64_t now_ms) {
  auto tg = group_or_not_found(tx, tg_arn);
  if (!tg) return std::move(tg).error();
  if (port == 0) port = tg->port;
  if (auto st = check_target(id, port); !st) return st;
  if (auto st = purge_drained(tx, *tg, now_ms); !st) return st;
  std::string key = registration_key(tg->arn, std::string(id), port);
  auto existing = get_object<Registration>(tx, Kind::kRegistration, key);
  if (!existing) return std::move(existing).error();
  if (!*existing || (*existing)->deregistered_ms != 0) return Ok{};
  if (deregistration_delay_ms(*tg) == 0) return delete_object(tx, key);
  (*existing)->deregistered_ms = now_ms;
  return put_object(tx, Kind::kRegistration, key, **existing);
}

Status complete_deregistration(store::Tx& tx, std::string_view tg_arn, std::string_view id, int64_t port) {
  auto tg = get_object<TargetGroup>(tx, Kind::kTargetGroup, std::string(tg_arn));
  if (!tg) return std::move(tg).error();
  if (!*tg) return Ok{};  // the group is gone, and its registrations with it
  if (port == 0) port = (*tg)->port;
  std::string key = registration_key((*tg)->arn, std::string(id), port);
  auto existing = get_object<Registration>(tx, Kind::kRegistration, key);
  if (!existing) return std::move(existing).error();
  if (!*existing || (*existing)->deregistered_ms == 0) return Ok{};
  return delete_object(tx, key);
}

}  // namespace berth::elb
