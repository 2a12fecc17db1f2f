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
inline constexpr int64_t kMaxImageBytes = int64_t{1} << 62;  // a sum of layer sizes that cannot overflow
// The registry's MANIFEST_INVALID message; every parse_manifest error
// message is "manifest invalid: <reason>".
inline constexpr std::string_view kManifestInvalid = "manifest invalid";
// The reason for bytes that are not JSON (ECR's PutImage says this).
inline constexpr std::string_view kInvalidJsonSyntax = "Invalid JSON syntax";

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
  bool media_type_in_body = false;  // the body has a mediaType member (else taken from Content-Type or inferred)
  std::string artifact_media_type;  // config media type (ECR's artifactMediaType); empty for indexes
  Descriptor config;                // image manifests
  std::vector<Descriptor> layers;   // image manifests
  std::vector<Descriptor> manifests;  // indexes
  int64_t image_size = 0;           // config + layers (ECR's imageSizeInBytes)
};

bool is_manifest_media_type(std::string_view media_type);
// type "/" subtype in RFC 6838's restricted names (the OCI descriptor rule).
bool is_valid_media_type(std::string_view media_type);

// Validates a manifest or index as the OCI image spec and Docker's schema 2
// require, before anything is stored: schemaVersion 2; mediaType a string
// consistent with content_type (the request's Content-Type, may be empty or
// carry parameters) and present for Docker types; every descriptor (config,
// layers, manifests, subject) an object with a valid mediaType, a sha256
// digest and a non-negative integer size, its platform, urls and
// annotations well typed. Never throws. Errors: "MANIFEST_INVALID"
// (kInvalid), message "manifest invalid: <reason>".
Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type);
// The <reason> of such a message (the message itself if it has no prefix).
std::string_view manifest_invalid_reason(std::string_view message);

}  // namespace berth::ecr
