#include "runtime/cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;
constexpr const char* kRoot = "/sys/fs/cgroup";

bool write_value(const fs::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

std::string task_cgroup(const std::string& task_id) { return "/berth/" + task_id; }

std::string container_cgroup(const std::string& task_id, const std::string& container) {
  return task_cgroup(task_id) + "/" + container;
}

Status create_task_cgroup(const std::string& task_id, int64_t memory_mib, int64_t cpu_shares) {
  if (memory_mib <= 0 && cpu_shares <= 0) return Ok{};
  std::error_code ec;
  bool unified = fs::exists(fs::path(kRoot) / "cgroup.controllers", ec);
  auto dir_of = [&](const char* controller) {
    return unified ? fs::path(kRoot) / ("berth/" + task_id) : fs::path(kRoot) / controller / ("berth/" + task_id);
  };
  if (memory_mib > 0) {
    fs::path dir = dir_of("memory");
    fs::create_directories(dir, ec);
    std::string bytes = std::to_string(memory_mib * 1024 * 1024);
    bool ok = unified ? write_value(dir / "memory.max", bytes)
                      : write_value(dir / "memory.limit_in_bytes", bytes);
    if (!unified && fs::exists(dir / "memory.memsw.limit_in_bytes")) write_value(dir / "memory.memsw.limit_in_bytes", bytes);
    if (!ok) return Error::internal("task cgroup: cannot set the memory limit in " + dir.string());
  }
  if (cpu_shares > 0) {
    fs::path dir = dir_of("cpu");
    fs::create_directories(dir, ec);
    // cgroup v2 weight from shares, as runc converts it.
    std::string value = unified ? std::to_string(1 + ((std::max<int64_t>(cpu_shares, 2) - 2) * 9999) / 262142)
                                : std::to_string(std::max<int64_t>(cpu_shares, 2));
    if (!write_value(dir / (unified ? "cpu.weight" : "cpu.shares"), value))
      return Error::internal("task cgroup: cannot set cpu shares in " + dir.string());
  }
  return Ok{};
}

void remove_task_cgroup(const std::string& task_id) {
  std::error_code ec;
  std::string rel = "berth/" + task_id;
  if (fs::exists(fs::path(kRoot) / "cgroup.controllers", ec)) {
    ::rmdir((fs::path(kRoot) / rel).c_str());
    return;
  }
  for (const auto& hierarchy : fs::directory_iterator(kRoot, ec)) ::rmdir((hierarchy.path() / rel).c_str());
}

bool oom_killed(const std::string& cgroup) {
  // v1: memory.oom_control has "oom_kill N" (kernel 4.13+); v2: memory.events.
  for (const std::string& path : {std::string(kRoot) + "/memory" + cgroup + "/memory.oom_control",
                                  std::string(kRoot) + cgroup + "/memory.events"}) {
    std::ifstream in(path);
    std::string key;
    long long value = 0;
    while (in >> key >> value)
      if (key == "oom_kill") return value > 0;
  }
  return false;
}

}  // namespace berth::runtime
