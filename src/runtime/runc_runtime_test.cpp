// Real containers through runc: needs root, runc, overlayfs and
// /bin/busybox (busybox-static), as CI has.
#include "runtime/runc_runtime.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "runtime/netns.h"
#include "runtime/runc_test_fixture.h"
#include "runtime/runtime_test_support.h"
#include "runtime/subprocess.h"
#include "core/testing/expect_ok.h"

extern char** environ;

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::GroupsHolder;

TEST_F(RuncRuntimeTest, BridgeHttpdBehindSecurityGroupsAndNothingLeaks) {
  auto web = busybox("web", {"/bin/httpd", "-f", "-p", "8080", "-h", "/www"});
  web.port_mappings = {{8080, 0, "tcp"}};
  web.memory_mib = 64;
  web.cpu_shares = 256;
  web.pids_limit = 50;
  auto spec = task({web});
  groups_.set(testing::table_with(kGroup, 0));  // the group exists, no ingress rule
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  ASSERT_EQ(started->bindings.size(), 1u);
  uint16_t port = started->bindings[0].host_port;
  EXPECT_GE(port, PortAllocator::kDynamicFirst);
  EXPECT_EQ(started->bindings[0].container_port, 8080);
  EXPECT_EQ(started->containers[0].status, ContainerStatus::kRunning);

  // Dropped: no byte comes back, the client gives up (timeout), counted.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(testing::exchange(spec.public_ip, port, "GET / HTTP/1.0\r\n\r\n", 700ms), "");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 650ms);  // held, not closed
  EXPECT_EQ(runtime_->dropped_connections(), 1u);

  groups_.set(testing::table_with(kGroup, port));
  auto page = http_get(spec.public_ip, port);
  EXPECT_NE(page.find("hello berth"), std::string::npos) << page;
  EXPECT_EQ(runtime_->dropped_connections(), 1u);

  // The load balancer's way in, on the private (VPC) address: the task's
  // group admits the ALB's group, not a source without it.
  auto alb = *ec2::GroupId::parse("sg-0aaaaaaaaaaaaaaaa");
  {
    ec2::SecurityGroup task_group{*ec2::GroupId::parse(kGroup), "vpc-1", {}, {}};
    task_group.ingress.push_back(*ec2::make_rule(ec2::RuleDirection::kIngress, "tcp", port, port,
                                                 ec2::GroupPeer{alb, ""}));
    ec2::SecurityGroup alb_group{alb, "vpc-1", {}, {}};
    std::vector<ec2::SecurityGroup> all{task_group, alb_group};
    groups_.set(ec2::SecurityGroupTable::build(all));
  }
  auto source = *ec2::IpAddress::parse("172.31.9.9");
  auto denied = runtime_->open_private_route(spec.private_ip, port, source, {});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().error_class, ErrorClass::kDenied);
  EXPECT_EQ(runtime_->dropped_connections(), 2u);
  EXPECT_EQ(runtime_->open_private_route(spec.private_ip, port + 1, source, std::span(&alb, 1)).error().error_class,
            ErrorClass::kNotFound);
  auto route = runtime_->open_private_route(spec.private_ip, port, source, std::span(&alb, 1));
  ASSERT_TRUE(route.ok()) << route.error().message;
  EXPECT_EQ(route->container_port, 8080);
  EXPECT_NE(testing::exchange_on(route->fd, 8080, "GET / HTTP/1.0\r\n\r\n").find("hello berth"), std::string::npos);

  // The limits reached the cgroup.
  std::string cg = "/berth/" + spec.task_id + "/web";
  EXPECT_EQ(read_all("/sys/fs/cgroup/memory" + cg + "/memory.limit_in_bytes"), std::to_string(64 << 20) + "\n");
  EXPECT_EQ(read_all("/sys/fs/cgroup/cpu" + cg + "/cpu.shares"), "256\n");
  EXPECT_EQ(read_all("/sys/fs/cgroup/pids" + cg + "/pids.max"), "50\n");

  ASSERT_OK(runtime_->stop(spec.task_id, ""));
  ASSERT_TRUE(wait_stopped(spec.task_id, 10s));
  auto st = runtime_->state(spec.task_id);
  ASSERT_OK(st);
  EXPECT_EQ(st->stop_cause, StopCause::kUserInitiated);
  EXPECT_EQ(st->stopped_reason, "Task stopped by user");
  EXPECT_EQ(st->containers[0].status, ContainerStatus::kStopped);
  // httpd is pid 1 with no TERM handler, so TERM is ignored and SIGKILL ends it.
  EXPECT_EQ(st->containers[0].exit_code, 137);
  expect_no_leaks(*st);
  EXPECT_EQ(testing::exchange(spec.public_ip, port, "GET / HTTP/1.0\r\n\r\n", 500ms), "");
  EXPECT_TRUE(wait_event([&](const TaskEvent& e) { return e.kind == EventKind::kTaskStopped && e.task_id == spec.task_id; }, 1s));
  EXPECT_OK(runtime_->forget(spec.task_id));
  EXPECT_FALSE(runtime_->state(spec.task_id).ok());
}

