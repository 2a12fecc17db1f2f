// runtime/oci_config: the OCI runtime config.json of one container, from
// its image config and its container definition (Docker's merge rules).
//
//   image config (Env, Entrypoint, Cmd, WorkingDir, User, StopSignal)
//        + ContainerSpec (entryPoint, command, environment, ...)
//        + BundleInputs (rootfs, netns path, cgroup path)
//        ──> config.json: runc's default capabilities, mounts, masked and
//            read-only paths, cgroup limits, seccomp profile
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "runtime/runtime.h"

namespace berth::runtime {

struct ImageConfig {
  std::vector<std::string> env;  // "K=V"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
  std::string stop_signal;
};

// The image config blob ({"config": {...}}); a missing "config" is an empty one.
Result<ImageConfig> parse_image_config(std::string_view json);

struct UserIds {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// "uid[:gid]" or "name[:group]" looked up in rootfs/etc/passwd and /etc/group.
// kInvalid when a name is not there.
Result<UserIds> resolve_user(const std::string& rootfs, std::string_view user);

// A host file or directory bound into the container (volumes, /etc/hosts, the init).
struct BindMount {
  std::string source;
  std::string destination;
  bool read_only = false;
};

struct BundleInputs {
  std::string rootfs;         // absolute path of the container's root
  std::string netns_path{};   // empty: a new network namespace
  std::string cgroups_path;   // "/berth/<id>"
  UserIds user{};
  std::vector<BindMount> binds{};  // in mount order, after the standard ones
  std::string init_path{};  // the init run as PID 1 when spec.linux.init_process (bound at kInitPath)
  // "": a namespace of its own; "host": the host's; else a /proc/<pid>/ns/... path to join.
  std::string pid_namespace{};
  std::string ipc_namespace{};
};

// Where the init is bound in the container (where Docker puts its own).
inline constexpr const char* kInitPath = "/sbin/docker-init";

// kInvalid when there is nothing to run (no entrypoint and no command).
Result<std::string> make_oci_config(const ImageConfig& image, const ContainerSpec& spec, const BundleInputs& in);

// The process args Docker would run: entryPoint (or Entrypoint) + command
// (or Cmd; an overridden entrypoint drops the image's Cmd).
std::vector<std::string> process_args(const ImageConfig& image, const ContainerSpec& spec);
// Image Env overridden/extended by the definition's environment; PATH defaulted.
std::vector<std::string> process_env(const ImageConfig& image, const ContainerSpec& spec);
// The signal number of "SIGTERM", "TERM", "15"; 0 when unknown.
int signal_number(std::string_view name);

// Syscalls the seccomp profile answers with EPERM (Docker's default denies these).
const std::vector<std::string>& denied_syscalls();

// The capabilities a container gets: Docker's default set (what ECS on EC2
// gives), plus linuxParameters.capabilities.add, minus .drop ("ALL" works
// in both); every capability when privileged. Names as "CAP_CHOWN".
// kInvalid for a name the kernel does not know.
Result<std::vector<std::string>> container_capabilities(const LinuxOptions& options);

}  // namespace berth::runtime
