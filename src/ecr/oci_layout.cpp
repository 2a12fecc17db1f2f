#include "ecr/oci_layout.h"

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <fstream>

#include "ecr/digest.h"
#include "ecr/image_store.h"
#include "ecr/manifest.h"

namespace berth::ecr {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

Status link_blob(const BlobStore& blobs, std::string_view digest, const fs::path& dir) {
  fs::path src = blobs.path_of(digest);
  fs::path dst = dir / std::string(digest_hex(digest));
  ::unlink(dst.c_str());
  if (::link(src.c_str(), dst.c_str()) == 0) return Ok{};
  if (errno == ENOENT) return Error::not_found("BLOB_UNKNOWN", "blob " + std::string(digest) + " is missing");
  if (::symlink(src.c_str(), dst.c_str()) == 0) return Ok{};
  return Error::internal("cannot link " + src.string() + " to " + dst.string());
}

Status write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Error::internal("cannot write " + path.string());
  return Ok{};
}

std::string_view oci_layer_type(std::string_view t) {
  if (t == "application/vnd.docker.image.rootfs.diff.tar.gzip") return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (t == "application/vnd.docker.image.rootfs.diff.tar") return "application/vnd.oci.image.layer.v1.tar";
  if (t == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") {
    return "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
  }
  return t;
}

}  // namespace

Result<LayoutWritten> write_oci_layout(Catalog& catalog, const BlobStore& blobs, std::string_view repository,
                                       std::string_view reference, const fs::path& out_dir,
                                       std::string_view ref_name) {
  auto image = resolve_image(catalog, repository, reference);
  if (!image) return std::move(image).error();
  auto bytes = blobs.read_all(image->digest, kMaxManifestBytes);
  if (!bytes) return std::move(bytes).error();
  auto manifest = parse_manifest(*bytes, image->media_type);
  if (!manifest) return std::move(manifest).error();
  if (manifest->is_index) {
    const Descriptor* pick = nullptr;
    for (const auto& m : manifest->manifests) {
      if (m.platform_os == "linux" && m.platform_arch == "amd64") pick = &m;
    }
    if (pick == nullptr && !manifest->manifests.empty()) pick = &manifest->manifests.front();
    if (pick == nullptr) return Error::invalid("MANIFEST_INVALID", "the index lists no manifest");
    return write_oci_layout(catalog, blobs, repository, pick->digest, out_dir, ref_name);
  }

  fs::path blob_dir = out_dir / "blobs" / "sha256";
  std::error_code ec;
  fs::create_directories(blob_dir, ec);
  if (ec) return Error::internal("cannot create " + blob_dir.string() + ": " + ec.message());
  if (auto s = link_blob(blobs, manifest->config.digest, blob_dir); !s) return std::move(s).error();
  for (const auto& l : manifest->layers) {
    if (auto s = link_blob(blobs, l.digest, blob_dir); !s) return std::move(s).error();
  }

  std::string manifest_bytes = *bytes;
  if (manifest->media_type == kDockerManifestV2) {
    json::value v = json::parse(*bytes);
    auto& o = v.as_object();
    o["mediaType"] = kOciManifest;
    auto& config = o["config"].as_object();
    if (config["mediaType"].as_string() == kDockerConfig) config["mediaType"] = kOciConfig;
    for (auto& l : o["layers"].as_array()) {
      auto& lo = l.as_object();
      lo["mediaType"] = oci_layer_type(std::string_view(lo["mediaType"].as_string()));
    }
    manifest_bytes = json::serialize(v);
  }
  std::string manifest_digest = sha256_digest(manifest_bytes);
  if (auto s = write_file(blob_dir / std::string(digest_hex(manifest_digest)), manifest_bytes); !s) {
    return std::move(s).error();
  }
  json::object descriptor{{"mediaType", kOciManifest},
                          {"digest", manifest_digest},
                          {"size", manifest_bytes.size()},
                          {"annotations", json::object{{"org.opencontainers.image.ref.name", ref_name}}}};
  json::object index{{"schemaVersion", 2}, {"manifests", json::array{std::move(descriptor)}}};
  if (auto s = write_file(out_dir / "index.json", json::serialize(index)); !s) return std::move(s).error();
  if (auto s = write_file(out_dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"); !s) {
    return std::move(s).error();
  }
  return LayoutWritten{manifest_digest, image->digest};
}

}  // namespace berth::ecr
