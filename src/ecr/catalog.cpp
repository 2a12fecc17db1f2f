#include "ecr/catalog.h"

#include <algorithm>
#include <array>

#include "store/migrations.h"

namespace berth::ecr {
namespace {

using store::Tx;

constexpr std::array kMigrations = {
    store::Migration{1, "create ecr tables", R"sql(
CREATE TABLE ecr_repositories (
  name TEXT PRIMARY KEY,
  arn TEXT NOT NULL,
  registry_id TEXT NOT NULL,
  created_at REAL NOT NULL,
  tag_mutability TEXT NOT NULL,
  scan_on_push INTEGER NOT NULL,
  encryption_type TEXT NOT NULL,
  kms_key TEXT NOT NULL
);
CREATE TABLE ecr_repository_tags (
  repository TEXT NOT NULL REFERENCES ecr_repositories(name) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (repository, key)
);
CREATE TABLE ecr_images (
  repository TEXT NOT NULL REFERENCES ecr_repositories(name) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  artifact_media_type TEXT NOT NULL,
  manifest_size INTEGER NOT NULL,
  image_size INTEGER NOT NULL,
  pushed_at REAL NOT NULL,
  PRIMARY KEY (repository, digest)
);
CREATE INDEX ecr_images_digest ON ecr_images(digest);
CREATE TABLE ecr_image_tags (
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (repository, tag),
  FOREIGN KEY (repository, digest) REFERENCES ecr_images(repository, digest) ON DELETE CASCADE
);
CREATE INDEX ecr_image_tags_digest ON ecr_image_tags(repository, digest);
CREATE TABLE ecr_image_refs (
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  ref TEXT NOT NULL,
  is_manifest INTEGER NOT NULL,
  PRIMARY KEY (repository, digest, ref),
  FOREIGN KEY (repository, digest) REFERENCES ecr_images(repository, digest) ON DELETE CASCADE
);
CREATE INDEX ecr_image_refs_ref ON ecr_image_refs(ref);
)sql"},
    // The blobs uploaded into, or mounted into, a repository: with the blobs
    // its images name, the only ones its /v2/<name>/blobs/ serves.
    store::Migration{2, "ecr repository blobs", R"sql(
CREATE TABLE ecr_repository_blobs (
  repository TEXT NOT NULL REFERENCES ecr_repositories(name) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  PRIMARY KEY (repository, digest)
);
CREATE INDEX ecr_repository_blobs_digest ON ecr_repository_blobs(digest);
)sql"},
};

// Whether `repository` holds `digest`: uploaded or mounted into it, named by
// one of its images (layer or config), or one of its manifests.
constexpr std::string_view kRepositoryHoldsBlob =
    "SELECT 1 FROM ecr_repository_blobs WHERE repository = ?1 AND digest = ?2 "
    "UNION ALL SELECT 1 FROM ecr_image_refs WHERE repository = ?1 AND ref = ?2 "
    "UNION ALL SELECT 1 FROM ecr_images WHERE repository = ?1 AND digest = ?2 LIMIT 1";

constexpr std::string_view kRepoColumns =
    "SELECT name, arn, registry_id, created_at, tag_mutability, scan_on_push, encryption_type, kms_key "
    "FROM ecr_repositories";

RepositoryRecord repo_from(const store::Statement& s) {
  RepositoryRecord r;
  r.name = s.column_string(0);
  r.arn = s.column_string(1);
  r.registry_id = s.column_string(2);
  r.created_at = s.column_double(3);
  r.tag_mutability = s.column_string(4);
  r.scan_on_push = s.column_int64(5) != 0;
  r.encryption_type = s.column_string(6);
  r.kms_key = s.column_string(7);
  return r;
}

constexpr std::string_view kImageColumns =
    "SELECT repository, digest, media_type, artifact_media_type, manifest_size, image_size, pushed_at "
    "FROM ecr_images";

ImageRecord image_from(const store::Statement& s) {
  ImageRecord r;
  r.repository = s.column_string(0);
  r.digest = s.column_string(1);
  r.media_type = s.column_string(2);
  r.artifact_media_type = s.column_string(3);
  r.manifest_size = s.column_int64(4);
  r.image_size = s.column_int64(5);
  r.pushed_at = s.column_double(6);
  return r;
}

// Runs sql with args and calls row(stmt) for each row.
template <class Row, class... Args>
Status each_row(Tx& tx, std::string_view sql, Row&& row, const Args&... args) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(args...);
  for (;;) {
    auto more = stmt->step();
    if (!more) return std::move(more).error();
    if (!*more) return Ok{};
    row(*stmt);
  }
}

Result<std::optional<RepositoryRecord>> find_repo(Tx& tx, std::string_view name) {
  std::optional<RepositoryRecord> out;
  auto s = each_row(tx, std::string(kRepoColumns) + " WHERE name = ?",
                    [&](const store::Statement& st) { out = repo_from(st); }, name);
  if (!s) return std::move(s).error();
  return out;
}

Result<std::vector<std::string>> tags_of(Tx& tx, std::string_view repo, std::string_view digest) {
  std::vector<std::string> tags;
  auto s = each_row(tx, "SELECT tag FROM ecr_image_tags WHERE repository = ? AND digest = ? ORDER BY tag",
                    [&](const store::Statement& st) { tags.push_back(st.column_string(0)); }, repo, digest);
  if (!s) return std::move(s).error();
  return tags;
}

Result<std::optional<ImageRecord>> find_image_tx(Tx& tx, std::string_view repo, std::string_view digest) {
  std::optional<ImageRecord> out;
  auto s = each_row(tx, std::string(kImageColumns) + " WHERE repository = ? AND digest = ?",
                    [&](const store::Statement& st) { out = image_from(st); }, repo, digest);
  if (!s) return std::move(s).error();
  if (out) {
    auto tags = tags_of(tx, repo, digest);
    if (!tags) return std::move(tags).error();
    out->tags = std::move(*tags);
  }
  return out;
}

}  // namespace

