#include "ecr/ecr_service.h"

#include "ecr/service_common.h"

namespace berth::ecr {
api::Service make_ecr_service(Catalog& catalog, BlobStore& blobs, const TokenIssuer& tokens) {
  api::Service service;
  service.signing_name = "ecr";
  service.protocol = api::Protocol::kJson;
  service.json_target_prefix = "AmazonEC2ContainerRegistry_V20150921";
  service.api_version = "2015-09-21";
  svc::add_repository_operations(service, catalog);
  svc::add_image_operations(service, catalog, blobs);

  // One token for the whole (single-account) registry, tied to the caller's key.
  service.add("GetAuthorizationToken", [&tokens](const api::CallContext& ctx, const api::OperationInput&) -> Result<std::string> {
    auto issued = tokens.issue(ctx.caller.access_key_id);
    boost::json::object data{
        {"authorizationToken", base64_encode("AWS:" + issued.password)},
        {"expiresAt", std::chrono::duration<double>(issued.expires_at.time_since_epoch()).count()},
        {"proxyEndpoint", "http://" + std::string(ctx.host)}};
    return svc::body({{"authorizationData", boost::json::array{std::move(data)}}});
  });
  return service;
}

}  // namespace berth::ecr
