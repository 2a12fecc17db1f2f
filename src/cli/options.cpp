#include "cli/options.h"

#include <charconv>
#include <string_view>

namespace berth::cli {

const char* const kUsage =
    "usage: berth serve [--data-dir DIR] [--bind ADDR] [--port 4566]\n"
    "       berth env [--data-dir DIR]\n"
    "       berth logs <task-id-or-arn> [--container NAME] [--data-dir DIR]\n";

Result<Options> parse_options(std::span<char* const> args) {
  Options o;
  if (args.size() < 2) return o;
  std::string_view command = args[1];
  if (command == "serve") {
    o.command = Command::kServe;
  } else if (command == "env") {
    o.command = Command::kEnv;
  } else if (command == "logs") {
    o.command = Command::kLogs;
  } else if (command == "help" || command == "--help" || command == "-h") {
    return o;
  } else {
    return Error::invalid("Usage", "unknown command: " + std::string(command));
  }
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view name = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos && arg.rfind("--", 0) == 0) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto take = [&]() -> Result<std::string_view> {
      if (inline_value) return value;
      if (i + 1 >= args.size()) return Error::invalid("Usage", std::string(name) + " needs a value");
      return std::string_view(args[++i]);
    };
    if (name == "--data-dir") {
      auto v = take();
      if (!v) return std::move(v).error();
      o.data_dir = *v;
    } else if (name == "--container" && o.command == Command::kLogs) {
      auto v = take();
      if (!v) return std::move(v).error();
      o.container = *v;
    } else if (o.command == Command::kLogs && o.task.empty() && !arg.starts_with("-")) {
      o.task = arg;
    } else if (name == "--bind" && o.command == Command::kServe) {
      auto v = take();
      if (!v) return std::move(v).error();
      o.bind = *v;
    } else if (name == "--port" && o.command == Command::kServe) {
      auto v = take();
      if (!v) return std::move(v).error();
      unsigned port = 0;
      auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), port);
      if (ec != std::errc() || ptr != v->data() + v->size() || port > 65535)
        return Error::invalid("Usage", "bad --port: " + std::string(*v));
      o.port = static_cast<uint16_t>(port);
    } else {
      return Error::invalid("Usage", "unknown flag: " + std::string(arg));
    }
  }
  if (o.command == Command::kLogs && o.task.empty()) return Error::invalid("Usage", "berth logs needs a task id or ARN");
  return o;
}

}  // namespace berth::cli
