// The ECR API operations called as the front door calls them.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ecr/digest.h"
#include "ecr/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::ecr {
namespace {

namespace json = boost::json;

class EcrServiceTest : public ::testing::Test {
 protected:
  EcrServiceTest() : service_(fx_.ecr->service()) {}

  Result<json::object> call(const std::string& op, const std::string& input) {
    api::Caller caller{"123456789012", "administrator", "AIDA", "arn:aws:iam::123456789012:user/administrator",
                       "AKIAADMIN"};
    api::CallContext ctx{"req-1", op, "us-east-1", "127.0.0.9:4566", caller, fx_.clock.now()};
    json::object in = json::parse(input).as_object();
    api::OperationInput oi;
    oi.json = &in;
    auto it = service_.operations.find(op);
    if (it == service_.operations.end()) return Error::invalid("UnknownOperation", op);
    auto out = it->second.run(ctx, oi);
    if (!out) return std::move(out).error();
    return json::parse(*out).as_object();
  }
  // A manifest whose config and layer were pushed into `repository` (a
  // manifest may only name blobs its repository holds).
  std::string manifest_with_blobs(const std::string& repository, const std::string& layer) {
    auto config = fx_.ecr->blobs().put("{}").value();
    auto l = fx_.ecr->blobs().put(layer).value();
    EXPECT_OK(fx_.ecr->catalog().link_blob(repository, config));
    EXPECT_OK(fx_.ecr->catalog().link_blob(repository, l));
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
           config + R"(","size":2},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" +
           l + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  }
  std::string put_image_input(const std::string& repo, const std::string& manifest, const std::string& tag) {
    return json::serialize(json::object{{"repositoryName", repo}, {"imageManifest", manifest}, {"imageTag", tag}});
  }

  testing::Fixture fx_;
  api::Service service_;
};

TEST_F(EcrServiceTest, ServiceIdentity) {
  EXPECT_EQ(service_.signing_name, "ecr");
  EXPECT_EQ(service_.json_target_prefix, "AmazonEC2ContainerRegistry_V20150921");
  EXPECT_TRUE(service_.operations.at("DescribeImages").read_only);
  EXPECT_FALSE(service_.operations.at("PutImage").read_only);
}

TEST_F(EcrServiceTest, RepositoryLifecycle) {
  auto created = call("CreateRepository", R"({"repositoryName":"outyet-image","imageTagMutability":"IMMUTABLE",
      "imageScanningConfiguration":{"scanOnPush":true},"encryptionConfiguration":{"encryptionType":"KMS"},
      "tags":[{"Key":"team","Value":"web"}]})");
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto& repo = created->at("repository").as_object();
  EXPECT_EQ(repo.at("repositoryArn").as_string(), "arn:aws:ecr:us-east-1:123456789012:repository/outyet-image");
  EXPECT_EQ(repo.at("repositoryUri").as_string(), "127.0.0.9:4566/outyet-image");
  EXPECT_EQ(repo.at("registryId").as_string(), "123456789012");
  EXPECT_EQ(repo.at("imageTagMutability").as_string(), "IMMUTABLE");
  EXPECT_TRUE(repo.at("imageScanningConfiguration").at("scanOnPush").as_bool());
  EXPECT_EQ(repo.at("encryptionConfiguration").at("encryptionType").as_string(), "KMS");
  EXPECT_TRUE(repo.at("createdAt").is_double());

  auto again = call("CreateRepository", R"({"repositoryName":"outyet-image"})");
  EXPECT_EQ(again.error().code, "RepositoryAlreadyExistsException");
  EXPECT_EQ(again.error().message,
            "The repository with name 'outyet-image' already exists in the registry with id '123456789012'");
  EXPECT_EQ(call("CreateRepository", R"({"repositoryName":"Bad..Name"})").error().code, "InvalidParameterException");
  EXPECT_EQ(call("CreateRepository", R"({"repositoryName":"x2","imageTagMutability":"SOMETIMES"})").error().code,
            "InvalidParameterException");

  auto tags = call("ListTagsForResource", R"({"resourceArn":"arn:aws:ecr:us-east-1:123456789012:repository/outyet-image"})");
  ASSERT_OK(tags);
  EXPECT_EQ(json::serialize(tags->at("tags")), R"([{"Key":"team","Value":"web"}])");
  ASSERT_OK(call("TagResource", R"({"resourceArn":"arn:aws:ecr:us-east-1:123456789012:repository/outyet-image","tags":[{"Key":"a","Value":"1"}]})"));
  ASSERT_OK(call("UntagResource", R"({"resourceArn":"arn:aws:ecr:us-east-1:123456789012:repository/outyet-image","tagKeys":["team"]})"));
  tags = call("ListTagsForResource", R"({"resourceArn":"arn:aws:ecr:us-east-1:123456789012:repository/outyet-image"})");
  EXPECT_EQ(json::serialize(tags->at("tags")), R"([{"Key":"a","Value":"1"}])");

  auto described = call("DescribeRepositories", "{}");
  ASSERT_OK(described);
  EXPECT_EQ(described->at("repositories").as_array().size(), 1u);
  auto missing = call("DescribeRepositories", R"({"repositoryNames":["nope"]})");
  EXPECT_EQ(missing.error().code, "RepositoryNotFoundException");
  EXPECT_EQ(missing.error().message,
            "The repository with name 'nope' does not exist in the registry with id '123456789012'");

  auto mutability = call("PutImageTagMutability", R"({"repositoryName":"outyet-image","imageTagMutability":"MUTABLE"})");
  ASSERT_OK(mutability);
  EXPECT_EQ(mutability->at("imageTagMutability").as_string(), "MUTABLE");
  ASSERT_OK(call("DeleteRepository", R"({"repositoryName":"outyet-image"})"));
  EXPECT_EQ(call("DeleteRepository", R"({"repositoryName":"outyet-image"})").error().code,
            "RepositoryNotFoundException");
}

