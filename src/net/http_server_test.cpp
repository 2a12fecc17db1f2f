#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "net/test_support.h"

namespace berth::net {
namespace {

using namespace std::chrono_literals;
using testing::RawClient;
using testing::TestServer;

Handler echo_handler() {
  return [](Request& req) -> Task<Response> {
    std::string out = std::string(req.method_string()) + " " + std::string(req.path()) + " q=" +
                      std::string(req.query());
    if (req.has_body()) {
      auto body = co_await req.read_body();
      if (!body) co_return Response(http::status::bad_request, body.error().code);
      out += " body=" + *body;
    }
    co_return Response(http::status::ok, out);
  };
}

TEST(HttpServer, AnswersAndKeepsConnectionAlive) {
  TestServer server(echo_handler());
  RawClient c(server.port());
  ASSERT_TRUE(c.connected());
  c.send("GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string first = c.read_until("q=x=1");
  EXPECT_NE(first.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(first.find("Content-Length: 12"), std::string::npos);
  EXPECT_NE(first.find("GET /a q=x=1"), std::string::npos);
  EXPECT_EQ(first.find("Connection: close"), std::string::npos);
  c.send("POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_NE(c.read_until("body=hello").find("POST /b q= body=hello"), std::string::npos);
  EXPECT_EQ(server.server().open_connections(), 1u);
}

TEST(HttpServer, PipelinedRequestsAnsweredInOrder) {
  // The first request is slow: its answer must still come first.
  Handler handler = [](Request& req) -> Task<Response> {
    if (req.path() == "/slow") {
      boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 100ms);
      co_await t.async_wait(boost::asio::use_awaitable);
    }
    co_return Response(http::status::ok, "<" + std::string(req.path()) + ">");
  };
  TestServer server(handler);
  RawClient c(server.port());
  c.send(
      "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
      "POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
      "GET /three HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string all = c.read_until("HTTP/1.1 200", 3);
  all += c.read_until("</three>");
  auto a = all.find("</slow>"), b = all.find("</two>"), d = all.find("</three>");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(d, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, d);
}

TEST(HttpServer, OversizedHeaderGets431AndClose) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  TestServer server(echo_handler(), options);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  std::string reply = c.read_until("\r\n\r\n");
  EXPECT_NE(reply.find("HTTP/1.1 431"), std::string::npos);
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(2000));
}

TEST(HttpServer, OversizedBodyGets413) {
  ServerOptions options;
  options.max_body_bytes = 100;
  TestServer server(echo_handler(), options);
  {
    RawClient c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'x'));
    std::string reply = c.read_until("\r\n\r\n");
    EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos);
    EXPECT_TRUE(c.wait_closed(2000));
  }
  {
    // Chunked bodies have no length up front: the limit applies as they stream.
    RawClient c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + std::string(100, 'x') +
           "\r\n1\r\nx\r\n0\r\n\r\n");
    EXPECT_NE(c.read_until("\r\n\r\n").find("HTTP/1.1 413"), std::string::npos);
  }
  {
    // At the limit is fine.
    RawClient c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
    EXPECT_NE(c.read_until("\r\n\r\n").find("HTTP/1.1 200"), std::string::npos);
  }
}

