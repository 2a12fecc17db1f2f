#include <gtest/gtest.h>

#include "ecr/auth_token.h"
#include "ecr/digest.h"
#include "ecr/manifest.h"
#include "core/testing/expect_ok.h"

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
  ASSERT_OK(m);
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

// A valid Docker schema 2 manifest with one member replaced (or, with
// value empty, removed): `path` is "", "config" or "layers[0]".
std::string docker_manifest_with(std::string_view path, std::string_view key, std::string_view value) {
  auto member = [&](std::string_view where, std::string_view k, std::string_view v) -> std::string {
    if (where != path || k != key) return "\"" + std::string(k) + "\":" + std::string(v);
    if (value.empty()) return "";
    return "\"" + std::string(k) + "\":" + std::string(value);
  };
  auto join = [](std::initializer_list<std::string> parts) {
    std::string out;
    for (const auto& p : parts) {
      if (p.empty()) continue;
      if (!out.empty()) out += ",";
      out += p;
    }
    return out;
  };
  std::string config = "{" +
                       join({member("config", "mediaType", "\"application/vnd.docker.container.image.v1+json\""),
                             member("config", "digest", "\"" + d('a') + "\""), member("config", "size", "10")}) +
                       "}";
  std::string layer = "{" +
                      join({member("layers[0]", "mediaType", "\"application/vnd.docker.image.rootfs.diff.tar.gzip\""),
                            member("layers[0]", "digest", "\"" + d('b') + "\""), member("layers[0]", "size", "20")}) +
                      "}";
  return "{" +
         join({member("", "schemaVersion", "2"),
               member("", "mediaType", "\"application/vnd.docker.distribution.manifest.v2+json\""),
               member("", "config", config), member("", "layers", "[" + layer + "]")}) +
         "}";
}

TEST(Manifest, TheShapeHelperMakesAValidManifest) {
  auto m = parse_manifest(docker_manifest_with("", "none", ""), kDockerManifestV2);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->layers.size(), 1u);
}

