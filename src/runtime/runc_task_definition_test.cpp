// Task definition features in real containers (issue 12): volumes,
// volumesFrom, dependsOn, linuxParameters, UDP ports, long names. Each
// is checked from inside the container (its output) or from outside
// through its published ports.
#include <gtest/gtest.h>

#include <regex>

#include "runtime/runc_test_fixture.h"
#include "core/testing/expect_ok.h"

namespace berth::runtime {
namespace {

class TaskDefinitionTest : public RuncRuntimeTest {
 protected:
  // Runs a task to its end (its essential containers exit) and returns it.
  TaskState run_to_end(const TaskSpec& spec, std::chrono::seconds limit = 30s) {
    auto started = runtime_->start(spec);
    EXPECT_TRUE(started.ok()) << started.error().message;
    EXPECT_TRUE(wait_stopped(spec.task_id, limit));
    auto state = runtime_->state(spec.task_id);
    EXPECT_OK(state);
    return state.ok() ? *state : TaskState{};
  }
  std::string log_of(const TaskSpec& spec, const std::string& container) {
    return read_all(runtime_->log_path(spec.task_id, container));
  }
  const ContainerState* container(const TaskState& s, const std::string& name) {
    for (const auto& c : s.containers)
      if (c.name == name) return &c;
    return nullptr;
  }
};

TEST_F(TaskDefinitionTest, SharedDockerVolumeAndHostPathSeenFromTwoTasks) {
  fs::path host = dir_ / "host-data";
  std::vector<Volume> volumes{Volume::docker("shared", true, true),
                              Volume::host("host", host.string()),
                              Volume::scratch("scratch")};
  auto writer = busybox("writer", {"/bin/sh", "-c", "echo from-first > /shared/note; echo bound > /host/note; "
                                                    "echo temp > /scratch/note"});
  writer.mount_points = {{"shared", "/shared"}, {"host", "/host"}, {"scratch", "/scratch"}};
  auto first = task({writer});
  first.volumes = volumes;
  auto ended = run_to_end(first);
  ASSERT_EQ(ended.containers.size(), 1u);
  EXPECT_EQ(ended.containers[0].exit_code, 0) << log_of(first, "writer");
  EXPECT_EQ(read_all(host / "note"), "bound\n");  // the host's own directory
  expect_no_leaks(ended);                          // the task's scratch volume went with it

  auto reader = busybox("reader", {"/bin/sh", "-c", "cat /shared/note /host/note; ls /scratch | wc -l"});
  reader.mount_points = {{"shared", "/shared", true}, {"host", "/host"}, {"scratch", "/scratch"}};
  auto second = task({reader});
  second.volumes = volumes;
  run_to_end(second);
  EXPECT_EQ(log_of(second, "reader"), "from-first\nbound\n0\n");
  EXPECT_TRUE(fs::exists(dir_ / "runtime" / "volumes" / "shared" / "_data" / "note"));  // shared outlives both
}

TEST_F(TaskDefinitionTest, MissingSharedVolumeFailsTheStartWithTheAgentsText) {
  auto c = busybox("app", {"/bin/true"});
  c.mount_points = {{"db", "/db"}};
  auto spec = task({c});
  spec.volumes = {Volume::docker("db", true, false)};
  auto started = runtime_->start(spec);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, "VolumeNotFound");
  EXPECT_NE(started.error().message.find("does not exist and autoprovision is set to false"), std::string::npos)
      << started.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "runtime" / "tasks" / spec.task_id));
}

TEST_F(TaskDefinitionTest, VolumesFromReadOnlyAfterACompleteDependency) {
  auto writer = busybox("writer", {"/bin/sh", "-c", "echo made-by-writer > /data/file"});
  writer.essential = false;
  writer.mount_points = {{"data", "/data"}};
  auto reader = busybox("reader", {"/bin/sh", "-c", "cat /data/file; touch /data/other 2>/dev/null || echo read-only"});
  reader.volumes_from = {{"writer", true}};
  reader.depends_on = {{"writer", DependencyCondition::kComplete}};
  auto spec = task({writer, reader});
  spec.volumes = {Volume::scratch("data")};
  auto ended = run_to_end(spec);
  EXPECT_EQ(log_of(spec, "reader"), "made-by-writer\nread-only\n");
  EXPECT_EQ(container(ended, "reader")->exit_code, 0);
}

