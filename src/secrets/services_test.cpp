// The SSM and Secrets Manager operations called as the front door calls
// them: JSON in, JSON (or an AWS error) out.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <filesystem>

#include "secrets/secrets.h"
#include "secrets/services.h"
#include "secrets/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::secrets {
namespace {

namespace json = boost::json;

struct Services : testing::StoresFixture {
  void SetUp() override {
    StoresFixture::SetUp();
    ssm = make_ssm_service(*parameters);
    sm = make_secretsmanager_service(*secrets);
  }
  Result<json::object> call(api::Service& service, const std::string& op, const std::string& input) {
    api::Caller caller{"123456789012", "administrator", "AIDA", "arn:aws:iam::123456789012:user/administrator",
                       "AKIAADMIN"};
    api::CallContext ctx{"req-1", op, "us-east-1", "127.0.0.9:4566", caller, clock.now()};
    json::object in = json::parse(input).as_object();
    api::OperationInput oi;
    oi.json = &in;
    auto it = service.operations.find(op);
    if (it == service.operations.end()) return Error::invalid("UnknownOperation", op);
    auto out = it->second.run(ctx, oi);
    if (!out) return std::move(out).error();
    return json::parse(*out).as_object();
  }
  // "Code: message" of a failing call, or the answer of one that did not fail.
  std::string failure(api::Service& service, const std::string& op, const std::string& input) {
    auto r = call(service, op, input);
    if (r) return "answered " + json::serialize(*r);
    return r.error().code + ": " + r.error().message;
  }
  api::Service ssm, sm;
};

TEST_F(Services, SsmPutGetAndShapes) {
  auto put = call(ssm, "PutParameter", R"({"Name":"/app/key","Value":"k1","Type":"SecureString","Tags":[{"Key":"a","Value":"b"}]})");
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(json::serialize(*put), R"({"Version":1,"Tier":"Standard"})");
  auto got = call(ssm, "GetParameter", R"({"Name":"/app/key","WithDecryption":true})");
  ASSERT_OK(got);
  const auto& p = got->at("Parameter").as_object();
  EXPECT_EQ(p.at("Value").as_string(), "k1");
  EXPECT_EQ(p.at("ARN").as_string(), "arn:aws:ssm:us-east-1:123456789012:parameter/app/key");
  EXPECT_EQ(p.at("DataType").as_string(), "text");
  EXPECT_FALSE(p.contains("Selector"));
  auto hidden = call(ssm, "GetParameter", R"({"Name":"/app/key"})");
  EXPECT_NE(hidden->at("Parameter").at("Value").as_string(), "k1");
  EXPECT_EQ(failure(ssm, "PutParameter", R"({"Name":"/app/key","Value":"x","Overwrite":true,"Tags":[{"Key":"a","Value":"b"}]})")
                .rfind("ValidationException: Invalid request: tags and overwrite can't be used together.", 0),
            0u);
  EXPECT_EQ(failure(ssm, "GetParameter", R"({"Name":"/nope"})"), "ParameterNotFound: ");
  EXPECT_EQ(failure(ssm, "GetParameter", R"({})"),
            "ValidationException: 1 validation error detected: Value null at 'name' failed to satisfy constraint: "
            "Member must not be null");
  auto many = call(ssm, "GetParameters", R"({"Names":["/app/key","/missing","/app/key:1"]})");
  ASSERT_OK(many);
  EXPECT_EQ(many->at("Parameters").as_array().size(), 2u);
  EXPECT_EQ(json::serialize(many->at("InvalidParameters")), R"(["/missing"])");
  EXPECT_EQ(many->at("Parameters").as_array()[1].at("Selector").as_string(), ":1");
  auto tags = call(ssm, "ListTagsForResource", R"({"ResourceType":"Parameter","ResourceId":"/app/key"})");
  ASSERT_OK(tags);
  EXPECT_EQ(json::serialize(tags->at("TagList")), R"([{"Key":"a","Value":"b"}])");
}

TEST_F(Services, SsmUnlabel) {
  ASSERT_OK(call(ssm, "PutParameter", R"({"Name":"u","Value":"1","Type":"String"})"));
  ASSERT_OK(call(ssm, "LabelParameterVersion", R"({"Name":"u","Labels":["a","b"]})"));
  auto out = call(ssm, "UnlabelParameterVersion", R"({"Name":"u","ParameterVersion":1,"Labels":["a","zz"]})");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(json::serialize(*out), R"({"RemovedLabels":["a"],"InvalidLabels":["zz"]})");
  EXPECT_EQ(failure(ssm, "UnlabelParameterVersion", R"({"Name":"u","ParameterVersion":4,"Labels":["b"]})"),
            "ParameterVersionNotFound: Systems Manager could not find version 4 of u. Verify the version and try "
            "again.");
  EXPECT_EQ(failure(ssm, "GetParameter", R"({"Name":"u:a"})").rfind("ParameterVersionNotFound", 0), 0u);
  EXPECT_OK(call(ssm, "GetParameter", R"({"Name":"u:b"})"));
}

TEST_F(Services, SsmByPathPagesAndRecursion) {
  for (const char* name : {"/svc/a", "/svc/b", "/svc/c", "/svc/deep/d", "/other/x"})
    ASSERT_OK(call(ssm, "PutParameter", std::string(R"({"Type":"String","Value":"v","Name":")") + name + "\"}"));
  auto first = call(ssm, "GetParametersByPath", R"({"Path":"/svc","MaxResults":2})");
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->at("Parameters").as_array().size(), 2u);
  ASSERT_TRUE(first->contains("NextToken"));
  auto rest = call(ssm, "GetParametersByPath",
                   R"({"Path":"/svc","MaxResults":2,"NextToken":")" + std::string(first->at("NextToken").as_string()) + "\"}");
  ASSERT_OK(rest);
  ASSERT_EQ(rest->at("Parameters").as_array().size(), 1u);
  EXPECT_EQ(rest->at("Parameters").as_array()[0].at("Name").as_string(), "/svc/c");
  EXPECT_FALSE(rest->contains("NextToken"));
  auto recursive = call(ssm, "GetParametersByPath", R"({"Path":"/svc/","Recursive":true})");
  EXPECT_EQ(recursive->at("Parameters").as_array().size(), 4u);
  std::string bad_path = failure(ssm, "GetParametersByPath", R"({"Path":"svc"})");
  EXPECT_EQ(bad_path.rfind("ValidationException: The parameter doesn't meet the parameter name requirements.", 0), 0u)
      << bad_path;
  EXPECT_NE(bad_path.find(R"(It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).)"), std::string::npos)
      << bad_path;
  EXPECT_EQ(failure(ssm, "PutParameter", R"({"Name":"/ssm/x","Value":"v","Type":"String"})"),
            "ValidationException: Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a "
            "path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of "
            "letters, numbers and the following 3 symbols .-_");
  EXPECT_EQ(failure(ssm, "GetParametersByPath", R"({"Path":"/svc","MaxResults":11})"),
            "ValidationException: 1 validation error detected: Value at 'maxResults' failed to satisfy constraint: "
            "Member must have value less than or equal to 10");
  auto described = call(ssm, "DescribeParameters",
                        R"({"ParameterFilters":[{"Key":"Name","Option":"BeginsWith","Values":["/svc/"]}]})");
  ASSERT_OK(described);
  EXPECT_EQ(described->at("Parameters").as_array().size(), 4u);
  EXPECT_FALSE(described->at("Parameters").as_array()[0].as_object().contains("Value"));
  auto deleted = call(ssm, "DeleteParameters", R"({"Names":["/svc/a","/nope"]})");
  EXPECT_EQ(json::serialize(*deleted), R"({"DeletedParameters":["/svc/a"],"InvalidParameters":["/nope"]})");
}

