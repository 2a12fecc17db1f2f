#include "logs/log_store.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <map>
#include <type_traits>
#include <unordered_map>

#include "core/log.h"
#include "store/migrations.h"

namespace berth::logs {
namespace {

using store::Tx;

constexpr std::array kMigrations = {
    store::Migration{1, "create log tables", R"sql(
CREATE TABLE log_groups (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_ms INTEGER NOT NULL,
  retention_days INTEGER,
  stored_bytes INTEGER NOT NULL DEFAULT 0,
  kms_key_id TEXT NOT NULL DEFAULT '',
  log_group_class TEXT NOT NULL DEFAULT 'STANDARD',
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE log_streams (
  id INTEGER PRIMARY KEY,
  group_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  creation_ms INTEGER NOT NULL,
  first_event_ms INTEGER,
  last_event_ms INTEGER,
  last_ingestion_ms INTEGER,
  upload_sequence INTEGER NOT NULL DEFAULT 0,
  UNIQUE (group_id, name)
);
-- An event's position is (ts, id); SQLite appends the rowid (id) to every
-- index, so both indexes are ordered by position within their stream or group.
CREATE TABLE log_events (
  id INTEGER PRIMARY KEY,
  group_id INTEGER NOT NULL,
  stream_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  ingestion_ms INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX log_events_by_stream ON log_events (stream_id, ts);
CREATE INDEX log_events_by_group ON log_events (group_id, ts);
CREATE TABLE shipper_cursors (
  source TEXT PRIMARY KEY,
  cursor TEXT NOT NULL
);
)sql"},
};

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
// FilterLogEvents looks at no more rows than this per call; past it, the
// answer carries a nextToken (as AWS's does when a search runs long).
constexpr int64_t kMaxScannedRows = 200'000;
constexpr int64_t kSweepChunk = 5'000;

Error invalid(std::string message) {
  Error e = Error::invalid(std::string(kInvalidParameter), std::move(message));
  e.http_status = 400;
  return e;
}
Error group_not_found() {
  Error e = Error::not_found(std::string(kNotFound), std::string(kGroupNotFoundText));
  e.http_status = 400;
  return e;
}
Error stream_not_found() {
  Error e = Error::not_found(std::string(kNotFound), std::string(kStreamNotFoundText));
  e.http_status = 400;
  return e;
}

template <class Row, class... Args>
Status each_row(Tx& tx, std::string_view sql, Row&& row, const Args&... args) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(args...);
  for (;;) {
    auto more = stmt->step();
    if (!more) return std::move(more).error();
    if (!*more) return Ok{};
    if constexpr (std::is_void_v<decltype(row(*stmt))>) {
      row(*stmt);
    } else if (!row(*stmt)) {
      return Ok{};  // the callback asked to stop
    }
  }
}

struct GroupRow {
  int64_t id = 0;
  std::optional<int> retention_days;
};

Result<std::optional<GroupRow>> find_group(Tx& tx, std::string_view name) {
  std::optional<GroupRow> out;
  auto s = each_row(
      tx, "SELECT id, retention_days FROM log_groups WHERE name = ?",
      [&](const store::Statement& st) {
        out = GroupRow{st.column_int64(0), std::nullopt};
        if (!st.column_is_null(1)) out->retention_days = static_cast<int>(st.column_int64(1));
      },
      name);
  if (!s) return std::move(s).error();
  return out;
}

Result<GroupRow> require_group(Tx& tx, std::string_view name) {
  auto g = find_group(tx, name);
  if (!g) return std::move(g).error();
  if (!*g) return group_not_found();
  return **g;
}

Result<std::optional<int64_t>> find_stream(Tx& tx, int64_t group_id, std::string_view name) {
  std::optional<int64_t> out;
  auto s = each_row(
      tx, "SELECT id FROM log_streams WHERE group_id = ? AND name = ?",
      [&](const store::Statement& st) { out = st.column_int64(0); }, group_id, name);
  if (!s) return std::move(s).error();
  return out;
}

Result<int64_t> require_stream(Tx& tx, int64_t group_id, std::string_view name) {
  auto s = find_stream(tx, group_id, name);
  if (!s) return std::move(s).error();
  if (!*s) return stream_not_found();
  return **s;
}

// The oldest timestamp a group still keeps at `now_ms`.
int64_t retention_cutoff(const GroupRow& g, int64_t now_ms) {
  if (!g.retention_days) return std::numeric_limits<int64_t>::min();
  return now_ms - int64_t{*g.retention_days} * kDayMs;
}

// Inserts the events (one reused statement) and moves the stream's and
// group's figures; the message bytes added.
Status insert_events(Tx& tx, int64_t group_id, int64_t stream_id, std::span<const InputEvent> events,
                     int64_t ingestion_ms) {
  int64_t bytes = 0;
  if (!events.empty()) {
    auto insert =
        tx.prepare("INSERT INTO log_events (group_id, stream_id, ts, ingestion_ms, message) VALUES (?, ?, ?, ?, ?)");
    if (!insert) return std::move(insert).error();
    int64_t first = events.front().timestamp_ms, last = events.front().timestamp_ms;
    for (const auto& e : events) {
      insert->reset();
      insert->bind_all(group_id, stream_id, e.timestamp_ms, ingestion_ms, e.message);
      if (auto s = insert->run(); !s) return s;
      bytes += static_cast<int64_t>(e.message.size());
      first = std::min(first, e.timestamp_ms);
      last = std::max(last, e.timestamp_ms);
    }
    if (auto s = tx.run("UPDATE log_streams SET first_event_ms = MIN(COALESCE(first_event_ms, ?1), ?1), "
                        "last_event_ms = MAX(COALESCE(last_event_ms, ?2), ?2), last_ingestion_ms = ?3 WHERE id = ?4",
                        first, last, ingestion_ms, stream_id);
        !s)
      return s;
    if (auto s = tx.run("UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?", bytes, group_id); !s)
      return s;
  }
  return tx.run("UPDATE log_streams SET upload_sequence = upload_sequence + 1 WHERE id = ?", stream_id);
}

std::string tags_to_json(const Tags& tags) {
  boost::json::object o;
  for (const auto& [k, v] : tags) o[k] = v;
  return boost::json::serialize(o);
}

Tags tags_from_json(std::string_view text) {
  Tags out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [k, val] : v.get_object())
    if (val.is_string()) out.emplace_back(std::string(k), std::string(val.get_string()));
  std::sort(out.begin(), out.end());
  return out;
}

Error validation(std::string_view value, std::string_view member, std::string_view constraint) {
  return invalid("1 validation error detected: Value '" + std::string(value) + "' at '" + std::string(member) +
                 "' failed to satisfy constraint: " + std::string(constraint));
}

bool group_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == '/' || c == '#';
}

}  // namespace

