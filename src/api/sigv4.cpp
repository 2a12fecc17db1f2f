#include "api/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "api/query_codec.h"
#include "core/time_format.h"

namespace berth::api {
namespace {

using Digest = std::array<unsigned char, 32>;

constexpr std::string_view kHex = "0123456789abcdef";

std::string to_hex(const unsigned char* p, size_t n) {
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 0xF];
  }
  return out;
}

// OpenSSL 3 looks an algorithm up by name (a lock and string compares) on
// every one-shot HMAC() / EVP_Digest() call; that was a fifth of the front
// door's CPU. SHA-256 is fetched once and each thread keeps one context.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

void sha256_into(std::string_view a, std::string_view b, unsigned char* out) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr);
  EVP_DigestUpdate(ctx.get(), a.data(), a.size());
  if (!b.empty()) EVP_DigestUpdate(ctx.get(), b.data(), b.size());
  EVP_DigestFinal_ex(ctx.get(), out, &len);
}

// HMAC-SHA256 (RFC 2104) over the cached digest.
Digest hmac(std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    sha256_into(key, {}, k);
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char ipad[kBlock], opad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
    opad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  }
  unsigned char inner[32];
  sha256_into({reinterpret_cast<const char*>(ipad), kBlock}, data, inner);
  Digest out{};
  sha256_into({reinterpret_cast<const char*>(opad), kBlock}, {reinterpret_cast<const char*>(inner), sizeof inner},
              out.data());
  return out;
}

std::string_view as_view(const Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Python's str.split() whitespace, ASCII part.
bool is_py_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_py_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_py_space(s.back())) s.remove_suffix(1);
  return s;
}

// ' '.join(value.split())
void append_trimall(std::string_view v, std::string& out) {
  bool first = true;
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && is_py_space(v[i])) ++i;
    if (i == v.size()) break;
    size_t j = i;
    while (j < v.size() && !is_py_space(v[j])) ++j;
    if (!first) out.push_back(' ');
    out.append(v.substr(i, j - i));
    first = false;
    i = j;
  }
}

std::optional<std::string_view> find_header(std::span<const HeaderField> headers, std::string_view name) {
  for (const HeaderField& h : headers)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

// Raw query pairs, decoded without '+' translation; a bad escape is kept raw.
std::vector<std::pair<std::string, std::string>> raw_query_pairs(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= q.size()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view piece = q.substr(pos, amp - pos);
    pos = amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view k = piece.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    std::optional<std::string> dk = percent_decode(k, false);
    std::optional<std::string> dv = percent_decode(v, false);
    out.emplace_back(dk ? std::move(*dk) : std::string(k), dv ? std::move(*dv) : std::string(v));
  }
  return out;
}

const std::string* find_param(const std::vector<std::pair<std::string, std::string>>& params, std::string_view key) {
  for (const auto& p : params)
    if (p.first == key) return &p.second;
  return nullptr;
}

WallTime floor_seconds(WallTime t) { return std::chrono::floor<std::chrono::seconds>(t); }

