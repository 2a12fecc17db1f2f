// api/envelope: the success and error envelopes of the three protocol
// families, and the table that turns errors into wire codes and statuses.
//
// Owns (reference §1.2-§1.4, §1.7):
//   json  (ECS, ECR)   error body {"__type":"Code","message":"..."}
//   query (ELBv2, STS) <OpResponse xmlns><OpResult>...</OpResult>
//                      <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></OpResponse>
//                      <ErrorResponse xmlns><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/></ErrorResponse>
//   ec2                <OpResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId/>...</OpResponse>
//                      <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
// and the mapping AuthFailure (api/sigv4.h) -> code/status/message per family.
//
// Success bodies are written in two halves (begin_/end_) around the
// handler's own XmlWriter calls, straight into the response buffer.
#pragma once

#include <string>
#include <string_view>

#include "api/sigv4.h"
#include "api/xml_writer.h"
#include "core/error.h"

namespace berth::api {

// kJson is JSON 1.1 (ECS, ECR); kJson10 (application/x-amz-json-1.0) and
// kRpcV2Cbor (smithy-rpc-v2-cbor, POST /service/<Service>/operation/<Op>)
// are offered by CloudWatch besides query. The JSON family and CBOR share
// the error codes ({"__type","message"}); only the body's encoding differs.
enum class Protocol { kJson, kQuery, kEc2, kJson10, kRpcV2Cbor };

// JSON 1.0, JSON 1.1 and CBOR: the protocols whose errors carry __type.
inline bool is_json_family(Protocol p) {
  return p == Protocol::kJson || p == Protocol::kJson10 || p == Protocol::kRpcV2Cbor;
}

inline constexpr std::string_view kEc2Xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/";
inline constexpr std::string_view kElbv2Xmlns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
inline constexpr std::string_view kStsXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kJson10ContentType = "application/x-amz-json-1.0";
inline constexpr std::string_view kCborContentType = "application/cbor";
inline constexpr std::string_view kXmlContentType = "text/xml";

// What goes on the wire for a failed call.
struct WireError {
  int http_status = 400;
  std::string code;
  std::string message;
};

// §1.7: the code, status and exact message for an authentication failure.
WireError auth_error(const AuthFailure& failure, Protocol protocol);

// The status for an Error of a given class when the handler has no more
// specific one (the query protocol's model httpStatusCode wins over this):
// invalid/not found/exists/conflict 400, denied 403 (EC2 UnauthorizedOperation),
// unauthenticated 403 (EC2 401), unavailable 503, internal 500.
int default_http_status(ErrorClass error_class, Protocol protocol);
// Error::http_status, when set, wins over the class default.
WireError to_wire(const Error& error, Protocol protocol);

// ---- JSON 1.1 ----
void write_json_error(std::string& out, std::string_view code, std::string_view message);
// ---- rpc-v2-cbor ---- the same two members in a CBOR map.
void write_cbor_error(std::string& out, std::string_view code, std::string_view message);

// ---- query ----
// Writes <OpResponse xmlns="..."><OpResult>
void begin_query_response(XmlWriter& w, std::string_view operation, std::string_view xmlns);
// Writes </OpResult><ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>
void end_query_response(XmlWriter& w, std::string_view operation, std::string_view request_id);
// <Type> is Sender below 500, Receiver from 500 on.
void write_query_error(std::string& out, std::string_view xmlns, const WireError& error, std::string_view request_id);

// ---- EC2 ----
// Writes <?xml ...?><OpResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>id</requestId>
void begin_ec2_response(XmlWriter& w, std::string_view operation, std::string_view request_id);
// Writes </OpResponse>
void end_ec2_response(XmlWriter& w, std::string_view operation);
void write_ec2_error(std::string& out, std::string_view code, std::string_view message, std::string_view request_id);

}  // namespace berth::api
