// secrets/daemon_wiring: Secrets opened the way `berth serve` needs it, with
// a task execution role's permissions and trust answered by iam
// (Iam::role_allows, Iam::role_trusts_service).
// Kept apart so berth_secrets itself links no iam.
#pragma once

#include <memory>
#include <string>

#include "iam/iam.h"
#include "secrets/secrets.h"

namespace berth::secrets {

Result<std::shared_ptr<Secrets>> open_for_daemon(store::Database& db, iam::Iam& iam, const Clock& clock,
                                                 const std::string& data_dir, const std::string& account_id,
                                                 const std::string& region);

}  // namespace berth::secrets
