#include "elb/dataplane/proxy.h"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "core/log.h"
#include "core/time_format.h"
#include "elb/dataplane/http_heads.h"
#include "elb/dataplane/metrics.h"
#include "elb/dataplane/responses.h"

namespace berth::elb::dp {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
template <class T>
using Task = asio::awaitable<T>;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr SteadyTime kNever = SteadyTime::max();
constexpr auto kSweepInterval = std::chrono::milliseconds(50);
constexpr size_t kReadSize = 16 * 1024;
// The read an idle client connection waits with: a short request fits.
constexpr size_t kIdleReadSize = 512;
// Bodies up to this size are held whole before they are sent on: a request
// body so held can be sent again to another target, and a response body so
// held still lets the load balancer answer 502/504 itself when its target
// fails mid-body. Larger bodies stream through.
constexpr size_t kHeldBody = 64 * 1024;
constexpr uint32_t kResponseHeaderLimit = 32 * 1024;  // ALB: response headers over 32 K -> 502

// One socket's deadline. The loop's sweeper closes the socket once it has
// passed, which ends whatever operation waits on it; `fired` tells a
// timeout from other errors. Arming is a store: no timer per operation.
struct Deadline {
  SteadyTime at = kNever;
  tcp::socket* socket = nullptr;
  bool fired = false;
  Deadline* prev = nullptr;
  Deadline* next = nullptr;
};

// The deadlines of one loop (an intrusive list: adding and removing are
// O(1) and allocate nothing) and the loop's coarse clock.
class DeadlineList {
 public:
  DeadlineList() { head_.prev = head_.next = &head_; }
  DeadlineList(const DeadlineList&) = delete;
  DeadlineList& operator=(const DeadlineList&) = delete;
  void add(Deadline& d) {
    d.next = head_.next;
    d.prev = &head_;
    head_.next->prev = &d;
    head_.next = &d;
  }
  void remove(Deadline& d) {
    d.prev->next = d.next;
    d.next->prev = d.prev;
  }
  void sweep(SteadyTime now) {
    now_ = now;
    for (Deadline* d = head_.next; d != &head_; d = d->next) {
      if (d->at > now || d->fired || !d->socket) continue;
      d->fired = true;
      boost::system::error_code ec;
      d->socket->close(ec);  // completions are posted, so the list is not touched from here
    }
  }
  SteadyTime now() const { return now_; }

 private:
  Deadline head_;
  SteadyTime now_ = std::chrono::steady_clock::now();
};

// A socket's deadline, registered with its loop for as long as this lives.
class Watch {
 public:
  Watch(DeadlineList& list, tcp::socket& socket) : list_(list) {
    d_.socket = &socket;
    list_.add(d_);
  }
  ~Watch() { list_.remove(d_); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  void arm(std::chrono::milliseconds after) { d_.at = list_.now() + after; }
  void disarm() { d_.at = kNever; }
  bool fired() const { return d_.fired; }

 private:
  DeadlineList& list_;
  Deadline d_;
};

struct UpstreamConn {
  explicit UpstreamConn(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  beast::flat_buffer buffer;
};

// Idle keep-alive connections to targets, per loop, by registration key.
class UpstreamPool {
 public:
  std::unique_ptr<UpstreamConn> take(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    return conn;
  }
  void put(const std::string& key, std::unique_ptr<UpstreamConn> conn, size_t max_idle) {
    auto& v = idle_[key];
    if (v.size() < max_idle) v.push_back(std::move(conn));
  }
  void clear() { idle_.clear(); }

 private:
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConn>>> idle_;
};

struct LoopSlot {
  asio::io_context* io = nullptr;
  std::map<uint16_t, std::shared_ptr<tcp::acceptor>> acceptors;  // this loop's, touched only on it
  UpstreamPool pool;
  std::shared_ptr<const Snapshot> cached;
  uint64_t cached_generation = 0;
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_ptr<DeadlineList> deadlines = std::make_unique<DeadlineList>();
  std::unique_ptr<asio::steady_timer> sweeper;
  std::unique_ptr<std::atomic<int>> connections = std::make_unique<std::atomic<int>>(0);  // client connections served here
  // X-Amzn-Trace-Id's epoch field, formatted once a second.
  int64_t trace_second = -1;
  char trace_epoch[9] = {};
};

ec2::IpAddress to_ip(const asio::ip::address& a) {
  if (a.is_v4()) return ec2::IpAddress::v4(a.to_v4().to_uint());
  return ec2::IpAddress::from_v6_bytes(a.to_v6().to_bytes());
}

}  // namespace

struct Proxy::State : std::enable_shared_from_this<Proxy::State> {
  ProxyOptions options;
  SecurityGroupSource groups;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot{std::make_shared<const Snapshot>()};
  std::atomic<uint64_t> generation{0};
  std::vector<LoopSlot> loops;
  std::atomic<bool> stopped{false};
  mutable std::mutex ports_mutex;  // control plane only: which ports are open
  std::set<uint16_t> ports;
  std::unique_ptr<Metrics> metrics;  // per-loop cells, summed by metrics_text()

