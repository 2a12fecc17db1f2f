// berth: the command-line entry point (one module per subcommand).
#include <cstdio>
#include <span>

#include "cli/console_url.h"
#include "cli/daemon.h"
#include "cli/down.h"
#include "cli/export.h"
#include "cli/logs.h"
#include "cli/options.h"
#include "cli/shell_env.h"
#include "cli/status.h"

int main(int argc, char** argv) {
  using namespace berth::cli;
  auto options = parse_options(std::span<char* const>(argv, static_cast<size_t>(argc)));
  if (!options) {
    std::fprintf(stderr, "berth: %s\n%s", options.error().message.c_str(), kUsage);
    return 2;
  }
  switch (options->command) {
    case Command::kServe: return run_serve(*options);
    case Command::kEnv: return run_env(*options);
    case Command::kStatus: return run_status(*options);
    case Command::kLogs: return run_logs(*options);
    case Command::kDown: return run_down(*options);
    case Command::kExport: return run_export(*options);
    case Command::kConsoleUrl: return run_console_url(*options);
    case Command::kHelp: std::fputs(kUsage, stdout); return 0;
  }
  return 2;
}
