// Security groups and rules through the API, the DependencyViolation hook,
// and the republished SecurityGroupTable.
#include "ec2/attachments.h"
#include "ec2/ec2_test_support.h"
#include "ec2/sg_publisher.h"

namespace berth::ec2::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SecurityGroupTest : public Ec2Test {
 protected:
  std::string create(std::string_view name, std::string_view extra = "") {
    auto xml = ok("CreateSecurityGroup", "GroupName=" + std::string(name) + "&GroupDescription=web+servers" +
                                             (extra.empty() ? "" : "&" + std::string(extra)));
    return text(xml, "groupId");
  }
  std::string default_group() {
    return text(ok("DescribeSecurityGroups", "GroupName.1=default"), "groupId");
  }
  std::string vpc() { return text(ok("DescribeVpcs"), "vpcId"); }
};

TEST_F(SecurityGroupTest, CreateAndDescribe) {
  auto xml = ok("CreateSecurityGroup",
                "GroupName=web&GroupDescription=web+servers&TagSpecification.1.ResourceType=security-group&"
                "TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=front");
  std::string id = text(xml, "groupId");
  EXPECT_EQ(id.size(), 3 + 17u);
  EXPECT_EQ(id.rfind("sg-", 0), 0u);
  EXPECT_EQ(text(xml, "securityGroupArn"), "arn:aws:ec2:us-east-1:123456789012:security-group/" + id);
  EXPECT_EQ(text(xml, "value"), "front");

  xml = ok("DescribeSecurityGroups", "GroupId.1=" + id);
  EXPECT_EQ(text(xml, "groupName"), "web");
  EXPECT_EQ(text(xml, "groupDescription"), "web servers");
  EXPECT_EQ(text(xml, "vpcId"), vpc());
  EXPECT_EQ(text(xml, "ownerId"), kAccount);
  // No inbound rule; the default outbound rule: all traffic to 0.0.0.0/0.
  EXPECT_THAT(xml, HasSubstr("<ipPermissions></ipPermissions>"));
  EXPECT_THAT(xml, HasSubstr("<ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups></groups>"
                             "<ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges>"));
  EXPECT_THAT(texts(ok("DescribeSecurityGroups", "Filter.1.Name=tag:Name&Filter.1.Value.1=front"), "groupId"),
              ElementsAre(id));
}

TEST_F(SecurityGroupTest, DefaultGroup) {
  auto xml = ok("DescribeSecurityGroups", "GroupName.1=default");
  std::string id = text(xml, "groupId");
  EXPECT_EQ(text(xml, "groupDescription"), "default VPC security group");
  // Inbound: all from the group itself.
  EXPECT_THAT(xml, HasSubstr("<ipPermissions><item><ipProtocol>-1</ipProtocol><groups><item><userId>123456789012"
                             "</userId><groupId>" + id + "</groupId></item></groups>"));
  EXPECT_EQ(fails("DeleteSecurityGroup", "GroupId=" + id),
            "CannotDelete: the specified group: \"" + id + "\" name: \"default\" cannot be deleted by a user");
  EXPECT_THAT(fails("DeleteSecurityGroup", "GroupName=default"), HasSubstr("CannotDelete"));
}

TEST_F(SecurityGroupTest, CreateErrors) {
  create("web");
  EXPECT_EQ(fails("CreateSecurityGroup", "GroupName=web&GroupDescription=x"),
            "InvalidGroup.Duplicate: The security group 'web' already exists for VPC '" + vpc() + "'");
  EXPECT_EQ(fails("CreateSecurityGroup", "GroupDescription=x"),
            "MissingParameter: The request must contain the parameter GroupName");
  EXPECT_EQ(fails("CreateSecurityGroup", "GroupName=x"),
            "MissingParameter: The request must contain the parameter GroupDescription");
  EXPECT_THAT(fails("CreateSecurityGroup", "GroupName=sg-1&GroupDescription=x"), HasSubstr("InvalidParameterValue"));
  EXPECT_EQ(fails("CreateSecurityGroup", "GroupName=y&GroupDescription=x&VpcId=vpc-12345678"),
            "InvalidVpcID.NotFound: The vpc ID 'vpc-12345678' does not exist");
  EXPECT_THAT(fails("CreateSecurityGroup", "GroupName=y&GroupDescription=" + std::string(256, 'd')),
              HasSubstr("InvalidParameterValue"));
  EXPECT_THAT(fails("CreateSecurityGroup", "GroupName=y&GroupDescription=x&TagSpecification.1.ResourceType=instance&"
                                           "TagSpecification.1.Tag.1.Key=a"),
              HasSubstr("InvalidParameterValue"));
}

