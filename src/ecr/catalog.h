// ecr/catalog: repositories, images and tags in SQLite (module "ecr").
//
//   ecr_repositories ─┬─< ecr_repository_tags      (resource tags)
//                     ├─< ecr_images ─┬─< ecr_image_tags   (tag -> digest)
//                     │               └─< ecr_image_refs   (blobs and child manifests it names)
//                     └─< ecr_repository_blobs            (blobs uploaded or mounted into it)
//
// Every write is one transaction. Errors carry ECR API codes and messages
// (reference §4.3); the registry maps them to its own codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace berth::ecr {

struct RepositoryRecord {
  std::string name;
  std::string arn;
  std::string registry_id;
  double created_at = 0;
  std::string tag_mutability = "MUTABLE";
  bool scan_on_push = false;
  std::string encryption_type = "AES256";
  std::string kms_key;
};

struct ImageRecord {
  std::string repository;
  std::string digest;
  std::string media_type;
  std::string artifact_media_type;
  int64_t manifest_size = 0;
  int64_t image_size = 0;
  double pushed_at = 0;
  std::vector<std::string> tags;  // sorted
};

struct NewImage {
  std::string repository;
  std::string digest;
  std::string media_type;
  std::string artifact_media_type;
  int64_t manifest_size = 0;
  int64_t image_size = 0;
  double pushed_at = 0;
  std::optional<std::string> tag;
  std::vector<std::string> blob_refs;      // must be in the blob store (checked by the caller)
  std::vector<std::string> manifest_refs;  // must be images of the same repository (checked here)
};

struct PutOutcome {
  ImageRecord image;
  bool image_existed = false;  // the digest was already there
  bool tag_existed = false;    // ... and the tag already pointed at it
};

using Tag = std::pair<std::string, std::string>;

enum class BlobUnlink {
  kNotHeld,       // the repository had no link to it
  kReferenced,    // an image of the repository names it: kept
  kUnlinked,      // unlinked; another repository or image still holds it
  kUnlinkedLast,  // unlinked, and nothing holds it any more: its bytes can go
};

class Catalog {
 public:
  Catalog(store::Database& db, std::string account_id, std::string region)
      : db_(db), account_id_(std::move(account_id)), region_(std::move(region)) {}

  static Status migrate(store::Database& db);

  const std::string& account_id() const { return account_id_; }
  const std::string& region() const { return region_; }
  std::string repository_arn(std::string_view name) const;
  Error repository_not_found(std::string_view name) const;

  Result<RepositoryRecord> create_repository(RepositoryRecord record, const std::vector<Tag>& tags);
  Result<RepositoryRecord> get_repository(std::string_view name);
  Result<std::vector<RepositoryRecord>> list_repositories();
  Result<RepositoryRecord> delete_repository(std::string_view name, bool force);
  Result<RepositoryRecord> set_tag_mutability(std::string_view name, std::string_view mutability);
  Result<std::vector<Tag>> resource_tags(std::string_view name);
  Status put_resource_tags(std::string_view name, const std::vector<Tag>& tags);
  Status remove_resource_tags(std::string_view name, const std::vector<std::string>& keys);

  // Adds the image (if new) and points the tag at it, honouring tag
  // immutability (ImageTagAlreadyExistsException). Unknown manifest refs:
  // "MANIFEST_BLOB_UNKNOWN" (kInvalid, message = the digest).
  Result<PutOutcome> put_image(const NewImage& image);
  // nullopt if the repository has no such image / tag.
  Result<std::optional<ImageRecord>> find_image(std::string_view repository, std::string_view digest);
  Result<std::optional<std::string>> resolve_tag(std::string_view repository, std::string_view tag);
  Result<std::vector<ImageRecord>> list_images(std::string_view repository);
  Result<std::vector<std::string>> list_tags(std::string_view repository);
  // Deletes the image and its tags. kNotFound "ImageNotFound" if absent;
  // kConflict "ImageReferencedByManifestList" if an index names it.
  Status delete_image(std::string_view repository, std::string_view digest);
  // kNotFound "ImageNotFound" if the tag is absent. Returns the digest it named.
  Result<std::string> delete_tag(std::string_view repository, std::string_view tag);
  // True if any image of any repository is, or names, this digest, or any
  // repository holds it as an upload or a mount.
  Result<bool> blob_referenced(std::string_view digest);

  // Blobs per repository: a registry serves and deletes a blob only through
  // a repository that holds it. link_blob records an upload or a mount into
  // `repository` (RepositoryNotFoundException if none); repository_holds_blob
  // is true for a linked blob and for one its images name (layer, config,
  // manifest). unlink_blob drops the link unless an image of the repository
  // names the blob.
  Status link_blob(std::string_view repository, std::string_view digest);
  Result<bool> repository_holds_blob(std::string_view repository, std::string_view digest);
  Result<BlobUnlink> unlink_blob(std::string_view repository, std::string_view digest);

 private:
  store::Database& db_;
  std::string account_id_;
  std::string region_;
};

}  // namespace berth::ecr
