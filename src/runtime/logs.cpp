#include "runtime/logs.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

std::string read_whole(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<std::vector<ContainerLog>> read_logs(const fs::path& data_dir, const std::string& task_id, size_t max_bytes) {
  if (task_id.empty() || task_id.find('/') != std::string::npos || task_id == "..")
    return Error::invalid("InvalidParameter", "bad task id '" + task_id + "'");
  fs::path dir = data_dir / "runtime" / "logs" / task_id;
  std::error_code ec;
  std::vector<ContainerLog> out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".log") continue;
    ContainerLog log;
    log.container = e.path().stem().string();
    fs::path rotated = e.path();
    rotated += ".1";
    log.text = read_whole(rotated) + read_whole(e.path());
    if (log.text.size() > max_bytes) log.text.erase(0, log.text.size() - max_bytes);
    out.push_back(std::move(log));
  }
  if (out.empty()) return Error::not_found("TaskNotFound", "no logs for task " + task_id);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.container < b.container; });
  return out;
}

}  // namespace berth::runtime
