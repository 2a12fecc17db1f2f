#include "ecr/daemon_wiring.h"

#include "iam/authorize.h"

namespace berth::ecr {

Result<std::unique_ptr<Ecr>> open_for_daemon(store::Database& db, iam::Iam& iam, const Clock& clock,
                                             const std::string& data_dir, const std::string& account_id,
                                             const std::string& region) {
  EcrOptions options;
  options.data_dir = data_dir;
  options.account_id = account_id;
  options.region = region;
  options.clock = &clock;
  RegistryAccess access;
  access.lookup = [&iam](std::string_view key) -> std::optional<RegistryPrincipal> {
    auto directory = iam.directory();
    const iam::Principal* p = directory->find(key);
    if (p == nullptr) return std::nullopt;
    return RegistryPrincipal{std::string(key), p->caller.arn};
  };
  access.allowed = [&iam](const RegistryPrincipal& who, RegistryAction action, std::string_view) {
    auto directory = iam.directory();
    const iam::Principal* p = directory->find(who.access_key_id);
    if (p == nullptr) return false;
    std::string_view operation = action == RegistryAction::kPull     ? "BatchGetImage"
                                 : action == RegistryAction::kDelete ? "BatchDeleteImage"
                                                                     : "PutImage";
    return iam::authorize(*p, "ecr", operation, action == RegistryAction::kPull).ok();
  };
  return Ecr::open(db, std::move(options), std::move(access));
}

}  // namespace berth::ecr
