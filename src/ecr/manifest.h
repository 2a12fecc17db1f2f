// ecr/manifest: reading the four manifest formats the registry accepts and
// naming what they reference, so a PUT can be refused before anything is
// stored (MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN).
//
//   image manifest (Docker schema 2, OCI) ─► config + layers   (blobs)
//   index (OCI index, Docker list)        ─► manifests          (same repository)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace berth::ecr {

inline constexpr std::string_view kDockerManifestV2 = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr uint64_t kMaxManifestBytes = 4u << 20;

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::string platform_os;    // index entries only
  std::string platform_arch;  // index entries only
  bool foreign = false;       // non-distributable layer: not expected in the store
};

struct Manifest {
  bool is_index = false;
  std::string media_type;           // one of the four above
  std::string artifact_media_type;  // config media type (ECR's artifactMediaType); empty for indexes
  Descriptor config;                // image manifests
  std::vector<Descriptor> layers;   // image manifests
  std::vector<Descriptor> manifests;  // indexes
  int64_t image_size = 0;           // config + layers (ECR's imageSizeInBytes)
};

bool is_manifest_media_type(std::string_view media_type);

// content_type: the request's Content-Type (may be empty or carry
// parameters). Errors: "MANIFEST_INVALID" (kInvalid) with a reason.
Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type);

}  // namespace berth::ecr