TEST(HttpServer, HandlerMayRaiseBodyLimitAndStream) {
  std::atomic<uint64_t> total{0};
  Handler handler = [&](Request& req) -> Task<Response> {
    req.set_body_limit(10u << 20);
    char buf[4096];
    for (;;) {
      auto n = co_await req.read_body_some(buf, sizeof buf);
      if (!n) co_return Response(http::status::bad_request, "bad");
      if (*n == 0) break;
      total += *n;
    }
    co_return Response(http::status::created, "");
  };
  TestServer server(handler);
  RawClient c(server.port());
  std::string body(3u << 20, 'z');
  c.send("PUT /blob HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  c.send(body);
  EXPECT_NE(c.read_until("\r\n\r\n").find("HTTP/1.1 201"), std::string::npos);
  EXPECT_EQ(total.load(), body.size());
}

TEST(HttpServer, GarbageGets400AndServerKeepsServing) {
  TestServer server(echo_handler());
  for (const char* garbage : {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                              "GE T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                              "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                              "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    RawClient c(server.port());
    c.send(garbage);
    std::string reply = c.read_until("\r\n\r\n");
    EXPECT_NE(reply.find("HTTP/1.1 400"), std::string::npos) << garbage;
    EXPECT_TRUE(c.wait_closed(2000)) << garbage;
  }
  RawClient ok(server.port());
  ok.send("GET /still HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_NE(ok.read_until("q=").find("200 OK"), std::string::npos);
}

TEST(HttpServer, SlowHeaderClientIsCutOff) {
  ServerOptions options;
  options.header_timeout = 300ms;
  TestServer server(echo_handler(), options);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n");  // never finishes the header
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed(3000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(HttpServer, SilentNewConnectionIsCutOffAtHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 300ms;
  options.idle_timeout = 60s;
  TestServer server(echo_handler(), options);
  RawClient c(server.port());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed(3000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// Slowloris: a byte now and then does not extend the header's deadline.
TEST(HttpServer, DribblingHeaderIsCutOffAtHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 300ms;
  TestServer server(echo_handler(), options);
  RawClient c(server.port());
  std::string head = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(100, 'a');
  auto start = std::chrono::steady_clock::now();
  bool cut_off = false;
  for (char byte : head) {  // 130 bytes, 50 ms apart: over 6 s if never cut off
    if (!c.send(std::string_view(&byte, 1)) || c.wait_closed(50)) {
      cut_off = true;
      break;
    }
  }
  EXPECT_TRUE(cut_off) << "a header dribbled one byte every 50 ms was never cut off";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// Out of descriptors, accept() fails: the acceptor backs off and takes the
// queued connections once descriptors free up, instead of dying or spinning.
TEST(HttpServer, AcceptorSurvivesRunningOutOfDescriptors) {
  TestServer server(echo_handler());
  constexpr int kClients = 4;
  int fds[kClients];
  for (int& fd : fds) fd = ::socket(AF_INET, SOCK_STREAM, 0);  // made before the limit drops
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  int open_now = 0;
  for (int fd = 0; fd < 65536; ++fd)
    if (::fcntl(fd, F_GETFD) != -1) open_now = fd + 1;
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(open_now);  // no descriptor above the highest open one
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> fillers;  // the holes below the limit, so the table is really full
  for (int fd; fillers.size() < 4096 && (fd = ::open("/dev/null", O_RDONLY)) >= 0;) fillers.push_back(fd);
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  int probe_errno = errno;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  bool connected = true;
  for (int fd : fds) {
    connected = connected && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    std::string_view get = "GET /after HTTP/1.1\r\nHost: t\r\n\r\n";
    connected = connected && ::send(fd, get.data(), get.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(get.size());
  }
  // The server tries to accept these while the table is full; let a few of its retries fail.
  pollfd p{fds[0], POLLIN, 0};
  int early = ::poll(&p, 1, 100);
  for (int fd : fillers) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(probe, -1) << "the lowered limit did not bite";
  EXPECT_EQ(probe_errno, EMFILE);
  EXPECT_EQ(early, 0) << "a connection was answered while the server had no descriptor for it";
  EXPECT_TRUE(connected) << "connections wait in the backlog while the server is out of descriptors";
  for (int fd : fds) {
    std::string reply;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (reply.find("q=") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 100) <= 0) continue;
      char buf[1024];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
    EXPECT_NE(reply.find("200 OK"), std::string::npos) << "not served once descriptors were back: " << reply;
    ::close(fd);
  }
  if (probe >= 0) ::close(probe);
}

TEST(HttpServer, IdleConnectionIsClosed) {
  ServerOptions options;
  options.idle_timeout = 300ms;
  TestServer server(echo_handler(), options);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_NE(c.read_until("q=").find("200"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(3000));
  for (int i = 0; i < 100 && server.server().open_connections() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server.server().open_connections(), 0u);
}

TEST(HttpServer, HeadAnswersLengthWithoutBody) {
  TestServer server(echo_handler());
  RawClient c(server.port());
  c.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string all = c.read_until("q=", 1);
  EXPECT_NE(all.find("Content-Length: 10"), std::string::npos);
  EXPECT_EQ(all.find("HEAD /h"), std::string::npos);
  EXPECT_NE(all.find("GET /after"), std::string::npos);
}

TEST(HttpServer, Http10ClosesUnlessKeepAlive) {
  TestServer server(echo_handler());
  RawClient c(server.port());
  c.send("GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(c.read_until("q=").find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(2000));
}

TEST(HttpServer, ExpectContinueIsHonoured) {
  TestServer server(echo_handler());
  RawClient c(server.port());
  c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(c.read_until("\r\n\r\n").find("HTTP/1.1 100 Continue"), std::string::npos);
  c.send("data");
  EXPECT_NE(c.read_until("body=data").find("body=data"), std::string::npos);
}

TEST(HttpServer, StreamsProducerChunkedAndFilesWithSendfile) {
  char path[] = "/tmp/berth-net-test-XXXXXX";
  int fd = ::mkstemp(path);
  std::string content = "0123456789abcdef";
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
  Handler handler = [&](Request& req) -> Task<Response> {
    Response r;
    if (req.path() == "/file") {
      r.file = FileRange{::open(path, O_RDONLY), 4, 6};
    } else {
      r.producer = [](BodyWriter& w) -> Task<bool> {
        co_return co_await w.write("part1-") && co_await w.write("part2");
      };
    }
    co_return r;
  };
  TestServer server(handler);
  RawClient c(server.port());
  c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string chunked = c.read_until("0\r\n\r\n");
  EXPECT_NE(chunked.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(chunked.find("6\r\npart1-\r\n5\r\npart2\r\n0\r\n\r\n"), std::string::npos);
  c.send("GET /file HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string file = c.read_until("456789");
  EXPECT_NE(file.find("Content-Length: 6\r\n"), std::string::npos);
  EXPECT_NE(file.find("\r\n\r\n456789"), std::string::npos);
  ::unlink(path);
}

TEST(HttpServer, GracefulShutdownFinishesInFlightRequests) {
  std::atomic<bool> entered{false};
  Handler handler = [&](Request& req) -> Task<Response> {
    entered = true;
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 300ms);
    co_await t.async_wait(boost::asio::use_awaitable);
    co_return Response(http::status::ok, "finished");
  };
  TestServer server(handler);
  RawClient busy(server.port());
  RawClient idle(server.port());
  busy.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  while (!entered) std::this_thread::sleep_for(1ms);
  std::thread stopper([&] { server.shutdown(5s); });
  std::string reply = busy.read_until("finished");
  stopper.join();
  EXPECT_NE(reply.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(idle.wait_closed(1000));
  EXPECT_EQ(server.server().open_connections(), 0u);
  RawClient late(server.port());
  EXPECT_FALSE(late.connected());
}

TEST(HttpServer, WritesOneAccessLogLinePerRequest) {
  std::mutex mu;
  std::vector<std::string> lines;
  ServerOptions options;
  options.access_log = [&](const AccessLogEntry& e) {
    std::lock_guard lock(mu);
    lines.push_back(std::string(e.method) + " " + std::string(e.target) + " " + std::to_string(e.status) + " " +
                    std::string(e.user_agent));
  };
  TestServer server(echo_handler(), options);
  RawClient c(server.port());
  c.send("GET /one HTTP/1.1\r\nHost: t\r\nUser-Agent: ua/1\r\n\r\nDELETE /two HTTP/1.1\r\nHost: t\r\n\r\n");
  c.read_until("HTTP/1.1 200", 2);
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(mu);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "GET /one 200 ua/1");
  EXPECT_EQ(lines[1], "DELETE /two 200 ");
}

TEST(HttpServer, HandlerExceptionBecomes500) {
  Handler handler = [](Request&) -> Task<Response> {
    throw std::runtime_error("boom");
    co_return Response();
  };
  TestServer server(handler);
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_NE(c.read_until("\r\n\r\n").find("HTTP/1.1 500"), std::string::npos);
}

TEST(HttpServer, ManyConcurrentConnections) {
  TestServer server(echo_handler());
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 200; ++i) clients.push_back(std::make_unique<RawClient>(server.port()));
  for (auto& c : clients) c->send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
  int ok = 0;
  for (auto& c : clients) ok += c->read_until("q=").find("200 OK") != std::string::npos;
  EXPECT_EQ(ok, 200);
}

}  // namespace
}  // namespace berth::net
