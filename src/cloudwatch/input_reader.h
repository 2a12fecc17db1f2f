// cloudwatch/input_reader: reading one operation's input the same way
// whichever protocol carried it. JSON 1.0 and CBOR bodies arrive typed
// (numbers, booleans, epoch-second timestamps); query parameters arrive as
// strings (api/query_tree.h), converted here by the member's model type.
//
// A value of the wrong type is refused: SerializationException on JSON and
// CBOR (what AWS's JSON front ends answer), InvalidParameterValue on query.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace berth::cloudwatch {

std::optional<WallTime> parse_iso8601(std::string_view s);

class Input {
 public:
  Input(const boost::json::object& object, bool from_query, std::string path = {})
      : o_(&object), query_(from_query), path_(std::move(path)) {}

  bool has(std::string_view key) const;
  Result<std::optional<std::string>> str(std::string_view key) const;
  Result<std::optional<double>> number(std::string_view key) const;
  Result<std::optional<int64_t>> integer(std::string_view key) const;
  Result<std::optional<bool>> boolean(std::string_view key) const;
  Result<std::optional<WallTime>> time(std::string_view key) const;
  Result<std::optional<Input>> structure(std::string_view key) const;
  Result<std::vector<Input>> structures(std::string_view key) const;
  Result<std::vector<std::string>> strings(std::string_view key) const;
  Result<std::vector<double>> numbers(std::string_view key) const;

 private:
  const boost::json::value* find(std::string_view key) const;
  Error wrong_type(std::string_view key, std::string_view expected) const;
  Result<double> to_number(const boost::json::value& v, std::string_view key) const;
  Result<std::vector<const boost::json::value*>> list(std::string_view key) const;

  const boost::json::object* o_;
  bool query_;
  std::string path_;
};

}  // namespace berth::cloudwatch
