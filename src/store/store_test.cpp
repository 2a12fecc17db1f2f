#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "store/store.h"
#include "core/testing/expect_ok.h"

namespace berth::store {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

Database open_or_die(const std::string& path) {
  auto db = Database::open(path);
  if (!db.ok()) throw std::runtime_error("open: " + db.error().message);
  return std::move(db).value();
}

int64_t query_int(Database& db, const std::string& sql) {
  auto r = db.read([&](Tx& tx) -> Result<int64_t> {
    auto stmt = tx.prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return Error::not_found("NoRow", sql);
    return stmt->column_int64(0);
  });
  if (!r.ok()) throw std::runtime_error(sql + ": " + r.error().message);
  return *r;
}

std::string pragma(Database& db, const std::string& sql) {
  auto r = db.transaction([&](Tx& tx) -> Result<std::string> {
    auto stmt = tx.prepare(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row.ok()) return std::move(row).error();
    return stmt->column_string(0);
  });
  if (!r.ok()) throw std::runtime_error(sql + ": " + r.error().message);
  return *r;
}

Status create_items(Database& db) {
  return db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER)");
}

// SQLite answers SQLITE_FULL at max_page_count as it does on a full disk.
TEST(StoreTest, AFullDatabaseIsUnavailableWritesNothingAndTakesWritesAgainWithRoom) {
  TempDir dir;
  auto db = open_or_die(dir.file("berth.db"));
  ASSERT_OK(create_items(db));
  int64_t pages = query_int(db, "PRAGMA page_count");
  pragma(db, "PRAGMA max_page_count=" + std::to_string(pages + 2));
  std::optional<Error> failure;
  int written = 0;
  for (int i = 0; i < 100 && !failure; ++i) {
    auto s = db.transaction([&](Tx& tx) -> Status {
      for (int j = 0; j < 2; ++j)
        if (auto r = tx.run("INSERT INTO items(name, n) VALUES (?, ?)", std::to_string(i * 2 + j) + std::string(1500, 'x'), i);
            !r.ok())
          return r;
      return Ok{};
    });
    if (s.ok()) ++written; else failure = s.error();
  }
  ASSERT_TRUE(failure.has_value()) << "100 transactions fitted in " << pages + 2 << " pages";
  EXPECT_EQ(failure->error_class, ErrorClass::kUnavailable) << failure->message;
  EXPECT_NE(failure->message.find("data directory is full"), std::string::npos) << failure->message;
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), written * 2) << "a failed transaction left rows";
  pragma(db, "PRAGMA max_page_count=1073741823");
  EXPECT_OK(db.transaction([&](Tx& tx) -> Status { return tx.run("INSERT INTO items(name, n) VALUES ('after', 1)"); }));
  EXPECT_EQ(pragma(db, "PRAGMA integrity_check"), "ok");
}

