#include "api/sigv4.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "api/envelope.h"
#include "core/time_format.h"

namespace berth::api {
namespace {

using namespace std::chrono_literals;

struct Vector {
  const char* name;
  const char* service;
  const char* region;
  const char* method;
  const char* path;
  std::vector<std::pair<const char*, const char*>> headers;
  const char* query;
  const char* body;
  const char* authorization;  // empty for the presigned form
};

constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// Produced by testdata/make_sigv4_vectors.py (real botocore SigV4Auth /
// SigV4QueryAuth with a pinned clock). Do not edit by hand.
const std::vector<Vector> kVectors = {
// botocore 1.43.11, clock 2024-03-09T12:34:56+00:00, key AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
    {"json11_ecs", "ecs", "us-east-1", "POST", "/", {{"Host", "127.0.0.1:4566"}, {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices"}, {"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Date", "20240309T123456Z"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=7b894ada2a3cc63e7e81cf871acf06ee3c49494efbb664ab4b051e429b29683f"}}, "", "{\"cluster\": \"c\", \"services\": [\"s\"]}", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=7b894ada2a3cc63e7e81cf871acf06ee3c49494efbb664ab4b051e429b29683f"},
    {"query_elbv2", "elasticloadbalancing", "eu-west-1", "POST", "/", {{"Host", "127.0.0.1:4566"}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"X-Amz-Date", "20240309T123456Z"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/eu-west-1/elasticloadbalancing/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5b53bb6c542cc7262a65cfa7c44f4972f49eda4a17ad6b4135584f00700586cb"}}, "", "Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=tg-a&Names.member.2=tg%20b", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/eu-west-1/elasticloadbalancing/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5b53bb6c542cc7262a65cfa7c44f4972f49eda4a17ad6b4135584f00700586cb"},
    {"ec2_describe_sgs", "ec2", "us-east-1", "POST", "/", {{"Host", "localhost:4566"}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"X-Amz-Date", "20240309T123456Z"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=7d7650fc29aa4a3cb33e67033a7bd5769e43edecec8bed33e44e901f249f369b"}}, "", "Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&GroupId.1=sg-1", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=7d7650fc29aa4a3cb33e67033a7bd5769e43edecec8bed33e44e901f249f369b"},
    {"path_needing_encoding", "ecr", "us-east-1", "GET", "/a%20b/c$d/./e/../f//g~h%2Fi/%E2%82%AC", {{"Host", "127.0.0.1:4566"}, {"X-Amz-Date", "20240309T123456Z"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=6d7b06607616deac8afdb1ef70cffdbc1204fdf4504d33558e3db2abb659d5d8"}}, "b=2&a=1&a=0&c=x%2Fy&d", "", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=6d7b06607616deac8afdb1ef70cffdbc1204fdf4504d33558e3db2abb659d5d8"},
    {"repeated_headers_whitespace", "ecs", "us-east-1", "POST", "/", {{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/x-amz-json-1.1"}, {"X-Custom", "  first   value "}, {"X-Custom", "\tsecond\t\tvalue"}, {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"}, {"User-Agent", "aws-cli/1.45.11"}, {"X-Amz-Date", "20240309T123456Z"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-custom, Signature=d5727c1e068af8c7929bca520fe6e97db460edd560213c92f5b64d16c2516c80"}}, "", "{}", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-custom, Signature=d5727c1e068af8c7929bca520fe6e97db460edd560213c92f5b64d16c2516c80"},
    {"content_sha256_header", "ecr", "us-east-1", "POST", "/", {{"Host", "127.0.0.1:4566"}, {"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"}, {"X-Amz-Date", "20240309T123456Z"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecr/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=d55c2357ed702fa1a9071fd3100c9146a78b054850ac2a9a2cbb926606b4dafa"}}, "", "{}", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecr/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=d55c2357ed702fa1a9071fd3100c9146a78b054850ac2a9a2cbb926606b4dafa"},
    {"date_header_instead_of_x_amz_date", "sts", "us-east-1", "POST", "/", {{"Host", "127.0.0.1:4566"}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"Date", "Sat, 09 Mar 2024 12:34:56 -0000"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/sts/aws4_request, SignedHeaders=content-type;date;host, Signature=193e81504b7d00bdc66675e945514e09b3cf78f355524fa9c4950ac1160a066f"}}, "", "Action=GetCallerIdentity&Version=2011-06-15", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/sts/aws4_request, SignedHeaders=content-type;date;host, Signature=193e81504b7d00bdc66675e945514e09b3cf78f355524fa9c4950ac1160a066f"},
    {"presigned_sts", "sts", "us-east-1", "GET", "/", {{"Host", "127.0.0.1:4566"}}, "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240309%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20240309T123456Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=83cae43687bc7ab8b8a5b052a83dc434ab2c3b0d6e7051376e3df4f2e456cd2e", "", ""},
};

WallTime vector_time() { return *parse_amz_date("20240309T123456Z"); }

std::optional<std::string> lookup(std::string_view akid) {
  if (akid == kAkid) return std::string(kSecret);
  return std::nullopt;
}

// Owns the header storage the SignedRequest views point into.
struct Req {
  std::string method = "POST";
  std::string path = "/";
  std::string query;
  std::vector<std::pair<std::string, std::string>> header_store;
  std::vector<HeaderField> fields;
  std::string body;

  SignedRequest view() {
    fields.clear();
    for (auto& [n, v] : header_store) fields.push_back({n, v});
    return {method, path, query, fields, body};
  }
  void set(const std::string& name, const std::string& value) {
    for (auto& [n, v] : header_store)
      if (n == name) {
        v = value;
        return;
      }
    header_store.emplace_back(name, value);
  }
  void erase(const std::string& name) {
    std::erase_if(header_store, [&](auto& h) { return h.first == name; });
  }
};

Req from_vector(const Vector& v) {
  Req r;
  r.method = v.method;
  r.path = v.path;
  r.query = v.query;
  r.body = v.body;
  for (auto& [n, val] : v.headers) r.header_store.emplace_back(n, val);
  return r;
}

// A freshly signed JSON 1.1 request at `t`.
Req signed_json_request(WallTime t) {
  Req r;
  r.header_store = {{"Host", "127.0.0.1:4566"},
                    {"Content-Type", "application/x-amz-json-1.1"},
                    {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"}};
  r.body = "{}";
  SigningResult s = sign_request(r.view(), {kAkid, kSecret, {}}, "us-east-1", "ecs", t);
  r.set("X-Amz-Date", s.amz_date);
  r.set("Authorization", s.authorization);
  return r;
}

// Copies out of the result, so checks never point into a temporary.
std::optional<Authenticated> ok(const VerifyResult& r) {
  if (auto* a = std::get_if<Authenticated>(&r)) return *a;
  return std::nullopt;
}
std::optional<AuthFailure> fail(const VerifyResult& r) {
  if (auto* f = std::get_if<AuthFailure>(&r)) return *f;
  return std::nullopt;
}

TEST(SigV4, BotocoreVectorsVerify) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(v.name);
    Req r = from_vector(v);
    VerifyResult res = verify_sigv4(r.view(), lookup, vector_time() + 30s);
    if (std::string_view(v.name) == "content_sha256_header") {
      // botocore signed the body as UNSIGNED-PAYLOAD (as it would for an
      // operation with the unsignedPayload trait, which no service of
      // berth's has): AWS's JSON endpoints hash the body themselves, so the
      // signature does not match and the unsigned body is not trusted.
      ASSERT_TRUE(fail(res)) << "a body signed as UNSIGNED-PAYLOAD was trusted";
      EXPECT_EQ(fail(res)->kind, AuthFailureKind::kBadSignature);
      EXPECT_EQ(fail(res)->detail, "");
      continue;
    }
    std::optional<Authenticated> a = ok(res);
    ASSERT_TRUE(a) << (fail(res) ? static_cast<int>(fail(res)->kind) : -1) << " "
                          << (fail(res) ? fail(res)->detail : "");
    EXPECT_EQ(a->access_key_id, kAkid);
    EXPECT_EQ(a->scope.date, "20240309");
    EXPECT_EQ(a->scope.region, v.region);
    EXPECT_EQ(a->scope.service, v.service);
    EXPECT_EQ(a->amz_date, "20240309T123456Z");
    EXPECT_EQ(a->presigned, std::string(v.authorization).empty());
  }
}

TEST(SigV4, SigningMatchesBotocore) {
  for (const Vector& v : kVectors) {
    // berth's signer always writes X-Amz-Date; the Date-header form is
    // checked by the verifier only.
    if (std::string(v.authorization).empty() || std::string(v.name).starts_with("date_header")) continue;
    SCOPED_TRACE(v.name);
    Req r = from_vector(v);
    r.erase("Authorization");
    r.erase("X-Amz-Date");
    SigningResult s = sign_request(r.view(), {kAkid, kSecret, {}}, v.region, v.service, vector_time());
    EXPECT_EQ(s.amz_date, "20240309T123456Z");
    EXPECT_EQ(s.authorization, v.authorization);
  }
}

TEST(SigV4, PresignMatchesBotocore) {
  for (const Vector& v : kVectors) {
    if (!std::string(v.authorization).empty()) continue;
    std::string full = v.query;
    std::string sig = full.substr(full.find("X-Amz-Signature=") + 16);
    Req r;
    r.method = v.method;
    r.path = v.path;
    r.query = "Action=GetCallerIdentity&Version=2011-06-15";
    r.header_store = {{"Host", "127.0.0.1:4566"}};
    std::string q = presign_query(r.view(), {kAkid, kSecret, {}}, v.region, v.service, vector_time(), 900s);
    EXPECT_EQ(q, full);
    EXPECT_EQ(q.substr(q.find("X-Amz-Signature=") + 16), sig);
  }
}

TEST(SigV4, CanonicalUriLikeBotocore) {
  EXPECT_EQ(canonical_uri(""), "/");
  EXPECT_EQ(canonical_uri("/"), "/");
  EXPECT_EQ(canonical_uri("/a%20b/c$d/./e/../f//g~h%2Fi/"), "/a%2520b/c%24d/f/g~h%252Fi/");
  EXPECT_EQ(canonical_uri("/a/b/../../.."), "/");
  EXPECT_EQ(canonical_uri("/v2/repo/blobs/sha256:abc"), "/v2/repo/blobs/sha256%3Aabc");
}

TEST(SigV4, CanonicalQuerySortsAndReencodes) {
  EXPECT_EQ(canonical_query("b=2&a=1&a=0&c=x%2Fy&d", false), "a=0&a=1&b=2&c=x%2Fy&d=");
  EXPECT_EQ(canonical_query("k=a b&z=%7e&y=a+b", false), "k=a%20b&y=a%2Bb&z=~");
  EXPECT_EQ(canonical_query("X-Amz-Signature=ff&a=1", true), "a=1");
}

TEST(SigV4, Sha256) {
  EXPECT_EQ(sha256_hex(""), kEmptySha256);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SigV4, RoundTripFreshlySigned) {
  WallTime t = vector_time();
  Req r = signed_json_request(t);
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, t)));
}

TEST(SigV4, MissingAuth) {
  Req r;
  r.header_store = {{"Host", "h"}};
  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, vector_time()));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kMissingAuth);
}

TEST(SigV4, IncompleteSignatureForms) {
  WallTime t = vector_time();
  struct Case {
    std::string authorization;
    std::string expect_in_detail;
  };
  std::vector<Case> cases = {
      {"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00", "requires 'Credential' parameter"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws4_request, Signature=00",
       "requires 'SignedHeaders' parameter"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws4_request, SignedHeaders=host",
       "requires 'Signature' parameter"},
      {"AWS4-HMAC-SHA256 Credential", "missing equal-sign"},
      {"AWS AKIDEXAMPLE:abcd", "Unsupported AWS 'algorithm'"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1, SignedHeaders=host, Signature=00",
       "Credential should be of the form"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws5_request, SignedHeaders=host, "
       "Signature=00",
       "valid terminator"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/ecs/aws4_request, SignedHeaders=x-amz-date, "
       "Signature=00",
       "'Host' or ':authority'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.authorization);
    Req r;
    r.header_store = {{"Host", "h"}, {"X-Amz-Date", format_amz_date(t)}, {"Authorization", c.authorization}};
    std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, t));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, AuthFailureKind::kIncompleteSignature);
    EXPECT_NE(f->detail.find(c.expect_in_detail), std::string::npos) << f->detail;
  }
  // No date at all.
  Req r = signed_json_request(t);
  r.erase("X-Amz-Date");
  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kIncompleteSignature);
  EXPECT_NE(f->detail.find("'X-Amz-Date' or a 'Date' header"), std::string::npos);
  // A date that is not ISO-8601 basic.
  r = signed_json_request(t);
  r.set("X-Amz-Date", "2024-03-09T12:34:56Z");
  f = fail(verify_sigv4(r.view(), lookup, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kIncompleteSignature);
  EXPECT_NE(f->detail.find("ISO-8601 'basic format'"), std::string::npos);
}

TEST(SigV4, UnknownKey) {
  WallTime t = vector_time();
  Req r = signed_json_request(t);
  auto nobody = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), nobody, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kUnknownKey);
  EXPECT_EQ(f->access_key_id, kAkid);
}

TEST(SigV4, BadSignature) {
  WallTime t = vector_time();
  auto expect_bad = [&](Req r) {
    std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, t));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, AuthFailureKind::kBadSignature);
  };
  Req r = signed_json_request(t);
  r.body = "{\"x\":1}";
  expect_bad(r);  // body changed
  r = signed_json_request(t);
  r.set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster");
  expect_bad(r);  // signed header changed
  r = signed_json_request(t);
  r.path = "/other";
  expect_bad(r);
  r = signed_json_request(t);
  r.query = "a=1";
  expect_bad(r);
  r = signed_json_request(t);
  auto wrong_secret = [](std::string_view) -> std::optional<std::string> { return std::string("not-the-secret"); };
  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), wrong_secret, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kBadSignature);
  // An unsigned header may change freely.
  r = signed_json_request(t);
  r.set("User-Agent", "something else");
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, t)));
}

