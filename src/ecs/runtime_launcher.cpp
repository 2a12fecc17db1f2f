#include "ecs/runtime_launcher.h"

#include <boost/json/array.hpp>

#include "core/log.h"
#include "ecs/task_definition_features.h"
#include "ecs/task_definition_rules.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

std::optional<std::vector<std::string>> strings(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : it->value().as_array()) {
    if (v.is_string()) out.emplace_back(v.as_string());
  }
  return out;
}

std::string text(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

int64_t integer(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().as_int64() : 0;
}

// environment: [{name, value}] merged into `env`, a later name replacing an earlier one.
void merge_environment(std::vector<std::pair<std::string, std::string>>& env, const json::object& o) {
  auto it = o.find("environment");
  if (it == o.end() || !it->value().is_array()) return;
  for (const auto& e : it->value().as_array()) {
    if (!e.is_object()) continue;
    std::string name = text(e.as_object(), "name");
    std::string value = text(e.as_object(), "value");
    bool replaced = false;
    for (auto& [n, v] : env) {
      if (n == name) {
        v = value;
        replaced = true;
      }
    }
    if (!replaced) env.emplace_back(name, value);
  }
}

const char* health_text(runtime::HealthStatus h) { return runtime::to_string(h); }

bool flag(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}

const json::object* member_object(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

// Calls f(object) for each object element of array member `key`.
template <typename F>
void each_object(const json::object& o, std::string_view key, F&& f) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_array()) return;
  for (const auto& e : it->value().as_array())
    if (e.is_object()) f(e.as_object());
}

std::vector<runtime::Volume> volumes_of(const json::object& task_definition) {
  std::vector<runtime::Volume> out;
  each_object(task_definition, "volumes", [&](const json::object& v) {
    runtime::Volume volume;
    volume.name = text(v, "name");
    if (const auto* docker = member_object(v, "dockerVolumeConfiguration")) {
      volume.kind = runtime::Volume::Kind::kDocker;
      volume.shared = text(*docker, "scope") == "shared";
      volume.autoprovision = flag(*docker, "autoprovision");
    } else if (const auto* host = member_object(v, "host"); host && !text(*host, "sourcePath").empty()) {
      volume.kind = runtime::Volume::Kind::kHostPath;
      volume.host_path = text(*host, "sourcePath");
    }
    out.push_back(std::move(volume));
  });
  return out;
}

runtime::DependencyCondition condition_of(const std::string& name) {
  if (name == "COMPLETE") return runtime::DependencyCondition::kComplete;
  if (name == "SUCCESS") return runtime::DependencyCondition::kSuccess;
  if (name == "HEALTHY") return runtime::DependencyCondition::kHealthy;
  return runtime::DependencyCondition::kStart;
}

// linuxParameters, privileged, systemControls, dockerSecurityOptions, ...
runtime::LinuxOptions linux_options_of(const json::object& c) {
  runtime::LinuxOptions lx;
  lx.privileged = flag(c, "privileged");
  lx.pseudo_terminal = flag(c, "pseudoTerminal");
  lx.interactive = flag(c, "interactive");
  // Docker's spellings; label (SELinux) and apparmor options have nothing to act on here.
  for (const auto& option : strings(c, "dockerSecurityOptions").value_or(std::vector<std::string>())) {
    if (option == "no-new-privileges" || option == "no-new-privileges:true" || option == "no-new-privileges=true")
      lx.no_new_privileges = true;
    if (option == "seccomp=unconfined" || option == "seccomp:unconfined") lx.seccomp_unconfined = true;
  }
  each_object(c, "systemControls",
              [&](const json::object& s) { lx.sysctls.emplace_back(text(s, "namespace"), text(s, "value")); });
  const auto* p = member_object(c, "linuxParameters");
  if (!p) return lx;
  if (const auto* caps = member_object(*p, "capabilities")) {
    lx.capabilities_add = strings(*caps, "add").value_or(std::vector<std::string>());
    lx.capabilities_drop = strings(*caps, "drop").value_or(std::vector<std::string>());
  }
  lx.init_process = flag(*p, "initProcessEnabled");
  lx.shared_memory_mib = integer(*p, "sharedMemorySize");
  if (p->contains("swappiness")) lx.swappiness = integer(*p, "swappiness");
  if (p->contains("maxSwap")) lx.max_swap_mib = integer(*p, "maxSwap");
  each_object(*p, "tmpfs", [&](const json::object& t) {
    lx.tmpfs.push_back({text(t, "containerPath"), integer(t, "size"),
                        strings(t, "mountOptions").value_or(std::vector<std::string>())});
  });
  each_object(*p, "devices", [&](const json::object& d) {
    lx.devices.push_back({text(d, "hostPath"), text(d, "containerPath"),
                          strings(d, "permissions").value_or(std::vector<std::string>())});
  });
  return lx;
}