TEST(StoreTest, OpenSetsDurablePragmas) {
  TempDir dir;
  auto db = open_or_die(dir.file("berth.db"));
  EXPECT_EQ(pragma(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma(db, "PRAGMA synchronous"), "2");
  EXPECT_EQ(pragma(db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(pragma(db, "PRAGMA busy_timeout"), "5000");
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM schema_migrations"), 0);
}

// An unsynced commit is a commit: visible, delivered to subscribers, and
// kept when the process dies at once after it (the WAL is in the page
// cache); the connection is back at synchronous=FULL however it ended.
TEST(StoreTest, UnsyncedTransactionSurvivesTheProcessAndRestoresFullSync) {
  TempDir dir;
  const std::string path = dir.file("berth.db");
  {
    auto db = open_or_die(path);
    ASSERT_OK(create_items(db));
    std::vector<Change> seen;
    auto sub = db.subscribe([&](const std::vector<Change>& changes) { seen = changes; });
    ASSERT_OK(db.unsynced_transaction([](Tx& tx) -> Status {
      if (auto s = tx.run("INSERT INTO items(name, n) VALUES ('a', 1)"); !s.ok()) return s;
      tx.record_change("items", "a", ChangeKind::kPut);
      return Ok{};
    }));
    EXPECT_EQ(seen, (std::vector<Change>{{"items", "a", ChangeKind::kPut}}));
    EXPECT_EQ(pragma(db, "PRAGMA synchronous"), "2") << "left relaxed after a commit";
    auto failed = db.unsynced_transaction([](Tx& tx) -> Status {
      if (auto s = tx.run("INSERT INTO items(name, n) VALUES ('b', 2)"); !s.ok()) return s;
      return Error::invalid("Test", "roll back");
    });
    EXPECT_FALSE(failed.ok());
    EXPECT_EQ(pragma(db, "PRAGMA synchronous"), "2") << "left relaxed after a rollback";
    EXPECT_THROW((void)db.unsynced_transaction([](Tx&) -> Status { throw std::runtime_error("boom"); }),
                 std::runtime_error);
    EXPECT_EQ(pragma(db, "PRAGMA synchronous"), "2") << "left relaxed after an exception";
    EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), 1);
  }
  // A child commits unsynced and is killed before it closes anything.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = Database::open(path);
    if (!db.ok()) _exit(2);
    auto s = db->unsynced_transaction([](Tx& tx) { return tx.run("INSERT INTO items(name, n) VALUES ('c', 3)"); });
    if (!s.ok()) _exit(3);
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  auto db = open_or_die(path);
  EXPECT_EQ(query_int(db, "SELECT n FROM items WHERE name = 'c'"), 3) << "the unsynced commit was lost with the process";
  EXPECT_EQ(pragma(db, "PRAGMA integrity_check"), "ok");
}

TEST(StoreTest, MigrationsRunOnceAndAreRecorded) {
  TempDir dir;
  const std::string path = dir.file("berth.db");
  // Not idempotent on purpose: a second run would fail or double the row.
  const Migration ecs_v1[] = {
      {1, "create clusters", "CREATE TABLE clusters (name TEXT PRIMARY KEY);"},
      {2, "seed default", "INSERT INTO clusters VALUES ('default');"},
  };
  const Migration ec2_v1[] = {
      {1, "create vpcs", "CREATE TABLE vpcs (id TEXT PRIMARY KEY); CREATE TABLE subnets (id TEXT);"},
  };
  {
    auto db = open_or_die(path);
    ASSERT_OK(apply_migrations(db, "ecs", ecs_v1));
    ASSERT_OK(apply_migrations(db, "ec2", ec2_v1));
    ASSERT_OK(apply_migrations(db, "ecs", ecs_v1));
    EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM clusters"), 1);
    EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM schema_migrations WHERE module='ecs'"), 2);
    EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM schema_migrations WHERE module='ec2'"), 1);
    EXPECT_EQ(*schema_version(db, "ecs"), 2);
    EXPECT_EQ(*schema_version(db, "iam"), 0);
  }
  // After reopen: still a no-op; a new version runs alone.
  auto db = open_or_die(path);
  const Migration ecs_v2[] = {
      ecs_v1[0], ecs_v1[1], {3, "seed more", "INSERT INTO clusters VALUES ('second');"}};
  ASSERT_OK(apply_migrations(db, "ecs", ecs_v2));
  ASSERT_OK(apply_migrations(db, "ecs", ecs_v2));
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM clusters"), 2);
  EXPECT_EQ(*schema_version(db, "ecs"), 3);

  // An older build against this database is refused.
  auto too_new = apply_migrations(db, "ecs", ecs_v1);
  ASSERT_FALSE(too_new.ok());
  EXPECT_EQ(too_new.error().error_class, ErrorClass::kConflict);

  const Migration unordered[] = {{2, "b", "SELECT 1"}, {1, "a", "SELECT 1"}};
  auto bad = apply_migrations(db, "iam", unordered);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().error_class, ErrorClass::kInvalid);
}

TEST(StoreTest, FailingMigrationLeavesNothing) {
  auto db = open_or_die(":memory:");
  const Migration migrations[] = {
      {1, "ok", "CREATE TABLE a (x INTEGER);"},
      {2, "half", "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);"},
  };
  auto status = apply_migrations(db, "m", migrations);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("migration 2"), std::string::npos);
  EXPECT_EQ(*schema_version(db, "m"), 1);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name='b'"), 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name='a'"), 1);
}

TEST(StoreTest, ErrorRollsBackEverything) {
  auto db = open_or_die(":memory:");
  ASSERT_OK(create_items(db));
  auto status = db.transaction([](Tx& tx) -> Status {
    if (auto s = tx.run("INSERT INTO items(name, n) VALUES (?, ?)", "a", 1); !s.ok()) return s;
    if (auto s = tx.run("INSERT INTO items(name, n) VALUES (?, ?)", "b", 2); !s.ok()) return s;
    return Error::invalid("Nope", "changed my mind");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "Nope");
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), 0);

  // A failing statement in the middle: the earlier insert goes too.
  status = db.transaction([](Tx& tx) -> Status {
    if (auto s = tx.run("INSERT INTO items(name) VALUES ('c')"); !s.ok()) return s;
    return tx.run("INSERT INTO items(name) VALUES ('c')");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().error_class, ErrorClass::kAlreadyExists);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), 0);
}

