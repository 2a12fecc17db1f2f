#include <boost/json/serialize.hpp>

#include "ecs/ecs_test_support.h"

namespace berth::ecs::testing {
namespace {

using ClustersTest = EcsTest;

TEST_F(ClustersTest, CreateDefaultAndNamed) {
  auto d = ok("CreateCluster");
  EXPECT_EQ(d.at("cluster").at("clusterName").as_string(), "default");
  EXPECT_EQ(d.at("cluster").at("clusterArn").as_string(), "arn:aws:ecs:us-east-1:123456789012:cluster/default");
  EXPECT_EQ(d.at("cluster").at("status").as_string(), "ACTIVE");
  auto c = ok("CreateCluster", R"({"clusterName":"web","tags":[{"key":"team","value":"a"}],
      "settings":[{"name":"containerInsights","value":"enabled"}]})");
  EXPECT_EQ(c.at("cluster").at("registeredContainerInstancesCount").as_int64(), 0);
  EXPECT_EQ(c.at("cluster").at("tags").as_array().size(), 1u);
  EXPECT_EQ(c.at("cluster").at("settings").as_array()[0].at("value").as_string(), "enabled");
  // Idempotent.
  auto again = ok("CreateCluster", R"({"clusterName":"web"})");
  EXPECT_EQ(again.at("cluster").at("clusterArn"), c.at("cluster").at("clusterArn"));
  EXPECT_EQ(fails("CreateCluster", R"({"clusterName":"a/b"})").rfind("InvalidParameterException: ", 0), 0u);
  EXPECT_EQ(fails("CreateCluster", R"({"clusterName":"x","settings":[{"name":"foo","value":"enabled"}]})")
                .rfind("InvalidParameterException: ", 0),
            0u);
}

TEST_F(ClustersTest, DescribeIncludesAndMissing) {
  ok("CreateCluster", R"({"clusterName":"web","tags":[{"key":"k","value":"v"}]})");
  auto d = ok("DescribeClusters", R"({"clusters":["web","arn:aws:ecs:us-east-1:123456789012:cluster/nope"]})");
  ASSERT_EQ(d.at("clusters").as_array().size(), 1u);
  EXPECT_TRUE(d.at("clusters").as_array()[0].at("tags").as_array().empty());
  EXPECT_TRUE(d.at("clusters").as_array()[0].at("settings").as_array().empty());
  ASSERT_EQ(d.at("failures").as_array().size(), 1u);
  EXPECT_EQ(d.at("failures").as_array()[0].at("arn").as_string(), "arn:aws:ecs:us-east-1:123456789012:cluster/nope");
  EXPECT_EQ(d.at("failures").as_array()[0].at("reason").as_string(), "MISSING");
  auto full = ok("DescribeClusters", R"({"clusters":["web"],"include":["TAGS","SETTINGS","STATISTICS"]})");
  const auto& c = full.at("clusters").as_array()[0].as_object();
  EXPECT_EQ(c.at("tags").as_array().size(), 1u);
  EXPECT_EQ(c.at("settings").as_array()[0].at("value").as_string(), "disabled");
  EXPECT_FALSE(c.at("statistics").as_array().empty());
  // No clusters named: "default".
  auto dflt = ok("DescribeClusters");
  EXPECT_EQ(dflt.at("failures").as_array()[0].at("arn").as_string(),
            "arn:aws:ecs:us-east-1:123456789012:cluster/default");
}

TEST_F(ClustersTest, ListPaginates) {
  for (int i = 0; i < 5; ++i) ok("CreateCluster", R"({"clusterName":"c)" + std::to_string(i) + R"("})");
  auto p1 = ok("ListClusters", R"({"maxResults":2})");
  ASSERT_EQ(p1.at("clusterArns").as_array().size(), 2u);
  std::string token(p1.at("nextToken").as_string());
  auto p2 = ok("ListClusters", R"({"maxResults":2,"nextToken":")" + token + R"("})");
  EXPECT_EQ(p2.at("clusterArns").as_array()[0].as_string(), "arn:aws:ecs:us-east-1:123456789012:cluster/c2");
  auto p3 = ok("ListClusters", R"({"maxResults":2,"nextToken":")" + std::string(p2.at("nextToken").as_string()) +
                                   R"("})");
  EXPECT_EQ(p3.at("clusterArns").as_array().size(), 1u);
  EXPECT_FALSE(p3.contains("nextToken"));
  EXPECT_EQ(fails("ListClusters", R"({"nextToken":"garbage"})").rfind("InvalidParameterException", 0), 0u);
  EXPECT_EQ(fails("ListClusters", R"({"maxResults":101})").rfind("InvalidParameterException", 0), 0u);
}

