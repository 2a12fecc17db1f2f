// ParameterStore: names, versions, labels, selectors, SecureString at rest.
#include "secrets/parameter_names.h"
#include "secrets/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::secrets {
namespace {

struct Parameters : testing::StoresFixture {
  Result<int64_t> put(std::string name, std::string value, std::optional<std::string> type = "String",
                      bool overwrite = false) {
    PutParameterInput in;
    in.name = std::move(name);
    in.value = std::move(value);
    in.type = std::move(type);
    in.overwrite = overwrite;
    in.user = "arn:aws:iam::123456789012:user/administrator";
    return parameters->put(in, clock.now());
  }
  std::string code_of(const Status& s) { return s.ok() ? "ok" : s.error().code; }
  template <class T>
  std::string code_of(const Result<T>& r) { return r.ok() ? "ok" : r.error().code; }
};

TEST(ParameterNames, Rules) {
  struct Row {
    const char* name;
    const char* code;
  } rows[] = {
      {"plain", ""},
      {"/a/b/c", ""},
      {"with.dots-and_underscores", ""},
      {"a/b", "ValidationException"},
      {"/a//b", "ValidationException"},
      {"/a/b/", "ValidationException"},
      {"has space", "ValidationException"},
      {"awsome", "ValidationException"},
      {"/AWS/x", "ValidationException"},
      {"SSM-x", "ValidationException"},
      {"/x/aws", ""},
      {"/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15", ""},
      {"/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", "HierarchyLevelLimitExceededException"},
  };
  for (const auto& row : rows) {
    auto s = check_parameter_name(row.name);
    EXPECT_EQ(s.ok() ? "" : s.error().code, std::string(row.code)) << row.name;
  }
  EXPECT_TRUE(valid_label("prod"));
  EXPECT_FALSE(valid_label("1st"));
  EXPECT_FALSE(valid_label("aws-x"));
  EXPECT_FALSE(valid_label("a/b"));
  EXPECT_OK(check_parameter_path("/"));
  EXPECT_OK(check_parameter_path("/app/"));
  EXPECT_FALSE(check_parameter_path("app").ok());
}

TEST_F(Parameters, VersionsOverwriteAndSelectors) {
  ASSERT_EQ(*put("/app/db/host", "db1"), 1);
  auto again = put("/app/db/host", "db2");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "ParameterAlreadyExists");
  EXPECT_EQ(again.error().message,
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
  ASSERT_EQ(*put("/app/db/host", "db2", std::nullopt, true), 2);  // the type is kept
  auto latest = parameters->get("/app/db/host", false);
  ASSERT_OK(latest);
  EXPECT_EQ(latest->value, "db2");
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->type, "String");
  EXPECT_EQ(parameters->get("/app/db/host:1", false)->value, "db1");
  EXPECT_EQ(parameters->get("/app/db/host:1", false)->selector, ":1");
  auto missing_version = parameters->get("/app/db/host:9", false);
  ASSERT_FALSE(missing_version.ok());
  EXPECT_EQ(missing_version.error().code, "ParameterVersionNotFound");
  EXPECT_EQ(missing_version.error().message,
            "Systems Manager could not find version 9 of /app/db/host. Verify the version and try again.");
  EXPECT_EQ(code_of(parameters->get("/app/none", false)), "ParameterNotFound");
  // By ARN, as ECS names them.
  EXPECT_EQ(parameters->arn("/app/db/host"), "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host");
  EXPECT_EQ(parameters->get("arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host", false)->value, "db2");
  EXPECT_EQ(code_of(parameters->get("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/host", false)),
            "ParameterNotFound");
  ASSERT_OK(put("top", "t"));
  EXPECT_EQ(parameters->get("arn:aws:ssm:us-east-1:123456789012:parameter/top", false)->value, "t");
  EXPECT_EQ(code_of(put("new", "x", std::nullopt)), "ValidationException");
  EXPECT_EQ(code_of(put("/bad type", "x")), "ValidationException");
  EXPECT_EQ(code_of(put("t2", "x", "Number")), "ValidationException");
  EXPECT_EQ(code_of(put("t3", std::string(4097, 'x'))), "ValidationException");
}

