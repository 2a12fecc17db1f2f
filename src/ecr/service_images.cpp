// ECR API: images (ListImages, DescribeImages, BatchGetImage,
// BatchDeleteImage, PutImage) over the same catalog and blob store the
// registry uses.
#include <boost/json/array.hpp>

#include "ecr/digest.h"
#include "ecr/image_store.h"
#include "ecr/manifest.h"
#include "ecr/names.h"
#include "ecr/service_common.h"

namespace berth::ecr::svc {
namespace {

struct ImageId {
  std::optional<std::string> digest;
  std::optional<std::string> tag;
};

Result<std::vector<ImageId>> image_ids(const boost::json::object& in, bool required) {
  std::vector<ImageId> out;
  auto it = in.find("imageIds");
  if (it == in.end()) {
    if (required) return invalid_parameter("Missing required parameter 'imageIds'");
    return out;
  }
  if (!it->value().is_array()) return invalid_parameter("Invalid parameter at 'imageIds'");
  for (const auto& v : it->value().get_array()) {
    if (!v.is_object()) return invalid_parameter("Invalid parameter at 'imageIds'");
    auto d = opt_string(v.get_object(), "imageDigest");
    auto t = opt_string(v.get_object(), "imageTag");
    if (!d) return std::move(d).error();
    if (!t) return std::move(t).error();
    out.push_back({std::move(*d), std::move(*t)});
  }
  return out;
}

boost::json::object id_json(const ImageId& id) {
  boost::json::object o;
  if (id.digest) o["imageDigest"] = *id.digest;
  if (id.tag) o["imageTag"] = *id.tag;
  return o;
}

boost::json::object failure(const ImageId& id, std::string_view code, std::string_view reason) {
  return {{"imageId", id_json(id)}, {"failureCode", code}, {"failureReason", reason}};
}

// Resolves one imageId to an image; on failure fills code and reason.
std::optional<ImageRecord> lookup(Catalog& catalog, std::string_view repo, const ImageId& id, std::string& code,
                                  std::string& reason) {
  if (!id.digest && !id.tag) {
    code = "MissingDigestAndTag";
    reason = "Invalid request parameters: both tag and digest cannot be null";
    return std::nullopt;
  }
  if (id.digest && !is_sha256_digest(*id.digest)) {
    code = "InvalidImageDigest";
    reason = "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'";
    return std::nullopt;
  }
  auto image = resolve_image(catalog, repo, id.digest ? *id.digest : *id.tag);
  if (!image) {
    code = "ImageNotFound";
    reason = "Requested image not found";
    return std::nullopt;
  }
  if (id.digest && id.tag && std::find(image->tags.begin(), image->tags.end(), *id.tag) == image->tags.end()) {
    code = "ImageTagDoesNotMatchDigest";
    reason = "Invalid request parameters: given tag does not map to the given digest";
    return std::nullopt;
  }
  return std::move(*image);
}

Result<std::string> tag_status(const boost::json::object& in) {
  auto it = in.find("filter");
  if (it == in.end() || !it->value().is_object()) return std::string("ANY");
  auto s = opt_string(it->value().get_object(), "tagStatus");
  if (!s) return std::move(s).error();
  std::string v = s->value_or("ANY");
  if (v != "ANY" && v != "TAGGED" && v != "UNTAGGED") {
    return invalid_parameter("Invalid parameter at 'tagStatus' failed to satisfy constraint: 'Member must satisfy enum "
                             "value set: [TAGGED, UNTAGGED, ANY]'");
  }
  return v;
}

bool wanted(const ImageRecord& image, std::string_view status) {
  if (status == "TAGGED") return !image.tags.empty();
  if (status == "UNTAGGED") return image.tags.empty();
  return true;
}

boost::json::object detail_json(const ImageRecord& image, const std::string& registry_id) {
  boost::json::object o;
  o["registryId"] = registry_id;
  o["repositoryName"] = image.repository;
  o["imageDigest"] = image.digest;
  if (!image.tags.empty()) {
    boost::json::array tags;
    for (const auto& t : image.tags) tags.emplace_back(t);
    o["imageTags"] = std::move(tags);
  }
  o["imageSizeInBytes"] = image.image_size;
  o["imagePushedAt"] = image.pushed_at;
  o["imageManifestMediaType"] = image.media_type;
  if (!image.artifact_media_type.empty()) o["artifactMediaType"] = image.artifact_media_type;
  return o;
}

std::string image_not_found_message(const Catalog& catalog, std::string_view repo, const ImageId& id) {
  auto q = [](const std::optional<std::string>& v) { return v ? "'" + *v + "'" : std::string("'null'"); };
  return "The image with imageId {imageDigest:" + q(id.digest) + ", imageTag:" + q(id.tag) +
         "} does not exist within the repository with name '" + std::string(repo) +
         "' in the registry with id '" + catalog.account_id() + "'";
}

}  // namespace

void add_image_operations(api::Service& service, Catalog& catalog, BlobStore& blobs) {
  service.add("ListImages", [&catalog](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    auto limit = max_results(in, 1000, 1000);
    if (!limit) return std::move(limit).error();
    auto status = tag_status(in);
    if (!status) return std::move(status).error();
    auto token = opt_string(in, "nextToken");
    if (!token) return std::move(token).error();
    auto images = catalog.list_images(*name);
    if (!images) return std::move(images).error();
    // One entry per tag, untagged images by digest; the token is an offset.
    std::vector<boost::json::object> ids;
    for (const auto& image : *images) {
      if (!wanted(image, *status)) continue;
      if (image.tags.empty()) ids.push_back(image_id_json(image.digest, std::nullopt));
      for (const auto& t : image.tags) ids.push_back(image_id_json(image.digest, t));
    }
    size_t start = *token ? std::strtoull((*token)->c_str(), nullptr, 10) : 0;
    boost::json::array page;
    for (size_t i = start; i < ids.size() && page.size() < *limit; ++i) page.push_back(ids[i]);
    boost::json::object out{{"imageIds", std::move(page)}};
    if (start + *limit < ids.size()) out["nextToken"] = std::to_string(start + *limit);
    return body(out);
  });

  service.add("DescribeImages", [&catalog](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    auto ids = image_ids(in, false);
    if (!ids) return std::move(ids).error();
    auto status = tag_status(in);
    if (!status) return std::move(status).error();
    auto limit = max_results(in, 100, 1000);
    if (!limit) return std::move(limit).error();
    auto token = opt_string(in, "nextToken");
    if (!token) return std::move(token).error();
    boost::json::array details;
    boost::json::object out;
    if (!ids->empty()) {
      if (auto repo = catalog.get_repository(*name); !repo) return std::move(repo).error();
      for (const auto& id : *ids) {
        std::string code, reason;
        auto image = lookup(catalog, *name, id, code, reason);
        if (!image) {
          if (code == "ImageNotFound") {
            return Error::not_found("ImageNotFoundException", image_not_found_message(catalog, *name, id));
          }
          return invalid_parameter(reason);
        }
        details.push_back(detail_json(*image, catalog.account_id()));
      }
    } else {
      auto images = catalog.list_images(*name);
      if (!images) return std::move(images).error();
      size_t start = *token ? std::strtoull((*token)->c_str(), nullptr, 10) : 0, seen = 0;
      for (const auto& image : *images) {
        if (!wanted(image, *status)) continue;
        if (seen++ < start) continue;
        if (details.size() == *limit) {
          out["nextToken"] = std::to_string(start + *limit);
          break;
        }
        details.push_back(detail_json(image, catalog.account_id()));
      }
    }
    out["imageDetails"] = std::move(details);
    return body(out);
  });

  service.add("BatchGetImage", [&catalog, &blobs](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    auto ids = image_ids(in, true);
    if (!ids) return std::move(ids).error();
    if (auto repo = catalog.get_repository(*name); !repo) return std::move(repo).error();
    boost::json::array images, failures;
    for (const auto& id : *ids) {
      std::string code, reason;
      auto image = lookup(catalog, *name, id, code, reason);
      if (!image) {
        failures.push_back(failure(id, code, reason));
        continue;
      }
      auto manifest = blobs.read_all(image->digest, kMaxManifestBytes);
      if (!manifest) {
        failures.push_back(failure(id, "ImageNotFound", "Requested image not found"));
        continue;
      }
      ImageId shown{image->digest, id.tag};
      images.push_back(boost::json::object{{"registryId", catalog.account_id()},
                                           {"repositoryName", *name},
                                           {"imageId", id_json(shown)},
                                           {"imageManifest", *manifest},
                                           {"imageManifestMediaType", image->media_type}});
    }
    return body({{"images", std::move(images)}, {"failures", std::move(failures)}});
  });

  service.add("BatchDeleteImage", [&catalog](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    auto ids = image_ids(in, true);
    if (!ids) return std::move(ids).error();
    if (auto repo = catalog.get_repository(*name); !repo) return std::move(repo).error();
    boost::json::array deleted, failures;
    for (const auto& id : *ids) {
      std::string code, reason;
      auto image = lookup(catalog, *name, id, code, reason);
      if (!image) {
        failures.push_back(failure(id, code, reason));
        continue;
      }
      // By tag alone: untag, and the image goes once no tag is left (as ECR does).
      if (!id.digest && image->tags.size() > 1) {
        auto d = catalog.delete_tag(*name, *id.tag);
        if (!d) return std::move(d).error();
        deleted.push_back(id_json({image->digest, id.tag}));
        continue;
      }
      if (auto s = catalog.delete_image(*name, image->digest); !s) {
        if (s.error().code == "ImageReferencedByManifestList") {
          failures.push_back(failure(id, "ImageReferencedByManifestList", s.error().message));
          continue;
        }
        return std::move(s).error();
      }
      if (image->tags.empty()) deleted.push_back(id_json({image->digest, std::nullopt}));
      for (const auto& t : image->tags) deleted.push_back(id_json({image->digest, t}));
    }
    return body({{"imageIds", std::move(deleted)}, {"failures", std::move(failures)}});
  });

  service.add("PutImage", [&catalog, &blobs](const api::CallContext& ctx, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    auto manifest = req_string(in, "imageManifest");
    if (!manifest) return std::move(manifest).error();
    auto media_type = opt_string(in, "imageManifestMediaType");
    auto tag = opt_string(in, "imageTag");
    auto digest = opt_string(in, "imageDigest");
    if (!media_type) return std::move(media_type).error();
    if (!tag) return std::move(tag).error();
    if (!digest) return std::move(digest).error();
    if (*tag && (**tag).size() > 300) {
      return invalid_parameter("Invalid parameter at 'imageTag' failed to satisfy constraint: 'Member must have length "
                               "less than or equal to 300'");
    }
    if (*tag && !is_valid_tag(**tag)) return invalid_parameter("Invalid parameter at 'imageTag'");
    ManifestPut put;
    put.repository = *name;
    put.bytes = *manifest;
    put.content_type = *media_type ? std::string_view(**media_type) : std::string_view();
    put.type_required = true;
    put.tag = *tag;
    put.expected_digest = *digest;
    put.pushed_at = std::chrono::duration<double>(ctx.now.time_since_epoch()).count();
    std::string pre_digest = sha256_digest(*manifest);
    if (auto before = catalog.find_image(*name, pre_digest); before && *before) {
      const auto& tags = (**before).tags;
      if (!*tag || std::find(tags.begin(), tags.end(), **tag) != tags.end()) {
        return Error::already_exists("ImageAlreadyExistsException",
                                     "Image with digest '" + pre_digest + "' and tag '" + tag->value_or("null") +
                                         "' already exists in the repository with name '" + *name +
                                         "' in registry with id '" + catalog.account_id() + "'");
      }
    }
    auto stored = store_manifest(catalog, blobs, put);
    if (!stored) {
      const Error& e = stored.error();
      if (e.code == "MANIFEST_INVALID") {
        // ECR's words for unparseable JSON ("... constraint: 'Invalid JSON
        // syntax'"); the other reasons are berth's (ECR's texts unverified).
        return invalid_parameter("Invalid parameter at 'ImageManifest' failed to satisfy constraint: '" +
                                 std::string(manifest_invalid_reason(e.message)) + "'");
      }
      if (e.code == "MANIFEST_BLOB_UNKNOWN") {
        // A missing child of an index is not a layer (ECR's text unverified).
        if (auto parsed = parse_manifest(*manifest, put.content_type); parsed && parsed->is_index) {
          return Error::invalid("ReferencedImagesNotFoundException",
                                "The manifest list references images that do not exist in the repository with name '" +
                                    *name + "' in the registry with id '" + catalog.account_id() + "': [" +
                                    e.message + "]");
        }
        return Error::invalid("LayersNotFoundException",
                              "Layers with digests '[" + e.message + "]' required for pushing image into repository "
                              "with name '" + *name + "' in the registry with id '" + catalog.account_id() +
                              "' do not exist");
      }
      if (e.code == "DIGEST_INVALID") {
        return Error::invalid("ImageDigestDoesNotMatchException",
                              "The provided digest '" + digest->value_or("") +
                                  "' does not match the digest of the manifest '" + pre_digest + "'");
      }
      return std::move(stored).error();
    }
    ImageId id{stored->image.digest, *tag};
    return body({{"image", boost::json::object{{"registryId", catalog.account_id()},
                                                {"repositoryName", *name},
                                                {"imageId", id_json(id)},
                                                {"imageManifest", *manifest},
                                                {"imageManifestMediaType", stored->image.media_type}}}});
  });
}

}  // namespace berth::ecr::svc
