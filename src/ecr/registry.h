// ecr/registry: the OCI distribution (Docker Registry v2) endpoints under
// /v2/, on the daemon's shared port.
//
//   Request ─► authenticate (Basic AWS:<password> | Bearer <password>)
//           ─► route /v2/<name>/{blobs,manifests,tags}/...
//           ─► authorize (pull | push | delete) on the repository
//           ─► BlobStore (bytes) + Catalog (repositories, images, tags) + UploadSessions
//
// Errors are the registry's JSON ({"errors":[{"code","message","detail"}]})
// with the spec's status; every response carries
// Docker-Distribution-API-Version: registry/2.0.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "ecr/auth_token.h"
#include "ecr/blob_store.h"
#include "ecr/catalog.h"
#include "ecr/upload_sessions.h"
#include "net/http_server.h"

namespace berth::ecr {

// Who presented the registry password; resolved from the access key the
// password was issued to.
struct RegistryPrincipal {
  std::string access_key_id;
  std::string arn;  // "arn:aws:iam::123456789012:user/alice"
};

enum class RegistryAction { kPull, kPush, kDelete };

// The daemon wires these to iam. lookup: nullopt if the key no longer
// exists (401). allowed: false means 403 DENIED. An empty function allows
// everything (tests, single-user setups).
struct RegistryAccess {
  std::function<std::optional<RegistryPrincipal>(std::string_view access_key_id)> lookup;
  std::function<bool(const RegistryPrincipal&, RegistryAction, std::string_view repository)> allowed;
};

struct RegistryOptions {
  uint64_t max_blob_bytes = uint64_t{64} << 30;
  size_t io_buffer_bytes = 1u << 20;  // bytes gathered per write(2) while hashing
  size_t default_page = 1000;         // tags/list and _catalog without n
};

class Registry {
 public:
  Registry(Catalog& catalog, BlobStore& blobs, UploadSessions& uploads, const TokenIssuer& tokens,
           RegistryAccess access, const Clock& clock, RegistryOptions options = {});

  // For every request whose path is /v2 or starts with /v2/.
  net::Task<net::Response> handle(net::Request& request);

  // A parsed /v2/ path.
  struct Route {
    enum class Kind { kBase, kCatalog, kTags, kManifest, kBlob, kUploads, kUpload, kUnknown };
    Kind kind = Kind::kUnknown;
    std::string name;
    std::string reference;  // tag or digest, blob digest, or upload id
  };

 private:
  net::Task<net::Response> dispatch(net::Request& request, const Route& route, const RegistryPrincipal& who);
  net::Task<net::Response> get_blob(net::Request& request, const Route& route);
  net::Task<net::Response> delete_blob(const Route& route);
  net::Task<net::Response> start_upload(net::Request& request, const Route& route, const RegistryPrincipal& who);
  // Whether a blob may be mounted from one repository into another (ECR blob mounting).
  bool mountable(std::string_view from, std::string_view into, std::string_view digest);
  net::Task<net::Response> patch_upload(net::Request& request, const Route& route);
  net::Task<net::Response> finish_upload(net::Request& request, const Route& route);
  net::Response upload_status(const Route& route);
  net::Response cancel_upload(const Route& route);
  net::Task<net::Response> get_manifest(net::Request& request, const Route& route);
  net::Task<net::Response> put_manifest(net::Request& request, const Route& route);
  net::Response delete_manifest(const Route& route);
  net::Response list_tags(net::Request& request, const Route& route);
  net::Response list_catalog(net::Request& request, const RegistryPrincipal& who);
  // Reads the request body into the writer, io_buffer_bytes at a time.
  net::Task<Status> stream_body(net::Request& request, BlobStore::Writer& writer, uint64_t* received);
  net::Response unauthorized(net::Request& request, std::string message);

  Catalog& catalog_;
  BlobStore& blobs_;
  UploadSessions& uploads_;
  const TokenIssuer& tokens_;
  RegistryAccess access_;
  const Clock& clock_;
  RegistryOptions options_;
};

}  // namespace berth::ecr
