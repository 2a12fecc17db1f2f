#include "ecs/task_definition_features.h"

#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <string>

#include "ecs/common.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

const json::object* object_member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

bool present(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return false;
  if (it->value().is_array()) return !it->value().as_array().empty();
  if (it->value().is_bool()) return it->value().as_bool();
  return true;
}

Error fargate_refuses(std::string_view parameter) {
  // observed for sourcePath and sharedMemorySize; the same pattern for the rest (unverified).
  return client_exception("Fargate compatible task definitions do not support " + std::string(parameter));
}

// Each element of array `key` must be an object whose listed members are strings / booleans / integers.
Status objects_of(const json::object& c, std::string_view key, std::string_view container,
                  std::initializer_list<std::string_view> strings, std::initializer_list<std::string_view> bools = {},
                  std::initializer_list<std::string_view> ints = {}) {
  auto it = c.find(key);
  if (it == c.end() || it->value().is_null()) return Ok{};
  auto bad = [&] {
    return client_exception("Invalid '" + std::string(key) + "' setting for container '" + std::string(container) +
                            "'.");  // unverified
  };
  if (!it->value().is_array()) return bad();
  for (const auto& e : it->value().as_array()) {
    if (!e.is_object()) return bad();
    for (auto k : strings)
      if (!opt_string(e.as_object(), k)) return bad();
    for (auto k : bools)
      if (!opt_bool(e.as_object(), k)) return bad();
    for (auto k : ints)
      if (!opt_int(e.as_object(), k)) return bad();
  }
  return Ok{};
}

constexpr std::string_view kCapabilities[] = {
    "ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER",
    "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD",
    "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
    "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM"};

bool known_capability(const std::string& name) {
  for (auto c : kCapabilities)
    if (c == name) return true;
  return false;
}

Status check_linux_parameters(const json::object& c, const std::string& name, bool fargate) {
  auto it = c.find("linuxParameters");
  if (it == c.end() || it->value().is_null()) return Ok{};
  auto bad = [&](std::string_view what) {
    return client_exception("Invalid '" + std::string(what) + "' setting for container '" + name + "'.");  // unverified
  };
  if (!it->value().is_object()) return bad("linuxParameters");
  const auto& p = it->value().as_object();
  if (const auto* caps = object_member(p, "capabilities")) {
    for (std::string_view key : {"add", "drop"}) {
      auto list = string_list(*caps, key);
      if (!list) return bad("capabilities");
      for (const auto& cap : *list) {
        if (!known_capability(cap)) return bad("capabilities");
        // documented: "the only capability you can add is CAP_SYS_PTRACE"
        if (fargate && key == "add" && cap != "SYS_PTRACE") return fargate_refuses("capabilities add " + cap);
      }
    }
  }
  if (!opt_bool(p, "initProcessEnabled")) return bad("initProcessEnabled");
  for (std::string_view key : {"sharedMemorySize", "swappiness", "maxSwap"}) {
    auto v = opt_int(p, key);
    if (!v) return bad(key);
    if (*v && **v < 0) return bad(key);
    if (key == "swappiness" && *v && **v > 100) return bad(key);
  }
  if (auto s = objects_of(p, "tmpfs", name, {"containerPath"}, {}, {"size"}); !s) return s;
  if (auto s = objects_of(p, "devices", name, {"hostPath", "containerPath"}); !s) return s;
  if (fargate) {
    // documented: devices, sharedMemorySize and tmpfs are not supported; maxSwap and swappiness are not valid.
    for (std::string_view key : {"sharedMemorySize", "devices", "tmpfs", "maxSwap", "swappiness"})
      if (present(p, key)) return fargate_refuses(key);
  }
  return Ok{};
}

bool uses_awslogs(const json::object& c) {
  const auto* config = object_member(c, "logConfiguration");
  if (!config) return false;
  auto driver = opt_string(*config, "logDriver");
  return driver && *driver && **driver == "awslogs";
}

