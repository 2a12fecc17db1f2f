// autoscaling/requests: reading a JSON 1.1 request against the model
// (types, bounds, enums) with AWS's model-validation wording, the
// ServiceNamespace/ResourceId/ScalableDimension triple, and paging.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace berth::autoscaling {

namespace json = boost::json;

Error validation(std::string message);

// "1 validation error detected: Value 'x' at 'serviceNamespace' failed to satisfy constraint: ..."
Error constraint(std::string_view member, const json::value& value, std::string_view constraint);

Result<std::optional<std::string>> opt_string(const json::object& in, std::string_view member, size_t max = 1600);
Result<std::string> req_string(const json::object& in, std::string_view member, size_t max = 1600);
Result<std::optional<int64_t>> opt_int(const json::object& in, std::string_view member);
Result<std::optional<double>> opt_double(const json::object& in, std::string_view member);
Result<std::optional<bool>> opt_bool(const json::object& in, std::string_view member);
// A JSON object member; nullptr when absent.
Result<const json::object*> opt_object(const json::object& in, std::string_view member);
Result<std::optional<std::vector<std::string>>> opt_strings(const json::object& in, std::string_view member);

// ServiceNamespace: the model's enum, then berth's one namespace.
Status check_namespace(const json::object& in);
// ResourceId "service/<cluster>/<service>" and ScalableDimension ecs:service:DesiredCount.
Result<std::string> read_resource_id(const json::object& in);
// The optional ScalableDimension of Describe* (must be ours when given).
Status check_optional_dimension(const json::object& in);

struct Page {
  size_t offset = 0;
  size_t size = 50;
};
// MaxResults (1..50, default 50) and NextToken (an offset berth issued).
Result<Page> read_page(const json::object& in);
// items[offset, offset+size) into out[member], and NextToken when more remain.
void write_page(json::object& out, std::string_view member, json::array items, const Page& page);

}  // namespace berth::autoscaling
