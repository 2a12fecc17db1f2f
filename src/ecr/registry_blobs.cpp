// Blob reads and uploads: the bytes path, built for speed. Uploads stream
// from the socket through one buffer into BlobStore::Writer (hash + write);
// downloads go out with sendfile.
#include <unistd.h>

#include <memory>

#include "ecr/digest.h"
#include "ecr/names.h"
#include "ecr/registry.h"
#include "ecr/registry_wire.h"

namespace berth::ecr {
namespace {

// The distribution spec's answer for a blob the repository does not hold.
net::Response blob_unknown(std::string_view digest) {
  return wire::error(net::http::status::not_found, "BLOB_UNKNOWN", "blob unknown to registry", digest);
}

}  // namespace

using net::Request;
using net::Response;
using net::Task;
using net::http::status;
using net::http::verb;

Task<Status> Registry::stream_body(Request& request, BlobStore::Writer& writer, uint64_t* received) {
  request.set_body_limit(options_.max_blob_bytes);
  std::unique_ptr<char[]> buffer(new char[options_.io_buffer_bytes]);
  size_t fill = 0;
  for (;;) {
    auto n = co_await request.read_body_some(buffer.get() + fill, options_.io_buffer_bytes - fill);
    if (n && *n > 0) {
      fill += *n;
      *received += *n;
      if (fill < options_.io_buffer_bytes) continue;
    }
    // Full buffer, end of body or a broken body: what arrived is a valid
    // prefix either way, so it goes to disk (an interrupted PATCH resumes
    // from exactly here).
    if (fill > 0) {
      if (auto s = writer.append(buffer.get(), fill); !s) co_return s;
      fill = 0;
    }
    if (!n) co_return std::move(n).error();
    if (*n == 0) co_return Ok{};
    if (writer.size() > options_.max_blob_bytes) {
      co_return Error::invalid("SIZE_INVALID", "blob exceeds the registry's limit");
    }
  }
}

Task<Response> Registry::get_blob(Request& request, const Route& route) {
  if (!is_sha256_digest(route.reference)) {
    co_return wire::error(status::bad_request, "DIGEST_INVALID", "provided digest did not match uploaded content",
                          route.reference);
  }
  // Only through a repository that holds it: the store is shared, so
  // another push's blob must not be readable by digest from here.
  auto held = catalog_.repository_holds_blob(route.name, route.reference);
  if (!held) co_return wire::from_error(held.error());
  if (!*held) co_return blob_unknown(route.reference);
  auto blob = blobs_.open_read(route.reference);
  if (!blob) co_return wire::from_error(blob.error(), route.reference);
  Response r;
  r.set(wire::kApiVersionHeader, wire::kApiVersion);
  r.set("Docker-Content-Digest", route.reference);
  r.set("Content-Type", "application/octet-stream");
  r.set("Accept-Ranges", "bytes");
  r.set("ETag", "\"" + route.reference + "\"");
  uint64_t offset = 0, length = blob->size;
  if (std::string_view range = request.header("Range"); !range.empty()) {
    auto parsed = wire::parse_range(range, blob->size);
    if (!parsed || parsed->first >= blob->size) {
      ::close(blob->fd);
      Response bad = wire::error(status::range_not_satisfiable, "BLOB_UNKNOWN", "requested range not satisfiable");
      bad.set("Content-Range", "bytes */" + std::to_string(blob->size));
      co_return bad;
    }
    uint64_t last = std::min(parsed->last, blob->size - 1);
    offset = parsed->first;
    length = last - parsed->first + 1;
    r.status = status::partial_content;
    r.set("Content-Range",
          "bytes " + std::to_string(offset) + "-" + std::to_string(last) + "/" + std::to_string(blob->size));
  }
  r.set("Content-Length", std::to_string(length));
  if (request.method() == verb::head) {
    ::close(blob->fd);
    co_return r;
  }
  r.file = net::FileRange{blob->fd, offset, length};
  co_return r;
}

Task<Response> Registry::delete_blob(const Route& route) {
  if (!is_sha256_digest(route.reference)) {
    co_return wire::error(status::bad_request, "DIGEST_INVALID", "invalid digest", route.reference);
  }
  if (!blobs_.size_of(route.reference)) co_return blob_unknown(route.reference);
  // Only this repository's link goes; the bytes go with the last holder.
  auto unlinked = catalog_.unlink_blob(route.name, route.reference);
  if (!unlinked) co_return wire::from_error(unlinked.error());
  switch (*unlinked) {
    case BlobUnlink::kNotHeld: co_return blob_unknown(route.reference);
    case BlobUnlink::kReferenced:
      co_return wire::error(status::conflict, "DENIED", "the blob is referenced by an image", route.reference);
    case BlobUnlink::kUnlinked: break;
    case BlobUnlink::kUnlinkedLast:
      if (auto s = blobs_.remove(route.reference); !s) co_return wire::from_error(s.error(), route.reference);
      break;
  }
  co_return wire::empty(status::accepted);
}

namespace {

Response blob_created(std::string_view name, std::string_view digest) {
  Response r = wire::empty(status::created);
  r.set("Location", "/v2/" + std::string(name) + "/blobs/" + std::string(digest));
  r.set("Docker-Content-Digest", digest);
  return r;
}

Response upload_accepted(status s, std::string_view name, std::string_view id, uint64_t size) {
  Response r = wire::empty(s);
  r.set("Location", wire::upload_location(name, id));
  r.set("Range", wire::upload_range(size));
  r.set("Docker-Upload-UUID", id);
  return r;
}

}  // namespace

Task<Response> Registry::start_upload(Request& request, const Route& route, const RegistryPrincipal& who) {
  uploads_.sweep();
  // Cross-repository mount, as ECR's blob mounting does it: within this
  // registry, from a repository that holds the blob, which the caller may
  // pull from, with the same encryption. The store is shared, so the blob is
  // linked by name. Otherwise, as the distribution spec says, an upload
  // starts (202) instead.
  auto mount = wire::query_param(request.query(), "mount");
  auto from = wire::query_param(request.query(), "from");
  if (mount && from && is_sha256_digest(*mount) && is_valid_repository_name(*from) && blobs_.size_of(*mount) &&
      mountable(*from, route.name, *mount) &&
      (!access_.allowed || access_.allowed(who, RegistryAction::kPull, *from))) {
    if (auto linked = catalog_.link_blob(route.name, *mount); !linked) co_return wire::from_error(linked.error());
    co_return blob_created(route.name, *mount);
  }
  if (auto digest = wire::query_param(request.query(), "digest")) {
    if (!is_sha256_digest(*digest)) {
      co_return wire::error(status::bad_request, "DIGEST_INVALID", "unsupported digest", *digest);
    }
    auto writer = blobs_.begin_write();
    if (!writer) co_return wire::from_error(writer.error());
    uint64_t received = 0;
    if (auto s = co_await stream_body(request, *writer, &received); !s) {
      co_return wire::upload_failed(s.error());
    }
    auto committed = writer->commit(*digest);
    if (!committed) co_return wire::from_error(committed.error(), *digest);
    if (auto linked = catalog_.link_blob(route.name, *committed); !linked) co_return wire::from_error(linked.error());
    co_return blob_created(route.name, *committed);
  }
  auto id = uploads_.start(route.name);
  if (!id) co_return wire::from_error(id.error());
  co_return upload_accepted(status::accepted, route.name, *id, 0);
}

Task<Response> Registry::patch_upload(Request& request, const Route& route) {
  auto session = uploads_.acquire(route.reference, route.name);
  if (!session) co_return wire::from_error(session.error(), route.reference);
  auto& s = **session;
  if (std::string_view cr = request.header("Content-Range"); !cr.empty()) {
    auto range = wire::parse_range(cr, 0);
    if (!range || range->first != s.writer.size()) {
      uint64_t size = s.writer.size();
      uploads_.release(*session);
      Response r = upload_accepted(status::range_not_satisfiable, route.name, route.reference, size);
      co_return r;
    }
  }
  uint64_t received = 0;
  Status streamed = co_await stream_body(request, s.writer, &received);
  if (!s.writer.active()) {
    uploads_.erase(route.reference);
    uploads_.release(*session);
    co_return wire::from_error(streamed.ok() ? Error::internal("upload failed") : streamed.error());
  }
  uint64_t size = s.writer.size();
  uploads_.release(*session);
  if (!streamed) co_return wire::upload_failed(streamed.error());
  co_return upload_accepted(status::accepted, route.name, route.reference, size);
}

Task<Response> Registry::finish_upload(Request& request, const Route& route) {
  auto digest = wire::query_param(request.query(), "digest");
  if (!digest || !is_sha256_digest(*digest)) {
    co_return wire::error(status::bad_request, "DIGEST_INVALID", "provided digest did not match uploaded content",
                          digest.value_or(""));
  }
  auto session = uploads_.acquire(route.reference, route.name);
  if (!session) co_return wire::from_error(session.error(), route.reference);
  auto& s = **session;
  if (request.has_body()) {
    uint64_t received = 0;
    Status streamed = co_await stream_body(request, s.writer, &received);
    if (!streamed) {
      bool broken = !s.writer.active();
      uploads_.release(*session);
      if (broken) uploads_.erase(route.reference);
      co_return wire::upload_failed(streamed.error());
    }
  }
  // Verified or not, the session is over (a wrong digest means the bytes are wrong).
  auto committed = s.writer.commit(*digest);
  uploads_.erase(route.reference);
  uploads_.release(*session);
  if (!committed) co_return wire::from_error(committed.error(), *digest);
  if (auto linked = catalog_.link_blob(route.name, *committed); !linked) co_return wire::from_error(linked.error());
  co_return blob_created(route.name, *committed);
}

bool Registry::mountable(std::string_view from, std::string_view into, std::string_view digest) {
  auto source = catalog_.get_repository(from);
  auto target = catalog_.get_repository(into);
  if (!source || !target) return false;
  if (source->encryption_type != target->encryption_type || source->kms_key != target->kms_key) return false;
  auto held = catalog_.repository_holds_blob(from, digest);
  return held && *held;
}

Response Registry::upload_status(const Route& route) {
  auto session = uploads_.acquire(route.reference, route.name);
  if (!session) return wire::from_error(session.error(), route.reference);
  uint64_t size = (*session)->writer.size();
  uploads_.release(*session);
  return upload_accepted(status::no_content, route.name, route.reference, size);
}

Response Registry::cancel_upload(const Route& route) {
  auto session = uploads_.acquire(route.reference, route.name);
  if (!session) return wire::from_error(session.error(), route.reference);
  uploads_.erase(route.reference);
  uploads_.release(*session);
  return wire::empty(status::no_content);
}

}  // namespace berth::ecr
