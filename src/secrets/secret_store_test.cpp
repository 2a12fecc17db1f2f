// SecretStore: versions and stages, idempotent tokens, deletion and
// restore, the ways of naming a secret, values sealed at rest.
#include <regex>

#include "secrets/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::secrets {
namespace {

constexpr std::string_view kToken1 = "11111111-1111-1111-1111-111111111111";
constexpr std::string_view kToken2 = "22222222-2222-2222-2222-222222222222";
constexpr std::string_view kToken3 = "33333333-3333-3333-3333-333333333333";

struct Secrets : testing::StoresFixture {
  Result<VersionWritten> create(std::string name, std::optional<std::string> value,
                                std::string_view token = kToken1) {
    CreateSecretInput in;
    in.name = std::move(name);
    in.client_request_token = std::string(token);
    in.value.string = std::move(value);
    return secrets->create(in, clock.now());
  }
  SecretValueInput text(std::string s) { return SecretValueInput{std::move(s), std::nullopt}; }
  template <class T>
  std::string code_of(const Result<T>& r) { return r.ok() ? "ok" : r.error().code; }
  std::string code_of(const Status& s) { return s.ok() ? "ok" : s.error().code; }
};

TEST_F(Secrets, CreateNamesAndArns) {
  auto created = create("prod/db", "s3cret");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(std::regex_match(created->arn,
                               std::regex("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-[A-Za-z0-9]{6}")))
      << created->arn;
  EXPECT_EQ(created->version_id, std::optional<std::string>(kToken1));
  // Name, full ARN, partial ARN.
  for (std::string id : {std::string("prod/db"), created->arn,
                         std::string("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db")}) {
    auto v = secrets->get_value(id, std::nullopt, std::nullopt, clock.now());
    ASSERT_TRUE(v.ok()) << id << ": " << v.error().message;
    EXPECT_EQ(v->string, std::optional<std::string>("s3cret"));
    EXPECT_EQ(v->stages, std::vector<std::string>{"AWSCURRENT"});
  }
  auto other_region = secrets->get_value("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db", std::nullopt,
                                         std::nullopt, clock.now());
  EXPECT_EQ(code_of(other_region), "ResourceNotFoundException");
  auto missing = secrets->describe("nope", clock.now());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "Secrets Manager can't find the specified secret.");

  auto again = create("prod/db", "s3cret", kToken2);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "ResourceExistsException");
  EXPECT_EQ(again.error().message, "The operation failed because the secret prod/db already exists.");
  // A retried request (same token, same value) is answered as the first was.
  auto retried = create("prod/db", "s3cret", kToken1);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->arn, created->arn);
  EXPECT_EQ(code_of(create("prod/db", "other", kToken1)), "ResourceExistsException");
}