Status check_group_name(std::string_view name, std::string_view member) {
  if (name.empty()) return validation(name, member, "Member must have length greater than or equal to 1");
  if (name.size() > 512) return validation(name, member, "Member must have length less than or equal to 512");
  if (!std::all_of(name.begin(), name.end(), group_name_char))
    return validation(name, member, "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
  return Ok{};
}

Status check_stream_name(std::string_view name, std::string_view member) {
  if (name.empty()) return validation(name, member, "Member must have length greater than or equal to 1");
  if (name.size() > 512) return validation(name, member, "Member must have length less than or equal to 512");
  if (name.find_first_of(":*") != std::string_view::npos)
    return validation(name, member, "Member must satisfy regular expression pattern: [^:*]*");
  return Ok{};
}

bool valid_retention_days(int64_t days) {
  static constexpr std::array<int64_t, 22> kDays = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                                    365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
  return std::find(kDays.begin(), kDays.end(), days) != kDays.end();
}

// ---- opening, the timer ----

Result<std::shared_ptr<LogStore>> LogStore::open(const std::string& path, LogStoreOptions options) {
  auto db = store::Database::open(path);
  if (!db) return std::move(db).error();
  if (auto s = store::apply_migrations(*db, "logs", kMigrations); !s) return std::move(s).error();
  std::optional<store::Database> reader;
  if (path != ":memory:") {
    auto opened = store::Database::open(path);
    if (!opened) return std::move(opened).error();
    reader.emplace(std::move(*opened));
  }
  auto store = std::make_shared<LogStore>(std::move(*db), std::move(reader), std::move(options));
  store->start_sweeper();
  return store;
}

LogStore::LogStore(store::Database db, std::optional<store::Database> reader, LogStoreOptions options)
    : db_(std::move(db)),
      reader_(std::move(reader)),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()) {}