TEST_F(Services, SecretsManagerShapesAndErrors) {
  auto created = call(sm, "CreateSecret",
                      R"({"Name":"db","SecretString":"{\"password\":\"pw\"}","ClientRequestToken":"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"})");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->at("VersionId").as_string(), "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");
  auto value = call(sm, "GetSecretValue", R"({"SecretId":"db"})");
  ASSERT_OK(value);
  EXPECT_EQ(value->at("SecretString").as_string(), R"({"password":"pw"})");
  EXPECT_EQ(json::serialize(value->at("VersionStages")), R"(["AWSCURRENT"])");
  EXPECT_FALSE(sm.operations.at("GetSecretValue").read_only);
  EXPECT_TRUE(sm.operations.at("DescribeSecret").read_only);

  auto binary = call(sm, "CreateSecret", R"({"Name":"bin","SecretBinary":"AAEC"})");
  ASSERT_OK(binary);
  EXPECT_EQ(call(sm, "GetSecretValue", R"({"SecretId":"bin"})")->at("SecretBinary").as_string(), "AAEC");

  EXPECT_EQ(failure(sm, "CreateSecret", R"({"Name":"bad name"})"),
            "InvalidParameterException: Invalid name. Must be a valid name containing alphanumeric characters, or any "
            "of the following: -/_+=.@!");
  EXPECT_EQ(failure(sm, "GetSecretValue", R"({"SecretId":"ghost"})"),
            "ResourceNotFoundException: Secrets Manager can't find the specified secret.");
  EXPECT_EQ(failure(sm, "DeleteSecret", R"({"SecretId":"db","RecoveryWindowInDays":3})"),
            "InvalidParameterException: The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  EXPECT_EQ(failure(sm, "DeleteSecret", R"({"SecretId":"db","RecoveryWindowInDays":7,"ForceDeleteWithoutRecovery":true})"),
            "InvalidParameterException: You can't use ForceDeleteWithoutRecovery in conjunction with "
            "RecoveryWindowInDays.");
  auto deleted = call(sm, "DeleteSecret", R"({"SecretId":"db"})");
  ASSERT_OK(deleted);
  EXPECT_DOUBLE_EQ(deleted->at("DeletionDate").to_number<double>(), 1'700'000'000.0 + 30 * 86400);
  auto described = call(sm, "DescribeSecret", R"({"SecretId":"db"})");
  ASSERT_OK(described);
  EXPECT_TRUE(described->contains("DeletedDate"));
  EXPECT_TRUE(described->contains("VersionIdsToStages"));
  EXPECT_EQ(failure(sm, "GetSecretValue", R"({"SecretId":"db"})"),
            "InvalidRequestException: You can't perform this operation on the secret because it was marked for "
            "deletion.");
  EXPECT_EQ(call(sm, "ListSecrets", "{}")->at("SecretList").as_array().size(), 1u);
  EXPECT_EQ(call(sm, "ListSecrets", R"({"IncludePlannedDeletion":true})")->at("SecretList").as_array().size(), 2u);
  ASSERT_OK(call(sm, "RestoreSecret", R"({"SecretId":"db"})"));
  auto listed = call(sm, "ListSecrets", R"({"Filters":[{"Key":"name","Values":["d"]}]})");
  ASSERT_EQ(listed->at("SecretList").as_array().size(), 1u);
  EXPECT_TRUE(listed->at("SecretList").as_array()[0].as_object().contains("SecretVersionsToStages"));
  EXPECT_EQ(call(sm, "ListSecrets", R"({"Filters":[{"Key":"name","Values":["!d"]}]})")->at("SecretList").as_array().size(),
            1u);
  auto by_name = call(sm, "ListSecrets", R"({"SortBy":"name","SortOrder":"desc"})");
  ASSERT_TRUE(by_name.ok()) << by_name.error().message;
  EXPECT_EQ(by_name->at("SecretList").as_array()[0].at("Name").as_string(), "db");
  EXPECT_EQ(by_name->at("SecretList").as_array()[1].at("Name").as_string(), "bin");
  ASSERT_OK(call(sm, "PutSecretValue", R"({"SecretId":"db","SecretString":"x2","ClientRequestToken":"bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"})"));
  ASSERT_OK(call(sm, "PutSecretValue", R"({"SecretId":"db","SecretString":"x3","ClientRequestToken":"cccccccc-cccc-cccc-cccc-cccccccccccc"})"));
  auto versions = call(sm, "ListSecretVersionIds", R"({"SecretId":"db"})");
  ASSERT_TRUE(versions.ok()) << versions.error().message;
  EXPECT_EQ(versions->at("Versions").as_array().size(), 2u);  // the first lost its stages
  auto all_versions = call(sm, "ListSecretVersionIds", R"({"SecretId":"db","IncludeDeprecated":true})");
  ASSERT_EQ(all_versions->at("Versions").as_array().size(), 3u);
  EXPECT_EQ(json::serialize(all_versions->at("Versions").as_array()[0].at("VersionStages")), "[]");
  auto paged = call(sm, "ListSecrets", R"({"MaxResults":1})");
  ASSERT_TRUE(paged->contains("NextToken"));
}

}  // namespace
}  // namespace berth::secrets

