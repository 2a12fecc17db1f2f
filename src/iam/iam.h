// iam: berth's account, IAM users, access keys and attached managed
// policies, roles and instance profiles, kept in the store, plus the
// in-memory Directory the front door authenticates and authorizes against.
//
//   IAM API (iam_service.cpp, role_service.cpp)
//        │
//        ▼
//   Iam (one store transaction per write)
//     iam.cpp                account, users, access keys, user policies
//     roles.cpp              roles, their managed policies, service-linked roles
//     instance_profiles.cpp  instance profiles (at most one role each)
//        │ change feed (iam_account, iam_users, iam_access_keys, iam_user_policies)
//        ▼
//   front door ◄── directory() ── Directory snapshot (rebuilt, swapped)
//
// On first start Iam::open creates the 12-digit account and the bootstrap
// user `administrator` with AdministratorAccess and one access key. On
// every start it makes sure the account holds ECS's service-linked role
// AWSServiceRoleForECS (created with the account, as AWS shows it), so a
// data dir from before roles existed gets it too.
//
// Roles are kept and shown as AWS does, but they are not principals of the
// API here: nothing assumes them (no sts:AssumeRole). Their policies count
// where berth acts for a task with its execution role (role_allows).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "iam/directory.h"
#include "iam/identity.h"
#include "iam/managed_policies.h"
#include "store/store.h"

namespace berth::iam {

template <class T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_marker;  // set when truncated
};

struct Bootstrap {
  bool created = false;  // true on the very first start
  AccessKey admin_key;   // the administrator's first key (secret included)
};

class Iam {
 public:
  // Applies the iam migrations, creates the account and the bootstrap
  // administrator if missing, loads the Directory and watches the feed.
  static Result<std::unique_ptr<Iam>> open(store::Database& db, const Clock& clock);
  ~Iam();
  Iam(const Iam&) = delete;
  Iam& operator=(const Iam&) = delete;

  const std::string& account_id() const { return account_id_; }
  // The administrator key made on first start (also kept while it exists).
  const Bootstrap& bootstrap() const { return bootstrap_; }
  // The current read model; never null.
  std::shared_ptr<const Directory> directory() const { return directory_.load(std::memory_order_acquire); }

  Result<User> create_user(std::string_view name, std::string_view path);
  Result<User> get_user(std::string_view name);
  Result<Page<User>> list_users(std::string_view path_prefix, std::string_view marker, size_t max_items);
  Status delete_user(std::string_view name);

  Result<AccessKey> create_access_key(std::string_view user_name);
  Result<Page<AccessKey>> list_access_keys(std::string_view user_name, std::string_view marker, size_t max_items);
  Status delete_access_key(std::string_view user_name, std::string_view access_key_id);

  Status attach_user_policy(std::string_view user_name, std::string_view policy_arn);
  Status detach_user_policy(std::string_view user_name, std::string_view policy_arn);
  Result<Page<ManagedPolicy>> list_attached_user_policies(std::string_view user_name, std::string_view marker,
                                                          size_t max_items);

  // Roles (roles.cpp). A service-linked role belongs to AWS: DeleteRole,
  // Attach/DetachRolePolicy and AddRoleToInstanceProfile answer
  // UnmodifiableEntity for it. Names are unique ignoring case.
  Result<Role> create_role(const RoleSpec& spec);
  Result<Role> get_role(std::string_view name);
  Result<Page<Role>> list_roles(std::string_view path_prefix, std::string_view marker, size_t max_items);
  Status delete_role(std::string_view name);
  // Creates the role `service` links to; InvalidInput when berth knows no
  // such role, when the service takes no suffix, or when the role exists
  // (AWSServiceRoleForECS always does).
  Result<Role> create_service_linked_role(std::string_view service, std::optional<std::string_view> custom_suffix);
  // Only the AWS managed policies of managed_policies.h.
  Status attach_role_policy(std::string_view role_name, std::string_view policy_arn);
  Status detach_role_policy(std::string_view role_name, std::string_view policy_arn);
  // `path_prefix` filters on the policy's path ("/service-role/").
  Result<Page<const AwsManagedPolicy*>> list_attached_role_policies(std::string_view role_name,
                                                                    std::string_view path_prefix,
                                                                    std::string_view marker, size_t max_items);

  // Inline policies of a role (role_policies.cpp), as PutRolePolicy keeps
  // them: the document as written, names unique per role. DeleteRole
  // refuses while a role has any.
  Status put_role_policy(std::string_view role_name, std::string_view policy_name, std::string_view document);
  Result<RolePolicy> get_role_policy(std::string_view role_name, std::string_view policy_name);
  Status delete_role_policy(std::string_view role_name, std::string_view policy_name);
  Result<Page<std::string>> list_role_policies(std::string_view role_name, std::string_view marker, size_t max_items);

  // Whether the role (a name, or an ARN "arn:aws:iam::<account>:role/<path><name>")
  // may perform `action` ("ssm:GetParameters") on `resource` (an ARN): its
  // attached managed policies' and inline policies' statements decide, as
  // IAM decides for a session of the role (policy_evaluation.h). This is how
  // berth checks a task execution role, which it never really assumes.
  // NoSuchEntity when there is no such role.
  Result<bool> role_allows(std::string_view role, std::string_view action, std::string_view resource);
  // Whether the role's trust policy lets `service` assume it (ECS's tasks:
  // "ecs-tasks.amazonaws.com"). NoSuchEntity when there is no such role.
  Result<bool> role_trusts_service(std::string_view role, std::string_view service);

  // Instance profiles (instance_profiles.cpp).
  Result<InstanceProfile> create_instance_profile(std::string_view name, std::string_view path, std::vector<Tag> tags);
  Result<InstanceProfile> get_instance_profile(std::string_view name);
  Result<Page<InstanceProfile>> list_instance_profiles(std::string_view path_prefix, std::string_view marker,
                                                       size_t max_items);
  Result<Page<InstanceProfile>> list_instance_profiles_for_role(std::string_view role_name, std::string_view marker,
                                                                size_t max_items);
  Status delete_instance_profile(std::string_view name);
  Status add_role_to_instance_profile(std::string_view profile_name, std::string_view role_name);
  Status remove_role_from_instance_profile(std::string_view profile_name, std::string_view role_name);

 private:
  Iam(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Status load_or_create_account();
  Status ensure_service_linked_roles();
  Status reload_directory();

  store::Database& db_;
  const Clock& clock_;
  std::string account_id_;
  Bootstrap bootstrap_;
  std::atomic<std::shared_ptr<const Directory>> directory_;
  store::Subscription subscription_;
};

// IAM's own errors (model codes and statuses, AWS's messages).
Error no_such_user(std::string_view name);
Error no_such_role(std::string_view name);

}  // namespace berth::iam
