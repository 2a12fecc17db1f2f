// Start, stop, state and adoption. The monitor, health checks and logs are
// in runtime_monitor.cpp.
#include "runtime/runc_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/durable_file.h"
#include "core/ids.h"
#include "core/log.h"
#include "runtime/cgroups.h"
#include "runtime/etc_files.h"
#include "runtime/netns.h"
#include "runtime/oci_config.h"
#include "runtime/subprocess.h"
#include "runtime/task_record.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

constexpr std::chrono::seconds kDefaultStopTimeout{30};
constexpr const char* kLog = "runtime";

bool valid_id(const std::string& id, size_t max = 64) {
  if (id.empty() || id.size() > max) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return id != "." && id != "..";
}

// ECS allows container names of 255 characters.
constexpr size_t kMaxContainerName = 255;

// FNV-1a: stable across builds (an adopted task finds its files again).
std::string stable_hash(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// Whether container `start`'s dependsOn chain leads back to it (the agent
// refuses such a task as a whole).
bool depends_on_cycle(const TaskSpec& spec, size_t start) {
  std::vector<size_t> stack{start};
  std::set<size_t> seen;
  while (!stack.empty()) {
    size_t at = stack.back();
    stack.pop_back();
    for (const auto& d : spec.containers[at].depends_on)
      for (size_t j = 0; j < spec.containers.size(); ++j) {
        if (spec.containers[j].name != d.container) continue;
        if (j == start) return true;
        if (seen.insert(j).second) stack.push_back(j);
      }
  }
  return false;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Loopback addresses are where this host answers; anything else (a VPC
// private address) has no interface here.
bool is_local_address(const std::string& ip) { return ip.rfind("127.", 0) == 0; }

bool write_file_atomic(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

std::string log_tail(const fs::path& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.size() > max) text = text.substr(text.size() - max);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Error init_error(const std::string& message) {
  return Error::internal("ResourceInitializationError: " + message);
}

// Docker's own /etc/hosts, resolv.conf and hostname (written in `etc_dir`,
// bound over the image's), unless the definition mounts something there.
Status add_etc_files(const ContainerSpec& spec, const fs::path& etc_dir, std::vector<BindMount>& binds) {
  std::string hostname = spec.hostname.empty() ? spec.name.substr(0, 63) : spec.hostname;
  const std::pair<const char*, std::string> files[] = {
      {"hosts", hosts_file(hostname, spec.extra_hosts)},
      {"resolv.conf", resolv_conf(spec.dns_servers, spec.dns_search_domains, read_text("/etc/resolv.conf"))},
      {"hostname", hostname + "\n"}};
  for (const auto& [name, text] : files) {
    std::string destination = std::string("/etc/") + name;
    bool mounted = false;
    for (const auto& b : binds) mounted = mounted || b.destination == destination;
    if (mounted) continue;
    if (!write_file_atomic(etc_dir / name, text)) return init_error("cannot write " + destination);
    binds.push_back({(etc_dir / name).string(), destination, false});
  }
  return Ok{};
}

}  // namespace

std::string container_file_name(const std::string& container) {
  constexpr size_t kKeep = 48;
  if (container.size() <= kKeep + 16) return container;
  return container.substr(0, kKeep) + "-" + stable_hash(container);
}

const char* to_string(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::kPending: return "PENDING";
    case ContainerStatus::kRunning: return "RUNNING";
    case ContainerStatus::kStopped: return "STOPPED";
  }
  return "PENDING";
}

const char* to_string(HealthStatus status) {
  switch (status) {
    case HealthStatus::kUnknown: return "UNKNOWN";
    case HealthStatus::kHealthy: return "HEALTHY";
    case HealthStatus::kUnhealthy: return "UNHEALTHY";
  }
  return "UNKNOWN";
}

RuncTaskRuntime::RuncTaskRuntime(RuncRuntimeOptions options)
    : options_(std::move(options)),
      root_(options_.data_dir / "runtime"),
      // Per data dir: several daemons may share the machine.
      run_dir_(fs::path("/run/berth") / stable_hash(fs::absolute(root_).string())),
      runc_((root_ / "runc").string(), options_.runc),
      images_(root_ / "images", options_.umoci),
      forwarders_(options_.security_groups) {
  std::error_code ec;
  // A directory it cannot make is recorded (startup_status) rather than
  // found later by every task start.
  auto need_directory = [&](const fs::path& dir) {
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir) && startup_status_.ok())
      startup_status_ = Error::internal("cannot create " + dir.string() + (ec ? ": " + ec.message() : ""));
  };
  for (const char* d : {"runc", "images", "tasks", "logs", "volumes"}) need_directory(root_ / d);
  if (options_.init_binary.empty()) options_.init_binary = BERTH_INIT_BINARY;
  if (options_.console_binary.empty()) options_.console_binary = BERTH_CONSOLE_BINARY;
  if (options_.reroot_binary.empty()) options_.reroot_binary = BERTH_REROOT_BINARY;
  // In a chroot, runc exec (health checks) would land outside the container
  // unless runc run starts where setns lands (see init/berth_reroot.cpp).
  if (auto chrooted = run_program({options_.reroot_binary, "check"}, std::chrono::seconds(10));
      chrooted && chrooted->exit_code == 1) {
    log::info("runtime", "running in a chroot: runc run goes through ", options_.reroot_binary);
    runc_.launch_runs_with({options_.reroot_binary, "run"});
  }
  // Secret bundles a killed daemon left (runc read them long ago, or never will).
  fs::remove_all(run_dir_ / "bundles", ec);
  need_directory(run_dir_);
  fs::permissions(run_dir_, fs::perms::owner_all, ec);
  // Containers outlive `runc run -d`; as their subreaper the daemon gets
  // their exit status with waitpid, as containerd's shim does.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (options_.log_destination)
    shipper_ = std::make_unique<LogShipper>(options_.log_destination, options_.log_ship_interval,
                                            options_.log_max_bytes);
  monitor_ = std::jthread([this](std::stop_token stop) { monitor_loop(stop); });
}

