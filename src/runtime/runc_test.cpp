#include "runtime/runc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/subprocess.h"
#include "runtime/task_record.h"
#include "core/testing/expect_ok.h"

namespace berth::runtime {
namespace {

// The wait for a program's end (a pidfd here, polling on old kernels).
TEST(Subprocess, ExitCodesOutputAndTimeout) {
  auto done = run_program({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(30));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->exit_code, 3);
  EXPECT_EQ(done->out, "out\n");
  EXPECT_EQ(done->err, "err\n");
  // Without captured output (runc run -d's case) only the exit status ends the wait.
  int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  auto quiet = run_program_to_fd({"/bin/sh", "-c", "exit 0"}, null_fd, std::chrono::seconds(30));
  ::close(null_fd);
  ASSERT_TRUE(quiet.ok()) << quiet.error().message;
  EXPECT_EQ(quiet->exit_code, 0);
  auto killed = run_program({"/bin/sh", "-c", "kill -9 $$"}, std::chrono::seconds(30));
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  EXPECT_EQ(killed->exit_code, 128 + 9);
  // A program that outlives its timeout is killed and said to have timed out.
  auto slow = run_program({"/bin/sleep", "30"}, std::chrono::milliseconds(200));
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.error().message.find("timed out"), std::string::npos) << slow.error().message;
}

// The daemon's sockets (Boost.Asio opens them without SOCK_CLOEXEC) and any
// other descriptor it holds stay out of the programs it runs: a listener
// held by a child stays bound after the daemon closed it, and every runc
// start would carry hundreds of them once many tasks run.
TEST(Subprocess, ProgramsInheritNoneOfTheDaemonsDescriptors) {
  int inheritable = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(inheritable, 3);
  struct stat st {};
  ASSERT_EQ(::fstat(inheritable, &st), 0);
  // The child's descriptors, as their targets: "socket:[<inode>]" if it got ours.
  std::string ours = "socket:[" + std::to_string(st.st_ino) + "]";
  std::string list = "for f in /proc/$$/fd/*; do readlink $f; done";
  auto captured = run_program({"/bin/sh", "-c", list}, std::chrono::seconds(30));
  int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  auto to_fd = run_program_to_fd({"/bin/sh", "-c", list + " | grep -qF '" + ours + "'"}, null_fd,
                                 std::chrono::seconds(30));
  ::close(null_fd);
  ::close(inheritable);
  ASSERT_TRUE(captured.ok()) << captured.error().message;
  EXPECT_EQ(captured->out.find(ours), std::string::npos) << captured->out;
  ASSERT_TRUE(to_fd.ok()) << to_fd.error().message;
  EXPECT_EQ(to_fd->exit_code, 1) << "with its output to a file (runc run -d's way) it holds " << ours;
}

TEST(Runc, ArgvFromOptions) {
  Runc runc("/d/runtime/runc");
  EXPECT_EQ(runc.run_argv({.id = "t_web", .bundle = "/b", .pid_file = "/b/pid"}),
            (std::vector<std::string>{"runc", "--root", "/d/runtime/runc", "run", "--detach", "--bundle", "/b",
                                      "--pid-file", "/b/pid", "t_web"}));
  EXPECT_EQ(runc.kill_argv("t_web", 15), (std::vector<std::string>{"runc", "--root", "/d/runtime/runc", "kill", "t_web", "15"}));
  EXPECT_EQ(runc.delete_argv("x", true), (std::vector<std::string>{"runc", "--root", "/d/runtime/runc", "delete", "--force", "x"}));
  EXPECT_EQ(runc.exec_argv({"x", {"/bin/sh", "-c", "true"}}),
            (std::vector<std::string>{"runc", "--root", "/d/runtime/runc", "exec", "x", "/bin/sh", "-c", "true"}));
  EXPECT_EQ(runc.list_argv().back(), "json");
}

TEST(Runc, OnlyRunGoesThroughTheLauncher) {
  Runc runc("/d/runtime/runc");
  runc.launch_runs_with({"/usr/lib/berth/berth-reroot", "run"});
  EXPECT_EQ(runc.run_argv({.id = "t", .bundle = "/b", .pid_file = "/b/pid"}),
            (std::vector<std::string>{"/usr/lib/berth/berth-reroot", "run", "runc", "--root", "/d/runtime/runc", "run",
                                      "--detach", "--bundle", "/b", "--pid-file", "/b/pid", "t"}));
  EXPECT_EQ(runc.exec_argv({"t", {"true"}}).front(), "runc");
  EXPECT_EQ(runc.kill_argv("t", 9).front(), "runc");
}

TEST(Runc, ParsesStateAndList) {
  auto s = parse_runc_state(R"({"ociVersion":"1.0.2-dev","id":"t_web","pid":4242,"status":"running",
                               "bundle":"/b","rootfs":"/b/rootfs","created":"2026-01-01T00:00:00Z","owner":""})");
  ASSERT_OK(s);
  EXPECT_EQ(s->id, "t_web");
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->status, "running");
  EXPECT_EQ(s->bundle, "/b");
  auto none = parse_runc_list("null\n");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto two = parse_runc_list(R"([{"id":"a","pid":1,"status":"stopped"},{"id":"b","pid":0,"status":"created"}])");
  ASSERT_OK(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].status, "created");
  EXPECT_FALSE(parse_runc_state("not json").ok());
}

TEST(TaskRecord, RoundTripsWhatAdoptionNeeds) {
  TaskRecord t;
  t.spec.task_id = "abc";
  t.spec.network_mode = NetworkMode::kAwsvpc;
  t.spec.public_ip = "127.0.0.9";
  t.spec.security_group_ids = {"sg-12345678"};
  t.netns = "berth-abc";
  ContainerRecord c;
  c.spec.name = "web";
  c.spec.essential = true;
  c.spec.health_check = HealthCheck{{"CMD-SHELL", "true"}, std::chrono::seconds(5), std::chrono::seconds(2), 2,
                                    std::chrono::seconds(1)};
  c.runc_id = "abc_web";
  c.pid = 77;
  c.stop_signal = 3;
  c.stop_timeout = std::chrono::seconds(7);
  t.containers.push_back(c);
  t.bindings.push_back({"web", "0.0.0.0", 80, 80, "tcp"});
  t.listening.push_back({"127.0.0.9", 80, 80});
  auto back = parse_task_record(task_record_json(t));
  ASSERT_OK(back);
  const auto& r = **back;
  EXPECT_EQ(r.spec.task_id, "abc");
  EXPECT_EQ(r.spec.network_mode, NetworkMode::kAwsvpc);
  EXPECT_EQ(r.spec.security_group_ids, std::vector<std::string>{"sg-12345678"});
  ASSERT_EQ(r.containers.size(), 1u);
  EXPECT_EQ(r.containers[0].pid, 77);
  EXPECT_EQ(r.containers[0].stop_signal, 3);
  EXPECT_EQ(r.containers[0].stop_timeout, std::chrono::seconds(7));
  ASSERT_TRUE(r.containers[0].spec.health_check);
  EXPECT_EQ(r.containers[0].spec.health_check->retries, 2);
  EXPECT_EQ(r.containers[0].spec.health_check->command[1], "true");
  ASSERT_EQ(r.listening.size(), 1u);
  EXPECT_EQ(r.listening[0].host_port, 80);
  EXPECT_FALSE(parse_task_record("{}").ok());
}

}  // namespace
}  // namespace berth::runtime
