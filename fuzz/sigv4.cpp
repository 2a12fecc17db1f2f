// SigV4 (every API request): api::peek_credential_scope and verify_sigv4
// on the Authorization-header and presigned query forms, with the
// canonical request's pieces (canonical_uri, canonical_query). The input is
// a request in lines: "METHOD", "path?query", then "Name: value" header
// lines up to an empty line, then the body.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/sigv4.h"

namespace {
using namespace berth::api;

std::string_view next_line(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  SignedRequest request;
  request.method = next_line(rest);
  std::string_view target = next_line(rest);
  size_t q = target.find('?');
  request.path = target.substr(0, q);
  request.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  std::vector<HeaderField> headers;
  while (!rest.empty()) {
    std::string_view line = next_line(rest);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.push_back({name, value});
  }
  request.headers = headers;
  request.body = rest;

  (void)peek_credential_scope(request);
  (void)canonical_uri(request.path);
  (void)canonical_query(request.query, true);
  (void)canonical_query(request.query, false);
  // The test key of the harness; signatures made with it in the seeds verify.
  auto lookup = [](std::string_view key) -> std::optional<std::string> {
    if (key == "AKIAIOSFODNN7EXAMPLE") return std::string("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    return std::nullopt;
  };
  // A fixed "now" near the seeds' X-Amz-Date, so the time window is passed.
  berth::WallTime now = berth::WallTime(std::chrono::seconds(1764900000));
  (void)verify_sigv4(request, lookup, now);
  return 0;
}