TEST(SigV4, ScopeDateMustMatchRequestDate) {
  WallTime t = vector_time();
  Req r = signed_json_request(t);
  r.set("X-Amz-Date", "20240310T000001Z");
  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kBadSignature);
  EXPECT_EQ(f->detail,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240309' != "
            "'20240310', from '20240310T000001Z'.");
}

TEST(SigV4, ContentSha256Header) {
  WallTime t = vector_time();
  // A declared hash that does not match the body is refused even if signed.
  Req r;
  r.header_store = {{"Host", "h"}, {"X-Amz-Content-SHA256", sha256_hex("other")}};
  r.body = "{}";
  SigningResult s = sign_request(r.view(), {kAkid, kSecret, {}}, "us-east-1", "ecr", t);
  r.set("X-Amz-Date", s.amz_date);
  r.set("Authorization", s.authorization);
  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kBadSignature);
  EXPECT_NE(f->detail.find("x-amz-content-sha256"), std::string::npos);
  // The matching one is used.
  r.set("X-Amz-Content-SHA256", sha256_hex("{}"));
  r.erase("Authorization");
  s = sign_request(r.view(), {kAkid, kSecret, {}}, "us-east-1", "ecr", t);
  r.set("Authorization", s.authorization);
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, t)));
}

TEST(SigV4, UnsignedPayloadDoesNotAuthenticateABody) {
  WallTime t = vector_time();
  for (std::string_view declared : {"UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                     "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "anything"}) {
    SCOPED_TRACE(declared);
    // Signed by the key's owner over the declared string, then given any body:
    // the signature must not cover a body its signer never hashed.
    Req r;
    r.header_store = {{"Host", "h"}, {"X-Amz-Content-SHA256", std::string(declared)}};
    r.body = "{\"repositoryName\":\"signed\"}";
    SigningResult s = sign_request(r.view(), {kAkid, kSecret, {}}, "us-east-1", "ecr", t);
    r.set("X-Amz-Date", s.amz_date);
    r.set("Authorization", s.authorization);
    r.body = "{\"repositoryName\":\"forged\"}";
    std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, t));
    ASSERT_TRUE(f) << "an unsigned body was trusted";
    EXPECT_EQ(f->kind, AuthFailureKind::kBadSignature);
  }
  // The header, unsigned, beside a signature over the body's real hash: the
  // body is authenticated, so the request is.
  Req r;
  r.header_store = {{"Host", "h"}};
  r.body = "{}";
  SigningResult s = sign_request(r.view(), {kAkid, kSecret, {}}, "us-east-1", "ecr", t);
  r.set("X-Amz-Date", s.amz_date);
  r.set("Authorization", s.authorization);
  r.set("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD");
  VerifyResult res = verify_sigv4(r.view(), lookup, t);
  EXPECT_TRUE(ok(res)) << (fail(res) ? fail(res)->detail : "");
}

