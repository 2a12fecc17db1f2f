#include "secrets/secrets.h"

namespace berth::secrets {

Result<std::shared_ptr<Secrets>> Secrets::open(store::Database& db, SecretsOptions options,
                                               RoleChecks roles) {
  if (auto s = ParameterStore::migrate(db); !s) return std::move(s).error();
  if (auto s = SecretStore::migrate(db); !s) return std::move(s).error();
  auto cipher = ValueCipher::open(options.data_dir / "values.key");
  if (!cipher) return std::move(cipher).error();
  return std::make_shared<Secrets>(db, std::move(*cipher), std::move(options), std::move(roles));
}

api::Service Secrets::kept_alive(api::Service service) {
  std::shared_ptr<Secrets> self = shared_from_this();
  for (auto& [name, spec] : service.operations)
    spec.run = [self, run = std::move(spec.run)](const api::CallContext& ctx, const api::OperationInput& in) {
      return run(ctx, in);
    };
  return service;
}

Secrets::Secrets(store::Database& db, ValueCipher cipher, SecretsOptions options, RoleChecks roles)
    : options_(std::move(options)),
      cipher_(std::move(cipher)),
      parameters_(db, cipher_, options_.account_id, options_.region),
      secrets_(db, cipher_, options_.account_id, options_.region),
      reader_(parameters_, secrets_, std::move(roles),
              options_.clock ? *options_.clock : SystemClock::instance(), options_.account_id,
              options_.region) {}

}  // namespace berth::secrets
