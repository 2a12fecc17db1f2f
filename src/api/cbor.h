// api/cbor: CBOR (RFC 8949) bodies of the smithy-rpc-v2-cbor protocol,
// through libcbor.
//
//   request bytes --decode_cbor--> boost::json::value   (what operations read)
//   api::Doc      --encode_cbor--> response bytes      (api/document.h)
//
// Decoding maps CBOR onto JSON's data model, as botocore's serializer
// (RpcV2CBORSerializer) fills it: maps with text keys become objects,
// arrays arrays, integers int64/uint64, floats doubles, tag 1 (epoch
// seconds, integer or float) the number inside it, byte strings strings of
// their bytes, null/undefined null. Any other tag, a non-text map key,
// trailing bytes or nesting deeper than max_depth is an error of class
// kInvalid with code SerializationException.
#pragma once

#include <boost/json/value.hpp>

#include <string_view>

#include "core/error.h"

namespace berth::api {

Result<boost::json::value> decode_cbor(std::string_view bytes, size_t max_depth = 64);

}  // namespace berth::api
