// cli/shell_env: `berth env`, the lines that point a shell at one daemon.
//
//   eval "$(berth env)"          AWS_ENDPOINT_URL, the administrator's key,
//                                the region, and DATA_DIR/bin first in PATH
//   eval "$(berth env --unset)"  all of it undone
//
// DATA_DIR/bin/aws is a wrapper that passes --endpoint-url "$AWS_ENDPOINT_URL"
// to the real aws CLI, because CLIs older than botocore's endpoint
// variables (Debian 12's aws 2.9) ignore AWS_ENDPOINT_URL and would call
// the real AWS. The lines work in bash and zsh (and any POSIX sh).
#pragma once

#include <string>
#include <string_view>

#include "cli/options.h"
#include "core/error.h"

namespace berth::cli {

struct ShellEnv {
  std::string endpoint;
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  std::string bin_dir;  // where the aws wrapper is ("": none, PATH is left alone)
};

// 'text' quoted for any POSIX shell.
std::string shell_quote(std::string_view text);
std::string export_lines(const ShellEnv& env);
std::string unset_lines(std::string_view bin_dir);
// The wrapper's text (a POSIX sh script; it finds the real aws on PATH
// without its own directory).
std::string aws_wrapper_script();
// Writes DATA_DIR/bin/aws (mode 0700, replaced atomically); returns DATA_DIR/bin.
Result<std::string> install_aws_wrapper(const std::string& data_dir);

// `berth env [--unset]`: the exit code.
int run_env(const Options& options);

}  // namespace berth::cli
