#include "secrets/json_members.h"

namespace berth::secrets {
namespace {

std::string constraint(std::string_view member, std::string_view text) {
  return "1 validation error detected: Value at '" + lower_camel(member) +
         "' failed to satisfy constraint: " + std::string(text);
}

}  // namespace

std::string lower_camel(std::string_view member) {
  std::string out(member);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

Result<std::optional<std::string>> JsonMembers::opt_string(std::string_view member, size_t min, size_t max) const {
  const auto* v = in_.if_contains(member);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return invalid(constraint(member, "Member must be a string"));
  std::string s(v->get_string());
  if (s.size() < min)
    return invalid(constraint(member, "Member must have length greater than or equal to " + std::to_string(min)));
  if (s.size() > max)
    return invalid(constraint(member, "Member must have length less than or equal to " + std::to_string(max)));
  return std::optional<std::string>(std::move(s));
}

Result<std::string> JsonMembers::req_string(std::string_view member, size_t min, size_t max) const {
  auto v = opt_string(member, min, max);
  if (!v) return std::move(v).error();
  if (!*v)
    return invalid("1 validation error detected: Value null at '" + lower_camel(member) +
                   "' failed to satisfy constraint: Member must not be null");
  return std::move(**v);
}

Result<bool> JsonMembers::opt_bool(std::string_view member) const {
  const auto* v = in_.if_contains(member);
  if (!v || v->is_null()) return false;
  if (!v->is_bool()) return invalid(constraint(member, "Member must be a boolean"));
  return v->get_bool();
}

Result<std::optional<int64_t>> JsonMembers::opt_int(std::string_view member, int64_t min, int64_t max) const {
  const auto* v = in_.if_contains(member);
  if (!v || v->is_null()) return std::optional<int64_t>();
  if (!v->is_int64() && !v->is_uint64()) return invalid(constraint(member, "Member must be a number"));
  int64_t n = v->is_int64() ? v->get_int64() : static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), INT64_MAX));
  if (n < min)
    return invalid(constraint(member, "Member must have value greater than or equal to " + std::to_string(min)));
  if (n > max)
    return invalid(constraint(member, "Member must have value less than or equal to " + std::to_string(max)));
  return std::optional<int64_t>(n);
}

Result<std::optional<std::vector<std::string>>> JsonMembers::opt_strings(std::string_view member, size_t min_items,
                                                                         size_t max_items) const {
  const auto* v = in_.if_contains(member);
  if (!v || v->is_null()) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return invalid(constraint(member, "Member must be a list"));
  const auto& a = v->get_array();
  if (a.size() < min_items)
    return invalid(constraint(member, "Member must have length greater than or equal to " + std::to_string(min_items)));
  if (a.size() > max_items)
    return invalid(constraint(member, "Member must have length less than or equal to " + std::to_string(max_items)));
  std::vector<std::string> out;
  for (const auto& item : a) {
    if (!item.is_string()) return invalid(constraint(member, "Member must be a list of strings"));
    out.emplace_back(item.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<Tags> JsonMembers::tags(std::string_view member) const {
  Tags out;
  auto list = objects(member);
  if (!list) return std::move(list).error();
  for (const auto* tag : *list) {
    JsonMembers t(*tag, code_);
    auto key = t.req_string("Key", 1, 128);
    if (!key) return std::move(key).error();
    auto value = t.opt_string("Value", 0, 256);
    if (!value) return std::move(value).error();
    out.emplace_back(std::move(*key), value->value_or(""));
  }
  return out;
}

Result<std::vector<const boost::json::object*>> JsonMembers::objects(std::string_view member) const {
  std::vector<const boost::json::object*> out;
  const auto* v = in_.if_contains(member);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return invalid(constraint(member, "Member must be a list"));
  for (const auto& item : v->get_array()) {
    if (!item.is_object()) return invalid(constraint(member, "Member must be a list of structures"));
    out.push_back(&item.get_object());
  }
  return out;
}

}  // namespace berth::secrets
