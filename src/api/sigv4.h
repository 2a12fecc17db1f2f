// api/sigv4: AWS Signature Version 4, both directions, as pure functions.
//
// Owns: canonicalisation exactly as botocore's SigV4Auth/SigV4QueryAuth do it
// (reference §1.6), verification of the Authorization-header form and the
// pre-signed query form, the ±5 minute clock window, the signing side used by
// tests and by berth's own clients, and a cheap peek at the credential scope
// so the dispatcher can choose a service before authenticating.
//
//   SignedRequest (views into the HTTP request, nothing copied)
//        |  peek_credential_scope() -> service, region (no crypto)
//        v
//   verify_sigv4(req, lookup_secret, now) -> Authenticated | AuthFailure
//                                              (api/envelope.h renders it)
//
// No networking, no exceptions; HMAC-SHA256 and SHA-256 come from OpenSSL.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/clock.h"

namespace berth::api {

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// One HTTP request as it arrived. Repeated headers appear once per line, in
// arrival order.
struct SignedRequest {
  std::string_view method;                 // "POST"
  std::string_view path;                   // raw request-target path, still %-encoded
  std::string_view query;                  // raw, without '?'
  std::span<const HeaderField> headers;
  std::string_view body;
};

struct CredentialScope {
  std::string date;     // yyyymmdd
  std::string region;   // us-east-1
  std::string service;  // ecs, ecr, ec2, elasticloadbalancing, sts
};

struct Authenticated {
  std::string access_key_id;
  CredentialScope scope;
  std::string amz_date;        // the request's YYYYMMDDTHHMMSSZ
  bool presigned = false;
  std::string security_token;  // X-Amz-Security-Token if sent (not verified here)
};

enum class AuthFailureKind {
  kMissingAuth,          // no Authorization header and no X-Amz-Algorithm / X-Amz-Credential
  kIncompleteSignature,  // malformed or incomplete; `detail` says what
  kUnknownKey,           // the access key id is not known
  kBadSignature,         // signature mismatch (or scope date mismatch, `detail` set)
  kExpired,              // date older than now - window (presigned: date + X-Amz-Expires < now)
  kNotYetCurrent,        // date later than now + 5 min
};

struct AuthFailure {
  AuthFailure() = default;
  explicit AuthFailure(AuthFailureKind k) : kind(k) {}

  AuthFailureKind kind = AuthFailureKind::kMissingAuth;
  // For kIncompleteSignature (always) and kBadSignature (sometimes): AWS's
  // explanation text. Empty means "use the standard message".
  std::string detail;
  // For kExpired / kNotYetCurrent, all YYYYMMDDTHHMMSSZ:
  std::string request_date;  // the request's date
  std::string bound_date;    // now - window (expired) or now + 5 min (not yet current)
  std::string now_date;      // now, whole seconds
  std::chrono::seconds window{300};  // 5 min; X-Amz-Expires for an expired presigned URL
  // Known once the credential parsed (useful for logs, never for the reply).
  std::string access_key_id;
};

using VerifyResult = std::variant<Authenticated, AuthFailure>;

// Returns the secret access key of an access key id, or nullopt if unknown.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

inline constexpr std::chrono::seconds kClockSkew{300};
inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Checks, in this order: presence, shape (algorithm, credential, signed
// headers, signature, date), the scope date against the request date, the
// key, the time window, the signature. The Authorization header wins over
// query parameters when both are present.
//
// Body hash: always hex sha256(body), as AWS's JSON, query and EC2 endpoints
// compute it; an X-Amz-Content-SHA256 of 64 hex that differs from it is a
// bad signature, and one that is not a hash (UNSIGNED-PAYLOAD, STREAMING-*:
// S3's alone) is not used, so a request signed over it does not verify. A
// pre-signed request with an empty body also verifies against
// UNSIGNED-PAYLOAD (S3-style presigners) besides the empty hash (botocore's
// SigV4QueryAuth): there is no body to trust.
VerifyResult verify_sigv4(const SignedRequest& request, const SecretLookup& lookup_secret, WallTime now);

// Reads the credential scope (header or presigned form) without verifying
// anything; nullopt if there is none or it does not have five parts.
struct ScopePeek {
  std::string access_key_id;
  CredentialScope scope;
  bool presigned = false;
};
std::optional<ScopePeek> peek_credential_scope(const SignedRequest& request);

// ---- signing ----

struct Credentials {
  std::string_view access_key_id;
  std::string_view secret_access_key;
  std::string_view session_token;  // optional; signed as X-Amz-Security-Token
};

struct SigningResult {
  std::string amz_date;        // value for the X-Amz-Date header
  std::string authorization;   // value for the Authorization header
  std::string signed_headers;  // "content-type;host;x-amz-date"
  std::string signature;       // 64 hex
  std::string canonical_request;
  std::string string_to_sign;
};

// Signs like botocore: every header in request.headers except the hop-by-hop
// blacklist, User-Agent, Authorization and X-Amz-Date is signed, plus
// x-amz-date (and x-amz-security-token with a session token). The caller
// must include Host. Add X-Amz-Date (and X-Amz-Security-Token) and
// Authorization to the outgoing request.
SigningResult sign_request(const SignedRequest& request, const Credentials& credentials, std::string_view region,
                           std::string_view service, WallTime time);

// Pre-signs like botocore's SigV4QueryAuth: returns the complete query
// string (the request's own query, then X-Amz-Algorithm ... X-Amz-SignedHeaders,
// then X-Amz-Signature). Body hash: UNSIGNED-PAYLOAD if unsigned_payload, else
// sha256(request.body).
std::string presign_query(const SignedRequest& request, const Credentials& credentials, std::string_view region,
                          std::string_view service, WallTime time, std::chrono::seconds expires,
                          bool unsigned_payload = false);

// ---- building blocks (exposed for tests and the registry's token code) ----

std::string sha256_hex(std::string_view data);
std::string canonical_uri(std::string_view raw_path);
// For presigned requests X-Amz-Signature is left out.
std::string canonical_query(std::string_view raw_query, bool drop_signature);

}  // namespace berth::api
