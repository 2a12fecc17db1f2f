// ecr/daemon_wiring: Ecr opened the way `berth serve` needs it, with the
// registry's access checks answered by iam's Directory (the same
// AdministratorAccess / ReadOnlyAccess decision the front door makes for
// the ECR API: pulls need read rights, pushes and deletes write rights).
#pragma once

#include <memory>
#include <string>

#include "ecr/ecr.h"
#include "iam/iam.h"

namespace berth::ecr {

Result<std::unique_ptr<Ecr>> open_for_daemon(store::Database& db, iam::Iam& iam, const Clock& clock,
                                             const std::string& data_dir, const std::string& account_id,
                                             const std::string& region);

}  // namespace berth::ecr
