#include "ec2/api_support.h"

#include <charconv>

#include <openssl/evp.h>

namespace berth::ec2 {

Error missing_parameter(std::string_view name) {
  return Error::invalid("MissingParameter", "The request must contain the parameter " + std::string(name));
}

Error invalid_parameter_value(std::string message) {
  return Error::invalid("InvalidParameterValue", std::move(message));
}

Error invalid_parameter_combination(std::string message) {
  return Error::invalid("InvalidParameterCombination", std::move(message));
}

const api::QueryView& query_of(const api::OperationInput& input) { return *input.query; }

Result<std::string> required(const api::QueryView& q, std::string_view key) {
  auto v = q.get(key);
  if (!v || v->empty()) return missing_parameter(key);
  return std::string(*v);
}

std::string optional_string(const api::QueryView& q, std::string_view key) {
  auto v = q.get(key);
  return v ? std::string(*v) : std::string();
}

Result<std::optional<int64_t>> optional_int(const api::QueryView& q, std::string_view key) {
  auto v = q.get(key);
  if (!v) return std::optional<int64_t>{};
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty())
    return invalid_parameter_value("Invalid value '" + std::string(*v) + "' for " + std::string(key));
  return std::optional<int64_t>{n};
}

Result<bool> optional_bool(const api::QueryView& q, std::string_view key, bool fallback) {
  auto v = q.get(key);
  if (!v) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return invalid_parameter_value("Invalid value '" + std::string(*v) + "' for " + std::string(key));
}

Result<std::vector<std::string>> string_list(const api::QueryView& q, std::string_view key) {
  auto values = q.values(key);
  if (!values) return std::move(values).error();
  return std::vector<std::string>(values->begin(), values->end());
}

