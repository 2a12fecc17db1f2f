#include "api/cbor.h"

#include <cbor.h>

#include <memory>
#include <optional>
#include <string>

#include "api/json_input.h"

namespace berth::api {
namespace {

struct ItemDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using ItemPtr = std::unique_ptr<cbor_item_t, ItemDeleter>;

Error bad(std::string message) { return Error::invalid(std::string(kSerializationException), std::move(message)); }

std::string string_bytes(const cbor_item_t* item) {
  std::string out;
  if (cbor_isa_string(item) ? cbor_string_is_definite(item) : cbor_bytestring_is_definite(item)) {
    const unsigned char* data = cbor_isa_string(item) ? cbor_string_handle(item) : cbor_bytestring_handle(item);
    size_t length = cbor_isa_string(item) ? cbor_string_length(item) : cbor_bytestring_length(item);
    out.assign(reinterpret_cast<const char*>(data), length);
    return out;
  }
  // Indefinite: a list of definite chunks.
  bool text = cbor_isa_string(item);
  size_t count = text ? cbor_string_chunk_count(item) : cbor_bytestring_chunk_count(item);
  cbor_item_t** chunks = text ? cbor_string_chunks_handle(item) : cbor_bytestring_chunks_handle(item);
  for (size_t i = 0; i < count; ++i) out += string_bytes(chunks[i]);
  return out;
}

Result<boost::json::value> convert(const cbor_item_t* item, size_t depth, size_t max_depth) {
  if (depth > max_depth) return bad("CBOR nesting is deeper than " + std::to_string(max_depth));
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT: return boost::json::value(static_cast<uint64_t>(cbor_get_int(item)));
    case CBOR_TYPE_NEGINT: {
      uint64_t n = cbor_get_int(item);
      if (n > static_cast<uint64_t>(INT64_MAX)) return bad("CBOR negative integer out of range");
      return boost::json::value(-1 - static_cast<int64_t>(n));
    }
    case CBOR_TYPE_BYTESTRING:
    case CBOR_TYPE_STRING: return boost::json::value(string_bytes(item));
    case CBOR_TYPE_ARRAY: {
      boost::json::array out;
      size_t n = cbor_array_size(item);
      cbor_item_t** items = cbor_array_handle(item);
      out.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        auto v = convert(items[i], depth + 1, max_depth);
        if (!v) return v;
        out.push_back(std::move(*v));
      }
      return boost::json::value(std::move(out));
    }
    case CBOR_TYPE_MAP: {
      boost::json::object out;
      size_t n = cbor_map_size(item);
      cbor_pair* pairs = cbor_map_handle(item);
      for (size_t i = 0; i < n; ++i) {
        if (!cbor_isa_string(pairs[i].key)) return bad("CBOR map key is not a text string");
        auto v = convert(pairs[i].value, depth + 1, max_depth);
        if (!v) return v;
        out[string_bytes(pairs[i].key)] = std::move(*v);
      }
      return boost::json::value(std::move(out));
    }
    case CBOR_TYPE_TAG: {
      if (cbor_tag_value(item) != 1) return bad("unsupported CBOR tag " + std::to_string(cbor_tag_value(item)));
      ItemPtr inner(cbor_tag_item(item));
      if (!cbor_isa_uint(inner.get()) && !cbor_isa_negint(inner.get()) && !cbor_isa_float_ctrl(inner.get()))
        return bad("CBOR tag 1 does not hold a number");
      return convert(inner.get(), depth + 1, max_depth);
    }
    case CBOR_TYPE_FLOAT_CTRL: {
      if (cbor_float_ctrl_is_ctrl(item)) {
        if (cbor_is_bool(item)) return boost::json::value(cbor_get_bool(item));
        if (cbor_is_null(item) || cbor_is_undef(item)) return boost::json::value(nullptr);
        return bad("unsupported CBOR simple value");
      }
      return boost::json::value(cbor_float_get_float(item));
    }
  }
  return bad("unsupported CBOR item");
}

// libcbor's cbor_load allocates (and clears) a definite array's or map's
// slots before it reads the items, so a few bytes declaring 2^32 items made
// it allocate and touch tens of gigabytes (found by fuzz/cbor). Every item
// takes at least a byte, so a count beyond the bytes left is malformed: the
// streaming decoder, which allocates nothing, finds such a header first.
// Returns the offset of the first one.
struct CountCheck {
  size_t left = 0;  // bytes after the header's first byte (an upper bound)
  bool too_many = false;
};

std::optional<size_t> impossible_count_at(std::string_view bytes) {
  cbor_callbacks callbacks = cbor_empty_callbacks;
  callbacks.array_start = [](void* context, size_t count) {
    auto* check = static_cast<CountCheck*>(context);
    if (count > check->left) check->too_many = true;
  };
  callbacks.map_start = [](void* context, size_t pairs) {
    auto* check = static_cast<CountCheck*>(context);
    if (pairs > check->left / 2) check->too_many = true;
  };
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  CountCheck check;
  size_t offset = 0;
  while (offset < bytes.size()) {
    check.left = bytes.size() - offset - 1;
    cbor_decoder_result r = cbor_stream_decode(data + offset, bytes.size() - offset, &callbacks, &check);
    if (check.too_many) return offset;
    if (r.status != CBOR_DECODER_FINISHED || r.read == 0) break;  // cbor_load reports it
    offset += r.read;
  }
  return std::nullopt;
}

}  // namespace

Result<boost::json::value> decode_cbor(std::string_view bytes, size_t max_depth) {
  if (bytes.empty()) return boost::json::value(boost::json::object());
  if (auto at = impossible_count_at(bytes))
    return bad("malformed CBOR body at byte " + std::to_string(*at) + ": more items declared than bytes left");
  cbor_load_result result;
  ItemPtr item(cbor_load(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), &result));
  if (!item || result.error.code != CBOR_ERR_NONE)
    return bad("malformed CBOR body at byte " + std::to_string(result.error.position));
  if (result.read != bytes.size()) return bad("trailing bytes after the CBOR body");
  return convert(item.get(), 0, max_depth);
}

}  // namespace berth::api
