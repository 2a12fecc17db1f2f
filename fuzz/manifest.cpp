// Registry manifest PUTs and the image configs the runtime reads:
// ecr::parse_manifest (OCI and Docker manifests and indexes) under each
// Content-Type a client sends, and runtime::parse_image_config. The first
// input byte picks the Content-Type. An accepted manifest's descriptors
// hold what the registry then relies on: sha256 digests, sizes >= 0, and
// valid media types.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ecr/digest.h"
#include "ecr/manifest.h"
#include "runtime/oci_config.h"

namespace {
using namespace berth::ecr;

void check(const Descriptor& d) {
  if (!is_sha256_digest(d.digest) || d.size < 0 || !is_valid_media_type(d.media_type)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr std::string_view kTypes[] = {
      "", kDockerManifestV2, kDockerManifestList, kOciManifest, kOciIndex, "application/json",
      "application/vnd.oci.image.manifest.v1+json; charset=utf-8", "text/plain"};
  std::string_view content_type = kTypes[data[0] % std::size(kTypes)];
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto manifest = parse_manifest(bytes, content_type);
  if (manifest.ok()) {
    const Manifest& m = manifest.value();
    if (!is_manifest_media_type(m.media_type)) std::abort();
    if (m.is_index) {
      for (const auto& d : m.manifests) check(d);
    } else {
      check(m.config);
      for (const auto& d : m.layers) check(d);
      if (m.image_size < 0) std::abort();
    }
  }
  (void)berth::runtime::parse_image_config(bytes);
  return 0;
}
