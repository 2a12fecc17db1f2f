#include "net/http_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <deque>
#include <map>

namespace berth::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path_and_query;
  std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

Result<Target> parse_target(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Error::invalid("InvalidUrl", "not a URL: " + url);
  Target t;
  auto scheme = parsed->scheme();
  if (scheme == "https") t.tls = true;
  else if (scheme != "http") return Error::invalid("InvalidUrl", "unsupported scheme in " + url);
  t.host = std::string(parsed->host_address());
  if (t.host.empty()) return Error::invalid("InvalidUrl", "no host in " + url);
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.path_and_query = std::string(parsed->encoded_path());
  if (t.path_and_query.empty()) t.path_and_query = "/";
  if (parsed->has_query()) t.path_and_query += "?" + std::string(parsed->encoded_query());
  return t;
}

// One connection, plain or TLS, with the read buffer that belongs to it.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

}  // namespace

struct HttpClient::Impl {
  asio::any_io_executor executor;
  ClientOptions options;
  ssl::context tls_context{ssl::context::tls_client};
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle;
  uint64_t opened = 0;

  Impl(asio::any_io_executor ex, ClientOptions opts) : executor(std::move(ex)), options(std::move(opts)) {
    boost::system::error_code ec;
    if (options.ca_file.empty()) tls_context.set_default_verify_paths(ec);
    else tls_context.load_verify_file(options.ca_file, ec);
    tls_context.set_verify_mode(ssl::verify_peer);
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
      auto conn = std::move(it->second.back());
      it->second.pop_back();
      if (now - conn->idle_since < options.idle_ttl) return conn;
    }
    return nullptr;
  }

  void put_idle(const std::string& key, std::unique_ptr<Connection> conn) {
    auto& list = idle[key];
    conn->idle_since = std::chrono::steady_clock::now();
    list.push_back(std::move(conn));
    while (list.size() > options.max_idle_per_host) list.pop_front();
  }

  asio::awaitable<Result<std::unique_ptr<Connection>>> connect(const Target& t) {
    tcp::resolver resolver(executor);
    asio::steady_timer timer(executor, options.connect_timeout);
    auto resolved = co_await (resolver.async_resolve(t.host, t.port, kUseTuple) || timer.async_wait(kUseTuple));
    if (resolved.index() == 1) co_return Error::unavailable("timed out resolving " + t.host);
    auto [rec, endpoints] = std::get<0>(resolved);
    if (rec) co_return Error::unavailable("cannot resolve " + t.host + ": " + rec.message());

    auto conn = std::make_unique<Connection>();
    if (t.tls) conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, tls_context);
    else conn->plain = std::make_unique<beast::tcp_stream>(executor);
    auto& stream = conn->lowest();
    stream.expires_after(options.connect_timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, kUseTuple);
    if (cec) co_return Error::unavailable("cannot connect to " + t.key() + ": " + cec.message());
    stream.socket().set_option(tcp::no_delay(true));
    if (t.tls) {
      if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), t.host.c_str()))
        co_return Error::unavailable("cannot set TLS server name " + t.host);
      conn->tls->set_verify_callback(ssl::host_name_verification(t.host));
      auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kUseTuple);
      if (hec) co_return Error::unavailable("TLS handshake with " + t.key() + " failed: " + hec.message());
    }
    ++opened;
    co_return std::move(conn);
  }

  template <class Stream>
  asio::awaitable<boost::system::error_code> exchange(Stream& stream, Connection& conn,
                                                       http::request<http::string_body>& req,
                                                       http::response_parser<http::string_body>& parser) {
    conn.lowest().expires_after(options.request_timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, kUseTuple);
    if (wec) co_return wec;
    auto [rec, rn] = co_await http::async_read(stream, conn.buffer, parser, kUseTuple);
    co_return rec;
  }

  asio::awaitable<Result<ClientResponse>> run(ClientRequest request) {
    auto target = parse_target(request.url);
    if (!target) co_return std::move(target).error();
    const std::string key = target->key();

    http::request<http::string_body> req{request.method, target->path_and_query, 11};
    for (const auto& f : request.headers) req.set(f.name_string(), f.value());
    bool default_port = (target->tls && target->port == "443") || (!target->tls && target->port == "80");
    if (req.find(http::field::host) == req.end())
      req.set(http::field::host, default_port ? target->host : target->host + ":" + target->port);
    if (req.find(http::field::user_agent) == req.end()) req.set(http::field::user_agent, options.user_agent);
    req.body() = std::move(request.body);
    req.prepare_payload();
    req.keep_alive(true);

    // A reused connection may have been closed by the server while idle;
    // that shows as an error before any response byte, and earns one retry
    // on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto conn = attempt == 0 ? take_idle(key) : nullptr;
      bool reused = conn != nullptr;
      if (!conn) {
        auto fresh = co_await connect(*target);
        if (!fresh) co_return std::move(fresh).error();
        conn = std::move(*fresh);
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(options.max_response_bytes);
      if (request.method == http::verb::head) parser.skip(true);
      boost::system::error_code ec = conn->tls ? co_await exchange(*conn->tls, *conn, req, parser)
                                               : co_await exchange(*conn->plain, *conn, req, parser);
      if (ec) {
        bool nothing_received = !parser.got_some();
        if (reused && nothing_received) continue;
        if (ec == beast::error::timeout) co_return Error::unavailable("request to " + key + " timed out");
        co_return Error::unavailable("request to " + key + " failed: " + ec.message());
      }
      auto& msg = parser.get();
      ClientResponse out;
      out.status = msg.result_int();
      out.headers = msg.base();
      out.body = std::move(msg.body());
      if (msg.keep_alive()) {
        conn->lowest().expires_never();
        put_idle(key, std::move(conn));
      }
      co_return out;
    }
    co_return Error::unavailable("request to " + key + " failed on a fresh connection");
  }
};

HttpClient::HttpClient(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(options))) {}
HttpClient::~HttpClient() = default;

asio::awaitable<Result<ClientResponse>> HttpClient::request(ClientRequest request) {
  return impl_->run(std::move(request));
}
asio::awaitable<Result<ClientResponse>> HttpClient::get(std::string url) {
  ClientRequest r;
  r.url = std::move(url);
  return impl_->run(std::move(r));
}
asio::awaitable<Result<ClientResponse>> HttpClient::head(std::string url) {
  ClientRequest r;
  r.method = http::verb::head;
  r.url = std::move(url);
  return impl_->run(std::move(r));
}

size_t HttpClient::idle_connections() const {
  size_t n = 0;
  for (const auto& [key, list] : impl_->idle) n += list.size();
  return n;
}
uint64_t HttpClient::connections_opened() const { return impl_->opened; }

}  // namespace berth::net
