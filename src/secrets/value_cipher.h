// secrets/value_cipher: how SecureString parameters and secret values are
// kept at rest. berth has no KMS; this stands in for it: AES-256-GCM
// (OpenSSL EVP) under one data key kept in a file of the data dir
// (mode 0600), so the SQLite store never holds a value in clear.
//
//   sealed = 0x01 | nonce (12 random bytes) | ciphertext | tag (16 bytes)
//
// The associated data binds a sealed value to where it is kept (the
// parameter's name and version, the secret's ARN and version id), so a
// value copied into another row does not open.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace berth::secrets {

class ValueCipher {
 public:
  // Reads the 32-byte key from `key_file`, creating it (0600, its
  // directory 0700) if absent.
  static Result<ValueCipher> open(const std::filesystem::path& key_file);
  // A key given directly (tests); must be 32 bytes.
  explicit ValueCipher(std::string key) : key_(std::move(key)) {}

  Result<std::string> seal(std::string_view plaintext, std::string_view associated_data) const;
  // kInternal when the value was not sealed by this key for this place.
  Result<std::string> open_sealed(std::string_view sealed, std::string_view associated_data) const;

 private:
  std::string key_;
};

std::string base64_encode(std::string_view bytes);
// False when `text` is not base64 (padding required).
bool base64_decode(std::string_view text, std::string& out);

}  // namespace berth::secrets
