#include "net/http_server.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <charconv>
#include <ctime>
#include <future>
#include <tuple>
#include <unordered_set>

#include "core/log.h"
#include "core/time_format.h"

namespace berth::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using SteadyTime = std::chrono::steady_clock::time_point;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr SteadyTime kNoDeadline = SteadyTime::max();
// The first read of a request, while the connection waits idle: a short
// request (a health check, a GET) fits, the rest of a longer one is read
// into a buffer grown for it.
constexpr size_t kIdleReadSize = 512;

namespace detail {

struct LoopState {
  asio::io_context* context = nullptr;
  std::unordered_set<Session*> sessions;  // touched only on this loop's thread
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::unique_ptr<asio::steady_timer> sweeper;
};

}  // namespace detail

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  Handler handler;
  ServerOptions options;
  std::vector<detail::LoopState> loops;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::atomic<size_t> connections{0};
  std::atomic<uint64_t> requests{0};
  // Acceptor and sweeper coroutines still running. Shutdown waits for them,
  // so the timers and acceptors they own die before their io_context does.
  std::atomic<int> background{0};
};

namespace detail {

// Date header, formatted once per second per thread.
std::string_view cached_http_date() {
  thread_local time_t last = 0;
  thread_local std::string text;
  time_t now = ::time(nullptr);
  if (now != last) {
    last = now;
    text = format_http_date(std::chrono::system_clock::from_time_t(now));
  }
  return text;
}

// steady_clock at the kernel tick's resolution, read without the TSC: deadlines
// are armed several times per request but only checked by the sweeper, every
// sweep_interval, so a few milliseconds of lag do not matter. (Same clock as
// steady_clock: CLOCK_MONOTONIC.)
SteadyTime coarse_now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return SteadyTime(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

std::string endpoint_text(const tcp::endpoint& e) {
  auto addr = e.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

class Session {
 public:
  Session(HttpServer::State& state, LoopState& loop, tcp::socket socket)
      : state_(state), loop_(loop), socket_(std::move(socket)) {
    boost::system::error_code ec;
    remote_ = socket_.remote_endpoint(ec);
    local_ = socket_.local_endpoint(ec);
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);  // sendmsg and sendfile send at once, or say EAGAIN
    loop_.sessions.insert(this);
    state_.connections.fetch_add(1);
  }
  ~Session() {
    loop_.sessions.erase(this);
    state_.connections.fetch_sub(1);
  }

  Task<void> run();

  // Called by the sweeper (same thread).
  void sweep(SteadyTime now, bool draining) {
    if (now >= deadline_ || (draining && idle_)) {
      boost::system::error_code ec;
      socket_.close(ec);
    }
  }
  void force_close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

  // --- used by Request ---
  using Parser = http::request_parser<http::buffer_body>;
  const Parser::value_type& message() const { return parser_->get(); }
  const Parser& parser() const { return *parser_; }
  const tcp::endpoint& remote() const { return remote_; }
  const tcp::endpoint& local() const { return local_; }
  uint64_t body_limit_ = 0;
  Task<Result<size_t>> read_body_some(char* data, size_t size);
  Task<Result<std::string>> read_body();

 private:
  enum class ReadOutcome { kRequest, kClosed, kTooLarge, kBad };
  Task<ReadOutcome> read_header();
  Task<bool> write_response(Response& response, bool keep_alive);
  bool send_now(std::string_view& a, std::string_view& b);
  Task<bool> write_all(std::string_view a, std::string_view b = {});
  Task<bool> write_rest(std::string_view a, std::string_view b);
  Task<bool> send_file(const FileRange& file);
  Task<bool> drain_body();
  Task<void> reply_and_close(http::status status);
  void arm(std::chrono::milliseconds d) { deadline_ = coarse_now() + d; }
  void disarm() { deadline_ = kNoDeadline; }
  void log_access(const Response& response, uint64_t bytes, SteadyTime started);

  friend class ChunkWriter;
  HttpServer::State& state_;
  LoopState& loop_;
  tcp::socket socket_;
  tcp::endpoint remote_, local_;
  std::string remote_text_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  uint64_t body_read_ = 0;
  bool body_failed_ = false;
  bool body_too_large_ = false;
  bool continue_sent_ = false;
  bool idle_ = true;
  bool first_request_ = true;
  SteadyTime deadline_ = kNoDeadline;
  std::string head_;  // response head, reused between requests
};

class ChunkWriter final : public BodyWriter {
 public:
  ChunkWriter(Session& session, bool chunked) : session_(session), chunked_(chunked) {}
  Task<bool> write(std::string_view bytes) override {
    if (bytes.empty()) co_return true;
    sent_ += bytes.size();
    if (!chunked_) co_return co_await session_.write_all(bytes);
    char size_line[32];
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", bytes.size());
    if (!co_await session_.write_all(std::string_view(size_line, n), bytes)) co_return false;
    co_return co_await session_.write_all("\r\n");
  }
  Task<bool> finish() {
    if (!chunked_) co_return true;
    co_return co_await session_.write_all("0\r\n\r\n");
  }
  uint64_t sent() const { return sent_; }

 private:
  Session& session_;
  bool chunked_;
  uint64_t sent_ = 0;
};

Task<Session::ReadOutcome> Session::read_header() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(state_.options.max_header_bytes));
  // The body limit is enforced by Request, since a handler may raise it
  // after seeing the header (Beast would reject the header itself).
  parser_->body_limit(boost::none);
  parser_->eager(false);  // stop at the end of the header
  body_read_ = 0;
  body_failed_ = false;
  body_too_large_ = false;
  continue_sent_ = false;
  body_limit_ = state_.options.max_body_bytes;

