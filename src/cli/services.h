// cli/services: the one place where `berth serve` plugs service modules
// into the daemon. Each module adds one line to register_services() in
// services.cpp, guarded by its BERTH_HAVE_<MODULE> definition (set in
// src/cli/CMakeLists.txt when the module's target exists), e.g.
//
//   #if BERTH_HAVE_EC2_API
//     services.add(ec2::make_ec2_service(ctx));
//   #endif
#pragma once

#include <string>

#include "api/front_door.h"
#include "api/service.h"
#include "core/clock.h"
#include "core/error.h"
#include "iam/iam.h"
#include "net/event_loops.h"
#include "net/http_server.h"
#include "store/store.h"

namespace berth::cli {

// What a service module may use while it builds itself. Everything outlives
// the registered services (they are destroyed after the server stops).
struct DaemonContext {
  store::Database& db;
  iam::Iam& iam;
  const Clock& clock;
  net::EventLoops& loops;
  std::string data_dir;       // absolute; modules keep their files under data_dir + "/<module>/"
  std::string account_id;     // 12 digits
  std::string region = "us-east-1";
  std::string bind_address;   // "127.0.0.1"
  uint16_t port = 0;          // the API port; 0 until the server is listening (see endpoint())
  bool allow_loopback_targets = false;  // --allow-loopback-targets
  std::string endpoint() const { return "http://" + bind_address + ":" + std::to_string(port); }
};

// Where modules hand their pieces to the daemon.
class ServiceRegistry {
 public:
  explicit ServiceRegistry(api::FrontDoor& front_door) : front_door_(front_door) {}

  // An AWS API (api::Service) served by the front door on ADDR:PORT.
  void add(api::Service service) { front_door_.add(std::move(service)); }
  // The OCI distribution API: every request whose path is /v2 or starts
  // with /v2/ goes to this handler (unauthenticated by the front door; the
  // registry checks its own tokens).
  void set_registry(net::Handler handler) { registry_ = std::move(handler); }
  // The web console: every request whose path is /console or starts with
  // /console/ (static files and the sign-in link's exchange).
  void set_console(net::Handler handler) { console_ = std::move(handler); }
  // Something to run when the daemon stops, before the store closes
  // (reconcilers, background tasks). Called in reverse order of addition.
  void on_stop(std::function<void()> fn) { stop_hooks_.push_back(std::move(fn)); }
  // Prometheus text (format 0.0.4) that GET /_berth/metrics serves, the
  // sources' texts one after another. Called on a server thread.
  void add_metrics(std::function<std::string()> source) { metrics_.push_back(std::move(source)); }

  net::Handler& registry() { return registry_; }
  net::Handler& console() { return console_; }
  std::vector<std::function<void()>>& stop_hooks() { return stop_hooks_; }
  const std::vector<std::function<std::string()>>& metrics() const { return metrics_; }

 private:
  api::FrontDoor& front_door_;
  net::Handler registry_;
  net::Handler console_;
  std::vector<std::function<void()>> stop_hooks_;
  std::vector<std::function<std::string()>> metrics_;
};

// Registers every service module that is built in. The first module that
// cannot start ends it: the error (class kUnavailable) names the module and
// why, and `berth serve` exits non-zero with it. A daemon with a module
// missing would answer its calls UnknownOperationException and leave tasks
// PENDING: worse than a clear refusal to start. What did start has its stop
// hooks in `services` already; the caller runs them.
// (BERTH_TASK_RUNTIME=none is the explicit way to run without the runtime.)
Status register_services(ServiceRegistry& services, DaemonContext& ctx);

}  // namespace berth::cli
