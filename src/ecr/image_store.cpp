#include "ecr/image_store.h"

#include "ecr/digest.h"

namespace berth::ecr {

Result<PutOutcome> store_manifest(Catalog& catalog, BlobStore& blobs, const ManifestPut& put) {
  if (put.bytes.size() > kMaxManifestBytes) {
    return Error::invalid("MANIFEST_INVALID", "manifest invalid: larger than 4 MiB");
  }
  auto manifest = parse_manifest(put.bytes, put.content_type);
  if (!manifest) return std::move(manifest).error();
  if (put.type_required && !manifest->media_type_in_body && put.content_type.empty()) {
    return Error::invalid("MANIFEST_INVALID", std::string(kManifestInvalid) +
                                                  ": the manifest has no mediaType and none was given beside it");
  }
  std::string digest = sha256_digest(put.bytes);
  if (put.expected_digest && *put.expected_digest != digest) {
    return Error::invalid("DIGEST_INVALID", "provided digest did not match uploaded content");
  }
  NewImage image;
  image.repository = put.repository;
  image.digest = digest;
  image.media_type = manifest->media_type;
  image.artifact_media_type = manifest->artifact_media_type;
  image.manifest_size = static_cast<int64_t>(put.bytes.size());
  image.image_size = manifest->is_index ? image.manifest_size : manifest->image_size;
  image.pushed_at = put.pushed_at;
  image.tag = put.tag;
  if (manifest->is_index) {
    for (const auto& m : manifest->manifests) image.manifest_refs.push_back(m.digest);
  } else {
    image.blob_refs.push_back(manifest->config.digest);
    for (const auto& l : manifest->layers) {
      if (!l.foreign) image.blob_refs.push_back(l.digest);
    }
    for (const auto& ref : image.blob_refs) {
      if (!blobs.size_of(ref)) return Error::invalid("MANIFEST_BLOB_UNKNOWN", ref);
    }
  }
  bool existed = blobs.size_of(digest).has_value();
  auto stored = blobs.put(put.bytes);
  if (!stored) return std::move(stored).error();
  auto outcome = catalog.put_image(image);
  if (!outcome && !existed) {
    // Don't leave the manifest blob of an image that was refused, unless
    // some image (here or elsewhere) took it meanwhile.
    auto used = catalog.blob_referenced(digest);
    if (used && !*used) (void)blobs.remove(digest);
  }
  return outcome;
}

Result<ImageRecord> resolve_image(Catalog& catalog, std::string_view repository, std::string_view reference) {
  std::string digest(reference);
  if (!is_sha256_digest(reference)) {
    auto tagged = catalog.resolve_tag(repository, reference);
    if (!tagged) return std::move(tagged).error();
    if (!*tagged) {
      auto repo = catalog.get_repository(repository);
      if (!repo) return std::move(repo).error();
      return Error::not_found("MANIFEST_UNKNOWN", "manifest unknown");
    }
    digest = std::move(**tagged);
  }
  auto image = catalog.find_image(repository, digest);
  if (!image) return std::move(image).error();
  if (!*image) {
    auto repo = catalog.get_repository(repository);
    if (!repo) return std::move(repo).error();
    return Error::not_found("MANIFEST_UNKNOWN", "manifest unknown");
  }
  return std::move(**image);
}

}  // namespace berth::ecr
