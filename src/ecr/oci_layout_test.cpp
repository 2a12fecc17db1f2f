// An image pushed to the store, written as an OCI layout and unpacked by
// the real umoci.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ecr/digest.h"
#include "ecr/image_store.h"
#include "ecr/manifest.h"
#include "ecr/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::ecr {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class OciLayoutTest : public ::testing::TestWithParam<bool> {};

TEST_P(OciLayoutTest, UmociUnpacksTheLayoutWithoutLayerCopies) {
  const bool docker = GetParam();
  testing::Fixture fx;
  fx.create_repository("app");
  auto work = fx.dir / "work";
  std::filesystem::create_directories(work / "root" / "etc");
  std::ofstream(work / "root" / "etc" / "hello.txt") << "hello from berth\n";
  std::string cmd = "tar -C " + (work / "root").string() + " -cf - etc | gzip -n > " + (work / "layer.tgz").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::system(("tar -C " + (work / "root").string() + " -cf " + (work / "layer.tar").string() + " etc").c_str());
  std::string layer = slurp(work / "layer.tgz");
  std::string diff_id = sha256_digest(slurp(work / "layer.tar"));
  std::string config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},"rootfs":{"type":"layers","diff_ids":[")" +
                       diff_id + R"("]}})";
  std::string config_digest = fx.ecr->blobs().put(config).value();
  std::string layer_digest = fx.ecr->blobs().put(layer).value();
  for (const auto& digest : {config_digest, layer_digest}) ASSERT_OK(fx.ecr->catalog().link_blob("app", digest));
  std::string manifest =
      std::string(R"({"schemaVersion":2,"mediaType":")") + std::string(docker ? kDockerManifestV2 : kOciManifest) +
      R"(","config":{"mediaType":")" + std::string(docker ? kDockerConfig : kOciConfig) + R"(","digest":")" +
      config_digest + R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[{"mediaType":")" +
      (docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar+gzip") +
      R"(","digest":")" + layer_digest + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  ManifestPut put;
  put.repository = "app";
  put.bytes = manifest;
  put.tag = "v1";
  ASSERT_OK(store_manifest(fx.ecr->catalog(), fx.ecr->blobs(), put));

  auto layout = fx.ecr->write_oci_layout("app", "v1", work / "layout", "v1");
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  EXPECT_EQ(layout->image_digest, sha256_digest(manifest));
  EXPECT_EQ(layout->manifest_digest == layout->image_digest, !docker);
  // The layer in the layout is the store's file itself (a hard link).
  auto linked = work / "layout" / "blobs" / "sha256" / std::string(digest_hex(layer_digest));
  EXPECT_TRUE(std::filesystem::equivalent(linked, fx.ecr->blobs().path_of(layer_digest)));

  std::string unpack = "umoci unpack --image " + (work / "layout").string() + ":v1 " + (work / "bundle").string() +
                       " > " + (work / "umoci.log").string() + " 2>&1";
  ASSERT_EQ(std::system(unpack.c_str()), 0) << slurp(work / "umoci.log");
  EXPECT_EQ(slurp(work / "bundle" / "rootfs" / "etc" / "hello.txt"), "hello from berth\n");
  EXPECT_EQ(fx.ecr->write_oci_layout("app", "nope", work / "x", "x").error().code, "MANIFEST_UNKNOWN");
}

// A manifest an older berth stored without checking its descriptors (the
// hole of issue 16): the layout is refused with an error, nothing throws.
TEST(OciLayout, StoredManifestsThatNoLongerValidateAreErrors) {
  testing::Fixture fx;
  fx.create_repository("app");
  std::string config_digest = fx.ecr->blobs().put("{}").value();
  std::string layer_digest = fx.ecr->blobs().put("layer").value();
  const std::string config = R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                             config_digest + R"(","size":2})";
  const std::string layer_without_type = R"({"digest":")" + layer_digest + R"(","size":5})";
  const std::pair<const char*, std::string> stored[] = {
      {"layer without mediaType", R"({"schemaVersion":2,"mediaType":")" + std::string(kDockerManifestV2) + R"(",)" +
                                      config + R"(,"layers":[)" + layer_without_type + "]}"},
      {"config without mediaType", R"({"schemaVersion":2,"mediaType":")" + std::string(kDockerManifestV2) +
                                       R"(","config":{"digest":")" + config_digest + R"(","size":2},"layers":[]})"},
      {"layers not an array", R"({"schemaVersion":2,"mediaType":")" + std::string(kDockerManifestV2) + R"(",)" + config +
                                  R"(,"layers":7})"},
      {"not JSON", "{\"schemaVersion\":"},
  };
  int n = 0;
  for (const auto& [name, bytes] : stored) {
    SCOPED_TRACE(name);
    NewImage image;
    image.repository = "app";
    image.digest = fx.ecr->blobs().put(bytes).value();
    image.media_type = kDockerManifestV2;
    image.manifest_size = static_cast<int64_t>(bytes.size());
    image.tag = "bad" + std::to_string(n++);
    ASSERT_OK(fx.ecr->catalog().put_image(image));
    Result<LayoutWritten> layout = Error::internal("not run");
    EXPECT_NO_THROW(layout = fx.ecr->write_oci_layout("app", *image.tag, fx.dir / "layout", "latest"));
    ASSERT_FALSE(layout.ok()) << name << " was written as a layout";
    EXPECT_EQ(layout.error().code, "MANIFEST_INVALID") << layout.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, OciLayoutTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "DockerSchema2" : "Oci"; });

}  // namespace
}  // namespace berth::ecr
