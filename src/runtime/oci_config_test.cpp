#include "runtime/oci_config.h"
#include "core/testing/expect_ok.h"
#include "runtime/open_in_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cerrno>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace berth::runtime {
namespace {

namespace json = boost::json;

ImageConfig busybox_like() {
  auto c = parse_image_config(R"({"architecture":"amd64","config":{
      "Env":["PATH=/bin","GREETING=hi"],"Entrypoint":["/bin/httpd"],"Cmd":["-f","-p","80"],
      "WorkingDir":"/www","User":"1000:1000","StopSignal":"SIGQUIT"}})");
  EXPECT_OK(c);
  return *c;
}

json::object config_of(const ImageConfig& image, const ContainerSpec& spec) {
  auto text = make_oci_config(
      image, spec, {.rootfs = "/r/rootfs", .netns_path = "/run/netns/berth-t", .cgroups_path = "/berth/t_web",
                    .user = {1000, 1000}});
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return json::parse(*text).as_object();
}

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& e : v.as_array()) out.emplace_back(e.as_string());
  return out;
}

TEST(ImageConfig, Parses) {
  auto c = busybox_like();
  EXPECT_EQ(c.entrypoint, std::vector<std::string>{"/bin/httpd"});
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"-f", "-p", "80"}));
  EXPECT_EQ(c.working_dir, "/www");
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_EQ(c.stop_signal, "SIGQUIT");
  EXPECT_OK(parse_image_config("{}"));
  EXPECT_FALSE(parse_image_config("[").ok());
}

TEST(OciConfig, DockerMergeOfEntrypointAndCommand) {
  auto image = busybox_like();
  ContainerSpec spec;
  EXPECT_EQ(process_args(image, spec), (std::vector<std::string>{"/bin/httpd", "-f", "-p", "80"}));
  spec.command = std::vector<std::string>{"-p", "8080"};
  EXPECT_EQ(process_args(image, spec), (std::vector<std::string>{"/bin/httpd", "-p", "8080"}));
  ContainerSpec ep;
  ep.entry_point = std::vector<std::string>{"/bin/sh", "-c"};
  EXPECT_EQ(process_args(image, ep), (std::vector<std::string>{"/bin/sh", "-c"}));  // image Cmd dropped
  ep.command = std::vector<std::string>{"echo hi"};
  EXPECT_EQ(process_args(image, ep), (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
}

TEST(OciConfig, EnvironmentOverridesImage) {
  ContainerSpec spec;
  spec.environment = {{"GREETING", "hello"}, {"NEW", "1"}};
  auto env = process_env(busybox_like(), spec);
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "GREETING=hello", "NEW=1"}));
  auto defaulted = process_env(ImageConfig{}, ContainerSpec{});
  ASSERT_FALSE(defaulted.empty());
  EXPECT_EQ(defaulted[0].rfind("PATH=", 0), 0u);
}

