#include "iam/identity.h"

#include "core/ids.h"

namespace berth::iam {

bool parse_policy_arn(std::string_view arn, ManagedPolicy& out) {
  if (arn == kAdministratorAccessArn) {
    out = ManagedPolicy::kAdministratorAccess;
    return true;
  }
  if (arn == kReadOnlyAccessArn) {
    out = ManagedPolicy::kReadOnlyAccess;
    return true;
  }
  return false;
}

std::string_view policy_arn(ManagedPolicy policy) {
  return policy == ManagedPolicy::kAdministratorAccess ? kAdministratorAccessArn : kReadOnlyAccessArn;
}

std::string_view policy_name(ManagedPolicy policy) {
  return policy == ManagedPolicy::kAdministratorAccess ? "AdministratorAccess" : "ReadOnlyAccess";
}

std::string user_arn(std::string_view account_id, const User& user) {
  std::string arn = "arn:aws:iam::";
  arn += account_id;
  arn += ":user";
  arn += user.path;  // "/" or "/division/"
  arn += user.name;
  return arn;
}

std::string service_linked_role_path(std::string_view service) {
  std::string path(kServiceLinkedRolePathPrefix);
  path += service;
  path += '/';
  return path;
}

std::string service_trust_policy(std::string_view service) {
  std::string doc = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":")";
  doc += service;
  doc += R"("},"Action":"sts:AssumeRole"}]})";
  return doc;
}

std::string role_arn(std::string_view account_id, const Role& role) {
  std::string arn = "arn:aws:iam::";
  arn += account_id;
  arn += ":role";
  arn += role.path;
  arn += role.name;
  return arn;
}

std::string instance_profile_arn(std::string_view account_id, const InstanceProfile& profile) {
  std::string arn = "arn:aws:iam::";
  arn += account_id;
  arn += ":instance-profile";
  arn += profile.path;
  arn += profile.name;
  return arn;
}

std::string new_user_id() { return "AIDA" + ids::random_alnum_upper(17); }
std::string new_access_key_id() { return "AKIA" + ids::random_alnum_upper(16); }
std::string new_secret_access_key() { return ids::random_base64ish(40); }
std::string new_role_id() { return "AROA" + ids::random_alnum_upper(17); }
std::string new_instance_profile_id() { return "AIPA" + ids::random_alnum_upper(17); }

}  // namespace berth::iam
