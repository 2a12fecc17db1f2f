// Policy documents and the decision for one action on one resource, and
// the inline role policies that feed Iam::role_allows.
#include <gtest/gtest.h>

#include "iam/iam.h"
#include "iam/policy_evaluation.h"
#include "core/testing/expect_ok.h"

namespace berth::iam {
namespace {

constexpr std::string_view kParam = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password";
constexpr std::string_view kSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

struct Row {
  const char* name;
  const char* document;
  const char* action;
  const char* resource;
  Decision expected;
};

TEST(PolicyEvaluation, TableOfDecisions) {
  const Row rows[] = {
      {"exact action and resource", R"({"Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password"}})",
       "ssm:GetParameters", kParam.data(), Decision::kAllow},
      {"action ignores case", R"({"Statement":{"Effect":"Allow","Action":"SSM:getparameters","Resource":"*"}})",
       "ssm:GetParameters", kParam.data(), Decision::kAllow},
      {"action wildcard", R"({"Statement":[{"Effect":"Allow","Action":["ssm:Get*"],"Resource":"*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kAllow},
      {"other action", R"({"Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kImplicitDeny},
      {"action list", R"({"Statement":[{"Effect":"Allow","Action":["kms:Decrypt","secretsmanager:GetSecretValue"],"Resource":"*"}]})",
       "secretsmanager:GetSecretValue", kSecret.data(), Decision::kAllow},
      {"resource star in the path", R"({"Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"arn:aws:ssm:*:*:parameter/prod/*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kAllow},
      {"resource of another path", R"({"Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"arn:aws:ssm:*:*:parameter/dev/*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kImplicitDeny},
      {"resource is case-sensitive", R"({"Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"arn:aws:ssm:*:*:parameter/PROD/*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kImplicitDeny},
      {"question mark is one character", R"({"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"}]})",
       "secretsmanager:GetSecretValue", kSecret.data(), Decision::kAllow},
      {"question mark is not two", R"({"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-?????"}]})",
       "secretsmanager:GetSecretValue", kSecret.data(), Decision::kImplicitDeny},
      {"deny wins over allow", R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:*:parameter/prod/*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kExplicitDeny},
      {"deny elsewhere leaves the allow", R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:*:parameter/dev/*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kAllow},
      {"not action", R"({"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kAllow},
      {"not action excludes", R"({"Statement":[{"Effect":"Allow","NotAction":["ssm:*"],"Resource":"*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kImplicitDeny},
      {"not resource", R"({"Statement":[{"Effect":"Allow","Action":"ssm:*","NotResource":"arn:aws:ssm:*:*:parameter/dev/*"}]})",
       "ssm:GetParameters", kParam.data(), Decision::kAllow},
      {"allow with a condition grants nothing", R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]})",
       "ssm:GetParameters", kParam.data(), Decision::kImplicitDeny},
      {"deny with a condition applies", R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})",
       "ssm:GetParameters", kParam.data(), Decision::kExplicitDeny},
      {"no statements", R"({"Version":"2012-10-17","Statement":[]})", "ssm:GetParameters", kParam.data(),
       Decision::kImplicitDeny},
  };
  for (const auto& row : rows) {
    auto statements = parse_policy_document(row.document);
    ASSERT_TRUE(statements.ok()) << row.name << ": " << statements.error().message;
    EXPECT_EQ(evaluate(*statements, row.action, row.resource), row.expected) << row.name;
  }
}

TEST(PolicyEvaluation, WildcardMatching) {
  EXPECT_TRUE(wildcard_match("*", "", false));
  EXPECT_TRUE(wildcard_match("a*c", "abbbc", false));
  EXPECT_TRUE(wildcard_match("a*b*c", "axxbyyc", false));
  EXPECT_FALSE(wildcard_match("a*b*c", "axxbyy", false));
  EXPECT_TRUE(wildcard_match("a?c", "abc", false));
  EXPECT_FALSE(wildcard_match("a?c", "ac", false));
  EXPECT_FALSE(wildcard_match("abc", "ABC", false));
  EXPECT_TRUE(wildcard_match("abc", "ABC", true));
  EXPECT_TRUE(wildcard_match("**", "x", false));
}

TEST(PolicyEvaluation, MalformedDocuments) {
  const char* bad[] = {
      "not json",
      "[]",
      R"({"Version":"2012-10-17"})",
      R"({"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Resource":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]})",
  };
  for (const char* document : bad) {
    auto r = parse_policy_document(document);
    ASSERT_FALSE(r.ok()) << document;
    EXPECT_EQ(r.error().code, "MalformedPolicyDocument") << document;
    EXPECT_EQ(r.error().http_status, 400) << document;
  }
}

TEST(PolicyEvaluation, TrustPolicies) {
  const std::string_view service = "ecs-tasks.amazonaws.com";
  EXPECT_TRUE(trust_policy_allows_service(
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]})",
      service));
  EXPECT_TRUE(trust_policy_allows_service(
      R"({"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":["sts:AssumeRole"]}})",
      service));
  EXPECT_FALSE(trust_policy_allows_service(
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]})",
      service));
  EXPECT_FALSE(trust_policy_allows_service(
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:TagSession"}]})",
      service));
  EXPECT_FALSE(trust_policy_allows_service(
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},)"
      R"({"Effect":"Deny","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:*"}]})",
      service));
  EXPECT_FALSE(trust_policy_allows_service(R"({"Statement":[]})", service));
  EXPECT_FALSE(trust_policy_allows_service("nope", service));
}

constexpr std::string_view kTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
    R"("Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]})";

struct RolePermissions : ::testing::Test {
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db = std::make_unique<store::Database>(std::move(*d));
    auto i = Iam::open(*db, clock);
    ASSERT_TRUE(i.ok()) << i.error().message;
    iam = std::move(*i);
    RoleSpec spec;
    spec.name = "exec";
    spec.path = "/service/";
    spec.assume_role_policy = std::string(kTrust);
    ASSERT_OK(iam->create_role(spec));
  }
  bool allows(std::string_view action, std::string_view resource, std::string_view role = "exec") {
    auto r = iam->role_allows(role, action, resource);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() && *r;
  }
  ManualClock clock{WallTime(std::chrono::seconds(1'700'000'000))};
  std::unique_ptr<store::Database> db;
  std::unique_ptr<Iam> iam;
};

TEST_F(RolePermissions, ManagedPolicies) {
  const std::string execution = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
  ASSERT_OK(iam->attach_role_policy("exec", execution));
  EXPECT_FALSE(allows("ssm:GetParameters", kParam));
  EXPECT_FALSE(allows("secretsmanager:GetSecretValue", kSecret));

  ASSERT_OK(iam->attach_role_policy("exec", "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"));
  EXPECT_TRUE(allows("ssm:GetParameters", kParam));
  EXPECT_FALSE(allows("ssm:PutParameter", kParam));
  EXPECT_FALSE(allows("secretsmanager:GetSecretValue", kSecret));

  ASSERT_OK(iam->attach_role_policy("exec", "arn:aws:iam::aws:policy/SecretsManagerReadWrite"));
  EXPECT_TRUE(allows("secretsmanager:GetSecretValue", kSecret));
  EXPECT_FALSE(allows("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k"));

  ASSERT_OK(iam->detach_role_policy("exec", "arn:aws:iam::aws:policy/SecretsManagerReadWrite"));
  ASSERT_OK(iam->attach_role_policy("exec", "arn:aws:iam::aws:policy/AdministratorAccess"));
  EXPECT_TRUE(allows("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k"));
  EXPECT_TRUE(allows("secretsmanager:GetSecretValue", kSecret));
}

TEST_F(RolePermissions, ReadOnlyAccessReadsParametersButNotSecretValues) {
  ASSERT_OK(iam->attach_role_policy("exec", "arn:aws:iam::aws:policy/ReadOnlyAccess"));
  EXPECT_TRUE(allows("ssm:GetParameters", kParam));
  EXPECT_FALSE(allows("secretsmanager:GetSecretValue", kSecret));
  EXPECT_TRUE(allows("secretsmanager:DescribeSecret", kSecret));
}

TEST_F(RolePermissions, InlinePoliciesByNameOrArn) {
  EXPECT_FALSE(allows("ssm:GetParameters", kParam));
  ASSERT_TRUE(iam->put_role_policy("exec", "read-prod",
                                   R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":)"
                                   R"(["ssm:GetParameters","secretsmanager:GetSecretValue"],"Resource":)"
                                   R"(["arn:aws:ssm:us-east-1:*:parameter/prod/*","arn:aws:secretsmanager:*:*:secret:prod/*"]}]})")
                  .ok());
  EXPECT_TRUE(allows("ssm:GetParameters", kParam));
  EXPECT_TRUE(allows("secretsmanager:GetSecretValue", kSecret));
  EXPECT_FALSE(allows("ssm:GetParameters", "arn:aws:ssm:us-east-1:123456789012:parameter/dev/x"));
  std::string arn = "arn:aws:iam::" + iam->account_id() + ":role/service/exec";
  EXPECT_TRUE(allows("ssm:GetParameters", kParam, arn));

  // A Deny in another inline policy wins.
  ASSERT_TRUE(iam->put_role_policy("exec", "no-db",
                                   R"({"Statement":{"Effect":"Deny","Action":"ssm:*","Resource":"*db*"}})")
                  .ok());
  EXPECT_FALSE(allows("ssm:GetParameters", kParam));
  ASSERT_OK(iam->delete_role_policy("exec", "no-db"));
  EXPECT_TRUE(allows("ssm:GetParameters", kParam));

  EXPECT_TRUE(*iam->role_trusts_service(arn, "ecs-tasks.amazonaws.com"));
  EXPECT_FALSE(*iam->role_trusts_service("exec", "ec2.amazonaws.com"));
  auto missing = iam->role_allows("ghost", "ssm:GetParameters", kParam);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NoSuchEntity");
}

TEST_F(RolePermissions, InlinePolicyLifecycle) {
  const std::string doc = R"({"Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*"}})";
  ASSERT_OK(iam->put_role_policy("exec", "b", doc));
  ASSERT_OK(iam->put_role_policy("exec", "a", doc));
  ASSERT_OK(iam->put_role_policy("exec", "a", doc));  // replaces
  auto page = iam->list_role_policies("exec", "", 1);
  ASSERT_OK(page);
  ASSERT_EQ(page->items, std::vector<std::string>{"a"});
  ASSERT_EQ(page->next_marker, std::optional<std::string>("a"));
  page = iam->list_role_policies("exec", *page->next_marker, 10);
  ASSERT_OK(page);
  EXPECT_EQ(page->items, std::vector<std::string>{"b"});
  EXPECT_FALSE(page->next_marker);

  auto got = iam->get_role_policy("exec", "a");
  ASSERT_OK(got);
  EXPECT_EQ(got->document, doc);

  auto conflict = iam->delete_role("exec");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, "DeleteConflict");
  EXPECT_EQ(conflict.error().message, "Cannot delete entity, must delete policies first.");

  auto bad = iam->put_role_policy("exec", "c", "{nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "MalformedPolicyDocument");
  auto gone = iam->get_role_policy("exec", "zzz");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "NoSuchEntity");
  EXPECT_EQ(gone.error().message, "The role policy with name zzz cannot be found.");
  auto big = iam->put_role_policy("exec", "big", R"({"Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":")" +
                                                     std::string(10300, 'x') + R"("}})");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "LimitExceeded");
  auto slr = iam->put_role_policy("AWSServiceRoleForECS", "x", doc);
  ASSERT_FALSE(slr.ok());
  EXPECT_EQ(slr.error().code, "UnmodifiableEntity");

  ASSERT_OK(iam->delete_role_policy("exec", "a"));
  ASSERT_OK(iam->delete_role_policy("exec", "b"));
  EXPECT_OK(iam->delete_role("exec"));
}

}  // namespace
}  // namespace berth::iam
