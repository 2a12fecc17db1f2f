// console/static_files: the console's built front end (console/ at the
// repository root, bundled by esbuild), embedded in the binary at build time
// (cmake/embed_files.cmake writes console_assets.cpp), so an installed
// berth needs no asset path.
//
// Only the files in the table are served: a path is looked up by exact
// name, never joined to a directory, so no path escapes the console. The
// files hold no data (every datum comes from a signed API call), so they are
// served to anyone.
#pragma once

#include <span>
#include <string_view>

#include "net/http_server.h"

namespace berth::console {

struct Asset {
  std::string_view name;          // "index.html", "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // "\"<sha256 prefix>\"", from the build
  std::string_view body;
};

// The embedded files (console_assets.cpp, generated).
std::span<const Asset> assets();
const Asset* find_asset(std::string_view name);

// GET/HEAD of /console/<name> ("" is index.html). Conditional requests
// (If-None-Match) answer 304. Every answer carries the console's security
// headers (CSP, nosniff, no framing).
net::Response serve_asset(const net::Request& request, std::string_view name);

// The headers every console answer carries.
void add_security_headers(net::Response& response);

}  // namespace berth::console
