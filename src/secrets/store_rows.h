// secrets/store_rows: what the two stores (parameter_store, secret_store)
// share to read and write their rows: times as milliseconds, values as
// blobs, tags as a JSON column, and a loop over a query's rows.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/clock.h"
#include "core/error.h"
#include "secrets/json_members.h"
#include "store/store.h"

namespace berth::secrets::rows {

inline int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline WallTime from_ms(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

inline store::Blob as_blob(std::string_view s) {
  return store::Blob(reinterpret_cast<const std::byte*>(s.data()), s.size());
}
inline std::string from_blob(store::Blob b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// Calls row(statement) for each row; a row callback may return Status to stop at its error.
template <class Row, class... Args>
Status each_row(store::Tx& tx, std::string_view sql, Row&& row, const Args&... args) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(args...);
  for (;;) {
    auto more = stmt->step();
    if (!more) return std::move(more).error();
    if (!*more) return Ok{};
    if constexpr (std::is_void_v<decltype(row(*stmt))>) {
      row(*stmt);
    } else if (auto s = row(*stmt); !s) {
      return s;
    }
  }
}

// Tags as the column keeps them: [{"Key": k, "Value": v}, ...].
inline std::string tags_to_json(const Tags& tags) {
  boost::json::array a;
  for (const auto& [k, v] : tags) a.push_back(boost::json::object{{"Key", k}, {"Value", v}});
  return boost::json::serialize(a);
}

inline Tags tags_from_json(std::string_view text) {
  Tags out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& t : v.get_array())
    if (t.is_object() && t.as_object().contains("Key") && t.at("Key").is_string() && t.at("Value").is_string())
      out.emplace_back(std::string(t.at("Key").as_string()), std::string(t.at("Value").as_string()));
  return out;
}

}  // namespace berth::secrets::rows