  // This loop's own copy of the latest snapshot (DESIGN.md, notes on speed):
  // its reference count and round-robin positions are touched by this loop
  // only, so requests on different loops share no cache line.
  const std::shared_ptr<const Snapshot>& current(LoopSlot& slot) {
    uint64_t g = generation.load(std::memory_order_acquire);
    if (g != slot.cached_generation || !slot.cached) {
      auto copy = std::make_shared<Snapshot>(*snapshot.load(std::memory_order_acquire));
      for (auto& group : copy->groups) group.next = std::make_shared<std::atomic<uint32_t>>(0);
      slot.cached = std::move(copy);
      slot.cached_generation = g;
    }
    return slot.cached;
  }
};

bool admitted(const LbRoute& lb, const ec2::IpAddress& source, uint16_t port, const ec2::SecurityGroupTable& table) {
  ec2::Connection c;
  c.source = source;
  c.destination = source;  // the listener's own address does not take part in ingress rules
  c.destination_groups = lb.security_groups;
  c.protocol = ec2::IpProtocol::tcp();
  c.port = port;
  return ec2::connection_allowed(c, table);
}

namespace {

using State = Proxy::State;

void append_number(std::string& out, uint64_t n, int base = 10) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, base);
  out.append(digits, end);
}

// X-Forwarded-For (append), -Proto, -Port and X-Amzn-Trace-Id as ALB adds
// them (§3.6), then the end of the head.
void finish_request_head(std::string& head, const RequestParser::Facts& facts, std::string_view client_ip,
                         uint16_t port, LoopSlot& slot) {
  head += "X-Forwarded-For: ";
  if (!facts.forwarded_for.empty()) {
    head += facts.forwarded_for;
    head += ", ";
  }
  head += client_ip;
  head += "\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: ";
  append_number(head, port);
  int64_t second = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (second != slot.trace_second) {
    slot.trace_second = second;
    std::snprintf(slot.trace_epoch, sizeof slot.trace_epoch, "%08llx", static_cast<unsigned long long>(second));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  char id[2 + 8 + 1 + 24];
  std::memcpy(id, "1-", 2);
  std::memcpy(id + 2, slot.trace_epoch, 8);
  id[10] = '-';
  uint64_t bits = 0;
  for (int i = 0; i < 24; ++i) {
    if (i % 16 == 0) bits = slot.rng();
    id[11 + i] = kHex[bits & 15];
    bits >>= 4;
  }
  std::string_view trace_id(id, sizeof id);
  std::string_view given = facts.trace_id;
  head += "\r\nX-Amzn-Trace-Id: ";
  if (given.empty()) {
    head += "Root=";
    head += trace_id;
  } else if (given.find("Root=") != std::string_view::npos) {
    head += "Self=";
    head += trace_id;
    head += ';';
    head += given;
  } else {
    head += "Root=";
    head += trace_id;
    head += ';';
    head += given;
  }
  head += "\r\n\r\n";
}

struct Outstanding {
  explicit Outstanding(std::atomic<int32_t>& c) : counter(c) { counter.fetch_add(1, std::memory_order_relaxed); }
  ~Outstanding() { counter.fetch_sub(1, std::memory_order_relaxed); }
  std::atomic<int32_t>& counter;
};

// Feeds the buffered bytes to a parser. need_more is no error here.
template <class Parser>
beast::error_code feed(Parser& parser, beast::flat_buffer& buffer) {
  beast::error_code ec;
  while (buffer.size() > 0 && !parser.is_done()) {
    size_t n = parser.put(buffer.data(), ec);
    buffer.consume(n);
    if (ec == beast::http::error::need_more) return {};
    if (ec || n == 0) return ec;
  }
  return ec;
}

// What a client connection reads at once: small until its buffer has grown
// (a long header, a body), so 10,000 idle connections cost little memory.
size_t client_read_size(const beast::flat_buffer& buffer) {
  return std::clamp<size_t>(buffer.capacity() - buffer.size(), 4096, kReadSize);
}

// Reads once from the socket and feeds the parser. The end of the stream
// completes a message delimited by it; otherwise it is end_of_stream
// (nothing of this message came) or partial_message.
template <class Parser>
Task<beast::error_code> pump(tcp::socket& socket, beast::flat_buffer& buffer, Parser& parser,
                             size_t read_size = kReadSize) {
  auto [ec, n] = co_await socket.async_read_some(buffer.prepare(read_size), kUseTuple);
  if (ec) {
    if (ec != asio::error::eof) co_return ec;
    if (!parser.got_some()) co_return beast::http::error::end_of_stream;
    beast::error_code eof;
    parser.put_eof(eof);
    co_return eof;
  }
  buffer.commit(n);
  co_return feed(parser, buffer);
}

// Writes without suspending when the socket takes everything at once (the
// usual case: a non-blocking send), else the rest asynchronously. A write
// that completes at once would otherwise still wait its turn behind every
// other ready handler of the loop, which shows in tail latency under load.
template <class Buffers>
Task<boost::system::error_code> send_all(tcp::socket& socket, Buffers buffers) {
  boost::system::error_code ec;
  size_t total = asio::buffer_size(buffers);
  size_t n = socket.write_some(buffers, ec);  // the socket is non-blocking: would_block when full
  if (!ec && n == total) co_return ec;
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  if (ec) n = 0;
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(n);
  auto [wec, wn] = co_await asio::async_write(socket, rest, kUseTuple);
  co_return wec;
}

// `bytes` by value: the coroutine frame owns them (no temporary of the caller's to outlive).
Task<bool> write_raw(tcp::socket& socket, Watch& watch, std::string bytes) {
  watch.arm(std::chrono::seconds(60));
  auto ec = co_await send_all(socket, asio::buffer(bytes));
  watch.disarm();
  co_return !ec;
}

// A client connection's buffers, reused by every request on it.
struct ClientConn {
  explicit ClientConn(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  beast::flat_buffer in;
  Forwarded request;
  RequestParser::Facts facts;
  Forwarded response;
  // Kept here rather than in forward()'s coroutine frame, which it pushed
  // over the 1020 bytes Asio's per-thread frame cache recycles.
  std::optional<ResponseParser> response_parser;
  std::string extra;         // response fields the load balancer adds
  std::string chunk_prefix;  // a re-chunked body's size line
  std::vector<std::pair<std::string_view, std::string_view>> header_views;
};

// Connections to an instance target on its public address carry the load
// balancer's groups: the target's ingress (e.g. a --source-group rule) must admit them.
bool reaches(const TargetRoute& target, const LbRoute& lb, const ec2::SecurityGroupTable& table) {
  if (target.groups.empty()) return true;
  ec2::Connection c;
  c.source_groups = lb.security_groups;
  c.destination = ec2::IpAddress::parse(target.address).value_or(ec2::IpAddress());
  c.destination_groups = target.groups;
  c.port = target.port;
  return ec2::flow_allowed(c, table);
}

enum class Opened { kConnected, kRefused, kBlocked, kTimeout };

// A new connection to a target: through the private connector when the
// target has a private address published there, else on its address.
Task<Opened> open_upstream(State& st, LoopSlot& slot, const LbRoute& lb, const ec2::SecurityGroupTable& table,
                           const TargetRoute& target, UpstreamConn& conn) {
  tcp::endpoint endpoint;
  bool routed = false;
  boost::system::error_code ec;
  if (!target.private_address.empty() && st.options.private_connector) {
    PrivateRoute route = st.options.private_connector(target.private_address, target.port, lb.private_address,
                                                      lb.security_groups);
    if (route.status == PrivateRoute::Status::kDenied) co_return Opened::kBlocked;
    if (route.status == PrivateRoute::Status::kOpened) {
      conn.socket.assign(tcp::v4(), route.fd, ec);
      if (ec) {
        ::close(route.fd);
        co_return Opened::kRefused;
      }
      endpoint = tcp::endpoint(asio::ip::address_v4::loopback(), route.port);
      routed = true;
    }
  }
  if (!routed) {
    if (!reaches(target, lb, table)) co_return Opened::kBlocked;
    auto address = asio::ip::make_address(target.address, ec);
    // Only this host's addresses are dialled directly: a VPC address is
    // reached through its private route or not at all, never on whatever
    // network the host happens to be on.
    if (ec || !address.is_loopback()) co_return Opened::kRefused;
    endpoint = tcp::endpoint(address, target.port);
  }
  Watch watch(*slot.deadlines, conn.socket);
  watch.arm(st.options.connect_timeout);
  auto [cec] = co_await conn.socket.async_connect(endpoint, kUseTuple);
  if (watch.fired()) co_return Opened::kTimeout;
  if (cec) co_return Opened::kRefused;
  conn.socket.set_option(tcp::no_delay(true), ec);
  conn.socket.non_blocking(true, ec);
  co_return Opened::kConnected;
}

void append_sticky_cookies(std::string& out, const GroupRoute& group, const TargetRoute& target) {
  std::string value = sticky_cookie_value(target);
  std::string expires =
      format_http_date(std::chrono::system_clock::now() + std::chrono::seconds(group.sticky_seconds));
  // AWSALBCORS is the same cookie for cross-origin requests (SameSite=None).
  out += "Set-Cookie: AWSALB=" + value + "; Expires=" + expires + "; Path=/\r\n";
  out += "Set-Cookie: AWSALBCORS=" + value + "; Expires=" + expires + "; Path=/; SameSite=None\r\n";
}

// The response bytes towards the client: the head (the first time) and the
// body held so far, chunk-framed when the load balancer chunks it. A plain
// function, not a coroutine lambda: no frame to allocate per request.
std::array<asio::const_buffer, 5> response_pieces(ClientConn& c, bool with_head, bool chunk_out) {
  c.chunk_prefix.clear();
  std::string_view suffix;
  if (chunk_out && !c.response.body.empty()) {
    append_number(c.chunk_prefix, c.response.body.size(), 16);
    c.chunk_prefix += "\r\n";
    suffix = "\r\n";
  }
  return {asio::buffer(with_head ? std::string_view(c.response.head) : std::string_view()),
          asio::buffer(with_head ? std::string_view(c.extra) : std::string_view()), asio::buffer(c.chunk_prefix),
          asio::buffer(c.response.body), asio::buffer(suffix)};
}

// Sends the response on to the client: the head and the body held so far,
// then the rest of a long body as the target sends it. The client
// connection's keep-alive, or nothing when a connection broke midway (the
// target's is then not reused). Its own coroutine so that forward()'s frame
// stays under the 1020 bytes Asio's per-thread frame cache recycles (that
// cache has 2 slots per thread, so frames of several sizes still churn:
// about 3 mallocs per request remain, see bench/lb).
Task<std::optional<bool>> relay_response(ClientConn& c, DeadlineList& deadlines, UpstreamConn& conn,
                                         Watch& upstream, std::chrono::seconds idle, bool chunk_out, bool keep) {
  ResponseParser& parser = *c.response_parser;
  Watch client(deadlines, c.socket);
  client.arm(idle);
  bool head_sent = !co_await send_all(c.socket, response_pieces(c, true, chunk_out));
  client.disarm();
  if (!head_sent) co_return std::nullopt;
  // The rest of a long body streams through.
  while (!parser.is_done()) {
    c.response.body.clear();
    upstream.arm(idle);
    beast::error_code ec = co_await pump(conn.socket, conn.buffer, parser);
    if (ec) co_return std::nullopt;  // the head is out: all that is left is to end the connection
    if (c.response.body.empty()) continue;
    client.arm(idle);
    bool written = !co_await send_all(c.socket, response_pieces(c, false, chunk_out));
    client.disarm();
    if (!written) co_return std::nullopt;
  }
  if (chunk_out) {
    client.arm(idle);
    auto e = co_await send_all(c.socket, asio::buffer(std::string_view("0\r\n\r\n")));
    if (e) keep = false;
  }
  co_return keep;
}

struct Forwarding {
  unsigned alb_status = 0;     // non-zero: nothing was sent; answer with ALB's own response
  unsigned target_status = 0;  // the target's status when its response was sent on
  bool keep_client = false;    // the client connection may serve another request
};

// RFC 9110 9.2.2: requests a proxy may send again.
bool idempotent(beast::http::verb m) {
  using v = beast::http::verb;
  return m == v::get || m == v::head || m == v::options || m == v::trace || m == v::put || m == v::delete_;
}

struct RequestContext {
  ClientConn& client;
  RequestParser& parser;
  bool held = false;  // the whole request body is in client.request.body
  bool keep = false;  // the client asked for keep-alive
  bool head = false;  // HEAD: the response has no body
  std::chrono::seconds idle{60};
};

Task<Forwarding> forward(State& st, LoopSlot& slot, LoopMetrics& metrics, const LbRoute& lb,
                         const ec2::SecurityGroupTable& table, const GroupRoute& group, RequestContext& rc) {
  Forwarding out;
  ClientConn& c = rc.client;
  bool blocked = false;
  long tried = -1;
  auto sent = std::chrono::steady_clock::now();
  auto report = [&](unsigned alb_status, unsigned target_status) {
    metrics.forwarded(lb.arn, group.arn, alb_status, target_status, std::chrono::steady_clock::now() - sent);
  };
  auto fail = [&](unsigned status) {
    out.alb_status = status;
    report(status, 0);
    return out;
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::optional<size_t> index;
    if (group.sticky)
      for (const auto& f : c.facts.fields)
        if (!index && beast::iequals(rc.parser.name(f), "Cookie"))
          index = sticky_target(group, rc.parser.value(f), tried);
    if (!index) index = pick_target(group, tried, slot.rng(), slot.deadlines->now());
    if (!index) co_return fail(blocked ? 504 : attempt == 0 ? 503 : 502);
    const TargetRoute& target = group.targets[*index];
    // In flight from here until this attempt ends (its response sent on, or
    // another target tried): least outstanding requests picks by it, and ECS
    // reads it to end a deregistered target's draining early.
    Outstanding outstanding(*target.outstanding);
    bool next_target = false;
    for (;;) {
      // A streamed body cannot be sent twice: it gets a fresh connection,
      // never one the target may have closed meanwhile.
      std::unique_ptr<UpstreamConn> conn = rc.held ? slot.pool.take(target.key) : nullptr;
      bool fresh = !conn;
      if (fresh) {
        conn = std::make_unique<UpstreamConn>(*slot.io);
        Opened opened = co_await open_upstream(st, slot, lb, table, target, *conn);
        if (opened == Opened::kTimeout) co_return fail(504);
        // On AWS a dropped SYN times out (504); a refusal is a 502. Either
        // way another target is tried first.
        if (opened == Opened::kBlocked) blocked = true;
        if (opened != Opened::kConnected) {
          next_target = true;  // nothing was sent yet, not even of a streamed body
          break;
        }
      }
      Watch upstream(*slot.deadlines, conn->socket);
      upstream.arm(rc.idle);
      std::array<asio::const_buffer, 2> request{asio::buffer(c.request.head), asio::buffer(c.request.body)};
      auto wec = co_await send_all(conn->socket, request);
      if (wec) {
        if (upstream.fired()) co_return fail(504);
        if (!fresh) continue;  // a pooled connection the target had closed
        co_return fail(502);
      }
      // The rest of a streamed body, piece by piece as the client sends it.
      if (!rc.held) {
        Watch client(*slot.deadlines, c.socket);
        while (!rc.parser.is_done()) {
          c.request.body.clear();
          client.arm(rc.idle);
          beast::error_code ec = co_await pump(c.socket, c.in, rc.parser, client_read_size(c.in));
          if (ec) {
            // The client went away or sent a broken body: nothing to answer.
            out.keep_client = false;
            co_return out;
          }
          if (c.request.body.empty()) continue;
          upstream.arm(rc.idle);
          auto bec = co_await send_all(conn->socket, asio::buffer(c.request.body));
          if (bec) co_return fail(upstream.fired() ? 504 : 502);
        }
      }

      // The response head; interim 1xx answers (103 Early Hints, ...) are not passed on.
      Forwarded& r = c.response;
      std::optional<ResponseParser>& parser = c.response_parser;
      beast::error_code ec;
      do {
        r.clear();
        parser.emplace(r);
        parser->header_limit(kResponseHeaderLimit);
        parser->body_limit(boost::none);
        parser->eager(true);
        if (rc.head) parser->skip(true);
        upstream.arm(rc.idle);
        ec = feed(*parser, conn->buffer);
        while (!ec && !parser->is_header_done()) ec = co_await pump(conn->socket, conn->buffer, *parser);
      } while (!ec && parser->status() >= 100 && parser->status() < 200 && parser->status() != 101);
      if (ec) {
        if (upstream.fired()) co_return fail(504);
        bool nothing = !parser->got_some();
        if (nothing && (ec == beast::http::error::end_of_stream || ec == asio::error::connection_reset ||
                        ec == asio::error::broken_pipe)) {
          if (!fresh) continue;  // a pooled connection the target had closed
          // A new connection closed without a byte of answer: the target died
          // with the request in hand. A held, idempotent request goes to
          // another target once, as a refused one does.
          if (rc.held && idempotent(c.facts.method)) {
            next_target = true;
            break;
          }
        }
        co_return fail(502);
      }
      unsigned status = parser->status();
      if (status == 101) co_return fail(502);  // no upgrades: Upgrade is not forwarded
      // Hold a small body whole before answering.
      while (!ec && !parser->is_done() && r.body.size() < kHeldBody)
        ec = co_await pump(conn->socket, conn->buffer, *parser);
      if (ec) co_return fail(upstream.fired() || ec == beast::http::error::partial_message ? 504 : 502);
      report(0, status);
      out.target_status = status;

      // The head towards the client: the target's, plus what the load balancer adds.
      bool done = parser->is_done();
      bool keep = rc.keep && !st.stopped && rc.parser.is_done();
      bool by_close = !rc.head && !parser->chunked() && !parser->content_length() && status >= 200 &&
                      status != 204 && status != 304;
      bool chunk_out = false;
      std::string& extra = c.extra;
      extra.clear();
      if (by_close) {
        // A target body ended by close (HTTP/1.0 style) gets a length, or
        // is chunked once it is too long to hold, so the client connection
        // can stay alive.
        if (done) {
          extra += "Content-Length: ";
          append_number(extra, r.body.size());
          extra += "\r\n";
        } else if (c.facts.version >= 11) {
          extra += "Transfer-Encoding: chunked\r\n";
          chunk_out = true;
        } else {
          keep = false;
        }
      }
      if (group.sticky) append_sticky_cookies(extra, group, target);
      if (!keep) extra += "Connection: close\r\n";
      else if (c.facts.version < 11) extra += "Connection: keep-alive\r\n";
      extra += "\r\n";

      std::optional<bool> relayed =
          co_await relay_response(c, *slot.deadlines, *conn, upstream, rc.idle, chunk_out, keep);
      if (!relayed) {
        out.keep_client = false;
        co_return out;
      }
      upstream.disarm();
      if (parser->keep_alive() && conn->buffer.size() == 0 && !st.stopped)
        slot.pool.put(target.key, std::move(conn), st.options.max_idle_per_target);
      out.keep_client = *relayed;
      co_return out;
    }
    if (next_target) tried = static_cast<long>(*index);
  }
  co_return fail(blocked ? 504 : 502);
}

std::string substitute(std::string_view pattern, std::string_view protocol, std::string_view host,
                       std::string_view port, std::string_view path, std::string_view query) {
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    auto rest = pattern.substr(i);
    auto take = [&](std::string_view token, std::string_view value) {
      if (rest.substr(0, token.size()) != token) return false;
      out += value;
      i += token.size();
      return true;
    };
    if (take("#{protocol}", protocol) || take("#{host}", host) || take("#{port}", port) || take("#{path}", path) ||
        take("#{query}", query))
      continue;
    out += pattern[i++];
  }
  return out;
}

std::string redirect_location(const RouteAction& a, std::string_view host_header, std::string_view target,
                              uint16_t listener_port) {
  std::string_view host = host_header.substr(0, host_header.find(':'));
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  std::string port = std::to_string(listener_port);
  std::string protocol = substitute(a.redirect_protocol, "http", host, port, path, query);
  std::string lower_protocol = protocol;
  for (auto& c : lower_protocol) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string new_host = substitute(a.redirect_host, "http", host, port, path, query);
  std::string new_port = substitute(a.redirect_port, "http", host, port, path, query);
  std::string new_path = substitute(a.redirect_path, "http", host, port, path, query);
  std::string new_query = substitute(a.redirect_query, "http", host, port, path, query);
  std::string location = lower_protocol + "://" + new_host;
  bool default_port = (lower_protocol == "http" && new_port == "80") || (lower_protocol == "https" && new_port == "443");
  if (!default_port) location += ":" + new_port;
  location += new_path;
  if (!new_query.empty()) location += "?" + new_query;
  return location;
}

// Before the load balancer answers a request itself on a kept connection,
// the rest of its body is read and dropped; a long one ends the connection instead.
Task<bool> discard_body(ClientConn& c, RequestParser& parser, Watch& watch, std::chrono::seconds idle) {
  if (parser.is_done()) co_return true;
  if (parser.chunked() || !parser.content_length_remaining() || *parser.content_length_remaining() > kHeldBody)
    co_return false;
  beast::error_code ec;
  while (!ec && !parser.is_done()) {
    c.request.body.clear();
    watch.arm(idle);
    ec = co_await pump(c.socket, c.in, parser, client_read_size(c.in));
  }
  watch.disarm();
  co_return !ec;
}

// Counted up by the accept loop that chose this loop for the connection.
struct LoopConnection {
  explicit LoopConnection(std::atomic<int>& n) : count(n) {}
  ~LoopConnection() { count.fetch_sub(1, std::memory_order_relaxed); }
  std::atomic<int>& count;
};

Task<void> serve_client(std::shared_ptr<State> st, size_t loop_index, tcp::socket socket, uint16_t port) {
  LoopSlot& slot = st->loops[loop_index];
  LoopConnection on_loop(*slot.connections);
  LoopMetrics& metrics = st->metrics->loop(loop_index);
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);  // send_all writes directly first
  ec2::IpAddress source = to_ip(remote.address());
  std::string client_ip = remote.address().to_string();
  // Security groups are stateful: the table at accept time decides for the
  // whole connection (a rule revoked later drops new connections only).
  auto table = st->groups ? st->groups() : ec2::SecurityGroupTable::empty();
  CountedConnection counted;
  // The load balancer last admitted on this connection: the next request to
  // it (the usual case) is not judged again.
  std::string admitted_arn;
  {
    const Snapshot& snap = *st->current(slot);
    auto it = snap.ports.find(port);
    if (it == snap.ports.end()) co_return;
    auto first = std::find_if(it->second.load_balancers.begin(), it->second.load_balancers.end(),
                              [&](const LbRoute& lb) { return admitted(lb, source, port, *table); });
    if (first == it->second.load_balancers.end()) co_return;  // a security-group drop: close without an answer
    counted = metrics.connection_opened(first->arn);
    admitted_arn = first->arn;
  }
  ClientConn c(std::move(socket));
  Watch watch(*slot.deadlines, c.socket);
  for (;;) {
    // The snapshot may change between requests; hold this one for the request.
    std::shared_ptr<const Snapshot> hold = st->current(slot);
    const Snapshot& snap = *hold;
    auto port_it = snap.ports.find(port);
    if (port_it == snap.ports.end() || st->stopped) break;
    auto idle = std::chrono::seconds(
        port_it->second.load_balancers.empty() ? 60 : port_it->second.load_balancers.front().idle_timeout_seconds);

    // The request head (and as much of the body as came with it).
    c.request.clear();
    c.facts.clear();
    RequestParser parser(c.request, c.facts);
    parser.header_limit(static_cast<std::uint32_t>(st->options.max_header_bytes));
    parser.body_limit(st->options.max_body_bytes);
    parser.eager(true);
    watch.arm(idle);
    // Nothing here yet: wait with a small read, so an idle connection costs
    // little more than its socket (10,000 of them, a few KiB each). A read,
    // not FIONREAD and a readiness wait: asio's async_wait re-arms epoll
    // (epoll_ctl) every time. The sweeper's close ends the read.
    if (c.in.size() == 0 && c.in.capacity() > kIdleReadSize) c.in.shrink_to_fit();
    beast::error_code rec = feed(parser, c.in);
    while (!rec && !parser.is_header_done())
      rec = co_await pump(c.socket, c.in, parser, c.in.size() == 0 ? kIdleReadSize : client_read_size(c.in));
    watch.disarm();
    if (rec) {
      if (watch.fired() || rec == beast::http::error::end_of_stream || rec == asio::error::eof ||
          rec == asio::error::connection_reset || rec == asio::error::operation_aborted ||
          rec == asio::error::bad_descriptor)
        break;
      unsigned status = rec == beast::http::error::body_limit ? 413 : 400;
      counted.elb_response(status);
      co_await write_raw(c.socket, watch, alb_error_response(status, false));
      break;
    }
    RequestView view;
    view.method = parser.method();
    std::string_view target = parser.target();
    auto q = target.find('?');
    view.path = target.substr(0, q);
    view.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    view.host = parser.find("Host");
    view.source = source;
    auto& header_views = c.header_views;
    header_views.clear();
    for (const auto& f : c.facts.fields) header_views.emplace_back(parser.name(f), parser.value(f));
    if (!c.facts.forwarded_for.empty()) header_views.emplace_back("X-Forwarded-For", c.facts.forwarded_for);
    if (!c.facts.trace_id.empty()) header_views.emplace_back("X-Amzn-Trace-Id", c.facts.trace_id);
    view.headers = std::move(header_views);
    const LbRoute* lb = pick_load_balancer(port_it->second, view.host);
    if (!lb) break;
    if (lb->arn != admitted_arn) {
      if (!admitted(*lb, source, port, *table)) break;  // drop
      admitted_arn = lb->arn;
    }
    bool keep = parser.keep_alive() && !st->stopped;
    if (c.facts.method == beast::http::verb::trace) {
      metrics.elb_response(lb->arn, 405);
      bool k = keep;
      if (k) k = co_await discard_body(c, parser, watch, idle);
      if (!co_await write_raw(c.socket, watch, alb_error_response(405, k)) || !k) break;
      continue;
    }
    if (std::count(c.facts.forwarded_for.begin(), c.facts.forwarded_for.end(), ',') >= 30) {
      metrics.elb_response(lb->arn, 463);
      co_await write_raw(c.socket, watch, alb_error_response(463, false));
      break;
    }
    const RouteRule* rule = match_rule(*lb, view);
    header_views = std::move(view.headers);
    if (!rule || (rule->action.type == RouteAction::Type::kForward && rule->action.groups.empty())) {
      metrics.elb_response(lb->arn, 503);
      bool k = keep;
      if (k) k = co_await discard_body(c, parser, watch, idle);
      if (!co_await write_raw(c.socket, watch, alb_error_response(503, k)) || !k) break;
      continue;
    }
    const RouteAction& action = rule->action;
    if (action.type == RouteAction::Type::kFixedResponse) {
      metrics.fixed_response(lb->arn, action.fixed_status);
      bool k = keep;
      if (k) k = co_await discard_body(c, parser, watch, idle);
      if (!co_await write_raw(c.socket, watch,
                              fixed_response(action.fixed_status, action.fixed_content_type, action.fixed_body, k)) ||
          !k)
        break;
      continue;
    }
    if (action.type == RouteAction::Type::kRedirect) {
      metrics.redirect(lb->arn, action.redirect_status);
      std::string location = redirect_location(action, view.host, target, port);
      bool k = keep;
      if (k) k = co_await discard_body(c, parser, watch, idle);
      if (!co_await write_raw(c.socket, watch, redirect_response(action.redirect_status, location, k)) || !k) break;
      continue;
    }

    // Forward.
    const GroupRoute& group = snap.groups[pick_group(action, slot.rng())];
    if (lb->drop_invalid_header_fields && !c.facts.invalid.empty()) parser.drop_invalid_fields();
    finish_request_head(c.request.head, c.facts, client_ip, port, slot);
    // The load balancer reads the body, so it says Continue itself.
    if (c.facts.expect_continue && !parser.is_done() && c.facts.version >= 11) {
      bool written = co_await write_raw(c.socket, watch, "HTTP/1.1 100 Continue\r\n\r\n");
      if (!written) break;
    }
    RequestContext rc{c, parser};
    rc.keep = keep;
    rc.head = c.facts.method == beast::http::verb::head;
    rc.idle = idle;
    // A short body is read whole, so it can go to another target on a retry.
    if (!parser.is_done() && !parser.chunked() && parser.content_length_remaining() &&
        *parser.content_length_remaining() <= kHeldBody) {
      beast::error_code bec;
      while (!bec && !parser.is_done()) {
        watch.arm(idle);
        bec = co_await pump(c.socket, c.in, parser, client_read_size(c.in));
      }
      watch.disarm();
      if (bec) {
        if (!watch.fired() && bec != beast::http::error::end_of_stream && bec != beast::http::error::partial_message &&
            bec != asio::error::connection_reset) {
          counted.elb_response(400);
          co_await write_raw(c.socket, watch, alb_error_response(400, false));
        }
        break;
      }
    }
    rc.held = parser.is_done();
    Forwarding result = co_await forward(*st, slot, metrics, *lb, *table, group, rc);
    if (result.alb_status) {
      bool k = keep && result.alb_status != 502;
      if (k) k = co_await discard_body(c, parser, watch, idle);
      if (!co_await write_raw(c.socket, watch, alb_error_response(result.alb_status, k)) || !k) break;
      continue;
    }
    if (!result.keep_client) break;
  }
  c.socket.shutdown(tcp::socket::shutdown_send, ec);
  c.socket.close(ec);
}

Task<void> accept_loop(std::shared_ptr<State> st, size_t loop_index, std::shared_ptr<tcp::acceptor> acceptor,
                       uint16_t port) {
  LoopSlot& slot = st->loops[loop_index];
  while (!st->stopped) {
    auto [ec, socket] = co_await acceptor->async_accept(kUseTuple);
    if (st->stopped || ec == asio::error::operation_aborted || !acceptor->is_open()) break;
    if (ec) {
      asio::steady_timer pause(*slot.io, std::chrono::milliseconds(10));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    // The connection goes to the loop serving the fewest (SO_REUSEPORT
    // spreads connections by hash, unevenly for a few dozen): one hop per
    // connection, none per request.
    size_t best = loop_index;
    for (size_t i = 0; i < st->loops.size(); ++i)
      if (st->loops[i].connections->load(std::memory_order_relaxed) <
          st->loops[best].connections->load(std::memory_order_relaxed))
        best = i;
    st->loops[best].connections->fetch_add(1, std::memory_order_relaxed);
    if (best == loop_index) {
      asio::co_spawn(*slot.io, serve_client(st, loop_index, std::move(socket), port), asio::detached);
      continue;
    }
    boost::system::error_code lec;
    auto protocol = socket.local_endpoint(lec).protocol();
    int fd = lec ? -1 : socket.release(lec);
    if (fd < 0) {
      st->loops[best].connections->fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    asio::post(*st->loops[best].io, [st, best, fd, protocol, port] {
      tcp::socket moved(*st->loops[best].io);
      boost::system::error_code aec;
      moved.assign(protocol, fd, aec);
      if (aec) {
        ::close(fd);
        st->loops[best].connections->fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      asio::co_spawn(*st->loops[best].io, serve_client(st, best, std::move(moved), port), asio::detached);
    });
  }
}

Task<void> sweep_loop(std::shared_ptr<State> st, size_t loop_index) {
  LoopSlot& slot = st->loops[loop_index];
  asio::steady_timer& timer = *slot.sweeper;
  while (!st->stopped) {
    timer.expires_after(kSweepInterval);
    auto [ec] = co_await timer.async_wait(kUseTuple);
    if (st->stopped || ec == asio::error::operation_aborted) break;
    slot.deadlines->sweep(std::chrono::steady_clock::now());
  }
}

}  // namespace

Proxy::Proxy(net::EventLoops& loops, ProxyOptions options, SecurityGroupSource groups)
    : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->groups = std::move(groups);
  state_->loops.resize(loops.size());
  for (size_t i = 0; i < loops.size(); ++i) {
    auto& slot = state_->loops[i];
    slot.io = &loops.at(i);
    slot.sweeper = std::make_unique<asio::steady_timer>(*slot.io);
    asio::co_spawn(*slot.io, sweep_loop(state_, i), asio::detached);
  }
  state_->metrics = std::make_unique<Metrics>(loops.size());
}

Proxy::~Proxy() = default;

void Proxy::publish(std::shared_ptr<const Snapshot> snapshot) {
  std::set<uint16_t> wanted;
  for (const auto& [port, route] : snapshot->ports) wanted.insert(port);
  state_->snapshot.store(std::move(snapshot), std::memory_order_release);
  state_->generation.fetch_add(1, std::memory_order_acq_rel);
  if (state_->stopped) return;
  std::lock_guard lock(state_->ports_mutex);
  for (uint16_t port : wanted) {
    if (state_->ports.count(port)) continue;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(state_->options.bind_address, ec);
    if (ec) {
      log::error("elb", "bad bind address ", state_->options.bind_address);
      return;
    }
    std::vector<std::shared_ptr<tcp::acceptor>> made;
    for (auto& slot : state_->loops) {
      auto acceptor = std::make_shared<tcp::acceptor>(*slot.io);
      tcp::endpoint ep(address, port);
      acceptor->open(ep.protocol(), ec);
      if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) acceptor->set_option(ReusePort(true), ec);
      if (!ec) acceptor->bind(ep, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        log::error("elb", "cannot listen on ", state_->options.bind_address, ":", port, ": ", ec.message());
        break;
      }
      made.push_back(std::move(acceptor));
    }
    if (made.size() != state_->loops.size()) {
      for (auto& a : made) a->close(ec);
      continue;
    }
    state_->ports.insert(port);
    log::info("elb", "listening on ", state_->options.bind_address, ":", port);
    for (size_t i = 0; i < made.size(); ++i) {
      auto& slot = state_->loops[i];
      asio::post(*slot.io, [st = state_, i, port, acceptor = made[i]] {
        st->loops[i].acceptors[port] = acceptor;
        asio::co_spawn(*st->loops[i].io, accept_loop(st, i, acceptor, port), asio::detached);
      });
    }
  }
  for (auto it = state_->ports.begin(); it != state_->ports.end();) {
    uint16_t port = *it;
    if (wanted.count(port)) {
      ++it;
      continue;
    }
    it = state_->ports.erase(it);
    log::info("elb", "closing listener port ", port);
    for (size_t i = 0; i < state_->loops.size(); ++i) {
      asio::post(*state_->loops[i].io, [st = state_, i, port] {
        auto& acceptors = st->loops[i].acceptors;
        auto a = acceptors.find(port);
        if (a == acceptors.end()) return;
        boost::system::error_code ec;
        a->second->close(ec);
        acceptors.erase(a);
      });
    }
  }
}

std::string Proxy::metrics_text() const { return state_->metrics->render(*state_->snapshot.load()); }
std::vector<LbTotals> Proxy::metric_totals() const { return state_->metrics->totals(*state_->snapshot.load()); }

std::vector<uint16_t> Proxy::listening_ports() const {
  std::lock_guard lock(state_->ports_mutex);
  return {state_->ports.begin(), state_->ports.end()};
}

void Proxy::stop() {
  if (state_->stopped.exchange(true)) return;
  std::lock_guard lock(state_->ports_mutex);
  state_->ports.clear();
  // The loops no longer run: their slots may be touched from here.
  for (auto& slot : state_->loops) {
    boost::system::error_code ec;
    for (auto& [port, acceptor] : slot.acceptors) acceptor->close(ec);
    slot.acceptors.clear();
    slot.pool.clear();
    slot.cached.reset();
    // Destroyed here, while its io_context's services still exist: the
    // sweeper's coroutine frame (and the state with it) may outlive them.
    slot.sweeper.reset();
  }
}

}  // namespace berth::elb::dp