TEST(OciConfig, ProcessRootLimitsAndNamespaces) {
  ContainerSpec spec;
  spec.name = "web";
  spec.working_directory = "/srv";
  spec.readonly_root_filesystem = true;
  spec.memory_mib = 64;
  spec.memory_reservation_mib = 32;
  spec.cpu_shares = 256;
  spec.pids_limit = 100;
  spec.ulimits = {{"nofile", 4096, 8192}, {"nproc", 50, 60}};
  spec.hostname = "box";
  auto c = config_of(busybox_like(), spec);
  const auto& process = c.at("process").as_object();
  EXPECT_EQ(process.at("terminal").as_bool(), false);
  EXPECT_EQ(process.at("cwd").as_string(), "/srv");
  EXPECT_EQ(process.at("user").at("uid").as_int64(), 1000);
  // Docker's defaults, which ECS on EC2 gives: setuid programs work, 14 capabilities.
  EXPECT_FALSE(process.at("noNewPrivileges").as_bool());
  EXPECT_EQ(strings(process.at("capabilities").at("bounding")).size(), 14u);
  EXPECT_FALSE(process.at("capabilities").as_object().contains("ambient"));
  const auto& rlimits = process.at("rlimits").as_array();
  ASSERT_EQ(rlimits.size(), 2u);
  EXPECT_EQ(rlimits[0].at("type").as_string(), "RLIMIT_NOFILE");
  EXPECT_EQ(rlimits[0].at("soft").as_int64(), 4096);
  EXPECT_EQ(rlimits[1].at("type").as_string(), "RLIMIT_NPROC");
  EXPECT_EQ(c.at("root").at("path").as_string(), "/r/rootfs");
  EXPECT_TRUE(c.at("root").at("readonly").as_bool());
  EXPECT_EQ(c.at("hostname").as_string(), "box");
  const auto& linux = c.at("linux").as_object();
  EXPECT_EQ(linux.at("cgroupsPath").as_string(), "/berth/t_web");
  const auto& res = linux.at("resources").as_object();
  EXPECT_EQ(res.at("memory").at("limit").as_int64(), 64 << 20);
  EXPECT_EQ(res.at("memory").at("swap").as_int64(), 64 << 20);
  EXPECT_EQ(res.at("memory").at("reservation").as_int64(), 32 << 20);
  EXPECT_EQ(res.at("cpu").at("shares").as_int64(), 256);
  EXPECT_EQ(res.at("pids").at("limit").as_int64(), 100);
  bool network_path = false;
  for (const auto& ns : linux.at("namespaces").as_array())
    if (ns.at("type").as_string() == "network") network_path = ns.at("path").as_string() == "/run/netns/berth-t";
  EXPECT_TRUE(network_path);
  auto masked = strings(linux.at("maskedPaths"));
  EXPECT_NE(std::find(masked.begin(), masked.end(), "/proc/kcore"), masked.end());
  auto ro = strings(linux.at("readonlyPaths"));
  EXPECT_NE(std::find(ro.begin(), ro.end(), "/proc/sys"), ro.end());
}

TEST(OciConfig, SeccompDeniesDockersList) {
  auto c = config_of(busybox_like(), ContainerSpec{});
  const auto& seccomp = c.at("linux").at("seccomp").as_object();
  EXPECT_EQ(seccomp.at("defaultAction").as_string(), "SCMP_ACT_ALLOW");
  const auto& rule = seccomp.at("syscalls").as_array()[0].as_object();
  EXPECT_EQ(rule.at("action").as_string(), "SCMP_ACT_ERRNO");
  auto names = strings(rule.at("names"));
  for (const char* s : {"keyctl", "add_key", "request_key", "mount", "umount2", "unshare", "setns", "kexec_load",
                        "open_by_handle_at", "init_module", "finit_module", "delete_module", "bpf",
                        "perf_event_open", "ptrace", "reboot", "swapon", "swapoff", "pivot_root", "acct"})
    EXPECT_NE(std::find(names.begin(), names.end(), s), names.end()) << s;
  EXPECT_EQ(std::find(names.begin(), names.end(), "read"), names.end());
}

TEST(OciConfig, NothingToRunIsInvalid) {
  auto r = make_oci_config(ImageConfig{}, ContainerSpec{}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error_class, ErrorClass::kInvalid);
}

TEST(OciConfig, UsersByIdAndName) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-user-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "etc");
  std::ofstream(dir / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\nwww:x:33:44::/var/www:/bin/false\n";
  std::ofstream(dir / "etc" / "group") << "root:x:0:\nstaff:x:50:\n";
  auto ids = resolve_user(dir.string(), "www");
  ASSERT_OK(ids);
  EXPECT_EQ(ids->uid, 33u);
  EXPECT_EQ(ids->gid, 44u);
  ids = resolve_user(dir.string(), "www:staff");
  ASSERT_OK(ids);
  EXPECT_EQ(ids->gid, 50u);
  ids = resolve_user(dir.string(), "1001:7");
  ASSERT_OK(ids);
  EXPECT_EQ(ids->uid, 1001u);
  EXPECT_EQ(ids->gid, 7u);
  EXPECT_FALSE(resolve_user(dir.string(), "nobody-here").ok());
  std::filesystem::remove_all(dir);
}

