// runtime/runc_runtime: TaskRuntime on runc, the host agent of one machine.
//
//   <data>/runtime/
//     runc/                     runc --root (its private state)
//     images/<digest>/rootfs    ImageCache, read-only lower layers
//     tasks/<task>/task.json    what adoption needs (written before runc runs)
//     tasks/<task>/<c>/         config.json, upper/, work/, rootfs/ (overlay,
//                               mounted here until runc started the container),
//                               etc/ (hosts, resolv.conf, hostname bound in)
//     tasks/<task>/volumes/<v>  task volumes (volumes.h)
//     volumes/<v>/_data         shared Docker volumes, kept across tasks
//     logs/<task>/<c>.log       container stdout+stderr, rotated to .log.1,
//                               removed log_retention after the task is gone;
//                               awslogs: also shipped (log_shipper.h)
//   /run/netns/berth-<task>     the task's network namespace
//   /run/berth/<hash>/          console sockets; bundles/<c>/ of containers with secrets, gone once runc read them
//   cgroups /berth/<task>       task cpu/memory (cgroups.h)
//   cgroups /berth/<task>/<c>   container memory, cpu, pids limits (runc makes them)
//
// Threads: the caller's (start/stop/state), one monitor (exit detection
// every kPollInterval, OOM, log rotation, cleanup), one per stopping task
// (signal, wait stopTimeout, SIGKILL), one per container health check, and
// the forwarders' event loop. The daemon is the containers' subreaper, so
// exit codes come from waitpid; a container adopted from an earlier daemon
// is watched by pid and its exit code is unknown.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/forwarder.h"
#include "runtime/image_cache.h"
#include "runtime/log_shipper.h"
#include "runtime/netns.h"
#include "runtime/ports.h"
#include "runtime/runc.h"
#include "runtime/runtime.h"

namespace berth::runtime {

struct RuncRuntimeOptions {
  std::filesystem::path data_dir;  // <data_dir>/runtime/... is ours
  std::string runc = "runc";
  std::string umoci = "umoci";
  SecurityGroupSource security_groups;
  EventHandler on_event;
  ImageResolver resolve_image;  // for containers given only an image_reference
  uint64_t log_max_bytes = 10u << 20;
  // Logs of tasks this runtime no longer has are kept this long after their
  // last write (ECS shows a stopped task for an hour), then removed.
  std::chrono::seconds log_retention{3600};
  std::chrono::milliseconds poll_interval{50};
  std::string init_binary;     // berth-init (initProcessEnabled); empty: the one built with berth
  std::string console_binary;  // berth-console (pseudoTerminal, interactive); empty: the one built with berth
  std::string reroot_binary;   // berth-reroot (runc under a chroot); empty: the one built with berth
  // Where containers with awslogs ship their output (CloudWatch Logs);
  // none: such containers keep it in their log file only.
  std::shared_ptr<LogDestination> log_destination;
  std::chrono::milliseconds log_ship_interval{200};
};

// What run_container opened for a container's terminal or stdin; the
// berth-console helper keeps its own copies, ours close once runc ran.
struct ConsoleAttachment {
  std::vector<int> fds;
  std::string socket_path;
  int helper = 0;  // berth-console's pid
  void close_ours();
  // When runc failed: a tty helper would wait for a terminal forever.
  void abandon();
};

struct TaskRecord;

class RuncTaskRuntime final : public TaskRuntime {
 public:
  explicit RuncTaskRuntime(RuncRuntimeOptions options);
  // Leaves containers running (they are adopted by the next instance).
  ~RuncTaskRuntime() override;

  Result<TaskState> start(const TaskSpec& spec) override;
  Status stop(const std::string& task_id, const std::string& reason) override;
  Result<TaskState> state(const std::string& task_id) const override;
  std::optional<TaskUsage> usage(const std::string& task_id) const override;
  std::vector<TaskState> list() const override;
  std::vector<TaskState> adopt() override;
  Status forget(const std::string& task_id) override;
  uint64_t dropped_connections() const override { return forwarders_.dropped(); }
  Result<PrivateRoute> open_private_route(const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                                          std::span<const ec2::GroupId> source_groups) override;

  // Whether the runtime could make its directories (DATA/runtime/..., its
  // run dir under /run/berth); the daemon refuses to start without them.
  const Status& startup_status() const { return startup_status_; }

  size_t listener_count() const { return forwarders_.listener_count(); }
  std::filesystem::path log_path(const std::string& task_id, const std::string& container) const;

 private:
  void monitor_loop(std::stop_token stop);
  void poll_once();
  void health_loop(std::stop_token stop, std::string task_id, size_t index);
  void stop_sequence(std::stop_token stop, std::string task_id);
  void begin_stop(TaskRecord& task, StopCause cause, std::string reason);
  void release(TaskRecord& task);
  // Each container's image, resolved and unpacked; an exception of the
  // resolver becomes a CannotPullContainerError.
  Result<std::vector<CachedImage>> resolve_images(const TaskSpec& spec);
  // `holder`: a running container of the task whose pid and ipc
  // namespaces the task shares (pidMode/ipcMode "task"); 0: none yet.
  Result<int> run_container(TaskRecord& task, size_t index, int holder);
  // pseudoTerminal: a console socket whose master berth-console copies to
  // the log; interactive: a stdin pipe berth-console holds open.
  Result<ConsoleAttachment> attach_console(const LinuxOptions& options, int log_fd, RunOptions& run);
  void start_waiting_containers();
  void start_health_check(TaskRecord& task, size_t index);
  // task.json, durably (core/durable_file.h); the error says why not.
  // kDurable: on disk when it returns; kAtomic: replaced at once, durable
  // only after a sync_file (core/durable_file.h).
  enum class Durability { kDurable, kAtomic };
  Status write_task_record(const TaskRecord& task, Durability durability = Durability::kDurable);
  Status listen_all(TaskRecord& task);
  void start_health_checks(TaskRecord& task);
  void emit(const std::vector<TaskEvent>& events);
  TaskState snapshot(const TaskRecord& task) const;
  void rotate_logs();
  // awslogs: the shipper tails (and rotates) these containers' log files.
  void ship_logs_of(const TaskRecord& task);
  void prune_logs();

  RuncRuntimeOptions options_;
  Status startup_status_ = Ok{};
  std::filesystem::path root_;
  std::filesystem::path run_dir_;  // /run/berth/<hash of root_>: console sockets, secret bundles (tmpfs)
  Runc runc_;
  ImageCache images_;
  PortAllocator ports_;
  Forwarders forwarders_;
  NetnsPool netns_pool_;  // a task's namespace ready before it starts

  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  std::map<std::string, std::unique_ptr<TaskRecord>> tasks_;
  std::unique_ptr<LogShipper> shipper_;  // when options_.log_destination
  std::jthread monitor_;
};

}  // namespace berth::runtime
