#include "ecr/manifest.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include "ecr/digest.h"

namespace berth::ecr {
namespace json = boost::json;
namespace {

Error invalid(std::string reason) { return Error::invalid("MANIFEST_INVALID", "manifest invalid: " + reason); }

std::string_view media_type_only(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

std::string_view str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return it->value().get_string();
}

Result<Descriptor> descriptor(const json::value& v, std::string_view where) {
  if (!v.is_object()) return invalid(std::string(where) + " is not an object");
  const auto& o = v.get_object();
  Descriptor d;
  d.media_type = str(o, "mediaType");
  d.digest = str(o, "digest");
  if (!is_sha256_digest(d.digest)) return invalid(std::string(where) + " has an invalid digest");
  auto size = o.find("size");
  if (size == o.end() || !size->value().is_number()) return invalid(std::string(where) + " has no size");
  if (size->value().is_int64()) d.size = size->value().get_int64();
  else if (size->value().is_uint64()) d.size = static_cast<int64_t>(size->value().get_uint64());
  else return invalid(std::string(where) + " size is not an integer");
  if (d.size < 0) return invalid(std::string(where) + " size is negative");
  d.foreign = d.media_type.find("foreign") != std::string::npos ||
              d.media_type.find("nondistributable") != std::string::npos;
  if (auto p = o.find("platform"); p != o.end() && p->value().is_object()) {
    d.platform_os = str(p->value().get_object(), "os");
    d.platform_arch = str(p->value().get_object(), "architecture");
  }
  return d;
}

}  // namespace

bool is_manifest_media_type(std::string_view t) {
  return t == kDockerManifestV2 || t == kDockerManifestList || t == kOciManifest || t == kOciIndex;
}

Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type) {
  if (bytes.size() > kMaxManifestBytes) return invalid("larger than 4 MiB");
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(json::string_view(bytes.data(), bytes.size()), ec, {}, opts);
  if (ec || !v.is_object()) return invalid("not a JSON object");
  const auto& o = v.get_object();
  auto version = o.find("schemaVersion");
  if (version == o.end() || !version->value().is_int64() || version->value().get_int64() != 2) {
    return invalid("schemaVersion must be 2");
  }
  Manifest m;
  std::string_view declared = str(o, "mediaType");
  std::string_view header = media_type_only(content_type);
  if (!header.empty() && is_manifest_media_type(header)) {
    if (!declared.empty() && declared != header) return invalid("mediaType does not match Content-Type");
    m.media_type = header;
  } else if (!declared.empty()) {
    m.media_type = declared;
  } else {
    // OCI allows mediaType to be absent: tell an index by its "manifests".
    m.media_type = o.contains("manifests") ? kOciIndex : kOciManifest;
  }
  if (!is_manifest_media_type(m.media_type)) return invalid("unsupported media type " + m.media_type);
  m.is_index = m.media_type == kOciIndex || m.media_type == kDockerManifestList;

  if (m.is_index) {
    auto list = o.find("manifests");
    if (list == o.end() || !list->value().is_array()) return invalid("index without manifests");
    for (const auto& entry : list->value().get_array()) {
      auto d = descriptor(entry, "manifests[]");
      if (!d) return std::move(d).error();
      m.manifests.push_back(std::move(*d));
    }
    return m;
  }
  auto config = o.find("config");
  if (config == o.end()) return invalid("no config");
  auto c = descriptor(config->value(), "config");
  if (!c) return std::move(c).error();
  m.config = std::move(*c);
  m.artifact_media_type = m.config.media_type;
  m.image_size = m.config.size;
  auto layers = o.find("layers");
  if (layers != o.end()) {
    if (!layers->value().is_array()) return invalid("layers is not an array");
    for (const auto& entry : layers->value().get_array()) {
      auto d = descriptor(entry, "layers[]");
      if (!d) return std::move(d).error();
      m.image_size += d->size;
      m.layers.push_back(std::move(*d));
    }
  } else if (m.media_type == kDockerManifestV2) {
    return invalid("no layers");
  }
  return m;
}

}  // namespace berth::ecr
