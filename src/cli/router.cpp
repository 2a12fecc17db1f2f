#include "cli/router.h"

#include <vector>

namespace berth::cli {

namespace http = boost::beast::http;

Router::Router(api::FrontDoor& front_door, bool metrics_open)
    : front_door_(front_door), metrics_open_(metrics_open) {}

net::Response Router::berth_endpoint(net::Request& request) {
  if (request.path() == "/_berth/health") {
    if (request.method() != http::verb::get && request.method() != http::verb::head)
      return net::Response(http::status::method_not_allowed, "{\"error\":\"method not allowed\"}",
                           "application/json");
    return net::Response(http::status::ok, "{\"status\":\"ok\"}", "application/json");
  }
  if (request.path() == "/_berth/metrics") {
    if (request.method() != http::verb::get && request.method() != http::verb::head)
      return net::Response(http::status::method_not_allowed, "{\"error\":\"method not allowed\"}",
                           "application/json");
    if (!metrics_open_) {
      // The body is not read: a scrape is a GET, signed over an empty body.
      std::vector<api::HeaderField> headers;
      for (const auto& field : request.headers())
        headers.push_back({std::string_view(field.name_string().data(), field.name_string().size()),
                           std::string_view(field.value().data(), field.value().size())});
      api::ApiRequest api_request{request.method_string(), request.path(), request.query(), headers, {}};
      if (auto refused = front_door_.check_access(api_request, "cloudwatch", "GetMetricData", true))
        return std::move(*refused);
    }
    std::string text;
    for (const auto& source : metrics_) text += source();
    return net::Response(http::status::ok, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  }
  return net::Response(http::status::not_found, "{\"error\":\"not found\"}", "application/json");
}

net::Task<net::Response> Router::handle(net::Request& request) {
  std::string_view path = request.path();
  if (path.rfind("/_berth/", 0) == 0) co_return berth_endpoint(request);
  if (path == "/v2" || path.rfind("/v2/", 0) == 0) {
    if (registry_) co_return co_await registry_(request);
    co_return net::Response(http::status::not_found,
                            "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"no registry in this build\"}]}",
                            "application/json");
  }
  if (console_ && (path == "/console" || path.rfind("/console/", 0) == 0)) co_return co_await console_(request);
  co_return co_await front_door_.handle(request);
}

}  // namespace berth::cli
