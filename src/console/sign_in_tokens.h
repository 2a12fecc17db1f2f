// console/sign_in_tokens: the one-time links `berth console-url` prints.
//
//   berth console-url ──signed, admin only──► CreateConsoleSignInToken
//        prints http://ADDR:PORT/console/#token=<64 hex>
//   browser ──POST /console/sign-in {"token"}──► redeem(): once, within 10 minutes
//        ◄── the access key of the identity that asked for the token
//
// Tokens live in memory only: a daemon restart voids every link, which is
// the safe direction. A token is 32 random bytes (OpenSSL); only its
// SHA-256 is kept, so a memory dump holds no usable link.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace berth::console {

inline constexpr std::chrono::minutes kSignInTokenLifetime{10};

class SignInTokens {
 public:
  // A new token standing for `access_key_id`, valid kSignInTokenLifetime from `now`.
  Result<std::string> issue(std::string_view access_key_id, WallTime now);
  // The access key id the token stands for, and the token is spent. An
  // unknown, spent or expired token: kDenied "InvalidSignInToken" (one
  // message for all three, so a guesser learns nothing).
  Result<std::string> redeem(std::string_view token, WallTime now);

 private:
  struct Entry {
    std::string access_key_id;
    WallTime expires;
  };
  void forget_expired(WallTime now);  // with mutex_ held

  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> by_hash_;  // hex SHA-256 of the token
};

}  // namespace berth::console
