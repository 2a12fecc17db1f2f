#include "ecs/ecs_test_support.h"

namespace berth::ecs::testing {
namespace {

using TaskDefinitionsTest = EcsTest;

constexpr const char* kWeb = R"({"family":"web","containerDefinitions":[{"name":"app","image":"outyet","memory":128}],
    "tags":[{"key":"app","value":"outyet"}]})";

TEST_F(TaskDefinitionsTest, RevisionsCountUp) {
  auto r1 = ok("RegisterTaskDefinition", kWeb);
  EXPECT_EQ(r1.at("taskDefinition").at("revision").as_int64(), 1);
  EXPECT_EQ(r1.at("taskDefinition").at("taskDefinitionArn").as_string(),
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1");
  EXPECT_EQ(r1.at("taskDefinition").at("status").as_string(), "ACTIVE");
  EXPECT_EQ(r1.at("taskDefinition").at("registeredBy").as_string(), caller_.arn);
  EXPECT_EQ(r1.at("tags").as_array().size(), 1u);
  auto r2 = ok("RegisterTaskDefinition", kWeb);
  EXPECT_EQ(r2.at("taskDefinition").at("revision").as_int64(), 2);
  // A failed registration does not use up a revision.
  fails("RegisterTaskDefinition", R"({"family":"web","containerDefinitions":[{"name":"app","image":"x"}]})");
  EXPECT_EQ(ok("RegisterTaskDefinition", kWeb).at("taskDefinition").at("revision").as_int64(), 3);
}

TEST_F(TaskDefinitionsTest, DescribeByFamilyRevisionAndArn) {
  ok("RegisterTaskDefinition", kWeb);
  ok("RegisterTaskDefinition", kWeb);
  EXPECT_EQ(ok("DescribeTaskDefinition", R"({"taskDefinition":"web"})").at("taskDefinition").at("revision").as_int64(), 2);
  EXPECT_EQ(ok("DescribeTaskDefinition", R"({"taskDefinition":"web:1"})").at("taskDefinition").at("revision").as_int64(), 1);
  auto byArn = ok("DescribeTaskDefinition",
                  R"({"taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:2","include":["TAGS"]})");
  EXPECT_EQ(byArn.at("tags").as_array().size(), 1u);
  EXPECT_FALSE(ok("DescribeTaskDefinition", R"({"taskDefinition":"web"})").contains("tags"));
  EXPECT_EQ(fails("DescribeTaskDefinition", R"({"taskDefinition":"nope"})"),
            "ClientException: Unable to describe task definition.");
  EXPECT_EQ(fails("DescribeTaskDefinition", R"({"taskDefinition":"web:9"})"),
            "ClientException: Unable to describe task definition.");
}

TEST_F(TaskDefinitionsTest, DeregisterAndDelete) {
  ok("RegisterTaskDefinition", kWeb);
  ok("RegisterTaskDefinition", kWeb);
  now_ += std::chrono::seconds(5);
  auto d = ok("DeregisterTaskDefinition", R"({"taskDefinition":"web:2"})");
  EXPECT_EQ(d.at("taskDefinition").at("status").as_string(), "INACTIVE");
  EXPECT_DOUBLE_EQ(d.at("taskDefinition").at("deregisteredAt").as_double(), 1'800'000'005.0);
  // "web" now means the latest ACTIVE revision.
  EXPECT_EQ(ok("DescribeTaskDefinition", R"({"taskDefinition":"web"})").at("taskDefinition").at("revision").as_int64(), 1);
  EXPECT_EQ(fails("DeregisterTaskDefinition", R"({"taskDefinition":"web"})").rfind("ClientException: ", 0), 0u);
  EXPECT_EQ(fails("DeregisterTaskDefinition", R"({"taskDefinition":"web:7"})").rfind("ClientException: ", 0), 0u);

  auto del = ok("DeleteTaskDefinitions", R"({"taskDefinitions":["web:1","web:2","web:9"]})");
  ASSERT_EQ(del.at("taskDefinitions").as_array().size(), 1u);
  EXPECT_EQ(del.at("taskDefinitions").as_array()[0].at("status").as_string(), "DELETE_IN_PROGRESS");
  ASSERT_EQ(del.at("failures").as_array().size(), 2u);
  EXPECT_EQ(del.at("failures").as_array()[0].at("arn").as_string(),
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1");
  // Revision numbers are never reused.
  EXPECT_EQ(ok("RegisterTaskDefinition", kWeb).at("taskDefinition").at("revision").as_int64(), 3);
}

TEST_F(TaskDefinitionsTest, ListsFilterSortAndPaginate) {
  ok("RegisterTaskDefinition", kWeb);
  ok("RegisterTaskDefinition", kWeb);
  ok("RegisterTaskDefinition", R"({"family":"api","containerDefinitions":[{"name":"a","image":"i","memory":64}]})");
  ok("RegisterTaskDefinition", R"({"family":"old","containerDefinitions":[{"name":"a","image":"i","memory":64}]})");
  ok("DeregisterTaskDefinition", R"({"taskDefinition":"old:1"})");
  auto all = ok("ListTaskDefinitions");
  ASSERT_EQ(all.at("taskDefinitionArns").as_array().size(), 3u);
  EXPECT_EQ(all.at("taskDefinitionArns").as_array()[0].as_string(),
            "arn:aws:ecs:us-east-1:123456789012:task-definition/api:1");
  auto desc = ok("ListTaskDefinitions", R"({"familyPrefix":"web","sort":"DESC"})");
  EXPECT_EQ(desc.at("taskDefinitionArns").as_array()[0].as_string(),
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2");
  // ListTaskDefinitions' familyPrefix is a whole family name.
  EXPECT_TRUE(ok("ListTaskDefinitions", R"({"familyPrefix":"we"})").at("taskDefinitionArns").as_array().empty());
  auto inactive = ok("ListTaskDefinitions", R"({"status":"INACTIVE"})");
  EXPECT_EQ(inactive.at("taskDefinitionArns").as_array().size(), 1u);
  auto p1 = ok("ListTaskDefinitions", R"({"maxResults":2})");
  EXPECT_EQ(p1.at("taskDefinitionArns").as_array().size(), 2u);
  auto p2 = ok("ListTaskDefinitions",
               R"({"maxResults":2,"nextToken":")" + std::string(p1.at("nextToken").as_string()) + R"("})");
  EXPECT_EQ(p2.at("taskDefinitionArns").as_array().size(), 1u);

  auto fam = ok("ListTaskDefinitionFamilies");
  ASSERT_EQ(fam.at("families").as_array().size(), 2u);
  EXPECT_EQ(fam.at("families").as_array()[0].as_string(), "api");
  EXPECT_EQ(ok("ListTaskDefinitionFamilies", R"({"status":"INACTIVE"})").at("families").as_array()[0].as_string(), "old");
  EXPECT_EQ(ok("ListTaskDefinitionFamilies", R"({"status":"ALL"})").at("families").as_array().size(), 3u);
  EXPECT_EQ(ok("ListTaskDefinitionFamilies", R"({"familyPrefix":"w"})").at("families").as_array().size(), 1u);
}

TEST_F(TaskDefinitionsTest, TagsOnTaskDefinitions) {
  ok("RegisterTaskDefinition", kWeb);
  std::string arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
  ok("TagResource", R"({"resourceArn":")" + arn + R"(","tags":[{"key":"x","value":"y"}]})");
  EXPECT_EQ(ok("ListTagsForResource", R"({"resourceArn":")" + arn + R"("})").at("tags").as_array().size(), 2u);
  EXPECT_EQ(fails("ListTagsForResource", R"({"resourceArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:5"})"),
            "ResourceNotFoundException: The specified resource could not be found.");
}

}  // namespace
}  // namespace berth::ecs::testing
