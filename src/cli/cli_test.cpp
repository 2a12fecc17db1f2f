// The command line, the data-dir files and the top-level router.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "cli/data_dir.h"
#include "cli/options.h"
#include "cli/router.h"
#include "iam/identity.h"
#include "net/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::cli {
namespace {

namespace http = boost::beast::http;

Result<Options> parse(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return parse_options(argv);
}

TEST(Options, ServeAndEnv) {
  auto o = parse({"berth", "serve", "--data-dir", "/d", "--bind=127.0.0.2", "--port", "0"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->command, Command::kServe);
  EXPECT_EQ(o->data_dir, "/d");
  EXPECT_EQ(o->bind, "127.0.0.2");
  EXPECT_EQ(o->port, 0);
  auto d = parse({"berth", "serve"});
  EXPECT_EQ(d->bind, "127.0.0.1");
  EXPECT_EQ(d->port, 4566);
  auto e = parse({"berth", "env", "--data-dir=/x"});
  ASSERT_OK(e);
  EXPECT_EQ(e->command, Command::kEnv);
  EXPECT_EQ(e->data_dir, "/x");
  EXPECT_FALSE(parse({"berth", "env", "--port", "1"}).ok());
  EXPECT_FALSE(parse({"berth", "serve", "--port", "65536"}).ok());
  EXPECT_FALSE(parse({"berth", "serve", "--port"}).ok());
  EXPECT_FALSE(parse({"berth", "fly"}).ok());
  EXPECT_EQ(parse({"berth"})->command, Command::kHelp);
}

TEST(Options, ServeTimeouts) {
  auto d = parse({"berth", "serve"});
  ASSERT_OK(d);
  EXPECT_EQ(d->header_timeout_seconds, 10u);
  EXPECT_EQ(d->idle_timeout_seconds, 60u);
  auto o = parse({"berth", "serve", "--header-timeout", "2", "--idle-timeout=5"});
  ASSERT_OK(o);
  EXPECT_EQ(o->header_timeout_seconds, 2u);
  EXPECT_EQ(o->idle_timeout_seconds, 5u);
  EXPECT_FALSE(parse({"berth", "serve", "--header-timeout", "0"}).ok());
  EXPECT_FALSE(parse({"berth", "serve", "--idle-timeout", "4001"}).ok());
  EXPECT_FALSE(parse({"berth", "serve", "--header-timeout", "1.5"}).ok());
  EXPECT_FALSE(parse({"berth", "env", "--idle-timeout", "5"}).ok());
}

TEST(Options, ConsoleUrl) {
  auto o = parse({"berth", "console-url", "--data-dir", "/d"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->command, Command::kConsoleUrl);
  EXPECT_EQ(o->data_dir, "/d");
  EXPECT_FALSE(parse({"berth", "console-url", "--port", "1"}).ok()) << "console-url reads the endpoint from the data dir";
}

TEST(Options, Logs) {
  auto o = parse({"berth", "logs", "arn:aws:ecs:us-east-1:1:task/c/abc", "--container=web", "--data-dir", "/d"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->command, Command::kLogs);
  EXPECT_EQ(o->target, "arn:aws:ecs:us-east-1:1:task/c/abc");
  EXPECT_EQ(o->container, "web");
  EXPECT_EQ(o->data_dir, "/d");
  EXPECT_FALSE(parse({"berth", "logs"}).ok());                 // no task
  EXPECT_FALSE(parse({"berth", "logs", "a", "b"}).ok());       // two tasks
  EXPECT_FALSE(parse({"berth", "logs", "a", "--bind", "x"}).ok());
  EXPECT_FALSE(parse({"berth", "serve", "--container", "x"}).ok());
  auto f = parse({"berth", "logs", "outyet-service", "--follow", "--cluster=outyet-cluster"});
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->target, "outyet-service");
  EXPECT_TRUE(f->follow);
  EXPECT_EQ(f->cluster, "outyet-cluster");
  EXPECT_FALSE(parse({"berth", "logs", "s", "--follow=yes"}).ok());
}

TEST(Options, StatusDownAndEnvUnset) {
  auto s = parse({"berth", "status", "--watch"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->command, Command::kStatus);
  EXPECT_TRUE(s->watch);
  EXPECT_FALSE(parse({"berth", "status"})->watch);
  auto d = parse({"berth", "down", "--data-dir", "/d"});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->command, Command::kDown);
  EXPECT_EQ(d->data_dir, "/d");
  auto u = parse({"berth", "env", "--unset"});
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(u->unset);
  EXPECT_FALSE(parse({"berth", "down", "--watch"}).ok());
  EXPECT_FALSE(parse({"berth", "status", "--unset"}).ok());
  EXPECT_FALSE(parse({"berth", "env", "--follow"}).ok());
}

TEST(Options, ExportCloudFormation) {
  auto o = parse({"berth", "export", "cloudformation", "--stack", "outyet", "--cluster=outyet-cluster", "--format",
                  "yaml", "-o", "outyet.yaml", "--data-dir", "/d"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->command, Command::kExport);
  EXPECT_EQ(o->target, "cloudformation");
  EXPECT_EQ(o->stack, "outyet");
  EXPECT_EQ(o->cluster, "outyet-cluster");
  EXPECT_EQ(o->format, "yaml");
  EXPECT_EQ(o->output, "outyet.yaml");
  auto d = parse({"berth", "export", "cloudformation"});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->format, "json");
  EXPECT_EQ(d->output, "") << "stdout by default";
  EXPECT_FALSE(parse({"berth", "export"}).ok()) << "what to export is not optional";
  EXPECT_FALSE(parse({"berth", "export", "terraform"}).ok());
  EXPECT_FALSE(parse({"berth", "export", "cloudformation", "--format", "xml"}).ok());
  EXPECT_FALSE(parse({"berth", "export", "cloudformation", "--watch"}).ok());
  EXPECT_FALSE(parse({"berth", "status", "--stack", "x"}).ok());
}

TEST(DataDir, PrivateFilesRoundTrip) {
  auto dir = prepare_data_dir(std::filesystem::temp_directory_path().string() + "/berth-cli-test-" +
                              std::to_string(::getpid()) + "/nested");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  ASSERT_OK(write_credentials(*dir, {"AKIAEXAMPLE", "secret/with+chars="}));
  ASSERT_OK(write_endpoint(*dir, "http://127.0.0.2:4566"));
  struct stat st {};
  ASSERT_EQ(::stat((*dir + "/credentials").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto c = read_credentials(*dir);
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(c->secret_access_key, "secret/with+chars=");
  EXPECT_EQ(*read_endpoint(*dir), "http://127.0.0.2:4566");
  EXPECT_FALSE(read_endpoint(*dir + "/missing").ok());
  std::filesystem::remove_all(std::filesystem::path(*dir).parent_path());
}

TEST(Router, HealthRegistryAndFrontDoor) {
  auto db = store::Database::open(":memory:");
  ASSERT_OK(db);
  auto iam = iam::Iam::open(*db, SystemClock::instance());
  ASSERT_OK(iam);
  api::FrontDoor door(**iam, SystemClock::instance());
  Router router(door);
  net::testing::TestServer server([&](net::Request& r) { return router.handle(r); });

  auto get = [&](std::string_view path) {
    net::testing::RawClient c(server.port());
    c.send("GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return c.read_until("\r\n\r\n{", 1, 2000) + c.read_until("}", 1, 500);
  };
  std::string health = get("/_berth/health");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  // Up, and nothing else: anyone who reaches the port reads it.
  EXPECT_NE(health.find("\r\n\r\n{\"status\":\"ok\"}"), std::string::npos) << health;
  EXPECT_EQ(health.find((*iam)->account_id()), std::string::npos) << "health must not give the account id: " << health;
  EXPECT_EQ(get("/_berth/other").rfind("HTTP/1.1 404", 0), 0u);
  // No registry registered: /v2/ is a 404 in OCI's error shape, not the front door.
  std::string v2 = get("/v2/");
  EXPECT_EQ(v2.rfind("HTTP/1.1 404", 0), 0u) << v2;
  EXPECT_NE(v2.find("UNSUPPORTED"), std::string::npos) << v2;
  router.set_registry([](net::Request& r) -> net::Task<net::Response> {
    co_return net::Response(http::status::unauthorized, "{\"registry\":\"" + std::string(r.path()) + "\"}",
                            "application/json");
  });
  std::string hooked = get("/v2/repo/manifests/latest");
  EXPECT_EQ(hooked.rfind("HTTP/1.1 401", 0), 0u) << hooked;
  EXPECT_NE(hooked.find("{\"registry\":\"/v2/repo/manifests/latest\"}"), std::string::npos) << hooked;
  EXPECT_EQ(get("/v2").rfind("HTTP/1.1 401", 0), 0u);
  // "/v20" is not the registry: the front door answers (unsigned -> AWS error).
  std::string api = get("/v20");
  EXPECT_EQ(api.rfind("HTTP/1.1 403", 0), 0u) << api;
  EXPECT_NE(api.find("MissingAuthenticationToken"), std::string::npos) << api;
}

// A GET of /_berth/metrics, signed with `key` (none: unsigned).
std::string get_metrics(uint16_t port, const iam::AccessKey* key, std::string_view secret = {}) {
  std::string request = "GET /_berth/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (key) {
    std::vector<api::HeaderField> headers{{"Host", "x"}};
    auto signed_request = api::sign_request({"GET", "/_berth/metrics", "", headers, ""},
                                            {key->access_key_id, secret.empty() ? key->secret : secret, {}},
                                            "us-east-1", "monitoring", SystemClock::instance().now());
    request += "X-Amz-Date: " + signed_request.amz_date + "\r\nAuthorization: " + signed_request.authorization + "\r\n";
  }
  net::testing::RawClient c(port);
  c.send(request + "\r\n");
  return c.read_until("never sent: read until the server closes", 1, 3000);
}

TEST(Router, MetricsNeedAnIdentityAllowedToReadUnlessOpened) {
  auto db = store::Database::open(":memory:");
  ASSERT_TRUE(db.ok());
  auto iam = iam::Iam::open(*db, SystemClock::instance());
  ASSERT_TRUE(iam.ok());
  ASSERT_TRUE((*iam)->create_user("nobody", "/").ok());
  auto nobody = (*iam)->create_access_key("nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.error().message;
  ASSERT_TRUE((*iam)->create_user("reader", "/").ok());
  ASSERT_TRUE((*iam)->attach_user_policy("reader", iam::kReadOnlyAccessArn).ok());
  auto reader = (*iam)->create_access_key("reader");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  api::FrontDoor door(**iam, SystemClock::instance());
  Router router(door);
  router.set_metrics({[] { return std::string("berth_alb_request_count_total{lb=\"x\"} 1\n"); }});
  net::testing::TestServer server([&](net::Request& r) { return router.handle(r); });

  std::string unsigned_scrape = get_metrics(server.port(), nullptr);
  EXPECT_EQ(unsigned_scrape.rfind("HTTP/1.1 403", 0), 0u) << unsigned_scrape;
  EXPECT_NE(unsigned_scrape.find("MissingAuthenticationTokenException"), std::string::npos) << unsigned_scrape;
  EXPECT_EQ(unsigned_scrape.find("berth_alb"), std::string::npos) << unsigned_scrape;

  std::string forged = get_metrics(server.port(), &*reader, "not-the-secret");
  EXPECT_EQ(forged.rfind("HTTP/1.1 403", 0), 0u) << forged;
  EXPECT_NE(forged.find("InvalidSignatureException"), std::string::npos) << forged;

  std::string denied = get_metrics(server.port(), &*nobody);
  EXPECT_EQ(denied.rfind("HTTP/1.1 403", 0), 0u) << denied;
  EXPECT_NE(denied.find("AccessDeniedException"), std::string::npos) << denied;
  EXPECT_NE(denied.find("cloudwatch:GetMetricData"), std::string::npos) << denied;

  std::string read = get_metrics(server.port(), &*reader);
  EXPECT_EQ(read.rfind("HTTP/1.1 200", 0), 0u) << read;
  EXPECT_NE(read.find("berth_alb_request_count_total{lb=\"x\"} 1"), std::string::npos) << read;
  std::string admin = get_metrics(server.port(), &(*iam)->bootstrap().admin_key);
  EXPECT_EQ(admin.rfind("HTTP/1.1 200", 0), 0u) << admin;

  Router open_router(door, /*metrics_open=*/true);
  open_router.set_metrics({[] { return std::string("berth_up 1\n"); }});
  net::testing::TestServer open_server([&](net::Request& r) { return open_router.handle(r); });
  std::string open = get_metrics(open_server.port(), nullptr);
  EXPECT_EQ(open.rfind("HTTP/1.1 200", 0), 0u) << open;
  EXPECT_NE(open.find("berth_up 1"), std::string::npos) << open;
}

}  // namespace
}  // namespace berth::cli
