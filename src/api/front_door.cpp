#include "api/front_door.h"

#include <boost/json/object.hpp>

#include <algorithm>
#include <exception>
#include <optional>
#include <vector>

#include "api/cbor.h"
#include "api/envelope.h"
#include "api/json_input.h"
#include "api/query_codec.h"
#include "api/xml_writer.h"
#include "core/ids.h"
#include "core/log.h"
#include "iam/authorize.h"

namespace berth::api {
namespace {

namespace http = boost::beast::http;

// A 413 body is drained (and the connection kept) up to this size; beyond it
// the connection is closed after the answer.
constexpr uint64_t kDrainLimit = 64 * 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view header(std::span<const HeaderField> headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

// The query and EC2 parameters: the URL's query string (pre-signed calls)
// followed by the form body.
Result<QueryParams> parse_params(std::string_view query, std::string_view body) {
  if (query.empty()) return QueryParams::parse(body);
  if (body.empty()) return QueryParams::parse(query);
  std::string both;
  both.reserve(query.size() + 1 + body.size());
  both.append(query).push_back('&');
  both.append(body);
  return QueryParams::parse(both);
}

// What a request looks like on the wire, before knowing its service.
enum class Form { kForm, kJson10, kJson11, kCbor };

// smithy-rpc-v2-cbor: POST /service/<ServiceName>/operation/<Operation>.
struct RpcV2Path {
  std::string_view service, operation;
};
std::optional<RpcV2Path> rpc_v2_path(std::string_view path) {
  constexpr std::string_view kService = "/service/", kOperation = "/operation/";
  if (!path.starts_with(kService)) return std::nullopt;
  path.remove_prefix(kService.size());
  size_t mid = path.find(kOperation);
  if (mid == std::string_view::npos) return std::nullopt;
  RpcV2Path out{path.substr(0, mid), path.substr(mid + kOperation.size())};
  if (out.service.empty() || out.operation.find('/') != std::string_view::npos) return std::nullopt;
  return out;
}

Form request_form(const ApiRequest& req) {
  if (rpc_v2_path(req.path)) return Form::kCbor;
  std::string_view content_type = header(req.headers, "Content-Type");
  if (content_type.starts_with("application/x-amz-json-1.0")) return Form::kJson10;
  if (!header(req.headers, "X-Amz-Target").empty() || content_type.starts_with("application/x-amz-json"))
    return Form::kJson11;
  return Form::kForm;
}

bool speaks(const Service& s, Protocol p) {
  return s.protocol == p || std::find(s.also_speaks.begin(), s.also_speaks.end(), p) != s.also_speaks.end();
}

// The protocol a service answers a request of this form in; nullopt when it
// does not speak it (the caller then falls back to the service's own).
std::optional<Protocol> protocol_for(const Service& s, Form form) {
  switch (form) {
    case Form::kCbor: return speaks(s, Protocol::kRpcV2Cbor) ? std::optional(Protocol::kRpcV2Cbor) : std::nullopt;
    case Form::kJson10:
    case Form::kJson11:
      if (s.protocol == Protocol::kJson) return Protocol::kJson;
      if (speaks(s, Protocol::kJson10)) return Protocol::kJson10;
      return std::nullopt;
    case Form::kForm:
      if (s.protocol == Protocol::kQuery || s.protocol == Protocol::kEc2) return s.protocol;
      return std::nullopt;
  }
  return std::nullopt;
}

// compat: the service when it is awsQueryCompatible; its JSON and CBOR
// errors then carry the query code in x-amzn-query-error, and __type is the
// model's error shape name.
net::Response render_error(Protocol protocol, std::string_view xmlns, const WireError& error,
                           std::string_view request_id, const Service* compat = nullptr) {
  net::Response r;
  r.status = static_cast<http::status>(error.http_status);
  r.body.reserve(256 + error.message.size());
  std::string_view type = error.code;
  if (compat && is_json_family(protocol)) {
    r.set("x-amzn-query-error", error.code + (error.http_status >= 500 ? ";Receiver" : ";Sender"));
    if (auto it = compat->json_error_types.find(error.code); it != compat->json_error_types.end()) type = it->second;
  }
  switch (protocol) {
    case Protocol::kJson:
      write_json_error(r.body, type, error.message);
      r.set("Content-Type", kJsonContentType);
      break;
    case Protocol::kJson10:
      write_json_error(r.body, type, error.message);
      r.set("Content-Type", kJson10ContentType);
      break;
    case Protocol::kRpcV2Cbor:
      write_cbor_error(r.body, type, error.message);
      r.set("Content-Type", kCborContentType);
      r.set("smithy-protocol", "rpc-v2-cbor");
      break;
    case Protocol::kQuery:
      write_query_error(r.body, xmlns, error, request_id);
      r.set("Content-Type", kXmlContentType);
      break;
    case Protocol::kEc2:
      write_ec2_error(r.body, error.code, error.message, request_id);
      r.set("Content-Type", kXmlContentType);
      break;
  }
  r.set("x-amzn-RequestId", request_id);
  return r;
}

WireError unknown_operation(Protocol protocol, std::string_view name) {
  if (is_json_family(protocol)) return {400, "UnknownOperationException", ""};
  return {400, "InvalidAction", "The action " + std::string(name) + " is not valid for this web service."};
}

WireError internal_error(Protocol protocol) {
  if (protocol == Protocol::kEc2) return {500, "InternalError", "An internal error has occurred"};
  return {500, "InternalFailure", "An internal error has occurred"};
}

WireError denied(Protocol protocol, const Error& error) {
  switch (protocol) {
    case Protocol::kJson:
    case Protocol::kJson10:
    case Protocol::kRpcV2Cbor: return {400, "AccessDeniedException", error.message};
    case Protocol::kQuery: return {403, "AccessDenied", error.message};
    case Protocol::kEc2:
      return {403, "UnauthorizedOperation", "You are not authorized to perform this operation. " + error.message};
  }
  return {403, "AccessDenied", error.message};
}

WireError too_large_error(Protocol protocol) {
  std::string message = "Request body is larger than " + std::to_string(kMaxApiBodyBytes) + " bytes";
  if (is_json_family(protocol)) return {413, "RequestEntityTooLargeException", std::move(message)};
  return {413, "RequestEntityTooLarge", std::move(message)};
}

net::Response render_success(const Service& service, Protocol protocol, std::string_view operation,
                             const OperationSpec& spec, std::string_view body, std::string_view request_id) {
  net::Response r;
  switch (protocol) {
    case Protocol::kJson:
      r.body.assign(body.empty() ? std::string_view("{}") : body);
      r.set("Content-Type", kJsonContentType);
      break;
    case Protocol::kJson10:
      r.body.assign(body.empty() ? std::string_view("{}") : body);
      r.set("Content-Type", kJson10ContentType);
      break;
    case Protocol::kRpcV2Cbor:
      r.body.assign(body.empty() ? std::string_view("\xa0") : body);  // an empty map
      r.set("Content-Type", kCborContentType);
      r.set("smithy-protocol", "rpc-v2-cbor");
      break;
    case Protocol::kQuery: {
      r.body.reserve(body.size() + 2 * operation.size() + 200);
      XmlWriter w(r.body);
      if (!spec.has_output) {
        // An operation without output (DeleteUser, AttachUserPolicy...): AWS
        // sends the metadata only, no empty <OpResult/>.
        std::string name = std::string(operation) + "Response";
        w.open_with_xmlns(name, service.xmlns).open("ResponseMetadata").leaf("RequestId", request_id);
        w.close("ResponseMetadata").close(name);
        r.set("Content-Type", kXmlContentType);
        break;
      }
      begin_query_response(w, operation, service.xmlns);
      r.body.append(body);
      end_query_response(w, operation, request_id);
      r.set("Content-Type", kXmlContentType);
      break;
    }
    case Protocol::kEc2: {
      r.body.reserve(body.size() + 2 * operation.size() + 200);
      XmlWriter w(r.body);
      begin_ec2_response(w, operation, request_id);
      r.body.append(body);
      end_ec2_response(w, operation);
      r.set("Content-Type", kXmlContentType);
      break;
    }
  }
  r.set("x-amzn-RequestId", request_id);
  return r;
}

}  // namespace

// How to speak to a request before (or without) authenticating it.
struct FrontDoor::Shape {
  Protocol protocol = Protocol::kQuery;
  std::string_view xmlns = kStsXmlns;
  const Service* service = nullptr;
  const Service* compat = nullptr;  // the service, when it is awsQueryCompatible
};

FrontDoor::FrontDoor(iam::Iam& iam, const Clock& clock) : iam_(iam), clock_(clock) {}

void FrontDoor::add(Service service) {
  auto owned = std::make_unique<Service>(std::move(service));
  const Service* s = owned.get();
  if (!s->json_target_prefix.empty()) by_target_prefix_[s->json_target_prefix] = s;
  if (s->protocol != Protocol::kJson && !s->api_version.empty()) by_version_[s->api_version] = s;
  by_signing_name_[s->signing_name] = std::move(owned);
}

const Service* FrontDoor::find_service(std::string_view signing_name) const {
  auto it = by_signing_name_.find(signing_name);
  return it == by_signing_name_.end() ? nullptr : it->second.get();
}

FrontDoor::Shape FrontDoor::guess_shape(const ApiRequest& req) const {
  Form form = request_form(req);
  if (form != Form::kForm) {
    // JSON: the X-Amz-Target prefix; CBOR: the service name in the path.
    std::string_view target = header(req.headers, "X-Amz-Target");
    std::string_view prefix =
        form == Form::kCbor ? rpc_v2_path(req.path)->service : target.substr(0, target.find('.'));
    Shape shape{form == Form::kCbor     ? Protocol::kRpcV2Cbor
                : form == Form::kJson10 ? Protocol::kJson10
                                        : Protocol::kJson,
                {}, nullptr};
    auto it = by_target_prefix_.find(prefix);
    if (it != by_target_prefix_.end()) {
      shape.service = it->second;
      shape.protocol = protocol_for(*it->second, form).value_or(shape.protocol);
      if (it->second->query_compatible) shape.compat = it->second;
    }
    return shape;
  }
  auto params = parse_params(req.query, req.body);
  if (params) {
    if (auto version = params->get("Version")) {
      auto it = by_version_.find(*version);
      if (it != by_version_.end())
        return Shape{it->second->protocol, it->second->xmlns, it->second};
      if (*version == "2016-11-15") return Shape{Protocol::kEc2, kEc2Xmlns, nullptr};
    }
  }
  return Shape{};
}

net::Response FrontDoor::answer(const ApiRequest& req) {
  std::string request_id = ids::uuid4();
  WallTime now = clock_.now();
  SignedRequest signed_request{req.method, req.path, req.query, req.headers, req.body};

  // 1. The service: from the credential scope, else from the request's shape.
  Shape shape;
  auto peek = peek_credential_scope(signed_request);
  if (peek) {
    shape.service = find_service(peek->scope.service);
    if (shape.service) {
      shape.protocol = protocol_for(*shape.service, request_form(req)).value_or(shape.service->protocol);
      shape.xmlns = shape.service->xmlns;
      if (shape.service->query_compatible) shape.compat = shape.service;
    } else {
      shape = guess_shape(req);
      shape.service = nullptr;
    }
  } else {
    shape = guess_shape(req);
  }

  // 2. Authenticate against the in-memory Directory.
  auto directory = iam_.directory();
  const iam::Principal* principal = nullptr;
  auto lookup = [&](std::string_view key) -> std::optional<std::string> {
    principal = directory->find(key);
    if (!principal) return std::nullopt;
    return principal->secret;
  };
  VerifyResult verified = verify_sigv4(signed_request, lookup, now);
  if (auto* failure = std::get_if<AuthFailure>(&verified))
    return render_error(shape.protocol, shape.xmlns, auth_error(*failure, shape.protocol), request_id, shape.compat);
  const auto& auth = std::get<Authenticated>(verified);
  if (!shape.service) {
    std::string_view name = header(req.headers, "X-Amz-Target");
    return render_error(shape.protocol, shape.xmlns, unknown_operation(shape.protocol, name), request_id, shape.compat);
  }
  const Service& service = *shape.service;

  // 3. The operation and its input.
  boost::json::object json_input;
  QueryParams params;
  std::string_view operation;
  if (shape.protocol == Protocol::kRpcV2Cbor) {
    auto path = rpc_v2_path(req.path);
    if (path && path->service == service.json_target_prefix) operation = path->operation;
    if (operation.empty() || !service.operations.contains(operation))
      return render_error(shape.protocol, shape.xmlns, unknown_operation(shape.protocol, operation), request_id,
                          shape.compat);
  } else if (shape.protocol == Protocol::kJson || shape.protocol == Protocol::kJson10) {
    std::string_view target = header(req.headers, "X-Amz-Target");
    size_t dot = target.find('.');
    if (dot != std::string_view::npos && target.substr(0, dot) == service.json_target_prefix)
      operation = target.substr(dot + 1);
    if (operation.empty() || !service.operations.contains(operation))
      return render_error(shape.protocol, shape.xmlns, unknown_operation(shape.protocol, target), request_id,
                          shape.compat);
  } else {
    auto parsed = parse_params(req.query, req.body);
    if (!parsed)
      return render_error(shape.protocol, shape.xmlns, to_wire(parsed.error(), shape.protocol), request_id,
                          shape.compat);
    params = std::move(*parsed);
    auto action = params.get("Action");
    if (!action || action->empty())
      return render_error(shape.protocol, shape.xmlns,
                          {400, "MissingAction", "The request is missing an action or a required parameter."},
                          request_id);
    operation = *action;
    if (!service.operations.contains(operation))
      return render_error(shape.protocol, shape.xmlns, unknown_operation(shape.protocol, operation), request_id,
                          shape.compat);
  }
  const OperationSpec& spec = service.operations.find(operation)->second;

  // 4. Authorize.
  if (auto allowed = iam::authorize(*principal, service.signing_name, operation, spec.read_only); !allowed)
    return render_error(shape.protocol, shape.xmlns, denied(shape.protocol, allowed.error()), request_id, shape.compat);

  QueryView query_view = params.root();
  OperationInput input;
  if (shape.protocol == Protocol::kRpcV2Cbor) {
    auto body = decode_cbor(req.body);
    if (body && !body->is_object())
      body = Error::invalid(std::string(kSerializationException), "The CBOR body is not a map");
    if (!body)
      return render_error(shape.protocol, shape.xmlns, to_wire(body.error(), shape.protocol), request_id, shape.compat);
    json_input = std::move(body->as_object());
    input.json = &json_input;
  } else if (is_json_family(shape.protocol)) {
    auto body = parse_json_body(req.body, JsonLimits{64, kMaxApiBodyBytes});
    if (!body) return render_error(shape.protocol, shape.xmlns, to_wire(body.error(), shape.protocol), request_id,
                                   shape.compat);
    json_input = std::move(*body);
    input.json = &json_input;
  } else {
    input.query = &query_view;
  }

  // 5. Run it; an exception is a bug, answered 500 and logged.
  CallContext ctx{request_id, operation, auth.scope.region, header(req.headers, "Host"), principal->caller, now,
                  shape.protocol};
  try {
    Result<std::string> result = spec.run(ctx, input);
    if (!result) {
      const Error& error = result.error();
      if (error.error_class == ErrorClass::kInternal) {
        log::error("api", service.signing_name, ":", operation, " failed: ", error.message, " (request ",
                   request_id, ")");
        return render_error(shape.protocol, shape.xmlns, internal_error(shape.protocol), request_id, shape.compat);
      }
      return render_error(shape.protocol, shape.xmlns, to_wire(error, shape.protocol), request_id, shape.compat);
    }
    return render_success(service, shape.protocol, operation, spec, *result, request_id);
  } catch (const std::exception& e) {
    log::error("api", service.signing_name, ":", operation, " threw: ", e.what(), " (request ", request_id, ")");
  } catch (...) {
    log::error("api", service.signing_name, ":", operation, " threw a non-exception (request ", request_id, ")");
  }
  return render_error(shape.protocol, shape.xmlns, internal_error(shape.protocol), request_id, shape.compat);
}

std::optional<net::Response> FrontDoor::check_access(const ApiRequest& req, std::string_view action_prefix,
                                                     std::string_view action, bool read_only) const {
  SignedRequest signed_request{req.method, req.path, req.query, req.headers, req.body};
  auto directory = iam_.directory();
  const iam::Principal* principal = nullptr;
  auto lookup = [&](std::string_view key) -> std::optional<std::string> {
    principal = directory->find(key);
    if (!principal) return std::nullopt;
    return principal->secret;
  };
  std::optional<WireError> refusal;
  VerifyResult verified = verify_sigv4(signed_request, lookup, clock_.now());
  if (auto* failure = std::get_if<AuthFailure>(&verified)) {
    refusal = auth_error(*failure, Protocol::kJson);
  } else if (auto allowed = iam::authorize(*principal, action_prefix, action, read_only); !allowed) {
    refusal = denied(Protocol::kJson, allowed.error());
  }
  if (!refusal) return std::nullopt;
  refusal->http_status = 403;
  return render_error(Protocol::kJson, {}, *refusal, ids::uuid4());
}

net::Response FrontDoor::too_large(const net::Request& request) {
  std::vector<HeaderField> headers;
  for (const auto& field : request.headers())
    headers.push_back({std::string_view(field.name_string().data(), field.name_string().size()),
                       std::string_view(field.value().data(), field.value().size())});
  ApiRequest req{request.method_string(), request.path(), request.query(), headers, {}};
  Shape shape;
  SignedRequest signed_request{req.method, req.path, req.query, req.headers, {}};
  if (auto peek = peek_credential_scope(signed_request); peek && find_service(peek->scope.service)) {
    const Service* s = find_service(peek->scope.service);
    shape = Shape{protocol_for(*s, request_form(req)).value_or(s->protocol), s->xmlns, s,
                  s->query_compatible ? s : nullptr};
  } else {
    shape = guess_shape(req);
  }
  return render_error(shape.protocol, shape.xmlns, too_large_error(shape.protocol), ids::uuid4(),
                      shape.compat);
}

net::Task<net::Response> FrontDoor::handle(net::Request& request) {
  auto length = request.content_length();
  if (length && *length > kMaxApiBodyBytes) {
    // Answer without reading; the server drains a body it can afford to, so
    // the client gets the answer on a live connection.
    request.set_body_limit(kDrainLimit);
    net::Response r = too_large(request);
    r.close = *length > kDrainLimit;
    co_return r;
  }
  request.set_body_limit(kMaxApiBodyBytes);
  auto body = co_await request.read_body();
  if (!body) {
    if (body.error().code == "RequestEntityTooLarge") {
      net::Response r = too_large(request);
      r.close = true;
      co_return r;
    }
    net::Response r(http::status::bad_request, body.error().message + "\n");
    r.close = true;
    co_return r;
  }
  std::vector<HeaderField> headers;
  headers.reserve(16);
  for (const auto& field : request.headers())
    headers.push_back({std::string_view(field.name_string().data(), field.name_string().size()),
                       std::string_view(field.value().data(), field.value().size())});
  co_return answer(ApiRequest{request.method_string(), request.path(), request.query(), headers, *body});
}

}  // namespace berth::api
