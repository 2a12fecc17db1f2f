#include "store/statement.h"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "store/internal.h"

namespace berth::store {

namespace detail {

Error sqlite_error_code(int rc, std::string message) {
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_ROWID:
      return Error::already_exists("AlreadyExists", std::move(message));
    case SQLITE_BUSY:
    case SQLITE_BUSY_SNAPSHOT:
    case SQLITE_BUSY_TIMEOUT:
    case SQLITE_LOCKED:
      return Error::unavailable(std::move(message));
    default:
      break;
  }
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return Error::conflict("Conflict", std::move(message));
  // The machine's fault, not the client's and not a bug: a full or read-only
  // data directory. Nothing was written (the transaction rolled back), the
  // client may retry once the operator makes room (503, retried by SDKs).
  if ((rc & 0xff) == SQLITE_FULL)
    return Error::unavailable("berth's data directory is full; nothing was written (" + message + ")");
  if ((rc & 0xff) == SQLITE_READONLY || rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC ||
      rc == SQLITE_IOERR_TRUNCATE)
    return Error::unavailable("berth cannot write its data directory; nothing was written (" + message + ")");
  return Error::internal(std::move(message));
}

Error sqlite_error(sqlite3* db, int rc, std::string_view context) {
  std::string message(context);
  message += ": ";
  // The connection's message describes the last failing call; for codes
  // raised by this module (bind misuse) fall back to the generic text.
  int db_rc = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_OK;
  message += (db != nullptr && db_rc == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return sqlite_error_code(rc, std::move(message));
}

StatementCache::~StatementCache() {
  for (auto& [sql, stmt] : map_) sqlite3_finalize(stmt);
}

static bool only_blank(const char* begin, const char* end) {
  for (const char* p = begin; p != end; ++p) {
    char c = *p;
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ';') return false;
  }
  return true;
}

Result<Statement> StatementCache::take(std::string_view sql, bool read_only) {
  sqlite3_stmt* stmt = nullptr;
  auto it = map_.find(sql);
  if (it != map_.end() && it->second != nullptr) {
    stmt = std::exchange(it->second, nullptr);
  } else {
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "prepare");
    if (stmt == nullptr) return Error::invalid("InvalidSql", "prepare: empty SQL");
    // Everything after the first statement would be silently dropped.
    if (!only_blank(tail, sql.data() + sql.size())) {
      sqlite3_finalize(stmt);
      return Error::invalid("InvalidSql", "prepare: more than one statement: " + std::string(sql));
    }
    if (it == map_.end() && map_.size() < capacity_) map_.emplace(std::string(sql), nullptr);
  }
  if (read_only && sqlite3_stmt_readonly(stmt) == 0) {
    give_back(stmt);
    return Error::internal("prepare: write in a read transaction: " + std::string(sql));
  }
  return Statement(stmt, this);
}

void StatementCache::give_back(sqlite3_stmt* stmt) {
  // A Statement that escaped its callback is dropped: the cache belongs to
  // the thread holding the connection mutex.
  if (owner_.load() != std::this_thread::get_id()) {
    sqlite3_finalize(stmt);
    return;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  auto it = map_.find(std::string_view(sqlite3_sql(stmt)));
  if (it != map_.end() && it->second == nullptr) {
    it->second = stmt;
  } else {
    sqlite3_finalize(stmt);
  }
}

}  // namespace detail

Statement::~Statement() { release(); }

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      cache_(std::exchange(other.cache_, nullptr)),
      bind_rc_(std::exchange(other.bind_rc_, 0)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    stmt_ = std::exchange(other.stmt_, nullptr);
    cache_ = std::exchange(other.cache_, nullptr);
    bind_rc_ = std::exchange(other.bind_rc_, 0);
  }
  return *this;
}

void Statement::release() {
  if (stmt_ == nullptr) return;
  if (cache_ != nullptr) {
    cache_->give_back(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  cache_ = nullptr;
}

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Statement& Statement::bind_int64(int index, int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so the caller's buffer may go away.
  // A null data pointer would bind NULL, so empty views bind "".
  const char* data = value.data() != nullptr ? value.data() : "";
  note_bind(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_blob(int index, Blob value) {
  if (value.data() == nullptr) {
    note_bind(sqlite3_bind_zeroblob(stmt_, index, 0));
  } else {
    note_bind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT));
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::step() {
  if (stmt_ == nullptr) return Error::internal("step on an empty Statement");
  if (bind_rc_ != SQLITE_OK) {
    return detail::sqlite_error(nullptr, bind_rc_, std::string("bind: ") + sqlite3_sql(stmt_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  Error error = detail::sqlite_error(db, rc, "step");
  // Leave the statement reusable; the transaction decides what happens.
  sqlite3_reset(stmt_);
  return error;
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return Ok{};
  }
}

void Statement::reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

std::string_view Statement::column_text(int index) const {
  // Text first, then bytes: the documented order that keeps the pointer valid.
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(size)};
}

Blob Statement::column_blob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr) return {};
  return {static_cast<const std::byte*>(data), static_cast<size_t>(size)};
}

std::optional<int64_t> Statement::column_int64_opt(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int64(index);
}

std::optional<double> Statement::column_double_opt(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_double(index);
}

std::optional<std::string> Statement::column_string_opt(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_string(index);
}

std::string_view Statement::sql() const {
  if (stmt_ == nullptr) return {};
  return sqlite3_sql(stmt_);
}

}  // namespace berth::store
