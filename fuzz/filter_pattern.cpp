// CloudWatch Logs filter patterns (FilterLogEvents, aws logs tail
// --filter-pattern): logs::FilterPattern::parse, then matching. The input
// is "pattern\nmessage": the pattern is matched against the message and
// against a few fixed events (text, JSON, space-delimited).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "logs/filter_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view pattern = input.substr(0, nl);
  std::string_view message = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  auto parsed = berth::logs::FilterPattern::parse(pattern);
  if (!parsed.ok()) return 0;
  (void)parsed.value().matches(message);
  (void)parsed.value().matches("ERROR something bad happened");
  (void)parsed.value().matches(R"({"a":{"b":["x",2]},"n":7,"f":true,"s":null,"user":"bob"})");
  (void)parsed.value().matches(R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326)");
  return 0;
}
