// api/service: how a service module (iam, sts, ec2, ecs, ecr, elb) offers its
// operations to the front door, without knowing HTTP, SigV4 or envelopes.
//
//   front door: verify SigV4 ─► pick Service by credential scope + request shape
//               ─► authorize (iam) ─► decode input ─► Operation ─► envelope
//
// A module builds one Service value listing its operations; `berth serve`
// registers it with the front door. Operations run on an event-loop thread,
// validate their input, write through one store transaction, and return the
// body (JSON 1.1: the whole JSON document; query and EC2: the XML written
// between the envelopes, which the front door adds).
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/envelope.h"
#include "api/query_codec.h"
#include "core/clock.h"
#include "core/error.h"

namespace berth::api {

// Who signed the request.
struct Caller {
  std::string account_id;     // 12 digits
  std::string user_name;      // "administrator"
  std::string user_id;        // "AIDA..."
  std::string arn;            // "arn:aws:iam::123456789012:user/administrator"
  std::string access_key_id;  // "AKIA..."
};

struct CallContext {
  std::string_view request_id;
  std::string_view operation;
  std::string_view region;  // from the credential scope
  std::string_view host;    // the Host header, for URIs the caller must be able to reach
  const Caller& caller;
  WallTime now;
  // The protocol this request spoke (a service may offer several, and
  // answers in the one it was asked in: api/document.h).
  Protocol protocol = Protocol::kJson;
};

// Exactly one member is set, by the request's protocol.
struct OperationInput {
  const boost::json::object* json = nullptr;  // JSON 1.0/1.1 body or the CBOR body decoded ({} when empty)
  const QueryView* query = nullptr;           // query / EC2 parameters (Action and Version included)
};

using Operation = std::function<Result<std::string>(const CallContext&, const OperationInput&)>;

struct OperationSpec {
  Operation run;
  bool read_only = false;  // allowed under ReadOnlyAccess (Describe*, List*, Get*)
  // Query protocol: an operation whose model has no output shape (IAM's
  // DeleteUser) answers with the metadata only; every other one keeps its
  // <OpResult> wrapper even when empty, since botocore looks it up.
  bool has_output = true;
};

struct Service {
  std::string signing_name;        // SigV4 scope: "ec2", "sts", "iam", "ecs", "ecr", "elasticloadbalancing"
  Protocol protocol = Protocol::kJson;
  std::string json_target_prefix;  // JSON 1.1: "AmazonEC2ContainerServiceV20141113"
  std::string xmlns;               // query: the model's xmlNamespace (EC2: kEc2Xmlns)
  std::string api_version;         // "2016-11-15", "2015-12-01", "2011-06-15", "2010-05-08"
  // Protocols offered besides `protocol` (CloudWatch: kQuery, also kJson10
  // with X-Amz-Target <json_target_prefix>.<Op>, and kRpcV2Cbor at
  // /service/<json_target_prefix>/operation/<Op>). The front door picks one
  // by the request's shape and tells the operation in CallContext::protocol.
  std::vector<Protocol> also_speaks;
  // The model's awsQueryCompatible trait: JSON/CBOR errors also carry
  // `x-amzn-query-error: <Code>;Sender|Receiver`, the query code botocore reports.
  bool query_compatible = false;
  // query code -> the model's error shape name, the __type of JSON/CBOR
  // errors ("InvalidParameterValue" -> "InvalidParameterValueException").
  std::map<std::string, std::string, std::less<>> json_error_types;
  std::map<std::string, OperationSpec, std::less<>> operations;

  void add(std::string name, Operation run) {
    bool read_only = name.rfind("Describe", 0) == 0 || name.rfind("List", 0) == 0 || name.rfind("Get", 0) == 0 ||
                     name.rfind("BatchGet", 0) == 0;
    operations[std::move(name)] = OperationSpec{std::move(run), read_only};
  }
  void add_without_output(std::string name, Operation run) {
    add(name, std::move(run));
    operations[name].has_output = false;
  }
};

}  // namespace berth::api
