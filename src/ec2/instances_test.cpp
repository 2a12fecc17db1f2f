// Instances: launch, describe with filters and pagination, the state
// machine under a manual clock, addresses, groups, errors; the catalogue.
#include "ec2/catalogue.h"
#include "ec2/ec2_test_support.h"
#include "ec2/instances.h"
#include "ec2/key_crypto.h"
#include "core/testing/expect_ok.h"

namespace berth::ec2::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using std::chrono::milliseconds;

constexpr std::string_view kEcsAmi = "ami-0c9a0d5a8b4e7f312";

class InstanceTest : public Ec2Test {
 protected:
  std::string run_one(std::string extra = "") {
    auto xml = ok("RunInstances", "ImageId=" + std::string(kEcsAmi) + "&InstanceType=t2.micro&MinCount=1&MaxCount=1" +
                                      (extra.empty() ? "" : "&" + extra));
    return text(xml, "instanceId");
  }
  std::string state_of(const std::string& id) {
    return text(text(ok("DescribeInstances", "InstanceId.1=" + id), "instanceState"), "name");
  }
};

TEST_F(InstanceTest, RunInstancesAsTheCliSendsIt) {
  ok("CreateKeyPair", "KeyName=ecs&KeyType=ed25519");
  std::string sg = text(ok("CreateSecurityGroup", "GroupName=ecs&GroupDescription=ecs"), "groupId");
  std::string subnet = texts(ok("DescribeSubnets"), "subnetId")[1];
  std::string user_data = base64_encode("#!/bin/bash\necho ECS_CLUSTER=demo >> /etc/ecs/ecs.config\n");
  // aws ec2 run-instances --image-id ... --count 2 --instance-type t2.nano --key-name ecs --user-data ...
  //   --security-group-ids sg --associate-public-ip-address --subnet-id subnet
  auto xml = ok("RunInstances",
                "ImageId=" + std::string(kEcsAmi) + "&InstanceType=t2.nano&KeyName=ecs&UserData=" +
                    form_escape(user_data) +
                    "&MinCount=2&MaxCount=2&NetworkInterface.1.DeviceIndex=0&"
                    "NetworkInterface.1.AssociatePublicIpAddress=true&NetworkInterface.1.SubnetId=" + subnet +
                    "&NetworkInterface.1.SecurityGroupId.1=" + sg +
                    "&ClientToken=tok-1&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&"
                    "TagSpecification.1.Tag.1.Value=ecs-node&TagSpecification.2.ResourceType=volume&"
                    "TagSpecification.2.Tag.1.Key=v&TagSpecification.2.Tag.1.Value=1");
  EXPECT_EQ(text(xml, "reservationId").rfind("r-", 0), 0u);
  EXPECT_EQ(text(xml, "ownerId"), kAccount);
  auto ids = texts(xml, "instanceId");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].rfind("i-", 0), 0u);
  EXPECT_EQ(ids[0].size(), 2 + 17u);
  EXPECT_THAT(texts(xml, "amiLaunchIndex"), ElementsAre("0", "1"));
  EXPECT_EQ(text(text(xml, "instanceState"), "name"), "pending");
  EXPECT_EQ(text(text(xml, "instanceState"), "code"), "0");
  EXPECT_EQ(text(xml, "instanceType"), "t2.nano");
  EXPECT_EQ(text(xml, "keyName"), "ecs");
  EXPECT_EQ(text(xml, "subnetId"), subnet);
  EXPECT_EQ(text(xml, "availabilityZone"), "us-east-1b");
  EXPECT_EQ(text(xml, "launchTime"), "2027-01-15T08:00:00.000Z");
  auto private_ips = texts(xml, "privateIpAddress");
  EXPECT_EQ(private_ips[0], "172.31.16.4");  // first usable address of 172.31.16.0/20
  EXPECT_EQ(text(xml, "privateDnsName"), "ip-172-31-16-4.ec2.internal");
  auto public_ips = texts(xml, "ipAddress");
  EXPECT_THAT(public_ips, ElementsAre("127.100.0.1", "127.100.0.2"));
  EXPECT_EQ(text(xml, "dnsName"), "ec2-127-100-0-1.compute-1.amazonaws.com");
  EXPECT_THAT(xml, HasSubstr("<groupSet><item><groupId>" + sg + "</groupId><groupName>ecs</groupName></item></groupSet>"));
  EXPECT_THAT(texts(xml, "value"), ElementsAre("ecs-node", "ecs-node"));

  // The same ClientToken returns the same reservation instead of launching again.
  auto again = ok("RunInstances", "ImageId=" + std::string(kEcsAmi) + "&MinCount=2&MaxCount=2&ClientToken=tok-1");
  EXPECT_EQ(texts(again, "instanceId"), ids);

  // What ECS reads.
  auto instance = get_instance(*db_, ids[1], now_);
  ASSERT_OK(instance);
  EXPECT_EQ(instance->instance_type, "t2.nano");
  EXPECT_EQ(instance->user_data, user_data);
  EXPECT_EQ(instance->private_ip, "172.31.16.5");
  EXPECT_EQ(instance->public_ip, "127.100.0.2");
  EXPECT_THAT(instance->security_group_ids, ElementsAre(sg));
  EXPECT_EQ(instance->state, InstanceState::kPending);
  auto attr = ok("DescribeInstanceAttribute", "InstanceId=" + ids[0] + "&Attribute=userData");
  EXPECT_EQ(text(text(attr, "userData"), "value"), user_data);
  attr = ok("DescribeInstanceAttribute", "InstanceId=" + ids[0] + "&Attribute=instanceType");
  EXPECT_EQ(text(text(attr, "instanceType"), "value"), "t2.nano");
  EXPECT_THAT(fails("DescribeInstanceAttribute", "InstanceId=" + ids[0] + "&Attribute=colour"),
              HasSubstr("InvalidParameterValue"));
}