TEST_F(RuncRuntimeTest, StaticHostPortConflictLeavesNothing) {
  auto web = busybox("web", {"/bin/httpd", "-f", "-p", "80", "-h", "/www"});
  web.port_mappings = {{80, 50123, "tcp"}};
  auto first = task({web});
  first.public_ip = testing::private_loopback(2);
  ASSERT_OK(runtime_->start(first));
  auto second = task({web});
  second.public_ip = first.public_ip;
  auto r = runtime_->start(second);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error_class, ErrorClass::kConflict);
  EXPECT_FALSE(runtime_->state(second.task_id).ok());
  EXPECT_FALSE(netns_exists("berth-" + second.task_id));
  EXPECT_EQ(runtime_->listener_count(), 2u);  // the public listener and the private route
  // awsvpc and host mode: the container port itself.
  auto own = busybox("web", {"/bin/httpd", "-f", "-p", "8081", "-h", "/www"});
  own.port_mappings = {{8081, 0, "tcp"}};
  auto vpc = task({own}, NetworkMode::kAwsvpc);
  vpc.public_ip = testing::private_loopback(3);
  groups_.set(testing::table_with(kGroup, 8081));
  auto started = runtime_->start(vpc);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->bindings[0].host_port, 8081);
  EXPECT_NE(http_get(vpc.public_ip, 8081).find("hello berth"), std::string::npos);
}

TEST_F(RuncRuntimeTest, EssentialExitCodeLogsAndEnvironment) {
  auto c = busybox("job", {"/bin/sh", "-c", "echo out $GREETING; echo err >&2; exit 3"});
  c.environment = {{"GREETING", "hi"}};
  auto spec = task({c}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(spec));
  ASSERT_TRUE(wait_stopped(spec.task_id, 10s));
  auto st = runtime_->state(spec.task_id);
  EXPECT_EQ(st->containers[0].exit_code, 3);
  EXPECT_EQ(st->containers[0].reason, "");
  EXPECT_EQ(st->stop_cause, StopCause::kEssentialContainerExited);
  EXPECT_EQ(st->stopped_reason, "Essential container in task exited");
  auto log = read_all(runtime_->log_path(spec.task_id, "job"));
  EXPECT_NE(log.find("out hi"), std::string::npos) << log;
  EXPECT_NE(log.find("err"), std::string::npos) << log;
  expect_no_leaks(*st);
  EXPECT_TRUE(wait_event([&](const TaskEvent& e) {
    return e.kind == EventKind::kContainerExited && e.container_name == "job";
  }, 1s));
}

