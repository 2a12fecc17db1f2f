// outyet: a web server that announces whether a Go version has been tagged.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>

#include <iostream>

#include "core/log.h"
#include "outyet/outyet_server.h"

int main(int argc, char** argv) {
  using namespace berth;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = outyet::parse_flags(argv[0], args);
  if (!parsed.flags) {
    std::cerr << parsed.output;
    return parsed.exit_code;
  }
  net::EventLoops loops(net::default_loop_count());
  outyet::OutyetServer server(*parsed.flags, std::vector<std::string>(argv, argv + argc), loops);
  auto endpoint = server.start();
  if (!endpoint) {
    log::error("outyet", endpoint.error().message);
    return 1;
  }
  boost::asio::signal_set signals(loops.at(0), SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    boost::asio::co_spawn(
        loops.at(0),
        [&]() -> net::Task<void> {
          co_await server.stop(std::chrono::seconds(10));
          loops.stop();
        },
        boost::asio::detached);
  });
  loops.run();
  return 0;
}
