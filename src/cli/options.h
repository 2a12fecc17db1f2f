// cli/options: the `berth` command line (DESIGN.md, "Interface contract").
//
//   berth serve  [--data-dir DIR] [--bind ADDR] [--port 4566] [--metrics-unauthenticated]
//                [--allow-loopback-targets] [--header-timeout 10] [--idle-timeout 60]
//   berth env    [--unset] [--data-dir DIR]
//   berth status [--watch] [--data-dir DIR]
//   berth logs   <task-id-or-arn | service> [--cluster C] [--container NAME] [--follow] [--data-dir DIR]
//   berth down   [--data-dir DIR]
//   berth export cloudformation [--stack NAME] [--cluster C] [--format json|yaml] [-o FILE] [--data-dir DIR]
//   berth console-url [--data-dir DIR]
//
// Flags take "--flag value" or "--flag=value".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace berth::cli {

inline constexpr std::string_view kDefaultRegion = "us-east-1";

enum class Command { kServe, kEnv, kStatus, kLogs, kDown, kExport, kConsoleUrl, kHelp };

struct Options {
  Command command = Command::kHelp;
  std::string data_dir;  // empty: default_data_dir()
  std::string bind = "127.0.0.1";
  uint16_t port = 4566;
  bool metrics_unauthenticated = false;  // serve: /_berth/metrics without SigV4
  // serve: IP targets on 127.0.0.0/8 even with a non-loopback --bind (they
  // are always allowed on a loopback one).
  bool allow_loopback_targets = false;
  // serve, the API port: seconds a client has to send a whole request head
  // (a new connection from its accept, a keep-alive one from its first byte),
  // and seconds a keep-alive connection may sit idle between requests.
  uint32_t header_timeout_seconds = 10;
  uint32_t idle_timeout_seconds = 60;
  bool unset = false;     // env: print the lines that undo it
  bool watch = false;     // status: redraw every second
  std::string target;     // logs: a task id or ARN, or a service name; export: "cloudformation"
  std::string cluster;    // logs: the service's cluster, export: the one cluster ("" = every cluster)
  std::string container;  // logs: only this container ("" = all)
  bool follow = false;    // logs: keep printing what the containers write
  std::string stack = "berth";  // export: the stack's name (the template's description)
  std::string format = "json";  // export: json or yaml
  std::string output;           // export: the file to write ("" = stdout)
};

Result<Options> parse_options(std::span<char* const> args);
extern const char* const kUsage;

}  // namespace berth::cli
