// Roles, the AWS managed policies attached to them, and the service-linked
// roles AWS owns (see iam.h).
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "iam/iam.h"
#include "iam/store_support.h"

namespace berth::iam {
namespace detail {

Role role_from_row(const store::Statement& stmt, int first) {
  Role role;
  role.name = stmt.column_string(first);
  role.role_id = stmt.column_string(first + 1);
  role.path = stmt.column_string(first + 2);
  role.assume_role_policy = stmt.column_string(first + 3);
  role.description = stmt.column_string_opt(first + 4);
  role.max_session_duration = stmt.column_int64(first + 5);
  role.tags = tags_from_json(stmt.column_text(first + 6));
  role.linked_service = stmt.column_string(first + 7);
  role.created = from_ms(stmt.column_int64(first + 8));
  return role;
}

Result<Role> read_role(store::Tx& tx, std::string_view name) {
  static const std::string sql = "SELECT " + std::string(kRoleColumns) + " FROM iam_roles r WHERE r.name = ?";
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(name);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return no_such_role(name);
  return role_from_row(*stmt, 0);
}

Status check_modifiable(const Role& role) {
  if (!role.service_linked()) return Ok{};
  return with_status(Error::invalid("UnmodifiableEntity", "Cannot perform the operation on the protected role '" +
                                                              role.name + "' - this role is only modifiable by AWS"),
                     400);
}

std::string tags_to_json(const std::vector<Tag>& tags) {
  boost::json::array out;
  out.reserve(tags.size());
  for (const auto& tag : tags) out.push_back(boost::json::object{{"Key", tag.key}, {"Value", tag.value}});
  return boost::json::serialize(out);
}

std::vector<Tag> tags_from_json(std::string_view json) {
  std::vector<Tag> tags;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_array()) return tags;
  for (const auto& item : v.get_array()) {
    const auto* o = item.if_object();
    if (!o) continue;
    const auto* key = o->if_contains("Key");
    const auto* value = o->if_contains("Value");
    if (key && key->is_string() && value && value->is_string())
      tags.push_back({std::string(key->get_string()), std::string(value->get_string())});
  }
  return tags;
}

}  // namespace detail

namespace {

using detail::from_ms;
using detail::invalid_input;
using detail::read_role;
using detail::to_ms;

// The service-linked roles berth knows; each exists from the account's start.
constexpr std::array kServiceLinkedRoles{kEcsServiceLinkedRole};

const ServiceLinkedRoleSpec* find_service_linked_role(std::string_view service) {
  for (const auto& spec : kServiceLinkedRoles)
    if (spec.service == service) return &spec;
  return nullptr;
}

// AWS refuses a trust policy that is not JSON; berth goes no further (AWS
// also checks the policy grammar and its principals).
Status check_policy_json(std::string_view document) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value v = boost::json::parse(document, ec, {}, options);
  if (!ec && v.is_object()) return Ok{};
  return detail::with_status(Error::invalid("MalformedPolicyDocument", "This policy contains invalid Json"), 400);
}

Status insert_role(store::Tx& tx, const Role& role) {
  if (auto s = tx.run(
          "INSERT INTO iam_roles (name, role_id, path, assume_role_policy, description, max_session_duration, tags, "
          "linked_service, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          role.name, role.role_id, role.path, role.assume_role_policy, role.description, role.max_session_duration,
          detail::tags_to_json(role.tags), role.linked_service, to_ms(role.created));
      !s)
    return s;
  tx.record_change("iam_roles", role.name, store::ChangeKind::kPut);
  return Ok{};
}

Role service_linked_role(const ServiceLinkedRoleSpec& spec, WallTime created) {
  Role role;
  role.name = std::string(spec.role_name);
  role.role_id = new_role_id();
  role.path = service_linked_role_path(spec.service);
  role.assume_role_policy = service_trust_policy(spec.service);
  role.description = std::string(spec.description);
  role.linked_service = std::string(spec.service);
  role.created = created;
  return role;
}