TEST(StoreTest, ExceptionRollsBackAndRethrows) {
  auto db = open_or_die(":memory:");
  ASSERT_OK(create_items(db));
  EXPECT_THROW((void)db.transaction([](Tx& tx) -> Status {
    EXPECT_OK(tx.run("INSERT INTO items(name) VALUES ('x')"));
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), 0);
  // The connection is usable afterwards.
  ASSERT_OK(db.transaction([](Tx& tx) { return tx.run("INSERT INTO items(name) VALUES ('y')"); }));
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), 1);
}

TEST(StoreTest, ConstraintErrorsMapToClasses) {
  auto db = open_or_die(":memory:");
  ASSERT_TRUE(db.exec("CREATE TABLE parent (id TEXT PRIMARY KEY);"
                      "CREATE TABLE child (id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES parent(id));"
                      "INSERT INTO parent VALUES ('p'); INSERT INTO child VALUES ('c', 'p');")
                  .ok());
  auto dup = db.transaction([](Tx& tx) { return tx.run("INSERT INTO parent VALUES (?)", "p"); });
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().error_class, ErrorClass::kAlreadyExists);

  auto in_use = db.transaction([](Tx& tx) { return tx.run("DELETE FROM parent WHERE id = ?", "p"); });
  ASSERT_FALSE(in_use.ok());
  EXPECT_EQ(in_use.error().error_class, ErrorClass::kConflict);

  auto orphan = db.transaction([](Tx& tx) { return tx.run("INSERT INTO child VALUES ('d', 'nope')"); });
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().error_class, ErrorClass::kConflict);

  auto syntax = db.transaction([](Tx& tx) { return tx.run("INSERT INTO nowhere VALUES (1)"); });
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().error_class, ErrorClass::kInternal);
  EXPECT_NE(syntax.error().message.find("no such table"), std::string::npos);
}

TEST(StoreTest, TransactionReturnsValues) {
  auto db = open_or_die(":memory:");
  ASSERT_OK(create_items(db));
  auto id = db.transaction([](Tx& tx) -> Result<int64_t> {
    if (auto s = tx.run("INSERT INTO items(name) VALUES ('a')"); !s.ok()) return std::move(s).error();
    EXPECT_EQ(tx.rows_changed(), 1);
    return tx.last_insert_rowid();
  });
  ASSERT_OK(id);
  EXPECT_EQ(*id, 1);
}

TEST(StoreTest, BindAndColumnTypesRoundTrip) {
  auto db = open_or_die(":memory:");
  ASSERT_OK(db.exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT, o INTEGER)"));
  const std::byte bytes[] = {std::byte{0}, std::byte{1}, std::byte{0xff}};
  std::optional<int64_t> none;
  std::optional<int64_t> some = 7;
  ASSERT_TRUE(db.transaction([&](Tx& tx) {
                  return tx.run("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", int64_t{-5}, 2.5,
                                std::string("h\0i", 3), Blob(bytes), std::nullopt, some);
                }).ok());
  ASSERT_TRUE(db.transaction([&](Tx& tx) {
                  return tx.run("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", true, 0.0, "",
                                Blob(), nullptr, none);
                }).ok());
  auto status = db.read([&](Tx& tx) -> Status {
    auto stmt = tx.prepare("SELECT i, d, s, b, n, o FROM t ORDER BY rowid");
    if (!stmt.ok()) return std::move(stmt).error();
    auto row = stmt->step();
    EXPECT_TRUE(row.ok() && *row);
    EXPECT_EQ(stmt->column_count(), 6);
    EXPECT_EQ(stmt->column_int64(0), -5);
    EXPECT_DOUBLE_EQ(stmt->column_double(1), 2.5);
    EXPECT_EQ(stmt->column_text(2), std::string_view("h\0i", 3));
    auto blob = stmt->column_blob(3);
    EXPECT_EQ(std::vector<std::byte>(blob.begin(), blob.end()),
              std::vector<std::byte>(std::begin(bytes), std::end(bytes)));
    EXPECT_TRUE(stmt->column_is_null(4));
    EXPECT_EQ(stmt->column_string_opt(4), std::nullopt);
    EXPECT_EQ(stmt->column_int64_opt(5), 7);
    row = stmt->step();
    EXPECT_TRUE(row.ok() && *row);
    EXPECT_EQ(stmt->column_int64(0), 1);
    EXPECT_EQ(stmt->column_string_opt(2), std::optional<std::string>(""));
    EXPECT_FALSE(stmt->column_is_null(2));
    EXPECT_EQ(stmt->column_blob(3).size(), 0u);
    EXPECT_EQ(stmt->column_int64_opt(5), std::nullopt);
    EXPECT_EQ(stmt->column_double_opt(5), std::nullopt);
    row = stmt->step();
    EXPECT_TRUE(row.ok() && !*row);
    return Ok{};
  });
  EXPECT_OK(status);
}

