// One io_context per thread ("one event loop per core", DESIGN.md notes on
// speed). Servers open one acceptor per loop on the same port
// (SO_REUSEPORT), so a connection lives and dies on one thread: no locks and
// no cross-thread hops on a request path.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace berth::net {

class EventLoops {
 public:
  explicit EventLoops(size_t count);
  ~EventLoops();
  EventLoops(const EventLoops&) = delete;
  EventLoops& operator=(const EventLoops&) = delete;

  size_t size() const { return loops_.size(); }
  boost::asio::io_context& at(size_t i) { return *loops_[i]; }

  // Runs loop 0 on the calling thread and the others on their own threads;
  // returns once stop() was called. Loops never stop for lack of work, so a
  // handler posted to a quiet loop always runs.
  void run();
  // Runs every loop on a thread of its own and returns at once.
  void start();
  void stop();
  void join();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::vector<WorkGuard> work_;
  std::vector<std::thread> threads_;
};

// The number of loops to use when nothing says otherwise: one per core.
size_t default_loop_count();

}  // namespace berth::net
