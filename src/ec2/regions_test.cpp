// Regions, zones, account attributes, the default VPC and its subnets.
#include "ec2/ec2_test_support.h"
#include "ec2/zones.h"
#include "core/testing/expect_ok.h"

namespace berth::ec2::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(Ec2Test, ServiceShape) {
  EXPECT_EQ(service_.signing_name, "ec2");
  EXPECT_EQ(service_.protocol, api::Protocol::kEc2);
  EXPECT_EQ(service_.api_version, "2016-11-15");
  EXPECT_EQ(service_.xmlns, api::kEc2Xmlns);
  for (auto op : {"DescribeRegions", "DescribeAvailabilityZones", "DescribeAccountAttributes", "DescribeVpcs",
                  "DescribeSubnets", "CreateSecurityGroup", "DescribeSecurityGroups", "DeleteSecurityGroup",
                  "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
                  "RevokeSecurityGroupEgress", "DescribeSecurityGroupRules", "CreateKeyPair", "ImportKeyPair",
                  "DescribeKeyPairs", "DeleteKeyPair", "RunInstances", "DescribeInstances", "TerminateInstances",
                  "StopInstances", "StartInstances", "DescribeInstanceTypes", "DescribeImages",
                  "DescribeInstanceAttribute"})
    EXPECT_TRUE(service_.operations.contains(op)) << op;
  EXPECT_TRUE(service_.operations.at("DescribeVpcs").read_only);
  EXPECT_FALSE(service_.operations.at("RunInstances").read_only);
}

TEST_F(Ec2Test, ZoneIds) {
  auto zones = zones_of("us-east-1");
  ASSERT_EQ(zones.size(), 6u);
  EXPECT_EQ(zones[0].name, "us-east-1a");
  EXPECT_EQ(zones[0].id, "use1-az1");
  EXPECT_EQ(zones[5].name, "us-east-1f");
  EXPECT_EQ(zones_of("ap-southeast-2")[1].id, "apse2-az2");
  EXPECT_EQ(zones_of("eu-central-1")[0].id, "euc1-az1");
}

TEST_F(Ec2Test, DescribeRegions) {
  auto xml = ok("DescribeRegions");
  auto names = texts(xml, "regionName");
  EXPECT_GE(names.size(), 17u);
  EXPECT_THAT(xml, HasSubstr("<regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint>"));
  xml = ok("DescribeRegions", "RegionName.1=eu-west-1&RegionName.2=us-east-1");
  EXPECT_THAT(texts(xml, "regionName"), ElementsAre("eu-west-1", "us-east-1"));
  xml = ok("DescribeRegions", "Filter.1.Name=region-name&Filter.1.Value.1=us-*");
  EXPECT_EQ(texts(xml, "regionName").size(), 4u);
  EXPECT_EQ(fails("DescribeRegions", "RegionName.1=mars-1"), "InvalidParameterValue: Invalid region: mars-1");
  EXPECT_THAT(fails("DescribeRegions", "Filter.1.Name=colour&Filter.1.Value.1=x"), HasSubstr("The filter 'colour' is invalid"));
}

TEST_F(Ec2Test, DescribeAvailabilityZones) {
  auto xml = ok("DescribeAvailabilityZones");
  EXPECT_THAT(texts(xml, "zoneName"),
              ElementsAre("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"));
  EXPECT_EQ(text(xml, "zoneId"), "use1-az1");
  EXPECT_EQ(text(xml, "zoneState"), "available");
  xml = ok("DescribeAvailabilityZones", "ZoneName.1=us-east-1c");
  EXPECT_THAT(texts(xml, "zoneId"), ElementsAre("use1-az3"));
  xml = ok("DescribeAvailabilityZones", "Filter.1.Name=zone-id&Filter.1.Value.1=use1-az2");
  EXPECT_THAT(texts(xml, "zoneName"), ElementsAre("us-east-1b"));
  EXPECT_EQ(fails("DescribeAvailabilityZones", "ZoneName.1=us-east-1z"),
            "InvalidParameterValue: Invalid availability zone: [us-east-1z]");
}

TEST_F(Ec2Test, DescribeAccountAttributes) {
  auto xml = ok("DescribeAccountAttributes");
  EXPECT_THAT(texts(xml, "attributeName"), ::testing::Contains("supported-platforms"));
  auto vpc = text(ok("DescribeVpcs"), "vpcId");
  xml = ok("DescribeAccountAttributes", "AttributeName.1=default-vpc");
  EXPECT_THAT(texts(xml, "attributeValue"), ElementsAre(vpc));
  xml = ok("DescribeAccountAttributes", "AttributeName.1=supported-platforms&AttributeName.2=max-instances");
  EXPECT_THAT(texts(xml, "attributeValue"), ElementsAre("VPC", "20"));
  EXPECT_THAT(fails("DescribeAccountAttributes", "AttributeName.1=nope"), HasSubstr("InvalidParameterValue"));
}