  // A new connection's head is due header_timeout after its accept; a
  // keep-alive connection's next head, header_timeout after its first byte.
  bool due_since_accept = false;
  if (buffer_.size() == 0) {
    idle_ = true;
    if (state_.draining) co_return ReadOutcome::kClosed;
    // A new connection owes us a header now; only between requests of a
    // keep-alive connection may the client sit idle longer.
    arm(first_request_ ? state_.options.header_timeout : state_.options.idle_timeout);
    // An idle connection keeps only a small buffer, so 10,000 of them cost
    // little more than their sockets. The wait is a read, not a readiness
    // wait then a read: asio's async_wait re-arms epoll (epoll_ctl) every
    // time. Two recvs per request (the first, tried at once, finds nothing
    // yet), not recv, epoll_ctl, recv.
    if (buffer_.capacity() > kIdleReadSize) buffer_ = beast::flat_buffer();
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(kIdleReadSize), kUseTuple);
    if (ec) co_return ReadOutcome::kClosed;
    buffer_.commit(n);
    due_since_accept = first_request_;
  }
  idle_ = false;
  if (!due_since_accept) arm(state_.options.header_timeout);
  // The header is parsed here from what is buffered, reading more only while
  // it is incomplete. (Beast's async_read_header does the same, but posts its
  // completion when no read was needed: one more trip through the scheduler
  // on nearly every request.)
  for (;;) {
    boost::system::error_code ec;
    buffer_.consume(parser_->put(buffer_.data(), ec));
    if (!ec) {
      first_request_ = false;
      co_return ReadOutcome::kRequest;
    }
    if (ec == http::error::header_limit) co_return ReadOutcome::kTooLarge;
    if (ec != http::error::need_more) co_return ReadOutcome::kBad;
    auto [read_ec, n] = co_await socket_.async_read_some(buffer_.prepare(16 * 1024), kUseTuple);
    buffer_.commit(n);
    if (read_ec == asio::error::eof && parser_->got_some()) co_return ReadOutcome::kBad;  // a cut-off header
    if (read_ec) co_return ReadOutcome::kClosed;
  }
}

Task<Result<size_t>> Session::read_body_some(char* data, size_t size) {
  if (!parser_ || parser_->is_done()) co_return size_t{0};
  if (body_failed_) co_return Error::invalid("BadRequest", "request body unreadable");
  if (!continue_sent_) {
    continue_sent_ = true;
    auto expect = message()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      arm(state_.options.write_timeout);
      if (!co_await write_all("HTTP/1.1 100 Continue\r\n\r\n")) {
        body_failed_ = true;
        co_return Error::unavailable("connection lost");
      }
    }
  }
  while (!parser_->is_done()) {
    auto& body = parser_->get().body();
    body.data = data;
    body.size = size;
    arm(state_.options.body_timeout);
    auto [ec, consumed] = co_await http::async_read_some(socket_, buffer_, *parser_, kUseTuple);
    disarm();
    size_t got = size - body.size;
    if (ec && ec != http::error::need_buffer) {
      body_failed_ = true;
      if (ec == http::error::partial_message || ec == asio::error::eof ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
        co_return Error::unavailable("connection closed while reading the request body");
      co_return Error::invalid("BadRequest", "malformed request body: " + ec.message());
    }
    if (got > 0) {
      body_read_ += got;
      if (body_read_ > body_limit_) {
        body_failed_ = true;
        body_too_large_ = true;
        co_return Error::invalid("RequestEntityTooLarge", "request body exceeds " + std::to_string(body_limit_) +
                                                              " bytes");
      }
      co_return got;
    }
  }
  co_return size_t{0};
}