Status Catalog::migrate(store::Database& db) { return store::apply_migrations(db, "ecr", kMigrations); }

std::string Catalog::repository_arn(std::string_view name) const {
  return "arn:aws:ecr:" + region_ + ":" + account_id_ + ":repository/" + std::string(name);
}

Error Catalog::repository_not_found(std::string_view name) const {
  return Error::not_found("RepositoryNotFoundException", "The repository with name '" + std::string(name) +
                                                             "' does not exist in the registry with id '" +
                                                             account_id_ + "'");
}

Result<RepositoryRecord> Catalog::create_repository(RepositoryRecord r, const std::vector<Tag>& tags) {
  r.arn = repository_arn(r.name);
  r.registry_id = account_id_;
  return db_.transaction([&](Tx& tx) -> Result<RepositoryRecord> {
    auto existing = find_repo(tx, r.name);
    if (!existing) return std::move(existing).error();
    if (*existing) {
      return Error::already_exists("RepositoryAlreadyExistsException",
                                   "The repository with name '" + r.name +
                                       "' already exists in the registry with id '" + account_id_ + "'");
    }
    auto s = tx.run("INSERT INTO ecr_repositories VALUES (?, ?, ?, ?, ?, ?, ?, ?)", r.name, r.arn, r.registry_id,
                    r.created_at, r.tag_mutability, static_cast<int64_t>(r.scan_on_push), r.encryption_type, r.kms_key);
    if (!s) return std::move(s).error();
    for (const auto& [k, v] : tags) {
      s = tx.run("INSERT OR REPLACE INTO ecr_repository_tags VALUES (?, ?, ?)", r.name, k, v);
      if (!s) return std::move(s).error();
    }
    tx.record_change("ecr_repositories", r.name, store::ChangeKind::kPut);
    return r;
  });
}

Result<RepositoryRecord> Catalog::get_repository(std::string_view name) {
  return db_.read([&](Tx& tx) -> Result<RepositoryRecord> {
    auto r = find_repo(tx, name);
    if (!r) return std::move(r).error();
    if (!*r) return repository_not_found(name);
    return std::move(**r);
  });
}

Result<std::vector<RepositoryRecord>> Catalog::list_repositories() {
  return db_.read([&](Tx& tx) -> Result<std::vector<RepositoryRecord>> {
    std::vector<RepositoryRecord> out;
    auto s = each_row(tx, std::string(kRepoColumns) + " ORDER BY name",
                      [&](const store::Statement& st) { out.push_back(repo_from(st)); });
    if (!s) return std::move(s).error();
    return out;
  });
}

