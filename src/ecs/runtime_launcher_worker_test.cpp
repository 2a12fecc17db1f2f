// The launcher's worker thread: whatever a launch throws, the task stops
// with TaskFailedToStart and the next task is launched (issue 16: a throw
// there ended the daemon, again at every start).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "ecs/ecs_test_support.h"
#include "ecs/runtime_launcher.h"
#include "ecs/tasks.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

// A runtime whose start() throws for an image named "throws" (as the
// registry's layout writer once did) and runs anything else.
class ThrowingRuntime final : public runtime::TaskRuntime {
 public:
  Result<runtime::TaskState> start(const runtime::TaskSpec& spec) override {
    for (const auto& c : spec.containers)
      if (c.image_reference == "throws") throw std::invalid_argument("not a string");
    runtime::TaskState s;
    s.task_id = spec.task_id;
    for (const auto& c : spec.containers) {
      runtime::ContainerState cs;
      cs.name = c.name;
      cs.status = runtime::ContainerStatus::kRunning;
      s.containers.push_back(cs);
    }
    std::lock_guard lock(mutex_);
    started_.push_back(spec.task_id);
    return s;
  }
  Status stop(const std::string&, const std::string&) override { return Ok{}; }
  Result<runtime::TaskState> state(const std::string&) const override {
    return Error::not_found("TaskNotFound", "no such task");
  }
  std::vector<runtime::TaskState> list() const override { return {}; }
  std::vector<runtime::TaskState> adopt() override { return {}; }
  Status forget(const std::string&) override { return Ok{}; }
  uint64_t dropped_connections() const override { return 0; }
  std::optional<runtime::TaskUsage> usage(const std::string&) const override { return std::nullopt; }
  Result<runtime::PrivateRoute> open_private_route(const std::string&, uint16_t, const ec2::IpAddress&,
                                                   std::span<const ec2::GroupId>) override {
    return Error::not_found("NotFound", "no route");
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> started_;
};

class LauncherWorkerTest : public testing::EcsTest {
 protected:
  void SetUp() override {
    EcsTest::SetUp();
    ok("CreateCluster", R"({"clusterName":"web"})");
    ok("RegisterTaskDefinition",
       R"({"family":"bad","containerDefinitions":[{"name":"app","image":"throws","memory":64}]})");
    ok("RegisterTaskDefinition",
       R"({"family":"good","containerDefinitions":[{"name":"app","image":"fine","memory":64}]})");
    run_instance("t2.micro", "ECS_CLUSTER=web");
    settle();
  }

  std::string run_task(std::string_view family) {
    auto r = ok("RunTask", R"({"cluster":"web","taskDefinition":")" + std::string(family) + R"("})");
    const json::array* tasks = r.contains("tasks") ? r.at("tasks").if_array() : nullptr;
    EXPECT_TRUE(tasks && !tasks->empty()) << json::serialize(r);
    return tasks && !tasks->empty() ? std::string(tasks->at(0).at("taskArn").as_string()) : std::string();
  }

  json::object describe(const std::string& arn) {
    auto d = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})");
    const json::array& tasks = d.at("tasks").as_array();
    EXPECT_EQ(tasks.size(), 1u) << json::serialize(d);
    return tasks.empty() ? json::object{{"lastStatus", "MISSING"}} : tasks[0].as_object();
  }

  // Waits (bounded) for the task's lastStatus; the last description.
  json::object wait_for_status(const std::string& arn, std::string_view status) {
    json::object d = describe(arn);
    for (int i = 0; i < 500 && d.at("lastStatus").as_string() != status; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      d = describe(arn);
    }
    return d;
  }
};

TEST_F(LauncherWorkerTest, AThrowingLaunchStopsItsTaskAndTheWorkerGoesOn) {
  ThrowingRuntime runtime;
  ManualClock clock(now_);  // the API's time: a task stopped long before it would not be described
  RuntimeTaskLauncher launcher(*db_, clock, runtime);
  TaskDispatcher dispatcher(*db_, clock, options_, &launcher);
  dispatcher.start();

  std::string bad = run_task("bad");
  auto stopped = wait_for_status(bad, "STOPPED");
  ASSERT_EQ(stopped.at("lastStatus").as_string(), "STOPPED") << json::serialize(stopped);
  ASSERT_TRUE(stopped.contains("stopCode") && stopped.contains("stoppedReason")) << json::serialize(stopped);
  EXPECT_EQ(stopped.at("stopCode").as_string(), "TaskFailedToStart") << json::serialize(stopped);
  std::string reason(stopped.at("stoppedReason").as_string());
  EXPECT_NE(reason.find("not a string"), std::string::npos) << reason;

  // The same worker launches the next task.
  std::string good = run_task("good");
  auto running = wait_for_status(good, "RUNNING");
  EXPECT_EQ(running.at("lastStatus").as_string(), "RUNNING") << json::serialize(running);
  dispatcher.stop();
}

}  // namespace
}  // namespace berth::ecs
