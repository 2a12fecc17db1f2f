// Services: the API's shapes and errors, and the scheduler's passes over a
// real store with container instances. The runtime's side is played by
// reporting task status through apply_task_status, as the runtime does;
// the load balancer's side is tested end to end in tests/ecs.
#include "ecs/services.h"

#include <boost/json/serialize.hpp>

#include <set>

#include "ecs/ecs_test_support.h"
#include "ecs/scheduler/scheduler.h"
#include "ecs/tasks.h"
#include "core/testing/expect_ok.h"

namespace berth::ecs::testing {
namespace {

namespace json = boost::json;

class ServicesTest : public EcsTest {
 protected:
  void SetUp() override {
    EcsTest::SetUp();
    ok("CreateCluster", R"({"clusterName":"web"})");
    ok("RegisterTaskDefinition", R"({"family":"outyet","containerDefinitions":[{"name":"outyet","image":"outyet-image",
        "memory":300,"cpu":256,"portMappings":[{"containerPort":8080}]}]})");
    scheduler_.emplace(*db_, clock_, options_, nullptr);
  }

  // A pass of the scheduler at the fixture's time.
  void pass() {
    clock_.set(now_);
    auto s = scheduler_->reconcile_all();
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  json::object service(std::string_view name = "svc") {
    auto d = ok("DescribeServices", R"({"cluster":"web","services":[")" + std::string(name) + R"("]})");
    EXPECT_EQ(d.at("services").as_array().size(), 1u) << json::serialize(d);
    return d.at("services").as_array().empty() ? json::object() : d.at("services").as_array()[0].as_object();
  }

  std::vector<std::string> tasks(std::string_view desired = "RUNNING") {
    auto l = ok("ListTasks", R"({"cluster":"web","serviceName":"svc","desiredStatus":")" + std::string(desired) + R"("})");
    std::vector<std::string> out;
    for (const auto& a : l.at("taskArns").as_array()) out.emplace_back(a.as_string());
    return out;
  }

  std::vector<std::string> messages() {
    std::vector<std::string> out;
    json::object svc = service();
    for (const auto& e : svc.at("events").as_array()) out.emplace_back(e.at("message").as_string());
    return out;  // newest first
  }

  bool has_event(std::string_view prefix) {
    for (const auto& m : messages())
      if (m.rfind(prefix, 0) == 0) return true;
    return false;
  }

  void report(const std::string& arn, std::string_view status, std::string stop_code = "") {
    std::string id = arn.substr(arn.rfind('/') + 1);
    TaskReport r{id, std::string(status), stop_code, stop_code.empty() ? "" : "Essential container in task exited",
                 "UNKNOWN", {{"outyet", "runc-" + id, std::string(status), std::nullopt, "", "UNKNOWN",
                              {{"0.0.0.0", 8080, 49153, "tcp"}}}}};
    auto s = apply_task_status(*db_, r, now_);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  void run_all_running() {
    for (const auto& arn : tasks()) report(arn, "RUNNING");
  }

  ManualClock clock_{WallTime{}};
  std::optional<ServiceScheduler> scheduler_;  // passes only when a test asks (its loop is not started)
};


TEST_F(ServicesTest, CreateServiceAnswersAwsShape) {
  auto r = ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":2})");
  const auto& svc = r.at("service").as_object();
  EXPECT_EQ(svc.at("serviceArn").as_string(), "arn:aws:ecs:us-east-1:123456789012:service/web/svc");
  EXPECT_EQ(svc.at("clusterArn").as_string(), "arn:aws:ecs:us-east-1:123456789012:cluster/web");
  EXPECT_EQ(svc.at("status").as_string(), "ACTIVE");
  EXPECT_EQ(svc.at("desiredCount").as_int64(), 2);
  EXPECT_EQ(svc.at("runningCount").as_int64(), 0);
  EXPECT_EQ(svc.at("launchType").as_string(), "EC2");
  EXPECT_EQ(svc.at("schedulingStrategy").as_string(), "REPLICA");
  EXPECT_EQ(svc.at("taskDefinition").as_string(), "arn:aws:ecs:us-east-1:123456789012:task-definition/outyet:1");
  const auto& config = svc.at("deploymentConfiguration").as_object();
  EXPECT_EQ(config.at("maximumPercent").as_int64(), 200);
  EXPECT_EQ(config.at("minimumHealthyPercent").as_int64(), 100);
  EXPECT_FALSE(config.at("deploymentCircuitBreaker").at("enable").as_bool());
  ASSERT_EQ(svc.at("deployments").as_array().size(), 1u);
  const auto& d = svc.at("deployments").as_array()[0].as_object();
  EXPECT_EQ(d.at("status").as_string(), "PRIMARY");
  EXPECT_EQ(d.at("rolloutState").as_string(), "IN_PROGRESS");
  std::string id(d.at("id").as_string());
  EXPECT_EQ(id.size(), 8u + 19u) << id;
  EXPECT_EQ(id.rfind("ecs-svc/", 0), 0u);
  EXPECT_EQ(d.at("rolloutStateReason").as_string(), "ECS deployment " + id + " in progress.");
  EXPECT_EQ(svc.at("deploymentController").at("type").as_string(), "ECS");
  EXPECT_EQ(svc.at("createdBy").as_string(), "arn:aws:iam::123456789012:user/administrator");

  auto list = ok("ListServices", R"({"cluster":"web"})");
  EXPECT_EQ(list.at("serviceArns").as_array().size(), 1u);
  auto clusters = ok("DescribeClusters", R"({"clusters":["web"]})");
  EXPECT_EQ(clusters.at("clusters").as_array()[0].at("activeServicesCount").as_int64(), 1);
}

