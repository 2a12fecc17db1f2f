// JSON 1.1 request bodies (ECS, ECR, Logs, ...): api::parse_json_body under
// its limits. A body that parses re-serializes, and what it serializes to
// parses again. (Not always to an equal value: Boost.JSON 1.81 rounds a
// number of more than 17 significant digits imprecisely, so it may read
// back as a neighbouring double.)
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/json_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = berth::api::parse_json_body(body, {.max_depth = 64, .max_bytes = 64 * 1024});
  if (!parsed.ok()) return 0;
  std::string text = boost::json::serialize(parsed.value());
  auto again = berth::api::parse_json_body(text, {.max_depth = 64, .max_bytes = 1024 * 1024});
  if (!again.ok()) std::abort();
  return 0;
}