Result<RepositoryRecord> Catalog::delete_repository(std::string_view name, bool force) {
  return db_.transaction([&](Tx& tx) -> Result<RepositoryRecord> {
    auto r = find_repo(tx, name);
    if (!r) return std::move(r).error();
    if (!*r) return repository_not_found(name);
    int64_t images = 0;
    auto s = each_row(tx, "SELECT count(*) FROM ecr_images WHERE repository = ?",
                      [&](const store::Statement& st) { images = st.column_int64(0); }, name);
    if (!s) return std::move(s).error();
    if (images > 0 && !force) {
      return Error::conflict("RepositoryNotEmptyException",
                             "The repository with name '" + std::string(name) + "' in registry with id '" +
                                 account_id_ + "' cannot be deleted because it still contains images");
    }
    // Tags and refs go first: their foreign keys point at images.
    for (auto sql : {"DELETE FROM ecr_image_tags WHERE repository = ?", "DELETE FROM ecr_image_refs WHERE repository = ?",
                     "DELETE FROM ecr_repository_blobs WHERE repository = ?",
                     "DELETE FROM ecr_images WHERE repository = ?", "DELETE FROM ecr_repository_tags WHERE repository = ?",
                     "DELETE FROM ecr_repositories WHERE name = ?"}) {
      s = tx.run(sql, name);
      if (!s) return std::move(s).error();
    }
    tx.record_change("ecr_repositories", name, store::ChangeKind::kDelete);
    return std::move(**r);
  });
}

Result<RepositoryRecord> Catalog::set_tag_mutability(std::string_view name, std::string_view mutability) {
  return db_.transaction([&](Tx& tx) -> Result<RepositoryRecord> {
    auto s = tx.run("UPDATE ecr_repositories SET tag_mutability = ? WHERE name = ?", mutability, name);
    if (!s) return std::move(s).error();
    if (tx.rows_changed() == 0) return repository_not_found(name);
    tx.record_change("ecr_repositories", name, store::ChangeKind::kPut);
    auto r = find_repo(tx, name);
    if (!r) return std::move(r).error();
    return std::move(**r);
  });
}

Result<std::vector<Tag>> Catalog::resource_tags(std::string_view name) {
  return db_.read([&](Tx& tx) -> Result<std::vector<Tag>> {
    auto r = find_repo(tx, name);
    if (!r) return std::move(r).error();
    if (!*r) return repository_not_found(name);
    std::vector<Tag> out;
    auto s = each_row(tx, "SELECT key, value FROM ecr_repository_tags WHERE repository = ? ORDER BY key",
                      [&](const store::Statement& st) { out.emplace_back(st.column_string(0), st.column_string(1)); },
                      name);
    if (!s) return std::move(s).error();
    return out;
  });
}

Status Catalog::put_resource_tags(std::string_view name, const std::vector<Tag>& tags) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto r = find_repo(tx, name);
    if (!r) return std::move(r).error();
    if (!*r) return repository_not_found(name);
    for (const auto& [k, v] : tags) {
      auto s = tx.run("INSERT OR REPLACE INTO ecr_repository_tags VALUES (?, ?, ?)", name, k, v);
      if (!s) return s;
    }
    tx.record_change("ecr_repositories", name, store::ChangeKind::kPut);
    return Ok{};
  });
}

Status Catalog::remove_resource_tags(std::string_view name, const std::vector<std::string>& keys) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto r = find_repo(tx, name);
    if (!r) return std::move(r).error();
    if (!*r) return repository_not_found(name);
    for (const auto& k : keys) {
      auto s = tx.run("DELETE FROM ecr_repository_tags WHERE repository = ? AND key = ?", name, k);
      if (!s) return s;
    }
    tx.record_change("ecr_repositories", name, store::ChangeKind::kPut);
    return Ok{};
  });
}

