#include "ec2/key_crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstdint>
#include <memory>
#include <optional>

namespace berth::ec2 {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Error crypto_error(std::string_view what) { return Error::internal("key generation failed: " + std::string(what)); }

Error invalid_key_format() {
  return Error::invalid("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
}

std::string digest_hex_colon(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string text;
  for (unsigned i = 0; i < len; ++i) {
    if (i) text += ':';
    text += kHex[out[i] >> 4];
    text += kHex[out[i] & 15];
  }
  return text;
}

std::string sha256_base64(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(out), len));
}

// SSH wire format (RFC 4251): uint32 and length-prefixed strings.
void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}
std::string mpint(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_bn2mpi(bn, nullptr)), '\0');
  BN_bn2mpi(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;  // BN_bn2mpi writes exactly SSH's mpint: length, then big-endian with a sign byte
}

class SshReader {
 public:
  explicit SshReader(std::string_view data) : data_(data) {}
  std::optional<std::string_view> string() {
    if (data_.size() < 4) return std::nullopt;
    uint32_t len = (uint32_t(uint8_t(data_[0])) << 24) | (uint32_t(uint8_t(data_[1])) << 16) |
                   (uint32_t(uint8_t(data_[2])) << 8) | uint32_t(uint8_t(data_[3]));
    if (data_.size() - 4 < len) return std::nullopt;
    auto s = data_.substr(4, len);
    data_.remove_prefix(4 + len);
    return s;
  }
  bool done() const { return data_.empty(); }

 private:
  std::string_view data_;
};

std::string pem_wrap(std::string_view label, std::string_view der, size_t width) {
  std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += width) out += b64.substr(i, width) + "\n";
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

Result<std::string> rsa_blob(EVP_PKEY* pkey) {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
    BN_free(n);
    BN_free(e);
    return crypto_error("RSA parameters");
  }
  Bn n_owner(n), e_owner(e);
  std::string blob;
  put_string(blob, "ssh-rsa");
  blob += mpint(e);
  blob += mpint(n);
  return blob;
}

Result<GeneratedKey> generate_rsa() {
  Pkey pkey(EVP_RSA_gen(2048));
  if (!pkey) return crypto_error("RSA keygen");
  GeneratedKey key;
  key.key_type = "rsa";
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    // The "traditional" form of an RSA key is PKCS#1: BEGIN RSA PRIVATE KEY.
    if (!bio || !PEM_write_bio_PrivateKey_traditional(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr))
      return crypto_error("PEM");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    key.private_key_pem.assign(data, static_cast<size_t>(len));
  }
  {
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, decltype(&PKCS8_PRIV_KEY_INFO_free)> p8(EVP_PKEY2PKCS8(pkey.get()),
                                                                               PKCS8_PRIV_KEY_INFO_free);
    unsigned char* der = nullptr;
    int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &der) : -1;
    if (len <= 0) return crypto_error("PKCS#8");
    key.fingerprint = digest_hex_colon(EVP_sha1(), std::string_view(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
  }
  auto blob = rsa_blob(pkey.get());
  if (!blob) return std::move(blob).error();
  key.public_key_openssh = "ssh-rsa " + base64_encode(*blob);
  return key;
}

Result<GeneratedKey> generate_ed25519() {
  Pkey pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return crypto_error("Ed25519 keygen");
  unsigned char pub[32], seed[32];
  size_t pub_len = sizeof pub, seed_len = sizeof seed;
  if (!EVP_PKEY_get_raw_public_key(pkey.get(), pub, &pub_len) ||
      !EVP_PKEY_get_raw_private_key(pkey.get(), seed, &seed_len) || pub_len != 32 || seed_len != 32)
    return crypto_error("Ed25519 raw keys");
  std::string_view pub_view(reinterpret_cast<char*>(pub), 32);
  std::string blob;
  put_string(blob, "ssh-ed25519");
  put_string(blob, pub_view);

  // openssh-key-v1, unencrypted (PROTOCOL.key in OpenSSH).
  uint32_t check = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check);
  std::string secret;
  put_u32(secret, check);
  put_u32(secret, check);
  put_string(secret, "ssh-ed25519");
  put_string(secret, pub_view);
  put_string(secret, std::string(reinterpret_cast<char*>(seed), 32) + std::string(pub_view));
  put_string(secret, "");
  for (char pad = 1; secret.size() % 8 != 0; ++pad) secret += pad;
  OPENSSL_cleanse(seed, sizeof seed);
  std::string file("openssh-key-v1", 15);  // with its NUL
  put_string(file, "none");
  put_string(file, "none");
  put_string(file, "");
  put_u32(file, 1);
  put_string(file, blob);
  put_string(file, secret);
  OPENSSL_cleanse(secret.data(), secret.size());

  GeneratedKey key;
  key.key_type = "ed25519";
  key.private_key_pem = pem_wrap("OPENSSH PRIVATE KEY", file, 70);
  OPENSSL_cleanse(file.data(), file.size());
  key.public_key_openssh = "ssh-ed25519 " + base64_encode(blob);
  key.fingerprint = sha256_base64(blob);
  return key;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<GeneratedKey> generate_key(std::string_view key_type) {
  if (key_type == "rsa") return generate_rsa();
  if (key_type == "ed25519") return generate_ed25519();
  return Error::invalid("InvalidParameterValue",
                        "Value (" + std::string(key_type) + ") for parameter keyType is invalid.");
}

Result<ImportedKey> import_public_key(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return invalid_key_format();
  std::string_view type = line.substr(0, space);
  std::string_view rest = line.substr(space + 1);
  std::string_view b64 = rest.substr(0, rest.find(' '));
  auto blob = base64_decode(b64);
  if (!blob) return invalid_key_format();
  SshReader reader(*blob);
  auto inner_type = reader.string();
  if (!inner_type || *inner_type != type) return invalid_key_format();
  ImportedKey key;
  if (type == "ssh-rsa") {
    auto e = reader.string();
    auto n = reader.string();
    if (!e || !n || !reader.done()) return invalid_key_format();
    Bn bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
    Bn bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
    if (!bn_e || !bn_n) return invalid_key_format();
    int bits = BN_num_bits(bn_n.get());
    if (bits < 1024 || bits > 16384 || BN_is_zero(bn_e.get())) return invalid_key_format();
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
      return crypto_error("RSA params");
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                   OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr),
                                                                    EVP_PKEY_CTX_free);
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
      return invalid_key_format();
    Pkey pkey(raw);
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(pkey.get(), &der);
    if (len <= 0) return crypto_error("DER public key");
    key.fingerprint = digest_hex_colon(EVP_md5(), std::string_view(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
    key.key_type = "rsa";
  } else if (type == "ssh-ed25519") {
    auto pub = reader.string();
    if (!pub || pub->size() != 32 || !reader.done()) return invalid_key_format();
    key.fingerprint = sha256_base64(*blob);
    key.key_type = "ed25519";
  } else {
    return invalid_key_format();
  }
  key.public_key_openssh = std::string(type) + " " + std::string(b64);
  return key;
}

}  // namespace berth::ec2
