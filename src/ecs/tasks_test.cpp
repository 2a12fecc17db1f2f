// Tasks: RunTask placement and failures, the task shapes, StopTask, and
// the runtime boundary (dispatcher + apply_task_status) with a fake launcher.
#include "ecs/tasks.h"

#include <boost/json/serialize.hpp>

#include <map>

#include "ecs/ecs_test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::ecs::testing {
namespace {

class TasksTest : public EcsTest {
 protected:
  void SetUp() override {
    EcsTest::SetUp();
    ok("CreateCluster", R"({"clusterName":"web"})");
    ok("RegisterTaskDefinition", R"({"family":"outyet","containerDefinitions":[{"name":"outyet","image":"outyet-image",
        "memory":400,"cpu":256,"portMappings":[{"containerPort":8080}]}]})");
    ok("RegisterTaskDefinition", R"({"family":"static","containerDefinitions":[{"name":"web","image":"nginx",
        "memoryReservation":64,"portMappings":[{"containerPort":80,"hostPort":8080}]}]})");
  }

  std::string only_instance_arn() {
    auto l = ok("ListContainerInstances", R"({"cluster":"web"})");
    EXPECT_EQ(l.at("containerInstanceArns").as_array().size(), 1u);
    return l.at("containerInstanceArns").as_array().empty()
               ? ""
               : std::string(l.at("containerInstanceArns").as_array()[0].as_string());
  }

  // The default VPC's subnet in the first availability zone.
  std::string first_subnet() {
    return db_->read([](store::Tx& tx) -> Result<std::string> {
                auto stmt = tx.prepare("SELECT subnet_id FROM ec2_subnets ORDER BY availability_zone");
                if (!stmt) return std::move(stmt).error();
                if (auto row = stmt->step(); !row) return std::move(row).error();
                return stmt->column_string(0);
              }).value();
  }

  int64_t remaining(std::string_view name) {
    auto d = ok("DescribeContainerInstances",
                R"({"cluster":"web","containerInstances":[")" + only_instance_arn() + R"("]})");
    for (const auto& r : d.at("containerInstances").as_array()[0].at("remainingResources").as_array()) {
      if (r.at("name").as_string() == name) {
        return name == "PORTS" ? static_cast<int64_t>(r.at("stringSetValue").as_array().size())
                               : r.at("integerValue").as_int64();
      }
    }
    return -1;
  }
};

TEST_F(TasksTest, NoInstancesIsAnError) {
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"outyet"})"),
            "InvalidParameterException: No Container Instances were found in your cluster.");
  EXPECT_EQ(fails("RunTask", R"({"cluster":"nope","taskDefinition":"outyet"})"),
            "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"missing"})"),
            "InvalidParameterException: TaskDefinition not found.");
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"outyet","count":11})")
                .rfind("InvalidParameterException", 0),
            0u);
}