TEST_F(SecurityGroupTest, DescribeErrorsFiltersAndPagination) {
  std::string web = create("web");
  std::string db = create("db");
  EXPECT_EQ(fails("DescribeSecurityGroups", "GroupId.1=sg-0123456789abcdef0"),
            "InvalidGroup.NotFound: The security group 'sg-0123456789abcdef0' does not exist");
  EXPECT_EQ(fails("DescribeSecurityGroups", "GroupName.1=nope"),
            "InvalidGroup.NotFound: The security group 'nope' does not exist in default VPC '" + vpc() + "'");
  EXPECT_EQ(fails("DescribeSecurityGroups", "GroupId.1=bogus"),
            "InvalidGroupId.Malformed: Invalid id: \"bogus\" (expecting \"sg-...\")");
  EXPECT_THAT(texts(ok("DescribeSecurityGroups", "Filter.1.Name=group-name&Filter.1.Value.1=d*"), "groupName"),
              ElementsAre("default", "db"));
  EXPECT_THAT(texts(ok("DescribeSecurityGroups", "Filter.1.Name=group-id&Filter.1.Value.1=" + db), "groupName"),
              ElementsAre("db"));
  EXPECT_EQ(texts(ok("DescribeSecurityGroups", "Filter.1.Name=vpc-id&Filter.1.Value.1=" + vpc()), "groupName").size(), 3u);
  EXPECT_THAT(texts(ok("DescribeSecurityGroups", "Filter.1.Name=description&Filter.1.Value.1=web+servers"), "groupName"),
              ElementsAre("web", "db"));
  ok("AuthorizeSecurityGroupIngress",
     "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&"
     "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0");
  EXPECT_THAT(texts(ok("DescribeSecurityGroups", "Filter.1.Name=ip-permission.from-port&Filter.1.Value.1=443"), "groupName"),
              ElementsAre("web"));
  EXPECT_THAT(texts(ok("DescribeSecurityGroups", "Filter.1.Name=ip-permission.cidr&Filter.1.Value.1=0.0.0.0/0&"
                                                 "Filter.2.Name=ip-permission.protocol&Filter.2.Value.1=tcp"),
                    "groupName"),
              ElementsAre("web"));
  EXPECT_EQ(texts(ok("DescribeSecurityGroups", "Filter.1.Name=egress.ip-permission.cidr&Filter.1.Value.1=0.0.0.0/0"),
                  "groupName").size(), 3u);
  auto page1 = ok("DescribeSecurityGroups", "MaxResults=5");
  EXPECT_EQ(texts(page1, "groupName").size(), 3u);
  EXPECT_EQ(text(page1, "nextToken"), "");
  EXPECT_THAT(fails("DescribeSecurityGroups", "MaxResults=5&GroupId.1=" + web), HasSubstr("InvalidParameterCombination"));
}

TEST_F(SecurityGroupTest, PaginationAcrossPages) {
  for (int i = 0; i < 11; ++i) create("g" + std::to_string(i));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto xml = ok("DescribeSecurityGroups", "MaxResults=5" + (token.empty() ? "" : "&NextToken=" + form_escape(token)));
    for (auto& id : texts(xml, "groupName")) seen.push_back(id);
    token = text(xml, "nextToken");
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 12u);
}

