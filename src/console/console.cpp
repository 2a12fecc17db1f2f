#include "console/console.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>

#include "console/static_files.h"

namespace berth::console {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

net::Response json_answer(http::status status, const json::object& body) {
  net::Response r(status, json::serialize(body), "application/json");
  r.set("Cache-Control", "no-store");  // the answer may hold a secret key
  add_security_headers(r);
  return r;
}

net::Response json_error(http::status status, std::string_view type, std::string_view message) {
  return json_answer(status, json::object{{"__type", type}, {"message", message}});
}

}  // namespace

api::Service Console::service() {
  api::Service s;
  s.signing_name = std::string(kSigningName);
  s.protocol = api::Protocol::kJson;
  s.json_target_prefix = std::string(kTargetPrefix);
  s.api_version = "2026-12-05";
  s.add("CreateConsoleSignInToken", [this](const api::CallContext& ctx, const api::OperationInput&)
                                        -> Result<std::string> {
    auto token = tokens_.issue(ctx.caller.access_key_id, ctx.now);
    if (!token) return std::move(token).error();
    auto expires = std::chrono::duration_cast<std::chrono::seconds>(
        (ctx.now + kSignInTokenLifetime).time_since_epoch());
    return json::serialize(json::object{{"token", *token}, {"expiresAt", expires.count()}});
  });
  return s;
}

net::Response Console::redeem(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  const json::string* token = nullptr;
  if (!ec && parsed.is_object())
    if (auto* t = parsed.as_object().if_contains("token"); t && t->is_string()) token = &t->as_string();
  if (token == nullptr)
    return json_error(http::status::bad_request, "SerializationException", "The body must be {\"token\": \"...\"}.");
  auto key = tokens_.redeem(*token, clock_.now());
  if (!key) return json_error(http::status::forbidden, key.error().code, key.error().message);
  // The key may have been deleted since the link was made: then the link is void too.
  auto directory = iam_.directory();
  const iam::Principal* principal = directory->find(*key);
  if (principal == nullptr)
    return json_error(http::status::forbidden, "InvalidSignInToken",
                      "The sign-in link is not valid: its access key no longer exists.");
  return json_answer(http::status::ok, json::object{{"AccessKeyId", principal->caller.access_key_id},
                                                    {"SecretAccessKey", principal->secret},
                                                    {"UserArn", principal->caller.arn}});
}

net::Task<net::Response> Console::handle(net::Request& request) {
  std::string_view path = request.path();
  if (path == "/console") {
    net::Response r(http::status::moved_permanently, "", "");
    r.set("Location", "/console/");
    co_return r;
  }
  std::string_view name = path.substr(std::string_view("/console/").size());
  if (name == "sign-in") {
    if (request.method() != http::verb::post) {
      auto r = json_error(http::status::method_not_allowed, "MethodNotAllowed", "POST a sign-in token here.");
      r.set("Allow", "POST");
      co_return r;
    }
    request.set_body_limit(4096);
    auto body = co_await request.read_body();
    if (!body) co_return json_error(http::status::bad_request, "SerializationException", body.error().message);
    co_return redeem(*body);
  }
  co_return serve_asset(request, name);
}

}  // namespace berth::console
