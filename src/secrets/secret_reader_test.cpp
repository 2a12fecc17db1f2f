// StoreSecretReader over real stores and a real Iam: values in request
// order, and the ECS stop reasons for each failure.
#include "iam/iam.h"
#include "secrets/store_secret_reader.h"
#include "secrets/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::secrets {
namespace {

constexpr std::string_view kTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
constexpr std::string_view kPrefix =
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ";

struct Reader : testing::StoresFixture {
  void SetUp() override {
    StoresFixture::SetUp();
    auto i = iam::Iam::open(*db, clock);
    ASSERT_OK(i);
    iam = std::move(*i);
    iam::RoleSpec spec;
    spec.name = "exec";
    spec.assume_role_policy = std::string(kTrust);
    ASSERT_OK(iam->create_role(spec));
    role_arn = "arn:aws:iam::" + iam->account_id() + ":role/exec";
    RoleChecks roles;
    roles.allows = [this](std::string_view role, std::string_view action, std::string_view resource) {
      return iam->role_allows(role, action, resource);
    };
    roles.trusted_by_ecs_tasks = [this](std::string_view role) {
      return iam->role_trusts_service(role, "ecs-tasks.amazonaws.com");
    };
    reader = std::make_unique<StoreSecretReader>(*parameters, *secrets, std::move(roles), clock, iam->account_id(),
                                                 "us-east-1");
    PutParameterInput p;
    p.name = "/app/db/password";
    p.value = "pw";
    p.type = "SecureString";
    ASSERT_OK(parameters->put(p, clock.now()));
    p.name = "plain";
    p.value = "flat";
    p.type = "String";
    ASSERT_OK(parameters->put(p, clock.now()));
    CreateSecretInput s;
    s.name = "prod/api";
    s.client_request_token = "11111111-1111-1111-1111-111111111111";
    s.value.string = R"({"user":"u","token":"t0k","port":5432})";
    auto created = secrets->create(s, clock.now());
    ASSERT_OK(created);
    secret_arn = created->arn;
  }
  void allow(std::string_view actions) {
    ASSERT_TRUE(iam->put_role_policy("exec", "read",
                                     std::string(R"({"Statement":{"Effect":"Allow","Action":[)") +
                                         std::string(actions) + R"(],"Resource":"*"}})")
                    .ok());
  }
  std::string failure(std::vector<SecretReader::Request> requests) {
    auto r = reader->read(requests);
    if (r) return "read without failing";
    EXPECT_EQ(r.error().code, "ResourceInitializationError");
    return r.error().message;
  }
  std::unique_ptr<iam::Iam> iam;
  std::unique_ptr<StoreSecretReader> reader;
  std::string role_arn;
  std::string secret_arn;
};

TEST_F(Reader, ValuesInRequestOrder) {
  allow(R"("ssm:GetParameters","secretsmanager:GetSecretValue")");
  auto values = reader->read({{secret_arn + ":token::", role_arn},
                              {"/app/db/password", role_arn},
                              {"arn:aws:ssm:us-east-1:123456789012:parameter/app/db/password", role_arn},
                              {"plain", role_arn},
                              {secret_arn, role_arn},
                              {secret_arn + ":port:AWSCURRENT:", role_arn},
                              {"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api:user::", "exec"}});
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_EQ(*values, (std::vector<std::string>{"t0k", "pw", "pw", "flat", R"({"user":"u","token":"t0k","port":5432})",
                                               "5432", "u"}));
}

TEST_F(Reader, ManagedPolicies) {
  ASSERT_OK(iam->attach_role_policy("exec", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"));
  EXPECT_NE(failure({{"/app/db/password", role_arn}}).find("AccessDeniedException"), std::string::npos);
  ASSERT_OK(iam->attach_role_policy("exec", "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"));
  EXPECT_OK(reader->read({{"/app/db/password", role_arn}}));
  EXPECT_NE(failure({{secret_arn, role_arn}}).find("AccessDeniedException"), std::string::npos);
  ASSERT_OK(iam->attach_role_policy("exec", "arn:aws:iam::aws:policy/SecretsManagerReadWrite"));
  EXPECT_OK(reader->read({{secret_arn, role_arn}}));
}

TEST_F(Reader, StopReasons) {
  std::string ssm_denied = failure({{"/app/db/password", role_arn}});
  EXPECT_EQ(ssm_denied.rfind(std::string(kPrefix) +
                                 "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
                                 "AccessDeniedException: User: arn:aws:sts::" + iam->account_id() +
                                 ":assumed-role/exec/ecs-task-execution is not authorized to perform: "
                                 "ssm:GetParameters on resource: arn:aws:ssm:us-east-1:123456789012:parameter/app/db/"
                                 "password because no identity-based policy allows the ssm:GetParameters action "
                                 "status code: 400, request id: ",
                             0),
            0u)
      << ssm_denied;

  std::string asm_denied = failure({{secret_arn, role_arn}});
  EXPECT_EQ(asm_denied.rfind(std::string(kPrefix) +
                                 "unable to retrieve secret from asm: service call has been retried 1 time(s): failed "
                                 "to fetch secret " + secret_arn +
                                 " from secrets manager: AccessDeniedException: User: arn:aws:sts::" +
                                 iam->account_id() + ":assumed-role/exec/ecs-task-execution is not authorized to "
                                 "perform: secretsmanager:GetSecretValue on resource: " + secret_arn,
                             0),
            0u)
      << asm_denied;

  allow(R"("ssm:GetParameters","secretsmanager:GetSecretValue")");
  EXPECT_EQ(failure({{"/app/db/password", role_arn}, {"/missing/one", role_arn}, {"two", role_arn}}),
            std::string(kPrefix) + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
                                   "invalid parameters: /missing/one,two");
  std::string missing_secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf";
  std::string not_found = failure({{missing_secret, role_arn}});
  EXPECT_EQ(not_found.rfind(std::string(kPrefix) +
                                "unable to retrieve secret from asm: service call has been retried 1 time(s): failed "
                                "to fetch secret " + missing_secret +
                                " from secrets manager: ResourceNotFoundException: Secrets Manager can't find the "
                                "specified secret. status code: 400, request id: ",
                            0),
            0u)
      << not_found;
  EXPECT_EQ(failure({{secret_arn + ":nokey::", role_arn}}),
            std::string(kPrefix) + "unable to retrieve secret from asm: service call has been retried 1 time(s): "
                                   "retrieved secret from Secrets Manager did not contain json key nokey");
  EXPECT_EQ(failure({{secret_arn + ":k:AWSPREVIOUS:", role_arn}}).find("ResourceNotFoundException: Secrets Manager "
                                                                       "can't find the specified secret value for "
                                                                       "staging label: AWSPREVIOUS"),
            failure({{secret_arn + ":k:AWSPREVIOUS:", role_arn}}).find("ResourceNotFoundException"));
  std::string ghost_role = "arn:aws:iam::" + iam->account_id() + ":role/ghost";
  EXPECT_EQ(failure({{"/app/db/password", ghost_role}}),
            std::string(kPrefix) + "ECS was unable to assume the role '" + ghost_role +
                "' that was provided for this task. Please verify that the role being passed has the proper trust "
                "relationship and permissions and that your IAM user has permissions to pass this role.");
  // A role ECS tasks may not assume (its trust policy names EC2) is refused the same way.
  iam::RoleSpec ec2_role;
  ec2_role.name = "ec2-only";
  ec2_role.assume_role_policy =
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  ASSERT_OK(iam->create_role(ec2_role));
  ASSERT_OK(iam->attach_role_policy("ec2-only", "arn:aws:iam::aws:policy/AdministratorAccess"));
  EXPECT_EQ(failure({{"/app/db/password", "ec2-only"}}).find("ECS was unable to assume the role 'ec2-only'"),
            kPrefix.size());
  EXPECT_NE(failure({{"arn:aws:secretsmanager:us-east-1:123456789012:secret:a:b", role_arn}})
                .find("an invalid ARN format for the AWS Secrets Manager secret was specified"),
            std::string::npos);
}

TEST_F(Reader, CustomerManagedKeysNeedKmsDecrypt) {
  allow(R"("ssm:GetParameters","secretsmanager:GetSecretValue")");
  PutParameterInput p;
  p.name = "/cmk/param";
  p.value = "under-cmk";
  p.type = "SecureString";
  p.key_id = "alias/app";
  ASSERT_OK(parameters->put(p, clock.now()));
  CreateSecretInput s;
  s.name = "cmk-secret";
  s.client_request_token = "33333333-3333-3333-3333-333333333333";
  s.kms_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
  s.value.string = "cmk-value";
  auto created = secrets->create(s, clock.now());
  ASSERT_OK(created);
  std::string param_denied = failure({{"/cmk/param", role_arn}});
  EXPECT_NE(param_denied.find("is not authorized to perform: kms:Decrypt on resource: "
                              "arn:aws:kms:us-east-1:" + iam->account_id() + ":alias/app"),
            std::string::npos)
      << param_denied;
  std::string secret_denied = failure({{created->arn, role_arn}});
  EXPECT_EQ(secret_denied.rfind(std::string(kPrefix) +
                                    "unable to retrieve secret from asm: service call has been retried 1 time(s): "
                                    "failed to fetch secret " + created->arn +
                                    " from secrets manager: AccessDeniedException: Access to KMS is not allowed "
                                    "status code: 400, request id: ",
                                0),
            0u)
      << secret_denied;
  ASSERT_TRUE(iam->put_role_policy("exec", "kms",
                                   R"({"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}})")
                  .ok());
  auto values = reader->read({{"/cmk/param", role_arn}, {created->arn, role_arn}});
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_EQ(*values, (std::vector<std::string>{"under-cmk", "cmk-value"}));
  // The AWS managed keys need no kms:Decrypt.
  ASSERT_OK(iam->delete_role_policy("exec", "kms"));
  EXPECT_OK(reader->read({{"/app/db/password", role_arn}}));
}

TEST_F(Reader, NonJsonSecretWithAKey) {
  allow(R"("secretsmanager:GetSecretValue")");
  CreateSecretInput s;
  s.name = "flat";
  s.client_request_token = "22222222-2222-2222-2222-222222222222";
  s.value.string = "hello";
  auto created = secrets->create(s, clock.now());
  ASSERT_OK(created);
  EXPECT_EQ(failure({{created->arn + ":k::", role_arn}}),
            std::string(kPrefix) + "unable to retrieve secret from asm: service call has been retried 1 time(s): "
                                   "the secret's value is not a JSON object: cannot select json key k");
}

}  // namespace
}  // namespace berth::secrets
