// The registry through a real HTTP server (net::testing::TestServer).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <thread>

#include "ecr/digest.h"
#include "ecr/manifest.h"
#include "ecr/test_support.h"

namespace berth::ecr {
namespace {

using testing::call;
using testing::Fixture;
using testing::handler_of;
using testing::Reply;

std::string error_code(const Reply& r) {
  auto v = boost::json::parse(r.body);
  return std::string(v.at("errors").at(0).at("code").as_string());
}

std::string oci_manifest(const std::string& config, const std::vector<std::string>& layers) {
  std::string out = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                    sha256_digest(config) + R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[)";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i) out += ",";
    out += R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + sha256_digest(layers[i]) +
           R"(","size":)" + std::to_string(layers[i].size()) + "}";
  }
  return out + "]}";
}

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : fx_(access()), server_(handler_of(fx_.ecr->registry())) {
    fx_.create_repository("app");
    auth_ = fx_.basic_auth();
  }
  static RegistryAccess access() {
    RegistryAccess a;
    a.lookup = [](std::string_view key) -> std::optional<RegistryPrincipal> {
      if (key == "AKIAGONE") return std::nullopt;
      return RegistryPrincipal{std::string(key), "arn:aws:iam::123456789012:user/" + std::string(key)};
    };
    a.allowed = [](const RegistryPrincipal& who, RegistryAction action, std::string_view) {
      if (who.access_key_id == "AKIANONE") return false;
      if (who.access_key_id == "AKIAREAD") return action == RegistryAction::kPull;
      return true;
    };
    return a;
  }
  Reply req(const std::string& method, const std::string& target, const std::string& body = {},
            const std::map<std::string, std::string>& headers = {}) {
    return call(server_.port(), method, target, auth_, body, headers);
  }
  void push_blob(const std::string& repo, const std::string& bytes) {
    auto r = req("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + sha256_digest(bytes), bytes);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  Fixture fx_;
  net::testing::TestServer server_;
  std::string auth_;
};

TEST_F(RegistryTest, ChallengeAndCredentials) {
  Reply none = call(server_.port(), "GET", "/v2/", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.header("www-authenticate").find("Basic realm="), std::string::npos);
  EXPECT_EQ(none.header("docker-distribution-api-version"), "registry/2.0");
  EXPECT_EQ(error_code(none), "UNAUTHORIZED");
  EXPECT_EQ(req("GET", "/v2/").status, 200);

  std::string wrong = "Basic " + base64_encode("AWS:" + fx_.ecr->tokens().issue("AKIATEST").password + "x");
  EXPECT_EQ(call(server_.port(), "GET", "/v2/", wrong).status, 401);
  std::string wrong_user = "Basic " + base64_encode("bob:" + fx_.ecr->tokens().issue("AKIATEST").password);
  EXPECT_EQ(call(server_.port(), "GET", "/v2/", wrong_user).status, 401);
  std::string bearer = "Bearer " + fx_.ecr->tokens().issue("AKIATEST").password;
  EXPECT_EQ(call(server_.port(), "GET", "/v2/", bearer).status, 200);
  EXPECT_EQ(call(server_.port(), "GET", "/v2/", fx_.basic_auth("AKIAGONE")).status, 401);

  Reply denied = call(server_.port(), "GET", "/v2/app/tags/list", fx_.basic_auth("AKIANONE"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "DENIED");
  EXPECT_EQ(call(server_.port(), "GET", "/v2/app/tags/list", fx_.basic_auth("AKIAREAD")).status, 200);
  EXPECT_EQ(call(server_.port(), "POST", "/v2/app/blobs/uploads/", fx_.basic_auth("AKIAREAD")).status, 403);

  fx_.clock.advance(std::chrono::hours(13));
  Reply expired = req("GET", "/v2/");
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.find("expired"), std::string::npos);
}

TEST_F(RegistryTest, BadAndUnknownNames) {
  for (std::string bad : {"/v2/UPPER/tags/list", "/v2/a/../b/tags/list", "/v2/a..b/blobs/uploads/",
                          "/v2/x/manifests/latest"}) {
    Reply r = req(bad.find("uploads") != std::string::npos ? "POST" : "GET", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(error_code(r), "NAME_INVALID") << bad;
  }
  Reply unknown = req("POST", "/v2/nothere/blobs/uploads/");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_code(unknown), "NAME_UNKNOWN");
  EXPECT_NE(unknown.body.find("The repository with name 'nothere' does not exist in the registry with id "
                              "'123456789012'"),
            std::string::npos);
  EXPECT_EQ(fx_.ecr->catalog().list_repositories()->size(), 1u);
}

TEST_F(RegistryTest, MonolithicUploadThenGetHeadAndRange) {
  std::string data = "0123456789abcdef";
  std::string digest = sha256_digest(data);
  EXPECT_EQ(req("HEAD", "/v2/app/blobs/" + digest).status, 404);
  push_blob("app", data);
  Reply head = req("HEAD", "/v2/app/blobs/" + digest);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "16");
  EXPECT_EQ(head.header("docker-content-digest"), digest);
  EXPECT_EQ(head.body, "");
  Reply get = req("GET", "/v2/app/blobs/" + digest);
  EXPECT_EQ(get.body, data);
  Reply part = req("GET", "/v2/app/blobs/" + digest, {}, {{"Range", "bytes=4-7"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "4567");
  EXPECT_EQ(part.header("content-range"), "bytes 4-7/16");
  EXPECT_EQ(req("GET", "/v2/app/blobs/" + digest, {}, {{"Range", "bytes=99-"}}).status, 416);
}

TEST_F(RegistryTest, WrongDigestStoresNothing) {
  Reply r = req("POST", "/v2/app/blobs/uploads/?digest=" + sha256_digest("other"), "payload");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "DIGEST_INVALID");
  EXPECT_EQ(fx_.blob_files(), 0u);
  EXPECT_EQ(fx_.temp_files(), 0u);

  Reply start = req("POST", "/v2/app/blobs/uploads/");
  ASSERT_EQ(start.status, 202);
  std::string location = start.header("location");
  EXPECT_EQ(req("PATCH", location, "abc").status, 202);
  Reply put = req("PUT", location + "?digest=" + sha256_digest("abd"));
  EXPECT_EQ(put.status, 400);
  EXPECT_EQ(error_code(put), "DIGEST_INVALID");
  EXPECT_EQ(req("GET", location).status, 404);  // the session is over
  EXPECT_EQ(fx_.blob_files(), 0u);
  EXPECT_EQ(fx_.temp_files(), 0u);
  EXPECT_EQ(req("PUT", location + "?digest=sha256:nothex").status, 400);
}

TEST_F(RegistryTest, ChunkedUploadWithStatusAndOutOfOrderChunk) {
  Reply start = req("POST", "/v2/app/blobs/uploads/");
  ASSERT_EQ(start.status, 202);
  EXPECT_EQ(start.header("range"), "0-0");
  EXPECT_FALSE(start.header("docker-upload-uuid").empty());
  std::string location = start.header("location");
  Reply p1 = req("PATCH", location, "hello ", {{"Content-Range", "0-5"}});
  EXPECT_EQ(p1.status, 202);
  EXPECT_EQ(p1.header("range"), "0-5");
  Reply status = req("GET", location);
  EXPECT_EQ(status.status, 204);
  EXPECT_EQ(status.header("range"), "0-5");
  Reply skip = req("PATCH", location, "xx", {{"Content-Range", "10-11"}});
  EXPECT_EQ(skip.status, 416);
  EXPECT_EQ(skip.header("range"), "0-5");
  EXPECT_EQ(req("PATCH", location, "world", {{"Content-Range", "6-10"}}).status, 202);
  Reply done = req("PUT", location + "?digest=" + sha256_digest("hello world!"), "!");
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(done.header("docker-content-digest"), sha256_digest("hello world!"));
  EXPECT_EQ(req("GET", "/v2/app/blobs/" + sha256_digest("hello world!")).body, "hello world!");
  EXPECT_EQ(fx_.temp_files(), 0u);
}

TEST_F(RegistryTest, TruncatedPatchResumesFromWhatArrived) {
  Reply start = req("POST", "/v2/app/blobs/uploads/");
  std::string location = start.header("location");
  std::string data(200'000, 'q');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  {
    net::testing::RawClient c(server_.port());
    c.send("PATCH " + location + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth_ +
           "\r\nContent-Length: 200000\r\n\r\n" + data.substr(0, 120'000));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }  // the client dies mid-body
  std::string range;
  for (int i = 0; i < 50 && range != "0-119999"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    range = req("GET", location).header("range");
  }
  ASSERT_EQ(range, "0-119999");
  EXPECT_EQ(req("PATCH", location, data.substr(120'000), {{"Content-Range", "120000-199999"}}).status, 202);
  Reply done = req("PUT", location + "?digest=" + sha256_digest(data));
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(fx_.ecr->blobs().size_of(sha256_digest(data)), data.size());
}

TEST_F(RegistryTest, CancelledAndExpiredSessionsFreeTheirSpace) {
  std::string a = req("POST", "/v2/app/blobs/uploads/").header("location");
  std::string b = req("POST", "/v2/app/blobs/uploads/").header("location");
  EXPECT_EQ(req("PATCH", a, "some bytes").status, 202);
  EXPECT_EQ(req("PATCH", b, "more bytes").status, 202);
  EXPECT_EQ(fx_.temp_files(), 2u);
  EXPECT_EQ(req("DELETE", a).status, 204);
  EXPECT_EQ(req("GET", a).status, 404);
  EXPECT_EQ(fx_.temp_files(), 1u);
  fx_.clock.advance(std::chrono::seconds(601));
  auth_ = fx_.basic_auth();
  EXPECT_EQ(fx_.ecr->sweep_uploads(), 1u);
  EXPECT_EQ(req("GET", b).status, 404);
  EXPECT_EQ(fx_.temp_files(), 0u);
}

TEST_F(RegistryTest, ManifestsByTagAndDigestWithNegotiation) {
  std::string config = R"({"architecture":"amd64","os":"linux"})", layer = "layer-bytes";
  push_blob("app", config);
  push_blob("app", layer);
  std::string manifest = oci_manifest(config, {layer});
  std::string digest = sha256_digest(manifest);
  Reply put = req("PUT", "/v2/app/manifests/v1", manifest, {{"Content-Type", std::string(kOciManifest)}});
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.header("docker-content-digest"), digest);
  EXPECT_EQ(put.header("location"), "/v2/app/manifests/" + digest);

  for (std::string ref : {std::string("v1"), digest}) {
    Reply get = req("GET", "/v2/app/manifests/" + ref, {}, {{"Accept", std::string(kOciManifest) + ", " + std::string(kDockerManifestV2)}});
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, manifest);
    EXPECT_EQ(get.header("content-type"), kOciManifest);
    EXPECT_EQ(get.header("docker-content-digest"), digest);
  }
  Reply head = req("HEAD", "/v2/app/manifests/v1");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(manifest.size()));
  EXPECT_EQ(req("GET", "/v2/app/manifests/v1", {}, {{"Accept", std::string(kDockerManifestV2)}}).status, 404);
  EXPECT_EQ(req("GET", "/v2/app/manifests/v2").status, 404);

  // By digest, the digest must match; an OCI index over it is accepted.
  EXPECT_EQ(error_code(req("PUT", "/v2/app/manifests/" + sha256_digest("x"), manifest)), "DIGEST_INVALID");
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                      digest + R"(","size":)" + std::to_string(manifest.size()) +
                      R"(,"platform":{"os":"linux","architecture":"amd64"}}]})";
  ASSERT_EQ(req("PUT", "/v2/app/manifests/multi", index, {{"Content-Type", std::string(kOciIndex)}}).status, 201);
  Reply child = req("GET", "/v2/app/manifests/multi", {}, {{"Accept", std::string(kOciManifest)}});
  EXPECT_EQ(child.header("docker-content-digest"), digest);
  // The image is referenced by the index: deleting it is refused.
  EXPECT_EQ(req("DELETE", "/v2/app/manifests/" + digest).status, 409);
  EXPECT_EQ(req("DELETE", "/v2/app/manifests/" + sha256_digest(index)).status, 202);
  EXPECT_EQ(req("DELETE", "/v2/app/manifests/" + digest).status, 202);
  EXPECT_EQ(req("GET", "/v2/app/manifests/v1").status, 404);
}

TEST_F(RegistryTest, ManifestRefusals) {
  std::string config = "{}", layer = "L";
  push_blob("app", config);
  size_t blobs_before = fx_.blob_files();
  // A missing layer.
  Reply missing = req("PUT", "/v2/app/manifests/v1", oci_manifest(config, {layer}));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(error_code(missing), "MANIFEST_BLOB_UNKNOWN");
  EXPECT_NE(missing.body.find(sha256_digest(layer)), std::string::npos);
  // Garbage.
  EXPECT_EQ(error_code(req("PUT", "/v2/app/manifests/v1", "{not json")), "MANIFEST_INVALID");
  // Over 4 MiB.
  std::string huge = oci_manifest(config, {});
  huge.insert(1, R"("pad":")" + std::string(kMaxManifestBytes, 'p') + "\",");
  Reply big = req("PUT", "/v2/app/manifests/v1", huge);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(fx_.blob_files(), blobs_before);
  EXPECT_TRUE(fx_.ecr->catalog().list_images("app")->empty());
  EXPECT_EQ(error_code(req("PUT", "/v2/app/manifests/bad..tag!", oci_manifest(config, {}))), "TAG_INVALID");
}

TEST_F(RegistryTest, ImmutableTagsCannotMove) {
  fx_.create_repository("frozen", "IMMUTABLE");
  push_blob("frozen", "{}");
  push_blob("frozen", "a");
  push_blob("frozen", "b");
  ASSERT_EQ(req("PUT", "/v2/frozen/manifests/v1", oci_manifest("{}", {"a"})).status, 201);
  EXPECT_EQ(req("PUT", "/v2/frozen/manifests/v1", oci_manifest("{}", {"a"})).status, 201);  // same digest: fine
  Reply moved = req("PUT", "/v2/frozen/manifests/v1", oci_manifest("{}", {"b"}));
  EXPECT_EQ(moved.status, 400);
  EXPECT_EQ(error_code(moved), "TAG_INVALID");
  EXPECT_NE(moved.body.find("cannot be overwritten because the repository is immutable"), std::string::npos);
  EXPECT_EQ(fx_.ecr->catalog().list_images("frozen")->size(), 1u);
  EXPECT_FALSE(fx_.ecr->blobs().size_of(sha256_digest(oci_manifest("{}", {"b"}))));
}

TEST_F(RegistryTest, TagsAndCatalogPaginate) {
  push_blob("app", "{}");
  for (std::string tag : {"c", "a", "b", "d"}) {
    ASSERT_EQ(req("PUT", "/v2/app/manifests/" + tag, oci_manifest("{}", {})).status, 201);
  }
  Reply all = req("GET", "/v2/app/tags/list");
  EXPECT_EQ(all.body, R"({"name":"app","tags":["a","b","c","d"]})");
  Reply page = req("GET", "/v2/app/tags/list?n=2");
  EXPECT_EQ(page.body, R"({"name":"app","tags":["a","b"]})");
  EXPECT_EQ(page.header("link"), "</v2/app/tags/list?n=2&last=b>; rel=\"next\"");
  Reply next = req("GET", "/v2/app/tags/list?n=2&last=b");
  EXPECT_EQ(next.body, R"({"name":"app","tags":["c","d"]})");
  EXPECT_EQ(next.header("link"), "");
  fx_.create_repository("zeta/one");
  Reply cat = req("GET", "/v2/_catalog?n=1");
  EXPECT_EQ(cat.body, R"({"repositories":["app"]})");
  EXPECT_NE(cat.header("link").find("last=app"), std::string::npos);
  EXPECT_EQ(req("GET", "/v2/_catalog?n=1&last=app").body, R"({"repositories":["zeta/one"]})");
  EXPECT_EQ(req("DELETE", "/v2/app/manifests/a").status, 202);
  EXPECT_EQ(req("GET", "/v2/app/tags/list").body, R"({"name":"app","tags":["b","c","d"]})");
}

TEST_F(RegistryTest, CrossRepositoryMount) {
  fx_.create_repository("other");
  push_blob("app", "shared layer");
  std::string digest = sha256_digest("shared layer");
  Reply mounted = req("POST", "/v2/other/blobs/uploads/?mount=" + digest + "&from=app");
  EXPECT_EQ(mounted.status, 201);
  EXPECT_EQ(mounted.header("docker-content-digest"), digest);
  Reply not_there = req("POST", "/v2/other/blobs/uploads/?mount=" + sha256_digest("nope") + "&from=app");
  EXPECT_EQ(not_there.status, 202);  // falls back to an upload session
  EXPECT_FALSE(not_there.header("location").empty());
  // Mounted, it is served from "other" and usable by its manifests.
  EXPECT_EQ(req("GET", "/v2/other/blobs/" + digest).body, "shared layer");
  push_blob("other", "{}");
  Reply put = req("PUT", "/v2/other/manifests/v1", oci_manifest("{}", {"shared layer"}));
  EXPECT_EQ(put.status, 201) << put.body;
}

TEST_F(RegistryTest, MountNeedsTheSourceRepositoryToHoldTheBlob) {
  fx_.create_repository("third");
  fx_.create_repository("other");
  push_blob("app", "app's layer");
  std::string digest = sha256_digest("app's layer");
  // "third" exists but never had the blob: naming it as the source mounts nothing.
  Reply via_third = req("POST", "/v2/other/blobs/uploads/?mount=" + digest + "&from=third");
  EXPECT_EQ(via_third.status, 202) << "a mount from a repository without the blob must start an upload";
  EXPECT_EQ(req("HEAD", "/v2/other/blobs/" + digest).status, 404);
  EXPECT_EQ(req("POST", "/v2/other/blobs/uploads/?mount=" + digest + "&from=app").status, 201);
}

TEST_F(RegistryTest, BlobsAreServedOnlyThroughARepositoryThatHoldsThem) {
  fx_.create_repository("other");
  push_blob("app", "app's unreferenced upload");
  std::string digest = sha256_digest("app's unreferenced upload");
  ASSERT_EQ(req("GET", "/v2/app/blobs/" + digest).status, 200);
  for (std::string method : {"GET", "HEAD"}) {
    Reply r = req(method, "/v2/other/blobs/" + digest);
    EXPECT_EQ(r.status, 404) << method << ": another push's blob was served through a repository without it";
    if (method == "GET") {
      EXPECT_EQ(error_code(r), "BLOB_UNKNOWN") << r.body;
      EXPECT_NE(r.body.find(digest), std::string::npos) << r.body;
    }
  }
  // A manifest in "other" cannot name it either (it would serve it then).
  push_blob("other", "{}");
  Reply put = req("PUT", "/v2/other/manifests/v1", oci_manifest("{}", {"app's unreferenced upload"}));
  EXPECT_EQ(put.status, 400) << put.body;
  EXPECT_EQ(error_code(put), "MANIFEST_BLOB_UNKNOWN");
  // Nor delete it.
  Reply del = req("DELETE", "/v2/other/blobs/" + digest);
  EXPECT_EQ(del.status, 404);
  EXPECT_EQ(error_code(del), "BLOB_UNKNOWN");
  EXPECT_EQ(req("GET", "/v2/app/blobs/" + digest).body, "app's unreferenced upload");
  // Once an image of "app" names a blob, "app" serves it through the image too.
  push_blob("app", "{}");
  ASSERT_EQ(req("PUT", "/v2/app/manifests/v1", oci_manifest("{}", {"app's unreferenced upload"})).status, 201);
  EXPECT_EQ(req("HEAD", "/v2/other/blobs/" + digest).status, 404);
}

TEST_F(RegistryTest, DeletingABlobInOneRepositoryKeepsItForAnother) {
  fx_.create_repository("other");
  push_blob("app", "both");
  push_blob("other", "both");
  std::string digest = sha256_digest("both");
  EXPECT_EQ(req("DELETE", "/v2/app/blobs/" + digest).status, 202);
  EXPECT_EQ(req("HEAD", "/v2/app/blobs/" + digest).status, 404);
  EXPECT_EQ(req("GET", "/v2/other/blobs/" + digest).body, "both") << "the other repository's upload was deleted";
  EXPECT_EQ(req("DELETE", "/v2/other/blobs/" + digest).status, 202);
  EXPECT_FALSE(fx_.ecr->blobs().size_of(digest)) << "the last holder's delete must free the bytes";
}

TEST_F(RegistryTest, BlobDeleteOnlyWhenUnreferenced) {
  push_blob("app", "{}");
  push_blob("app", "lonely");
  ASSERT_EQ(req("PUT", "/v2/app/manifests/v1", oci_manifest("{}", {})).status, 201);
  EXPECT_EQ(req("DELETE", "/v2/app/blobs/" + sha256_digest("{}")).status, 409);
  EXPECT_EQ(req("DELETE", "/v2/app/blobs/" + sha256_digest("lonely")).status, 202);
  EXPECT_EQ(req("HEAD", "/v2/app/blobs/" + sha256_digest("lonely")).status, 404);
}

}  // namespace
}  // namespace berth::ecr
