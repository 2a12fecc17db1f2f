// runtime: the host agent's narrow driver boundary (STYLE.md, "containerd /
// runc"). The ECS side speaks only these value types and TaskRuntime;
// nothing runc-specific crosses it.
//
//   ecs (task state machine)
//      │ start / stop / state / list / adopt / forget
//      ▼
//   TaskRuntime ──────────────── TaskEvent callback (container exited,
//      │                          health changed, task stopped)
//      ▼
//   RuncTaskRuntime (runc_runtime.h): image cache, bundle, runc, netns,
//   port forwarders, health checks, logs, adoption
//
// A task is a group of containers sharing one network namespace. The
// runtime owns the task from start() until forget(): once every container
// has exited and the task's resources are released, state() keeps
// answering (exit codes, reasons) until the caller forgets the task.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "ec2/connection_policy.h"

namespace berth::runtime {

// Where an image's root filesystem comes from. Either an OCI image layout
// (what ecr::write_oci_layout writes) with the manifest digest, which is
// also the cache key, or a prepared root filesystem plus its image config
// JSON (tests and benchmarks, which have no registry).
struct ImageSource {
  std::string layout_dir;       // OCI image layout with index.json
  std::string manifest_digest;  // "sha256:..."; cache key
  std::string ref_name;         // org.opencontainers.image.ref.name in index.json; empty: the only manifest
  std::string prepared_rootfs;  // if set: used read-only as is, no unpack
  std::string prepared_config_json;  // image config JSON for prepared_rootfs ({"config":{...}})
};

struct PortMapping {
  uint16_t container_port = 0;
  uint16_t host_port = 0;  // 0: dynamic (bridge), or = container_port (host, awsvpc)
  std::string protocol = "tcp";  // "tcp" or "udp"
};

// A task volume (task definition `volumes`), resolved by the runtime to a
// host directory that containers mount.
struct Volume {
  enum class Kind {
    kScratch,  // `host` without sourcePath: an empty directory that lives and dies with the task
    kHostPath,  // `host.sourcePath`: the host's own directory
    kDocker,    // dockerVolumeConfiguration (driver local)
  };
  std::string name;
  Kind kind = Kind::kScratch;
  std::string host_path;       // kHostPath
  bool shared = false;         // kDocker scope "shared": outlives the task, found again by name
  bool autoprovision = false;  // kDocker shared: create when missing (else the task fails to start)

