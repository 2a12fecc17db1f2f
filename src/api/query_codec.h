// api/query_codec: the wire text of the query and EC2 protocols.
//
// Owns: percent-decoding of application/x-www-form-urlencoded bodies and URL
// query strings into an ordered list of (key, value) pairs, UTF-8 checks,
// the SigV4 "URI encode" spelling, and reading the flattened shapes the
// query (ELBv2, STS) and EC2 serializers of botocore produce:
//
//   Names.member.1=a&Names.member.2=b              member_values("Names")
//   Tags.member.1.Key=k&Tags.member.1.Value=v      members("Tags")[0].get("Key")
//   GroupId.1=sg-1                                 values("GroupId")
//   Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1    items("Filter")[0].values("Value")
//   IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0    items("IpPermissions")[0].items("IpRanges")[0].get("CidrIp")
//
//   form text --parse--> QueryParams (vector of pairs, wire order)
//                             |
//                         QueryView (a key prefix, e.g. "IpPermissions.1.")
//
// Indices must be positive decimal integers without leading zeros; items are
// returned sorted by index (gaps allowed, duplicates of a scalar index are an
// error). Every error is an Error of class kInvalid; no exception escapes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace berth::api {

// The code AWS's common errors list for a query string it cannot parse.
inline constexpr std::string_view kMalformedQueryString = "MalformedQueryString";


// Decodes %XX escapes; with plus_is_space, '+' becomes ' ' (form encoding).
// nullopt on a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// Appends s with every byte outside A-Z a-z 0-9 - _ . ~ (and '/' when
// keep_slash) written as %XX with upper-case hex: SigV4's UriEncode, the
// same as Python's quote(s, safe='-_.~' or '/~').
void uri_encode(std::string_view s, bool keep_slash, std::string& out);
std::string uri_encode(std::string_view s, bool keep_slash = false);

struct QueryParam {
  std::string key;
  std::string value;
};

class QueryView;

class QueryParams {
 public:
  QueryParams() = default;

  // Parses "a=1&b=2" (a form body or a query string without '?'). Empty
  // pieces are skipped; a piece without '=' has an empty value. Fails on a
  // bad %-escape or a key/value that is not UTF-8.
  static Result<QueryParams> parse(std::string_view text);

  // First value of an exact key.
  std::optional<std::string_view> get(std::string_view key) const;
  bool contains(std::string_view key) const { return get(key).has_value(); }
  const std::vector<QueryParam>& all() const { return params_; }
  size_t size() const { return params_.size(); }

  QueryView root() const;

 private:
  std::vector<QueryParam> params_;
};

// A window on a QueryParams under a key prefix ("" for the root, else a
// prefix ending in '.'). Cheap to copy; it must not outlive its QueryParams.
class QueryView {
 public:
  QueryView(const QueryParams& params, std::string prefix) : params_(&params), prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }
  const QueryParams& params() const { return *params_; }
  std::optional<std::string_view> get(std::string_view key) const;
  bool contains(std::string_view key) const { return get(key).has_value(); }
  // True when any key starts with prefix + key + '.' or equals prefix + key.
  bool has_any(std::string_view key) const;
  // The structure under key: prefix + key + '.'.
  QueryView sub(std::string_view key) const;

  // EC2 flattened lists: key.N (scalars) and key.N.* (structures).
  Result<std::vector<std::string_view>> values(std::string_view key) const;
  Result<std::vector<QueryView>> items(std::string_view key) const;
  // Query-protocol lists: key.member.N and key.member.N.*.
  Result<std::vector<std::string_view>> member_values(std::string_view key) const;
  Result<std::vector<QueryView>> members(std::string_view key) const;
  // Query-protocol maps: key.entry.N.key / key.entry.N.value.
  Result<std::vector<std::pair<std::string_view, std::string_view>>> entries(std::string_view key) const;

 private:
  const QueryParams* params_;
  std::string prefix_;
};

}  // namespace berth::api
