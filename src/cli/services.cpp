// One line per service module. A module whose target is not built (its
// BERTH_HAVE_* is 0 or undefined) is simply left out, so the daemon builds
// with any subset of modules. The owners of ec2 and ecr put their own line
// (and include) inside their guard.
#include "cli/services.h"

#include "iam/services.h"

#if BERTH_HAVE_EC2_API
#include "core/log.h"
#include "ec2/ec2_service.h"
#endif

#if BERTH_HAVE_ECR
#include "core/log.h"
#include "ecr/daemon_wiring.h"
#endif

#if BERTH_HAVE_ELB
#include "core/log.h"
#include "elb/elb_daemon.h"
#endif

#if BERTH_HAVE_ECS
#include "core/log.h"
#include "ecs/ecs.h"
#endif

namespace berth::cli {

void register_services(ServiceRegistry& services, DaemonContext& ctx) {
  services.add(iam::make_iam_service(ctx.iam));
  services.add(iam::make_sts_service(ctx.iam));
#if BERTH_HAVE_EC2_API
  ec2::Ec2Options ec2_options;
  ec2_options.region = ctx.region;
  ec2_options.account_id = ctx.account_id;
  if (auto ec2 = ec2::make_ec2_service(ctx.db, ec2_options)) {
    services.add(std::move(*ec2));
  } else {
    log::error("berth", "ec2: ", ec2.error().message);
  }
#endif
#if BERTH_HAVE_ECR
  if (auto ecr = ecr::open_for_daemon(ctx.db, ctx.iam, ctx.clock, ctx.data_dir + "/ecr", ctx.account_id, ctx.region)) {
    std::shared_ptr<ecr::Ecr> shared = std::move(*ecr);
    services.add(shared->service());
    services.set_registry([shared](net::Request& r) { return shared->registry().handle(r); });
  } else {
    log::error("berth", "ecr: ", ecr.error().message);
  }
#endif
#if BERTH_HAVE_ELB
  if (auto elb = elb::start_elb(ctx.db, ctx.clock, ctx.loops, ctx.bind_address, ctx.region, ctx.account_id)) {
    std::shared_ptr<elb::ElbDaemon> shared = std::move(*elb);
    services.add(shared->take_service());
    services.on_stop([shared] { shared->stop(); });
  } else {
    log::error("berth", "elb: ", elb.error().message);
  }
#endif
#if BERTH_HAVE_ECS
  // No TaskLauncher yet: tasks are placed and recorded; the runtime plugs in here.
  if (auto ecs = ecs::EcsDaemon::start(ctx.db, ctx.clock, ctx.loops.at(0), ecs::Options{ctx.region, ctx.account_id})) {
    std::shared_ptr<ecs::EcsDaemon> shared = std::move(*ecs);
    services.add(shared->take_service());
    services.on_stop([shared] { shared->stop(); });
  } else {
    log::error("berth", "ecs: ", ecs.error().message);
  }
#endif
}

}  // namespace berth::cli