TEST_F(ServicesTest, CreateServiceRefusesWhatAwsRefuses) {
  std::string base = R"("serviceName":"svc","taskDefinition":"outyet","desiredCount":1)";
  ok("CreateService", "{\"cluster\":\"web\"," + base + "}");
  EXPECT_EQ(fails("CreateService", "{\"cluster\":\"web\"," + base + "}"),
            "InvalidParameterException: Creation of service was not idempotent.");
  EXPECT_EQ(fails("CreateService", "{\"cluster\":\"nope\"," + base + "}"), "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"b","taskDefinition":"missing","desiredCount":1})"),
            "InvalidParameterException: TaskDefinition not found.");
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"b","taskDefinition":"outyet","desiredCount":1,
                  "healthCheckGracePeriodSeconds":10})"),
            "InvalidParameterException: Health check grace period is only valid for services configured to use load "
            "balancers");
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"b","taskDefinition":"outyet","desiredCount":1,
                  "networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"]}}})"),
            "InvalidParameterException: Network Configuration is not valid for the given networkMode of this task "
            "definition.");
  // A service with a target group needs the load balancer module (none in this fixture).
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"b","taskDefinition":"outyet","desiredCount":1,
                  "loadBalancers":[{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1",
                  "containerName":"outyet","containerPort":8080}]})")
                .rfind("InvalidParameterException: Unable to assume role and validate the specified targetGroupArn", 0),
            0u);
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"b","taskDefinition":"outyet","desiredCount":1,
                  "deploymentConfiguration":{"minimumHealthyPercent":150}})")
                .rfind("InvalidParameterException", 0),
            0u);
  // What berth does not do is refused, not ignored.
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"b","taskDefinition":"outyet","desiredCount":1,
                  "serviceRegistries":[{"registryArn":"arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}]})"),
            "UnsupportedFeatureException: serviceRegistries is not supported by berth.");
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"b","taskDefinition":"outyet","desiredCount":1,
                  "deploymentController":{"type":"CODE_DEPLOY"}})"),
            "UnsupportedFeatureException: The CODE_DEPLOY deployment controller is not supported by berth.");
  // Nothing of the refused services was written.
  EXPECT_EQ(ok("ListServices", R"({"cluster":"web"})").at("serviceArns").as_array().size(), 1u);
  auto d = ok("DescribeServices", R"({"cluster":"web","services":["b","svc"]})");
  ASSERT_EQ(d.at("failures").as_array().size(), 1u);
  EXPECT_EQ(d.at("failures").as_array()[0].at("arn").as_string(), "arn:aws:ecs:us-east-1:123456789012:service/web/b");
  EXPECT_EQ(d.at("failures").as_array()[0].at("reason").as_string(), "MISSING");
  EXPECT_EQ(fails("UpdateService", R"({"cluster":"web","service":"b","desiredCount":1})"),
            "ServiceNotFoundException: Service not found.");
  EXPECT_EQ(fails("ListTasks", R"({"cluster":"web","serviceName":"b"})"), "ServiceNotFoundException: Service not found.");
}