TEST_F(TaskDefinitionTest, HealthyDependencyGatesTheStartAndDependentsStopFirst) {
  auto db = busybox("db", {"/bin/sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 60"});
  db.health_check = HealthCheck{{"CMD-SHELL", "test -f /tmp/ready"}, 1s, 2s, 3, 0s};
  auto app = busybox("app", {"/bin/sleep", "60"});
  app.depends_on = {{"db", DependencyCondition::kHealthy}};
  auto spec = task({db, app});
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->containers[1].status, ContainerStatus::kPending);  // waits for db's health
  ASSERT_TRUE(wait_event(
      [&](const TaskEvent& e) { return e.kind == EventKind::kContainerStarted && e.container_name == "app"; }, 15s));
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : events_)
      if (e.kind == EventKind::kContainerStarted) {
        EXPECT_EQ(e.state.containers[0].health, HealthStatus::kHealthy) << "app started before db was healthy";
      }
  }
  ASSERT_OK(runtime_->stop(spec.task_id, "done"));
  ASSERT_TRUE(wait_stopped(spec.task_id, 20s));
  // app (the dependent) exits first, then db is signalled.
  std::vector<std::string> order;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : events_)
      if (e.kind == EventKind::kContainerExited) order.push_back(e.container_name);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"app", "db"}));
}

TEST_F(TaskDefinitionTest, FailedSuccessDependencyStopsTheTaskWithTheAgentsReason) {
  auto migrate = busybox("migrate", {"/bin/sh", "-c", "exit 3"});
  migrate.essential = false;
  auto app = busybox("app", {"/bin/sleep", "60"});
  app.depends_on = {{"migrate", DependencyCondition::kSuccess}};
  auto spec = task({migrate, app});
  auto ended = run_to_end(spec);
  EXPECT_EQ(ended.stop_cause, StopCause::kEssentialContainerExited);
  const auto* a = container(ended, "app");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->exit_code, 143);
  EXPECT_EQ(a->reason,
            "CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [migrate] "
            "for target [app] as dependency did not exit successfully.");
  EXPECT_EQ(container(ended, "migrate")->exit_code, 3);
}

TEST_F(TaskDefinitionTest, CircularDependenciesAreRefused) {
  auto a = busybox("a", {"/bin/sleep", "60"});
  auto b = busybox("b", {"/bin/sleep", "60"});
  auto c = busybox("c", {"/bin/sleep", "60"});
  a.depends_on = {{"b", DependencyCondition::kStart}};
  b.depends_on = {{"c", DependencyCondition::kStart}};
  c.depends_on = {{"a", DependencyCondition::kStart}};
  auto started = runtime_->start(task({a, b, c}));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().message, "Task dependencies cannot be resolved");
}

TEST_F(TaskDefinitionTest, HealthyConditionOnAContainerWithoutHealthCheckIsRefused) {
  auto db = busybox("db", {"/bin/sleep", "60"});
  auto app = busybox("app", {"/bin/sleep", "60"});
  app.depends_on = {{"db", DependencyCondition::kHealthy}};
  auto started = runtime_->start(task({db, app}));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().message, "Task dependencies cannot be resolved");
}

// The capability bits of a "CapEff:\t000..." line.
uint64_t cap_bits(const std::string& log, const std::string& field) {
  std::smatch m;
  std::regex re(field + ":\\s*([0-9a-f]+)");
  return std::regex_search(log, m, re) ? std::stoull(m[1], nullptr, 16) : ~0ull;
}