TEST_F(EcrServiceTest, ImagesPutDescribeGetDelete) {
  ASSERT_OK(call("CreateRepository", R"({"repositoryName":"app"})"));
  std::string manifest = manifest_with_blobs("app", "layer-one");
  std::string digest = sha256_digest(manifest);
  auto put = call("PutImage", put_image_input("app", manifest, "v1"));
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(put->at("image").at("imageId").at("imageDigest").as_string(), digest);
  EXPECT_EQ(call("PutImage", put_image_input("app", manifest, "v1")).error().code, "ImageAlreadyExistsException");
  ASSERT_OK(call("PutImage", put_image_input("app", manifest, "latest")));

  auto described = call("DescribeImages", R"({"repositoryName":"app"})");
  ASSERT_OK(described);
  auto& detail = described->at("imageDetails").at(0).as_object();
  EXPECT_EQ(detail.at("imageDigest").as_string(), digest);
  EXPECT_EQ(json::serialize(detail.at("imageTags")), R"(["latest","v1"])");
  EXPECT_EQ(detail.at("imageSizeInBytes").as_int64(), 2 + 9);
  EXPECT_EQ(detail.at("imageManifestMediaType").as_string(), "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(detail.at("artifactMediaType").as_string(), "application/vnd.docker.container.image.v1+json");
  EXPECT_TRUE(detail.at("imagePushedAt").is_double());

  auto not_found = call("DescribeImages", R"({"repositoryName":"app","imageIds":[{"imageTag":"v9"}]})");
  EXPECT_EQ(not_found.error().code, "ImageNotFoundException");
  EXPECT_EQ(not_found.error().message,
            "The image with imageId {imageDigest:'null', imageTag:'v9'} does not exist within the repository with "
            "name 'app' in the registry with id '123456789012'");

  auto listed = call("ListImages", R"({"repositoryName":"app"})");
  EXPECT_EQ(listed->at("imageIds").as_array().size(), 2u);
  auto got = call("BatchGetImage", R"({"repositoryName":"app","imageIds":[{"imageTag":"v1"},{"imageTag":"zz"}]})");
  ASSERT_OK(got);
  EXPECT_EQ(got->at("images").at(0).at("imageManifest").as_string(), manifest);
  EXPECT_EQ(got->at("failures").at(0).at("failureCode").as_string(), "ImageNotFound");

  auto missing_layer = call("PutImage", put_image_input("app", R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                                                                       sha256_digest("absent") + R"(","size":1},"layers":[]})",
                                                        "v2"));
  EXPECT_EQ(missing_layer.error().code, "LayersNotFoundException");
  EXPECT_EQ(call("DeleteRepository", R"({"repositoryName":"app"})").error().code, "RepositoryNotEmptyException");

  // By tag: untags first; the image goes with its last tag.
  auto del = call("BatchDeleteImage", R"({"repositoryName":"app","imageIds":[{"imageTag":"v1"}]})");
  ASSERT_OK(del);
  EXPECT_EQ(call("ListImages", R"({"repositoryName":"app"})")->at("imageIds").as_array().size(), 1u);
  del = call("BatchDeleteImage", R"({"repositoryName":"app","imageIds":[{"imageTag":"latest"},{"imageDigest":"sha256:00"}]})");
  EXPECT_EQ(del->at("imageIds").as_array().size(), 1u);
  EXPECT_EQ(del->at("failures").at(0).at("failureCode").as_string(), "InvalidImageDigest");
  EXPECT_TRUE(call("ListImages", R"({"repositoryName":"app"})")->at("imageIds").as_array().empty());
  ASSERT_OK(call("PutImage", put_image_input("app", manifest, "v1")));
  EXPECT_OK(call("DeleteRepository", R"({"repositoryName":"app","force":true})"));
}