TEST_F(InstanceTest, Defaults) {
  auto xml = ok("RunInstances", "ImageId=" + std::string(kEcsAmi) + "&MinCount=1&MaxCount=1");
  std::string default_sg = text(ok("DescribeSecurityGroups", "GroupName.1=default"), "groupId");
  EXPECT_EQ(text(xml, "availabilityZone"), "us-east-1a");
  EXPECT_EQ(text(xml, "privateIpAddress"), "172.31.0.4");
  EXPECT_EQ(text(xml, "ipAddress"), "127.100.0.1");  // default subnets map public IPs
  EXPECT_EQ(text(text(xml, "groupSet"), "groupId"), default_sg);
  EXPECT_EQ(text(xml, "keyName"), "");
  std::string id = text(xml, "instanceId");
  // Groups by name and a zone.
  ok("CreateSecurityGroup", "GroupName=web&GroupDescription=w");
  xml = ok("RunInstances", "ImageId=" + std::string(kEcsAmi) +
                               "&MinCount=1&MaxCount=1&SecurityGroup.1=web&Placement.AvailabilityZone=us-east-1c&"
                               "PrivateIpAddress=172.31.32.99");
  EXPECT_EQ(text(text(xml, "groupSet"), "groupName"), "web");
  EXPECT_EQ(text(xml, "availabilityZone"), "us-east-1c");
  EXPECT_EQ(text(xml, "privateIpAddress"), "172.31.32.99");
  EXPECT_THAT(fails("RunInstances", "ImageId=" + std::string(kEcsAmi) +
                                        "&MinCount=1&MaxCount=1&SubnetId=" + texts(ok("DescribeSubnets"), "subnetId")[2] +
                                        "&PrivateIpAddress=172.31.32.99"),
              HasSubstr("InvalidIPAddress.InUse"));
  // The subnet's free count follows allocations.
  EXPECT_EQ(text(ok("DescribeSubnets", "Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1a"),
                 "availableIpAddressCount"),
            "4090");
}

