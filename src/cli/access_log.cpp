#include "cli/access_log.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstdio>
#include <string>

namespace berth::cli {
namespace {

constexpr size_t kFlushBytes = 32 * 1024;

struct ThreadBuffer {
  int fd = -1;
  std::string data;

  void flush() {
    size_t done = 0;
    while (fd >= 0 && done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // a full disk loses log lines, never requests
      done += static_cast<size_t>(n);
    }
    data.clear();
  }
  ~ThreadBuffer() { flush(); }
};

thread_local ThreadBuffer tl_buffer;

void append_line(std::string& line, const net::AccessLogEntry& e) {
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
}

}  // namespace

net::AccessLog BufferedAccessLog::logger() {
  return [fd = fd_](const net::AccessLogEntry& e) {
    ThreadBuffer& b = tl_buffer;
    b.fd = fd;
    append_line(b.data, e);
    if (b.data.size() >= kFlushBytes) b.flush();
  };
}

void BufferedAccessLog::flush_periodically(net::EventLoops& loops, std::chrono::milliseconds every) {
  for (size_t i = 0; i < loops.size(); ++i) {
    auto& context = loops.at(i);
    boost::asio::co_spawn(
        context,
        [&context, every]() -> net::Task<void> {
          boost::asio::steady_timer timer(context);
          for (;;) {
            timer.expires_after(every);
            co_await timer.async_wait(boost::asio::use_awaitable);
            tl_buffer.flush();
          }
        },
        boost::asio::detached);
  }
}

void BufferedAccessLog::flush_this_thread() { tl_buffer.flush(); }

}  // namespace berth::cli