// An image root inside a scratch tree whose other files stand for the host's:
//   outer/passwd, outer/host-passwd   "host" files (uid 666)
//   outer/a/b/root                     the image root
class ImageRootTest : public ::testing::Test {
 protected:
  ImageRootTest() {
    outer_ = std::filesystem::temp_directory_path() / ("berth-root-" + std::to_string(::getpid()));
    root_ = outer_ / "a" / "b" / "root";
    std::filesystem::create_directories(root_);
    std::ofstream(outer_ / "passwd") << "www:x:666:666::/:/bin/sh\n";
    std::ofstream(outer_ / "host-passwd") << "www:x:666:666::/:/bin/sh\n";
  }
  ~ImageRootTest() override { std::filesystem::remove_all(outer_); }
  std::filesystem::path outer_, root_;
};

TEST_F(ImageRootTest, PasswdSymlinkToAHostFileIsNotFollowedOut) {
  std::filesystem::create_directories(root_ / "etc");
  std::filesystem::create_symlink(outer_ / "host-passwd", root_ / "etc" / "passwd");
  auto ids = resolve_user(root_.string(), "www");
  EXPECT_FALSE(ids.ok()) << "read the host's file through an absolute symlink: uid " << ids->uid;
  // Inside the root, the same absolute target is the image's own file.
  std::filesystem::create_directories(root_ / outer_.relative_path());
  std::ofstream(root_ / outer_.relative_path() / "host-passwd") << "www:x:33:44::/:/bin/sh\n";
  ids = resolve_user(root_.string(), "www");
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_EQ(ids->uid, 33u);
}

TEST_F(ImageRootTest, EtcSymlinkUpwardsStopsAtTheRoot) {
  std::filesystem::create_directory_symlink("../../..", root_ / "etc");
  // Without a chroot's rules, /etc/passwd would be outer/passwd (uid 666).
  auto ids = resolve_user(root_.string(), "www");
  EXPECT_FALSE(ids.ok()) << "read a file above the image root: uid " << ids->uid;
  // As in a chroot, /etc -> ../../.. is the root itself: /etc/passwd is /passwd.
  std::ofstream(root_ / "passwd") << "www:x:33:44::/:/bin/sh\n";
  ids = resolve_user(root_.string(), "www");
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_EQ(ids->uid, 33u);
  EXPECT_EQ(ids->gid, 44u);
}

TEST_F(ImageRootTest, RelativeLinksInsideTheRootStillWork) {
  std::filesystem::create_directories(root_ / "usr" / "etc");
  std::ofstream(root_ / "usr" / "etc" / "group") << "staff:x:50:\n";
  std::filesystem::create_directory_symlink("usr/etc", root_ / "etc");
  auto ids = resolve_user(root_.string(), "7:staff");
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_EQ(ids->gid, 50u);
}

TEST_F(ImageRootTest, NotARegularFileIsNotRead) {
  std::filesystem::create_directories(root_ / "etc");
  ASSERT_EQ(::mkfifo((root_ / "etc" / "passwd").c_str(), 0600), 0);  // would block a plain open
  EXPECT_FALSE(resolve_user(root_.string(), "www").ok());
}

TEST_F(ImageRootTest, ByHandResolutionMatchesTheKernels) {
  std::filesystem::create_directories(root_ / "etc");
  std::filesystem::create_symlink(outer_ / "host-passwd", root_ / "etc" / "passwd");
  std::filesystem::create_directory_symlink("../../..", root_ / "up");
  std::filesystem::create_symlink("loop2", root_ / "loop1");
  std::filesystem::create_symlink("loop1", root_ / "loop2");
  std::ofstream(root_ / "passwd") << "inside\n";
  int root_fd = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root_fd, 0);
  auto contents = [&](int fd) {
    if (fd < 0) return std::string("(none)");
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  };
  for (auto open : {&open_in_root, &open_in_root_by_hand}) {
    SCOPED_TRACE(open == &open_in_root ? "open_in_root" : "open_in_root_by_hand");
    EXPECT_EQ(contents(open(root_fd, "etc/passwd", O_RDONLY)), "(none)");
    EXPECT_EQ(contents(open(root_fd, "up/passwd", O_RDONLY)), "inside\n");
    EXPECT_EQ(contents(open(root_fd, "/up/../../passwd", O_RDONLY)), "inside\n");
    errno = 0;
    EXPECT_EQ(open(root_fd, "loop1", O_RDONLY), -1);
    EXPECT_EQ(errno, ELOOP);
  }
  ::close(root_fd);
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