namespace berth::secrets {
namespace {

// The front door holds the services longer than `berth serve`'s wiring
// holds the Secrets that made them.
TEST(SecretsBundle, ServicesKeepTheirStoresAlive) {
  auto d = store::Database::open(":memory:");
  ASSERT_OK(d);
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("berth-bundle-" + std::to_string(::getpid()));
  api::Service ssm;
  std::shared_ptr<SecretReader> reader;
  {
    RoleChecks roles;
    roles.allows = [](std::string_view, std::string_view, std::string_view) { return Result<bool>(true); };
    roles.trusted_by_ecs_tasks = [](std::string_view) { return Result<bool>(true); };
    auto opened = Secrets::open(*d, SecretsOptions{dir, "123456789012", "us-east-1", nullptr}, std::move(roles));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    ssm = (*opened)->ssm_service();
  }
  api::Caller caller{"123456789012", "administrator", "AIDA", "arn:aws:iam::123456789012:user/administrator", "AKIA"};
  api::CallContext ctx{"req-1", "PutParameter", "us-east-1", "h", caller, WallTime()};
  json::object in = json::parse(R"({"Name":"/k","Value":"v","Type":"String"})").as_object();
  api::OperationInput oi;
  oi.json = &in;
  auto out = ssm.operations.at("PutParameter").run(ctx, oi);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, R"({"Version":1,"Tier":"Standard"})");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::secrets
