// outyet's command line, parsed the way Go's flag package does it:
// -name=value, -name value, --name; an unknown flag or a bad value prints
// the error and the usage to stderr and exits 2; -h / -help print the usage
// and exit 0.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace berth::outyet {

struct Flags {
  std::string http = ":8080";
  std::chrono::nanoseconds poll = std::chrono::seconds(5);
  std::string version = "1.4";
  std::string change_url_base = "https://go.googlesource.com/go/+/";
  // Not in the Go original (whose server has no timeouts at all): how long
  // a client may take to send a request header.
  std::chrono::nanoseconds read_header_timeout = std::chrono::seconds(10);
};

struct FlagParse {
  std::optional<Flags> flags;  // set when the program should run
  int exit_code = 0;           // otherwise: exit with this
  std::string output;          // what to print to stderr before exiting
};

FlagParse parse_flags(const std::string& program, const std::vector<std::string>& args);
std::string usage(const std::string& program);

}  // namespace berth::outyet