// logConfiguration: the drivers ECS knows; awslogs' own options (what the
// container's output needs to reach CloudWatch Logs).
Status check_log_configuration(const json::object& c, bool fargate) {
  const auto* config = object_member(c, "logConfiguration");
  if (!config) return Ok{};
  auto driver = opt_string(*config, "logDriver");
  if (!driver || !*driver) return client_exception("Log driver should not be null or empty.");  // unverified
  static const std::set<std::string> kDrivers = {"json-file", "syslog", "journald", "gelf", "fluentd", "awslogs",
                                                  "splunk", "awsfirelens"};
  if (!kDrivers.count(**driver)) return client_exception("Invalid log driver '" + **driver + "'.");  // unverified
  if (fargate && **driver != "awslogs" && **driver != "splunk" && **driver != "awsfirelens")
    // documented: Fargate supports awslogs, splunk and awsfirelens
    return client_exception("Log driver " + **driver + " is not supported on Fargate. Supported log drivers are "
                            "awslogs, splunk, and awsfirelens.");  // unverified
  if (**driver == "awsfirelens") return client_exception("Log driver awsfirelens needs a FireLens log router: berth has none.");
  const auto* options = object_member(*config, "options");
  auto option = [&](std::string_view key) -> std::string {
    if (!options) return "";
    auto v = opt_string(*options, key);
    return v && *v ? **v : "";
  };
  if (options)
    for (const auto& [key, value] : *options)
      if (!value.is_string())
        return client_exception("Log driver option '" + std::string(key) + "' should be a string.");  // unverified
  if (**driver != "awslogs") return Ok{};
  if (option("awslogs-group").empty())
    return client_exception("Log driver awslogs option 'awslogs-group' should not be null or empty.");  // observed
  if (fargate && option("awslogs-stream-prefix").empty())
    return client_exception("Fargate requires log configuration options to include awslogs-stream-prefix to "
                            "support log driver awslogs.");  // observed (aws-cdk#1422)
  auto mode = option("mode");
  if (!mode.empty() && mode != "blocking" && mode != "non-blocking")
    return client_exception("Log driver awslogs option 'mode' must be blocking or non-blocking.");  // unverified
  if (!option("max-buffer-size").empty() && !parse_docker_size(option("max-buffer-size")).value_or(0))
    return client_exception("Log driver awslogs option 'max-buffer-size' is not a valid size.");  // unverified
  return Ok{};
}

}  // namespace

std::optional<uint64_t> parse_docker_size(std::string_view text) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();       // "mb"
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();       // "mib"
  static const std::string kUnits = "bkmgtp";
  if (unit.empty()) unit = "b";
  auto power = kUnits.find(unit);
  if (unit.size() != 1 || power == std::string::npos) return std::nullopt;
  for (size_t i = 0; i < power; ++i) {
    if (number > (UINT64_MAX >> 10)) return std::nullopt;
    number <<= 10;
  }
  return number;
}

