// One line per service module. A module whose target is not built (its
// BERTH_HAVE_* is 0 or undefined) is simply left out, so the daemon builds
// with any subset of modules. The owners of ec2 and ecr put their own line
// (and include) inside their guard.
#include "cli/services.h"

#include "iam/services.h"

namespace berth::cli {

void register_services(ServiceRegistry& services, DaemonContext& ctx) {
  services.add(iam::make_iam_service(ctx.iam));
  services.add(iam::make_sts_service(ctx.iam));
#if BERTH_HAVE_EC2_API
  // src/ec2 (target berth_ec2_api), e.g.: services.add(ec2::make_ec2_service(ctx.db, ctx.clock, ctx.account_id));
#endif
#if BERTH_HAVE_ECR
  // src/ecr (target berth_ecr), e.g.: services.add(ecr::make_ecr_service(...));
  //                                    services.set_registry(... ecr::Registry::handle ...);
#endif
}

}  // namespace berth::cli
