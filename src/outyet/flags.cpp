#include "outyet/flags.h"

#include "core/duration.h"

namespace berth::outyet {

std::string usage(const std::string& program) {
  return "Usage of " + program +
         ":\n"
         "  -change-url-base string\n"
         "    \tBase URL of the change the version is appended to (default \"https://go.googlesource.com/go/+/\")\n"
         "  -http string\n"
         "    \tListen address (default \":8080\")\n"
         "  -poll duration\n"
         "    \tPoll period (default 5s)\n"
         "  -read-header-timeout duration\n"
         "    \tHow long a client may take to send a request header (default 10s)\n"
         "  -version string\n"
         "    \tGo version (default \"1.4\")\n";
}

FlagParse parse_flags(const std::string& program, const std::vector<std::string>& args) {
  FlagParse out;
  Flags flags;
  auto fail = [&](const std::string& message) {
    out.exit_code = 2;
    out.output = message + "\n" + usage(program);
    return out;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    // Go stops at the first non-flag argument or at "--".
    if (arg.size() < 2 || arg[0] != '-') break;
    if (arg == "--") break;
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    if (name.empty() || name[0] == '-' || name[0] == '=') return fail("bad flag syntax: " + arg);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "h" || name == "help") {
      out.exit_code = 0;
      out.output = usage(program);
      return out;
    }
    std::string* target = nullptr;
    std::chrono::nanoseconds* duration = nullptr;
    if (name == "http") target = &flags.http;
    else if (name == "version") target = &flags.version;
    else if (name == "change-url-base") target = &flags.change_url_base;
    else if (name == "poll") duration = &flags.poll;
    else if (name == "read-header-timeout") duration = &flags.read_header_timeout;
    else return fail("flag provided but not defined: -" + name);
    if (!value) {
      if (i + 1 >= args.size()) return fail("flag needs an argument: -" + name);
      value = args[++i];
    }
    if (target) {
      *target = *value;
    } else {
      auto parsed = parse_go_duration(*value);
      if (!parsed) return fail("invalid value \"" + *value + "\" for flag -" + name + ": parse error");
      *duration = *parsed;
    }
  }
  if (flags.poll <= std::chrono::nanoseconds(0))
    return fail("invalid value for flag -poll: the period must be positive");
  out.flags = flags;
  return out;
}

}  // namespace berth::outyet