TEST_F(SecurityGroupTest, AuthorizeCliForms) {
  std::string web = create("web");
  std::string lb = create("lb");
  // aws ec2 authorize-security-group-ingress --group-id web --protocol tcp --port 22 --cidr 203.0.113.0/24
  auto xml = ok("AuthorizeSecurityGroupIngress",
                "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&"
                "IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=203.0.113.0%2F24");
  EXPECT_EQ(text(xml, "return"), "true");
  std::string rule = text(xml, "securityGroupRuleId");
  EXPECT_EQ(rule.rfind("sgr-", 0), 0u);
  EXPECT_EQ(rule.size(), 4 + 17u);
  EXPECT_EQ(text(xml, "groupId"), web);
  EXPECT_EQ(text(xml, "isEgress"), "false");
  EXPECT_EQ(text(xml, "ipProtocol"), "tcp");
  EXPECT_EQ(text(xml, "fromPort"), "22");
  EXPECT_EQ(text(xml, "cidrIpv4"), "203.0.113.0/24");
  EXPECT_EQ(text(xml, "groupOwnerId"), kAccount);

  // --protocol tcp --port 80-90 --source-group lb
  xml = ok("AuthorizeSecurityGroupIngress",
           "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&"
           "IpPermissions.1.ToPort=90&IpPermissions.1.Groups.1.GroupId=" + lb);
  EXPECT_THAT(xml, HasSubstr("<referencedGroupInfo><groupId>" + lb + "</groupId><userId>123456789012</userId>"));

  // --group-name web --protocol all --source-group lb (names, as the CLI sends them)
  xml = ok("AuthorizeSecurityGroupIngress",
           "GroupName=web&IpPermissions.1.IpProtocol=-1&IpPermissions.1.Groups.1.GroupName=lb");
  EXPECT_EQ(text(xml, "ipProtocol"), "-1");
  EXPECT_EQ(text(xml, "fromPort"), "-1");

  // --ip-permissions JSON with several peers, IPv6 and descriptions, in one call.
  xml = ok("AuthorizeSecurityGroupIngress",
           "GroupId=" + web + "&IpPermissions.1.IpProtocol=udp&IpPermissions.1.FromPort=53&IpPermissions.1.ToPort=53&"
           "IpPermissions.1.IpRanges.1.CidrIp=10.0.0.1%2F8&IpPermissions.1.IpRanges.1.Description=dns&"
           "IpPermissions.1.Ipv6Ranges.1.CidrIpv6=2001%3Adb8%3A%3A%2F32&"
           "IpPermissions.2.IpProtocol=icmp&IpPermissions.2.FromPort=8&IpPermissions.2.ToPort=-1&"
           "IpPermissions.2.IpRanges.1.CidrIp=0.0.0.0%2F0");
  EXPECT_EQ(texts(xml, "securityGroupRuleId").size(), 3u);
  EXPECT_THAT(texts(xml, "cidrIpv4"), ElementsAre("10.0.0.0/8", "0.0.0.0/0"));  // canonicalised
  EXPECT_THAT(texts(xml, "cidrIpv6"), ElementsAre("2001:db8::/32"));
  EXPECT_THAT(texts(xml, "description"), ElementsAre("dns"));

  // Egress with a group peer.
  xml = ok("AuthorizeSecurityGroupEgress",
           "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=5432&"
           "IpPermissions.1.ToPort=5432&IpPermissions.1.Groups.1.GroupId=" + lb);
  EXPECT_EQ(text(xml, "isEgress"), "true");

  // The legacy top-level form.
  ok("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpProtocol=tcp&FromPort=8080&ToPort=8080&CidrIp=10.1.0.0%2F16");

  xml = ok("DescribeSecurityGroups", "GroupId.1=" + web);
  auto ingress = text(xml, "ipPermissions");
  EXPECT_THAT(texts(ingress, "ipProtocol"), ElementsAre("tcp", "tcp", "-1", "udp", "icmp", "tcp"));
  EXPECT_THAT(ingress, HasSubstr("<ipRanges><item><cidrIp>10.0.0.0/8</cidrIp><description>dns</description></item>"
                                 "</ipRanges><ipv6Ranges><item><cidrIpv6>2001:db8::/32</cidrIpv6></item></ipv6Ranges>"));
  EXPECT_EQ(texts(ok("DescribeSecurityGroupRules", "Filter.1.Name=group-id&Filter.1.Value.1=" + web),
                  "securityGroupRuleId").size(), 9u);  // 7 ingress + default egress + 1 egress
}

