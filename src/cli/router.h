// cli/router: the daemon's one HTTP handler on ADDR:PORT.
//
//   /_berth/health        berth's own endpoints (no auth)
//   /v2, /v2/...          the OCI registry (src/ecr), when registered
//   everything else       the AWS front door (SigV4)
#pragma once

#include <string>

#include "api/front_door.h"
#include "net/http_server.h"

namespace berth::cli {

class Router {
 public:
  Router(api::FrontDoor& front_door, std::string account_id);

  void set_registry(net::Handler handler) { registry_ = std::move(handler); }
  net::Task<net::Response> handle(net::Request& request);

 private:
  net::Response berth_endpoint(net::Request& request);

  api::FrontDoor& front_door_;
  net::Handler registry_;
  std::string health_body_;
};

}  // namespace berth::cli