std::optional<WallTime> parse_http_date(std::string_view s) {
  // RFC 7231 IMF-fixdate ("... GMT") or what Python's email.utils.formatdate
  // (botocore) writes ("... -0000" / "+0000").
  std::string text(s);
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S ", &tm);
  if (end == nullptr) return std::nullopt;
  std::string_view zone(end);
  if (zone != "GMT" && zone != "UTC" && zone != "-0000" && zone != "+0000") return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

struct CredentialParts {
  std::string access_key_id;
  CredentialScope scope;
  std::string terminator;
};

std::optional<CredentialParts> split_credential(std::string_view cred) {
  std::array<std::string_view, 5> parts;
  size_t n = 0, pos = 0;
  while (true) {
    size_t slash = cred.find('/', pos);
    if (n == parts.size()) return std::nullopt;
    parts[n++] = cred.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (n != 5) return std::nullopt;
  for (auto p : parts)
    if (p.empty()) return std::nullopt;
  return CredentialParts{std::string(parts[0]),
                         {std::string(parts[1]), std::string(parts[2]), std::string(parts[3])},
                         std::string(parts[4])};
}

// The pieces of a signed request once its form (header or query) is read.
struct ParsedAuth {
  bool presigned = false;
  std::string algorithm;
  std::string credential;
  std::vector<std::string> signed_headers;  // lower case, as listed
  std::string signed_headers_text;
  std::string signature;
  std::string amz_date;
  std::optional<long long> expires;
  std::string security_token;
};

AuthFailure incomplete(std::string detail) {
  AuthFailure f;
  f.kind = AuthFailureKind::kIncompleteSignature;
  f.detail = std::move(detail);
  return f;
}

std::vector<std::string> split_signed_headers(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t semi = s.find(';', pos);
    if (semi == std::string_view::npos) semi = s.size();
    std::string name = to_lower(trim(s.substr(pos, semi - pos)));
    if (!name.empty()) out.push_back(std::move(name));
    pos = semi + 1;
  }
  return out;
}

std::optional<AuthFailure> parse_header_form(std::string_view authorization, std::span<const HeaderField> headers,
                                             ParsedAuth& out) {
  std::string_view a = trim(authorization);
  size_t sp = a.find(' ');
  out.algorithm = std::string(a.substr(0, sp));
  std::string_view rest = sp == std::string_view::npos ? std::string_view{} : a.substr(sp + 1);
  if (out.algorithm != kAlgorithm) {
    return incomplete("Unsupported AWS 'algorithm': '" + out.algorithm + "'. Authorization=" + std::string(a));
  }
  bool have_cred = false, have_sh = false, have_sig = false;
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t comma = rest.find(',', pos);
    if (comma == std::string_view::npos) comma = rest.size();
    std::string_view piece = trim(rest.substr(pos, comma - pos));
    pos = comma + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      return incomplete("'" + std::string(piece) +
                        "' not a valid key=value pair (missing equal-sign) in Authorization header: '" +
                        std::string(a) + "'.");
    }
    std::string_view k = trim(piece.substr(0, eq));
    std::string_view v = trim(piece.substr(eq + 1));
    if (k == "Credential") {
      out.credential = std::string(v);
      have_cred = true;
    } else if (k == "SignedHeaders") {
      out.signed_headers_text = std::string(v);
      out.signed_headers = split_signed_headers(v);
      have_sh = true;
    } else if (k == "Signature") {
      out.signature = std::string(v);
      have_sig = true;
    }
  }
  std::optional<std::string_view> amz_date = find_header(headers, "x-amz-date");
  std::optional<std::string_view> http_date = find_header(headers, "date");
  std::string missing;
  if (!have_cred) missing += "Authorization header requires 'Credential' parameter. ";
  if (!have_sig) missing += "Authorization header requires 'Signature' parameter. ";
  if (!have_sh) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!amz_date && !http_date)
    missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  if (!missing.empty()) return incomplete(missing + "Authorization=" + std::string(a));
  if (amz_date) {
    out.amz_date = std::string(trim(*amz_date));
  } else {
    std::optional<WallTime> t = parse_http_date(trim(*http_date));
    if (!t) return incomplete("Date must be in ISO-8601 'basic format'. Got '" + std::string(*http_date) + "'.");
    out.amz_date = format_amz_date(*t);
  }
  if (auto tok = find_header(headers, "x-amz-security-token")) out.security_token = std::string(*tok);
  return std::nullopt;
}

