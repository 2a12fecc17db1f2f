// A prepared SQLite statement: RAII, typed binds and column getters.
// Statements come from Tx::prepare and must not outlive the transaction
// callback that prepared them (see store.h for the threading model).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::store {

namespace detail {
class StatementCache;
}

using Blob = std::span<const std::byte>;

class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds take 1-based parameter indexes as SQLite does. A bind failure
  // (bad index, too big) is kept and returned by the next step()/run(), so
  // binds chain without checking each one.
  Statement& bind_int64(int index, int64_t value);
  Statement& bind_double(int index, double value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_blob(int index, Blob value);
  Statement& bind_null(int index);

  // bind(index, v) picks the SQLite type from v: integers and bool ->
  // INTEGER, floating -> REAL, strings -> TEXT, Blob -> BLOB,
  // std::nullopt/nullptr -> NULL, std::optional<T> -> T or NULL.
  template <class T>
  Statement& bind(int index, const T& value);

  // Binds args to parameters 1..n.
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // true: a row is ready for the column getters; false: done.
  Result<bool> step();
  // Steps until done, ignoring rows; for INSERT/UPDATE/DELETE.
  Status run();
  // Back to the start with bindings cleared, ready for reuse.
  void reset();

  int column_count() const;
  bool column_is_null(int index) const;
  int64_t column_int64(int index) const;
  double column_double(int index) const;
  // The view and span are valid until the next step(), reset() or destruction.
  std::string_view column_text(int index) const;
  Blob column_blob(int index) const;
  std::string column_string(int index) const { return std::string(column_text(index)); }
  std::optional<int64_t> column_int64_opt(int index) const;
  std::optional<double> column_double_opt(int index) const;
  std::optional<std::string> column_string_opt(int index) const;

  bool valid() const { return stmt_ != nullptr; }
  std::string_view sql() const;
  // Escape hatch for SQLite calls this class lacks.
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  friend class detail::StatementCache;
  Statement(sqlite3_stmt* stmt, detail::StatementCache* cache) : stmt_(stmt), cache_(cache) {}
  void release();
  void note_bind(int rc);

  sqlite3_stmt* stmt_ = nullptr;
  // Where to hand the statement back on destruction; null = finalize.
  detail::StatementCache* cache_ = nullptr;
  int bind_rc_ = 0;  // first failed bind's SQLite code, 0 = none
};

namespace detail {
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
}  // namespace detail

template <class T>
Statement& Statement::bind(int index, const T& value) {
  if constexpr (std::is_same_v<T, std::nullopt_t> || std::is_same_v<T, std::nullptr_t>) {
    return bind_null(index);
  } else if constexpr (detail::IsOptional<T>::value) {
    if (!value) return bind_null(index);
    return bind(index, *value);
  } else if constexpr (std::is_integral_v<T>) {
    return bind_int64(index, static_cast<int64_t>(value));
  } else if constexpr (std::is_enum_v<T>) {
    return bind_int64(index, static_cast<int64_t>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    return bind_double(index, static_cast<double>(value));
  } else if constexpr (std::is_convertible_v<const T&, Blob> &&
                       !std::is_convertible_v<const T&, std::string_view>) {
    return bind_blob(index, Blob(value));
  } else {
    static_assert(std::is_convertible_v<const T&, std::string_view>,
                  "Statement::bind: unsupported type");
    return bind_text(index, std::string_view(value));
  }
}

}  // namespace berth::store
