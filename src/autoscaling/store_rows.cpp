#include "autoscaling/store_rows.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "store/migrations.h"

namespace berth::autoscaling {
namespace {

constexpr store::Migration kMigrations[] = {
    {1, "scalable targets, policies, scheduled actions, activities, tags", R"sql(
CREATE TABLE autoscaling_targets (
  resource_id TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE autoscaling_policies (
  arn TEXT PRIMARY KEY, resource_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
  UNIQUE (resource_id, name));
CREATE TABLE autoscaling_scheduled_actions (
  arn TEXT PRIMARY KEY, resource_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, next_run REAL,
  UNIQUE (resource_id, name));
CREATE INDEX autoscaling_scheduled_by_next_run ON autoscaling_scheduled_actions(next_run);
CREATE TABLE autoscaling_activities (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, resource_id TEXT NOT NULL, scaled INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX autoscaling_activities_by_target ON autoscaling_activities(resource_id, seq);
CREATE TABLE autoscaling_tags (
  arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
)sql"},
};

json::object parse_object(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

std::string str(const json::object& doc, std::string_view key) {
  auto it = doc.find(key);
  return it != doc.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// Runs sql with args and collects column `column` of each row as a JSON object.
template <class... Args>
Result<std::vector<json::object>> docs(store::Tx& tx, std::string_view sql, int column, const Args&... args) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(args...);
  std::vector<json::object> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back(parse_object(stmt->column_text(column)));
  }
}

Result<std::vector<TargetRow>> target_rows(store::Tx& tx, std::string_view where, std::string_view key) {
  std::string sql = "SELECT doc, state FROM autoscaling_targets " + std::string(where) + " ORDER BY rowid";
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  if (!key.empty()) stmt->bind_text(1, key);
  std::vector<TargetRow> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back({parse_object(stmt->column_text(0)), parse_object(stmt->column_text(1))});
  }
}

Result<std::vector<ScheduledRow>> scheduled_rows(store::Tx& tx, std::string_view sql, auto bind) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  bind(*stmt);
  std::vector<ScheduledRow> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back({parse_object(stmt->column_text(0)), stmt->column_double_opt(1)});
  }
}

template <class T>
std::optional<T> first(std::vector<T>&& rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

}  // namespace

Status prepare_autoscaling_store(store::Database& db) { return store::apply_migrations(db, "autoscaling", kMigrations); }

Result<std::optional<TargetRow>> find_target(store::Tx& tx, std::string_view resource_id) {
  auto rows = target_rows(tx, "WHERE resource_id = ?", resource_id);
  if (!rows) return std::move(rows).error();
  return first(std::move(*rows));
}

Result<std::optional<TargetRow>> find_target_by_arn(store::Tx& tx, std::string_view arn) {
  auto rows = target_rows(tx, "WHERE arn = ?", arn);
  if (!rows) return std::move(rows).error();
  return first(std::move(*rows));
}

Result<std::vector<TargetRow>> all_targets(store::Tx& tx) { return target_rows(tx, "", ""); }

Status write_target(store::Tx& tx, const TargetRow& row) {
  std::string id = str(row.doc, "ResourceId");
  tx.record_change("autoscaling_targets", id, store::ChangeKind::kPut);
  return tx.run(
      "INSERT INTO autoscaling_targets(resource_id, arn, doc, state) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(resource_id) DO UPDATE SET doc = excluded.doc, state = excluded.state",
      id, str(row.doc, "ScalableTargetARN"), json::serialize(row.doc), json::serialize(row.state));
}

Status delete_target(store::Tx& tx, std::string_view resource_id) {
  auto target = find_target(tx, resource_id);
  if (!target) return std::move(target).error();
  if (*target) {
    if (auto s = tx.run("DELETE FROM autoscaling_tags WHERE arn = ?", str((*target)->doc, "ScalableTargetARN")); !s)
      return s;
  }
  for (std::string_view table : {"autoscaling_policies", "autoscaling_scheduled_actions", "autoscaling_targets"}) {
    if (auto s = tx.run("DELETE FROM " + std::string(table) + " WHERE resource_id = ?", resource_id); !s) return s;
  }
  tx.record_change("autoscaling_targets", resource_id, store::ChangeKind::kDelete);
  return Ok{};
}

Result<std::optional<json::object>> find_policy(store::Tx& tx, std::string_view resource_id, std::string_view name) {
  auto rows = docs(tx, "SELECT doc FROM autoscaling_policies WHERE resource_id = ? AND name = ?", 0, resource_id, name);
  if (!rows) return std::move(rows).error();
  return first(std::move(*rows));
}

Result<std::optional<json::object>> find_policy_by_arn(store::Tx& tx, std::string_view arn) {
  auto rows = docs(tx, "SELECT doc FROM autoscaling_policies WHERE arn = ?", 0, arn);
  if (!rows) return std::move(rows).error();
  return first(std::move(*rows));
}

Result<std::vector<json::object>> policies_of(store::Tx& tx, std::optional<std::string_view> resource_id) {
  if (resource_id) return docs(tx, "SELECT doc FROM autoscaling_policies WHERE resource_id = ? ORDER BY rowid", 0, *resource_id);
  return docs(tx, "SELECT doc FROM autoscaling_policies ORDER BY rowid", 0);
}

Status write_policy(store::Tx& tx, const json::object& doc) {
  tx.record_change("autoscaling_policies", str(doc, "PolicyARN"), store::ChangeKind::kPut);
  return tx.run(
      "INSERT INTO autoscaling_policies(arn, resource_id, name, doc) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(arn) DO UPDATE SET doc = excluded.doc",
      str(doc, "PolicyARN"), str(doc, "ResourceId"), str(doc, "PolicyName"), json::serialize(doc));
}

Status delete_policy(store::Tx& tx, std::string_view arn) {
  tx.record_change("autoscaling_policies", arn, store::ChangeKind::kDelete);
  return tx.run("DELETE FROM autoscaling_policies WHERE arn = ?", arn);
}

Result<std::optional<ScheduledRow>> find_scheduled(store::Tx& tx, std::string_view resource_id, std::string_view name) {
  auto rows = scheduled_rows(tx, "SELECT doc, next_run FROM autoscaling_scheduled_actions WHERE resource_id = ? AND name = ?",
                             [&](store::Statement& s) { s.bind_all(resource_id, name); });
  if (!rows) return std::move(rows).error();
  return first(std::move(*rows));
}

Result<std::vector<ScheduledRow>> scheduled_of(store::Tx& tx, std::optional<std::string_view> resource_id) {
  if (resource_id)
    return scheduled_rows(tx, "SELECT doc, next_run FROM autoscaling_scheduled_actions WHERE resource_id = ? ORDER BY rowid",
                          [&](store::Statement& s) { s.bind_all(*resource_id); });
  return scheduled_rows(tx, "SELECT doc, next_run FROM autoscaling_scheduled_actions ORDER BY rowid",
                        [](store::Statement&) {});
}

Result<std::vector<ScheduledRow>> due_scheduled(store::Tx& tx, double now) {
  return scheduled_rows(
      tx, "SELECT doc, next_run FROM autoscaling_scheduled_actions WHERE next_run <= ? ORDER BY next_run, rowid",
      [&](store::Statement& s) { s.bind_all(now); });
}

Status write_scheduled(store::Tx& tx, const ScheduledRow& row) {
  std::string arn = str(row.doc, "ScheduledActionARN");
  tx.record_change("autoscaling_scheduled_actions", arn, store::ChangeKind::kPut);
  auto stmt = tx.prepare(
      "INSERT INTO autoscaling_scheduled_actions(arn, resource_id, name, doc, next_run) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT(arn) DO UPDATE SET doc = excluded.doc, next_run = excluded.next_run");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(arn, str(row.doc, "ResourceId"), str(row.doc, "ScheduledActionName"), json::serialize(row.doc));
  if (row.next_run) stmt->bind_double(5, *row.next_run);
  else stmt->bind_null(5);
  return stmt->run();
}

Status delete_scheduled(store::Tx& tx, std::string_view arn) {
  tx.record_change("autoscaling_scheduled_actions", arn, store::ChangeKind::kDelete);
  return tx.run("DELETE FROM autoscaling_scheduled_actions WHERE arn = ?", arn);
}

Status add_activity(store::Tx& tx, const json::object& doc, bool scaled) {
  std::string id = str(doc, "ResourceId");
  if (auto s = tx.run("INSERT INTO autoscaling_activities(resource_id, scaled, doc) VALUES (?, ?, ?)", id,
                      static_cast<int64_t>(scaled), json::serialize(doc));
      !s)
    return s;
  return tx.run(
      "DELETE FROM autoscaling_activities WHERE resource_id = ? AND seq NOT IN "
      "(SELECT seq FROM autoscaling_activities WHERE resource_id = ? ORDER BY seq DESC LIMIT ?)",
      id, id, kMaxActivities);
}

Result<std::vector<json::object>> activities_of(store::Tx& tx, std::optional<std::string_view> resource_id,
                                                bool include_not_scaled) {
  int64_t min_scaled = include_not_scaled ? 0 : 1;
  if (resource_id)
    return docs(tx, "SELECT doc FROM autoscaling_activities WHERE resource_id = ? AND scaled >= ? ORDER BY seq DESC", 0,
                *resource_id, min_scaled);
  return docs(tx, "SELECT doc FROM autoscaling_activities WHERE scaled >= ? ORDER BY seq DESC", 0, min_scaled);
}

Result<std::vector<std::pair<std::string, std::string>>> tags_of(store::Tx& tx, std::string_view arn) {
  auto stmt = tx.prepare("SELECT key, value FROM autoscaling_tags WHERE arn = ? ORDER BY key");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(arn);
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.emplace_back(stmt->column_string(0), stmt->column_string(1));
  }
}

Status put_tag(store::Tx& tx, std::string_view arn, std::string_view key, std::string_view value) {
  return tx.run(
      "INSERT INTO autoscaling_tags(arn, key, value) VALUES (?, ?, ?) ON CONFLICT(arn, key) DO UPDATE SET value = "
      "excluded.value",
      arn, key, value);
}

Status delete_tag(store::Tx& tx, std::string_view arn, std::string_view key) {
  return tx.run("DELETE FROM autoscaling_tags WHERE arn = ? AND key = ?", arn, key);
}

}  // namespace berth::autoscaling