  static Volume scratch(std::string name) { return {std::move(name), Kind::kScratch, "", false, false}; }
  static Volume host(std::string name, std::string path) {
    return {std::move(name), Kind::kHostPath, std::move(path), false, false};
  }
  static Volume docker(std::string name, bool shared = false, bool autoprovision = false) {
    return {std::move(name), Kind::kDocker, "", shared, autoprovision};
  }
};

struct MountPoint {
  std::string source_volume;
  std::string container_path;
  bool read_only = false;
};

// volumesFrom: every mount point of another container of the task.
struct VolumeFrom {
  std::string source_container;
  bool read_only = false;  // true: all of them read-only; false: as the source has them
};

enum class DependencyCondition { kStart, kComplete, kSuccess, kHealthy };

struct Dependency {
  std::string container;
  DependencyCondition condition = DependencyCondition::kStart;
};

struct TmpfsMount {
  std::string container_path;
  int64_t size_mib = 0;
  std::vector<std::string> options;  // mount options as ECS names them ("noexec", "mode=1777", ...)
};

struct Device {
  std::string host_path;
  std::string container_path;           // empty: host_path
  std::vector<std::string> permissions;  // "read", "write", "mknod"; empty: all three
};

// linuxParameters and the Docker-level switches of a container definition.
struct LinuxOptions {
  std::vector<std::string> capabilities_add;   // ECS names: "NET_ADMIN", "SYS_PTRACE", "ALL", ...
  std::vector<std::string> capabilities_drop;
  bool init_process = false;  // a reaping init as PID 1 (docker --init)
  std::vector<TmpfsMount> tmpfs;
  std::vector<Device> devices;
  int64_t shared_memory_mib = 0;  // /dev/shm size; 0: Docker's 64 MiB
  std::optional<int64_t> swappiness;
  std::optional<int64_t> max_swap_mib;
  bool privileged = false;
  bool no_new_privileges = false;  // dockerSecurityOptions "no-new-privileges"
  std::vector<std::pair<std::string, std::string>> sysctls;  // systemControls
  bool pseudo_terminal = false;
  bool interactive = false;         // stdin kept open
  bool seccomp_unconfined = false;  // dockerSecurityOptions "seccomp=unconfined"
};

// restartPolicy: the container is restarted in place when it exits, unless
// its exit code is ignored or it ran for less than attempt_period.
struct RestartPolicy {
  std::vector<int> ignored_exit_codes;
  std::chrono::seconds attempt_period{300};
};

struct Ulimit {
  std::string name;  // "nofile", "nproc", ... (ECS names)
  int64_t soft = 0;
  int64_t hard = 0;
};

struct HealthCheck {
  std::vector<std::string> command;  // ["CMD", ...] or ["CMD-SHELL", "..."]
  std::chrono::seconds interval{30};
  std::chrono::seconds timeout{5};
  int retries = 3;
  std::chrono::seconds start_period{0};
};

// What the daemon wiring supplies to turn a task definition's `image`
// ("<registry>/<repo>:<tag>", "...@sha256:...") into an ImageSource, e.g.
// with ecr::write_oci_layout (the runtime links no registry code). Errors
// should be kNotFound with "CannotPullContainerError: ..." messages.
using ImageResolver = std::function<Result<ImageSource>(const std::string& image_reference)>;

// A container's awslogs logConfiguration, resolved (stream name made);
// shipped by log_shipper.h.
struct AwsLogsConfig {
  std::string group;
  std::string stream;
  bool non_blocking = false;
  uint64_t max_buffer_bytes = 1u << 20;  // Docker's max-buffer-size default, 1m
};

struct ContainerSpec {
  std::string name;
  std::string image_reference;  // used through the ImageResolver when `image` is empty
  ImageSource image;
  bool essential = true;
  std::optional<std::vector<std::string>> entry_point;  // replaces the image's Entrypoint
  std::optional<std::vector<std::string>> command;      // replaces the image's Cmd
  std::vector<std::pair<std::string, std::string>> environment;  // added to / replacing the image's Env
  // Environment from the definition's `secrets`, after `environment`: kept
  // in memory only (its bundle's config.json lives outside the data dir
  // until runc has read it).
  std::vector<std::pair<std::string, std::string>> secrets;
  std::string working_directory;
  std::string user;  // "uid", "uid:gid", "name", "name:group"
  std::string hostname;
  bool readonly_root_filesystem = false;
  int64_t memory_mib = 0;              // hard limit; 0: none
  int64_t memory_reservation_mib = 0;  // soft limit; 0: none
  int64_t cpu_shares = 0;              // 0: runc's default (1024)
  int64_t pids_limit = 0;              // 0: none
  std::vector<Ulimit> ulimits;
  std::optional<std::chrono::seconds> stop_timeout;  // default 30 s
  std::string stop_signal;  // empty: the image's StopSignal, else SIGTERM
  std::vector<PortMapping> port_mappings;
  std::optional<HealthCheck> health_check;
  std::vector<MountPoint> mount_points;
  std::vector<VolumeFrom> volumes_from;
  std::vector<Dependency> depends_on;
  // How long containers depending on this one (COMPLETE, SUCCESS, HEALTHY)
  // wait for it, from its start (the agent's rule).
  std::optional<std::chrono::seconds> start_timeout;
  LinuxOptions linux;
  // Name resolution inside the container (bridge and host modes; awsvpc takes the task's).
  std::vector<std::string> dns_servers;
  std::vector<std::string> dns_search_domains;
  std::vector<std::pair<std::string, std::string>> extra_hosts;  // hostname, address
  std::vector<std::pair<std::string, std::string>> labels;       // dockerLabels, as OCI annotations
  bool disable_networking = false;  // a network namespace of its own with loopback only
  std::optional<RestartPolicy> restart_policy;
  // logDriver awslogs: the output also goes to CloudWatch Logs.
  std::optional<AwsLogsConfig> awslogs;
};

enum class NetworkMode { kBridge, kHost, kAwsvpc, kNone };

struct TaskSpec {
  std::string task_id;  // [A-Za-z0-9_.-]+, e.g. the ECS task id
  std::vector<ContainerSpec> containers;
  NetworkMode network_mode = NetworkMode::kBridge;
  // Where host ports answer: bridge/host: the instance's public IP (a
  // 127.x address) and private IP; awsvpc: the task's own. Addresses
  // that are not local to this host (private ranges) are not listened on.
  std::string public_ip;
  std::string private_ip;
  std::vector<std::string> security_group_ids;  // destination groups of every connection
  std::vector<Volume> volumes;
  // Namespaces the containers share: "" (each its own), "task" (one for
  // the task), "host" (the host's). ipc also takes "none".
  std::string pid_mode;
  std::string ipc_mode;
  // Task-level limits (task definition cpu/memory; FARGATE): a cgroup
  // around all the task's containers. 0: none.
  int64_t memory_mib = 0;
  int64_t cpu_shares = 0;
};

struct NetworkBinding {
  std::string container_name;
  std::string bind_ip;
  uint16_t container_port = 0;
  uint16_t host_port = 0;
  std::string protocol = "tcp";
};

// PENDING: not started yet (waiting on its dependsOn conditions).
enum class ContainerStatus { kPending, kRunning, kStopped };
enum class HealthStatus { kUnknown, kHealthy, kUnhealthy };

struct ContainerState {
  std::string name;
  std::string runtime_id;  // runc container id
  ContainerStatus status = ContainerStatus::kPending;
  std::optional<int> exit_code;  // unknown when it exited while the daemon was down
  std::string reason;            // "OutOfMemoryError: Container killed due to memory usage", ...
  HealthStatus health = HealthStatus::kUnknown;
  int pid = 0;
};

// Why the runtime ended a task (ECS maps these to stopCode/stoppedReason).
enum class StopCause { kNone, kUserInitiated, kEssentialContainerExited, kTaskFailedToStart };

// The file, directory, cgroup and runc id component for a container: its
// name when short, else a prefix and a hash of it (ECS allows 255
// characters; a log file "<name>.log.1" and runc's state dir would not fit).
std::string container_file_name(const std::string& container);

struct TaskState {
  std::string task_id;
  bool stopped = false;  // every container exited and resources released
  StopCause stop_cause = StopCause::kNone;
  std::string stopped_reason;  // the reason given to stop(), or the runtime's
  HealthStatus health = HealthStatus::kUnknown;  // task health: unhealthy if any essential is
  std::vector<ContainerState> containers;
  std::vector<NetworkBinding> bindings;
};

enum class EventKind { kContainerStarted, kContainerExited, kHealthChanged, kTaskStopped };

struct TaskEvent {
  EventKind kind = EventKind::kContainerExited;
  std::string task_id;
  std::string container_name;  // empty for kTaskStopped
  TaskState state;             // snapshot after the change
};

// Called on a runtime thread, never with a runtime lock held: it may call
// state() or stop(); it must not block for long.
using EventHandler = std::function<void(const TaskEvent&)>;

// The security-group snapshot the forwarders decide connections with; called
// once per accepted connection (keep it cheap: an atomic load).
using SecurityGroupSource = std::function<std::shared_ptr<const ec2::SecurityGroupTable>()>;

// A way into a task for the load balancer, which reaches targets on their
// private (VPC) addresses that have no socket on this host: a TCP socket
// already inside the task's network namespace, not yet connected; the
// caller connects it to 127.0.0.1:container_port (asio: assign, then
// async_connect) and owns it.
struct PrivateRoute {
  int fd = -1;
  uint16_t container_port = 0;
};

struct TaskUsage {
  uint64_t cpu_ns = 0;
  uint64_t memory_bytes = 0;
};

class TaskRuntime {
 public:
  virtual ~TaskRuntime() = default;

