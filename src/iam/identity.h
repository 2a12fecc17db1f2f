// iam/identity: the values iam keeps (account, users, access keys, attached
// managed policies) and the AWS spellings derived from them.
#pragma once

#include <cstdint>
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

// Fresh identifiers, as AWS spells them.
std::string new_user_id();
std::string new_access_key_id();
std::string new_secret_access_key();

}  // namespace berth::iam