RuncTaskRuntime::~RuncTaskRuntime() {
  monitor_.request_stop();
  changed_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  std::vector<std::jthread> threads;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, t] : tasks_) {
      if (t->stopper.joinable()) t->stopper.request_stop(), threads.push_back(std::move(t->stopper));
      for (auto& h : t->health) h.request_stop(), threads.push_back(std::move(h));
      t->health.clear();
    }
  }
  changed_.notify_all();
  threads.clear();  // joins, without the lock the threads take
  // Gone when empty (nothing being started): one per data dir would pile up in /run.
  std::error_code ec;
  fs::remove(run_dir_ / "bundles", ec);
  fs::remove(run_dir_, ec);
}

fs::path RuncTaskRuntime::log_path(const std::string& task_id, const std::string& container) const {
  return root_ / "logs" / task_id / (container_file_name(container) + ".log");
}

TaskState RuncTaskRuntime::snapshot(const TaskRecord& task) const {
  TaskState s;
  s.task_id = task.spec.task_id;
  s.stopped = task.released;
  s.stop_cause = task.cause;
  s.stopped_reason = task.reason;
  s.bindings = task.bindings;
  bool any_check = false, all_healthy = true, any_unhealthy = false;
  for (const auto& c : task.containers) {
    s.containers.push_back(c.state);
    if (!c.spec.essential || !c.spec.health_check) continue;
    any_check = true;
    any_unhealthy = any_unhealthy || c.state.health == HealthStatus::kUnhealthy;
    all_healthy = all_healthy && c.state.health == HealthStatus::kHealthy;
  }
  s.health = !any_check ? HealthStatus::kUnknown
             : any_unhealthy ? HealthStatus::kUnhealthy
             : all_healthy   ? HealthStatus::kHealthy
                             : HealthStatus::kUnknown;
  return s;
}

