#include "logs/daemon_wiring.h"

#include <filesystem>
#include <system_error>

namespace berth::logs {

Result<std::shared_ptr<LogStore>> open_for_daemon(const std::string& module_dir, const Clock& clock,
                                                  const std::string& account_id, const std::string& region) {
  std::error_code ec;
  std::filesystem::create_directories(module_dir, ec);
  if (ec) return Error::internal("cannot create " + module_dir + ": " + ec.message());
  std::filesystem::permissions(module_dir, std::filesystem::perms::owner_all, ec);
  LogStoreOptions options;
  options.region = region;
  options.account_id = account_id;
  options.clock = &clock;
  return LogStore::open(module_dir + "/logs.db", std::move(options));
}

}  // namespace berth::logs
