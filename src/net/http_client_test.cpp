#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "net/http_client.h"
#include "net/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::net {
namespace {

using namespace std::chrono_literals;
using testing::run_on;
using testing::TestServer;

// A client on a loop of its own, driven synchronously from the test.
class ClientHarness {
 public:
  explicit ClientHarness(ClientOptions options = {}) : work_(context_.get_executor()), client_(context_.get_executor(), options) {
    thread_ = std::thread([this] { context_.run(); });
  }
  ~ClientHarness() {
    work_.reset();
    context_.stop();
    thread_.join();
  }
  Result<ClientResponse> request(ClientRequest r) { return run_on(context_, client_.request(std::move(r))); }
  Result<ClientResponse> get(const std::string& url) { return run_on(context_, client_.get(url)); }
  Result<ClientResponse> head(const std::string& url) { return run_on(context_, client_.head(url)); }
  HttpClient& client() { return client_; }

 private:
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  HttpClient client_;
  std::thread thread_;
};

Handler hello_handler() {
  return [](Request& req) -> Task<Response> {
    std::string body = "hello " + std::string(req.method_string()) + " " + std::string(req.target());
    if (req.has_body()) {
      auto b = co_await req.read_body();
      body += " " + (b ? *b : std::string("?"));
    }
    Response r(http::status::ok, body);
    r.set("X-Host", req.header("Host"));
    co_return r;
  };
}

TEST(HttpClient, GetsAndPoolsConnections) {
  TestServer server(hello_handler());
  ClientHarness h;
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  for (int i = 0; i < 5; ++i) {
    auto r = h.get(base + "/p?i=" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "hello GET /p?i=" + std::to_string(i));
  }
  EXPECT_EQ(h.client().connections_opened(), 1u);
  EXPECT_EQ(h.client().idle_connections(), 1u);
}

TEST(HttpClient, SendsBodiesAndHostHeader) {
  TestServer server(hello_handler());
  ClientHarness h;
  ClientRequest req;
  req.method = http::verb::post;
  req.url = "http://localhost:" + std::to_string(server.port()) + "/submit";
  req.body = "payload";
  auto r = h.request(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "hello POST /submit payload");
  EXPECT_EQ(r->headers["X-Host"], "localhost:" + std::to_string(server.port()));
}

TEST(HttpClient, HeadReadsNoBody) {
  TestServer server(hello_handler());
  ClientHarness h;
  auto r = h.head("http://127.0.0.1:" + std::to_string(server.port()) + "/x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  EXPECT_TRUE(r->body.empty());
  // The connection stays usable after a HEAD.
  auto again = h.get("http://127.0.0.1:" + std::to_string(server.port()) + "/y");
  ASSERT_OK(again);
  EXPECT_EQ(again->body, "hello GET /y");
  EXPECT_EQ(h.client().connections_opened(), 1u);
}

TEST(HttpClient, ReplacesAConnectionTheServerClosedWhileIdle) {
  ServerOptions options;
  options.idle_timeout = 100ms;
  TestServer server(hello_handler(), options);
  ClientHarness h;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  ASSERT_OK(h.get(url));
  std::this_thread::sleep_for(400ms);  // the server drops the pooled connection
  auto r = h.get(url);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(h.client().connections_opened(), 2u);
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  uint16_t port;
  {
    TestServer server(hello_handler());
    port = server.port();
  }
  ClientHarness h;
  auto r = h.get("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error_class, ErrorClass::kUnavailable);
}

TEST(HttpClient, TimesOutOnAServerThatNeverAnswers) {
  Handler hang = [](Request&) -> Task<Response> {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 5s);
    co_await t.async_wait(boost::asio::use_awaitable);
    co_return Response(http::status::ok, "late");
  };
  TestServer server(hang);
  ClientOptions options;
  options.request_timeout = 200ms;
  ClientHarness h(options);
  auto start = std::chrono::steady_clock::now();
  auto r = h.get("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error_class, ErrorClass::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  server.shutdown(10ms);
}

TEST(HttpClient, RejectsBadUrlsAndUnknownHosts) {
  ClientHarness h;
  auto bad = h.get("not a url");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().error_class, ErrorClass::kInvalid);
  auto ftp = h.get("ftp://127.0.0.1/");
  ASSERT_FALSE(ftp.ok());
  auto nohost = h.get("http://no-such-host.invalid/");
  ASSERT_FALSE(nohost.ok());
  EXPECT_EQ(nohost.error().error_class, ErrorClass::kUnavailable);
}

// HTTPS against openssl s_server with a throwaway CA-less self-signed cert.
class TlsServer {
 public:
  TlsServer() {
    char tmpl[] = "/tmp/berth-tls-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                      "-addext subjectAltName=DNS:localhost -keyout " + dir_ + "/key.pem -out " + dir_ +
                      "/cert.pem 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) return;
    for (port_ = 24000 + (::getpid() % 2000); port_ < 30000; port_ += 7) {
      pid_ = ::fork();
      if (pid_ == 0) {
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        std::string accept = "127.0.0.1:" + std::to_string(port_);
        ::execlp("openssl", "openssl", "s_server", "-accept", accept.c_str(), "-cert", (dir_ + "/cert.pem").c_str(),
                 "-key", (dir_ + "/key.pem").c_str(), "-www", "-quiet", nullptr);
        ::_exit(127);
      }
      for (int i = 0; i < 100; ++i) {
        testing::RawClient probe(port_);
        if (probe.connected()) return;
        int status;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) break;  // port taken: try the next
        std::this_thread::sleep_for(20ms);
      }
    }
    pid_ = -1;
  }
  ~TlsServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::system(("rm -rf " + dir_).c_str());
  }
  bool up() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  std::string ca_file() const { return dir_ + "/cert.pem"; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

TEST(HttpClient, HttpsVerifiesCertificateAndHostName) {
  TlsServer tls;
  ASSERT_TRUE(tls.up()) << "openssl s_server did not start";
  ClientOptions trusted;
  trusted.ca_file = tls.ca_file();
  {
    ClientHarness h(trusted);
    auto r = h.get("https://localhost:" + std::to_string(tls.port()) + "/");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200u);
  }
  {
    // Same certificate, but the name asked for is not the one it carries.
    ClientHarness h(trusted);
    auto r = h.get("https://127.0.0.1:" + std::to_string(tls.port()) + "/");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos);
  }
  {
    // The system bundle does not trust a self-signed certificate.
    ClientHarness h;
    auto r = h.get("https://localhost:" + std::to_string(tls.port()) + "/");
    ASSERT_FALSE(r.ok());
  }
}

}  // namespace
}  // namespace berth::net