Result<PutOutcome> Catalog::put_image(const NewImage& image) {
  return db_.transaction([&](Tx& tx) -> Result<PutOutcome> {
    auto repo = find_repo(tx, image.repository);
    if (!repo) return std::move(repo).error();
    if (!*repo) return repository_not_found(image.repository);
    PutOutcome out;
    auto existing = find_image_tx(tx, image.repository, image.digest);
    if (!existing) return std::move(existing).error();
    out.image_existed = existing->has_value();
    if (image.tag) {
      std::optional<std::string> current;
      auto s = each_row(tx, "SELECT digest FROM ecr_image_tags WHERE repository = ? AND tag = ?",
                        [&](const store::Statement& st) { current = st.column_string(0); }, image.repository,
                        *image.tag);
      if (!s) return std::move(s).error();
      out.tag_existed = current && *current == image.digest;
      if (current && *current != image.digest && (*repo)->tag_mutability.rfind("IMMUTABLE", 0) == 0) {
        return Error::conflict("ImageTagAlreadyExistsException",
                               "The image tag '" + *image.tag + "' already exists in the '" + image.repository +
                                   "' repository and cannot be overwritten because the repository is immutable.");
      }
    }
    if (!out.image_existed) {
      for (const auto& child : image.manifest_refs) {
        auto found = find_image_tx(tx, image.repository, child);
        if (!found) return std::move(found).error();
        if (!*found) return Error::invalid("MANIFEST_BLOB_UNKNOWN", child);
      }
      // A layer or config must be in this repository: a manifest naming
      // another push's blob by digest would otherwise read it out.
      for (const auto& ref : image.blob_refs) {
        bool held = false;
        auto s = each_row(tx, kRepositoryHoldsBlob, [&](const store::Statement&) { held = true; }, image.repository,
                          ref);
        if (!s) return std::move(s).error();
        if (!held) return Error::invalid("MANIFEST_BLOB_UNKNOWN", ref);
      }
      auto s = tx.run("INSERT INTO ecr_images VALUES (?, ?, ?, ?, ?, ?, ?)", image.repository, image.digest,
                      image.media_type, image.artifact_media_type, image.manifest_size, image.image_size,
                      image.pushed_at);
      if (!s) return std::move(s).error();
      for (const auto& ref : image.blob_refs) {
        s = tx.run("INSERT OR IGNORE INTO ecr_image_refs VALUES (?, ?, ?, 0)", image.repository, image.digest, ref);
        if (!s) return std::move(s).error();
      }
      for (const auto& ref : image.manifest_refs) {
        s = tx.run("INSERT OR IGNORE INTO ecr_image_refs VALUES (?, ?, ?, 1)", image.repository, image.digest, ref);
        if (!s) return std::move(s).error();
      }
    }
    if (image.tag && !out.tag_existed) {
      auto s = tx.run("INSERT OR REPLACE INTO ecr_image_tags VALUES (?, ?, ?)", image.repository, *image.tag,
                      image.digest);
      if (!s) return std::move(s).error();
    }
    tx.record_change("ecr_images", image.repository + "@" + image.digest, store::ChangeKind::kPut);
    auto stored = find_image_tx(tx, image.repository, image.digest);
    if (!stored) return std::move(stored).error();
    out.image = std::move(**stored);
    return out;
  });
}

Result<std::optional<ImageRecord>> Catalog::find_image(std::string_view repository, std::string_view digest) {
  return db_.read([&](Tx& tx) { return find_image_tx(tx, repository, digest); });
}

Result<std::optional<std::string>> Catalog::resolve_tag(std::string_view repository, std::string_view tag) {
  return db_.read([&](Tx& tx) -> Result<std::optional<std::string>> {
    std::optional<std::string> out;
    auto s = each_row(tx, "SELECT digest FROM ecr_image_tags WHERE repository = ? AND tag = ?",
                      [&](const store::Statement& st) { out = st.column_string(0); }, repository, tag);
    if (!s) return std::move(s).error();
    return out;
  });
}

Result<std::vector<ImageRecord>> Catalog::list_images(std::string_view repository) {
  return db_.read([&](Tx& tx) -> Result<std::vector<ImageRecord>> {
    auto repo = find_repo(tx, repository);
    if (!repo) return std::move(repo).error();
    if (!*repo) return repository_not_found(repository);
    std::vector<ImageRecord> out;
    auto s = each_row(tx, std::string(kImageColumns) + " WHERE repository = ? ORDER BY pushed_at, digest",
                      [&](const store::Statement& st) { out.push_back(image_from(st)); }, repository);
    if (!s) return std::move(s).error();
    for (auto& image : out) {
      auto tags = tags_of(tx, repository, image.digest);
      if (!tags) return std::move(tags).error();
      image.tags = std::move(*tags);
    }
    return out;
  });
}

Result<std::vector<std::string>> Catalog::list_tags(std::string_view repository) {
  return db_.read([&](Tx& tx) -> Result<std::vector<std::string>> {
    auto repo = find_repo(tx, repository);
    if (!repo) return std::move(repo).error();
    if (!*repo) return repository_not_found(repository);
    std::vector<std::string> out;
    auto s = each_row(tx, "SELECT tag FROM ecr_image_tags WHERE repository = ? ORDER BY tag",
                      [&](const store::Statement& st) { out.push_back(st.column_string(0)); }, repository);
    if (!s) return std::move(s).error();
    return out;
  });
}