Task<Result<std::string>> Session::read_body() {
  std::string out;
  auto length = parser_->content_length();
  if (length && *length > body_limit_) {
    body_failed_ = true;
    body_too_large_ = true;
    co_return Error::invalid("RequestEntityTooLarge",
                             "request body exceeds " + std::to_string(body_limit_) + " bytes");
  }
  if (length) out.reserve(*length);
  for (;;) {
    size_t old = out.size();
    out.resize(old + 16 * 1024);
    auto n = co_await read_body_some(out.data() + old, 16 * 1024);
    if (!n) co_return std::move(n).error();
    out.resize(old + *n);
    if (*n == 0) break;
  }
  co_return out;
}

Task<bool> Session::drain_body() {
  if (!parser_ || parser_->is_done()) co_return true;
  if (body_failed_) co_return false;
  // An unread body is skipped, up to the request's limit; beyond that the
  // connection is not worth keeping.
  char scratch[16 * 1024];
  for (;;) {
    auto n = co_await read_body_some(scratch, sizeof scratch);
    if (!n) co_return false;
    if (*n == 0) co_return true;
  }
}

// One sendmsg of a then b, straight away: a response nearly always fits the
// socket buffer, and asio's async_write would complete through the
// scheduler even when its first attempt sent everything. False when the
// socket failed; otherwise a and b keep what the socket did not take.
bool Session::send_now(std::string_view& a, std::string_view& b) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = b.empty() ? 1 : 2;
  ssize_t sent;
  do {
    sent = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  size_t from_a = std::min(static_cast<size_t>(sent), a.size());
  a.remove_prefix(from_a);
  b.remove_prefix(static_cast<size_t>(sent) - from_a);
  return true;
}

Task<bool> Session::write_all(std::string_view a, std::string_view b) {
  if (!send_now(a, b)) co_return false;
  if (a.empty() && b.empty()) co_return true;
  co_return co_await write_rest(a, b);
}

// What send_now left: waits for the socket to take it.
Task<bool> Session::write_rest(std::string_view a, std::string_view b) {
  std::array<asio::const_buffer, 2> buffers{asio::buffer(a.data(), a.size()), asio::buffer(b.data(), b.size())};
  auto [ec, n] = co_await asio::async_write(socket_, buffers, kUseTuple);
  co_return !ec;
}

Task<bool> Session::send_file(const FileRange& file) {
  off_t offset = static_cast<off_t>(file.offset);
  uint64_t remaining = file.length;
  while (remaining > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(remaining, 4u << 20));
    ssize_t n = ::sendfile(socket_.native_handle(), file.fd, &offset, chunk);
    if (n > 0) {
      remaining -= static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      arm(state_.options.write_timeout);
      auto [ec] = co_await socket_.async_wait(tcp::socket::wait_write, kUseTuple);
      if (ec) co_return false;
      continue;
    }
    co_return false;  // the file is shorter than promised, or the peer left
  }
  co_return true;
}

Task<void> Session::reply_and_close(http::status status) {
  Response response(status, std::string(http::obsolete_reason(status)) + "\n");
  response.close = true;
  arm(state_.options.write_timeout);
  co_await write_response(response, false);
}