std::optional<AuthFailure> parse_query_form(const std::vector<std::pair<std::string, std::string>>& params,
                                            std::span<const HeaderField> headers, ParsedAuth& out) {
  out.presigned = true;
  const std::string* alg = find_param(params, "X-Amz-Algorithm");
  const std::string* cred = find_param(params, "X-Amz-Credential");
  const std::string* sig = find_param(params, "X-Amz-Signature");
  const std::string* date = find_param(params, "X-Amz-Date");
  const std::string* sh = find_param(params, "X-Amz-SignedHeaders");
  const std::string* expires = find_param(params, "X-Amz-Expires");
  if (!alg || !cred || !sig || !date || !sh) {
    return incomplete(
        "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', "
        "'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.");
  }
  if (*alg != kAlgorithm) return incomplete("Unsupported AWS 'algorithm': '" + *alg + "'.");
  out.algorithm = *alg;
  out.credential = *cred;
  out.signature = *sig;
  out.amz_date = *date;
  out.signed_headers_text = *sh;
  out.signed_headers = split_signed_headers(*sh);
  if (expires) {
    long long v = 0;
    bool ok = !expires->empty() && expires->size() <= 7;
    for (size_t i = 0; ok && i < expires->size(); ++i) {  // at most 7 digits: no overflow
      char c = (*expires)[i];
      if (c < '0' || c > '9') ok = false;
      else v = v * 10 + (c - '0');
    }
    if (!ok || v < 1) return incomplete("X-Amz-Expires must be a positive integer number of seconds.");
    if (v > 604800) return incomplete("X-Amz-Expires must be less than a week (in seconds) that is; 604800.");
    out.expires = v;
  }
  if (const std::string* tok = find_param(params, "X-Amz-Security-Token")) out.security_token = *tok;
  else if (auto t = find_header(headers, "x-amz-security-token")) out.security_token = std::string(*t);
  return std::nullopt;
}

bool is_presigned(const std::vector<std::pair<std::string, std::string>>& params) {
  return find_param(params, "X-Amz-Algorithm") || find_param(params, "X-Amz-Credential") ||
         find_param(params, "X-Amz-Signature");
}

void append_canonical_headers(std::span<const HeaderField> headers, const std::vector<std::string>& names,
                              std::string& out) {
  for (const std::string& name : names) {
    out.append(name);
    out.push_back(':');
    bool first = true;
    for (const HeaderField& h : headers) {
      if (!iequals(h.name, name)) continue;
      if (!first) out.push_back(',');
      append_trimall(h.value, out);
      first = false;
    }
    out.push_back('\n');
  }
}

std::string build_canonical_request(std::string_view method, std::string_view path, std::string_view canonical_q,
                                    std::span<const HeaderField> headers, const std::vector<std::string>& names,
                                    std::string_view signed_headers_text, std::string_view payload_hash) {
  std::string cr;
  cr.reserve(256 + path.size() + canonical_q.size());
  for (char c : method) cr.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c);
  cr.push_back('\n');
  cr.append(canonical_uri(path));
  cr.push_back('\n');
  cr.append(canonical_q);
  cr.push_back('\n');
  append_canonical_headers(headers, names, cr);
  cr.push_back('\n');
  cr.append(signed_headers_text);
  cr.push_back('\n');
  cr.append(payload_hash);
  return cr;
}

std::string scope_text(std::string_view date8, std::string_view region, std::string_view service) {
  std::string s;
  s.append(date8).append("/").append(region).append("/").append(service).append("/aws4_request");
  return s;
}

std::string build_string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_req) {
  std::string s;
  s.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  s.append(sha256_hex(canonical_req));
  return s;
}

