// The monitor (exit detection, OOM, cleanup of finished tasks, log
// rotation) and the container health checks of RuncTaskRuntime.
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>

#include "core/log.h"
#include "runtime/cgroups.h"
#include "runtime/runc_runtime.h"
#include "runtime/subprocess.h"
#include "runtime/task_record.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

constexpr const char* kOomReason = "OutOfMemoryError: Container killed due to memory usage";
constexpr auto kRotateEvery = std::chrono::seconds(1);
constexpr auto kPruneEvery = std::chrono::seconds(60);

// For a process that is not our child: gone, or dead and waiting for a
// parent that is not us to reap it.
bool gone_or_zombie(int pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

// Zombies of ours no one else waits for: berth-console helpers that ended
// with their container, and runc's own helper processes ("runc:[1:CHILD]"
// and the like) whose runc died before reaping them (a health check's
// `runc exec` killed at its timeout while the container was dying),
// reparented to us, the subreaper. Unreaped, runc's keep the container's
// pid namespace alive: its init cannot finish dying, and the container
// never exits. Nothing waits for these exit statuses, so reaping them
// steals nothing.
void reap_orphaned_helpers() {
  pid_t self = ::getpid();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    // "<pid> (<comm>) <state> <ppid> ...": comm may hold spaces and parentheses.
    auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) continue;
    std::string comm = stat.substr(open + 1, close - open - 1);
    char state = stat[close + 2];
    pid_t ppid = static_cast<pid_t>(std::atol(stat.c_str() + close + 3));
    bool ours = comm.rfind("runc:[", 0) == 0 || comm == "berth-console";
    if (ppid == self && state == 'Z' && ours) ::waitpid(std::stoi(name), nullptr, WNOHANG);
  }
}

// restartPolicy: not while the task stops, not for an ignored exit code,
// not when it ran for less than restartAttemptPeriod (a crash loop).
bool restart_wanted(const ContainerRecord& c, bool task_stopping) {
  if (!c.spec.restart_policy || task_stopping || !c.waitable) return false;
  const auto& policy = *c.spec.restart_policy;
  if (c.state.exit_code && std::find(policy.ignored_exit_codes.begin(), policy.ignored_exit_codes.end(),
                                     *c.state.exit_code) != policy.ignored_exit_codes.end())
    return false;
  return std::chrono::steady_clock::now() - c.started >= policy.attempt_period;
}

}  // namespace

void RuncTaskRuntime::emit(const std::vector<TaskEvent>& events) {
  if (!options_.on_event) return;
  for (const auto& e : events) options_.on_event(e);
}

void RuncTaskRuntime::monitor_loop(std::stop_token stop) {
  auto last_rotate = std::chrono::steady_clock::now();
  auto last_prune = last_rotate - kPruneEvery;  // once at start: what an earlier daemon left
  auto prune_every = std::min<std::chrono::steady_clock::duration>(kPruneEvery, options_.log_retention);
  while (!stop.stop_requested()) {
    // The loop outlives any one pass: what a pass throws (an event handler
    // of the ECS side included) is logged, and the next pass runs.
    try {
      poll_once();
      start_waiting_containers();
      auto now = std::chrono::steady_clock::now();
      if (now - last_rotate >= kRotateEvery) {
        rotate_logs();
        reap_orphaned_helpers();
        last_rotate = now;
      }
      if (now - last_prune >= prune_every) {
        prune_logs();
        last_prune = now;
      }
    } catch (const std::exception& e) {
      log::error("runtime", "monitor pass: ", e.what());
    }
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, stop, options_.poll_interval, [] { return false; });
  }
}

