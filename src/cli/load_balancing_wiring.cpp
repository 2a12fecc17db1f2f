#include "cli/load_balancing_wiring.h"

#if BERTH_HAVE_ELB && BERTH_HAVE_ECS

#include "elb/model.h"
#include "elb/targets.h"

namespace berth::cli {
namespace {

int64_t ms(WallTime t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }

class ElbLoadBalancing final : public ecs::LoadBalancing {
 public:
  explicit ElbLoadBalancing(std::shared_ptr<elb::ElbDaemon> daemon) : daemon_(std::move(daemon)) {}

  Result<std::optional<ecs::TargetGroupFacts>> target_group(store::Tx& tx, std::string_view arn) override {
    auto tg = elb::find_target_group(tx, arn);
    if (!tg) return std::move(tg).error();
    if (!*tg) return std::optional<ecs::TargetGroupFacts>();
    return std::optional<ecs::TargetGroupFacts>(
        ecs::TargetGroupFacts{(*tg)->arn, (*tg)->target_type, (*tg)->deregistration_delay_seconds, (*tg)->in_use});
  }
  Status register_target(store::Tx& tx, const ecs::TargetRef& t, WallTime now) override {
    return elb::register_target(tx, t.target_group_arn, t.id, t.port, "", ms(now));
  }
  Status deregister_target(store::Tx& tx, const ecs::TargetRef& t, WallTime now) override {
    return elb::deregister_target(tx, t.target_group_arn, t.id, t.port, ms(now));
  }
  Status complete_deregistration(store::Tx& tx, const ecs::TargetRef& t) override {
    return elb::complete_deregistration(tx, t.target_group_arn, t.id, t.port);
  }
  ecs::TargetHealthFacts health(const ecs::TargetRef& t) const override {
    auto h = daemon_->target_health(elb::registration_key(t.target_group_arn, t.id, t.port));
    if (!h) return {"initial", "Target registration is in progress"};
    return {h->state, h->description};
  }
  int64_t requests_in_flight(const ecs::TargetRef& t) const override {
    return daemon_->requests_in_flight(elb::registration_key(t.target_group_arn, t.id, t.port));
  }
  void on_health_change(std::function<void()> fn) override { daemon_->set_health_listener(std::move(fn)); }

 private:
  std::shared_ptr<elb::ElbDaemon> daemon_;
};

}  // namespace

std::unique_ptr<ecs::LoadBalancing> make_load_balancing(std::shared_ptr<elb::ElbDaemon> daemon) {
  return std::make_unique<ElbLoadBalancing>(std::move(daemon));
}

}  // namespace berth::cli

#endif