TEST_F(RuncRuntimeTest, LogsRotateAtTheLimit) {
  runtime_ = make_runtime(64 * 1024);
  auto c = busybox("chatty", {"/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo; while true; do sleep 1; done"});
  auto spec = task({c}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(spec));
  auto log = runtime_->log_path(spec.task_id, "chatty");
  fs::path rotated = log;
  rotated += ".1";
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!fs::exists(rotated) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(fs::exists(rotated));
  // The burst may be rotated more than once (the writer and the 1 s
  // rotation race), but every rotated copy is whole: past the limit, and
  // nothing but the burst (no hole from a write past the truncation).
  auto copy = read_all(rotated);
  EXPECT_GT(copy.size(), 64u * 1024);
  EXPECT_EQ(copy.find_first_not_of("x\n"), std::string::npos) << "a byte other than the burst's";
  // Quiet after the burst: within a rotation period the current file is
  // below the limit again.
  deadline = std::chrono::steady_clock::now() + 5s;
  while (fs::file_size(log) >= 64u * 1024 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_LT(fs::file_size(log), 64u * 1024);
}

TEST_F(RuncRuntimeTest, LogsOfGoneTasksArePrunedAfterTheRetention) {
  runtime_ = make_runtime(10u << 20, 1s);
  auto done = task({busybox("job", {"/bin/sh", "-c", "echo finished"})}, NetworkMode::kNone);
  auto quiet = task({busybox("idle", {"/bin/sh", "-c", "echo hello; while true; do sleep 1; done"})}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(done));
  ASSERT_OK(runtime_->start(quiet));
  ASSERT_TRUE(wait_stopped(done.task_id, 10s));
  ASSERT_OK(runtime_->forget(done.task_id));
  // A task left on disk by an earlier daemon, not adopted (yet).
  fs::path on_disk = dir_ / "runtime" / "tasks" / "tondisk";
  fs::create_directories(on_disk);
  fs::create_directories(dir_ / "runtime" / "logs" / "tondisk");
  std::ofstream(dir_ / "runtime" / "logs" / "tondisk" / "c.log") << "kept\n";
  // Everything was last written an hour ago.
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const auto& f : fs::recursive_directory_iterator(dir_ / "runtime" / "logs")) fs::last_write_time(f.path(), old);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (fs::exists(dir_ / "runtime" / "logs" / done.task_id) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(fs::exists(dir_ / "runtime" / "logs" / done.task_id));
  EXPECT_EQ(read_all(runtime_->log_path(quiet.task_id, "idle")), "hello\n");  // still running
  EXPECT_TRUE(fs::exists(dir_ / "runtime" / "logs" / "tondisk" / "c.log"));
  fs::remove_all(on_disk);
}

TEST_F(RuncRuntimeTest, MemoryLimitOomKill) {
  auto c = busybox("hog", {"/bin/sh", "-c", "head -c 200m /dev/zero | tail"});
  c.memory_mib = 32;
  auto spec = task({c}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(spec));
  ASSERT_TRUE(wait_stopped(spec.task_id, 30s));
  auto st = runtime_->state(spec.task_id);
  EXPECT_EQ(st->containers[0].reason, "OutOfMemoryError: Container killed due to memory usage");
  EXPECT_EQ(st->containers[0].exit_code, 137);
  EXPECT_EQ(st->stop_cause, StopCause::kEssentialContainerExited);
  expect_no_leaks(*st);
}

TEST_F(RuncRuntimeTest, TaskLevelMemoryLimitAppliesToAllContainers) {
  auto idle = busybox("idle", {"/bin/sh", "-c", "while true; do sleep 1; done"});
  auto hog = busybox("hog", {"/bin/sh", "-c", "head -c 200m /dev/zero | tail"});
  auto spec = task({idle, hog}, NetworkMode::kAwsvpc);
  spec.memory_mib = 32;  // FARGATE: no container limit, the task's
  spec.cpu_shares = 512;
  ASSERT_OK(runtime_->start(spec));
  EXPECT_EQ(read_all("/sys/fs/cgroup/cpu/berth/" + spec.task_id + "/cpu.shares"), "512\n");
  ASSERT_TRUE(wait_stopped(spec.task_id, 30s));
  auto st = runtime_->state(spec.task_id);
  EXPECT_EQ(st->containers[1].reason, "OutOfMemoryError: Container killed due to memory usage");
  EXPECT_EQ(st->containers[1].exit_code, 137);
  EXPECT_EQ(st->stop_cause, StopCause::kEssentialContainerExited);
  expect_no_leaks(*st);
}

TEST_F(RuncRuntimeTest, StopSignalThenKillAfterStopTimeout) {
  auto polite = busybox("polite", {"/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"});
  auto stubborn = busybox("stubborn", {"/bin/sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"});
  stubborn.stop_timeout = 2s;
  auto spec = task({polite, stubborn}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(spec));
  std::this_thread::sleep_for(300ms);  // let the shells set their traps
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(runtime_->stop(spec.task_id, "Scaling down"));
  ASSERT_TRUE(wait_stopped(spec.task_id, 15s));
  auto took = std::chrono::steady_clock::now() - t0;
  auto st = runtime_->state(spec.task_id);
  EXPECT_EQ(st->containers[0].exit_code, 0);
  EXPECT_EQ(st->containers[1].exit_code, 137);
  EXPECT_EQ(st->stopped_reason, "Scaling down");
  EXPECT_GE(took, 1900ms);
  EXPECT_LT(took, 6s);
  expect_no_leaks(*st);
}

TEST_F(RuncRuntimeTest, HealthChecksHealthyAndUnhealthy) {
  auto good = busybox("good", {"/bin/sh", "-c", "touch /tmp/ok; while true; do sleep 1; done"});
  good.health_check = HealthCheck{{"CMD-SHELL", "test -f /tmp/ok"}, 1s, 2s, 2, 0s};
  auto bad = busybox("bad", {"/bin/sh", "-c", "while true; do sleep 1; done"});
  bad.health_check = HealthCheck{{"CMD", "/bin/false"}, 1s, 2s, 2, 0s};
  bad.essential = false;
  auto spec = task({good, bad}, NetworkMode::kNone);
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(runtime_->state(spec.task_id)->containers[0].health, HealthStatus::kUnknown);
  // Each container's change is awaited by itself: the two checks run on
  // their own timers, in no particular order.
  auto turned = [&](const std::string& name, HealthStatus health) {
    return wait_event([&](const TaskEvent& e) {
      if (e.kind != EventKind::kHealthChanged || e.container_name != name) return false;
      for (const auto& c : e.state.containers)
        if (c.name == name) return c.health == health;
      return false;
    }, 10s);
  };
  EXPECT_TRUE(turned("good", HealthStatus::kHealthy)) << "`test -f /tmp/ok` inside the container never passed";
  EXPECT_TRUE(turned("bad", HealthStatus::kUnhealthy)) << "/bin/false never failed the check twice";
  auto st = runtime_->state(spec.task_id);
  EXPECT_EQ(st->containers[0].health, HealthStatus::kHealthy);
  EXPECT_EQ(st->containers[1].health, HealthStatus::kUnhealthy);
  EXPECT_EQ(st->health, HealthStatus::kHealthy);  // only essential containers count
}

TEST_F(RuncRuntimeTest, AdoptionAfterRestartRebindsAndDoesNotDuplicate) {
  auto web = busybox("web", {"/bin/httpd", "-f", "-p", "8080", "-h", "/www"});
  web.port_mappings = {{8080, 0, "tcp"}};
  auto spec = task({web});
  spec.public_ip = testing::private_loopback(4);
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  uint16_t port = started->bindings[0].host_port;
  groups_.set(testing::table_with(kGroup, port));
  ASSERT_NE(http_get(spec.public_ip, port).find("hello berth"), std::string::npos);

  runtime_.reset();  // the daemon goes away; the container does not
  EXPECT_EQ(testing::exchange(spec.public_ip, port, "GET / HTTP/1.0\r\n\r\n", 300ms), "");
  auto t0 = std::chrono::steady_clock::now();
  runtime_ = make_runtime();
  auto adopted = runtime_->adopt();
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].task_id, spec.task_id);
  EXPECT_EQ(adopted[0].containers[0].status, ContainerStatus::kRunning);
  ASSERT_EQ(adopted[0].bindings.size(), 1u);
  EXPECT_EQ(adopted[0].bindings[0].host_port, port);
  auto page = testing::exchange(spec.public_ip, port, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_NE(page.find("hello berth"), std::string::npos);
  EXPECT_TRUE(runtime_->adopt().empty());  // nothing adopted twice
  EXPECT_EQ(runtime_->list().size(), 1u);
  // A dynamic port of the adopted task is not handed out again.
  auto other = busybox("web", {"/bin/httpd", "-f", "-p", "8080", "-h", "/www"});
  other.port_mappings = {{8080, port, "tcp"}};
  auto clash = task({other});
  clash.public_ip = spec.public_ip;
  EXPECT_FALSE(runtime_->start(clash).ok());

  ASSERT_OK(runtime_->stop(spec.task_id, ""));
  ASSERT_TRUE(wait_stopped(spec.task_id, 10s));
  expect_no_leaks(*runtime_->state(spec.task_id));
}

