// ECR API: repositories, their settings and their resource tags.
#include <algorithm>

#include "ecr/service_common.h"

namespace berth::ecr::svc {
namespace {

bool is_mutability(std::string_view v) {
  return v == "MUTABLE" || v == "IMMUTABLE" || v == "MUTABLE_WITH_EXCLUSION" || v == "IMMUTABLE_WITH_EXCLUSION";
}

Error bad_mutability(std::string_view v) {
  return invalid_parameter("Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must "
                           "satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, "
                           "MUTABLE_WITH_EXCLUSION]'");
}

Result<std::string> repository_of_arn(const Catalog& catalog, const boost::json::object& in) {
  auto arn = req_string(in, "resourceArn");
  if (!arn) return arn;
  std::string prefix = catalog.repository_arn("");
  if (arn->rfind(prefix, 0) != 0 || arn->size() == prefix.size()) {
    return invalid_parameter("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'");
  }
  return arn->substr(prefix.size());
}

boost::json::array tags_json(const std::vector<Tag>& tags) {
  boost::json::array out;
  for (const auto& [k, v] : tags) out.push_back(boost::json::object{{"Key", k}, {"Value", v}});
  return out;
}

}  // namespace

void add_repository_operations(api::Service& service, Catalog& catalog) {
  service.add("CreateRepository", [&catalog](const api::CallContext& ctx, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    RepositoryRecord r;
    r.name = *name;
    r.created_at = std::chrono::duration<double>(ctx.now.time_since_epoch()).count();
    auto mutability = opt_string(in, "imageTagMutability");
    if (!mutability) return std::move(mutability).error();
    if (*mutability) {
      if (!is_mutability(**mutability)) return bad_mutability(**mutability);
      r.tag_mutability = **mutability;
    }
    if (auto it = in.find("imageScanningConfiguration"); it != in.end() && it->value().is_object()) {
      if (auto s = it->value().get_object().find("scanOnPush"); s != it->value().get_object().end()) {
        if (!s->value().is_bool()) return invalid_parameter("Invalid parameter at 'scanOnPush'");
        r.scan_on_push = s->value().get_bool();
      }
    }
    if (auto it = in.find("encryptionConfiguration"); it != in.end() && it->value().is_object()) {
      auto type = req_string(it->value().get_object(), "encryptionType");
      if (!type) return std::move(type).error();
      if (*type != "AES256" && *type != "KMS" && *type != "KMS_DSSE") {
        return invalid_parameter("Invalid parameter at 'encryptionType' failed to satisfy constraint: 'Member must "
                                 "satisfy enum value set: [AES256, KMS, KMS_DSSE]'");
      }
      r.encryption_type = *type;
      auto key = opt_string(it->value().get_object(), "kmsKey");
      if (!key) return std::move(key).error();
      if (*key) {
        if (r.encryption_type == "AES256") {
          return invalid_parameter("Invalid parameter: kmsKey can only be specified with encryptionType KMS");
        }
        r.kms_key = **key;
      } else if (r.encryption_type != "AES256") {
        // AWS fills in the account's managed key.
        r.kms_key = "arn:aws:kms:" + catalog.region() + ":" + catalog.account_id() + ":alias/aws/ecr";
      }
    }
    auto tags = tag_list(in, "tags");
    if (!tags) return std::move(tags).error();
    auto created = catalog.create_repository(std::move(r), *tags);
    if (!created) return std::move(created).error();
    return body({{"repository", repository_json(*created, ctx.host)}});
  });

  service.add("DescribeRepositories", [&catalog](const api::CallContext& ctx, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto limit = max_results(in, 100, 1000);
    if (!limit) return std::move(limit).error();
    auto token = opt_string(in, "nextToken");
    if (!token) return std::move(token).error();
    boost::json::array repos;
    std::string next;
    if (auto it = in.find("repositoryNames"); it != in.end() && it->value().is_array()) {
      for (const auto& n : it->value().get_array()) {
        if (!n.is_string()) return invalid_parameter("Invalid parameter at 'repositoryNames'");
        auto r = catalog.get_repository(std::string_view(n.get_string()));
        if (!r) return std::move(r).error();
        repos.push_back(repository_json(*r, ctx.host));
      }
    } else {
      auto all = catalog.list_repositories();
      if (!all) return std::move(all).error();
      for (const auto& r : *all) {
        if (*token && r.name < **token) continue;
        if (repos.size() == *limit) {
          next = r.name;
          break;
        }
        repos.push_back(repository_json(r, ctx.host));
      }
    }
    boost::json::object out{{"repositories", std::move(repos)}};
    if (!next.empty()) out["nextToken"] = next;
    return body(out);
  });

  service.add("DeleteRepository", [&catalog](const api::CallContext& ctx, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    bool force = false;
    if (auto it = in.find("force"); it != in.end() && it->value().is_bool()) force = it->value().get_bool();
    auto deleted = catalog.delete_repository(*name, force);
    if (!deleted) return std::move(deleted).error();
    return body({{"repository", repository_json(*deleted, ctx.host)}});
  });

  service.add("PutImageTagMutability", [&catalog](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    const auto& in = *input.json;
    auto name = repository_name(in);
    if (!name) return std::move(name).error();
    auto mutability = req_string(in, "imageTagMutability");
    if (!mutability) return std::move(mutability).error();
    if (!is_mutability(*mutability)) return bad_mutability(*mutability);
    auto r = catalog.set_tag_mutability(*name, *mutability);
    if (!r) return std::move(r).error();
    return body({{"registryId", r->registry_id}, {"repositoryName", r->name}, {"imageTagMutability", r->tag_mutability}});
  });

  service.add("TagResource", [&catalog](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    auto name = repository_of_arn(catalog, *input.json);
    if (!name) return std::move(name).error();
    auto tags = tag_list(*input.json, "tags");
    if (!tags) return std::move(tags).error();
    if (auto s = catalog.put_resource_tags(*name, *tags); !s) return std::move(s).error();
    return std::string("{}");
  });

  service.add("UntagResource", [&catalog](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    auto name = repository_of_arn(catalog, *input.json);
    if (!name) return std::move(name).error();
    std::vector<std::string> keys;
    if (auto it = input.json->find("tagKeys"); it != input.json->end() && it->value().is_array()) {
      for (const auto& k : it->value().get_array()) {
        if (k.is_string()) keys.emplace_back(k.get_string());
      }
    } else {
      return invalid_parameter("Missing required parameter 'tagKeys'");
    }
    if (auto s = catalog.remove_resource_tags(*name, keys); !s) return std::move(s).error();
    return std::string("{}");
  });

  service.add("ListTagsForResource", [&catalog](const api::CallContext&, const api::OperationInput& input) -> Result<std::string> {
    auto name = repository_of_arn(catalog, *input.json);
    if (!name) return std::move(name).error();
    auto tags = catalog.resource_tags(*name);
    if (!tags) return std::move(tags).error();
    return body({{"tags", tags_json(*tags)}});
  });
}

}  // namespace berth::ecr::svc