// The definition's containerDefinitions (empty when the stored definition
// has none: the runtime then refuses the task, nothing throws).
const json::array& container_definitions(const json::object& task_definition) {
  static const json::array kNone;
  auto it = task_definition.find("containerDefinitions");
  return it != task_definition.end() && it->value().is_array() ? it->value().get_array() : kNone;
}

// Its objects only, in the order task_spec_for makes spec.containers.
std::vector<const json::object*> container_objects(const json::object& task_definition) {
  std::vector<const json::object*> out;
  for (const auto& c : container_definitions(task_definition))
    if (c.is_object()) out.push_back(&c.get_object());
  return out;
}

}  // namespace

std::optional<runtime::AwsLogsConfig> awslogs_of(const json::object& c, const std::string& task_id) {
  const auto* config = member_object(c, "logConfiguration");
  if (!config || text(*config, "logDriver") != "awslogs") return std::nullopt;
  const json::object* options = member_object(*config, "options");
  static const json::object kNone;
  if (!options) options = &kNone;
  runtime::AwsLogsConfig logs;
  logs.group = text(*options, "awslogs-group");
  std::string name = text(c, "name");
  // documented: prefix-name/container-name/ecs-task-id; without a prefix
  // (EC2) the stream is named after the container's id.
  auto prefix = text(*options, "awslogs-stream-prefix");
  logs.stream = prefix.empty() ? task_id + "_" + runtime::container_file_name(name) : prefix + "/" + name + "/" + task_id;
  // ECS's default mode is non-blocking since June 2025 (account setting defaultLogDriverMode).
  logs.non_blocking = text(*options, "mode") != "blocking";
  if (auto size = parse_docker_size(text(*options, "max-buffer-size"))) logs.max_buffer_bytes = *size;
  return logs;
}

bool creates_log_group(const json::object& c) {
  const auto* config = member_object(c, "logConfiguration");
  const auto* options = config ? member_object(*config, "options") : nullptr;
  return options && text(*options, "awslogs-create-group") == "true";
}