TEST_F(ServicesTest, SchedulerStartsTheDesiredCountAndReachesSteadyState) {
  run_instance("t2.small", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":2})");
  pass();
  auto arns = tasks();
  ASSERT_EQ(arns.size(), 2u);
  auto t = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arns[0] + R"("]})").at("tasks").as_array()[0];
  EXPECT_EQ(t.at("group").as_string(), "service:svc");
  std::string deployment(service().at("deployments").as_array()[0].at("id").as_string());
  EXPECT_EQ(t.at("startedBy").as_string(), deployment);
  EXPECT_TRUE(has_event("(service svc) has started 2 tasks: (task ")) << messages()[0];
  pass();
  EXPECT_EQ(tasks().size(), 2u) << "a second pass must not place again";

  run_all_running();
  EXPECT_EQ(service().at("runningCount").as_int64(), 2);
  pass();
  EXPECT_FALSE(has_event("(service svc) has reached a steady state.")) << "healthy only 40 s after RUNNING";
  now_ += std::chrono::seconds(41);
  pass();
  auto svc = service();
  EXPECT_EQ(svc.at("deployments").as_array()[0].at("rolloutState").as_string(), "COMPLETED");
  auto events = messages();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0], "(service svc) has reached a steady state.");
  EXPECT_EQ(events[1], "(service svc) (deployment " + deployment + ") deployment completed.");
  pass();
  EXPECT_EQ(messages().size(), events.size()) << "steady state is announced once";
}

TEST_F(ServicesTest, AStoppedTaskIsReplaced) {
  run_instance("t2.small", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":2})");
  pass();
  run_all_running();
  auto arns = tasks();
  ok("StopTask", R"({"cluster":"web","task":")" + arns[0] + R"("})");
  report(arns[0], "STOPPED");
  pass();
  auto now_running = tasks();
  ASSERT_EQ(now_running.size(), 2u);
  EXPECT_EQ(std::count(now_running.begin(), now_running.end(), arns[0]), 0);
  EXPECT_EQ(messages()[0].rfind("(service svc) has started 1 tasks: (task ", 0), 0u) << messages()[0];
  // An essential container that exits counts as a failed task of the deployment.
  report(now_running[1], "RUNNING");
  report(now_running[1], "STOPPED", "EssentialContainerExited");
  EXPECT_EQ(service().at("deployments").as_array()[0].at("failedTasks").as_int64(), 1);
}

TEST_F(ServicesTest, PlacementFailureNamesTheClosestInstanceAndSucceedsWhenOneJoins) {
  run_instance("t2.micro", "ECS_CLUSTER=web");  // 993 MiB: three 300 MiB tasks
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":4})");
  pass();
  EXPECT_EQ(tasks().size(), 3u);
  auto events = messages();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].rfind("(service svc) was unable to place a task because no container instance met all of its "
                            "requirements. The closest matching (container-instance ",
                            0),
            0u)
      << events[0];
  EXPECT_NE(events[0].find(") has insufficient memory available. For more information, see the Troubleshooting section"),
            std::string::npos)
      << events[0];
  pass();
  EXPECT_EQ(messages().size(), events.size()) << "the same refusal is not repeated at once";
  run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  pass();
  EXPECT_EQ(tasks().size(), 4u);
}

