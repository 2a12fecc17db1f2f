// Container instances: the agent config parser, registration by the
// reconciler from real EC2 instance rows, and the container-instance
// operations.
#include "ecs/container_instances.h"

#include "ecs/ecs_test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::ecs::testing {
namespace {

TEST(AgentConfig, Forms) {
  EXPECT_EQ(parse_agent_config("").cluster, "default");
  EXPECT_EQ(parse_agent_config("ECS_CLUSTER=web\n").cluster, "web");
  EXPECT_EQ(parse_agent_config("#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config").cluster, "web");
  EXPECT_EQ(parse_agent_config("#!/bin/bash\necho \"ECS_CLUSTER=web\" >> /etc/ecs/ecs.config;").cluster, "web");
  EXPECT_EQ(parse_agent_config("#!/bin/bash\necho ECS_CLUSTER=web>>/etc/ecs/ecs.config").cluster, "web");
  EXPECT_EQ(parse_agent_config("# ECS_CLUSTER=commented\nECS_CLUSTER=a\nECS_CLUSTER=b\n").cluster, "b");
  EXPECT_EQ(parse_agent_config("MY_ECS_CLUSTER=x\n").cluster, "default");
  EXPECT_EQ(parse_agent_config("ECS_CLUSTER=web\r\nECS_RESERVED_MEMORY=256\r\n").reserved_memory_mib, 256);
  EXPECT_EQ(parse_agent_config("ECS_CLUSTER=web\r\n").cluster, "web");
}

TEST(AgentConfig, MemTotal) {
  EXPECT_EQ(mem_total_mib("t2.micro"), 993);
  EXPECT_EQ(mem_total_mib("t2.small"), 2001);
  EXPECT_GT(mem_total_mib("t3.small"), 1900);
  EXPECT_LT(mem_total_mib("t3.small"), 2000);
  EXPECT_EQ(mem_total_mib("x9.huge"), 0);
  EXPECT_TRUE(is_ecs_optimized_image("ami-0c9a0d5a8b4e7f312"));
  EXPECT_FALSE(is_ecs_optimized_image("ami-05c13eab67c5d8861"));
}

using ContainerInstancesTest = EcsTest;

const boost::json::object& resource(const boost::json::value& instance, std::string_view list, std::string_view name) {
  for (const auto& r : instance.at(list).as_array()) {
    if (r.at("name").as_string() == name) return r.as_object();
  }
  static boost::json::object none;
  ADD_FAILURE() << "no resource " << name;
  return none;
}

TEST_F(ContainerInstancesTest, RegistersRunningEcsInstancesOfExistingClusters) {
  ok("CreateCluster", R"({"clusterName":"web"})");
  std::string id = run_instance("t2.micro", "#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n");
  run_instance("t2.micro", "ECS_CLUSTER=web", "ami-05c13eab67c5d8861");  // no agent on plain AL2
  std::string later = run_instance("t2.small", "ECS_CLUSTER=later");     // its cluster does not exist yet
  settle(std::chrono::milliseconds(100));                                 // still pending
  EXPECT_TRUE(ok("ListContainerInstances", R"({"cluster":"web"})").at("containerInstanceArns").as_array().empty());
  settle();
  settle();  // idempotent
  auto list = ok("ListContainerInstances", R"({"cluster":"web"})");
  ASSERT_EQ(list.at("containerInstanceArns").as_array().size(), 1u);
  std::string arn(list.at("containerInstanceArns").as_array()[0].as_string());
  EXPECT_EQ(arn.rfind("arn:aws:ecs:us-east-1:123456789012:container-instance/web/", 0), 0u);
  auto d = ok("DescribeContainerInstances", R"({"cluster":"web","containerInstances":[")" + arn + R"("]})");
  const auto& ci = d.at("containerInstances").as_array()[0];
  EXPECT_EQ(ci.at("ec2InstanceId").as_string(), id);
  EXPECT_EQ(ci.at("status").as_string(), "ACTIVE");
  EXPECT_TRUE(ci.at("agentConnected").as_bool());
  EXPECT_EQ(resource(ci, "registeredResources", "CPU").at("integerValue").as_int64(), 1024);
  EXPECT_EQ(resource(ci, "registeredResources", "MEMORY").at("integerValue").as_int64(), 993);
  EXPECT_EQ(resource(ci, "registeredResources", "PORTS").at("stringSetValue").as_array().size(), 5u);
  EXPECT_EQ(resource(ci, "remainingResources", "MEMORY").at("integerValue").as_int64(), 993);
  bool type_seen = false;
  for (const auto& a : ci.at("attributes").as_array()) {
    if (a.at("name").as_string() == "ecs.instance-type") type_seen = a.at("value").as_string() == "t2.micro";
  }
  EXPECT_TRUE(type_seen);
  EXPECT_EQ(ok("DescribeClusters", R"({"clusters":["web"]})")
                .at("clusters").as_array()[0].at("registeredContainerInstancesCount").as_int64(),
            1);

  // The cluster appears: the waiting instance registers.
  ok("CreateCluster", R"({"clusterName":"later"})");
  settle();
  auto l = ok("ListContainerInstances", R"({"cluster":"later"})");
  ASSERT_EQ(l.at("containerInstanceArns").as_array().size(), 1u);
  auto ld = ok("DescribeContainerInstances", R"({"cluster":"later","containerInstances":[")" +
                                                 std::string(l.at("containerInstanceArns").as_array()[0].as_string()) +
                                                 R"("]})");
  EXPECT_EQ(ld.at("containerInstances").as_array()[0].at("ec2InstanceId").as_string(), later);
}