TEST(StoreTest, BadBindIndexIsReportedOnStep) {
  auto db = open_or_die(":memory:");
  auto status = db.read([](Tx& tx) -> Status {
    auto stmt = tx.prepare("SELECT ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->bind_int64(1, 1).bind_int64(2, 2);
    return stmt->run();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("bind"), std::string::npos);
}

TEST(StoreTest, StatementCacheReusesPreparedStatements) {
  auto db = open_or_die(":memory:");
  auto status = db.read([](Tx& tx) -> Status {
    const char* sql = "SELECT ?1 + 1";
    sqlite3_stmt* first = nullptr;
    sqlite3_stmt* second = nullptr;
    {
      auto a = tx.prepare(sql);
      EXPECT_OK(a);
      first = a->handle();
      a->bind_int64(1, 41);
      EXPECT_TRUE(*a->step());
      EXPECT_EQ(a->column_int64(0), 42);
      // In use: a second user of the same SQL gets its own statement.
      auto b = tx.prepare(sql);
      EXPECT_OK(b);
      second = b->handle();
      EXPECT_NE(second, first);
    }
    // One of the two went back to the cache, the other was finalized.
    auto again = tx.prepare(sql);
    EXPECT_OK(again);
    EXPECT_TRUE(again->handle() == first || again->handle() == second);
    // Handed back reset with bindings cleared.
    EXPECT_TRUE(*again->step());
    EXPECT_TRUE(again->column_is_null(0));
    return Ok{};
  });
  EXPECT_OK(status);
  // The cache outlives transactions.
  sqlite3_stmt* h1 = nullptr;
  sqlite3_stmt* h2 = nullptr;
  (void)db.read([&](Tx& tx) -> Status { h1 = tx.prepare("SELECT 1")->handle(); return Ok{}; });
  (void)db.read([&](Tx& tx) -> Status { h2 = tx.prepare("SELECT 1")->handle(); return Ok{}; });
  EXPECT_EQ(h1, h2);
}

TEST(StoreTest, PrepareRefusesSeveralStatementsAndReadTxRefusesWrites) {
  auto db = open_or_die(":memory:");
  ASSERT_OK(create_items(db));
  auto status = db.transaction([](Tx& tx) -> Status {
    auto stmt = tx.prepare("SELECT 1; SELECT 2");
    if (!stmt.ok()) return std::move(stmt).error();
    return Ok{};
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().error_class, ErrorClass::kInvalid);
  EXPECT_OK(db.read([](Tx& tx) { return tx.run("SELECT 1 ;  "); }));

  EXPECT_FALSE(db.read([](Tx& tx) { return tx.run("INSERT INTO items(name) VALUES ('a')"); }).ok());
  EXPECT_FALSE(db.read([](Tx& tx) { return tx.exec("DELETE FROM items"); }).ok());
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), 0);
}

TEST(StoreTest, NestedTransactionIsAnErrorNotADeadlock) {
  auto db = open_or_die(":memory:");
  auto status = db.transaction([&](Tx&) -> Status {
    return db.read([](Tx&) -> Status { return Ok{}; });
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().error_class, ErrorClass::kInternal);
}

TEST(StoreTest, ChangeFeedDeliversExactlyCommittedChanges) {
  auto db = open_or_die(":memory:");
  ASSERT_OK(create_items(db));
  std::vector<std::vector<Change>> batches;
  auto sub = db.subscribe([&](const std::vector<Change>& changes) { batches.push_back(changes); });

  ASSERT_TRUE(db.transaction([](Tx& tx) -> Status {
                  if (auto s = tx.run("INSERT INTO items(name) VALUES ('a')"); !s.ok()) return s;
                  tx.record_change("items", "a", ChangeKind::kPut);
                  tx.record_change("items", "b", ChangeKind::kPut);
                  tx.record_change("items", "a", ChangeKind::kDelete);
                  return Ok{};
                }).ok());
  // transaction() returns after delivery.
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0], (std::vector<Change>{{"items", "a", ChangeKind::kPut},
                                             {"items", "b", ChangeKind::kPut},
                                             {"items", "a", ChangeKind::kDelete}}));

  // Rolled back by error, by exception, by a failed statement: nothing.
  (void)db.transaction([](Tx& tx) -> Status {
    tx.record_change("items", "x", ChangeKind::kPut);
    return Error::invalid("No", "no");
  });
  EXPECT_THROW((void)db.transaction([](Tx& tx) -> Status {
    tx.record_change("items", "y", ChangeKind::kPut);
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  (void)db.transaction([](Tx& tx) -> Status {
    tx.record_change("items", "z", ChangeKind::kPut);
    return tx.run("INSERT INTO items(name) VALUES ('a')");
  });
  // Nothing recorded, read transactions: nothing.
  ASSERT_OK(db.transaction([](Tx& tx) { return tx.run("INSERT INTO items(name) VALUES ('q')"); }));
  ASSERT_TRUE(db.read([](Tx& tx) -> Status {
                  tx.record_change("items", "r", ChangeKind::kPut);
                  return Ok{};
                }).ok());
  EXPECT_EQ(batches.size(), 1u);

  ASSERT_TRUE(db.transaction([](Tx& tx) -> Status {
                  tx.record_change("items", "c", ChangeKind::kPut);
                  return Ok{};
                }).ok());
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[1], (std::vector<Change>{{"items", "c", ChangeKind::kPut}}));

  sub.reset();
  EXPECT_FALSE(sub.active());
  ASSERT_TRUE(db.transaction([](Tx& tx) -> Status {
                  tx.record_change("items", "d", ChangeKind::kPut);
                  return Ok{};
                }).ok());
  EXPECT_EQ(batches.size(), 2u);
}

TEST(StoreTest, SubscriptionDestructionAndMoveUnsubscribe) {
  auto db = open_or_die(":memory:");
  int a = 0;
  int b = 0;
  auto commit = [&] {
    ASSERT_TRUE(db.transaction([](Tx& tx) -> Status {
                    tx.record_change("t", "k", ChangeKind::kPut);
                    return Ok{};
                  }).ok());
  };
  {
    auto sa = db.subscribe([&](const std::vector<Change>&) { ++a; });
    Subscription moved;
    {
      auto sb = db.subscribe([&](const std::vector<Change>&) { ++b; });
      commit();
      moved = std::move(sb);
    }
    commit();  // sb's move kept b subscribed
    EXPECT_EQ(a, 2);
    EXPECT_EQ(b, 2);
  }
  commit();
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 2);
}

TEST(StoreTest, SubscriberMayReadAndWriteTheStore) {
  auto db = open_or_die(":memory:");
  ASSERT_OK(create_items(db));
  std::vector<std::string> seen;
  auto sub = db.subscribe([&](const std::vector<Change>& changes) {
    for (const auto& c : changes) {
      // Read the committed row, as a read model would.
      auto n = db.read([&](Tx& tx) -> Result<int64_t> {
        auto stmt = tx.prepare("SELECT COUNT(*) FROM items WHERE name = ?");
        if (!stmt.ok()) return std::move(stmt).error();
        stmt->bind_text(1, c.key);
        auto row = stmt->step();
        if (!row.ok()) return std::move(row).error();
        return stmt->column_int64(0);
      });
      seen.push_back(c.key + "=" + (n.ok() ? std::to_string(*n) : "error"));
      if (c.key == "a") {
        // A write from a subscriber is delivered after the current batch.
        auto s = db.transaction([](Tx& tx) -> Status {
          if (auto s = tx.run("INSERT INTO items(name) VALUES ('b')"); !s.ok()) return s;
          tx.record_change("items", "b", ChangeKind::kPut);
          return Ok{};
        });
        EXPECT_OK(s);
        seen.push_back("after-write");
      }
    }
  });
  ASSERT_TRUE(db.transaction([](Tx& tx) -> Status {
                  if (auto s = tx.run("INSERT INTO items(name) VALUES ('a')"); !s.ok()) return s;
                  tx.record_change("items", "a", ChangeKind::kPut);
                  return Ok{};
                }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "after-write", "b=1"}));
}

