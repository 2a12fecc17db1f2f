#include "iam/validation.h"

#include <charconv>
#include <string>

namespace berth::iam {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
         c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

Error invalid_value(std::string_view value, std::string_view member, std::string_view constraint) {
  return validation_error("1 validation error detected: Value '" + std::string(value) + "' at '" +
                          std::string(member) + "' failed to satisfy constraint: " + std::string(constraint));
}

Status check_name(std::string_view value, std::string_view member, size_t max_length) {
  if (value.empty()) return invalid_value(value, member, "Member must have length greater than or equal to 1");
  if (value.size() > max_length)
    return invalid_value(value, member,
                         "Member must have length less than or equal to " + std::to_string(max_length));
  for (char c : value)
    if (!name_char(c))
      return invalid_value(value, member, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  return Ok{};
}

}  // namespace

Error validation_error(std::string text) {
  Error e = Error::invalid("ValidationError", std::move(text));
  e.http_status = 400;
  return e;
}

Result<std::string_view> required_name(const api::QueryView& q, std::string_view key, std::string_view member,
                                       size_t max_length) {
  auto value = q.get(key);
  if (!value)
    return validation_error("1 validation error detected: Value null at '" + std::string(member) +
                            "' failed to satisfy constraint: Member must not be null");
  if (auto s = check_name(*value, member, max_length); !s) return std::move(s).error();
  return *value;
}

Result<std::optional<std::string_view>> optional_name(const api::QueryView& q, std::string_view key,
                                                      std::string_view member, size_t max_length) {
  auto value = q.get(key);
  if (!value) return std::optional<std::string_view>{};
  if (auto s = check_name(*value, member, max_length); !s) return std::move(s).error();
  return std::optional<std::string_view>{*value};
}

Result<size_t> max_items(const api::QueryView& q) {
  auto value = q.get("MaxItems");
  if (!value) return size_t{100};
  long long n = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || ptr != value->data() + value->size())
    return validation_error("Invalid value for parameter MaxItems: " + std::string(*value));
  if (n < 1) return invalid_value(*value, "maxItems", "Member must have value greater than or equal to 1");
  if (n > 1000) return invalid_value(*value, "maxItems", "Member must have value less than or equal to 1000");
  return static_cast<size_t>(n);
}

}  // namespace berth::iam
