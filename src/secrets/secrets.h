// berth::secrets owns AWS Systems Manager Parameter Store and AWS Secrets
// Manager: their APIs, their values at rest, and the reading of a task's
// secrets for ECS.
//
//   aws ssm ...            ─► front door ─► make_ssm_service ────────────┐
//   aws secretsmanager ... ─► front door ─► make_secretsmanager_service ─┤
//                                                                        ├─► ParameterStore ─┐
//   ECS task start ─► SecretReader (StoreSecretReader) ─ role check (iam)┘   SecretStore  ───┴─► SQLite
//                                                                            (values sealed by ValueCipher,
//                                                                             key in DATA/secrets/values.key)
//
// Secrets bundles the parts for `berth serve` (daemon_wiring.h opens it
// with iam answering the role checks).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "api/service.h"
#include "core/clock.h"
#include "secrets/parameter_store.h"
#include "secrets/secret_reader.h"
#include "secrets/secret_store.h"
#include "secrets/services.h"
#include "secrets/store_secret_reader.h"
#include "secrets/value_cipher.h"
#include "store/store.h"

namespace berth::secrets {

struct SecretsOptions {
  std::filesystem::path data_dir;  // the module's directory: the value key in data_dir/values.key
  std::string account_id;          // 12 digits, for ARNs
  std::string region = "us-east-1";
  const Clock* clock = nullptr;  // null: the system clock
};

class Secrets : public std::enable_shared_from_this<Secrets> {
 public:
  // Applies the migrations and loads (or creates) the value key.
  static Result<std::shared_ptr<Secrets>> open(store::Database& db, SecretsOptions options,
                                               RoleChecks roles);

  // The APIs; each operation keeps this Secrets alive, so the front door
  // may hold them longer than whoever opened it.
  api::Service ssm_service() { return kept_alive(make_ssm_service(parameters_)); }
  api::Service secretsmanager_service() { return kept_alive(make_secretsmanager_service(secrets_)); }
  // For ECS; keeps this Secrets alive.
  std::shared_ptr<SecretReader> reader() { return std::shared_ptr<SecretReader>(shared_from_this(), &reader_); }
  ParameterStore& parameters() { return parameters_; }
  SecretStore& secrets() { return secrets_; }

  Secrets(store::Database& db, ValueCipher cipher, SecretsOptions options, RoleChecks roles);

 private:
  api::Service kept_alive(api::Service service);

  SecretsOptions options_;
  ValueCipher cipher_;
  ParameterStore parameters_;
  SecretStore secrets_;
  StoreSecretReader reader_;
};

}  // namespace berth::secrets
