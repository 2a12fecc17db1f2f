// Private to the store module: the shared connection state, the statement
// cache and SQLite error mapping.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "store/statement.h"
#include "store/store.h"

namespace berth::store::detail {

// rc with the connection's message: constraint violations become
// kAlreadyExists (UNIQUE, PRIMARY KEY) or kConflict (FOREIGN KEY, CHECK,
// NOT NULL, ...), BUSY/LOCKED kUnavailable, the rest kInternal.
Error sqlite_error(sqlite3* db, int rc, std::string_view context);
Error sqlite_error_code(int rc, std::string message);

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// SQL text -> prepared statement. A statement is lent out (its slot holds
// nullptr) while a Statement owns it and comes back on destruction. Only
// touched by the thread holding the connection mutex.
class StatementCache {
 public:
  StatementCache(sqlite3* db, size_t capacity, const std::atomic<std::thread::id>& owner)
      : db_(db), capacity_(capacity), owner_(owner) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  Result<Statement> take(std::string_view sql, bool read_only);
  // An uncached statement, finalized when the Statement goes.
  static Statement adopt(sqlite3_stmt* stmt) { return Statement(stmt, nullptr); }
  void give_back(sqlite3_stmt* stmt);

 private:
  sqlite3* db_;
  size_t capacity_;
  const std::atomic<std::thread::id>& owner_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> map_;
};

struct SubscriberEntry {
  uint64_t id;
  Subscriber fn;
  bool active = true;  // guarded by Shared::feed_mu
};

struct Batch {
  uint64_t seq;
  std::vector<Change> changes;
};

// Everything a Database owns; Subscriptions hold a weak_ptr to it.
struct Shared {
  ~Shared();

  sqlite3* db = nullptr;
  std::string path;

  // The connection mutex and which thread holds it (to refuse nesting and
  // to catch Statements used outside their callback).
  std::mutex mu;
  std::atomic<std::thread::id> owner{};
  std::unique_ptr<StatementCache> cache;

  // The change feed. Lock order: mu before feed_mu; feed_mu is never held
  // while a subscriber runs.
  std::mutex feed_mu;
  std::condition_variable feed_cv;
  std::vector<std::shared_ptr<SubscriberEntry>> subscribers;
  uint64_t next_subscriber_id = 1;
  std::deque<Batch> pending;
  uint64_t last_seq = 0;       // assigned under mu, so in commit order
  uint64_t delivered_seq = 0;  // every batch up to it has been delivered
  bool delivering = false;
  std::thread::id deliverer{};
  const SubscriberEntry* calling = nullptr;  // the subscriber running now

  // Queues a committed batch; called with mu held. Returns its sequence.
  uint64_t enqueue(std::vector<Change> changes);
  // Delivers pending batches until seq is delivered (or, inside a
  // subscriber, leaves it to the running delivery loop).
  void deliver_until(uint64_t seq);
  void unsubscribe(uint64_t id);
};

}  // namespace berth::store::detail
