#include "cli/daemon.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <cstdio>

#include "api/front_door.h"
#include "cli/access_log.h"
#include "cli/data_dir.h"
#include "cli/router.h"
#include "cli/services.h"
#include "core/log.h"
#include "iam/iam.h"
#include "net/event_loops.h"
#include "net/http_server.h"
#include "store/store.h"

namespace berth::cli {
namespace {

constexpr std::chrono::milliseconds kShutdownGrace{5000};
constexpr std::chrono::milliseconds kAccessLogFlush{200};

int fail(std::string_view what, const Error& error) {
  log::error("berth", what, ": ", error.message);
  return 1;
}

// Every client connection a load balancer holds is a descriptor: take the
// hard limit, not the login shell's soft 1024.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) log::warn("berth", "cannot raise the open file limit to the hard limit");
}

}  // namespace

int run_serve(const Options& options) {
  auto started = std::chrono::steady_clock::now();
  raise_open_file_limit();
  ::umask(077);  // state.db, credentials, logs: private to the user
  auto dir = prepare_data_dir(data_dir_or_default(options.data_dir));
  if (!dir) return fail("data dir", dir.error());

  auto db = store::Database::open(*dir + "/state.db");
  if (!db) return fail("opening state.db", db.error());
  const Clock& clock = SystemClock::instance();
  auto iam = iam::Iam::open(*db, clock);
  if (!iam) return fail("opening iam", iam.error());
  const auto& admin = (*iam)->bootstrap().admin_key;
  if (!admin.access_key_id.empty()) {
    if (auto s = write_credentials(*dir, {admin.access_key_id, admin.secret}); !s)
      return fail("writing credentials", s.error());
  }

  int access_log_fd = ::open((*dir + "/access.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (access_log_fd < 0) log::warn("berth", "cannot open access.log; running without it");

  net::EventLoops loops(net::default_loop_count());
  api::FrontDoor front_door(**iam, clock);
  Router router(front_door, options.metrics_unauthenticated);
  net::ServerOptions server_options;
  server_options.max_body_bytes = api::kMaxApiBodyBytes;
  server_options.header_timeout = std::chrono::seconds(options.header_timeout_seconds);
  server_options.idle_timeout = std::chrono::seconds(options.idle_timeout_seconds);
  BufferedAccessLog access_log(access_log_fd);
  if (access_log_fd >= 0) server_options.access_log = access_log.logger();
  net::HttpServer server(loops, [&router](net::Request& r) { return router.handle(r); }, server_options);
  auto endpoint = server.listen(options.bind, options.port);
  if (!endpoint) return fail("listening on " + options.bind + ":" + std::to_string(options.port), endpoint.error());

  DaemonContext ctx{*db, **iam, clock, loops, *dir, (*iam)->account_id(), std::string(kDefaultRegion), options.bind,
                    endpoint->port(), options.allow_loopback_targets};
  ServiceRegistry registry(front_door);
  if (auto started = register_services(registry, ctx); !started) {
    // Stop what did start (reverse order), then refuse to serve.
    auto& hooks = registry.stop_hooks();
    for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) (*it)();
    if (access_log_fd >= 0) ::close(access_log_fd);
    return fail("berth serve", started.error());
  }
  if (registry.registry()) router.set_registry(registry.registry());
  if (registry.console()) router.set_console(registry.console());
  router.set_metrics(registry.metrics());

  if (auto s = write_endpoint(*dir, ctx.endpoint()); !s) return fail("writing endpoint", s.error());

  boost::asio::signal_set signals(loops.at(0), SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("berth", "signal ", signal, ": stopping");
    boost::asio::co_spawn(
        loops.at(0),
        [&]() -> net::Task<void> {
          co_await server.async_shutdown(kShutdownGrace);
          loops.stop();
        },
        boost::asio::detached);
  });

  if (access_log_fd >= 0) access_log.flush_periodically(loops, kAccessLogFlush);

  auto ready_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  log::info("berth", "serving ", ctx.endpoint(), " (account ", ctx.account_id, ", data dir ", *dir, ", ",
            loops.size(), " loops, ready in ", ready_us / 1000.0, " ms)");
  loops.run();

  auto& hooks = registry.stop_hooks();
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) (*it)();
  access_log.flush_this_thread();  // loop 0 ran here; the other loops' threads flushed as they ended
  if (access_log_fd >= 0) ::close(access_log_fd);
  log::info("berth", "stopped");
  return 0;
}

}  // namespace berth::cli
