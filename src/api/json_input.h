// api/json_input: reading a JSON 1.1 request body (ECS, ECR) safely.
//
// Owns: parsing with Boost.JSON under limits (nesting depth, size), strict
// UTF-8, a JSON object at the top level, and the AWS-shaped error for
// anything else.
//
// Error code chosen: SerializationException (HTTP 400). AWS's JSON 1.1
// services (the Coral front end behind ECS/ECR) answer a body they cannot
// deserialize with __type SerializationException; botocore has no model
// entry for it and surfaces the code as is. The message is ours (AWS often
// sends none); it names what is wrong and where.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <string_view>

#include "core/error.h"

namespace berth::api {

inline constexpr std::string_view kSerializationException = "SerializationException";

struct JsonLimits {
  size_t max_depth = 64;
  size_t max_bytes = 8 * 1024 * 1024;
};

// An empty body counts as {} (botocore always sends at least "{}").
Result<boost::json::object> parse_json_body(std::string_view body, const JsonLimits& limits = {});

}  // namespace berth::api