Status RuncTaskRuntime::listen_all(TaskRecord& task) {
  std::vector<std::string> addresses;
  if (!task.spec.public_ip.empty()) addresses.push_back(task.spec.public_ip);
  if (!task.spec.private_ip.empty() && task.spec.private_ip != task.spec.public_ip &&
      is_local_address(task.spec.private_ip))
    addresses.push_back(task.spec.private_ip);
  std::vector<ec2::GroupId> groups;
  for (const auto& g : task.spec.security_group_ids)
    if (auto id = ec2::GroupId::parse(g)) groups.push_back(*id);

  if (task.spec.network_mode == NetworkMode::kNone) return Ok{};
  for (const auto& c : task.spec.containers) {
    for (const auto& m : c.port_mappings) {
      const std::string protocol = m.protocol.empty() ? "tcp" : m.protocol;
      if (protocol != "tcp" && protocol != "udp")
        return Error::invalid("InvalidPortMapping", "protocol " + protocol);
      if (m.container_port == 0) return Error::invalid("InvalidPortMapping", "containerPort 0");
      // TCP and UDP ports are separate spaces on every address.
      auto port_space = [&](const std::string& ip) { return protocol == "udp" ? "udp/" + ip : ip; };
      uint16_t requested = task.spec.network_mode == NetworkMode::kBridge ? m.host_port : m.container_port;
      uint16_t host_port = requested;
      for (size_t i = 0; i < addresses.size(); ++i) {
        // The first address picks the port (dynamic or static); the others
        // must take the same one, as one host port on every interface. A
        // dynamic port some other program holds is skipped.
        for (int attempt = 0;; ++attempt) {
          const std::string space = port_space(addresses[i]);
          auto port = i == 0 ? ports_.allocate(space, requested) : ports_.allocate(space, host_port);
          if (!port) return std::move(port).error();
          auto listened = forwarders_.listen(
              {task.spec.task_id, addresses[i], *port, m.container_port, task.netns, groups, protocol});
          if (!listened && i == 0 && requested == 0 && attempt < 16 &&
              listened.error().error_class == ErrorClass::kConflict) {
            ports_.release(space, *port);
            continue;
          }
          if (!listened) {
            ports_.release(space, *port);
            return listened;
          }
          host_port = *port;
          task.listening.push_back({addresses[i], host_port, m.container_port, protocol});
          break;
        }
      }
      // A private address that is not local (a VPC address) has no socket:
      // the load balancer reaches it through open_private_route().
      if (protocol == "tcp" && !task.spec.private_ip.empty() && !is_local_address(task.spec.private_ip)) {
        if (host_port == 0) {
          auto port = ports_.allocate(task.spec.private_ip, 0);
          if (!port) return std::move(port).error();
          host_port = *port;
        } else if (!ports_.claim(task.spec.private_ip, host_port)) {
          return Error::conflict("PortInUse", "host port " + std::to_string(host_port) + " is in use on " +
                                                  task.spec.private_ip);
        }
        task.listening.push_back({task.spec.private_ip, host_port, m.container_port});
        forwarders_.add_route({task.spec.task_id, task.spec.private_ip, host_port, m.container_port, task.netns, groups});
      }
      task.bindings.push_back({c.name, "0.0.0.0", m.container_port, host_port, protocol});
    }
  }
  return Ok{};
}

Result<int> RuncTaskRuntime::run_container(TaskRecord& task, size_t index, int holder) {
  auto& c = task.containers[index];
  const CachedImage& image = c.image;
  fs::path dir = root_ / "tasks" / task.spec.task_id / container_file_name(c.spec.name);
  std::error_code ec;
  for (const char* d : {"upper", "work", "rootfs", "etc"}) fs::create_directories(dir / d, ec);
  if (ec) return init_error("cannot create " + dir.string() + ": " + ec.message());
  // overlayfs takes the merged root's mode from the upper dir: give it the
  // image root's, not the daemon's private umask.
  fs::permissions(dir / "upper", fs::status(image.rootfs, ec).permissions(), ec);
  std::string options = "lowerdir=" + image.rootfs + ",upperdir=" + (dir / "upper").string() +
                        ",workdir=" + (dir / "work").string();
  if (::mount("overlay", (dir / "rootfs").c_str(), "overlay", 0, options.c_str()) != 0)
    return init_error("overlay mount failed: " + std::string(std::strerror(errno)));

  auto user = resolve_user(image.rootfs, c.spec.user.empty() ? image.config.user : c.spec.user);
  if (!user) return init_error(user.error().message);
  auto binds = container_binds(task.spec, index, task.volumes);
  if (!binds) return init_error(binds.error().message);
  if (auto copied = copy_up(task.volumes, *binds, image.rootfs); !copied) return std::move(copied).error();
  if (auto etc = add_etc_files(c.spec, dir / "etc", *binds); !etc) return std::move(etc).error();
  auto shared = [&](const std::string& mode, const char* ns) -> std::string {
    if (mode == "host") return "host";
    if (mode == "task" && holder > 0) return "/proc/" + std::to_string(holder) + "/ns/" + ns;
    return "";  // its own (the first of a "task" namespace makes it)
  };
  auto config = make_oci_config(image.config, c.spec,
                                {(dir / "rootfs").string(), c.spec.disable_networking ? "" : netns_path(task.netns),
                                 container_cgroup(task.spec.task_id, container_file_name(c.spec.name)), *user,
                                 std::move(*binds), options_.init_binary, shared(task.spec.pid_mode, "pid"),
                                 shared(task.spec.ipc_mode, "ipc")});
  if (!config) return init_error(config.error().message);
  // A container with secrets gets its bundle (config.json holds them in its
  // env) outside the data dir, removed as soon as runc has read it.
  fs::path bundle = dir;
  if (!c.spec.secrets.empty()) {
    bundle = run_dir_ / "bundles" / c.runc_id;
    fs::create_directories(bundle, ec);
    fs::permissions(bundle, fs::perms::owner_all, ec);
  }
  struct RemoveBundle {
    fs::path path;
    ~RemoveBundle() {
      std::error_code ignored;
      if (!path.empty()) fs::remove_all(path, ignored);
    }
  } remove_bundle{bundle == dir ? fs::path() : bundle};
  if (!write_file_atomic(bundle / "config.json", *config)) return init_error("cannot write config.json");

  fs::path log = log_path(task.spec.task_id, c.spec.name);
  fs::create_directories(log.parent_path(), ec);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return init_error("cannot open " + log.string());
  RunOptions run{.id = c.runc_id, .bundle = bundle.string(), .pid_file = (dir / "pid").string()};
  auto console = attach_console(c.spec.linux, fd, run);
  if (!console) {
    ::close(fd);
    return init_error(console.error().message);
  }
  auto pid = runc_.run_detached(run, fd);
  ::close(fd);
  console->close_ours();
  if (!pid) console->abandon();
  if (!pid) {
    // runc prints why it failed on the stderr it shares with the container.
    std::string detail = log_tail(log, 400);
    return init_error("runc run " + c.runc_id + ": " + pid.error().message + (detail.empty() ? "" : ": " + detail));
  }
  // The container's mount namespace holds its own copy of the root from
  // here on. Left mounted here, it would lengthen every later runc start
  // (each copies this namespace's mount table: about 10 µs a mount here).
  ::umount2((dir / "rootfs").c_str(), MNT_DETACH);
  return *pid;
}