TEST_F(ServicesTest, RollingUpdateKeepsTheMinimumAndCompletesWhenOldTasksAreGone) {
  run_instance("t2.medium", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":2})");
  pass();
  run_all_running();
  now_ += std::chrono::seconds(41);
  pass();
  auto old = tasks();
  ok("RegisterTaskDefinition", R"({"family":"outyet","containerDefinitions":[{"name":"outyet","image":"outyet-image:2",
      "memory":300,"cpu":256,"portMappings":[{"containerPort":8080}]}]})");
  auto u = ok("UpdateService", R"({"cluster":"web","service":"svc","taskDefinition":"outyet:2"})");
  ASSERT_EQ(u.at("service").at("deployments").as_array().size(), 2u);
  EXPECT_EQ(u.at("service").at("deployments").as_array()[1].at("status").as_string(), "ACTIVE");
  pass();
  auto all = tasks();
  ASSERT_EQ(all.size(), 4u) << "maximumPercent 200 allows all new tasks before any old one stops";
  for (const auto& arn : all) {
    if (std::find(old.begin(), old.end(), arn) == old.end()) report(arn, "RUNNING");
  }
  pass();
  EXPECT_EQ(tasks().size(), 4u) << "new tasks are not healthy yet: no old task may stop";
  now_ += std::chrono::seconds(41);
  pass();
  auto running = tasks();
  ASSERT_EQ(running.size(), 2u);
  for (const auto& arn : running) EXPECT_EQ(std::count(old.begin(), old.end(), arn), 0);
  auto stopped = tasks("STOPPED");
  EXPECT_EQ(stopped.size(), 2u);
  auto t = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + old[0] + R"("]})").at("tasks").as_array()[0];
  EXPECT_EQ(t.at("stopCode").as_string(), "ServiceSchedulerInitiated");
  std::string primary(service().at("deployments").as_array()[0].at("id").as_string());
  EXPECT_EQ(t.at("stoppedReason").as_string(), "Scaling activity initiated by (deployment " + primary + ")");
  EXPECT_EQ(service().at("deployments").as_array().size(), 2u) << "the old deployment waits for its tasks to stop";
  for (const auto& arn : old) report(arn, "STOPPED");
  pass();
  auto svc = service();
  ASSERT_EQ(svc.at("deployments").as_array().size(), 1u);
  EXPECT_EQ(svc.at("deployments").as_array()[0].at("rolloutState").as_string(), "COMPLETED");
  EXPECT_EQ(svc.at("taskDefinition").as_string(), "arn:aws:ecs:us-east-1:123456789012:task-definition/outyet:2");
}

