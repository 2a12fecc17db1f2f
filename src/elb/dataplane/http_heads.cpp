#include "elb/dataplane/http_heads.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

#include <charconv>

#include "elb/dataplane/routing.h"

namespace berth::elb::dp {

using boost::beast::error_code;
using sv = boost::beast::string_view;

bool hop_by_hop(http::field name) {
  switch (name) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::upgrade:
      return true;
    default:
      return false;
  }
}

namespace {

void append_hex(std::string& out, uint64_t n) {
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, 16);
  out.append(digits, end);
}

}  // namespace

template <bool isRequest>
std::size_t ForwardingParser<isRequest>::on_body_impl(sv body, error_code&) {
  out_.body.append(body.data(), body.size());
  return body.size();
}

template <bool isRequest>
void ForwardingParser<isRequest>::on_chunk_header_impl(std::uint64_t size, sv, error_code&) {
  append_hex(out_.body, size);
  out_.body += "\r\n";
}

template <bool isRequest>
std::size_t ForwardingParser<isRequest>::on_chunk_body_impl(std::uint64_t remain, sv body, error_code&) {
  out_.body.append(body.data(), body.size());
  if (remain == body.size()) out_.body += "\r\n";  // the chunk's last piece
  return body.size();
}

template <bool isRequest>
void ForwardingParser<isRequest>::on_finish_impl(error_code&) {
  if (this->chunked()) out_.body += "\r\n";  // ends the trailer section
}

template <bool isRequest>
void ForwardingParser<isRequest>::append_trailer(std::string_view name, std::string_view value) {
  out_.body.append(name);
  out_.body += ": ";
  out_.body.append(value);
  out_.body += "\r\n";
}

template class ForwardingParser<true>;
template class ForwardingParser<false>;

void RequestParser::Facts::clear() {
  method = http::verb::unknown;
  method_size = target_at = target_size = 0;
  version = 11;
  expect_continue = false;
  forwarded_for.clear();
  trace_id.clear();
  fields.clear();
  invalid.clear();
}

void RequestParser::on_request_impl(http::verb method, sv method_str, sv target, int version, error_code&) {
  facts_.method = method;
  facts_.version = static_cast<unsigned>(version);
  std::string& h = out_.head;
  h.append(method_str.data(), method_str.size());
  facts_.method_size = static_cast<uint32_t>(method_str.size());
  h += ' ';
  facts_.target_at = static_cast<uint32_t>(h.size());
  h.append(target.data(), target.size());
  facts_.target_size = static_cast<uint32_t>(target.size());
  h += " HTTP/1.1\r\n";
}

void RequestParser::on_field_impl(http::field name, sv name_string, sv value, error_code&) {
  if (is_header_done()) {
    append_trailer(name_string, value);
    return;
  }
  if (hop_by_hop(name)) return;
  if (name == http::field::expect) {
    // The load balancer answers 100 Continue itself (it reads the body).
    if (boost::beast::iequals(value, "100-continue")) {
      facts_.expect_continue = true;
      return;
    }
  }
  if (name == http::field::unknown) {
    if (boost::beast::iequals(name_string, "X-Forwarded-For")) {
      if (!facts_.forwarded_for.empty()) facts_.forwarded_for += ", ";
      facts_.forwarded_for.append(value.data(), value.size());
      return;
    }
    if (boost::beast::iequals(name_string, "X-Forwarded-Proto") || boost::beast::iequals(name_string, "X-Forwarded-Port"))
      return;
    if (boost::beast::iequals(name_string, "X-Amzn-Trace-Id")) {
      facts_.trace_id.assign(value.data(), value.size());
      return;
    }
  }
  std::string& h = out_.head;
  Field f;
  f.name_at = static_cast<uint32_t>(h.size());
  f.name_size = static_cast<uint32_t>(name_string.size());
  h.append(name_string.data(), name_string.size());
  h += ": ";
  f.value_at = static_cast<uint32_t>(h.size());
  f.value_size = static_cast<uint32_t>(value.size());
  h.append(value.data(), value.size());
  h += "\r\n";
  facts_.fields.push_back(f);
  if (!valid_header_name(std::string_view(name_string.data(), name_string.size()))) facts_.invalid.push_back(f);
}

std::string_view RequestParser::find(std::string_view field_name) const {
  for (const auto& f : facts_.fields)
    if (boost::beast::iequals(name(f), field_name)) return value(f);
  return {};
}

void RequestParser::drop_invalid_fields() {
  // From the last to the first, so earlier offsets stay valid; offsets of
  // the remaining fields are rebuilt below.
  for (auto it = facts_.invalid.rbegin(); it != facts_.invalid.rend(); ++it) {
    size_t end = it->value_at + it->value_size + 2;
    out_.head.erase(it->name_at, end - it->name_at);
  }
  std::vector<Field> kept;
  kept.reserve(facts_.fields.size());
  uint32_t shift = 0;
  size_t next_invalid = 0;
  for (const auto& f : facts_.fields) {
    if (next_invalid < facts_.invalid.size() && facts_.invalid[next_invalid].name_at == f.name_at) {
      shift += facts_.invalid[next_invalid].value_at + facts_.invalid[next_invalid].value_size + 2 - f.name_at;
      ++next_invalid;
      continue;
    }
    kept.push_back({f.name_at - shift, f.name_size, f.value_at - shift, f.value_size});
  }
  facts_.fields = std::move(kept);
  facts_.invalid.clear();
}

void ResponseParser::on_response_impl(int code, sv reason, int version, error_code&) {
  status_ = static_cast<unsigned>(code);
  version_ = static_cast<unsigned>(version);
  std::string& h = out_.head;
  h += "HTTP/1.1 ";
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, code);
  h.append(digits, end);
  h += ' ';
  if (reason.empty()) reason = http::obsolete_reason(static_cast<http::status>(code));
  h.append(reason.data(), reason.size());
  h += "\r\n";
}

void ResponseParser::on_field_impl(http::field name, sv name_string, sv value, error_code&) {
  if (is_header_done()) {
    append_trailer(name_string, value);
    return;
  }
  if (hop_by_hop(name)) return;
  std::string& h = out_.head;
  h.append(name_string.data(), name_string.size());
  h += ": ";
  h.append(value.data(), value.size());
  h += "\r\n";
}

}  // namespace berth::elb::dp
