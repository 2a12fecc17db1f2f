// The one HTTP/1.1 client of the project: outyet's poller, the load
// balancer's health checker, the runtime's image pulls.
//
// Connections are pooled per scheme://host:port and reused while the server
// keeps them alive; a pooled connection that turns out to be dead before any
// response byte arrives is replaced once, transparently. HTTPS verifies the
// peer against the system CA bundle (or a given CA file) and its host name.
// Every step (resolve, connect, handshake, request) has a timeout.
//
// A client belongs to one event loop: call it only from coroutines running
// on the executor it was made with.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "core/error.h"

namespace berth::net {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};  // resolve + connect + TLS handshake
  std::chrono::milliseconds request_timeout{30'000};  // write request + read response
  size_t max_idle_per_host = 16;
  std::chrono::milliseconds idle_ttl{30'000};
  size_t max_response_bytes = 64u << 20;
  std::string ca_file;  // empty: the system CA bundle
  std::string user_agent = "berth";
};

struct ClientRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string url;  // http:// or https://
  boost::beast::http::fields headers;
  std::string body;
};

struct ClientResponse {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;
};

class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor executor, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Errors: kInvalid for a bad URL, kUnavailable for DNS, connect, TLS,
  // timeout or protocol failures (the message says which).
  boost::asio::awaitable<Result<ClientResponse>> request(ClientRequest request);
  boost::asio::awaitable<Result<ClientResponse>> get(std::string url);
  boost::asio::awaitable<Result<ClientResponse>> head(std::string url);

  size_t idle_connections() const;
  uint64_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::net