TEST_F(TaskDefinitionTest, LinuxParametersAsTheContainerSeesThem) {
  auto c = busybox("probe", {"/bin/sh", "-c",
                             "grep CapEff /proc/self/status; grep -E ' /scratch | /dev/shm ' /proc/mounts; "
                             "echo somaxconn=$(cat /proc/sys/net/core/somaxconn); echo nofile=$(ulimit -n); "
                             "grep db.internal /etc/hosts; cat /etc/resolv.conf; echo pid1=$(cat /proc/1/cmdline | tr '\\0' ' ')"});
  c.linux.capabilities_add = {"NET_ADMIN"};
  c.linux.capabilities_drop = {"CHOWN"};
  c.linux.tmpfs = {{"/scratch", 8, {"noexec"}}};
  c.linux.shared_memory_mib = 128;
  c.linux.sysctls = {{"net.core.somaxconn", "512"}};
  c.linux.init_process = true;
  c.ulimits = {{"nofile", 2048, 4096}};
  c.extra_hosts = {{"db.internal", "10.1.2.3"}};
  c.dns_servers = {"10.0.0.2"};
  auto spec = task({c});
  auto ended = run_to_end(spec);
  std::string log = log_of(spec, "probe");
  uint64_t eff = cap_bits(log, "CapEff");
  EXPECT_TRUE(eff & (1ull << 12)) << log;   // CAP_NET_ADMIN added
  EXPECT_FALSE(eff & (1ull << 0)) << log;   // CAP_CHOWN dropped
  EXPECT_TRUE(eff & (1ull << 5)) << log;    // CAP_KILL, Docker's default
  EXPECT_FALSE(eff & (1ull << 21)) << log;  // never CAP_SYS_ADMIN
  EXPECT_NE(log.find("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec"), std::string::npos) << log;  // Docker's defaults
  EXPECT_NE(log.find("size=8192k"), std::string::npos) << log;
  EXPECT_NE(log.find("size=131072k"), std::string::npos) << log;
  EXPECT_NE(log.find("somaxconn=512"), std::string::npos) << log;
  EXPECT_NE(log.find("nofile=2048"), std::string::npos) << log;
  EXPECT_NE(log.find("10.1.2.3\tdb.internal"), std::string::npos) << log;
  EXPECT_NE(log.find("nameserver 10.0.0.2"), std::string::npos) << log;
  EXPECT_NE(log.find("pid1=/sbin/docker-init -- /bin/sh"), std::string::npos) << log;
  EXPECT_EQ(ended.containers[0].exit_code, 0) << log;
}

TEST_F(TaskDefinitionTest, PrivilegedAndReadOnlyRoot) {
  auto c = busybox("probe", {"/bin/sh", "-c", "grep CapEff /proc/self/status; touch /x 2>/dev/null || echo ro-root"});
  c.linux.privileged = true;
  c.readonly_root_filesystem = true;
  auto spec = task({c});
  run_to_end(spec);
  std::string log = log_of(spec, "probe");
  EXPECT_TRUE(cap_bits(log, "CapEff") & (1ull << 21)) << log;  // CAP_SYS_ADMIN
  EXPECT_NE(log.find("ro-root"), std::string::npos) << log;
}

TEST_F(TaskDefinitionTest, UdpEchoThroughItsHostPortAndDroppedByItsGroup) {
  fs::path tools = dir_ / "tools";
  fs::create_directories(tools);
  fs::copy_file(BERTH_UDP_ECHO, tools / "udp-echo");
  auto echo = busybox("echo", {"/tools/udp-echo", "5353"});
  echo.mount_points = {{"tools", "/tools", true}};
  echo.port_mappings = {{5353, 0, "udp"}};
  auto spec = task({echo});
  spec.volumes = {Volume::host("tools", tools.string())};
  groups_.set(testing::table_with(kGroup, 0));
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  ASSERT_EQ(started->bindings.size(), 1u);
  EXPECT_EQ(started->bindings[0].protocol, "udp");
  uint16_t port = started->bindings[0].host_port;
  for (int i = 0; i < 50 && log_of(spec, "echo").empty(); ++i) std::this_thread::sleep_for(20ms);

  EXPECT_EQ(testing::udp_exchange(spec.public_ip, port, "ping", 500ms), "");  // no rule: dropped
  EXPECT_GE(runtime_->dropped_connections(), 1u);
  groups_.set(testing::table_with(kGroup, port, "tcp"));  // a TCP rule does not admit UDP
  EXPECT_EQ(testing::udp_exchange(spec.public_ip, port, "ping", 500ms), "");
  groups_.set(testing::table_with(kGroup, port, "udp"));
  EXPECT_EQ(testing::udp_exchange(spec.public_ip, port, "ping"), "echo:ping");
  EXPECT_EQ(testing::udp_exchange(spec.public_ip, port, "again"), "echo:again");
}

TEST_F(TaskDefinitionTest, PseudoTerminalAndInteractiveStdin) {
  // With a terminal, stdin and stdout are a tty and the output still reaches the log.
  auto tty = busybox("tty", {"/bin/sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty; tty"});
  tty.linux.pseudo_terminal = true;
  tty.essential = false;
  // interactive: stdin stays open (a read waits), not /dev/null (a read ends at once).
  auto open_stdin = busybox("stdin", {"/bin/sh", "-c", "if read -t 1 line; then echo eof; else echo still-open; fi"});
  open_stdin.linux.interactive = true;
  open_stdin.essential = false;
  auto closed = busybox("closed", {"/bin/sh", "-c", "if read -t 1 line; then echo got; else echo eof-at-once; fi"});
  closed.essential = false;
  auto main = busybox("main", {"/bin/sleep", "2"});
  auto spec = task({tty, open_stdin, closed, main});
  run_to_end(spec);
  std::string out = log_of(spec, "tty");
  EXPECT_NE(out.find("on-a-tty"), std::string::npos) << out;
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_EQ(log_of(spec, "stdin"), "still-open\n");
  EXPECT_EQ(log_of(spec, "closed"), "eof-at-once\n");
}

