#include "elb/dataplane/proxy.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "core/log.h"
#include "elb/dataplane/responses.h"

namespace berth::elb::dp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
template <class T>
using Task = asio::awaitable<T>;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

namespace {

struct UpstreamConn {
  explicit UpstreamConn(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
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
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

std::string random_hex(std::mt19937_64& rng, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  uint64_t bits = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i % 16 == 0) bits = rng();
    out[i] = kHex[bits & 15];
    bits >>= 4;
  }
  return out;
}

// X-Forwarded-For (append), -Proto, -Port and X-Amzn-Trace-Id as ALB adds them (§3.6).
void add_forwarded_headers(Request& req, const std::string& client_ip, uint16_t port, LoopSlot& slot) {
  auto xff = req.find("X-Forwarded-For");
  if (xff == req.end()) {
    req.set("X-Forwarded-For", client_ip);
  } else {
    std::string v(xff->value());
    v += ", " + client_ip;
    req.set("X-Forwarded-For", v);
  }
  req.set("X-Forwarded-Proto", "http");
  req.set("X-Forwarded-Port", std::to_string(port));
  char epoch[9];
  std::snprintf(epoch, sizeof epoch, "%08llx",
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count()));
  std::string id = std::string("1-") + epoch + "-" + random_hex(slot.rng, 24);
  auto trace = req.find("X-Amzn-Trace-Id");
  if (trace == req.end()) {
    req.set("X-Amzn-Trace-Id", "Root=" + id);
  } else if (std::string_view(trace->value()).find("Root=") != std::string_view::npos) {
    req.set("X-Amzn-Trace-Id", "Self=" + id + ";" + std::string(trace->value()));
  } else {
    req.set("X-Amzn-Trace-Id", "Root=" + id + ";" + std::string(trace->value()));
  }
}

void strip_hop_by_hop(http::fields& f) {
  f.erase(http::field::connection);
  f.erase(http::field::keep_alive);
  f.erase(http::field::proxy_connection);
  f.erase(http::field::te);
  f.erase(http::field::upgrade);
}

struct Outstanding {
  explicit Outstanding(std::atomic<int32_t>& c) : counter(c) { counter.fetch_add(1, std::memory_order_relaxed); }
  ~Outstanding() { counter.fetch_sub(1, std::memory_order_relaxed); }
  std::atomic<int32_t>& counter;
};

enum class Exchange { kOk, kStale, kTimeout, kTruncated, kBad };

// Writes the request and reads the response on one upstream connection.
Task<Exchange> exchange(UpstreamConn& conn, Request& req, Response& res, bool head,
                        std::chrono::seconds timeout) {
  conn.stream.expires_after(timeout);
  auto [wec, wn] = co_await http::async_write(conn.stream, req, kUseTuple);
  if (wec) co_return wec == beast::error::timeout ? Exchange::kTimeout : Exchange::kStale;
  http::response_parser<http::string_body> parser;
  parser.header_limit(32 * 1024);  // ALB: response headers over 32 K -> 502
  parser.body_limit(boost::none);
  if (head) parser.skip(true);
  auto [rec, rn] = co_await http::async_read(conn.stream, conn.buffer, parser, kUseTuple);
  if (rec) {
    if (rec == beast::error::timeout) co_return Exchange::kTimeout;
    bool nothing = !parser.got_some();
    if (nothing && (rec == http::error::end_of_stream || rec == asio::error::connection_reset ||
                    rec == asio::error::eof || rec == asio::error::broken_pipe))
      co_return Exchange::kStale;
    if (parser.is_header_done() && rec == http::error::partial_message) co_return Exchange::kTruncated;
    co_return Exchange::kBad;
  }
  res = parser.release();
  co_return Exchange::kOk;
}

struct ForwardResult {
  unsigned alb_status = 0;  // non-zero: answer with ALB's own response
  Response response;
};

// Connections to an instance target carry the load balancer's groups: the
// target's ingress (e.g. a --source-group rule) must admit them.
bool reaches(const TargetRoute& target, const LbRoute& lb, const ec2::SecurityGroupTable& table) {
  if (target.groups.empty()) return true;
  ec2::Connection c;
  c.source_groups = lb.security_groups;
  c.destination = ec2::IpAddress::parse(target.address).value_or(ec2::IpAddress());
  c.destination_groups = target.groups;
  c.port = target.port;
  return ec2::flow_allowed(c, table);
}