TEST_F(Secrets, StagesMoveWithNewVersions) {
  ASSERT_OK(create("s", "v1"));
  auto put = secrets->put_value("s", kToken2, text("v2"), std::nullopt, clock.now());
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(put->stages, std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(secrets->get_value("s", std::nullopt, std::nullopt, clock.now())->string, "v2");
  EXPECT_EQ(secrets->get_value("s", std::nullopt, std::string_view("AWSPREVIOUS"), clock.now())->string, "v1");
  EXPECT_EQ(secrets->get_value("s", kToken1, std::nullopt, clock.now())->string, "v1");
  ASSERT_OK(secrets->update("s", std::string("d"), std::nullopt, kToken3, text("v3"), clock.now()));
  auto described = secrets->describe("s", clock.now());
  ASSERT_OK(described);
  EXPECT_EQ(described->description, std::optional<std::string>("d"));
  // v1 lost its last stage: no longer listed.
  EXPECT_EQ(described->version_stages.size(), 2u);
  EXPECT_EQ(described->version_stages[std::string(kToken3)], std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(described->version_stages[std::string(kToken2)], std::vector<std::string>{"AWSPREVIOUS"});
  auto no_stage = secrets->get_value("s", std::nullopt, std::string_view("AWSPENDING"), clock.now());
  ASSERT_FALSE(no_stage.ok());
  EXPECT_EQ(no_stage.error().message,
            "Secrets Manager can't find the specified secret value for staging label: AWSPENDING");
  auto no_version =
      secrets->get_value("s", std::string_view("99999999-9999-9999-9999-999999999999"), std::nullopt, clock.now());
  ASSERT_FALSE(no_version.ok());
  EXPECT_EQ(no_version.error().message,
            "Secrets Manager can't find the specified secret value for VersionId: 99999999-9999-9999-9999-999999999999");
  // The same token again with another value may not rewrite a version.
  EXPECT_EQ(code_of(secrets->put_value("s", kToken2, text("changed"), std::nullopt, clock.now())),
            "ResourceExistsException");
  ASSERT_OK(secrets->put_value("s", kToken2, text("v2"), std::nullopt, clock.now()));
}

TEST_F(Secrets, WithoutValueThereIsNoCurrentVersion) {
  auto created = create("empty", std::nullopt);
  ASSERT_OK(created);
  EXPECT_FALSE(created->version_id);
  auto v = secrets->get_value("empty", std::nullopt, std::nullopt, clock.now());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "ResourceNotFoundException");
  EXPECT_EQ(v.error().message, "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
}

TEST_F(Secrets, DeletionWindowRestoreAndExpiry) {
  ASSERT_OK(create("d", "value"));
  auto deleted = secrets->schedule_deletion("d", 7, false, clock.now());
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted->deletion_date, clock.now() + std::chrono::hours(24 * 7));
  const std::string marked = "You can't perform this operation on the secret because it was marked for deletion.";
  auto read = secrets->get_value("d", std::nullopt, std::nullopt, clock.now());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "InvalidRequestException");
  EXPECT_EQ(read.error().message, marked);
  EXPECT_EQ(code_of(secrets->put_value("d", kToken2, text("x"), std::nullopt, clock.now())), "InvalidRequestException");
  EXPECT_EQ(code_of(secrets->schedule_deletion("d", 7, false, clock.now())), "InvalidRequestException");
  EXPECT_TRUE(secrets->describe("d", clock.now())->deleted.has_value());
  EXPECT_TRUE(secrets->list(false, clock.now())->empty());
  EXPECT_EQ(secrets->list(true, clock.now())->size(), 1u);
  auto recreate = create("d", "v", kToken3);
  ASSERT_FALSE(recreate.ok());
  EXPECT_EQ(recreate.error().message,
            "You can't create this secret because a secret with this name is already scheduled for deletion.");

  ASSERT_OK(secrets->restore("d", clock.now()));
  EXPECT_EQ(secrets->get_value("d", std::nullopt, std::nullopt, clock.now())->string, "value");

  ASSERT_OK(secrets->schedule_deletion("d", 7, false, clock.now()));
  clock.set(clock.now() + std::chrono::hours(24 * 7 + 1));
  EXPECT_EQ(code_of(secrets->describe("d", clock.now())), "ResourceNotFoundException");
  EXPECT_EQ(code_of(secrets->restore("d", clock.now())), "ResourceNotFoundException");
  ASSERT_OK(create("d", "new life", kToken3));  // the name is free again
  ASSERT_OK(secrets->schedule_deletion("d", 0, true, clock.now()));
  EXPECT_EQ(code_of(secrets->describe("d", clock.now())), "ResourceNotFoundException");
}

TEST_F(Secrets, ValuesAreSealedAtRest) {
  ASSERT_OK(create("sealed", "the-clear-value"));
  SecretValueInput binary{std::nullopt, std::string("\x01\x02binary-clear", 14)};
  ASSERT_OK(secrets->put_value("sealed", kToken2, binary, std::nullopt, clock.now()));
  std::string raw = raw_rows("SELECT * FROM sm_secret_versions") + raw_rows("SELECT * FROM sm_secrets");
  EXPECT_EQ(raw.find("the-clear-value"), std::string::npos);
  EXPECT_EQ(raw.find("binary-clear"), std::string::npos);
  auto v = secrets->get_value("sealed", std::nullopt, std::nullopt, clock.now());
  ASSERT_OK(v);
  EXPECT_FALSE(v->string);
  EXPECT_EQ(v->binary, std::optional<std::string>(std::string("\x01\x02binary-clear", 14)));
}

TEST_F(Secrets, Tags) {
  CreateSecretInput in;
  in.name = "t";
  in.client_request_token = std::string(kToken1);
  in.tags = {{"team", "web"}, {"env", "dev"}};
  ASSERT_OK(secrets->create(in, clock.now()));
  ASSERT_OK(secrets->tag("t", {{"env", "prod"}, {"owner", "me"}}, clock.now()));
  ASSERT_OK(secrets->untag("t", {"team"}, clock.now()));
  EXPECT_EQ(secrets->describe("t", clock.now())->tags, (Tags{{"env", "prod"}, {"owner", "me"}}));
}

}  // namespace
}  // namespace berth::secrets