void RuncTaskRuntime::poll_once() {
  std::vector<TaskEvent> events;
  std::vector<TaskRecord*> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, task] : tasks_) {
      if (!task || task->released || task->releasing) continue;
      for (auto& c : task->containers) {
        if (c.state.status != ContainerStatus::kRunning || c.pid <= 0) continue;
        bool exited = false;
        if (c.waitable) {
          int status = 0;
          pid_t r = ::waitpid(c.pid, &status, WNOHANG);
          if (r == c.pid) {
            exited = true;
            c.state.exit_code = exit_code_of(status);
          } else if (r < 0 && errno == ECHILD) {
            log::warn("runtime", "task ", id, " container ", c.spec.name, " pid ", c.pid,
                      " is not our child: watching it by pid");
            c.waitable = false;
          }
        }
        if (!c.waitable && !exited) exited = gone_or_zombie(c.pid);
        if (!exited) continue;
        if (restart_wanted(c, task->stopping)) {
          // Started again in place by start_waiting_containers; ECS sees it keep running.
          log::info("runtime", "task ", id, " container ", c.spec.name, " exited ",
                    c.state.exit_code ? std::to_string(*c.state.exit_code) : "(unknown)", ": restarting (restartPolicy)");
          c.state.status = ContainerStatus::kPending;
          c.state.health = HealthStatus::kUnknown;  // as Docker's "starting" after a restart
          c.health_failures = 0;
          c.restarting = true;
          continue;
        }
        c.state.status = ContainerStatus::kStopped;
        if (shipper_ && c.spec.awslogs) shipper_->container_exited(id + "/" + c.spec.name);
        // The container's own limit, or the task's (FARGATE) around it.
        if (oom_killed(container_cgroup(id, container_file_name(c.spec.name))) || oom_killed(task_cgroup(id)))
          c.state.reason = kOomReason;
        log::info("runtime", "task ", id, " container ", c.spec.name, " exited ",
                  c.state.exit_code ? std::to_string(*c.state.exit_code) : "(unknown)");
        if (c.spec.essential && !task->stopping)
          begin_stop(*task, StopCause::kEssentialContainerExited, "Essential container in task exited");
        events.push_back({EventKind::kContainerExited, id, c.spec.name, snapshot(*task)});
      }
      // A stopping task's containers that never started never will.
      if (task->stopping)
        for (auto& c : task->containers)
          if (c.state.status == ContainerStatus::kPending && !c.launching) c.state.status = ContainerStatus::kStopped;
      bool all_stopped = true;
      for (const auto& c : task->containers) all_stopped = all_stopped && c.state.status == ContainerStatus::kStopped;
      if (all_stopped) {
        task->releasing = true;
        finished.push_back(task.get());
      }
    }
  }
  if (!events.empty()) changed_.notify_all();
  // Releasing runs runc and unmounts: outside the lock. A releasing task
  // cannot be forgotten, so the pointers stay valid.
  for (auto* task : finished) {
    std::vector<std::jthread> health;
    {
      std::lock_guard lock(mutex_);
      health = std::move(task->health);
      task->health.clear();
    }
    for (auto& h : health) h.request_stop();
    changed_.notify_all();
    health.clear();
    release(*task);
    std::lock_guard lock(mutex_);
    task->released = true;
    task->releasing = false;
    if (task->cause == StopCause::kNone) {
      task->cause = StopCause::kEssentialContainerExited;
      task->reason = "Essential container in task exited";
    }
    events.push_back({EventKind::kTaskStopped, task->spec.task_id, "", snapshot(*task)});
  }
  emit(events);
}

namespace {

enum class Readiness { kWait, kReady, kNever };

// The ECS agent's texts (its dependency graph) become the container's
// reason after "CannotStartContainerError: ".
constexpr const char* kCannotStart = "CannotStartContainerError: dependency graph: ";

// Whether container `index` may start now (dependsOn), never will, or must
// wait, by the agent's rules: a dependency that stopped without starting
// will never start; SUCCESS needs exit code 0; a dependency's own
// startTimeout (counted from its start) bounds the wait for COMPLETE,
// SUCCESS and HEALTHY; with none the wait is forever (the task stays
// PENDING, as on ECS).
Readiness dependency_readiness(const TaskRecord& task, size_t index, std::string& why) {
  const auto& c = task.containers[index];
  Readiness result = Readiness::kReady;
  for (const auto& d : c.spec.depends_on) {
    const std::string pair = "[" + d.container + "] for target [" + c.spec.name + "]";
    const ContainerRecord* dep = nullptr;
    for (const auto& other : task.containers)
      if (other.spec.name == d.container) dep = &other;
    if (!dep) {
      why = kCannotStart + ("container ordering dependency " + pair + " does not exist.");
      return Readiness::kNever;
    }
    bool stopped = dep->state.status == ContainerStatus::kStopped;
    bool started = dep->pid > 0;
    if (stopped && !started) {
      why = kCannotStart + ("failed to resolve container ordering dependency " + pair +
                            " because dependency will never start");
      return Readiness::kNever;
    }
    bool met = false;
    switch (d.condition) {
      case DependencyCondition::kStart: met = started; break;
      case DependencyCondition::kComplete: met = stopped; break;
      case DependencyCondition::kSuccess:
        met = stopped && dep->state.exit_code == 0;
        if (stopped && !met) {
          why = kCannotStart + ("failed to resolve container ordering dependency " + pair +
                                " as dependency did not exit successfully.");
          return Readiness::kNever;
        }
        break;
      // Confirmed at start only: a dependency that turns unhealthy later changes nothing.
      case DependencyCondition::kHealthy: met = dep->state.health == HealthStatus::kHealthy; break;
    }
    if (met) continue;
    result = Readiness::kWait;
    if (d.condition != DependencyCondition::kStart && started && !stopped && dep->spec.start_timeout &&
        std::chrono::steady_clock::now() - dep->started >= *dep->spec.start_timeout) {
      why = kCannotStart + ("container ordering dependency " + pair + " has timed out.");
      return Readiness::kNever;
    }
  }
  return result;
}

}  // namespace