TEST_F(SecurityGroupTest, AuthorizeErrors) {
  std::string web = create("web");
  std::string base = "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&"
                     "IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0";
  ok("AuthorizeSecurityGroupIngress", base);
  EXPECT_EQ(fails("AuthorizeSecurityGroupIngress", base),
            "InvalidPermission.Duplicate: the specified rule \"peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, "
            "ALLOW\" already exists");
  std::string other = create("other");
  std::string by_group = "GroupId=" + web + "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.Groups.1.GroupId=" + other;
  ok("AuthorizeSecurityGroupIngress", by_group);
  EXPECT_EQ(fails("AuthorizeSecurityGroupIngress", by_group),
            "InvalidPermission.Duplicate: the specified rule \"peer: " + other + ", ALL, ALLOW\" already exists");
  // A duplicate inside one request adds nothing.
  EXPECT_THAT(fails("AuthorizeSecurityGroupIngress",
                    "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&"
                    "IpPermissions.1.ToPort=1&IpPermissions.1.IpRanges.1.CidrIp=1.1.1.1/32&"
                    "IpPermissions.1.IpRanges.2.CidrIp=1.1.1.1/32"),
              HasSubstr("InvalidPermission.Duplicate"));
  EXPECT_EQ(texts(ok("DescribeSecurityGroupRules", "Filter.1.Name=group-id&Filter.1.Value.1=" + web),
                  "securityGroupRuleId").size(), 3u);
  EXPECT_EQ(fails("AuthorizeSecurityGroupIngress", "GroupId=sg-0000000000000000f&IpPermissions.1.IpProtocol=-1&"
                                                   "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"),
            "InvalidGroup.NotFound: The security group 'sg-0000000000000000f' does not exist");
  EXPECT_EQ(fails("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=-1&"
                                                   "IpPermissions.1.Groups.1.GroupId=sg-0000000000000000f"),
            "InvalidGroup.NotFound: The security group 'sg-0000000000000000f' does not exist");
  EXPECT_EQ(fails("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&"
                                                   "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"),
            "InvalidParameterValue: Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.");
  EXPECT_EQ(fails("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&"
                                                   "IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=70000&"
                                                   "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"),
            "InvalidParameterValue: TCP/UDP (to) port (70000) out of range");
  EXPECT_EQ(fails("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&"
                                                   "IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2&"
                                                   "IpPermissions.1.IpRanges.1.CidrIp=300.0.0.0/8"),
            "InvalidParameterValue: CIDR block 300.0.0.0/8 is malformed");
  EXPECT_THAT(fails("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=all&"
                                                     "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"),
              HasSubstr("Unknown protocol"));
  EXPECT_THAT(fails("AuthorizeSecurityGroupIngress", "GroupId=" + web), HasSubstr("MissingParameter"));
  EXPECT_THAT(fails("AuthorizeSecurityGroupEgress", "GroupName=web&IpPermissions.1.IpProtocol=-1&"
                                                    "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"),
              HasSubstr("MissingParameter"));
}

TEST_F(SecurityGroupTest, RevokeInDefaultVpc) {
  std::string web = create("web");
  std::string rule = "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&"
                     "IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0";
  std::string rule_id = text(ok("AuthorizeSecurityGroupIngress", rule), "securityGroupRuleId");
  auto xml = ok("RevokeSecurityGroupIngress", rule);
  EXPECT_EQ(text(xml, "return"), "true");
  EXPECT_EQ(text(xml, "unknownIpPermissionSet"), "");
  EXPECT_EQ(text(text(xml, "revokedSecurityGroupRuleSet"), "securityGroupRuleId"), rule_id);
  // Again: nothing matches; the default VPC answers success and lists it.
  xml = ok("RevokeSecurityGroupIngress", rule);
  EXPECT_EQ(text(xml, "return"), "true");
  EXPECT_THAT(xml, HasSubstr("<unknownIpPermissionSet><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort>"
                             "<toPort>22</toPort><groups></groups><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp>"));
  // The default egress rule, by its properties.
  ok("RevokeSecurityGroupEgress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=-1&"
                                  "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0");
  EXPECT_EQ(text(ok("DescribeSecurityGroups", "GroupId.1=" + web), "ipPermissionsEgress"), "");
  // By rule id.
  rule_id = text(ok("AuthorizeSecurityGroupIngress", rule), "securityGroupRuleId");
  ok("RevokeSecurityGroupIngress", "GroupId=" + web + "&SecurityGroupRuleId.1=" + rule_id);
  EXPECT_EQ(fails("RevokeSecurityGroupIngress", "GroupId=" + web + "&SecurityGroupRuleId.1=" + rule_id),
            "InvalidSecurityGroupRuleId.NotFound: The security group rule ID '" + rule_id + "' does not exist");
  EXPECT_EQ(texts(ok("DescribeSecurityGroupRules", "Filter.1.Name=group-id&Filter.1.Value.1=" + web),
                  "securityGroupRuleId").size(), 0u);
}

