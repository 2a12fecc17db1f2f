#include "autoscaling/requests.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>

#include "autoscaling/internal.h"

namespace berth::autoscaling {
namespace {

std::string lower_camel(std::string_view member) {
  std::string s(member);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string shown(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); }

// The model's ServiceNamespace enum.
const std::vector<std::string_view> kNamespaces{"ecs",        "elasticmapreduce", "ec2",         "appstream",
                                                "dynamodb",   "rds",              "sagemaker",   "custom-resource",
                                                "comprehend", "lambda",           "cassandra",   "kafka",
                                                "elasticache", "neptune",         "workspaces"};

std::string enum_set(const std::vector<std::string_view>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::string(values[i]);
  return out + "]";
}

}  // namespace

Error validation(std::string message) { return Error::invalid("ValidationException", std::move(message)); }

Error constraint(std::string_view member, const json::value& value, std::string_view constraint) {
  return validation("1 validation error detected: Value '" + shown(value) + "' at '" + lower_camel(member) +
                    "' failed to satisfy constraint: " + std::string(constraint));
}

Result<std::optional<std::string>> opt_string(const json::object& in, std::string_view member, size_t max) {
  auto it = in.find(member);
  if (it == in.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) return validation("Invalid type for parameter " + std::string(member));  // unverified
  std::string s(it->value().as_string());
  if (s.empty()) return constraint(member, it->value(), "Member must have length greater than or equal to 1");
  if (s.size() > max)
    return constraint(member, it->value(), "Member must have length less than or equal to " + std::to_string(max));
  return std::optional<std::string>(std::move(s));
}

Result<std::string> req_string(const json::object& in, std::string_view member, size_t max) {
  auto s = opt_string(in, member, max);
  if (!s) return std::move(s).error();
  if (!*s) return constraint(member, json::value(nullptr), "Member must not be null");
  return std::move(**s);
}

Result<std::optional<int64_t>> opt_int(const json::object& in, std::string_view member) {
  auto it = in.find(member);
  if (it == in.end() || it->value().is_null()) return std::optional<int64_t>();
  if (it->value().is_int64()) return std::optional<int64_t>(it->value().as_int64());
  if (it->value().is_uint64() && it->value().as_uint64() <= INT32_MAX)
    return std::optional<int64_t>(static_cast<int64_t>(it->value().as_uint64()));
  return validation("Invalid type for parameter " + std::string(member));  // unverified
}

Result<std::optional<double>> opt_double(const json::object& in, std::string_view member) {
  auto it = in.find(member);
  if (it == in.end() || it->value().is_null()) return std::optional<double>();
  if (!it->value().is_number()) return validation("Invalid type for parameter " + std::string(member));  // unverified
  return std::optional<double>(it->value().to_number<double>());
}

Result<std::optional<bool>> opt_bool(const json::object& in, std::string_view member) {
  auto it = in.find(member);
  if (it == in.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool()) return validation("Invalid type for parameter " + std::string(member));  // unverified
  return std::optional<bool>(it->value().as_bool());
}

Result<const json::object*> opt_object(const json::object& in, std::string_view member) {
  auto it = in.find(member);
  if (it == in.end() || it->value().is_null()) return static_cast<const json::object*>(nullptr);
  if (!it->value().is_object()) return validation("Invalid type for parameter " + std::string(member));  // unverified
  return &it->value().as_object();
}

Result<std::optional<std::vector<std::string>>> opt_strings(const json::object& in, std::string_view member) {
  auto it = in.find(member);
  if (it == in.end() || it->value().is_null()) return std::optional<std::vector<std::string>>();
  if (!it->value().is_array()) return validation("Invalid type for parameter " + std::string(member));  // unverified
  std::vector<std::string> out;
  for (const auto& v : it->value().as_array()) {
    if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 1600)
      return validation("Invalid type for parameter " + std::string(member));  // unverified
    out.emplace_back(v.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Status check_namespace(const json::object& in) {
  auto ns = req_string(in, "ServiceNamespace");
  if (!ns) return std::move(ns).error();
  if (*ns == kNamespace) return Ok{};
  if (std::find(kNamespaces.begin(), kNamespaces.end(), *ns) == kNamespaces.end())
    return constraint("ServiceNamespace", in.at("ServiceNamespace"),
                      "Member must satisfy enum value set: " + enum_set(kNamespaces));
  // berth's own text: AWS serves these namespaces, berth does not.
  return validation("Unsupported service namespace: " + *ns + ". berth scales only ECS services (ecs).");
}

Status check_optional_dimension(const json::object& in) {
  auto dim = opt_string(in, "ScalableDimension");
  if (!dim) return std::move(dim).error();
  if (*dim && **dim != kDimension) {
    // unverified wording
    return validation("Unsupported service namespace, resource type or scalable dimension");
  }
  return Ok{};
}

Result<std::string> read_resource_id(const json::object& in) {
  if (auto s = check_namespace(in); !s) return std::move(s).error();
  auto id = req_string(in, "ResourceId");
  if (!id) return std::move(id).error();
  auto dim = req_string(in, "ScalableDimension");
  if (!dim) return std::move(dim).error();
  // unverified wording, for both a foreign dimension and a malformed ECS ResourceId
  if (*dim != kDimension || !parse_resource_id(*id))
    return validation("Unsupported service namespace, resource type or scalable dimension");
  return std::move(*id);
}

Result<Page> read_page(const json::object& in) {
  Page page;
  auto max = opt_int(in, "MaxResults");
  if (!max) return std::move(max).error();
  if (*max) {
    if (**max < 1 || **max > 50) return validation("MaxResults must be between 1 and 50");  // unverified wording
    page.size = static_cast<size_t>(**max);
  }
  auto token = opt_string(in, "NextToken", 1024);
  if (!token) return std::move(token).error();
  if (*token) {
    const std::string& t = **token;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), page.offset);
    if (ec != std::errc() || p != t.data() + t.size())
      return Error::invalid("InvalidNextTokenException", "Invalid token");  // unverified wording
  }
  return page;
}

void write_page(json::object& out, std::string_view member, json::array items, const Page& page) {
  json::array slice;
  for (size_t i = page.offset; i < items.size() && i < page.offset + page.size; ++i) slice.push_back(items[i]);
  out[member] = std::move(slice);
  if (page.offset + page.size < items.size()) out["NextToken"] = std::to_string(page.offset + page.size);
}

}  // namespace berth::autoscaling
