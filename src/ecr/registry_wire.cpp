#include "ecr/registry_wire.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <charconv>

namespace berth::ecr::wire {

using net::http::status;

net::Response error(status s, std::string_view code, std::string_view message, std::string_view detail) {
  std::string body = R"({"errors":[{"code":)" + boost::json::serialize(boost::json::string(code)) +
                     R"(,"message":)" + boost::json::serialize(boost::json::string(message));
  if (!detail.empty()) body += R"(,"detail":)" + boost::json::serialize(boost::json::string(detail));
  body += "}]}\n";
  net::Response r(s, std::move(body), "application/json; charset=utf-8");
  r.set(kApiVersionHeader, kApiVersion);
  return r;
}

net::Response empty(status s) {
  net::Response r(s, {}, {});
  r.set(kApiVersionHeader, kApiVersion);
  return r;
}

net::Response from_error(const Error& e, std::string_view detail) {
  const std::string& c = e.code;
  if (c == "RepositoryNotFoundException") return error(status::not_found, "NAME_UNKNOWN", e.message, detail);
  if (c == "ImageTagAlreadyExistsException") return error(status::bad_request, "TAG_INVALID", e.message, detail);
  if (c == "BLOB_UNKNOWN" || c == "BLOB_UPLOAD_UNKNOWN" || c == "MANIFEST_UNKNOWN" || c == "ImageNotFound") {
    return error(status::not_found, c == "ImageNotFound" ? "MANIFEST_UNKNOWN" : c, e.message, detail);
  }
  if (c == "ImageReferencedByManifestList") return error(status::conflict, "DENIED", e.message, detail);
  if (c == "BLOB_UPLOAD_INVALID" && e.error_class == ErrorClass::kConflict) {
    return error(status::range_not_satisfiable, c, e.message, detail);
  }
  if (e.error_class == ErrorClass::kInvalid) return error(status::bad_request, c, e.message, detail);
  if (e.error_class == ErrorClass::kUnavailable) {
    return error(status::service_unavailable, "UNAVAILABLE", e.message, detail);
  }
  return error(status::internal_server_error, "UNKNOWN", e.message, detail);
}

net::Response upload_failed(const Error& e) {
  if (e.error_class == ErrorClass::kUnavailable) return from_error(e);
  return error(status::bad_request, "BLOB_UPLOAD_INVALID", e.message);
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
        hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t& v) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}
}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<ByteRange> parse_range(std::string_view text, uint64_t size_if_open) {
  if (text.rfind("bytes=", 0) == 0) text.remove_prefix(6);
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  ByteRange r;
  if (!parse_u64(text.substr(0, dash), r.first)) return std::nullopt;
  std::string_view last = text.substr(dash + 1);
  if (last.empty()) {
    if (size_if_open == 0) return std::nullopt;
    r.last = size_if_open - 1;
  } else if (!parse_u64(last, r.last)) {
    return std::nullopt;
  }
  if (r.last < r.first) return std::nullopt;
  return r;
}

std::string upload_range(uint64_t size) { return "0-" + std::to_string(size == 0 ? 0 : size - 1); }

std::string upload_location(std::string_view name, std::string_view id) {
  return "/v2/" + std::string(name) + "/blobs/uploads/" + std::string(id);
}

}  // namespace berth::ecr::wire
