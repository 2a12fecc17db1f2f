#include "ecr/registry.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>

#include "ecr/names.h"
#include "ecr/registry_wire.h"

namespace berth::ecr {

using net::Request;
using net::Response;
using net::Task;
using net::http::status;
using net::http::verb;

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Names may contain '/', references never do: split at the last marker.
Registry::Route parse_route(std::string_view path) {
  using Kind = Registry::Route::Kind;
  Registry::Route r;
  if (path == "/v2" || path == "/v2/") {
    r.kind = Kind::kBase;
    return r;
  }
  std::string_view rest = path.substr(4);  // after "/v2/"
  if (rest == "_catalog") {
    r.kind = Kind::kCatalog;
    return r;
  }
  if (ends_with(rest, "/tags/list")) {
    r.kind = Kind::kTags;
    r.name = rest.substr(0, rest.size() - 10);
    return r;
  }
  if (size_t at = rest.rfind("/blobs/uploads"); at != std::string_view::npos) {
    std::string_view tail = rest.substr(at + 14);
    if (tail.empty() || tail == "/") {
      r.kind = Kind::kUploads;
    } else if (tail[0] == '/' && tail.find('/', 1) == std::string_view::npos) {
      r.kind = Kind::kUpload;
      r.reference = tail.substr(1);
    } else {
      return r;
    }
    r.name = rest.substr(0, at);
    return r;
  }
  for (auto [marker, kind] : {std::pair{std::string_view("/manifests/"), Kind::kManifest},
                              std::pair{std::string_view("/blobs/"), Kind::kBlob}}) {
    if (size_t at = rest.rfind(marker); at != std::string_view::npos) {
      std::string_view ref = rest.substr(at + marker.size());
      if (ref.empty() || ref.find('/') != std::string_view::npos) return r;
      r.kind = kind;
      r.name = rest.substr(0, at);
      r.reference = ref;
      return r;
    }
  }
  return r;
}

RegistryAction action_for(verb v) {
  switch (v) {
    case verb::get:
    case verb::head: return RegistryAction::kPull;
    case verb::delete_: return RegistryAction::kDelete;
    default: return RegistryAction::kPush;
  }
}

std::string_view action_name(RegistryAction a, verb v) {
  if (a == RegistryAction::kPull) return "ecr:BatchGetImage";
  if (a == RegistryAction::kDelete) return "ecr:BatchDeleteImage";
  return v == verb::put ? "ecr:PutImage" : "ecr:UploadLayerPart";
}

// n and last of a paginated listing; items sorted.
Response paginate(const std::vector<std::string>& items, Request& request, const std::string& base_path,
                  const std::string& key, const std::optional<std::string>& name, size_t default_page) {
  size_t n = default_page;
  if (auto text = wire::query_param(request.query(), "n")) {
    size_t v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || end != text->data() + text->size()) {
      return wire::error(status::bad_request, "PAGINATION_NUMBER_INVALID", "invalid number of results requested");
    }
    n = v;
  }
  auto last = wire::query_param(request.query(), "last");
  auto it = items.begin();
  if (last) it = std::upper_bound(items.begin(), items.end(), *last);
  boost::json::array page;
  std::string last_sent;
  for (; it != items.end() && page.size() < n; ++it) {
    page.emplace_back(*it);
    last_sent = *it;
  }
  boost::json::object body;
  if (name) body["name"] = *name;
  body[key] = std::move(page);
  Response r(status::ok, boost::json::serialize(body), "application/json; charset=utf-8");
  r.set(wire::kApiVersionHeader, wire::kApiVersion);
  if (it != items.end() && n > 0) {
    r.set("Link", "<" + base_path + "?n=" + std::to_string(n) + "&last=" + wire::percent_encode(last_sent) +
                      ">; rel=\"next\"");
  }
  return r;
}

}  // namespace

Registry::Registry(Catalog& catalog, BlobStore& blobs, UploadSessions& uploads, const TokenIssuer& tokens,
                   RegistryAccess access, const Clock& clock, RegistryOptions options)
    : catalog_(catalog),
      blobs_(blobs),
      uploads_(uploads),
      tokens_(tokens),
      access_(std::move(access)),
      clock_(clock),
      options_(options) {}

Response Registry::unauthorized(Request& request, std::string message) {
  Response r = wire::error(status::unauthorized, "UNAUTHORIZED", message);
  std::string host(request.header("Host"));
  r.set("WWW-Authenticate", "Basic realm=\"http://" + host + "/\",service=\"ecr.amazonaws.com\"");
  return r;
}

