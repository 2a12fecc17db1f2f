#include "export/template.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::cfn {
namespace {

TEST(LogicalIds, PascalCaseOfTheNameAndKindAndASuffixOnACollision) {
  LogicalIds ids;
  EXPECT_EQ(ids.make("outyet-alb", "LoadBalancer"), "OutyetAlbLoadBalancer");
  EXPECT_EQ(ids.make("outyet_alb", "LoadBalancer"), "OutyetAlbLoadBalancer2") << "same letters, a different name";
  EXPECT_EQ(ids.make("/ecs/outyet", "LogGroup"), "EcsOutyetLogGroup");
  EXPECT_EQ(ids.make("a.b:c", "X"), "ABCX");
}

Template sample() {
  Template t;
  t.description = "a \"quoted\" description: with a colon";
  t.parameters["Subnets"] = {{"Type", "List<AWS::EC2::Subnet::Id>"}};
  auto& r = t.resources["Web"];
  r.type = "AWS::ECS::Service";
  r.properties = {{"Cluster", make_ref("Cluster")},
                  {"DesiredCount", 3},
                  {"TargetValue", 100.0},
                  {"Ratio", 0.25},
                  {"Flag", true},
                  {"Arn", get_att("Group", "GroupId")},
                  {"Empty", json::array{}},
                  {"Items", json::array{json::object{{"b", "1"}, {"a", "yes"}}, "plain", json::array{"x"}}},
                  {"Text", "line1\nline2 # not a comment"}};
  r.depends_on = {"Listener"};
  return t;
}

TEST(Writers, JsonIsSortedAndParsesBackToTheDocument) {
  std::string text = write_json(sample());
  auto parsed = json::parse(text);
  EXPECT_EQ(parsed, json::value(to_document(sample())));
  EXPECT_LT(text.find("\"AWSTemplateFormatVersion\""), text.find("\"Resources\""));
  EXPECT_LT(text.find("\"Arn\""), text.find("\"Cluster\"")) << "keys sorted";
  EXPECT_EQ(text, write_json(sample())) << "same template, same bytes";
}

TEST(Writers, YamlQuotesEveryStringAndWritesCollectionsAsBlocks) {
  std::string text = write_yaml(sample());
  EXPECT_NE(text.find("AWSTemplateFormatVersion: \"2010-09-09\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Description: \"a \\\"quoted\\\" description: with a colon\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      DesiredCount: 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      Flag: true\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      TargetValue: 100.0\n"), std::string::npos) << "a float YAML 1.1 reads as one: " << text;
  EXPECT_NE(text.find("      Ratio: 0.25\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      Empty: []\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      Cluster:\n        Ref: \"Cluster\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("        Fn::GetAtt:\n          - \"Group\"\n          - \"GroupId\"\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("        - a: \"yes\"\n          b: \"1\"\n        - \"plain\"\n        -\n          - \"x\"\n"), std::string::npos)
      << "an object in a list starts on the dash's line; \"yes\" stays a string: " << text;
  EXPECT_NE(text.find("\"line1\\nline2 # not a comment\""), std::string::npos) << text;
  EXPECT_NE(text.find("    DependsOn:\n      - \"Listener\"\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace berth::cfn