TEST(SigV4, WindowEdges) {
  WallTime signed_at = vector_time();
  Req r = signed_json_request(signed_at);
  // Exactly 5 minutes either way is accepted; a second beyond is not.
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, signed_at + 300s)));
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, signed_at + 300s + 999ms)));
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, signed_at - 300s)));

  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, signed_at + 301s));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kExpired);
  EXPECT_EQ(f->request_date, "20240309T123456Z");
  EXPECT_EQ(f->bound_date, "20240309T123457Z");
  EXPECT_EQ(f->now_date, "20240309T123957Z");
  EXPECT_EQ(auth_error(*f, Protocol::kJson).message,
            "Signature expired: 20240309T123456Z is now earlier than 20240309T123457Z (20240309T123957Z - 5 min.)");

  f = fail(verify_sigv4(r.view(), lookup, signed_at - 301s));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kNotYetCurrent);
  EXPECT_EQ(auth_error(*f, Protocol::kQuery).message,
            "Signature not yet current: 20240309T123456Z is still later than 20240309T123455Z (20240309T122955Z + "
            "5 min.)");
}

TEST(SigV4, PresignedExpiry) {
  const Vector* pv = nullptr;
  for (const Vector& v : kVectors)
    if (std::string(v.authorization).empty()) pv = &v;
  ASSERT_NE(pv, nullptr);
  Req r = from_vector(*pv);
  WallTime t = vector_time();
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, t + 900s)));
  EXPECT_TRUE(ok(verify_sigv4(r.view(), lookup, t - 300s)));
  std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, t + 901s));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kExpired);
  EXPECT_EQ(auth_error(*f, Protocol::kQuery).message,
            "Signature expired: 20240309T123456Z is now earlier than 20240309T123457Z (20240309T124957Z - 15 min.)");
  f = fail(verify_sigv4(r.view(), lookup, t - 301s));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kNotYetCurrent);
  // Tampering with a signed parameter breaks it.
  r.query.replace(r.query.find("GetCallerIdentity"), 17, "GetSessionTokenXX");
  f = fail(verify_sigv4(r.view(), lookup, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kBadSignature);
  // Incomplete presigned parameters.
  Req partial;
  partial.method = "GET";
  partial.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240309%2Fus-east-1%2Fsts%2Faws4_request";
  partial.header_store = {{"Host", "h"}};
  f = fail(verify_sigv4(partial.view(), lookup, t));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, AuthFailureKind::kIncompleteSignature);
}