TEST_F(TasksTest, RunTaskPlacesAndChargesTheInstance) {
  run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  auto r = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet","count":2,"startedBy":"me"})");
  ASSERT_EQ(r.at("tasks").as_array().size(), 2u);
  EXPECT_TRUE(r.at("failures").as_array().empty());
  const auto& t = r.at("tasks").as_array()[0];
  EXPECT_EQ(t.at("lastStatus").as_string(), "PENDING");
  EXPECT_EQ(t.at("desiredStatus").as_string(), "RUNNING");
  EXPECT_EQ(t.at("launchType").as_string(), "EC2");
  EXPECT_EQ(t.at("group").as_string(), "family:outyet");
  EXPECT_EQ(t.at("cpu").as_string(), "256");
  EXPECT_EQ(t.at("memory").as_string(), "400");
  EXPECT_EQ(t.at("containerInstanceArn").as_string(), only_instance_arn());
  EXPECT_EQ(t.at("taskDefinitionArn").as_string(), "arn:aws:ecs:us-east-1:123456789012:task-definition/outyet:1");
  EXPECT_EQ(std::string(t.at("taskArn").as_string()).rfind("arn:aws:ecs:us-east-1:123456789012:task/web/", 0), 0u);
  EXPECT_EQ(t.at("containers").as_array()[0].at("lastStatus").as_string(), "PENDING");
  EXPECT_EQ(t.at("overrides").at("containerOverrides").as_array()[0].at("name").as_string(), "outyet");
  EXPECT_EQ(remaining("CPU"), 1024 - 512);
  EXPECT_EQ(remaining("MEMORY"), 993 - 800);
  auto c = ok("DescribeClusters", R"({"clusters":["web"]})").at("clusters").as_array()[0];
  EXPECT_EQ(c.at("pendingTasksCount").as_int64(), 2);

  // A third does not fit: 193 MiB left.
  auto third = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet"})");
  EXPECT_TRUE(third.at("tasks").as_array().empty());
  ASSERT_EQ(third.at("failures").as_array().size(), 1u);
  EXPECT_EQ(third.at("failures").as_array()[0].at("arn").as_string(), only_instance_arn());
  EXPECT_EQ(third.at("failures").as_array()[0].at("reason").as_string(), "RESOURCE:MEMORY");
  // A smaller override fits.
  auto small = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet","overrides":{"containerOverrides":[
      {"name":"outyet","memory":100,"command":["-poll","1s"]}]}})");
  ASSERT_EQ(small.at("tasks").as_array().size(), 1u);
  EXPECT_EQ(small.at("tasks").as_array()[0].at("overrides").at("containerOverrides").as_array()[0].at("memory").as_int64(),
            100);
  // Wrongly typed overrides are refused, not a crash.
  for (std::string_view bad : {R"({"containerOverrides":[{"name":"outyet","memory":"lots"}]})",
                               R"({"containerOverrides":[{"name":"outyet","command":"run"}]})",
                               R"({"containerOverrides":[{"name":"outyet","environment":[5]}]})",
                               R"({"memory":"huge"})"}) {
    EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"outyet","overrides":)" + std::string(bad) + "}")
                  .rfind("InvalidParameterException", 0),
              0u)
        << bad;
  }
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"outyet","overrides":{"containerOverrides":[
      {"name":"nope"}]}})"),
            "InvalidParameterException: Override for container named nope is not a container in the TaskDefinition.");
}

TEST_F(TasksTest, StaticHostPortsConflict) {
  run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  ASSERT_EQ(ok("RunTask", R"({"cluster":"web","taskDefinition":"static"})").at("tasks").as_array().size(), 1u);
  EXPECT_EQ(remaining("PORTS"), 6);
  auto second = ok("RunTask", R"({"cluster":"web","taskDefinition":"static"})");
  EXPECT_TRUE(second.at("tasks").as_array().empty());
  EXPECT_EQ(second.at("failures").as_array()[0].at("reason").as_string(), "RESOURCE:PORTS");
}

