#include "console/static_files.h"

namespace berth::console {

namespace http = boost::beast::http;

const Asset* find_asset(std::string_view name) {
  for (const Asset& a : assets())
    if (a.name == name) return &a;
  return nullptr;
}

void add_security_headers(net::Response& response) {
  // Scripts and styles from the console only; calls to this origin only
  // (the API); no framing (the action buttons must not be clickjacked).
  response.set("Content-Security-Policy",
               "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
}

net::Response serve_asset(const net::Request& request, std::string_view name) {
  if (name.empty()) name = "index.html";
  net::Response r;
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    r = net::Response(http::status::method_not_allowed, "method not allowed\n");
    r.set("Allow", "GET, HEAD");
  } else if (const Asset* asset = find_asset(name); asset == nullptr) {
    r = net::Response(http::status::not_found, "not found\n");
  } else {
    // Names are stable (app.js), so caches must ask again; the ETag makes that cheap.
    if (request.header("If-None-Match") == asset->etag) {
      r = net::Response(http::status::not_modified, "", "");
    } else {
      r = net::Response(http::status::ok, std::string(asset->body), asset->content_type);
    }
    r.set("ETag", asset->etag);
    r.set("Cache-Control", "no-cache");
  }
  add_security_headers(r);
  return r;
}

}  // namespace berth::console