void ConsoleAttachment::close_ours() {
  for (int fd : fds) ::close(fd);
  fds.clear();
  if (!socket_path.empty()) ::unlink(socket_path.c_str());
  socket_path.clear();
}

void ConsoleAttachment::abandon() {
  close_ours();
  if (helper > 0) {
    ::kill(helper, SIGKILL);
    ::waitpid(helper, nullptr, 0);
  }
  helper = 0;
}

Result<ConsoleAttachment> RuncTaskRuntime::attach_console(const LinuxOptions& options, int log_fd, RunOptions& run) {
  ConsoleAttachment a;
  if (options.pseudo_terminal) {
    // A socket path must fit sockaddr_un (108 bytes): not under the data dir.
    a.socket_path = (run_dir_ / ("console-" + ids::random_hex(8) + ".sock")).string();
    sockaddr_un address{};
    if (a.socket_path.size() >= sizeof address.sun_path) return Error::internal("console socket path too long");
    int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, a.socket_path.c_str(), sizeof address.sun_path - 1);
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(s, 1) != 0) {
      if (s >= 0) ::close(s);
      return Error::internal("console socket " + a.socket_path + ": " + std::strerror(errno));
    }
    a.fds.push_back(s);
    auto helper = spawn_detached({options_.console_binary, "tty"}, {s, log_fd});
    if (!helper) {
      a.close_ours();
      return std::move(helper).error();
    }
    a.helper = *helper;
    run.console_socket = a.socket_path;
  } else if (options.interactive) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error::internal("stdin pipe: " + std::string(std::strerror(errno)));
    a.fds = {p[0], p[1]};
    auto helper = spawn_detached({options_.console_binary, "hold"}, {p[1]});
    if (!helper) {
      a.close_ours();
      return std::move(helper).error();
    }
    a.helper = *helper;
    run.stdin_fd = p[0];
  }
  return a;
}

Result<std::vector<CachedImage>> RuncTaskRuntime::resolve_images(const TaskSpec& spec) {
  std::vector<CachedImage> images;
  for (const auto& c : spec.containers) {
    // The resolver reads what others pushed: whatever it meets, the task
    // fails to pull, and the thread that started it goes on.
    try {
      ImageSource source = c.image;
      if (source.layout_dir.empty() && source.prepared_rootfs.empty()) {
        auto resolved = options_.resolve_image
                            ? options_.resolve_image(c.image_reference)
                            : Result<ImageSource>(Error::not_found(
                                  "CannotPullContainerError",
                                  "CannotPullContainerError: no image source for '" + c.image_reference + "'"));
        if (!resolved) return std::move(resolved).error();
        source = std::move(*resolved);
      }
      auto image = images_.ensure(source);
      if (!image) return std::move(image).error();
      images.push_back(std::move(*image));
    } catch (const std::exception& e) {
      return Error::not_found("CannotPullContainerError", "CannotPullContainerError: " + c.image_reference + ": " + e.what());
    }
  }
  return images;
}