// Found by fuzz/sigv4: a long X-Amz-Expires overflowed while it was read
// (undefined behaviour) before being refused for its length.
TEST(SigV4, PresignedExpiresOfManyDigitsIsIncomplete) {
  const Vector* pv = nullptr;
  for (const Vector& v : kVectors)
    if (std::string(v.authorization).empty()) pv = &v;
  ASSERT_NE(pv, nullptr);
  for (std::string expires : {"99999999999999999999999999999", "00000000900", "9e2", "-1", ""}) {
    SCOPED_TRACE(expires);
    Req r = from_vector(*pv);
    r.query.replace(r.query.find("X-Amz-Expires=900"), 17, "X-Amz-Expires=" + expires);
    std::optional<AuthFailure> f = fail(verify_sigv4(r.view(), lookup, vector_time()));
    ASSERT_TRUE(f) << "X-Amz-Expires=" << expires << " was accepted";
    EXPECT_EQ(f->kind, AuthFailureKind::kIncompleteSignature);
    EXPECT_NE(f->detail.find("X-Amz-Expires must be a positive integer"), std::string::npos) << f->detail;
  }
}

TEST(SigV4, PresignedUnsignedPayload) {
  WallTime t = vector_time();
  Req r;
  r.method = "GET";
  r.path = "/v2/outyet/blobs/sha256:00";
  r.header_store = {{"Host", "127.0.0.1:4566"}};
  r.query = presign_query(r.view(), {kAkid, kSecret, {}}, "us-east-1", "ecr", t, 60s, true);
  std::optional<Authenticated> a = ok(verify_sigv4(r.view(), lookup, t));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->presigned);
  EXPECT_EQ(a->scope.service, "ecr");
}

