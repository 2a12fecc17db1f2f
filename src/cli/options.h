// cli/options: the `berth` command line (DESIGN.md, "Interface contract").
//
//   berth serve [--data-dir DIR] [--bind ADDR] [--port 4566]
//   berth env   [--data-dir DIR]
//   berth logs  <task-id-or-arn> [--container NAME] [--data-dir DIR]
//
// Flags take "--flag value" or "--flag=value".
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/error.h"

namespace berth::cli {

enum class Command { kServe, kEnv, kLogs, kHelp };

struct Options {
  Command command = Command::kHelp;
  std::string data_dir;  // empty: default_data_dir()
  std::string bind = "127.0.0.1";
  uint16_t port = 4566;
  std::string task;       // logs: the task id or ARN
  std::string container;  // logs: only this container ("" = all)
};

Result<Options> parse_options(std::span<char* const> args);
extern const char* const kUsage;

}  // namespace berth::cli
