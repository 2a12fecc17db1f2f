#include "runtime/logs.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

std::string read_whole(const fs::path& p, uint64_t from = 0) {
  std::ifstream in(p, std::ios::binary);
  if (from > 0) in.seekg(static_cast<std::streamoff>(from));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
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
    log.text = read_whole(rotated) + read_whole(current);
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
  std::string fresh = read_whole(path_, offset_);
  offset_ += fresh.size();
  return out + fresh;
}

}  // namespace berth::runtime
