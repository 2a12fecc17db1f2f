// secrets/secret_reader: what ECS uses to resolve a task's secrets before
// its containers start, as the ECS agent (or Fargate) does with the task
// execution role's credentials:
//
//   ECS task start ─► SecretReader::read({valueFrom, executionRoleArn}...)
//                        │ role may ssm:GetParameters / secretsmanager:GetSecretValue? (iam)
//                        ├─► ParameterStore (SSM name or ARN, decrypted)
//                        └─► SecretStore (ARN [+ ":json-key:version-stage:version-id"])
//                     ◄── values in request order, or the task's stop reason
//
// The interface is the boundary; StoreSecretReader (store_secret_reader.h)
// implements it over berth's stores.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace berth::secrets {

// Reads a container definition's `secrets[].valueFrom` (or repositoryCredentials.credentialsParameter) the way
// the ECS agent does for a task: SSM parameter by name ("/a/b" or "a") or full ARN
// (arn:aws:ssm:region:acct:parameter/a/b), or Secrets Manager secret by ARN, optionally with
// ":json-key:version-stage:version-id" suffix (arn:aws:secretsmanager:r:a:secret:name-AbCdEf:json-key:AWSCURRENT:), or by name.
// Checks the execution role may perform ssm:GetParameters / secretsmanager:GetSecretValue on it.
// Errors: message is the full AWS stop reason text, starting "ResourceInitializationError: unable to pull secrets or registry auth: ..."
// exactly as the ECS agent/Fargate words it for: missing SSM parameter, missing secret, access denied, missing JSON key, role missing.
//
// As on ECS, a value that is not an ARN names an SSM parameter; a secret is
// named by its full ARN or its partial ARN (without the "-AbCdEf" suffix).
// A value under a customer managed KMS key also needs kms:Decrypt on the key.
class SecretReader {
 public:
  virtual ~SecretReader() = default;
  struct Request { std::string value_from; std::string execution_role_arn; };
  // All of a task's secrets at once (the agent fetches them in one batch); values in request order.
  virtual Result<std::vector<std::string>> read(const std::vector<Request>& requests) = 0;
};

}  // namespace berth::secrets