TEST_F(TasksTest, DescribeListStopAndDeleteClusterOrder) {
  std::string ec2_id = run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  auto r = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet","startedBy":"tester",
      "tags":[{"key":"k","value":"v"}]})");
  std::string arn(r.at("tasks").as_array()[0].at("taskArn").as_string());
  auto d = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"(","0123456789abcdef0123456789abcdef"],
      "include":["TAGS"]})");
  ASSERT_EQ(d.at("tasks").as_array().size(), 1u);
  EXPECT_EQ(d.at("tasks").as_array()[0].at("tags").as_array().size(), 1u);
  EXPECT_EQ(d.at("failures").as_array()[0].at("reason").as_string(), "MISSING");
  EXPECT_EQ(ok("ListTasks", R"({"cluster":"web"})").at("taskArns").as_array().size(), 1u);
  EXPECT_EQ(ok("ListTasks", R"({"cluster":"web","family":"outyet","startedBy":"tester"})").at("taskArns").as_array().size(), 1u);
  EXPECT_EQ(ok("ListTasks", R"({"cluster":"web","family":"static"})").at("taskArns").as_array().size(), 0u);
  EXPECT_EQ(ok("ListTasks", R"({"cluster":"web","containerInstance":")" + only_instance_arn() + R"("})")
                .at("taskArns").as_array().size(),
            1u);
  EXPECT_EQ(fails("ListTasks", R"({"cluster":"web","serviceName":"svc"})"), "ServiceNotFoundException: Service not found.");

  // Out of order: instance, then tasks.
  EXPECT_EQ(fails("DeleteCluster", R"({"cluster":"web"})").rfind("ClusterContainsContainerInstancesException", 0), 0u);
  EXPECT_EQ(fails("DeregisterContainerInstance", R"({"cluster":"web","containerInstance":")" + only_instance_arn() + R"("})")
                .rfind("InvalidParameterException", 0),
            0u);

  auto s = ok("StopTask", R"({"cluster":"web","task":")" + arn + R"("})");
  EXPECT_EQ(s.at("task").at("desiredStatus").as_string(), "STOPPED");
  EXPECT_EQ(s.at("task").at("stopCode").as_string(), "UserInitiated");
  EXPECT_EQ(s.at("task").at("stoppedReason").as_string(), "Task stopped by user");
  // Never handed to a runtime: stopped at once.
  EXPECT_EQ(s.at("task").at("lastStatus").as_string(), "STOPPED");
  EXPECT_EQ(ok("ListTasks", R"({"cluster":"web"})").at("taskArns").as_array().size(), 0u);
  EXPECT_EQ(ok("ListTasks", R"({"cluster":"web","desiredStatus":"STOPPED"})").at("taskArns").as_array().size(), 1u);
  EXPECT_EQ(remaining("MEMORY"), 993);
  EXPECT_EQ(fails("StopTask", R"({"cluster":"web","task":"0123456789abcdef0123456789abcdef"})"),
            "InvalidParameterException: The referenced task was not found.");

  // An hour later the stopped task is gone from Describe and List.
  now_ += std::chrono::minutes(61);
  auto later = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})");
  EXPECT_TRUE(later.at("tasks").as_array().empty());

  ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet"})");
  // Terminating the instance stops its tasks and deregisters it.
  ASSERT_OK(ec2_call("TerminateInstances", "InstanceId.1=" + ec2_id));
  settle();
  auto stopped = ok("ListTasks", R"({"cluster":"web","desiredStatus":"STOPPED"})");
  ASSERT_EQ(stopped.at("taskArns").as_array().size(), 1u);
  auto dt = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" +
                                    std::string(stopped.at("taskArns").as_array()[0].as_string()) + R"("]})");
  EXPECT_EQ(dt.at("tasks").as_array()[0].at("stoppedReason").as_string(),
            "Host EC2 (instance " + ec2_id + ") terminated.");
  EXPECT_EQ(ok("DeleteCluster", R"({"cluster":"web"})").at("cluster").at("status").as_string(), "INACTIVE");
}

