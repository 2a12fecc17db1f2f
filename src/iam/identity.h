// iam/identity: the values iam keeps (account, users, access keys, attached
// managed policies, roles, instance profiles) and the AWS spellings derived
// from them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace berth::iam {

// The only managed policies berth knows; others are NoSuchEntity.
enum class ManagedPolicy { kAdministratorAccess, kReadOnlyAccess };

inline constexpr std::string_view kAdministratorAccessArn = "arn:aws:iam::aws:policy/AdministratorAccess";
inline constexpr std::string_view kReadOnlyAccessArn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
inline constexpr std::string_view kBootstrapUser = "administrator";
inline constexpr size_t kMaxAccessKeysPerUser = 2;

bool parse_policy_arn(std::string_view arn, ManagedPolicy& out);
std::string_view policy_arn(ManagedPolicy policy);
std::string_view policy_name(ManagedPolicy policy);

struct User {
  std::string name;
  std::string user_id;  // "AIDA" + 17 chars
  std::string path = "/";
  WallTime created;
};

struct AccessKey {
  std::string access_key_id;  // "AKIA" + 16 chars
  std::string secret;         // 40 chars
  std::string user_name;
  bool active = true;
  WallTime created;
};

std::string user_arn(std::string_view account_id, const User& user);

struct Tag {
  std::string key;
  std::string value;
};

inline constexpr int64_t kDefaultMaxSessionDuration = 3600;
inline constexpr size_t kMaxPoliciesPerRole = 10;

struct Role {
  std::string name;
  std::string role_id;  // "AROA" + 17 chars
  std::string path = "/";
  std::string assume_role_policy;  // the trust policy, the caller's JSON text as written
  std::optional<std::string> description;
  int64_t max_session_duration = kDefaultMaxSessionDuration;
  std::vector<Tag> tags;
  std::string linked_service;  // a service-linked role's service ("ecs.amazonaws.com"), else empty
  WallTime created;

  bool service_linked() const { return !linked_service.empty(); }
};

// An inline policy of a role (PutRolePolicy).
struct RolePolicy {
  std::string role_name;
  std::string policy_name;
  std::string document;  // as written
};
inline constexpr size_t kMaxInlinePolicyBytesPerRole = 10240;

// What CreateRole is given; the rest (id, creation time) iam assigns.
struct RoleSpec {
  std::string name;
  std::string path = "/";
  std::string assume_role_policy;
  std::optional<std::string> description;
  int64_t max_session_duration = kDefaultMaxSessionDuration;
  std::vector<Tag> tags;
};

struct InstanceProfile {
  std::string name;
  std::string instance_profile_id;  // "AIPA" + 17 chars
  std::string path = "/";
  std::vector<Tag> tags;
  std::optional<Role> role;  // at most one (AWS's InstanceSessionsPerInstanceProfile quota)
  WallTime created;
};

// A role AWS creates and owns for one of its services. Only the service
// can change it: DeleteRole, AttachRolePolicy and the like answer
// UnmodifiableEntity.
struct ServiceLinkedRoleSpec {
  std::string_view service;  // the service principal
  std::string_view role_name;
  std::string_view description;
  std::string_view policy_arn;  // the AWS managed policy under /aws-service-role/
};

// ECS's role exists in every account from the start, as on AWS (where ECS
// makes it with the first cluster and it then never goes away).
inline constexpr ServiceLinkedRoleSpec kEcsServiceLinkedRole{
    "ecs.amazonaws.com", "AWSServiceRoleForECS", "Role to enable Amazon ECS to manage your cluster.",
    "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"};
inline constexpr std::string_view kServiceLinkedRolePathPrefix = "/aws-service-role/";

// "/aws-service-role/ecs.amazonaws.com/"
std::string service_linked_role_path(std::string_view service);
// The trust policy of a role that `service` may assume.
std::string service_trust_policy(std::string_view service);

// arn:aws:iam::<account>:role<path><name>
std::string role_arn(std::string_view account_id, const Role& role);
// arn:aws:iam::<account>:instance-profile<path><name>
std::string instance_profile_arn(std::string_view account_id, const InstanceProfile& profile);

// Fresh identifiers, as AWS spells them.
std::string new_user_id();
std::string new_access_key_id();
std::string new_secret_access_key();
std::string new_role_id();
std::string new_instance_profile_id();

}  // namespace berth::iam