// PutImage validates as the registry does and answers with ECR's
// exceptions; nothing of a refused image is stored.
TEST_F(EcrServiceTest, PutImageRefusesWithEcrExceptions) {
  ASSERT_OK(call("CreateRepository", R"({"repositoryName":"strict"})"));
  std::string good = manifest_with_blobs("strict", "layer");
  json::object without_types = json::parse(good).as_object();
  without_types["layers"].as_array()[0].as_object().erase("mediaType");
  auto bad = call("PutImage", put_image_input("strict", json::serialize(without_types), "v1"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidParameterException") << bad.error().message;
  EXPECT_EQ(bad.error().message,
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'layers[0] has no mediaType'");
  auto not_json = call("PutImage", put_image_input("strict", "{\"schemaVersion\":", "v1"));
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().message,
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");

  // An OCI manifest without mediaType needs imageManifestMediaType beside it.
  std::string config = fx_.ecr->blobs().put("{}").value();
  std::string oci = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                    config + R"(","size":2},"layers":[]})";
  auto untyped = call("PutImage", put_image_input("strict", oci, "v2"));
  ASSERT_FALSE(untyped.ok());
  EXPECT_EQ(untyped.error().code, "InvalidParameterException") << untyped.error().message;
  json::object typed = json::parse(put_image_input("strict", oci, "v2")).as_object();
  typed["imageManifestMediaType"] = "application/vnd.oci.image.manifest.v1+json";
  auto put = call("PutImage", json::serialize(typed));
  ASSERT_TRUE(put.ok()) << put.error().message;

  // An index whose image is not in the repository.
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
                      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                      sha256_digest("no such image") + R"(","size":10}]})";
  auto orphan = call("PutImage", put_image_input("strict", index, "v3"));
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code, "ReferencedImagesNotFoundException") << orphan.error().message;

  auto wrong_digest = json::parse(put_image_input("strict", good, "v4")).as_object();
  wrong_digest["imageDigest"] = sha256_digest("something else");
  auto mismatch = call("PutImage", json::serialize(wrong_digest));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, "ImageDigestDoesNotMatchException") << mismatch.error().message;

  auto listed = call("ListImages", R"({"repositoryName":"strict"})");
  ASSERT_OK(listed);
  EXPECT_EQ(listed->at("imageIds").as_array().size(), 1u) << json::serialize(*listed);
}

TEST_F(EcrServiceTest, ImmutableRepositoryRefusesRetag) {
  ASSERT_OK(call("CreateRepository", R"({"repositoryName":"frozen","imageTagMutability":"IMMUTABLE"})"));
  ASSERT_OK(call("PutImage", put_image_input("frozen", manifest_with_blobs("frozen", "one"), "v1")));
  auto again = call("PutImage", put_image_input("frozen", manifest_with_blobs("frozen", "two"), "v1"));
  EXPECT_EQ(again.error().code, "ImageTagAlreadyExistsException");
  EXPECT_EQ(again.error().message, "The image tag 'v1' already exists in the 'frozen' repository and cannot be "
                                   "overwritten because the repository is immutable.");
}

TEST_F(EcrServiceTest, AuthorizationTokenIsAwsColonPassword) {
  auto out = call("GetAuthorizationToken", "{}");
  ASSERT_OK(out);
  auto& data = out->at("authorizationData").at(0).as_object();
  EXPECT_EQ(data.at("proxyEndpoint").as_string(), "http://127.0.0.9:4566");
  double expires = data.at("expiresAt").as_double();
  double now = std::chrono::duration<double>(fx_.clock.now().time_since_epoch()).count();
  EXPECT_NEAR(expires - now, 12 * 3600, 1.0);
  std::string token;
  ASSERT_TRUE(base64_decode(std::string(data.at("authorizationToken").as_string()), token));
  ASSERT_EQ(token.rfind("AWS:", 0), 0u);
  auto verified = fx_.ecr->tokens().verify(token.substr(4));
  ASSERT_OK(verified);
  EXPECT_EQ(verified->access_key_id, "AKIAADMIN");
}

}  // namespace
}  // namespace berth::ecr
