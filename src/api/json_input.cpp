#include "api/json_input.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <cmath>
#include <new>
#include <string>

namespace berth::api {
namespace {

Error serialization(std::string message) {
  return Error::invalid(std::string(kSerializationException), std::move(message));
}

const char* kind_name(boost::json::kind k) {
  switch (k) {
    case boost::json::kind::array: return "an array";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    default: return "a number";
  }
}

// Boost.JSON reads a number beyond a double's range (1e400) as infinity,
// which serializes as "Infinity", not JSON: stored and echoed back it would
// break the client's parser (found by fuzz/json_input). Depth is bounded
// by the parser's max_depth.
bool has_non_finite_number(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_: return !std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& item : v.get_array())
        if (has_non_finite_number(item)) return true;
      return false;
    case boost::json::kind::object:
      for (const auto& member : v.get_object())
        if (has_non_finite_number(member.value())) return true;
      return false;
    default: return false;
  }
}

}  // namespace

Result<boost::json::object> parse_json_body(std::string_view body, const JsonLimits& limits) {
  if (body.size() > limits.max_bytes) {
    return serialization("Request body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                         std::to_string(limits.max_bytes) + " bytes");
  }
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return boost::json::object{};
  try {
    boost::json::parse_options opts;
    opts.max_depth = limits.max_depth;
    opts.allow_invalid_utf8 = false;
    opts.allow_comments = false;
    opts.allow_trailing_commas = false;
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(boost::json::string_view(body.data(), body.size()), ec, {}, opts);
    if (ec) {
      if (ec == boost::json::error::too_deep) {
        return serialization("JSON nesting exceeds the maximum depth of " + std::to_string(limits.max_depth));
      }
      return serialization("Malformed JSON in request body: " + ec.message());
    }
    // Unverified: AWS's text for an out-of-range number is not known.
    if (has_non_finite_number(v)) return serialization("Malformed JSON in request body: number out of range");
    if (!v.is_object()) {
      return serialization(std::string("Expected a JSON object at the top level of the request body, got ") +
                           kind_name(v.kind()));
    }
    return std::move(v.as_object());
  } catch (const std::bad_alloc&) {
    return Error::internal("Out of memory while parsing the request body");
  } catch (const std::exception& e) {
    return serialization(std::string("Malformed JSON in request body: ") + e.what());
  }
}

}  // namespace berth::api
