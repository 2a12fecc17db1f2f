// Instance profiles: a name for EC2 to hand a role to an instance; at most
// one role each (see iam.h).
#include "iam/iam.h"
#include "iam/store_support.h"

namespace berth::iam {
namespace {

using detail::from_ms;
using detail::read_role;
using detail::to_ms;

constexpr size_t kMaxRolesPerInstanceProfile = 1;

Error no_such_instance_profile(std::string_view name) {
  return detail::no_such_entity("Instance Profile " + std::string(name) + " cannot be found.");
}

// "SELECT <profile columns>, <role columns or NULLs> FROM ... " + where.
std::string select_profiles(std::string_view where) {
  std::string sql = "SELECT p.name, p.instance_profile_id, p.path, p.tags, p.created_ms, ";
  sql += detail::kRoleColumns;
  sql += " FROM iam_instance_profiles p LEFT JOIN iam_roles r ON r.name = p.role_name ";
  sql += where;
  return sql;
}

InstanceProfile profile_from_row(const store::Statement& stmt) {
  InstanceProfile profile;
  profile.name = stmt.column_string(0);
  profile.instance_profile_id = stmt.column_string(1);
  profile.path = stmt.column_string(2);
  profile.tags = detail::tags_from_json(stmt.column_text(3));
  profile.created = from_ms(stmt.column_int64(4));
  if (!stmt.column_is_null(5)) profile.role = detail::role_from_row(stmt, 5);
  return profile;
}

Result<InstanceProfile> read_profile(store::Tx& tx, std::string_view name) {
  static const std::string sql = select_profiles("WHERE p.name = ?");
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(name);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return no_such_instance_profile(name);
  return profile_from_row(*stmt);
}

// Runs a prepared query of profiles ordered by name, LIMIT max_items + 1.
Result<Page<InstanceProfile>> page_of_profiles(store::Statement& stmt, size_t max_items) {
  Page<InstanceProfile> page;
  for (;;) {
    auto row = stmt.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    page.items.push_back(profile_from_row(stmt));
  }
  if (page.items.size() > max_items) {
    page.items.pop_back();
    page.next_marker = page.items.back().name;
  }
  return page;
}

}  // namespace

Result<InstanceProfile> Iam::create_instance_profile(std::string_view name, std::string_view path,
                                                     std::vector<Tag> tags) {
  InstanceProfile profile;
  profile.name = std::string(name);
  profile.instance_profile_id = new_instance_profile_id();
  profile.path = std::string(path);
  profile.tags = std::move(tags);
  profile.created = clock_.now();
  return db_.transaction([&](store::Tx& tx) -> Result<InstanceProfile> {
    auto existing = read_profile(tx, profile.name);
    if (existing) return detail::entity_already_exists("Instance Profile " + profile.name + " already exists.");
    if (existing.error().error_class != ErrorClass::kNotFound) return std::move(existing).error();
    if (auto s =
            tx.run("INSERT INTO iam_instance_profiles (name, instance_profile_id, path, tags, role_name, created_ms) "
                   "VALUES (?, ?, ?, ?, NULL, ?)",
                   profile.name, profile.instance_profile_id, profile.path, detail::tags_to_json(profile.tags),
                   to_ms(profile.created));
        !s)
      return std::move(s).error();
    tx.record_change("iam_instance_profiles", profile.name, store::ChangeKind::kPut);
    return profile;
  });
}

Result<InstanceProfile> Iam::get_instance_profile(std::string_view name) {
  return db_.read([&](store::Tx& tx) { return read_profile(tx, name); });
}

Result<Page<InstanceProfile>> Iam::list_instance_profiles(std::string_view path_prefix, std::string_view marker,
                                                          size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<InstanceProfile>> {
    static const std::string sql =
        select_profiles("WHERE p.name > ? AND substr(p.path, 1, length(?)) = ? ORDER BY p.name LIMIT ?");
    auto stmt = tx.prepare(sql);
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(marker, path_prefix, path_prefix, static_cast<int64_t>(max_items + 1));
    return page_of_profiles(*stmt, max_items);
  });
}

Result<Page<InstanceProfile>> Iam::list_instance_profiles_for_role(std::string_view role_name, std::string_view marker,
                                                                   size_t max_items) {
  return db_.read([&](store::Tx& tx) -> Result<Page<InstanceProfile>> {
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    static const std::string sql = select_profiles("WHERE p.role_name = ? AND p.name > ? ORDER BY p.name LIMIT ?");
    auto stmt = tx.prepare(sql);
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(role->name, marker, static_cast<int64_t>(max_items + 1));
    return page_of_profiles(*stmt, max_items);
  });
}

Status Iam::delete_instance_profile(std::string_view name) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto profile = read_profile(tx, name);
    if (!profile) return std::move(profile).error();
    if (profile->role)
      return detail::delete_conflict("Cannot delete entity, must remove roles from instance profile first.");
    if (auto s = tx.run("DELETE FROM iam_instance_profiles WHERE name = ?", profile->name); !s) return s;
    tx.record_change("iam_instance_profiles", profile->name, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Status Iam::add_role_to_instance_profile(std::string_view profile_name, std::string_view role_name) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto profile = read_profile(tx, profile_name);
    if (!profile) return std::move(profile).error();
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    if (auto s = detail::check_modifiable(*role); !s) return s;
    // The same role again is over the quota too, as on AWS.
    if (profile->role) return detail::limit_exceeded("InstanceSessionsPerInstanceProfile", kMaxRolesPerInstanceProfile);
    if (auto s = tx.run("UPDATE iam_instance_profiles SET role_name = ? WHERE name = ?", role->name, profile->name); !s)
      return s;
    tx.record_change("iam_instance_profiles", profile->name, store::ChangeKind::kPut);
    return Ok{};
  });
}

Status Iam::remove_role_from_instance_profile(std::string_view profile_name, std::string_view role_name) {
  return db_.transaction([&](store::Tx& tx) -> Status {
    auto profile = read_profile(tx, profile_name);
    if (!profile) return std::move(profile).error();
    auto role = read_role(tx, role_name);
    if (!role) return std::move(role).error();
    if (!profile->role || profile->role->name != role->name) return no_such_role(role_name);
    if (auto s = tx.run("UPDATE iam_instance_profiles SET role_name = NULL WHERE name = ?", profile->name); !s)
      return s;
    tx.record_change("iam_instance_profiles", profile->name, store::ChangeKind::kPut);
    return Ok{};
  });
}

}  // namespace berth::iam
