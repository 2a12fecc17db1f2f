#include <sqlite3.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

#include "core/log.h"
#include "store/internal.h"
#include "store/store.h"

namespace berth::store {

namespace detail {

Shared::~Shared() {
  cache.reset();
  if (db != nullptr) sqlite3_close_v2(db);
}

uint64_t Shared::enqueue(std::vector<Change> changes) {
  std::lock_guard lock(feed_mu);
  uint64_t seq = ++last_seq;
  pending.push_back(Batch{seq, std::move(changes)});
  return seq;
}

void Shared::deliver_until(uint64_t seq) {
  std::unique_lock lock(feed_mu);
  auto self = std::this_thread::get_id();
  // A write from inside a subscriber: the loop below us delivers it next.
  if (delivering && deliverer == self) return;
  while (delivered_seq < seq) {
    if (delivering) {
      feed_cv.wait(lock);
      continue;
    }
    delivering = true;
    deliverer = self;
    while (!pending.empty()) {
      Batch batch = std::move(pending.front());
      pending.pop_front();
      auto targets = subscribers;
      for (const auto& sub : targets) {
        if (!sub->active) continue;
        calling = sub.get();
        lock.unlock();
        try {
          sub->fn(batch.changes);
        } catch (const std::exception& e) {
          log::error("store", "change subscriber threw: ", e.what());
        } catch (...) {
          log::error("store", "change subscriber threw a non-std exception");
        }
        lock.lock();
        calling = nullptr;
        feed_cv.notify_all();
      }
      delivered_seq = batch.seq;
      feed_cv.notify_all();
    }
    delivering = false;
    deliverer = {};
    feed_cv.notify_all();
  }
}

void Shared::unsubscribe(uint64_t id) {
  std::unique_lock lock(feed_mu);
  std::shared_ptr<SubscriberEntry> entry;
  for (auto it = subscribers.begin(); it != subscribers.end(); ++it) {
    if ((*it)->id == id) {
      entry = *it;
      subscribers.erase(it);
      break;
    }
  }
  if (!entry) return;
  entry->active = false;
  auto self = std::this_thread::get_id();
  // Waiting here while holding the connection or running the delivery loop
  // could wait on ourselves; then we only stop future calls.
  if (deliverer == self || owner.load() == self) return;
  feed_cv.wait(lock, [&] { return calling != entry.get(); });
}

}  // namespace detail

namespace {

// Runs SQL that returns no rows we need; for pragmas and BEGIN/COMMIT.
Status exec_raw(sqlite3* db, const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Ok{};
  std::string text = std::string(sql) + ": " + (message != nullptr ? message : sqlite3_errstr(rc));
  sqlite3_free(message);
  return detail::sqlite_error_code(sqlite3_extended_errcode(db), std::move(text));
}

Result<std::string> pragma_value(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return detail::sqlite_error(db, rc, sql);
  std::string value;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) value = reinterpret_cast<const char*>(text);
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  }
  Result<std::string> out = rc == SQLITE_OK ? Result<std::string>(value)
                                            : Result<std::string>(detail::sqlite_error(db, rc, sql));
  sqlite3_finalize(stmt);
  return out;
}

// Clears the owner mark before the connection mutex is released.
struct OwnerMark {
  std::atomic<std::thread::id>& owner;
  explicit OwnerMark(std::atomic<std::thread::id>& o) : owner(o) {
    owner.store(std::this_thread::get_id());
  }
  ~OwnerMark() { owner.store(std::thread::id{}); }
};

}  // namespace

Result<Database> Database::open(const std::string& path, const Options& options) {
  auto shared = std::make_shared<detail::Shared>();
  shared->path = path;
  // FULLMUTEX on top of our own mutex: cheap, and it keeps SQLite itself
  // sound even if a Statement is misused outside its callback.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
              SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &shared->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "open " + path + ": " +
                          (shared->db != nullptr ? sqlite3_errmsg(shared->db) : sqlite3_errstr(rc));
    return detail::sqlite_error_code(rc, std::move(message));
  }
  sqlite3* db = shared->db;
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);

  auto mode = pragma_value(db, "PRAGMA journal_mode=WAL");
  if (!mode.ok()) return std::move(mode).error();
  // An in-memory database cannot use WAL and has nothing to lose.
  if (*mode != "wal" && !(path == ":memory:" && *mode == "memory")) {
    return Error::internal("open " + path + ": journal_mode is " + *mode + ", want wal");
  }
  // FULL: in WAL mode each COMMIT fsyncs the log, so an acknowledged
  // write survives a power cut (NORMAL could lose the last ones).
  for (const char* sql : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    if (auto s = exec_raw(db, sql); !s.ok()) return std::move(s).error();
  }
  auto sync = pragma_value(db, "PRAGMA synchronous");
  if (!sync.ok()) return std::move(sync).error();
  auto fk = pragma_value(db, "PRAGMA foreign_keys");
  if (!fk.ok()) return std::move(fk).error();
  if (*sync != "2" || *fk != "1") {
    return Error::internal("open " + path + ": synchronous=" + *sync + " foreign_keys=" + *fk);
  }
  if (auto s = exec_raw(db,
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " module TEXT NOT NULL,"
                        " version INTEGER NOT NULL,"
                        " name TEXT NOT NULL DEFAULT '',"
                        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
                        " PRIMARY KEY (module, version))");
      !s.ok()) {
    return std::move(s).error();
  }
  shared->cache = std::make_unique<detail::StatementCache>(db, options.statement_cache_capacity,
                                                           shared->owner);
  return Database(std::move(shared));
}