TEST_F(RuncRuntimeTest, AdoptionAfterTheDaemonIsKilledWithSigkill) {
  std::string task_id = "t" + ids::random_hex(12);
  std::string ip = testing::private_loopback(5);
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::vector<std::string> args = {BERTH_RUNTIME_TEST_HELPER, dir_.string(), rootfs_, ip, task_id};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t daemon = 0;
  ASSERT_EQ(::posix_spawn(&daemon, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  pollfd p{out[0], POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 20000), 1);
  char buf[32] = {};
  ASSERT_GT(::read(out[0], buf, sizeof buf - 1), 0);
  ::close(out[0]);
  auto port = static_cast<uint16_t>(std::atoi(buf));
  ASSERT_GE(port, PortAllocator::kDynamicFirst);

  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, nullptr, 0);
  groups_.set(testing::table_with(kGroup, port));
  auto t0 = std::chrono::steady_clock::now();
  auto adopted = runtime_->adopt();
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].task_id, task_id);
  EXPECT_EQ(adopted[0].containers[0].status, ContainerStatus::kRunning);
  EXPECT_NE(http_get(ip, port).find("hello berth"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(runtime_->list().size(), 1u);

  ASSERT_OK(runtime_->stop(task_id, ""));
  ASSERT_TRUE(wait_stopped(task_id, 10s));
  auto st = runtime_->state(task_id);
  EXPECT_EQ(st->containers[0].status, ContainerStatus::kStopped);
  expect_no_leaks(*st);
}

TEST_F(RuncRuntimeTest, ContainerExitedWhileDaemonWasDownIsCleanedUpOnAdopt) {
  auto spec = task({busybox("job", {"/bin/sh", "-c", "sleep 0.5; exit 4"})}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(spec));
  runtime_.reset();
  std::this_thread::sleep_for(1s);
  runtime_ = make_runtime();
  auto adopted = runtime_->adopt();
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].containers[0].status, ContainerStatus::kStopped);
  ASSERT_TRUE(wait_stopped(spec.task_id, 10s));
  auto st = runtime_->state(spec.task_id);
  // Still our (subreaped) child in this process, so the code is known.
  EXPECT_EQ(st->containers[0].exit_code, 4);
  expect_no_leaks(*st);
}

