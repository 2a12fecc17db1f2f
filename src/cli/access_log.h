// cli/access_log: DATA_DIR/access.log, one line per HTTP request, buffered.
//
// A write(2) per request cost 6-15% of signed-call throughput (bench/api), so
// each loop thread appends to its own buffer, written out when it passes
// 32 KiB, by a 200 ms timer on that loop, and when the thread ends. Lines
// have net's format: 127.0.0.1:50312 "POST /" 200 376 0.000402 "aws-cli/2.9"
#pragma once

#include <chrono>

#include "net/event_loops.h"
#include "net/http_server.h"

namespace berth::cli {

class BufferedAccessLog {
 public:
  explicit BufferedAccessLog(int fd) : fd_(fd) {}

  // The server's AccessLog: appends to the calling thread's buffer.
  net::AccessLog logger();
  // A timer on every loop that writes that loop's buffer out every `every`.
  void flush_periodically(net::EventLoops& loops, std::chrono::milliseconds every);
  // Writes the calling thread's buffer out (the daemon's main thread runs loop 0).
  void flush_this_thread();

 private:
  int fd_;
};

}  // namespace berth::cli