TEST_F(ClustersTest, DeleteMakesInactiveButDescribable) {
  ok("CreateCluster", R"({"clusterName":"web"})");
  auto d = ok("DeleteCluster", R"({"cluster":"web"})");
  EXPECT_EQ(d.at("cluster").at("status").as_string(), "INACTIVE");
  EXPECT_EQ(fails("DeleteCluster", R"({"cluster":"web"})"), "ClusterNotFoundException: Cluster not found.");
  auto desc = ok("DescribeClusters", R"({"clusters":["web"]})");
  EXPECT_EQ(desc.at("clusters").as_array()[0].at("status").as_string(), "INACTIVE");
  EXPECT_TRUE(ok("ListClusters").at("clusterArns").as_array().empty());
  EXPECT_EQ(fails("UpdateCluster", R"({"cluster":"web","settings":[{"name":"containerInsights","value":"enabled"}]})"),
            "ClusterNotFoundException: Cluster not found.");
  // Re-created: ACTIVE again.
  EXPECT_EQ(ok("CreateCluster", R"({"clusterName":"web"})").at("cluster").at("status").as_string(), "ACTIVE");
}

TEST_F(ClustersTest, UpdateAndCapacityProviders) {
  ok("CreateCluster", R"({"clusterName":"web"})");
  auto u = ok("UpdateCluster", R"({"cluster":"web","settings":[{"name":"containerInsights","value":"enabled"}]})");
  EXPECT_EQ(u.at("cluster").at("settings").as_array()[0].at("value").as_string(), "enabled");
  auto p = ok("PutClusterCapacityProviders", R"({"cluster":"web","capacityProviders":["FARGATE","FARGATE_SPOT"],
      "defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1,"base":1}]})");
  EXPECT_EQ(p.at("cluster").at("capacityProviders").as_array().size(), 2u);
  EXPECT_EQ(p.at("cluster").at("defaultCapacityProviderStrategy").as_array()[0].at("base").as_int64(), 1);
  EXPECT_EQ(fails("PutClusterCapacityProviders", R"({"cluster":"web","capacityProviders":["mine"],
      "defaultCapacityProviderStrategy":[]})").rfind("InvalidParameterException: ", 0), 0u);
  EXPECT_EQ(fails("PutClusterCapacityProviders", R"({"cluster":"web","capacityProviders":["FARGATE"],
      "defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE_SPOT","weight":1}]})")
                .rfind("InvalidParameterException: The specified capacity provider strategy cannot contain", 0),
            0u);
  EXPECT_EQ(fails("PutClusterCapacityProviders", R"({"cluster":"nope","capacityProviders":[],
      "defaultCapacityProviderStrategy":[]})"), "ClusterNotFoundException: Cluster not found.");
}

TEST_F(ClustersTest, Tags) {
  ok("CreateCluster", R"({"clusterName":"web"})");
  std::string arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web";
  ok("TagResource", R"({"resourceArn":")" + arn + R"(","tags":[{"key":"a","value":"1"},{"key":"b","value":"2"}]})");
  ok("UntagResource", R"({"resourceArn":")" + arn + R"(","tagKeys":["a"]})");
  auto t = ok("ListTagsForResource", R"({"resourceArn":")" + arn + R"("})");
  ASSERT_EQ(t.at("tags").as_array().size(), 1u);
  EXPECT_EQ(t.at("tags").as_array()[0].at("key").as_string(), "b");
  EXPECT_EQ(fails("ListTagsForResource", R"({"resourceArn":"arn:aws:ecs:us-east-1:123456789012:cluster/x"})"),
            "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(fails("ListTagsForResource", R"({"resourceArn":"nonsense"})").rfind("InvalidParameterException", 0), 0u);
}

}  // namespace
}  // namespace berth::ecs::testing