  // Starts every container without dependencies; returns once they run
  // (bindings assigned and listening). Containers with dependsOn start
  // later, as their conditions are met (kContainerStarted), or the task
  // stops with kTaskFailedToStart when one cannot be. Errors: kInvalid (bad spec), kAlreadyExists (task id known),
  // kConflict (host port taken), kNotFound ("CannotPullContainerError: ..."
  // image not there), kInternal (runc failed: "ResourceInitializationError:
  // ..."). On error nothing of the task is left behind.
  virtual Result<TaskState> start(const TaskSpec& spec) = 0;
  // Begins stopping: stop signal, SIGKILL after stop timeout. Returns at
  // once; kTaskStopped follows. kNotFound for an unknown task; stopping a
  // stopped task is Ok.
  virtual Status stop(const std::string& task_id, const std::string& reason) = 0;
  virtual Result<TaskState> state(const std::string& task_id) const = 0;
  virtual std::vector<TaskState> list() const = 0;
  // After a restart: re-attaches the tasks found in the data dir (their
  // forwarders bound again on the same ports), cleans up what is left of
  // tasks whose containers are gone (those are returned stopped).
  virtual std::vector<TaskState> adopt() = 0;
  // Drops a stopped task from memory. kConflict while it runs.
  virtual Status forget(const std::string& task_id) = 0;
  // What a running task's containers use together now (CPU time since the
  // start, memory): ECS's CPUUtilization and MemoryUtilization come from
  // it. nullopt for a task it does not run.
  virtual std::optional<TaskUsage> usage(const std::string& task_id) const = 0;
  // Connections dropped by security groups, over all forwarders and routes.
  virtual uint64_t dropped_connections() const = 0;
  // The connection decision for ip:port (a task's or instance's private
  // address) from `source` carrying `source_groups` (the ALB's groups),
  // against the task's groups. kNotFound: nothing published there (treat
  // as refused); kDenied: dropped by security groups (treat as a connect
  // timeout, no answer).
  virtual Result<PrivateRoute> open_private_route(const std::string& ip, uint16_t port,
                                                  const ec2::IpAddress& source,
                                                  std::span<const ec2::GroupId> source_groups) = 0;
};

const char* to_string(ContainerStatus status);  // "PENDING", "RUNNING", "STOPPED"
const char* to_string(HealthStatus status);     // "UNKNOWN", "HEALTHY", "UNHEALTHY"

}  // namespace berth::runtime