TEST_F(ServicesTest, CircuitBreakerFailsTheDeploymentAndRollsBack) {
  run_instance("t2.medium", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":1,
      "deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}})");
  pass();
  run_all_running();
  now_ += std::chrono::seconds(41);
  pass();
  std::string first(service().at("deployments").as_array()[0].at("id").as_string());
  ok("RegisterTaskDefinition", R"({"family":"outyet","containerDefinitions":[{"name":"outyet","image":"broken",
      "memory":300,"cpu":256,"portMappings":[{"containerPort":8080}]}]})");
  ok("UpdateService", R"({"cluster":"web","service":"svc","taskDefinition":"outyet:2"})");
  std::string failing(service().at("deployments").as_array()[0].at("id").as_string());
  for (int i = 0; i < 3; ++i) {
    pass();
    for (const auto& arn : tasks()) {
      auto t = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})").at("tasks").as_array()[0];
      if (t.at("startedBy").as_string() == failing) report(arn, "STOPPED", "TaskFailedToStart");
    }
  }
  pass();
  auto svc = service();
  ASSERT_EQ(svc.at("deployments").as_array().size(), 3u) << json::serialize(svc.at("deployments"));
  const auto& rollback = svc.at("deployments").as_array()[0];
  const auto& failed = svc.at("deployments").as_array()[1];
  EXPECT_EQ(failed.at("id").as_string(), failing);
  EXPECT_EQ(failed.at("rolloutState").as_string(), "FAILED");
  EXPECT_EQ(failed.at("failedTasks").as_int64(), 3);
  EXPECT_EQ(rollback.at("taskDefinition").as_string(), "arn:aws:ecs:us-east-1:123456789012:task-definition/outyet:1");
  EXPECT_TRUE(has_event("(service svc) (deployment " + failing + ") deployment failed: tasks failed to start."));
  EXPECT_TRUE(has_event("(service svc) rolling back to deployment " + std::string(rollback.at("id").as_string()) + "."));

  // The deployment history: newest first, the failed one rolling back.
  auto history = ok("ListServiceDeployments", R"({"cluster":"web","service":"svc"})").at("serviceDeployments").as_array();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].at("status").as_string(), "IN_PROGRESS");
  EXPECT_EQ(history[1].at("status").as_string(), "ROLLBACK_IN_PROGRESS");
  EXPECT_EQ(history[2].at("status").as_string(), "SUCCESSFUL");
  EXPECT_EQ(history[2].at("targetServiceRevisionArn").as_string(),
            "arn:aws:ecs:us-east-1:123456789012:service-revision/web/svc/" + first.substr(8));
  std::string failed_arn(history[1].at("serviceDeploymentArn").as_string());
  EXPECT_EQ(failed_arn.rfind("arn:aws:ecs:us-east-1:123456789012:service-deployment/web/svc/", 0), 0u) << failed_arn;
  auto d = ok("DescribeServiceDeployments", R"({"serviceDeploymentArns":[")" + failed_arn + R"(","arn:nope"]})");
  ASSERT_EQ(d.at("serviceDeployments").as_array().size(), 1u);
  const auto& sd = d.at("serviceDeployments").as_array()[0];
  EXPECT_EQ(sd.at("deploymentCircuitBreaker").at("status").as_string(), "TRIGGERED");
  EXPECT_EQ(sd.at("deploymentCircuitBreaker").at("failureCount").as_int64(), 3);
  EXPECT_EQ(sd.at("deploymentCircuitBreaker").at("threshold").as_int64(), 3);
  EXPECT_EQ(sd.at("rollback").at("serviceRevisionArn").as_string(),
            "arn:aws:ecs:us-east-1:123456789012:service-revision/web/svc/" +
                std::string(rollback.at("id").as_string()).substr(8));
  EXPECT_EQ(d.at("failures").as_array()[0].at("reason").as_string(), "MISSING");
  EXPECT_EQ(service().at("currentServiceDeployment").as_string(), history[0].at("serviceDeploymentArn").as_string());

  // The rollback completes: so does the failed deployment's record.
  pass();
  run_all_running();
  now_ += std::chrono::seconds(41);
  pass();
  for (const auto& arn : tasks("STOPPED")) report(arn, "STOPPED");
  pass();
  history = ok("ListServiceDeployments", R"({"cluster":"web","service":"svc"})").at("serviceDeployments").as_array();
  EXPECT_EQ(history[0].at("status").as_string(), "SUCCESSFUL");
  EXPECT_EQ(history[1].at("status").as_string(), "ROLLBACK_SUCCESSFUL");
  auto only_done = ok("ListServiceDeployments", R"({"cluster":"web","service":"svc","status":["SUCCESSFUL"]})");
  EXPECT_EQ(only_done.at("serviceDeployments").as_array().size(), 2u);
}