Status check_container_features(const json::object& request, const json::array& containers,
                                std::string_view network_mode, bool fargate) {
  // Volumes: names, kinds, and what FARGATE and one machine can give.
  std::set<std::string> volume_names;
  if (const auto* volumes = opt_array(request, "volumes")) {
    for (const auto& v : *volumes) {
      if (!v.is_object()) return client_exception("Invalid volume.");  // unverified
      const auto& volume = v.as_object();
      auto name = opt_string(volume, "name");
      if (!name || !*name || (*name)->empty()) return client_exception("Volume name should not be null or empty.");  // unverified
      if (!valid_name(**name)) return client_exception("Volume.name contains invalid characters.");  // unverified, as Container.name
      if (!volume_names.insert(**name).second)
        return client_exception("Duplicate volume name '" + **name + "' in the task definition.");  // unverified
      if (const auto* host = object_member(volume, "host")) {
        auto source = opt_string(*host, "sourcePath");
        if (!source) return std::move(source).error();
        if (*source && fargate) return fargate_refuses("sourcePath");  // observed
      }
      if (const auto* docker = object_member(volume, "dockerVolumeConfiguration")) {
        if (fargate) return fargate_refuses("dockerVolumeConfiguration");
        auto scope = opt_string(*docker, "scope");
        auto driver = opt_string(*docker, "driver");
        if (!scope || !driver || !opt_bool(*docker, "autoprovision"))
          return client_exception("Invalid dockerVolumeConfiguration for volume '" + **name + "'.");  // unverified
        if (*scope && **scope != "task" && **scope != "shared")
          return client_exception("Invalid scope '" + **scope + "' for volume '" + **name + "'.");  // unverified
        if (*driver && **driver != "local")
          // One machine has Docker's local driver only; a plugin's would fail every task.
          return client_exception("Volume driver '" + **driver + "' for volume '" + **name +
                                  "' is not available: berth provides the 'local' driver only.");
        auto autoprovision = opt_bool(*docker, "autoprovision");
        if (autoprovision->value_or(false) && scope->value_or("task") != "shared")
          // documented: autoprovision applies to shared volumes only
          return client_exception("Autoprovision can only be set to true when scope is shared.");  // unverified
      }
      // Network file systems need the file system itself, which one machine does not have.
      if (present(volume, "efsVolumeConfiguration"))
        return client_exception("Volume '" + **name +
                                "' uses efsVolumeConfiguration: berth has no Amazon EFS file systems.");
      if (present(volume, "fsxWindowsFileServerVolumeConfiguration"))
        return client_exception("FSx for Windows File Server volumes are supported on Windows container instances "
                                "only.");  // the agent's "only supported on Windows container instance", unverified here
      if (present(volume, "s3filesVolumeConfiguration"))
        return client_exception("Volume '" + **name + "' uses s3filesVolumeConfiguration: berth has no S3 Files.");
      if (present(volume, "configuredAtLaunch"))
        return client_exception("Volume '" + **name + "' is configuredAtLaunch: berth has no Amazon EBS volumes to "
                                "attach at launch.");
    }
  }

  std::map<std::string, const json::object*> by_name;
  for (const auto& c : containers) by_name[std::string(c.as_object().at("name").as_string())] = &c.as_object();

  bool secrets = false;
  bool awslogs = false;
  for (const auto& cv : containers) {
    const auto& c = cv.as_object();
    const std::string name(c.at("name").as_string());
    if (auto s = objects_of(c, "mountPoints", name, {"sourceVolume", "containerPath"}, {"readOnly"}); !s) return s;
    for (const auto& m : opt_array(c, "mountPoints") ? *opt_array(c, "mountPoints") : json::array()) {
      auto source = opt_string(m.as_object(), "sourceVolume")->value_or("");
      if (!volume_names.count(source)) return client_exception("Unknown volume '" + source + "'.");  // observed
      auto path = opt_string(m.as_object(), "containerPath")->value_or("");
      if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
          (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0))
        return client_exception("Invalid 'containerPath' setting for container '" + name + "'.");  // unverified
    }
    if (auto s = objects_of(c, "volumesFrom", name, {"sourceContainer"}, {"readOnly"}); !s) return s;
    for (const auto& v : opt_array(c, "volumesFrom") ? *opt_array(c, "volumesFrom") : json::array()) {
      auto source = opt_string(v.as_object(), "sourceContainer")->value_or("");
      if (!by_name.count(source) || source == name)
        return client_exception("Invalid 'volumesFrom' setting for container '" + name + "'. Container '" + source +
                                "' does not exist.");  // unverified
    }
    if (auto s = objects_of(c, "dependsOn", name, {"containerName", "condition"}); !s) return s;
    if (const auto* deps = opt_array(c, "dependsOn")) {
      for (const auto& d : *deps) {
        auto target = opt_string(d.as_object(), "containerName")->value_or("");
        auto condition = opt_string(d.as_object(), "condition")->value_or("");
        auto found = by_name.find(target);
        if (found == by_name.end() || target == name)
          return client_exception("Cannot depend on container + '" + target + "' because it does not exist");  // observed
        if (condition != "START" && condition != "COMPLETE" && condition != "SUCCESS" && condition != "HEALTHY")
          return client_exception("Invalid 'dependsOn' condition '" + condition + "' for container '" + name + "'.");  // unverified
        bool essential = found->second->at("essential").as_bool();
        if ((condition == "SUCCESS" || condition == "COMPLETE") && essential)
          return client_exception("A dependency container with SUCCESS or COMPLETE condition cannot be an essential "
                                  "container");  // observed
        if (condition == "HEALTHY" && !found->second->contains("healthCheck"))
          return client_exception(
              "A dependency container with HEALTHY condition must have health check configured");  // unverified (3P)
      }
    }
    for (std::string_view key : {"startTimeout", "stopTimeout"}) {
      auto v = opt_int(c, key);
      if (!v || (*v && **v < 0))
        return client_exception("Invalid '" + std::string(key) + "' setting for container '" + name + "'.");  // unverified
    }
    if (auto s = check_linux_parameters(c, name, fargate); !s) return s;
    if (auto s = objects_of(c, "systemControls", name, {"namespace", "value"}); !s) return s;
    if (auto s = objects_of(c, "extraHosts", name, {"hostname", "ipAddress"}); !s) return s;
    if (auto s = objects_of(c, "secrets", name, {"name", "valueFrom"}); !s) return s;
    for (std::string_view key : {"privileged", "pseudoTerminal", "interactive", "readonlyRootFilesystem"})
      if (!opt_bool(c, key))
        return client_exception("Invalid '" + std::string(key) + "' setting for container '" + name + "'.");  // unverified
    if (const auto* policy = object_member(c, "restartPolicy")) {
      auto enabled = opt_bool(*policy, "enabled");
      auto period = opt_int(*policy, "restartAttemptPeriod");
      const auto* codes = opt_array(*policy, "ignoredExitCodes");
      // documented: restartAttemptPeriod 60-1800 seconds, at most 50 ignored exit codes
      if (!enabled || !*enabled || !period || (*period && (**period < 60 || **period > 1800)) ||
          (codes && codes->size() > 50))
        return client_exception("Invalid 'restartPolicy' setting for container '" + name + "'.");  // unverified
    }
    if (const auto* links = opt_array(c, "links"); links && network_mode != "awsvpc") {  // awsvpc: refused below
      for (const auto& link : *links) {
        std::string target(link.as_string());
        target = target.substr(0, target.find(':'));
        if (!by_name.count(target) || target == name)
          return client_exception("Invalid 'links' setting for container '" + name + "'. Container '" + target +
                                  "' does not exist.");  // unverified
      }
    }
    // What needs a service one machine does not have is refused here, not
    // accepted and then left undone.
    for (const auto& m : c.at("portMappings").as_array())
      if (present(m.as_object(), "containerPortRange"))
        return client_exception("Container '" + name + "' maps a containerPortRange: berth publishes single ports. "
                                "List each port in portMappings.");
    if (present(c, "environmentFiles"))
      return client_exception("Container '" + name + "' uses environmentFiles: berth has no Amazon S3 to read them "
                              "from. Put the variables in 'environment' or 'secrets'.");
    if (present(c, "firelensConfiguration"))
      return client_exception("Container '" + name + "' uses firelensConfiguration: berth has no FireLens log router.");
    if (present(c, "credentialSpecs"))
      return client_exception("Container '" + name + "' uses credentialSpecs (Active Directory, Windows): berth runs "
                              "Linux containers only.");
    if (const auto* requirements = opt_array(c, "resourceRequirements"); requirements && !requirements->empty())
      return client_exception("Container '" + name + "' asks for resourceRequirements (GPU or inference "
                              "accelerators): berth's instances have none.");
    if (auto s = check_log_configuration(c, fargate); !s) return s;
    awslogs = awslogs || uses_awslogs(c);
    secrets = secrets || present(c, "secrets");
    if (const auto* credentials = object_member(c, "repositoryCredentials"))
      secrets = secrets || present(*credentials, "credentialsParameter");

    if (network_mode == "awsvpc") {
      if (present(c, "links")) return client_exception("Links are not supported when networkMode=awsvpc.");  // observed
      if (present(c, "hostname"))
        return client_exception("hostname is not supported on container when networkMode=awsvpc.");  // observed
      if (present(c, "extraHosts"))
        return client_exception("Extra hosts are not supported on container when networkMode=awsvpc");  // quoted (3P)
      if (present(c, "dnsServers"))
        return client_exception("DNS servers are not supported on container when networkMode=awsvpc");  // quoted (3P)
    }
    if (fargate) {
      // documented: not valid in Fargate tasks.
      for (std::string_view key : {"privileged", "links", "dnsServers", "dnsSearchDomains", "extraHosts",
                                   "dockerSecurityOptions", "disableNetworking"})
        if (present(c, key)) return fargate_refuses(key);
    }
  }
  auto pid_mode = opt_string(request, "pidMode");
  auto ipc_mode = opt_string(request, "ipcMode");
  if (!pid_mode || (*pid_mode && **pid_mode != "host" && **pid_mode != "task"))
    return client_exception("Invalid pidMode. Valid values are host and task.");  // unverified
  if (!ipc_mode || (*ipc_mode && **ipc_mode != "host" && **ipc_mode != "task" && **ipc_mode != "none"))
    return client_exception("Invalid ipcMode. Valid values are host, task and none.");  // unverified
  if (fargate && *ipc_mode) return client_exception("Tasks using the Fargate launch type do not support ipcMode.");  // observed
  if (fargate && pid_mode->value_or("") == "host")
    return client_exception("Tasks using the Fargate launch type do not support pidMode 'host'. The supported value "
                            "for pidMode is 'task'.");  // observed
  for (std::string_view key : {"proxyConfiguration", "inferenceAccelerators"})
    if (present(request, key))
      return client_exception("The task definition uses " + std::string(key) +
                              ": berth has no App Mesh proxy or inference accelerators.");
  if (const auto* platform = object_member(request, "runtimePlatform")) {
    auto family = opt_string(*platform, "operatingSystemFamily");
    if (family && *family && **family != "LINUX")
      return client_exception("runtimePlatform operatingSystemFamily '" + **family +
                              "': berth runs Linux containers only.");
  }
  if (secrets && !present(request, "executionRoleArn"))
    return client_exception(
        "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.");  // observed
  if (fargate && awslogs && !present(request, "executionRoleArn"))
    return client_exception("Fargate requires task definition to have execution role ARN to support log driver "
                            "awslogs.");  // observed
  if (fargate) {
    if (const auto* storage = object_member(request, "ephemeralStorage")) {
      auto size = opt_int(*storage, "sizeInGiB");
      // documented: 21 to 200 GiB
      if (!size || !*size || **size < 21 || **size > 200)
        return client_exception("The ephemeral storage size must be between 21 and 200 GiB.");  // unverified
    }
  }
  return Ok{};
}

}  // namespace berth::ecs
