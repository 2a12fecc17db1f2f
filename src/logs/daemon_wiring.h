// logs/daemon_wiring: the LogStore `berth serve` opens, in the module's own
// database file DATA/logs/logs.db, with its retention timer running.
// register_services (src/cli/services.cpp) adds make_logs_service(store)
// to the front door and hands the same store to the task runtime's awslogs
// driver.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "logs/log_store.h"

namespace berth::logs {

// module_dir: the daemon's data dir + "/logs" (created, mode 0700).
Result<std::shared_ptr<LogStore>> open_for_daemon(const std::string& module_dir, const Clock& clock,
                                                  const std::string& account_id, const std::string& region);

}  // namespace berth::logs
