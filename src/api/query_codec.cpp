#include "api/query_codec.h"
#include "core/utf8.h"

#include <algorithm>
#include <cstdint>

namespace berth::api {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

Error malformed(std::string message) { return Error::invalid(std::string(kMalformedQueryString), std::move(message)); }

// A list index: 1..999999999, decimal, no sign, no leading zero.
std::optional<uint32_t> parse_index(std::string_view s) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Scans keys under `full` (ending in '.') for "<index>" (scalar) or
// "<index>.<rest>" (structure) and hands each match to fn(index, rest_or_empty,
// is_scalar, value). Fails on an index that is not a positive integer.
template <class Fn>
Status scan_indexed(const std::vector<QueryParam>& params, const std::string& full, Fn&& fn) {
  for (const QueryParam& p : params) {
    std::string_view k = p.key;
    if (!starts_with(k, full)) continue;
    std::string_view rest = k.substr(full.size());
    size_t dot = rest.find('.');
    std::string_view idx_text = rest.substr(0, dot);
    std::optional<uint32_t> idx = parse_index(idx_text);
    if (!idx) {
      return malformed("Invalid list index '" + std::string(idx_text) + "' in parameter '" + p.key +
                       "': indices are positive integers");
    }
    bool scalar = dot == std::string_view::npos;
    fn(*idx, scalar ? std::string_view{} : rest.substr(dot + 1), scalar, std::string_view(p.value), p.key);
  }
  return Ok{};
}

Result<std::vector<std::string_view>> scalar_list(const std::vector<QueryParam>& params, const std::string& full) {
  std::vector<std::pair<uint32_t, std::string_view>> found;
  std::string duplicate;
  Status s = scan_indexed(params, full,
                          [&](uint32_t idx, std::string_view, bool scalar, std::string_view value, const std::string& key) {
                            if (!scalar) return;
                            for (const auto& f : found)
                              if (f.first == idx && duplicate.empty()) duplicate = key;
                            found.emplace_back(idx, value);
                          });
  if (!s) return std::move(s).error();
  if (!duplicate.empty()) return malformed("Parameter '" + duplicate + "' is given more than once");
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string_view> out;
  out.reserve(found.size());
  for (const auto& f : found) out.push_back(f.second);
  return out;
}

Result<std::vector<QueryView>> struct_list(const QueryParams& owner, const std::string& full) {
  std::vector<uint32_t> indices;
  Status s = scan_indexed(owner.all(), full,
                          [&](uint32_t idx, std::string_view, bool scalar, std::string_view, const std::string&) {
                            if (!scalar) indices.push_back(idx);
                          });
  if (!s) return std::move(s).error();
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  std::vector<QueryView> out;
  out.reserve(indices.size());
  for (uint32_t i : indices) out.emplace_back(owner, full + std::to_string(i) + ".");
  return out;
}

}  // namespace


std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void uri_encode(std::string_view s, bool keep_slash, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  uri_encode(s, keep_slash, out);
  return out;
}

Result<QueryParams> QueryParams::parse(std::string_view text) {
  QueryParams q;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view piece = text.substr(pos, amp - pos);
    pos = amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_key = piece.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    std::optional<std::string> key = percent_decode(raw_key, true);
    std::optional<std::string> value = percent_decode(raw_value, true);
    if (!key || !value) return malformed("The query string contains an invalid percent-encoding");
    if (!utf8::is_valid(*key) || !utf8::is_valid(*value))
      return malformed("The query string contains invalid UTF-8");
    q.params_.push_back({std::move(*key), std::move(*value)});
  }
  return q;
}

std::optional<std::string_view> QueryParams::get(std::string_view key) const {
  for (const QueryParam& p : params_)
    if (p.key == key) return std::string_view(p.value);
  return std::nullopt;
}

QueryView QueryParams::root() const { return QueryView(*this, ""); }

std::optional<std::string_view> QueryView::get(std::string_view key) const {
  for (const QueryParam& p : params_->all()) {
    std::string_view k = p.key;
    if (k.size() == prefix_.size() + key.size() && starts_with(k, prefix_) && k.substr(prefix_.size()) == key)
      return std::string_view(p.value);
  }
  return std::nullopt;
}

bool QueryView::has_any(std::string_view key) const {
  for (const QueryParam& p : params_->all()) {
    std::string_view k = p.key;
    if (!starts_with(k, prefix_)) continue;
    k.remove_prefix(prefix_.size());
    if (!starts_with(k, key)) continue;
    k.remove_prefix(key.size());
    if (k.empty() || k[0] == '.') return true;
  }
  return false;
}

QueryView QueryView::sub(std::string_view key) const {
  std::string p = prefix_;
  p.append(key);
  p.push_back('.');
  return QueryView(*params_, std::move(p));
}

Result<std::vector<std::string_view>> QueryView::values(std::string_view key) const {
  return scalar_list(params_->all(), sub(key).prefix_);
}

Result<std::vector<QueryView>> QueryView::items(std::string_view key) const { return struct_list(*params_, sub(key).prefix_); }

Result<std::vector<std::string_view>> QueryView::member_values(std::string_view key) const {
  return scalar_list(params_->all(), sub(key).sub("member").prefix_);
}

Result<std::vector<QueryView>> QueryView::members(std::string_view key) const {
  return struct_list(*params_, sub(key).sub("member").prefix_);
}

Result<std::vector<std::pair<std::string_view, std::string_view>>> QueryView::entries(std::string_view key) const {
  Result<std::vector<QueryView>> list = struct_list(*params_, sub(key).sub("entry").prefix_);
  if (!list) return std::move(list).error();
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (const QueryView& e : *list) {
    std::optional<std::string_view> k = e.get("key");
    if (!k) return malformed("Map entry '" + e.prefix() + "key' is missing");
    out.emplace_back(*k, e.get("value").value_or(std::string_view{}));
  }
  return out;
}

}  // namespace berth::api