TEST_F(TasksTest, AwsvpcAndFargate) {
  ok("RegisterTaskDefinition", R"({"family":"fg","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],
      "cpu":"256","memory":"512","containerDefinitions":[{"name":"a","image":"i","portMappings":[{"containerPort":8080}]}]})");
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"fg","launchType":"FARGATE",
      "networkConfiguration":{"awsvpcConfiguration":{"subnets":[7]}}})").rfind("InvalidParameterException", 0),
            0u);
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"fg","launchType":"FARGATE"})"),
            "InvalidParameterException: Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"outyet","launchType":"FARGATE"})"),
            "InvalidParameterException: Task definition does not support launch_type FARGATE.");
  std::string subnet = first_subnet();
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"fg","launchType":"FARGATE",
      "networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"]}}})"),
            "InvalidParameterException: Error retrieving subnet information for [subnet-1]: The subnet ID 'subnet-1' "
            "does not exist (ErrorCode: InvalidSubnetID.NotFound)");
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"fg","launchType":"FARGATE",
      "networkConfiguration":{"awsvpcConfiguration":{"subnets":[")" + subnet + R"("],"securityGroups":["sg-0123"]}}})"),
            "InvalidParameterException: Error retrieving security group information for [sg-0123]: The security "
            "group 'sg-0123' does not exist (ErrorCode: InvalidGroup.NotFound)");
  auto r = ok("RunTask", R"({"cluster":"web","taskDefinition":"fg","launchType":"FARGATE","count":2,
      "networkConfiguration":{"awsvpcConfiguration":{"subnets":[")" + subnet + R"("],"assignPublicIp":"ENABLED"}}})");
  ASSERT_EQ(r.at("tasks").as_array().size(), 2u);
  // Each task holds an ENI with a private and a public address until it stops.
  auto count = [&](std::string_view sql) {
    return db_->read([&](store::Tx& tx) -> Result<int64_t> {
                auto stmt = tx.prepare(sql);
                if (!stmt) return std::move(stmt).error();
                if (auto row = stmt->step(); !row) return std::move(row).error();
                return stmt->column_int64(0);
              }).value();
  };
  EXPECT_EQ(count("SELECT count(*) FROM ec2_network_interfaces"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM ec2_public_ips WHERE resource_id LIKE 'eni-%'"), 2);
  EXPECT_EQ(count("SELECT count(DISTINCT address) FROM ec2_private_ips WHERE resource_id LIKE 'eni-%'"), 2);
  const auto& t = r.at("tasks").as_array()[0];
  EXPECT_EQ(t.at("lastStatus").as_string(), "PROVISIONING");
  EXPECT_EQ(t.at("launchType").as_string(), "FARGATE");
  EXPECT_FALSE(t.as_object().contains("containerInstanceArn"));
  const auto& eni = t.at("attachments").as_array()[0];
  EXPECT_EQ(eni.at("type").as_string(), "ElasticNetworkInterface");
  EXPECT_EQ(eni.at("status").as_string(), "PRECREATED");
  EXPECT_EQ(eni.at("details").as_array()[0].at("value").as_string(), subnet);
  // Stopped before any runtime ran it: its ENI is deleted, the attachment DELETED.
  auto stopped = ok("StopTask", R"({"cluster":"web","task":")" + std::string(t.at("taskArn").as_string()) + R"("})");
  EXPECT_EQ(stopped.at("task").at("attachments").as_array()[0].at("status").as_string(), "DELETED");
  EXPECT_EQ(count("SELECT count(*) FROM ec2_network_interfaces"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM ec2_public_ips WHERE resource_id LIKE 'eni-%'"), 1);
  // FARGATE through the cluster's default capacity provider strategy.
  ok("PutClusterCapacityProviders", R"({"cluster":"web","capacityProviders":["FARGATE"],
      "defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1}]})");
  auto viaDefault = ok("RunTask", R"({"cluster":"web","taskDefinition":"fg",
      "networkConfiguration":{"awsvpcConfiguration":{"subnets":[")" + subnet + R"("]}}})");
  EXPECT_EQ(viaDefault.at("tasks").as_array()[0].at("capacityProviderName").as_string(), "FARGATE");
  EXPECT_EQ(ok("DescribeClusters", R"({"clusters":["web"]})").at("clusters").as_array()[0].at("pendingTasksCount").as_int64(), 2);
  EXPECT_EQ(fails("DeleteCluster", R"({"cluster":"web"})"),
            "ClusterContainsTasksException: The Cluster cannot be deleted while Tasks are active.");
}

// A t2.micro has one ENI for tasks (two, less the instance's own): one
// awsvpc task takes it, whatever the instance's bridge tasks carry.
TEST_F(TasksTest, AwsvpcTaskTakesTheInstancesTaskEniSlot) {
  run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  ok("RegisterTaskDefinition", R"({"family":"vpc","networkMode":"awsvpc","containerDefinitions":[{"name":"a",
      "image":"i","memory":64}]})");
  auto bridge = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet","overrides":{"containerOverrides":[
      {"name":"outyet","environment":[{"name":"NOTE","value":"ElasticNetworkInterface"}]}]}})");
  ASSERT_EQ(bridge.at("tasks").as_array().size(), 1u);
  std::string run_vpc = R"({"cluster":"web","taskDefinition":"vpc","launchType":"EC2",
      "networkConfiguration":{"awsvpcConfiguration":{"subnets":[")" + first_subnet() + R"("]}}})";
  auto first = ok("RunTask", run_vpc);
  ASSERT_EQ(first.at("tasks").as_array().size(), 1u) << boost::json::serialize(first);
  auto second = ok("RunTask", run_vpc);
  EXPECT_TRUE(second.at("tasks").as_array().empty());
  ASSERT_EQ(second.at("failures").as_array().size(), 1u);
  EXPECT_EQ(second.at("failures").as_array()[0].at("reason").as_string(), "RESOURCE:ENI");
  // Its ENI freed by StopTask, the slot is free again.
  ok("StopTask", R"({"cluster":"web","task":")" + std::string(first.at("tasks").as_array()[0].at("taskArn").as_string()) +
                     R"("})");
  EXPECT_EQ(ok("RunTask", run_vpc).at("tasks").as_array().size(), 1u);
}