TEST_F(InstanceTest, RunInstancesErrors) {
  std::string base = "ImageId=" + std::string(kEcsAmi) + "&MinCount=1&MaxCount=1";
  EXPECT_EQ(fails("RunInstances", "ImageId=ami-0123456789abcdef0&MinCount=1&MaxCount=1"),
            "InvalidAMIID.NotFound: The image id '[ami-0123456789abcdef0]' does not exist");
  EXPECT_THAT(fails("RunInstances", "ImageId=bogus&MinCount=1&MaxCount=1"), HasSubstr("InvalidAMIID.Malformed"));
  EXPECT_EQ(fails("RunInstances", "MinCount=1&MaxCount=1"), "MissingParameter: The request must contain the parameter ImageId");
  EXPECT_EQ(fails("RunInstances", "ImageId=" + std::string(kEcsAmi) + "&MaxCount=1"),
            "MissingParameter: The request must contain the parameter MinCount");
  EXPECT_EQ(fails("RunInstances", base + "&InstanceType=t9.huge"),
            "InvalidParameterValue: Invalid value 't9.huge' for InstanceType.");
  EXPECT_EQ(fails("RunInstances", base + "&KeyName=nokey"), "InvalidKeyPair.NotFound: The key pair 'nokey' does not exist");
  EXPECT_EQ(fails("RunInstances", base + "&SubnetId=subnet-00000000000000000"),
            "InvalidSubnetID.NotFound: The subnet ID 'subnet-00000000000000000' does not exist");
  EXPECT_EQ(fails("RunInstances", base + "&SecurityGroupId.1=sg-00000000000000000"),
            "InvalidGroup.NotFound: The security group 'sg-00000000000000000' does not exist");
  EXPECT_THAT(fails("RunInstances", base + "&SecurityGroup.1=nope"), HasSubstr("InvalidGroup.NotFound"));
  EXPECT_THAT(fails("RunInstances", base + "&UserData=%21%21"), HasSubstr("Invalid BASE64 encoding of user data."));
  EXPECT_THAT(fails("RunInstances", "ImageId=" + std::string(kEcsAmi) + "&MinCount=3&MaxCount=2"),
              HasSubstr("InvalidParameterValue"));
  EXPECT_THAT(fails("RunInstances", "ImageId=" + std::string(kEcsAmi) + "&MinCount=21&MaxCount=21"),
              HasSubstr("InstanceLimitExceeded"));
  // Nothing was half-written by the failures.
  EXPECT_EQ(texts(ok("DescribeInstances"), "instanceId").size(), 0u);
  // MaxCount beyond the limit launches what fits.
  auto xml = ok("RunInstances", "ImageId=" + std::string(kEcsAmi) + "&MinCount=1&MaxCount=25");
  EXPECT_EQ(texts(xml, "instanceId").size(), 20u);
}

TEST_F(InstanceTest, StateMachine) {
  std::string id = run_one();
  EXPECT_EQ(state_of(id), "pending");
  advance(milliseconds(999));
  EXPECT_EQ(state_of(id), "pending");
  advance(milliseconds(1));
  EXPECT_EQ(state_of(id), "running");
  EXPECT_EQ(text(text(ok("DescribeInstances", "InstanceId.1=" + id), "instanceState"), "code"), "16");

  auto xml = ok("StopInstances", "InstanceId.1=" + id);
  EXPECT_EQ(text(text(xml, "currentState"), "name"), "stopping");
  EXPECT_EQ(text(text(xml, "previousState"), "name"), "running");
  auto described = ok("DescribeInstances", "InstanceId.1=" + id);
  EXPECT_EQ(text(described, "ipAddress"), "");  // the public IP is released on stop
  EXPECT_EQ(text(described, "reason"), "User initiated (2027-01-15 08:00:01 GMT)");
  EXPECT_EQ(text(text(described, "stateReason"), "code"), "Client.UserInitiatedShutdown");
  advance(milliseconds(1000));
  EXPECT_EQ(state_of(id), "stopped");
  xml = ok("StopInstances", "InstanceId.1=" + id);
  EXPECT_EQ(text(text(xml, "currentState"), "name"), "stopped");

  xml = ok("StartInstances", "InstanceId.1=" + id);
  EXPECT_EQ(text(text(xml, "currentState"), "name"), "pending");
  EXPECT_EQ(text(text(xml, "previousState"), "name"), "stopped");
  EXPECT_EQ(text(text(xml, "currentState"), "code"), "0");
  EXPECT_EQ(text(ok("DescribeInstances", "InstanceId.1=" + id), "ipAddress"), "127.100.0.1");
  advance(milliseconds(1000));
  EXPECT_EQ(state_of(id), "running");

  xml = ok("TerminateInstances", "InstanceId.1=" + id);
  EXPECT_EQ(text(text(xml, "currentState"), "name"), "shutting-down");
  EXPECT_EQ(text(text(xml, "currentState"), "code"), "32");
  EXPECT_THAT(fails("StartInstances", "InstanceId.1=" + id),
              "IncorrectInstanceState: The instance '" + id + "' is not in a state from which it can be started.");
  EXPECT_THAT(fails("StopInstances", "InstanceId.1=" + id), HasSubstr("IncorrectInstanceState"));
  advance(milliseconds(1000));
  EXPECT_EQ(state_of(id), "terminated");
  xml = ok("TerminateInstances", "InstanceId.1=" + id);
  EXPECT_EQ(text(text(xml, "previousState"), "name"), "terminated");
  // Terminated instances stay describable for a while, then disappear.
  advance(std::chrono::minutes(59));
  EXPECT_EQ(state_of(id), "terminated");
  advance(std::chrono::minutes(2));
  EXPECT_EQ(fails("DescribeInstances", "InstanceId.1=" + id),
            "InvalidInstanceID.NotFound: The instance ID '" + id + "' does not exist");
}

