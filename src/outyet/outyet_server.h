// outyet: "Is Go X out yet?" (a C++ port of golang/example's outyet).
//
//   poller (loop 0) ── HEAD <base>go<version> every -poll ──► yes_ = true, stop
//   HttpServer ── "/..."        ─► the page (pre-rendered for no and yes)
//              └─ "/debug/vars" ─► expvar-style JSON counters
//
// The page and the counters are the only shared state: two pre-rendered
// strings, one atomic flag and a few atomic counters, so requests on any
// loop never take a lock.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/event_loops.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "outyet/flags.h"

namespace berth::outyet {

// The listen address of -http: ":8080" means every interface, as in Go.
struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};
Result<ListenAddress> parse_listen_address(const std::string& text);

std::string render_page(const std::string& version, const std::string& change_url, bool yes);

class OutyetServer {
 public:
  OutyetServer(Flags flags, std::vector<std::string> cmdline, net::EventLoops& loops);
  ~OutyetServer();

  // Listens on -http and starts polling. Errors when the address is bad or taken.
  Result<net::tcp::endpoint> start();
  // Stops polling, lets in-flight requests finish, closes every connection.
  net::Task<void> stop(std::chrono::milliseconds grace);

  std::string change_url() const { return flags_.change_url_base + "go" + flags_.version; }
  bool yes() const { return yes_.load(); }
  std::string debug_vars() const;

 private:
  net::Task<net::Response> handle(net::Request& request);
  net::Task<void> poll();

  Flags flags_;
  std::vector<std::string> cmdline_;
  net::EventLoops& loops_;
  std::unique_ptr<net::HttpServer> server_;
  std::string page_no_, page_yes_;
  std::atomic<bool> yes_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> poll_stopped_{false};
  std::atomic<int64_t> hit_count_{0}, poll_count_{0}, poll_error_count_{0};
  mutable std::mutex poll_error_mu_;
  std::string poll_error_;
  std::shared_ptr<boost::asio::steady_timer> poll_timer_;
};

}  // namespace berth::outyet