TEST(SigV4, PeekScope) {
  Req r = from_vector(kVectors[1]);
  std::optional<ScopePeek> p = peek_credential_scope(r.view());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scope.service, "elasticloadbalancing");
  EXPECT_EQ(p->scope.region, "eu-west-1");
  EXPECT_EQ(p->access_key_id, kAkid);
  EXPECT_FALSE(p->presigned);
  for (const Vector& v : kVectors) {
    if (!std::string(v.authorization).empty()) continue;
    Req q = from_vector(v);
    p = peek_credential_scope(q.view());
    ASSERT_TRUE(p);
    EXPECT_EQ(p->scope.service, "sts");
    EXPECT_TRUE(p->presigned);
  }
  Req none;
  none.header_store = {{"Host", "h"}};
  EXPECT_FALSE(peek_credential_scope(none.view()));
  none.set("Authorization", "AWS4-HMAC-SHA256 Credential=AK/2024/us-east-1");
  EXPECT_FALSE(peek_credential_scope(none.view()));
}

TEST(AuthErrors, TablePerProtocol) {
  auto code = [](AuthFailureKind k, Protocol p) {
    AuthFailure f{k};
    WireError e = auth_error(f, p);
    return std::to_string(e.http_status) + " " + e.code;
  };
  using K = AuthFailureKind;
  EXPECT_EQ(code(K::kMissingAuth, Protocol::kJson), "400 MissingAuthenticationTokenException");
  EXPECT_EQ(code(K::kIncompleteSignature, Protocol::kJson), "400 IncompleteSignatureException");
  EXPECT_EQ(code(K::kUnknownKey, Protocol::kJson), "400 UnrecognizedClientException");
  EXPECT_EQ(code(K::kBadSignature, Protocol::kJson), "400 InvalidSignatureException");
  EXPECT_EQ(code(K::kExpired, Protocol::kJson), "400 InvalidSignatureException");
  EXPECT_EQ(code(K::kMissingAuth, Protocol::kQuery), "403 MissingAuthenticationToken");
  EXPECT_EQ(code(K::kIncompleteSignature, Protocol::kQuery), "400 IncompleteSignature");
  EXPECT_EQ(code(K::kUnknownKey, Protocol::kQuery), "403 InvalidClientTokenId");
  EXPECT_EQ(code(K::kBadSignature, Protocol::kQuery), "403 SignatureDoesNotMatch");
  EXPECT_EQ(code(K::kNotYetCurrent, Protocol::kQuery), "403 SignatureDoesNotMatch");
  EXPECT_EQ(code(K::kUnknownKey, Protocol::kEc2), "401 AuthFailure");
  EXPECT_EQ(code(K::kBadSignature, Protocol::kEc2), "401 AuthFailure");
  EXPECT_EQ(code(K::kExpired, Protocol::kEc2), "400 RequestExpired");
  AuthFailure bad{K::kBadSignature};
  EXPECT_EQ(auth_error(bad, Protocol::kJson).message,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.");
  EXPECT_EQ(auth_error(AuthFailure{K::kUnknownKey}, Protocol::kQuery).message,
            "The security token included in the request is invalid.");
  EXPECT_EQ(auth_error(AuthFailure{K::kUnknownKey}, Protocol::kEc2).message,
            "AWS was not able to validate the provided access credentials");
  EXPECT_EQ(auth_error(AuthFailure{K::kExpired}, Protocol::kEc2).message, "Request has expired.");
}

}  // namespace
}  // namespace berth::api
