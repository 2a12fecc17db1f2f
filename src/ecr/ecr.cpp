#include "ecr/ecr.h"

namespace berth::ecr {

Result<std::unique_ptr<Ecr>> Ecr::open(store::Database& db, EcrOptions options, RegistryAccess access) {
  if (auto s = Catalog::migrate(db); !s) return std::move(s).error();
  auto blobs = BlobStore::open(options.data_dir);
  if (!blobs) return std::move(blobs).error();
  if (options.token_secret.empty()) {
    auto secret = TokenIssuer::load_or_create_secret(options.data_dir / "ecr-token.key");
    if (!secret) return std::move(secret).error();
    options.token_secret = std::move(*secret);
  }
  return std::make_unique<Ecr>(db, std::move(*blobs), std::move(options), std::move(access));
}

Ecr::Ecr(store::Database& db, BlobStore blobs, EcrOptions options, RegistryAccess access)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()),
      catalog_(db, options_.account_id, options_.region),
      blobs_(std::move(blobs)),
      tokens_(options_.token_secret, clock_),
      uploads_(blobs_, clock_, options_.upload_ttl),
      registry_(catalog_, blobs_, uploads_, tokens_, std::move(access), clock_, options_.registry) {}

}  // namespace berth::ecr
