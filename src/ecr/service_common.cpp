#include "ecr/service_common.h"

#include "ecr/names.h"

namespace berth::ecr::svc {

Result<std::optional<std::string>> opt_string(const boost::json::object& in, std::string_view key) {
  auto it = in.find(key);
  if (it == in.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) return invalid_parameter("Invalid parameter at '" + std::string(key) + "': expected a string");
  return std::optional<std::string>(std::string(it->value().get_string()));
}

Result<std::string> req_string(const boost::json::object& in, std::string_view key) {
  auto v = opt_string(in, key);
  if (!v) return std::move(v).error();
  if (!*v) return invalid_parameter("Missing required parameter '" + std::string(key) + "'");
  return std::move(**v);
}

Result<std::string> repository_name(const boost::json::object& in) {
  auto name = req_string(in, "repositoryName");
  if (!name) return name;
  if (!is_valid_repository_name(*name)) {
    return invalid_parameter(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression "
        "'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''");
  }
  return name;
}

Result<size_t> max_results(const boost::json::object& in, size_t default_value, size_t max) {
  auto it = in.find("maxResults");
  if (it == in.end()) return default_value;
  if (!it->value().is_int64() || it->value().get_int64() < 1 || static_cast<size_t>(it->value().get_int64()) > max) {
    return invalid_parameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value "
                             "between 1 and " + std::to_string(max) + "'");
  }
  return static_cast<size_t>(it->value().get_int64());
}

Result<std::vector<Tag>> tag_list(const boost::json::object& in, std::string_view key) {
  std::vector<Tag> out;
  auto it = in.find(key);
  if (it == in.end()) return out;
  if (!it->value().is_array()) return invalid_parameter("Invalid parameter at '" + std::string(key) + "'");
  for (const auto& t : it->value().get_array()) {
    if (!t.is_object()) return Error::invalid("InvalidTagParameterException", "Tag must be an object");
    auto k = req_string(t.get_object(), "Key");
    auto v = opt_string(t.get_object(), "Value");
    if (!k || k->empty() || k->size() > 128) {
      return Error::invalid("InvalidTagParameterException", "Tag key must be 1-128 characters");
    }
    if (!v) return std::move(v).error();
    out.emplace_back(std::move(*k), v->value_or(""));
  }
  return out;
}

boost::json::object repository_json(const RepositoryRecord& r, std::string_view host) {
  boost::json::object o;
  o["repositoryArn"] = r.arn;
  o["registryId"] = r.registry_id;
  o["repositoryName"] = r.name;
  o["repositoryUri"] = std::string(host) + "/" + r.name;
  o["createdAt"] = r.created_at;
  o["imageTagMutability"] = r.tag_mutability;
  o["imageScanningConfiguration"] = boost::json::object{{"scanOnPush", r.scan_on_push}};
  boost::json::object enc{{"encryptionType", r.encryption_type}};
  if (!r.kms_key.empty()) enc["kmsKey"] = r.kms_key;
  o["encryptionConfiguration"] = std::move(enc);
  return o;
}

boost::json::object image_id_json(std::string_view digest, std::optional<std::string_view> tag) {
  boost::json::object o;
  o["imageDigest"] = digest;
  if (tag) o["imageTag"] = *tag;
  return o;
}

}  // namespace berth::ecr::svc