runtime::TaskSpec task_spec_for(const LaunchRequest& r) {
  runtime::TaskSpec spec;
  spec.task_id = r.task_id;
  std::string mode = text(r.task_definition, "networkMode");
  spec.network_mode = mode == "host"     ? runtime::NetworkMode::kHost
                      : mode == "awsvpc" ? runtime::NetworkMode::kAwsvpc
                      : mode == "none"   ? runtime::NetworkMode::kNone
                                         : runtime::NetworkMode::kBridge;
  spec.public_ip = r.public_ip;
  spec.private_ip = r.private_ip;
  spec.security_group_ids = r.security_group_ids;
  spec.volumes = volumes_of(r.task_definition);
  spec.pid_mode = text(r.task_definition, "pidMode");
  spec.ipc_mode = text(r.task_definition, "ipcMode");
  // Task-level sizes (a cgroup around the task; what FARGATE enforces):
  // the definition's, or the RunTask overrides'.
  for (const json::object* o : {&r.task_definition, &r.overrides}) {
    if (auto cpu = text(*o, "cpu"); !cpu.empty()) spec.cpu_shares = parse_task_cpu(cpu).value_or(spec.cpu_shares);
    if (auto mem = text(*o, "memory"); !mem.empty()) {
      spec.memory_mib = parse_task_memory(mem).value_or(spec.memory_mib);
    }
  }
  const json::array* overrides = nullptr;
  if (auto it = r.overrides.find("containerOverrides"); it != r.overrides.end() && it->value().is_array()) {
    overrides = &it->value().as_array();
  }
  for (const auto& cv : container_definitions(r.task_definition)) {
    if (!cv.is_object()) continue;
    const auto& c = cv.get_object();
    runtime::ContainerSpec s;
    s.name = text(c, "name");
    s.image_reference = text(c, "image");
    s.essential = !c.contains("essential") || !c.at("essential").is_bool() || c.at("essential").as_bool();
    s.entry_point = strings(c, "entryPoint");
    s.command = strings(c, "command");
    merge_environment(s.environment, c);
    s.working_directory = text(c, "workingDirectory");
    s.user = text(c, "user");
    s.hostname = text(c, "hostname");
    s.readonly_root_filesystem = c.contains("readonlyRootFilesystem") && c.at("readonlyRootFilesystem").is_bool() &&
                                 c.at("readonlyRootFilesystem").as_bool();
    s.memory_mib = integer(c, "memory");
    s.memory_reservation_mib = integer(c, "memoryReservation");
    s.cpu_shares = integer(c, "cpu");
    if (int64_t t = integer(c, "stopTimeout"); t > 0) s.stop_timeout = std::chrono::seconds(t);
    if (int64_t t = integer(c, "startTimeout"); t > 0) s.start_timeout = std::chrono::seconds(t);
    each_object(c, "mountPoints", [&](const json::object& m) {
      s.mount_points.push_back({text(m, "sourceVolume"), text(m, "containerPath"), flag(m, "readOnly")});
    });
    each_object(c, "volumesFrom", [&](const json::object& v) {
      s.volumes_from.push_back({text(v, "sourceContainer"), flag(v, "readOnly")});
    });
    each_object(c, "dependsOn", [&](const json::object& d) {
      s.depends_on.push_back({text(d, "containerName"), condition_of(text(d, "condition"))});
    });
    s.linux = linux_options_of(c);
    s.dns_servers = strings(c, "dnsServers").value_or(std::vector<std::string>());
    s.dns_search_domains = strings(c, "dnsSearchDomains").value_or(std::vector<std::string>());
    each_object(c, "extraHosts",
                [&](const json::object& h) { s.extra_hosts.emplace_back(text(h, "hostname"), text(h, "ipAddress")); });
    s.disable_networking = flag(c, "disableNetworking");
    s.awslogs = awslogs_of(c, r.task_id);
    if (const auto* policy = member_object(c, "restartPolicy"); policy && flag(*policy, "enabled")) {
      runtime::RestartPolicy p;
      if (auto it = policy->find("ignoredExitCodes"); it != policy->end() && it->value().is_array())
        for (const auto& code : it->value().as_array())
          if (code.is_int64()) p.ignored_exit_codes.push_back(static_cast<int>(code.as_int64()));
      if (int64_t period = integer(*policy, "restartAttemptPeriod"); period > 0)
        p.attempt_period = std::chrono::seconds(period);
      s.restart_policy = std::move(p);
    }
    // links (bridge): every container of a task shares its network namespace
    // here, so a link is the name (and alias) on loopback, and the linked
    // container starts first (the agent's implicit START dependency).
    for (const auto& link : strings(c, "links").value_or(std::vector<std::string>())) {
      auto colon = link.find(':');
      std::string target = link.substr(0, colon);
      s.extra_hosts.emplace_back(target, "127.0.0.1");
      if (colon != std::string::npos) s.extra_hosts.emplace_back(link.substr(colon + 1), "127.0.0.1");
      bool listed = false;
      for (const auto& d : s.depends_on) listed = listed || d.container == target;
      if (!listed) s.depends_on.push_back({target, runtime::DependencyCondition::kStart});
    }
    if (const auto* labels = member_object(c, "dockerLabels"))
      for (const auto& [k, v] : *labels)
        if (v.is_string()) s.labels.emplace_back(std::string(k), std::string(v.as_string()));
    if (auto it = c.find("ulimits"); it != c.end() && it->value().is_array()) {
      for (const auto& u : it->value().as_array()) {
        if (!u.is_object()) continue;
        s.ulimits.push_back({text(u.as_object(), "name"), integer(u.as_object(), "softLimit"),
                             integer(u.as_object(), "hardLimit")});
      }
    }
    if (auto it = c.find("portMappings"); it != c.end() && it->value().is_array()) {
      for (const auto& p : it->value().as_array()) {
        if (!p.is_object()) continue;
        const auto& pm = p.get_object();
        runtime::PortMapping m;
        m.container_port = static_cast<uint16_t>(integer(pm, "containerPort"));
        m.host_port = static_cast<uint16_t>(integer(pm, "hostPort"));
        m.protocol = pm.contains("protocol") ? text(pm, "protocol") : "tcp";
        s.port_mappings.push_back(m);
      }
    }
    if (auto it = c.find("healthCheck"); it != c.end() && it->value().is_object()) {
      const auto& h = it->value().as_object();
      runtime::HealthCheck hc;
      hc.command = strings(h, "command").value_or(std::vector<std::string>());
      if (int64_t v = integer(h, "interval")) hc.interval = std::chrono::seconds(v);
      if (int64_t v = integer(h, "timeout")) hc.timeout = std::chrono::seconds(v);
      if (int64_t v = integer(h, "retries")) hc.retries = static_cast<int>(v);
      hc.start_period = std::chrono::seconds(integer(h, "startPeriod"));
      s.health_check = std::move(hc);
    }
    if (overrides) {
      for (const auto& ov : *overrides) {
        if (!ov.is_object() || text(ov.as_object(), "name") != s.name) continue;
        const auto& o = ov.as_object();
        if (auto cmd = strings(o, "command")) s.command = std::move(cmd);
        merge_environment(s.environment, o);
        if (o.contains("cpu")) s.cpu_shares = integer(o, "cpu");
        if (o.contains("memory")) s.memory_mib = integer(o, "memory");
        if (o.contains("memoryReservation")) s.memory_reservation_mib = integer(o, "memoryReservation");
      }
    }
    spec.containers.push_back(std::move(s));
  }
  return spec;
}