TEST_F(Parameters, LabelsMoveAndLimit) {
  ASSERT_OK(put("/l", "one"));
  ASSERT_OK(put("/l", "two", std::nullopt, true));
  auto labelled = parameters->label("/l", 1, {"prod", "1bad", "aws-no"});
  ASSERT_TRUE(labelled.ok()) << labelled.error().message;
  EXPECT_EQ(labelled->version, 1);
  EXPECT_EQ(labelled->invalid_labels, (std::vector<std::string>{"1bad", "aws-no"}));
  EXPECT_EQ(parameters->get("/l:prod", false)->value, "one");
  ASSERT_OK(parameters->label("/l", std::nullopt, {"prod"}));  // moves to the latest
  EXPECT_EQ(parameters->get("/l:prod", false)->value, "two");
  auto history = parameters->history("/l", false);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_TRUE((*history)[0].labels.empty());
  EXPECT_EQ((*history)[1].labels, std::vector<std::string>{"prod"});
  std::vector<std::string> many;
  for (int i = 0; i < 10; ++i) many.push_back("l" + std::to_string(i));
  auto too_many = parameters->label("/l", 2, many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, "ParameterVersionLabelLimitExceeded");
  EXPECT_EQ(code_of(parameters->label("/l", 7, {"x"})), "ParameterVersionNotFound");
  EXPECT_EQ(code_of(parameters->label("/none", 1, {"x"})), "ParameterNotFound");
}

TEST_F(Parameters, OldestVersionGoesAtTheLimitUnlessLabelled) {
  ASSERT_OK(put("/v", "0"));
  for (int i = 2; i <= 100; ++i) ASSERT_OK(put("/v", std::to_string(i), std::nullopt, true));
  ASSERT_OK(parameters->label("/v", 1, {"keep"}));
  auto refused = put("/v", "101", std::nullopt, true);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ParameterMaxVersionLimitExceeded");
  ASSERT_OK(parameters->label("/v", 2, {"keep"}));
  ASSERT_EQ(*put("/v", "101", std::nullopt, true), 101);
  EXPECT_EQ(code_of(parameters->get("/v:1", false)), "ParameterVersionNotFound");
  EXPECT_EQ(parameters->history("/v", false)->size(), 100u);
}

TEST_F(Parameters, SecureStringIsSealedAtRest) {
  ASSERT_OK(put("/app/db/password", "correct horse battery", "SecureString"));
  ASSERT_OK(put("/app/db/user", "plain-user"));
  std::string raw = raw_rows("SELECT * FROM ssm_parameter_versions");
  EXPECT_EQ(raw.find("correct horse battery"), std::string::npos);
  EXPECT_NE(raw.find("plain-user"), std::string::npos);  // String values are kept as written
  auto encrypted = parameters->get("/app/db/password", false);
  ASSERT_OK(encrypted);
  EXPECT_NE(encrypted->value, "correct horse battery");
  std::string blob;
  EXPECT_TRUE(base64_decode(encrypted->value, blob));
  EXPECT_EQ(encrypted->key_id, "alias/aws/ssm");
  EXPECT_EQ(parameters->get("/app/db/password", true)->value, "correct horse battery");
}

TEST_F(Parameters, AllowedPatternAndRemove) {
  PutParameterInput in;
  in.name = "/n";
  in.value = "12";
  in.type = "String";
  in.allowed_pattern = "^\\d+$";
  ASSERT_OK(parameters->put(in, clock.now()));
  in.overwrite = true;
  in.allowed_pattern.reset();  // kept from the version before
  in.value = "twelve";
  auto mismatch = parameters->put(in, clock.now());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, "ParameterPatternMismatchException");
  EXPECT_EQ(mismatch.error().message, "Parameter value, cannot be validated against allowedPattern: ^\\d+$");
  ASSERT_OK(parameters->remove("/n"));
  EXPECT_EQ(code_of(parameters->remove("/n")), "ParameterNotFound");
  EXPECT_EQ(code_of(parameters->get("/n", false)), "ParameterNotFound");
  ASSERT_EQ(*put("/n", "again"), 1);  // a deleted name starts over
}

}  // namespace
}  // namespace berth::secrets