std::string compute_signature(std::string_view secret, std::string_view date8, std::string_view region,
                              std::string_view service, std::string_view string_to_sign) {
  std::string k0 = "AWS4";
  k0.append(secret);
  Digest k_date = hmac(k0, date8);
  OPENSSL_cleanse(k0.data(), k0.size());
  Digest k_region = hmac(as_view(k_date), region);
  Digest k_service = hmac(as_view(k_region), service);
  Digest k_signing = hmac(as_view(k_service), "aws4_request");
  Digest sig = hmac(as_view(k_signing), string_to_sign);
  return to_hex(sig.data(), sig.size());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool is_signed_header_excluded(std::string_view lname) {
  static constexpr std::array<std::string_view, 11> kBlacklist = {
      "connection", "expect",  "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
      "trailer",    "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"};
  return std::find(kBlacklist.begin(), kBlacklist.end(), lname) != kBlacklist.end();
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[32];
  sha256_into(data, {}, md);
  return to_hex(md, sizeof md);
}

std::string canonical_uri(std::string_view raw_path) {
  // botocore: quote(remove_dot_segments(path), safe='/~'), applied to the
  // already-encoded path, so '%' itself is encoded again (non-S3 services).
  if (raw_path.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= raw_path.size()) {
    size_t slash = raw_path.find('/', pos);
    if (slash == std::string_view::npos) slash = raw_path.size();
    std::string_view seg = raw_path.substr(pos, slash - pos);
    pos = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string joined;
  if (raw_path.front() == '/') joined.push_back('/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i) joined.push_back('/');
    joined.append(segments[i]);
  }
  if (raw_path.back() == '/' && !segments.empty()) joined.push_back('/');
  if (joined.empty()) return "";
  return uri_encode(joined, true);
}

std::string canonical_query(std::string_view raw_query, bool drop_signature) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto& [k, v] : raw_query_pairs(raw_query)) {
    if (drop_signature && k == "X-Amz-Signature") continue;
    pairs.emplace_back(uri_encode(k), uri_encode(v));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out.push_back('&');
    out.append(pairs[i].first).append("=").append(pairs[i].second);
  }
  return out;
}

std::optional<ScopePeek> peek_credential_scope(const SignedRequest& request) {
  std::string credential;
  bool presigned = false;
  if (std::optional<std::string_view> auth = find_header(request.headers, "authorization")) {
    std::string_view a = *auth;
    size_t at = a.find("Credential=");
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view c = a.substr(at + 11);
    size_t end = c.find_first_of(", ");
    credential = std::string(c.substr(0, end));
  } else {
    auto params = raw_query_pairs(request.query);
    const std::string* c = find_param(params, "X-Amz-Credential");
    if (!c) return std::nullopt;
    credential = *c;
    presigned = true;
  }
  std::optional<CredentialParts> parts = split_credential(credential);
  if (!parts) return std::nullopt;
  return ScopePeek{std::move(parts->access_key_id), std::move(parts->scope), presigned};
}

