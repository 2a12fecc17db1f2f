// runtime/volumes: a task's volumes as host directories, and the bind
// mounts each container gets from its mountPoints and volumesFrom.
//
//   scratch (host, no sourcePath)   <task dir>/volumes/<name>          removed with the task
//   host.sourcePath                 the host path itself (made when missing, as Docker does)
//   docker, scope task              <task dir>/volumes/<name>          removed with the task
//   docker, scope shared            <shared dir>/<name>/_data          kept; found again by name
//
// A Docker volume (the scratch one is one too: the agent makes it a local
// Docker volume) that starts empty gets the image's content at the path it
// is first mounted on (Docker's copy-up); a host path never does.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/oci_config.h"
#include "runtime/runtime.h"

namespace berth::runtime {

struct PreparedVolume {
  std::filesystem::path path;
  bool docker = false;  // copy-up applies
  bool read_only = false;
};

// Makes (or finds) every volume's directory. kInvalid for a bad name or
// path; kNotFound "ResourceInitializationError: ..." for a shared volume
// that does not exist and may not be provisioned. Nothing is made when
// an error is returned.
Result<std::map<std::string, PreparedVolume>> prepare_volumes(const std::vector<Volume>& volumes,
                                                              const std::filesystem::path& task_dir,
                                                              const std::filesystem::path& shared_dir);

// The container's binds: its own mountPoints, then those it takes with
// volumesFrom (transitively, as Docker copies a source's mounts including
// what the source took). kInvalid for an unknown volume or container.
Result<std::vector<BindMount>> container_binds(const TaskSpec& task, size_t container,
                                               const std::map<std::string, PreparedVolume>& volumes);

// Docker's copy-up: an empty Docker volume mounted at `container_path`
// gets what the image has there (owners and modes kept).
Status copy_up(const std::map<std::string, PreparedVolume>& volumes, const std::vector<BindMount>& binds,
               const std::string& image_rootfs);

}  // namespace berth::runtime
