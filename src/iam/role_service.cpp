// The IAM API's roles and instance profiles: one function per operation,
// each reading its query members, calling Iam and writing the model's
// result members as XML.
//
// Shapes as AWS answers them: a policy document goes out URL-encoded
// (botocore's json_decode_policies turns it back into a dict); GetRole
// adds MaxSessionDuration, Tags and RoleLastUsed; ListRoles leaves out Tags
// and RoleLastUsed; the roles inside an instance profile carry only the
// core members and their trust policy.
#include <string>

#include "api/xml_writer.h"
#include "iam/service_support.h"
#include "iam/services.h"
#include "iam/validation.h"

namespace berth::iam {
namespace {

using api::CallContext;
using api::OperationInput;
using api::XmlWriter;
using detail::write_tags;
using detail::write_truncation;

enum class RoleView { kCreate, kGet, kList, kInInstanceProfile };

void write_role(XmlWriter& w, std::string_view element, std::string_view account_id, const Role& role, RoleView view,
                bool max_session_given = false) {
  w.open(element)
      .leaf("Path", role.path)
      .leaf("RoleName", role.name)
      .leaf("RoleId", role.role_id)
      .leaf("Arn", role_arn(account_id, role))
      .leaf_time("CreateDate", role.created)
      .leaf("AssumeRolePolicyDocument", api::uri_encode(role.assume_role_policy));
  if (view != RoleView::kInInstanceProfile && role.description) w.leaf("Description", *role.description);
  if (view == RoleView::kGet || view == RoleView::kList || max_session_given)
    w.leaf_int("MaxSessionDuration", role.max_session_duration);
  if (view == RoleView::kGet || view == RoleView::kCreate) write_tags(w, role.tags);
  if (view == RoleView::kGet) w.empty("RoleLastUsed");
  w.close(element);
}

void write_instance_profile(XmlWriter& w, std::string_view element, std::string_view account_id,
                            const InstanceProfile& profile, bool with_tags) {
  w.open(element)
      .leaf("Path", profile.path)
      .leaf("InstanceProfileName", profile.name)
      .leaf("InstanceProfileId", profile.instance_profile_id)
      .leaf("Arn", instance_profile_arn(account_id, profile))
      .leaf_time("CreateDate", profile.created)
      .open("Roles");
  if (profile.role) write_role(w, "member", account_id, *profile.role, RoleView::kInInstanceProfile);
  w.close("Roles");
  if (with_tags) write_tags(w, profile.tags);
  w.close(element);
}

Result<std::string_view> role_name(const api::QueryView& q) { return required_name(q, "RoleName", "roleName", 64); }

Result<std::string_view> instance_profile_name(const api::QueryView& q) {
  return required_name(q, "InstanceProfileName", "instanceProfileName", 128);
}

Result<std::string> create_role(Iam& iam, const CallContext&, const OperationInput& in) {
  const api::QueryView& q = *in.query;
  auto name = role_name(q);
  if (!name) return std::move(name).error();
  auto role_path = path(q);
  if (!role_path) return std::move(role_path).error();
  auto document = required_text(q, "AssumeRolePolicyDocument", "assumeRolePolicyDocument", TextKind::kPolicyDocument);
  if (!document) return std::move(document).error();
  auto description = optional_text(q, "Description", "description", TextKind::kRoleDescription);
  if (!description) return std::move(description).error();
  auto max_session = optional_int(q, "MaxSessionDuration", "maxSessionDuration", 3600, 43200);
  if (!max_session) return std::move(max_session).error();
  auto role_tags = tags(q);
  if (!role_tags) return std::move(role_tags).error();
  // berth keeps no permissions boundaries; saying so beats dropping one.
  if (q.contains("PermissionsBoundary"))
    return Error{ErrorClass::kInvalid, "InvalidInput", "berth does not support PermissionsBoundary on roles.", 400};
  RoleSpec spec;
  spec.name = std::string(*name);
  spec.path = std::string(*role_path);
  spec.assume_role_policy = std::string(*document);
  if (*description) spec.description = std::string(**description);
  spec.max_session_duration = max_session->value_or(kDefaultMaxSessionDuration);
  spec.tags = std::move(*role_tags);
  auto role = iam.create_role(spec);
  if (!role) return std::move(role).error();
  std::string out;
  XmlWriter w(out);
  write_role(w, "Role", iam.account_id(), *role, RoleView::kCreate, max_session->has_value());
  return out;
}

Result<std::string> get_role(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto role = iam.get_role(*name);
  if (!role) return std::move(role).error();
  std::string out;
  XmlWriter w(out);
  write_role(w, "Role", iam.account_id(), *role, RoleView::kGet);
  return out;
}

Result<std::string> list_roles(Iam& iam, const CallContext&, const OperationInput& in) {
  auto prefix = path_prefix(*in.query);
  if (!prefix) return std::move(prefix).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_roles(*prefix, *from, *limit);
  if (!page) return std::move(page).error();
  std::string out;
  XmlWriter w(out);
  w.open("Roles");
  for (const auto& role : page->items) write_role(w, "member", iam.account_id(), role, RoleView::kList);
  w.close("Roles");
  write_truncation(w, page->next_marker);
  return out;
}

Result<std::string> delete_role(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  if (auto s = iam.delete_role(*name); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> create_service_linked_role(Iam& iam, const CallContext&, const OperationInput& in) {
  const api::QueryView& q = *in.query;
  auto service = required_name(q, "AWSServiceName", "aWSServiceName", 128);
  if (!service) return std::move(service).error();
  auto description = optional_text(q, "Description", "description", TextKind::kRoleDescription);
  if (!description) return std::move(description).error();
  auto suffix = optional_name(q, "CustomSuffix", "customSuffix", 64);
  if (!suffix) return std::move(suffix).error();
  auto role = iam.create_service_linked_role(*service, *suffix);
  if (!role) return std::move(role).error();
  std::string out;
  XmlWriter w(out);
  write_role(w, "Role", iam.account_id(), *role, RoleView::kCreate);
  return out;
}

Result<std::string> attach_role_policy(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto arn = required_policy_arn(*in.query);
  if (!arn) return std::move(arn).error();
  if (auto s = iam.attach_role_policy(*name, *arn); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> detach_role_policy(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto arn = required_policy_arn(*in.query);
  if (!arn) return std::move(arn).error();
  if (auto s = iam.detach_role_policy(*name, *arn); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> list_attached_role_policies(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto prefix = policy_path_prefix(*in.query);
  if (!prefix) return std::move(prefix).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_attached_role_policies(*name, *prefix, *from, *limit);
  if (!page) return std::move(page).error();
  std::string out;
  XmlWriter w(out);
  w.open("AttachedPolicies");
  for (const AwsManagedPolicy* p : page->items)
    w.open("member").leaf("PolicyName", p->name()).leaf("PolicyArn", p->arn).close("member");
  w.close("AttachedPolicies");
  write_truncation(w, page->next_marker);
  return out;
}

Result<std::string_view> policy_name(const api::QueryView& q) {
  return required_name(q, "PolicyName", "policyName", 128);
}

Result<std::string> put_role_policy(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto policy = policy_name(*in.query);
  if (!policy) return std::move(policy).error();
  auto document = required_text(*in.query, "PolicyDocument", "policyDocument", TextKind::kPolicyDocument);
  if (!document) return std::move(document).error();
  if (auto s = iam.put_role_policy(*name, *policy, *document); !s) return std::move(s).error();
  return std::string();
}

// The document goes out URL-encoded, as AWS sends it.
Result<std::string> get_role_policy(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto policy = policy_name(*in.query);
  if (!policy) return std::move(policy).error();
  auto found = iam.get_role_policy(*name, *policy);
  if (!found) return std::move(found).error();
  std::string out;
  XmlWriter w(out);
  w.leaf("RoleName", found->role_name)
      .leaf("PolicyName", found->policy_name)
      .leaf("PolicyDocument", api::uri_encode(found->document));
  return out;
}

Result<std::string> delete_role_policy(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto policy = policy_name(*in.query);
  if (!policy) return std::move(policy).error();
  if (auto s = iam.delete_role_policy(*name, *policy); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> list_role_policies(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_role_policies(*name, *from, *limit);
  if (!page) return std::move(page).error();
  std::string out;
  XmlWriter w(out);
  if (page->items.empty()) {
    w.empty("PolicyNames");
  } else {
    w.open("PolicyNames");
    for (const auto& policy : page->items) w.leaf("member", policy);
    w.close("PolicyNames");
  }
  write_truncation(w, page->next_marker);
  return out;
}

Result<std::string> create_instance_profile(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = instance_profile_name(*in.query);
  if (!name) return std::move(name).error();
  auto profile_path = path(*in.query);
  if (!profile_path) return std::move(profile_path).error();
  auto profile_tags = tags(*in.query);
  if (!profile_tags) return std::move(profile_tags).error();
  auto profile = iam.create_instance_profile(*name, *profile_path, std::move(*profile_tags));
  if (!profile) return std::move(profile).error();
  std::string out;
  XmlWriter w(out);
  write_instance_profile(w, "InstanceProfile", iam.account_id(), *profile, true);
  return out;
}

Result<std::string> get_instance_profile(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = instance_profile_name(*in.query);
  if (!name) return std::move(name).error();
  auto profile = iam.get_instance_profile(*name);
  if (!profile) return std::move(profile).error();
  std::string out;
  XmlWriter w(out);
  write_instance_profile(w, "InstanceProfile", iam.account_id(), *profile, true);
  return out;
}

std::string instance_profile_page(const Iam& iam, const Page<InstanceProfile>& page) {
  std::string out;
  XmlWriter w(out);
  w.open("InstanceProfiles");
  for (const auto& profile : page.items) write_instance_profile(w, "member", iam.account_id(), profile, false);
  w.close("InstanceProfiles");
  write_truncation(w, page.next_marker);
  return out;
}

Result<std::string> list_instance_profiles(Iam& iam, const CallContext&, const OperationInput& in) {
  auto prefix = path_prefix(*in.query);
  if (!prefix) return std::move(prefix).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_instance_profiles(*prefix, *from, *limit);
  if (!page) return std::move(page).error();
  return instance_profile_page(iam, *page);
}

Result<std::string> list_instance_profiles_for_role(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = role_name(*in.query);
  if (!name) return std::move(name).error();
  auto limit = max_items(*in.query);
  if (!limit) return std::move(limit).error();
  auto from = marker(*in.query);
  if (!from) return std::move(from).error();
  auto page = iam.list_instance_profiles_for_role(*name, *from, *limit);
  if (!page) return std::move(page).error();
  return instance_profile_page(iam, *page);
}

Result<std::string> delete_instance_profile(Iam& iam, const CallContext&, const OperationInput& in) {
  auto name = instance_profile_name(*in.query);
  if (!name) return std::move(name).error();
  if (auto s = iam.delete_instance_profile(*name); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> add_role_to_instance_profile(Iam& iam, const CallContext&, const OperationInput& in) {
  auto profile = instance_profile_name(*in.query);
  if (!profile) return std::move(profile).error();
  auto role = role_name(*in.query);
  if (!role) return std::move(role).error();
  if (auto s = iam.add_role_to_instance_profile(*profile, *role); !s) return std::move(s).error();
  return std::string();
}

Result<std::string> remove_role_from_instance_profile(Iam& iam, const CallContext&, const OperationInput& in) {
  auto profile = instance_profile_name(*in.query);
  if (!profile) return std::move(profile).error();
  auto role = role_name(*in.query);
  if (!role) return std::move(role).error();
  if (auto s = iam.remove_role_from_instance_profile(*profile, *role); !s) return std::move(s).error();
  return std::string();
}

}  // namespace

namespace detail {

void add_role_operations(api::Service& service, Iam& iam) {
  add_operation(service, iam, "CreateRole", create_role);
  add_operation(service, iam, "GetRole", get_role);
  add_operation(service, iam, "ListRoles", list_roles);
  add_operation(service, iam, "DeleteRole", delete_role, false);
  add_operation(service, iam, "CreateServiceLinkedRole", create_service_linked_role);
  add_operation(service, iam, "AttachRolePolicy", attach_role_policy, false);
  add_operation(service, iam, "DetachRolePolicy", detach_role_policy, false);
  add_operation(service, iam, "ListAttachedRolePolicies", list_attached_role_policies);
  add_operation(service, iam, "ListRolePolicies", list_role_policies);
  add_operation(service, iam, "PutRolePolicy", put_role_policy, false);
  add_operation(service, iam, "GetRolePolicy", get_role_policy);
  add_operation(service, iam, "DeleteRolePolicy", delete_role_policy, false);
  add_operation(service, iam, "CreateInstanceProfile", create_instance_profile);
  add_operation(service, iam, "GetInstanceProfile", get_instance_profile);
  add_operation(service, iam, "ListInstanceProfiles", list_instance_profiles);
  add_operation(service, iam, "ListInstanceProfilesForRole", list_instance_profiles_for_role);
  add_operation(service, iam, "DeleteInstanceProfile", delete_instance_profile, false);
  add_operation(service, iam, "AddRoleToInstanceProfile", add_role_to_instance_profile, false);
  add_operation(service, iam, "RemoveRoleFromInstanceProfile", remove_role_from_instance_profile, false);
}

}  // namespace detail
}  // namespace berth::iam
