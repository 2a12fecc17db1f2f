#include "secrets/value_cipher.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/durable_file.h"

namespace berth::secrets {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr char kFormat = 1;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Status write_key_file(const std::filesystem::path& file, const std::string& key) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  ::chmod(file.parent_path().c_str(), 0700);
  // Never replaced: an existing key's values would be lost for good.
  return write_file_durably(file.string(), key, 0600, IfExists::kKeep);
}

}  // namespace

Result<ValueCipher> ValueCipher::open(const std::filesystem::path& key_file) {
  {
    std::ifstream in(key_file, std::ios::binary);
    if (in) {
      std::ostringstream s;
      s << in.rdbuf();
      std::string key = s.str();
      if (key.size() == kKeyBytes) return ValueCipher(std::move(key));
      return Error::internal(key_file.string() + " does not hold a 32-byte key");
    }
  }
  // A new key only when there is none: any other failure to read it is an error.
  std::error_code exists_error;
  if (std::filesystem::exists(key_file, exists_error) || exists_error)
    return Error::internal("cannot read " + key_file.string());
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(bytes(key), kKeyBytes) != 1) return Error::internal("no randomness for the secrets key");
  if (auto s = write_key_file(key_file, key); !s) return std::move(s).error();
  return ValueCipher(std::move(key));
}

Result<std::string> ValueCipher::seal(std::string_view plaintext, std::string_view associated_data) const {
  if (key_.size() != kKeyBytes) return Error::internal("secrets key is not 32 bytes");
  std::string out(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  out[0] = kFormat;
  unsigned char* nonce = bytes(out) + 1;
  if (RAND_bytes(nonce, kNonceBytes) != 1) return Error::internal("no randomness for a nonce");
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  unsigned char* body = nonce + kNonceBytes;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                              static_cast<int>(associated_data.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), body, &len, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), body + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + plaintext.size()) == 1;
  if (!ok) return Error::internal("AES-GCM encryption failed");
  return out;
}

Result<std::string> ValueCipher::open_sealed(std::string_view sealed, std::string_view associated_data) const {
  if (key_.size() != kKeyBytes) return Error::internal("secrets key is not 32 bytes");
  if (sealed.size() < 1 + kNonceBytes + kTagBytes || sealed[0] != kFormat)
    return Error::internal("sealed value has an unknown format");
  const unsigned char* nonce = bytes(sealed) + 1;
  size_t body_size = sealed.size() - 1 - kNonceBytes - kTagBytes;
  const unsigned char* body = nonce + kNonceBytes;
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  std::string out(body_size, '\0');
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                              static_cast<int>(associated_data.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), bytes(out), &len, body, static_cast<int>(body_size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, bytes(tag)) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), bytes(out) + len, &len) == 1;
  if (!ok) return Error::internal("sealed value does not open under this key (tampered, or another key)");
  return out;
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(bytes(out), bytes(data), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  out.assign(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(bytes(out), bytes(text), static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

}  // namespace berth::secrets
