#include "iam/iam.h"

#include <array>

#include "core/ids.h"
#include "core/log.h"
#include "iam/store_support.h"
#include "store/migrations.h"

namespace berth::iam {
namespace {

using detail::delete_conflict;
using detail::from_ms;
using detail::no_such_policy;
using detail::to_ms;

constexpr std::array kMigrations{
    store::Migration{1, "account, users, access keys, attached policies", R"sql(
CREATE TABLE iam_account (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  account_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE iam_users (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  user_id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE iam_access_keys (
  access_key_id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES iam_users(name),
  secret TEXT NOT NULL,
  active INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX iam_access_keys_by_user ON iam_access_keys(user_name);
CREATE TABLE iam_user_policies (
  user_name TEXT NOT NULL REFERENCES iam_users(name),
  policy_arn TEXT NOT NULL,
  PRIMARY KEY (user_name, policy_arn)
);
)sql"},
    store::Migration{2, "roles, their attached policies, instance profiles", R"sql(
CREATE TABLE iam_roles (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  role_id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  assume_role_policy TEXT NOT NULL,
  description TEXT,
  max_session_duration INTEGER NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  linked_service TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE TABLE iam_role_policies (
  role_name TEXT NOT NULL REFERENCES iam_roles(name),
  policy_arn TEXT NOT NULL,
  PRIMARY KEY (role_name, policy_arn)
);
CREATE TABLE iam_instance_profiles (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  instance_profile_id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  role_name TEXT REFERENCES iam_roles(name),
  created_ms INTEGER NOT NULL
);
CREATE INDEX iam_instance_profiles_by_role ON iam_instance_profiles(role_name);
)sql"},
    store::Migration{3, "inline role policies", R"sql(
CREATE TABLE iam_role_inline_policies (
  role_name TEXT NOT NULL REFERENCES iam_roles(name),
  policy_name TEXT NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (role_name, policy_name)
);
)sql"},
};

// The tables the Directory is built from; roles and instance profiles
// change nothing the front door reads.
bool directory_table(std::string_view table) {
  return table == "iam_account" || table == "iam_users" || table == "iam_access_keys" ||
         table == "iam_user_policies";
}

Error no_such_key(std::string_view id) {
  return detail::no_such_entity("The Access Key with id " + std::string(id) + " cannot be found.");
}

Result<User> read_user(store::Tx& tx, std::string_view name) {
  auto stmt = tx.prepare("SELECT name, user_id, path, created_ms FROM iam_users WHERE name = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(name);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return no_such_user(name);
  return User{stmt->column_string(0), stmt->column_string(1), stmt->column_string(2),
              from_ms(stmt->column_int64(3))};
}

}  // namespace

Error no_such_user(std::string_view name) {
  return detail::no_such_entity("The user with name " + std::string(name) + " cannot be found.");
}

Iam::~Iam() { subscription_.reset(); }

Result<std::unique_ptr<Iam>> Iam::open(store::Database& db, const Clock& clock) {
  if (auto s = store::apply_migrations(db, "iam", kMigrations); !s) return std::move(s).error();
  std::unique_ptr<Iam> iam(new Iam(db, clock));
  if (auto s = iam->load_or_create_account(); !s) return std::move(s).error();
  if (auto s = iam->ensure_service_linked_roles(); !s) return std::move(s).error();
  if (auto s = iam->reload_directory(); !s) return std::move(s).error();
  Iam* self = iam.get();
  iam->subscription_ = db.subscribe([self](const std::vector<store::Change>& changes) {
    for (const auto& c : changes) {
      if (directory_table(c.table)) {
        if (auto s = self->reload_directory(); !s) log::error("iam", "directory reload failed: ", s.error().message);
        return;
      }
    }
  });
  return iam;
}

Status Iam::load_or_create_account() {
  WallTime now = clock_.now();
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto stmt = tx.prepare("SELECT account_id FROM iam_account WHERE id = 1");
    if (!stmt) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (*row) {
      account_id_ = stmt->column_string(0);
      // The administrator's first key, for `berth env`, while it exists.
      auto key = tx.prepare(
          "SELECT access_key_id, secret, created_ms FROM iam_access_keys WHERE user_name = ? ORDER BY created_ms "
          "LIMIT 1");
      if (!key) return std::move(key).error();
      key->bind_all(kBootstrapUser);
      auto krow = key->step();
      if (!krow) return std::move(krow).error();
      if (*krow)
        bootstrap_.admin_key = {key->column_string(0), key->column_string(1), std::string(kBootstrapUser), true,
                                from_ms(key->column_int64(2))};
      return Ok{};
    }
    account_id_ = ids::account_id();
    if (auto s = tx.run("INSERT INTO iam_account (id, account_id, created_ms) VALUES (1, ?, ?)", account_id_,
                        to_ms(now));
        !s)
      return s;
    User admin{std::string(kBootstrapUser), new_user_id(), "/", now};
    AccessKey key{new_access_key_id(), new_secret_access_key(), admin.name, true, now};
    if (auto s = tx.run("INSERT INTO iam_users (name, user_id, path, created_ms) VALUES (?, ?, ?, ?)", admin.name,
                        admin.user_id, admin.path, to_ms(now));
        !s)
      return s;
    if (auto s = tx.run(
            "INSERT INTO iam_access_keys (access_key_id, user_name, secret, active, created_ms) VALUES (?, ?, ?, 1, ?)",
            key.access_key_id, key.user_name, key.secret, to_ms(now));
        !s)
      return s;
    if (auto s = tx.run("INSERT INTO iam_user_policies (user_name, policy_arn) VALUES (?, ?)", admin.name,
                        kAdministratorAccessArn);
        !s)
      return s;
    tx.record_change("iam_account", account_id_, store::ChangeKind::kPut);
    bootstrap_ = {true, key};
    return Ok{};
  });
}

Status Iam::reload_directory() {
  auto dir = std::make_shared<Directory>();
  dir->account_id = account_id_;
  Status s = db_.read([&](store::Tx& tx) -> Status {
    auto stmt = tx.prepare(
        "SELECT k.access_key_id, k.secret, u.name, u.user_id, u.path, "
        "EXISTS (SELECT 1 FROM iam_user_policies p WHERE p.user_name = u.name AND p.policy_arn = ?), "
        "EXISTS (SELECT 1 FROM iam_user_policies p WHERE p.user_name = u.name AND p.policy_arn = ?) "
        "FROM iam_access_keys k JOIN iam_users u ON u.name = k.user_name WHERE k.active = 1");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(kAdministratorAccessArn, kReadOnlyAccessArn);
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      User user{stmt->column_string(2), stmt->column_string(3), stmt->column_string(4), {}};
      Principal p;
      p.secret = stmt->column_string(1);
      p.caller = {account_id_, user.name, user.user_id, user_arn(account_id_, user), stmt->column_string(0)};
      p.administrator = stmt->column_int64(5) != 0;
      p.read_only = stmt->column_int64(6) != 0;
      dir->by_access_key.emplace(stmt->column_string(0), std::move(p));
    }
    return Ok{};
  });
  if (!s) return s;
  directory_.store(std::move(dir), std::memory_order_release);
  return Ok{};
}

Result<User> Iam::create_user(std::string_view name, std::string_view path) {
  User user{std::string(name), new_user_id(), std::string(path), clock_.now()};
  return db_.transaction([&](store::Tx& tx) -> Result<User> {
    if (read_user(tx, name).ok())
      return detail::entity_already_exists("User with name " + user.name + " already exists.");
    if (auto s = tx.run("INSERT INTO iam_users (name, user_id, path, created_ms) VALUES (?, ?, ?, ?)", user.name,
                        user.user_id, user.path, to_ms(user.created));
        !s)
      return std::move(s).error();
    tx.record_change("iam_users", user.name, store::ChangeKind::kPut);
    return user;
  });
}

Result<User> Iam::get_user(std::string_view name) {
  return db_.read([&](store::Tx& tx) { return read_user(tx, name); });
}

Result<Page<User>> Iam::list_users(std::string_view path_prefix, std::string_view marker, size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<User>> {
    auto stmt = tx.prepare(
        "SELECT name, user_id, path, created_ms FROM iam_users WHERE name > ? AND substr(path, 1, length(?)) = ? "
        "ORDER BY name LIMIT ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(marker, path_prefix, path_prefix, static_cast<int64_t>(max_items + 1));
    Page<User> page;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      page.items.push_back(User{stmt->column_string(0), stmt->column_string(1), stmt->column_string(2),
                                from_ms(stmt->column_int64(3))});
    }
    if (page.items.size() > max_items) {
      page.items.pop_back();
      page.next_marker = page.items.back().name;
    }
    return page;
  });
}

Status Iam::delete_user(std::string_view name) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto user = read_user(tx, name);
    if (!user) return std::move(user).error();
    auto count = [&](std::string_view sql) -> Result<int64_t> {
      auto stmt = tx.prepare(sql);
      if (!stmt) return std::move(stmt).error();
      stmt->bind_all(user->name);
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      return stmt->column_int64(0);
    };
    auto keys = count("SELECT count(*) FROM iam_access_keys WHERE user_name = ?");
    if (!keys) return std::move(keys).error();
    if (*keys > 0) return delete_conflict("Cannot delete entity, must delete access keys first.");
    auto policies = count("SELECT count(*) FROM iam_user_policies WHERE user_name = ?");
    if (!policies) return std::move(policies).error();
    if (*policies > 0) return delete_conflict("Cannot delete entity, must detach all policies first.");
    if (auto s = tx.run("DELETE FROM iam_users WHERE name = ?", user->name); !s) return s;
    tx.record_change("iam_users", user->name, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Result<AccessKey> Iam::create_access_key(std::string_view user_name) {
  WallTime now = clock_.now();
  return db_.transaction([&](store::Tx& tx) -> Result<AccessKey> {
    auto user = read_user(tx, user_name);
    if (!user) return std::move(user).error();
    auto stmt = tx.prepare("SELECT count(*) FROM iam_access_keys WHERE user_name = ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(user->name);
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (static_cast<size_t>(stmt->column_int64(0)) >= kMaxAccessKeysPerUser)
      return detail::limit_exceeded("AccessKeysPerUser", kMaxAccessKeysPerUser);
    AccessKey key{new_access_key_id(), new_secret_access_key(), user->name, true, now};
    if (auto s = tx.run(
            "INSERT INTO iam_access_keys (access_key_id, user_name, secret, active, created_ms) VALUES (?, ?, ?, 1, ?)",
            key.access_key_id, key.user_name, key.secret, to_ms(now));
        !s)
      return std::move(s).error();
    tx.record_change("iam_access_keys", key.access_key_id, store::ChangeKind::kPut);
    return key;
  });
}

Result<Page<AccessKey>> Iam::list_access_keys(std::string_view user_name, std::string_view marker,
                                              size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<AccessKey>> {
    auto user = read_user(tx, user_name);
    if (!user) return std::move(user).error();
    auto stmt = tx.prepare(
        "SELECT access_key_id, active, created_ms FROM iam_access_keys WHERE user_name = ? AND access_key_id > ? "
        "ORDER BY access_key_id LIMIT ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(user->name, marker, static_cast<int64_t>(max_items + 1));
    Page<AccessKey> page;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      page.items.push_back(AccessKey{stmt->column_string(0), "", user->name, stmt->column_int64(1) != 0,
                                     from_ms(stmt->column_int64(2))});
    }
    if (page.items.size() > max_items) {
      page.items.pop_back();
      page.next_marker = page.items.back().access_key_id;
    }
    return page;
  });
}

Status Iam::delete_access_key(std::string_view user_name, std::string_view access_key_id) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto user = read_user(tx, user_name);
    if (!user) return std::move(user).error();
    if (auto s = tx.run("DELETE FROM iam_access_keys WHERE access_key_id = ? AND user_name = ?", access_key_id,
                        user->name);
        !s)
      return s;
    if (tx.rows_changed() == 0) return no_such_key(access_key_id);
    tx.record_change("iam_access_keys", access_key_id, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Status Iam::attach_user_policy(std::string_view user_name, std::string_view arn) {
  ManagedPolicy policy;
  if (!parse_policy_arn(arn, policy)) return no_such_policy(arn);
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto user = read_user(tx, user_name);
    if (!user) return std::move(user).error();
    // Attaching twice is not an error on AWS.
    if (auto s = tx.run("INSERT OR IGNORE INTO iam_user_policies (user_name, policy_arn) VALUES (?, ?)", user->name,
                        policy_arn(policy));
        !s)
      return s;
    tx.record_change("iam_user_policies", user->name, store::ChangeKind::kPut);
    return Ok{};
  });
}

Status Iam::detach_user_policy(std::string_view user_name, std::string_view arn) {
  ManagedPolicy policy;
  if (!parse_policy_arn(arn, policy)) return no_such_policy(arn);
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto user = read_user(tx, user_name);
    if (!user) return std::move(user).error();
    if (auto s = tx.run("DELETE FROM iam_user_policies WHERE user_name = ? AND policy_arn = ?", user->name,
                        policy_arn(policy));
        !s)
      return s;
    if (tx.rows_changed() == 0) return detail::policy_not_attached(arn);
    tx.record_change("iam_user_policies", user->name, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Result<Page<ManagedPolicy>> Iam::list_attached_user_policies(std::string_view user_name, std::string_view marker,
                                                             size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<ManagedPolicy>> {
    auto user = read_user(tx, user_name);
    if (!user) return std::move(user).error();
    auto stmt = tx.prepare(
        "SELECT policy_arn FROM iam_user_policies WHERE user_name = ? AND policy_arn > ? ORDER BY policy_arn LIMIT ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(user->name, marker, static_cast<int64_t>(max_items + 1));
    Page<ManagedPolicy> page;
    std::string last;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      ManagedPolicy p;
      if (parse_policy_arn(stmt->column_text(0), p)) page.items.push_back(p);
    }
    if (page.items.size() > max_items) {
      page.items.pop_back();
      page.next_marker = std::string(policy_arn(page.items.back()));
    }
    return page;
  });
}

}  // namespace berth::iam