// With several subnets listed, an EC2 task's ENI is made in the one of its
// instance's zone, not in the first listed.
TEST_F(TasksTest, AwsvpcTaskOnAnInstanceUsesTheSubnetOfItsZone) {
  run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  ok("RegisterTaskDefinition", R"({"family":"vpc","networkMode":"awsvpc","containerDefinitions":[{"name":"a",
      "image":"i","memory":64}]})");
  // zone -> subnet, the default VPC's, listed in reverse zone order.
  auto subnets = db_->read([](store::Tx& tx) -> Result<std::map<std::string, std::string>> {
                   auto stmt = tx.prepare("SELECT availability_zone, subnet_id FROM ec2_subnets");
                   if (!stmt) return std::move(stmt).error();
                   std::map<std::string, std::string> out;
                   for (;;) {
                     auto row = stmt->step();
                     if (!row) return std::move(row).error();
                     if (!*row) break;
                     out[stmt->column_string(0)] = stmt->column_string(1);
                   }
                   return out;
                 }).value();
  ASSERT_GE(subnets.size(), 2u);
  std::string listed;
  for (auto it = subnets.rbegin(); it != subnets.rend(); ++it) listed += (listed.empty() ? "\"" : ",\"") + it->second + "\"";
  auto r = ok("RunTask", R"({"cluster":"web","taskDefinition":"vpc","launchType":"EC2",
      "networkConfiguration":{"awsvpcConfiguration":{"subnets":[)" + listed + R"(]}}})");
  ASSERT_EQ(r.at("tasks").as_array().size(), 1u);
  const auto& t = r.at("tasks").as_array()[0];
  std::string zone(t.at("availabilityZone").as_string());
  ASSERT_TRUE(subnets.count(zone)) << zone;
  EXPECT_NE(subnets.rbegin()->first, zone);  // the first listed is another zone's
  EXPECT_EQ(t.at("attachments").as_array()[0].at("details").as_array()[0].at("value").as_string(), subnets[zone]);
}

