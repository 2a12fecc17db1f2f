// berth::ecr owns ECR: the ECR API, the OCI distribution (v2) registry on
// the daemon's port, and the content-addressed blob store on disk.
//
//   aws ecr ... ─► front door ─► make_ecr_service ─┐
//                                                  ├─► Catalog (SQLite: repositories, images, tags)
//   podman/skopeo ─► /v2/... ─► Registry::handle ──┤
//                                                  └─► BlobStore (DATA/blobs/sha256/ab/<hex>)
//   runtime ─► Ecr::write_oci_layout ─► OCI layout of hard links ─► umoci unpack
//
// Ecr bundles the parts for `berth serve`: open it on the daemon's store
// and data dir, register service() with the front door, route every path
// under /v2 to registry().handle(), and call sweep_uploads() now and then
// (start_upload also sweeps).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "api/service.h"
#include "core/clock.h"
#include "ecr/auth_token.h"
#include "ecr/blob_store.h"
#include "ecr/catalog.h"
#include "ecr/ecr_service.h"
#include "ecr/image_store.h"
#include "ecr/oci_layout.h"
#include "ecr/registry.h"
#include "ecr/upload_sessions.h"
#include "store/store.h"

namespace berth::ecr {

struct EcrOptions {
  std::filesystem::path data_dir;  // blobs under data_dir/blobs, the token secret in data_dir/ecr-token.key
  std::string account_id;          // 12 digits: registryId and ARNs
  std::string region = "us-east-1";
  std::string token_secret;        // empty: loaded from (or created in) data_dir/ecr-token.key
  const Clock* clock = nullptr;    // null: the system clock
  std::chrono::seconds upload_ttl{3600};
  RegistryOptions registry;
};

class Ecr {
 public:
  // Applies the "ecr" migrations and opens the blob store.
  static Result<std::unique_ptr<Ecr>> open(store::Database& db, EcrOptions options, RegistryAccess access);

  api::Service service() { return make_ecr_service(catalog_, blobs_, tokens_); }
  Registry& registry() { return registry_; }
  Catalog& catalog() { return catalog_; }
  BlobStore& blobs() { return blobs_; }
  const TokenIssuer& tokens() const { return tokens_; }
  size_t sweep_uploads() { return uploads_.sweep(); }

  // For the runtime: the image as an OCI layout umoci can unpack.
  Result<LayoutWritten> write_oci_layout(std::string_view repository, std::string_view reference,
                                         const std::filesystem::path& out_dir, std::string_view ref_name = "latest") {
    return ecr::write_oci_layout(catalog_, blobs_, repository, reference, out_dir, ref_name);
  }
  // The registry's digest of what `reference` (a tag or a digest) names now:
  // a catalog read, for the runtime to tell whether the layout it wrote for
  // an earlier task still holds this image.
  Result<std::string> image_digest(std::string_view repository, std::string_view reference) {
    auto image = resolve_image(catalog_, repository, reference);
    if (!image) return std::move(image).error();
    return std::move(image->digest);
  }

  Ecr(store::Database& db, BlobStore blobs, EcrOptions options, RegistryAccess access);

 private:
  EcrOptions options_;
  const Clock& clock_;
  Catalog catalog_;
  BlobStore blobs_;
  TokenIssuer tokens_;
  UploadSessions uploads_;
  Registry registry_;
};

}  // namespace berth::ecr
