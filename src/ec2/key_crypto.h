// ec2/key_crypto: the real keys behind CreateKeyPair and ImportKeyPair,
// with OpenSSL 3, and the fingerprints exactly as EC2 documents them
// (botocore model, KeyPair.KeyFingerprint / ImportKeyPairResult):
//   created RSA:   colon-hex SHA-1 of the DER PKCS#8 private key
//                  (= openssl pkcs8 -topk8 -nocrypt -outform DER | openssl sha1 -c)
//   imported RSA:  colon-hex MD5 of the DER SubjectPublicKeyInfo
//                  (= openssl rsa -pubout -outform DER | openssl md5 -c)
//   ed25519:       base64 SHA-256 of the OpenSSH public key blob (ssh-keygen -l, without "SHA256:")
// Key material: RSA as PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"), ed25519 as an
// unencrypted OpenSSH private key ("BEGIN OPENSSH PRIVATE KEY").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace berth::ec2 {

struct GeneratedKey {
  std::string key_type;            // "rsa" | "ed25519"
  std::string private_key_pem;     // returned once, never stored
  std::string public_key_openssh;  // "ssh-rsa AAAA..."
  std::string fingerprint;
};

struct ImportedKey {
  std::string key_type;
  std::string public_key_openssh;
  std::string fingerprint;
};

// key_type "rsa" (2048 bits) or "ed25519".
Result<GeneratedKey> generate_key(std::string_view key_type);
// An OpenSSH public key line ("ssh-rsa AAAA... comment" / "ssh-ed25519 ...").
// InvalidKey.Format otherwise.
Result<ImportedKey> import_public_key(std::string_view openssh_line);

std::string base64_encode(std::string_view bytes);
// Standard alphabet, padding required, whitespace not allowed; nullopt on error.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace berth::ec2
