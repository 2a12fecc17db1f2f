#include "api/envelope.h"

#include "api/document.h"
#include "core/utf8.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

namespace berth::api {
namespace {

constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details.";
constexpr std::string_view kInvalidToken = "The security token included in the request is invalid.";
constexpr std::string_view kEc2AuthFailure = "AWS was not able to validate the provided access credentials";

std::string window_text(std::chrono::seconds window) {
  if (window.count() % 60 == 0) return std::to_string(window.count() / 60) + " min.";
  return std::to_string(window.count()) + " sec.";
}

// S2 / S3 of reference §1.7.
std::string expired_message(const AuthFailure& f) {
  return "Signature expired: " + f.request_date + " is now earlier than " + f.bound_date + " (" + f.now_date + " - " +
         window_text(f.window) + ")";
}
std::string not_yet_current_message(const AuthFailure& f) {
  return "Signature not yet current: " + f.request_date + " is still later than " + f.bound_date + " (" + f.now_date +
         " + " + window_text(f.window) + ")";
}

std::string or_default(const std::string& detail, std::string_view fallback) {
  return detail.empty() ? std::string(fallback) : detail;
}

}  // namespace

WireError auth_error(const AuthFailure& f, Protocol protocol) {
  using K = AuthFailureKind;
  switch (protocol) {
    case Protocol::kJson:
    case Protocol::kJson10:
    case Protocol::kRpcV2Cbor:
      switch (f.kind) {
        case K::kMissingAuth: return {400, "MissingAuthenticationTokenException", "Missing Authentication Token"};
        case K::kIncompleteSignature: return {400, "IncompleteSignatureException", f.detail};
        case K::kUnknownKey: return {400, "UnrecognizedClientException", std::string(kInvalidToken)};
        case K::kBadSignature: return {400, "InvalidSignatureException", or_default(f.detail, kSignatureMismatch)};
        case K::kExpired: return {400, "InvalidSignatureException", expired_message(f)};
        case K::kNotYetCurrent: return {400, "InvalidSignatureException", not_yet_current_message(f)};
      }
      break;
    case Protocol::kQuery:
      switch (f.kind) {
        case K::kMissingAuth: return {403, "MissingAuthenticationToken", "Request is missing Authentication Token"};
        case K::kIncompleteSignature: return {400, "IncompleteSignature", f.detail};
        case K::kUnknownKey: return {403, "InvalidClientTokenId", std::string(kInvalidToken)};
        case K::kBadSignature: return {403, "SignatureDoesNotMatch", or_default(f.detail, kSignatureMismatch)};
        case K::kExpired: return {403, "SignatureDoesNotMatch", expired_message(f)};
        case K::kNotYetCurrent: return {403, "SignatureDoesNotMatch", not_yet_current_message(f)};
      }
      break;
    case Protocol::kEc2:
      switch (f.kind) {
        case K::kMissingAuth:
          return {401, "MissingAuthenticationToken",
                  "The request must contain either a valid (registered) AWS access key ID or X.509 certificate."};
        case K::kIncompleteSignature: return {400, "IncompleteSignature", f.detail};
        case K::kUnknownKey: return {401, "AuthFailure", std::string(kEc2AuthFailure)};
        case K::kBadSignature: return {401, "AuthFailure", std::string(kEc2AuthFailure)};
        case K::kExpired: return {400, "RequestExpired", "Request has expired."};
        case K::kNotYetCurrent: return {400, "RequestExpired", not_yet_current_message(f)};
      }
      break;
  }
  return {500, "InternalFailure", "Unknown authentication failure"};
}

int default_http_status(ErrorClass c, Protocol protocol) {
  switch (c) {
    case ErrorClass::kInvalid:
    case ErrorClass::kNotFound:
    case ErrorClass::kAlreadyExists:
    case ErrorClass::kConflict: return 400;
    case ErrorClass::kDenied: return 403;
    case ErrorClass::kUnauthenticated: return protocol == Protocol::kEc2 ? 401 : 403;
    case ErrorClass::kUnavailable: return 503;
    case ErrorClass::kInternal: return 500;
  }
  return 500;
}

WireError to_wire(const Error& error, Protocol protocol) {
  int status = error.http_status != 0 ? error.http_status : default_http_status(error.error_class, protocol);
  return {status, error.code, error.message};
}

void write_json_error(std::string& out, std::string_view code, std::string_view message) {
  out.append("{\"__type\":");
  out.append(boost::json::serialize(boost::json::string_view(code.data(), code.size())));
  out.append(",\"message\":");
  // Messages may quote what a client sent (a header's bytes): JSON must stay UTF-8.
  std::string text = utf8::to_valid(message);
  out.append(boost::json::serialize(boost::json::string_view(text.data(), text.size())));
  out.push_back('}');
}

void write_cbor_error(std::string& out, std::string_view code, std::string_view message) {
  Doc d = Doc::structure();
  d.set("__type", Doc::string(std::string(code))).set("message", Doc::string(utf8::to_valid(message)));
  out.append(to_cbor(d));
}

void begin_query_response(XmlWriter& w, std::string_view operation, std::string_view xmlns) {
  std::string name(operation);
  w.open_with_xmlns(name + "Response", xmlns);
  w.open(name + "Result");
}

void end_query_response(XmlWriter& w, std::string_view operation, std::string_view request_id) {
  std::string name(operation);
  w.close(name + "Result");
  w.open("ResponseMetadata").leaf("RequestId", request_id).close("ResponseMetadata");
  w.close(name + "Response");
}

void write_query_error(std::string& out, std::string_view xmlns, const WireError& error, std::string_view request_id) {
  XmlWriter w(out);
  w.open_with_xmlns("ErrorResponse", xmlns)
      .open("Error")
      .leaf("Type", error.http_status >= 500 ? "Receiver" : "Sender")
      .leaf("Code", error.code)
      .leaf("Message", error.message)
      .close("Error")
      .leaf("RequestId", request_id)
      .close("ErrorResponse");
}

void begin_ec2_response(XmlWriter& w, std::string_view operation, std::string_view request_id) {
  std::string name(operation);
  name.append("Response");
  w.declaration().open_with_xmlns(name, kEc2Xmlns).leaf("requestId", request_id);
}

void end_ec2_response(XmlWriter& w, std::string_view operation) {
  std::string name(operation);
  name.append("Response");
  w.close(name);
}

void write_ec2_error(std::string& out, std::string_view code, std::string_view message, std::string_view request_id) {
  XmlWriter w(out);
  w.declaration()
      .open("Response")
      .open("Errors")
      .open("Error")
      .leaf("Code", code)
      .leaf("Message", message)
      .close("Error")
      .close("Errors")
      .leaf("RequestID", request_id)
      .close("Response");
}

}  // namespace berth::api