// Every file under `dir` that contains `needle` (none may hold a secret).
std::vector<std::string> files_containing(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    // Not into container root filesystems (the image, an overlay of it).
    if (it->path().filename() == "rootfs" || it->path().filename() == "images") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && read_all(it->path()).find(needle) != std::string::npos)
      found.push_back(it->path().string());
  }
  return found;
}

TEST_F(TaskDefinitionTest, SecretsReachTheEnvironmentButNeverTheDataDir) {
  const std::string value = "s3cr3t-" + ids::random_hex(8);
  // The container shows a digest of what it got, so the value is in no command line either.
  auto c = busybox("app", {"/bin/sh", "-c", "printf %s \"$DB_PASSWORD\" | md5sum; sleep 2"});
  c.secrets = {{"DB_PASSWORD", value}};
  auto spec = task({c});
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  for (int i = 0; i < 100 && log_of(spec, "app").empty(); ++i) std::this_thread::sleep_for(20ms);
  auto digest = run_program({"/bin/sh", "-c", "printf %s '" + value + "' | md5sum"}, 5s);
  ASSERT_OK(digest);
  EXPECT_EQ(log_of(spec, "app"), digest->out);
  // While it runs (runc's state included), and after.
  auto found = files_containing(dir_, value);
  EXPECT_TRUE(found.empty()) << found[0];
  found = files_containing("/run/berth", value);  // its bundle is gone once runc read it
  EXPECT_TRUE(found.empty()) << found[0];
  ASSERT_TRUE(wait_stopped(spec.task_id, 20s));
  found = files_containing(dir_, value);
  EXPECT_TRUE(found.empty()) << found[0];
}

TEST_F(TaskDefinitionTest, PidModeTaskSharesProcessesAndDisableNetworkingLeavesLoopback) {
  auto worker = busybox("worker", {"/bin/sh", "-c", "exec sleep 30"});
  worker.essential = false;
  auto probe = busybox("probe", {"/bin/sh", "-c", "sleep 0.3; ps -o args | grep -c '^sleep 30'; ls /sys/class/net"});
  probe.disable_networking = true;
  auto spec = task({worker, probe});
  spec.pid_mode = "task";
  run_to_end(spec);
  EXPECT_EQ(log_of(spec, "probe"), "1\nlo\n");  // sees worker's sleep; its own network namespace has lo only
}

TEST_F(TaskDefinitionTest, RestartPolicyRestartsInPlaceExceptIgnoredCodes) {
  // Each run appends to its writable layer: a restart in place keeps it.
  auto flaky = busybox("flaky", {"/bin/sh", "-c", "echo x >> /runs; echo run-$(wc -l < /runs); "
                                                  "[ $(wc -l < /runs) -ge 3 ] && exit 7; exit 1"});
  flaky.restart_policy = RestartPolicy{{7}, 0s};
  auto spec = task({flaky});
  auto ended = run_to_end(spec, 30s);
  EXPECT_EQ(log_of(spec, "flaky"), "run-1\nrun-2\nrun-3\n");
  ASSERT_EQ(ended.containers.size(), 1u);
  EXPECT_EQ(ended.containers[0].exit_code, 7);  // ignored: not restarted, and essential: the task ends
  EXPECT_EQ(ended.stop_cause, StopCause::kEssentialContainerExited);
}

TEST_F(TaskDefinitionTest, ContainerNamesAsLongAsEcsAllows) {
  std::string name(255, 'n');
  name[0] = 'a';
  auto c = busybox(name, {"/bin/sh", "-c", "echo long-name-ran"});
  auto spec = task({c});
  auto ended = run_to_end(spec);
  ASSERT_EQ(ended.containers.size(), 1u);
  EXPECT_EQ(ended.containers[0].name, name);
  EXPECT_EQ(ended.containers[0].exit_code, 0);
  EXPECT_EQ(log_of(spec, name), "long-name-ran\n");
  expect_no_leaks(ended);
}

}  // namespace
}  // namespace berth::runtime
