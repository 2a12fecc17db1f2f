// secrets/json_members: reading members of a JSON 1.1 request against the
// botocore model's types and bounds. SSM calls a bad member a
// ValidationException, Secrets Manager an InvalidParameterException; the
// caller picks the code, the texts follow AWS's model-validation wording
// ("1 validation error detected: Value at 'name' failed to satisfy
// constraint: ...").
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace berth::secrets {

using Tags = std::vector<std::pair<std::string, std::string>>;

class JsonMembers {
 public:
  JsonMembers(const boost::json::object& in, std::string code) : in_(in), code_(std::move(code)) {}

  Error invalid(std::string message) const { return Error::invalid(code_, std::move(message)); }

  // `member` is the model's name ("Name"); messages use it lowerCamel as AWS does.
  Result<std::optional<std::string>> opt_string(std::string_view member, size_t min = 0, size_t max = SIZE_MAX) const;
  Result<std::string> req_string(std::string_view member, size_t min = 0, size_t max = SIZE_MAX) const;
  Result<bool> opt_bool(std::string_view member) const;  // false when absent
  Result<std::optional<int64_t>> opt_int(std::string_view member, int64_t min, int64_t max) const;
  // A list of strings; nullopt when absent.
  Result<std::optional<std::vector<std::string>>> opt_strings(std::string_view member, size_t min_items,
                                                              size_t max_items) const;
  // [{"Key":..,"Value":..}], empty when absent.
  Result<Tags> tags(std::string_view member) const;
  // A list of objects; empty when absent.
  Result<std::vector<const boost::json::object*>> objects(std::string_view member) const;

 private:
  const boost::json::object& in_;
  std::string code_;
};

// "Name" -> "name", as AWS names members in validation messages.
std::string lower_camel(std::string_view member);

}  // namespace berth::secrets