Task<Response> Registry::handle(Request& request) {
  // 1. Who is it? The password names the access key it was issued to.
  std::string_view auth = request.header("Authorization");
  std::string password;
  if (auth.size() > 6 && auth.substr(0, 6) == "Basic ") {
    std::string decoded;
    if (!base64_decode(auth.substr(6), decoded)) co_return unauthorized(request, "malformed basic credentials");
    size_t colon = decoded.find(':');
    if (colon == std::string::npos || decoded.substr(0, colon) != "AWS") {
      co_return unauthorized(request, "the user name must be AWS");
    }
    password = decoded.substr(colon + 1);
  } else if (auth.size() > 7 && auth.substr(0, 7) == "Bearer ") {
    // docker sends the password as is; some clients send the whole token.
    password = auth.substr(7);
    std::string decoded;
    if (base64_decode(password, decoded) && decoded.rfind("AWS:", 0) == 0) password = decoded.substr(4);
  } else {
    co_return unauthorized(request, "authentication required");
  }
  auto verified = tokens_.verify(password);
  if (!verified) {
    if (verified.error().code == "expired") {
      Response r = unauthorized(request, verified.error().message);
      r.body = wire::error(status::unauthorized, "DENIED", verified.error().message).body;
      co_return r;
    }
    co_return unauthorized(request, "authentication required");
  }
  RegistryPrincipal who{verified->access_key_id, {}};
  if (access_.lookup) {
    auto found = access_.lookup(verified->access_key_id);
    if (!found) co_return unauthorized(request, "the access key behind this token no longer exists");
    who = std::move(*found);
  }

  // 2. What does it ask for, and may it?
  Route route = parse_route(request.path());
  if (route.kind == Route::Kind::kUnknown) {
    co_return wire::error(status::not_found, "UNSUPPORTED", "the operation is unsupported");
  }
  if (route.kind != Route::Kind::kBase && route.kind != Route::Kind::kCatalog &&
      !is_valid_repository_name(route.name)) {
    co_return wire::error(status::bad_request, "NAME_INVALID", "invalid repository name", route.name);
  }
  RegistryAction action = action_for(request.method());
  if (access_.allowed && !access_.allowed(who, action, route.name)) {
    std::string resource = route.name.empty() ? "*" : catalog_.repository_arn(route.name);
    co_return wire::error(status::forbidden, "DENIED",
                          "User: " + (who.arn.empty() ? who.access_key_id : who.arn) +
                              " is not authorized to perform: " + std::string(action_name(action, request.method())) +
                              " on resource: " + resource);
  }
  co_return co_await dispatch(request, route, who);
}

Task<Response> Registry::dispatch(Request& request, const Route& route, const RegistryPrincipal& who) {
  using Kind = Route::Kind;
  const verb method = request.method();
  if (route.kind == Kind::kBase) {
    Response r(status::ok, "{}", "application/json; charset=utf-8");
    r.set(wire::kApiVersionHeader, wire::kApiVersion);
    co_return r;
  }
  if (route.kind == Kind::kCatalog) {
    if (method != verb::get) co_return wire::error(status::method_not_allowed, "UNSUPPORTED", "method not allowed");
    co_return list_catalog(request, who);
  }
  // Every repository route needs the repository (created by CreateRepository, as on ECR).
  if (auto repo = catalog_.get_repository(route.name); !repo) co_return wire::from_error(repo.error());

  switch (route.kind) {
    case Kind::kTags:
      if (method == verb::get) co_return list_tags(request, route);
      break;
    case Kind::kManifest:
      if (method == verb::get || method == verb::head) co_return co_await get_manifest(request, route);
      if (method == verb::put) co_return co_await put_manifest(request, route);
      if (method == verb::delete_) co_return delete_manifest(route);
      break;
    case Kind::kBlob:
      if (method == verb::get || method == verb::head) co_return co_await get_blob(request, route);
      if (method == verb::delete_) co_return co_await delete_blob(route);
      break;
    case Kind::kUploads:
      if (method == verb::post) co_return co_await start_upload(request, route, who);
      break;
    case Kind::kUpload:
      if (method == verb::patch) co_return co_await patch_upload(request, route);
      if (method == verb::put) co_return co_await finish_upload(request, route);
      if (method == verb::get) co_return upload_status(route);
      if (method == verb::delete_) co_return cancel_upload(route);
      break;
    default:
      break;
  }
  co_return wire::error(status::method_not_allowed, "UNSUPPORTED", "method not allowed");
}

Response Registry::list_tags(Request& request, const Route& route) {
  auto tags = catalog_.list_tags(route.name);
  if (!tags) return wire::from_error(tags.error());
  return paginate(*tags, request, "/v2/" + route.name + "/tags/list", "tags", route.name, options_.default_page);
}

Response Registry::list_catalog(Request& request, const RegistryPrincipal& who) {
  auto repos = catalog_.list_repositories();
  if (!repos) return wire::from_error(repos.error());
  std::vector<std::string> names;
  for (const auto& r : *repos) {
    if (!access_.allowed || access_.allowed(who, RegistryAction::kPull, r.name)) names.push_back(r.name);
  }
  return paginate(names, request, "/v2/_catalog", "repositories", std::nullopt, options_.default_page);
}

}  // namespace berth::ecr
