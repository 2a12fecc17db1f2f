// The fixture of the tests that run real containers through runc
// (runc_runtime_test.cpp, runc_task_definition_test.cpp): a runtime on a
// private data dir with a busybox root filesystem, events recorded, and
// every task stopped at the end.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "runtime/netns.h"
#include "runtime/runc_runtime.h"
#include "runtime/runtime_test_support.h"
#include "runtime/subprocess.h"

namespace berth::runtime {

namespace fixture_detail {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::GroupsHolder;
}  // namespace fixture_detail
using namespace fixture_detail;


inline constexpr const char* kGroup = "sg-0123456789abcdef0";

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class RuncRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-rt-" + ids::random_hex(8));
    fs::create_directories(dir_);
    rootfs_ = testing::busybox_rootfs(dir_);
    runtime_ = make_runtime();
  }
  void TearDown() override {
    if (runtime_)
      for (const auto& t : runtime_->list()) {
        (void)runtime_->stop(t.task_id, "test over");
        wait_stopped(t.task_id, 40s);
      }
    runtime_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<RuncTaskRuntime> make_runtime(uint64_t log_max_bytes = 10u << 20,
                                               std::chrono::seconds log_retention = std::chrono::seconds(3600)) {
    RuncRuntimeOptions o;
    o.log_max_bytes = log_max_bytes;
    o.log_retention = log_retention;
    o.data_dir = dir_;
    o.security_groups = groups_.source();
    o.on_event = [this](const TaskEvent& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
      cv_.notify_all();
    };
    return std::make_unique<RuncTaskRuntime>(o);
  }

  ContainerSpec busybox(std::string name, std::vector<std::string> command) {
    ContainerSpec c;
    c.name = std::move(name);
    c.image.prepared_rootfs = rootfs_;
    c.image.prepared_config_json = R"({"config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]}})";
    c.command = std::move(command);
    c.stop_timeout = 1s;
    return c;
  }

  TaskSpec task(std::vector<ContainerSpec> containers, NetworkMode mode = NetworkMode::kBridge) {
    TaskSpec t;
    t.task_id = "t" + ids::random_hex(12);
    t.containers = std::move(containers);
    t.network_mode = mode;
    t.public_ip = testing::private_loopback(1);
    t.private_ip = "172.31.5.9";  // not local: not listened on
    t.security_group_ids = {kGroup};
    return t;
  }

  bool wait_stopped(const std::string& id, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = runtime_->state(id);
      if (!s || s->stopped) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  template <class Pred>
  bool wait_event(Pred pred, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] {
      for (const auto& e : events_)
        if (pred(e)) return true;
      return false;
    });
  }

  // The task left nothing behind: runc state, netns, mounts, cgroups,
  // listeners, task dir.
  void expect_no_leaks(const TaskState& t) {
    EXPECT_FALSE(netns_exists("berth-" + t.task_id));
    EXPECT_FALSE(testing::mounted_under((dir_ / "runtime" / "tasks").string()));
    EXPECT_FALSE(fs::exists(dir_ / "runtime" / "tasks" / t.task_id));
    auto list = run_program({"runc", "--root", (dir_ / "runtime" / "runc").string(), "list", "-q"}, 10s);
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->out, "");
    for (const char* controller : {"memory", "cpu", "pids", "devices", "freezer"})
      EXPECT_FALSE(fs::exists(std::string("/sys/fs/cgroup/") + controller + "/berth/" + t.task_id)) << controller;
    EXPECT_EQ(runtime_->listener_count(), 0u);
  }

  std::string http_get(const std::string& ip, uint16_t port) {
    // httpd may still be starting: the forwarder then resets the client.
    for (int i = 0; i < 100; ++i) {
      auto r = testing::exchange(ip, port, "GET / HTTP/1.0\r\n\r\n");
      if (!r.empty()) return r;
      std::this_thread::sleep_for(30ms);
    }
    return "";
  }

  fs::path dir_;
  std::string rootfs_;
  GroupsHolder groups_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<TaskEvent> events_;
  std::unique_ptr<RuncTaskRuntime> runtime_;
};

}  // namespace berth::runtime
