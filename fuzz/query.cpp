// Query-protocol bodies and URL query strings (ELBv2, STS, CloudWatch's
// query form): api::QueryParams::parse, then every list and map reader of
// QueryView on the keys the input names, and query_to_json.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/query_codec.h"
#include "api/query_tree.h"

namespace {
using berth::api::QueryView;

// Walks the structure under a view, as operations do, `depth` levels down.
void walk(const QueryView& view, int depth) {
  for (const auto& p : view.params().all()) {
    std::string_view key = p.key;
    if (!key.starts_with(view.prefix())) continue;
    key.remove_prefix(view.prefix().size());
    std::string_view head = key.substr(0, key.find('.'));
    (void)view.get(head);
    (void)view.has_any(head);
    (void)view.values(head);
    (void)view.member_values(head);
    (void)view.entries(head);
    auto members = view.members(head);
    auto items = view.items(head);
    if (depth > 0) {
      if (members.ok())
        for (const auto& m : members.value()) walk(m, depth - 1);
      if (items.ok())
        for (const auto& i : items.value()) walk(i, depth - 1);
      walk(view.sub(head), depth - 1);
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto params = berth::api::QueryParams::parse(text);
  if (!params.ok()) return 0;
  if (params.value().size() > 24) return 0;  // the walk is cubic; operations read few keys
  walk(params.value().root(), 1);
  (void)boost::json::serialize(berth::api::query_to_json(params.value()));
  for (const auto& p : params.value().all()) (void)berth::api::uri_encode(p.key + p.value);
  return 0;
}