TEST_F(InstanceTest, AddressesAreNotReusedWhileHeld) {
  std::string a = run_one();
  std::string b = run_one();
  auto xml = ok("DescribeInstances");
  EXPECT_THAT(texts(xml, "ipAddress"), ElementsAre("127.100.0.1", "127.100.0.2"));
  ok("TerminateInstances", "InstanceId.1=" + a);
  // a's public IP is free again at once; its private IP once it is terminated.
  std::string c = run_one();
  EXPECT_EQ(text(ok("DescribeInstances", "InstanceId.1=" + c), "ipAddress"), "127.100.0.1");
  EXPECT_EQ(text(ok("DescribeInstances", "InstanceId.1=" + c), "privateIpAddress"), "172.31.0.6");
  advance(milliseconds(1000));
  std::string d = run_one();
  EXPECT_EQ(text(ok("DescribeInstances", "InstanceId.1=" + d), "privateIpAddress"), "172.31.0.4");
}

TEST_F(InstanceTest, DescribeFiltersAndPagination) {
  ok("CreateKeyPair", "KeyName=k&KeyType=ed25519");
  std::string web = text(ok("CreateSecurityGroup", "GroupName=web&GroupDescription=w"), "groupId");
  std::string a = run_one("KeyName=k&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&"
                          "TagSpecification.1.Tag.1.Value=alpha");
  std::string b = text(ok("RunInstances", "ImageId=ami-05c13eab67c5d8861&InstanceType=m5.large&MinCount=2&MaxCount=2&"
                                          "SecurityGroupId.1=" + web),
                       "instanceId");
  auto all = ok("DescribeInstances");
  EXPECT_EQ(texts(all, "reservationId").size(), 2u);
  EXPECT_EQ(texts(all, "instanceId").size(), 3u);
  auto ids = texts(all, "instanceId");
  auto filter = [&](std::string name, std::string value) {
    return texts(ok("DescribeInstances", "Filter.1.Name=" + name + "&Filter.1.Value.1=" + value), "instanceId");
  };
  EXPECT_THAT(filter("tag:Name", "alpha"), ElementsAre(a));
  EXPECT_THAT(filter("tag:Name", "al*"), ElementsAre(a));
  EXPECT_EQ(filter("instance-type", "m5.large").size(), 2u);
  EXPECT_THAT(filter("image-id", std::string(kEcsAmi)), ElementsAre(a));
  EXPECT_THAT(filter("key-name", "k"), ElementsAre(a));
  EXPECT_THAT(filter("instance-id", b), ElementsAre(b));
  EXPECT_EQ(filter("vpc-id", text(ok("DescribeVpcs"), "vpcId")).size(), 3u);
  EXPECT_EQ(filter("subnet-id", text(ok("DescribeSubnets"), "subnetId")).size(), 3u);
  EXPECT_EQ(filter("instance.group-id", web).size(), 2u);
  EXPECT_EQ(filter("instance-state-name", "pending").size(), 3u);
  EXPECT_EQ(filter("instance-state-name", "running").size(), 0u);
  advance(milliseconds(1000));
  EXPECT_EQ(filter("instance-state-name", "running").size(), 3u);
  EXPECT_THAT(fails("DescribeInstances", "Filter.1.Name=colour&Filter.1.Value.1=x"), HasSubstr("InvalidParameterValue"));

  auto page = ok("DescribeInstances", "MaxResults=5");
  EXPECT_EQ(text(page, "nextToken"), "");
  for (int i = 0; i < 4; ++i) run_one();
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto xml = ok("DescribeInstances", "MaxResults=5" + (token.empty() ? "" : "&NextToken=" + form_escape(token)));
    for (auto& id : texts(xml, "instanceId")) seen.push_back(id);
    token = text(xml, "nextToken");
    ++pages;
  } while (!token.empty() && pages < 5);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_THAT(fails("DescribeInstances", "MaxResults=5&InstanceId.1=" + a), HasSubstr("InvalidParameterCombination"));

  EXPECT_EQ(fails("DescribeInstances", "InstanceId.1=i-00000000000000000"),
            "InvalidInstanceID.NotFound: The instance ID 'i-00000000000000000' does not exist");
  EXPECT_EQ(fails("DescribeInstances", "InstanceId.1=i-00000000000000000&InstanceId.2=i-00000000000000001"),
            "InvalidInstanceID.NotFound: The instance IDs 'i-00000000000000000, i-00000000000000001' do not exist");
  EXPECT_EQ(fails("DescribeInstances", "InstanceId.1=bogus"), "InvalidInstanceID.Malformed: Invalid id: \"bogus\"");
  EXPECT_EQ(fails("TerminateInstances", "InstanceId.1=i-00000000000000000"),
            "InvalidInstanceID.NotFound: The instance ID 'i-00000000000000000' does not exist");
  EXPECT_THAT(fails("StopInstances", ""), HasSubstr("MissingParameter"));
}