Task<ForwardResult> forward(State& st, LoopSlot& slot, const LbRoute& lb, const ec2::SecurityGroupTable& table,
                            const GroupRoute& group, Request& req, uint32_t idle_seconds) {
  ForwardResult out;
  bool blocked = false;
  bool head = req.method() == http::verb::head;
  auto timeout = std::chrono::seconds(idle_seconds);
  long tried = -1;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto index = pick_target(group, tried, slot.rng());
    if (!index) {
      out.alb_status = blocked ? 504 : attempt == 0 ? 503 : 502;
      co_return out;
    }
    const TargetRoute& target = group.targets[*index];
    if (!reaches(target, lb, table)) {
      // On AWS the SYN is dropped and the connect times out (504); try another target first.
      blocked = true;
      tried = static_cast<long>(*index);
      continue;
    }
    // Only least-outstanding-requests reads the shared counter; others leave it alone.
    std::optional<Outstanding> outstanding;
    if (group.algorithm == Algorithm::kLeastOutstanding) outstanding.emplace(*target.outstanding);
    bool refused = false;
    for (;;) {
      auto conn = slot.pool.take(target.key);
      bool fresh = !conn;
      if (fresh) {
        boost::system::error_code aec;
        auto address = asio::ip::make_address(target.address, aec);
        if (aec) {
          refused = true;
          break;
        }
        conn = std::make_unique<UpstreamConn>(*slot.io);
        conn->stream.expires_after(st.options.connect_timeout);
        auto [cec] = co_await conn->stream.async_connect(tcp::endpoint(address, target.port), kUseTuple);
        if (cec == beast::error::timeout) {
          out.alb_status = 504;
          co_return out;
        }
        if (cec) {
          refused = true;
          break;
        }
        boost::system::error_code ignored;
        conn->stream.socket().set_option(tcp::no_delay(true), ignored);
      }
      Exchange e = co_await exchange(*conn, req, out.response, head, timeout);
      if (e == Exchange::kOk) {
        if (out.response.keep_alive() && !st.stopped)
          slot.pool.put(target.key, std::move(conn), st.options.max_idle_per_target);
        co_return out;
      }
      if (e == Exchange::kStale && !fresh) continue;  // a pooled connection the target had closed
      out.alb_status = (e == Exchange::kTimeout || e == Exchange::kTruncated) ? 504 : 502;
      co_return out;
    }
    if (refused) tried = static_cast<long>(*index);
  }
  out.alb_status = blocked ? 504 : 502;
  co_return out;
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