Database::~Database() = default;

const std::string& Database::path() const { return shared_->path; }

Status Database::run(Mode mode, Body body, void* ctx) {
  const bool read_only = mode == Mode::kRead;
  detail::Shared& s = *shared_;
  if (s.owner.load() == std::this_thread::get_id()) {
    return Error::internal("store: transaction inside a transaction on the same Database");
  }
  uint64_t seq = 0;
  {
    std::unique_lock lock(s.mu);
    OwnerMark mark(s.owner);
    sqlite3* db = s.db;
    // The level is the connection's, and SQLite reads it at COMMIT: set for
    // this one transaction, FULL again however it ends.
    struct Unsynced {
      sqlite3* db;
      bool on;
      ~Unsynced() {
        if (on) {
          if (auto r = exec_raw(db, "PRAGMA synchronous=FULL"); !r.ok()) {
            // Never left relaxed: every later commit would be unsynced.
            log::error("store", "restoring synchronous=FULL failed: ", r.error().message);
            std::abort();
          }
        }
      }
    } unsynced{db, false};
    if (mode == Mode::kWriteUnsynced) {
      if (auto r = exec_raw(db, "PRAGMA synchronous=NORMAL"); !r.ok()) return r;
      unsynced.on = true;
    }
    if (auto begin = exec_raw(db, read_only ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE"); !begin.ok()) {
      return begin;
    }
    // Ends the transaction unless SQLite already did (some errors roll
    // back on their own).
    auto rollback = [db] {
      if (sqlite3_get_autocommit(db) == 0) {
        if (auto r = exec_raw(db, "ROLLBACK"); !r.ok()) {
          log::error("store", "rollback failed: ", r.error().message);
        }
      }
    };
    Tx tx(db, *s.cache, read_only);
    Status status = Ok{};
    try {
      status = body(ctx, tx);
    } catch (...) {
      rollback();
      throw;
    }
    if (!status.ok()) {
      rollback();
      return status;
    }
    if (sqlite3_get_autocommit(db) != 0) {
      return Error::internal("store: the transaction was ended inside its callback");
    }
    if (auto commit = exec_raw(db, read_only ? "ROLLBACK" : "COMMIT"); !commit.ok()) {
      rollback();
      return commit;
    }
    if (!read_only && !tx.changes_.empty()) seq = s.enqueue(std::move(tx.changes_));
  }
  if (seq != 0) s.deliver_until(seq);
  return Ok{};
}

Status Database::exec(std::string_view sql) {
  return transaction([sql](Tx& tx) { return tx.exec(sql); });
}

Subscription Database::subscribe(Subscriber fn) {
  detail::Shared& s = *shared_;
  std::lock_guard lock(s.feed_mu);
  auto entry = std::make_shared<detail::SubscriberEntry>();
  entry->id = s.next_subscriber_id++;
  entry->fn = std::move(fn);
  s.subscribers.push_back(entry);
  return Subscription(shared_, entry->id);
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    shared_ = std::move(other.shared_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Subscription::reset() {
  if (id_ == 0) return;
  if (auto shared = shared_.lock()) shared->unsubscribe(id_);
  shared_.reset();
  id_ = 0;
}

Result<Statement> Tx::prepare(std::string_view sql) { return cache_.take(sql, read_only_); }

Status Tx::exec(std::string_view sql) {
  const char* rest = sql.data();
  const char* end = sql.data() + sql.size();
  while (rest != nullptr && rest < end) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, rest, static_cast<int>(end - rest), &raw, &tail);
    if (rc != SQLITE_OK) return detail::sqlite_error(db_, rc, "exec");
    rest = tail;
    if (raw == nullptr) continue;  // whitespace or a comment
    if (read_only_ && sqlite3_stmt_readonly(raw) == 0) {
      sqlite3_finalize(raw);
      return Error::internal("exec: write in a read transaction");
    }
    Statement stmt = detail::StatementCache::adopt(raw);
    if (auto s = stmt.run(); !s.ok()) return s;
  }
  return Ok{};
}

void Tx::record_change(std::string_view table, std::string_view key, ChangeKind kind) {
  if (read_only_) return;
  changes_.push_back(Change{std::string(table), std::string(key), kind});
}

int64_t Tx::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int64_t Tx::rows_changed() const { return sqlite3_changes64(db_); }

}  // namespace berth::store
