#include "ecr/oci_layout.h"

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <exception>
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

// The Docker schema 2 manifest with OCI media types (umoci reads only OCI).
// `bytes` passed parse_manifest; a stored manifest of an older berth may
// still be odd, so every member is checked, never assumed.
Result<std::string> as_oci_manifest(std::string_view bytes) {
  auto bad = [](std::string what) { return Error::invalid("MANIFEST_INVALID", "manifest invalid: " + what); };
  json::error_code ec;
  json::value v = json::parse(json::string_view(bytes.data(), bytes.size()), ec);
  json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return bad("not a JSON object");
  (*o)["mediaType"] = kOciManifest;
  json::object* config = o->contains("config") ? (*o)["config"].if_object() : nullptr;
  if (config == nullptr) return bad("no config");
  const json::string* config_type = config->contains("mediaType") ? (*config)["mediaType"].if_string() : nullptr;
  if (config_type == nullptr) return bad("config has no mediaType");
  if (*config_type == kDockerConfig) (*config)["mediaType"] = kOciConfig;
  json::array* layers = o->contains("layers") ? (*o)["layers"].if_array() : nullptr;
  if (layers == nullptr) return bad("no layers");
  for (auto& l : *layers) {
    json::object* layer = l.if_object();
    const json::string* type = layer && layer->contains("mediaType") ? (*layer)["mediaType"].if_string() : nullptr;
    if (type == nullptr) return bad("a layer has no mediaType");
    (*layer)["mediaType"] = oci_layer_type(std::string_view(*type));
  }
  return json::serialize(v);
}

// An index names an image (or another index); a chain this long is not an image.
constexpr int kMaxIndexDepth = 4;

Result<LayoutWritten> write_layout(Catalog& catalog, const BlobStore& blobs, std::string_view repository,
                                   std::string_view reference, const fs::path& out_dir, std::string_view ref_name,
                                   int depth) {
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
    if (pick == nullptr) return Error::invalid("MANIFEST_INVALID", "manifest invalid: the index lists no manifest");
    if (depth >= kMaxIndexDepth) return Error::invalid("MANIFEST_INVALID", "manifest invalid: indexes nested too deep");
    return write_layout(catalog, blobs, repository, pick->digest, out_dir, ref_name, depth + 1);
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
    auto rewritten = as_oci_manifest(*bytes);
    if (!rewritten) return std::move(rewritten).error();
    manifest_bytes = std::move(*rewritten);
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

}  // namespace

Result<LayoutWritten> write_oci_layout(Catalog& catalog, const BlobStore& blobs, std::string_view repository,
                                       std::string_view reference, const fs::path& out_dir,
                                       std::string_view ref_name) {
  // The runtime calls this on its launch thread: whatever the stored data,
  // an answer, never an exception (bad_alloc, a filesystem_error).
  try {
    return write_layout(catalog, blobs, repository, reference, out_dir, ref_name, 0);
  } catch (const std::exception& e) {
    return Error::internal(std::string("cannot write the image layout: ") + e.what());
  }
}

}  // namespace berth::ecr