std::string redirect_location(const RouteAction& a, const Request& req, uint16_t listener_port) {
  std::string_view host_header = req[http::field::host];
  std::string_view host = host_header.substr(0, host_header.find(':'));
  std::string_view target = req.target();
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

Task<bool> write_raw(beast::tcp_stream& client, const std::string& bytes) {
  client.expires_after(std::chrono::seconds(60));
  auto [ec, n] = co_await asio::async_write(client, asio::buffer(bytes), kUseTuple);
  co_return !ec;
}

Task<void> serve_client(std::shared_ptr<State> st, size_t loop_index, tcp::socket socket, uint16_t port) {
  LoopSlot& slot = st->loops[loop_index];
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  socket.set_option(tcp::no_delay(true), ec);
  ec2::IpAddress source = to_ip(remote.address());
  std::string client_ip = remote.address().to_string();
  // Security groups are stateful: the table at accept time decides for the
  // whole connection (a rule revoked later drops new connections only).
  auto table = st->groups ? st->groups() : ec2::SecurityGroupTable::empty();
  {
    const Snapshot& snap = *st->current(slot);
    auto it = snap.ports.find(port);
    if (it == snap.ports.end()) co_return;
    bool any = std::any_of(it->second.load_balancers.begin(), it->second.load_balancers.end(),
                           [&](const LbRoute& lb) { return admitted(lb, source, port, *table); });
    if (!any) co_return;  // a security-group drop: close without an answer
  }
  beast::tcp_stream client(std::move(socket));
  beast::flat_buffer buffer;
  std::vector<std::pair<std::string_view, std::string_view>> header_views;
  for (;;) {
    // The snapshot may change between requests; hold this one for the request.
    std::shared_ptr<const Snapshot> hold = st->current(slot);
    const Snapshot& snap = *hold;
    auto port_it = snap.ports.find(port);
    if (port_it == snap.ports.end() || st->stopped) break;
    uint32_t idle = port_it->second.load_balancers.empty() ? 60 : port_it->second.load_balancers.front().idle_timeout_seconds;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(st->options.max_header_bytes));
    parser.body_limit(st->options.max_body_bytes);
    client.expires_after(std::chrono::seconds(idle));
    auto [rec, rn] = co_await http::async_read(client, buffer, parser, kUseTuple);
    if (rec) {
      if (rec == http::error::end_of_stream || rec == asio::error::eof || rec == asio::error::connection_reset ||
          rec == asio::error::operation_aborted || rec == beast::error::timeout)
        break;
      unsigned status = rec == http::error::body_limit ? 413 : 400;
      co_await write_raw(client, alb_error_response(status, false));
      break;
    }
    Request& req = parser.get();
    RequestView view;
    view.method = req.method_string();
    std::string_view target = req.target();
    auto q = target.find('?');
    view.path = target.substr(0, q);
    view.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    view.host = req[http::field::host];
    view.source = source;
    header_views.clear();
    for (const auto& f : req) header_views.emplace_back(f.name_string(), f.value());
    view.headers = std::move(header_views);
    const LbRoute* lb = pick_load_balancer(port_it->second, view.host);
    if (!lb) break;
    if (!admitted(*lb, source, port, *table)) break;  // drop
    bool keep = req.keep_alive() && !st->stopped;
    if (req.method() == http::verb::trace) {
      if (!co_await write_raw(client, alb_error_response(405, keep)) || !keep) break;
      continue;
    }
    if (auto xff = req.find("X-Forwarded-For"); xff != req.end()) {
      auto v = std::string_view(xff->value());
      if (std::count(v.begin(), v.end(), ',') >= 30) {
        if (!co_await write_raw(client, alb_error_response(463, false))) break;
        break;
      }
    }
    const RouteRule* rule = match_rule(*lb, view);
    header_views = std::move(view.headers);
    if (!rule) {
      if (!co_await write_raw(client, alb_error_response(503, keep)) || !keep) break;
      continue;
    }
    const RouteAction& action = rule->action;
    if (action.type == RouteAction::Type::kFixedResponse) {
      if (!co_await write_raw(client, fixed_response(action.fixed_status, action.fixed_content_type, action.fixed_body, keep)) || !keep)
        break;
      continue;
    }
    if (action.type == RouteAction::Type::kRedirect) {
      std::string location = redirect_location(action, req, port);
      if (!co_await write_raw(client, redirect_response(action.redirect_status, location, keep)) || !keep) break;
      continue;
    }
    if (action.groups.empty()) {
      if (!co_await write_raw(client, alb_error_response(503, keep)) || !keep) break;
      continue;
    }
    const GroupRoute& group = snap.groups[pick_group(action, slot.rng())];
    strip_hop_by_hop(req.base());
    req.version(11);
    req.keep_alive(true);
    add_forwarded_headers(req, client_ip, port, slot);
    ForwardResult result = co_await forward(*st, slot, *lb, *table, group, req, idle);
    if (result.alb_status) {
      bool k = keep && result.alb_status != 502;
      if (!co_await write_raw(client, alb_error_response(result.alb_status, k)) || !k) break;
      continue;
    }
    Response& res = result.response;
    unsigned code = res.result_int();
    // A target that ends its body by closing (HTTP/1.0 style) gets a length
    // here, so the client connection can stay alive.
    if (req.method() != http::verb::head && !res.chunked() && !res.has_content_length() && code >= 200 &&
        code != 204 && code != 304)
      res.content_length(res.body().size());
    strip_hop_by_hop(res.base());
    res.version(11);
    res.keep_alive(keep);
    client.expires_after(std::chrono::seconds(idle));
    auto [wec, wn] = co_await http::async_write(client, res, kUseTuple);
    if (wec || !keep) break;
  }
  client.socket().shutdown(tcp::socket::shutdown_send, ec);
  client.socket().close(ec);
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
    asio::co_spawn(*slot.io, serve_client(st, loop_index, std::move(socket), port), asio::detached);
  }
}

}  // namespace

Proxy::Proxy(net::EventLoops& loops, ProxyOptions options, SecurityGroupSource groups)
    : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->groups = std::move(groups);
  state_->loops.resize(loops.size());
  for (size_t i = 0; i < loops.size(); ++i) state_->loops[i].io = &loops.at(i);
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
  }
}

}  // namespace berth::elb::dp
