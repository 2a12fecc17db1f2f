#include "runtime/image_cache.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/ids.h"
#include "runtime/subprocess.h"

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
constexpr auto kUnpackTimeout = std::chrono::minutes(5);

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Error pull_error(const std::string& what) {
  return Error::not_found("CannotPullContainerError", "CannotPullContainerError: " + what);
}

std::string hex_of(const std::string& digest) {
  auto colon = digest.find(':');
  return colon == std::string::npos ? digest : digest.substr(colon + 1);
}

bool valid_digest(const std::string& digest) {
  std::string hex = hex_of(digest);
  if (digest.rfind("sha256:", 0) != 0 || hex.size() != 64) return false;
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// The ref name umoci needs, and the image config blob, from the layout.
struct LayoutImage {
  std::string ref_name;
  std::string config_json;
};

const json::string* string_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

// Reads what the layout's writer (ecr::write_oci_layout, or a test) put
// there; anything odd in it is a pull error, never an exception.
Result<LayoutImage> read_layout(const fs::path& layout, const ImageSource& source) {
  auto index_text = read_file(layout / "index.json");
  if (!index_text) return pull_error("no image layout at " + layout.string());
  boost::system::error_code ec;
  auto index = json::parse(*index_text, ec);
  const json::object* index_object = ec ? nullptr : index.if_object();
  const json::value* manifests = index_object ? index_object->if_contains("manifests") : nullptr;
  if (manifests == nullptr || !manifests->is_array()) return pull_error("bad index.json in " + layout.string());
  LayoutImage out;
  for (const auto& m : manifests->get_array()) {
    const json::object* o = m.if_object();
    if (o == nullptr) continue;
    const json::string* digest_member = string_member(*o, "digest");
    std::string digest = digest_member ? std::string(*digest_member) : "";
    std::string ref;
    if (const json::value* a = o->if_contains("annotations"); a && a->is_object())
      if (const json::string* r = string_member(a->get_object(), "org.opencontainers.image.ref.name"))
        ref = std::string(*r);
    bool wanted = source.ref_name.empty() ? (digest == source.manifest_digest || source.manifest_digest.empty())
                                          : ref == source.ref_name;
    if (!wanted) continue;
    if (!valid_digest(digest)) return pull_error("layout manifest with an invalid digest '" + digest + "'");
    out.ref_name = ref;
    auto manifest_text = read_file(layout / "blobs" / "sha256" / hex_of(digest));
    if (!manifest_text) return pull_error("manifest " + digest + " missing from the layout");
    auto manifest = json::parse(*manifest_text, ec);
    const json::object* manifest_object = ec ? nullptr : manifest.if_object();
    const json::value* config = manifest_object ? manifest_object->if_contains("config") : nullptr;
    const json::string* config_member = config && config->is_object() ? string_member(config->get_object(), "digest") : nullptr;
    if (config_member == nullptr) return pull_error("bad manifest " + digest);
    std::string config_digest(*config_member);
    if (!valid_digest(config_digest)) return pull_error("bad manifest " + digest + ": invalid config digest");
    auto config_text = read_file(layout / "blobs" / "sha256" / hex_of(config_digest));
    if (!config_text) return pull_error("image config " + config_digest + " missing");
    out.config_json = *config_text;
    if (out.ref_name.empty()) return pull_error("layout manifest has no ref name for umoci");
    return out;
  }
  return pull_error("manifest " + source.manifest_digest + " not found in " + layout.string());
}

}  // namespace

bool ImageCache::cached(const std::string& manifest_digest) const {
  std::error_code ec;
  return fs::exists(dir_ / hex_of(manifest_digest) / "image-config.json", ec);
}

Result<CachedImage> ImageCache::ensure(const ImageSource& source) {
  if (!source.prepared_rootfs.empty()) {
    auto config = parse_image_config(source.prepared_config_json.empty() ? "{}" : source.prepared_config_json);
    if (!config) return std::move(config).error();
    return CachedImage{source.prepared_rootfs, std::move(*config)};
  }
  if (!valid_digest(source.manifest_digest))
    return pull_error("invalid manifest digest '" + source.manifest_digest + "'");
  std::lock_guard lock(mutex_);
  fs::path dir = dir_ / hex_of(source.manifest_digest);
  if (auto text = read_file(dir / "image-config.json")) {
    auto config = parse_image_config(*text);
    if (!config) return std::move(config).error();
    return CachedImage{(dir / "rootfs").string(), std::move(*config)};
  }
  return unpack(source);
}

Result<CachedImage> ImageCache::unpack(const ImageSource& source) {
  fs::path dir = dir_ / hex_of(source.manifest_digest);
  auto image = read_layout(source.layout_dir, source);
  if (!image) return std::move(image).error();
  auto config = parse_image_config(image->config_json);
  if (!config) return std::move(config).error();

  std::error_code ec;
  fs::create_directories(dir_, ec);
  fs::path tmp = dir_ / (hex_of(source.manifest_digest) + ".tmp-" + ids::random_hex(8));
  auto r = run_program({umoci_, "unpack", "--image", source.layout_dir + ":" + image->ref_name, tmp.string()},
                       kUnpackTimeout);
  if (!r || r->exit_code != 0) {
    fs::remove_all(tmp, ec);
    return Error::internal("CannotPullContainerError: unpack failed: " + (r ? r->err : r.error().message));
  }
  // The image's "/" is not in its layers, so umoci creates it under the
  // daemon's umask (077): a container running as a non-root user could not
  // even reach its own entrypoint. Docker gives the root 0755.
  fs::permissions(tmp / "rootfs", fs::perms(0755), ec);
  {
    std::ofstream out(tmp / "image-config.json", std::ios::binary);
    out << image->config_json;
  }
  // The config file is what marks an entry complete: rename makes it
  // appear together with the rootfs.
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    return Error::internal("image cache: rename failed: " + ec.message());
  }
  return CachedImage{(dir / "rootfs").string(), std::move(*config)};
}

}  // namespace berth::runtime
