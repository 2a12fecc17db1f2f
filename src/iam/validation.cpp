#include "iam/validation.h"

#include <cctype>
#include <charconv>
#include <set>
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

Error null_value(std::string_view member) {
  return validation_error("1 validation error detected: Value null at '" + std::string(member) +
                          "' failed to satisfy constraint: Member must not be null");
}

// The code points of valid UTF-8 (the query codec has checked it).
std::u32string code_points(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int extra = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    char32_t c = extra == 0 ? b : extra == 1 ? (b & 0x1F) : extra == 2 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k <= extra && i + k < s.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(c);
    i += 1 + extra;
  }
  return out;
}

struct TextRule {
  size_t min;
  size_t max;
  std::string_view pattern;
  bool (*allowed)(char32_t);
};

TextRule rule_of(TextKind kind) {
  switch (kind) {
    case TextKind::kPolicyDocument:
      return {1, 131072, "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
              [](char32_t c) { return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0xFF); }};
    case TextKind::kRoleDescription:
      return {0, 1000, "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*", [](char32_t c) {
                return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E) || (c >= 0xA1 && c <= 0xFF);
              }};
  }
  return {0, 0, "", [](char32_t) { return false; }};
}

Status check_text(std::string_view value, std::string_view member, const TextRule& rule) {
  std::u32string chars = code_points(value);
  if (chars.size() < rule.min)
    return invalid_value(value, member,
                         "Member must have length greater than or equal to " + std::to_string(rule.min));
  if (chars.size() > rule.max)
    return invalid_value(value.substr(0, 64), member,
                         "Member must have length less than or equal to " + std::to_string(rule.max));
  for (char32_t c : chars)
    if (!rule.allowed(c))
      return invalid_value(value, member,
                           "Member must satisfy regular expression pattern: " + std::string(rule.pattern));
  return Ok{};
}

// [\p{L}\p{Z}\p{N}_.:/=+\-@]: ASCII letters, digits, space and _.:/=+-@;
// every non-ASCII character is let through (berth has no Unicode tables).
bool tag_char(char32_t c) {
  if (c >= 0x80) return true;
  return std::isalnum(static_cast<int>(c)) || c == ' ' || c == '_' || c == '.' || c == ':' || c == '/' || c == '=' ||
         c == '+' || c == '-' || c == '@';
}

Status check_tag_text(std::string_view value, const std::string& member, size_t min, size_t max,
                      std::string_view pattern) {
  std::u32string chars = code_points(value);
  if (chars.size() < min)
    return invalid_value(value, member, "Member must have length greater than or equal to " + std::to_string(min));
  if (chars.size() > max)
    return invalid_value(value, member, "Member must have length less than or equal to " + std::to_string(max));
  for (char32_t c : chars)
    if (!tag_char(c))
      return invalid_value(value, member, "Member must satisfy regular expression pattern: " + std::string(pattern));
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
  auto n = optional_int(q, "MaxItems", "maxItems", 1, 1000);
  if (!n) return std::move(n).error();
  return static_cast<size_t>(n->value_or(100));
}

Result<std::optional<int64_t>> optional_int(const api::QueryView& q, std::string_view key, std::string_view member,
                                            int64_t min, int64_t max) {
  auto value = q.get(key);
  if (!value) return std::optional<int64_t>{};
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || ptr != value->data() + value->size())
    return validation_error("Invalid value for parameter " + std::string(key) + ": " + std::string(*value));
  if (n < min)
    return invalid_value(*value, member, "Member must have value greater than or equal to " + std::to_string(min));
  if (n > max)
    return invalid_value(*value, member, "Member must have value less than or equal to " + std::to_string(max));
  return std::optional<int64_t>{n};
}

