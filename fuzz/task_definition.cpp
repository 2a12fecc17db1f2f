// RegisterTaskDefinition's body: the JSON 1.1 codec, then
// ecs::validate_task_definition (every rule and default). A definition that
// validates re-serializes; so does the reservation the scheduler reads.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/json_input.h"
#include "ecs/task_definition_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto request = berth::api::parse_json_body(body);
  if (!request.ok()) return 0;
  auto validated = berth::ecs::validate_task_definition(request.value());
  if (!validated.ok()) return 0;
  (void)boost::json::serialize(validated.value().doc);
  (void)berth::ecs::reservation_of(validated.value().doc);
  return 0;
}
