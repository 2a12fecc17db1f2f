#include "core/log.h"

#include <unistd.h>

#include <atomic>

#include "core/time_format.h"

namespace berth::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};

std::string_view name(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void set_level(Level level) { g_level = level; }
bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view component, std::string_view message) {
  std::string line = format_iso8601_millis(std::chrono::system_clock::now());
  line += ' ';
  line += name(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace berth::log
