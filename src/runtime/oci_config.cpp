#include "runtime/oci_config.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <csignal>
#include <fstream>
#include <optional>

namespace berth::runtime {
namespace {

namespace json = boost::json;

std::vector<std::string> strings_of(const json::value* v) {
  std::vector<std::string> out;
  if (!v || !v->is_array()) return out;
  for (const auto& e : v->as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

std::string string_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<uint32_t> number_of(std::string_view s) {
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

// Field `field_index` (0-based) of the line whose first field is `name` or
// whose id field (2) is `name` (when by_id).
std::optional<std::vector<std::string>> find_entry(const std::string& file, std::string_view name) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      size_t colon = line.find(':', start);
      fields.push_back(line.substr(start, colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (fields.size() >= 3 && fields[0] == name) return fields;
  }
  return std::nullopt;
}

json::array string_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object mount(std::string_view dest, std::string_view type, std::string_view source,
                   std::vector<std::string> options) {
  json::object m{{"destination", dest}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = string_array(options);
  return m;
}

constexpr int64_t kMiB = 1024 * 1024;

json::object seccomp_profile() {
  // Default allow with explicit EPERM denials: what Docker's default profile
  // refuses, without its long allow list (simpler, same effect for these).
  json::object deny{{"names", string_array(denied_syscalls())}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}};
  return json::object{{"defaultAction", "SCMP_ACT_ALLOW"},
                      {"architectures", json::array{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                      {"syscalls", json::array{deny}}};
}

std::string rlimit_name(const std::string& ecs_name) {
  std::string upper;
  for (char c : ecs_name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return "RLIMIT_" + upper;
}

}  // namespace

const std::vector<std::string>& denied_syscalls() {
  static const std::vector<std::string> kDenied = {
      "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
      "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
      "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
      "mbind", "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
      "open_by_handle_at", "open_tree", "perf_event_open", "personality", "pivot_root", "process_vm_readv",
      "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot", "request_key", "set_mempolicy",
      "setns", "settimeofday", "stime", "swapoff", "swapon", "sysfs", "syslog", "_sysctl", "umount",
      "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old"};
  return kDenied;
}

Result<ImageConfig> parse_image_config(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error::invalid("InvalidImageConfig", "image config is not a JSON object");
  ImageConfig out;
  auto* config = v.as_object().if_contains("config");
  if (!config || !config->is_object()) return out;
  const auto& c = config->as_object();
  out.env = strings_of(c.if_contains("Env"));
  out.entrypoint = strings_of(c.if_contains("Entrypoint"));
  out.cmd = strings_of(c.if_contains("Cmd"));
  out.working_dir = string_of(c, "WorkingDir");
  out.user = string_of(c, "User");
  out.stop_signal = string_of(c, "StopSignal");
  return out;
}

Result<UserIds> resolve_user(const std::string& rootfs, std::string_view user) {
  UserIds ids;
  if (user.empty()) return ids;
  std::string_view name = user, group;
  if (auto colon = user.find(':'); colon != std::string_view::npos) {
    name = user.substr(0, colon);
    group = user.substr(colon + 1);
  }
  if (auto n = number_of(name)) {
    ids.uid = *n;
    ids.gid = *n == 0 ? 0 : *n;
  } else {
    auto entry = find_entry(rootfs + "/etc/passwd", name);
    if (!entry || entry->size() < 4) return Error::invalid("InvalidUser", "unable to find user " + std::string(name));
    auto uid = number_of((*entry)[2]);
    auto gid = number_of((*entry)[3]);
    if (!uid || !gid) return Error::invalid("InvalidUser", "bad passwd entry for " + std::string(name));
    ids.uid = *uid, ids.gid = *gid;
  }
  if (!group.empty()) {
    if (auto n = number_of(group)) {
      ids.gid = *n;
    } else {
      auto entry = find_entry(rootfs + "/etc/group", group);
      if (!entry) return Error::invalid("InvalidUser", "unable to find group " + std::string(group));
      auto gid = number_of((*entry)[2]);
      if (!gid) return Error::invalid("InvalidUser", "bad group entry for " + std::string(group));
      ids.gid = *gid;
    }
  }
  return ids;
}

std::vector<std::string> process_args(const ImageConfig& image, const ContainerSpec& spec) {
  std::vector<std::string> args = spec.entry_point ? *spec.entry_point : image.entrypoint;
  // Docker: setting the entrypoint resets the image's Cmd.
  const std::vector<std::string>& cmd = spec.command ? *spec.command : (spec.entry_point ? std::vector<std::string>{} : image.cmd);
  args.insert(args.end(), cmd.begin(), cmd.end());
  return args;
}

std::vector<std::string> process_env(const ImageConfig& image, const ContainerSpec& spec) {
  std::vector<std::string> env = image.env;
  auto set = [&](const std::string& key, const std::string& value) {
    for (auto& e : env)
      if (e.compare(0, key.size() + 1, key + "=") == 0) {
        e = key + "=" + value;
        return;
      }
    env.push_back(key + "=" + value);
  };
  bool has_path = false;
  for (const auto& e : env) has_path = has_path || e.rfind("PATH=", 0) == 0;
  if (!has_path) env.insert(env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (const auto& [k, v] : spec.environment) set(k, v);
  if (!spec.hostname.empty()) set("HOSTNAME", spec.hostname);
  return env;
}

int signal_number(std::string_view name) {
  if (auto n = number_of(name)) return static_cast<int>(*n);
  if (name.rfind("SIG", 0) == 0) name.remove_prefix(3);
  static const std::pair<std::string_view, int> kSignals[] = {
      {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR}};
  for (auto [n, s] : kSignals)
    if (n == name) return s;
  return 0;
}

Result<std::string> make_oci_config(const ImageConfig& image, const ContainerSpec& spec, const BundleInputs& in) {
  auto args = process_args(image, spec);
  if (args.empty()) return Error::invalid("InvalidContainer", "container " + spec.name + ": no command specified");

  json::array rlimits{json::object{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}};
  for (const auto& u : spec.ulimits) {
    json::object limit{{"type", rlimit_name(u.name)}, {"hard", u.hard}, {"soft", u.soft}};
    bool replaced = false;
    for (auto& r : rlimits)
      if (r.as_object().at("type") == limit.at("type")) r = limit, replaced = true;
    if (!replaced) rlimits.push_back(limit);
  }
  json::array caps = string_array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  std::string cwd = !spec.working_directory.empty() ? spec.working_directory
                    : !image.working_dir.empty()    ? image.working_dir
                                                    : "/";
  json::object process{
      {"terminal", false},
      {"user", json::object{{"uid", in.user.uid}, {"gid", in.user.gid}}},
      {"args", string_array(args)},
      {"env", string_array(process_env(image, spec))},
      {"cwd", cwd},
      {"capabilities",
       json::object{{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", rlimits},
      {"noNewPrivileges", true}};

  json::array mounts{
      mount("/proc", "proc", "proc", {}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"})};

  json::object resources{{"devices", json::array{json::object{{"allow", false}, {"access", "rwm"}}}}};
  json::object memory;
  if (spec.memory_mib > 0) {
    // swap = limit: the container cannot swap, so the limit is an OOM kill.
    memory["limit"] = spec.memory_mib * kMiB;
    memory["swap"] = spec.memory_mib * kMiB;
  }
  if (spec.memory_reservation_mib > 0) memory["reservation"] = spec.memory_reservation_mib * kMiB;
  if (!memory.empty()) resources["memory"] = memory;
  if (spec.cpu_shares > 0) resources["cpu"] = json::object{{"shares", spec.cpu_shares < 2 ? 2 : spec.cpu_shares}};
  if (spec.pids_limit > 0) resources["pids"] = json::object{{"limit", spec.pids_limit}};

  json::object network_ns{{"type", "network"}};
  if (!in.netns_path.empty()) network_ns["path"] = in.netns_path;
  json::object linux{
      {"resources", resources},
      {"cgroupsPath", in.cgroups_path},
      {"namespaces", json::array{json::object{{"type", "pid"}}, network_ns, json::object{{"type", "ipc"}},
                                 json::object{{"type", "uts"}}, json::object{{"type", "mount"}}}},
      {"maskedPaths", string_array({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                    "/proc/scsi"})},
      {"readonlyPaths", string_array({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"})},
      {"seccomp", seccomp_profile()}};

  json::object config{{"ociVersion", "1.0.2-dev"},
                      {"process", process},
                      {"root", json::object{{"path", in.rootfs}, {"readonly", spec.readonly_root_filesystem}}},
                      {"hostname", spec.hostname.empty() ? spec.name : spec.hostname},
                      {"mounts", mounts},
                      {"linux", linux}};
  return json::serialize(config);
}

}  // namespace berth::runtime
