// The role operations of the IAM service, called as the front door calls
// them: query parameters in, the XML between the envelopes out.
#include <gtest/gtest.h>

#include "iam/services.h"
#include "core/testing/expect_ok.h"

namespace berth::iam {
namespace {

struct RoleService : ::testing::Test {
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db = std::make_unique<store::Database>(std::move(*d));
    auto i = Iam::open(*db, clock);
    ASSERT_TRUE(i.ok()) << i.error().message;
    iam = std::move(*i);
    service = make_iam_service(*iam);
  }
  Result<std::string> call(std::string_view action, std::string_view params = "") {
    std::string text = "Action=" + std::string(action) + "&Version=2010-05-08";
    if (!params.empty()) text += "&" + std::string(params);
    auto q = api::QueryParams::parse(text);
    if (!q) return std::move(q).error();
    api::QueryView view = q->root();
    api::Caller caller{iam->account_id(), "administrator", "AIDAEXAMPLE", "arn:aws:iam::x:user/administrator",
                       "AKIAEXAMPLE"};
    api::CallContext ctx{"req", action, "us-east-1", "localhost", caller, clock.now()};
    api::OperationInput in;
    in.query = &view;
    auto it = service.operations.find(action);
    if (it == service.operations.end()) return Error::internal("no operation " + std::string(action));
    return it->second.run(ctx, in);
  }
  // The ValidationError (or other) message of a failing call.
  std::string error_of(std::string_view action, std::string_view params, std::string_view code) {
    auto r = call(action, params);
    if (r.ok()) return "ok: " + *r;
    EXPECT_EQ(r.error().code, code) << r.error().message;
    return r.error().message;
  }
  ManualClock clock{WallTime(std::chrono::seconds(1'700'000'000))};
  std::unique_ptr<store::Database> db;
  std::unique_ptr<Iam> iam;
  api::Service service;
};

constexpr std::string_view kTrustParam =
    "AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";

TEST_F(RoleService, OperationsAreRegisteredWithTheirShapes) {
  for (const char* op :
       {"CreateRole", "GetRole", "ListRoles", "CreateServiceLinkedRole", "ListAttachedRolePolicies", "ListRolePolicies",
        "CreateInstanceProfile", "GetInstanceProfile", "ListInstanceProfiles", "ListInstanceProfilesForRole"})
    EXPECT_TRUE(service.operations.at(op).has_output) << op;
  for (const char* op : {"DeleteRole", "AttachRolePolicy", "DetachRolePolicy", "DeleteInstanceProfile",
                         "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile"})
    EXPECT_FALSE(service.operations.at(op).has_output) << op;
  EXPECT_TRUE(service.operations.at("GetRole").read_only);
  EXPECT_FALSE(service.operations.at("CreateRole").read_only);
}

TEST_F(RoleService, GetRoleOfTheServiceLinkedRole) {
  auto r = call("GetRole", "RoleName=AWSServiceRoleForECS");
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string arn =
      "arn:aws:iam::" + iam->account_id() + ":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS";
  EXPECT_NE(r->find("<Role><Path>/aws-service-role/ecs.amazonaws.com/</Path><RoleName>AWSServiceRoleForECS</RoleName>"
                    "<RoleId>AROA"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("<Arn>" + arn + "</Arn><CreateDate>2023-11-14T22:13:20.000Z</CreateDate>"), std::string::npos)
      << *r;
  EXPECT_NE(r->find("<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22"
                    "Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ecs.amazonaws.com%22%7D%2C%22"
                    "Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D</AssumeRolePolicyDocument>"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("<Description>Role to enable Amazon ECS to manage your cluster.</Description>"
                    "<MaxSessionDuration>3600</MaxSessionDuration><RoleLastUsed/></Role>"),
            std::string::npos)
      << *r;
}

TEST_F(RoleService, CreateListAndDeleteShapes) {
  auto created = call("CreateRole", "RoleName=web&Path=%2Fapp%2F&Description=d&" + std::string(kTrustParam) +
                                        "&Tags.member.1.Key=team&Tags.member.1.Value=web");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_NE(created->find("<Arn>arn:aws:iam::" + iam->account_id() + ":role/app/web</Arn>"), std::string::npos);
  EXPECT_NE(created->find("<Description>d</Description><Tags><member><Key>team</Key><Value>web</Value></member></Tags>"
                          "</Role>"),
            std::string::npos)
      << *created;
  EXPECT_EQ(created->find("MaxSessionDuration"), std::string::npos);  // CreateRole echoes it only when given
  EXPECT_EQ(created->find("RoleLastUsed"), std::string::npos);
  auto with_max = call("CreateRole", "RoleName=long&MaxSessionDuration=7200&" + std::string(kTrustParam));
  ASSERT_OK(with_max);
  EXPECT_NE(with_max->find("<MaxSessionDuration>7200</MaxSessionDuration>"), std::string::npos);

  auto listed = call("ListRoles", "PathPrefix=%2Fapp%2F");
  ASSERT_OK(listed);
  EXPECT_NE(listed->find("<Roles><member><Path>/app/</Path><RoleName>web</RoleName>"), std::string::npos) << *listed;
  EXPECT_NE(listed->find("<Description>d</Description><MaxSessionDuration>3600</MaxSessionDuration></member></Roles>"
                         "<IsTruncated>false</IsTruncated>"),
            std::string::npos)
      << *listed;
  EXPECT_EQ(listed->find("<Tags>"), std::string::npos);
  auto paged = call("ListRoles", "MaxItems=1");
  ASSERT_OK(paged);
  EXPECT_NE(paged->find("<IsTruncated>true</IsTruncated><Marker>"), std::string::npos) << *paged;

  ASSERT_TRUE(call("AttachRolePolicy",
                   "RoleName=web&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fservice-role%2F"
                   "AmazonECSTaskExecutionRolePolicy")
                  .ok());
  auto attached = call("ListAttachedRolePolicies", "RoleName=web");
  ASSERT_OK(attached);
  EXPECT_EQ(*attached,
            "<AttachedPolicies><member><PolicyName>AmazonECSTaskExecutionRolePolicy</PolicyName><PolicyArn>"
            "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy</PolicyArn></member>"
            "</AttachedPolicies><IsTruncated>false</IsTruncated>");
  EXPECT_EQ(*call("ListRolePolicies", "RoleName=web"), "<PolicyNames/><IsTruncated>false</IsTruncated>");
  EXPECT_EQ(error_of("ListRolePolicies", "RoleName=ghost", "NoSuchEntity"),
            "The role with name ghost cannot be found.");
  EXPECT_EQ(error_of("DeleteRole", "RoleName=web", "DeleteConflict"),
            "Cannot delete entity, must detach all policies first.");
}

TEST_F(RoleService, InlinePolicyShapes) {
  ASSERT_OK(call("CreateRole", "RoleName=exec&" + std::string(kTrustParam)));
  // {"Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*"}}
  const std::string document =
      "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ssm%3AGetParameters%22%2C%22"
      "Resource%22%3A%22%2A%22%7D%7D";
  auto put = call("PutRolePolicy", "RoleName=exec&PolicyName=read&PolicyDocument=" + document);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(*put, "");
  EXPECT_EQ(*call("ListRolePolicies", "RoleName=exec"),
            "<PolicyNames><member>read</member></PolicyNames><IsTruncated>false</IsTruncated>");
  auto got = call("GetRolePolicy", "RoleName=exec&PolicyName=read");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "<RoleName>exec</RoleName><PolicyName>read</PolicyName><PolicyDocument>" + document +
                      "</PolicyDocument>");
  EXPECT_EQ(error_of("PutRolePolicy", "RoleName=exec&PolicyName=bad&PolicyDocument=nope", "MalformedPolicyDocument"),
            "This policy contains invalid Json");
  EXPECT_EQ(error_of("PutRolePolicy", "RoleName=exec&PolicyName=a%20b&PolicyDocument=" + document, "ValidationError"),
            "1 validation error detected: Value 'a b' at 'policyName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [\\w+=,.@-]+");
  EXPECT_EQ(error_of("DeleteRole", "RoleName=exec", "DeleteConflict"), "Cannot delete entity, must delete policies first.");
  EXPECT_EQ(error_of("GetRolePolicy", "RoleName=exec&PolicyName=other", "NoSuchEntity"),
            "The role policy with name other cannot be found.");
  ASSERT_OK(call("DeleteRolePolicy", "RoleName=exec&PolicyName=read"));
  EXPECT_EQ(error_of("DeleteRolePolicy", "RoleName=exec&PolicyName=read", "NoSuchEntity"),
            "The role policy with name read cannot be found.");
  EXPECT_OK(call("DeleteRole", "RoleName=exec"));
}

TEST_F(RoleService, InstanceProfileShapes) {
  ASSERT_OK(call("CreateRole", "RoleName=ecsInstanceRole&Description=x&" + std::string(kTrustParam)));
  auto created = call("CreateInstanceProfile", "InstanceProfileName=ecsInstanceRole");
  ASSERT_OK(created);
  EXPECT_NE(created->find("<InstanceProfile><Path>/</Path><InstanceProfileName>ecsInstanceRole</InstanceProfileName>"
                          "<InstanceProfileId>AIPA"),
            std::string::npos)
      << *created;
  EXPECT_NE(created->find("<Roles></Roles></InstanceProfile>"), std::string::npos) << *created;
  ASSERT_OK(call("AddRoleToInstanceProfile", "InstanceProfileName=ecsInstanceRole&RoleName=ecsInstanceRole"));
  auto got = call("GetInstanceProfile", "InstanceProfileName=ecsInstanceRole");
  ASSERT_OK(got);
  EXPECT_NE(got->find("<Roles><member><Path>/</Path><RoleName>ecsInstanceRole</RoleName>"), std::string::npos) << *got;
  EXPECT_NE(got->find("</AssumeRolePolicyDocument></member></Roles></InstanceProfile>"), std::string::npos) << *got;
  auto for_role = call("ListInstanceProfilesForRole", "RoleName=ecsInstanceRole");
  ASSERT_OK(for_role);
  EXPECT_NE(for_role->find("<InstanceProfiles><member><Path>/</Path>"), std::string::npos) << *for_role;
  EXPECT_EQ(error_of("GetInstanceProfile", "InstanceProfileName=nope", "NoSuchEntity"),
            "Instance Profile nope cannot be found.");
}

TEST_F(RoleService, ValidationErrors) {
  EXPECT_EQ(error_of("CreateRole", "RoleName=r", "ValidationError"),
            "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: "
            "Member must not be null");
  EXPECT_EQ(error_of("CreateRole", std::string(kTrustParam), "ValidationError"),
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be "
            "null");
  EXPECT_EQ(error_of("CreateRole", "RoleName=bad%20name&" + std::string(kTrustParam), "ValidationError"),
            "1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [\\w+=,.@-]+");
  EXPECT_EQ(
      error_of("CreateRole", "RoleName=" + std::string(65, 'x') + "&" + std::string(kTrustParam), "ValidationError"),
      "1 validation error detected: Value '" + std::string(65, 'x') +
          "' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64");
  EXPECT_EQ(error_of("CreateRole", "RoleName=r&MaxSessionDuration=100&" + std::string(kTrustParam), "ValidationError"),
            "1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member "
            "must have value greater than or equal to 3600");
  EXPECT_EQ(
      error_of("CreateRole", "RoleName=r&MaxSessionDuration=43201&" + std::string(kTrustParam), "ValidationError"),
      "1 validation error detected: Value '43201' at 'maxSessionDuration' failed to satisfy constraint: Member "
      "must have value less than or equal to 43200");
  EXPECT_NE(error_of("CreateRole", "RoleName=r&AssumeRolePolicyDocument=", "ValidationError")
                .find("Member must have length greater than or equal to 1"),
            std::string::npos);
  EXPECT_NE(error_of("CreateRole", "RoleName=r&AssumeRolePolicyDocument=%E2%82%AC", "ValidationError")
                .find("regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"),
            std::string::npos);
  EXPECT_NE(error_of("CreateRole", "RoleName=r&Description=%01&" + std::string(kTrustParam), "ValidationError")
                .find("at 'description'"),
            std::string::npos);
  EXPECT_NE(
      error_of("CreateRole", "RoleName=r&Path=nope&" + std::string(kTrustParam), "ValidationError").find("at 'path'"),
      std::string::npos);
  EXPECT_EQ(error_of("CreateRole",
                     "RoleName=r&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=A&Tags.member.2.Value=2&" +
                         std::string(kTrustParam),
                     "InvalidInput"),
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
  EXPECT_NE(
      error_of("CreateRole", "RoleName=r&Tags.member.1.Key=a%21&Tags.member.1.Value=1&" + std::string(kTrustParam),
               "ValidationError")
          .find("at 'tags.1.member.key'"),
      std::string::npos);
  EXPECT_EQ(error_of("CreateRole", "RoleName=r&AssumeRolePolicyDocument=nope", "MalformedPolicyDocument"),
            "This policy contains invalid Json");
  EXPECT_NE(error_of("ListRoles", "PathPrefix=nope", "ValidationError").find("at 'pathPrefix'"), std::string::npos);
  EXPECT_NE(
      error_of("ListAttachedRolePolicies", "RoleName=AWSServiceRoleForECS&PathPrefix=%2Fa%20b%2F", "ValidationError")
          .find("at 'pathPrefix'"),
      std::string::npos);
  EXPECT_EQ(error_of("AttachRolePolicy", "RoleName=r", "ValidationError"),
            "1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be "
            "null");
  EXPECT_NE(error_of("CreateInstanceProfile", "InstanceProfileName=a%2Fb", "ValidationError")
                .find("at 'instanceProfileName'"),
            std::string::npos);
  EXPECT_NE(error_of("CreateServiceLinkedRole", "", "ValidationError").find("Value null at 'aWSServiceName'"),
            std::string::npos);
  // nothing was created by any of them
  EXPECT_EQ(error_of("GetRole", "RoleName=r", "NoSuchEntity"), "The role with name r cannot be found.");
}

TEST_F(RoleService, ServiceLinkedRoleErrors) {
  EXPECT_EQ(error_of("DeleteRole", "RoleName=AWSServiceRoleForECS", "UnmodifiableEntity"),
            "Cannot perform the operation on the protected role 'AWSServiceRoleForECS' - this role is only "
            "modifiable by AWS");
  EXPECT_EQ(error_of("CreateServiceLinkedRole", "AWSServiceName=ecs.amazonaws.com", "InvalidInput"),
            "Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.");
  EXPECT_EQ(
      error_of("CreateRole", "RoleName=x&Path=%2Faws-service-role%2Fx%2F&" + std::string(kTrustParam), "InvalidInput"),
      "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles");
}

}  // namespace
}  // namespace berth::iam
