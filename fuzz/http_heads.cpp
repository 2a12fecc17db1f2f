// The load balancer's data plane: elb::dp::RequestParser (client bytes)
// and ResponseParser (target bytes), fed as the proxy feeds them (eager,
// the proxy's limits, the bytes arriving in two pieces). The first input
// byte picks request or response and where the bytes split.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "elb/dataplane/http_heads.h"

namespace {
namespace dp = berth::elb::dp;

// Feeds bytes like proxy.cpp's feed(): put until done, an error or need_more.
template <class Parser>
void feed(Parser& parser, std::string_view& pending) {
  boost::beast::error_code ec;
  while (!pending.empty() && !parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
    if (n > pending.size()) std::abort();
    pending.remove_prefix(n);
    if (ec || n == 0) return;
  }
}

template <class Parser>
void feed_in_two(Parser& parser, std::string_view bytes, size_t split) {
  split = std::min(split, bytes.size());
  std::string_view first = bytes.substr(0, split);
  feed(parser, first);
  // The proxy keeps unconsumed bytes and appends the next read.
  std::string rest(first);
  rest.append(bytes.substr(split));
  std::string_view pending = rest;
  feed(parser, pending);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool request = (data[0] & 1) == 0;
  const size_t split = data[0] >> 1;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  dp::Forwarded out;
  if (request) {
    dp::RequestParser::Facts facts;
    dp::RequestParser parser(out, facts);
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    parser.eager(true);
    feed_in_two(parser, bytes, split);
    if (parser.is_header_done()) {
      (void)parser.method();
      (void)parser.target();
      (void)parser.find("Host");
      for (const auto& f : facts.fields) {
        if (size_t(f.name_at) + f.name_size > out.head.size()) std::abort();
        if (size_t(f.value_at) + f.value_size > out.head.size()) std::abort();
        (void)parser.name(f);
        (void)parser.value(f);
      }
      parser.drop_invalid_fields();
      for (const auto& f : facts.fields) {
        if (size_t(f.name_at) + f.name_size > out.head.size()) std::abort();
        if (size_t(f.value_at) + f.value_size > out.head.size()) std::abort();
      }
    }
  } else {
    dp::ResponseParser parser(out);
    parser.header_limit(64 * 1024);
    parser.body_limit(boost::none);
    parser.eager(true);
    feed_in_two(parser, bytes, split);
    if (parser.is_header_done()) (void)parser.status();
  }
  return 0;
}
