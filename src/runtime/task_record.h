// runtime/task_record: what the runtime keeps of one task, in memory and
// in tasks/<task>/task.json (just what adoption needs to carry on: the
// containers' runc ids and pids, stop signals and timeouts, health checks,
// and the listeners to bind again).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "runtime/image_cache.h"
#include "runtime/runtime.h"
#include "runtime/volumes.h"

namespace berth::runtime {

struct ContainerRecord {
  ContainerSpec spec;  // after adoption: name, essential, health check, stop settings only
  std::string runc_id;
  int pid = 0;
  bool waitable = true;  // our child (or reparented to us): waitpid gives the exit code
  int stop_signal = 15;
  std::chrono::seconds stop_timeout{30};
  std::chrono::steady_clock::time_point started{};
  int health_failures = 0;
  bool kill_sent = false;
  CachedImage image;       // what it starts from (kept for a start that waits on dependencies)
  bool launching = false;   // being started by the monitor, outside the lock
  bool restarting = false;  // exited; restartPolicy starts it again in place
  ContainerState state;
};

struct Listening {
  std::string ip;
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";
};

struct TaskRecord {
  TaskSpec spec;  // after adoption: ids, network and container names only
  std::string netns;
  std::vector<ContainerRecord> containers;
  std::vector<NetworkBinding> bindings;
  std::vector<Listening> listening;
  bool stopping = false;
  bool releasing = false;
  bool released = false;
  StopCause cause = StopCause::kNone;
  std::string reason;
  std::map<std::string, PreparedVolume> volumes;
  std::jthread stopper;
  std::vector<std::jthread> health;
};

std::string task_record_json(const TaskRecord& task);
// A running container of the task (its pid; an essential one when there
// is one), whose pid and ipc namespaces pidMode/ipcMode "task" share; 0
// when none runs yet.
int namespace_holder(const TaskRecord& task);
Result<std::unique_ptr<TaskRecord>> parse_task_record(std::string_view json);

}  // namespace berth::runtime
