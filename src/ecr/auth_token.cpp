#include "ecr/auth_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "core/durable_file.h"

namespace berth::ecr {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

Error unauthenticated(std::string code, std::string message) {
  return Error{ErrorClass::kUnauthenticated, std::move(code), std::move(message)};
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0 || text.size() > (1u << 16)) return false;
  out.assign(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

std::string TokenIssuer::sign(std::string_view payload) const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  return hex(md, len);
}

TokenIssuer::Issued TokenIssuer::issue(std::string_view access_key_id) const {
  WallTime expires = clock_.now() + kTokenLifetime;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
  std::string payload = "v1." + std::string(access_key_id) + "." + std::to_string(seconds);
  std::string full = payload + "." + sign(payload);
  return {base64_encode(full), WallTime(std::chrono::seconds(seconds))};
}

Result<TokenIssuer::Verified> TokenIssuer::verify(std::string_view password) const {
  std::string text;
  if (!base64_decode(password, text)) return unauthenticated("invalid", "malformed authorization token");
  size_t mac_dot = text.rfind('.');
  if (mac_dot == std::string::npos || text.rfind("v1.", 0) != 0) {
    return unauthenticated("invalid", "malformed authorization token");
  }
  std::string_view payload(text.data(), mac_dot);
  std::string expected = sign(payload);
  std::string_view mac = std::string_view(text).substr(mac_dot + 1);
  if (mac.size() != expected.size() || CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) != 0) {
    return unauthenticated("invalid", "authorization token signature does not match");
  }
  size_t key_dot = payload.rfind('.');
  if (key_dot == std::string_view::npos || key_dot < 4) return unauthenticated("invalid", "malformed authorization token");
  std::string_view key = payload.substr(3, key_dot - 3);
  std::string_view expiry_text = payload.substr(key_dot + 1);
  long long expiry = 0;
  if (std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry).ec != std::errc()) {
    return unauthenticated("invalid", "malformed authorization token");
  }
  WallTime expires_at{std::chrono::seconds(expiry)};
  if (clock_.now() >= expires_at) {
    return unauthenticated("expired", "Your authorization token has expired. Reauthenticate and try again.");
  }
  return Verified{std::string(key), expires_at};
}

Result<std::string> TokenIssuer::load_or_create_secret(const std::filesystem::path& file) {
  {
    std::ifstream in(file, std::ios::binary);
    if (in) {
      std::ostringstream s;
      s << in.rdbuf();
      std::string secret = s.str();
      if (secret.size() >= 32) return secret;
    }
  }
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 32) != 1) {
    return Error::internal("no randomness for the registry token secret");
  }
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (auto s = write_file_durably(file.string(), secret, 0600); !s) return std::move(s).error();
  return secret;
}

}  // namespace berth::ecr
