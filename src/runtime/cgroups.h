// runtime/cgroups: the task-level cgroup (cgroup v1 here; v2 unified
// trees too) that holds a task's containers, so task cpu/memory (FARGATE)
// limit them together. runc makes and removes the containers' own
// cgroups below it.
//
//   /sys/fs/cgroup/<controller>/berth/<task>/            task_cgroup(): limits
//   /sys/fs/cgroup/<controller>/berth/<task>/<container> runc (cgroupsPath)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"

namespace berth::runtime {

std::string task_cgroup(const std::string& task_id);  // "/berth/<task>"
std::string container_cgroup(const std::string& task_id, const std::string& container);

// Creates the task cgroup with its limits (0: none) where limits are asked.
Status create_task_cgroup(const std::string& task_id, int64_t memory_mib, int64_t cpu_shares);
// Removes the task cgroup from every hierarchy (after runc removed the
// containers' cgroups); Ok when it is not there.
void remove_task_cgroup(const std::string& task_id);
// What the processes of a cgroup path (and its children) used: CPU time
// since it was made, and memory now without the page cache (as `docker
// stats` and the ECS agent count it). nullopt when the cgroup is not there.
struct CgroupUsage {
  uint64_t cpu_ns = 0;
  uint64_t memory_bytes = 0;
};
std::optional<CgroupUsage> cgroup_usage(const std::string& cgroup);

// Whether the kernel OOM-killed a process charged to this cgroup path.
bool oom_killed(const std::string& cgroup);

}  // namespace berth::runtime
