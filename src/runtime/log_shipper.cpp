#include "runtime/log_shipper.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/log.h"
#include "core/utf8.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

// What one round reads of a file at most, so a container writing fast
// costs bounded memory; the rest waits for the next round.
constexpr uint64_t kReadChunk = 4u << 20;
// Holes are punched in steps of this (a multiple of any block size).
constexpr uint64_t kPunchStep = 1u << 20;
// Chunks of one file a round reads at most.
constexpr int kChunksPerRound = 4;
// The wait before the next round when a file is behind or non-blocking
// (the usual wait is the interval).
constexpr auto kHurriedInterval = std::chrono::milliseconds(25);

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The .log.1 beside a log file, and its mtime in ns (0: none), which
// changes at every rotation.
fs::path rotated_path(const fs::path& file) {
  fs::path p = file;
  p += ".1";
  return p;
}

int64_t rotation_stamp(const fs::path& file) {
  struct stat st{};
  if (::stat(rotated_path(file).c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

uint64_t size_of(const fs::path& file) {
  struct stat st{};
  return ::stat(file.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string read_range(const fs::path& file, uint64_t from, uint64_t max) {
  std::string out;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  out.resize(max);
  size_t got = 0;
  while (got < max) {
    ssize_t n = ::pread(fd, out.data() + got, max - got, static_cast<off_t>(from + got));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

// Where data starts at or after `from` (past a punched hole); the file's
// size when only a hole follows; `from` when it cannot tell.
uint64_t first_data(const fs::path& file, uint64_t from) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return from;
  off_t data = ::lseek(fd, static_cast<off_t>(from), SEEK_DATA);
  uint64_t out = from;
  if (data >= 0) out = static_cast<uint64_t>(data);
  else if (errno == ENXIO) out = size_of(file);
  ::close(fd);
  return out;
}

std::string cursor_text(uint64_t offset, int64_t stamp) {
  return std::to_string(offset) + " " + std::to_string(stamp);
}

bool parse_cursor(const std::string& text, uint64_t& offset, int64_t& stamp) {
  auto space = text.find(' ');
  if (space == std::string::npos) return false;
  auto a = std::from_chars(text.data(), text.data() + space, offset);
  auto b = std::from_chars(text.data() + space + 1, text.data() + text.size(), stamp);
  return a.ec == std::errc{} && b.ec == std::errc{};
}

}  // namespace

namespace {

size_t append_utf8(std::string_view in, size_t max_out, std::string& out) {
  size_t pos = 0;
  while (pos < in.size()) {
    size_t length = utf8::sequence_length(in.substr(pos));
    std::string_view piece = length ? in.substr(pos, length) : utf8::kReplacement;
    if (out.size() + piece.size() > max_out) break;
    out += piece;
    pos += length ? length : 1;
  }
  return pos;
}

}  // namespace

CutEvents cut_events(std::string_view text, bool flush_partial, int64_t timestamp_ms) {
  CutEvents cut;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t newline = text.find('\n', pos);
    size_t line_end = newline == std::string_view::npos ? text.size() : newline;
    std::string message;
    size_t used = append_utf8(text.substr(pos, line_end - pos), kMaxEventBytes, message);
    if (used < line_end - pos) {
      // A long line goes in pieces (cut between characters); its end is a line of its own.
      cut.events.push_back({timestamp_ms, std::move(message)});
      pos += used;
      cut.ends.push_back(pos);
      cut.consumed = pos;
      continue;
    }
    if (newline == std::string_view::npos && !flush_partial) break;
    if (!message.empty()) {
      cut.events.push_back({timestamp_ms, std::move(message)});
      cut.ends.push_back(newline == std::string_view::npos ? line_end : line_end + 1);
    }
    pos = newline == std::string_view::npos ? line_end : line_end + 1;
    cut.consumed = pos;
  }
  return cut;
}

struct LogShipper::Watched {
  std::string source;
  fs::path file;
  AwsLogsConfig config;
  bool loaded = false;   // the cursor was read from the destination
  uint64_t offset = 0;   // bytes of `file` shipped (or dropped)
  int64_t stamp = 0;     // rotation_stamp(file) when offset was taken
  int64_t last_timestamp = 0;
  uint64_t durable = 0;   // the offset the destination's cursor holds
  bool resumed = false;   // the first round after a restart: no drop
  uint64_t punched = 0;  // [0, punched) of `file` is a hole
  bool exited = false;     // flush a last partial line
  bool finishing = false;  // finish(): ship, forget, remove
  Counters counters;
  uint64_t warned_failures = 0;
};

LogShipper::LogShipper(std::shared_ptr<LogDestination> destination, std::chrono::milliseconds interval,
                       uint64_t keep_bytes)
    : destination_(std::move(destination)),
      interval_(interval),
      keep_bytes_(keep_bytes),
      thread_([this](std::stop_token stop) { run(stop); }) {}

LogShipper::~LogShipper() {
  thread_.request_stop();
  wake_.notify_all();
}

void LogShipper::watch(const std::string& source, const fs::path& file, AwsLogsConfig config) {
  {
    std::lock_guard lock(mutex_);
    auto& w = watched_[source];
    if (w && !w->finishing) {
      w->exited = false;  // a container restarted in place writes on to the same file
      return;
    }
    w = std::make_shared<Watched>();
    w->source = source;
    w->file = file;
    w->config = std::move(config);
    wake_requested_ = true;
  }
  wake_.notify_all();
}

void LogShipper::container_exited(const std::string& source) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = watched_.find(source); it != watched_.end()) it->second->exited = true;
    wake_requested_ = true;
  }
  wake_.notify_all();
}

void LogShipper::finish(const std::string& source) {
  std::unique_lock lock(mutex_);
  auto it = watched_.find(source);
  if (it == watched_.end()) return;
  it->second->exited = true;
  it->second->finishing = true;
  wake_requested_ = true;
  wake_.notify_all();
  // Bounded: a destination that hangs must not hold a task's teardown.
  done_.wait_for(lock, thread_.get_stop_token(), std::chrono::seconds(10),
                 [&] { return watched_.find(source) == watched_.end(); });
}

LogShipper::Counters LogShipper::counters(const std::string& source) const {
  std::lock_guard lock(mutex_);
  auto it = watched_.find(source);
  return it == watched_.end() ? Counters{} : it->second->counters;
}

void LogShipper::nudge() {
  {
    std::lock_guard lock(mutex_);
    wake_requested_ = true;
  }
  wake_.notify_all();
}

void LogShipper::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    bool hurry = false;
    std::vector<std::shared_ptr<Watched>> round;
    {
      std::lock_guard lock(mutex_);
      for (auto& [source, w] : watched_) round.push_back(w);
    }
    for (auto& w : round) {
      bool final_round = false;
      {
        std::lock_guard lock(mutex_);
        final_round = w->finishing;
      }
      try {
        hurry = ship(*w, final_round, stop) || hurry;
      } catch (const std::exception& e) {  // the thread must not die of one file
        log::warn("runtime", "awslogs ", w->source, ": ", e.what());
      }
      if (stop.stop_requested()) return;
      if (final_round) {
        if (auto s = destination_->forget(w->source); !s)
          log::warn("runtime", "awslogs ", w->source, ": ", s.error().message);
        std::lock_guard lock(mutex_);
        if (auto it = watched_.find(w->source); it != watched_.end() && it->second == w) watched_.erase(it);
      }
    }
    std::unique_lock lock(mutex_);
    ++rounds_;
    done_.notify_all();
    // A file still behind, or a non-blocking one that had output, gets its
    // next round soon: a non-blocking buffer must not fill between rounds.
    wake_.wait_for(lock, stop, hurry ? kHurriedInterval : interval_,
                   [this] { return std::exchange(wake_requested_, false); });
  }
}