TaskReport report_for(const runtime::TaskState& state) {
  TaskReport r;
  r.task_id = state.task_id;
  // A task is RUNNING once every container has started (some may be
  // waiting on their dependsOn conditions until then).
  bool waiting = false;
  for (const auto& c : state.containers) waiting = waiting || c.status == runtime::ContainerStatus::kPending;
  r.last_status = state.stopped ? "STOPPED" : waiting ? "PENDING" : "RUNNING";
  r.health_status = health_text(state.health);
  if (state.stopped) {
    switch (state.stop_cause) {
      case runtime::StopCause::kEssentialContainerExited:
        r.stop_code = "EssentialContainerExited";
        r.stopped_reason = "Essential container in task exited";
        break;
      case runtime::StopCause::kTaskFailedToStart:
        r.stop_code = "TaskFailedToStart";
        r.stopped_reason = state.stopped_reason;
        break;
      case runtime::StopCause::kUserInitiated:
        r.stop_code = "UserInitiated";
        r.stopped_reason = state.stopped_reason.empty() ? "Task stopped by user" : state.stopped_reason;
        break;
      case runtime::StopCause::kNone:
        r.stopped_reason = state.stopped_reason;
        break;
    }
  }
  for (const auto& c : state.containers) {
    ContainerReport cr;
    cr.name = c.name;
    cr.runtime_id = c.runtime_id;
    cr.last_status = runtime::to_string(c.status);
    cr.exit_code = c.exit_code;
    cr.reason = c.reason;
    cr.health_status = health_text(c.health);
    for (const auto& b : state.bindings) {
      if (b.container_name != c.name) continue;
      // The agent shows 0.0.0.0 for bridge bindings (reference §2.5).
      cr.network_bindings.push_back({"0.0.0.0", b.container_port, b.host_port, b.protocol});
    }
    r.containers.push_back(std::move(cr));
  }
  return r;
}

