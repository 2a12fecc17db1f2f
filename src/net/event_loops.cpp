#include "net/event_loops.h"

namespace berth::net {

EventLoops::EventLoops(size_t count) {
  if (count == 0) count = 1;
  for (size_t i = 0; i < count; ++i) {
    loops_.push_back(std::make_unique<boost::asio::io_context>(1));
    work_.emplace_back(loops_.back()->get_executor());
  }
}

EventLoops::~EventLoops() {
  stop();
  join();
}

void EventLoops::run() {
  for (size_t i = 1; i < loops_.size(); ++i) threads_.emplace_back([this, i] { loops_[i]->run(); });
  loops_[0]->run();
  join();
}

void EventLoops::start() {
  for (size_t i = 0; i < loops_.size(); ++i) threads_.emplace_back([this, i] { loops_[i]->run(); });
}

void EventLoops::stop() {
  for (auto& loop : loops_) loop->stop();
}

void EventLoops::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

size_t default_loop_count() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace berth::net