TEST_F(TasksTest, StartTaskAndPlacementOptions) {
  run_instance("t2.micro", "ECS_CLUSTER=web");
  run_instance("t3.small", "ECS_CLUSTER=web");
  settle();
  auto arns = ok("ListContainerInstances", R"({"cluster":"web"})").at("containerInstanceArns").as_array();
  ASSERT_EQ(arns.size(), 2u);
  std::string micro(arns[0].as_string()), small(arns[1].as_string());

  auto started = ok("StartTask", R"({"cluster":"web","taskDefinition":"outyet","containerInstances":[")" + small +
                                     R"(","0123456789abcdef0123456789abcdef"]})");
  ASSERT_EQ(started.at("tasks").as_array().size(), 1u);
  EXPECT_EQ(started.at("tasks").as_array()[0].at("containerInstanceArn").as_string(), small);
  ASSERT_EQ(started.at("failures").as_array().size(), 1u);
  EXPECT_EQ(started.at("failures").as_array()[0].at("reason").as_string(), "MISSING");

  auto member = ok("RunTask", R"({"cluster":"web","taskDefinition":"static","count":2,
      "placementConstraints":[{"type":"memberOf","expression":"attribute:ecs.instance-type == t2.micro"}]})");
  ASSERT_EQ(member.at("tasks").as_array().size(), 1u);  // one static port 8080 per instance
  EXPECT_EQ(member.at("tasks").as_array()[0].at("containerInstanceArn").as_string(), micro);
  ASSERT_EQ(member.at("failures").as_array().size(), 2u);  // micro: port taken; small: not a member

  // binpack on memory: the micro (less memory left) first.
  auto packed = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet",
      "placementStrategy":[{"type":"binpack","field":"memory"}]})");
  EXPECT_EQ(packed.at("tasks").as_array()[0].at("containerInstanceArn").as_string(), micro);
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"outyet",
      "placementStrategy":[{"type":"binpack","field":"disk"}]})").rfind("InvalidParameterException", 0), 0u);
  // DRAINING instances take no new tasks.
  ok("UpdateContainerInstancesState", R"({"cluster":"web","containerInstances":[")" + micro + R"(",")" + small +
                                          R"("],"status":"DRAINING"})");
  EXPECT_EQ(fails("RunTask", R"({"cluster":"web","taskDefinition":"outyet"})"),
            "InvalidParameterException: No Container Instances were found in your cluster.");
}

struct FakeLauncher : TaskLauncher {
  std::vector<LaunchRequest> launched;
  std::vector<std::pair<std::string, std::string>> stopped;
  void launch(const LaunchRequest& r) override { launched.push_back(r); }
  void stop(const std::string& id, const std::string& reason) override { stopped.emplace_back(id, reason); }
};

