// cli/logs: `berth logs <task | service> [--follow]`, containers' output
// from the data dir (runtime/logs.h), so a task's logs read even with the
// daemon down. A name that is no task's is a service's: its tasks come
// from the API (ListTasks), each line prefixed with "<task>/<container> |".
// --follow keeps printing what is written, and for a service picks up the
// tasks that start meanwhile, until interrupted.
#pragma once

#include "cli/options.h"

namespace berth::cli {

// The exit code: 1 when there is no such task or service.
int run_logs(const Options& options);

}  // namespace berth::cli
