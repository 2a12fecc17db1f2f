#include "runtime/oci_config.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "runtime/open_in_root.h"

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

// The fields of the line of a passwd or group file (text) whose first field
// is `name`.
std::optional<std::vector<std::string>> find_entry(const std::string& text, std::string_view name) {
  std::istringstream in(text);
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

// Syscalls Docker's default profile allows only to a container holding the
// capability (its "includes": {"caps": [...]} rules).
const std::vector<std::pair<std::string_view, std::vector<std::string_view>>>& syscalls_by_capability() {
  static const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> kTable = {
      {"CAP_SYS_ADMIN", {"bpf", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount",
                         "mount_setattr", "move_mount", "name_to_handle_at", "open_tree", "perf_event_open",
                         "quotactl", "setns", "syslog", "umount", "umount2", "unshare"}},
      {"CAP_SYS_PTRACE", {"kcmp", "process_vm_readv", "process_vm_writev", "ptrace"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_MODULE", {"create_module", "delete_module", "finit_module", "init_module", "query_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_RAWIO", {"ioperm", "iopl"}},
      {"CAP_SYS_TIME", {"clock_adjtime", "clock_settime", "settimeofday", "stime"}},
      {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
  };
  return kTable;
}

json::object seccomp_profile(const std::vector<std::string>& capabilities) {
  // Default allow with explicit EPERM denials: what Docker's default profile
  // refuses, without its long allow list (simpler, same effect for these).
  std::set<std::string_view> allowed;
  for (const auto& [cap, calls] : syscalls_by_capability())
    if (std::find(capabilities.begin(), capabilities.end(), cap) != capabilities.end())
      allowed.insert(calls.begin(), calls.end());
  std::vector<std::string> denied;
  for (const auto& name : denied_syscalls())
    if (!allowed.count(name)) denied.push_back(name);
  json::object deny{{"names", string_array(denied)}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}};
  return json::object{{"defaultAction", "SCMP_ACT_ALLOW"},
                      {"architectures", json::array{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                      {"syscalls", json::array{deny}}};
}

std::string rlimit_name(const std::string& ecs_name) {
  std::string upper;
  for (char c : ecs_name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return "RLIMIT_" + upper;
}

const std::vector<std::string>& all_capabilities() {
  static const std::vector<std::string> kAll = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
      "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
      "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
      "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
      "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
      "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
      "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE"};
  return kAll;
}

// Docker's default capabilities (moby's oci/caps/defaults.go).
const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> kDefault = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
      "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
      "CAP_AUDIT_WRITE"};
  return kDefault;
}

std::string device_access(const std::vector<std::string>& permissions) {
  if (permissions.empty()) return "rwm";
  std::string access;
  for (const auto& p : permissions) {
    if (p == "read" && access.find('r') == std::string::npos) access += 'r';
    if (p == "write" && access.find('w') == std::string::npos) access += 'w';
    if (p == "mknod" && access.find('m') == std::string::npos) access += 'm';
  }
  return access;
}

}  // namespace

// The capabilities this process may hand out (its bounding set): "every
// capability" means every one the host has, as Docker's privileged does.
std::vector<std::string> host_capabilities() {
  std::ifstream in("/proc/self/status");
  std::string line;
  uint64_t bounding = ~0ull;
  while (std::getline(in, line))
    if (line.rfind("CapBnd:", 0) == 0) bounding = std::stoull(line.substr(7), nullptr, 16);
  // all_capabilities() is in the kernel's bit order.
  std::vector<std::string> out;
  const auto& all = all_capabilities();
  for (size_t bit = 0; bit < all.size(); ++bit)
    if (bounding & (1ull << bit)) out.push_back(all[bit]);
  return out;
}

Result<std::vector<std::string>> container_capabilities(const LinuxOptions& options) {
  const auto& all = all_capabilities();
  if (options.privileged) return host_capabilities();
  auto full_name = [&](const std::string& ecs) -> std::optional<std::string> {
    std::string name = ecs;
    for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
    if (std::find(all.begin(), all.end(), name) == all.end()) return std::nullopt;
    return name;
  };
  auto is_all = [](const std::string& n) { return n == "ALL" || n == "all"; };
  std::vector<std::string> caps = default_capabilities();
  // Docker applies drops after adds, except that adding a capability named
  // explicitly beats dropping ALL.
  bool drop_all = std::any_of(options.capabilities_drop.begin(), options.capabilities_drop.end(), is_all);
  if (drop_all) caps.clear();
  for (const auto& d : options.capabilities_drop) {
    if (is_all(d)) continue;
    auto name = full_name(d);
    if (!name) return Error::invalid("InvalidCapability", "unknown capability to drop: \"" + d + "\"");
    caps.erase(std::remove(caps.begin(), caps.end(), *name), caps.end());
  }
  // Docker: adding ALL starts from every capability; the drops still apply.
  if (std::any_of(options.capabilities_add.begin(), options.capabilities_add.end(), is_all)) {
    caps = host_capabilities();
    for (const auto& d : options.capabilities_drop)
      if (auto name = full_name(d)) caps.erase(std::remove(caps.begin(), caps.end(), *name), caps.end());
    return caps;
  }
  for (const auto& a : options.capabilities_add) {
    auto name = full_name(a);
    if (!name) return Error::invalid("InvalidCapability", "unknown capability to add: \"" + a + "\"");
    if (std::find(caps.begin(), caps.end(), *name) == caps.end()) caps.push_back(*name);
  }
  return caps;
}

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

// A passwd or group file of a sane size; a bigger one is refused rather than
// read into memory.
constexpr size_t kMaxUserFileBytes = 4 * 1024 * 1024;

// The file at `path` (relative, no leading '/') inside `root`, resolved as
// if `root` were the filesystem's root (a chroot): an absolute symlink and
// ".." stop at `root`, so an image cannot make the daemon read host files.
// Only a regular file is read (no FIFO to block on, no device to read
// forever). nullopt when there is no such file.
std::optional<std::string> read_file_in_root(const std::string& root, std::string_view path) {
  int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return std::nullopt;
  int fd = open_in_root(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  ::close(root_fd);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= kMaxUserFileBytes) {
    std::string text;
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || text.size() + static_cast<size_t>(n) > kMaxUserFileBytes) {
        if (n == 0) out = std::move(text);
        break;
      }
      text.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
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
    auto text = read_file_in_root(rootfs, "etc/passwd");
    auto entry = text ? find_entry(*text, name) : std::nullopt;
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
      auto text = read_file_in_root(rootfs, "etc/group");
      auto entry = text ? find_entry(*text, group) : std::nullopt;
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
  for (const auto& [k, v] : spec.secrets) set(k, v);
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
  const LinuxOptions& lx = spec.linux;
  // Docker injects its init only into a container with a pid namespace of its own.
  const bool with_init = lx.init_process && in.pid_namespace.empty();
  if (with_init) {
    if (in.init_path.empty()) return Error::invalid("InvalidContainer", "initProcessEnabled: no init available");
    args.insert(args.begin(), {kInitPath, "--"});
  }
  auto caps_or = container_capabilities(lx);
  if (!caps_or) return std::move(caps_or).error();
  const auto& caps = *caps_or;

  json::array rlimits{json::object{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}};
  for (const auto& u : spec.ulimits) {
    json::object limit{{"type", rlimit_name(u.name)}, {"hard", u.hard}, {"soft", u.soft}};
    bool replaced = false;
    for (auto& r : rlimits)
      if (r.as_object().at("type") == limit.at("type")) r = limit, replaced = true;
    if (!replaced) rlimits.push_back(limit);
  }
  std::string cwd = !spec.working_directory.empty() ? spec.working_directory
                    : !image.working_dir.empty()    ? image.working_dir
                                                    : "/";
  // As Docker: the capability sets a root process starts with; a non-root
  // user's effective set is emptied by the kernel at exec (no ambient set).
  json::array cap_array = string_array(caps);
  json::object process{
      {"terminal", lx.pseudo_terminal},
      {"user", json::object{{"uid", in.user.uid}, {"gid", in.user.gid}}},
      {"args", string_array(args)},
      {"env", string_array(process_env(image, spec))},
      {"cwd", cwd},
      {"capabilities", json::object{{"bounding", cap_array}, {"effective", cap_array}, {"permitted", cap_array}}},
      {"rlimits", rlimits},
      {"noNewPrivileges", lx.no_new_privileges}};

  int64_t shm_mib = lx.shared_memory_mib > 0 ? lx.shared_memory_mib : 64;
  json::array mounts{mount("/proc", "proc", "proc", {})};
  if (lx.privileged) {
    // The host's devices, as Docker gives a privileged container.
    mounts.push_back(mount("/dev", "bind", "/dev", {"rbind", "rprivate", "nosuid"}));
  } else {
    mounts.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  }
  mounts.push_back(
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  mounts.push_back(mount("/dev/shm", "tmpfs", "shm",
                         {"nosuid", "noexec", "nodev", "mode=1777", "size=" + std::to_string(shm_mib * 1024) + "k"}));
  mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  std::string sys_mode = lx.privileged ? "rw" : "ro";
  mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_mode}));
  mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", sys_mode}));
  for (const auto& b : in.binds) {
    std::vector<std::string> options{"rbind", "rprivate"};
    options.push_back(b.read_only ? "ro" : "rw");
    mounts.push_back(mount(b.destination, "bind", b.source, options));
  }
  if (with_init) mounts.push_back(mount(kInitPath, "bind", in.init_path, {"bind", "ro", "rprivate"}));
  for (const auto& t : lx.tmpfs) {
    // Docker's defaults for a tmpfs mount; the definition's options come after and win.
    std::vector<std::string> options{"nosuid", "nodev", "noexec"};
    options.insert(options.end(), t.options.begin(), t.options.end());
    if (t.size_mib > 0) options.push_back("size=" + std::to_string(t.size_mib) + "m");
    mounts.push_back(mount(t.container_path, "tmpfs", "tmpfs", options));
  }

  json::array device_rules{json::object{{"allow", lx.privileged}, {"access", "rwm"}}};
  json::array devices;
  for (const auto& d : lx.devices) {
    struct stat st {};
    if (::stat(d.host_path.c_str(), &st) != 0 || (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)))
      return Error::invalid("InvalidDevice", "error gathering device information while adding device \"" +
                                                 d.host_path + "\": not a device");
    std::string type = S_ISCHR(st.st_mode) ? "c" : "b";
    int64_t major = ::major(st.st_rdev), minor = ::minor(st.st_rdev);
    devices.push_back(json::object{{"path", d.container_path.empty() ? d.host_path : d.container_path},
                                   {"type", type},
                                   {"major", major},
                                   {"minor", minor},
                                   {"fileMode", st.st_mode & 07777},
                                   {"uid", 0},
                                   {"gid", 0}});
    device_rules.push_back(json::object{
        {"allow", true}, {"type", type}, {"major", major}, {"minor", minor}, {"access", device_access(d.permissions)}});
  }

  json::object resources{{"devices", device_rules}};
  json::object memory;
  if (spec.memory_mib > 0) {
    // swap = limit (no swap) unless maxSwap says how much: the limit is an OOM kill.
    memory["limit"] = spec.memory_mib * kMiB;
    memory["swap"] = (spec.memory_mib + lx.max_swap_mib.value_or(0)) * kMiB;
  }
  if (spec.memory_reservation_mib > 0) memory["reservation"] = spec.memory_reservation_mib * kMiB;
  if (lx.swappiness) memory["swappiness"] = *lx.swappiness;
  if (!memory.empty()) resources["memory"] = memory;
  if (spec.cpu_shares > 0) resources["cpu"] = json::object{{"shares", spec.cpu_shares < 2 ? 2 : spec.cpu_shares}};
  if (spec.pids_limit > 0) resources["pids"] = json::object{{"limit", spec.pids_limit}};

  // Docker lets an unprivileged user bind low ports in the container's own
  // network namespace; the definition's systemControls come on top.
  json::object sysctl{{"net.ipv4.ip_unprivileged_port_start", "0"}};
  for (const auto& [k, v] : lx.sysctls) sysctl[k] = v;

  // A namespace of its own (""), none at all ("host": the host's), or another's (a path).
  json::array namespaces;
  for (auto [type, path] : {std::pair<const char*, const std::string*>{"pid", &in.pid_namespace},
                            {"network", &in.netns_path}, {"ipc", &in.ipc_namespace}}) {
    if (*path == "host") continue;
    json::object ns{{"type", type}};
    if (!path->empty()) ns["path"] = *path;
    namespaces.push_back(std::move(ns));
  }
  namespaces.push_back(json::object{{"type", "uts"}});
  namespaces.push_back(json::object{{"type", "mount"}});
  json::object linux{
      {"resources", resources}, {"cgroupsPath", in.cgroups_path}, {"namespaces", namespaces}, {"sysctl", sysctl}};
  if (!devices.empty()) linux["devices"] = devices;
  if (!lx.privileged) {
    linux["maskedPaths"] = string_array({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                         "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                         "/proc/sched_debug", "/sys/firmware", "/proc/scsi"});
    linux["readonlyPaths"] =
        string_array({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
    if (!lx.seccomp_unconfined) linux["seccomp"] = seccomp_profile(caps);
  }

  json::object annotations;
  for (const auto& [k, v] : spec.labels) annotations[k] = v;
  json::object config{{"ociVersion", "1.0.2-dev"},
                      {"process", process},
                      {"root", json::object{{"path", in.rootfs}, {"readonly", spec.readonly_root_filesystem}}},
                      {"hostname", spec.hostname.empty() ? spec.name.substr(0, 63) : spec.hostname},
                      {"mounts", mounts},
                      {"linux", linux}};
  if (!annotations.empty()) config["annotations"] = annotations;
  return json::serialize(config);
}

}  // namespace berth::runtime