Status Catalog::delete_image(std::string_view repository, std::string_view digest) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto repo = find_repo(tx, repository);
    if (!repo) return std::move(repo).error();
    if (!*repo) return repository_not_found(repository);
    auto found = find_image_tx(tx, repository, digest);
    if (!found) return std::move(found).error();
    if (!*found) return Error::not_found("ImageNotFound", "Requested image not found");
    bool referenced = false;
    auto s = each_row(tx, "SELECT 1 FROM ecr_image_refs WHERE repository = ? AND ref = ? AND is_manifest = 1",
                      [&](const store::Statement&) { referenced = true; }, repository, digest);
    if (!s) return s;
    if (referenced) {
      return Error::conflict("ImageReferencedByManifestList",
                             "Requested image is referenced by a manifest list: " + std::string(digest));
    }
    for (auto sql : {"DELETE FROM ecr_image_tags WHERE repository = ? AND digest = ?",
                     "DELETE FROM ecr_image_refs WHERE repository = ? AND digest = ?",
                     "DELETE FROM ecr_images WHERE repository = ? AND digest = ?"}) {
      s = tx.run(sql, repository, digest);
      if (!s) return s;
    }
    tx.record_change("ecr_images", std::string(repository) + "@" + std::string(digest), store::ChangeKind::kDelete);
    return Ok{};
  });
}

Result<std::string> Catalog::delete_tag(std::string_view repository, std::string_view tag) {
  return db_.transaction([&](Tx& tx) -> Result<std::string> {
    auto repo = find_repo(tx, repository);
    if (!repo) return std::move(repo).error();
    if (!*repo) return repository_not_found(repository);
    std::optional<std::string> digest;
    auto s = each_row(tx, "SELECT digest FROM ecr_image_tags WHERE repository = ? AND tag = ?",
                      [&](const store::Statement& st) { digest = st.column_string(0); }, repository, tag);
    if (!s) return std::move(s).error();
    if (!digest) return Error::not_found("ImageNotFound", "Requested image not found");
    s = tx.run("DELETE FROM ecr_image_tags WHERE repository = ? AND tag = ?", repository, tag);
    if (!s) return std::move(s).error();
    tx.record_change("ecr_images", std::string(repository) + "@" + *digest, store::ChangeKind::kPut);
    return *digest;
  });
}

Result<bool> Catalog::blob_referenced(std::string_view digest) {
  return db_.read([&](Tx& tx) -> Result<bool> {
    bool found = false;
    auto s = each_row(tx,
                      "SELECT 1 FROM ecr_image_refs WHERE ref = ?1 UNION ALL SELECT 1 FROM ecr_images WHERE digest = ?1 "
                      "UNION ALL SELECT 1 FROM ecr_repository_blobs WHERE digest = ?1 LIMIT 1",
                      [&](const store::Statement&) { found = true; }, digest);
    if (!s) return std::move(s).error();
    return found;
  });
}

Status Catalog::link_blob(std::string_view repository, std::string_view digest) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto repo = find_repo(tx, repository);
    if (!repo) return std::move(repo).error();
    if (!*repo) return repository_not_found(repository);
    return tx.run("INSERT OR IGNORE INTO ecr_repository_blobs VALUES (?, ?)", repository, digest);
  });
}

Result<bool> Catalog::repository_holds_blob(std::string_view repository, std::string_view digest) {
  return db_.read([&](Tx& tx) -> Result<bool> {
    bool held = false;
    auto s = each_row(tx, kRepositoryHoldsBlob, [&](const store::Statement&) { held = true; }, repository, digest);
    if (!s) return std::move(s).error();
    return held;
  });
}

Result<BlobUnlink> Catalog::unlink_blob(std::string_view repository, std::string_view digest) {
  return db_.transaction([&](Tx& tx) -> Result<BlobUnlink> {
    bool named = false;
    auto s = each_row(tx,
                      "SELECT 1 FROM ecr_image_refs WHERE repository = ?1 AND ref = ?2 "
                      "UNION ALL SELECT 1 FROM ecr_images WHERE repository = ?1 AND digest = ?2 LIMIT 1",
                      [&](const store::Statement&) { named = true; }, repository, digest);
    if (!s) return std::move(s).error();
    if (named) return BlobUnlink::kReferenced;
    s = tx.run("DELETE FROM ecr_repository_blobs WHERE repository = ? AND digest = ?", repository, digest);
    if (!s) return std::move(s).error();
    if (tx.rows_changed() == 0) return BlobUnlink::kNotHeld;
    bool elsewhere = false;
    s = each_row(tx,
                 "SELECT 1 FROM ecr_image_refs WHERE ref = ?1 UNION ALL SELECT 1 FROM ecr_images WHERE digest = ?1 "
                 "UNION ALL SELECT 1 FROM ecr_repository_blobs WHERE digest = ?1 LIMIT 1",
                 [&](const store::Statement&) { elsewhere = true; }, digest);
    if (!s) return std::move(s).error();
    return elsewhere ? BlobUnlink::kUnlinked : BlobUnlink::kUnlinkedLast;
  });
}

}  // namespace berth::ecr