Result<TaskState> RuncTaskRuntime::start(const TaskSpec& spec) {
  if (!valid_id(spec.task_id)) return Error::invalid("InvalidParameter", "bad task id '" + spec.task_id + "'");
  if (spec.containers.empty()) return Error::invalid("InvalidParameter", "a task needs a container");
  std::set<std::string> names;
  for (const auto& c : spec.containers)
    if (!valid_id(c.name, kMaxContainerName) || !names.insert(c.name).second)
      return Error::invalid("InvalidParameter", "bad or repeated container name '" + c.name + "'");
  for (size_t i = 0; i < spec.containers.size(); ++i) {
    for (const auto& d : spec.containers[i].depends_on) {
      if (!names.count(d.container) || d.container == spec.containers[i].name)
        return Error::invalid("InvalidParameter",
                              "container " + spec.containers[i].name + " depends on unknown container '" + d.container + "'");
      // The agent refuses the whole task when a HEALTHY condition can never be reported.
      for (const auto& other : spec.containers)
        if (other.name == d.container && d.condition == DependencyCondition::kHealthy && !other.health_check)
          return Error::invalid("TaskDependencyError", "Task dependencies cannot be resolved");
    }
    if (depends_on_cycle(spec, i))
      return Error::invalid("TaskDependencyError", "Task dependencies cannot be resolved");
    // Every mount's volume and volumesFrom source must exist before anything starts.
    std::map<std::string, PreparedVolume> names_only;
    for (const auto& v : spec.volumes) names_only[v.name];
    if (auto b = container_binds(spec, i, names_only); !b) return std::move(b).error();
  }

  auto t0 = std::chrono::steady_clock::now();
  auto ms_since = [&t0] {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count() / 1000.0;
  };
  auto task = std::make_unique<TaskRecord>();
  task->spec = spec;
  task->netns = "berth-" + spec.task_id;
  {
    std::lock_guard lock(mutex_);
    if (tasks_.count(spec.task_id)) return Error::already_exists("TaskExists", "task " + spec.task_id + " exists");
    // Reserved while it starts; the monitor skips a task without containers.
    tasks_.emplace(spec.task_id, nullptr);
  }
  auto fail = [&](Error e) -> Result<TaskState> {
    release(*task);
    std::lock_guard lock(mutex_);
    tasks_.erase(spec.task_id);
    return e;
  };

  auto images = resolve_images(spec);
  if (!images) {
    std::lock_guard lock(mutex_);
    tasks_.erase(spec.task_id);
    return std::move(images).error();
  }
  for (size_t i = 0; i < spec.containers.size(); ++i) {
    const auto& c = spec.containers[i];
    ContainerRecord r;
    r.spec = c;
    r.runc_id = spec.task_id + "_" + container_file_name(c.name);
    r.image = (*images)[i];
    r.stop_timeout = c.stop_timeout.value_or(kDefaultStopTimeout);
    // The definition's signal, else the image's STOPSIGNAL, else SIGTERM.
    const std::string& name = !c.stop_signal.empty() ? c.stop_signal : (*images)[i].config.stop_signal;
    int sig = name.empty() ? SIGTERM : signal_number(name);
    r.stop_signal = sig > 0 ? sig : SIGTERM;
    r.state.name = c.name;
    r.state.runtime_id = r.runc_id;
    task->containers.push_back(std::move(r));
  }

  std::error_code ec;
  fs::create_directories(root_ / "tasks" / spec.task_id, ec);
  if (ec) return fail(init_error("cannot create " + (root_ / "tasks" / spec.task_id).string() + ": " + ec.message()));
  // Written before anything is made and again once it listens: a daemon
  // killed at any point finds (and removes or adopts) what it made. A start
  // that cannot record its task fails: a task no daemon can adopt would leak.
  // A kill needs the file only in the page cache; what a power cut would
  // lose (the namespace, cgroup, mounts and containers) does not outlive it
  // anyway. So only the second record is made durable, and meanwhile the
  // containers start: the record survives a power cut before the task is
  // reported started (core/durable_file.h).
  if (auto written = write_task_record(*task, Durability::kAtomic); !written)
    return fail(init_error(written.error().message));
  if (auto made = netns_pool_.create(task->netns); !made) {
    if (made.error().error_class != ErrorClass::kAlreadyExists) return fail(init_error(made.error().message));
    (void)delete_netns(task->netns);  // left by a task of the same id that was never cleaned
    if (auto again = netns_pool_.create(task->netns); !again) return fail(init_error(again.error().message));
  }
  if (auto cg = create_task_cgroup(spec.task_id, spec.memory_mib, spec.cpu_shares); !cg)
    return fail(init_error(cg.error().message));
  auto volumes = prepare_volumes(spec.volumes, root_ / "tasks" / spec.task_id, root_ / "volumes");
  if (!volumes) return fail(std::move(volumes).error());
  task->volumes = std::move(*volumes);
  double netns_ms = ms_since();
  if (auto listened = listen_all(*task); !listened) return fail(std::move(listened).error());
  double listen_ms = ms_since();
  if (auto written = write_task_record(*task, Durability::kAtomic); !written)
    return fail(init_error(written.error().message));
  // The record, its directory and the task's entry in tasks/, on disk.
  Status synced = Ok{};
  std::jthread syncing([&synced, dir = root_ / "tasks" / spec.task_id] {
    synced = sync_file((dir / "task.json").string());
    if (synced) synced = sync_directory(dir.parent_path().string());
  });
  auto fail_synced = [&](Error e) {
    syncing.join();
    return fail(std::move(e));
  };
  ship_logs_of(*task);
  for (size_t i = 0; i < task->containers.size(); ++i) {
    // One with dependencies waits for the monitor (start_waiting_containers).
    if (!task->containers[i].spec.depends_on.empty()) continue;
    auto pid = run_container(*task, i, namespace_holder(*task));
    if (!pid) return fail_synced(std::move(pid).error());
    auto& c = task->containers[i];
    c.pid = *pid;
    c.state.pid = *pid;
    c.state.status = ContainerStatus::kRunning;
    c.started = std::chrono::steady_clock::now();
  }
  // No record again with the containers' pids: adoption asks runc for
  // them, or reads runc's pid file.
  syncing.join();
  if (!synced) return fail(init_error(synced.error().message));
  log::debug(kLog, "task ", spec.task_id, " started: netns at ", netns_ms, " ms, listening at ", listen_ms,
             " ms, running at ", ms_since(), " ms");

  std::lock_guard lock(mutex_);
  auto& slot = tasks_[spec.task_id];
  slot = std::move(task);
  start_health_checks(*slot);
  return snapshot(*slot);
}

