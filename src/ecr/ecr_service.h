// ecr/ecr_service: the ECR API (JSON 1.1, AmazonEC2ContainerRegistry_V20150921)
// as an api::Service for the front door.
//
//   front door ─► Operation(CallContext, json) ─► Catalog / BlobStore / TokenIssuer ─► JSON body
//
// repositoryUri and proxyEndpoint use the Host the caller reached us on, so
// `podman push <repositoryUri>:tag` works from this machine as is.
#pragma once

#include "api/service.h"
#include "ecr/auth_token.h"
#include "ecr/blob_store.h"
#include "ecr/catalog.h"

namespace berth::ecr {

api::Service make_ecr_service(Catalog& catalog, BlobStore& blobs, const TokenIssuer& tokens);

}  // namespace berth::ecr
