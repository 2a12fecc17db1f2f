#include "cli/shell_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/data_dir.h"

namespace berth::cli {

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string export_lines(const ShellEnv& env) {
  std::string bin = shell_quote(env.bin_dir);
  std::string out;
  out += "export AWS_ENDPOINT_URL=" + shell_quote(env.endpoint) + "\n";
  out += "export AWS_ACCESS_KEY_ID=" + shell_quote(env.access_key_id) + "\n";
  out += "export AWS_SECRET_ACCESS_KEY=" + shell_quote(env.secret_access_key) + "\n";
  out += "export AWS_DEFAULT_REGION=" + shell_quote(env.region) + "\n";
  if (env.bin_dir.empty()) return out;  // no wrapper: the variables only
  // Once only, however often the line is evaluated.
  out += "case \":$PATH:\" in *:" + bin + ":*) ;; *) export PATH=" + bin + ":\"$PATH\" ;; esac\n";
  out += "# aws now reaches berth with any CLI version (berth's aws, first in PATH, adds --endpoint-url)."
         " Undo: eval \"$(berth env --unset)\"\n";
  return out;
}

std::string unset_lines(std::string_view bin_dir) {
  // ${var//pattern/} with a quoted pattern is literal in bash and zsh.
  return "unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION\n"
         "berth_bin=" + shell_quote(":" + std::string(bin_dir) + ":") +
         "; PATH=\":$PATH:\"; PATH=${PATH//\"$berth_bin\"/:}; PATH=${PATH#:}; PATH=${PATH%:}; export PATH;"
         " unset berth_bin\n";
}

std::string aws_wrapper_script() {
  return R"SH(#!/bin/sh
# Written by `berth env`: the aws CLI pointed at berth. Passes
# --endpoint-url "$AWS_ENDPOINT_URL" unless the command line has one,
# because some CLIs (Debian 12's aws 2.9) ignore the variable.
# Undo: eval "$(berth env --unset)".
if [ -n "${BERTH_AWS_WRAPPER:-}" ]; then
  echo "berth's aws wrapper: no aws CLI on PATH besides $0" >&2
  exit 127
fi
BERTH_AWS_WRAPPER=1
export BERTH_AWS_WRAPPER
self_dir=$(cd "${0%/*}" && pwd -P)
set -f
real_path=
IFS=:
for dir in $PATH; do
  [ "$(cd "$dir" 2>/dev/null && pwd -P)" = "$self_dir" ] && continue
  real_path=${real_path:+$real_path:}$dir
done
unset IFS
set +f
PATH=$real_path
export PATH
for arg in "$@"; do
  case $arg in --endpoint-url|--endpoint-url=*) exec aws "$@" ;; esac
done
if [ -n "${AWS_ENDPOINT_URL:-}" ]; then exec aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; fi
exec aws "$@"
)SH";
}

Result<std::string> install_aws_wrapper(const std::string& data_dir) {
  std::string bin = data_dir + "/bin";
  std::error_code ec;
  std::filesystem::create_directories(bin, ec);
  if (ec) return Error::internal("cannot create " + bin + ": " + ec.message());
  if (auto s = write_private_file(bin, "aws", aws_wrapper_script()); !s) return std::move(s).error();
  if (::chmod((bin + "/aws").c_str(), 0700) != 0) return Error::internal("cannot make " + bin + "/aws executable");
  return bin;
}

int run_env(const Options& options) {
  std::string dir = data_dir_or_default(options.data_dir);
  if (auto absolute = std::filesystem::absolute(dir); !absolute.empty()) dir = absolute.lexically_normal().string();
  if (options.unset) {
    std::fputs(unset_lines(dir + "/bin").c_str(), stdout);
    return 0;
  }
  auto endpoint = read_endpoint(dir);
  if (!endpoint) {
    std::fprintf(stderr, "berth env: no daemon has run with data dir %s (%s)\n", dir.c_str(),
                 endpoint.error().message.c_str());
    return 1;
  }
  auto credentials = read_credentials(dir);
  if (!credentials) {
    std::fprintf(stderr, "berth env: %s\n", credentials.error().message.c_str());
    return 1;
  }
  // Without the wrapper the variables still serve boto3 and newer CLIs.
  auto bin = install_aws_wrapper(dir);
  if (!bin) std::fprintf(stderr, "berth env: no aws wrapper (%s)\n", bin.error().message.c_str());
  ShellEnv env{*endpoint, credentials->access_key_id, credentials->secret_access_key, std::string(kDefaultRegion),
               bin ? *bin : std::string()};
  std::fputs(export_lines(env).c_str(), stdout);
  return 0;
}

}  // namespace berth::cli