TEST_F(ServicesTest, RepeatedLaunchFailuresBackOff) {
  run_instance("t2.medium", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":1})");
  auto fail_running = [&] {
    for (const auto& arn : tasks()) report(arn, "STOPPED", "TaskFailedToStart");
  };
  for (int i = 0; i < 3; ++i) {
    pass();
    ASSERT_EQ(tasks().size(), 1u) << "attempt " << i;
    fail_running();
  }
  pass();
  EXPECT_TRUE(tasks().empty()) << "the third failure backs off";
  EXPECT_EQ(messages()[0], "(service svc) is unable to consistently start tasks successfully. For more information, "
                           "see the Troubleshooting section of the Amazon ECS Developer Guide.");
  now_ += std::chrono::seconds(11);
  pass();
  EXPECT_EQ(tasks().size(), 1u) << "tried again after 10 s";
  fail_running();
  now_ += std::chrono::seconds(11);
  pass();
  EXPECT_TRUE(tasks().empty()) << "the fourth failure waits 20 s";
  now_ += std::chrono::seconds(10);
  pass();
  EXPECT_EQ(tasks().size(), 1u);
}

TEST_F(ServicesTest, DaemonServiceRunsOneTaskPerInstanceAndReplacesInPlace) {
  run_instance("t2.small", "ECS_CLUSTER=web");
  run_instance("t2.small", "ECS_CLUSTER=web");
  settle();
  EXPECT_EQ(fails("CreateService", R"({"cluster":"web","serviceName":"d","taskDefinition":"outyet",
                  "schedulingStrategy":"DAEMON","placementStrategy":[{"type":"random"}]})")
                .rfind("InvalidParameterException", 0),
            0u);
  auto created = ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet",
                    "schedulingStrategy":"DAEMON"})");
  EXPECT_EQ(created.at("service").at("deploymentConfiguration").at("maximumPercent").as_int64(), 100);
  EXPECT_EQ(created.at("service").at("deploymentConfiguration").at("minimumHealthyPercent").as_int64(), 0);
  pass();
  auto first = tasks();
  ASSERT_EQ(first.size(), 2u);
  std::set<std::string> instances;
  for (const auto& arn : first) {
    auto t = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})").at("tasks").as_array()[0];
    instances.insert(std::string(t.at("containerInstanceArn").as_string()));
  }
  EXPECT_EQ(instances.size(), 2u) << "one task on each instance";
  EXPECT_EQ(service().at("desiredCount").as_int64(), 2);
  EXPECT_EQ(fails("UpdateService", R"({"cluster":"web","service":"svc","desiredCount":5})").rfind("InvalidParameterException", 0),
            0u);
  run_all_running();
  run_instance("t2.small", "ECS_CLUSTER=web");
  settle();
  pass();
  EXPECT_EQ(tasks().size(), 3u) << "an instance that joins gets its task";
  EXPECT_EQ(service().at("desiredCount").as_int64(), 3);
  run_all_running();
  now_ += std::chrono::seconds(41);
  pass();
  EXPECT_EQ(service().at("deployments").as_array()[0].at("rolloutState").as_string(), "COMPLETED");

  // A new revision: minimum 0 %, maximum 100 %: old tasks stop first, then each instance gets its new one.
  ok("RegisterTaskDefinition", R"({"family":"outyet","containerDefinitions":[{"name":"outyet","image":"outyet-image:2",
      "memory":300,"cpu":256,"portMappings":[{"containerPort":8080}]}]})");
  ok("UpdateService", R"({"cluster":"web","service":"svc","taskDefinition":"outyet:2"})");
  pass();
  EXPECT_TRUE(tasks().empty());
  for (const auto& arn : tasks("STOPPED")) report(arn, "STOPPED");
  pass();
  auto renewed = tasks();
  ASSERT_EQ(renewed.size(), 3u);
  for (const auto& arn : renewed) {
    auto t = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})").at("tasks").as_array()[0];
    EXPECT_EQ(t.at("taskDefinitionArn").as_string(), "arn:aws:ecs:us-east-1:123456789012:task-definition/outyet:2");
  }
}

