#include <gtest/gtest.h>

#include "ecr/auth_token.h"
#include "ecr/digest.h"
#include "ecr/manifest.h"

namespace berth::ecr {
namespace {

std::string d(char c) { return "sha256:" + std::string(64, c); }

std::string image_manifest(std::string_view media_type, int64_t layer_size = 20) {
  return R"({"schemaVersion":2,"mediaType":")" + std::string(media_type) +
         R"(","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + d('a') +
         R"(","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + d('b') +
         R"(","size":)" + std::to_string(layer_size) + "}]}";
}

TEST(Manifest, ParsesImageManifests) {
  for (auto type : {kOciManifest, kDockerManifestV2}) {
    auto m = parse_manifest(image_manifest(type), type);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_FALSE(m->is_index);
    EXPECT_EQ(m->media_type, type);
    EXPECT_EQ(m->config.digest, d('a'));
    ASSERT_EQ(m->layers.size(), 1u);
    EXPECT_EQ(m->layers[0].digest, d('b'));
    EXPECT_EQ(m->image_size, 30);
    EXPECT_EQ(m->artifact_media_type, kOciConfig);
  }
}

TEST(Manifest, MediaTypeFromBodyWhenHeaderIsGeneric) {
  auto m = parse_manifest(image_manifest(kDockerManifestV2), "application/octet-stream");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->media_type, kDockerManifestV2);
}

TEST(Manifest, ParsesIndexes) {
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
                      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + d('c') +
                      R"(","size":300,"platform":{"os":"linux","architecture":"amd64"}}]})";
  auto m = parse_manifest(index, "");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->is_index);
  ASSERT_EQ(m->manifests.size(), 1u);
  EXPECT_EQ(m->manifests[0].platform_arch, "amd64");
  auto list = parse_manifest(index, kDockerManifestList);
  EXPECT_FALSE(list.ok());  // body says OCI index, header says Docker list
}

TEST(Manifest, RefusesInvalidOnes) {
  for (std::string bad : {std::string("not json"), std::string("[]"), std::string(R"({"schemaVersion":1})"),
                          std::string(R"({"schemaVersion":2,"mediaType":"text/plain"})"),
                          std::string(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})"),
                          image_manifest(kOciManifest, -1)}) {
    auto m = parse_manifest(bad, "");
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.error().code, "MANIFEST_INVALID");
  }
  std::string bad_digest = image_manifest(kOciManifest);
  bad_digest.replace(bad_digest.find(d('b')), 10, "sha256:zzz");
  EXPECT_FALSE(parse_manifest(bad_digest, "").ok());
  EXPECT_FALSE(parse_manifest(image_manifest(kOciManifest), kDockerManifestV2).ok());
  EXPECT_FALSE(parse_manifest(std::string(kMaxManifestBytes + 1, ' '), "").ok());
}

TEST(AuthToken, IssuedPasswordsVerifyUntilExpiry) {
  ManualClock clock(std::chrono::system_clock::now());
  TokenIssuer issuer("0123456789abcdef0123456789abcdef", clock);
  auto issued = issuer.issue("AKIAEXAMPLE");
  EXPECT_EQ(issued.password.find(':'), std::string::npos);
  EXPECT_NEAR(std::chrono::duration<double>(issued.expires_at - clock.now()).count(), 12 * 3600, 1.0);
  auto v = issuer.verify(issued.password);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->access_key_id, "AKIAEXAMPLE");
  clock.advance(std::chrono::hours(12) + std::chrono::seconds(1));
  auto expired = issuer.verify(issued.password);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, "expired");
}

TEST(AuthToken, TamperedOrForeignPasswordsFail) {
  ManualClock clock(std::chrono::system_clock::now());
  TokenIssuer issuer("0123456789abcdef0123456789abcdef", clock);
  TokenIssuer other("fedcba9876543210fedcba9876543210", clock);
  auto issued = issuer.issue("AKIAEXAMPLE");
  EXPECT_EQ(other.verify(issued.password).error().code, "invalid");
  std::string text;
  ASSERT_TRUE(base64_decode(issued.password, text));
  text.replace(3, 11, "AKIAOTHERXX");  // another user's key, same MAC
  EXPECT_EQ(issuer.verify(base64_encode(text)).error().code, "invalid");
  EXPECT_EQ(issuer.verify("").error().code, "invalid");
  EXPECT_EQ(issuer.verify("!!!!").error().code, "invalid");
  EXPECT_EQ(issuer.verify(base64_encode("v1..")).error().code, "invalid");
}

}  // namespace
}  // namespace berth::ecr
