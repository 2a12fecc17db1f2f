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

namespace {

std::optional<uint64_t> read_number(const fs::path& file) {
  std::ifstream in(file);
  uint64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

// One "key value" line of a stat file (memory.stat, cpu.stat).
std::optional<uint64_t> read_stat(const fs::path& file, std::string_view wanted) {
  std::ifstream in(file);
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value)
    if (key == wanted) return value;
  return std::nullopt;
}

}  // namespace

std::optional<CgroupUsage> cgroup_usage(const std::string& cgroup) {
  fs::path root(kRoot);
  std::error_code ec;
  CgroupUsage usage;
  if (fs::exists(root / "cgroup.controllers", ec)) {
    fs::path dir = root / cgroup.substr(1);
    auto cpu_us = read_stat(dir / "cpu.stat", "usage_usec");
    auto memory = read_number(dir / "memory.current");
    if (!cpu_us && !memory) return std::nullopt;
    usage.cpu_ns = cpu_us.value_or(0) * 1000;
    uint64_t inactive = read_stat(dir / "memory.stat", "inactive_file").value_or(0);
    usage.memory_bytes = memory.value_or(0) > inactive ? *memory - inactive : 0;
    return usage;
  }
  std::optional<uint64_t> cpu;
  for (const char* controller : {"cpuacct", "cpu,cpuacct"})
    if (!cpu) cpu = read_number(root / controller / cgroup.substr(1) / "cpuacct.usage");
  fs::path memory_dir = root / "memory" / cgroup.substr(1);
  auto memory = read_number(memory_dir / "memory.usage_in_bytes");
  if (!cpu && !memory) return std::nullopt;
  usage.cpu_ns = cpu.value_or(0);
  uint64_t cache = read_stat(memory_dir / "memory.stat", "total_cache").value_or(0);
  usage.memory_bytes = memory.value_or(0) > cache ? *memory - cache : 0;
  return usage;
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
