// runtime/logs: reading what containers wrote, for `berth logs`.
// Works from the data dir alone (no runtime object, the daemon may be
// down): <data_dir>/runtime/logs/<task>/<container>.log (+ .log.1, the
// rotated part, which comes first).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace berth::runtime {

struct ContainerLog {
  std::string container;
  std::string text;  // the last max_bytes of the container's output
};

// The containers that have logs of the task, sorted ({} when none).
std::vector<std::string> log_containers(const std::filesystem::path& data_dir, const std::string& task_id);

// kNotFound when the task has no logs; containers sorted by name.
Result<std::vector<ContainerLog>> read_logs(const std::filesystem::path& data_dir, const std::string& task_id,
                                            size_t max_bytes = 1u << 20);

// Follows one container's log as it grows (from its start, or from its end
// when made), across the runtime's rotation (copy to <container>.log.1,
// then truncate).
class LogFollower {
 public:
  LogFollower(const std::filesystem::path& data_dir, const std::string& task_id, const std::string& container,
              bool from_start);
  // What was written since the last call ("" if nothing).
  std::string read_new();

 private:
  std::filesystem::path path_;
  uint64_t offset_ = 0;
};

}  // namespace berth::runtime