Status RuncTaskRuntime::write_task_record(const TaskRecord& task, Durability durability) {
  std::string path = (root_ / "tasks" / task.spec.task_id / "task.json").string();
  return durability == Durability::kDurable ? write_file_durably(path, task_record_json(task))
                                            : write_file_atomically(path, task_record_json(task));
}

void RuncTaskRuntime::start_health_checks(TaskRecord& task) {
  for (size_t i = 0; i < task.containers.size(); ++i) start_health_check(task, i);
}

void RuncTaskRuntime::start_health_check(TaskRecord& task, size_t index) {
  if (task.containers[index].spec.health_check && task.containers[index].state.status == ContainerStatus::kRunning)
    task.health.emplace_back(
        [this, id = task.spec.task_id, index](std::stop_token stop) { health_loop(stop, id, index); });
}

void RuncTaskRuntime::ship_logs_of(const TaskRecord& task) {
  if (!shipper_) return;
  for (const auto& c : task.containers)
    if (c.spec.awslogs)
      shipper_->watch(task.spec.task_id + "/" + c.spec.name, log_path(task.spec.task_id, c.spec.name), *c.spec.awslogs);
}

void RuncTaskRuntime::release(TaskRecord& task) {
  for (auto& h : task.health) h.request_stop();
  changed_.notify_all();
  task.health.clear();
  for (auto& c : task.containers) {
    if (c.state.status == ContainerStatus::kRunning) {
      (void)runc_.kill(c.runc_id, SIGKILL);  // it may have exited meanwhile
    }
    (void)runc_.remove(c.runc_id, true);  // not found: never created
    if (c.waitable && c.pid > 0 && c.state.status == ContainerStatus::kRunning) {
      // Killed here (a start that failed half-way): reap it, or it stays a zombie of ours.
      for (int i = 0; i < 200 && ::waitpid(c.pid, nullptr, WNOHANG) == 0; ++i) ::usleep(10'000);
    }
    fs::path dir = root_ / "tasks" / task.spec.task_id / container_file_name(c.spec.name);
    ::umount2((dir / "rootfs").c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // Its last lines are shipped before the task is reported stopped.
  if (shipper_)
    for (const auto& c : task.containers)
      if (c.spec.awslogs) shipper_->finish(task.spec.task_id + "/" + c.spec.name);
  remove_task_cgroup(task.spec.task_id);
  forwarders_.close_owner(task.spec.task_id);
  for (const auto& l : task.listening) ports_.release(l.protocol == "udp" ? "udp/" + l.ip : l.ip, l.host_port);
  if (!task.netns.empty()) {
    if (auto d = delete_netns(task.netns); !d) log::warn(kLog, "task ", task.spec.task_id, ": ", d.error().message);
  }
  std::error_code ec;
  fs::remove_all(root_ / "tasks" / task.spec.task_id, ec);
}

Status RuncTaskRuntime::stop(const std::string& task_id, const std::string& reason) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || !it->second) return Error::not_found("TaskNotFound", "task " + task_id + " not found");
  auto& task = *it->second;
  if (task.stopping || task.released) return Ok{};
  begin_stop(task, StopCause::kUserInitiated, reason.empty() ? "Task stopped by user" : reason);
  return Ok{};
}

void RuncTaskRuntime::begin_stop(TaskRecord& task, StopCause cause, std::string reason) {
  task.stopping = true;
  task.cause = cause;
  task.reason = std::move(reason);
  // A stopping task's health no longer matters, and checks that exec into
  // its dying containers only race the stop. The threads are joined at release.
  for (auto& h : task.health) h.request_stop();
  changed_.notify_all();
  task.stopper = std::jthread([this, id = task.spec.task_id](std::stop_token stop) { stop_sequence(stop, id); });
}

void RuncTaskRuntime::stop_sequence(std::stop_token stop, std::string task_id) {
  using Clock = std::chrono::steady_clock;
  struct Target {
    size_t index;
    std::string runc_id;
    int signal;
    std::chrono::seconds timeout;
    std::optional<Clock::time_point> deadline;  // set once signalled
  };
  std::vector<Target> targets;
  {
    std::lock_guard lock(mutex_);
    auto it = tasks_.find(task_id);
    if (it == tasks_.end() || !it->second) return;
    const auto& containers = it->second->containers;
    for (size_t i = 0; i < containers.size(); ++i)
      if (containers[i].state.status == ContainerStatus::kRunning)
        targets.push_back({i, containers[i].runc_id, containers[i].stop_signal, containers[i].stop_timeout, {}});
  }
  while (!stop.stop_requested()) {
    std::vector<std::pair<std::string, int>> to_signal;
    {
      std::unique_lock lock(mutex_);
      auto it = tasks_.find(task_id);
      if (it == tasks_.end() || !it->second) return;
      const auto& containers = it->second->containers;
      // ECS stops a container only after the containers that depend on it
      // have stopped: the reverse of the start order.
      auto dependents_running = [&](size_t index) {
        for (const auto& c : containers) {
          if (c.state.status == ContainerStatus::kStopped) continue;
          for (const auto& d : c.spec.depends_on)
            if (d.container == containers[index].spec.name) return true;
        }
        return false;
      };
      bool all_stopped = true;
      for (auto& t : targets) {
        if (containers[t.index].state.status != ContainerStatus::kRunning) continue;
        all_stopped = false;
        if (!t.deadline) {
          if (dependents_running(t.index)) continue;
          t.deadline = Clock::now() + t.timeout;
          to_signal.push_back({t.runc_id, t.signal});
        } else if (Clock::now() >= *t.deadline) {
          // Again every second: a kill can fail while runc is busy with
          // the container (a health check's exec holds its state lock).
          t.deadline = Clock::now() + std::chrono::seconds(1);
          to_signal.push_back({t.runc_id, SIGKILL});
        }
      }
      if (all_stopped) return;
      if (to_signal.empty()) changed_.wait_for(lock, stop, std::chrono::milliseconds(50), [] { return false; });
    }
    // A container that exited meanwhile refuses the signal: nothing to do.
    for (const auto& [id, sig] : to_signal)
      if (auto k = runc_.kill(id, sig); !k && sig == SIGKILL) log::warn(kLog, "kill ", id, ": ", k.error().message);
  }
}

Result<PrivateRoute> RuncTaskRuntime::open_private_route(const std::string& ip, uint16_t port,
                                                         const ec2::IpAddress& source,
                                                         std::span<const ec2::GroupId> source_groups) {
  return forwarders_.open_route(ip, port, source, source_groups);
}

Result<TaskState> RuncTaskRuntime::state(const std::string& task_id) const {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || !it->second) return Error::not_found("TaskNotFound", "task " + task_id + " not found");
  return snapshot(*it->second);
}