Status resolve_secrets(const LaunchRequest& request, const SecretResolver& resolver, runtime::TaskSpec& spec) {
  // RunTask's overrides may name another execution role.
  std::string role = text(request.overrides, "executionRoleArn");
  if (role.empty()) role = text(request.task_definition, "executionRoleArn");
  std::vector<SecretRequest> requests;
  std::vector<std::pair<size_t, std::string>> targets;  // (container, variable); "" for registry credentials
  const auto definitions = container_objects(request.task_definition);
  for (size_t i = 0; i < definitions.size() && i < spec.containers.size(); ++i) {
    const auto& c = *definitions[i];
    each_object(c, "secrets", [&](const json::object& secret) {
      requests.push_back({text(secret, "valueFrom"), role});
      targets.emplace_back(i, text(secret, "name"));
    });
    // Read and checked as the agent does; berth pulls only from its own
    // registry, so the credentials themselves are not used.
    if (const auto* credentials = member_object(c, "repositoryCredentials")) {
      requests.push_back({text(*credentials, "credentialsParameter"), role});
      targets.emplace_back(i, "");
    }
  }
  if (requests.empty()) return Ok{};
  if (!resolver)
    return Error::unavailable("ResourceInitializationError: unable to pull secrets or registry auth: this berth "
                              "was built without SSM Parameter Store and Secrets Manager");
  auto values = resolver(requests);
  if (!values) return std::move(values).error();
  for (size_t k = 0; k < targets.size() && k < values->size(); ++k)
    if (!targets[k].second.empty())
      spec.containers[targets[k].first].secrets.emplace_back(targets[k].second, std::move((*values)[k]));
  return Ok{};
}

Status prepare_log_streams(const LaunchRequest& request, const LogStreamPreparer& preparer,
                           const runtime::TaskSpec& spec) {
  const auto definitions = container_objects(request.task_definition);
  for (size_t i = 0; i < definitions.size() && i < spec.containers.size(); ++i) {
    const auto& logs = spec.containers[i].awslogs;
    if (!logs || !preparer) continue;  // no CloudWatch Logs: the output stays in the log file
    bool create_group = creates_log_group(*definitions[i]);
    auto made = preparer(logs->group, logs->stream, create_group);
    if (made) continue;
    std::string step = made.error().code == "ResourceNotFoundException" || !create_group
                           ? "failed to create Cloudwatch log stream: "
                           : "failed to create Cloudwatch log group: ";
    std::string cause = step + made.error().code + ": " + made.error().message;
    // observed: the agent's (Docker's) words on EC2, Fargate's own.
    if (request.launch_type == "FARGATE")
      return Error::unavailable("ResourceInitializationError: failed to validate logger args: create stream has been "
                                "retried 1 times: " + cause + " : exit status 1");
    return Error::unavailable("CannotStartContainerError: Error response from daemon: failed to initialize logging "
                              "driver: " + cause);
  }
  return Ok{};
}

RuntimeTaskLauncher::RuntimeTaskLauncher(store::Database& db, const Clock& clock, runtime::TaskRuntime& runtime,
                                         SecretResolver secrets, LogStreamPreparer log_streams)
    : db_(db),
      clock_(clock),
      runtime_(runtime),
      secrets_(std::move(secrets)),
      log_streams_(std::move(log_streams)),
      worker_([this](std::stop_token stop) { work(stop); }) {}

RuntimeTaskLauncher::~RuntimeTaskLauncher() {
  worker_.request_stop();
  wake_.notify_all();
}

void RuntimeTaskLauncher::launch(const LaunchRequest& request) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(request);
  }
  wake_.notify_one();
}

void RuntimeTaskLauncher::stop(const std::string& task_id, const std::string& reason) {
  auto s = runtime_.stop(task_id, reason);
  if (s.ok()) return;
  if (s.error().error_class == ErrorClass::kNotFound) {
    // The runtime never had it (a start that failed, or lost across a
    // restart): nothing runs, so it is stopped.
    TaskReport r;
    r.task_id = task_id;
    r.last_status = "STOPPED";
    report(r);
    return;
  }
  log::warn("ecs", "stopping task ", task_id, ": ", s.error().message);
}