TEST_F(SecurityGroupTest, RevokeUnknownInOtherVpcIsNotFound) {
  ASSERT_TRUE(db_->transaction([](store::Tx& tx) {
                   return tx.run("INSERT INTO ec2_vpcs(vpc_id, cidr, is_default, dhcp_options_id, owner_id) "
                                 "VALUES ('vpc-0aaaaaaaaaaaaaaaa', '10.0.0.0/16', 0, 'dopt-1', '123456789012')");
                 }).ok());
  std::string g = create("private", "VpcId=vpc-0aaaaaaaaaaaaaaaa");
  std::string rule = "GroupId=" + g + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&"
                     "IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0";
  EXPECT_EQ(fails("RevokeSecurityGroupIngress", rule),
            "InvalidPermission.NotFound: The specified rule does not exist in this security group.");
  ok("AuthorizeSecurityGroupIngress", rule);
  ok("RevokeSecurityGroupIngress", rule);
  // Same name in another VPC is not a duplicate.
  create("web");
  create("web", "VpcId=vpc-0aaaaaaaaaaaaaaaa");
}

TEST_F(SecurityGroupTest, DescribeSecurityGroupRules) {
  std::string web = create("web");
  std::string rule = text(ok("AuthorizeSecurityGroupIngress",
                             "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&"
                             "IpPermissions.1.ToPort=80&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&"
                             "TagSpecification.1.ResourceType=security-group-rule&TagSpecification.1.Tag.1.Key=k&"
                             "TagSpecification.1.Tag.1.Value=v"),
                          "securityGroupRuleId");
  auto xml = ok("DescribeSecurityGroupRules", "SecurityGroupRuleId.1=" + rule);
  EXPECT_THAT(texts(xml, "securityGroupRuleId"), ElementsAre(rule));
  EXPECT_EQ(text(xml, "securityGroupRuleArn"), "arn:aws:ec2:us-east-1:123456789012:security-group-rule/" + rule);
  EXPECT_EQ(text(xml, "value"), "v");
  xml = ok("DescribeSecurityGroupRules", "Filter.1.Name=security-group-rule-id&Filter.1.Value.1=" + rule);
  EXPECT_THAT(texts(xml, "securityGroupRuleId"), ElementsAre(rule));
  // Default group (2) + web (2).
  EXPECT_EQ(texts(ok("DescribeSecurityGroupRules"), "securityGroupRuleId").size(), 4u);
  auto page = ok("DescribeSecurityGroupRules", "MaxResults=5");
  EXPECT_EQ(text(page, "nextToken"), "");
  EXPECT_THAT(fails("DescribeSecurityGroupRules", "SecurityGroupRuleId.1=sgr-00000000000000000"),
              HasSubstr("InvalidSecurityGroupRuleId.NotFound"));
}