TEST_F(RuncRuntimeTest, ImageFromOciLayoutUnpackedOnceAndMissingImage) {
  fs::path layout = dir_ / "layout";
  std::string digest = testing::busybox_layout(rootfs_, layout);
  ContainerSpec c;
  c.name = "app";
  c.image.layout_dir = layout.string();
  c.image.manifest_digest = digest;
  c.command = std::vector<std::string>{"/bin/sh", "-c", "echo image=$FROM_IMAGE; exit 0"};
  auto first = task({c}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(first));
  ASSERT_TRUE(wait_stopped(first.task_id, 10s));
  EXPECT_EQ(runtime_->state(first.task_id)->containers[0].exit_code, 0);
  EXPECT_NE(read_all(runtime_->log_path(first.task_id, "app")).find("image=yes"), std::string::npos);
  fs::path cached = dir_ / "runtime" / "images" / digest.substr(7);
  ASSERT_TRUE(fs::exists(cached / "rootfs" / "bin" / "busybox"));
  auto stamp = fs::last_write_time(cached);
  auto second = task({c}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(second));
  ASSERT_TRUE(wait_stopped(second.task_id, 10s));
  EXPECT_EQ(fs::last_write_time(cached), stamp);  // not unpacked again

  c.image.manifest_digest = "sha256:" + std::string(64, 'a');
  auto missing = runtime_->start(task({c}, NetworkMode::kNone));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().error_class, ErrorClass::kNotFound);
  EXPECT_EQ(missing.error().message.rfind("CannotPullContainerError: ", 0), 0u) << missing.error().message;

  // Only a reference: the resolver the daemon supplies is asked.
  ContainerSpec by_reference;
  by_reference.name = "app";
  by_reference.image_reference = "123456789012.dkr.ecr.us-east-1.amazonaws.com/busybox:latest";
  by_reference.command = c.command;
  auto no_resolver = runtime_->start(task({by_reference}, NetworkMode::kNone));
  ASSERT_FALSE(no_resolver.ok());
  EXPECT_EQ(no_resolver.error().code, "CannotPullContainerError");
  runtime_.reset();
  RuncRuntimeOptions o;
  o.data_dir = dir_;
  std::vector<std::string> asked;
  o.resolve_image = [&](const std::string& reference) -> Result<ImageSource> {
    asked.push_back(reference);
    return ImageSource{layout.string(), digest, "", "", ""};
  };
  runtime_ = std::make_unique<RuncTaskRuntime>(o);
  auto third = task({by_reference}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(third));
  ASSERT_TRUE(wait_stopped(third.task_id, 10s));
  EXPECT_EQ(runtime_->state(third.task_id)->containers[0].exit_code, 0);
  EXPECT_EQ(asked, std::vector<std::string>{by_reference.image_reference});
  EXPECT_EQ(fs::last_write_time(cached), stamp);
}