const json::object* mount_at(const json::object& config, std::string_view destination) {
  for (const auto& m : config.at("mounts").as_array())
    if (m.at("destination").as_string() == destination) return &m.as_object();
  return nullptr;
}

TEST(OciConfig, CapabilitiesAddAndDropOverDockersDefault) {
  LinuxOptions lx;
  lx.capabilities_add = {"NET_ADMIN", "SYS_PTRACE"};
  lx.capabilities_drop = {"MKNOD", "CAP_NET_RAW"};
  auto caps = container_capabilities(lx);
  ASSERT_TRUE(caps.ok()) << caps.error().message;
  EXPECT_TRUE(has(*caps, "CAP_NET_ADMIN"));
  EXPECT_TRUE(has(*caps, "CAP_SYS_PTRACE"));
  EXPECT_TRUE(has(*caps, "CAP_CHOWN"));
  EXPECT_FALSE(has(*caps, "CAP_MKNOD"));
  EXPECT_FALSE(has(*caps, "CAP_NET_RAW"));

  lx = {};
  lx.capabilities_drop = {"ALL"};
  lx.capabilities_add = {"NET_BIND_SERVICE"};
  caps = container_capabilities(lx);
  ASSERT_OK(caps);
  EXPECT_EQ(*caps, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});

  lx = {};
  lx.capabilities_add = {"ALL"};
  lx.capabilities_drop = {"NET_RAW"};
  caps = container_capabilities(lx);
  ASSERT_OK(caps);
  EXPECT_TRUE(has(*caps, "CAP_SYS_ADMIN"));
  EXPECT_FALSE(has(*caps, "CAP_NET_RAW"));  // a drop still applies

  lx = {};
  lx.privileged = true;
  EXPECT_GE(container_capabilities(lx)->size(), 38u);  // every one the host has
  lx = {};
  lx.capabilities_add = {"FLY"};
  auto bad = container_capabilities(lx);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().error_class, ErrorClass::kInvalid);
}

TEST(OciConfig, AddedCapabilityOpensItsSyscalls) {
  ContainerSpec spec;
  spec.linux.capabilities_add = {"SYS_PTRACE"};
  auto c = config_of(busybox_like(), spec);
  auto names = strings(c.at("linux").at("seccomp").at("syscalls").as_array()[0].at("names"));
  EXPECT_FALSE(has(names, "ptrace"));
  EXPECT_TRUE(has(names, "mount"));
}

TEST(OciConfig, LinuxParametersBecomeMountsLimitsAndSysctls) {
  ContainerSpec spec;
  spec.memory_mib = 128;
  spec.linux.tmpfs = {{"/scratch", 16, {"noexec", "mode=1770"}}};
  spec.linux.shared_memory_mib = 256;
  spec.linux.swappiness = 10;
  spec.linux.max_swap_mib = 64;
  spec.linux.sysctls = {{"net.core.somaxconn", "1024"}};
  spec.linux.no_new_privileges = true;
  spec.labels = {{"team", "web"}};
  auto c = config_of(busybox_like(), spec);
  const auto* tmpfs = mount_at(c, "/scratch");
  ASSERT_NE(tmpfs, nullptr);
  EXPECT_EQ(tmpfs->at("type").as_string(), "tmpfs");
  EXPECT_EQ(strings(tmpfs->at("options")),
            (std::vector<std::string>{"nosuid", "nodev", "noexec", "noexec", "mode=1770", "size=16m"}));
  EXPECT_TRUE(has(strings(mount_at(c, "/dev/shm")->at("options")), "size=262144k"));
  const auto& memory = c.at("linux").at("resources").at("memory").as_object();
  EXPECT_EQ(memory.at("swappiness").as_int64(), 10);
  EXPECT_EQ(memory.at("swap").as_int64(), (128 + 64) << 20);
  EXPECT_EQ(c.at("linux").at("sysctl").at("net.core.somaxconn").as_string(), "1024");
  EXPECT_TRUE(c.at("process").at("noNewPrivileges").as_bool());
  EXPECT_EQ(c.at("annotations").at("team").as_string(), "web");
}

