// The one HTTP/1.1 server of the project (API, registry, load balancer,
// outyet all stand on it).
//
//   EventLoops ──► one acceptor per loop (SO_REUSEPORT, same port)
//                     │
//                     ▼
//               Session (coroutine per connection, never leaves its loop)
//                 read header (limits, timeouts) ─► Handler(Request&) ─► Response
//                 └─ keep-alive / pipelining: the next request is read only
//                    after the previous response is written, so answers
//                    always go out in request order.
//
// Limits: a header over max_header_bytes gets 431, a body over the
// request's body limit 413, an unparsable request 400; each closes the
// connection. A client that sends a header too slowly is cut off after
// header_timeout; an idle keep-alive connection after idle_timeout. An idle
// connection holds no read buffer, so thousands of them cost little.
// Deadlines are enforced by one coarse sweeper per loop rather than a timer
// per operation, which keeps the hot path free of timer churn.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/event_loops.h"

namespace berth::net {

template <class T>
using Task = boost::asio::awaitable<T>;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct AccessLogEntry {
  std::string_view remote;  // "127.0.0.1:50312"
  std::string_view method;
  std::string_view target;
  unsigned status = 0;
  uint64_t response_bytes = 0;
  std::chrono::microseconds duration{0};
  std::string_view user_agent;
};

// Writes one line per request, e.g.
// 127.0.0.1:50312 "GET / HTTP/1.1" 200 512 0.000123 "curl/7.88.1"
using AccessLog = std::function<void(const AccessLogEntry&)>;
AccessLog make_access_log_to_fd(int fd);

struct ServerOptions {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;  // default per request; handlers may raise it
  // A new connection's whole request head is due this long after its
  // accept, a keep-alive connection's next one this long after its first
  // byte: a head dribbled a byte at a time (slowloris) is cut off.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};  // between requests of a keep-alive connection
  std::chrono::milliseconds body_timeout{60'000};   // per read, so a dribbling body is cut off
  std::chrono::milliseconds write_timeout{60'000};  // per write
  std::chrono::milliseconds sweep_interval{100};    // the deadline sweeper's resolution
  std::string server_header;                        // empty: no Server header
  AccessLog access_log;                             // empty: no access log
};

namespace detail {
class Session;
}

// One request as the handler sees it. The header is parsed; the body is
// read on demand, whole or in chunks, so a registry upload can stream to disk
// while an API call reads its small body in one go.
class Request {
 public:
  explicit Request(detail::Session& session) : session_(session) {}

  http::verb method() const;
  std::string_view method_string() const;
  std::string_view target() const;
  std::string_view path() const;   // target up to '?'
  std::string_view query() const;  // after '?', empty if none
  unsigned version() const;        // 11 for HTTP/1.1
  const http::fields& headers() const;
  std::string_view header(std::string_view name) const;  // empty if absent
  const tcp::endpoint& remote() const;
  const tcp::endpoint& local() const;
  bool has_body() const;  // Content-Length > 0 or chunked
  std::optional<uint64_t> content_length() const;

  // Raises (or lowers) the body limit for this request; call before reading.
  void set_body_limit(uint64_t bytes);
  // The whole body. Errors: "RequestEntityTooLarge" (kInvalid) past the
  // limit, "BadRequest" for a malformed body, kUnavailable on timeout/reset.
  Task<Result<std::string>> read_body();
  // Up to `size` bytes of body; 0 means the body is complete.
  Task<Result<size_t>> read_body_some(char* data, size_t size);

 private:
  detail::Session& session_;
};

// Produces a response body piece by piece (for proxies and long blobs).
// `write` sends bytes; it returns false once the connection has failed.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  virtual Task<bool> write(std::string_view bytes) = 0;
};
using BodyProducer = std::function<Task<bool>(BodyWriter&)>;

struct FileRange {
  int fd = -1;  // owned: the server closes it when the response is sent
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Response {
  http::status status = http::status::ok;
  http::fields headers;
  std::string body;
  // Instead of `body`: bytes of a file (sent with sendfile), or a producer.
  // A producer with no Content-Length header is sent chunked.
  std::optional<FileRange> file;
  BodyProducer producer;
  bool close = false;  // close the connection after this response

  Response() = default;
  Response(http::status s, std::string b, std::string_view content_type = "text/plain; charset=utf-8");
  Response& set(std::string_view name, std::string_view value) {
    headers.set(name, value);
    return *this;
  }
};

using Handler = std::function<Task<Response>(Request&)>;

class HttpServer {
 public:
  HttpServer(EventLoops& loops, Handler handler, ServerOptions options = {});
  // While the loops run, call shutdown() before destroying the server.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds address:port on every loop (port 0 picks one). Call before the
  // loops run, or from any thread while they run.
  Result<tcp::endpoint> listen(const std::string& address, uint16_t port);

  // Graceful stop, callable from any thread: stop accepting, close idle
  // connections, let in-flight requests finish (their responses carry
  // Connection: close), then force-close whatever is left after `grace`.
  // Blocks until every connection is gone; must not be called on a loop.
  void shutdown(std::chrono::milliseconds grace);
  // The same, as a coroutine that may run on one of the loops.
  Task<void> async_shutdown(std::chrono::milliseconds grace);

  size_t open_connections() const;
  uint64_t requests_served() const;

  struct State;  // per-server state shared with sessions

 private:
  EventLoops& loops_;
  std::shared_ptr<State> state_;
};

}  // namespace berth::net
