#include "runtime/logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

// From `from`, or from the file's first data after it: the awslogs shipper
// turns the shipped start of a file into a hole (log_shipper.h).
std::string read_whole(const fs::path& p, uint64_t from = 0, uint64_t* end = nullptr) {
  std::string out;
  if (end) *end = from;
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  off_t data = ::lseek(fd, static_cast<off_t>(from), SEEK_DATA);
  if (data >= 0) {
    char buffer[65536];
    for (off_t at = data;;) {
      ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
      at += n;
      if (end) *end = static_cast<uint64_t>(at);
    }
  }
  ::close(fd);
  return out;
}

uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

}  // namespace

std::vector<std::string> log_containers(const fs::path& data_dir, const std::string& task_id) {
  std::vector<std::string> out;
  if (task_id.empty() || task_id.find('/') != std::string::npos || task_id == "..") return out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir / "runtime" / "logs" / task_id, ec))
    if (e.path().extension() == ".log") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<ContainerLog>> read_logs(const fs::path& data_dir, const std::string& task_id, size_t max_bytes) {
  if (task_id.empty() || task_id.find('/') != std::string::npos || task_id == "..")
    return Error::invalid("InvalidParameter", "bad task id '" + task_id + "'");
  fs::path dir = data_dir / "runtime" / "logs" / task_id;
  std::vector<ContainerLog> out;
  for (const auto& container : log_containers(data_dir, task_id)) {
    ContainerLog log;
    log.container = container;
    fs::path current = dir / (container + ".log"), rotated = dir / (container + ".log.1");
    // Only the tail is read: a shipped file may be large (and mostly a hole).
    uint64_t current_size = file_size_or_zero(current);
    if (current_size >= max_bytes) {
      log.text = read_whole(current, current_size - max_bytes);
    } else {
      uint64_t rotated_size = file_size_or_zero(rotated);
      uint64_t want = max_bytes - current_size;
      log.text = read_whole(rotated, rotated_size > want ? rotated_size - want : 0) + read_whole(current);
    }
    if (log.text.size() > max_bytes) log.text.erase(0, log.text.size() - max_bytes);
    out.push_back(std::move(log));
  }
  if (out.empty()) return Error::not_found("TaskNotFound", "no logs for task " + task_id);
  return out;
}

LogFollower::LogFollower(const fs::path& data_dir, const std::string& task_id, const std::string& container,
                         bool from_start)
    : path_(data_dir / "runtime" / "logs" / task_id / (container + ".log")) {
  if (from_start) return;
  std::error_code ec;
  offset_ = fs::file_size(path_, ec);
  if (ec) offset_ = 0;
}

std::string LogFollower::read_new() {
  std::error_code ec;
  uint64_t size = fs::file_size(path_, ec);
  if (ec) return "";
  std::string out;
  if (size < offset_) {
    // Rotated: the part we had not read yet was copied to .log.1 first.
    fs::path rotated = path_;
    rotated += ".1";
    out = read_whole(rotated, offset_);
    offset_ = 0;
  }
  std::string fresh = read_whole(path_, offset_, &offset_);
  return out + fresh;
}

}  // namespace berth::runtime