TEST(OciConfig, BindsAndInit) {
  ContainerSpec spec;
  spec.linux.init_process = true;
  BundleInputs in{.rootfs = "/r/rootfs",
                  .cgroups_path = "/berth/t_web",
                  .binds = {{"/data/v", "/var/data", true}},
                  .init_path = "/opt/berth-init"};
  auto text = make_oci_config(busybox_like(), spec, in);
  ASSERT_TRUE(text.ok()) << text.error().message;
  auto c = json::parse(*text).as_object();
  const auto* data = mount_at(c, "/var/data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->at("source").as_string(), "/data/v");
  EXPECT_TRUE(has(strings(data->at("options")), "ro"));
  ASSERT_NE(mount_at(c, kInitPath), nullptr);
  EXPECT_EQ(strings(c.at("process").at("args")),
            (std::vector<std::string>{kInitPath, "--", "/bin/httpd", "-f", "-p", "80"}));
}

TEST(OciConfig, SharedAndHostNamespaces) {
  ContainerSpec spec;
  spec.linux.init_process = true;
  spec.linux.seccomp_unconfined = true;
  BundleInputs in{.rootfs = "/r/rootfs",
                  .netns_path = "/run/netns/berth-t",
                  .cgroups_path = "/berth/t_web",
                  .init_path = "/opt/berth-init",
                  .pid_namespace = "/proc/42/ns/pid",
                  .ipc_namespace = "host"};
  auto text = make_oci_config(busybox_like(), spec, in);
  ASSERT_TRUE(text.ok()) << text.error().message;
  auto c = json::parse(*text).as_object();
  std::map<std::string, std::string> namespaces;
  for (const auto& ns : c.at("linux").at("namespaces").as_array())
    namespaces[std::string(ns.at("type").as_string())] =
        ns.as_object().contains("path") ? std::string(ns.at("path").as_string()) : "";
  EXPECT_EQ(namespaces.at("pid"), "/proc/42/ns/pid");  // the task's (pidMode task)
  EXPECT_FALSE(namespaces.count("ipc"));                // the host's (ipcMode host)
  EXPECT_EQ(namespaces.at("network"), "/run/netns/berth-t");
  EXPECT_EQ(namespaces.at("mount"), "");
  // Docker's init goes only into a pid namespace of its own.
  EXPECT_EQ(strings(c.at("process").at("args"))[0], "/bin/httpd");
  EXPECT_FALSE(c.at("linux").as_object().contains("seccomp"));  // seccomp=unconfined
}

TEST(OciConfig, PrivilegedDropsConfinement) {
  ContainerSpec spec;
  spec.linux.privileged = true;
  auto c = config_of(busybox_like(), spec);
  const auto& linux = c.at("linux").as_object();
  EXPECT_FALSE(linux.contains("seccomp"));
  EXPECT_FALSE(linux.contains("maskedPaths"));
  EXPECT_TRUE(linux.at("resources").at("devices").as_array()[0].at("allow").as_bool());
  EXPECT_EQ(mount_at(c, "/dev")->at("source").as_string(), "/dev");
}

TEST(OciConfig, SignalNames) {
  EXPECT_EQ(signal_number("SIGTERM"), 15);
  EXPECT_EQ(signal_number("QUIT"), 3);
  EXPECT_EQ(signal_number("9"), 9);
  EXPECT_EQ(signal_number("SIGBOGUS"), 0);
}

}  // namespace
}  // namespace berth::runtime
