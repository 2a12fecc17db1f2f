#include "runtime/log_shipper.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/log.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

// What one round reads of a file at most, so a container writing fast
// costs bounded memory; the rest waits for the next round.
constexpr uint64_t kReadChunk = 4u << 20;
// Holes are punched in steps of this (a multiple of any block size).
constexpr uint64_t kPunchStep = 1u << 20;

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

CutEvents cut_events(std::string_view text, bool flush_partial, int64_t timestamp_ms) {
  CutEvents cut;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t newline = text.find('\n', pos);
    size_t line_end = newline == std::string_view::npos ? text.size() : newline;
    size_t length = line_end - pos;
    if (length >= kMaxEventBytes) {
      // A long line goes in pieces; its end (if any) is a line of its own.
      cut.events.push_back({timestamp_ms, std::string(text.substr(pos, kMaxEventBytes))});
      pos += kMaxEventBytes;
      cut.ends.push_back(pos);
      cut.consumed = pos;
      continue;
    }
    if (newline == std::string_view::npos && !flush_partial) break;
    if (length > 0) {
      cut.events.push_back({timestamp_ms, std::string(text.substr(pos, length))});
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
  }
  wake_.notify_all();
}

void LogShipper::container_exited(const std::string& source) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = watched_.find(source); it != watched_.end()) it->second->exited = true;
  }
  wake_.notify_all();
}

void LogShipper::finish(const std::string& source) {
  std::unique_lock lock(mutex_);
  auto it = watched_.find(source);
  if (it == watched_.end()) return;
  it->second->exited = true;
  it->second->finishing = true;
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

void LogShipper::nudge() { wake_.notify_all(); }

void LogShipper::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
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
      ship(*w, final_round);
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
    bool more_to_finish = std::any_of(watched_.begin(), watched_.end(), [](auto& e) { return e.second->finishing; });
    if (!more_to_finish) wake_.wait_for(lock, stop, interval_, [] { return false; });
  }
}

void LogShipper::ship(Watched& w, bool final_round) {
  if (!w.loaded) {
    auto cursor = destination_->cursor(w.source);
    if (!cursor) {
      log::warn("runtime", "awslogs ", w.source, ": ", cursor.error().message);
      return;  // the next round asks again
    }
    if (!*cursor || !parse_cursor(**cursor, w.offset, w.stamp)) {
      // New: everything the container wrote is ours; a .log.1 there
      // already (none for a new container) is older.
      w.offset = 0;
      w.stamp = rotation_stamp(w.file);
    }
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
  auto send = [&](std::string_view text, bool flush_partial, auto&& cursor_at) {
    int64_t ts = std::max(now_ms(), w.last_timestamp);
    CutEvents cut = cut_events(text, flush_partial, ts);
    Sent sent;
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
      if (!sent.complete) return;
    }
    w.offset = 0;
    w.stamp = stamp;
  }

  bool resync = false;  // after a drop: the rest of a cut line goes too
  if (w.config.non_blocking && size > w.offset + w.config.max_buffer_bytes) {
    uint64_t skip = size - w.offset - w.config.max_buffer_bytes;
    std::lock_guard lock(mutex_);
    w.counters.dropped_bytes += skip;
    w.offset += skip;
    resync = true;
    log::warn("runtime", "awslogs ", w.source, ": dropped ", skip,
              " bytes of output (mode non-blocking, max-buffer-size ", w.config.max_buffer_bytes, ")");
  }
  while (w.offset < size) {
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
    if (!sent.complete || sent.bytes == 0) break;  // failed, or a partial last line waits for its newline
  }

  // Bounded on disk without a rotation (whose copy-then-truncate loses
  // what the container writes in between): the shipped part older than
  // the newest keep_bytes becomes a hole. Offsets stay valid; readers of
  // the file start at its first data (logs.h).
  if (keep_bytes_ > 0 && w.offset > w.punched + keep_bytes_ + kPunchStep) {
    uint64_t until = (w.offset - keep_bytes_) / kPunchStep * kPunchStep;
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
}

}  // namespace berth::runtime
