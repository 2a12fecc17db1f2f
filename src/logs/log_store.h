// logs/log_store: CloudWatch Logs' log groups, log streams and their events
// in a SQLite database of their own (DATA/logs/logs.db), apart from the
// daemon's state database, so a chatty container never slows the control
// plane's writes.
//
//   awslogs driver ─ append_events(group, stream, events, source, cursor) ─┐
//   PutLogEvents ──── put_log_events(...)  (AWS's batch rules first) ──────┤ one transaction per batch
//                                                                          v
//   log_groups ─< log_streams ─< log_events (ts, id)   shipper_cursors (source -> cursor)
//                                    ^ by (stream, ts, id): GetLogEvents
//                                    ^ by (group, ts, id): FilterLogEvents, the retention sweep
//
// Events older than a group's retention are never read, and a sweep
// (sweep_expired, run by a timer and right after PutRetentionPolicy)
// deletes them. Every method is thread-safe (one connection for writes,
// one for reads, each with its mutex).
// Errors carry CloudWatch Logs' codes and texts.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "logs/filter_pattern.h"
#include "store/store.h"

namespace berth::logs {

inline constexpr std::string_view kInvalidParameter = "InvalidParameterException";
inline constexpr std::string_view kNotFound = "ResourceNotFoundException";
inline constexpr std::string_view kAlreadyExists = "ResourceAlreadyExistsException";
inline constexpr std::string_view kGroupNotFoundText = "The specified log group does not exist.";
inline constexpr std::string_view kStreamNotFoundText = "The specified log stream does not exist.";

// PutLogEvents' limits (AWS's quotas).
inline constexpr size_t kMaxBatchEvents = 10'000;
inline constexpr int64_t kMaxBatchBytes = 1'048'576;
inline constexpr int64_t kEventOverheadBytes = 26;
// AWS's quota for one event was 256 KB and (unverified) is 1 MB since 2025; the
// awslogs driver cuts its lines at 256 KB anyway.
inline constexpr int64_t kMaxEventBytes = 1'048'576 - 26;
inline constexpr int64_t kMaxBatchSpanMs = 24LL * 3600 * 1000;
inline constexpr int64_t kTooOldMs = 14LL * 24 * 3600 * 1000;
inline constexpr int64_t kTooNewMs = 2LL * 3600 * 1000;
// GetLogEvents' and FilterLogEvents' page bound besides `limit`.
inline constexpr int64_t kMaxPageBytes = 1'048'576;
inline constexpr int kDefaultEventsLimit = 10'000;

using Tags = std::vector<std::pair<std::string, std::string>>;  // sorted by key

struct InputEvent {
  int64_t timestamp_ms = 0;
  std::string message;
};

struct LogGroupInfo {
  std::string name;
  int64_t creation_ms = 0;
  std::optional<int> retention_days;
  int64_t stored_bytes = 0;
  std::string kms_key_id;
  std::string log_group_class = "STANDARD";
};

struct LogStreamInfo {
  std::string name;
  int64_t creation_ms = 0;
  std::optional<int64_t> first_event_ms;
  std::optional<int64_t> last_event_ms;
  std::optional<int64_t> last_ingestion_ms;
  int64_t upload_sequence = 0;  // PutLogEvents batches so far
};

struct OutputEvent {
  int64_t timestamp_ms = 0;
  std::string message;
  int64_t ingestion_ms = 0;
  int64_t id = 0;      // unique in the store; with the timestamp, the event's position
  std::string stream;  // FilterLogEvents only
};

// An event's place in a stream's (or group's) order: (timestamp, id).
struct Position {
  int64_t timestamp_ms = 0;
  int64_t id = 0;
  bool operator==(const Position&) const = default;
};

struct CreateGroupOptions {
  Tags tags;
  std::string kms_key_id;
  std::string log_group_class = "STANDARD";
};

struct GroupQuery {
  std::string name_prefix{};
  std::string name_pattern{};  // case-insensitive substring (logGroupNamePattern)
  std::string after{};         // names after this one (paging)
  int limit = 50;
};

struct StreamQuery {
  std::string group{};
  std::string name_prefix{};
  bool order_by_last_event = false;
  bool descending = false;
  std::optional<std::pair<int64_t, std::string>> after{};  // (sort key, name) of the last one seen
  int limit = 50;
};

template <class T>
struct Page {
  std::vector<T> items{};
  bool more = false;  // another page exists after the last item
};

struct GetEventsQuery {
  std::string group{};
  std::string stream{};
  std::optional<int64_t> start_ms{};  // inclusive
  std::optional<int64_t> end_ms{};    // exclusive
  int limit = kDefaultEventsLimit;
  bool start_from_head = false;
  // Paging: after `forward` or before `backward`; neither: the head or tail.
  std::optional<Position> forward{};
  std::optional<Position> backward{};
};

struct EventsPage {
  std::vector<OutputEvent> events{};
  Position forward{};   // where the next forward page starts (after it)
  Position backward{};  // where the next backward page ends (before it)
};

struct FilterQuery {
  std::string group{};
  std::vector<std::string> stream_names{};  // empty: all (or those with the prefix)
  std::string stream_prefix{};
  std::optional<int64_t> start_ms{};  // inclusive
  std::optional<int64_t> end_ms{};    // inclusive
  int limit = kDefaultEventsLimit;
  std::optional<Position> after{};
};

struct FilterPage {
  std::vector<OutputEvent> events;
  std::vector<std::string> searched_streams;
  std::optional<Position> next;  // set when the search did not reach the end
};

// What PutLogEvents refused (indexes into the batch), as rejectedLogEventsInfo.
struct RejectedEvents {
  std::optional<int> too_new_start;
  std::optional<int> too_old_end;
  std::optional<int> expired_end;
  bool any() const { return too_new_start || too_old_end || expired_end; }
};

struct PutOutcome {
  RejectedEvents rejected;
  int64_t upload_sequence = 0;  // the stream's batches so far (nextSequenceToken)
};

struct LogStoreOptions {
  std::string region = "us-east-1";
  std::string account_id;
  const Clock* clock = nullptr;  // null: the system clock
  // How often the retention sweep runs; zero: only when sweep_expired() is called.
  std::chrono::milliseconds sweep_interval{60'000};
};

class LogStore {
 public:
  // Opens (creating) the database file ("<data dir>/logs/logs.db" for the
  // daemon; ":memory:" in tests) and starts the retention timer.
  static Result<std::shared_ptr<LogStore>> open(const std::string& path, LogStoreOptions options);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // ---- the awslogs driver's interface ----
  Status create_log_group_if_missing(std::string_view group);
  // kNotFound "The specified log group does not exist." without the group.
  Status create_log_stream_if_missing(std::string_view group, std::string_view stream);
  // Appends in the given order (timestamps non-decreasing) and records
  // `cursor` under `source` in the same transaction, so a shipper killed
  // at any moment resumes right after its last acknowledged batch. No
  // batch rules (the driver's events are current). kNotFound when the
  // group or stream is gone.
  Status append_events(std::string_view group, std::string_view stream, std::span<const InputEvent> events,
                       std::string_view source, std::string_view cursor);
  Result<std::optional<std::string>> read_cursor(std::string_view source);
  Status forget_cursor(std::string_view source);