// Each shape the distribution spec, the OCI image spec or Docker's schema 2
// refuses: MANIFEST_INVALID before anything is stored, never an exception.
TEST(Manifest, RefusesEveryMalformedShape) {
  struct Case {
    const char* name;
    std::string bytes;
    std::string_view content_type;
  };
  const Case cases[] = {
      // The hole of issue 16: descriptors without mediaType.
      {"config without mediaType", docker_manifest_with("config", "mediaType", ""), kDockerManifestV2},
      {"layer without mediaType", docker_manifest_with("layers[0]", "mediaType", ""), kDockerManifestV2},
      {"layer without mediaType, no Content-Type", docker_manifest_with("layers[0]", "mediaType", ""), ""},
      {"config mediaType a number", docker_manifest_with("config", "mediaType", "7"), kDockerManifestV2},
      {"layer mediaType null", docker_manifest_with("layers[0]", "mediaType", "null"), kDockerManifestV2},
      {"layer mediaType an object", docker_manifest_with("layers[0]", "mediaType", "{}"), kDockerManifestV2},
      {"layer mediaType not type/subtype", docker_manifest_with("layers[0]", "mediaType", "\"tar\""), kDockerManifestV2},
      {"layer mediaType empty", docker_manifest_with("layers[0]", "mediaType", "\"\""), kDockerManifestV2},
      {"config without digest", docker_manifest_with("config", "digest", ""), kDockerManifestV2},
      {"config digest a number", docker_manifest_with("config", "digest", "1"), kDockerManifestV2},
      {"layer digest not sha256", docker_manifest_with("layers[0]", "digest", "\"md5:abc\""), kDockerManifestV2},
      {"layer digest a path", docker_manifest_with("layers[0]", "digest", "\"sha256:../../etc/passwd\""), kDockerManifestV2},
      {"layer without size", docker_manifest_with("layers[0]", "size", ""), kDockerManifestV2},
      {"layer size negative", docker_manifest_with("layers[0]", "size", "-1"), kDockerManifestV2},
      {"layer size fractional", docker_manifest_with("layers[0]", "size", "1.5"), kDockerManifestV2},
      {"layer size a string", docker_manifest_with("layers[0]", "size", "\"20\""), kDockerManifestV2},
      {"layer size past int64", docker_manifest_with("layers[0]", "size", "18446744073709551615"), kDockerManifestV2},
      {"config a string", docker_manifest_with("", "config", "\"x\""), kDockerManifestV2},
      {"no config", docker_manifest_with("", "config", ""), kDockerManifestV2},
      {"layers an object", docker_manifest_with("", "layers", "{}"), kDockerManifestV2},
      {"layer a string", docker_manifest_with("", "layers", "[\"x\"]"), kDockerManifestV2},
      {"Docker manifest without layers", docker_manifest_with("", "layers", ""), kDockerManifestV2},
      {"Docker manifest without mediaType", docker_manifest_with("", "mediaType", ""), kDockerManifestV2},
      {"manifest mediaType a number", docker_manifest_with("", "mediaType", "2"), ""},
      {"mediaType against Content-Type", docker_manifest_with("", "none", ""), kOciManifest},
      {"schemaVersion 1", docker_manifest_with("", "schemaVersion", "1"), kDockerManifestV2},
      {"schemaVersion a string", docker_manifest_with("", "schemaVersion", "\"2\""), kDockerManifestV2},
      {"no schemaVersion", docker_manifest_with("", "schemaVersion", ""), kDockerManifestV2},
      {"layer platform a string", docker_manifest_with("layers[0]", "size", "20,\"platform\":\"linux\""), kDockerManifestV2},
      {"layer urls not strings", docker_manifest_with("layers[0]", "size", "20,\"urls\":[1]"), kDockerManifestV2},
      {"layer annotations not strings", docker_manifest_with("layers[0]", "size", "20,\"annotations\":{\"a\":1}"),
       kDockerManifestV2},
      {"not JSON", "{\"schemaVersion\":2,", ""},
      {"an array", "[]", ""},
      {"nested too deep", std::string(100, '[') + std::string(100, ']'), ""},
      {"index entry without mediaType",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":")" + d('c') +
           R"(","size":3}]})",
       ""},
      {"index entry a number", R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[1]})",
       ""},
      {"index platform without os",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
           d('c') + R"(","size":3,"platform":{"architecture":"amd64"}}]})",
       ""},
      {"index manifests an object", R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}})",
       ""},
      {"Docker list without mediaType", R"({"schemaVersion":2,"manifests":[]})", kDockerManifestList},
      {"subject not a descriptor",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","subject":{},"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
           d('a') + R"(","size":1},"layers":[]})",
       ""},
      {"artifactType a number",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":1,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
           d('a') + R"(","size":1},"layers":[]})",
       ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Result<Manifest> m = Error::internal("not run");
    EXPECT_NO_THROW(m = parse_manifest(c.bytes, c.content_type)) << c.bytes;
    ASSERT_FALSE(m.ok()) << c.name << " was accepted: " << c.bytes;
    EXPECT_EQ(m.error().code, "MANIFEST_INVALID") << m.error().message;
    EXPECT_EQ(m.error().message.rfind("manifest invalid: ", 0), 0u) << m.error().message;
  }
}

TEST(Manifest, InvalidJsonIsReportedInEcrWords) {
  auto m = parse_manifest("{", "");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(manifest_invalid_reason(m.error().message), kInvalidJsonSyntax) << m.error().message;
}

TEST(Manifest, AcceptsWhatTheSpecsAllow) {
  // OCI: mediaType may be absent; layers may be empty (an artifact);
  // foreign layers keep their urls; annotations are strings.
  std::string oci = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                    d('a') + R"(","size":1},"layers":[],"annotations":{"a":"b"}})";
  auto m = parse_manifest(oci, "");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->media_type, kOciManifest);
  EXPECT_FALSE(m->media_type_in_body);
  auto foreign = parse_manifest(
      docker_manifest_with("layers[0]", "mediaType",
                           "\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\"urls\":[\"https://x/y\"]"),
      kDockerManifestV2);
  ASSERT_TRUE(foreign.ok()) << foreign.error().message;
  EXPECT_TRUE(foreign->layers[0].foreign);
  EXPECT_TRUE(is_valid_media_type("application/vnd.oci.image.layer.v1.tar+zstd"));
  EXPECT_FALSE(is_valid_media_type("application/"));
  EXPECT_FALSE(is_valid_media_type("a b/c"));
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