TEST_F(RuncRuntimeTest, NonRootUserReachesItsImageUnderThePrivateDaemonUmask) {
  // berth serve runs with umask 077; the image root and the overlay's upper
  // dir must still let a non-root container user reach its entrypoint.
  mode_t old_mask = ::umask(077);
  fs::path layout = dir_ / "layout";
  std::string digest = testing::busybox_layout(rootfs_, layout);
  ContainerSpec c;
  c.name = "app";
  c.image.layout_dir = layout.string();
  c.image.manifest_digest = digest;
  c.user = "65532";
  c.command = std::vector<std::string>{"/bin/sh", "-c", "exit 7"};
  auto t = task({c}, NetworkMode::kNone);
  auto started = runtime_->start(t);
  ::umask(old_mask);
  ASSERT_TRUE(started.ok()) << started.error().message;
  ASSERT_TRUE(wait_stopped(t.task_id, 10s));
  EXPECT_EQ(runtime_->state(t.task_id)->containers[0].exit_code, 7);
}

TEST_F(RuncRuntimeTest, UserHostnameWorkdirUlimitsAndReadonlyRoot) {
  auto c = busybox("probe", {"/bin/sh", "-c",
                             "echo uid=$(id -u) gid=$(id -g) host=$(hostname) cwd=$(pwd) nofile=$(ulimit -n); "
                             "touch /newfile 2>/dev/null; echo write=$?; touch /tmp/x; echo tmp=$?"});
  c.user = "www";
  c.hostname = "box1";
  c.working_directory = "/www";
  c.ulimits = {{"nofile", 2048, 4096}};
  c.readonly_root_filesystem = true;
  auto spec = task({c}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(spec));
  ASSERT_TRUE(wait_stopped(spec.task_id, 10s));
  auto log = read_all(runtime_->log_path(spec.task_id, "probe"));
  EXPECT_NE(log.find("uid=33 gid=33 host=box1 cwd=/www nofile=2048"), std::string::npos) << log;
  EXPECT_NE(log.find("write=1"), std::string::npos) << log;  // read-only root
  EXPECT_NE(log.find("tmp=1"), std::string::npos) << log;    // /tmp is part of the root here
}

