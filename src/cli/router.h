// cli/router: the daemon's one HTTP handler on ADDR:PORT.
//
//   /_berth/health        berth's own endpoints (no auth)
//   /_berth/metrics       Prometheus text of the registered metrics sources
//   /v2, /v2/...          the OCI registry (src/ecr), when registered
//   /console, /console/...  the web console (src/console), when registered
//   everything else       the AWS front door (SigV4)
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/front_door.h"
#include "net/http_server.h"

namespace berth::cli {

class Router {
 public:
  Router(api::FrontDoor& front_door, std::string account_id);

  void set_registry(net::Handler handler) { registry_ = std::move(handler); }
  void set_console(net::Handler handler) { console_ = std::move(handler); }
  void set_metrics(std::vector<std::function<std::string()>> sources) { metrics_ = std::move(sources); }
  net::Task<net::Response> handle(net::Request& request);

 private:
  net::Response berth_endpoint(net::Request& request);

  api::FrontDoor& front_door_;
  net::Handler registry_;
  net::Handler console_;
  std::string health_body_;
  std::vector<std::function<std::string()>> metrics_;
};

}  // namespace berth::cli
