// berth::store owns the daemon's persistent state: one SQLite database file
// (WAL, synchronous=FULL, foreign keys on), the per-module schema
// migrations, transactions, and the change feed that reconcilers and
// in-memory read models watch (swarmkit's "watch the store").
//
//   API handler --db.transaction(fn)--> SQLite (BEGIN IMMEDIATE .. COMMIT)
//                                          | after COMMIT, in commit order
//                                          v
//                     subscribers(std::vector<Change>)  -> read models, reconcilers
//
// Threading model:
// - One Database is one SQLite connection guarded by one mutex. Every use
//   of the connection happens inside db.transaction(fn) (a write, BEGIN
//   IMMEDIATE) or db.read(fn) (a consistent snapshot, BEGIN DEFERRED); the
//   mutex is held for the whole callback, so callbacks run one at a time
//   and should be short. Any thread may call them.
// - A Tx and the Statements it prepared belong to the callback; they must
//   not escape it. Calling transaction()/read() on the same Database from
//   inside a callback is an error (kInternal), not a deadlock.
// - Change batches go to subscribers after COMMIT with the connection
//   mutex released, one batch at a time, in commit order, on the thread of
//   one of the committing writers. transaction() returns only after its own
//   batch was delivered (read-your-writes through a read model), except
//   when called from inside a subscriber, where the batch is queued and
//   delivered right after the current one. Subscribers may read and write
//   the store.
// - Durability: a transaction() that returned ok has been fsynced to the
//   WAL; a crash at any point loses no acknowledged write. An
//   unsynced_transaction() is written to the WAL but not fsynced: it
//   survives a crash of the daemon (the page cache has it), not one of the
//   machine, until the next transaction() syncs the log with it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "store/statement.h"

namespace berth::store {

enum class ChangeKind { kPut, kDelete };

struct Change {
  std::string table;
  std::string key;
  ChangeKind kind = ChangeKind::kPut;

  bool operator==(const Change&) const = default;
};

using Subscriber = std::function<void(const std::vector<Change>& changes)>;

namespace detail {
class StatementCache;
struct Shared;
}  // namespace detail

// The handle a transaction callback gets. Only valid inside the callback.
class Tx {
 public:
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

  // A prepared statement from the Database's cache (prepared once per SQL
  // text; a second concurrent use of the same text gets a fresh one). The
  // SQL must be one statement. In a read transaction, writing statements
  // are refused.
  Result<Statement> prepare(std::string_view sql);

  // Runs one or more ';'-separated statements without caching (DDL,
  // migrations, one-offs).
  Status exec(std::string_view sql);

  // prepare(sql), bind args to 1..n, step to the end.
  template <class... Args>
  Status run(std::string_view sql, const Args&... args) {
    auto stmt = prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind_all(args...);
    return stmt->run();
  }

  // Notes a change for the feed; delivered only if this transaction
  // commits. Ignored in read transactions.
  void record_change(std::string_view table, std::string_view key, ChangeKind kind);

  bool read_only() const { return read_only_; }
  int64_t last_insert_rowid() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t rows_changed() const;

 private:
  friend class Database;
  Tx(sqlite3* db, detail::StatementCache& cache, bool read_only)
      : db_(db), cache_(cache), read_only_(read_only) {}

  sqlite3* db_;
  detail::StatementCache& cache_;
  bool read_only_;
  std::vector<Change> changes_;
};

// Unsubscribes on destruction. After reset() (or destruction) returns the
// callback is not running and will not run again, except when reset from
// inside a transaction or subscriber callback, where it only stops future
// calls (waiting there could deadlock). May outlive the Database.
class Subscription {
 public:
  Subscription() = default;
  ~Subscription() { reset(); }
  Subscription(Subscription&& other) noexcept
      : shared_(std::move(other.shared_)), id_(std::exchange(other.id_, 0)) {}
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  void reset();
  bool active() const { return id_ != 0; }

 private:
  friend class Database;
  Subscription(std::weak_ptr<detail::Shared> shared, uint64_t id)
      : shared_(std::move(shared)), id_(id) {}

  std::weak_ptr<detail::Shared> shared_;
  uint64_t id_ = 0;
};

struct Options {
  int busy_timeout_ms = 5000;
  // Cached prepared statements kept per Database; beyond it they are
  // finalized after use.
  size_t statement_cache_capacity = 256;
};

namespace detail {
template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {};
}  // namespace detail

class Database {
 public:
  // path is a file (created if missing) or ":memory:".
  static Result<Database> open(const std::string& path, const Options& options = {});

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs fn(Tx&) in BEGIN IMMEDIATE .. COMMIT. fn returns Status or
  // Result<T>; an error result or an exception rolls everything back (the
  // exception is rethrown). A COMMIT failure is returned as the error.
  template <class Fn>
  auto transaction(Fn&& fn) -> std::invoke_result_t<Fn&, Tx&> {
    return run_typed(Mode::kWrite, fn);
  }

  // transaction() without waiting for the disk (see Durability above): for
  // facts the daemon derives again after a restart (what its runtime
  // reports, which tasks it handed over), never for a client's write.
  template <class Fn>
  auto unsynced_transaction(Fn&& fn) -> std::invoke_result_t<Fn&, Tx&> {
    return run_typed(Mode::kWriteUnsynced, fn);
  }

  // Runs fn(Tx&) on a consistent snapshot; writes are refused.
  template <class Fn>
  auto read(Fn&& fn) -> std::invoke_result_t<Fn&, Tx&> {
    return run_typed(Mode::kRead, fn);
  }

  // transaction() around tx.exec(sql).
  Status exec(std::string_view sql);

  // fn gets each committed transaction's recorded changes (non-empty), in
  // commit order. It should not throw; an exception is logged and dropped.
  [[nodiscard]] Subscription subscribe(Subscriber fn);

  const std::string& path() const;

 private:
  explicit Database(std::shared_ptr<detail::Shared> shared) : shared_(std::move(shared)) {}

  enum class Mode { kRead, kWrite, kWriteUnsynced };
  using Body = Status (*)(void* ctx, Tx& tx);
  Status run(Mode mode, Body body, void* ctx);

  template <class Fn>
  auto run_typed(Mode mode, Fn& fn) -> std::invoke_result_t<Fn&, Tx&> {
    using R = std::invoke_result_t<Fn&, Tx&>;
    static_assert(detail::IsResult<R>::value, "the callback must return berth::Status or berth::Result<T>");
    struct Ctx {
      Fn& fn;
      std::optional<R> out;
    } ctx{fn, std::nullopt};
    Status status = run(
        mode,
        [](void* p, Tx& tx) -> Status {
          auto& c = *static_cast<Ctx*>(p);
          c.out.emplace(c.fn(tx));
          if (!c.out->ok()) return c.out->error();
          return Ok{};
        },
        &ctx);
    if (ctx.out && !ctx.out->ok()) return std::move(*ctx.out);
    if (!status.ok()) return std::move(status).error();
    return std::move(*ctx.out);
  }

  std::shared_ptr<detail::Shared> shared_;
};

}  // namespace berth::store
