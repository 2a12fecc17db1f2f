// iam/store_support: what iam.cpp, roles.cpp and instance_profiles.cpp
// share inside the module: time columns and IAM's errors (model codes and
// statuses, AWS's messages). Not for other modules.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "iam/identity.h"
#include "store/store.h"

namespace berth::iam::detail {

inline int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline WallTime from_ms(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

inline Error with_status(Error e, int status) {
  e.http_status = status;
  return e;
}

// NoSuchEntity, 404.
inline Error no_such_entity(std::string message) {
  return with_status(Error::not_found("NoSuchEntity", std::move(message)), 404);
}
// EntityAlreadyExists, 409.
inline Error entity_already_exists(std::string message) {
  return with_status(Error::already_exists("EntityAlreadyExists", std::move(message)), 409);
}
// DeleteConflict, 409.
inline Error delete_conflict(std::string message) {
  return with_status(Error::conflict("DeleteConflict", std::move(message)), 409);
}
// LimitExceeded, 409: "Cannot exceed quota for <Quota>: <n>".
inline Error limit_exceeded(std::string_view quota, size_t limit) {
  return with_status(
      Error::conflict("LimitExceeded", "Cannot exceed quota for " + std::string(quota) + ": " + std::to_string(limit)),
      409);
}
// InvalidInput, 400.
inline Error invalid_input(std::string message) {
  return with_status(Error::invalid("InvalidInput", std::move(message)), 400);
}

inline Error no_such_policy(std::string_view arn) {
  return no_such_entity("Policy " + std::string(arn) + " does not exist or is not attachable.");
}
inline Error policy_not_attached(std::string_view arn) {
  return no_such_entity("Policy " + std::string(arn) + " was not found.");
}

// Role rows (roles.cpp). kRoleColumns are what role_from_row reads,
// starting at column `first`; `r.` qualifies them for joins.
inline constexpr std::string_view kRoleColumns =
    "r.name, r.role_id, r.path, r.assume_role_policy, r.description, r.max_session_duration, r.tags, "
    "r.linked_service, r.created_ms";
inline constexpr int kRoleColumnCount = 9;
Role role_from_row(const store::Statement& stmt, int first);
// The role, by name ignoring case, or NoSuchEntity.
Result<Role> read_role(store::Tx& tx, std::string_view name);
// UnmodifiableEntity for a service-linked role.
Status check_modifiable(const Role& role);

// Tags as kept in a tags column: [{"Key":"k","Value":"v"},...].
std::string tags_to_json(const std::vector<Tag>& tags);
std::vector<Tag> tags_from_json(std::string_view json);

}  // namespace berth::iam::detail
