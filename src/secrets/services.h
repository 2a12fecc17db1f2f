// secrets/services: the SSM Parameter Store and Secrets Manager APIs (JSON
// 1.1) as api::Services for the front door.
//
//   SSM             signing name "ssm", target prefix "AmazonSSM", 2014-11-06
//   Secrets Manager signing name "secretsmanager", target prefix "secretsmanager", 2017-10-17
//
//   front door ─► Operation(CallContext, json) ─► ParameterStore / SecretStore ─► JSON body
#pragma once

#include "api/service.h"
#include "secrets/parameter_store.h"
#include "secrets/secret_store.h"

namespace berth::secrets {

api::Service make_ssm_service(ParameterStore& parameters);
api::Service make_secretsmanager_service(SecretStore& secrets);

}  // namespace berth::secrets