void RuncTaskRuntime::start_waiting_containers() {
  struct Launch {
    TaskRecord* task;
    size_t index;
    int holder;  // whose pid/ipc namespaces a "task" mode shares
    bool restart;
  };
  std::vector<Launch> launches;
  std::vector<TaskEvent> events;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, task] : tasks_) {
      if (!task || task->stopping || task->released || task->releasing) continue;
      for (size_t i = 0; i < task->containers.size(); ++i) {
        auto& c = task->containers[i];
        if (c.state.status != ContainerStatus::kPending || c.launching) continue;
        std::string why;
        auto readiness = c.restarting ? Readiness::kReady : dependency_readiness(*task, i, why);
        if (readiness == Readiness::kReady) {
          c.launching = true;
          launches.push_back({task.get(), i, namespace_holder(*task), c.restarting});
        } else if (readiness == Readiness::kNever) {
          // It never runs: the agent marks it stopped with exit code 143. A
          // task goes on without a non-essential one (whatever depends on
          // it fails in turn), not without an essential one.
          c.state.status = ContainerStatus::kStopped;
          c.state.exit_code = 143;
          c.state.reason = why;
          events.push_back({EventKind::kContainerExited, id, c.spec.name, snapshot(*task)});
          if (c.spec.essential) {
            begin_stop(*task, StopCause::kEssentialContainerExited, "Essential container in task exited");
            break;
          }
        }
      }
    }
  }
  // runc runs outside the lock. A task with a launching container is not
  // released (its container is not stopped), so the pointer stays valid.
  for (const auto& l : launches) {
    if (l.restart) {
      // In place: the same writable layer, a new runc container.
      const auto& c = l.task->containers[l.index];
      (void)runc_.remove(c.runc_id, true);
      ::umount2((root_ / "tasks" / l.task->spec.task_id / container_file_name(c.spec.name) / "rootfs").c_str(),
                MNT_DETACH);
    }
    auto pid = run_container(*l.task, l.index, l.holder);
    std::lock_guard lock(mutex_);
    auto& task = *l.task;
    auto& c = task.containers[l.index];
    c.launching = false;
    c.restarting = false;
    if (!pid) {
      c.state.status = ContainerStatus::kStopped;
      c.state.reason = pid.error().message;
      if (!task.stopping) begin_stop(task, StopCause::kTaskFailedToStart, pid.error().message);
      continue;
    }
    c.pid = *pid;
    c.state.pid = *pid;
    c.state.status = ContainerStatus::kRunning;
    c.started = std::chrono::steady_clock::now();
    if (auto written = write_task_record(task); !written)
      log::error("runtime", "task ", task.spec.task_id, ": ", written.error().message,
                 " (a restarted daemon will not know this container's new pid)");
    if (task.stopping) {
      // The task began stopping while this one started: its stop sequence
      // has already chosen what to signal.
      (void)runc_.kill(c.runc_id, SIGKILL);
      continue;
    }
    start_health_check(task, l.index);
    log::info("runtime", "task ", task.spec.task_id, " container ", c.spec.name,
              l.restart ? " restarted (restartPolicy)" : " started (dependencies met)");
    events.push_back({EventKind::kContainerStarted, task.spec.task_id, c.spec.name, snapshot(task)});
  }
  if (!events.empty()) changed_.notify_all();
  emit(events);
}

