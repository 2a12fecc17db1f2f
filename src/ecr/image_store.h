// ecr/image_store: the two image operations both front ends share (the
// registry's manifest PUT/GET and the ECR API's PutImage/BatchGetImage):
// validate and store a manifest, and resolve a tag or digest to an image.
//
//   bytes ─► parse_manifest ─► digest check ─► referenced blobs present?
//         ─► BlobStore::put(manifest) ─► Catalog::put_image (one transaction)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "ecr/blob_store.h"
#include "ecr/catalog.h"
#include "ecr/manifest.h"

namespace berth::ecr {

struct ManifestPut {
  std::string_view repository;
  std::string_view bytes;
  std::string_view content_type;            // may be empty: taken from the manifest
  // ECR's PutImage: a manifest without a mediaType member needs the type
  // given beside it (imageManifestMediaType); the registry infers OCI's.
  bool type_required = false;
  std::optional<std::string> tag;
  std::optional<std::string> expected_digest;
  double pushed_at = 0;
};

// Errors: MANIFEST_INVALID, DIGEST_INVALID, MANIFEST_BLOB_UNKNOWN (message:
// the missing digest), RepositoryNotFoundException,
// ImageTagAlreadyExistsException. Nothing is left behind on failure.
Result<PutOutcome> store_manifest(Catalog& catalog, BlobStore& blobs, const ManifestPut& put);

// reference: a tag or a digest. Errors: RepositoryNotFoundException,
// "MANIFEST_UNKNOWN" (kNotFound).
Result<ImageRecord> resolve_image(Catalog& catalog, std::string_view repository, std::string_view reference);

}  // namespace berth::ecr