Task<bool> Session::write_response(Response& response, bool keep_alive) {
  const bool head_request = parser_ && parser_->is_header_done() && message().method() == http::verb::head;
  const unsigned code = static_cast<unsigned>(response.status);
  const bool bodiless_status = code < 200 || code == 204 || code == 304;

  head_.clear();
  head_ += "HTTP/1.1 ";
  head_ += std::to_string(code);
  head_ += ' ';
  head_ += http::obsolete_reason(response.status);
  head_ += "\r\n";

  std::optional<uint64_t> declared_length;
  bool has_date = false, has_server = false;
  for (const auto& field : response.headers) {
    switch (field.name()) {
      case http::field::content_length: {
        uint64_t v = 0;
        auto text = field.value();
        if (std::from_chars(text.data(), text.data() + text.size(), v).ec == std::errc()) declared_length = v;
        continue;
      }
      case http::field::connection:
      case http::field::transfer_encoding:
        continue;  // framing is the server's business
      case http::field::date: has_date = true; break;
      case http::field::server: has_server = true; break;
      default: break;
    }
    head_ += field.name_string();
    head_ += ": ";
    head_ += field.value();
    head_ += "\r\n";
  }
  if (!has_date) {
    head_ += "Date: ";
    head_ += cached_http_date();
    head_ += "\r\n";
  }
  if (!has_server && !state_.options.server_header.empty()) {
    head_ += "Server: ";
    head_ += state_.options.server_header;
    head_ += "\r\n";
  }

  bool chunked = false;
  if (!bodiless_status) {
    uint64_t length = response.body.size();
    if (response.file) length = response.file->length;
    if (response.producer || head_request) {
      if (declared_length) length = *declared_length;
      else if (response.producer) chunked = !head_request;
    }
    if (chunked) {
      head_ += "Transfer-Encoding: chunked\r\n";
    } else {
      head_ += "Content-Length: ";
      head_ += std::to_string(length);
      head_ += "\r\n";
    }
  }
  if (!keep_alive) head_ += "Connection: close\r\n";
  else if (message().version() == 10) head_ += "Connection: keep-alive\r\n";
  head_ += "\r\n";

  arm(state_.options.write_timeout);
  bool ok;
  if (head_request || bodiless_status) {
    ok = co_await write_all(head_);
  } else if (response.file) {
    ok = co_await write_all(head_) && co_await send_file(*response.file);
  } else if (response.producer) {
    ok = co_await write_all(head_);
    if (ok) {
      ChunkWriter writer(*this, chunked);
      disarm();  // the producer paces itself; each write re-arms below
      ok = co_await response.producer(writer) && co_await writer.finish();
    }
  } else {
    // The common case, sent without another coroutine (whose frame would be
    // allocated) unless the socket buffer is full.
    std::string_view head = head_, body = response.body;
    ok = send_now(head, body);
    if (ok && !(head.empty() && body.empty())) ok = co_await write_rest(head, body);
  }
  disarm();
  if (response.file) {
    ::close(response.file->fd);
    response.file.reset();
  }
  co_return ok;
}

void Session::log_access(const Response& response, uint64_t bytes, SteadyTime started) {
  if (!state_.options.access_log) return;
  if (remote_text_.empty()) remote_text_ = endpoint_text(remote_);
  const auto& msg = message();
  AccessLogEntry entry;
  entry.remote = remote_text_;
  entry.method = msg.method_string();
  entry.target = msg.target();
  entry.status = static_cast<unsigned>(response.status);
  entry.response_bytes = bytes;
  entry.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  entry.user_agent = msg[http::field::user_agent];
  state_.options.access_log(entry);
}

Task<void> Session::run() {
  for (;;) {
    ReadOutcome outcome = co_await read_header();
    if (outcome == ReadOutcome::kClosed) break;
    if (outcome == ReadOutcome::kTooLarge) {
      co_await reply_and_close(http::status::request_header_fields_too_large);
      break;
    }
    if (outcome == ReadOutcome::kBad) {
      co_await reply_and_close(http::status::bad_request);
      break;
    }
    disarm();
    auto started = state_.options.access_log ? std::chrono::steady_clock::now() : SteadyTime();
    Request request(*this);
    Response response;
    try {
      response = co_await state_.handler(request);
    } catch (const std::exception& e) {
      log::error("http", "handler failed on ", message().method_string(), " ", message().target(), ": ", e.what());
      response = Response(http::status::internal_server_error, "Internal Server Error\n");
    }
    state_.requests.fetch_add(1, std::memory_order_relaxed);
    // A body over the limit is answered 413 whatever the handler made of
    // it; a handler that wants its own 413 body returns status 413 itself.
    if (body_too_large_ && response.status != http::status::payload_too_large)
      response = Response(http::status::payload_too_large, "Payload Too Large\n");
    // The next request can only be read once this body is consumed.
    bool body_clean = parser_->is_done() || co_await drain_body();  // no coroutine for a bodiless request
    bool keep_alive = !response.close && body_clean && message().keep_alive() && !state_.draining;
    uint64_t bytes = response.file ? response.file->length : response.body.size();
    bool written = co_await write_response(response, keep_alive);
    log_access(response, bytes, started);
    if (!written || !keep_alive) break;
  }
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  socket_.close(ec);
}

// A session shares ownership of the server state: a handler may outlive
// shutdown's grace period (it is waiting on something other than its socket),
// and its frame may then only be destroyed with its io_context. The state
// holds no asio objects by then (shutdown releases them), so that is safe.
Task<void> run_session(std::shared_ptr<HttpServer::State> state, LoopState& loop, tcp::socket socket) {
  Session session(*state, loop, std::move(socket));
  co_await session.run();
}