TEST_F(ServicesTest, ATaskFailingItsContainerHealthCheckIsStoppedAndReplaced) {
  run_instance("t2.medium", "ECS_CLUSTER=web");
  settle();
  ok("RegisterTaskDefinition", R"({"family":"checked","containerDefinitions":[{"name":"outyet","image":"outyet-image",
      "memory":300,"cpu":256,"portMappings":[{"containerPort":8080}],
      "healthCheck":{"command":["CMD-SHELL","true"],"interval":5,"retries":1}}]})");
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"checked","desiredCount":1})");
  pass();
  auto arns = tasks();
  ASSERT_EQ(arns.size(), 1u);
  std::string id = arns[0].substr(arns[0].rfind('/') + 1);
  auto report_health = [&](std::string_view health) {
    TaskReport r{id, "RUNNING", "", "", std::string(health),
                 {{"outyet", "runc-" + id, "RUNNING", std::nullopt, "", std::string(health), {{"0.0.0.0", 8080, 49153, "tcp"}}}}};
    auto st = apply_task_status(*db_, r, now_);
    ASSERT_TRUE(st.ok()) << st.error().message;
  };
  report_health("UNKNOWN");
  now_ += std::chrono::seconds(60);
  pass();
  EXPECT_NE(service().at("deployments").as_array()[0].at("rolloutState").as_string(), "COMPLETED")
      << "a checked task counts only once HEALTHY, not after 40 s";
  report_health("HEALTHY");
  pass();
  EXPECT_EQ(service().at("deployments").as_array()[0].at("rolloutState").as_string(), "COMPLETED");
  report_health("UNHEALTHY");
  pass();
  auto t = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arns[0] + R"("]})").at("tasks").as_array()[0];
  EXPECT_EQ(t.at("desiredStatus").as_string(), "STOPPED");
  EXPECT_EQ(t.at("stopCode").as_string(), "ServiceSchedulerInitiated");
  EXPECT_EQ(t.at("stoppedReason").as_string(), "Task failed container health checks");
  EXPECT_TRUE(has_event("(service svc) (task " + id + ") failed container health checks."));
  ASSERT_EQ(tasks().size(), 1u) << "replaced";
  EXPECT_NE(tasks()[0], arns[0]);
}

TEST_F(ServicesTest, DeleteServiceDrainsThenTurnsInactiveAndTeardownOrderHolds) {
  run_instance("t2.small", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":1})");
  pass();
  run_all_running();
  EXPECT_EQ(fails("DeleteService", R"({"cluster":"web","service":"svc"})"),
            "InvalidParameterException: The service cannot be stopped while it is scaled above 0.");
  EXPECT_EQ(fails("DeleteCluster", R"({"cluster":"web"})"),
            "ClusterContainsServicesException: The Cluster cannot be deleted while Services are active.");
  auto d = ok("DeleteService", R"({"cluster":"web","service":"svc","force":true})");
  EXPECT_EQ(d.at("service").at("status").as_string(), "DRAINING");
  EXPECT_EQ(fails("UpdateService", R"({"cluster":"web","service":"svc","desiredCount":1})"),
            "ServiceNotActiveException: Service was not ACTIVE.");
  EXPECT_TRUE(ok("ListServices", R"({"cluster":"web"})").at("serviceArns").as_array().empty());
  pass();
  auto stopping = tasks("STOPPED");
  ASSERT_EQ(stopping.size(), 1u);
  report(stopping[0], "STOPPED");
  pass();
  EXPECT_EQ(service().at("status").as_string(), "INACTIVE");
  // The name is free again.
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":0})");
}