LogStore::~LogStore() {
  {
    std::lock_guard lock(sweeper_mutex_);
    stopping_ = true;
  }
  sweeper_wake_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

void LogStore::start_sweeper() {
  if (options_.sweep_interval.count() <= 0) return;
  sweeper_ = std::thread([this] {
    std::unique_lock lock(sweeper_mutex_);
    while (!stopping_) {
      sweeper_wake_.wait_for(lock, options_.sweep_interval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      if (auto swept = sweep_expired(); !swept) log::error("logs", "retention sweep: ", swept.error().message);
      lock.lock();
    }
  });
}

int64_t LogStore::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
}

std::string LogStore::group_arn(std::string_view group) const {
  return "arn:aws:logs:" + options_.region + ":" + options_.account_id + ":log-group:" + std::string(group);
}

std::optional<std::string> LogStore::group_from_arn(std::string_view arn) const {
  std::string prefix = group_arn("");
  if (arn.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view name = arn.substr(prefix.size());
  if (name.size() >= 2 && name.substr(name.size() - 2) == ":*") name.remove_suffix(2);
  if (name.empty() || name.find(':') != std::string_view::npos) return std::nullopt;
  return std::string(name);
}

// ---- the driver's interface ----

Status LogStore::create_log_group_if_missing(std::string_view group) {
  if (auto s = check_group_name(group); !s) return s;
  int64_t now = now_ms();
  return db_.transaction([&](Tx& tx) -> Status {
    return tx.run("INSERT INTO log_groups (name, creation_ms) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", group, now);
  });
}

Status LogStore::create_log_stream_if_missing(std::string_view group, std::string_view stream) {
  if (auto s = check_stream_name(stream); !s) return s;
  int64_t now = now_ms();
  return db_.transaction([&](Tx& tx) -> Status {
    auto g = require_group(tx, group);
    if (!g) return std::move(g).error();
    return tx.run(
        "INSERT INTO log_streams (group_id, name, creation_ms) VALUES (?, ?, ?) ON CONFLICT (group_id, name) DO "
        "NOTHING",
        g->id, stream, now);
  });
}

Status LogStore::append_events(std::string_view group, std::string_view stream, std::span<const InputEvent> events,
                               std::string_view source, std::string_view cursor) {
  int64_t now = now_ms();
  return db_.transaction([&](Tx& tx) -> Status {
    auto g = require_group(tx, group);
    if (!g) return std::move(g).error();
    auto s = require_stream(tx, g->id, stream);
    if (!s) return std::move(s).error();
    if (auto st = insert_events(tx, g->id, *s, events, now); !st) return st;
    if (source.empty()) return Ok{};
    return tx.run(
        "INSERT INTO shipper_cursors (source, cursor) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET cursor = "
        "excluded.cursor",
        source, cursor);
  });
}

Result<std::optional<std::string>> LogStore::read_cursor(std::string_view source) {
  return reads().read([&](Tx& tx) -> Result<std::optional<std::string>> {
    std::optional<std::string> out;
    auto s = each_row(
        tx, "SELECT cursor FROM shipper_cursors WHERE source = ?",
        [&](const store::Statement& st) { out = st.column_string(0); }, source);
    if (!s) return std::move(s).error();
    return out;
  });
}

Status LogStore::forget_cursor(std::string_view source) {
  return db_.transaction(
      [&](Tx& tx) -> Status { return tx.run("DELETE FROM shipper_cursors WHERE source = ?", source); });
}

// ---- groups and streams ----

Status LogStore::create_log_group(std::string_view group, const CreateGroupOptions& options) {
  if (auto s = check_group_name(group); !s) return s;
  int64_t now = now_ms();
  return db_.transaction([&](Tx& tx) -> Status {
    auto existing = find_group(tx, group);
    if (!existing) return std::move(existing).error();
    if (*existing) {
      Error e = Error::already_exists(std::string(kAlreadyExists), "The specified log group already exists");
      e.http_status = 400;
      return e;
    }
    return tx.run(
        "INSERT INTO log_groups (name, creation_ms, kms_key_id, log_group_class, tags) VALUES (?, ?, ?, ?, ?)", group,
        now, options.kms_key_id, options.log_group_class, tags_to_json(options.tags));
  });
}

Status LogStore::delete_log_group(std::string_view group) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto g = require_group(tx, group);
    if (!g) return std::move(g).error();
    for (auto sql : {"DELETE FROM log_events WHERE group_id = ?", "DELETE FROM log_streams WHERE group_id = ?",
                     "DELETE FROM log_groups WHERE id = ?"})
      if (auto s = tx.run(sql, g->id); !s) return s;
    return Ok{};
  });
}