// Once a minute at most: a full descriptor table lasts, and every retry fails.
void warn_accept_failure(const boost::system::error_code& ec) {
  static std::atomic<int64_t> last_warned{0};
  using std::chrono::steady_clock;
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now().time_since_epoch()).count();
  int64_t last = last_warned.load(std::memory_order_relaxed);
  if (last != 0 && now - last < 60) return;
  if (!last_warned.compare_exchange_strong(last, now)) return;
  log::warn("http", "accept failed (", ec.message(), "); new connections wait until descriptors free up");
}

// `background` was counted up by whoever spawned these two loops, and
// shutdown() waits for both to finish, so they may hold the state by pointer.
Task<void> accept_loop(HttpServer::State* state, LoopState& loop, tcp::acceptor& acceptor) {
  while (!state->draining) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (state->draining || ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {
      // Out of descriptors (EMFILE, ENFILE) or memory: back off a moment
      // rather than spin. The connections wait in the backlog and are taken
      // as descriptors free up; the acceptor never gives up.
      warn_accept_failure(ec);
      asio::steady_timer pause(*loop.context, std::chrono::milliseconds(10));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    asio::co_spawn(*loop.context, run_session(state->shared_from_this(), loop, std::move(socket)), asio::detached);
  }
  state->background.fetch_sub(1);
}

Task<void> sweep_loop(HttpServer::State* state, LoopState& loop) {
  while (!state->stopped) {
    loop.sweeper->expires_after(state->options.sweep_interval);
    co_await loop.sweeper->async_wait(kUseTuple);  // expired or cancelled: either way, look again
    if (state->stopped) break;
    auto now = std::chrono::steady_clock::now();
    bool draining = state->draining;
    // sweep() may close sockets but never erases from the set directly.
    for (Session* s : loop.sessions) s->sweep(now, draining);
  }
  state->background.fetch_sub(1);
}

}  // namespace detail

// ---- Request ----

http::verb Request::method() const { return session_.message().method(); }
std::string_view Request::method_string() const { return session_.message().method_string(); }
std::string_view Request::target() const { return session_.message().target(); }
std::string_view Request::path() const {
  auto t = target();
  return t.substr(0, t.find('?'));
}
std::string_view Request::query() const {
  auto t = target();
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}
unsigned Request::version() const { return session_.message().version(); }
const http::fields& Request::headers() const { return session_.message().base(); }
std::string_view Request::header(std::string_view name) const {
  auto it = session_.message().find(name);
  return it == session_.message().end() ? std::string_view() : std::string_view(it->value());
}
const tcp::endpoint& Request::remote() const { return session_.remote(); }
const tcp::endpoint& Request::local() const { return session_.local(); }
bool Request::has_body() const {
  const auto& p = session_.parser();
  return p.chunked() || (p.content_length() && *p.content_length() > 0);
}
std::optional<uint64_t> Request::content_length() const {
  auto length = session_.parser().content_length();
  return length ? std::optional<uint64_t>(*length) : std::nullopt;
}
void Request::set_body_limit(uint64_t bytes) { session_.body_limit_ = bytes; }
Task<Result<std::string>> Request::read_body() { return session_.read_body(); }
Task<Result<size_t>> Request::read_body_some(char* data, size_t size) { return session_.read_body_some(data, size); }

Response::Response(http::status s, std::string b, std::string_view content_type) : status(s), body(std::move(b)) {
  if (!content_type.empty()) headers.set(http::field::content_type, content_type);
}

// ---- HttpServer ----

HttpServer::HttpServer(EventLoops& loops, Handler handler, ServerOptions options)
    : loops_(loops), state_(std::make_shared<State>()) {
  state_->handler = std::move(handler);
  state_->options = std::move(options);
  state_->loops.resize(loops.size());
  for (size_t i = 0; i < loops.size(); ++i) {
    auto& loop = state_->loops[i];
    loop.context = &loops.at(i);
    loop.sweeper = std::make_unique<asio::steady_timer>(*loop.context);
    state_->background.fetch_add(1);
    asio::co_spawn(*loop.context, detail::sweep_loop(state_.get(), loop), asio::detached);
  }
}

HttpServer::~HttpServer() = default;