bool LogShipper::ship(Watched& w, bool final_round, std::stop_token stop) {
  if (!w.loaded) {
    auto cursor = destination_->cursor(w.source);
    if (!cursor) {
      log::warn("runtime", "awslogs ", w.source, ": ", cursor.error().message);
      return false;  // the next round asks again
    }
    if (!*cursor || !parse_cursor(**cursor, w.offset, w.stamp)) {
      // New: everything the container wrote is ours; a .log.1 there
      // already (none for a new container) is older.
      w.offset = 0;
      w.stamp = rotation_stamp(w.file);
    } else {
      // Resumed after a restart: what the container wrote meanwhile is a
      // backlog the driver would have shipped (dockerd keeps running on
      // ECS), not an overflow to drop.
      w.resumed = true;
    }
    w.durable = w.offset;
    w.loaded = true;
  }
  bool exited = false;
  {
    std::lock_guard lock(mutex_);
    exited = w.exited;
  }

  // Appends `text` in batches, the cursor after each batch being
  // cursor_at(bytes of text through it). Returns the bytes shipped (or
  // dropped because the group or stream is gone); fewer than consumed when
  // the destination failed, and the next round tries again from there.
  struct Sent {
    size_t bytes = 0;
    bool complete = true;
  };
  std::optional<size_t> durable_end;  // of the last batch the destination took (with its cursor)
  auto send = [&](std::string_view text, bool flush_partial, auto&& cursor_at) {
    int64_t ts = std::max(now_ms(), w.last_timestamp);
    CutEvents cut = cut_events(text, flush_partial, ts);
    Sent sent;
    durable_end = std::nullopt;
    for (size_t first = 0; first < cut.events.size();) {
      size_t last = first, bytes = 0;
      while (last < cut.events.size() && last - first < kMaxBatchEvents &&
             bytes + cut.events[last].message.size() + kEventOverheadBytes <= kMaxBatchBytes) {
        bytes += cut.events[last].message.size() + kEventOverheadBytes;
        ++last;
      }
      size_t end = last == cut.events.size() ? cut.consumed : cut.ends[last - 1];
      std::span<const LogDestination::Event> batch(cut.events.data() + first, last - first);
      auto s = destination_->append(w.config.group, w.config.stream, batch, w.source, cursor_at(end));
      std::lock_guard lock(mutex_);
      if (!s) {
        ++w.counters.failed_batches;
        if (w.counters.failed_batches >= w.warned_failures * 2 + 1) {  // 1, 3, 7, ...: not a line per round
          w.warned_failures = w.counters.failed_batches;
          log::warn("runtime", "awslogs ", w.source, " -> ", w.config.group, "/", w.config.stream, ": ",
                    s.error().message);
        }
        // A deleted group or stream loses the lines, as with Docker's
        // driver; anything else is tried again.
        if (s.error().error_class != ErrorClass::kNotFound) {
          sent.complete = false;
          return sent;
        }
      } else {
        w.counters.events += batch.size();
        durable_end = end;
      }
      w.last_timestamp = ts;
      sent.bytes = end;
      first = last;
    }
    sent.bytes = cut.consumed;  // empty lines after the last event too
    return sent;
  };

  // A rotation since the last round (the runtime's, of a task an older
  // berth started): the rest of the rotated part comes first. Its last batch
  // moves the cursor to the start of the new file; the ones before it
  // still count in the old generation.
  int64_t stamp = rotation_stamp(w.file);
  uint64_t size = size_of(w.file);
  if (stamp != w.stamp || size < w.offset) {
    fs::path rotated = rotated_path(w.file);
    uint64_t rotated_size = size_of(rotated);
    if (rotated_size > w.offset) {
      std::string rest = read_range(rotated, w.offset, rotated_size - w.offset);
      uint64_t base = w.offset;
      auto sent = send(rest, true, [&](size_t end) {
        return end >= rest.size() ? cursor_text(0, stamp) : cursor_text(base + end, w.stamp);
      });
      w.offset = base + sent.bytes;
      if (!sent.complete) return false;
    }
    w.offset = 0;
    w.durable = 0;  // nothing of the new file is in a stored cursor yet
    w.stamp = stamp;
  }

  bool resync = false;  // after a drop: the rest of a cut line goes too
  bool resumed = std::exchange(w.resumed, false);
  if (w.config.non_blocking && !resumed && size > w.offset + w.config.max_buffer_bytes) {
    uint64_t skip = size - w.offset - w.config.max_buffer_bytes;
    std::lock_guard lock(mutex_);
    w.counters.dropped_bytes += skip;
    w.offset += skip;
    resync = true;
    log::warn("runtime", "awslogs ", w.source, ": dropped ", skip,
              " bytes of output (mode non-blocking, max-buffer-size ", w.config.max_buffer_bytes, ")");
  }
  uint64_t round_start = w.offset;
  // A round reads a bounded share of each file, so one container's backlog
  // neither starves the others nor holds up the daemon's stop; the last
  // round of a finishing container ships all it has.
  for (int chunks = 0; w.offset < size && (chunks < kChunksPerRound || final_round) && !stop.stop_requested();
       ++chunks) {
    // A hole (freed before a restart the cursor did not see) holds no lines.
    if (uint64_t data = first_data(w.file, w.offset); data > w.offset) {
      std::lock_guard lock(mutex_);
      w.counters.dropped_bytes += std::min(data, size) - w.offset;
      w.offset = std::min(data, size);
      resync = true;
      continue;
    }
    std::string text = read_range(w.file, w.offset, std::min(kReadChunk, size - w.offset));
    if (text.empty()) break;
    uint64_t base = w.offset;
    std::string_view view = text;
    if (resync) {
      size_t newline = view.find('\n');
      size_t cut = newline == std::string_view::npos ? view.size() : newline + 1;
      view.remove_prefix(cut);
      base += cut;
      w.offset = base;
      std::lock_guard lock(mutex_);
      w.counters.dropped_bytes += cut;
      resync = newline == std::string_view::npos;
      if (view.empty()) continue;
    }
    bool at_end = base + view.size() >= size;
    auto sent = send(view, (exited || final_round) && at_end,
                     [&](size_t end) { return cursor_text(base + end, w.stamp); });
    w.offset = base + sent.bytes;
    if (durable_end) w.durable = base + *durable_end;
    if (!sent.complete || sent.bytes == 0) break;  // failed, or a partial last line waits for its newline
  }

  // Bounded on disk without a rotation (whose copy-then-truncate loses
  // what the container writes in between): the shipped part older than
  // the newest keep_bytes becomes a hole. Only what a stored cursor is
  // past: a restart never resumes inside a hole. Offsets stay valid;
  // readers of the file start at its first data (logs.h).
  if (keep_bytes_ > 0 && w.durable > w.punched + keep_bytes_ + kPunchStep) {
    uint64_t until = (w.durable - keep_bytes_) / kPunchStep * kPunchStep;
    int fd = ::open(w.file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(w.punched),
                      static_cast<off_t>(until - w.punched)) == 0) {
        w.punched = until;
      } else {
        log::warn("runtime", "awslogs ", w.source, ": cannot free the shipped part of ", w.file.string(), ": ",
                  std::strerror(errno));
        w.punched = until;  // not again every round; the file grows, nothing is lost
      }
      ::close(fd);
    }
  }
  uint64_t shipped = w.offset - round_start;
  return shipped > 0 && (w.config.non_blocking || shipped >= kChunksPerRound * kReadChunk);
}

}  // namespace berth::runtime
