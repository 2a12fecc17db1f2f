#include "console/sign_in_tokens.h"

#include "api/sigv4.h"
#include "core/ids.h"

namespace berth::console {

namespace {

Error invalid_token() {
  // berth's own endpoint (AWS's console federation has no public twin of it).
  return {ErrorClass::kDenied, "InvalidSignInToken",
          "The sign-in link is not valid: it was used already, it expired, or it never existed. "
          "Run `berth console-url` for a new one."};
}

}  // namespace

Result<std::string> SignInTokens::issue(std::string_view access_key_id, WallTime now) {
  std::string token = ids::random_hex(64);
  if (token.size() != 64) return Error::internal("no random bytes for a sign-in token");
  std::lock_guard lock(mutex_);
  forget_expired(now);
  by_hash_[api::sha256_hex(token)] = Entry{std::string(access_key_id), now + kSignInTokenLifetime};
  return token;
}

Result<std::string> SignInTokens::redeem(std::string_view token, WallTime now) {
  std::lock_guard lock(mutex_);
  forget_expired(now);
  auto it = by_hash_.find(api::sha256_hex(token));
  if (it == by_hash_.end()) return invalid_token();
  std::string key = std::move(it->second.access_key_id);
  by_hash_.erase(it);  // spent, whatever happens next
  return key;
}

void SignInTokens::forget_expired(WallTime now) {
  std::erase_if(by_hash_, [now](const auto& kv) { return kv.second.expires <= now; });
}

}  // namespace berth::console
