// cli/daemon: `berth serve`.
//
//   serve: umask 077 ─► data dir ─► state.db (WAL) ─► iam (account, bootstrap
//          administrator) ─► credentials file ─► front door + services
//          ─► HttpServer on ADDR:PORT (one loop per core) ─► endpoint file
//          ─► run until SIGTERM/SIGINT ─► graceful stop
#pragma once

#include "cli/options.h"

namespace berth::cli {

// Returns the process exit code.
int run_serve(const Options& options);

}  // namespace berth::cli