TEST_F(TasksTest, RuntimeBoundary) {
  std::string ec2_id = run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  FakeLauncher launcher;
  TaskDispatcher dispatcher(*db_, SystemClock::instance(), options_, &launcher);
  dispatcher.start();
  auto r = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet"})");
  std::string arn(r.at("tasks").as_array()[0].at("taskArn").as_string());
  std::string id = arn.substr(arn.rfind('/') + 1);
  ASSERT_EQ(launcher.launched.size(), 1u);
  const LaunchRequest& req = launcher.launched[0];
  EXPECT_EQ(req.task_id, id);
  EXPECT_EQ(req.ec2_instance_id, ec2_id);
  EXPECT_EQ(req.launch_type, "EC2");
  EXPECT_FALSE(req.public_ip.empty());
  EXPECT_FALSE(req.private_ip.empty());
  EXPECT_EQ(req.security_group_ids.size(), 1u);
  EXPECT_EQ(req.task_definition.at("family").as_string(), "outyet");
  EXPECT_EQ(req.overrides.at("containerOverrides").as_array().size(), 1u);
  ASSERT_OK(dispatcher.dispatch_all());
  EXPECT_EQ(launcher.launched.size(), 1u);  // launched once

  TaskReport running{id, "RUNNING", "", "", "HEALTHY",
                     {{"outyet", "runc-abc", "RUNNING", std::nullopt, "", "HEALTHY", {{"0.0.0.0", 8080, 49153, "tcp"}}}}};
  now_ += std::chrono::seconds(1);
  ASSERT_OK(apply_task_status(*db_, running, now_));
  auto d = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})").at("tasks").as_array()[0];
  EXPECT_EQ(d.at("lastStatus").as_string(), "RUNNING");
  EXPECT_EQ(d.at("connectivity").as_string(), "CONNECTED");
  EXPECT_TRUE(d.as_object().contains("startedAt"));
  const auto& c = d.at("containers").as_array()[0];
  EXPECT_EQ(c.at("runtimeId").as_string(), "runc-abc");
  EXPECT_EQ(c.at("networkBindings").as_array()[0].at("hostPort").as_int64(), 49153);
  EXPECT_EQ(remaining("PORTS"), 6);  // the dynamic port is held
  EXPECT_EQ(ok("DescribeClusters", R"({"clusters":["web"]})").at("clusters").as_array()[0].at("runningTasksCount").as_int64(), 1);

  // Statuses move forward only.
  TaskReport pending{id, "PENDING", "", "", "UNKNOWN", {}};
  ASSERT_OK(apply_task_status(*db_, pending, now_));
  EXPECT_EQ(ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})")
                .at("tasks").as_array()[0].at("lastStatus").as_string(),
            "RUNNING");

  auto s = ok("StopTask", R"({"cluster":"web","task":")" + arn + R"(","reason":"rollout"})");
  EXPECT_EQ(s.at("task").at("lastStatus").as_string(), "RUNNING");  // the runtime has it
  ASSERT_EQ(launcher.stopped.size(), 1u);
  EXPECT_EQ(launcher.stopped[0], std::make_pair(id, std::string("rollout")));
  TaskReport done{id, "STOPPED", "EssentialContainerExited", "Essential container in task exited", "UNKNOWN",
                  {{"outyet", "runc-abc", "STOPPED", 143, "", "UNKNOWN", {}}}};
  ASSERT_OK(apply_task_status(*db_, done, now_));
  d = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn + R"("]})").at("tasks").as_array()[0];
  EXPECT_EQ(d.at("lastStatus").as_string(), "STOPPED");
  EXPECT_EQ(d.at("stopCode").as_string(), "UserInitiated");  // ECS's request wins
  EXPECT_EQ(d.at("stoppedReason").as_string(), "rollout");
  EXPECT_EQ(d.at("containers").as_array()[0].at("exitCode").as_int64(), 143);
  EXPECT_EQ(remaining("PORTS"), 5);

  // A task the runtime ends by itself.
  auto r2 = ok("RunTask", R"({"cluster":"web","taskDefinition":"outyet"})");
  std::string arn2(r2.at("tasks").as_array()[0].at("taskArn").as_string());
  TaskReport crashed{arn2.substr(arn2.rfind('/') + 1), "STOPPED", "EssentialContainerExited",
                     "Essential container in task exited", "UNKNOWN",
                     {{"outyet", "runc-def", "STOPPED", 137, "OutOfMemoryError: Container killed due to memory usage",
                       "UNKNOWN", {}}}};
  ASSERT_OK(apply_task_status(*db_, crashed, now_));
  d = ok("DescribeTasks", R"({"cluster":"web","tasks":[")" + arn2 + R"("]})").at("tasks").as_array()[0];
  EXPECT_EQ(d.at("stopCode").as_string(), "EssentialContainerExited");
  EXPECT_EQ(d.at("desiredStatus").as_string(), "STOPPED");
  EXPECT_EQ(d.at("containers").as_array()[0].at("reason").as_string(),
            "OutOfMemoryError: Container killed due to memory usage");
  EXPECT_EQ(launcher.stopped.size(), 1u);  // nothing to ask: it stopped by itself

  TaskReport unknown;
  unknown.task_id = "feedfeed";
  unknown.last_status = "RUNNING";
  EXPECT_EQ(apply_task_status(*db_, unknown, now_).error().error_class, ErrorClass::kNotFound);
  dispatcher.stop();
}

}  // namespace
}  // namespace berth::ecs::testing