void RuntimeTaskLauncher::on_event(const runtime::TaskEvent& event) {
  report(report_for(event.state));
  if (event.kind == runtime::EventKind::kTaskStopped) (void)runtime_.forget(event.task_id);
}

void RuntimeTaskLauncher::report(const TaskReport& r) {
  // Called on the launcher's worker and on the runtime's monitor thread:
  // a task row that does not parse is logged, not thrown at them.
  try {
    if (auto s = apply_task_status(db_, r, clock_.now()); !s) {
      log::warn("ecs", "task ", r.task_id, " status: ", s.error().message);
    }
  } catch (const std::exception& e) {
    log::error("ecs", "task ", r.task_id, " status: ", e.what());
  }
}

void RuntimeTaskLauncher::work(std::stop_token stop) {
  for (;;) {
    LaunchRequest request;
    {
      std::unique_lock lock(mutex_);
      if (!wake_.wait(lock, stop, [this] { return !queue_.empty(); })) return;
      request = std::move(queue_.front());
      queue_.pop_front();
    }
    // Nothing a task brings (its definition, its image, what the store
    // holds of them) may end this thread, let alone the daemon: the task
    // fails to start and the next one is served.
    try {
      launch_one(request);
    } catch (const std::exception& e) {
      fail_to_start(request, "", std::string("CannotStartContainerError: internal error: ") + e.what());
    } catch (...) {
      fail_to_start(request, "", "CannotStartContainerError: internal error");
    }
  }
}

void RuntimeTaskLauncher::launch_one(const LaunchRequest& request) {
  // Adopted after a restart, or launched twice: report what runs (its
  // secrets were read when it started).
  if (auto state = runtime_.state(request.task_id)) {
    report(report_for(*state));
    return;
  }
  auto spec = task_spec_for(request);
  Result<runtime::TaskState> started = Error::internal("not started");
  // A task whose secrets cannot be read stops before anything starts.
  if (auto read = resolve_secrets(request, secrets_, spec); !read) {
    started = std::move(read).error();
  } else if (auto streams = prepare_log_streams(request, log_streams_, spec); !streams) {
    started = std::move(streams).error();
  } else {
    started = runtime_.start(spec);
  }
  if (started) {
    report(report_for(*started));
    return;
  }
  if (started.error().error_class == ErrorClass::kAlreadyExists) {
    if (auto state = runtime_.state(request.task_id)) report(report_for(*state));
    return;
  }
  // Nothing of the task is left behind on error (runtime.h); the message
  // is AWS's reason ("CannotPullContainerError: ...", "ResourceInitializationError: ...").
  fail_to_start(request, started.error().code, started.error().message);
}

void RuntimeTaskLauncher::fail_to_start(const LaunchRequest& request, const std::string& code,
                                        const std::string& reason) noexcept {
  try {
    TaskReport failed;
    failed.task_id = request.task_id;
    failed.last_status = "STOPPED";
    failed.stop_code = "TaskFailedToStart";
    failed.stopped_reason = reason;
    // The agent's words name the task.
    if (code == "TaskDependencyError") {
      failed.stopped_reason += ", taskArn: " + request.task_arn;
    } else if (code == "VolumeNotFound") {
      failed.stopped_reason = "resource cannot be initialized for task " + request.task_arn + ": " + failed.stopped_reason;
    }
    for (const auto& c : container_definitions(request.task_definition)) {
      if (!c.is_object()) continue;
      ContainerReport cr;
      cr.name = text(c.get_object(), "name");
      cr.last_status = "STOPPED";
      cr.reason = reason;
      failed.containers.push_back(std::move(cr));
    }
    report(failed);
  } catch (const std::exception& e) {
    log::error("ecs", "task ", request.task_id, " failed to start (", reason, ") and its status was not written: ", e.what());
  } catch (...) {
    log::error("ecs", "task ", request.task_id, " failed to start (", reason, ") and its status was not written");
  }
}

}  // namespace berth::ecs