namespace {
constexpr std::string_view kGroupColumns =
    "SELECT name, creation_ms, retention_days, stored_bytes, kms_key_id, log_group_class FROM log_groups";

LogGroupInfo group_from_row(const store::Statement& st) {
  LogGroupInfo g;
  g.name = st.column_string(0);
  g.creation_ms = st.column_int64(1);
  if (!st.column_is_null(2)) g.retention_days = static_cast<int>(st.column_int64(2));
  g.stored_bytes = st.column_int64(3);
  g.kms_key_id = st.column_string(4);
  g.log_group_class = st.column_string(5);
  return g;
}

constexpr std::string_view kStreamColumns =
    "SELECT name, creation_ms, first_event_ms, last_event_ms, last_ingestion_ms, upload_sequence, "
    "COALESCE(last_event_ms, 0) FROM log_streams";

LogStreamInfo stream_from_row(const store::Statement& st) {
  LogStreamInfo s;
  s.name = st.column_string(0);
  s.creation_ms = st.column_int64(1);
  s.first_event_ms = st.column_int64_opt(2);
  s.last_event_ms = st.column_int64_opt(3);
  s.last_ingestion_ms = st.column_int64_opt(4);
  s.upload_sequence = st.column_int64(5);
  return s;
}
}  // namespace

Result<LogGroupInfo> LogStore::log_group(std::string_view group) {
  return reads().read([&](Tx& tx) -> Result<LogGroupInfo> {
    std::optional<LogGroupInfo> out;
    auto s = each_row(
        tx, std::string(kGroupColumns) + " WHERE name = ?",
        [&](const store::Statement& st) { out = group_from_row(st); }, group);
    if (!s) return std::move(s).error();
    if (!out) return group_not_found();
    return std::move(*out);
  });
}

Result<Page<LogGroupInfo>> LogStore::describe_log_groups(const GroupQuery& q) {
  return reads().read([&](Tx& tx) -> Result<Page<LogGroupInfo>> {
    Page<LogGroupInfo> page;
    std::string sql = std::string(kGroupColumns) +
                      " WHERE name > ?1 AND substr(name, 1, length(?2)) = ?2 AND instr(lower(name), lower(?3)) > 0 "
                      "ORDER BY name LIMIT ?4";
    auto s = each_row(
        tx, sql, [&](const store::Statement& st) { page.items.push_back(group_from_row(st)); }, q.after, q.name_prefix,
        q.name_pattern, q.limit + 1);
    if (!s) return std::move(s).error();
    if (page.items.size() > static_cast<size_t>(q.limit)) {
      page.items.pop_back();
      page.more = true;
    }
    return page;
  });
}

