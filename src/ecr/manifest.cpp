#include "ecr/manifest.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <cctype>

#include "ecr/digest.h"

namespace berth::ecr {
namespace json = boost::json;
namespace {

Error invalid(std::string reason) { return Error::invalid("MANIFEST_INVALID", std::string(kManifestInvalid) + ": " + reason); }

std::string_view media_type_only(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

// RFC 6838 restricted names, as the OCI descriptor's mediaType pattern
// spells them: type "/" subtype, each 1-127 of [A-Za-z0-9!#$&^_.+-]
// starting with an alphanumeric.
bool restricted_name(std::string_view s) {
  if (s.empty() || s.size() > 127 || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$&^_.+-").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

}  // namespace

bool is_valid_media_type(std::string_view t) {
  size_t slash = t.find('/');
  return slash != std::string_view::npos && restricted_name(t.substr(0, slash)) && restricted_name(t.substr(slash + 1));
}

namespace {

// A member that must be a string when present: nullptr when absent, an
// error when it is there with another type.
Result<const json::string*> optional_string(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return static_cast<const json::string*>(nullptr);
  if (const json::string* s = v->if_string()) return s;
  return invalid(std::string(where) + "." + std::string(key) + " is not a string");
}

// A string-to-string map (annotations), when present.
Status string_map(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Ok{};
  const json::object* map = v->if_object();
  if (map == nullptr) return invalid(std::string(where) + "." + std::string(key) + " is not an object");
  for (const auto& [k, value] : *map) {
    if (!value.is_string()) return invalid(std::string(where) + "." + std::string(key) + " has a value that is not a string");
  }
  return Ok{};
}

// An OCI content descriptor (also Docker schema 2's): mediaType, digest and
// size are required; platform, urls and annotations are checked when there.
Result<Descriptor> descriptor(const json::value& v, const std::string& where) {
  const json::object* o = v.if_object();
  if (o == nullptr) return invalid(where + " is not an object");
  Descriptor d;
  auto media_type = optional_string(*o, "mediaType", where);
  if (!media_type) return std::move(media_type).error();
  if (*media_type == nullptr) return invalid(where + " has no mediaType");
  d.media_type = std::string(**media_type);
  if (!is_valid_media_type(d.media_type)) return invalid(where + " has an invalid mediaType");
  auto digest = optional_string(*o, "digest", where);
  if (!digest) return std::move(digest).error();
  if (*digest == nullptr) return invalid(where + " has no digest");
  d.digest = std::string(**digest);
  if (!is_sha256_digest(d.digest)) return invalid(where + " has an invalid digest");
  const json::value* size = o->if_contains("size");
  if (size == nullptr) return invalid(where + " has no size");
  if (const int64_t* i = size->if_int64()) d.size = *i;
  else if (size->is_uint64()) return invalid(where + ".size is too large");
  else return invalid(where + ".size is not an integer");
  if (d.size < 0) return invalid(where + ".size is negative");
  d.foreign = d.media_type.find("foreign") != std::string::npos ||
              d.media_type.find("nondistributable") != std::string::npos;
  if (const json::value* p = o->if_contains("platform")) {
    const json::object* platform = p->if_object();
    if (platform == nullptr) return invalid(where + ".platform is not an object");
    auto os = optional_string(*platform, "os", where + ".platform");
    if (!os) return std::move(os).error();
    auto arch = optional_string(*platform, "architecture", where + ".platform");
    if (!arch) return std::move(arch).error();
    if (*os == nullptr || *arch == nullptr) return invalid(where + ".platform needs os and architecture");
    d.platform_os = std::string(**os);
    d.platform_arch = std::string(**arch);
  }
  if (const json::value* urls = o->if_contains("urls")) {
    const json::array* list = urls->if_array();
    if (list == nullptr) return invalid(where + ".urls is not an array");
    for (const auto& u : *list) {
      if (!u.is_string()) return invalid(where + ".urls has an entry that is not a string");
    }
  }
  if (auto s = string_map(*o, "annotations", where); !s) return std::move(s).error();
  return d;
}

// The manifest's own media type, from the Content-Type header and the body.
Result<std::string> manifest_media_type(const json::object& o, std::string_view content_type) {
  auto declared = optional_string(o, "mediaType", "manifest");
  if (!declared) return std::move(declared).error();
  std::string_view body = *declared ? std::string_view(**declared) : std::string_view();
  std::string_view header = media_type_only(content_type);
  std::string type;
  if (!header.empty() && is_manifest_media_type(header)) {
    if (*declared && body != header) return invalid("mediaType does not match Content-Type");
    type = header;
  } else if (*declared) {
    type = body;
  } else {
    // OCI allows mediaType to be absent: tell an index by its "manifests".
    type = o.contains("manifests") ? kOciIndex : kOciManifest;
  }
  if (!is_manifest_media_type(type)) return invalid("unsupported media type " + type);
  // Docker's schema 2 makes it required (the distribution registry refuses
  // a Docker manifest or list without it); OCI only recommends it.
  if (!*declared && (type == kDockerManifestV2 || type == kDockerManifestList)) {
    return invalid("mediaType is required for " + type);
  }
  return type;
}

Status parse_index(const json::object& o, Manifest& m) {
  const json::value* list = o.if_contains("manifests");
  if (list == nullptr || !list->is_array()) return invalid("index without manifests");
  const json::array& entries = list->get_array();
  for (size_t i = 0; i < entries.size(); ++i) {
    auto d = descriptor(entries[i], "manifests[" + std::to_string(i) + "]");
    if (!d) return std::move(d).error();
    m.manifests.push_back(std::move(*d));
  }
  return Ok{};
}

Status parse_image(const json::object& o, Manifest& m) {
  const json::value* config = o.if_contains("config");
  if (config == nullptr) return invalid("no config");
  auto c = descriptor(*config, "config");
  if (!c) return std::move(c).error();
  m.config = std::move(*c);
  m.artifact_media_type = m.config.media_type;
  m.image_size = m.config.size;
  const json::value* layers = o.if_contains("layers");
  if (layers == nullptr) {
    if (m.media_type == kDockerManifestV2) return invalid("no layers");
    return Ok{};
  }
  const json::array* list = layers->if_array();
  if (list == nullptr) return invalid("layers is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    auto d = descriptor((*list)[i], "layers[" + std::to_string(i) + "]");
    if (!d) return std::move(d).error();
    if (d->size > kMaxImageBytes - m.image_size) return invalid("layers add up to more than 2^62 bytes");
    m.image_size += d->size;
    m.layers.push_back(std::move(*d));
  }
  return Ok{};
}

}  // namespace

bool is_manifest_media_type(std::string_view t) {
  return t == kDockerManifestV2 || t == kDockerManifestList || t == kOciManifest || t == kOciIndex;
}

std::string_view manifest_invalid_reason(std::string_view message) {
  std::string_view prefix = kManifestInvalid;
  if (message.substr(0, prefix.size()) == prefix && message.substr(prefix.size(), 2) == ": ") {
    return message.substr(prefix.size() + 2);
  }
  return message;
}

Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type) {
  if (bytes.size() > kMaxManifestBytes) return invalid("larger than 4 MiB");
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(json::string_view(bytes.data(), bytes.size()), ec, {}, opts);
  if (ec) return invalid(std::string(kInvalidJsonSyntax));
  const json::object* o = v.if_object();
  if (o == nullptr) return invalid("not a JSON object");
  const json::value* version = o->if_contains("schemaVersion");
  if (version == nullptr || !((version->is_int64() && version->get_int64() == 2) ||
                              (version->is_uint64() && version->get_uint64() == 2))) {
    return invalid("schemaVersion must be 2");
  }
  Manifest m;
  auto type = manifest_media_type(*o, content_type);
  if (!type) return std::move(type).error();
  m.media_type = std::move(*type);
  m.media_type_in_body = o->contains("mediaType");
  m.is_index = m.media_type == kOciIndex || m.media_type == kDockerManifestList;
  // OCI 1.1: an artifact's type and the manifest it refers to.
  if (auto artifact = optional_string(*o, "artifactType", "manifest"); !artifact) return std::move(artifact).error();
  if (const json::value* subject = o->if_contains("subject")) {
    if (auto d = descriptor(*subject, "subject"); !d) return std::move(d).error();
  }
  if (auto s = string_map(*o, "annotations", "manifest"); !s) return std::move(s).error();
  if (auto s = m.is_index ? parse_index(*o, m) : parse_image(*o, m); !s) return std::move(s).error();
  return m;
}

}  // namespace berth::ecr
