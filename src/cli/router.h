// cli/router: the daemon's one HTTP handler on ADDR:PORT.
//
//   /_berth/health        no auth: {"status":"ok"} and nothing else (no
//                         account id: anyone who can reach the port reads it)
//   /_berth/metrics       Prometheus text of the registered metrics sources;
//                         it names load balancers, target groups and their
//                         traffic, so it needs a SigV4-signed GET by an
//                         identity allowed cloudwatch:GetMetricData (a
//                         read-only action), unless `berth serve
//                         --metrics-unauthenticated` opened it
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
  // metrics_open: serve /_berth/metrics to anyone (--metrics-unauthenticated).
  Router(api::FrontDoor& front_door, bool metrics_open = false);

  void set_registry(net::Handler handler) { registry_ = std::move(handler); }
  void set_console(net::Handler handler) { console_ = std::move(handler); }
  void set_metrics(std::vector<std::function<std::string()>> sources) { metrics_ = std::move(sources); }
  net::Task<net::Response> handle(net::Request& request);

 private:
  net::Response berth_endpoint(net::Request& request);

  api::FrontDoor& front_door_;
  net::Handler registry_;
  net::Handler console_;
  bool metrics_open_;
  std::vector<std::function<std::string()>> metrics_;
};

}  // namespace berth::cli