Status LogStore::create_log_stream(std::string_view group, std::string_view stream) {
  if (auto s = check_stream_name(stream); !s) return s;
  int64_t now = now_ms();
  return db_.transaction([&](Tx& tx) -> Status {
    auto g = require_group(tx, group);
    if (!g) return std::move(g).error();
    auto existing = find_stream(tx, g->id, stream);
    if (!existing) return std::move(existing).error();
    if (*existing) {
      Error e = Error::already_exists(std::string(kAlreadyExists), "The specified log stream already exists");
      e.http_status = 400;
      return e;
    }
    return tx.run("INSERT INTO log_streams (group_id, name, creation_ms) VALUES (?, ?, ?)", g->id, stream, now);
  });
}

Status LogStore::delete_log_stream(std::string_view group, std::string_view stream) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto g = require_group(tx, group);
    if (!g) return std::move(g).error();
    auto s = require_stream(tx, g->id, stream);
    if (!s) return std::move(s).error();
    int64_t bytes = 0;
    auto sum = each_row(
        tx, "SELECT COALESCE(SUM(length(CAST(message AS BLOB))), 0) FROM log_events WHERE stream_id = ?",
        [&](const store::Statement& st) { bytes = st.column_int64(0); }, *s);
    if (!sum) return sum;
    if (auto st = tx.run("DELETE FROM log_events WHERE stream_id = ?", *s); !st) return st;
    if (auto st = tx.run("DELETE FROM log_streams WHERE id = ?", *s); !st) return st;
    return tx.run("UPDATE log_groups SET stored_bytes = MAX(0, stored_bytes - ?) WHERE id = ?", bytes, g->id);
  });
}

Result<Page<LogStreamInfo>> LogStore::describe_log_streams(const StreamQuery& q) {
  return reads().read([&](Tx& tx) -> Result<Page<LogStreamInfo>> {
    auto g = require_group(tx, q.group);
    if (!g) return std::move(g).error();
    Page<LogStreamInfo> page;
    std::string sql = std::string(kStreamColumns) + " WHERE group_id = ?1 AND substr(name, 1, length(?2)) = ?2";
    const char* cmp = q.descending ? "<" : ">";
    const char* dir = q.descending ? " DESC" : "";
    if (q.order_by_last_event) {
      if (q.after) sql += std::string(" AND (COALESCE(last_event_ms, 0), name) ") + cmp + " (?3, ?4)";
      sql += std::string(" ORDER BY COALESCE(last_event_ms, 0)") + dir + ", name" + dir;
    } else {
      if (q.after) sql += std::string(" AND name ") + cmp + " ?4";
      sql += std::string(" ORDER BY name") + dir;
    }
    sql += " LIMIT ?5";
    int64_t after_key = q.after ? q.after->first : 0;
    std::string after_name = q.after ? q.after->second : "";
    auto s = each_row(
        tx, sql, [&](const store::Statement& st) { page.items.push_back(stream_from_row(st)); }, g->id, q.name_prefix,
        after_key, after_name, q.limit + 1);
    if (!s) return std::move(s).error();
    if (page.items.size() > static_cast<size_t>(q.limit)) {
      page.items.pop_back();
      page.more = true;
    }
    return page;
  });
}

Status LogStore::put_retention_policy(std::string_view group, std::optional<int> days) {
  auto s = db_.transaction([&](Tx& tx) -> Status {
    auto g = require_group(tx, group);
    if (!g) return std::move(g).error();
    return tx.run("UPDATE log_groups SET retention_days = ? WHERE id = ?", days, g->id);
  });
  if (!s || !days) return s;
  auto swept = sweep_expired();
  if (!swept) return std::move(swept).error();
  return Ok{};
}