std::optional<TaskUsage> RuncTaskRuntime::usage(const std::string& task_id) const {
  {
    std::lock_guard lock(mutex_);
    auto it = tasks_.find(task_id);
    if (it == tasks_.end() || !it->second || it->second->released) return std::nullopt;
  }
  // The task's cgroup holds its containers' (runc makes them below it), so
  // it counts them all.
  auto used = cgroup_usage(task_cgroup(task_id));
  if (!used) return std::nullopt;
  return TaskUsage{used->cpu_ns, used->memory_bytes};
}

std::vector<TaskState> RuncTaskRuntime::list() const {
  std::lock_guard lock(mutex_);
  std::vector<TaskState> out;
  for (const auto& [id, t] : tasks_)
    if (t) out.push_back(snapshot(*t));
  return out;
}

Status RuncTaskRuntime::forget(const std::string& task_id) {
  std::unique_ptr<TaskRecord> gone;
  {
    std::lock_guard lock(mutex_);
    auto it = tasks_.find(task_id);
    if (it == tasks_.end() || !it->second) return Error::not_found("TaskNotFound", "task " + task_id + " not found");
    if (!it->second->released) return Error::conflict("TaskRunning", "task " + task_id + " has not stopped");
    gone = std::move(it->second);
    tasks_.erase(it);
  }
  gone.reset();  // joins its stopper, outside the lock
  return Ok{};
}

