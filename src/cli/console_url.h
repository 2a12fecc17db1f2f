// cli/console_url: `berth console-url` prints a one-time link that signs the
// browser in to the web console as the data dir's administrator:
//   http://ADDR:PORT/console/#token=<64 hex>
// The token comes from the daemon (CreateConsoleSignInToken, signed with
// the administrator key the data dir holds), is good for one sign-in within
// 10 minutes, and rides in the fragment, so no access log records it.
#pragma once

#include "cli/options.h"

namespace berth::cli {

int run_console_url(const Options& options);

}  // namespace berth::cli