void RuncTaskRuntime::rotate_logs() {
  std::vector<fs::path> logs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, task] : tasks_)
      if (task && !task->released)
        for (const auto& c : task->containers)
          if (!(shipper_ && c.spec.awslogs)) logs.push_back(log_path(id, c.spec.name));  // the shipper rotates its own
  }
  for (const auto& path : logs) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec || size <= options_.log_max_bytes) continue;
    // copytruncate: the container holds the file open with O_APPEND, so
    // after truncation its next write lands at the new start. The copy is
    // renamed into place so that a reader of .1 never sees half of it.
    fs::path old = path, part = path;
    old += ".1";
    part += ".1.part";
    fs::copy_file(path, part, fs::copy_options::overwrite_existing, ec);
    if (ec) continue;
    fs::rename(part, old, ec);
    if (ec) continue;
    fs::resize_file(path, 0, ec);
  }
}

void RuncTaskRuntime::prune_logs() {
  std::set<std::string> known;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, task] : tasks_) known.insert(id);
  }
  // Tasks on disk too: a running one not adopted yet (the daemon just
  // started) keeps its logs however long it has been quiet.
  // A directory's increment throws when it fails (a task dir removed under
  // the walk): this round ends there, the next one walks again. The
  // monitor thread must not die of it.
  try {
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(root_ / "tasks", ec)) known.insert(dir.path().filename().string());
    auto cutoff = fs::file_time_type::clock::now() - options_.log_retention;
    for (const auto& dir : fs::directory_iterator(root_ / "logs", ec)) {
      if (known.count(dir.path().filename().string())) continue;
      auto newest = fs::last_write_time(dir.path(), ec);
      for (const auto& f : fs::directory_iterator(dir.path(), ec))
        newest = std::max(newest, fs::last_write_time(f.path(), ec));
      if (newest < cutoff) fs::remove_all(dir.path(), ec);
    }
  } catch (const fs::filesystem_error& e) {
    log::warn("runtime", "pruning logs: ", e.what());
  }
}

void RuncTaskRuntime::health_loop(std::stop_token stop, std::string task_id, size_t index) {
  HealthCheck check;
  std::string runc_id;
  std::chrono::steady_clock::time_point started;
  {
    std::lock_guard lock(mutex_);
    auto it = tasks_.find(task_id);
    if (it == tasks_.end() || !it->second) return;
    const auto& c = it->second->containers[index];
    check = *c.spec.health_check;
    runc_id = c.runc_id;
    started = c.started;
  }
  std::vector<std::string> args;
  if (check.command.size() >= 2 && check.command[0] == "CMD-SHELL") {
    args = {"/bin/sh", "-c", check.command[1]};
  } else if (check.command.size() >= 2 && check.command[0] == "CMD") {
    args.assign(check.command.begin() + 1, check.command.end());
  } else {
    log::warn("runtime", "task ", task_id, ": health check needs CMD or CMD-SHELL");
    return;
  }
  auto interval = std::max<std::chrono::milliseconds>(check.interval, std::chrono::milliseconds(100));
  auto timeout = std::max<std::chrono::milliseconds>(check.timeout, std::chrono::milliseconds(100));
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, stop, interval, [] { return false; });
    }
    if (stop.stop_requested()) return;
    auto code = runc_.exec({runc_id, args}, timeout);
    bool passed = code && *code == 0;
    std::vector<TaskEvent> events;
    {
      std::lock_guard lock(mutex_);
      auto it = tasks_.find(task_id);
      if (it == tasks_.end() || !it->second || it->second->released) return;
      auto& task = *it->second;
      auto& c = task.containers[index];
      // Stopped, or restarted (restartPolicy): that run has a check of its own.
      if (c.state.status != ContainerStatus::kRunning || c.started != started) return;
      HealthStatus before = c.state.health;
      if (passed) {
        c.health_failures = 0;
        c.state.health = HealthStatus::kHealthy;
      } else if (std::chrono::steady_clock::now() - started >= check.start_period) {
        // Failures inside the start period do not count (Docker's rule).
        if (++c.health_failures >= std::max(1, check.retries)) c.state.health = HealthStatus::kUnhealthy;
      }
      if (c.state.health != before) events.push_back({EventKind::kHealthChanged, task_id, c.spec.name, snapshot(task)});
    }
    emit(events);
  }
}

}  // namespace berth::runtime