std::vector<TaskState> RuncTaskRuntime::adopt() {
  std::vector<std::unique_ptr<TaskRecord>> found;
  std::set<std::string> known_runc_ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ / "tasks", ec)) {
    std::string id = entry.path().filename().string();
    {
      std::lock_guard lock(mutex_);
      if (tasks_.count(id)) {
        if (tasks_[id])
          for (const auto& c : tasks_[id]->containers) known_runc_ids.insert(c.runc_id);
        continue;
      }
    }
    std::ifstream in(entry.path() / "task.json");
    std::ostringstream text;
    text << in.rdbuf();
    auto record = parse_task_record(text.str());
    if (!record) {
      // A task dir without a readable record (a daemon killed while making
      // or removing it): its containers' rootfs may still be mounted, and
      // remove_all stops at a mount point.
      log::warn(kLog, "adopt: ", entry.path().string(), ": ", record.error().message);
      for (const auto& sub : fs::directory_iterator(entry.path(), ec))
        if (sub.is_directory(ec)) ::umount2((sub.path() / "rootfs").c_str(), MNT_DETACH);
      fs::remove_all(entry.path(), ec);
      continue;
    }
    auto& task = **record;
    bool any_running = false;
    for (auto& c : task.containers) {
      known_runc_ids.insert(c.runc_id);
      auto st = runc_.state(c.runc_id);
      bool running = st && st->status == "running" && st->pid > 0;
      if (running) c.pid = st->pid;
      // The record holds no pid of a container the start ran (it is made
      // durable before they run); runc's pid file does. Ours still (a
      // runtime made again in this process), it gives the exit code below.
      if (c.pid <= 0) {
        std::ifstream pid_file(entry.path() / container_file_name(c.spec.name) / "pid");
        int pid = 0;
        if (pid_file >> pid && pid > 0) c.pid = pid;
      }
      if (c.pid > 0) {
        int status = 0;
        pid_t r = ::waitpid(c.pid, &status, WNOHANG);
        if (r == c.pid) {
          running = false;
          c.state.exit_code = exit_code_of(status);
        } else if (r < 0) {
          c.waitable = false;
        }
      }
      c.state.pid = c.pid;
      c.state.status = running ? ContainerStatus::kRunning : ContainerStatus::kStopped;
      c.started = std::chrono::steady_clock::now();
      any_running = any_running || running;
    }
    if (any_running) {
      for (const auto& l : task.listening) {
        ports_.claim(l.protocol == "udp" ? "udp/" + l.ip : l.ip, l.host_port);
        std::vector<ec2::GroupId> groups;
        for (const auto& g : task.spec.security_group_ids)
          if (auto gid = ec2::GroupId::parse(g)) groups.push_back(*gid);
        ListenerSpec spec{task.spec.task_id, l.ip, l.host_port, l.container_port, task.netns, groups, l.protocol};
        if (!is_local_address(l.ip)) {
          forwarders_.add_route(spec);
        } else if (auto r = forwarders_.listen(spec); !r) {
          log::warn(kLog, "adopt ", task.spec.task_id, ": ", r.error().message);
        }
      }
    }
    found.push_back(std::move(*record));
  }

  // runc containers no task owns (a daemon killed while starting one).
  if (auto all = runc_.list())
    for (const auto& s : *all)
      if (!known_runc_ids.count(s.id)) {
        log::info(kLog, "adopt: removing orphan container ", s.id);
        (void)runc_.remove(s.id, true);
      }

  std::vector<TaskState> out;
  std::lock_guard lock(mutex_);
  for (auto& task : found) {
    bool essential_gone = false;
    for (const auto& c : task->containers)
      essential_gone = essential_gone || (c.spec.essential && c.state.status == ContainerStatus::kStopped);
    std::string id = task->spec.task_id;
    ship_logs_of(*task);  // resumes after the last batch the earlier daemon shipped
    auto& slot = tasks_[id];
    slot = std::move(task);
    if (essential_gone) begin_stop(*slot, StopCause::kEssentialContainerExited, "Essential container in task exited");
    else start_health_checks(*slot);
    out.push_back(snapshot(*slot));
  }
  changed_.notify_all();
  return out;
}

}  // namespace berth::runtime
