// Inline role policies (PutRolePolicy and friends) and the permission
// check of a role that berth acts as (role_allows).
#include <string>

#include "iam/iam.h"
#include "iam/policy_evaluation.h"
#include "iam/store_support.h"

namespace berth::iam {
namespace {

using detail::read_role;

Error no_such_role_policy(std::string_view role_name, std::string_view policy_name) {
  return detail::no_such_entity("The role policy with name " + std::string(policy_name) +
                                " cannot be found.");
}

// "arn:aws:iam::123456789012:role/service-role/web" -> "web"; a name stays.
std::string_view role_name_of(std::string_view role) {
  if (role.rfind("arn:", 0) != 0) return role;
  size_t colon = role.find(":role/");
  if (colon == std::string_view::npos) return role;
  return role.substr(role.rfind('/') + 1);
}

Result<int64_t> inline_bytes_except(store::Tx& tx, std::string_view role_name, std::string_view policy_name) {
  auto stmt = tx.prepare(
      "SELECT coalesce(sum(length(CAST(document AS BLOB))), 0) FROM iam_role_inline_policies "
      "WHERE role_name = ? AND policy_name != ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(role_name, policy_name);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  return stmt->column_int64(0);
}

}  // namespace

Status Iam::put_role_policy(std::string_view role_name, std::string_view policy_name, std::string_view document) {
  if (auto parsed = parse_policy_document(document); !parsed) return std::move(parsed).error();
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    if (auto s = detail::check_modifiable(*role); !s) return s;
    // IAM's quota is on the role's inline policies together (whitespace
    // aside on AWS; berth counts the text as written).
    auto others = inline_bytes_except(tx, role->name, policy_name);
    if (!others) return std::move(others).error();
    if (static_cast<size_t>(*others) + document.size() > kMaxInlinePolicyBytesPerRole)
      return detail::with_status(Error::conflict("LimitExceeded", "Maximum policy size of " +
                                                                      std::to_string(kMaxInlinePolicyBytesPerRole) +
                                                                      " bytes exceeded for role " + role->name),
                                 409);
    if (auto s = tx.run("INSERT OR REPLACE INTO iam_role_inline_policies (role_name, policy_name, document) "
                        "VALUES (?, ?, ?)",
                        role->name, policy_name, document);
        !s)
      return s;
    tx.record_change("iam_role_inline_policies", role->name, store::ChangeKind::kPut);
    return Ok{};
  });
}

Result<RolePolicy> Iam::get_role_policy(std::string_view role_name, std::string_view policy_name) {
  return db_.read([&](store::Tx& tx) -> Result<RolePolicy> {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    auto stmt = tx.prepare(
        "SELECT policy_name, document FROM iam_role_inline_policies WHERE role_name = ? AND policy_name = ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(role->name, policy_name);
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) return no_such_role_policy(role->name, policy_name);
    return RolePolicy{role->name, stmt->column_string(0), stmt->column_string(1)};
  });
}

Status Iam::delete_role_policy(std::string_view role_name, std::string_view policy_name) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    if (auto s = detail::check_modifiable(*role); !s) return s;
    if (auto s = tx.run("DELETE FROM iam_role_inline_policies WHERE role_name = ? AND policy_name = ?", role->name,
                        policy_name);
        !s)
      return s;
    if (tx.rows_changed() == 0) return no_such_role_policy(role->name, policy_name);
    tx.record_change("iam_role_inline_policies", role->name, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Result<Page<std::string>> Iam::list_role_policies(std::string_view role_name, std::string_view marker,
                                                  size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<std::string>> {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    auto stmt = tx.prepare(
        "SELECT policy_name FROM iam_role_inline_policies WHERE role_name = ? AND policy_name > ? "
        "ORDER BY policy_name LIMIT ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(role->name, marker, static_cast<int64_t>(max_items + 1));
    Page<std::string> page;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      page.items.push_back(stmt->column_string(0));
    }
    if (page.items.size() > max_items) {
      page.items.pop_back();
      page.next_marker = page.items.back();
    }
    return page;
  });
}

Result<bool> Iam::role_allows(std::string_view role, std::string_view action, std::string_view resource) {
  std::string_view name = role_name_of(role);
  auto statements = db_.read([&](store::Tx& tx) -> Result<std::vector<PolicyStatement>> {
    auto found = read_role(tx, name);
    if (!found) return std::move(found).error();
    std::vector<PolicyStatement> all;
    auto attached = tx.prepare("SELECT policy_arn FROM iam_role_policies WHERE role_name = ?");
    if (!attached) return std::move(attached).error();
    attached->bind_all(found->name);
    for (;;) {
      auto row = attached->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      const AwsManagedPolicy* policy = find_aws_managed_policy(attached->column_text(0));
      if (!policy || policy->permissions.empty()) continue;
      auto parsed = parse_policy_document(policy->permissions);
      if (!parsed) return Error::internal("managed policy " + std::string(policy->arn) + ": " + parsed.error().message);
      all.insert(all.end(), parsed->begin(), parsed->end());
    }
    auto inline_docs = tx.prepare("SELECT document FROM iam_role_inline_policies WHERE role_name = ?");
    if (!inline_docs) return std::move(inline_docs).error();
    inline_docs->bind_all(found->name);
    for (;;) {
      auto row = inline_docs->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      // Checked when put; a document that no longer parses grants nothing.
      auto parsed = parse_policy_document(inline_docs->column_text(0));
      if (parsed) all.insert(all.end(), parsed->begin(), parsed->end());
    }
    return all;
  });
  if (!statements) return std::move(statements).error();
  return evaluate(*statements, action, resource) == Decision::kAllow;
}

Result<bool> Iam::role_trusts_service(std::string_view role, std::string_view service) {
  auto found = get_role(role_name_of(role));
  if (!found) return std::move(found).error();
  return trust_policy_allows_service(found->assume_role_policy, service);
}

}  // namespace berth::iam
