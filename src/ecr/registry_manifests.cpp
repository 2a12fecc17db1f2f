// Manifests: GET/HEAD with Accept negotiation, PUT (validated by
// image_store before anything is stored), DELETE by digest or tag.
#include <unistd.h>


#include "ecr/digest.h"
#include "ecr/image_store.h"
#include "ecr/names.h"
#include "ecr/registry.h"
#include "ecr/registry_wire.h"

namespace berth::ecr {

using net::Request;
using net::Response;
using net::Task;
using net::http::status;
using net::http::verb;

namespace {

std::vector<std::string> accepted_types(const Request& request) {
  std::vector<std::string> out;
  auto range = request.headers().equal_range(net::http::field::accept);
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view v = it->value();
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      item = item.substr(0, item.find(';'));
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool accepts(const std::vector<std::string>& accepted, std::string_view type) {
  if (accepted.empty()) return true;
  for (const auto& a : accepted) {
    if (a == type || a == "*/*") return true;
  }
  return false;
}

}  // namespace

Task<Response> Registry::get_manifest(Request& request, const Route& route) {
  if (!is_sha256_digest(route.reference) && !is_valid_tag(route.reference)) {
    co_return wire::error(status::bad_request, "TAG_INVALID", "manifest tag did not match URI", route.reference);
  }
  auto image = resolve_image(catalog_, route.name, route.reference);
  if (!image) co_return wire::from_error(image.error(), route.reference);
  auto accepted = accepted_types(request);
  if (!accepts(accepted, image->media_type)) {
    // A client that can't read indexes gets the linux/amd64 image, as the
    // Docker registry does; any other mismatch is "not found" for it.
    bool served = false;
    if (image->media_type == kOciIndex || image->media_type == kDockerManifestList) {
      auto bytes = blobs_.read_all(image->digest, kMaxManifestBytes);
      auto index = bytes ? parse_manifest(*bytes, image->media_type) : Result<Manifest>(bytes.error());
      if (index) {
        for (const auto& m : index->manifests) {
          if (accepts(accepted, m.media_type) && m.platform_os == "linux" && m.platform_arch == "amd64") {
            if (auto child = catalog_.find_image(route.name, m.digest); child && *child) {
              image = std::move(**child);
              served = true;
              break;
            }
          }
        }
      }
    }
    if (!served) {
      co_return wire::error(status::not_found, "MANIFEST_UNKNOWN",
                            "manifest of type " + image->media_type + " is not in the Accept list", route.reference);
    }
  }
  auto blob = blobs_.open_read(image->digest);
  if (!blob) co_return wire::error(status::not_found, "MANIFEST_UNKNOWN", "manifest unknown", route.reference);
  Response r;
  r.set(wire::kApiVersionHeader, wire::kApiVersion);
  r.set("Content-Type", image->media_type);
  r.set("Docker-Content-Digest", image->digest);
  r.set("ETag", "\"" + image->digest + "\"");
  r.set("Content-Length", std::to_string(blob->size));
  if (request.method() == verb::head) {
    ::close(blob->fd);
    co_return r;
  }
  r.file = net::FileRange{blob->fd, 0, blob->size};
  co_return r;
}

Task<Response> Registry::put_manifest(Request& request, const Route& route) {
  bool by_digest = is_sha256_digest(route.reference);
  if (!by_digest && !is_valid_tag(route.reference)) {
    co_return wire::error(status::bad_request, "TAG_INVALID", "invalid tag", route.reference);
  }
  if (auto length = request.content_length(); length && *length > kMaxManifestBytes) {
    Response r = wire::error(status::payload_too_large, "MANIFEST_INVALID", kManifestInvalid, "larger than 4 MiB");
    r.close = true;  // not worth reading a body we refuse
    co_return r;
  }
  request.set_body_limit(kMaxManifestBytes);
  auto body = co_await request.read_body();
  if (!body) {
    if (body.error().code == "RequestEntityTooLarge") {
      Response r = wire::error(status::payload_too_large, "MANIFEST_INVALID", kManifestInvalid, "larger than 4 MiB");
      r.close = true;
      co_return r;
    }
    co_return wire::error(status::bad_request, "MANIFEST_INVALID", body.error().message);
  }
  ManifestPut put;
  put.repository = route.name;
  put.bytes = *body;
  put.content_type = request.header("Content-Type");
  if (by_digest) put.expected_digest = route.reference;
  else put.tag = route.reference;
  put.pushed_at = std::chrono::duration<double>(clock_.now().time_since_epoch()).count();
  auto stored = store_manifest(catalog_, blobs_, put);
  if (!stored) {
    const Error& e = stored.error();
    // The distribution registry's words: the code's message, the reason
    // (or the missing digest) as detail.
    if (e.code == "MANIFEST_BLOB_UNKNOWN") {
      co_return wire::error(status::bad_request, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", e.message);
    }
    if (e.code == "MANIFEST_INVALID") {
      co_return wire::error(status::bad_request, "MANIFEST_INVALID", kManifestInvalid,
                            manifest_invalid_reason(e.message));
    }
    co_return wire::from_error(e, route.reference);
  }
  Response r = wire::empty(status::created);
  r.set("Location", "/v2/" + route.name + "/manifests/" + stored->image.digest);
  r.set("Docker-Content-Digest", stored->image.digest);
  co_return r;
}

Response Registry::delete_manifest(const Route& route) {
  if (is_sha256_digest(route.reference)) {
    if (auto s = catalog_.delete_image(route.name, route.reference); !s) {
      return wire::from_error(s.error(), route.reference);
    }
    return wire::empty(status::accepted);
  }
  if (!is_valid_tag(route.reference)) {
    return wire::error(status::bad_request, "TAG_INVALID", "invalid tag", route.reference);
  }
  if (auto d = catalog_.delete_tag(route.name, route.reference); !d) {
    return wire::from_error(d.error(), route.reference);
  }
  return wire::empty(status::accepted);
}

}  // namespace berth::ecr
