#include "secrets/daemon_wiring.h"

namespace berth::secrets {

Result<std::shared_ptr<Secrets>> open_for_daemon(store::Database& db, iam::Iam& iam, const Clock& clock,
                                                 const std::string& data_dir, const std::string& account_id,
                                                 const std::string& region) {
  SecretsOptions options{data_dir, account_id, region, &clock};
  RoleChecks roles;
  roles.allows = [&iam](std::string_view role, std::string_view action, std::string_view resource) {
    return iam.role_allows(role, action, resource);
  };
  roles.trusted_by_ecs_tasks = [&iam](std::string_view role) {
    return iam.role_trusts_service(role, "ecs-tasks.amazonaws.com");
  };
  return Secrets::open(db, std::move(options), std::move(roles));
}

}  // namespace berth::secrets