TEST_F(RuncRuntimeTest, ARunningContainerKeepsItsWritableRootWithoutAMountOnTheHost) {
  // Writes to its root, then serves the image's page for as long as it runs.
  auto web = busybox("web", {"/bin/sh", "-c", "echo kept > /made-here; exec /bin/httpd -f -p 8080 -h /www"});
  web.port_mappings = {{8080, 0, "tcp"}};
  auto spec = task({web});
  groups_.set(testing::table_with(kGroup, 0));
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  groups_.set(testing::table_with(kGroup, started->bindings[0].host_port));

  fs::path container_dir = dir_ / "runtime" / "tasks" / spec.task_id / "web";
  // Every mount left in the daemon's namespace makes each later runc start
  // copy one more: a running task leaves none of its root there.
  EXPECT_FALSE(testing::mounted_under((dir_ / "runtime" / "tasks").string()));
  auto page = http_get(spec.public_ip, started->bindings[0].host_port);
  EXPECT_NE(page.find("hello berth"), std::string::npos) << page;  // the image's layer, through the overlay
  EXPECT_EQ(read_all(container_dir / "upper" / "made-here"), "kept\n");  // its writes in its own layer

  ASSERT_OK(runtime_->stop(spec.task_id, ""));
  ASSERT_TRUE(wait_stopped(spec.task_id, 10s));
  auto st = runtime_->state(spec.task_id);
  ASSERT_OK(st);
  expect_no_leaks(*st);
}

TEST_F(RuncRuntimeTest, SeccompFilterAndMaskedPathsApply) {
  auto c = busybox("probe", {"/bin/sh", "-c", "cat /proc/self/status; echo firmware=$(ls /sys/firmware | wc -l)"});
  // dockerSecurityOptions ["no-new-privileges"]; Docker's default leaves setuid programs working.
  auto strict = busybox("strict", {"/bin/sh", "-c", "grep NoNewPrivs /proc/self/status"});
  strict.essential = false;
  strict.linux.no_new_privileges = true;
  auto spec = task({c, strict}, NetworkMode::kNone);
  ASSERT_OK(runtime_->start(spec));
  ASSERT_TRUE(wait_stopped(spec.task_id, 10s));
  auto log = read_all(runtime_->log_path(spec.task_id, "probe"));
  EXPECT_NE(log.find("Seccomp:\t2"), std::string::npos) << log;  // a filter is installed
  EXPECT_NE(log.find("NoNewPrivs:\t0"), std::string::npos) << log;
  EXPECT_NE(log.find("firmware=0"), std::string::npos) << log;  // masked: an empty tmpfs
  EXPECT_EQ(read_all(runtime_->log_path(spec.task_id, "strict")), "NoNewPrivs:\t1\n");
}

}  // namespace
}  // namespace berth::runtime

namespace berth::runtime {

TEST_F(RuncRuntimeTest, UsageCountsTheTasksCpuTimeAndMemory) {
  // 8 MiB held in an awk string, then a busy loop for as long as it runs.
  auto c = busybox("busy", {"/bin/sh", "-c",
                            "awk 'BEGIN { s = sprintf(\"%8388608s\", \"\"); print \"ready\"; fflush(); "
                            "while (1) {} }'"});
  auto spec = task({c}, NetworkMode::kNone);
  auto started = runtime_->start(spec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto log = runtime_->log_path(spec.task_id, "busy");
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (read_all(log).find("ready") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  ASSERT_NE(read_all(log).find("ready"), std::string::npos) << "the container never got ready";
  auto used = runtime_->usage(spec.task_id);
  ASSERT_TRUE(used.has_value()) << "no cgroup usage for a running task";
  EXPECT_GT(used->memory_bytes, 8u << 20) << "the 8 MiB awk holds";
  // CPU time grows while it spins, however busy the machine is.
  uint64_t first = used->cpu_ns;
  while (std::chrono::steady_clock::now() < deadline) {
    used = runtime_->usage(spec.task_id);
    if (used && used->cpu_ns > first + 200'000'000) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(used.has_value());
  EXPECT_GT(used->cpu_ns, first + 200'000'000) << "0.2 s more of busy loop within 20 s";
  EXPECT_FALSE(runtime_->usage("t-unknown").has_value());
}

}  // namespace berth::runtime
