#include "outyet/outyet_server.h"

#include <malloc.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <fstream>

#include "core/log.h"

namespace berth::outyet {

namespace asio = boost::asio;
using net::http::status;

namespace {

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out += c;
    }
  }
  return out;
}

// What html/template does to a URL in an href: unsafe schemes become
// "#ZgotmplZ", bytes outside the URL alphabet are percent-encoded, and the
// result is escaped for the attribute.
std::string href_escape(std::string_view url) {
  auto colon = url.find(':');
  auto slash = url.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    std::string scheme;
    for (char c : url.substr(0, colon)) scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http" && scheme != "https" && scheme != "mailto") return "#ZgotmplZ";
  }
  std::string normalized;
  static constexpr std::string_view kKeep = "!#$%&*+,/:;=?@[]-._~";
  for (unsigned char c : url) {
    if (std::isalnum(c) || kKeep.find(static_cast<char>(c)) != std::string_view::npos) {
      normalized += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      normalized += buf;
    }
  }
  return html_escape(normalized);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': out += "\\u003c"; break;  // as Go's encoding/json does
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Process memory figures, named after Go's runtime.MemStats where they mean
// the same thing.
std::string memstats_json() {
  struct mallinfo2 mi = mallinfo2();
  long page = sysconf(_SC_PAGESIZE);
  unsigned long long size_pages = 0, resident_pages = 0;
  if (std::ifstream statm("/proc/self/statm"); statm) statm >> size_pages >> resident_pages;
  unsigned long long threads = 0;
  if (std::ifstream status("/proc/self/status"); status) {
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("Threads:", 0) == 0) threads = std::stoull(line.substr(8));
  }
  auto field = [](const char* name, unsigned long long v) { return "\"" + std::string(name) + "\": " + std::to_string(v); };
  return "{" + field("Alloc", mi.uordblks + mi.hblkhd) + ", " + field("HeapAlloc", mi.uordblks) + ", " +
         field("HeapIdle", mi.fordblks) + ", " + field("HeapInuse", mi.uordblks) + ", " +
         field("HeapSys", mi.arena) + ", " + field("Mmapped", mi.hblkhd) + ", " +
         field("RSS", resident_pages * page) + ", " + field("Sys", size_pages * page) + ", " +
         field("Threads", threads) + "}";
}

}  // namespace

std::string render_page(const std::string& version, const std::string& change_url, bool yes) {
  // Byte for byte what the Go template produces.
  std::string answer = yes ? "\t\t<a href=\"" + href_escape(change_url) + "\">YES!</a>\n" : "\t\tNo. :-(\n";
  return "\n<!DOCTYPE html><html><body><center>\n\t<h2>Is Go " + html_escape(version) +
         " out yet?</h2>\n\t<h1>\n\t\n" + answer + "\t\n\t</h1>\n</center></body></html>\n";
}

Result<ListenAddress> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return Error::invalid("InvalidAddress", "listen tcp: address " + text + ": missing port in address");
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return Error::invalid("InvalidAddress", "listen tcp: lookup port " + port_text + ": unknown port");
  if (host.empty()) host = "0.0.0.0";
  else if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code bad;
  asio::ip::make_address(host, bad);
  if (bad) return Error::invalid("InvalidAddress", "listen tcp: lookup " + host + ": not an IP address");
  return ListenAddress{host, static_cast<uint16_t>(port)};
}

OutyetServer::OutyetServer(Flags flags, std::vector<std::string> cmdline, net::EventLoops& loops)
    : flags_(std::move(flags)), cmdline_(std::move(cmdline)), loops_(loops) {
  page_no_ = render_page(flags_.version, change_url(), false);
  page_yes_ = render_page(flags_.version, change_url(), true);
}

OutyetServer::~OutyetServer() = default;

Result<net::tcp::endpoint> OutyetServer::start() {
  auto address = parse_listen_address(flags_.http);
  if (!address) return std::move(address).error();
  net::ServerOptions options;
  options.header_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(flags_.read_header_timeout);
  server_ = std::make_unique<net::HttpServer>(
      loops_, [this](net::Request& r) { return handle(r); }, options);
  auto endpoint = server_->listen(address->host, address->port);
  if (!endpoint) return endpoint;
  poll_timer_ = std::make_shared<asio::steady_timer>(loops_.at(0));
  asio::co_spawn(loops_.at(0), poll(), asio::detached);
  return endpoint;
}

net::Task<void> OutyetServer::stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  asio::post(loops_.at(0), [timer = poll_timer_] { timer->cancel(); });
  if (server_) co_await server_->async_shutdown(grace);
  // The poller may be inside a HEAD request; it stops at its next step.
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer wait(executor);
  for (int i = 0; i < 500 && !poll_stopped_; ++i) {
    wait.expires_after(std::chrono::milliseconds(10));
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

net::Task<void> OutyetServer::poll() {
  net::ClientOptions options;
  options.user_agent = "outyet";
  net::HttpClient client(co_await asio::this_coro::executor, options);
  const std::string url = change_url();
  while (!stopping_) {
    poll_count_.fetch_add(1);
    auto response = co_await client.head(url);
    if (!response) {
      log::warn("outyet", response.error().message);
      {
        std::lock_guard lock(poll_error_mu_);
        poll_error_ = response.error().message;
      }
      poll_error_count_.fetch_add(1);
    } else if (response->status == 200) {
      yes_ = true;
      break;
    }
    if (stopping_) break;
    poll_timer_->expires_after(flags_.poll);
    co_await poll_timer_->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  poll_stopped_ = true;
}

net::Task<net::Response> OutyetServer::handle(net::Request& request) {
  if (request.path() == "/debug/vars") {
    net::Response response(status::ok, debug_vars(), "application/json; charset=utf-8");
    co_return response;
  }
  hit_count_.fetch_add(1, std::memory_order_relaxed);
  co_return net::Response(status::ok, yes_.load(std::memory_order_relaxed) ? page_yes_ : page_no_,
                          "text/html; charset=utf-8");
}

std::string OutyetServer::debug_vars() const {
  std::string cmdline = "[";
  for (size_t i = 0; i < cmdline_.size(); ++i) cmdline += (i ? ", " : "") + json_string(cmdline_[i]);
  cmdline += "]";
  std::string poll_error;
  {
    std::lock_guard lock(poll_error_mu_);
    poll_error = poll_error_;
  }
  // expvar's layout: keys sorted, one per line.
  return "{\n\"cmdline\": " + cmdline + ",\n\"hitCount\": " + std::to_string(hit_count_.load()) +
         ",\n\"memstats\": " + memstats_json() + ",\n\"pollCount\": " + std::to_string(poll_count_.load()) +
         ",\n\"pollError\": " + json_string(poll_error) +
         ",\n\"pollErrorCount\": " + std::to_string(poll_error_count_.load()) + "\n}\n";
}

}  // namespace berth::outyet