Status check_path(std::string_view path, std::string_view member) {
  bool ok = path.size() <= 512 && !path.empty() && path.front() == '/' && path.back() == '/';
  for (char c : path) ok = ok && c >= 0x21 && c <= 0x7e;
  if (ok) return Ok{};
  return invalid_value(path, member,
                       "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
}

Result<std::string_view> path(const api::QueryView& q) {
  std::string_view value = q.get("Path").value_or("/");
  if (auto s = check_path(value, "path"); !s) return std::move(s).error();
  return value;
}

Result<std::string_view> path_prefix(const api::QueryView& q) {
  std::string_view prefix = q.get("PathPrefix").value_or("/");
  bool ok = !prefix.empty() && prefix.size() <= 512 && prefix.front() == '/';
  for (unsigned char c : prefix) ok = ok && c >= 0x21 && c <= 0x7f;
  if (ok) return prefix;
  return invalid_value(prefix, "pathPrefix",
                       "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*");
}

Result<std::string_view> policy_path_prefix(const api::QueryView& q) {
  std::string_view prefix = q.get("PathPrefix").value_or("/");
  // ((/[A-Za-z0-9\.,\+@=_-]+)*)/
  bool ok = !prefix.empty() && prefix.size() <= 512 && prefix.front() == '/' && prefix.back() == '/' &&
            prefix.find("//") == std::string_view::npos;
  for (char c : prefix)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == ',' || c == '+' ||
                c == '@' || c == '=' || c == '_' || c == '-');
  if (ok) return prefix;
  return invalid_value(prefix, "pathPrefix",
                       "Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/");
}

Result<std::string_view> marker(const api::QueryView& q) {
  auto m = q.get("Marker");
  if (!m) return std::string_view();
  if (m->empty() || m->size() > 320)
    return validation_error("1 validation error detected: Value '" + std::string(*m) +
                            "' at 'marker' failed to satisfy constraint: Member must have length between 1 and 320");
  return *m;
}

Result<std::string_view> required_policy_arn(const api::QueryView& q) {
  auto arn = q.get("PolicyArn");
  if (!arn) return null_value("policyArn");
  if (arn->size() < 20 || arn->size() > 2048) return validation_error("ARN " + std::string(*arn) + " is not valid.");
  return *arn;
}

Result<std::string_view> required_text(const api::QueryView& q, std::string_view key, std::string_view member,
                                       TextKind kind) {
  auto value = q.get(key);
  if (!value) return null_value(member);
  if (auto s = check_text(*value, member, rule_of(kind)); !s) return std::move(s).error();
  return *value;
}

Result<std::optional<std::string_view>> optional_text(const api::QueryView& q, std::string_view key,
                                                      std::string_view member, TextKind kind) {
  auto value = q.get(key);
  if (!value) return std::optional<std::string_view>{};
  if (auto s = check_text(*value, member, rule_of(kind)); !s) return std::move(s).error();
  return std::optional<std::string_view>{*value};
}

Result<std::vector<Tag>> tags(const api::QueryView& q) {
  auto members = q.members("Tags");
  if (!members) return validation_error(members.error().message);
  if (members->size() > 50)
    return validation_error(
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less "
        "than or equal to 50");
  std::vector<Tag> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < members->size(); ++i) {
    const api::QueryView& m = (*members)[i];
    std::string prefix = "tags." + std::to_string(i + 1) + ".member.";
    auto key = m.get("Key");
    if (!key) return null_value(prefix + "key");
    auto value = m.get("Value");
    if (!value) return null_value(prefix + "value");
    if (auto s = check_tag_text(*key, prefix + "key", 1, 128, "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"); !s)
      return std::move(s).error();
    if (auto s = check_tag_text(*value, prefix + "value", 0, 256, "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"); !s)
      return std::move(s).error();
    std::string folded(*key);
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!seen.insert(folded).second) {
      Error e =
          Error::invalid("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
      e.http_status = 400;
      return e;
    }
    out.push_back({std::string(*key), std::string(*value)});
  }
  return out;
}

}  // namespace berth::iam