Status insert_service_linked_role(store::Tx& tx, const Role& role, const ServiceLinkedRoleSpec& spec) {
  if (auto s = insert_role(tx, role); !s) return s;
  return tx.run("INSERT INTO iam_role_policies (role_name, policy_arn) VALUES (?, ?)", role.name, spec.policy_arn);
}

Result<int64_t> count(store::Tx& tx, std::string_view sql, std::string_view key) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(key);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  return stmt->column_int64(0);
}

}  // namespace

Error no_such_role(std::string_view name) {
  return detail::no_such_entity("The role with name " + std::string(name) + " cannot be found.");
}

Status Iam::ensure_service_linked_roles() {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto stmt = tx.prepare("SELECT created_ms FROM iam_account WHERE id = 1");
    if (!stmt) return std::move(stmt).error();
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) return Error::internal("iam: no account row");
    WallTime account_created = from_ms(stmt->column_int64(0));
    for (const auto& spec : kServiceLinkedRoles) {
      auto existing = read_role(tx, spec.role_name);
      if (existing) continue;
      if (existing.error().error_class != ErrorClass::kNotFound) return std::move(existing).error();
      if (auto s = insert_service_linked_role(tx, service_linked_role(spec, account_created), spec); !s) return s;
    }
    return Ok{};
  });
}

Result<Role> Iam::create_role(const RoleSpec& spec) {
  if (spec.path.rfind(kServiceLinkedRolePathPrefix, 0) == 0)
    return invalid_input("Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles");
  if (auto s = check_policy_json(spec.assume_role_policy); !s) return std::move(s).error();
  Role role;
  role.name = spec.name;
  role.role_id = new_role_id();
  role.path = spec.path;
  role.assume_role_policy = spec.assume_role_policy;
  role.description = spec.description;
  role.max_session_duration = spec.max_session_duration;
  role.tags = spec.tags;
  role.created = clock_.now();
  return db_.transaction([&](store::Tx& tx) -> Result<Role> {
    auto existing = read_role(tx, role.name);
    if (existing) return detail::entity_already_exists("Role with name " + role.name + " already exists.");
    if (existing.error().error_class != ErrorClass::kNotFound) return std::move(existing).error();
    if (auto s = insert_role(tx, role); !s) return std::move(s).error();
    return role;
  });
}

Result<Role> Iam::get_role(std::string_view name) {
  return db_.read([&](store::Tx& tx) { return read_role(tx, name); });
}

Result<Page<Role>> Iam::list_roles(std::string_view path_prefix, std::string_view marker, size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<Role>> {
    static const std::string sql = "SELECT " + std::string(detail::kRoleColumns) +
                                   " FROM iam_roles r WHERE r.name > ? AND substr(r.path, 1, length(?)) = ? "
                                   "ORDER BY r.name LIMIT ?";
    auto stmt = tx.prepare(sql);
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(marker, path_prefix, path_prefix, static_cast<int64_t>(max_items + 1));
    Page<Role> page;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      page.items.push_back(detail::role_from_row(*stmt, 0));
    }
    if (page.items.size() > max_items) {
      page.items.pop_back();
      page.next_marker = page.items.back().name;
    }
    return page;
  });
}