  // ---- the API's operations ----
  Status create_log_group(std::string_view group, const CreateGroupOptions& options);
  Status delete_log_group(std::string_view group);
  Result<LogGroupInfo> log_group(std::string_view group);
  Result<Page<LogGroupInfo>> describe_log_groups(const GroupQuery& query);
  Status create_log_stream(std::string_view group, std::string_view stream);
  Status delete_log_stream(std::string_view group, std::string_view stream);
  Result<Page<LogStreamInfo>> describe_log_streams(const StreamQuery& query);
  // nullopt: keep events forever. Expired events are swept before it returns.
  Status put_retention_policy(std::string_view group, std::optional<int> days);
  Result<Tags> tags(std::string_view group);
  Status tag(std::string_view group, const Tags& tags);
  Status untag(std::string_view group, const std::vector<std::string>& keys);

  // AWS's batch rules (InvalidParameterException for a batch out of order,
  // too large or spanning more than 24 h); events too old, too new or past
  // the retention are left out and reported.
  Result<PutOutcome> put_log_events(std::string_view group, std::string_view stream,
                                    std::span<const InputEvent> events);
  Result<EventsPage> get_log_events(const GetEventsQuery& query);
  Result<FilterPage> filter_log_events(const FilterQuery& query, const FilterPattern& pattern);

  // Deletes every event older than its group's retention; the count.
  Result<int64_t> sweep_expired();

  const std::string& region() const { return options_.region; }
  const std::string& account_id() const { return options_.account_id; }
  // arn:aws:logs:REGION:ACCOUNT:log-group:NAME (logGroupArn; DescribeLogGroups' arn adds ":*")
  std::string group_arn(std::string_view group) const;
  // The group a log group ARN (with or without ":*") of this region and account names.
  std::optional<std::string> group_from_arn(std::string_view arn) const;

  LogStore(store::Database db, std::optional<store::Database> reader, LogStoreOptions options);

 private:
  int64_t now_ms() const;
  void start_sweeper();

  // Writes go through db_; reads through reader_, a second connection to
  // the same file, so a long FilterLogEvents never holds up an append (WAL
  // readers and the writer do not wait for each other). ":memory:" has one.
  store::Database& reads() { return reader_ ? *reader_ : db_; }

  store::Database db_;
  std::optional<store::Database> reader_;
  LogStoreOptions options_;
  const Clock& clock_;

  std::mutex sweeper_mutex_;
  std::condition_variable sweeper_wake_;
  bool stopping_ = false;
  std::thread sweeper_;
};

// AWS's name rules (InvalidParameterException in its validation wording).
Status check_group_name(std::string_view name, std::string_view member = "logGroupName");
Status check_stream_name(std::string_view name, std::string_view member = "logStreamName");

// The retention values AWS accepts.
bool valid_retention_days(int64_t days);

}  // namespace berth::logs