Result<Tags> LogStore::tags(std::string_view group) {
  return reads().read([&](Tx& tx) -> Result<Tags> {
    std::optional<Tags> out;
    auto s = each_row(
        tx, "SELECT tags FROM log_groups WHERE name = ?",
        [&](const store::Statement& st) { out = tags_from_json(st.column_text(0)); }, group);
    if (!s) return std::move(s).error();
    if (!out) return group_not_found();
    return std::move(*out);
  });
}

namespace {
// Reads, changes and writes a group's tags in one transaction.
template <class Change>
Status change_tags(store::Database& db, std::string_view group, Change&& change) {
  return db.transaction([&](Tx& tx) -> Status {
    std::optional<Tags> current;
    auto s = each_row(
        tx, "SELECT tags FROM log_groups WHERE name = ?",
        [&](const store::Statement& st) { current = tags_from_json(st.column_text(0)); }, group);
    if (!s) return s;
    if (!current) return group_not_found();
    std::map<std::string, std::string> merged(current->begin(), current->end());
    if (auto st = change(merged); !st) return st;
    Tags out(merged.begin(), merged.end());
    return tx.run("UPDATE log_groups SET tags = ? WHERE name = ?", tags_to_json(out), group);
  });
}
}  // namespace

Status LogStore::tag(std::string_view group, const Tags& tags) {
  return change_tags(db_, group, [&](std::map<std::string, std::string>& merged) -> Status {
    for (const auto& [k, v] : tags) merged[k] = v;
    if (merged.size() > 50) {
      Error e = Error::invalid("TooManyTagsException", "A resource can have no more than 50 tags.");  // unverified
      e.http_status = 400;
      return e;
    }
    return Ok{};
  });
}

Status LogStore::untag(std::string_view group, const std::vector<std::string>& keys) {
  return change_tags(db_, group, [&](std::map<std::string, std::string>& merged) -> Status {
    for (const auto& k : keys) merged.erase(k);
    return Ok{};
  });
}

// ---- events ----

Result<PutOutcome> LogStore::put_log_events(std::string_view group, std::string_view stream,
                                            std::span<const InputEvent> events) {
  if (events.empty())
    return invalid(
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must "
        "have length greater than or equal to 1");
  if (events.size() > kMaxBatchEvents)
    return invalid(
        "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have "
        "length less than or equal to 10000");
  int64_t total = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    int64_t size = static_cast<int64_t>(events[i].message.size());
    // Unverified wording of both size texts (as the SDKs' issues quote them).
    if (size > kMaxEventBytes)
      return invalid("Log event too large: " + std::to_string(size + kEventOverheadBytes) + " bytes exceeds limit of " +
                     std::to_string(kMaxEventBytes + kEventOverheadBytes));
    total += size + kEventOverheadBytes;
    if (i > 0 && events[i].timestamp_ms < events[i - 1].timestamp_ms)
      return invalid("Log events in a single PutLogEvents request must be in chronological order.");
  }
  if (total > kMaxBatchBytes)
    return invalid("Upload too large: " + std::to_string(total) + " bytes exceeds limit of " +
                   std::to_string(kMaxBatchBytes));
  if (events.back().timestamp_ms - events.front().timestamp_ms > kMaxBatchSpanMs)
    return invalid("Log events in a single PutLogEvents request cannot span more than 24 hours.");  // unverified

  int64_t now = now_ms();
  return db_.transaction([&](Tx& tx) -> Result<PutOutcome> {
    auto g = require_group(tx, group);
    if (!g) return std::move(g).error();
    auto s = require_stream(tx, g->id, stream);
    if (!s) return std::move(s).error();
    // The batch is in order, so the refused ones are a prefix (too old,
    // expired) and a suffix (too new).
    PutOutcome out;
    size_t begin = 0, end = events.size();
    int64_t cutoff = retention_cutoff(*g, now);
    for (size_t i = 0; i < events.size(); ++i) {
      int64_t ts = events[i].timestamp_ms;
      if (ts < now - kTooOldMs) {
        out.rejected.too_old_end = static_cast<int>(i);
        begin = i + 1;
      }
      if (ts < cutoff) {
        out.rejected.expired_end = static_cast<int>(i);
        begin = i + 1;
      }
      if (ts > now + kTooNewMs && end == events.size()) {
        out.rejected.too_new_start = static_cast<int>(i);
        end = i;
      }
    }
    if (begin > end) begin = end;
    if (auto st = insert_events(tx, g->id, *s, events.subspan(begin, end - begin), now); !st)
      return std::move(st).error();
    auto seq = each_row(
        tx, "SELECT upload_sequence FROM log_streams WHERE id = ?",
        [&](const store::Statement& st) { out.upload_sequence = st.column_int64(0); }, *s);
    if (!seq) return std::move(seq).error();
    return out;
  });
}

