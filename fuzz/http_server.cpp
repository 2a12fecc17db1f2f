// The HTTP/1.1 server every API, registry and outyet request goes through
// (net::HttpServer): the input is sent as it is on a fresh loopback
// connection to a real server, whose handler reads the request as the
// front door does (method, target, headers, the body whole or in pieces).
// Whatever comes back must be HTTP/1.1 responses, and the server must go
// on serving (the last connection is answered before the next input).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "net/http_server.h"

namespace {
using namespace berth::net;

Task<Response> handle(Request& req) {
  std::string seen;
  seen += req.method_string();
  seen += ' ';
  seen += req.path();
  seen += '?';
  seen += req.query();
  for (const auto& field : req.headers()) {
    seen += field.name_string();
    seen += field.value();
  }
  (void)req.header("Host");
  (void)req.content_length();
  (void)req.remote();
  if (req.has_body()) {
    // Odd targets stream the body in pieces, the others read it whole.
    if (req.target().size() % 2 == 1) {
      char piece[7];
      for (int i = 0; i < 10000; ++i) {
        auto n = co_await req.read_body_some(piece, sizeof piece);
        if (!n || *n == 0) break;
      }
    } else {
      req.set_body_limit(64 * 1024);
      auto body = co_await req.read_body();
      if (!body) co_return Response(http::status::bad_request, body.error().message);
    }
  }
  co_return Response(http::status::ok, seen);
}

struct Server {
  EventLoops loops{1};
  HttpServer server{loops, handle, [] {
                      ServerOptions o;
                      o.max_header_bytes = 8 * 1024;
                      o.max_body_bytes = 16 * 1024;
                      o.header_timeout = std::chrono::milliseconds(2000);
                      o.body_timeout = std::chrono::milliseconds(2000);
                      return o;
                    }()};
  uint16_t port = 0;
  Server() {
    auto ep = server.listen("127.0.0.1", 0);
    if (!ep) std::abort();
    port = ep->port();
    loops.start();
  }
};

Server& server() {
  static Server* s = new Server;  // lives for the process: the fuzzer never returns
  return *s;
}

// The end of a connect() that a signal interrupted: 0, or its errno.
int wait_connected(int fd) {
  pollfd p{fd, POLLOUT, 0};
  int ready = -1;
  for (int i = 0; i < 100 && ready < 0; ++i) {
    ready = ::poll(&p, 1, 5000);
    if (ready < 0 && errno != EINTR) return errno;
  }
  if (ready != 1) return ETIMEDOUT;
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
  return error;
}

// Sends bytes, half-closes, reads until the server closes. "" on a
// connection failure (which would mean the server stopped accepting).
bool exchange(uint16_t port, std::string_view bytes, std::string& reply) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  linger l{1, 0};  // close with RST: no TIME_WAIT pile-up over millions of runs
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // libFuzzer's timer (SIGALRM, for -timeout) interrupts blocking calls:
  // an interrupted connect goes on in the background, the others are
  // simply called again. Before this, an EINTR aborted runs as "no
  // connection to the server" or a cut-off reply.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int error = errno == EINTR ? wait_connected(fd) : errno;
    if (error != 0) {
      ::close(fd);
      errno = error;
      return false;
    }
  }
  size_t sent = 0;
  for (int i = 0; i < 10000 && sent < bytes.size(); ++i) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (431, 413, 400)
    sent += size_t(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  for (int i = 0; i < 10000; ++i) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, size_t(n));
  }
  ::close(fd);
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Server& s = server();
  std::string reply;
  if (!exchange(s.port, std::string_view(reinterpret_cast<const char*>(data), size), reply)) {
    std::fprintf(stderr, "no connection to the server: %s\n", std::strerror(errno));
    std::abort();
  }
  if (!reply.empty() && !reply.starts_with("HTTP/1.")) {
    std::fprintf(stderr, "not an HTTP response: %.200s\n", reply.c_str());
    std::abort();
  }
  return 0;
}