TEST_F(InstanceTest, GroupsOfInstancesCannotBeDeleted) {
  std::string web = text(ok("CreateSecurityGroup", "GroupName=web&GroupDescription=w"), "groupId");
  std::string id = run_one("SecurityGroupId.1=" + web);
  EXPECT_EQ(fails("DeleteSecurityGroup", "GroupId=" + web),
            "DependencyViolation: resource " + web + " has a dependent object");
  ok("TerminateInstances", "InstanceId.1=" + id);
  // Still attached while shutting down (AWS detaches ENIs asynchronously).
  EXPECT_THAT(fails("DeleteSecurityGroup", "GroupId=" + web), HasSubstr("DependencyViolation"));
  advance(milliseconds(1000));
  EXPECT_EQ(state_of(id), "terminated");
  ok("DeleteSecurityGroup", "GroupId=" + web);
  // The terminated instance still describes, with its group's id.
  EXPECT_EQ(text(text(ok("DescribeInstances", "InstanceId.1=" + id), "groupSet"), "groupId"), web);
}

TEST_F(InstanceTest, InstanceTypes) {
  auto xml = ok("DescribeInstanceTypes");
  auto names = texts(xml, "instanceType");
  for (auto t : {"t2.nano", "t2.micro", "t2.small", "t2.medium", "t2.large", "t3.micro", "t3.small", "t3.medium",
                 "t3.large", "m5.large", "m5.xlarge"})
    EXPECT_THAT(names, ::testing::Contains(t));
  xml = ok("DescribeInstanceTypes", "InstanceType.1=t2.micro");
  EXPECT_EQ(text(xml, "defaultVCpus"), "1");
  EXPECT_EQ(text(xml, "sizeInMiB"), "1024");
  EXPECT_EQ(text(xml, "freeTierEligible"), "true");
  xml = ok("DescribeInstanceTypes", "InstanceType.1=m5.xlarge");
  EXPECT_EQ(text(xml, "defaultVCpus"), "4");
  EXPECT_EQ(text(xml, "sizeInMiB"), "16384");
  EXPECT_EQ(texts(ok("DescribeInstanceTypes", "Filter.1.Name=vcpu-info.default-vcpus&Filter.1.Value.1=1"),
                  "instanceType").size(), 3u);
  EXPECT_EQ(fails("DescribeInstanceTypes", "InstanceType.1=t9.huge"),
            "InvalidInstanceType: The following supplied instance types do not exist: [t9.huge]");
  auto page = ok("DescribeInstanceTypes", "MaxResults=5");
  EXPECT_EQ(texts(page, "instanceType").size(), 5u);
  EXPECT_FALSE(text(page, "nextToken").empty());
  ASSERT_NE(find_instance_type("t3.medium"), nullptr);
  EXPECT_EQ(find_instance_type("t3.medium")->vcpus, 2);
}

TEST_F(InstanceTest, Images) {
  auto xml = ok("DescribeImages", "Owner.1=amazon&Filter.1.Name=name&Filter.1.Value.1=amzn2-ami-ecs-hvm-*-x86_64-ebs");
  EXPECT_THAT(texts(xml, "imageId"), ElementsAre(std::string(kEcsAmi)));
  EXPECT_EQ(text(xml, "name"), "amzn2-ami-ecs-hvm-2.0.20231116-x86_64-ebs");
  EXPECT_EQ(text(xml, "imageOwnerAlias"), "amazon");
  EXPECT_EQ(texts(ok("DescribeImages", "Filter.1.Name=owner-alias&Filter.1.Value.1=amazon"), "imageId").size(), 2u);
  EXPECT_EQ(texts(ok("DescribeImages", "Owner.1=self"), "imageId").size(), 0u);
  EXPECT_THAT(texts(ok("DescribeImages", "ImageId.1=ami-05c13eab67c5d8861"), "name"),
              ElementsAre("amzn2-ami-kernel-5.10-hvm-2.0.20231116.0-x86_64-gp2"));
  EXPECT_THAT(texts(ok("DescribeImages", "Filter.1.Name=image-id&Filter.1.Value.1=ami-05c13eab67c5d8861"), "imageId"),
              ElementsAre("ami-05c13eab67c5d8861"));
  EXPECT_EQ(fails("DescribeImages", "ImageId.1=ami-0123456789abcdef0"),
            "InvalidAMIID.NotFound: The image id '[ami-0123456789abcdef0]' does not exist");
}

}  // namespace
}  // namespace berth::ec2::testing