Result<EventsPage> LogStore::get_log_events(const GetEventsQuery& q) {
  int64_t now = now_ms();
  return reads().read([&](Tx& tx) -> Result<EventsPage> {
    auto g = require_group(tx, q.group);
    if (!g) return std::move(g).error();
    auto stream = require_stream(tx, g->id, q.stream);
    if (!stream) return std::move(stream).error();
    int64_t lo = std::max(q.start_ms.value_or(0), retention_cutoff(*g, now));
    int64_t hi = q.end_ms.value_or(std::numeric_limits<int64_t>::max());

    bool forward = q.forward.has_value() || (!q.backward && q.start_from_head);
    Position from = q.forward    ? *q.forward
                    : q.backward ? *q.backward
                    : forward    ? Position{std::numeric_limits<int64_t>::min(), 0}
                                 : Position{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()};
    std::string sql =
        "SELECT id, ts, ingestion_ms, message FROM log_events WHERE stream_id = ?1 AND ts >= ?2 AND ts < ?3 AND ";
    sql += forward ? "(ts, id) > (?4, ?5) ORDER BY ts, id" : "(ts, id) < (?4, ?5) ORDER BY ts DESC, id DESC";
    sql += " LIMIT ?6";
    EventsPage page;
    int64_t bytes = 0;
    auto s = each_row(
        tx, sql,
        [&](const store::Statement& st) {
          std::string_view message = st.column_text(3);
          bytes += static_cast<int64_t>(message.size()) + kEventOverheadBytes;
          if (bytes > kMaxPageBytes && !page.events.empty()) return false;
          page.events.push_back(
              OutputEvent{st.column_int64(1), std::string(message), st.column_int64(2), st.column_int64(0), {}});
          return true;
        },
        *stream, lo, hi, from.timestamp_ms, from.id, q.limit);
    if (!s) return std::move(s).error();
    if (!forward) std::reverse(page.events.begin(), page.events.end());
    if (page.events.empty()) {
      // Nothing (more) this way: the same position comes back, so a reader
      // polling with the forward token sees later events when they come.
      Position at = (q.forward || q.backward) ? from : Position{0, 0};
      page.forward = page.backward = at;
    } else {
      page.forward = {page.events.back().timestamp_ms, page.events.back().id};
      page.backward = {page.events.front().timestamp_ms, page.events.front().id};
    }
    return page;
  });
}