Status Iam::delete_role(std::string_view name) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto role = read_role(tx, name);
    if (!role) return std::move(role).error();
    if (auto s = detail::check_modifiable(*role); !s) return s;
    auto profiles = count(tx, "SELECT count(*) FROM iam_instance_profiles WHERE role_name = ?", role->name);
    if (!profiles) return std::move(profiles).error();
    if (*profiles > 0)
      return detail::delete_conflict("Cannot delete entity, must remove roles from instance profile first.");
    auto policies = count(tx, "SELECT count(*) FROM iam_role_policies WHERE role_name = ?", role->name);
    if (!policies) return std::move(policies).error();
    if (*policies > 0) return detail::delete_conflict("Cannot delete entity, must detach all policies first.");
    auto inline_policies = count(tx, "SELECT count(*) FROM iam_role_inline_policies WHERE role_name = ?", role->name);
    if (!inline_policies) return std::move(inline_policies).error();
    // AWS's text for inline policies (burtcorp/athena-runner#1, awslabs/aws-orbit-workbench#633).
    if (*inline_policies > 0) return detail::delete_conflict("Cannot delete entity, must delete policies first.");
    if (auto s = tx.run("DELETE FROM iam_roles WHERE name = ?", role->name); !s) return s;
    tx.record_change("iam_roles", role->name, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Result<Role> Iam::create_service_linked_role(std::string_view service, std::optional<std::string_view> custom_suffix) {
  const ServiceLinkedRoleSpec* spec = find_service_linked_role(service);
  // AWS's text for a service it does not know is not on record; this one
  // says what berth knows.
  if (!spec)
    return invalid_input("Service name " + std::string(service) +
                         " has no service-linked role in berth; the supported service is " +
                         std::string(kEcsServiceLinkedRole.service) + ".");
  if (custom_suffix) return invalid_input("Custom suffix is not allowed for " + std::string(service));
  WallTime now = clock_.now();
  return db_.transaction([&](store::Tx& tx) -> Result<Role> {
    auto existing = read_role(tx, spec->role_name);
    if (existing)
      return invalid_input("Service role name " + std::string(spec->role_name) +
                           " has been taken in this account, please try a different suffix.");
    if (existing.error().error_class != ErrorClass::kNotFound) return std::move(existing).error();
    Role role = service_linked_role(*spec, now);
    if (auto s = insert_service_linked_role(tx, role, *spec); !s) return std::move(s).error();
    return role;
  });
}

Status Iam::attach_role_policy(std::string_view role_name, std::string_view arn) {
  const AwsManagedPolicy* policy = find_aws_managed_policy(arn);
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    if (auto s = detail::check_modifiable(*role); !s) return s;
    if (!policy) return detail::no_such_policy(arn);
    if (policy->service_role_policy())
      return detail::with_status(
          Error::invalid("PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer Role."), 400);
    auto attached =
        tx.prepare("SELECT count(*), coalesce(sum(policy_arn = ?), 0) FROM iam_role_policies WHERE role_name = ?");
    if (!attached) return std::move(attached).error();
    attached->bind_all(policy->arn, role->name);
    auto row = attached->step();
    if (!row) return std::move(row).error();
    // Attaching twice is not an error on AWS.
    if (attached->column_int64(1) > 0) return Ok{};
    if (static_cast<size_t>(attached->column_int64(0)) >= kMaxPoliciesPerRole)
      return detail::limit_exceeded("PoliciesPerRole", kMaxPoliciesPerRole);
    if (auto s = tx.run("INSERT INTO iam_role_policies (role_name, policy_arn) VALUES (?, ?)", role->name, policy->arn);
        !s)
      return s;
    tx.record_change("iam_role_policies", role->name, store::ChangeKind::kPut);
    return Ok{};
  });
}

Status Iam::detach_role_policy(std::string_view role_name, std::string_view arn) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    if (auto s = detail::check_modifiable(*role); !s) return s;
    if (auto s = tx.run("DELETE FROM iam_role_policies WHERE role_name = ? AND policy_arn = ?", role->name, arn); !s)
      return s;
    if (tx.rows_changed() == 0) return detail::policy_not_attached(arn);
    tx.record_change("iam_role_policies", role->name, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Result<Page<const AwsManagedPolicy*>> Iam::list_attached_role_policies(std::string_view role_name,
                                                                       std::string_view path_prefix,
                                                                       std::string_view marker, size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<const AwsManagedPolicy*>> {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    auto stmt = tx.prepare(
        "SELECT policy_arn FROM iam_role_policies WHERE role_name = ? AND policy_arn > ? ORDER BY policy_arn");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(role->name, marker);
    Page<const AwsManagedPolicy*> page;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      const AwsManagedPolicy* policy = find_aws_managed_policy(stmt->column_text(0));
      if (!policy || policy->path().substr(0, path_prefix.size()) != path_prefix) continue;
      if (page.items.size() == max_items) {
        page.next_marker = std::string(page.items.back()->arn);
        break;
      }
      page.items.push_back(policy);
    }
    return page;
  });
}

}  // namespace berth::iam
