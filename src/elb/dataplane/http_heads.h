// elb/dataplane/http_heads: HTTP/1.1 messages parsed straight into the bytes
// the proxy sends on ("parse once, forward bytes", DESIGN.md notes on speed).
// Beast's basic_parser does the parsing and its defences (header limits,
// conflicting Content-Length / Transfer-Encoding, bad characters, bare CR or
// LF); these parsers keep no field container: each field is appended to the
// outgoing head, rewritten or dropped as it is parsed, and body bytes are
// appended to an outgoing body buffer in the framing they came with
// (Content-Length bytes as they are, chunked re-framed chunk by chunk with
// trailers kept, extensions dropped).
//
//   client bytes ──RequestParser──> Forwarded::head (request line, kept fields)
//                                   Forwarded::body (framed body bytes, drained by the proxy)
//   target bytes ──ResponseParser─> the same for the response
#pragma once

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::elb::dp {

namespace http = boost::beast::http;

// Where one message's outgoing bytes collect. Owned by the connection and
// reused between requests, so the steady state allocates nothing.
struct Forwarded {
  std::string head;
  std::string body;
  void clear() {
    head.clear();
    body.clear();
  }
};

template <bool isRequest>
class ForwardingParser : public http::basic_parser<isRequest> {
 public:
  explicit ForwardingParser(Forwarded& out) : out_(out) {}

 protected:
  Forwarded& out_;
  void on_body_init_impl(boost::optional<std::uint64_t> const&, boost::beast::error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view, boost::beast::error_code&) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                 boost::beast::error_code&) override;
  void on_finish_impl(boost::beast::error_code&) override;
  // Trailer fields of a chunked body (after the header is done).
  void append_trailer(std::string_view name, std::string_view value);
};

// A request. The head is the request line and every field except the
// hop-by-hop ones and those the load balancer sets itself (X-Forwarded-*,
// X-Amzn-Trace-Id), which are kept aside for it.
class RequestParser final : public ForwardingParser<true> {
 public:
  struct Field {
    uint32_t name_at, name_size, value_at, value_size;
  };
  // Per-request facts, also reused between requests.
  struct Facts {
    http::verb method = http::verb::unknown;
    uint32_t method_size = 0;  // the method is head[0, method_size)
    uint32_t target_at = 0, target_size = 0;
    unsigned version = 11;
    bool expect_continue = false;
    std::string forwarded_for;  // X-Forwarded-For values as received, joined by ", "
    std::string trace_id;       // X-Amzn-Trace-Id as received
    std::vector<Field> fields;  // the kept fields, as offsets into head
    std::vector<Field> invalid; // kept fields whose names ALB calls invalid
    void clear();
  };
  RequestParser(Forwarded& out, Facts& facts) : ForwardingParser<true>(out), facts_(facts) {}

  std::string_view method() const { return std::string_view(out_.head).substr(0, facts_.method_size); }
  std::string_view target() const { return std::string_view(out_.head).substr(facts_.target_at, facts_.target_size); }
  std::string_view name(const Field& f) const { return std::string_view(out_.head).substr(f.name_at, f.name_size); }
  std::string_view value(const Field& f) const { return std::string_view(out_.head).substr(f.value_at, f.value_size); }
  // The value of the first kept field of that name (case-insensitive), "" if none.
  std::string_view find(std::string_view field_name) const;
  // Removes the fields with invalid names from the head (drop_invalid_header_fields).
  void drop_invalid_fields();

 private:
  void on_request_impl(http::verb method, boost::beast::string_view method_str, boost::beast::string_view target,
                       int version, boost::beast::error_code&) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(http::field name, boost::beast::string_view name_string, boost::beast::string_view value,
                     boost::beast::error_code&) override;
  void on_header_impl(boost::beast::error_code&) override {}
  Facts& facts_;
};

// A response from a target. The head is "HTTP/1.1 <code> <reason>" and
// every field except the hop-by-hop ones.
class ResponseParser final : public ForwardingParser<false> {
 public:
  explicit ResponseParser(Forwarded& out) : ForwardingParser<false>(out) {}
  unsigned status() const { return status_; }
  unsigned version() const { return version_; }

 private:
  void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int,
                       boost::beast::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view reason, int version, boost::beast::error_code&) override;
  void on_field_impl(http::field name, boost::beast::string_view name_string, boost::beast::string_view value,
                     boost::beast::error_code&) override;
  void on_header_impl(boost::beast::error_code&) override {}
  unsigned status_ = 0;
  unsigned version_ = 11;
};

// Connection, Keep-Alive, Proxy-Connection, TE, Upgrade: not forwarded.
bool hop_by_hop(http::field name);

}  // namespace berth::elb::dp
