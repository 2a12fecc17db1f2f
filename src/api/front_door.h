// api/front_door: every AWS API call enters here.
//
//   Request ─► read body (≤ 10 MiB, else 413 shaped error)
//           ─► pick Service: SigV4 credential scope; unsigned: X-Amz-Target /
//              /service/<name>/ path / Version shape (only to render the
//              right missing-auth error)
//           ─► pick the protocol among those the service offers, by the
//              request's shape: /service/<name>/operation/<Op> is
//              smithy-rpc-v2-cbor, X-Amz-Target with x-amz-json-1.0 JSON 1.0
//              (1.1 for JSON 1.1 services), a form body query/EC2
//           ─► verify SigV4 (header or pre-signed) against iam's Directory
//           ─► find the operation (path, X-Amz-Target or Action)
//           ─► authorize (iam) ─► decode input (JSON, CBOR or form) ─► Operation
//           ─► envelope per protocol, x-amzn-RequestId header
//
// Never a 5xx for a client fault: only an operation's own internal error or
// an exception escaping it gives InternalFailure (InternalError on EC2),
// and that is logged. No SQLite access here: the Directory is in memory.
#pragma once

#include <map>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "api/service.h"
#include "api/sigv4.h"
#include "core/clock.h"
#include "iam/iam.h"
#include "net/http_server.h"

namespace berth::api {

inline constexpr size_t kMaxApiBodyBytes = 10 * 1024 * 1024;

// One call as the front door needs it, independent of the HTTP server.
struct ApiRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  std::span<const HeaderField> headers;
  std::string_view body;
};

class FrontDoor {
 public:
  FrontDoor(iam::Iam& iam, const Clock& clock);

  // Registers a service; call before serving. A second service with the
  // same signing name replaces the first.
  void add(Service service);
  const Service* find_service(std::string_view signing_name) const;

  // The net::Handler body: reads the request and answers it.
  net::Task<net::Response> handle(net::Request& request);

  // The synchronous core (also what unit tests drive).
  net::Response answer(const ApiRequest& request);

  // For berth's own endpoints outside the AWS API (/_berth/metrics): the
  // request must be SigV4-signed by a known key (any signing service name)
  // whose identity may perform `action_prefix:action`. nullopt when it may;
  // else the refusal, 403 with a JSON 1.1 error body (AWS's codes and texts:
  // MissingAuthenticationTokenException, InvalidSignatureException,
  // AccessDeniedException...). 403 rather than the JSON protocol's 400, so
  // that a scraper reports it as the access problem it is.
  std::optional<net::Response> check_access(const ApiRequest& request, std::string_view action_prefix,
                                            std::string_view action, bool read_only) const;

 private:
  struct Shape;
  Shape guess_shape(const ApiRequest& request) const;
  net::Response too_large(const net::Request& request);

  iam::Iam& iam_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Service>, std::less<>> by_signing_name_;
  std::map<std::string, const Service*, std::less<>> by_target_prefix_;
  std::map<std::string, const Service*, std::less<>> by_version_;
};

}  // namespace berth::api
