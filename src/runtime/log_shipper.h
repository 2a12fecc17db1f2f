// runtime/log_shipper: the awslogs log driver's delivery.
//
//   container ──stdout/stderr──> logs/<task>/<c>.log ──(berth logs reads it)
//                                        │ tailed by the shipper's thread
//                                        └──lines, in batches──> LogDestination::append (CloudWatch Logs)
//
// Containers keep writing to their log file, so a container is never slowed
// by delivery: the file is the buffer. The shipper reads what is new every
// round, cuts it into events at newlines (a line longer than an event may
// be is split, as Docker's driver does) and appends them in batches within
// PutLogEvents' limits. Each batch carries the file position after it, kept
// by the destination in the same transaction, so a daemon killed at any
// moment resumes right after the last appended batch: nothing acknowledged
// is lost or sent twice.
//
// The runtime does not rotate these files (its copy-then-truncate would
// lose lines): the shipper frees their shipped part instead (see the
// constructor). A restart finds its place again from the cursor:
// "<offset> <mtime of .log.1>", the second part telling whether the file
// was rotated since (by an older berth).
//
// mode non-blocking: when more than max_buffer_bytes wait unshipped while
// the shipper runs, the oldest are skipped and counted (Docker's ring
// buffer drops the newest instead; either way the container never waits);
// what a restart finds unshipped is a backlog, not dropped. blocking:
// nothing is dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "core/error.h"
#include "runtime/runtime.h"

namespace berth::runtime {

// Where shipped lines go; the daemon's wiring puts CloudWatch Logs behind it.
class LogDestination {
 public:
  struct Event {
    int64_t timestamp_ms = 0;
    std::string message;
  };
  virtual ~LogDestination() = default;
  // Appends events (timestamps non-decreasing) to group/stream and keeps
  // `cursor` under `source` in the same write. kNotFound: the group or the
  // stream is gone.
  virtual Status append(const std::string& group, const std::string& stream, std::span<const Event> events,
                        const std::string& source, const std::string& cursor) = 0;
  virtual Result<std::optional<std::string>> cursor(const std::string& source) = 0;
  virtual Status forget(const std::string& source) = 0;
};

// PutLogEvents' limits (CloudWatch Logs quotas); Docker's awslogs driver
// splits a longer line into events of kMaxEventBytes.
inline constexpr size_t kMaxEventBytes = 262144 - 26;
inline constexpr size_t kMaxBatchEvents = 10000;
inline constexpr size_t kMaxBatchBytes = 1048576;
inline constexpr size_t kEventOverheadBytes = 26;

// Cuts `text` into events: one per line (newline removed; empty lines
// dropped, CloudWatch refuses empty messages), a line longer than
// kMaxEventBytes split between characters. Messages are valid UTF-8, as
// CloudWatch Logs' JSON needs: a byte that is not part of a valid sequence
// becomes U+FFFD (as Docker's driver, whose JSON encoder does the same). A last line without its newline stays unconsumed
// unless `flush_partial` or it is already kMaxEventBytes long.
struct CutEvents {
  std::vector<LogDestination::Event> events;
  std::vector<size_t> ends;  // ends[i]: bytes of `text` consumed through events[i]
  size_t consumed = 0;       // bytes consumed in all (empty lines count)
};
CutEvents cut_events(std::string_view text, bool flush_partial, int64_t timestamp_ms);

class LogShipper {
 public:
  struct Counters {
    uint64_t events = 0;         // appended
    uint64_t dropped_bytes = 0;  // skipped in non-blocking mode
    uint64_t failed_batches = 0;
  };

  // The files it ships are not rotated: once shipped, all but their
  // newest keep_bytes (0: all) are freed as a hole in the file.
  LogShipper(std::shared_ptr<LogDestination> destination, std::chrono::milliseconds interval, uint64_t keep_bytes);
  ~LogShipper();  // ships nothing more; what is unshipped stays in the files for the next daemon

  // Starts (or, after a restart, resumes from the destination's cursor)
  // shipping `file` as `source` ("<task>/<container>").
  void watch(const std::string& source, const std::filesystem::path& file, AwsLogsConfig config);
  // The container exited: its last line goes even without a newline.
  void container_exited(const std::string& source);
  // Ships what is left (as container_exited), then stops watching and
  // drops the cursor. Returns once done.
  void finish(const std::string& source);

  Counters counters(const std::string& source) const;
  // Wakes the thread for a round now (tests; the end of a task).
  void nudge();

 private:
  struct Watched;
  void run(std::stop_token stop);
  // True when the file wants its next round soon (behind, or non-blocking with output).
  bool ship(Watched& w, bool final_round, std::stop_token stop);

  std::shared_ptr<LogDestination> destination_;
  std::chrono::milliseconds interval_;
  uint64_t keep_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::condition_variable_any done_;
  std::map<std::string, std::shared_ptr<Watched>> watched_;
  uint64_t rounds_ = 0;
  bool wake_requested_ = false;  // watch, container_exited, finish, nudge: a round now
  std::jthread thread_;  // last: starts after the members it uses
};

}  // namespace berth::runtime
