// Registry blob uploads: the Content-Range of a PATCH and the Range of a
// blob GET (ecr::wire::parse_range), the digest and mount query parameters
// (wire::query_param, is_sha256_digest), and the digest check of a PUT
// (Sha256 over the body). The input is "header\nquery\nbody".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ecr/digest.h"
#include "ecr/registry_wire.h"

namespace {
namespace wire = berth::ecr::wire;

std::string_view next_line(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view range = next_line(rest);
  std::string_view query = next_line(rest);
  std::string_view body = rest;
  for (uint64_t blob_size : {uint64_t{0}, uint64_t{1}, uint64_t{4096}, UINT64_MAX}) {
    auto r = wire::parse_range(range, blob_size);
    if (r && r->first > r->last) std::abort();
  }
  for (std::string_view key : {"digest", "mount", "from"}) {
    auto value = wire::query_param(query, key);
    if (!value) continue;
    if (berth::ecr::is_sha256_digest(*value)) {
      (void)berth::ecr::digest_hex(*value);
      berth::ecr::Sha256 hasher;
      hasher.update(body);
      if (!berth::ecr::is_sha256_digest(hasher.finish())) std::abort();
    }
    (void)wire::percent_encode(*value);
  }
  return 0;
}