TEST_F(ServicesTest, ScaleInStopsTasksAndScaleToZeroIsSteady) {
  run_instance("t2.medium", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":3})");
  pass();
  run_all_running();
  auto u = ok("UpdateService", R"({"cluster":"web","service":"svc","desiredCount":1})");
  EXPECT_EQ(u.at("service").at("deployments").as_array().size(), 1u) << "desiredCount alone keeps the deployment";
  pass();
  EXPECT_EQ(tasks().size(), 1u);
  EXPECT_EQ(messages()[0].rfind("(service svc) has stopped 2 running tasks: (task ", 0), 0u) << messages()[0];
}

}  // namespace
}  // namespace berth::ecs::testing

// The in-process desired-count change Application Auto Scaling uses: the
// same result as UpdateService --desired-count, and the scheduler follows.
namespace berth::ecs::testing {
namespace {

TEST_F(ServicesTest, SetServiceDesiredCountChangesTheServiceAndItsPrimaryInPlace) {
  run_instance("t2.small", "ECS_CLUSTER=web");
  settle();
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":1})");
  pass();
  std::string deployment(service().at("deployments").as_array()[0].at("id").as_string());
  ASSERT_EQ(tasks().size(), 1u);

  auto set = set_service_desired_count(*db_, "web", "svc", 3, now_);
  ASSERT_TRUE(set.ok()) << set.error().message;
  auto svc = service();
  EXPECT_EQ(svc.at("desiredCount").as_int64(), 3);
  ASSERT_EQ(svc.at("deployments").as_array().size(), 1u) << "a desired count alone starts no deployment";
  const auto& primary = svc.at("deployments").as_array()[0].as_object();
  EXPECT_EQ(primary.at("id").as_string(), deployment);
  EXPECT_EQ(primary.at("desiredCount").as_int64(), 3);
  pass();
  EXPECT_EQ(tasks().size(), 3u) << "the scheduler places the new desired count";

  auto capacity = read_service_capacity(*db_, "web", "arn:aws:ecs:us-east-1:123456789012:service/web/svc");
  ASSERT_TRUE(capacity.ok()) << capacity.error().message;
  EXPECT_EQ(capacity->desired_count, 3);
  EXPECT_EQ(capacity->running_count, 0) << "nothing reported RUNNING yet";
  EXPECT_EQ(capacity->status, "ACTIVE");
  run_all_running();
  capacity = read_service_capacity(*db_, "web", "svc");
  ASSERT_TRUE(capacity.ok()) << capacity.error().message;
  EXPECT_EQ(capacity->running_count, 3);

  ASSERT_OK(set_service_desired_count(*db_, "web", "svc", 1, now_));
  pass();
  EXPECT_EQ(tasks().size(), 1u) << "scaling in stops the surplus tasks";
}

TEST_F(ServicesTest, SetServiceDesiredCountAnswersAsTheApiDoes) {
  ok("CreateService", R"({"cluster":"web","serviceName":"svc","taskDefinition":"outyet","desiredCount":1})");
  auto missing = set_service_desired_count(*db_, "web", "nope", 2, now_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().error_class, ErrorClass::kNotFound);
  EXPECT_EQ(missing.error().code, "ServiceNotFoundException");
  auto no_cluster = read_service_capacity(*db_, "nope", "svc");
  ASSERT_FALSE(no_cluster.ok());
  EXPECT_EQ(no_cluster.error().code, "ClusterNotFoundException");
  EXPECT_FALSE(set_service_desired_count(*db_, "web", "svc", -1, now_).ok());

  ok("UpdateService", R"({"cluster":"web","service":"svc","desiredCount":0})");
  ok("DeleteService", R"({"cluster":"web","service":"svc"})");
  auto draining = set_service_desired_count(*db_, "web", "svc", 2, now_);
  ASSERT_FALSE(draining.ok()) << "a deleted service is not scaled";
  EXPECT_EQ(draining.error().code, "ServiceNotActiveException");
}

}  // namespace
}  // namespace berth::ecs::testing
