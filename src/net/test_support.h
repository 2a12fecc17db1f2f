// Helpers for net tests: a server on its own loops, and a blocking raw
// socket client that can send anything, including garbage.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <future>
#include <string>

#include "net/event_loops.h"
#include "net/http_server.h"

namespace berth::net::testing {

// Runs a coroutine on `context` and waits for its value.
template <class T>
T run_on(boost::asio::io_context& context, boost::asio::awaitable<T> task) {
  std::promise<T> promise;
  auto wrapper = [](boost::asio::awaitable<T> t, std::promise<T>& p) -> boost::asio::awaitable<void> {
    try {
      p.set_value(co_await std::move(t));
    } catch (...) {
      p.set_exception(std::current_exception());
    }
  };
  boost::asio::co_spawn(context, wrapper(std::move(task), promise), boost::asio::detached);
  return promise.get_future().get();
}

class TestServer {
 public:
  TestServer(Handler handler, ServerOptions options = {}, size_t loops = 2)
      : loops_(loops), server_(loops_, std::move(handler), std::move(options)) {
    auto ep = server_.listen("127.0.0.1", 0);
    if (!ep) throw std::runtime_error(ep.error().message);
    port_ = ep->port();
    loops_.start();
  }
  ~TestServer() {
    if (!stopped_) server_.shutdown(std::chrono::milliseconds(500));
    loops_.stop();
    loops_.join();
  }
  uint16_t port() const { return port_; }
  HttpServer& server() { return server_; }
  EventLoops& loops() { return loops_; }
  void shutdown(std::chrono::milliseconds grace) {
    server_.shutdown(grace);
    stopped_ = true;
  }

 private:
  EventLoops loops_;
  HttpServer server_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

class RawClient {
 public:
  explicit RawClient(uint16_t port, const char* address = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until `until` appears `count` times, the peer closes, or the timeout.
  std::string read_until(std::string_view until, int count = 1, int timeout_ms = 3000) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (occurrences(out, until) < count) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) break;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // True if the peer closes the connection within the timeout.
  bool wait_closed(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!closed_) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) return false;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) closed_ = true;
    }
    return true;
  }
  static int occurrences(std::string_view haystack, std::string_view needle) {
    int n = 0;
    for (size_t pos = haystack.find(needle); pos != std::string_view::npos; pos = haystack.find(needle, pos + 1)) ++n;
    return n;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace berth::net::testing