std::optional<Error> dry_run_check(const api::QueryView& q) {
  if (q.get("DryRun") != std::optional<std::string_view>("true")) return std::nullopt;
  Error e = Error::invalid("DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
  e.http_status = 412;
  return e;
}

// ---------------------------------------------------------------- filters

Result<Filters> parse_filters(const api::QueryView& q) {
  auto items = q.items("Filter");
  if (!items) return std::move(items).error();
  Filters filters;
  for (const auto& item : *items) {
    Filter f;
    auto name = item.get("Name");
    if (!name || name->empty()) return invalid_parameter_value("The filter 'null' is invalid");
    f.name = std::string(*name);
    auto values = item.values("Value");
    if (!values) return std::move(values).error();
    for (auto v : *values) f.values.emplace_back(v);
    filters.push_back(std::move(f));
  }
  return filters;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1, t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool any_value_matches(const Filter& filter, std::string_view text) {
  for (const auto& v : filter.values)
    if (glob_match(v, text)) return true;
  return false;
}

Error unknown_filter(std::string_view name) {
  return invalid_parameter_value("The filter '" + std::string(name) + "' is invalid");
}

// ---------------------------------------------------------------- tags

Result<Tags> parse_tag_specifications(const api::QueryView& q, std::string_view resource_type,
                                      bool skip_other_types) {
  auto specs = q.items("TagSpecification");
  if (!specs) return std::move(specs).error();
  Tags tags;
  for (const auto& spec : *specs) {
    auto type = spec.get("ResourceType");
    if (!type || type->empty()) return missing_parameter("TagSpecification.ResourceType");
    auto items = spec.items("Tag");
    if (!items) return std::move(items).error();
    if (*type != resource_type && skip_other_types) continue;
    if (*type != resource_type)
      return invalid_parameter_value("'" + std::string(*type) + "' is not a valid taggable resource type for this operation.");
    for (const auto& item : *items) {
      auto key = item.get("Key");
      if (!key || key->empty()) return invalid_parameter_value("Tag keys must not be empty");
      if (key->size() > 127) return invalid_parameter_value("Tag key exceeds the maximum length of 127 characters");
      auto value = item.get("Value");
      if (value && value->size() > 255) return invalid_parameter_value("Tag value exceeds the maximum length of 255 characters");
      Tag tag{std::string(*key), value ? std::string(*value) : std::string()};
      bool replaced = false;
      for (auto& t : tags)
        if (t.key == tag.key) t.value = tag.value, replaced = true;
      if (!replaced) tags.push_back(std::move(tag));
    }
  }
  return tags;
}

Status put_tags(store::Tx& tx, std::string_view resource_id, const Tags& tags) {
  for (const auto& tag : tags) {
    auto st = tx.run("INSERT INTO ec2_tags(resource_id, key, value) VALUES (?, ?, ?) "
                     "ON CONFLICT(resource_id, key) DO UPDATE SET value = excluded.value",
                     resource_id, tag.key, tag.value);
    if (!st) return st;
  }
  return Ok{};
}

Result<Tags> load_tags(store::Tx& tx, std::string_view resource_id) {
  auto stmt = tx.prepare("SELECT key, value FROM ec2_tags WHERE resource_id = ? ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(resource_id);
  Tags tags;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    tags.push_back({stmt->column_string(0), stmt->column_string(1)});
  }
  return tags;
}

Status delete_tags(store::Tx& tx, std::string_view resource_id) {
  return tx.run("DELETE FROM ec2_tags WHERE resource_id = ?", resource_id);
}

void write_tag_set(api::XmlWriter& w, const Tags& tags) {
  if (tags.empty()) return;
  w.open("tagSet");
  for (const auto& t : tags) w.open("item").leaf("key", t.key).leaf("value", t.value).close("item");
  w.close("tagSet");
}

std::optional<bool> match_tag_filter(const Filter& filter, const Tags& tags) {
  if (filter.name.rfind("tag:", 0) == 0) {
    std::string_view key = std::string_view(filter.name).substr(4);
    for (const auto& t : tags)
      if (t.key == key && any_value_matches(filter, t.value)) return true;
    return false;
  }
  if (filter.name == "tag-key") {
    for (const auto& t : tags)
      if (any_value_matches(filter, t.key)) return true;
    return false;
  }
  if (filter.name == "tag-value") {
    for (const auto& t : tags)
      if (any_value_matches(filter, t.value)) return true;
    return false;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- pagination

namespace {
constexpr std::string_view kTokenPrefix = "berth1:";

std::string base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}
}  // namespace

Result<Page> parse_page(const api::QueryView& q, int64_t min_results, int64_t max_results) {
  Page page;
  auto max = optional_int(q, "MaxResults");
  if (!max) return std::move(max).error();
  if (*max) {
    if (**max < min_results || **max > max_results)
      return invalid_parameter_value("Value ( " + std::to_string(**max) +
                                     " ) for parameter maxResults is invalid. Parameter must be between " +
                                     std::to_string(min_results) + " and " + std::to_string(max_results) + ".");
    page.limit = static_cast<size_t>(**max);
  }
  auto token = q.get("NextToken");
  if (token && !token->empty()) {
    auto raw = unbase64(*token);
    size_t offset = 0;
    bool ok = raw && raw->rfind(kTokenPrefix, 0) == 0;
    if (ok) {
      std::string_view digits = std::string_view(*raw).substr(kTokenPrefix.size());
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
      ok = ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
    }
    if (!ok) return Error::invalid("InvalidPaginationToken", "Invalid pagination token: " + std::string(*token));
    page.offset = offset;
  }
  return page;
}

std::string next_token(const Page& page, size_t total) {
  if (page.limit == SIZE_MAX || page.offset + page.limit >= total) return {};
  return base64(std::string(kTokenPrefix) + std::to_string(page.offset + page.limit));
}

void write_next_token(api::XmlWriter& w, const std::string& token) {
  if (!token.empty()) w.leaf("nextToken", token);
}

bool has_id_prefix(std::string_view id, std::string_view prefix) { return id.rfind(prefix, 0) == 0; }

int64_t to_millis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime from_millis(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

}  // namespace berth::ec2
