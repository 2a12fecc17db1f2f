// Line-oriented logging to stderr. Each call writes one whole line with a
// single write(2), so lines from several threads never interleave.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace berth::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

template <class... Args>
void info(std::string_view component, const Args&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, component, cat(args...));
}
template <class... Args>
void warn(std::string_view component, const Args&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, component, cat(args...));
}
template <class... Args>
void error(std::string_view component, const Args&... args) {
  if (enabled(Level::kError)) write(Level::kError, component, cat(args...));
}
template <class... Args>
void debug(std::string_view component, const Args&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, component, cat(args...));
}

}  // namespace berth::log