VerifyResult verify_sigv4(const SignedRequest& request, const SecretLookup& lookup_secret, WallTime now) {
  ParsedAuth pa;
  std::vector<std::pair<std::string, std::string>> params;
  std::optional<std::string_view> authorization = find_header(request.headers, "authorization");
  if (authorization) {
    if (auto f = parse_header_form(*authorization, request.headers, pa)) return *f;
  } else {
    params = raw_query_pairs(request.query);
    if (!is_presigned(params)) return AuthFailure{AuthFailureKind::kMissingAuth};
    if (auto f = parse_query_form(params, request.headers, pa)) return *f;
  }

  std::optional<CredentialParts> cred = split_credential(pa.credential);
  if (!cred) {
    return incomplete("Credential should be of the form '<access key id>/<yyyymmdd>/<region>/<service>/aws4_request'; got '" +
                      pa.credential + "'.");
  }
  if (cred->terminator != "aws4_request") {
    return incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '" + cred->terminator +
                      "'.");
  }
  if (pa.signed_headers.empty()) return incomplete("SignedHeaders must name at least the 'host' header.");
  if (std::find(pa.signed_headers.begin(), pa.signed_headers.end(), "host") == pa.signed_headers.end())
    return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  std::optional<WallTime> t = parse_amz_date(pa.amz_date);
  if (!t) {
    return incomplete("Date must be in ISO-8601 'basic format'. Got '" + pa.amz_date +
                      "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }
  if (cred->scope.date != std::string_view(pa.amz_date).substr(0, 8)) {
    AuthFailure f{AuthFailureKind::kBadSignature};
    f.detail = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
               cred->scope.date + "' != '" + pa.amz_date.substr(0, 8) + "', from '" + pa.amz_date + "'.";
    f.access_key_id = cred->access_key_id;
    return f;
  }

  std::optional<std::string> secret = lookup_secret ? lookup_secret(cred->access_key_id) : std::nullopt;
  if (!secret) {
    AuthFailure f{AuthFailureKind::kUnknownKey};
    f.access_key_id = cred->access_key_id;
    return f;
  }

  WallTime now_s = floor_seconds(now);
  auto window_failure = [&](AuthFailureKind kind, WallTime bound, std::chrono::seconds window) {
    AuthFailure f{kind};
    f.request_date = pa.amz_date;
    f.bound_date = format_amz_date(bound);
    f.now_date = format_amz_date(now_s);
    f.window = window;
    f.access_key_id = cred->access_key_id;
    return f;
  };
  if (*t > now_s + kClockSkew) return window_failure(AuthFailureKind::kNotYetCurrent, now_s + kClockSkew, kClockSkew);
  if (pa.presigned && pa.expires) {
    std::chrono::seconds window{*pa.expires};
    if (*t + window < now_s) return window_failure(AuthFailureKind::kExpired, now_s - window, window);
  } else if (*t < now_s - kClockSkew) {
    return window_failure(AuthFailureKind::kExpired, now_s - kClockSkew, kClockSkew);
  }

  // Candidate body hashes. The body's own hash, always: berth's services are
  // the JSON, query and EC2 APIs, whose AWS endpoints compute the payload
  // hash from the body (no operation of theirs has botocore's unsignedPayload
  // trait; UNSIGNED-PAYLOAD and STREAMING-* are S3's alone). So a request
  // signed over "UNSIGNED-PAYLOAD" in x-amz-content-sha256 does not verify:
  // a body nobody signed is never trusted. A pre-signed request with no body
  // may also have been signed over UNSIGNED-PAYLOAD (S3-style presigners):
  // there is no body to trust, so that is accepted.
  std::string body_hash = sha256_hex(request.body);
  std::vector<std::string> payloads{body_hash};
  if (std::optional<std::string_view> h = find_header(request.headers, "x-amz-content-sha256")) {
    std::string declared(trim(*h));
    bool is_hash = declared.size() == 64 &&
                   std::all_of(declared.begin(), declared.end(), [](char c) { return kHex.find(c) != kHex.npos; });
    if (is_hash && declared != body_hash) {
      AuthFailure f{AuthFailureKind::kBadSignature};
      f.detail = "The provided 'x-amz-content-sha256' header does not match what was computed.";
      f.access_key_id = cred->access_key_id;
      return f;
    }
  }
  if (pa.presigned && request.body.empty()) payloads.emplace_back(kUnsignedPayload);

  std::string cq = canonical_query(request.query, pa.presigned);
  std::string scope = scope_text(cred->scope.date, cred->scope.region, cred->scope.service);
  bool match = false;
  for (const std::string& payload : payloads) {
    std::string cr = build_canonical_request(request.method, request.path, cq, request.headers, pa.signed_headers,
                                             pa.signed_headers_text, payload);
    std::string sts = build_string_to_sign(pa.amz_date, scope, cr);
    std::string expected =
        compute_signature(*secret, cred->scope.date, cred->scope.region, cred->scope.service, sts);
    if (constant_time_equal(expected, pa.signature)) {
      match = true;
      break;
    }
  }
  OPENSSL_cleanse(secret->data(), secret->size());
  if (!match) {
    AuthFailure f{AuthFailureKind::kBadSignature};
    f.access_key_id = cred->access_key_id;
    return f;
  }
  return Authenticated{std::move(cred->access_key_id), std::move(cred->scope), std::move(pa.amz_date), pa.presigned,
                       std::move(pa.security_token)};
}

namespace {

struct SignPlan {
  std::vector<HeaderField> headers;  // what gets signed, arrival order
  std::vector<std::string> names;    // sorted, unique, lower case
  std::string names_text;
};

SignPlan plan_headers(std::span<const HeaderField> in, std::span<const HeaderField> extra) {
  SignPlan p;
  for (const HeaderField& h : in) {
    std::string l = to_lower(h.name);
    if (is_signed_header_excluded(l) || l == "authorization" || l == "x-amz-date") continue;
    if (l == "x-amz-security-token" && !extra.empty()) continue;
    p.headers.push_back(h);
    p.names.push_back(std::move(l));
  }
  for (const HeaderField& h : extra) {
    p.headers.push_back(h);
    p.names.push_back(to_lower(h.name));
  }
  std::sort(p.names.begin(), p.names.end());
  p.names.erase(std::unique(p.names.begin(), p.names.end()), p.names.end());
  for (size_t i = 0; i < p.names.size(); ++i) {
    if (i) p.names_text.push_back(';');
    p.names_text.append(p.names[i]);
  }
  return p;
}

}  // namespace

SigningResult sign_request(const SignedRequest& request, const Credentials& credentials, std::string_view region,
                           std::string_view service, WallTime time) {
  SigningResult r;
  r.amz_date = format_amz_date(time);
  std::string date8 = r.amz_date.substr(0, 8);
  std::vector<HeaderField> extra{{"X-Amz-Date", r.amz_date}};
  if (!credentials.session_token.empty()) extra.push_back({"X-Amz-Security-Token", credentials.session_token});
  SignPlan plan = plan_headers(request.headers, extra);
  std::string payload;
  if (auto h = find_header(request.headers, "x-amz-content-sha256")) payload = std::string(*h);
  else payload = sha256_hex(request.body);
  r.canonical_request = build_canonical_request(request.method, request.path, canonical_query(request.query, false),
                                                plan.headers, plan.names, plan.names_text, payload);
  std::string scope = scope_text(date8, region, service);
  r.string_to_sign = build_string_to_sign(r.amz_date, scope, r.canonical_request);
  r.signature = compute_signature(credentials.secret_access_key, date8, region, service, r.string_to_sign);
  r.signed_headers = plan.names_text;
  r.authorization = std::string(kAlgorithm) + " Credential=" + std::string(credentials.access_key_id) + "/" + scope +
                    ", SignedHeaders=" + r.signed_headers + ", Signature=" + r.signature;
  return r;
}

std::string presign_query(const SignedRequest& request, const Credentials& credentials, std::string_view region,
                          std::string_view service, WallTime time, std::chrono::seconds expires,
                          bool unsigned_payload) {
  std::string amz_date = format_amz_date(time);
  std::string date8 = amz_date.substr(0, 8);
  SignPlan plan = plan_headers(request.headers, {});
  std::string scope = scope_text(date8, region, service);
  std::string query(request.query);
  auto add = [&](std::string_view k, std::string_view v) {
    if (!query.empty()) query.push_back('&');
    uri_encode(k, false, query);
    query.push_back('=');
    uri_encode(v, false, query);
  };
  add("X-Amz-Algorithm", kAlgorithm);
  add("X-Amz-Credential", std::string(credentials.access_key_id) + "/" + scope);
  add("X-Amz-Date", amz_date);
  add("X-Amz-Expires", std::to_string(expires.count()));
  add("X-Amz-SignedHeaders", plan.names_text);
  if (!credentials.session_token.empty()) add("X-Amz-Security-Token", credentials.session_token);
  std::string payload = unsigned_payload ? std::string(kUnsignedPayload) : sha256_hex(request.body);
  std::string cr = build_canonical_request(request.method, request.path, canonical_query(query, false), plan.headers,
                                           plan.names, plan.names_text, payload);
  std::string sig = compute_signature(credentials.secret_access_key, date8, region, service,
                                      build_string_to_sign(amz_date, scope, cr));
  add("X-Amz-Signature", sig);
  return query;
}

}  // namespace berth::api
