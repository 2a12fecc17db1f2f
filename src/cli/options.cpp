#include "cli/options.h"

#include <charconv>

namespace berth::cli {

const char* const kUsage =
    "usage: berth serve  [--data-dir DIR] [--bind ADDR] [--port 4566] [--metrics-unauthenticated]\n"
    "                    [--allow-loopback-targets] [--header-timeout 10] [--idle-timeout 60]\n"
    "       berth env    [--unset] [--data-dir DIR]\n"
    "       berth status [--watch] [--data-dir DIR]\n"
    "       berth logs   <task-id-or-arn | service> [--cluster C] [--container NAME] [--follow] [--data-dir DIR]\n"
    "       berth down   [--data-dir DIR]\n"
    "       berth export cloudformation [--stack NAME] [--cluster C] [--format json|yaml] [-o FILE] [--data-dir DIR]\n"
    "       berth console-url [--data-dir DIR]   a one-time sign-in link to the web console (10 minutes)\n";

namespace {

Result<Command> command_named(std::string_view name) {
  if (name == "serve") return Command::kServe;
  if (name == "env") return Command::kEnv;
  if (name == "status") return Command::kStatus;
  if (name == "logs") return Command::kLogs;
  if (name == "down") return Command::kDown;
  if (name == "export") return Command::kExport;
  if (name == "console-url") return Command::kConsoleUrl;
  if (name == "help" || name == "--help" || name == "-h") return Command::kHelp;
  return Error::invalid("Usage", "unknown command: " + std::string(name));
}

}  // namespace

Result<Options> parse_options(std::span<char* const> args) {
  Options o;
  if (args.size() < 2) return o;
  auto command = command_named(args[1]);
  if (!command) return std::move(command).error();
  o.command = *command;
  if (o.command == Command::kHelp) return o;
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view name = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos && arg.rfind("--", 0) == 0) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto take = [&](std::string& into) -> Status {
      if (inline_value) {
        into = value;
      } else if (i + 1 < args.size()) {
        into = args[++i];
      } else {
        return Error::invalid("Usage", std::string(name) + " needs a value");
      }
      return Ok{};
    };
    auto flag = [&](bool& into) -> Status {
      if (inline_value) return Error::invalid("Usage", std::string(name) + " takes no value");
      into = true;
      return Ok{};
    };
    bool logs = o.command == Command::kLogs, serve = o.command == Command::kServe;
    bool exporting = o.command == Command::kExport;
    Status s = Ok{};
    if (name == "--data-dir") {
      s = take(o.data_dir);
    } else if (name == "--container" && logs) {
      s = take(o.container);
    } else if (name == "--cluster" && (logs || exporting)) {
      s = take(o.cluster);
    } else if (name == "--follow" && logs) {
      s = flag(o.follow);
    } else if (logs && o.target.empty() && !arg.starts_with("-")) {
      o.target = arg;
    } else if (exporting && o.target.empty() && !arg.starts_with("-")) {
      o.target = arg;
      if (o.target != "cloudformation") s = Error::invalid("Usage", "berth export writes cloudformation templates, not " + o.target);
    } else if (name == "--stack" && exporting) {
      s = take(o.stack);
    } else if (name == "--format" && exporting) {
      s = take(o.format);
      if (s && o.format != "json" && o.format != "yaml") s = Error::invalid("Usage", "--format is json or yaml");
    } else if ((name == "-o" || name == "--output") && exporting) {
      s = take(o.output);
    } else if (name == "--unset" && o.command == Command::kEnv) {
      s = flag(o.unset);
    } else if (name == "--watch" && o.command == Command::kStatus) {
      s = flag(o.watch);
    } else if (name == "--bind" && serve) {
      s = take(o.bind);
    } else if (name == "--allow-loopback-targets" && serve) {
      s = flag(o.allow_loopback_targets);
    } else if (name == "--metrics-unauthenticated" && serve) {
      s = flag(o.metrics_unauthenticated);
    } else if ((name == "--header-timeout" || name == "--idle-timeout") && serve) {
      std::string v;
      s = take(v);
      unsigned seconds = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
      // 1 to 4000 seconds, the range of ALB's idle_timeout.timeout_seconds.
      if (s && (ec != std::errc() || ptr != v.data() + v.size() || seconds < 1 || seconds > 4000))
        s = Error::invalid("Usage", "bad " + std::string(name) + ": " + v + " (seconds, 1 to 4000)");
      (name == "--header-timeout" ? o.header_timeout_seconds : o.idle_timeout_seconds) = seconds;
    } else if (name == "--port" && serve) {
      std::string v;
      s = take(v);
      unsigned port = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
      if (s && (ec != std::errc() || ptr != v.data() + v.size() || port > 65535))
        s = Error::invalid("Usage", "bad --port: " + v);
      o.port = static_cast<uint16_t>(port);
    } else {
      s = Error::invalid("Usage", "unknown flag: " + std::string(arg));
    }
    if (!s) return std::move(s).error();
  }
  if (o.command == Command::kLogs && o.target.empty())
    return Error::invalid("Usage", "berth logs needs a task id or ARN, or a service name");
  if (o.command == Command::kExport && o.target.empty())
    return Error::invalid("Usage", "berth export needs what to export: cloudformation");
  return o;
}

}  // namespace berth::cli