TEST_F(Ec2Test, DefaultVpc) {
  auto xml = ok("DescribeVpcs");
  EXPECT_EQ(texts(xml, "vpcId").size(), 1u);
  EXPECT_EQ(text(xml, "cidrBlock"), "172.31.0.0/16");
  EXPECT_EQ(text(xml, "isDefault"), "true");
  EXPECT_EQ(text(xml, "state"), "available");
  EXPECT_EQ(text(xml, "ownerId"), kAccount);
  std::string vpc = text(xml, "vpcId");
  EXPECT_EQ(vpc.size(), 4 + 17u);
  EXPECT_EQ(texts(ok("DescribeVpcs", "VpcId.1=" + vpc), "vpcId").size(), 1u);
  EXPECT_EQ(texts(ok("DescribeVpcs", "Filter.1.Name=is-default&Filter.1.Value.1=true"), "vpcId").size(), 1u);
  EXPECT_EQ(texts(ok("DescribeVpcs", "Filter.1.Name=is-default&Filter.1.Value.1=false"), "vpcId").size(), 0u);
  EXPECT_EQ(fails("DescribeVpcs", "VpcId.1=vpc-00000000000000000"),
            "InvalidVpcID.NotFound: The vpc ID 'vpc-00000000000000000' does not exist");
}

TEST_F(Ec2Test, DefaultSubnets) {
  auto xml = ok("DescribeSubnets");
  EXPECT_THAT(texts(xml, "cidrBlock"), ElementsAre("172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20",
                                                   "172.31.48.0/20", "172.31.64.0/20", "172.31.80.0/20"));
  EXPECT_THAT(texts(xml, "availabilityZoneId"),
              ElementsAre("use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"));
  for (const auto& v : texts(xml, "mapPublicIpOnLaunch")) EXPECT_EQ(v, "true");
  for (const auto& v : texts(xml, "defaultForAz")) EXPECT_EQ(v, "true");
  EXPECT_EQ(text(xml, "availableIpAddressCount"), "4091");
  std::string vpc = text(ok("DescribeVpcs"), "vpcId");
  std::string subnet_b = texts(xml, "subnetId")[1];

  EXPECT_EQ(texts(ok("DescribeSubnets", "Filter.1.Name=vpc-id&Filter.1.Value.1=" + vpc), "subnetId").size(), 6u);
  EXPECT_THAT(texts(ok("DescribeSubnets", "Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1b"), "subnetId"),
              ElementsAre(subnet_b));
  EXPECT_THAT(texts(ok("DescribeSubnets", "Filter.1.Name=default-for-az&Filter.1.Value.1=true&"
                                          "Filter.2.Name=availability-zone&Filter.2.Value.1=us-east-1b&"
                                          "Filter.2.Value.2=us-east-1c"),
                    "availabilityZone"),
              ElementsAre("us-east-1b", "us-east-1c"));
  EXPECT_THAT(texts(ok("DescribeSubnets", "Filter.1.Name=subnet-id&Filter.1.Value.1=" + subnet_b), "subnetId"),
              ElementsAre(subnet_b));
  EXPECT_EQ(texts(ok("DescribeSubnets", "Filter.1.Name=is-default&Filter.1.Value.1=false"), "subnetId").size(), 0u);
  EXPECT_EQ(texts(ok("DescribeSubnets", "SubnetId.1=" + subnet_b), "subnetId").size(), 1u);
  EXPECT_EQ(texts(ok("DescribeSubnets", "Filter.1.Name=tag:Name&Filter.1.Value.1=x"), "subnetId").size(), 0u);
  EXPECT_EQ(fails("DescribeSubnets", "SubnetId.1=subnet-1"), "InvalidSubnetID.NotFound: The subnet ID 'subnet-1' does not exist");
}

TEST_F(Ec2Test, SubnetPagination) {
  auto first = ok("DescribeSubnets", "MaxResults=5");
  EXPECT_EQ(texts(first, "subnetId").size(), 5u);
  std::string token = text(first, "nextToken");
  ASSERT_FALSE(token.empty());
  auto second = ok("DescribeSubnets", "MaxResults=5&NextToken=" + form_escape(token));
  EXPECT_EQ(texts(second, "subnetId").size(), 1u);
  EXPECT_EQ(text(second, "nextToken"), "");
  EXPECT_THAT(fails("DescribeSubnets", "MaxResults=4"), HasSubstr("InvalidParameterValue"));
  EXPECT_THAT(fails("DescribeSubnets", "NextToken=garbage"), HasSubstr("InvalidPaginationToken"));
}

TEST_F(Ec2Test, SeedingIsIdempotent) {
  std::string vpc = text(ok("DescribeVpcs"), "vpcId");
  std::string group = text(ok("DescribeSecurityGroups"), "groupId");
  ASSERT_OK(prepare_ec2_store(*db_, options_));
  auto again = make_ec2_service(*db_, options_);
  ASSERT_OK(again);
  EXPECT_THAT(texts(ok("DescribeVpcs"), "vpcId"), ElementsAre(vpc));
  EXPECT_EQ(texts(ok("DescribeSubnets"), "subnetId").size(), 6u);
  EXPECT_THAT(texts(ok("DescribeSecurityGroups"), "groupName"), ElementsAre("default"));
  EXPECT_EQ(text(ok("DescribeSecurityGroups"), "groupId"), group);
}

TEST_F(Ec2Test, DryRun) {
  auto r = call("CreateSecurityGroup", "GroupName=a&GroupDescription=b&DryRun=true");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "DryRunOperation");
  EXPECT_EQ(r.error().http_status, 412);
  EXPECT_EQ(texts(ok("DescribeSecurityGroups"), "groupName").size(), 1u);
}

}  // namespace
}  // namespace berth::ec2::testing