TEST_F(ContainerInstancesTest, NoEcsClusterLineMeansDefault) {
  ok("CreateCluster");
  run_instance("t3.small", "");
  settle();
  auto l = ok("ListContainerInstances");
  ASSERT_EQ(l.at("containerInstanceArns").as_array().size(), 1u);
  auto d = ok("DescribeContainerInstances", R"({"containerInstances":[")" +
                                                std::string(l.at("containerInstanceArns").as_array()[0].as_string()) +
                                                R"(", "0123456789abcdef0123456789abcdef"]})");
  EXPECT_EQ(resource(d.at("containerInstances").as_array()[0], "registeredResources", "CPU").at("integerValue").as_int64(),
            2048);
  ASSERT_EQ(d.at("failures").as_array().size(), 1u);
  EXPECT_EQ(d.at("failures").as_array()[0].at("reason").as_string(), "MISSING");
}

TEST_F(ContainerInstancesTest, StopStartTerminateAndTeardownOrder) {
  ok("CreateCluster", R"({"clusterName":"web"})");
  std::string id = run_instance("t2.micro", "ECS_CLUSTER=web");
  settle();
  EXPECT_EQ(fails("DeleteCluster", R"({"cluster":"web"})"),
            "ClusterContainsContainerInstancesException: The Cluster cannot be deleted while Container Instances are "
            "active or draining.");
  auto describe = [&] {
    auto l = ok("ListContainerInstances", R"({"cluster":"web","status":"ACTIVE"})");
    if (l.at("containerInstanceArns").as_array().empty()) return boost::json::object();
    return ok("DescribeContainerInstances",
              R"({"cluster":"web","containerInstances":[")" +
                  std::string(l.at("containerInstanceArns").as_array()[0].as_string()) + R"("]})")
        .at("containerInstances").as_array()[0].as_object();
  };
  ASSERT_OK(ec2_call("StopInstances", "InstanceId.1=" + id));
  settle();
  EXPECT_FALSE(describe().at("agentConnected").as_bool());
  ASSERT_OK(ec2_call("StartInstances", "InstanceId.1=" + id));
  settle();
  EXPECT_TRUE(describe().at("agentConnected").as_bool());
  int64_t version = describe().at("version").as_int64();
  EXPECT_GE(version, 3);

  ASSERT_OK(ec2_call("TerminateInstances", "InstanceId.1=" + id));
  settle();
  EXPECT_TRUE(ok("ListContainerInstances", R"({"cluster":"web"})").at("containerInstanceArns").as_array().empty());
  EXPECT_EQ(ok("DeleteCluster", R"({"cluster":"web"})").at("cluster").at("status").as_string(), "INACTIVE");
}

TEST_F(ContainerInstancesTest, DeregisterDrainAndFilter) {
  ok("CreateCluster", R"({"clusterName":"web"})");
  run_instance("t2.micro", "ECS_CLUSTER=web");
  run_instance("t3.small", "ECS_CLUSTER=web");
  settle();
  auto arns = ok("ListContainerInstances", R"({"cluster":"web"})").at("containerInstanceArns").as_array();
  ASSERT_EQ(arns.size(), 2u);
  auto small = ok("ListContainerInstances", R"({"cluster":"web","filter":"attribute:ecs.instance-type == t3.small"})");
  ASSERT_EQ(small.at("containerInstanceArns").as_array().size(), 1u);
  EXPECT_EQ(small.at("containerInstanceArns").as_array()[0], arns[1]);
  EXPECT_EQ(fails("ListContainerInstances", R"({"cluster":"web","filter":"colour == red"})")
                .rfind("InvalidParameterException", 0),
            0u);
  auto page = ok("ListContainerInstances", R"({"cluster":"web","maxResults":1})");
  EXPECT_EQ(page.at("containerInstanceArns").as_array().size(), 1u);
  EXPECT_TRUE(page.contains("nextToken"));

  std::string first(arns[0].as_string());
  auto drained = ok("UpdateContainerInstancesState",
                    R"({"cluster":"web","containerInstances":[")" + first + R"(","nope"],"status":"DRAINING"})");
  EXPECT_EQ(drained.at("containerInstances").as_array()[0].at("status").as_string(), "DRAINING");
  EXPECT_EQ(drained.at("failures").as_array().size(), 1u);
  EXPECT_EQ(ok("ListContainerInstances", R"({"cluster":"web","status":"DRAINING"})")
                .at("containerInstanceArns").as_array().size(),
            1u);
  EXPECT_EQ(fails("UpdateContainerInstancesState",
                  R"({"cluster":"web","containerInstances":[")" + first + R"("],"status":"INACTIVE"})")
                .rfind("InvalidParameterException", 0),
            0u);

  auto gone = ok("DeregisterContainerInstance", R"({"cluster":"web","containerInstance":")" + first + R"("})");
  EXPECT_EQ(gone.at("containerInstance").at("status").as_string(), "INACTIVE");
  settle();  // never registered again
  EXPECT_EQ(ok("ListContainerInstances", R"({"cluster":"web","status":"DRAINING"})")
                .at("containerInstanceArns").as_array().size(),
            0u);
  EXPECT_EQ(ok("ListContainerInstances", R"({"cluster":"web"})").at("containerInstanceArns").as_array().size(), 1u);
}

}  // namespace
}  // namespace berth::ecs::testing
