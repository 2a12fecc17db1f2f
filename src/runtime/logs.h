// runtime/logs: reading what containers wrote, for `berth logs <task>`.
// Works from the data dir alone (no runtime object, the daemon may be
// down): <data_dir>/runtime/logs/<task>/<container>.log (+ .log.1, the
// rotated part, which comes first).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace berth::runtime {

struct ContainerLog {
  std::string container;
  std::string text;  // the last max_bytes of the container's output
};

// kNotFound when the task has no logs; containers sorted by name.
Result<std::vector<ContainerLog>> read_logs(const std::filesystem::path& data_dir, const std::string& task_id,
                                            size_t max_bytes = 1u << 20);

}  // namespace berth::runtime