TEST_F(SecurityGroupTest, DeleteAndDependencies) {
  std::string web = create("web");
  std::string lb = create("lb");
  ok("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&"
                                      "IpPermissions.1.ToPort=80&IpPermissions.1.Groups.1.GroupId=" + lb);
  EXPECT_EQ(fails("DeleteSecurityGroup", "GroupId=" + lb),
            "DependencyViolation: resource " + lb + " has a dependent object");
  // A group's reference to itself does not block its deletion.
  ok("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=-1&"
                                      "IpPermissions.1.Groups.1.GroupId=" + web);
  // Another module's attachment (an ALB) blocks it too.
  ASSERT_TRUE(db_->transaction([&](store::Tx& tx) {
                   std::vector<std::string> groups{web};
                   return attach_security_groups(tx, "arn:aws:elasticloadbalancing:lb/app/x", groups);
                 }).ok());
  EXPECT_EQ(fails("DeleteSecurityGroup", "GroupId=" + web),
            "DependencyViolation: resource " + web + " has a dependent object");
  ASSERT_TRUE(db_->transaction([&](store::Tx& tx) {
                   return detach_security_groups(tx, "arn:aws:elasticloadbalancing:lb/app/x");
                 }).ok());
  auto xml = ok("DeleteSecurityGroup", "GroupId=" + web);
  EXPECT_EQ(text(xml, "return"), "true");
  EXPECT_EQ(text(xml, "groupId"), web);
  ok("DeleteSecurityGroup", "GroupName=lb");
  EXPECT_EQ(fails("DeleteSecurityGroup", "GroupId=" + web),
            "InvalidGroup.NotFound: The security group '" + web + "' does not exist");
  EXPECT_EQ(fails("DeleteSecurityGroup", "GroupName=web"),
            "InvalidGroup.NotFound: The security group 'web' does not exist in default VPC '" + vpc() + "'");
  EXPECT_THAT(fails("DeleteSecurityGroup", ""), HasSubstr("MissingParameter"));
  EXPECT_THAT(texts(ok("DescribeSecurityGroups"), "groupName"), ElementsAre("default"));
}

TEST_F(SecurityGroupTest, PublisherRepublishesOnEveryChange) {
  auto publisher = SecurityGroupPublisher::start(*db_);
  ASSERT_TRUE(publisher.ok()) << publisher.error().message;
  auto& pub = **publisher;
  EXPECT_EQ(pub.current()->group_count(), 1u);
  uint64_t generation = pub.generation();

  std::string web = create("web");
  EXPECT_GT(pub.generation(), generation);
  auto before = pub.current();
  ASSERT_EQ(before->group_count(), 2u);
  GroupId web_id = *GroupId::parse(web);
  Connection c;
  c.source = *IpAddress::parse("198.51.100.7");
  c.destination = *IpAddress::parse("172.31.0.4");
  std::vector<GroupId> dest{web_id};
  c.destination_groups = dest;
  c.port = 8080;
  EXPECT_FALSE(connection_allowed(c, *before));

  std::string rule = "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=8080&"
                     "IpPermissions.1.ToPort=8080&IpPermissions.1.IpRanges.1.CidrIp=198.51.100.0/24";
  ok("AuthorizeSecurityGroupIngress", rule);
  EXPECT_TRUE(connection_allowed(c, *pub.current()));
  EXPECT_FALSE(connection_allowed(c, *before));  // a reader's old snapshot is immutable
  c.port = 8081;
  EXPECT_FALSE(connection_allowed(c, *pub.current()));
  c.port = 8080;

  // A group peer: allowed from an ENI carrying lb, not from the internet.
  std::string lb = create("lb");
  ok("AuthorizeSecurityGroupIngress", "GroupId=" + web + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&"
                                      "IpPermissions.1.ToPort=80&IpPermissions.1.Groups.1.GroupId=" + lb);
  Connection from_lb = c;
  from_lb.port = 80;
  std::vector<GroupId> src{*GroupId::parse(lb)};
  from_lb.source_groups = src;
  EXPECT_TRUE(flow_allowed(from_lb, *pub.current()));
  from_lb.source_groups = {};
  EXPECT_FALSE(connection_allowed(from_lb, *pub.current()));

  ok("RevokeSecurityGroupIngress", rule);
  EXPECT_FALSE(connection_allowed(c, *pub.current()));
  // An unrelated write does not rebuild.
  uint64_t g = pub.generation();
  ok("CreateKeyPair", "KeyName=unrelated&KeyType=ed25519");
  EXPECT_EQ(pub.generation(), g);
  // Destroying the publisher unsubscribes.
  publisher->reset();
  create("after");
}

}  // namespace
}  // namespace berth::ec2::testing
