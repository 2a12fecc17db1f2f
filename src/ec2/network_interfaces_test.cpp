// ENIs made for other modules' resources (ECS awsvpc tasks): addresses,
// groups, DescribeNetworkInterfaces with its filters and errors, release.
#include "ec2/ec2_test_support.h"
#include "ec2/network_interfaces.h"
#include "core/testing/expect_ok.h"

namespace berth::ec2::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class NetworkInterfaceTest : public Ec2Test {
 protected:
  Result<NetworkInterface> create(NetworkInterfaceSpec spec) {
    return db_->transaction([&](store::Tx& tx) { return create_network_interface(tx, spec); });
  }
  void remove(const std::string& id) {
    ASSERT_OK(db_->transaction([&](store::Tx& tx) { return delete_network_interface(tx, id); }));
  }
  std::string subnet(size_t i = 0) { return texts(ok("DescribeSubnets"), "subnetId").at(i); }
};

TEST_F(NetworkInterfaceTest, UnknownFilterIsRefusedWithNoInterfaces) {
  EXPECT_EQ(fails("DescribeNetworkInterfaces", "Filter.1.Name=bogus&Filter.1.Value.1=x"),
            "InvalidParameterValue: The filter 'bogus' is invalid");
  EXPECT_TRUE(texts(ok("DescribeNetworkInterfaces", "Filter.1.Name=subnet-id&Filter.1.Value.1=" + subnet()),
                    "networkInterfaceId")
                  .empty());
}

TEST_F(NetworkInterfaceTest, AddressesGroupsAndDescribe) {
  std::string sg = text(ok("CreateSecurityGroup", "GroupName=web&GroupDescription=web"), "groupId");
  std::string default_sg =
      text(ok("DescribeSecurityGroups", "Filter.1.Name=group-name&Filter.1.Value.1=default"), "groupId");
  auto a = create({subnet(), {sg}, true, std::string(kDefaultPublicIpBlock), "task a", "amazon-ecs"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto b = create({subnet(), {}, false, std::string(kDefaultPublicIpBlock), "task b", "amazon-ecs"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(a->id.rfind("eni-", 0), 0u);
  EXPECT_EQ(a->id.size(), 21u);
  EXPECT_EQ(a->mac_address.size(), 17u);
  EXPECT_EQ(a->mac_address.rfind("0a:", 0), 0u);
  EXPECT_NE(a->private_ip, b->private_ip);
  EXPECT_EQ(a->public_ip.rfind("127.100.", 0), 0u);
  EXPECT_EQ(b->public_ip, "");
  EXPECT_THAT(b->security_group_ids, ElementsAre(default_sg));  // none asked: the VPC's default

  auto xml = ok("DescribeNetworkInterfaces", "NetworkInterfaceId.1=" + a->id);
  EXPECT_TRUE(balanced(xml));
  EXPECT_EQ(text(xml, "privateIpAddress"), a->private_ip);
  EXPECT_EQ(text(xml, "macAddress"), a->mac_address);
  EXPECT_EQ(text(xml, "subnetId"), subnet());
  EXPECT_EQ(text(text(xml, "association"), "publicIp"), a->public_ip);
  EXPECT_EQ(text(text(xml, "groupSet"), "groupName"), "web");
  EXPECT_EQ(text(xml, "status"), "in-use");
  EXPECT_THAT(texts(ok("DescribeNetworkInterfaces"), "networkInterfaceId"), ElementsAre(a->id, b->id));
  EXPECT_THAT(texts(ok("DescribeNetworkInterfaces", "Filter.1.Name=group-id&Filter.1.Value.1=" + default_sg),
                    "networkInterfaceId"),
              ElementsAre(b->id));
  EXPECT_THAT(texts(ok("DescribeNetworkInterfaces", "Filter.1.Name=association.public-ip&Filter.1.Value.1=127.*"),
                    "networkInterfaceId"),
              ElementsAre(a->id));
  EXPECT_EQ(fails("DescribeNetworkInterfaces", "NetworkInterfaceId.1=eni-0123456789abcdef0"),
            "InvalidNetworkInterfaceID.NotFound: The networkInterface ID 'eni-0123456789abcdef0' does not exist");
  EXPECT_THAT(fails("DescribeNetworkInterfaces", "Filter.1.Name=bogus&Filter.1.Value.1=x"), HasSubstr("bogus"));

  // A group an ENI uses cannot be deleted; once the ENI is gone it can.
  EXPECT_THAT(fails("DeleteSecurityGroup", "GroupId=" + sg), HasSubstr("DependencyViolation"));
  remove(a->id);
  ok("DeleteSecurityGroup", "GroupId=" + sg);
  EXPECT_THAT(texts(ok("DescribeNetworkInterfaces"), "networkInterfaceId"), ElementsAre(b->id));
  // Its addresses are free again: the next ENI gets the same private IP.
  auto c = create({subnet(), {}, true, std::string(kDefaultPublicIpBlock), "task c", "amazon-ecs"});
  ASSERT_OK(c);
  EXPECT_EQ(c->private_ip, a->private_ip);
  EXPECT_EQ(c->public_ip, a->public_ip);
}

TEST_F(NetworkInterfaceTest, Errors) {
  auto no_subnet = create({"subnet-0123456789abcdef0", {}, false, std::string(kDefaultPublicIpBlock), "", ""});
  ASSERT_FALSE(no_subnet.ok());
  EXPECT_EQ(no_subnet.error().code, "InvalidSubnetID.NotFound");
  auto no_group = create({subnet(), {"sg-0123456789abcdef0"}, false, std::string(kDefaultPublicIpBlock), "", ""});
  ASSERT_FALSE(no_group.ok());
  EXPECT_EQ(no_group.error().code, "InvalidGroup.NotFound");
  EXPECT_EQ(no_group.error().message, "The security group 'sg-0123456789abcdef0' does not exist");
  // Nothing of a failed create is kept.
  EXPECT_TRUE(texts(ok("DescribeNetworkInterfaces"), "networkInterfaceId").empty());
}

}  // namespace
}  // namespace berth::ec2::testing
