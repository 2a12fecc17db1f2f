// export/template: a CloudFormation template as data, and its two
// renderings. Builders add parameters, resources and outputs; the writers
// sort every map's keys, so the same template gives the same bytes.
//
//   builders ─► Template ─► write_json() / write_yaml()
//
// Properties are Boost.JSON values; references between resources are the
// intrinsic functions make_ref() / get_att() / sub(), never berth's ids.
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cfn {

namespace json = boost::json;

struct Resource {
  std::string type;  // "AWS::ECS::Service"
  json::object properties;
  std::set<std::string> depends_on;  // logical ids
  // "Retain" for what holds the user's data (images, logs), so deleting the
  // stack leaves it; empty: CloudFormation's default (Delete).
  std::string deletion_policy;
};

struct Template {
  std::string description;
  std::map<std::string, json::object> parameters;
  std::map<std::string, Resource> resources;
  std::map<std::string, json::object> outputs;
};

json::value make_ref(std::string_view logical_id);
json::value get_att(std::string_view logical_id, std::string_view attribute);
json::value sub(std::string_view text);
json::value join(std::string_view separator, json::array parts);

// Logical ids: the berth name in PascalCase (alphanumerics only) followed by
// the kind ("outyet-alb" + "LoadBalancer" -> "OutyetAlbLoadBalancer"); a
// second name that comes out the same gets "2", "3", ... in the order asked,
// so callers ask in sorted order to stay deterministic.
class LogicalIds {
 public:
  std::string make(std::string_view name, std::string_view kind);

 private:
  std::set<std::string> taken_;
};

// Pretty-printed JSON, keys sorted, two spaces, a final newline.
std::string write_json(const Template& t);
// The same document as block YAML (long-form intrinsics: "Ref:", "Fn::GetAtt:"),
// every string double-quoted, so no value changes type on the way.
std::string write_yaml(const Template& t);

// The document write_json and write_yaml render.
json::object to_document(const Template& t);

}  // namespace berth::cfn
