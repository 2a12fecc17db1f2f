// smithy-rpc-v2-cbor request bodies (CloudWatch): api::decode_cbor. A body
// that decodes serializes as JSON (what operations then read).
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/cbor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = berth::api::decode_cbor(body);
  if (decoded.ok()) (void)boost::json::serialize(decoded.value());
  return 0;
}
