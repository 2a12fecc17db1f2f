// ecr/auth_token: the registry password GetAuthorizationToken hands out.
//
//   password = base64("v1." + access_key_id + "." + expiry + "." + hex(HMAC-SHA256(secret, ...)))
//
// Self-verifying: the registry checks it with the daemon secret alone, no
// table of issued tokens, and learns which access key asked (so an IAM user
// whose key is deleted or who lacks ECR rights is refused). Valid 12 hours.
// Base64 has no ':' so `aws ecr get-login-password` can split the token.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace berth::ecr {

inline constexpr std::chrono::hours kTokenLifetime{12};

class TokenIssuer {
 public:
  TokenIssuer(std::string secret, const Clock& clock) : secret_(std::move(secret)), clock_(clock) {}

  struct Issued {
    std::string password;
    WallTime expires_at;
  };
  Issued issue(std::string_view access_key_id) const;

  struct Verified {
    std::string access_key_id;
    WallTime expires_at;
  };
  // Errors (kUnauthenticated): code "expired" or "invalid".
  Result<Verified> verify(std::string_view password) const;

  // A 32-byte secret kept in a 0600 file, created on first use.
  static Result<std::string> load_or_create_secret(const std::filesystem::path& file);

 private:
  std::string sign(std::string_view payload) const;
  std::string secret_;
  const Clock& clock_;
};

std::string base64_encode(std::string_view bytes);
// Empty optional-like: returns false on malformed input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace berth::ecr