Result<tcp::endpoint> HttpServer::listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Error::invalid("InvalidAddress", "not an IP address: " + address);
  tcp::endpoint endpoint(addr, port);
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  for (size_t i = 0; i < state_->loops.size(); ++i) {
    auto acceptor = std::make_unique<tcp::acceptor>(*state_->loops[i].context);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        ec.assign(errno, boost::system::system_category());
    }
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(4096, ec);
    if (ec) return Error::unavailable("cannot listen on " + detail::endpoint_text(endpoint) + ": " + ec.message());
    // Port 0 on the first acceptor picks the port the others then share.
    if (i == 0) endpoint = acceptor->local_endpoint();
    acceptors.push_back(std::move(acceptor));
  }
  for (size_t i = 0; i < acceptors.size(); ++i) {
    auto& loop = state_->loops[i];
    // The acceptor joins its loop on that loop's thread.
    std::shared_ptr<tcp::acceptor> acceptor = std::move(acceptors[i]);
    state_->background.fetch_add(1);
    asio::post(*loop.context, [state = state_.get(), &loop, acceptor] {
      loop.acceptors.push_back(acceptor);
      asio::co_spawn(*loop.context, detail::accept_loop(state, loop, *acceptor), asio::detached);
    });
  }
  return endpoint;
}

namespace {

// Runs fn(loop) on every loop's own thread and waits until all have run, so
// nothing posted by shutdown outlives it (a handler still queued when the
// loops stop would hold the server's state into io_context destruction).
template <class Fn>
Task<void> on_each_loop(HttpServer::State& state, asio::steady_timer& wait, Fn fn) {
  auto done = std::make_shared<std::atomic<size_t>>(0);
  for (auto& loop : state.loops)
    asio::post(*loop.context, [done, &loop, fn] {
      fn(loop);
      done->fetch_add(1);
    });
  while (done->load() < state.loops.size()) {
    wait.expires_after(std::chrono::milliseconds(1));
    co_await wait.async_wait(kUseTuple);
  }
}

}  // namespace

Task<void> HttpServer::async_shutdown(std::chrono::milliseconds grace) {
  auto state = state_;
  if (state->stopped) co_return;
  state->draining = true;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer wait(executor);
  co_await on_each_loop(*state, wait, [](detail::LoopState& loop) {
    for (auto& a : loop.acceptors) {
      boost::system::error_code ec;
      a->close(ec);
    }
    for (auto* s : loop.sessions) s->sweep(std::chrono::steady_clock::now(), true);
  });
  auto give_up = std::chrono::steady_clock::now() + grace;
  while (state->connections.load() > 0 && std::chrono::steady_clock::now() < give_up) {
    wait.expires_after(std::chrono::milliseconds(10));
    co_await wait.async_wait(kUseTuple);
  }
  co_await on_each_loop(*state, wait, [](detail::LoopState& loop) {
    for (auto* s : loop.sessions) s->force_close();
  });
  auto hard_stop = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (state->connections.load() > 0 && std::chrono::steady_clock::now() < hard_stop) {
    wait.expires_after(std::chrono::milliseconds(5));
    co_await wait.async_wait(kUseTuple);
  }
  state->stopped = true;
  co_await on_each_loop(*state, wait, [](detail::LoopState& loop) { loop.sweeper->cancel(); });
  while (state->background.load() > 0) {
    wait.expires_after(std::chrono::milliseconds(1));
    co_await wait.async_wait(kUseTuple);
  }
  co_await on_each_loop(*state, wait, [](detail::LoopState& loop) {
    loop.acceptors.clear();
    loop.sweeper.reset();
  });
}

void HttpServer::shutdown(std::chrono::milliseconds grace) {
  std::promise<void> done;
  asio::co_spawn(loops_.at(0), async_shutdown(grace), [&done](std::exception_ptr) { done.set_value(); });
  done.get_future().wait();
}

size_t HttpServer::open_connections() const { return state_->connections.load(); }
uint64_t HttpServer::requests_served() const { return state_->requests.load(); }

AccessLog make_access_log_to_fd(int fd) {
  return [fd](const AccessLogEntry& e) {
    std::string line;
    line.reserve(128 + e.target.size());
    line += e.remote;
    line += " \"";
    line += e.method;
    line += ' ';
    line += e.target;
    line += "\" ";
    line += std::to_string(e.status);
    line += ' ';
    line += std::to_string(e.response_bytes);
    char secs[32];
    std::snprintf(secs, sizeof secs, " %.6f \"", e.duration.count() / 1e6);
    line += secs;
    line += e.user_agent;
    line += "\"\n";
    [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
  };
}

}  // namespace berth::net
