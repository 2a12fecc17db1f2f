// ecr/digest: SHA-256 content digests as the registry spells them
// ("sha256:" + 64 lowercase hex), computed incrementally with OpenSSL EVP so
// a blob is hashed while it streams to disk.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace berth::ecr {

inline constexpr std::string_view kSha256Prefix = "sha256:";

// True for "sha256:<64 lowercase hex>", the only algorithm we store.
bool is_sha256_digest(std::string_view digest);
// The 64 hex characters of a valid digest.
inline std::string_view digest_hex(std::string_view digest) { return digest.substr(kSha256Prefix.size()); }

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // "sha256:<hex>"; the hasher is reset afterwards.
  std::string finish();

 private:
  evp_md_ctx_st* ctx_ = nullptr;
};

std::string sha256_digest(std::string_view bytes);

}  // namespace berth::ecr