TEST(StoreTest, ConcurrentWritersAllLandAndFeedIsInCommitOrder) {
  TempDir dir;
  auto db = open_or_die(dir.file("berth.db"));
  ASSERT_OK(create_items(db));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;

  std::mutex mu;
  std::set<int64_t> delivered;
  int64_t last_key = 0;
  bool in_order = true;
  auto sub = db.subscribe([&](const std::vector<Change>& changes) {
    std::lock_guard lock(mu);
    for (const auto& c : changes) {
      int64_t key = std::stoll(c.key);
      if (key <= last_key) in_order = false;
      last_key = key;
      delivered.insert(key);
    }
  });

  std::atomic<int> failures{0};
  std::atomic<int> not_yet_delivered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = db.transaction([&](Tx& tx) -> Result<int64_t> {
          auto s = tx.run("INSERT INTO items(name, n) VALUES (?, ?)",
                          "t" + std::to_string(t) + "-" + std::to_string(i), i);
          if (!s.ok()) return std::move(s).error();
          int64_t rowid = tx.last_insert_rowid();
          tx.record_change("items", std::to_string(rowid), ChangeKind::kPut);
          return rowid;
        });
        if (!id.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mu);
        if (!delivered.contains(*id)) ++not_yet_delivered;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(not_yet_delivered.load(), 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM items"), kThreads * kPerThread);
  std::lock_guard lock(mu);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(delivered.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(StoreTest, UnsubscribeWaitsForARunningCallback) {
  auto db = open_or_die(":memory:");
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  auto sub = db.subscribe([&](const std::vector<Change>&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    finished = true;
  });
  std::thread writer([&] {
    EXPECT_TRUE(db.transaction([](Tx& tx) -> Status {
                    tx.record_change("t", "k", ChangeKind::kPut);
                    return Ok{};
                  }).ok());
  });
  while (!entered) std::this_thread::yield();
  sub.reset();
  EXPECT_TRUE(finished.load());
  writer.join();
}

// A child commits rows and reports each acknowledged one on a pipe; it is
// SIGKILLed mid-loop. Every reported row must be there after reopen.
TEST(StoreTest, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  const std::string path = dir.file("berth.db");
  {
    auto db = open_or_die(path);
    ASSERT_OK(db.exec("CREATE TABLE rows (i INTEGER PRIMARY KEY, payload TEXT NOT NULL)"));
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    int code = 0;
    try {
      auto db = Database::open(path);
      if (!db.ok()) _exit(2);
      const std::string payload(512, 'x');
      for (int64_t i = 1; i <= 1000000; ++i) {
        auto s = db->transaction([&](Tx& tx) -> Status {
          if (auto s = tx.run("INSERT INTO rows VALUES (?, ?)", i, payload); !s.ok()) return s;
          return tx.run("UPDATE rows SET payload = ? WHERE i = ?", payload + "!", i);
        });
        if (!s.ok()) _exit(3);
        if (write(fds[1], &i, sizeof i) != sizeof i) _exit(4);
      }
    } catch (...) {
      code = 5;
    }
    _exit(code);
  }
  close(fds[1]);
  std::vector<int64_t> acknowledged;
  auto read_one = [&]() -> bool {
    int64_t value = 0;
    size_t got = 0;
    while (got < sizeof value) {
      ssize_t n = read(fds[0], reinterpret_cast<char*>(&value) + got, sizeof value - got);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    acknowledged.push_back(value);
    return true;
  };
  while (acknowledged.size() < 300 && read_one()) {
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  while (read_one()) {
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
  EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);
  ASSERT_GE(acknowledged.size(), 300u);

  auto db = open_or_die(path);
  EXPECT_EQ(pragma(db, "PRAGMA integrity_check"), "ok");
  int64_t max_acked = acknowledged.back();
  EXPECT_EQ(max_acked, static_cast<int64_t>(acknowledged.size()));
  // All acknowledged rows present and complete (no half-written transaction).
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM rows WHERE i <= " + std::to_string(max_acked) +
                              " AND payload LIKE '%!'"),
            max_acked);
  // At most the one in flight when the kill came is there beyond them, and
  // it is whole.
  int64_t total = query_int(db, "SELECT COUNT(*) FROM rows");
  EXPECT_LE(total, max_acked + 1);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM rows WHERE payload NOT LIKE '%!'"), 0);
}

}  // namespace
}  // namespace berth::store
