// secrets/store_secret_reader: the SecretReader over berth's own
// ParameterStore and SecretStore, with the execution role's permissions
// answered by RoleChecks (iam's Iam::role_allows and role_trusts_service
// in the daemon, see daemon_wiring.h), so this file links no iam.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "secrets/parameter_store.h"
#include "secrets/secret_reader.h"
#include "secrets/secret_store.h"

namespace berth::secrets {

// What the reader asks about an execution role (an ARN or a name); each
// answers an error of class kNotFound when there is no such role.
struct RoleChecks {
  // Whether the role may perform `action` on `resource`.
  std::function<Result<bool>(std::string_view role, std::string_view action, std::string_view resource)> allows;
  // Whether the role's trust policy lets ECS tasks (ecs-tasks.amazonaws.com) assume it.
  std::function<Result<bool>(std::string_view role)> trusted_by_ecs_tasks;
};

// Values under a customer managed key also need kms:Decrypt on the key;
// the AWS managed keys (alias/aws/ssm, aws/secretsmanager) need nothing
// more, as ECS's documentation of the execution role says.
//
// The session name in the assumed-role ARN of denial texts. On AWS it is
// the task's id, which a Request does not carry.
inline constexpr std::string_view kExecutionSessionName = "ecs-task-execution";

// read() may be called from any thread; it reads the store (short SQLite
// read transactions), so a caller on an event loop blocks that long.
class StoreSecretReader final : public SecretReader {
 public:
  StoreSecretReader(ParameterStore& parameters, SecretStore& secrets, RoleChecks roles, const Clock& clock,
                    std::string account_id, std::string region)
      : parameters_(parameters),
        secrets_(secrets),
        roles_(std::move(roles)),
        clock_(clock),
        account_id_(std::move(account_id)),
        region_(std::move(region)) {}

  Result<std::vector<std::string>> read(const std::vector<Request>& requests) override;

 private:
  Result<std::string> read_parameter(const Request& request, std::vector<std::string>& missing);
  Result<std::string> read_secret(const Request& request);
  std::string assumed_role(std::string_view role) const;
  // A KeyId as given ("alias/x", a key id, an ARN) as the ARN IAM checks.
  std::string kms_key_arn(std::string_view key_id) const;
  // roles_.allows, with a missing or untrusting role turned into its stop reason.
  Result<bool> may(std::string_view role, std::string_view action, std::string_view resource);

  ParameterStore& parameters_;
  SecretStore& secrets_;
  RoleChecks roles_;
  const Clock& clock_;
  std::string account_id_;
  std::string region_;
};

}  // namespace berth::secrets