Result<FilterPage> LogStore::filter_log_events(const FilterQuery& q, const FilterPattern& pattern) {
  int64_t now = now_ms();
  return reads().read([&](Tx& tx) -> Result<FilterPage> {
    auto g = require_group(tx, q.group);
    if (!g) return std::move(g).error();
    FilterPage page;
    // The streams searched, by id.
    std::unordered_map<int64_t, std::string> streams;
    auto s = each_row(
        tx, "SELECT id, name FROM log_streams WHERE group_id = ?1 AND substr(name, 1, length(?2)) = ?2 ORDER BY name",
        [&](const store::Statement& st) {
          std::string name = st.column_string(1);
          if (!q.stream_names.empty() &&
              std::find(q.stream_names.begin(), q.stream_names.end(), name) == q.stream_names.end())
            return;
          page.searched_streams.push_back(name);
          streams.emplace(st.column_int64(0), std::move(name));
        },
        g->id, q.stream_prefix);
    if (!s) return std::move(s).error();
    bool all_streams = q.stream_names.empty() && q.stream_prefix.empty();

    int64_t lo = std::max(q.start_ms.value_or(0), retention_cutoff(*g, now));
    int64_t hi = q.end_ms.value_or(std::numeric_limits<int64_t>::max());
    Position after = q.after.value_or(Position{std::numeric_limits<int64_t>::min(), 0});
    int64_t scanned = 0, bytes = 0;
    s = each_row(
        tx,
        "SELECT id, stream_id, ts, ingestion_ms, message FROM log_events WHERE group_id = ?1 AND ts >= ?2 AND "
        "ts <= ?3 AND (ts, id) > (?4, ?5) ORDER BY ts, id",
        [&](const store::Statement& st) {
          Position at{st.column_int64(2), st.column_int64(0)};
          auto stream = streams.find(st.column_int64(1));
          bool wanted = stream != streams.end() || all_streams;
          std::string_view message = st.column_text(4);
          if (wanted && pattern.matches(message)) {
            int64_t size = static_cast<int64_t>(message.size()) + kEventOverheadBytes;
            if (!page.events.empty() &&
                (page.events.size() >= static_cast<size_t>(q.limit) || bytes + size > kMaxPageBytes)) {
              // One more matches: the next page starts after the last one given.
              page.next = Position{page.events.back().timestamp_ms, page.events.back().id};
              return false;
            }
            bytes += size;
            page.events.push_back(OutputEvent{at.timestamp_ms, std::string(message), st.column_int64(3), at.id,
                                              stream != streams.end() ? stream->second : std::string()});
          }
          if (++scanned >= kMaxScannedRows) {
            page.next = at;
            return false;
          }
          return true;
        },
        g->id, lo, hi, after.timestamp_ms, after.id);
    if (!s) return std::move(s).error();
    return page;
  });
}

Result<int64_t> LogStore::sweep_expired() {
  int64_t now = now_ms();
  auto groups = reads().read([&](Tx& tx) -> Result<std::vector<GroupRow>> {
    std::vector<GroupRow> out;
    auto s = each_row(tx, "SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL",
                      [&](const store::Statement& st) {
                        out.push_back(GroupRow{st.column_int64(0), static_cast<int>(st.column_int64(1))});
                      });
    if (!s) return std::move(s).error();
    return out;
  });
  if (!groups) return std::move(groups).error();
  int64_t removed = 0;
  for (const auto& g : *groups) {
    int64_t cutoff = retention_cutoff(g, now);
    // In chunks, so appends are never held up long.
    for (;;) {
      auto chunk = db_.transaction([&](Tx& tx) -> Result<int64_t> {
        std::vector<int64_t> ids;
        int64_t bytes = 0;
        auto s = each_row(
            tx, "SELECT id, length(CAST(message AS BLOB)) FROM log_events WHERE group_id = ? AND ts < ? LIMIT ?",
            [&](const store::Statement& st) {
              ids.push_back(st.column_int64(0));
              bytes += st.column_int64(1);
            },
            g.id, cutoff, kSweepChunk);
        if (!s) return std::move(s).error();
        auto del = tx.prepare("DELETE FROM log_events WHERE id = ?");
        if (!del) return std::move(del).error();
        for (int64_t id : ids) {
          del->reset();
          del->bind_all(id);
          if (auto st = del->run(); !st) return std::move(st).error();
        }
        if (!ids.empty())
          if (auto st =
                  tx.run("UPDATE log_groups SET stored_bytes = MAX(0, stored_bytes - ?) WHERE id = ?", bytes, g.id);
              !st)
            return std::move(st).error();
        return static_cast<int64_t>(ids.size());
      });
      if (!chunk) return std::move(chunk).error();
      removed += *chunk;
      if (*chunk < kSweepChunk) break;
    }
  }
  return removed;
}

}  // namespace berth::logs
